// WsTestClient: a blocking WebSocket client (RFC 6455) over POSIX sockets, for integration tests.
//
// It does not use libwebsockets, so a test can send anything — invalid frames, unmasked frames,
// invalid UTF-8, oversized or fragmented control frames, half handshakes — and observe exactly
// what the server answers. It is strict about what the server sends (masked frames, RSV bits,
// bad control frames are reported as errors), so it doubles as a compliance check.
//
// Every wait is a poll(2) on the socket bounded by a timeout; the timeouts are failure bounds,
// never a way to let the server "catch up". Not thread-safe: one thread per client.
//
//   WsTestClient ws;
//   auto r = ws.Connect({.port = daemon.port()});
//   ASSERT_TRUE(r.ok()) << r.status().ToString();
//   ASSERT_EQ(r->status, 101) << r->body;
//   auto welcome = ws.ReceiveJson(5000);
//   ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":1,"topics":["a/#"]})").ok());
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/io.h"
#include "edgewatch/testing/ws_frame.h"

namespace edgewatch::testing {

struct WsConnectOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string target = "/ws";  // path and query, e.g. "/ws?token=..."
  // Extra request headers, sent as given after the standard ones (Origin, Authorization, ...).
  HttpHeaders headers;
  // Host header; "<host>:<port>" when empty.
  std::string host_header;
  // Sec-WebSocket-Key; a random one when empty (set it to get a predictable accept key).
  std::string key;
  // Sec-WebSocket-Protocol values offered; none when empty.
  std::vector<std::string> subprotocols;
  int timeout_ms = 5000;  // bound for TCP connect + handshake
};

// One message or control frame received from the server.
struct WsFrame {
  WsOpcode opcode = WsOpcode::kText;
  // Text/binary payload (reassembled), ping/pong payload; for close, the raw payload.
  std::string payload;
  int fragments = 1;
  // For kClose: the code (kCloseNoStatus when the frame had none) and reason.
  uint16_t close_code = 0;
  std::string close_reason;

  bool is_text() const { return opcode == WsOpcode::kText; }
  bool is_close() const { return opcode == WsOpcode::kClose; }
};

class WsTestClient {
 public:
  WsTestClient() = default;
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;
  ~WsTestClient() = default;

  // Opens a TCP connection and performs the upgrade. Returns the server's answer: status 101 means
  // the WebSocket is open (Upgrade/Connection/Sec-WebSocket-Accept were verified); any other
  // status is a refusal, with headers and body read in full (e.g. 401 with a JSON body, 429 with
  // Retry-After) and the socket closed. Non-OK only for transport failures, an unparsable answer,
  // or a 101 that is not a valid WebSocket acceptance.
  Result<HttpResponse> Connect(const WsConnectOptions& options);
  // Connect() that requires a 101; any refusal is an error carrying status and body.
  Status Open(uint16_t port, std::string target = "/ws", HttpHeaders headers = {});

  // Lower-level steps, for hostile handshakes: open TCP only, then SendRaw() what you like, then
  // ReadHttpResponse(); or Upgrade() on an already-connected socket.
  Status ConnectTcp(std::string_view host, uint16_t port, int timeout_ms = 5000);
  Result<HttpResponse> Upgrade(const WsConnectOptions& options);
  Result<HttpResponse> ReadHttpResponse(int timeout_ms, bool read_body = true);
  // Takes over a connected stream socket (e.g. one end of a socketpair) as an open WebSocket.
  void Adopt(UniqueFd fd);

