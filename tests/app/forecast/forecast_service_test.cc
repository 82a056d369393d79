// ForecastService and ForecastWorker with a fake loop: closures the worker posts are queued and
// run on the test thread (the "loop"), clocks are set by the test. Waiting for the worker is a
// condition-variable wait for its posted closure, bounded by a generous failure timeout.
#include "edgewatch/app/forecast/forecast_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "edgewatch/app/schema.h"
#include "edgewatch/app/telemetry_policy.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app::forecast {
namespace {

constexpr auto kFailAfter = std::chrono::seconds(60);  // a failure bound, never a pace

class FakeLoop {
 public:
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
    cv_.notify_all();
  }
  // Waits for the next posted closure and runs it here. False on timeout (a test failure).
  bool RunNext() {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, kFailAfter, [&] { return !queue_.empty(); })) return false;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
    return true;
  }
  size_t pending() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

struct Published {
  std::string topic;
  std::string json;
  int64_t ts;
};

class ForecastServiceTest : public ::testing::Test {
 protected:
  ForecastSpec Spec() {
    ForecastSpec s;
    s.source = "pipeline/+/analytics";
    s.field = "people_count";
    s.context = 50;
    s.horizon = 5;
    s.every_ms = 1000;
    s.min_points = 10;
    s.deadline_ms = 5000;
    return s;
  }

  void Start(ForecastConfig config) {
    service_ = std::make_unique<ForecastService>(std::move(config));
    ForecastService::Hooks hooks;
    hooks.post = [this](std::function<void()> fn) { loop_.Post(std::move(fn)); };
    hooks.publish = [this](std::string_view topic, const cJSON* data, int64_t ts) {
      // The real gateway validates through the app policy: do the same here.
      Status s = ValidateTelemetry(topic, data);
      if (!s.ok()) return s;
      published_.push_back({std::string(topic), PrintJson(data), ts});
      return OkStatus();
    };
    hooks.wall_ms = [this] { return wall_ms_; };
    hooks.mono_ms = [this] { return mono_ms_; };
    ASSERT_TRUE(service_->Start(std::move(hooks)).ok());
  }

  void Observe(const std::string& topic, double people) {
    std::string json = R"({"pipeline_id":"x","analytics":{"node_id":"n","node_type":"counter",)"
                       R"("people_count":)" +
                       std::to_string(people) + R"(,"results":null}})";
    auto data = ParseJson(json);
    ASSERT_TRUE(data.ok());
    wall_ms_ += 1000;
    service_->Observe(topic, data->get());
  }

  void Feed(const std::string& topic, int n, int offset = 0) {
    for (int i = 0; i < n; ++i) Observe(topic, (i + offset) % 7 + 0.5 * ((i + offset) % 3));
  }

  FakeLoop loop_;
  std::unique_ptr<ForecastService> service_;
  std::vector<Published> published_;
  int64_t wall_ms_ = 1700000000000;
  int64_t mono_ms_ = 1000000;
};

TEST_F(ForecastServiceTest, PublishesAValidForecastPerConcreteTopic) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  Start(c);
  Feed("pipeline/cam1/analytics", 12);
  Feed("pipeline/cam2/analytics", 12);
  EXPECT_EQ(service_->series_count(), 2u);
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 2u);
  ASSERT_TRUE(loop_.RunNext());
  ASSERT_TRUE(loop_.RunNext());
  ASSERT_EQ(published_.size(), 2u);
  std::vector<std::string> topics = {published_[0].topic, published_[1].topic};
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics[0], "forecast/pipeline/cam1/analytics/people_count");
  EXPECT_EQ(topics[1], "forecast/pipeline/cam2/analytics/people_count");
  auto data = ParseJson(published_[0].json);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*GetString(data->get(), "model"), "holt_winters");
  EXPECT_EQ(*GetInt(data->get(), "horizon"), 5);
  EXPECT_EQ(*GetInt(data->get(), "context"), 12);
  EXPECT_EQ(*GetInt(data->get(), "step_ms"), 1000);  // events 1 s apart
  EXPECT_EQ(*GetInt(data->get(), "generated_at"), wall_ms_);
  EXPECT_EQ(published_[0].ts, wall_ms_);
  EXPECT_EQ(service_->stats().published, 2u);
}

