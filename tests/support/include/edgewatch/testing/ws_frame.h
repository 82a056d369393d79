// RFC 6455 frame codec for tests: encodes any frame, including deliberately invalid ones, and
// decodes and reassembles what a server sends. Pure functions and value types; no I/O, any
// thread. Written from the RFC, independently of libwebsockets, so it can check the server.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::testing {

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used by edgewatch (docs/protocol.md has the full table).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseNoStatus = 1005;  // never on the wire: "close frame had no code"
inline constexpr uint16_t kCloseInvalidPayload = 1007;
inline constexpr uint16_t kCloseTooBig = 1009;

// True for close, ping, pong and the reserved control opcodes 0xB-0xF.
constexpr bool IsControlOpcode(uint8_t opcode) {
  return (opcode & 0x8) != 0;
}

using MaskKey = std::array<uint8_t, 4>;

// Everything that goes into one frame on the wire. Nothing is validated, so a test can send
// reserved opcodes, RSV bits, fragmented or oversized control frames, or a length that lies.
struct FrameSpec {
  uint8_t opcode = static_cast<uint8_t>(WsOpcode::kText);  // low 4 bits are used
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..RSV3 as bits 2..0 (so 4 = RSV1)
  std::string_view payload;
  // Masks the payload with this key and sets the MASK bit; nullopt sends it unmasked.
  std::optional<MaskKey> mask_key;
  // Written as the payload length instead of payload.size() (the payload is still appended as
  // given): a frame that claims more or less than it carries.
  std::optional<uint64_t> declared_length;
  // How the length is encoded: minimal (RFC) or forced into the 16-/64-bit extended forms.
  enum class LengthForm { kMinimal, k16, k64 } length_form = LengthForm::kMinimal;
};

std::string EncodeFrame(const FrameSpec& spec);

// XORs `n` bytes of `data` with `key`, `offset` being the position of data[0] in the payload.
void ApplyMask(const MaskKey& key, uint64_t offset, char* data, size_t n);

// One frame as read from the wire, payload already unmasked.
struct DecodedFrame {
  bool fin = true;
  uint8_t rsv = 0;
  uint8_t opcode = 0;
  bool masked = false;
  std::string payload;
};

struct DecodeLimits {
  uint64_t max_payload = uint64_t{64} << 20;
};

// Decodes the frame at the front of `data`. Returns nullopt when `data` holds only part of a frame
// (call again with more bytes); otherwise the frame, with its encoded size stored in *consumed.
// Errors: InvalidArgument when the 64-bit length has its top bit set, ResourceExhausted when the
// payload exceeds limits.max_payload. Semantic checks (RSV, masking, control rules) are left to
// the caller, which knows which side it plays.
Result<std::optional<DecodedFrame>> DecodeFrame(std::string_view data, size_t* consumed,
                                                const DecodeLimits& limits = {});

// Close frame payload: 2-byte big-endian code then UTF-8 reason.
std::string EncodeClosePayload(uint16_t code, std::string_view reason = {});
struct ClosePayload {
  uint16_t code = kCloseNoStatus;  // kCloseNoStatus when the payload was empty
  std::string reason;
};
// InvalidArgument for a 1-byte payload.
Result<ClosePayload> ParseClosePayload(std::string_view payload);

// A complete message: a reassembled text/binary message, or one control frame.
struct WsMessage {
  WsOpcode opcode = WsOpcode::kText;
  std::string payload;
  int fragments = 1;  // frames that carried a data message
};

// Reassembles fragmented data messages (RFC 6455 section 5.4). Control frames may arrive between
// fragments and are returned at once. Not thread-safe.
class MessageAssembler {
 public:
  explicit MessageAssembler(uint64_t max_message = uint64_t{64} << 20) : max_(max_message) {}

  // Returns the message `frame` completes, nullopt when more fragments are needed, or
  // InvalidArgument for a violation: a continuation with no message in progress, a new data
  // message while one is in progress, a fragmented or over-125-byte control frame, a reserved
  // opcode; ResourceExhausted past max_message. After an error the assembler is reset.
  Result<std::optional<WsMessage>> Add(DecodedFrame frame);
  bool in_progress() const { return in_progress_; }

 private:
  uint64_t max_;
  bool in_progress_ = false;
  WsOpcode opcode_ = WsOpcode::kText;
  std::string buffer_;
  int fragments_ = 0;
};

// Handshake helpers.
std::array<uint8_t, 20> Sha1(std::string_view data);
std::string Base64Encode(std::string_view data);
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the expected Sec-WebSocket-Accept.
std::string WebSocketAcceptKey(std::string_view client_key);
// A fresh random Sec-WebSocket-Key (base64 of 16 random bytes).
std::string RandomWebSocketKey();
MaskKey RandomMaskKey();

}  // namespace edgewatch::testing
