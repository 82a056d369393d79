// edgewatch-forecast: the built-in forecaster on the command line — the exact code path of
// edgewatchd's worker (RunForecast) without the daemon. The accuracy benchmark
// (bench/forecast_accuracy.py) drives it; it is also handy to try settings on a CSV column.
//
//   edgewatch-forecast --horizon 12 --season 12 [FILE]   numbers (whitespace/comma separated,
//                                                        oldest first) from FILE or stdin; prints
//                                                        the forecast object (docs/forecasts.md)
//   edgewatch-forecast --jsonl                           one request per stdin line:
//       {"id":<any>,"y":[...],"horizon":h,"season":m|"auto"} -> {"id":..,"forecast":{...}}
//                                                        or {"id":..,"error":"..."}
// Exit status: 0 ok, 1 a forecast failed (plain mode), 2 usage.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "edgewatch/app/forecast/forecaster.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"

namespace edgewatch::app::forecast {
namespace {

constexpr char kUsage[] =
    "usage: edgewatch-forecast [--horizon H] [--season M|auto] [FILE]\n"
    "       edgewatch-forecast --jsonl   (requests as JSON lines on stdin)\n";

bool ParseSeason(std::string_view text, int* out) {
  if (text == "auto") {
    *out = kSeasonAuto;
    return true;
  }
  char* end = nullptr;
  std::string s(text);
  long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || v < 0 || v == 1 || v > kMaxContext) return false;
  *out = static_cast<int>(v);
  return true;
}

std::string Error(const std::string& id_json, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("id").Raw(id_json).Key("error").String(message).EndObject();
  return w.Take();
}

std::string HandleLine(const std::string& line) {
  auto parsed = ParseJson(line, JsonLimits{64 << 20, 8});
  if (!parsed.ok()) return Error("null", parsed.status().message());
  const cJSON* root = parsed->get();
  const cJSON* id = cJSON_GetObjectItemCaseSensitive(root, "id");
  std::string id_json = id != nullptr ? PrintJson(id) : "null";
  ForecastRequest req;
  const cJSON* y = cJSON_GetObjectItemCaseSensitive(root, "y");
  if (!cJSON_IsArray(y)) return Error(id_json, "y must be an array of numbers");
  for (const cJSON* c = y->child; c != nullptr; c = c->next) {
    if (!cJSON_IsNumber(c)) return Error(id_json, "y must be an array of numbers");
    req.y.push_back(c->valuedouble);
  }
  auto horizon = GetInt(root, "horizon");
  req.horizon = horizon ? static_cast<int>(*horizon) : 1;
  if (auto s = GetString(root, "season")) {
    if (!ParseSeason(*s, &req.season)) return Error(id_json, "bad season");
  } else if (auto m = GetInt(root, "season")) {
    req.season = static_cast<int>(*m);
  }
  if (auto v = GetNumber(root, "phi_max")) req.hw.phi_max = *v;
  if (auto v = GetNumber(root, "phi_min")) req.hw.phi_min = *v;
  auto r = RunForecast(req);
  if (!r.ok()) return Error(id_json, r.status().ToString());
  ForecastMeta meta;
  meta.step_ms = 1;
  JsonWriter w;
  w.BeginObject().Key("id").Raw(id_json).Key("forecast").Raw(ForecastToJson(*r, meta));
  w.Key("detected_season").Int(r->detected_season).Key("evals").Int(r->fit.evals);
  w.Key("sse").Double(r->fit.sse).EndObject();
  return w.Take();
}

int Main(int argc, char** argv) {
  ForecastRequest req;
  req.horizon = 12;
  std::string file;
  bool jsonl = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--jsonl") {
      jsonl = true;
    } else if (a == "--horizon" && i + 1 < argc) {
      req.horizon = std::atoi(argv[++i]);
    } else if (a == "--season" && i + 1 < argc) {
      if (!ParseSeason(argv[++i], &req.season)) {
        std::fputs(kUsage, stderr);
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!a.empty() && a[0] != '-') {
      file = a;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (jsonl) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      std::string out = HandleLine(line) + "\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
    return 0;
  }
  std::stringstream text;
  if (file.empty() || file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "edgewatch-forecast: cannot read %s\n", file.c_str());
      return 2;
    }
    text << in.rdbuf();
  }
  std::string all = text.str();
  for (char& c : all) {
    if (c == ',' || c == ';') c = ' ';
  }
  std::istringstream nums(all);
  double v;
  while (nums >> v) req.y.push_back(v);
  auto r = RunForecast(req);
  if (!r.ok()) {
    std::fprintf(stderr, "edgewatch-forecast: %s\n", r.status().ToString().c_str());
    return 1;
  }
  ForecastMeta meta;
  meta.step_ms = 1;
  std::string out = ForecastToJson(*r, meta) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace
}  // namespace edgewatch::app::forecast

int main(int argc, char** argv) {
  return edgewatch::app::forecast::Main(argc, argv);
}
