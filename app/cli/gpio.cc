// edgewatch gpio: the gateway's GPIO lines by role (GET /api/v1/hal): board, backend, chip, and
// for each role its direction, offset, polarity and level; on the simulated backend also the
// recent history of each output and the edge counters of each input.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/json.h"
#include "flags.h"
#include "http_get.h"

namespace edgewatch::cli {
namespace {

std::string Str(const cJSON* obj, const char* key, const char* fallback = "-") {
  auto v = GetString(obj, key);
  return v ? std::string(*v) : std::string(fallback);
}

// "on 0 ms, off +250 ms, on +500 ms" from the sim backend's "recent" sets.
std::string Recent(const cJSON* recent) {
  std::string out;
  int64_t first = 0;
  bool have_first = false;
  const cJSON* s;
  cJSON_ArrayForEach(s, recent) {
    int64_t t = GetInt(s, "t_ns").value_or(0);
    if (!have_first) {
      first = t;
      have_first = true;
    }
    if (!out.empty()) out += ", ";
    out += Str(s, "level") == "active" ? "on" : "off";
    out += " +" + std::to_string((t - first) / 1000000) + "ms";
  }
  return out;
}

int PrintTable(const std::string& body) {
  auto parsed = ParseJson(body, JsonLimits{body.size() + 1, 16});
  const cJSON* root = parsed.ok() ? parsed->get() : nullptr;
  const cJSON* lines = root ? cJSON_GetObjectItemCaseSensitive(root, "lines") : nullptr;
  if (!cJSON_IsObject(lines)) {
    std::fprintf(stderr, "edgewatch gpio: unexpected answer (no \"lines\" object): %.200s\n",
                 body.c_str());
    return kExitFailure;
  }
  std::printf("board %s, backend %s, chip %s\n", Str(root, "board").c_str(),
              Str(root, "backend").c_str(), Str(root, "chip").c_str());
  struct Row {
    std::string role, dir, offset, active, level, details;
  };
  std::vector<Row> rows;
  const cJSON* line;
  cJSON_ArrayForEach(line, lines) {
    Row r;
    r.role = line->string != nullptr ? line->string : "?";
    r.dir = Str(line, "direction");
    r.offset = std::to_string(GetInt(line, "offset").value_or(-1));
    const cJSON* low = cJSON_GetObjectItemCaseSensitive(line, "active_low");
    r.active = cJSON_IsTrue(low) ? "low" : "high";
    r.level = Str(line, "level");
    if (auto sets = GetInt(line, "sets")) {
      r.details = std::to_string(*sets) + " sets";
      std::string recent = Recent(cJSON_GetObjectItemCaseSensitive(line, "recent"));
      if (!recent.empty()) r.details += "; recent: " + recent;
    } else if (GetString(line, "edge")) {
      r.details = "edge " + Str(line, "edge") + ", debounce " +
                  std::to_string(GetInt(line, "debounce_ms").value_or(0)) + " ms";
      if (auto b = GetInt(line, "bounces")) r.details += ", " + std::to_string(*b) + " bounces";
    }
    rows.push_back(std::move(r));
  }
  size_t w = 4;
  for (const Row& r : rows) w = std::max(w, r.role.size());
  std::printf("%-*s  %-3s  %6s  %-6s  %-8s  %s\n", static_cast<int>(w), "ROLE", "DIR", "OFFSET",
              "ACTIVE", "LEVEL", "DETAILS");
  for (const Row& r : rows) {
    std::printf("%-*s  %-3s  %6s  %-6s  %-8s  %s\n", static_cast<int>(w), r.role.c_str(),
                r.dir.c_str(), r.offset.c_str(), r.active.c_str(), r.level.c_str(),
                r.details.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunGpio(const std::vector<std::string>& args) {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  int64_t timeout_s = 10;
  bool json = false, insecure = false, verbose = false;
  FlagParser flags("gpio", "",
                   "Shows the gateway's GPIO lines by role (GET /api/v1/hal): board, backend and\n"
                   "chip, then each role's direction, offset, polarity and logical level. On the\n"
                   "simulated backend, outputs also show how often they were set and their last\n"
                   "changes, inputs their edge settings. Needs a token with read:system/hal when\n"
                   "the gateway has authentication on. Exits 1 when the gateway cannot be reached\n"
                   "or answers with an error status.");
  flags.String("url", &url, "URL", "gateway base URL (default http://127.0.0.1:8080)");
  flags.String("token", &token, "TOKEN",
               "access token, sent as Authorization: Bearer (default: $EDGEWATCH_TOKEN)");
  flags.Bool("json", &json, "print the gateway's JSON answer as is");
  flags.Int("timeout-s", &timeout_s, "S", "give up after S seconds (default 10)", 1, 86400);
  flags.Bool("insecure", &insecure, "accept self-signed or mismatched certificates (https://)");
  flags.Bool("verbose", &verbose, "log lws's messages to stderr");
  std::vector<std::string> pos;
  if (auto rc = flags.ParseOrExit(args, &pos)) return *rc;
  if (!pos.empty()) {
    std::fprintf(stderr, "edgewatch gpio: unexpected argument '%s'\n", pos[0].c_str());
    return kExitUsage;
  }
  if (token.empty()) {
    if (const char* env = std::getenv("EDGEWATCH_TOKEN")) token = env;
  }
  auto r = HttpGet(url, "/api/v1/hal", token, static_cast<int>(timeout_s), insecure, verbose);
  if (!r.ok()) {
    std::fprintf(stderr, "edgewatch gpio: %s\n", r.status().message().c_str());
    return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (r->status != 200) {
    std::fprintf(stderr, "edgewatch gpio: %s answered HTTP %u: %.500s\n", r->target.c_str(),
                 r->status, r->body.c_str());
    return kExitFailure;
  }
  if (json) {
    std::printf("%s\n", r->body.c_str());
    return kExitOk;
  }
  return PrintTable(r->body);
}

}  // namespace edgewatch::cli
