#include "edgewatch/app/forecast/forecast_service.h"

#include <algorithm>
#include <utility>

#include "edgewatch/app/schema.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::forecast {

struct ForecastService::Series {
  size_t index = 0;
  size_t spec_index = 0;
  std::string topic;   // forecast/<source>/<field>
  std::string source;  // the concrete source topic
  // Ring of the last `context` points.
  std::vector<double> values;
  std::vector<int64_t> times;
  size_t head = 0;
  size_t count = 0;
  uint64_t new_points = 0;  // since the last submitted job
  int64_t next_due_mono = 0;

  // The job in flight (null when none).
  std::shared_ptr<ForecastJob> job;
  int64_t submitted_mono = 0;
  int64_t deadline_mono = 0;
  int64_t job_step_ms = 0;
  int64_t job_last_ts = 0;

  // Status.
  uint64_t fits = 0;
  uint64_t failures = 0;
  uint64_t abandoned = 0;
  int64_t last_fit_ms = 0;
  int64_t last_started_ms = 0;
  int64_t last_duration_ms = -1;
  std::string last_error;
  bool has_fit = false;
  HwParams params;
  double mae = 0;
  int season = 0;

  void Push(double v, int64_t ts) {
    const size_t cap = values.size();
    if (count < cap) {
      values[(head + count) % cap] = v;
      times[(head + count) % cap] = ts;
      ++count;
    } else {
      values[head] = v;
      times[head] = ts;
      head = (head + 1) % cap;
    }
    ++new_points;
  }
  double ValueAt(size_t i) const { return values[(head + i) % values.size()]; }
  int64_t TimeAt(size_t i) const { return times[(head + i) % times.size()]; }
};

namespace {

// Median spacing of the ring's timestamps, at least 1 ms.
int64_t MedianStep(const std::vector<int64_t>& ts) {
  if (ts.size() < 2) return 1;
  std::vector<int64_t> d;
  d.reserve(ts.size() - 1);
  for (size_t i = 1; i < ts.size(); ++i) d.push_back(ts[i] - ts[i - 1]);
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return std::max<int64_t>(1, d[d.size() / 2]);
}

}  // namespace

std::optional<double> ExtractField(const cJSON* data, std::string_view field) {
  const cJSON* item = FindPath(data, field);
  if (item == nullptr && field.find('.') == std::string_view::npos && cJSON_IsObject(data)) {
    for (const cJSON* c = data->child; c != nullptr && item == nullptr; c = c->next) {
      if (cJSON_IsObject(c)) item = FindPath(c, field);
    }
  }
  if (!cJSON_IsNumber(item)) return std::nullopt;
  return item->valuedouble;
}

Result<fw::PublishAction> ForecastTap::Evaluate(std::string_view topic, const cJSON* data) {
  Result<fw::PublishAction> r = inner_.Evaluate(topic, data);
  if (r.ok()) service_.Observe(topic, data);
  return r;
}

ForecastService::ForecastService(ForecastConfig config)
    : config_(std::move(config)),
      per_spec_(config_.specs.size(), 0),
      alive_(std::make_shared<ForecastService*>(this)) {}

ForecastService::~ForecastService() {
  Stop();
}

int64_t ForecastService::WallMs() const {
  return hooks_.wall_ms ? hooks_.wall_ms() : UnixMillis();
}

int64_t ForecastService::MonoMs() const {
  return hooks_.mono_ms ? hooks_.mono_ms() : MonotonicMicros() / 1000;
}

Status ForecastService::Start(Hooks hooks) {
  if (worker_ != nullptr || stopped_) return FailedPrecondition("forecast service already started");
  hooks_ = std::move(hooks);
  if (!enabled()) return OkStatus();
  std::weak_ptr<ForecastService*> weak = alive_;
  auto post = hooks_.post;
  // Runs on the worker thread: hand the finished job to the loop, never touch the service here.
  worker_ = std::make_unique<ForecastWorker>(config_.queue_capacity,
                                             [weak, post](std::shared_ptr<ForecastJob> job) {
                                               post([weak, job = std::move(job)] {
                                                 if (auto self = weak.lock())
                                                   (*self)->OnJobDone(job);
                                               });
                                             });
  return worker_->Start();
}

Status ForecastService::Attach(fw::Gateway& gw, int64_t tick_ms) {
  Hooks hooks;
  hooks.post = [&gw](std::function<void()> fn) { gw.Post(std::move(fn)); };
  hooks.publish = [&gw](std::string_view topic, const cJSON* data, int64_t ts_ms) {
    return gw.Submit(topic, data, ts_ms);
  };
  EW_TRY(Start(std::move(hooks)));
  gw.http().Add("/api/v1/forecasts", [this](const fw::HttpRequest&) {
    fw::HttpResponse r;
    r.body = StatusJson();
    return r;
  });
  if (enabled()) gw.Every(tick_ms * 1000, [this] { Tick(); });
  return OkStatus();
}

void ForecastService::Stop() {
  stopped_ = true;
  if (worker_ != nullptr) worker_->Stop();
}

