#include "edgewatch/app/daemon_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "edgewatch/base/paths.h"

#ifndef EDGEWATCH_VERSION
#define EDGEWATCH_VERSION "0.0.0"
#endif
#ifndef EDGEWATCH_WEB_ROOT
#define EDGEWATCH_WEB_ROOT "/usr/share/edgewatch/web"
#endif

namespace edgewatch::app {
namespace {

Result<int> ParseInt(std::string_view what, std::string_view text, int min, int max) {
  int v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument(std::string(what) + " must be an integer in [" + std::to_string(min) +
                           ", " + std::to_string(max) + "], got '" + std::string(text) + "'");
  }
  return v;
}

Status ParseListen(std::string_view text, fw::GatewayConfig* gw) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return InvalidArgument("--listen expects HOST:PORT");
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  EW_ASSIGN_OR_RETURN(int port, ParseInt("--listen port", text.substr(colon + 1), 0, 65535));
  gw->listen_host = host.empty() ? "0.0.0.0" : host;
  gw->listen_port = port;
  return OkStatus();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Integer config keys and the flags that set the same field.
struct IntKey {
  const char* key;   // config file key
  const char* flag;  // command-line flag
  int min;
  int max;
  int fw::GatewayConfig::*field;
};

const IntKey kIntKeys[] = {
    {"heartbeat_s", "--heartbeat-s", 1, 3600, &fw::GatewayConfig::heartbeat_s},
    {"ping_s", "--ping-s", 1, 3600, &fw::GatewayConfig::ping_s},
    {"idle_timeout_s", "--idle-timeout-s", 2, 3600, &fw::GatewayConfig::idle_timeout_s},
    {"refresh_s", "--refresh-s", 0, 3600, &fw::GatewayConfig::refresh_s},
    {"max_connections", "--max-connections", 1, 100000, &fw::GatewayConfig::max_ws_connections},
    {"max_producers", "--max-producers", 1, 4096, &fw::GatewayConfig::max_ingest_connections},
    {"auth_timeout_s", "--auth-timeout-s", 1, 3600, &fw::GatewayConfig::auth_timeout_s},
    {"expiry_grace_s", "--expiry-grace-s", 0, 86400, &fw::GatewayConfig::expiry_grace_s},
    {"handshake_timeout_s", "--handshake-timeout-s", 1, 600,
     &fw::GatewayConfig::handshake_timeout_s},
    {"sio_ping_interval_ms", "--sio-ping-interval-ms", 100, 120000,
     &fw::GatewayConfig::sio_ping_interval_ms},
    {"sio_ping_timeout_ms", "--sio-ping-timeout-ms", 100, 120000,
     &fw::GatewayConfig::sio_ping_timeout_ms},
};

// Rate settings (per second) and the flags that set them.
struct RateKey {
  const char* key;
  const char* flag;
  double fw::GatewayConfig::*field;
};

const RateKey kRateKeys[] = {
    {"msg_rate", "--msg-rate", &fw::GatewayConfig::msg_rate},
    {"msg_burst", "--msg-burst", &fw::GatewayConfig::msg_burst},
    {"conn_rate_per_ip", "--conn-rate", &fw::GatewayConfig::conn_rate_per_ip},
    {"conn_burst_per_ip", "--conn-burst", &fw::GatewayConfig::conn_burst_per_ip},
    {"cpu_shed_percent", "--cpu-shed-percent", &fw::GatewayConfig::cpu_shed_percent},
    {"thermal_limit_c", "--thermal-limit-c", &fw::GatewayConfig::thermal_limit_c},
    {"shed_rate_hz", "--shed-rate-hz", &fw::GatewayConfig::shed_rate_hz},
};

Result<double> ParseRate(std::string_view what, std::string_view text) {
  std::string t(text);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || !(v > 0) || v > 1e6) {
    return InvalidArgument(std::string(what) + " must be a positive number, got '" + t + "'");
  }
  return v;
}

// "0660" / "660": 1 to 4 octal digits, at most 0777.
Result<int> ParseMode(std::string_view what, std::string_view text) {
  int v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v, 8);
  if (text.empty() || text.size() > 4 || r.ec != std::errc() ||
      r.ptr != text.data() + text.size() || v < 0 || v > 0777) {
    return InvalidArgument(std::string(what) + " must be an octal mode such as 0660, got '" +
                           std::string(text) + "'");
  }
  return v;
}

