// Budgets, admission, slow consumers, load shedding, batching and metrics against the real daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
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

constexpr int kTimeoutMs = 30000;

std::string FrameLine(const std::string& cam, int i) {
  return R"({"topic":"pipeline/)" + cam + R"(/frame","data":{"pipeline_id":")" + cam +
         R"(","frame_data":{"frame_id":)" + std::to_string(i) +
         R"(,"timestamp":1,"detections_count":2,"processing_time":10.5,"fps":30,"node_results":{}}}})";
}

std::string OpaqueLine(const std::string& topic, int i, size_t pad = 0) {
  return R"({"topic":")" + topic + R"(","data":{"n":)" + std::to_string(i) + R"(,"pad":")" +
         std::string(pad, 'x') + "\"}}";
}

void PublishAll(const DaemonProcess& d, const std::vector<std::string>& lines) {
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(d.ingest_path()).ok());
  for (const auto& l : lines) ASSERT_TRUE(p.WriteLine(l).ok());
  ASSERT_TRUE(p.ShutdownWrite().ok());
  ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
}

// Value of an unlabelled metric in a Prometheus text body; -1 when absent.
double Metric(const std::string& body, const std::string& name) {
  size_t pos = 0;
  while ((pos = body.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || body[pos - 1] == '\n') return std::atof(body.c_str() + pos + name.size() + 1);
    pos += name.size();
  }
  return -1;
}

class BudgetTest : public ::testing::Test {
 protected:
  void StartDaemon(std::vector<std::string> args) {
    args.insert(args.begin(), "--no-auth");
    Status s = daemon_.Start({.args = args});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Open(WsTestClient& ws, const std::string& topics, bool batch = false) {
    ASSERT_TRUE(ws.Open(daemon_.port()).ok());
    ASSERT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());
    ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":1,"topics":)" + topics +
                            (batch ? R"(,"batch":true)" : "") + "}")
                    .ok());
    ASSERT_TRUE(ws.ReceiveType("subscribed", kTimeoutMs).ok());
  }
  DaemonProcess daemon_;
};

TEST_F(BudgetTest, AdmissionAtExactlyMaxConnections) {
  StartDaemon({"--max-connections", "3"});
  WsTestClient a, b, c, d;
  for (WsTestClient* ws : {&a, &b, &c}) {
    auto r = ws->Connect({.port = daemon_.port()});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 101);
  }
  auto refused = d.Connect({.port = daemon_.port()});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_TRUE(refused->Header("Retry-After").has_value());
  auto body = refused->Json();
  ASSERT_TRUE(body.ok()) << refused->body;
  EXPECT_EQ(GetString(body->get(), "error"), "overloaded");
  EXPECT_EQ(GetString(body->get(), "reason"), "max_connections");
  // A slot frees up when a client leaves.
  a.Close();
  bool admitted = false;
  for (int i = 0; i < 200 && !admitted; ++i) {
    WsTestClient e;
    auto r = e.Connect({.port = daemon_.port()});
    ASSERT_TRUE(r.ok());
    admitted = r->status == 101;
  }
  EXPECT_TRUE(admitted);
}

TEST_F(BudgetTest, TinyMemoryBudgetRejectsWithMemoryBudget) {
  StartDaemon({"--memory-mb", "1", "--conn-rate", "100000", "--conn-burst", "100000"});
  // Fill three topic rings with large events: more than 1 MiB of frames stays accounted.
  std::vector<std::string> lines;
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 20; ++i) lines.push_back(OpaqueLine("big/" + std::to_string(t), i, 30000));
  }
  PublishAll(daemon_, lines);
  WsTestClient ws;
  auto refused = ws.Connect({.port = daemon_.port()});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("\"memory_budget\""), std::string::npos) << refused->body;
  auto metrics = HttpGet(daemon_.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("edgewatch_connections_rejected_total{reason=\"memory_budget\"} 1"),
            std::string::npos)
      << metrics->body;
}

