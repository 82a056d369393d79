#include "edgewatch/fw/protocol.h"

#include <gtest/gtest.h>

namespace edgewatch::fw {
namespace {

OpError ExpectError(std::string_view text) {
  auto r = ParseClientOp(text);
  EXPECT_TRUE(std::holds_alternative<OpError>(r)) << text;
  if (!std::holds_alternative<OpError>(r)) return {};
  return std::get<OpError>(r);
}

ClientOp ExpectOp(std::string_view text) {
  auto r = ParseClientOp(text);
  EXPECT_TRUE(std::holds_alternative<ClientOp>(r)) << text;
  if (!std::holds_alternative<ClientOp>(r)) return {};
  return std::move(std::get<ClientOp>(r));
}

TEST(ProtocolTest, Subscribe) {
  ClientOp op = ExpectOp(R"({"op":"subscribe","id":3,"topics":["pipeline/+/frame","system/#"]})");
  EXPECT_EQ(op.kind, OpKind::kSubscribe);
  EXPECT_EQ(op.id, 3);
  ASSERT_EQ(op.topics.size(), 2u);
  EXPECT_EQ(op.topics[1], "system/#");
  EXPECT_FALSE(op.batch);
}

TEST(ProtocolTest, SubscribeWithResumeFields) {
  ClientOp op = ExpectOp(
      R"({"op":"subscribe","id":1,"topics":["a/#"],"batch":true,"epoch":"e1","since":{"a/b":7}})");
  EXPECT_TRUE(op.batch);
  EXPECT_EQ(op.epoch, "e1");
  EXPECT_EQ(op.since.at("a/b"), 7u);
}

TEST(ProtocolTest, PingWithoutId) {
  ClientOp op = ExpectOp(R"({"op":"ping"})");
  EXPECT_EQ(op.kind, OpKind::kPing);
  EXPECT_FALSE(op.id.has_value());
}

TEST(ProtocolTest, UnknownOpIsReturnedForLaterLayers) {
  ClientOp op = ExpectOp(R"({"op":"ack","id":9,"alert":"x"})");
  EXPECT_EQ(op.kind, OpKind::kOther);
  EXPECT_EQ(op.op, "ack");
  ASSERT_NE(op.root, nullptr);
}

struct BadCase {
  const char* text;
  const char* code;
};

TEST(ProtocolTest, MalformedInputGetsStableCodes) {
  const BadCase cases[] = {
      {"not json", "bad_json"},
      {"", "bad_json"},
      {"[1,2]", "bad_request"},
      {R"({"id":1})", "bad_request"},
      {R"({"op":5})", "bad_request"},
      {R"({"op":"subscribe","id":1})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":[]})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":[1]})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":"a"})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":["a"],"batch":"yes"})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":["a"],"since":{"a":-1}})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":["a"],"since":{"a":1.5}})", "bad_request"},
      // Beyond 2^53 and infinity (found by fuzz_client_op: converting them was undefined).
      {R"({"op":"subscribe","id":1,"topics":["a"],"since":{"a":1e300}})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":["a"],"since":{"a":1e999}})", "bad_request"},
      {R"({"op":"subscribe","id":1,"topics":["a"],"since":{"a":18446744073709551616}})",
       "bad_request"},
      {R"({"op":"ping","id":"x"})", "bad_request"},
      {R"({"op":"ping","id":1.5})", "bad_request"},
      {R"({"op":"auth","token":5})", "bad_request"},
      {"{\"op\":\"ping\",\"x\":\"\xff\"}", "bad_json"},
  };
  for (const auto& c : cases) {
    OpError e = ExpectError(c.text);
    EXPECT_EQ(e.code, c.code) << c.text;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(ProtocolTest, ErrorKeepsIdWhenReadable) {
  OpError e = ExpectError(R"({"op":"subscribe","id":42,"topics":[]})");
  EXPECT_EQ(e.id, 42);
}

TEST(ProtocolTest, SizeAndDepthLimits) {
  OpLimits limits;
  limits.max_bytes = 32;
  auto r = ParseClientOp(R"({"op":"subscribe","id":1,"topics":["aaaaaaaaaaaaaaaaa"]})", limits);
  ASSERT_TRUE(std::holds_alternative<OpError>(r));
  std::string deep = R"({"op":"ping","x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(ExpectError(deep).code, "bad_json");
}

TEST(ProtocolTest, ServerMessages) {
  EXPECT_EQ(WelcomeMessage("edgewatch/1.0", "s1", "e1", 30),
            R"({"type":"welcome","version":1,"server":"edgewatch/1.0","session":"s1",)"
            R"("epoch":"e1","heartbeat_s":30})");
  EXPECT_EQ(HeartbeatMessage(5), R"({"type":"heartbeat","ts":5})");
  EXPECT_EQ(PongMessage(std::nullopt), R"({"type":"pong","id":null})");
  EXPECT_EQ(SubscribedMessage(1, {"a", "b/#"}),
            R"({"type":"subscribed","id":1,"topics":["a","b/#"]})");
  EXPECT_EQ(ErrorMessage(2, "bad_json", "x\"y"),
            R"({"type":"error","id":2,"code":"bad_json","message":"x\"y"})");
}

}  // namespace
}  // namespace edgewatch::fw
