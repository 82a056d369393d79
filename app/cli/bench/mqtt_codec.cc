#include "bench/mqtt_codec.h"

namespace edgewatch::cli::bench::mqtt {
namespace {

void AppendString(std::string* out, std::string_view s) {
  out->push_back(static_cast<char>((s.size() >> 8) & 0xFF));
  out->push_back(static_cast<char>(s.size() & 0xFF));
  out->append(s);
}

std::string WithHeader(uint8_t first, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 5);
  out.push_back(static_cast<char>(first));
  AppendRemainingLength(&out, body.size());
  out.append(body);
  return out;
}

}  // namespace

void AppendRemainingLength(std::string* out, size_t n) {
  do {
    uint8_t byte = n % 128;
    n /= 128;
    if (n > 0) byte |= 0x80;
    out->push_back(static_cast<char>(byte));
  } while (n > 0);
}

std::string Connect(std::string_view client_id, uint16_t keepalive_s) {
  std::string body;
  AppendString(&body, "MQTT");
  body.push_back(4);     // protocol level: 3.1.1
  body.push_back(0x02);  // clean session; no will, user name or password
  body.push_back(static_cast<char>(keepalive_s >> 8));
  body.push_back(static_cast<char>(keepalive_s & 0xFF));
  AppendString(&body, client_id);
  return WithHeader(kConnect << 4, body);
}

std::string Subscribe(uint16_t packet_id, std::string_view filter) {
  std::string body;
  body.push_back(static_cast<char>(packet_id >> 8));
  body.push_back(static_cast<char>(packet_id & 0xFF));
  AppendString(&body, filter);
  body.push_back(0);                               // requested QoS 0
  return WithHeader(kSubscribe << 4 | 0x2, body);  // SUBSCRIBE's flags are 0010 (§3.8.1)
}

void AppendPublish(std::string* out, std::string_view topic, std::string_view payload) {
  out->push_back(static_cast<char>(kPublish << 4));  // QoS 0, no DUP, no RETAIN
  AppendRemainingLength(out, 2 + topic.size() + payload.size());
  AppendString(out, topic);
  out->append(payload);
}

Outcome NextPacket(std::string_view data, size_t* consumed, Packet* out, std::string* error,
                   size_t max_size) {
  *consumed = 0;
  if (data.size() < 2) return Outcome::kNeedMore;
  size_t length = 0;
  size_t i = 1;
  for (int shift = 0;; shift += 7, ++i) {
    if (i > 4) {
      *error = "MQTT remaining length longer than 4 bytes";
      return Outcome::kError;
    }
    if (i >= data.size()) return Outcome::kNeedMore;
    auto byte = static_cast<uint8_t>(data[i]);
    length |= static_cast<size_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) break;
  }
  ++i;  // past the last length byte
  if (length > max_size) {
    *error = "MQTT packet of " + std::to_string(length) + " bytes is too large";
    return Outcome::kError;
  }
  if (data.size() - i < length) return Outcome::kNeedMore;
  auto first = static_cast<uint8_t>(data[0]);
  out->type = static_cast<PacketType>(first >> 4);
  out->flags = first & 0x0F;
  out->body = data.substr(i, length);
  *consumed = i + length;
  return Outcome::kPacket;
}

bool ParsePublish(const Packet& p, std::string_view* topic, std::string_view* payload) {
  if (p.type != kPublish || p.body.size() < 2) return false;
  size_t len =
      static_cast<size_t>(static_cast<uint8_t>(p.body[0])) << 8 | static_cast<uint8_t>(p.body[1]);
  size_t at = 2 + len;
  if (((p.flags >> 1) & 0x3) != 0) at += 2;  // QoS 1/2: a packet identifier follows the topic
  if (at > p.body.size()) return false;
  *topic = p.body.substr(2, len);
  *payload = p.body.substr(at);
  return true;
}

}  // namespace edgewatch::cli::bench::mqtt
