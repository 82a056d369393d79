// The foundation's guarantees, end to end: the real edgewatchd on an ephemeral port and a private
// ingest socket, real producers on the Unix socket, real WebSocket clients (tests/support).
//
// Every wait is bounded by kTimeoutMs as a failure bound only; nothing sleeps to synchronise.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>
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

std::string Line(const std::string& topic, int n) {
  return R"({"topic":")" + topic + R"(","data":{"n":)" + std::to_string(n) + "}}";
}

// Publishes `lines` on a fresh producer connection and waits until the gateway has handled all
// of them (the ingest end-of-stream contract: it closes after answering every line).
void PublishAll(const DaemonProcess& d, const std::vector<std::string>& lines) {
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(d.ingest_path()).ok());
  for (const auto& l : lines) ASSERT_TRUE(p.WriteLine(l).ok());
  ASSERT_TRUE(p.ShutdownWrite().ok());
  ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
}

class GatewayTest : public ::testing::Test {
 protected:
  void StartDaemon(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "--no-auth");
    Status s = daemon_.Start({.args = args});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void OpenClient(WsTestClient& ws) {
    ASSERT_TRUE(ws.Open(daemon_.port()).ok());
    auto welcome = ws.ReceiveType("welcome", kTimeoutMs);
    ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
  }
  void Subscribe(WsTestClient& ws, const std::string& topics_json, int id = 1) {
    ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":)" +
                            topics_json + "}")
                    .ok());
    auto sub = ws.ReceiveType("subscribed", kTimeoutMs);
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  }
  DaemonProcess daemon_;
};

TEST_F(GatewayTest, WelcomeCarriesProtocolFields) {
  StartDaemon({"--heartbeat-s", "7"});
  WsTestClient ws;
  ASSERT_TRUE(ws.Open(daemon_.port()).ok());
  auto w = ws.ReceiveJson(kTimeoutMs);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(GetString(w->get(), "type"), "welcome");
  EXPECT_EQ(GetInt(w->get(), "version"), 1);
  EXPECT_EQ(GetInt(w->get(), "heartbeat_s"), 7);
  EXPECT_EQ(GetString(w->get(), "epoch"), daemon_.epoch());
  auto server = GetString(w->get(), "server");
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->rfind("edgewatch/", 0), 0u);
  EXPECT_FALSE(GetString(w->get(), "session").value_or("").empty());
}

// A client subscribing while a producer streams gets, per topic, the latest event as a snapshot
// and then every later event: consecutive seqs, no gap and no duplicate, whatever the timing.
TEST_F(GatewayTest, SnapshotThenLiveWithoutGapOrDuplicate) {
  StartDaemon();
  PublishAll(daemon_, {Line("snap/a", 1), Line("snap/a", 2), Line("snap/b", 1)});

  // A producer streams while the client subscribes: wherever the subscribe lands in the
  // stream, each topic must continue from its snapshot with consecutive seqs.
  constexpr int kStreamed = 3000;
  std::thread producer([&] {
    IngestTestClient p;
    if (!p.Connect(daemon_.ingest_path()).ok()) return;
    for (int i = 0; i < kStreamed; ++i) {
      if (!p.WriteLine(Line(i % 2 ? "snap/a" : "snap/b", 100 + i)).ok()) return;
    }
    p.ShutdownWrite().IgnoreError();
    p.ExpectEof(kTimeoutMs).IgnoreError();
  });

  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["snap/#"])");
  producer.join();
  // Published after the subscription was confirmed, so they must arrive live.
  PublishAll(daemon_, {Line("snap/a", -1), Line("snap/b", -1)});

  std::map<std::string, int64_t> last;
  std::set<std::string> done;
  int live = 0;
  while (done.size() < 2) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string topic(GetString(ev->get(), "topic").value_or(""));
    int64_t seq = GetInt(ev->get(), "seq").value_or(-1);
    ASSERT_TRUE(topic == "snap/a" || topic == "snap/b") << topic;
    if (last.count(topic)) {
      ASSERT_EQ(seq, last[topic] + 1) << topic << ": gap or duplicate";
      ++live;
    } else {
      ASSERT_GE(seq, 1);  // the snapshot: the latest event at subscribe time
    }
    last[topic] = seq;
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev->get(), "data");
    if (GetInt(data, "n") == -1) done.insert(topic);
  }
  EXPECT_EQ(last["snap/a"], 2 + kStreamed / 2 + 1);
  EXPECT_EQ(last["snap/b"], 1 + kStreamed / 2 + 1);
  EXPECT_GE(live, 2);
}

