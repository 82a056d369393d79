#include "edgewatch/testing/ws_test_client.h"

#include <sys/socket.h>

#include <strings.h>
#include <cerrno>

namespace edgewatch::testing {

namespace {

bool HeaderHasToken(const std::optional<std::string>& value, std::string_view token) {
  if (!value) return false;
  std::string_view v = *value;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() == token.size() && strncasecmp(item.data(), token.data(), token.size()) == 0) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

std::string Describe(const WsFrame& f) {
  return std::to_string(f.close_code) + (f.close_reason.empty() ? "" : " " + f.close_reason);
}

}  // namespace

Status WsTestClient::ConnectTcp(std::string_view host, uint16_t port, int timeout_ms) {
  Close();
  EW_ASSIGN_OR_RETURN(UniqueFd fd, testing::ConnectTcp(host, port, Deadline(timeout_ms)));
  fd_ = std::move(fd);
  return OkStatus();
}

void WsTestClient::Adopt(UniqueFd fd) {
  Close();
  fd_ = std::move(fd);
  SetNonBlocking(fd_.get()).IgnoreError();
}

Result<HttpResponse> WsTestClient::ReadHttpResponse(int timeout_ms, bool read_body) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  std::string pending = rx_.substr(rx_pos_);
  rx_.clear();
  rx_pos_ = 0;
  auto r = testing::ReadHttpResponse(fd_.get(), &pending, read_body, Deadline(timeout_ms));
  rx_ = std::move(pending);
  return r;
}

Result<HttpResponse> WsTestClient::Upgrade(const WsConnectOptions& options) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  const std::string key = options.key.empty() ? RandomWebSocketKey() : options.key;
  std::string req = "GET " + options.target + " HTTP/1.1\r\n";
  req += "Host: " +
         (options.host_header.empty() ? options.host + ":" + std::to_string(options.port)
                                      : options.host_header) +
         "\r\n";
  req += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  req += "Sec-WebSocket-Key: " + key + "\r\n";
  req += "Sec-WebSocket-Version: 13\r\n";
  if (!options.subprotocols.empty()) {
    std::string list;
    for (const std::string& p : options.subprotocols) list += (list.empty() ? "" : ", ") + p;
    req += "Sec-WebSocket-Protocol: " + list + "\r\n";
  }
  for (const HttpHeader& h : options.headers) req += h.name + ": " + h.value + "\r\n";
  req += "\r\n";
  Deadline deadline(options.timeout_ms);
  EW_TRY(WriteAll(fd_.get(), req, deadline));

  std::string pending = rx_.substr(rx_pos_);
  rx_.clear();
  rx_pos_ = 0;
  // A 101 has no body: whatever follows is WebSocket frames. Peek at the status first.
  auto head = testing::ReadHttpResponse(fd_.get(), &pending, /*read_body=*/false, deadline);
  if (!head.ok()) return head.status();
  HttpResponse r = std::move(head).value();
  if (r.status != 101) {
    // A refusal: read its body with the rest of the time, then drop the connection.
    EW_TRY(ReadHttpBody(fd_.get(), &r, &pending, deadline));
    Close();
    return r;
  }
  if (!HeaderHasToken(r.Header("Upgrade"), "websocket")) {
    Close();
    return InvalidArgument("101 without Upgrade: websocket");
  }
  if (!HeaderHasToken(r.Header("Connection"), "upgrade")) {
    Close();
    return InvalidArgument("101 without Connection: Upgrade");
  }
  std::optional<std::string> accept = r.Header("Sec-WebSocket-Accept");
  if (!accept || *accept != WebSocketAcceptKey(key)) {
    Close();
    return InvalidArgument("101 with a wrong Sec-WebSocket-Accept: " + accept.value_or("(none)"));
  }
  rx_ = std::move(pending);
  rx_pos_ = 0;
  eof_ = false;
  close_frame_.reset();
  close_sent_ = false;
  assembler_ = MessageAssembler(max_message_);
  return r;
}

Result<HttpResponse> WsTestClient::Connect(const WsConnectOptions& options) {
  Deadline deadline(options.timeout_ms);
  EW_TRY(ConnectTcp(options.host, options.port, options.timeout_ms));
  WsConnectOptions rest = options;
  rest.timeout_ms = deadline.RemainingMs();
  return Upgrade(rest);
}

