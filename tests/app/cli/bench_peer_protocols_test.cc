// Unit tests of the wire codecs `edgewatch bench` speaks to the peers of make bench-peers
// (app/cli/bench/mqtt_codec, socketio_codec) and of the "mqtt" and "socketio" protocols built on
// them. Byte layouts are checked against the MQTT 3.1.1 and Engine.IO 4 / Socket.IO 5 specs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/mqtt_codec.h"
#include "bench/protocol.h"
#include "bench/socketio_codec.h"

namespace edgewatch::cli::bench {
namespace {

using namespace std::string_literals;

ProtocolOptions Options() {
  ProtocolOptions o;
  o.run_id = "r1";
  o.pattern = "bench/#";
  o.topic_prefix = "bench/";
  o.topics = 2;
  return o;
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(BenchMqtt, RemainingLengthUsesOneToFourBytes) {
  struct Case {
    size_t n;
    std::string bytes;
  };
  for (const Case& c : std::vector<Case>{{0, Bytes({0})},
                                         {127, Bytes({0x7F})},
                                         {128, Bytes({0x80, 0x01})},
                                         {16383, Bytes({0xFF, 0x7F})},
                                         {16384, Bytes({0x80, 0x80, 0x01})},
                                         {268435455, Bytes({0xFF, 0xFF, 0xFF, 0x7F})}}) {
    std::string out;
    mqtt::AppendRemainingLength(&out, c.n);
    EXPECT_EQ(out, c.bytes) << c.n;
  }
}

TEST(BenchMqtt, ConnectAndSubscribeMatchTheSpec) {
  // §3.1: 10 "MQTT" level 4, clean session, keep-alive 0, empty client id.
  EXPECT_EQ(mqtt::Connect("", 0), Bytes({0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0, 0, 0}));
  EXPECT_EQ(mqtt::Connect("ab", 60),
            Bytes({0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'a', 'b'}));
  // §3.8: flags 0010, packet id, filter, requested QoS.
  EXPECT_EQ(mqtt::Subscribe(1, "a/#"), Bytes({0x82, 8, 0, 1, 0, 3, 'a', '/', '#', 0}));
}

TEST(BenchMqtt, PublishRoundTripsThroughTheParser) {
  std::string wire;
  std::string big(300, 'x');  // a two-byte remaining length
  mqtt::AppendPublish(&wire, "t/1", "{}");
  mqtt::AppendPublish(&wire, "t/2", big);
  EXPECT_EQ(wire.substr(0, 9), Bytes({0x30, 7, 0, 3, 't', '/', '1', '{', '}'}));

  std::string_view data = wire;
  std::vector<std::pair<std::string, size_t>> got;
  for (;;) {
    mqtt::Packet p{};
    size_t used = 0;
    std::string error;
    auto outcome = mqtt::NextPacket(data, &used, &p, &error);
    if (outcome != mqtt::Outcome::kPacket) {
      EXPECT_EQ(outcome, mqtt::Outcome::kNeedMore);
      break;
    }
    std::string_view topic, payload;
    ASSERT_TRUE(mqtt::ParsePublish(p, &topic, &payload));
    got.emplace_back(std::string(topic), payload.size());
    data.remove_prefix(used);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::pair<std::string, size_t>{"t/1", 2}));
  EXPECT_EQ(got[1], (std::pair<std::string, size_t>{"t/2", 300}));

  // Every strict prefix is incomplete, never an error, and consumes nothing.
  for (size_t cut = 0; cut < 9; ++cut) {
    mqtt::Packet p{};
    size_t used = 99;
    std::string error;
    EXPECT_EQ(mqtt::NextPacket(std::string_view(wire).substr(0, cut), &used, &p, &error),
              mqtt::Outcome::kNeedMore)
        << cut;
    EXPECT_EQ(used, 0u);
  }
}

TEST(BenchMqtt, ParserRejectsOversizeLengthsAndSkipsQos1PacketIds) {
  mqtt::Packet p{};
  size_t used = 0;
  std::string error;
  EXPECT_EQ(mqtt::NextPacket(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), &used, &p, &error),
            mqtt::Outcome::kError);
  EXPECT_NE(error.find("4 bytes"), std::string::npos);
  EXPECT_EQ(mqtt::NextPacket(Bytes({0x30, 0x80, 0x01}), &used, &p, &error, 100),
            mqtt::Outcome::kError);