// "--tls auto" / "--tls off".
Status ParseTlsMode(std::string_view what, std::string_view text, DaemonOptions* o) {
  if (text == "auto") {
    o->tls_auto = true;
  } else if (text == "off") {
    o->tls_auto = false;
    o->gateway.tls_cert_path.clear();
    o->gateway.tls_key_path.clear();
  } else {
    return InvalidArgument(std::string(what) +
                           " must be auto or off (or use --tls-cert/--tls-key)");
  }
  return OkStatus();
}

Status ApplyConfigFile(const std::string& path, DaemonOptions* o) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Status s = ParseConfigJson(text, o);
  if (!s.ok()) return Status(s.code(), path + ": " + s.message());
  return OkStatus();
}

}  // namespace

Status ParseConfigJson(std::string_view text, DaemonOptions* o) {
  auto parsed = ParseJson(text, JsonLimits{1 << 20, 32});
  if (!parsed.ok()) return InvalidArgument(parsed.status().message());
  const cJSON* root = parsed->get();
  if (!cJSON_IsObject(root)) return InvalidArgument("top level must be an object");
  if (auto v = GetString(root, "listen")) EW_TRY(ParseListen(*v, &o->gateway));
  if (auto v = GetString(root, "ingest")) o->gateway.ingest_path = std::string(*v);
  if (auto v = GetString(root, "ingest_group")) o->gateway.ingest_group = std::string(*v);
  if (cJSON_GetObjectItemCaseSensitive(root, "ingest_mode") != nullptr) {
    auto v = GetString(root, "ingest_mode");
    if (!v) return InvalidArgument("\"ingest_mode\" must be a string such as \"0660\"");
    EW_ASSIGN_OR_RETURN(o->gateway.ingest_mode, ParseMode("\"ingest_mode\"", *v));
  }
  if (auto v = GetString(root, "tls")) EW_TRY(ParseTlsMode("\"tls\"", *v, o));
  if (auto v = GetString(root, "tls_cert")) o->gateway.tls_cert_path = std::string(*v);
  if (auto v = GetString(root, "tls_key")) o->gateway.tls_key_path = std::string(*v);
  if (auto v = GetString(root, "state_dir")) o->state_dir = std::string(*v);
  if (auto v = GetBool(root, "demo")) o->demo = *v;
  if (auto v = GetBool(root, "mdns")) o->mdns = *v;
  if (auto v = GetString(root, "mdns_name")) o->mdns_name = std::string(*v);
  if (auto v = GetString(root, "web_root")) o->web_root = std::string(*v);
  if (auto v = GetString(root, "jwt_secret_file")) o->jwt_secret_file = std::string(*v);
  if (auto v = GetString(root, "audience")) o->gateway.verify.audience = std::string(*v);
  if (auto v = GetBool(root, "allow_no_exp")) o->gateway.verify.allow_no_exp = *v;
  if (auto v = GetInt(root, "leeway_s")) o->gateway.verify.leeway_s = *v;
  if (const cJSON* origins = cJSON_GetObjectItemCaseSensitive(root, "allowed_origins")) {
    if (!cJSON_IsArray(origins)) {
      return InvalidArgument("\"allowed_origins\" must be an array of strings");
    }
    const cJSON* item = nullptr;
    cJSON_ArrayForEach(item, origins) {
      if (!cJSON_IsString(item)) {
        return InvalidArgument("\"allowed_origins\" must be an array of strings");
      }
      o->gateway.allowed_origins.emplace_back(item->valuestring);
    }
  }
  for (const RateKey& k : kRateKeys) {
    auto v = GetNumber(root, k.key);
    if (!v) continue;
    if (!(*v > 0)) return InvalidArgument(std::string("\"") + k.key + "\" must be positive");
    o->gateway.*k.field = *v;
  }
  for (const IntKey& k : kIntKeys) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(root, k.key);
    if (item == nullptr) continue;
    auto v = GetInt(root, k.key);
    if (!v || *v < k.min || *v > k.max) {
      return InvalidArgument(std::string("\"") + k.key + "\" must be an integer in [" +
                             std::to_string(k.min) + ", " + std::to_string(k.max) + "]");
    }
    o->gateway.*k.field = static_cast<int>(*v);
  }
  if (const cJSON* h = cJSON_GetObjectItemCaseSensitive(root, "history")) {
    auto v = GetInt(root, "history");
    if (!v || *v < 1 || *v > 100000) {
      return InvalidArgument("\"history\" must be an integer in [1, 100000]");
    }
    (void)h;
    o->gateway.bus.history_len = static_cast<size_t>(*v);
  }
  if (cJSON_GetObjectItemCaseSensitive(root, "memory_mb") != nullptr) {
    auto v = GetInt(root, "memory_mb");
    if (!v || *v < 1 || *v > (1 << 20)) {
      return InvalidArgument("\"memory_mb\" must be an integer in [1, 1048576]");
    }
    o->gateway.memory_budget_bytes = static_cast<size_t>(*v) << 20;
  }
  if (const cJSON* q = cJSON_GetObjectItemCaseSensitive(root, "session_queue_kb")) {
    auto v = GetInt(root, "session_queue_kb");
    if (!v || *v < 4 || *v > 1 << 20) {
      return InvalidArgument("\"session_queue_kb\" must be an integer in [4, 1048576]");
    }
    (void)q;
    o->gateway.session_queue_bytes = static_cast<size_t>(*v) * 1024;
  }
  auto policy = ParsePolicyConfig(root);
  if (!policy.ok()) return InvalidArgument(policy.status().message());
  o->policy = std::move(policy).value();
  if (const cJSON* rules = cJSON_GetObjectItemCaseSensitive(root, "rules")) {
    auto parsed_rules = alerts::ParseRules(rules, &o->board);  // roles checked against the board
    if (!parsed_rules.ok()) return InvalidArgument(parsed_rules.status().message());
    o->rules = std::move(parsed_rules).value();
  }
  auto forecasts = forecast::ParseForecastConfig(root);  // "forecasts" (docs/forecasts.md)
  if (!forecasts.ok()) return forecasts.status();
  o->forecasts = std::move(forecasts).value();
  EW_TRY(mqtt::ParseMqttConfigJson(root, &o->mqtt));  // "mqtt", "mqtt_ingest" (docs/mqtt.md)
  return OkStatus();
}

