#include "edgewatch/app/forecast/forecaster.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "edgewatch/app/forecast/season.h"
#include "edgewatch/base/json_writer.h"

namespace edgewatch::app::forecast {
namespace {

void Number(JsonWriter& w, double v) {
  if (!std::isfinite(v)) {
    w.Null();
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7g", v);
  w.Raw(buf);
}

void Array(JsonWriter& w, std::string_view key, const std::vector<double>& values) {
  w.Key(key).BeginArray();
  for (double v : values) Number(w, v);
  w.EndArray();
}

}  // namespace

double RoundSignificant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

Result<ForecastResult> RunForecast(const ForecastRequest& request,
                                   const std::atomic<bool>* cancel) {
  if (request.horizon < 1 || request.horizon > kMaxHorizon) {
    return InvalidArgument("horizon must be in [1, " + std::to_string(kMaxHorizon) + "]");
  }
  if (request.season < kSeasonAuto || request.season == 1) {
    return InvalidArgument("season must be \"auto\", 0 or >= 2");
  }
  ForecastResult out;
  HwOptions hw = request.hw;
  hw.cancel = cancel;
  hw.season = request.season;
  if (request.season == kSeasonAuto) {
    out.detected_season = DetectSeason(request.y);
    hw.season = out.detected_season;
  }
  EW_ASSIGN_OR_RETURN(out.fit, FitHoltWinters(request.y, hw));
  HwForecast f = ForecastHoltWinters(out.fit, request.horizon);
  const double z95 = NormalQuantileTwoSided(kOuterLevel);
  const double z80 = NormalQuantileTwoSided(kInnerLevel);
  const size_t h = f.mean.size();
  out.points = f.mean;
  out.lower.resize(h);
  out.upper.resize(h);
  out.lower80.resize(h);
  out.upper80.resize(h);
  for (size_t i = 0; i < h; ++i) {
    if (!std::isfinite(f.mean[i]) || !std::isfinite(f.sd[i])) {
      return Internal("the forecast is not finite");
    }
    out.lower[i] = f.mean[i] - z95 * f.sd[i];
    out.upper[i] = f.mean[i] + z95 * f.sd[i];
    out.lower80[i] = f.mean[i] - z80 * f.sd[i];
    out.upper80[i] = f.mean[i] + z80 * f.sd[i];
  }
  return out;
}

std::string ForecastToJson(const ForecastResult& r, const ForecastMeta& meta) {
  JsonWriter w;
  w.BeginObject();
  w.Key("model").String("holt_winters");
  w.Key("generated_at").Int(meta.generated_at_ms);
  w.Key("step_ms").Int(meta.step_ms);
  w.Key("start_ts").Int(meta.start_ms);
  w.Key("context").Uint(r.fit.n);
  w.Key("horizon").Uint(r.points.size());
  w.Key("season").Int(r.fit.season);
  w.Key("level").Int(static_cast<int64_t>(std::lround(kOuterLevel * 100)));
  Array(w, "points", r.points);
  Array(w, "lower", r.lower);
  Array(w, "upper", r.upper);
  Array(w, "lower80", r.lower80);
  Array(w, "upper80", r.upper80);
  w.Key("fit").BeginObject();
  w.Key("alpha");
  Number(w, r.fit.params.alpha);
  w.Key("beta");
  Number(w, r.fit.params.beta);
  w.Key("gamma");
  Number(w, r.fit.params.gamma);
  w.Key("phi");
  Number(w, r.fit.params.phi);
  w.Key("mae");
  Number(w, r.fit.mae);
  w.Key("sigma");
  Number(w, std::sqrt(r.fit.sigma2));
  w.EndObject();
  if (!meta.source.empty()) w.Key("source").String(meta.source);
  if (!meta.field.empty()) w.Key("field").String(meta.field);
  w.EndObject();
  return w.Take();
}

}  // namespace edgewatch::app::forecast
