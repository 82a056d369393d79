// Resume by epoch and seq, and the HTTP long-poll fallback, against the real daemon.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 15000;

void Publish(const DaemonProcess& d, const std::string& topic, int from, int to) {
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(d.ingest_path()).ok());
  for (int i = from; i <= to; ++i) {
    ASSERT_TRUE(
        p.WriteLine(R"({"topic":")" + topic + R"(","data":{"n":)" + std::to_string(i) + "}}").ok());
  }
  ASSERT_TRUE(p.ShutdownWrite().ok());
  ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
}

class WsResumeTest : public ::testing::Test {
 protected:
  void StartDaemon(DaemonProcess& d, std::vector<std::string> args = {}) {
    args.insert(args.begin(), "--no-auth");
    Status s = d.Start({.args = args});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Opens a client and subscribes with `extra` JSON members (e.g. epoch/since); returns the
  // `subscribed` reply.
  JsonPtr Subscribe(WsTestClient& ws, const DaemonProcess& d, const std::string& extra = "") {
    EXPECT_TRUE(ws.Open(d.port()).ok());
    EXPECT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());
    EXPECT_TRUE(ws.SendText(R"({"op":"subscribe","id":1,"topics":["r/#"])" + extra + "}").ok());
    auto sub = ws.ReceiveType("subscribed", kTimeoutMs);
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(sub).value() : nullptr;
  }
  DaemonProcess daemon_;
};

TEST_F(WsResumeTest, ReconnectReplaysExactlyTheMissedEventsThenLive) {
  StartDaemon(daemon_);
  Publish(daemon_, "r/a", 1, 3);
  std::map<std::string, int64_t> last;
  {
    WsTestClient ws;
    Subscribe(ws, daemon_);
    auto ev = ws.ReceiveType("event", kTimeoutMs);  // snapshot r/a seq 3
    ASSERT_TRUE(ev.ok());
    last["r/a"] = *GetInt(ev->get(), "seq");
    ASSERT_EQ(last["r/a"], 3);
  }  // the connection drops
  Publish(daemon_, "r/a", 4, 60);
  Publish(daemon_, "r/b", 1, 5);  // a topic created while the client was away

  WsTestClient ws;
  auto sub = Subscribe(ws, daemon_, R"(,"epoch":")" + daemon_.epoch() + R"(","since":{"r/a":3})");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(GetBool(sub.get(), "recovered"), true);
  std::map<std::string, int64_t> seen = {{"r/a", 3}, {"r/b", 0}};
  while (seen["r/a"] < 60 || seen["r/b"] < 5) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string topic(*GetString(ev->get(), "topic"));
    ASSERT_EQ(*GetInt(ev->get(), "seq"), seen[topic] + 1) << topic;
    seen[topic] = *GetInt(ev->get(), "seq");
  }
  Publish(daemon_, "r/a", 61, 61);
  auto live = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(GetInt(live->get(), "seq"), 61);
}

TEST_F(WsResumeTest, RingTooShortGivesAGapAndTheLatest) {
  StartDaemon(daemon_, {"--history", "5"});
  Publish(daemon_, "r/a", 1, 20);
  WsTestClient ws;
  auto sub = Subscribe(ws, daemon_, R"(,"epoch":")" + daemon_.epoch() + R"(","since":{"r/a":2})");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(GetBool(sub.get(), "recovered"), false);
  auto gap = ws.ReceiveType("gap", kTimeoutMs);
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(GetString(gap->get(), "topic"), "r/a");
  EXPECT_EQ(GetInt(gap->get(), "from"), 3);
  EXPECT_EQ(GetInt(gap->get(), "to"), 19);
  EXPECT_EQ(GetString(gap->get(), "reason"), "ring_overflow");
  auto ev = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(GetInt(ev->get(), "seq"), 20);
}

TEST_F(WsResumeTest, AfterARestartTheClientIsToldAndGetsTheSnapshot) {
  StartDaemon(daemon_);
  Publish(daemon_, "r/a", 1, 7);
  std::string old_epoch = daemon_.epoch();
  std::string state = daemon_.state_dir();
  DaemonProcess second;
  StartDaemon(second);
  ASSERT_NE(second.epoch(), old_epoch);
  Publish(second, "r/a", 100, 101);
  WsTestClient ws;
  auto sub = Subscribe(ws, second, R"(,"epoch":")" + old_epoch + R"(","since":{"r/a":7})");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(GetBool(sub.get(), "recovered"), false);
  auto gap = ws.ReceiveType("gap", kTimeoutMs);
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(GetInt(gap->get(), "from"), 8);
  EXPECT_EQ(GetString(gap->get(), "reason"), "epoch_changed");
  auto snap = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(GetInt(snap->get(), "seq"), 2);  // the new run's latest
  Publish(second, "r/a", 102, 102);
  auto live = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(GetInt(live->get(), "seq"), 3);
}

// The long-poll fallback delivers the same sequence as the WebSocket, and parks until an event.
TEST_F(WsResumeTest, LongPollDeliversEverySeqOnce) {
  StartDaemon(daemon_);
  Publish(daemon_, "r/a", 1, 2);
  auto first = HttpGet(daemon_.port(), "/api/v1/poll?topics=r/%23&timeout=5");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 200) << first->body;
  auto fj = first->Json();
  ASSERT_TRUE(fj.ok());
  std::string epoch(*GetString(fj->get(), "epoch"));
  EXPECT_EQ(epoch, daemon_.epoch());
  int64_t next = *GetInt(cJSON_GetObjectItemCaseSensitive(fj->get(), "next"), "r/a");
  EXPECT_EQ(next, 2);

