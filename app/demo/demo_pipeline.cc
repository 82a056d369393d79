#include "edgewatch/app/demo_pipeline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::app {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxSkipMs = 60'000;
// No degraded or error episode starts earlier than this after a camera is running.
constexpr int64_t kQuietStartMs = 12'000;
constexpr double kPi = 3.14159265358979323846;

// splitmix64: tiny, fast, identical on every platform (std:: distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // [0, 1)
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  bool Chance(double p) { return Uniform() < p; }
  double Normal(double mean, double sd) {
    double u1 = 1.0 - Uniform();  // (0, 1]
    double u2 = Uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

 private:
  uint64_t s_;
};

double Round(double v, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

enum class CamState { kStarting, kRunning, kDegraded, kError, kPaused };

const char* StateName(CamState s) {
  switch (s) {
    case CamState::kStarting:
      return "starting";
    case CamState::kRunning:
      return "running";
    case CamState::kDegraded:
      return "degraded";
    case CamState::kError:
      return "error";
    case CamState::kPaused:
      return "paused";
  }
  return "unknown";
}

struct Camera {
  std::string id;
  std::string topic_status, topic_frame, topic_analytics, topic_error;
  double nominal_fps;
  double base_processing_ms;
  int64_t startup_ms;
  int max_people;
  double intrusion_rate;   // per second
  double threshold = 0.5;  // detection confidence threshold (operator command set_threshold)

  CamState state = CamState::kStarting;
  bool announced = false;     // the "starting" status was sent
  std::string error_message;  // while degraded / in error
  // Timers (unix ms; kNever when idle).
  int64_t status_due = 0;
  double frame_at = 0;  // fractional ms; frame due = llround(frame_at)
  bool frames_on = false;
  int64_t analytics_due = kNever;
  int64_t error_due = kNever;

  int64_t frame_id = 0;
  int64_t frames_processed = 0;
  int64_t detections_total = 0;
  int64_t running_since_ms = 0;
  int64_t last_frame_ms = 0;
  double fps_ema = 0;
  double processing_ema = 0;

  int people = 0;
  int drift = 0;
  std::array<int, 5> people_hist{};  // the last five seconds, for the trend
  size_t hist_pos = 0;
  int64_t total_crossings = 0;
  int64_t total_intrusions = 0;

  int64_t FrameDue() const { return frames_on ? std::llround(frame_at) : kNever; }
  double EffectiveFps() const {
    return state == CamState::kDegraded ? nominal_fps / 2 : nominal_fps;
  }
};

struct Training {
  std::string topic = "training/demo-run/metrics";
  int64_t due = 0;
  int64_t step = 0;
  static constexpr int64_t kStepsPerEvent = 50;
  static constexpr int64_t kStepsPerEpoch = 500;
  static constexpr int64_t kEpochs = 30;
  static constexpr int64_t kIntervalMs = 2000;
};

// One ingest line: {"topic":T,"data":{...},"ts":N}\n. `body` writes the data object's members.
template <typename Body>
std::string Line(std::string_view topic, int64_t ts, Body&& body) {
  JsonWriter w;
  w.BeginObject().Key("topic").String(topic).Key("data").BeginObject();
  body(w);
  w.EndObject().Key("ts").Int(ts).EndObject();
  std::string s = w.Take();
  s.push_back('\n');
  return s;
}

}  // namespace

struct DemoPipeline::State {
  Rng rng;
  int64_t start_ms;
  int64_t now_ms;
  std::array<Camera, 2> cams;
  Training training;

  // now_ms starts just before start_ms so that the first Advance() delivers the events due
  // exactly at start_ms.
  State(int64_t start, uint64_t seed)
      : rng(seed ^ 0x656467657761746cULL), start_ms(start), now_ms(start - 1) {
    cams[0].id = "cam1";
    cams[0].nominal_fps = 30;
    cams[0].base_processing_ms = 18;
    cams[0].startup_ms = 200;
    cams[0].max_people = 20;
    cams[0].intrusion_rate = 0.04;
    cams[0].people = 4;
    cams[1].id = "cam2";
    cams[1].nominal_fps = 15;
    cams[1].base_processing_ms = 34;
    cams[1].startup_ms = 400;
    cams[1].max_people = 12;
    cams[1].intrusion_rate = 0.02;
    cams[1].people = 2;
    for (Camera& c : cams) {
      c.topic_status = "pipeline/" + c.id + "/status";
      c.topic_frame = "pipeline/" + c.id + "/frame";
      c.topic_analytics = "pipeline/" + c.id + "/analytics";
      c.topic_error = "pipeline/" + c.id + "/error";
      c.status_due = start;
      c.people_hist.fill(c.people);
    }
    training.due = start + 1000;
  }

