// tests/support against the real edgewatchd: checks that the harness the other integration
// suites rely on (DaemonProcess, WsTestClient, IngestTestClient, HttpGet) works with the lws
// server, using only behaviour the wire protocol v1 guarantees. Skips without edgewatchd.
#include <gtest/gtest.h>

#include <string>

#include "edgewatch/base/json.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 10000;  // failure bound only

class HarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EW_SKIP_WITHOUT_DAEMON();
    Status s = daemon_.Start({.args = {"--no-auth"}});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  DaemonProcess daemon_;
};

TEST_F(HarnessTest, HttpEndpoints) {
  auto health = HttpGet(daemon_.port(), "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  auto json = health->Json();
  ASSERT_TRUE(json.ok()) << health->body;
  EXPECT_TRUE(GetString(json->get(), "status").has_value());

  auto missing = HttpGet(daemon_.port(), "/no/such/thing");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(missing->Json().ok()) << missing->body;
}

TEST_F(HarnessTest, WelcomeSnapshotAndLiveEvent) {
  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(daemon_.ingest_path()).ok());
  ASSERT_TRUE(producer.WriteLine(R"({"topic":"harness/a","data":{"n":1}})").ok());
  // The ingest EOF contract: the gateway closes once it has handled every line, so after EOF
  // the event is stored.
  ASSERT_TRUE(producer.ShutdownWrite().ok());
  ASSERT_TRUE(producer.ExpectEof(kTimeoutMs).ok());

  WsTestClient ws;
  ASSERT_TRUE(ws.Open(daemon_.port()).ok());
  auto welcome = ws.ReceiveJson(kTimeoutMs);
  ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
  EXPECT_EQ(GetString(welcome->get(), "type"), "welcome");
  EXPECT_EQ(GetInt(welcome->get(), "version"), 1);
  EXPECT_EQ(GetString(welcome->get(), "epoch"), daemon_.epoch());

  ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":3,"topics":["harness/#"]})").ok());
  auto sub = ws.ReceiveType("subscribed", kTimeoutMs);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(GetInt(sub->get(), "id"), 3);
  auto snap = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(GetInt(snap->get(), "seq"), 1);

  IngestTestClient live;
  ASSERT_TRUE(live.Connect(daemon_.ingest_path()).ok());
  ASSERT_TRUE(live.WriteLine(R"({"topic":"harness/a","data":{"n":2}})").ok());
  auto ev = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(GetInt(ev->get(), "seq"), 2);
  EXPECT_EQ(GetInt(cJSON_GetObjectItemCaseSensitive(ev->get(), "data"), "n"), 2);
}

TEST_F(HarnessTest, FragmentedMessagesPingsAndErrors) {
  WsTestClient ws;
  ASSERT_TRUE(ws.Open(daemon_.port()).ok());
  ASSERT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());

  ASSERT_TRUE(ws.SendFragmented(R"({"op":"ping","id":41})", 4).ok());
  auto pong = ws.ReceiveType("pong", kTimeoutMs);
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(GetInt(pong->get(), "id"), 41);

  ASSERT_TRUE(ws.SendPing("abc").ok());
  auto ctl =
      ws.ReceiveUntil([](const WsFrame& f) { return f.opcode == WsOpcode::kPong; }, kTimeoutMs);
  ASSERT_TRUE(ctl.ok()) << ctl.status().ToString();
  EXPECT_EQ(ctl->payload, "abc");

  ASSERT_TRUE(ws.SendText("{not json").ok());
  auto err = ws.ReceiveType("error", kTimeoutMs);
  ASSERT_TRUE(err.ok()) << err.status().ToString();
  EXPECT_TRUE(GetString(err->get(), "code").has_value());
  // Still open.
  ASSERT_TRUE(ws.SendText(R"({"op":"ping","id":42})").ok());
  pong = ws.ReceiveType("pong", kTimeoutMs);
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_EQ(GetInt(pong->get(), "id"), 42);
}

TEST_F(HarnessTest, IngestRepliesAndDiscardsPartialLineAtEof) {
  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(daemon_.ingest_path()).ok());
  ASSERT_TRUE(producer.WriteLine("this is not json").ok());
  auto reply = producer.ReadJsonLine(kTimeoutMs);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(GetString(reply->get(), "error").has_value());
  EXPECT_EQ(GetInt(reply->get(), "line"), 1);
  // The connection stays open for more lines; a partial line at EOF is dropped silently.
  ASSERT_TRUE(producer.WriteLine(R"({"topic":"harness/ok","data":{}})").ok());
  ASSERT_TRUE(producer.WriteRaw(R"({"topic":"harness/partial","da)").ok());
  ASSERT_TRUE(producer.ShutdownWrite().ok());
  ASSERT_TRUE(producer.ExpectEof(kTimeoutMs).ok());

  auto topics = HttpGet(daemon_.port(), "/api/v1/topics");
  ASSERT_TRUE(topics.ok());
  EXPECT_NE(topics->body.find("\"harness/ok\""), std::string::npos) << topics->body;
  EXPECT_EQ(topics->body.find("harness/partial"), std::string::npos) << topics->body;
}

}  // namespace
}  // namespace edgewatch::testing