  // Sending. Each call writes whole frames, blocking (polled) until written or the send timeout
  // expires: DeadlineExceeded then, Unavailable when the server has gone. Frames are masked with a
  // fresh random key unless set_masking(false).
  Status SendText(std::string_view text);  // bytes are sent as given: invalid UTF-8 is allowed
  Status SendBinary(std::string_view data);
  Status SendPing(std::string_view payload = {});  // > 125 bytes is allowed (a violation)
  Status SendPong(std::string_view payload = {});
  Status SendClose(uint16_t code, std::string_view reason = {});
  Status SendCloseEmpty();  // a close frame without a code
  // Splits `data` into `pieces` frames (opcode, then continuations; FIN on the last) of nearly
  // equal size; pieces > data.size() yields empty trailing fragments.
  Status SendFragmented(std::string_view data, int pieces, WsOpcode opcode = WsOpcode::kText);
  // Sends one frame as specified; when masking is on and spec.mask_key is unset, a random key is
  // used.
  Status SendFrame(FrameSpec spec);
  // Writes bytes verbatim (invalid frames, partial frames, a slow handshake).
  Status SendRaw(std::string_view bytes);

  // Receives the next message or control frame, reassembling fragments. By default pings are
  // answered with a pong carrying the same payload and not returned; pongs are returned. On a
  // close frame: echoes it (unless set_auto_close_reply(false)) and returns it; after that every
  // call returns FailedPrecondition. Errors: DeadlineExceeded on timeout; Unavailable at EOF or
  // reset without a close frame; InvalidArgument when the server breaks RFC 6455 (masked frame,
  // RSV bits, bad control frame, bad fragmentation).
  Result<WsFrame> Receive(int timeout_ms);
  // The next text message parsed as JSON. Pings/pongs are skipped; a close frame becomes
  // FailedPrecondition("closed by server: <code> <reason>") (see close_frame()); a binary message
  // or unparsable text is InvalidArgument.
  Result<JsonPtr> ReceiveJson(int timeout_ms);
  // Receives until `pred` accepts a frame, discarding the others; the timeout covers the whole
  // wait. A close frame the predicate rejects ends the wait with FailedPrecondition.
  Result<WsFrame> ReceiveUntil(const std::function<bool(const WsFrame&)>& pred, int timeout_ms);
  // ReceiveJson() until `pred` accepts a message, discarding the others.
  Result<JsonPtr> ReceiveJsonUntil(const std::function<bool(const cJSON&)>& pred, int timeout_ms);
  // Convenience: the next JSON message whose "type" equals `type`.
  Result<JsonPtr> ReceiveType(std::string_view type, int timeout_ms);
  // Discards everything until the server's close frame and returns it.
  Result<WsFrame> ReceiveClose(int timeout_ms);
  // OK once the server has closed the TCP connection (EOF or reset), discarding anything before.
  Status WaitForEof(int timeout_ms);

  void set_masking(bool on) { masking_ = on; }
  void set_auto_pong(bool on) { auto_pong_ = on; }
  void set_auto_close_reply(bool on) { auto_close_reply_ = on; }
  void set_send_timeout_ms(int ms) { send_timeout_ms_ = ms; }
  // Largest message or frame accepted from the server (default 64 MiB); resets reassembly.
  void set_max_message(uint64_t bytes) {
    max_message_ = bytes;
    assembler_ = MessageAssembler(bytes);
  }

  // Half-closes (SHUT_WR) or closes the TCP connection without a close frame.
  void ShutdownWrite();
  void Close();

  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  // The server's close frame, once received.
  const std::optional<WsFrame>& close_frame() const { return close_frame_; }
  uint64_t pings_answered() const { return pings_answered_; }

 private:
  Status SendControl(WsOpcode opcode, std::string_view payload);
  // Decodes one complete message from rx_, or nullopt when more bytes are needed.
  Result<std::optional<WsFrame>> TakeBuffered();

  UniqueFd fd_;
  std::string rx_;
  size_t rx_pos_ = 0;
  bool eof_ = false;
  MessageAssembler assembler_;
  std::optional<WsFrame> close_frame_;
  bool close_sent_ = false;
  bool masking_ = true;
  bool auto_pong_ = true;
  bool auto_close_reply_ = true;
  int send_timeout_ms_ = 5000;
  uint64_t max_message_ = uint64_t{64} << 20;
  uint64_t pings_answered_ = 0;
};

}  // namespace edgewatch::testing