TEST_F(GatewayTest, SnapshotIsTheLatestEventOfEachMatchingTopic) {
  StartDaemon();
  PublishAll(daemon_,
             {Line("s/a", 1), Line("s/a", 2), Line("s/a", 3), Line("s/b", 1), Line("other/x", 1)});
  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["s/+"])");
  std::map<std::string, int64_t> got;
  for (int i = 0; i < 2; ++i) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok());
    std::string topic(*GetString(ev->get(), "topic"));
    got[topic] = *GetInt(ev->get(), "seq");
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev->get(), "data");
    if (topic == "s/a") {
      EXPECT_EQ(GetInt(data, "n"), 3);
    }
  }
  EXPECT_EQ(got, (std::map<std::string, int64_t>{{"s/a", 3}, {"s/b", 1}}));
  // Then live.
  PublishAll(daemon_, {Line("s/b", 2), Line("other/x", 2)});
  auto ev = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(GetString(ev->get(), "topic"), "s/b");
  EXPECT_EQ(GetInt(ev->get(), "seq"), 2);
}

// Two producers on the same topic and on their own topics: seqs are per topic, dense, from 1.
TEST_F(GatewayTest, PerTopicSeqIsDenseAcrossConcurrentProducers) {
  StartDaemon();
  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["seq/#"])");
  constexpr int kEach = 500;
  auto produce = [&](std::string own) {
    IngestTestClient p;
    if (!p.Connect(daemon_.ingest_path()).ok()) return;
    for (int i = 0; i < kEach; ++i) {
      if (!p.WriteLine(Line("seq/shared", i)).ok()) return;
      if (!p.WriteLine(Line(own, i)).ok()) return;
    }
    p.ShutdownWrite().IgnoreError();
    p.ExpectEof(kTimeoutMs).IgnoreError();
  };
  std::thread a(produce, "seq/a");
  std::thread b(produce, "seq/b");
  std::map<std::string, int64_t> last;
  for (int i = 0; i < 4 * kEach; ++i) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string topic(*GetString(ev->get(), "topic"));
    int64_t seq = *GetInt(ev->get(), "seq");
    ASSERT_EQ(seq, last[topic] + 1) << topic;
    last[topic] = seq;
  }
  a.join();
  b.join();
  EXPECT_EQ(last["seq/shared"], 2 * kEach);
  EXPECT_EQ(last["seq/a"], kEach);
  EXPECT_EQ(last["seq/b"], kEach);
}

TEST_F(GatewayTest, MalformedClientInputIsAnsweredAndTheConnectionStaysOpen) {
  StartDaemon();
  WsTestClient ws;
  OpenClient(ws);
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "bad_json"},
      {"[1,2,3]", "bad_request"},
      {R"({"id":5})", "bad_request"},
      {R"({"op":"frobnicate","id":6})", "unknown_op"},
      {R"({"op":"subscribe","id":7,"topics":["a/#/b"]})", "invalid_pattern"},
      {R"({"op":"subscribe","id":8,"topics":[]})", "bad_request"},
      {R"({"op":"unsubscribe","id":9,"topics":["never/subscribed"]})", "not_subscribed"},
      {"{\"op\":\"ping\",\"s\":\"\xff\xfe\"}", ""},  // invalid UTF-8: closes 1007 (below)
  };
  for (const auto& [text, code] : cases) {
    if (code.empty()) continue;
    ASSERT_TRUE(ws.SendText(text).ok());
    auto err = ws.ReceiveType("error", kTimeoutMs);
    ASSERT_TRUE(err.ok()) << text << ": " << err.status().ToString();
    EXPECT_EQ(GetString(err->get(), "code"), code) << text;
    EXPECT_FALSE(GetString(err->get(), "message").value_or("").empty());
  }
  ASSERT_TRUE(ws.SendText(R"({"op":"ping","id":10})").ok());
  auto pong = ws.ReceiveType("pong", kTimeoutMs);
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(GetInt(pong->get(), "id"), 10);
}

TEST_F(GatewayTest, InvalidUtf8TextFrameClosesWith1007) {
  StartDaemon();
  WsTestClient ws;
  OpenClient(ws);
  ASSERT_TRUE(ws.SendText("{\"op\":\"ping\",\"s\":\"\xff\xfe\"}").ok());
  auto close = ws.ReceiveClose(kTimeoutMs);
  ASSERT_TRUE(close.ok()) << close.status().ToString();
  EXPECT_EQ(close->close_code, 1007);
}

