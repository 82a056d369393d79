// edgewatch command: send one operator command (docs/protocol.md, "Commands") over WebSocket and
// print its command_result as one JSON line. Built like tail.cc: one lws client context served by
// this function's loop on the main thread; SIGINT and SIGTERM arrive through a signalfd.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "flags.h"
#include "lws_client.h"
#include "url.h"

namespace edgewatch::cli {
namespace {

constexpr char kProtocol[] = "edgewatch-command";
constexpr int64_t kAuthId = 1;
constexpr int64_t kCommandId = 2;
constexpr size_t kMaxMessage = 16 << 20;
constexpr lws_usec_t kCloseGraceUs = 3 * LWS_USEC_PER_SEC;

struct Command;
// An lws timer that knows its Command (standard layout, so the sul pointer converts back).
struct CmdTimer {
  lws_sorted_usec_list_t sul;
  Command* cmd;
};

struct Command {
  // Configuration.
  Url url;
  std::string token;
  std::string target;
  std::string name;
  std::string args_json = "{}";
  int64_t timeout_ms = 0;  // 0: the gateway's default
  bool verbose = false;

  // Loop state; touched only from the lws callback and the loop, both on the main thread.
  struct lws_context* context = nullptr;
  struct lws* wsi = nullptr;
  std::deque<std::string> outbox;  // serialised messages with LWS_PRE bytes of headroom
  std::string rx;                  // message being reassembled
  bool closing = false;            // we asked for the connection to end
  bool finished = false;
  int exit_code = kExitFailure;
  std::string failure;  // printed to stderr at exit when non-empty
  std::optional<int> peer_close_code;
  std::string peer_close_reason;
  CmdTimer timeout_timer{{}, this};
  CmdTimer grace_timer{{}, this};

  // Ends the run with `code`, closing the connection (close 1000) if it is open. The first
  // caller decides the outcome.
  void Finish(int code, std::string message) {
    if (closing || finished) return;
    closing = true;
    exit_code = code;
    failure = std::move(message);
    if (wsi == nullptr) {
      finished = true;
      return;
    }
    lws_callback_on_writable(wsi);
    // Bound the close handshake: stop even if the server never answers our close.
    lws_sul_schedule(
        context, 0, &grace_timer.sul,
        [](lws_sorted_usec_list_t* sul) { reinterpret_cast<CmdTimer*>(sul)->cmd->finished = true; },
        kCloseGraceUs);
  }

  void Queue(std::string msg) {
    outbox.push_back(std::move(msg));
    if (wsi != nullptr) lws_callback_on_writable(wsi);
  }

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

  void HandleMessage(std::string_view text) {
    auto parsed = ParseJson(text, JsonLimits{.max_bytes = kMaxMessage, .max_depth = 128});
    if (!parsed.ok()) {
      std::fprintf(stderr, "edgewatch command: ignoring a message that is not JSON (%s)\n",
                   parsed.status().message().c_str());
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
        std::fprintf(stderr, "edgewatch command: %s\n", line.c_str());
      }
    } else if ((type == "welcome" || type == "authenticated") && verbose) {
      std::fprintf(stderr, "edgewatch command: %.*s\n", static_cast<int>(text.size()), text.data());
    }
    // heartbeat, pong and future types: nothing to do.
  }

  void OnEstablished() {
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

  int OnWriteable() {
    if (closing) {
      static const char kBye[] = "bye";
      lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
                       reinterpret_cast<unsigned char*>(const_cast<char*>(kBye)), 3);
      return -1;
    }
    if (outbox.empty()) return 0;
    std::string& msg = outbox.front();
    const size_t len = msg.size() - LWS_PRE;
    int n =
        lws_write(wsi, reinterpret_cast<unsigned char*>(msg.data()) + LWS_PRE, len, LWS_WRITE_TEXT);
    if (n < static_cast<int>(len)) {
      Finish(kExitFailure, "write to the server failed");
      return -1;
    }
    outbox.pop_front();
    if (!outbox.empty()) lws_callback_on_writable(wsi);
    return 0;
  }

  int OnReceive(const void* in, size_t len) {
    if (rx.size() + len > kMaxMessage) {
      Finish(kExitFailure, "server sent a message over 16 MiB");
      return -1;
    }
    rx.append(static_cast<const char*>(in), len);
    // A message may arrive split across several RECEIVE callbacks.
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return 0;
    if (lws_frame_is_binary(wsi)) {
      std::fprintf(stderr, "edgewatch command: ignoring a binary message of %zu bytes\n",
                   rx.size());
    } else {
      HandleMessage(rx);
    }
    rx.clear();
    return 0;
  }