  std::thread producer([&] { Publish(daemon_, "r/a", 3, 40); });
  int64_t expected = next + 1;
  while (expected <= 40) {
    auto r = HttpGet(daemon_.port(), "/api/v1/poll?topics=r/%23&timeout=10&epoch=" + epoch +
                                         "&since=r/a:" + std::to_string(expected - 1));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto j = r->Json();
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(GetBool(j->get(), "recovered"), true);
    const cJSON* ev = nullptr;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(j->get(), "events")) {
      ASSERT_EQ(GetInt(ev, "seq"), expected);
      ++expected;
    }
    EXPECT_EQ(GetInt(cJSON_GetObjectItemCaseSensitive(j->get(), "next"), "r/a"), expected - 1);
  }
  producer.join();
}

TEST_F(WsResumeTest, LongPollAnswersBadRequestsClearly) {
  StartDaemon(daemon_);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/poll")->status, 400);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/poll?topics=a/%23/b")->status, 400);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/poll?topics=a&timeout=31")->status, 400);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/poll?topics=a&since=a")->status, 400);
  auto empty = HttpGet(daemon_.port(), "/api/v1/poll?topics=nothing/here&timeout=0");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->status, 200);
}

// A parked poll holds a connection slot: with room for one, a WebSocket is refused while it waits.
TEST_F(WsResumeTest, ParkedPollsCountAgainstAdmission) {
  // A high per-address rate so the health checks below are not rate limited.
  StartDaemon(daemon_,
              {"--max-connections", "1", "--conn-rate", "100000", "--conn-burst", "100000"});
  std::thread poller([&] {
    auto r = HttpGet(daemon_.port(), "/api/v1/poll?topics=park/%23&timeout=20");
    EXPECT_TRUE(r.ok());
  });
  auto release = [&] {
    Publish(daemon_, "park/x", 1, 1);
    poller.join();
  };
  // Wait (a bounded number of checks) until the gateway reports the parked poll.
  bool parked = false;
  for (int i = 0; i < 5000 && !parked; ++i) {
    auto h = HttpGet(daemon_.port(), "/healthz");
    if (!h.ok()) break;
    auto j = h->Json();
    parked = j.ok() && GetInt(j->get(), "polls") == 1;
  }
  if (!parked) {
    release();
    FAIL() << "the poll was not parked";
  }
  WsTestClient ws;
  auto refused = ws.Connect({.port = daemon_.port()});
  if (!refused.ok()) release();
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("max_connections"), std::string::npos);
  release();
}

}  // namespace
}  // namespace edgewatch::testing
