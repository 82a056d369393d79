// Engine.IO v4 packet codec: every packet type, polling payloads, the handshake, malformed input.
#include <gtest/gtest.h>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/engineio.h"

namespace edgewatch::fw {
namespace {

TEST(EngineIoCodecTest, ParsesEveryPacketType) {
  const std::pair<std::string_view, EioType> cases[] = {
      {"0", EioType::kOpen}, {"1", EioType::kClose},   {"2", EioType::kPing},
      {"3", EioType::kPong}, {"4", EioType::kMessage}, {"5", EioType::kUpgrade},
      {"6", EioType::kNoop},
  };
  for (const auto& [text, type] : cases) {
    auto p = ParseEioPacket(text);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->type, type);
    EXPECT_TRUE(p->data.empty());
  }
  auto probe = ParseEioPacket("2probe");
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->type, EioType::kPing);
  EXPECT_EQ(probe->data, "probe");
  auto msg = ParseEioPacket(R"(42["subscribe",{}])");
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->type, EioType::kMessage);
  EXPECT_EQ(msg->data, R"(2["subscribe",{}])");
}

TEST(EngineIoCodecTest, RefusesMalformedPackets) {
  EXPECT_FALSE(ParseEioPacket("").ok());
  EXPECT_FALSE(ParseEioPacket("7").ok());
  EXPECT_FALSE(ParseEioPacket("x4").ok());
  EXPECT_FALSE(ParseEioPacket(std::string_view("\0", 1)).ok());
  auto binary = ParseEioPacket("bAQID");
  ASSERT_FALSE(binary.ok());
  EXPECT_NE(binary.status().message().find("binary"), std::string::npos);
}

TEST(EngineIoCodecTest, SplitsPollingPayloads) {
  auto packets = ParseEioPayload(
      "3\x1e"
      R"(42["a",1])"
      "\x1e"
      "6");
  ASSERT_TRUE(packets.ok());
  ASSERT_EQ(packets->size(), 3u);
  EXPECT_EQ((*packets)[0].type, EioType::kPong);
  EXPECT_EQ((*packets)[1].type, EioType::kMessage);
  EXPECT_EQ((*packets)[1].data, R"(2["a",1])");
  EXPECT_EQ((*packets)[2].type, EioType::kNoop);
  auto one = ParseEioPayload("1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST(EngineIoCodecTest, RefusesMalformedPayloads) {
  EXPECT_FALSE(ParseEioPayload("").ok());
  EXPECT_FALSE(ParseEioPayload("\x1e").ok());   // two empty packets
  EXPECT_FALSE(ParseEioPayload("3\x1e").ok());  // trailing separator
  EXPECT_FALSE(ParseEioPayload("3\x1e\x1e"
                               "3")
                   .ok());
  EXPECT_FALSE(ParseEioPayload("3\x1e"
                               "9")
                   .ok());
  EXPECT_FALSE(ParseEioPayload("3\x1e"
                               "bAAA")
                   .ok());
  std::string many;
  for (int i = 0; i < 5; ++i)
    many += i == 0 ? "6"
                   : "\x1e"
                     "6";
  EXPECT_TRUE(ParseEioPayload(many, 5).ok());
  EXPECT_FALSE(ParseEioPayload(many, 4).ok());
}

TEST(EngineIoCodecTest, OpenPacketCarriesTheHandshake) {
  std::string open = EioOpenPacket("abc", true, 25000, 20000, 4096);
  ASSERT_EQ(open.front(), '0');
  auto json = ParseJson(std::string_view(open).substr(1));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(GetString(json->get(), "sid"), "abc");
  EXPECT_EQ(GetInt(json->get(), "pingInterval"), 25000);
  EXPECT_EQ(GetInt(json->get(), "pingTimeout"), 20000);
  EXPECT_EQ(GetInt(json->get(), "maxPayload"), 4096);
  const cJSON* upgrades = cJSON_GetObjectItemCaseSensitive(json->get(), "upgrades");
  ASSERT_TRUE(cJSON_IsArray(upgrades));
  ASSERT_EQ(cJSON_GetArraySize(upgrades), 1);
  EXPECT_STREQ(cJSON_GetArrayItem(upgrades, 0)->valuestring, "websocket");
  std::string ws = EioOpenPacket("abc", false, 1000, 2000, 10);
  auto wsjson = ParseJson(std::string_view(ws).substr(1));
  ASSERT_TRUE(wsjson.ok());
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(wsjson->get(), "upgrades")), 0);
}

}  // namespace
}  // namespace edgewatch::fw
