// The client side of RFC 6455 for `edgewatch bench`, written for a load generator: no library,
// no allocation per frame on the receive path, frames parsed straight out of a shared read buffer.
//
// - Handshake: BuildUpgradeRequest / CheckUpgradeResponse (Sec-WebSocket-Accept is verified).
// - Client frames: AppendClientFrame (always masked, as RFC 6455 §5.1 requires).
// - Server frames: FrameReader (unmasked frames; a masked server frame is an error), reassembles
//   fragmented messages and surfaces control frames (ping, pong, close) that may arrive between
//   the fragments of a message.
// Single-threaded; one FrameReader per connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::cli::bench {

enum Opcode : uint8_t {
  kOpContinuation = 0x0,
  kOpText = 0x1,
  kOpBinary = 0x2,
  kOpClose = 0x8,
  kOpPing = 0x9,
  kOpPong = 0xA,
};

// SHA-1 of `data` (20 bytes), for the Sec-WebSocket-Accept check.
std::string Sha1(std::string_view data);
// Standard base64 with padding.
std::string Base64(std::string_view data);
// base64(SHA-1(key + the RFC 6455 GUID)).
std::string AcceptKeyFor(std::string_view client_key);
// 16 random bytes, base64: a Sec-WebSocket-Key.
std::string NewClientKey();

// "GET <path> HTTP/1.1" with Host, Upgrade, Connection, Sec-WebSocket-Key/-Version, and each of
// `extra_headers` ("Name: value", without CRLF).
std::string BuildUpgradeRequest(std::string_view host_port, std::string_view path,
                                std::string_view client_key,
                                const std::vector<std::string>& extra_headers = {});

// Looks for the end of the HTTP response head in `buf`. Returns 0 while incomplete, otherwise the
// length of the head (including the blank line), after checking it: status 101 and the right
// Sec-WebSocket-Accept; any other answer is an error whose message carries the status line and,
// for short refusals, the body that arrived with it.
Result<size_t> CheckUpgradeResponse(std::string_view buf, std::string_view client_key);

// Appends one masked client frame (FIN set) with `payload` to `out`. `mask` is the masking key.
void AppendClientFrame(std::string* out, Opcode opcode, std::string_view payload, uint32_t mask);

// Incremental parser of server frames.
class FrameReader {
 public:
  struct Message {
    Opcode opcode;             // kOpText/kOpBinary (a whole message), kOpPing/kOpPong/kOpClose
    std::string_view payload;  // valid until the next call to Next()
  };
  enum class Outcome { kMessage, kNeedMore, kError };

  // Parses from `data` (bytes not yet consumed), one message or control frame at a time.
  // `*consumed` is set to the bytes used; bytes of an incomplete frame are not consumed (the
  // caller keeps them and calls again with more). A message fragmented over several frames is
  // assembled internally; its fragments are consumed as they arrive. kError sets `*error`.
  Outcome Next(std::string_view data, size_t* consumed, Message* out, std::string* error);

  // Largest message accepted (bytes); beyond it Next() fails.
  void set_max_message(size_t n) { max_message_ = n; }
  // Heap bytes held (the fragment buffer).
  size_t held_bytes() const { return fragments_.capacity(); }

 private:
  std::string fragments_;
  Opcode fragment_opcode_ = kOpText;
  bool in_fragmented_ = false;
  size_t max_message_ = 16 << 20;
};

}  // namespace edgewatch::cli::bench
