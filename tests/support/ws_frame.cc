#include "edgewatch/testing/ws_frame.h"

#include <cstring>
#include <random>

namespace edgewatch::testing {

std::string EncodeFrame(const FrameSpec& spec) {
  std::string out;
  out.reserve(spec.payload.size() + 14);
  out.push_back(
      static_cast<char>((spec.fin ? 0x80 : 0) | ((spec.rsv & 0x7) << 4) | (spec.opcode & 0x0F)));
  const uint64_t len = spec.declared_length.value_or(spec.payload.size());
  const uint8_t mask_bit = spec.mask_key ? 0x80 : 0;
  FrameSpec::LengthForm form = spec.length_form;
  if (form == FrameSpec::LengthForm::kMinimal) {
    form = len < 126     ? FrameSpec::LengthForm::kMinimal
           : len < 65536 ? FrameSpec::LengthForm::k16
                         : FrameSpec::LengthForm::k64;
  }
  switch (form) {
    case FrameSpec::LengthForm::kMinimal:
      out.push_back(static_cast<char>(mask_bit | len));
      break;
    case FrameSpec::LengthForm::k16:
      out.push_back(static_cast<char>(mask_bit | 126));
      out.push_back(static_cast<char>((len >> 8) & 0xFF));
      out.push_back(static_cast<char>(len & 0xFF));
      break;
    case FrameSpec::LengthForm::k64:
      out.push_back(static_cast<char>(mask_bit | 127));
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((len >> shift) & 0xFF));
      }
      break;
  }
  if (spec.mask_key) {
    for (uint8_t b : *spec.mask_key) out.push_back(static_cast<char>(b));
  }
  size_t start = out.size();
  out.append(spec.payload);
  if (spec.mask_key) ApplyMask(*spec.mask_key, 0, out.data() + start, spec.payload.size());
  return out;
}

void ApplyMask(const MaskKey& key, uint64_t offset, char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(data[i] ^ key[(offset + i) & 3]);
}

Result<std::optional<DecodedFrame>> DecodeFrame(std::string_view data, size_t* consumed,
                                                const DecodeLimits& limits) {
  *consumed = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  if (data.size() < 2) return std::optional<DecodedFrame>();
  DecodedFrame f;
  f.fin = (p[0] & 0x80) != 0;
  f.rsv = (p[0] >> 4) & 0x7;
  f.opcode = p[0] & 0x0F;
  f.masked = (p[1] & 0x80) != 0;
  uint64_t len = p[1] & 0x7F;
  size_t pos = 2;
  if (len == 126) {
    if (data.size() < pos + 2) return std::optional<DecodedFrame>();
    len = (uint64_t{p[2]} << 8) | p[3];
    pos += 2;
  } else if (len == 127) {
    if (data.size() < pos + 8) return std::optional<DecodedFrame>();
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    pos += 8;
    if (len >> 63) return InvalidArgument("64-bit frame length with the top bit set");
  }
  if (len > limits.max_payload) {
    return ResourceExhausted("frame payload of " + std::to_string(len) + " bytes exceeds " +
                             std::to_string(limits.max_payload));
  }
  MaskKey key{};
  if (f.masked) {
    if (data.size() < pos + 4) return std::optional<DecodedFrame>();
    std::memcpy(key.data(), p + pos, 4);
    pos += 4;
  }
  if (data.size() - pos < len) return std::optional<DecodedFrame>();
  f.payload.assign(data.data() + pos, static_cast<size_t>(len));
  if (f.masked) ApplyMask(key, 0, f.payload.data(), f.payload.size());
  *consumed = pos + static_cast<size_t>(len);
  return std::optional<DecodedFrame>(std::move(f));
}

std::string EncodeClosePayload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

Result<ClosePayload> ParseClosePayload(std::string_view payload) {
  ClosePayload c;
  if (payload.empty()) return c;
  if (payload.size() == 1) return InvalidArgument("close payload of 1 byte");
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  c.code = static_cast<uint16_t>((p[0] << 8) | p[1]);
  c.reason.assign(payload.substr(2));
  return c;
}

Result<std::optional<WsMessage>> MessageAssembler::Add(DecodedFrame frame) {
  auto fail = [this](Status s) -> Status {
    in_progress_ = false;
    buffer_.clear();
    fragments_ = 0;
    return s;
  };
  const uint8_t op = frame.opcode;
  if (IsControlOpcode(op)) {
    if (op != 0x8 && op != 0x9 && op != 0xA) {
      return fail(InvalidArgument("reserved control opcode " + std::to_string(op)));
    }
    if (!frame.fin) return fail(InvalidArgument("fragmented control frame"));
    if (frame.payload.size() > 125) {
      return fail(InvalidArgument("control frame payload of " +
                                  std::to_string(frame.payload.size()) + " bytes (max 125)"));
    }
    WsMessage m;
    m.opcode = static_cast<WsOpcode>(op);
    m.payload = std::move(frame.payload);
    m.fragments = 1;
    return std::optional<WsMessage>(std::move(m));
  }
  if (op == 0x0) {
    if (!in_progress_) return fail(InvalidArgument("continuation frame with no message started"));
  } else if (op == 0x1 || op == 0x2) {
    if (in_progress_) {
      return fail(InvalidArgument("new data frame while a fragmented message is in progress"));
    }
    in_progress_ = true;
    opcode_ = static_cast<WsOpcode>(op);
    buffer_.clear();
    fragments_ = 0;
  } else {
    return fail(InvalidArgument("reserved data opcode " + std::to_string(op)));
  }
  if (buffer_.size() + frame.payload.size() > max_) {
    return fail(ResourceExhausted("message exceeds " + std::to_string(max_) + " bytes"));
  }
  buffer_.append(frame.payload);
  ++fragments_;
  if (!frame.fin) return std::optional<WsMessage>();
  WsMessage m;
  m.opcode = opcode_;
  m.payload = std::move(buffer_);
  m.fragments = fragments_;
  buffer_.clear();
  fragments_ = 0;
  in_progress_ = false;
  return std::optional<WsMessage>(std::move(m));
}

// SHA-1 (FIPS 180-4), only for the handshake's accept key.
std::array<uint8_t, 20> Sha1(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg(data);
  const uint64_t bit_len = uint64_t{data.size()} * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    msg.push_back(static_cast<char>((bit_len >> shift) & 0xFF));
  }
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    uint32_t w[80];
    const auto* b = reinterpret_cast<const uint8_t*>(msg.data() + chunk);
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
             (uint32_t{b[4 * i + 2]} << 8) | uint32_t{b[4 * i + 3]};
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = bb ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = bb ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(bb, 30);
      bb = a;
      a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out;
  for (int i = 0; i < 5; ++i) {
    out[4 * i] = static_cast<uint8_t>(h[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(h[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(h[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(h[i]);
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (size_t rest = data.size() - i; rest > 0) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (rest == 2) v |= uint32_t{p[i + 1]} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string WebSocketAcceptKey(std::string_view client_key) {
  std::string s(client_key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  auto digest = Sha1(s);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest.data()), 20));
}

namespace {
std::mt19937& Rng() {
  static std::mt19937 rng(std::random_device{}());
  return rng;
}
}  // namespace

std::string RandomWebSocketKey() {
  std::string raw(16, '\0');
  for (char& c : raw) c = static_cast<char>(Rng()() & 0xFF);
  return Base64Encode(raw);
}

MaskKey RandomMaskKey() {
  uint32_t v = Rng()();
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

}  // namespace edgewatch::testing
