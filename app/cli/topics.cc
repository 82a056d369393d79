// edgewatch topics: GET /api/v1/topics from the gateway and print the topic table. One lws client
// through the shared HttpGet helper (http_get.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "flags.h"
#include "http_get.h"
#include "url.h"

namespace edgewatch::cli {
namespace {

// "2026-11-22T02:30:22.123Z".
std::string FormatUnixMillis(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string FormatAge(int64_t ms) {
  char buf[32];
  if (ms < 0) ms = 0;
  if (ms < 60 * 1000) {
    std::snprintf(buf, sizeof(buf), "%.1fs ago", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3600 * 1000) {
    std::snprintf(buf, sizeof(buf), "%lldm ago", static_cast<long long>(ms / 60000));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldh ago", static_cast<long long>(ms / 3600000));
  }
  return buf;
}

int PrintTable(const std::string& body) {
  auto parsed = ParseJson(body, JsonLimits{.max_bytes = 64u << 20, .max_depth = 64});
  const cJSON* topics =
      parsed.ok() ? cJSON_GetObjectItemCaseSensitive(parsed->get(), "topics") : nullptr;
  if (!cJSON_IsArray(topics)) {
    std::fprintf(stderr, "edgewatch topics: unexpected answer (no \"topics\" array): %.200s\n",
                 body.c_str());
    return kExitFailure;
  }
  struct Row {
    std::string topic, seq, last;
  };
  std::vector<Row> rows;
  const int64_t now = UnixMillis();
  const cJSON* item;
  cJSON_ArrayForEach(item, topics) {
    Row r;
    r.topic = std::string(GetString(item, "topic").value_or("?"));
    std::optional<int64_t> seq = GetInt(item, "seq");
    r.seq = seq ? std::to_string(*seq) : "-";
    std::optional<int64_t> ts = GetInt(item, "last_ts");
    r.last = ts ? FormatUnixMillis(*ts) + " (" + FormatAge(now - *ts) + ")" : "-";
    rows.push_back(std::move(r));
  }
  if (rows.empty()) {
    std::printf("no topics yet\n");
    return kExitOk;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.topic < b.topic; });
  size_t wt = 5, ws = 3;
  for (const Row& r : rows) {
    wt = std::max(wt, r.topic.size());
    ws = std::max(ws, r.seq.size());
  }
  std::printf("%-*s  %*s  %s\n", static_cast<int>(wt), "TOPIC", static_cast<int>(ws), "SEQ",
              "LAST EVENT");
  for (const Row& r : rows) {
    std::printf("%-*s  %*s  %s\n", static_cast<int>(wt), r.topic.c_str(), static_cast<int>(ws),
                r.seq.c_str(), r.last.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunTopics(const std::vector<std::string>& args) {
  std::string url_text = "http://127.0.0.1:8080";
  std::string token;
  int64_t timeout_s = 10;
  bool json = false, insecure = false, verbose = false;
  FlagParser flags("topics", "",
                   "Lists the topics the gateway knows, with each one's last seq and the time of\n"
                   "its last event (GET /api/v1/topics), sorted by name. Exits 1 when the\n"
                   "gateway cannot be reached or answers with an error status.");
  flags.String("url", &url_text, "URL", "gateway base URL (default http://127.0.0.1:8080)");
  flags.String("token", &token, "TOKEN",
               "access token, sent as Authorization: Bearer (default: $EDGEWATCH_TOKEN)");
  flags.Bool("json", &json, "print the gateway's JSON answer as is");
  flags.Int("timeout-s", &timeout_s, "S", "give up after S seconds (default 10)", 1, 86400);
  flags.Bool("insecure", &insecure, "accept self-signed or mismatched certificates (https://)");
  flags.Bool("verbose", &verbose, "log lws's messages to stderr");
  std::vector<std::string> pos;
  if (auto rc = flags.ParseOrExit(args, &pos)) return *rc;
  if (!pos.empty()) {
    std::fprintf(stderr, "edgewatch topics: unexpected argument '%s'\n", pos[0].c_str());
    return kExitUsage;
  }
  if (token.empty()) {
    if (const char* env = std::getenv("EDGEWATCH_TOKEN")) token = env;
  }
  auto r =
      HttpGet(url_text, "/api/v1/topics", token, static_cast<int>(timeout_s), insecure, verbose);
  if (!r.ok()) {
    std::fprintf(stderr, "edgewatch topics: %s\n", r.status().message().c_str());
    return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (r->status != 200) {
    std::fprintf(stderr, "edgewatch topics: %s answered HTTP %u: %.500s\n", r->target.c_str(),
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