TEST_F(ForecastServiceTest, SchedulesOnlyWithEnoughNewPointsAndAfterEvery) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  Start(c);
  Feed("pipeline/cam1/analytics", 9);
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 0u);  // 9 < min_points
  Feed("pipeline/cam1/analytics", 1);
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);
  ASSERT_TRUE(loop_.RunNext());
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);  // no new points
  Feed("pipeline/cam1/analytics", 1);
  mono_ms_ += 999;
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);  // `every` not yet elapsed
  mono_ms_ += 1;
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 2u);
  ASSERT_TRUE(loop_.RunNext());
  EXPECT_EQ(published_.size(), 2u);
}

TEST_F(ForecastServiceTest, OneJobPerSeriesAndAbandonedJobsAreDiscarded) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  c.test_delay_ms = 3600 * 1000;  // the worker sleeps until cancelled
  Start(c);
  Feed("pipeline/cam1/analytics", 12);
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);
  Feed("pipeline/cam1/analytics", 5);
  mono_ms_ += 4999;
  service_->Tick();
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);  // still in flight: no second job
  EXPECT_EQ(service_->stats().abandoned, 0u);
  mono_ms_ += 1;  // the deadline
  service_->Tick();
  EXPECT_EQ(service_->stats().abandoned, 1u);
  // The cancelled job ends promptly on the worker and its (failed) result is discarded.
  ASSERT_TRUE(loop_.RunNext());
  EXPECT_EQ(service_->stats().discarded, 1u);
  EXPECT_TRUE(published_.empty());
  std::string status = service_->StatusJson();
  EXPECT_NE(status.find("\"abandoned\":1"), std::string::npos) << status;
  EXPECT_NE(status.find("\"last_error\":\"abandoned: no result within the deadline\""),
            std::string::npos)
      << status;
}

TEST_F(ForecastServiceTest, StopIsPromptWhileAJobRuns) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  c.test_delay_ms = 3600 * 1000;
  Start(c);
  Feed("pipeline/cam1/analytics", 12);
  service_->Tick();
  ASSERT_EQ(service_->stats().jobs_submitted, 1u);
  // Returns only once the worker has joined; with a one-hour job this would hang (ctest's
  // timeout) if Stop waited for the job instead of cancelling it.
  service_->Stop();
  // Whatever the worker posted while stopping is ignored by a stopped service.
  while (loop_.pending() > 0) ASSERT_TRUE(loop_.RunNext());
  EXPECT_TRUE(published_.empty());
  service_->Tick();  // harmless after Stop
  EXPECT_EQ(service_->stats().jobs_submitted, 1u);
}

TEST_F(ForecastServiceTest, ResultsAfterTheServiceIsGoneAreDropped) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  Start(c);
  Feed("pipeline/cam1/analytics", 12);
  service_->Tick();
  // Wait until the worker has posted its result, then destroy the service before running it.
  {
    service_->Stop();  // joins: the result (if computed) is posted already
    service_.reset();
  }
  while (loop_.pending() > 0) ASSERT_TRUE(loop_.RunNext());  // must not touch the freed service
  EXPECT_TRUE(published_.empty());
}

TEST_F(ForecastServiceTest, BoundsSeriesAndContext) {
  ForecastConfig c;
  ForecastSpec s = Spec();
  s.max_series = 2;
  c.specs.push_back(s);
  Start(c);
  Feed("pipeline/cam1/analytics", 200);
  Feed("pipeline/cam2/analytics", 1);
  Feed("pipeline/cam3/analytics", 3);
  EXPECT_EQ(service_->series_count(), 2u);
  EXPECT_EQ(service_->stats().series_rejected, 3u);
  service_->Tick();
  ASSERT_TRUE(loop_.RunNext());
  ASSERT_EQ(published_.size(), 1u);
  auto data = ParseJson(published_[0].json);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*GetInt(data->get(), "context"), 50);  // the ring keeps the last `context` points
  std::string status = service_->StatusJson();
  EXPECT_NE(status.find("\"points\":50"), std::string::npos) << status;
}

