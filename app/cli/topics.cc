// edgewatch topics: GET /api/v1/topics from the gateway and print the topic table. One lws client
// context and its own service loop, like tail.
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
#include "lws_client.h"
#include "url.h"

namespace edgewatch::cli {
namespace {

constexpr char kProtocol[] = "edgewatch-http";
constexpr size_t kMaxBody = 64 << 20;

struct Fetch;
struct FetchTimer {
  lws_sorted_usec_list_t sul;
  Fetch* fetch;
};

struct Fetch {
  std::string token;
  unsigned int status = 0;
  std::string body;
  std::string error;
  bool done = false;
  FetchTimer timer{{}, this};
};

int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  (void)user;
  auto* f = static_cast<Fetch*>(lws_context_user(lws_get_context(wsi)));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      f->error = in != nullptr ? static_cast<const char*>(in) : "connection failed";
      f->done = true;
      return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      if (f->token.empty()) return 0;
      auto** p = static_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      std::string value = "Bearer " + f->token;
      if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                       reinterpret_cast<const unsigned char*>(value.c_str()),
                                       static_cast<int>(value.size()), p, end) != 0) {
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      f->status = lws_http_client_http_response(wsi);
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (f->body.size() + len > kMaxBody) return -1;
      f->body.append(static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char buffer[4096 + LWS_PRE];
      char* px = buffer + LWS_PRE;
      int lenx = sizeof(buffer) - LWS_PRE;
      if (lws_http_client_read(wsi, &px, &lenx) < 0) return -1;
      return 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      f->done = true;
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols kProtocols[] = {
    {kProtocol, Callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

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
  auto parsed = ParseJson(body, JsonLimits{.max_bytes = kMaxBody, .max_depth = 64});
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
  auto url = ParseUrl(url_text, "");
  if (!url.ok()) {
    std::fprintf(stderr, "edgewatch topics: --url: %s\n", url.status().message().c_str());
    return kExitUsage;
  }
  if (url->scheme == "ws") url->scheme = "http";
  if (url->scheme == "wss") url->scheme = "https";
  // A ws URL's /ws path is not the API's base; keep only what precedes it.
  std::string base = url->path;
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/ws") == 0)
    base.resize(base.size() - 3);
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string path = base + "/api/v1/topics";
  if (token.empty()) {
    if (const char* env = std::getenv("EDGEWATCH_TOKEN")) token = env;
  }

  Fetch f;
  f.token = token;
  struct lws_context* context = CreateClientContext(kProtocols, &f, verbose);
  if (context == nullptr) {
    std::fprintf(stderr, "edgewatch topics: cannot create the lws context\n");
    return kExitFailure;
  }
  lws_sul_schedule(
      context, 0, &f.timer.sul,
      [](lws_sorted_usec_list_t* sul) {
        Fetch* fetch = reinterpret_cast<FetchTimer*>(sul)->fetch;
        fetch->error = "timed out";
        fetch->done = true;
      },
      timeout_s * LWS_USEC_PER_SEC);
  std::string host_port = url->HostPort();
  struct lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = context;
  ci.address = url->host.c_str();
  ci.port = url->port;
  ci.path = path.c_str();
  ci.host = host_port.c_str();
  ci.method = "GET";
  ci.ssl_connection = ClientTlsFlags(url->tls(), insecure) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  ci.protocol = kProtocol;
  ci.alpn = "http/1.1";
  if (lws_client_connect_via_info(&ci) == nullptr && !f.done) {
    f.error = "connection failed";
    f.done = true;
  }
  while (!f.done) {
    if (lws_service(context, 0) < 0) break;
  }
  lws_context_destroy(context);

  const std::string target = url->scheme + "://" + host_port + path;
  if (!f.error.empty()) {
    std::fprintf(stderr, "edgewatch topics: cannot get %s: %s\n", target.c_str(), f.error.c_str());
    return kExitFailure;
  }
  if (f.status != 200) {
    std::fprintf(stderr, "edgewatch topics: %s answered HTTP %u: %.500s\n", target.c_str(),
                 f.status, f.body.c_str());
    return kExitFailure;
  }
  if (json) {
    std::printf("%s\n", f.body.c_str());
    return kExitOk;
  }
  return PrintTable(f.body);
}

}  // namespace edgewatch::cli
