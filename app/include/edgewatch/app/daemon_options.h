// DaemonOptions: everything edgewatchd is told at start, from defaults, the board file, the
// config file (JSON) and command-line flags, in that order of precedence (flags win).
//
// Pure parsing, no side effects except reading the files named; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "edgewatch/app/alerts/rule.h"
#include "edgewatch/app/forecast/forecast_config.h"
#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/app/policy_config.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/log.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/hal/board.h"

namespace edgewatch::app {

struct DaemonOptions {
  fw::GatewayConfig gateway;
  std::string board_file;  // resolved path
  hal::BoardSpec board;
  std::string config_file;
  std::string state_dir;
  // --tls auto: serve a self-signed certificate generated into <state_dir>/tls on first start.
  // Excludes gateway.tls_cert_path/tls_key_path (--tls-cert/--tls-key), which go together.
  bool tls_auto = false;
  bool demo = false;
  bool no_auth = false;
  // mDNS/DNS-SD advertisement through avahi-daemon (docs/pairing.md): --no-mdns / "mdns": false.
  bool mdns = true;
  std::string mdns_name;        // --mdns-name / "mdns_name"; empty: "<board> on <hostname>"
  std::string jwt_secret_file;  // default: <state_dir>/jwt.secret
  int ready_fd = -1;            // write {"port":..,"ingest":..,"pid":..,"epoch":..} here when ready
  int resources_period_ms = 2000;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  std::string proc_root;  // prefix for /proc and /sys (tests); empty = the real ones
  // The dashboard's built assets (--web-root, docs/dashboard.md; ParseDaemonOptions defaults it
  // to <install prefix>/share/edgewatch/web); empty = not served.
  std::string web_root;
  PolicyConfig policy;
  std::vector<alerts::Rule> rules;     // config "rules" (docs/hardware.md)
  forecast::ForecastConfig forecasts;  // config "forecasts" (docs/forecasts.md)
  mqtt::MqttConfig mqtt;  // --mqtt/--mqtt-ingest, config "mqtt"/"mqtt_ingest" (docs/mqtt.md)
  bool help = false;
};

// The usage text printed by --help (documents every option).
std::string DaemonUsage();

// Applies a JSON configuration (the text of a --config file) on top of `options`: every key
// documented in DaemonUsage() that is present overrides the field it names. Returns
// InvalidArgument naming the offending key (or the JSON error); `options` may then be partly
// updated. Pure; any thread.
Status ParseConfigJson(std::string_view json, DaemonOptions* options);

// Parses `args` (without argv[0]). `boards_dir` is where a board file named without a path or
// detected from /proc/device-tree/model is looked up. Returns InvalidArgument naming the flag
// or the config key that is wrong.
Result<DaemonOptions> ParseDaemonOptions(const std::vector<std::string>& args,
                                         const std::string& boards_dir);

}  // namespace edgewatch::app