  void OnClosed() {
    wsi = nullptr;
    finished = true;
    if (closing) return;
    exit_code = kExitFailure;
    if (peer_close_code) {
      failure = "connection closed by server: code " + std::to_string(*peer_close_code) +
                (peer_close_reason.empty() ? "" : " (" + peer_close_reason + ")");
    } else {
      failure = "connection lost (closed without a close frame)";
    }
  }
};

int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  (void)user;
  auto* t = static_cast<Command*>(lws_context_user(lws_get_context(wsi)));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string why = in != nullptr ? static_cast<const char*>(in) : "unknown error";
      unsigned int status = lws_http_client_http_response(wsi);
      if (status != 0 && status != 101) why += " (HTTP " + std::to_string(status) + ")";
      t->wsi = nullptr;
      t->finished = true;
      if (!t->closing) {
        t->exit_code = kExitFailure;
        t->failure = "cannot connect to " + t->url.scheme + "://" + t->url.HostPort() +
                     t->url.path + ": " + why;
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      t->wsi = wsi;
      if (!t->closing) t->OnEstablished();
      if (t->closing) lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return t->OnWriteable();
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (t->closing) return 0;
      return t->OnReceive(in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const auto* p = static_cast<const unsigned char*>(in);
        t->peer_close_code = (p[0] << 8) | p[1];
        t->peer_close_reason.assign(reinterpret_cast<const char*>(p) + 2, len - 2);
      } else {
        t->peer_close_code = 1005;  // no status code present
      }
      return 0;  // lws answers the close
    case LWS_CALLBACK_CLIENT_CLOSED:
      t->OnClosed();
      return 0;
    case LWS_CALLBACK_RAW_RX_FILE: {
      int sig = ConsumeSignal(wsi);
      if (sig != 0) t->Finish(kExitOk, "");
      return 0;
    }
    default:
      return 0;
  }
}

const struct lws_protocols kProtocols[] = {
    {kProtocol, Callback, 0, 64 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
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
  if (!token_file.empty()) {
    FILE* f = std::fopen(token_file.c_str(), "r");
    if (f == nullptr) {
      std::fprintf(stderr, "edgewatch command: --token-file %s: %s\n", token_file.c_str(),
                   std::strerror(errno));
      return kExitUsage;
    }
    char buf[16384];
    size_t n = std::fread(buf, 1, sizeof(buf), f);
    std::fclose(f);
    token.assign(buf, n);
    while (!token.empty() &&
           (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
  } else if (token.empty()) {
    if (const char* env = std::getenv("EDGEWATCH_TOKEN")) token = env;
  }

  Command t;
  t.url = *url;
  t.token = token;
  t.target = words[0];
  t.name = words[1];
  t.args_json = args_json;
  t.timeout_ms = timeout_ms;
  t.verbose = verbose;
  t.context = CreateClientContext(kProtocols, &t, verbose);
  if (t.context == nullptr) {
    std::fprintf(stderr, "edgewatch command: cannot create the lws context\n");
    return kExitFailure;
  }
  if (Status s = WatchSignals(t.context, kProtocol); !s.ok()) {
    std::fprintf(stderr, "edgewatch command: %s\n", s.ToString().c_str());
    lws_context_destroy(t.context);
    return kExitFailure;
  }
  // A bound for the whole run: the gateway answers timeout itself; this covers a silent server.
  lws_sul_schedule(
      t.context, 0, &t.timeout_timer.sul,
      [](lws_sorted_usec_list_t* sul) {
        reinterpret_cast<CmdTimer*>(sul)->cmd->Finish(kExitFailure, "no answer from the gateway");
      },
      ((timeout_ms > 0 ? timeout_ms : 10000) + 5000) * 1000);

  std::string host_port = t.url.HostPort();
  struct lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = t.context;
  ci.address = t.url.host.c_str();
  ci.port = t.url.port;
  ci.path = t.url.path.c_str();
  ci.host = host_port.c_str();
  ci.ssl_connection = ClientTlsFlags(t.url.tls(), insecure);
  ci.local_protocol_name = kProtocol;  // no Sec-WebSocket-Protocol header is sent
  ci.pwsi = &t.wsi;
  if (lws_client_connect_via_info(&ci) == nullptr && !t.finished) {
    t.failure = "cannot connect to " + url_text;
    t.finished = true;
  }
  while (!t.finished) {
    if (lws_service(t.context, 0) < 0) break;
  }
  lws_context_destroy(t.context);
  if (!t.failure.empty()) std::fprintf(stderr, "edgewatch command: %s\n", t.failure.c_str());
  return t.exit_code;
}

}  // namespace edgewatch::cli
