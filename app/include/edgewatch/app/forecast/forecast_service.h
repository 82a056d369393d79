// ForecastService: keeps one bounded series per (concrete source topic, field) named in the
// "forecasts" config, schedules a forecast job for each series on the worker (never on the loop)
// and publishes the results on `forecast/<source topic>/<field>` through the gateway's normal
// publish path (the app policy validates them like a producer's forecast).
//
// Where the points come from: ForecastTap, a PublishPolicy decorator installed in front of the
// application's policy. Every update that the policy accepts (published OR suppressed) is a point,
// timestamped on arrival. Deliberately not a bus Subscriber: the bus also re-publishes unchanged
// topics every refresh interval (those would enter the series as fake repeated samples), and it
// never delivers suppressed updates (the series would only see "significant" changes).
//
// Scheduling (Tick, from a loop timer): a series with at least min_points points, new points since
// its last job, no job in flight and `every` elapsed gets a job: a copy of its ring (at most
// `context` values) plus the spec. One job per series at a time; the worker's queue is bounded
// (a full queue skips the round and counts `queue_full`). A job without a result `deadline` after
// submission is abandoned: cancelled on the worker, counted (series and service `abandoned`),
// logged at WARN, and its result is discarded if it still arrives. The counters are served by
// GET /api/v1/forecasts; `system/gateway` and /api/v1/diagnostics are built by the gateway from
// its own state and have no hook for application components yet (they should carry
// `forecast_abandoned` and an issue when it grows).
//
// Memory: at most config.max_series series (and spec.max_series per entry), each a ring of
// `context` (value, time) pairs; a job copies one ring. New topics beyond the bounds are counted
// (`series_rejected`) and logged once.
//
// Threading: every method is loop-thread-only except where noted; the worker thread only touches
// jobs and hands them back through Hooks::post. Lifetime: Stop() (or the destructor) must run
// before the gateway that `post` and `publish` reach is destroyed; Attach() registers a timer and
// an HTTP route that capture `this`, so the service must outlive the gateway's Run().
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgewatch/app/forecast/forecast_config.h"
#include "edgewatch/app/forecast/forecast_worker.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/publish_policy.h"

namespace edgewatch::fw {
class Gateway;
}

namespace edgewatch::app::forecast {

struct ForecastStats {
  uint64_t points = 0;           // values appended to series
  uint64_t missing_field = 0;    // matching events without a numeric field
  uint64_t series_rejected = 0;  // new series refused by the bounds (or an over-long topic)
  uint64_t jobs_submitted = 0;
  uint64_t jobs_done = 0;  // results accepted (published or failed)
  uint64_t published = 0;
  uint64_t failed = 0;      // fit errors and refused publishes
  uint64_t abandoned = 0;   // jobs past their deadline
  uint64_t discarded = 0;   // results that arrived after their job was abandoned
  uint64_t queue_full = 0;  // rounds skipped because the worker's queue was full
};

class ForecastService {
 public:
  struct Hooks {
    // Any thread: runs `fn` on the loop thread later (Gateway::Post). May drop it at shutdown.
    std::function<void(std::function<void()>)> post;
    // Loop thread: publishes a forecast (Gateway::Submit).
    std::function<Status(std::string_view topic, const cJSON* data, int64_t ts_ms)> publish;
    // Clocks; defaults UnixMillis() and MonotonicMicros() / 1000 when empty.
    std::function<int64_t()> wall_ms;
    std::function<int64_t()> mono_ms;
  };

  explicit ForecastService(ForecastConfig config);
  ~ForecastService();  // Stop()
  ForecastService(const ForecastService&) = delete;
  ForecastService& operator=(const ForecastService&) = delete;

  // Starts the worker (only when the config has forecasts). FailedPrecondition if started twice.
  Status Start(Hooks hooks);
  // Production wiring: hooks to `gw` (Post, Submit), a Tick every `tick_ms` on the loop, and
  // GET /api/v1/forecasts; then Start(). Loop thread (or before Run()).
  Status Attach(fw::Gateway& gw, int64_t tick_ms = 250);
  // Cancels the running job and joins the worker promptly (forecast_worker.h); no result is
  // published afterwards. Idempotent.
  void Stop();

  // An accepted update of `topic` (called by ForecastTap). Topics under forecast/ are ignored.
  void Observe(std::string_view topic, const cJSON* data);
  // Abandons late jobs and submits due ones. Called by the Attach() timer; tests call it directly.
  void Tick();
  // The status document of GET /api/v1/forecasts (docs/forecasts.md).
  std::string StatusJson() const;

  const ForecastConfig& config() const { return config_; }
  const ForecastStats& stats() const { return stats_; }
  size_t series_count() const { return series_.size(); }
  bool enabled() const { return config_.enabled(); }

 private:
  struct Series;
  Series* FindOrCreate(size_t spec_index, std::string_view topic);
  void Submit(Series& s, int64_t now_mono);
  void OnJobDone(const std::shared_ptr<ForecastJob>& job);
  int64_t WallMs() const;
  int64_t MonoMs() const;

  ForecastConfig config_;
  Hooks hooks_;
  std::unique_ptr<ForecastWorker> worker_;
  std::vector<std::unique_ptr<Series>> series_;
  std::unordered_map<std::string, size_t> by_topic_;  // output topic -> index in series_
  std::vector<int> per_spec_;                         // series count per spec
  ForecastStats stats_;
  size_t tick_start_ = 0;  // round-robin start of Tick's scan
  bool warned_full_ = false;
  bool stopped_ = false;
  // Closures posted by the worker hold a weak reference: a result that reaches the loop after
  // the service is gone is dropped instead of touching freed memory.
  std::shared_ptr<ForecastService*> alive_;
};

// The PublishPolicy the gateway is given: forwards to `inner` and reports every accepted update
// to the forecast service. Loop thread only (like every PublishPolicy).
class ForecastTap final : public fw::PublishPolicy {
 public:
  ForecastTap(fw::PublishPolicy& inner, ForecastService& service)
      : inner_(inner), service_(service) {}
  Result<fw::PublishAction> Evaluate(std::string_view topic, const cJSON* data) override;
  void OnForcedPublish(std::string_view topic, const cJSON* data) override {
    inner_.OnForcedPublish(topic, data);  // a refresh re-send is not a new sample
  }

 private:
  fw::PublishPolicy& inner_;
  ForecastService& service_;
};

// The numeric value at `field` in `data`: a dotted path, or for a bare name also a member of a
// top-level object (first in document order). nullopt when absent or not a number.
std::optional<double> ExtractField(const cJSON* data, std::string_view field);

}  // namespace edgewatch::app::forecast