// A client that never reads while the producer floods: it is coalesced, then closed with 4408;
// a healthy client receives every event in order; accounted memory stays inside the budget.
TEST_F(BudgetTest, SlowConsumerIsCoalescedThenClosedAndOthersLoseNothing) {
  StartDaemon({"--memory-mb", "24", "--session-queue-kb", "512", "--conn-rate", "100000",
               "--conn-burst", "100000"});
  WsTestClient slow;
  Open(slow, R"(["pipeline/#","logs/#"])");
  WsTestClient healthy;
  Open(healthy, R"(["pipeline/#","logs/#"])");

  constexpr int kEvents = 50000;
  std::map<std::string, int64_t> healthy_last;
  Status healthy_status;
  // The producer stays at most kWindow events ahead of the healthy client (flow control in the
  // test, not timing): the healthy client is by construction fast enough, the slow one never
  // reads at all.
  constexpr int kWindow = 2000;
  std::mutex mu;
  std::condition_variable cv;
  int healthy_got = 0;       // guarded by mu
  bool reader_done = false;  // guarded by mu
  std::thread reader([&] {
    struct Done {
      std::mutex& mu;
      std::condition_variable& cv;
      bool& flag;
      ~Done() {
        std::lock_guard<std::mutex> lock(mu);
        flag = true;
        cv.notify_all();
      }
    } done{mu, cv, reader_done};
    for (int got = 0; got < kEvents;) {
      auto ev = healthy.ReceiveJson(kTimeoutMs);
      if (!ev.ok()) {
        healthy_status = ev.status();
        return;
      }
      if (GetString(ev->get(), "type") != "event") continue;
      std::string topic(*GetString(ev->get(), "topic"));
      int64_t seq = *GetInt(ev->get(), "seq");
      if (seq != healthy_last[topic] + 1) {
        healthy_status =
            Internal(topic + ": expected seq " + std::to_string(healthy_last[topic] + 1) +
                     ", got " + std::to_string(seq));
        return;
      }
      healthy_last[topic] = seq;
      ++got;
      if (got % 100 == 0 || got == kEvents) {
        std::lock_guard<std::mutex> lock(mu);
        healthy_got = got;
        cv.notify_all();
      }
    }
  });
  // Accounted memory, sampled from /metrics every 2500 events of the flood.
  bool over_budget = false;
  int samples = 0;
  auto sample = [&] {
    auto m = HttpGet(daemon_.port(), "/metrics");
    if (!m.ok()) return;
    double accounted = Metric(m->body, "edgewatch_accounted_bytes");
    double budget = Metric(m->body, "edgewatch_memory_budget_bytes");
    if (accounted < 0 || budget <= 0 || accounted > budget) over_budget = true;
    ++samples;
  };
  {
    IngestTestClient p;
    ASSERT_TRUE(p.Connect(daemon_.ingest_path()).ok());
    for (int i = 0; i < kEvents; ++i) {
      if (i % 2500 == 0) sample();
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return i - healthy_got <= kWindow || reader_done; });
      }
      std::string line =
          i % 5 == 4 ? OpaqueLine("logs/app", i, 100) : FrameLine(i % 2 ? "cam1" : "cam2", i);
      ASSERT_TRUE(p.WriteLine(line, kTimeoutMs).ok());
    }
    ASSERT_TRUE(p.ShutdownWrite().ok());
    ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
  }
  reader.join();
  sample();
  EXPECT_TRUE(healthy_status.ok()) << healthy_status.ToString();
  EXPECT_FALSE(over_budget);
  EXPECT_GE(samples, 10);

  // The slow client now reads what reached its socket, then close 4408 (its queue, including
  // any `skipped` notices still in it, was dropped when it was closed; it would resume).
  auto close = slow.ReceiveClose(kTimeoutMs);
  ASSERT_TRUE(close.ok()) << close.status().ToString();
  EXPECT_EQ(close->close_code, 4408);
  EXPECT_EQ(close->close_reason, "slow_consumer");
  auto metrics = HttpGet(daemon_.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_GE(Metric(metrics->body, "edgewatch_slow_consumer_closes_total"), 1);
  EXPECT_GT(Metric(metrics->body, "edgewatch_coalesced_events_total"), 0);
}

