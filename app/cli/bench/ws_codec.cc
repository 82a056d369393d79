#include "bench/ws_codec.h"

#include <sys/random.h>

#include <cstring>

namespace edgewatch::cli::bench {
namespace {

uint32_t Rotl(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

void Sha1Block(const unsigned char* p, uint32_t h[5]) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = static_cast<uint32_t>(p[4 * i]) << 24 | static_cast<uint32_t>(p[4 * i + 1]) << 16 |
           static_cast<uint32_t>(p[4 * i + 2]) << 8 | static_cast<uint32_t>(p[4 * i + 3]);
  }
  for (int i = 16; i < 80; ++i) w[i] = Rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t t = Rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = Rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string Sha1(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t full = data.size() / 64 * 64;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t i = 0; i < full; i += 64) Sha1Block(p + i, h);
  unsigned char tail[128] = {};
  size_t rest = data.size() - full;
  std::memcpy(tail, p + full, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (size_t i = 0; i < tail_len; i += 64) Sha1Block(tail + i, h);
  std::string out(20, '\0');
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<char>(h[i] >> (24 - 8 * j));
  }
  return out;
}

std::string Base64(std::string_view data) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = data.size() - i; rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string AcceptKeyFor(std::string_view client_key) {
  std::string s(client_key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  return Base64(Sha1(s));
}

std::string NewClientKey() {
  // The key only has to differ between connections: a PRNG seeded once is plenty.
  static uint64_t state = [] {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed)) || seed == 0) {
      seed = 0x9E3779B97F4A7C15ull;
    }
    return seed;
  }();
  char raw[16];
  for (size_t i = 0; i < sizeof(raw); i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::memcpy(raw + i, &state, 8);
  }
  return Base64(std::string_view(raw, sizeof(raw)));
}

std::string BuildUpgradeRequest(std::string_view host_port, std::string_view path,
                                std::string_view client_key,
                                const std::vector<std::string>& extra_headers) {
  std::string r;
  r.reserve(256);
  r += "GET ";
  r += path.empty() ? std::string_view("/") : path;
  r += " HTTP/1.1\r\nHost: ";
  r += host_port;
  r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r += client_key;
  r += "\r\nSec-WebSocket-Version: 13\r\n";
  for (const std::string& h : extra_headers) {
    r += h;
    r += "\r\n";
  }
  r += "\r\n";
  return r;
}

Result<size_t> CheckUpgradeResponse(std::string_view buf, std::string_view client_key) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > 16384) return InvalidArgument("HTTP response head longer than 16 KiB");
    return size_t{0};
  }
  size_t head_len = end + 4;
  std::string_view head = buf.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (!StartsWithNoCase(status_line, "HTTP/1.1 101")) {
    std::string msg = "upgrade refused: " + std::string(status_line);
    std::string_view body = buf.substr(head_len);
    if (!body.empty()) {
      msg += ' ';
      msg += body.substr(0, 200);
    }
    return Unavailable(msg);
  }
  std::string want = AcceptKeyFor(client_key);
  bool accepted = false;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (StartsWithNoCase(line, "sec-websocket-accept:")) {
      accepted = Trim(line.substr(21)) == want;
      if (!accepted) return InvalidArgument("wrong Sec-WebSocket-Accept in the 101 response");
    }
  }
  if (!accepted) return InvalidArgument("101 response without Sec-WebSocket-Accept");
  return head_len;
}

void AppendClientFrame(std::string* out, Opcode opcode, std::string_view payload, uint32_t mask) {
  size_t n = payload.size();
  out->push_back(static_cast<char>(0x80 | opcode));
  if (n < 126) {
    out->push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out->push_back(static_cast<char>(0x80 | 126));
    out->push_back(static_cast<char>(n >> 8));
    out->push_back(static_cast<char>(n & 0xFF));
  } else {
    out->push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((uint64_t{n} >> (8 * i)) & 0xFF));
  }
  unsigned char key[4] = {static_cast<unsigned char>(mask >> 24),
                          static_cast<unsigned char>(mask >> 16),
                          static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
  out->append(reinterpret_cast<const char*>(key), 4);
  size_t at = out->size();
  out->append(payload);
  char* p = out->data() + at;
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

FrameReader::Outcome FrameReader::Next(std::string_view data, size_t* consumed, Message* out,
                                       std::string* error) {
  *consumed = 0;
  for (;;) {
    if (data.size() < 2) return Outcome::kNeedMore;
    auto b0 = static_cast<unsigned char>(data[0]);
    auto b1 = static_cast<unsigned char>(data[1]);
    bool fin = (b0 & 0x80) != 0;
    auto opcode = static_cast<Opcode>(b0 & 0x0F);
    if ((b0 & 0x70) != 0) {
      *error = "server frame with RSV bits set";
      return Outcome::kError;
    }
    if ((b1 & 0x80) != 0) {
      *error = "masked server frame";
      return Outcome::kError;
    }
    uint64_t len = b1 & 0x7F;
    size_t header = 2;
    if (len == 126) {
      if (data.size() < 4) return Outcome::kNeedMore;
      len = static_cast<uint64_t>(static_cast<unsigned char>(data[2])) << 8 |
            static_cast<unsigned char>(data[3]);
      header = 4;
    } else if (len == 127) {
      if (data.size() < 10) return Outcome::kNeedMore;
      len = 0;
      for (int i = 0; i < 8; ++i) len = len << 8 | static_cast<unsigned char>(data[2 + i]);
      header = 10;
    }
    bool control = (opcode & 0x08) != 0;
    if (control && (!fin || len > 125)) {
      *error = "fragmented or oversize control frame";
      return Outcome::kError;
    }
    if (len > max_message_ || fragments_.size() + len > max_message_) {
      *error = "message larger than " + std::to_string(max_message_) + " bytes";
      return Outcome::kError;
    }
    if (data.size() - header < len) return Outcome::kNeedMore;
    std::string_view payload = data.substr(header, static_cast<size_t>(len));
    size_t frame_len = header + static_cast<size_t>(len);
    if (control) {
      if (opcode != kOpClose && opcode != kOpPing && opcode != kOpPong) {
        *error = "unknown control opcode " + std::to_string(opcode);
        return Outcome::kError;
      }
      *consumed += frame_len;
      *out = {opcode, payload};
      return Outcome::kMessage;
    }
    if (opcode == kOpContinuation) {
      if (!in_fragmented_) {
        *error = "continuation frame without a message";
        return Outcome::kError;
      }
      fragments_.append(payload);
      *consumed += frame_len;
      data.remove_prefix(frame_len);
      if (!fin) continue;
      in_fragmented_ = false;
      *out = {fragment_opcode_, fragments_};
      return Outcome::kMessage;
    }
    if (opcode != kOpText && opcode != kOpBinary) {
      *error = "unknown data opcode " + std::to_string(opcode);
      return Outcome::kError;
    }
    if (in_fragmented_) {
      *error = "new message inside a fragmented one";
      return Outcome::kError;
    }
    *consumed += frame_len;
    if (fin) {
      if (!fragments_.empty()) std::string().swap(fragments_);  // release the last reassembly
      *out = {opcode, payload};
      return Outcome::kMessage;
    }
    in_fragmented_ = true;
    fragment_opcode_ = opcode;
    fragments_.assign(payload);
    data.remove_prefix(frame_len);
  }
}

}  // namespace edgewatch::cli::bench