Status WsTestClient::Open(uint16_t port, std::string target, HttpHeaders headers) {
  WsConnectOptions o;
  o.port = port;
  o.target = std::move(target);
  o.headers = std::move(headers);
  EW_ASSIGN_OR_RETURN(HttpResponse r, Connect(o));
  if (r.status != 101) {
    return FailedPrecondition("upgrade refused: HTTP " + std::to_string(r.status) + " " + r.reason +
                              ": " + r.body);
  }
  return OkStatus();
}

Status WsTestClient::SendRaw(std::string_view bytes) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  return WriteAll(fd_.get(), bytes, Deadline(send_timeout_ms_));
}

Status WsTestClient::SendFrame(FrameSpec spec) {
  if (masking_ && !spec.mask_key) spec.mask_key = RandomMaskKey();
  if (spec.opcode == static_cast<uint8_t>(WsOpcode::kClose)) close_sent_ = true;
  return SendRaw(EncodeFrame(spec));
}

Status WsTestClient::SendText(std::string_view text) {
  return SendFrame({.opcode = static_cast<uint8_t>(WsOpcode::kText), .payload = text});
}

Status WsTestClient::SendBinary(std::string_view data) {
  return SendFrame({.opcode = static_cast<uint8_t>(WsOpcode::kBinary), .payload = data});
}

Status WsTestClient::SendControl(WsOpcode opcode, std::string_view payload) {
  return SendFrame({.opcode = static_cast<uint8_t>(opcode), .payload = payload});
}

Status WsTestClient::SendPing(std::string_view payload) {
  return SendControl(WsOpcode::kPing, payload);
}

Status WsTestClient::SendPong(std::string_view payload) {
  return SendControl(WsOpcode::kPong, payload);
}

Status WsTestClient::SendClose(uint16_t code, std::string_view reason) {
  return SendControl(WsOpcode::kClose, EncodeClosePayload(code, reason));
}

Status WsTestClient::SendCloseEmpty() {
  return SendControl(WsOpcode::kClose, {});
}

Status WsTestClient::SendFragmented(std::string_view data, int pieces, WsOpcode opcode) {
  if (pieces < 1) return InvalidArgument("pieces must be >= 1");
  const size_t n = static_cast<size_t>(pieces);
  std::string wire;
  size_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    // Piece i gets floor or ceil of size/n bytes; the first (size % n) pieces get one more.
    size_t len = data.size() / n + (i < data.size() % n ? 1 : 0);
    FrameSpec spec;
    spec.opcode = static_cast<uint8_t>(i == 0 ? opcode : WsOpcode::kContinuation);
    spec.fin = i + 1 == n;
    spec.payload = data.substr(off, len);
    if (masking_) spec.mask_key = RandomMaskKey();
    wire += EncodeFrame(spec);
    off += len;
  }
  return SendRaw(wire);
}

Result<std::optional<WsFrame>> WsTestClient::TakeBuffered() {
  for (;;) {
    size_t consumed = 0;
    EW_ASSIGN_OR_RETURN(std::optional<DecodedFrame> decoded,
                        DecodeFrame(std::string_view(rx_).substr(rx_pos_), &consumed,
                                    DecodeLimits{.max_payload = max_message_}));
    if (!decoded) {
      if (rx_pos_ > 0 && rx_pos_ * 2 > rx_.size()) {
        rx_.erase(0, rx_pos_);
        rx_pos_ = 0;
      }
      return std::optional<WsFrame>();
    }
    rx_pos_ += consumed;
    if (decoded->masked) return InvalidArgument("server sent a masked frame");
    if (decoded->rsv != 0) {
      return InvalidArgument("server set RSV bits " + std::to_string(decoded->rsv) +
                             " with no extension negotiated");
    }
    EW_ASSIGN_OR_RETURN(std::optional<WsMessage> msg, assembler_.Add(std::move(*decoded)));
    if (!msg) continue;
    WsFrame f;
    f.opcode = msg->opcode;
    f.fragments = msg->fragments;
    f.payload = std::move(msg->payload);
    if (f.opcode == WsOpcode::kPing && auto_pong_) {
      EW_TRY(SendPong(f.payload));
      ++pings_answered_;
      continue;
    }
    if (f.opcode == WsOpcode::kClose) {
      EW_ASSIGN_OR_RETURN(ClosePayload cp, ParseClosePayload(f.payload));
      f.close_code = cp.code;
      f.close_reason = std::move(cp.reason);
      close_frame_ = f;
      if (auto_close_reply_ && !close_sent_) {
        // Best effort: the server may already have closed the TCP connection.
        Status s = f.close_code == kCloseNoStatus ? SendCloseEmpty() : SendClose(f.close_code);
        s.IgnoreError();
      }
    }
    return std::optional<WsFrame>(std::move(f));
  }
}