TEST_F(GatewayTest, OversizedMessageClosesWith1009AndOthersCarryOn) {
  StartDaemon();
  WsTestClient bystander;
  OpenClient(bystander);
  Subscribe(bystander, R"(["big/#"])");
  WsTestClient ws;
  OpenClient(ws);
  ASSERT_TRUE(ws.SendText(std::string(5000, ' ') + "{}").ok());
  auto close = ws.ReceiveClose(kTimeoutMs);
  ASSERT_TRUE(close.ok()) << close.status().ToString();
  EXPECT_EQ(close->close_code, 1009);
  PublishAll(daemon_, {Line("big/ok", 1)});
  auto ev = bystander.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(GetString(ev->get(), "topic"), "big/ok");
}

TEST_F(GatewayTest, MalformedIngestLinesGetErrorLinesAndTheProducerStaysConnected) {
  StartDaemon();
  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["pipeline/#"])");
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(daemon_.ingest_path()).ok());
  const std::pair<std::string, std::string> cases[] = {
      {"garbage", "bad_json"},
      {R"({"data":{}})", "bad_line"},
      {R"({"topic":"a/+/b","data":{}})", "invalid_topic"},
      {R"({"topic":"x","data":"str"})", "bad_line"},
      // Known kinds are validated against their schema (seed 003's field names).
      {R"({"topic":"pipeline/cam1/frame","data":{"pipeline_id":"cam1"}})", "invalid_data"},
      {R"({"topic":"pipeline/cam1/error","data":{"pipeline_id":"cam2","error_message":"x","severity":"high"}})",
       "invalid_data"},
      {"{\"topic\":\"x\",\"data\":{\"s\":\"\xc3\"}}", "invalid_utf8"},
      {std::string(70 * 1024, 'x'), "line_too_long"},
  };
  int line = 0;
  for (const auto& [text, code] : cases) {
    ++line;
    ASSERT_TRUE(p.WriteLine(text).ok());
    auto reply = p.ReadJsonLine(kTimeoutMs);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(GetString(reply->get(), "error"), code) << text.substr(0, 80);
    EXPECT_EQ(GetInt(reply->get(), "line"), line);
  }
  // The same connection still publishes.
  ASSERT_TRUE(p.WriteLine(R"({"topic":"pipeline/cam1/error","data":{"pipeline_id":"cam1",)"
                          R"("error_message":"lens covered","severity":"high"}})")
                  .ok());
  auto ev = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(GetString(ev->get(), "topic"), "pipeline/cam1/error");
  EXPECT_EQ(GetInt(ev->get(), "seq"), 1);  // rejected lines consumed no seq
}

TEST_F(GatewayTest, ProducerVanishingMidLineHarmsNobody) {
  StartDaemon();
  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["mid/#"])");
  IngestTestClient steady;
  ASSERT_TRUE(steady.Connect(daemon_.ingest_path()).ok());
  ASSERT_TRUE(steady.WriteLine(Line("mid/steady", 1)).ok());
  for (int i = 0; i < 20; ++i) {
    IngestTestClient flaky;
    ASSERT_TRUE(flaky.Connect(daemon_.ingest_path()).ok());
    ASSERT_TRUE(flaky.WriteLine(Line("mid/flaky", i)).ok());
    ASSERT_TRUE(flaky.WriteRaw(R"({"topic":"mid/partial","data":{"n":)").ok());
    flaky.Close();  // vanishes mid-line, no shutdown
  }
  ASSERT_TRUE(steady.WriteLine(Line("mid/steady", 2)).ok());
  std::map<std::string, int64_t> last;
  while (last["mid/steady"] < 2) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string topic(*GetString(ev->get(), "topic"));
    ASSERT_NE(topic, "mid/partial");
    int64_t seq = *GetInt(ev->get(), "seq");
    ASSERT_EQ(seq, last[topic] + 1);
    last[topic] = seq;
  }
  auto health = HttpGet(daemon_.port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(GatewayTest, HistoryAndTopicsEndpoints) {
  StartDaemon({"--history", "5"});
  std::vector<std::string> lines;
  for (int i = 1; i <= 8; ++i) lines.push_back(Line("h/t", i));
  PublishAll(daemon_, lines);
  auto hist = HttpGet(daemon_.port(), "/api/v1/history?topic=h/t&limit=3");
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->status, 200) << hist->body;
  auto j = hist->Json();
  ASSERT_TRUE(j.ok());
  const cJSON* events = cJSON_GetObjectItemCaseSensitive(j->get(), "events");
  ASSERT_EQ(cJSON_GetArraySize(events), 3);
  EXPECT_EQ(GetInt(cJSON_GetArrayItem(events, 0), "seq"), 6);
  EXPECT_EQ(GetInt(cJSON_GetArrayItem(events, 2), "seq"), 8);
  auto all = HttpGet(daemon_.port(), "/api/v1/history?topic=h/t");
  ASSERT_TRUE(all.ok());
  auto aj = all->Json();
  ASSERT_TRUE(aj.ok());
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(aj->get(), "events")), 5);

  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/history?topic=nope")->status, 404);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/history")->status, 400);
  EXPECT_EQ(HttpGet(daemon_.port(), "/api/v1/history?topic=h/t&limit=zero")->status, 400);

  auto topics = HttpGet(daemon_.port(), "/api/v1/topics");
  ASSERT_TRUE(topics.ok());
  auto tj = topics->Json();
  ASSERT_TRUE(tj.ok());
  const cJSON* list = cJSON_GetObjectItemCaseSensitive(tj->get(), "topics");
  bool found = false;
  const cJSON* t = nullptr;
  cJSON_ArrayForEach(t, list) {
    if (GetString(t, "topic") == "h/t") {
      found = true;
      EXPECT_EQ(GetInt(t, "seq"), 8);
      EXPECT_GT(GetInt(t, "last_ts").value_or(0), 0);
    }
  }
  EXPECT_TRUE(found) << topics->body;
}

