// What `edgewatch bench` speaks on top of WebSocket, per server family.
//
// The load generator (load_generator.h) owns sockets, the RFC 6455 framing, timing and
// accounting; a Protocol only says what to send after the upgrade, how to recognise a received
// message (ready, event, noise, error) and how the publisher wraps an event. Adding a server
// family is one more subclass plus a name in MakeProtocol(): "mqtt" (mqtt_protocol.cc) and
// "socketio" (socketio_protocol.cc) are built that way.
//
// Every event carries a stamp in its JSON data, written by the publisher and found again by the
// receivers wherever the server puts the data:
//   {"bench_run":"<run id>","bench_k":<topic index>,"bench_n":<per-topic index from 0>,
//    "bench_t":<publisher CLOCK_MONOTONIC ns at send>,"pad":"xxx..."}
// `bench_run` tells this run's events from older ones (e.g. a snapshot of a previous run).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/ws_codec.h"
#include "edgewatch/base/status.h"

namespace edgewatch::cli::bench {

struct Stamp {
  uint32_t topic = 0;  // index of the topic (0..topics-1)
  uint64_t n = 0;      // publisher's index of the event within its topic, from 0
  int64_t sent_ns = 0;
};

// The data object of event `n` on topic `k`, padded with "pad" to `size` bytes when it is larger
// than the stamp alone.
std::string FormatStampedData(std::string_view run_id, uint32_t k, uint64_t n, int64_t sent_ns,
                              size_t size);
// Finds the stamp in `text` (a frame or a data object). False when absent or of another run.
bool ParseStamp(std::string_view text, std::string_view run_id, Stamp* out);
// The unsigned integer after `key` (e.g. "\"seq\":") at its first occurrence in `text`.
bool FindUint(std::string_view text, std::string_view key, uint64_t* out);

struct ProtocolOptions {
  std::string run_id;
  std::string token;         // edgewatch: sent as first frame, header or query
  std::string auth_mode;     // edgewatch: "frame" (default), "header", "query"
  std::string pattern;       // edgewatch: the subscription pattern
  std::string topic_prefix;  // topics are <prefix><k>
  uint32_t topics = 1;
  std::string hello;   // raw: optional text frame each subscriber sends after the 101
  bool batch = false;  // edgewatch: subscribe with "batch":true (batch frames)
};

class Protocol {
 public:
  enum class PublisherTransport { kIngestLines, kWebSocket };
  // kReply: send `text` back on the same connection as one text frame (e.g. an Engine.IO pong);
  // honoured on the publisher's WebSocket too, where every other verdict is ignored.
  enum class Verdict { kEvent, kReady, kIgnore, kWarning, kFatal, kReply };
  struct Outgoing {
    Opcode opcode;
    std::string payload;
  };
  struct Parsed {
    Verdict verdict = Verdict::kIgnore;
    Stamp stamp;
    uint64_t seq = 0;  // the server's per-topic seq when it has one (edgewatch), else 0
    std::string text;  // kWarning/kFatal: what the server said; kReply: what to send
  };

  virtual ~Protocol() = default;
  virtual const char* name() const = 0;

  // --- Subscribers ---
  // Query string to append to the upgrade path ("" or "?token=...").
  virtual std::string PathSuffix() const { return {}; }
  virtual std::vector<std::string> UpgradeHeaders() const { return {}; }
  // Messages sent right after the 101, in one write.
  virtual std::vector<Outgoing> SubscriberOpening() const = 0;
  // True when a subscriber is ready (receives every later event) as soon as its opening messages
  // are sent; false when it waits for a kReady message.
  virtual bool ReadyAfterOpening() const = 0;
  // Appends what `payload` holds to `out` (one entry; several for a batch of events).
  virtual void Classify(Opcode opcode, std::string_view payload,
                        std::vector<Parsed>* out) const = 0;
  // Whether subscribers receive events of topic `k`.
  virtual bool Receives(uint32_t k) const = 0;

  // --- Publisher ---
  virtual PublisherTransport publisher_transport() const = 0;
  // kWebSocket: query string, extra upgrade headers and messages the publisher sends after its
  // own 101, and the opcode of its publish frames.
  virtual std::string PublisherPathSuffix() const { return {}; }
  virtual std::vector<std::string> PublisherUpgradeHeaders() const { return {}; }
  virtual std::vector<Outgoing> PublisherOpening() const { return {}; }
  virtual Opcode publish_opcode() const { return kOpText; }
  // Appends what publishes `data_json` on topic `k`: a whole ingest line (kIngestLines) or the
  // payload of one text frame (kWebSocket).
  virtual void AppendPublish(std::string* out, uint32_t k, std::string_view data_json) const = 0;

  std::string TopicName(uint32_t k) const { return options_.topic_prefix + std::to_string(k); }

 protected:
  explicit Protocol(ProtocolOptions options) : options_(std::move(options)) {}
  ProtocolOptions options_;
};

// "edgewatch" (docs/protocol.md: auth, subscribe, event envelopes, ingest lines), "raw" (any
// broadcast server: every text frame is one event's data; the publisher is a WebSocket client,
// see bench/peers/README.md), "mqtt" (MQTT 3.1.1 over WebSocket, QoS 0) or "socketio" (Engine.IO
// 4 / Socket.IO 5 over WebSocket).
Result<std::unique_ptr<Protocol>> MakeProtocol(std::string_view name, ProtocolOptions options);

// MQTT 3.1.1 over WebSocket (subprotocol "mqtt", binary messages): subscribers send CONNECT
// (clean session, no keep-alive, broker-assigned id) and SUBSCRIBE `pattern` at QoS 0 and are
// ready at SUBACK; events are PUBLISH packets whose payload is the data object; the publisher
// sends CONNECT, then one QoS 0 PUBLISH per event on <topic_prefix><k>.
std::unique_ptr<Protocol> NewMqttProtocol(ProtocolOptions options);
// Socket.IO over its WebSocket transport (path + "?EIO=4&transport=websocket"): every connection
// sends "40" (connect to "/") and is ready at the server's "40{...}"; pings are answered; events
// are "42[\"<any name>\",<data>]" whose data holds the stamp; the publisher emits
// "42[\"pub\",<data>]" (the peer in bench/peers broadcasts it to everyone else).
std::unique_ptr<Protocol> NewSocketIoProtocol(ProtocolOptions options);

}  // namespace edgewatch::cli::bench