TEST_F(ForecastServiceTest, GlobalSeriesBound) {
  ForecastConfig c;
  c.max_series = 1;
  c.specs.push_back(Spec());
  Start(c);
  Feed("pipeline/cam1/analytics", 1);
  Feed("pipeline/cam2/analytics", 1);
  EXPECT_EQ(service_->series_count(), 1u);
  EXPECT_EQ(service_->stats().series_rejected, 1u);
}

TEST_F(ForecastServiceTest, IgnoresForecastTopicsAndMissingFields) {
  ForecastConfig c;
  ForecastSpec s = Spec();
  s.source = "#";
  c.specs.push_back(s);
  Start(c);
  Feed("forecast/pipeline/cam1/analytics/people_count", 5);
  EXPECT_EQ(service_->series_count(), 0u);
  auto data = ParseJson(R"({"other":1})");
  service_->Observe("pipeline/cam1/analytics", data->get());
  EXPECT_EQ(service_->series_count(), 0u);
  EXPECT_EQ(service_->stats().missing_field, 1u);
}

TEST_F(ForecastServiceTest, QueueFullSkipsTheRound) {
  ForecastConfig c;
  c.specs.push_back(Spec());
  c.queue_capacity = 1;
  c.test_delay_ms = 3600 * 1000;
  Start(c);
  Feed("pipeline/cam1/analytics", 12);
  Feed("pipeline/cam2/analytics", 12);
  Feed("pipeline/cam3/analytics", 12);
  service_->Tick();
  // One job may already be running (out of the queue), one waits, the rest find the queue full.
  const ForecastStats& st = service_->stats();
  EXPECT_GE(st.jobs_submitted, 1u);
  EXPECT_LE(st.jobs_submitted, 2u);
  EXPECT_EQ(st.jobs_submitted + st.queue_full, 3u);
  service_->Stop();
}

TEST(ExtractFieldTest, DottedPathsAndBareNames) {
  auto d = ParseJson(R"({"a":{"people_count":3,"b":{"c":2.5}},"flag":true,"top":7})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ExtractField(d->get(), "top"), 7.0);
  EXPECT_EQ(ExtractField(d->get(), "a.b.c"), 2.5);
  EXPECT_EQ(ExtractField(d->get(), "people_count"), 3.0);   // one level down
  EXPECT_EQ(ExtractField(d->get(), "c"), std::nullopt);     // only one level
  EXPECT_EQ(ExtractField(d->get(), "flag"), std::nullopt);  // not a number
  EXPECT_EQ(ExtractField(d->get(), "a.missing"), std::nullopt);
}

// A policy that records what reaches it and rejects data with "bad".
class RecordingPolicy final : public fw::PublishPolicy {
 public:
  Result<fw::PublishAction> Evaluate(std::string_view, const cJSON* data) override {
    if (cJSON_GetObjectItemCaseSensitive(data, "bad") != nullptr) return InvalidArgument("bad");
    return cJSON_GetObjectItemCaseSensitive(data, "quiet") != nullptr ? fw::PublishAction::kSuppress
                                                                      : fw::PublishAction::kPublish;
  }
  void OnForcedPublish(std::string_view, const cJSON*) override { ++forced; }
  int forced = 0;
};

TEST(ForecastTapTest, AcceptedUpdatesBecomePointsRefreshesDoNot) {
  ForecastConfig c;
  ForecastSpec s;
  s.source = "m/#";
  s.field = "v";
  c.specs.push_back(s);
  ForecastService service(c);
  RecordingPolicy inner;
  ForecastTap tap(inner, service);
  auto ok = ParseJson(R"({"v":1})");
  auto quiet = ParseJson(R"({"v":2,"quiet":true})");
  auto bad = ParseJson(R"({"v":3,"bad":true})");
  EXPECT_TRUE(tap.Evaluate("m/a", ok->get()).ok());
  EXPECT_EQ(*tap.Evaluate("m/a", quiet->get()), fw::PublishAction::kSuppress);
  EXPECT_FALSE(tap.Evaluate("m/a", bad->get()).ok());
  tap.OnForcedPublish("m/a", ok->get());
  EXPECT_EQ(inner.forced, 1);
  EXPECT_EQ(service.stats().points, 2u);  // published + suppressed; not the rejected or refresh
}

}  // namespace
}  // namespace edgewatch::app::forecast