std::string DaemonUsage() {
  return R"(edgewatchd — streams an on-device CV pipeline's telemetry to phones and browsers.

Usage: edgewatchd [options]

Listeners
  --listen HOST:PORT       HTTP + WebSocket listener (default 0.0.0.0:8080; port 0 = ephemeral)
  --ingest PATH            producers' Unix socket (default $RUNTIME_DIRECTORY/ingest.sock, else
                           /run/edgewatch/ingest.sock when writable, else
                           /tmp/edgewatch-$UID/ingest.sock)
  --ingest-group NAME      group owning the ingest socket (default: edgewatchd's own group;
                           edgewatchd must be root or a member of NAME)
  --ingest-mode MODE       octal permissions of the ingest socket (default 0660: only its owner
                           and group may publish)
TLS (HTTPS and WSS on the --listen port; plain HTTP/WS is then refused)
  --tls auto               serve a self-signed ECDSA P-256 certificate for this machine's
                           hostname, hostname.local and addresses, generated on first start into
                           <state-dir>/tls (key.pem mode 0600) and reused later; its SHA-256
                           fingerprint is logged at start for users to verify on their phones
  --tls off                no TLS (the default; overrides the config file)
  --tls-cert FILE --tls-key FILE   serve this PEM certificate (chain) and private key instead