// A client that stops reading while only latest-value topics flow is coalesced, never closed:
// when it reads again, every seq of each topic is either delivered or inside exactly one
// `skipped` range, in order.
TEST_F(BudgetTest, CoalescedClientIsToldExactlyWhatItSkipped) {
  StartDaemon({"--session-queue-kb", "64", "--conn-rate", "100000", "--conn-burst", "100000"});
  WsTestClient paused;
  Open(paused, R"(["pipeline/#"])");
  constexpr int kEvents = 20000;
  {
    IngestTestClient p;
    ASSERT_TRUE(p.Connect(daemon_.ingest_path()).ok());
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_TRUE(p.WriteLine(FrameLine(i % 2 ? "cam1" : "cam2", i), kTimeoutMs).ok());
    }
    ASSERT_TRUE(p.ShutdownWrite().ok());
    ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
  }
  std::map<std::string, int64_t> covered;  // highest seq delivered or skipped, per topic
  int skipped = 0;
  while (covered["pipeline/cam1/frame"] < kEvents / 2 ||
         covered["pipeline/cam2/frame"] < kEvents / 2) {
    auto m = paused.ReceiveJson(kTimeoutMs);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto type = GetString(m->get(), "type");
    std::string topic(GetString(m->get(), "topic").value_or(""));
    if (type == "skipped") {
      ++skipped;
      ASSERT_EQ(GetInt(m->get(), "from"), covered[topic] + 1) << topic;
      int64_t to = *GetInt(m->get(), "to");
      ASSERT_GE(to, covered[topic] + 1);
      covered[topic] = to;
    } else if (type == "event") {
      ASSERT_EQ(GetInt(m->get(), "seq"), covered[topic] + 1) << topic;
      covered[topic] = *GetInt(m->get(), "seq");
    }
  }
  EXPECT_GT(skipped, 0);
  auto metrics = HttpGet(daemon_.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(Metric(metrics->body, "edgewatch_slow_consumer_closes_total"), 0);
  EXPECT_GT(Metric(metrics->body, "edgewatch_coalesced_events_total"), 0);
}

TEST_F(BudgetTest, BatchingOnAndOffGiveTheSameSequence) {
  // Both clients are read one after the other: give them room to hold the whole run.
  StartDaemon({"--session-queue-kb", "16384", "--memory-mb", "256"});
  WsTestClient plain, batched;
  Open(plain, R"(["b/#"])");
  Open(batched, R"(["b/#"])", /*batch=*/true);
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) lines.push_back(OpaqueLine(i % 3 ? "b/x" : "b/y", i));
  PublishAll(daemon_, lines);
  auto collect = [](WsTestClient& ws, int* frames) {
    std::vector<std::string> seq;
    while (seq.size() < 3000) {
      auto m = ws.ReceiveJson(kTimeoutMs);
      if (!m.ok()) break;
      ++*frames;
      auto add = [&](const cJSON* ev) {
        seq.push_back(std::string(*GetString(ev, "topic")) + "#" +
                      std::to_string(*GetInt(ev, "seq")));
      };
      if (GetString(m->get(), "type") == "event") add(m->get());
      if (GetString(m->get(), "type") == "batch") {
        const cJSON* ev = nullptr;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(m->get(), "events")) add(ev);
      }
    }
    return seq;
  };
  int plain_frames = 0, batched_frames = 0;
  auto a = collect(plain, &plain_frames);
  auto b = collect(batched, &batched_frames);
  ASSERT_EQ(a.size(), 3000u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(plain_frames, 3000);
  EXPECT_LT(batched_frames, 3000);  // several events per frame
}

class FakeProc {
 public:
  explicit FakeProc(const std::string& root) : root_(root) {
    for (const char* d : {"/proc", "/sys", "/sys/class", "/sys/class/thermal",
                          "/sys/class/thermal/thermal_zone0"}) {
      ::mkdir((root_ + d).c_str(), 0755);
    }
    Write("/proc/meminfo", "MemTotal: 1000000 kB\nMemFree: 500000 kB\nMemAvailable: 600000 kB\n");
    Write("/proc/uptime", "100.00 50.00\n");
    Write("/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
    SetTemperature(40);
    // Since "boot": 95 % busy.
    Write("/proc/stat", "cpu  9000 0 500 500 0 0 0 0 0 0\n");
  }
  void SetTemperature(int c) {
    Write("/sys/class/thermal/thermal_zone0/temp", std::to_string(c * 1000) + "\n");
  }
  void Write(const std::string& rel, const std::string& text) {
    std::string tmp = root_ + rel + ".tmp";
    std::ofstream(tmp) << text;
    ::rename(tmp.c_str(), (root_ + rel).c_str());
  }

 private:
  std::string root_;
};

// Load shedding from simulated readings (the Linux SysInfo backend on a fake /proc and /sys).
TEST_F(BudgetTest, ThermalLoadSheddingRefusesConnectionsAndDownSamplesFrames) {
  char tmpl[] = "/tmp/ew-proc-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  FakeProc proc(root);
  proc.SetTemperature(85);
  StartDaemon({"--proc-root", root, "--resources-ms", "100", "--thermal-limit-c", "70",
               "--cpu-shed-percent", "101", "--shed-rate-hz", "0.01", "--conn-rate", "100000",
               "--conn-burst", "100000"});
  // A client connected before or during shedding keeps its subscription.
  WsTestClient ws;
  Open(ws, R"(["system/load_shedding","pipeline/#","other/#"])");
  auto on = ws.ReceiveJsonUntil(
      [](const cJSON& m) {
        const cJSON* data = cJSON_GetObjectItemCaseSensitive(&m, "data");
        return GetString(&m, "topic") == "system/load_shedding" && GetBool(data, "active") == true;
      },
      kTimeoutMs);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_EQ(GetString(cJSON_GetObjectItemCaseSensitive(on->get(), "data"), "reason"), "thermal");

  WsTestClient late;
  auto refused = late.Connect({.port = daemon_.port()});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("\"thermal\""), std::string::npos) << refused->body;

  // 20 frames of one camera: while shedding, at most one per 100 s gets through (the first,
  // since the topic never published before); every event of another kind still does.
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) lines.push_back(FrameLine("cam1", i));
  lines.push_back(OpaqueLine("other/x", 1));
  PublishAll(daemon_, lines);
  int frames = 0;
  auto other = ws.ReceiveJsonUntil(
      [&](const cJSON& m) {
        if (GetString(&m, "topic") == "pipeline/cam1/frame") ++frames;
        return GetString(&m, "topic") == "other/x";
      },
      kTimeoutMs);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(frames, 1);

  proc.SetTemperature(40);
  auto off = ws.ReceiveJsonUntil(
      [](const cJSON& m) {
        const cJSON* data = cJSON_GetObjectItemCaseSensitive(&m, "data");
        return GetString(&m, "topic") == "system/load_shedding" && GetBool(data, "active") == false;
      },
      kTimeoutMs);
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  WsTestClient again;
  auto admitted = again.Connect({.port = daemon_.port()});
  ASSERT_TRUE(admitted.ok());
  EXPECT_EQ(admitted->status, 101);
  std::filesystem::remove_all(root);
}

// CPU readings: the fake /proc/stat reads 95 % busy since boot, then no change (0 %): shedding
// starts on the first sample and ends on the next.
TEST_F(BudgetTest, CpuLoadSheddingStartsAndEnds) {
  char tmpl[] = "/tmp/ew-proc-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  FakeProc proc(root);
  StartDaemon({"--proc-root", root, "--resources-ms", "1000", "--cpu-shed-percent", "80"});
  WsTestClient ws;
  Open(ws, R"(["system/load_shedding"])");
  std::vector<std::pair<bool, std::string>> states;
  while (states.size() < 2) {
    auto ev = ws.ReceiveType("event", kTimeoutMs);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev->get(), "data");
    states.emplace_back(GetBool(data, "active").value_or(false),
                        std::string(GetString(data, "reason").value_or("")));
  }
  EXPECT_EQ(states[0], (std::pair<bool, std::string>{true, "cpu"}));
  EXPECT_EQ(states[1], (std::pair<bool, std::string>{false, ""}));
  std::filesystem::remove_all(root);
}

TEST_F(BudgetTest, MetricsDiagnosticsAndGatewayTopic) {
  StartDaemon({"--heartbeat-s", "1"});
  auto metrics = HttpGet(daemon_.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  for (const char* name :
       {"edgewatch_connections", "edgewatch_connections_max", "edgewatch_accounted_bytes",
        "edgewatch_resident_bytes", "edgewatch_messages_out_total", "edgewatch_deliveries_total",
        "edgewatch_loop_lag_seconds_count", "edgewatch_queued_bytes_high_water"}) {
    EXPECT_GE(Metric(metrics->body, name), 0) << name;
  }
  auto diag = HttpGet(daemon_.port(), "/api/v1/diagnostics");
  ASSERT_TRUE(diag.ok());
  auto dj = diag->Json();
  ASSERT_TRUE(dj.ok()) << diag->body;
  EXPECT_TRUE(GetBool(dj->get(), "success").has_value());
  const cJSON* issues = cJSON_GetObjectItemCaseSensitive(dj->get(), "issues");
  ASSERT_TRUE(cJSON_IsArray(issues));
  bool auth_issue = false;  // --no-auth is reported
  const cJSON* i = nullptr;
  cJSON_ArrayForEach(i, issues) {
    if (GetString(i, "type") == "configuration" &&
        GetString(i, "description").value_or("").find("--no-auth") != std::string::npos) {
      auth_issue = true;
    }
  }
  EXPECT_TRUE(auth_issue) << diag->body;
  EXPECT_TRUE(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(dj->get(), "metrics")));

  WsTestClient ws;
  Open(ws, R"(["system/gateway"])");
  auto ev = ws.ReceiveType("event", kTimeoutMs);
  ASSERT_TRUE(ev.ok());
  const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev->get(), "data");
  for (const char* key : {"uptime_s", "connection_success_rate", "messages_per_second",
                          "error_rate", "accounted_bytes"}) {
    EXPECT_TRUE(GetNumber(data, key).has_value()) << key;
  }
}

}  // namespace
}  // namespace edgewatch::testing