  // Every timer, in the fixed tie-breaking order. Returns the earliest due time and which.
  int64_t Earliest(int* which) const {
    int64_t best = kNever;
    int idx = -1;
    auto consider = [&](int64_t due, int i) {
      if (due < best) {
        best = due;
        idx = i;
      }
    };
    for (int c = 0; c < 2; ++c) {
      consider(cams[c].status_due, c * 4 + 0);
      consider(cams[c].FrameDue(), c * 4 + 1);
      consider(cams[c].analytics_due, c * 4 + 2);
      consider(cams[c].error_due, c * 4 + 3);
    }
    consider(training.due, 8);
    if (which != nullptr) *which = idx;
    return best;
  }

  void Shift(int64_t delta) {
    for (Camera& c : cams) {
      if (c.status_due != kNever) c.status_due += delta;
      if (c.analytics_due != kNever) c.analytics_due += delta;
      if (c.error_due != kNever) c.error_due += delta;
      c.frame_at += static_cast<double>(delta);
      c.running_since_ms += delta;
      if (c.last_frame_ms != 0) c.last_frame_ms += delta;
    }
    training.due += delta;
    now_ms += delta;
  }

  // ---- status ----------------------------------------------------------------------------

  std::string StatusLine(const Camera& c, int64_t t) const {
    return Line(c.topic_status, t, [&](JsonWriter& w) {
      w.Key("pipeline_id").String(c.id);
      w.Key("status").String(StateName(c.state));
      w.Key("detailed_status").BeginObject();
      w.Key("stats").BeginObject();
      w.Key("frames_processed").Int(c.frames_processed);
      w.Key("detections_total").Int(c.detections_total);
      w.Key("avg_fps").Double(Round(c.fps_ema, 1));
      w.Key("avg_processing_time").Double(Round(c.processing_ema, 1));
      w.Key("uptime_s").Int((t - start_ms) / 1000);
      w.EndObject();
      const char* detector = c.state == CamState::kDegraded ? "slow"
                             : c.state == CamState::kError  ? "idle"
                                                            : "ok";
      const char* source = c.state == CamState::kError      ? "reconnecting"
                           : c.state == CamState::kStarting ? "opening"
                                                            : "ok";
      w.Key("nodes").BeginObject();
      w.Key("camera").BeginObject().Key("type").String("rtsp_source");
      w.Key("status").String(source).EndObject();
      w.Key("detector").BeginObject().Key("type").String("yolov8n");
      w.Key("status").String(detector).EndObject();
      w.Key("tracker").BeginObject().Key("type").String("bytetrack");
      w.Key("status").String(c.state == CamState::kError ? "idle" : "ok").EndObject();
      w.Key("analytics").BeginObject().Key("type").String("people_analytics");
      w.Key("status").String(c.state == CamState::kError ? "idle" : "ok").EndObject();
      w.EndObject();
      if (!c.error_message.empty()) w.Key("error_message").String(c.error_message);
      if (c.last_frame_ms != 0) w.Key("last_frame_time").Int(c.last_frame_ms);
      w.EndObject();
    });
  }

  static std::string ErrorLine(const Camera& c, int64_t t, std::string_view message,
                               std::string_view severity) {
    return Line(c.topic_error, t, [&](JsonWriter& w) {
      w.Key("pipeline_id").String(c.id);
      w.Key("error_message").String(message);
      w.Key("severity").String(severity);
    });
  }