TEST_F(GatewayTest, HeartbeatsArriveAndSilentClientsAreClosed) {
  StartDaemon({"--heartbeat-s", "1", "--ping-s", "1", "--idle-timeout-s", "3"});
  // A client that keeps reading answers the server's pings and outlives several idle timeouts;
  // one that answers nothing is closed by the idle policy.
  WsTestClient live;
  OpenClient(live);
  WsTestClient silent;
  silent.set_auto_pong(false);
  OpenClient(silent);
  Status live_result;
  std::thread reader([&] {
    for (int heartbeats = 0; heartbeats < 6;) {
      auto hb = live.ReceiveType("heartbeat", kTimeoutMs);
      if (!hb.ok()) {
        live_result = hb.status();
        return;
      }
      if (GetInt(hb->get(), "ts").value_or(0) <= 0) {
        live_result = Internal("heartbeat without ts");
        return;
      }
      ++heartbeats;
    }
    live_result = live.SendText(R"({"op":"ping","id":1})");
    if (live_result.ok()) live_result = live.ReceiveType("pong", kTimeoutMs).status();
  });
  Status eof = silent.WaitForEof(kTimeoutMs);
  reader.join();
  EXPECT_TRUE(eof.ok()) << eof.ToString();
  EXPECT_TRUE(live_result.ok()) << live_result.ToString();
  EXPECT_GT(live.pings_answered(), 0u);
}

TEST_F(GatewayTest, SigtermClosesClientsWith1001AndExitsZero) {
  StartDaemon();
  WsTestClient a, b;
  OpenClient(a);
  OpenClient(b);
  ASSERT_TRUE(daemon_.Signal(SIGTERM).ok());
  for (WsTestClient* c : {&a, &b}) {
    auto close = c->ReceiveClose(kTimeoutMs);
    ASSERT_TRUE(close.ok()) << close.status().ToString();
    EXPECT_EQ(close->close_code, 1001);
    EXPECT_EQ(close->close_reason, "going away");
  }
  auto exit = daemon_.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->success()) << exit->ToString();
}

TEST_F(GatewayTest, SigintWithoutClientsExitsZero) {
  StartDaemon({"--demo"});
  ASSERT_TRUE(daemon_.Signal(SIGINT).ok());
  auto exit = daemon_.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->success()) << exit->ToString();
}

// The demo's first seconds: frame events of both cameras with fps values, seq increasing.
TEST_F(GatewayTest, DemoStreamsBothCameras) {
  StartDaemon({"--demo"});
  WsTestClient ws;
  OpenClient(ws);
  Subscribe(ws, R"(["pipeline/#"])");
  std::map<std::string, int64_t> last;
  std::set<std::string> cams_with_fps;
  while (cams_with_fps.size() < 2) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string topic(*GetString(ev->get(), "topic"));
    int64_t seq = *GetInt(ev->get(), "seq");
    if (last.count(topic)) {
      ASSERT_GT(seq, last[topic]);
    }
    last[topic] = seq;
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev->get(), "data");
    const cJSON* frame = cJSON_GetObjectItemCaseSensitive(data, "frame_data");
    if (frame != nullptr && GetNumber(frame, "fps").has_value()) {
      cams_with_fps.insert(std::string(*GetString(data, "pipeline_id")));
    }
  }
  EXPECT_TRUE(cams_with_fps.count("cam1"));
  EXPECT_TRUE(cams_with_fps.count("cam2"));
}

}  // namespace
}  // namespace edgewatch::testing