ForecastService::Series* ForecastService::FindOrCreate(size_t spec_index, std::string_view topic) {
  const ForecastSpec& spec = config_.specs[spec_index];
  std::string out = "forecast/";
  out.append(topic).append("/").append(spec.field);
  auto it = by_topic_.find(out);
  if (it != by_topic_.end()) return series_[it->second].get();

  const char* why = nullptr;
  if (series_.size() >= config_.max_series) {
    why = "forecast_max_series reached";
  } else if (per_spec_[spec_index] >= spec.max_series) {
    why = "the entry's max_series reached";
  } else if (!fw::ValidateTopicName(out).ok()) {
    why = "the forecast topic name would be too long";
  }
  if (why != nullptr) {
    ++stats_.series_rejected;
    if (!warned_full_) {
      warned_full_ = true;
      EW_WARN("forecast", "no series for %s: %s (logged once; see /api/v1/forecasts)", out.c_str(),
              why);
    }
    return nullptr;
  }
  auto s = std::make_unique<Series>();
  s->index = series_.size();
  s->spec_index = spec_index;
  s->topic = std::move(out);
  s->source = std::string(topic);
  s->values.assign(static_cast<size_t>(spec.context), 0.0);
  s->times.assign(static_cast<size_t>(spec.context), 0);
  by_topic_.emplace(s->topic, s->index);
  ++per_spec_[spec_index];
  EW_INFO("forecast", "new series %s (context %d, horizon %d, every %lld ms)", s->topic.c_str(),
          spec.context, spec.horizon, static_cast<long long>(spec.every_ms));
  series_.push_back(std::move(s));
  return series_.back().get();
}

void ForecastService::Observe(std::string_view topic, const cJSON* data) {
  if (stopped_ || !enabled() || fw::FirstSegment(topic) == "forecast") return;
  int64_t now = -1;
  for (size_t i = 0; i < config_.specs.size(); ++i) {
    const ForecastSpec& spec = config_.specs[i];
    if (!fw::TopicMatches(spec.source, topic)) continue;
    std::optional<double> v = ExtractField(data, spec.field);
    if (!v) {
      ++stats_.missing_field;
      continue;
    }
    Series* s = FindOrCreate(i, topic);
    // An earlier entry with the same field already owns this output topic.
    if (s == nullptr || s->spec_index != i) continue;
    if (now < 0) now = WallMs();
    s->Push(*v, now);
    ++stats_.points;
  }
}

void ForecastService::Submit(Series& s, int64_t now_mono) {
  const ForecastSpec& spec = config_.specs[s.spec_index];
  auto job = std::make_shared<ForecastJob>();
  job->series_id = s.index;
  job->request.horizon = spec.horizon;
  job->request.season = spec.season;
  job->request.y.resize(s.count);
  std::vector<int64_t> ts(s.count);
  for (size_t i = 0; i < s.count; ++i) {
    job->request.y[i] = s.ValueAt(i);
    ts[i] = s.TimeAt(i);
  }
  job->test_delay_ms = config_.test_delay_ms;
  Status st = worker_->Submit(job);
  if (!st.ok()) {
    ++stats_.queue_full;
    s.next_due_mono = now_mono + std::min<int64_t>(spec.every_ms, 1000);
    EW_DEBUG("forecast", "%s: %s", s.topic.c_str(), st.ToString().c_str());
    return;
  }
  ++stats_.jobs_submitted;
  s.job = std::move(job);
  s.submitted_mono = now_mono;
  s.deadline_mono = now_mono + spec.deadline_ms;
  s.next_due_mono = now_mono + spec.every_ms;
  s.new_points = 0;
  s.job_step_ms = spec.step_ms > 0 ? spec.step_ms : MedianStep(ts);
  s.job_last_ts = ts.back();
}

void ForecastService::Tick() {
  if (stopped_ || worker_ == nullptr || series_.empty()) return;
  const int64_t now = MonoMs();
  // Start one series further each tick, so that when the worker's queue is full the same
  // series are not always the ones skipped.
  const size_t count = series_.size();
  const size_t start = tick_start_++ % count;
  for (size_t i = 0; i < count; ++i) {
    Series& s = *series_[(start + i) % count];
    if (s.job != nullptr) {
      if (now < s.deadline_mono) continue;
      // Past the deadline: the loop stops waiting for it. The worker is told to stop working on
      // it; if its result still arrives, OnJobDone sees a job the series no longer holds.
      worker_->Cancel(*s.job);
      ++s.abandoned;
      ++stats_.abandoned;
      s.last_error = "abandoned: no result within the deadline";
      EW_WARN("forecast",
              "%s: job abandoned, no result %lld ms after submission (deadline %lld ms); a late "
              "result will be discarded",
              s.topic.c_str(), static_cast<long long>(now - s.submitted_mono),
              static_cast<long long>(config_.specs[s.spec_index].deadline_ms));
      s.job.reset();
      continue;
    }
    const ForecastSpec& spec = config_.specs[s.spec_index];
    if (s.count >= static_cast<size_t>(spec.min_points) && s.new_points > 0 &&
        now >= s.next_due_mono) {
      Submit(s, now);
    }
  }
}

