// Socket.IO protocol v5 packet codec (docs/socketio.md): the packets carried in Engine.IO
// message packets.
//
//   <type digit>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// Types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK.
// edgewatch accepts from clients CONNECT (data: an optional auth object), DISCONNECT, EVENT (data:
// an array whose first element is the event name) and ACK (data: an array); binary packets and
// CONNECT_ERROR are refused with a reason. The encoders build complete Engine.IO message packets
// ("4" + the Socket.IO packet), ready for either transport.
//
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"

namespace edgewatch::fw {

inline constexpr int kSocketIoVersion = 5;

enum class SioType {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

struct SioPacket {
  SioType type = SioType::kConnect;
  std::string nsp = "/";
  std::optional<uint64_t> ack_id;
  JsonPtr data;  // null when the packet carried none
  // EVENT: the event name (data[0]); the arguments are data[1...].
  std::string event;
};

// Parses the Socket.IO packet in `text` (the data of an Engine.IO message packet). Returns
// InvalidArgument with a reason a client can read for: an empty packet, an unknown or binary
// type, a malformed namespace or ack id, invalid JSON (within `limits`), a CONNECT whose data is
// not an object, an EVENT whose data is not an array starting with a string, an ACK whose data
// is not an array, data on a DISCONNECT, or a CONNECT_ERROR (server-to-client only).
Result<SioPacket> ParseSioPacket(std::string_view text, const JsonLimits& limits = {});

// Engine.IO message packets carrying one Socket.IO packet on the default namespace "/".
// 40{"sid":"<sid>"}
std::string SioConnectPacket(std::string_view sid);
// 44[/nsp,]{"message":"<message>"}  (`nsp` "/" is omitted)
std::string SioConnectErrorPacket(std::string_view nsp, std::string_view message);
// 42["<event>",<arg_json>]   (`arg_json`: serialised JSON, trusted)
std::string SioEventPacket(std::string_view event, std::string_view arg_json);
// 43<id>[<arg_json>]
std::string SioAckPacket(uint64_t ack_id, std::string_view arg_json);
// 41
std::string SioDisconnectPacket();

}  // namespace edgewatch::fw
