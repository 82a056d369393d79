// Socket.IO v5 packet codec: CONNECT/EVENT/ACK/DISCONNECT as socket.io-client sends them, the
// server packets edgewatch builds, and malformed or unsupported packets.
#include <gtest/gtest.h>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/socketio.h"

namespace edgewatch::fw {
namespace {

SioPacket Parse(std::string_view text) {
  auto p = ParseSioPacket(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().message();
  if (!p.ok()) return {};
  return std::move(p).value();
}

std::string Error(std::string_view text) {
  auto p = ParseSioPacket(text);
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? std::string() : p.status().message();
}

TEST(SocketIoCodecTest, Connect) {
  SioPacket bare = Parse("0");
  EXPECT_EQ(bare.type, SioType::kConnect);
  EXPECT_EQ(bare.nsp, "/");
  EXPECT_EQ(bare.data, nullptr);
  SioPacket auth = Parse(R"(0{"token":"abc"})");
  EXPECT_EQ(GetString(auth.data.get(), "token"), "abc");
  SioPacket admin = Parse(R"(0/admin,{"token":"abc"})");
  EXPECT_EQ(admin.nsp, "/admin");
  EXPECT_EQ(GetString(admin.data.get(), "token"), "abc");
  EXPECT_EQ(Parse("0/admin").nsp, "/admin");
  EXPECT_EQ(Parse("0/admin,").nsp, "/admin");
}

TEST(SocketIoCodecTest, EventsAndAcks) {
  SioPacket e = Parse(R"(2["subscribe",{"topics":["a/b"]}])");
  EXPECT_EQ(e.type, SioType::kEvent);
  EXPECT_EQ(e.event, "subscribe");
  EXPECT_FALSE(e.ack_id.has_value());
  SioPacket with_ack = Parse(R"(212["subscribe",{"topics":["a/b"]}])");
  EXPECT_EQ(with_ack.ack_id, 12u);
  SioPacket nsp_ack = Parse(R"(2/admin,7["x"])");
  EXPECT_EQ(nsp_ack.nsp, "/admin");
  EXPECT_EQ(nsp_ack.ack_id, 7u);
  EXPECT_EQ(nsp_ack.event, "x");
  SioPacket ack = Parse(R"(35[{"ok":true}])");
  EXPECT_EQ(ack.type, SioType::kAck);
  EXPECT_EQ(ack.ack_id, 5u);
  EXPECT_EQ(Parse("1").type, SioType::kDisconnect);
  EXPECT_EQ(Parse("1/admin,").nsp, "/admin");
}

TEST(SocketIoCodecTest, RefusesMalformedPackets) {
  Error("");
  Error("9");
  Error("x");
  Error("2");                          // EVENT without data
  Error("2{}");                        // not an array
  Error("2[]");                        // no event name
  Error("2[1]");                       // name not a string
  Error(R"(2["a")");                   // truncated JSON
  Error(R"(2["a"]x)");                 // trailing garbage
  Error("0[1]");                       // CONNECT data not an object
  Error(R"(1{"a":1})");                // DISCONNECT with data
  Error("3[1]");                       // ACK without id
  Error("31{}");                       // ACK data not an array
  Error("01");                         // ack id on CONNECT
  Error(R"(21234567890123456["a"])");  // ack id too long
  Error("0/" + std::string(200, 'a') + ",");
  EXPECT_NE(Error(R"(51-["a",{"_placeholder":true,"num":0}])").find("binary"), std::string::npos);
  EXPECT_NE(Error("61-[{}]").find("binary"), std::string::npos);
  Error(R"(4{"message":"x"})");  // CONNECT_ERROR comes from servers only
  // JSON limits apply.
  std::string deep = "2[\"a\"," + std::string(100, '[') + std::string(100, ']') + "]";
  auto p = ParseSioPacket(deep, JsonLimits{4096, 32});
  EXPECT_FALSE(p.ok());
  std::string big = R"(2["a",")" + std::string(5000, 'x') + "\"]";
  EXPECT_FALSE(ParseSioPacket(big, JsonLimits{4096, 32}).ok());
  EXPECT_FALSE(ParseSioPacket("2[\"\xff\"]").ok());  // invalid UTF-8
}

TEST(SocketIoCodecTest, ServerPackets) {
  EXPECT_EQ(SioConnectPacket("s1"), R"(40{"sid":"s1"})");
  EXPECT_EQ(SioConnectErrorPacket("/", "token_expired"), R"(44{"message":"token_expired"})");
  EXPECT_EQ(SioConnectErrorPacket("/admin", "Invalid namespace"),
            R"(44/admin,{"message":"Invalid namespace"})");
  EXPECT_EQ(SioEventPacket("event", R"({"topic":"a"})"), R"(42["event",{"topic":"a"}])");
  EXPECT_EQ(SioEventPacket("we\"ird", "1"), R"(42["we\"ird",1])");
  EXPECT_EQ(SioAckPacket(3, R"({"type":"subscribed"})"), R"(433[{"type":"subscribed"}])");
  EXPECT_EQ(SioDisconnectPacket(), "41");
  // What we build parses back (minus the Engine.IO message type).
  SioPacket e = Parse(std::string_view(SioEventPacket("pipeline_frame_update", "{}")).substr(1));
  EXPECT_EQ(e.event, "pipeline_frame_update");
  SioPacket a = Parse(std::string_view(SioAckPacket(9, "{}")).substr(1));
  EXPECT_EQ(a.ack_id, 9u);
}

}  // namespace
}  // namespace edgewatch::fw
