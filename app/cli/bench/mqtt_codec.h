// The MQTT 3.1.1 packets `edgewatch bench` needs to measure a broker over WebSocket (Mosquitto in
// bench/peers.sh): CONNECT, SUBSCRIBE and QoS 0 PUBLISH out; CONNACK, SUBACK and PUBLISH in.
// Pure functions, no I/O; the packets travel in binary WebSocket messages (MQTT 3.1.1 §6).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace edgewatch::cli::bench::mqtt {

enum PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kSubscribe = 8,
  kSuback = 9,
  kPingresp = 13,
  kDisconnect = 14,
};

// Appends the "remaining length" variable-length integer (1 to 4 bytes; `n` < 268 435 456).
void AppendRemainingLength(std::string* out, size_t n);

// CONNECT, protocol level 4, clean session, keep-alive `keepalive_s` (0: none). An empty
// `client_id` asks the broker to assign one (allowed with a clean session).
std::string Connect(std::string_view client_id, uint16_t keepalive_s);
// SUBSCRIBE with one topic filter at QoS 0.
std::string Subscribe(uint16_t packet_id, std::string_view filter);
// Appends a QoS 0 PUBLISH of `payload` on `topic` (no packet id at QoS 0).
void AppendPublish(std::string* out, std::string_view topic, std::string_view payload);

struct Packet {
  PacketType type;
  uint8_t flags;          // the low nibble of the fixed header
  std::string_view body;  // variable header + payload; valid while the input is
};
enum class Outcome { kPacket, kNeedMore, kError };

// Parses one packet from the front of `data`; `*consumed` is its whole size (0 unless kPacket).
// kError (sets `*error`): a remaining length longer than 4 bytes or above `max_size`.
Outcome NextPacket(std::string_view data, size_t* consumed, Packet* out, std::string* error,
                   size_t max_size = 16 << 20);

// The topic and application payload of a PUBLISH body; false when malformed.
bool ParsePublish(const Packet& p, std::string_view* topic, std::string_view* payload);

}  // namespace edgewatch::cli::bench::mqtt
