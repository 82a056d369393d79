// `edgewatch bench --protocol mqtt`: MQTT 3.1.1 over WebSocket, QoS 0 (see protocol.h).
#include "bench/mqtt_codec.h"
#include "bench/protocol.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::cli::bench {
namespace {

class MqttProtocol final : public Protocol {
 public:
  explicit MqttProtocol(ProtocolOptions o) : Protocol(std::move(o)) {}
  const char* name() const override { return "mqtt"; }

  // Mosquitto (and MQTT §6) select the protocol by this subprotocol.
  std::vector<std::string> UpgradeHeaders() const override {
    return {"Sec-WebSocket-Protocol: mqtt"};
  }
  std::vector<std::string> PublisherUpgradeHeaders() const override { return UpgradeHeaders(); }

  std::vector<Outgoing> SubscriberOpening() const override {
    return {{kOpBinary, mqtt::Connect("", 0)}, {kOpBinary, mqtt::Subscribe(1, options_.pattern)}};
  }
  bool ReadyAfterOpening() const override { return false; }

  // A WebSocket message may hold several whole packets; a packet split across messages (which
  // MQTT allows but brokers do not do for small packets) is reported as a warning.
  void Classify(Opcode opcode, std::string_view payload, std::vector<Parsed>* out) const override {
    if (opcode != kOpBinary) {
      Parsed& p = out->emplace_back();
      p.verdict = Verdict::kFatal;
      p.text = "MQTT over WebSocket must use binary messages";
      return;
    }
    while (!payload.empty()) {
      mqtt::Packet packet{};
      size_t used = 0;
      std::string error;
      auto outcome = mqtt::NextPacket(payload, &used, &packet, &error);
      if (outcome != mqtt::Outcome::kPacket) {
        Parsed& p = out->emplace_back();
        p.verdict = outcome == mqtt::Outcome::kError ? Verdict::kFatal : Verdict::kWarning;
        p.text = outcome == mqtt::Outcome::kError
                     ? error
                     : "MQTT packet split across WebSocket messages (not reassembled)";
        return;
      }
      payload.remove_prefix(used);
      AddPacket(packet, out);
    }
  }

  void AddPacket(const mqtt::Packet& packet, std::vector<Parsed>* out) const {
    Parsed p;
    switch (packet.type) {
      case mqtt::kConnack:
        if (packet.body.size() < 2 || packet.body[1] != 0) {
          p.verdict = Verdict::kFatal;
          p.text = "CONNACK refused, return code " +
                   std::to_string(packet.body.size() < 2 ? -1 : packet.body[1]);
          out->push_back(p);
        }
        return;
      case mqtt::kSuback:
        if (packet.body.size() < 3 || static_cast<uint8_t>(packet.body[2]) == 0x80) {
          p.verdict = Verdict::kFatal;
          p.text = "SUBACK refused the subscription to " + options_.pattern;
        } else {
          p.verdict = Verdict::kReady;
        }
        out->push_back(p);
        return;
      case mqtt::kPublish: {
        std::string_view topic, data;
        if (!mqtt::ParsePublish(packet, &topic, &data)) {
          p.verdict = Verdict::kWarning;
          p.text = "malformed PUBLISH";
          out->push_back(p);
        } else if (ParseStamp(data, options_.run_id, &p.stamp)) {
          p.verdict = Verdict::kEvent;
          out->push_back(p);
        }
        return;
      }
      case mqtt::kDisconnect:
        p.verdict = Verdict::kFatal;
        p.text = "DISCONNECT from the broker";
        out->push_back(p);
        return;
      default:
        return;  // PINGRESP and others: nothing to do
    }
  }

  bool Receives(uint32_t k) const override {
    return fw::TopicMatches(options_.pattern, TopicName(k));
  }

  PublisherTransport publisher_transport() const override { return PublisherTransport::kWebSocket; }
  std::vector<Outgoing> PublisherOpening() const override {
    return {{kOpBinary, mqtt::Connect("", 0)}};
  }
  Opcode publish_opcode() const override { return kOpBinary; }
  void AppendPublish(std::string* out, uint32_t k, std::string_view data_json) const override {
    mqtt::AppendPublish(out, TopicName(k), data_json);
  }
};

}  // namespace

std::unique_ptr<Protocol> NewMqttProtocol(ProtocolOptions options) {
  return std::make_unique<MqttProtocol>(std::move(options));
}

}  // namespace edgewatch::cli::bench
