#include "edgewatch/app/demo_pipeline.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "edgewatch/app/telemetry_policy.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

struct Event {
  std::string topic;
  JsonPtr data;  // the "data" member, detached
  int64_t ts;
};

// Parses one ingest line, checking its framing.
Event ParseLine(const std::string& line) {
  Event e;
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one newline, at the end";
  auto root = ParseJson(std::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(root.ok()) << root.status().ToString() << ": " << line;
  if (!root.ok()) return e;
  auto topic = GetString(root->get(), "topic");
  auto ts = GetInt(root->get(), "ts");
  EXPECT_TRUE(topic.has_value()) << line;
  EXPECT_TRUE(ts.has_value()) << line;
  e.topic = std::string(topic.value_or(""));
  e.ts = ts.value_or(0);
  e.data.reset(cJSON_DetachItemFromObjectCaseSensitive(root->get(), "data"));
  EXPECT_TRUE(cJSON_IsObject(e.data.get())) << line;
  return e;
}

std::vector<Event> ParseAll(const std::vector<std::string>& lines) {
  std::vector<Event> out;
  for (const std::string& l : lines) out.push_back(ParseLine(l));
  return out;
}

double Num(const cJSON* obj, const char* path_a, const char* path_b = nullptr) {
  const cJSON* n = cJSON_GetObjectItemCaseSensitive(obj, path_a);
  if (path_b != nullptr) n = cJSON_GetObjectItemCaseSensitive(n, path_b);
  EXPECT_TRUE(cJSON_IsNumber(n)) << path_a;
  return cJSON_IsNumber(n) ? n->valuedouble : -1;
}

TEST(DemoPipelineTest, FrameRatesOverTenSeconds) {
  DemoPipeline demo(kStart);
  std::vector<Event> events = ParseAll(demo.Advance(kStart + 10'000));
  std::map<std::string, int> frames;
  // Frames per whole second, after both cameras are running (start-up takes < 1 s).
  std::map<std::string, std::map<int64_t, int>> per_second;
  for (const Event& e : events) {
    if (e.topic.ends_with("/frame")) {
      ++frames[e.topic];
      ++per_second[e.topic][(e.ts - kStart) / 1000];
    }
  }
  EXPECT_NEAR(frames["pipeline/cam1/frame"], 300, 15);
  EXPECT_NEAR(frames["pipeline/cam2/frame"], 150, 8);
  for (int64_t s = 1; s < 10; ++s) {
    EXPECT_NEAR(per_second["pipeline/cam1/frame"][s], 30, 1) << "second " << s;
    EXPECT_NEAR(per_second["pipeline/cam2/frame"][s], 15, 1) << "second " << s;
  }
}

TEST(DemoPipelineTest, StartsWithStartingThenRunning) {
  DemoPipeline demo(kStart);
  std::vector<Event> events = ParseAll(demo.Advance(kStart + 1000));
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events[0].topic, "pipeline/cam1/status");
  EXPECT_EQ(events[0].ts, kStart);
  EXPECT_EQ(GetString(events[0].data.get(), "status"), "starting");
  EXPECT_EQ(events[1].topic, "pipeline/cam2/status");
  EXPECT_EQ(GetString(events[1].data.get(), "status"), "starting");
  for (const char* cam : {"cam1", "cam2"}) {
    std::string status_topic = std::string("pipeline/") + cam + "/status";
    std::string frame_topic = std::string("pipeline/") + cam + "/frame";
    std::vector<std::string> statuses;
    bool frame_before_running = false;
    for (const Event& e : events) {
      if (e.topic == status_topic) statuses.emplace_back(*GetString(e.data.get(), "status"));
      if (e.topic == frame_topic && statuses.size() < 2) frame_before_running = true;
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running"})) << cam;
    EXPECT_FALSE(frame_before_running) << cam;
  }
}

TEST(DemoPipelineTest, EveryLineValidatesAndFrameIdsIncrease) {
  DemoPipeline demo(kStart, 7);
  TelemetryPolicy policy;
  std::map<std::string, int64_t> last_frame_id;
  int64_t last_ts = 0;
  size_t count = 0;
  // Ten simulated minutes, in uneven steps.
  for (int64_t t = kStart; t <= kStart + 600'000; t += 37) {
    for (const std::string& line : demo.Advance(t)) {
      Event e = ParseLine(line);
      ++count;
      auto r = policy.Evaluate(e.topic, e.data.get());
      ASSERT_TRUE(r.ok()) << r.status().ToString() << ": " << line;
      EXPECT_GE(e.ts, last_ts) << line;
      EXPECT_LE(e.ts, t) << line;
      last_ts = e.ts;
      if (e.topic.ends_with("/frame")) {
        const cJSON* fd = cJSON_GetObjectItemCaseSensitive(e.data.get(), "frame_data");
        int64_t id = static_cast<int64_t>(Num(fd, "frame_id"));
        EXPECT_GT(id, last_frame_id[e.topic]) << line;
        last_frame_id[e.topic] = id;
        EXPECT_EQ(Num(fd, "timestamp"), static_cast<double>(e.ts));
      }
    }
  }
  EXPECT_GT(count, 25'000u);
  EXPECT_EQ(policy.stats(TopicKind::kOther).published, 0u) << "only known kinds";
}

TEST(DemoPipelineTest, TenMinutesShowEveryBehaviour) {
  DemoPipeline demo(kStart, 1);
  std::vector<Event> events = ParseAll(demo.Advance(kStart + 600'000));
  std::set<std::string> statuses, trends, severities, topics;
  int intrusions = 0;
  int analytics_cam1 = 0;
  int64_t total_crossings = 0;
  std::vector<double> loss, map50;
  for (const Event& e : events) {
    topics.insert(e.topic);
    const cJSON* d = e.data.get();
    if (e.topic.ends_with("/status")) statuses.emplace(*GetString(d, "status"));
    if (e.topic.ends_with("/error")) severities.emplace(*GetString(d, "severity"));
    if (e.topic.ends_with("/analytics")) {
      const cJSON* a = cJSON_GetObjectItemCaseSensitive(d, "analytics");
      trends.emplace(*GetString(a, "trend"));
      intrusions += static_cast<int>(Num(a, "new_intrusions"));
      if (e.topic == "pipeline/cam1/analytics") {
        ++analytics_cam1;
        EXPECT_GE(Num(a, "total_crossings"), total_crossings);
        total_crossings = static_cast<int64_t>(Num(a, "total_crossings"));
      }
    }
    if (e.topic == "training/demo-run/metrics") {
      loss.push_back(Num(d, "loss"));
      map50.push_back(Num(d, "map50"));
    }
  }
  EXPECT_EQ(topics,
            (std::set<std::string>{
                "pipeline/cam1/status", "pipeline/cam1/frame", "pipeline/cam1/analytics",
                "pipeline/cam1/error", "pipeline/cam2/status", "pipeline/cam2/frame",
                "pipeline/cam2/analytics", "pipeline/cam2/error", "training/demo-run/metrics"}));
  EXPECT_TRUE(statuses.count("starting") && statuses.count("running") &&
              statuses.count("degraded"));
  EXPECT_EQ(trends, (std::set<std::string>{"up", "down", "stable"}));
  EXPECT_GT(intrusions, 0);
  EXPECT_GT(total_crossings, 0);
  EXPECT_NEAR(analytics_cam1, 600, 20);  // every second (none while the stream is lost)
  EXPECT_GE(severities.size(), 2u);
  // Training every 2 s: loss falls and mAP rises over the run (noise aside).
  ASSERT_NEAR(loss.size(), 300u, 2);
  EXPECT_GT(loss.front(), loss.back() + 1.0);
  EXPECT_LT(map50.front() + 0.3, map50.back());
}

TEST(DemoPipelineTest, SameSeedSameOutputHoweverTimeIsSliced) {
  DemoPipeline whole(kStart, 42);
  std::vector<std::string> a = whole.Advance(kStart + 120'000);
  DemoPipeline sliced(kStart, 42);
  std::vector<std::string> b;
  for (int64_t t = kStart - 5; t <= kStart + 120'000; t += 13) {
    for (std::string& l : sliced.Advance(t)) b.push_back(std::move(l));
  }
  for (std::string& l : sliced.Advance(kStart + 120'000)) b.push_back(std::move(l));
  EXPECT_EQ(a, b);
  DemoPipeline other(kStart, 43);
  EXPECT_NE(a, other.Advance(kStart + 120'000));
}

TEST(DemoPipelineTest, AdvanceIntoThePastReturnsNothing) {
  DemoPipeline demo(kStart);
  EXPECT_TRUE(demo.Advance(kStart - 1).empty());
  EXPECT_FALSE(demo.Advance(kStart + 1000).empty());
  EXPECT_TRUE(demo.Advance(kStart + 1000).empty());
  EXPECT_TRUE(demo.Advance(kStart + 500).empty());
  EXPECT_EQ(demo.now_ms(), kStart + 1000);
  EXPECT_GT(demo.NextDueMs(), demo.now_ms());
}

TEST(DemoPipelineTest, SkipToDropsEventsAndKeepsCounting) {
  DemoPipeline demo(kStart);
  int64_t last_id = 0;
  for (const std::string& l : demo.Advance(kStart + 2000)) {
    Event e = ParseLine(l);
    if (e.topic == "pipeline/cam1/frame") {
      last_id = static_cast<int64_t>(Num(e.data.get(), "frame_data", "frame_id"));
    }
  }
  EXPECT_TRUE(demo.StatusSnapshot().size() == 2);
  // Hours of absence are jumped over quickly; nothing from the gap is replayed.
  int64_t resume = kStart + 3 * 3600 * 1000;
  demo.SkipTo(resume);
  EXPECT_EQ(demo.now_ms(), resume);
  std::vector<Event> after = ParseAll(demo.Advance(resume + 1000));
  ASSERT_FALSE(after.empty());
  TelemetryPolicy policy;
  for (const Event& e : after) {
    EXPECT_GT(e.ts, resume);
    EXPECT_TRUE(policy.Evaluate(e.topic, e.data.get()).ok());
    if (e.topic == "pipeline/cam1/frame") {
      EXPECT_GT(Num(e.data.get(), "frame_data", "frame_id"), last_id);
    }
  }
  for (const std::string& l : demo.StatusSnapshot()) {
    Event e = ParseLine(l);
    EXPECT_EQ(e.ts, resume + 1000);
    EXPECT_TRUE(policy.Evaluate(e.topic, e.data.get()).ok()) << l;
  }
}

TEST(DemoPipelineTest, SnapshotIsEmptyBeforeTimeZero) {
  DemoPipeline demo(kStart);
  EXPECT_TRUE(demo.StatusSnapshot().empty());
  EXPECT_EQ(demo.start_ms(), kStart);
  EXPECT_EQ(demo.NextDueMs(), kStart);
}

TEST(DemoPipelineTest, CommandsChangeStatusAndDetections) {
  DemoPipeline demo(kStart);
  demo.Advance(kStart + 5000);  // both cameras running
  auto o = demo.Command("cam1", "pause", std::nullopt);
  EXPECT_TRUE(o.ok);
  ASSERT_EQ(o.lines.size(), 1u);
  Event e = ParseLine(o.lines[0]);
  EXPECT_EQ(e.topic, "pipeline/cam1/status");
  EXPECT_EQ(GetString(e.data.get(), "status"), "paused");
  // While paused cam1 produces no frames; cam2 goes on.
  std::set<std::string> topics;
  for (const Event& ev : ParseAll(demo.Advance(kStart + 7000))) topics.insert(ev.topic);
  EXPECT_FALSE(topics.contains("pipeline/cam1/frame"));
  EXPECT_TRUE(topics.contains("pipeline/cam2/frame"));
  EXPECT_FALSE(demo.Command("cam1", "pause", std::nullopt).ok);
  o = demo.Command("cam1", "resume", std::nullopt);
  EXPECT_TRUE(o.ok);
  ASSERT_FALSE(o.lines.empty());
  EXPECT_EQ(GetString(ParseLine(o.lines[0]).data.get(), "status"), "running");

  EXPECT_FALSE(demo.Command("cam1", "set_threshold", 1.5).ok);
  EXPECT_FALSE(demo.Command("cam1", "set_threshold", std::nullopt).ok);
  ASSERT_TRUE(demo.Command("cam1", "set_threshold", 1.0).ok);
  int frames = 0;
  for (const Event& ev : ParseAll(demo.Advance(kStart + 9000))) {
    if (ev.topic != "pipeline/cam1/frame") continue;
    ++frames;
    EXPECT_EQ(Num(ev.data.get(), "frame_data", "detections_count"), 0);
  }
  EXPECT_GT(frames, 30);

  o = demo.Command("cam2", "restart", std::nullopt);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(GetString(ParseLine(o.lines[0]).data.get(), "status"), "starting");
  EXPECT_FALSE(demo.Command("cam3", "restart", std::nullopt).ok);
  EXPECT_FALSE(demo.Command("cam1", "reboot", std::nullopt).ok);
}

}  // namespace
}  // namespace edgewatch::app