  void ScheduleDegraded(Camera& c, int64_t t, int64_t min_gap) {
    c.status_due = t + min_gap + static_cast<int64_t>(rng.Exponential(30'000));
  }

  void EnterRunning(Camera& c, int64_t t, std::vector<std::string>* out) {
    bool first = c.state == CamState::kStarting;
    c.state = CamState::kRunning;
    c.error_message.clear();
    if (!c.frames_on) {
      c.frames_on = true;
      c.frame_at = static_cast<double>(t);
    }
    if (first) {
      c.running_since_ms = t;
      c.analytics_due = t + 1000;
      c.error_due = t + kQuietStartMs + static_cast<int64_t>(rng.Exponential(40'000));
      ScheduleDegraded(c, t, kQuietStartMs);
    } else {
      ScheduleDegraded(c, t, 20'000);
    }
    if (out != nullptr) out->push_back(StatusLine(c, t));
  }

  void OnStatus(Camera& c, int64_t t, std::vector<std::string>* out) {
    switch (c.state) {
      case CamState::kStarting:
        if (!c.announced) {
          // Time zero: announce "starting", then go running after the start-up delay.
          c.announced = true;
          c.status_due = t + c.startup_ms;
          if (out != nullptr) out->push_back(StatusLine(c, t));
          return;
        }
        EnterRunning(c, t, out);
        return;
      case CamState::kRunning: {
        // A degraded episode: half the frame rate, slower inference.
        c.state = CamState::kDegraded;
        double latency = c.base_processing_ms * rng.Uniform(2.0, 2.6);
        char msg[96];
        std::snprintf(msg, sizeof(msg), "processing time %.0f ms above budget of %.0f ms", latency,
                      c.base_processing_ms * 1.5);
        c.error_message = msg;
        c.status_due = t + static_cast<int64_t>(rng.Uniform(5'000, 12'000));
        if (out != nullptr) {
          out->push_back(StatusLine(c, t));
          out->push_back(ErrorLine(c, t, c.error_message, "medium"));
        }
        return;
      }
      case CamState::kDegraded:
      case CamState::kError:
        EnterRunning(c, t, out);
        return;
      case CamState::kPaused:
        return;  // only "resume" or "restart" leave it
    }
  }

  void OnError(Camera& c, int64_t t, std::vector<std::string>* out) {
    c.error_due = t + 15'000 + static_cast<int64_t>(rng.Exponential(40'000));
    if (c.state == CamState::kPaused) return;
    double r = rng.Uniform();
    if (r < 0.12 && c.state == CamState::kRunning) {
      // The stream drops: no frames until it reconnects.
      c.state = CamState::kError;
      c.error_message = "camera stream lost; reconnecting";
      c.frames_on = false;
      c.status_due = t + static_cast<int64_t>(rng.Uniform(2'000, 4'000));
      if (out != nullptr) {
        out->push_back(ErrorLine(c, t, c.error_message, "high"));
        out->push_back(StatusLine(c, t));
      }
      return;
    }
    char msg[96];
    const char* severity = "low";
    if (r < 0.4) {
      std::snprintf(msg, sizeof(msg), "detector latency spike: %.0f ms",
                    c.base_processing_ms * rng.Uniform(3, 5));
      severity = "medium";
    } else {
      int dropped = 1 + static_cast<int>(rng.Uniform(0, 4));
      std::snprintf(msg, sizeof(msg), "dropped %d frame%s from the camera stream", dropped,
                    dropped == 1 ? "" : "s");
    }
    if (out != nullptr) out->push_back(ErrorLine(c, t, msg, severity));
  }

  // ---- frames ----------------------------------------------------------------------------

  void OnFrame(Camera& c, int64_t t, std::vector<std::string>* out) {
    double fps_now = c.EffectiveFps();
    c.frame_at += 1000.0 / fps_now;
    ++c.frame_id;
    ++c.frames_processed;
    double fps = Round(std::max(0.0, fps_now * (1.0 + rng.Normal(0, 0.02))), 1);
    double slow = c.state == CamState::kDegraded ? 2.3 : 1.0;
    double processing =
        Round(std::max(1.0, c.base_processing_ms * slow * (1.0 + rng.Normal(0, 0.08))), 1);
    int detections = std::max(0, c.people + static_cast<int>(std::lround(rng.Normal(0, 0.7))));
    if (c.threshold != 0.5) {
      detections = static_cast<int>(std::lround(detections * (1.0 - c.threshold) / 0.5));
    }
    c.detections_total += detections;
    c.last_frame_ms = t;
    c.fps_ema = c.fps_ema == 0 ? fps : 0.95 * c.fps_ema + 0.05 * fps;
    c.processing_ema =
        c.processing_ema == 0 ? processing : 0.95 * c.processing_ema + 0.05 * processing;
    if (out == nullptr) return;
    double detector_ms = Round(processing * 0.7, 1);
    out->push_back(Line(c.topic_frame, t, [&](JsonWriter& w) {
      w.Key("pipeline_id").String(c.id);
      w.Key("frame_data").BeginObject();
      w.Key("frame_id").Int(c.frame_id);
      w.Key("timestamp").Int(t);
      w.Key("detections_count").Int(detections);
      w.Key("processing_time").Double(processing);
      w.Key("fps").Double(fps);
      w.Key("node_results").BeginObject();
      w.Key("detector").BeginObject().Key("detections").Int(detections);
      w.Key("latency_ms").Double(detector_ms).EndObject();
      w.Key("tracker").BeginObject().Key("tracks").Int(c.people).EndObject();
      w.EndObject();
      w.EndObject();
    }));
  }

  // ---- analytics -------------------------------------------------------------------------

  void OnAnalytics(Camera& c, int64_t t, std::vector<std::string>* out) {
    c.analytics_due = t + 1000;
    if (c.state == CamState::kError || c.state == CamState::kPaused) return;  // no frames
    if (rng.Chance(0.12)) c.drift = static_cast<int>(rng.Uniform(0, 3)) - 1;  // -1, 0, +1
    double r = rng.Uniform();
    double p_up = 0.25 + 0.2 * c.drift;
    double p_down = 0.25 - 0.2 * c.drift;
    if (r < p_up) {
      c.people = std::min(c.max_people, c.people + 1);
    } else if (r < p_up + p_down) {
      c.people = std::max(0, c.people - 1);
    }
    int before = c.people_hist[c.hist_pos];  // five seconds ago
    c.people_hist[c.hist_pos] = c.people;
    c.hist_pos = (c.hist_pos + 1) % c.people_hist.size();
    const char* trend = c.people - before >= 2 ? "up" : c.people - before <= -2 ? "down" : "stable";
    int crossing_in = 0;
    int crossing_out = 0;
    for (int i = 0; i < std::min(c.people, 6); ++i) {
      if (rng.Chance(0.06)) ++crossing_in;
      if (rng.Chance(0.06)) ++crossing_out;
    }
    int new_crossings = crossing_in + crossing_out;
    c.total_crossings += new_crossings;
    int new_intrusions = 0;
    if (rng.Chance(c.intrusion_rate)) new_intrusions = rng.Chance(0.2) ? 2 : 1;
    c.total_intrusions += new_intrusions;
    int active_zones = std::min(3, (c.people + 2) / 4);
    if (out == nullptr) return;
    out->push_back(Line(c.topic_analytics, t, [&](JsonWriter& w) {
      w.Key("pipeline_id").String(c.id);
      w.Key("analytics").BeginObject();
      w.Key("node_id").String("analytics_1");
      w.Key("node_type").String("people_analytics");
      w.Key("people_count").Int(c.people);
      w.Key("trend").String(trend);
      w.Key("new_crossings").Int(new_crossings);
      w.Key("total_crossings").Int(c.total_crossings);
      w.Key("new_intrusions").Int(new_intrusions);
      w.Key("active_zones").Int(active_zones);
      w.Key("results").BeginObject();
      w.Key("line_crossings").BeginObject().Key("line").String("entrance");
      w.Key("in").Int(crossing_in).Key("out").Int(crossing_out).EndObject();
      w.Key("zones").BeginObject().Key("restricted_area").BeginObject();
      w.Key("occupied").Bool(new_intrusions > 0).Key("total_intrusions").Int(c.total_intrusions);
      w.EndObject().EndObject();
      w.EndObject();
      w.EndObject();
    }));
  }

  // ---- training --------------------------------------------------------------------------

  void OnTraining(int64_t t, std::vector<std::string>* out) {
    Training& tr = training;
    tr.due = t + Training::kIntervalMs;
    constexpr int64_t kTotalSteps = Training::kStepsPerEpoch * Training::kEpochs;
    tr.step += Training::kStepsPerEvent;
    if (tr.step > kTotalSteps) tr.step = Training::kStepsPerEvent;  // the run starts over
    double s = static_cast<double>(tr.step);
    double loss = std::max(0.01, 0.12 + 2.3 * std::exp(-s / 2500) + rng.Normal(0, 0.015));
    double map50 = std::clamp(0.86 * (1 - std::exp(-s / 3500)) + rng.Normal(0, 0.004), 0.0, 1.0);
    double lr = 1e-4 + 0.01 * 0.5 * (1 + std::cos(kPi * s / kTotalSteps));
    if (out == nullptr) return;
    out->push_back(Line(tr.topic, t, [&](JsonWriter& w) {
      w.Key("epoch").Int((tr.step - 1) / Training::kStepsPerEpoch);
      w.Key("step").Int(tr.step);
      w.Key("total_epochs").Int(Training::kEpochs);
      w.Key("loss").Double(Round(loss, 4));
      w.Key("map50").Double(Round(map50, 4));
      w.Key("map50_95").Double(Round(map50 * 0.64, 4));
      w.Key("lr").Double(Round(lr, 6));
    }));
  }

  void Fire(int which, int64_t t, std::vector<std::string>* out) {
    if (which == 8) {
      OnTraining(t, out);
      return;
    }
    Camera& c = cams[static_cast<size_t>(which / 4)];
    switch (which % 4) {
      case 0:
        OnStatus(c, t, out);
        break;
      case 1:
        OnFrame(c, t, out);
        break;
      case 2:
        OnAnalytics(c, t, out);
        break;
      case 3:
        OnError(c, t, out);
        break;
    }
  }
};

DemoPipeline::DemoPipeline(int64_t start_ms, uint64_t seed)
    : state_(std::make_unique<State>(start_ms, seed)) {}

DemoPipeline::~DemoPipeline() = default;

void DemoPipeline::Run(int64_t now_ms, std::vector<std::string>* out) {
  State& s = *state_;
  if (now_ms <= s.now_ms) return;
  while (true) {
    int which = -1;
    int64_t due = s.Earliest(&which);
    if (due > now_ms || which < 0) break;
    s.Fire(which, due, out);
  }
  s.now_ms = now_ms;
}

std::vector<std::string> DemoPipeline::Advance(int64_t now_ms) {
  std::vector<std::string> out;
  Run(now_ms, &out);
  return out;
}

void DemoPipeline::SkipTo(int64_t now_ms) {
  State& s = *state_;
  if (now_ms - s.now_ms > kMaxSkipMs) s.Shift(now_ms - kMaxSkipMs - s.now_ms);
  Run(now_ms, nullptr);
}

std::vector<std::string> DemoPipeline::StatusSnapshot() const {
  std::vector<std::string> out;
  if (state_->now_ms < state_->start_ms) return out;
  for (const Camera& c : state_->cams) out.push_back(state_->StatusLine(c, state_->now_ms));
  return out;
}

DemoPipeline::CommandOutcome DemoPipeline::Command(std::string_view pipeline_id,
                                                   std::string_view name,
                                                   std::optional<double> threshold) {
  State& s = *state_;
  CommandOutcome o;
  Camera* cam = nullptr;
  for (Camera& c : s.cams) {
    if (c.id == pipeline_id) cam = &c;
  }
  if (cam == nullptr) {
    o.message = "no camera " + std::string(pipeline_id);
    return o;
  }
  Camera& c = *cam;
  const int64_t t = std::max(s.now_ms, s.start_ms);
  if (name == "restart") {
    c.state = CamState::kStarting;
    c.announced = true;
    c.frames_on = false;
    c.frames_processed = 0;
    c.detections_total = 0;
    c.fps_ema = 0;
    c.processing_ema = 0;
    c.error_message.clear();
    c.status_due = t + c.startup_ms;
    o.lines.push_back(s.StatusLine(c, t));
    o.ok = true;
    o.message = c.id + " restarting";
  } else if (name == "pause") {
    if (c.state == CamState::kPaused) {
      o.message = c.id + " is already paused";
      return o;
    }
    c.state = CamState::kPaused;
    c.frames_on = false;
    c.status_due = kNever;
    o.lines.push_back(s.StatusLine(c, t));
    o.ok = true;
    o.message = c.id + " paused";
  } else if (name == "resume") {
    if (c.state != CamState::kPaused) {
      o.message = c.id + " is not paused";
      return o;
    }
    s.EnterRunning(c, t, &o.lines);
    o.ok = true;
    o.message = c.id + " running";
  } else if (name == "set_threshold") {
    if (!threshold || !(*threshold >= 0 && *threshold <= 1)) {
      o.message = "set_threshold needs args {\"value\": 0..1}";
      return o;
    }
    c.threshold = *threshold;
    o.ok = true;
    char msg[64];
    std::snprintf(msg, sizeof(msg), "%s threshold %.2f", c.id.c_str(), c.threshold);
    o.message = msg;
  } else {
    o.message = "unknown command " + std::string(name);
  }
  return o;
}

int64_t DemoPipeline::start_ms() const {
  return state_->start_ms;
}

int64_t DemoPipeline::now_ms() const {
  return state_->now_ms;
}

int64_t DemoPipeline::NextDueMs() const {
  return state_->Earliest(nullptr);
}

}  // namespace edgewatch::app
