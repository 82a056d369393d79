// Engine.IO protocol v4 packet codec (docs/socketio.md): the transport layer under Socket.IO.
//
// A packet is one type digit followed by its data: 0 open, 1 close, 2 ping, 3 pong, 4 message,
// 5 upgrade, 6 noop. Over WebSocket each text message is one packet; over HTTP long-polling a
// payload carries several packets separated by the record separator 0x1e. Binary packets ('b'
// prefix in polling payloads, binary WebSocket frames) are not supported and are refused.
//
// Pure functions, any thread. Parsed packets are views into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::fw {

inline constexpr int kEngineIoVersion = 4;
inline constexpr char kEioSeparator = '\x1e';

enum class EioType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

struct EioPacket {
  EioType type = EioType::kNoop;
  std::string_view data;  // everything after the type digit (a view into the input)
};

// Parses one packet. InvalidArgument (with a short reason) for an empty packet, an unknown type
// or a binary packet.
Result<EioPacket> ParseEioPacket(std::string_view text);

// Splits a polling payload into packets and parses each. InvalidArgument for an empty payload,
// any malformed packet or more than `max_packets` packets.
Result<std::vector<EioPacket>> ParseEioPayload(std::string_view body, size_t max_packets = 256);

// The handshake:
// 0{"sid":...,"upgrades":[...],"pingInterval":...,"pingTimeout":...,"maxPayload":...}
std::string EioOpenPacket(std::string_view sid, bool offer_websocket_upgrade,
                          int64_t ping_interval_ms, int64_t ping_timeout_ms, size_t max_payload);

}  // namespace edgewatch::fw