Board and configuration
  --board FILE             board file (name, budgets, GPIO roles, thermal zone). Default: chosen
                           from /proc/device-tree/model, else boards/generic-x86_64.json
  --config FILE            JSON configuration (keys: listen, ingest, ingest_group, ingest_mode
                           (a string, "0660"), tls ("auto"/"off"), tls_cert, tls_key, state_dir,
                           demo, web_root,
                           heartbeat_s, ping_s, idle_timeout_s, refresh_s, max_connections,
                           max_producers, history, session_queue_kb, suppression,
                           jwt_secret_file, audience, leeway_s, allow_no_exp, allowed_origins,
                           auth_timeout_s, expiry_grace_s, handshake_timeout_s,
                           sio_ping_interval_ms, sio_ping_timeout_ms, msg_rate,
                           msg_burst, conn_rate_per_ip, conn_burst_per_ip, rules: alert rules,
                           see docs/hardware.md)
                           Forecasts: keys forecasts, forecast_max_series, see
                           docs/forecasts.md; --demo alone forecasts each camera's people_count
  --state-dir DIR          where state is kept (default /var/lib/edgewatch when writable, else
                           ~/.local/state/edgewatch)
  --demo                   run the built-in demo pipeline (two cameras and a training run),
                           publishing through the ingest socket like any producer
  --web-root DIR           the dashboard served at / (built by web/build.mjs; default
                           )" EDGEWATCH_WEB_ROOT R"(; "" = none)
Protocol timing
  --heartbeat-s N          JSON heartbeat period (default 30)
  --ping-s N               WebSocket PING after N s without traffic from a client (default 30)
  --idle-timeout-s N       close a client silent for N s (default 60)
  --refresh-s N            re-send an unchanged topic at least every N s (default 10; 0 = off)
  --sio-ping-interval-ms N --sio-ping-timeout-ms N   Socket.IO (Engine.IO) ping period and
                           pong deadline (defaults 25000 and 20000; up to 120000)