  // QoS 1 PUBLISH: topic "t", packet id 0x0007, payload "P". (Packet views its input.)
  const std::string qos1 = Bytes({0x32, 6, 0, 1, 't', 0, 7, 'P'});
  ASSERT_EQ(mqtt::NextPacket(qos1, &used, &p, &error), mqtt::Outcome::kPacket);
  std::string_view topic, payload;
  ASSERT_TRUE(mqtt::ParsePublish(p, &topic, &payload));
  EXPECT_EQ(topic, "t");
  EXPECT_EQ(payload, "P");
  // A topic length running past the body is malformed.
  const std::string bad = Bytes({0x30, 3, 0, 9, 'x'});
  ASSERT_EQ(mqtt::NextPacket(bad, &used, &p, &error), mqtt::Outcome::kPacket);
  EXPECT_FALSE(mqtt::ParsePublish(p, &topic, &payload));
}

TEST(BenchProtocol, MqttSubscribesAndClassifiesBrokerPackets) {
  auto made = MakeProtocol("mqtt", Options());
  ASSERT_TRUE(made.ok());
  Protocol& p = **made;
  EXPECT_EQ(p.UpgradeHeaders(), std::vector<std::string>{"Sec-WebSocket-Protocol: mqtt"});
  EXPECT_EQ(p.PublisherUpgradeHeaders(), p.UpgradeHeaders());
  auto opening = p.SubscriberOpening();
  ASSERT_EQ(opening.size(), 2u);
  EXPECT_EQ(opening[0].opcode, kOpBinary);
  EXPECT_EQ(opening[1].payload, mqtt::Subscribe(1, "bench/#"));
  EXPECT_FALSE(p.ReadyAfterOpening());
  EXPECT_TRUE(p.Receives(1));
  EXPECT_EQ(p.publish_opcode(), kOpBinary);
  EXPECT_EQ(p.publisher_transport(), Protocol::PublisherTransport::kWebSocket);

  std::string pub;
  p.AppendPublish(&pub, 1, FormatStampedData("r1", 1, 5, 42, 120));
  std::string other;
  mqtt::AppendPublish(&other, "bench/0", FormatStampedData("old", 0, 1, 1, 120));

  std::vector<Protocol::Parsed> out;
  // CONNACK accepted (nothing to report), then SUBACK granted QoS 0 in the same message.
  p.Classify(kOpBinary, Bytes({0x20, 2, 0, 0, 0x90, 3, 0, 1, 0}), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kReady);
  // Two PUBLISHes in one message; the other run's is not an event.
  out.clear();
  p.Classify(kOpBinary, pub + other, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kEvent);
  EXPECT_EQ(out[0].stamp.topic, 1u);
  EXPECT_EQ(out[0].stamp.n, 5u);
  EXPECT_EQ(out[0].stamp.sent_ns, 42);
  // Refusals are fatal for the subscriber; a split packet is a warning; text is a violation.
  out.clear();
  p.Classify(kOpBinary, Bytes({0x20, 2, 0, 5}), &out);
  p.Classify(kOpBinary, Bytes({0x90, 3, 0, 1, 0x80}), &out);
  p.Classify(kOpBinary, pub.substr(0, 10), &out);
  p.Classify(kOpText, "hello", &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kFatal);
  EXPECT_EQ(out[0].text, "CONNACK refused, return code 5");
  EXPECT_EQ(out[1].verdict, Protocol::Verdict::kFatal);
  EXPECT_EQ(out[2].verdict, Protocol::Verdict::kWarning);
  EXPECT_EQ(out[3].verdict, Protocol::Verdict::kFatal);

  ProtocolOptions o = Options();
  o.pattern = "";
  EXPECT_FALSE(MakeProtocol("mqtt", o).ok());
  o.pattern = "bench/0";
  auto one = MakeProtocol("mqtt", o);
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE((*one)->Receives(1));
}

TEST(BenchSocketIo, ParsesEngineIoAndSocketIoPackets) {
  using socketio::Kind;
  EXPECT_EQ(socketio::Parse(R"(0{"sid":"x","pingInterval":25000})").kind, Kind::kOpen);
  EXPECT_EQ(socketio::Parse("2").kind, Kind::kPing);
  EXPECT_EQ(socketio::Parse("3").kind, Kind::kPong);
  EXPECT_EQ(socketio::Parse("1").kind, Kind::kClose);
  EXPECT_EQ(socketio::Parse("6").kind, Kind::kNoop);
  EXPECT_EQ(socketio::Parse(R"(40{"sid":"y"})").kind, Kind::kConnected);
  EXPECT_EQ(socketio::Parse("41").kind, Kind::kDisconnect);
  EXPECT_EQ(socketio::Parse(R"(44{"message":"no"})").kind, Kind::kConnectError);
  EXPECT_EQ(socketio::Parse("").kind, Kind::kInvalid);
  EXPECT_EQ(socketio::Parse("4").kind, Kind::kInvalid);
  EXPECT_EQ(socketio::Parse("x").kind, Kind::kInvalid);
  EXPECT_EQ(socketio::Parse("42{}").kind, Kind::kInvalid);  // an event needs ["name",...]

  auto ev = socketio::Parse(R"(42["ev",{"a":1}])");
  EXPECT_EQ(ev.kind, Kind::kEvent);
  EXPECT_EQ(ev.name, "ev");
  EXPECT_EQ(ev.data, R"(["ev",{"a":1}])");
  EXPECT_TRUE(ev.name_space.empty());
  auto ns = socketio::Parse(R"(42/admin,17["ev",1])");  // namespace and ack id
  EXPECT_EQ(ns.kind, Kind::kEvent);
  EXPECT_EQ(ns.name_space, "/admin");
  EXPECT_EQ(ns.name, "ev");
  EXPECT_EQ(ns.data, R"(["ev",1])");

  EXPECT_EQ(socketio::Event("pub", R"({"a":1})"), R"(42["pub",{"a":1}])");
}

TEST(BenchProtocol, SocketIoConnectsAnswersPingsAndFindsStamps) {
  auto made = MakeProtocol("socketio", Options());
  ASSERT_TRUE(made.ok());
  Protocol& p = **made;
  EXPECT_EQ(p.PathSuffix(), "?EIO=4&transport=websocket");
  EXPECT_EQ(p.PublisherPathSuffix(), p.PathSuffix());
  ASSERT_EQ(p.SubscriberOpening().size(), 1u);
  EXPECT_EQ(p.SubscriberOpening()[0].payload, "40");
  ASSERT_EQ(p.PublisherOpening().size(), 1u);
  EXPECT_FALSE(p.ReadyAfterOpening());
  std::string pub;
  p.AppendPublish(&pub, 0, "{}");
  EXPECT_EQ(pub, R"(42["pub",{}])");

  std::vector<Protocol::Parsed> out;
  p.Classify(kOpText, R"(0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000})",
             &out);
  EXPECT_TRUE(out.empty());
  p.Classify(kOpText, R"(40{"sid":"t"})", &out);
  p.Classify(kOpText, "2", &out);
  p.Classify(kOpText, socketio::Event("ev", FormatStampedData("r1", 1, 8, 99, 150)), &out);
  p.Classify(kOpText, socketio::Event("ev", FormatStampedData("r0", 1, 8, 99, 150)), &out);
  p.Classify(kOpText, R"(44{"message":"Not allowed"})", &out);
  p.Classify(kOpText, "41", &out);
  p.Classify(kOpText, "zz", &out);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kReady);
  EXPECT_EQ(out[1].verdict, Protocol::Verdict::kReply);
  EXPECT_EQ(out[1].text, "3");
  EXPECT_EQ(out[2].verdict, Protocol::Verdict::kEvent);
  EXPECT_EQ(out[2].stamp.n, 8u);
  EXPECT_EQ(out[2].stamp.sent_ns, 99);
  EXPECT_EQ(out[3].verdict, Protocol::Verdict::kFatal);
  EXPECT_NE(out[3].text.find("Not allowed"), std::string::npos);
  EXPECT_EQ(out[4].verdict, Protocol::Verdict::kFatal);
  EXPECT_EQ(out[5].verdict, Protocol::Verdict::kWarning);
}

}  // namespace
}  // namespace edgewatch::cli::bench
