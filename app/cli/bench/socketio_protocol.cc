// `edgewatch bench --protocol socketio`: Socket.IO 5 over Engine.IO 4's WebSocket transport
// (see protocol.h and socketio_codec.h).
#include "bench/protocol.h"
#include "bench/socketio_codec.h"

namespace edgewatch::cli::bench {
namespace {

class SocketIoProtocol final : public Protocol {
 public:
  explicit SocketIoProtocol(ProtocolOptions o) : Protocol(std::move(o)) {}
  const char* name() const override { return "socketio"; }

  std::string PathSuffix() const override { return std::string(socketio::kQuery); }
  std::string PublisherPathSuffix() const override { return PathSuffix(); }
  std::vector<Outgoing> SubscriberOpening() const override {
    return {{kOpText, std::string(socketio::kConnect)}};
  }
  bool ReadyAfterOpening() const override { return false; }

  void Classify(Opcode opcode, std::string_view payload, std::vector<Parsed>* out) const override {
    if (opcode != kOpText) return;  // binary attachments: not used by the peers
    socketio::Packet packet = socketio::Parse(payload);
    Parsed p;
    switch (packet.kind) {
      case socketio::Kind::kPing:
        p.verdict = Verdict::kReply;
        p.text = std::string(socketio::kPong);
        p.text += packet.data;  // "2probe" is answered "3probe"
        break;
      case socketio::Kind::kConnected:
        p.verdict = Verdict::kReady;
        break;
      case socketio::Kind::kEvent:
        if (!ParseStamp(packet.data, options_.run_id, &p.stamp)) return;
        p.verdict = Verdict::kEvent;
        break;
      case socketio::Kind::kConnectError:
        p.verdict = Verdict::kFatal;
        p.text = "Socket.IO connect error: " + std::string(packet.data.substr(0, 200));
        break;
      case socketio::Kind::kDisconnect:
      case socketio::Kind::kClose:
        p.verdict = Verdict::kFatal;
        p.text = "Socket.IO disconnect from the server";
        break;
      case socketio::Kind::kInvalid:
        p.verdict = Verdict::kWarning;
        p.text = "not an Engine.IO packet: " + std::string(payload.substr(0, 40));
        break;
      default:
        return;  // open, pong, noop, acks
    }
    out->push_back(std::move(p));
  }

  bool Receives(uint32_t) const override { return true; }  // the peer broadcasts every event

  PublisherTransport publisher_transport() const override { return PublisherTransport::kWebSocket; }
  std::vector<Outgoing> PublisherOpening() const override { return SubscriberOpening(); }
  void AppendPublish(std::string* out, uint32_t, std::string_view data_json) const override {
    socketio::AppendEvent(out, "pub", data_json);
  }
};

}  // namespace

std::unique_ptr<Protocol> NewSocketIoProtocol(ProtocolOptions options) {
  return std::make_unique<SocketIoProtocol>(std::move(options));
}

}  // namespace edgewatch::cli::bench