Limits
  --max-connections N      WebSocket clients (default: the board's budget.max_connections)
  --max-producers N        concurrent ingest connections (default 64)
  --history N              events kept per topic (default 100)
  --session-queue-kb N     unsent bytes per client before coalescing / close 4408 (default:
                           the board's budget.session_queue_kb, 256)
  --memory-mb N            memory budget for admission (default: the board's budget.memory_mb)
Load shedding (refuse new connections, down-sample per-frame topics)
  --cpu-shed-percent P     shed while CPU >= P % (default 80; recover 10 points below)
  --thermal-limit-c C      shed while the board's thermal zone >= C (default: the board's limit)
  --shed-rate-hz R         per-frame topics' rate while shedding (default 2)
Security (docs/protocol.md: tokens, close codes, limits)
  --jwt-secret-file FILE   HS256 secret (default <state-dir>/jwt.secret; created with 32 random
                           bytes, mode 0600, when absent)
  --audience AUD           require tokens whose aud contains AUD
  --leeway-s N             clock leeway for exp/nbf (default 30)
  --allow-no-exp           accept tokens without exp
  --auth-timeout-s N       first-frame auth must arrive within N s of the upgrade (default 10)
  --expiry-grace-s N       after token_expired, close 4401 unless refreshed within N s (default 30)
  --allowed-origin ORIGIN  also accept this browser Origin (repeatable; "*" = any). Default: only
                           the gateway's own host
  --msg-rate R --msg-burst B     inbound messages per client (default 20/s, burst 40; beyond:
                           close 4429)
  --conn-rate R --conn-burst B   new requests per address (default 10/s, burst 20; beyond: 429)
  --handshake-timeout-s N  drop HTTP requests/handshakes not complete within N s (default 10)
  --no-auth                accept clients without a token (logs a warning)
Discovery (docs/pairing.md)
  --no-mdns                do not advertise _edgewatch._tcp and _http._tcp through avahi-daemon
                           (config "mdns": false)
  --mdns-name NAME         mDNS service name (config "mdns_name"; default "<board> on <host>")
Operation
  --log-level LEVEL        debug | info | warn | error (default info)
  --log-format FORMAT      text | json (default text)
  --ready-fd N             when ready, write one JSON line {"port","ingest","pid","epoch"} to
                           file descriptor N and close it (for supervisors and tests)
  --proc-root DIR          read /proc and /sys under DIR (testing)
  --resources-ms N         system/resources period in ms (default 2000)
MQTT (docs/mqtt.md; config keys "mqtt" and "mqtt_ingest": credentials, TLS, prefix, topics)
  --mqtt URL               publish bus topics (default pipeline/#, alerts, system/#) to the broker
                           at mqtt://[user:pass@]HOST[:PORT] (mqtts:// for TLS) as
                           edgewatch/<hostname>/<topic>; alerts and errors at QoS 1 through an
                           on-disk outbox (<state-dir>/mqtt-outbox.db). Prefer the config's
                           password_file to a password in the URL (visible in ps)
  --mqtt-ingest URL        map DeepStream and Frigate payloads from this broker onto pipeline/
                           topics (default topics deepstream/#, frigate/events, frigate/stats)
  --help                   this text

Signals: SIGINT/SIGTERM close every client with 1001 "going away" and exit 0.
Version: )" EDGEWATCH_VERSION "\n";
}

Result<DaemonOptions> ParseDaemonOptions(const std::vector<std::string>& args,
                                         const std::string& boards_dir) {
  DaemonOptions o;
  o.gateway.server_name = std::string("edgewatch/") + EDGEWATCH_VERSION;
  o.web_root = EDGEWATCH_WEB_ROOT;
  // First pass: --help, --board and --config, which set the base the other flags override.
  std::string board_arg;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
      return o;
    }
    if ((a == "--board" || a == "--config") && i + 1 < args.size()) {
      (a == "--board" ? board_arg : o.config_file) = args[++i];
    }
  }

  // Board: explicit, else detected, else generic.
  if (board_arg.empty()) {
    auto detected = hal::DetectBoardFile(boards_dir);
    if (!detected.ok()) return detected.status();
    o.board_file = *detected;
  } else if (board_arg.find('/') == std::string::npos && !FileExists(board_arg)) {
    std::string name = board_arg;
    if (name.size() < 5 || name.substr(name.size() - 5) != ".json") name += ".json";
    o.board_file = boards_dir + "/" + name;
  } else {
    o.board_file = board_arg;
  }
  auto board = hal::LoadBoardFile(o.board_file);
  if (!board.ok())
    return InvalidArgument("board " + o.board_file + ": " + board.status().message());
  o.board = std::move(board).value();
  if (o.board.budget.max_connections > 0) {
    o.gateway.max_ws_connections = o.board.budget.max_connections;
  }
  if (o.board.budget.session_queue_kb > 0) {
    o.gateway.session_queue_bytes = static_cast<size_t>(o.board.budget.session_queue_kb) * 1024;
  }
  if (o.board.budget.memory_mb > 0) {
    o.gateway.memory_budget_bytes = static_cast<size_t>(o.board.budget.memory_mb) << 20;
  }
  if (o.board.thermal && o.board.thermal->limit_c > 0) {
    o.gateway.thermal_limit_c = o.board.thermal->limit_c;
  }

  if (!o.config_file.empty()) EW_TRY(ApplyConfigFile(o.config_file, &o));

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size()) return InvalidArgument(a + " needs a value");
      return args[++i];
    };
    if (a == "--board" || a == "--config") {
      ++i;
    } else if (a == "--listen") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_TRY(ParseListen(v, &o.gateway));
    } else if (a == "--ingest") {
      EW_ASSIGN_OR_RETURN(o.gateway.ingest_path, value());
    } else if (a == "--ingest-group") {
      EW_ASSIGN_OR_RETURN(o.gateway.ingest_group, value());
    } else if (a == "--ingest-mode") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(o.gateway.ingest_mode, ParseMode(a, v));
    } else if (a == "--tls") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_TRY(ParseTlsMode(a, v, &o));
    } else if (a == "--tls-cert") {
      EW_ASSIGN_OR_RETURN(o.gateway.tls_cert_path, value());
    } else if (a == "--tls-key") {
      EW_ASSIGN_OR_RETURN(o.gateway.tls_key_path, value());
    } else if (a == "--state-dir") {
      EW_ASSIGN_OR_RETURN(o.state_dir, value());
    } else if (a == "--demo") {
      o.demo = true;
    } else if (a == "--web-root") {
      EW_ASSIGN_OR_RETURN(o.web_root, value());
    } else if (a == "--no-auth") {
      o.no_auth = true;
    } else if (a == "--no-mdns") {
      o.mdns = false;
    } else if (a == "--mdns-name") {
      EW_ASSIGN_OR_RETURN(o.mdns_name, value());
    } else if (a == "--jwt-secret-file") {
      EW_ASSIGN_OR_RETURN(o.jwt_secret_file, value());
    } else if (a == "--audience") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      o.gateway.verify.audience = v;
    } else if (a == "--leeway-s") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(int n, ParseInt(a, v, 0, 3600));
      o.gateway.verify.leeway_s = n;
    } else if (a == "--allow-no-exp") {
      o.gateway.verify.allow_no_exp = true;
    } else if (a == "--allowed-origin") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      o.gateway.allowed_origins.push_back(v);
    } else if (a == "--ready-fd") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(o.ready_fd, ParseInt(a, v, 0, 1 << 20));
    } else if (a == "--resources-ms") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(o.resources_period_ms, ParseInt(a, v, 50, 3600000));
    } else if (a == "--history") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(int n, ParseInt(a, v, 1, 100000));
      o.gateway.bus.history_len = static_cast<size_t>(n);
    } else if (a == "--memory-mb") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(int n, ParseInt(a, v, 1, 1 << 20));
      o.gateway.memory_budget_bytes = static_cast<size_t>(n) << 20;
    } else if (a == "--session-queue-kb") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      EW_ASSIGN_OR_RETURN(int n, ParseInt(a, v, 4, 1 << 20));
      o.gateway.session_queue_bytes = static_cast<size_t>(n) * 1024;
    } else if (a == "--mqtt" || a == "--mqtt-ingest") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      Status url =
          mqtt::ParseMqttUrl(v, a == "--mqtt" ? &o.mqtt.uplink.broker : &o.mqtt.ingest.broker);
      if (!url.ok()) return InvalidArgument(a + ": " + url.message());
    } else if (a == "--proc-root") {
      EW_ASSIGN_OR_RETURN(o.proc_root, value());
    } else if (a == "--log-level") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      if (!log::ParseLevel(v, &o.log_level)) {
        return InvalidArgument("--log-level must be debug, info, warn or error");
      }
    } else if (a == "--log-format") {
      EW_ASSIGN_OR_RETURN(std::string v, value());
      if (v == "text") {
        o.log_format = log::Format::kText;
      } else if (v == "json") {
        o.log_format = log::Format::kJson;
      } else {
        return InvalidArgument("--log-format must be text or json");
      }
    } else {
      bool matched = false;
      for (const RateKey& k : kRateKeys) {
        if (a != k.flag) continue;
        EW_ASSIGN_OR_RETURN(std::string v, value());
        EW_ASSIGN_OR_RETURN(o.gateway.*k.field, ParseRate(a, v));
        matched = true;
      }
      for (const IntKey& k : kIntKeys) {
        if (a != k.flag) continue;
        EW_ASSIGN_OR_RETURN(std::string v, value());
        EW_ASSIGN_OR_RETURN(o.gateway.*k.field, ParseInt(a, v, k.min, k.max));
        matched = true;
      }
      if (!matched) return InvalidArgument("unknown option " + a + " (see --help)");
    }
  }

  if (o.gateway.ingest_path.empty()) o.gateway.ingest_path = DefaultIngestPath();
  if (o.state_dir.empty()) {
    if (::access("/var/lib/edgewatch", W_OK) == 0) {
      o.state_dir = "/var/lib/edgewatch";
    } else if (const char* home = std::getenv("HOME")) {
      o.state_dir = std::string(home) + "/.local/state/edgewatch";
    } else {
      o.state_dir = "/tmp/edgewatch-" + std::to_string(::getuid()) + "/state";
    }
  }
  if (o.jwt_secret_file.empty()) o.jwt_secret_file = o.state_dir + "/jwt.secret";
  const bool tls_files = !o.gateway.tls_cert_path.empty() || !o.gateway.tls_key_path.empty();
  if (o.tls_auto && tls_files) {
    return InvalidArgument("--tls auto and --tls-cert/--tls-key exclude each other");
  }
  if (tls_files && (o.gateway.tls_cert_path.empty() || o.gateway.tls_key_path.empty())) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  EW_TRY(mqtt::ResolveMqttDefaults(&o.mqtt));
  EW_TRY(mqtt::LoadMqttSecrets(&o.mqtt.uplink.broker));
  EW_TRY(mqtt::LoadMqttSecrets(&o.mqtt.ingest.broker));
  o.gateway.auth_enabled = !o.no_auth;
  return o;
}

}  // namespace edgewatch::app
