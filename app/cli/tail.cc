// edgewatch tail: subscribe to topic patterns over WebSocket and print each event as one JSON
// line. The connection, its loop and signals are WsClient's (ws_client.h).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "flags.h"
#include "token_file.h"
#include "url.h"
#include "ws_client.h"

namespace edgewatch::cli {
namespace {

constexpr int64_t kSubscribeId = 1;
constexpr size_t kMaxMessage = 16 << 20;

class Tail final : public WsClient {
 public:
  Tail(std::vector<std::string> patterns, int64_t count)
      : WsClient("tail"), patterns(std::move(patterns)), count(count) {}

  const std::vector<std::string> patterns;
  const int64_t count;  // 0: unlimited
  std::string token;
  int64_t received = 0;

 private:
  void OnDeadline() override {
    if (count == 0) {
      Finish(kExitOk, "");
    } else {
      Finish(kExitFailure, "timed out: received " + std::to_string(received) + " of " +
                               std::to_string(count) + " events");
    }
  }

  void PrintEvent(std::string_view text, const cJSON* json) {
    std::string line;
    if (text.find_first_of("\r\n") != std::string_view::npos) {
      line = PrintJson(json);  // keep one event per line
    } else {
      line.assign(text);
    }
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
        std::fflush(stdout) != 0) {
      if (errno == EPIPE) {
        Finish(kExitOk, "");  // the reader went away (e.g. `| head`)
      } else {
        Finish(kExitFailure, std::string("writing to stdout: ") + std::strerror(errno));
      }
      return;
    }
    ++received;
    if (count > 0 && received >= count) Finish(kExitOk, "");
  }

  void HandleMessage(std::string_view text) override {
    auto parsed = ParseJson(text, JsonLimits{.max_bytes = kMaxMessage, .max_depth = 128});
    if (!parsed.ok()) {
      Note("ignoring a message that is not JSON (" + parsed.status().message() + ")");
      return;
    }
    const cJSON* j = parsed->get();
    std::string_view type = GetString(j, "type").value_or("");
    if (type == "event") {
      PrintEvent(text, j);
    } else if (type == "error") {
      std::string code(GetString(j, "code").value_or("unknown"));
      std::string message(GetString(j, "message").value_or(""));
      std::optional<int64_t> id = GetInt(j, "id");
      std::string line = "server error " + code + (message.empty() ? "" : ": " + message);
      // Errors about our subscription or our credentials end the run: nothing more will come.
      bool fatal = (id && *id == kSubscribeId) || code == "forbidden" ||
                   code == "unauthenticated" || code.rfind("token_", 0) == 0 ||
                   code.rfind("auth_", 0) == 0;
      if (fatal) {
        Finish(kExitFailure, line);
      } else {
        Note(line);
      }
    } else if (type == "welcome" && verbose()) {
      Note("connected: " + std::string(text));
    } else if (type == "subscribed" && verbose()) {
      Note("subscribed: " + std::string(text));
    }
    // heartbeat, pong and future types: nothing to do.
  }

  void OnEstablished() override {
    if (!token.empty()) {
      JsonWriter w(LWS_PRE);
      w.BeginObject().Key("op").String("auth").Key("token").String(token).EndObject();
      Queue(w.Take());
    }
    JsonWriter w(LWS_PRE);
    w.BeginObject().Key("op").String("subscribe").Key("id").Int(kSubscribeId).Key("topics");
    w.BeginArray();
    for (const std::string& p : patterns) w.String(p);
    w.EndArray().EndObject();
    Queue(w.Take());
  }
};

}  // namespace

int RunTail(const std::vector<std::string>& args) {
  std::string url_text = "ws://127.0.0.1:8080/ws";
  std::string token, token_file;
  int64_t count = 0, timeout_s = 0;
  bool verbose = false, insecure = false;
  FlagParser flags(
      "tail", "PATTERN...",
      "Subscribes to the topic PATTERNs (MQTT-style: '+' matches one segment, a trailing '#'\n"
      "any remainder) and prints every event as one JSON line on stdout, exactly as the gateway\n"
      "sent it: first the latest event of each matching topic, then live ones. Errors go to\n"
      "stderr. Exits 0 after --count events, at --timeout-s without --count, or on Ctrl-C;\n"
      "1 when the connection fails or the server closes it (the close code and reason are\n"
      "printed), or when the server refuses the subscription or the token.");
  flags.String("url", &url_text, "URL", "gateway WebSocket URL (default ws://127.0.0.1:8080/ws)");
  flags.String("token", &token, "TOKEN",
               "access token, sent as the first frame {\"op\":\"auth\"} (default: "
               "$EDGEWATCH_TOKEN)");
  flags.String("token-file", &token_file, "FILE", "read the token from FILE (keeps it out of ps)");
  flags.Int("count", &count, "N", "exit 0 after N events (0: never)");
  flags.Int("timeout-s", &timeout_s, "S",
            "stop after S seconds: exit 0 without --count, 1 if fewer than N events arrived");
  flags.Bool("insecure", &insecure, "accept self-signed or mismatched certificates (wss://)");
  flags.Bool("verbose", &verbose, "log the connection's progress and lws's messages to stderr");
  std::vector<std::string> patterns;
  if (auto rc = flags.ParseOrExit(args, &patterns)) return *rc;
  if (patterns.empty()) {
    std::fprintf(stderr, "edgewatch tail: give at least one PATTERN (e.g. 'pipeline/#')\n");
    return kExitUsage;
  }
  auto url = ParseUrl(url_text, "/ws");
  if (!url.ok()) {
    std::fprintf(stderr, "edgewatch tail: --url: %s\n", url.status().message().c_str());
    return kExitUsage;
  }
  if (url->scheme == "http") url->scheme = "ws";
  if (url->scheme == "https") url->scheme = "wss";
  auto resolved = ResolveToken(token, token_file);
  if (!resolved.ok()) {
    std::fprintf(stderr, "edgewatch tail: %s\n", resolved.status().message().c_str());
    return kExitUsage;
  }
  Tail t(patterns, count);
  t.token = *resolved;
  return t.Run(*url, insecure, verbose, timeout_s * LWS_USEC_PER_SEC);
}

}  // namespace edgewatch::cli