Result<WsFrame> WsTestClient::Receive(int timeout_ms) {
  if (close_frame_) {
    return FailedPrecondition("connection already closed by server: " + Describe(*close_frame_));
  }
  if (!fd_.valid()) return FailedPrecondition("not connected");
  Deadline deadline(timeout_ms);
  for (;;) {
    EW_ASSIGN_OR_RETURN(std::optional<WsFrame> f, TakeBuffered());
    if (f) return std::move(*f);
    if (eof_) {
      return Unavailable("server closed the TCP connection without a close frame" +
                         std::string(rx_.size() > rx_pos_ ? " (mid-frame)" : ""));
    }
    auto n = ReadSome(fd_.get(), &rx_, 64 * 1024, deadline);
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kDeadlineExceeded) {
        return DeadlineExceeded("no WebSocket message within " + std::to_string(timeout_ms) +
                                " ms");
      }
      return n.status();
    }
    if (*n == 0) eof_ = true;
  }
}

Result<JsonPtr> WsTestClient::ReceiveJson(int timeout_ms) {
  Deadline deadline(timeout_ms);
  for (;;) {
    EW_ASSIGN_OR_RETURN(WsFrame f, Receive(deadline.RemainingMs()));
    switch (f.opcode) {
      case WsOpcode::kText: {
        auto json = ParseJson(f.payload, JsonLimits{.max_bytes = max_message_, .max_depth = 64});
        if (!json.ok()) {
          return InvalidArgument("server sent text that is not JSON (" + json.status().message() +
                                 "): " + f.payload.substr(0, 200));
        }
        return json;
      }
      case WsOpcode::kClose:
        return FailedPrecondition("closed by server: " + Describe(f));
      case WsOpcode::kPing:
      case WsOpcode::kPong:
        continue;
      default:
        return InvalidArgument("server sent a binary message of " +
                               std::to_string(f.payload.size()) + " bytes");
    }
  }
}

Result<WsFrame> WsTestClient::ReceiveUntil(const std::function<bool(const WsFrame&)>& pred,
                                           int timeout_ms) {
  Deadline deadline(timeout_ms);
  for (;;) {
    EW_ASSIGN_OR_RETURN(WsFrame f, Receive(deadline.RemainingMs()));
    if (pred(f)) return f;
    if (f.is_close()) return FailedPrecondition("closed by server: " + Describe(f));
  }
}

Result<JsonPtr> WsTestClient::ReceiveJsonUntil(const std::function<bool(const cJSON&)>& pred,
                                               int timeout_ms) {
  Deadline deadline(timeout_ms);
  for (;;) {
    EW_ASSIGN_OR_RETURN(JsonPtr json, ReceiveJson(deadline.RemainingMs()));
    if (pred(*json)) return json;
  }
}

Result<JsonPtr> WsTestClient::ReceiveType(std::string_view type, int timeout_ms) {
  return ReceiveJsonUntil([type](const cJSON& j) { return GetString(&j, "type") == type; },
                          timeout_ms);
}

Result<WsFrame> WsTestClient::ReceiveClose(int timeout_ms) {
  if (close_frame_) return *close_frame_;
  return ReceiveUntil([](const WsFrame& f) { return f.is_close(); }, timeout_ms);
}

Status WsTestClient::WaitForEof(int timeout_ms) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  Deadline deadline(timeout_ms);
  while (!eof_) {
    rx_.clear();
    rx_pos_ = 0;
    auto n = ReadSome(fd_.get(), &rx_, 64 * 1024, deadline);
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kUnavailable) return OkStatus();  // reset
      return n.status();
    }
    if (*n == 0) eof_ = true;
  }
  return OkStatus();
}

void WsTestClient::ShutdownWrite() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_WR);
}

void WsTestClient::Close() {
  fd_.Reset();
  rx_.clear();
  rx_pos_ = 0;
  eof_ = false;
}

}  // namespace edgewatch::testing