void ForecastService::OnJobDone(const std::shared_ptr<ForecastJob>& job) {
  if (stopped_ || job->series_id >= series_.size()) return;
  Series& s = *series_[job->series_id];
  if (s.job != job) {
    ++stats_.discarded;
    EW_DEBUG("forecast", "%s: discarded the result of an abandoned job (%lld ms)", s.topic.c_str(),
             static_cast<long long>(job->duration_us / 1000));
    return;
  }
  s.job.reset();
  ++stats_.jobs_done;
  s.last_started_ms = job->started_ms;
  s.last_duration_ms = job->duration_us / 1000;
  const ForecastSpec& spec = config_.specs[s.spec_index];

  Status st = job->status;
  std::string json;
  if (st.ok()) {
    const ForecastResult& r = *job->result;
    ForecastMeta meta;
    meta.generated_at_ms = WallMs();
    meta.step_ms = s.job_step_ms;
    meta.start_ms = s.job_last_ts + s.job_step_ms;
    meta.source = s.source;
    meta.field = spec.field;
    json = ForecastToJson(r, meta);
    auto parsed = ParseJson(json, JsonLimits{8 << 20, 8});
    st = parsed.ok() ? hooks_.publish(s.topic, parsed->get(), meta.generated_at_ms)
                     : parsed.status();
    if (st.ok()) {
      ++s.fits;
      ++stats_.published;
      s.last_fit_ms = meta.generated_at_ms;
      s.has_fit = true;
      s.params = r.fit.params;
      s.mae = r.fit.mae;
      s.season = r.fit.season;
      s.last_error.clear();
      // Seed 002's lesson: log how long each prediction took and how big the message was.
      EW_LOG(s.fits == 1 ? log::Level::kInfo : log::Level::kDebug, "forecast",
             "%s: %zu points, season %d, %d evaluations, %lld ms on the worker, %zu bytes",
             s.topic.c_str(), r.fit.n, r.fit.season, r.fit.evals,
             static_cast<long long>(job->duration_us / 1000), json.size());
      return;
    }
  }
  ++s.failures;
  ++stats_.failed;
  s.last_error = st.ToString();
  EW_LOG(s.failures == 1 ? log::Level::kWarn : log::Level::kDebug, "forecast", "%s: %s",
         s.topic.c_str(), s.last_error.c_str());
}

std::string ForecastService::StatusJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("enabled").Bool(enabled());
  w.Key("worker").BeginObject();
  w.Key("running_job").Bool(worker_ != nullptr && worker_->running_job());
  w.Key("queued").Uint(worker_ != nullptr ? worker_->queued() : 0);
  w.Key("queue_capacity").Uint(config_.queue_capacity);
  w.Key("test_delay_ms").Int(config_.test_delay_ms);
  w.EndObject();
  w.Key("stats").BeginObject();
  w.Key("points").Uint(stats_.points);
  w.Key("missing_field").Uint(stats_.missing_field);
  w.Key("series_rejected").Uint(stats_.series_rejected);
  w.Key("jobs_submitted").Uint(stats_.jobs_submitted);
  w.Key("jobs_done").Uint(stats_.jobs_done);
  w.Key("published").Uint(stats_.published);
  w.Key("failed").Uint(stats_.failed);
  w.Key("abandoned").Uint(stats_.abandoned);
  w.Key("discarded").Uint(stats_.discarded);
  w.Key("queue_full").Uint(stats_.queue_full);
  w.EndObject();
  w.Key("series").BeginArray();
  for (const auto& ptr : series_) {
    const Series& s = *ptr;
    const ForecastSpec& spec = config_.specs[s.spec_index];
    w.BeginObject();
    w.Key("topic").String(s.topic);
    w.Key("source").String(s.source);
    w.Key("field").String(spec.field);
    w.Key("points").Uint(s.count);
    w.Key("context").Int(spec.context);
    w.Key("horizon").Int(spec.horizon);
    w.Key("every_ms").Int(spec.every_ms);
    w.Key("deadline_ms").Int(spec.deadline_ms);
    if (spec.season == kSeasonAuto) {
      w.Key("season").String("auto");
    } else {
      w.Key("season").Int(spec.season);
    }
    w.Key("busy").Bool(s.job != nullptr);
    w.Key("fits").Uint(s.fits);
    w.Key("failures").Uint(s.failures);
    w.Key("abandoned").Uint(s.abandoned);
    w.Key("last_fit_ms").Int(s.last_fit_ms);
    w.Key("last_started_ms").Int(s.last_started_ms);
    w.Key("last_duration_ms").Int(s.last_duration_ms);
    if (!s.last_error.empty()) w.Key("last_error").String(s.last_error);
    if (s.has_fit) {
      w.Key("fit").BeginObject();
      w.Key("alpha").Double(RoundSignificant(s.params.alpha));
      w.Key("beta").Double(RoundSignificant(s.params.beta));
      w.Key("gamma").Double(RoundSignificant(s.params.gamma));
      w.Key("phi").Double(RoundSignificant(s.params.phi));
      w.Key("mae").Double(RoundSignificant(s.mae));
      w.Key("season").Int(s.season);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace edgewatch::app::forecast
