// edgewatch command: send one operator command (docs/protocol.md, "Commands") over WebSocket and
// print its command_result as one JSON line. The connection, its loop and signals are WsClient's
// (ws_client.h).
#include <cstdio>
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

constexpr int64_t kAuthId = 1;
constexpr int64_t kCommandId = 2;
constexpr size_t kMaxMessage = 16 << 20;

class Command final : public WsClient {
 public:
  Command() : WsClient("command") {}

  std::string token;
  std::string target;
  std::string name;
  std::string args_json = "{}";
  int64_t timeout_ms = 0;  // 0: the gateway's default

 private:
  // A bound for the whole run: the gateway answers timeout itself; this covers a silent server.
  void OnDeadline() override { Finish(kExitFailure, "no answer from the gateway"); }

  void PrintResult(std::string_view text, const cJSON* json) {
    std::string line =
        text.find_first_of("\r\n") != std::string_view::npos ? PrintJson(json) : std::string(text);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "ok"));
    Finish(
        ok ? kExitOk : kExitFailure,
        ok ? "" : "the producer refused: " + std::string(GetString(json, "message").value_or("")));
  }

  void HandleMessage(std::string_view text) override {
    auto parsed = ParseJson(text, JsonLimits{.max_bytes = kMaxMessage, .max_depth = 128});
    if (!parsed.ok()) {
      Note("ignoring a message that is not JSON (" + parsed.status().message() + ")");
      return;
    }
    const cJSON* j = parsed->get();
    std::string_view type = GetString(j, "type").value_or("");
    std::optional<int64_t> id = GetInt(j, "id");
    if (type == "command_result" && id == kCommandId) {
      PrintResult(text, j);
    } else if (type == "error") {
      std::string code(GetString(j, "code").value_or("unknown"));
      std::string message(GetString(j, "message").value_or(""));
      if (id == kAuthId && code == "auth_disabled") return;  // a --no-auth gateway
      std::string line = "server error " + code + (message.empty() ? "" : ": " + message);
      // Any error about our command or our credentials ends the run.
      if (id == kCommandId || id == kAuthId || code.rfind("token_", 0) == 0 ||
          code.rfind("auth_", 0) == 0) {
        Finish(kExitFailure, line);
      } else {
        Note(line);
      }
    } else if ((type == "welcome" || type == "authenticated") && verbose()) {
      Note(text);
    }
    // heartbeat, pong and future types: nothing to do.
  }

  void OnEstablished() override {
    if (!token.empty()) {
      JsonWriter w(LWS_PRE);
      w.BeginObject().Key("op").String("auth").Key("id").Int(kAuthId);
      w.Key("token").String(token).EndObject();
      Queue(w.Take());
    }
    JsonWriter w(LWS_PRE);
    w.BeginObject().Key("op").String("command").Key("id").Int(kCommandId);
    w.Key("target").String(target).Key("name").String(name).Key("args").Raw(args_json);
    if (timeout_ms > 0) w.Key("timeout_ms").Int(timeout_ms);
    w.EndObject();
    Queue(w.Take());
  }
};

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  std::string url_text = "ws://127.0.0.1:8080/ws";
  std::string token, token_file;
  int64_t timeout_ms = 0;
  bool verbose = false, insecure = false;
  FlagParser flags(
      "command", "TARGET NAME [JSON-ARGS]",
      "Sends the operator command NAME to TARGET (e.g. pipeline/cam1), with the JSON object\n"
      "JSON-ARGS as its arguments (default {}), and prints the gateway's command_result as one\n"
      "JSON line on stdout. The token needs a write scope on TARGET. Exits 0 when the producer\n"
      "answered ok, 1 when it refused, on an error (forbidden, no_such_target,\n"
      "unknown_command, target_offline, timeout; printed on stderr) or a connection failure.");
  flags.String("url", &url_text, "URL", "gateway WebSocket URL (default ws://127.0.0.1:8080/ws)");
  flags.String("token", &token, "TOKEN",
               "access token, sent as the first frame {\"op\":\"auth\"} (default: "
               "$EDGEWATCH_TOKEN)");
  flags.String("token-file", &token_file, "FILE", "read the token from FILE (keeps it out of ps)");
  flags.Int("timeout-ms", &timeout_ms, "MS",
            "how long the gateway waits for the producer (default: the gateway's, 10 s)");
  flags.Bool("insecure", &insecure, "accept self-signed or mismatched certificates (wss://)");
  flags.Bool("verbose", &verbose, "log the connection's progress and lws's messages to stderr");
  std::vector<std::string> words;
  if (auto rc = flags.ParseOrExit(args, &words)) return *rc;
  if (words.size() < 2 || words.size() > 3) {
    std::fprintf(stderr, "edgewatch command: give TARGET NAME [JSON-ARGS]\n");
    return kExitUsage;
  }
  std::string args_json = "{}";
  if (words.size() == 3) {
    auto parsed = ParseJson(words[2]);
    if (!parsed.ok() || !cJSON_IsObject(parsed->get())) {
      std::fprintf(stderr, "edgewatch command: JSON-ARGS must be a JSON object\n");
      return kExitUsage;
    }
    args_json = PrintJson(parsed->get());
  }
  if (timeout_ms < 0 || timeout_ms > 300000) {
    std::fprintf(stderr, "edgewatch command: --timeout-ms must be within 0..300000\n");
    return kExitUsage;
  }
  auto url = ParseUrl(url_text, "/ws");
  if (!url.ok()) {
    std::fprintf(stderr, "edgewatch command: --url: %s\n", url.status().message().c_str());
    return kExitUsage;
  }
  if (url->scheme == "http") url->scheme = "ws";
  if (url->scheme == "https") url->scheme = "wss";
  auto resolved = ResolveToken(token, token_file);
  if (!resolved.ok()) {
    std::fprintf(stderr, "edgewatch command: %s\n", resolved.status().message().c_str());
    return kExitUsage;
  }
  Command c;
  c.token = *resolved;
  c.target = words[0];
  c.name = words[1];
  c.args_json = args_json;
  c.timeout_ms = timeout_ms;
  return c.Run(*url, insecure, verbose, ((timeout_ms > 0 ? timeout_ms : 10000) + 5000) * 1000);
}

}  // namespace edgewatch::cli
