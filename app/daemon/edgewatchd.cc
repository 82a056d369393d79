// edgewatchd: the composition root. Parses options, chooses the HAL backends from the board
// file, wires the application policy into the gateway, starts the optional demo producer and
// runs the event loop on this thread until SIGINT/SIGTERM.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "edgewatch/app/alerts/alert_service.h"
#include "edgewatch/app/daemon_options.h"
#include "edgewatch/app/demo_producer.h"
#include "edgewatch/app/discovery/mdns_advertiser.h"
#include "edgewatch/app/forecast/forecast_service.h"
#include "edgewatch/app/mqtt/mqtt_service.h"
#include "edgewatch/app/system_publisher.h"
#include "edgewatch/app/telemetry_policy.h"
#include "edgewatch/app/web_assets.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/secret.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/tls/certificate.h"
#include "edgewatch/fw/tls/self_signed.h"
#include "edgewatch/hal/linux_sysinfo.h"
#include "edgewatch/hal/open_chip.h"
#include "edgewatch/hal/watchdog.h"

#ifndef EDGEWATCH_BOARDS_DIR
#define EDGEWATCH_BOARDS_DIR "/usr/share/edgewatch/boards"
#endif

namespace edgewatch::app {
namespace {

std::string BoardsDir() {
  if (const char* env = std::getenv("EDGEWATCH_BOARDS_DIR")) return env;
  return EDGEWATCH_BOARDS_DIR;
}

void WriteReady(int fd, const fw::Gateway& gw) {
  JsonWriter w;
  w.BeginObject()
      .Key("port")
      .Int(gw.port())
      .Key("ingest")
      .String(gw.ingest_path())
      .Key("pid")
      .Int(::getpid())
      .Key("epoch")
      .String(gw.epoch())
      .EndObject();
  std::string line = w.Take() + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  (void)n;
  ::close(fd);
}

// --tls auto: loads or generates <state-dir>/tls/{cert,key}.pem and points the gateway at them.
// --tls-cert/--tls-key: checks the pair. Either way logs the certificate's SHA-256 fingerprint
// (over its DER encoding) so a phone user can verify it; never the key. Blocking file I/O.
Status PrepareTls(DaemonOptions& opts) {
  fw::tls::CertificateInfo info;
  if (opts.tls_auto) {
    std::string dir = opts.state_dir + "/tls";
    EW_ASSIGN_OR_RETURN(
        fw::tls::SelfSignedCertificate c,
        fw::tls::LoadOrCreateSelfSigned(dir, fw::tls::LocalHostIdentity(), UnixMillis() / 1000));
    if (c.created) {
      EW_INFO("tls", "generated a self-signed certificate %s (%s)", c.cert_path.c_str(),
              c.reason.c_str());
    } else {
      EW_INFO("tls", "using the self-signed certificate %s", c.cert_path.c_str());
    }
    if (!c.uncovered.empty()) {
      std::string names;
      for (const std::string& n : c.uncovered) names += (names.empty() ? "" : ", ") + n;
      EW_WARN("tls",
              "the certificate does not name %s (the machine was renamed or readdressed); delete "
              "%s to generate a new one (its fingerprint will change)",
              names.c_str(), dir.c_str());
    }
    opts.gateway.tls_cert_path = c.cert_path;
    opts.gateway.tls_key_path = c.key_path;
    info = std::move(c.info);
  } else if (!opts.gateway.tls_cert_path.empty()) {
    EW_ASSIGN_OR_RETURN(info, fw::tls::InspectCertificateFile(opts.gateway.tls_cert_path));
    EW_TRY(fw::tls::CheckKeyFileMatchesCertificateFile(opts.gateway.tls_key_path,
                                                       opts.gateway.tls_cert_path));
  } else {
    return OkStatus();
  }
  std::string names;
  for (const std::string& n : info.dns_names) names += (names.empty() ? "" : " ") + n;
  for (const std::string& n : info.ip_addresses) names += (names.empty() ? "" : " ") + n;
  EW_INFO("tls", "certificate for %s (%s %zu-bit key), names: %s", info.subject.c_str(),
          info.key_type.c_str(), info.key_bits, names.empty() ? "(none)" : names.c_str());
  if (info.not_after_s <= UnixMillis() / 1000) {
    EW_WARN("tls", "the certificate %s has expired: clients will refuse it",
            opts.gateway.tls_cert_path.c_str());
  }
  EW_INFO("tls", "certificate SHA-256 fingerprint %s", info.fingerprint_sha256.c_str());
  return OkStatus();
}

// The dashboard (docs/dashboard.md): the built assets of `web_root`, read into memory now
// (blocking I/O, before the loop runs) and served at / without a token. Without them the
// gateway runs as before and / answers 404 with a hint; one log line says why.
void ServeDashboard(const std::string& web_root, fw::Gateway& gw) {
  if (web_root.empty()) return;
  auto assets = WebAssets::Load(web_root);
  if (!assets.ok()) {
    EW_WARN("web", "dashboard not served: %s", assets.status().message().c_str());
    gw.http().Add("/", [](const fw::HttpRequest&) {
      return fw::JsonError(404, "not_found",
                           "the dashboard is not installed on this gateway (--web-root; "
                           "docs/dashboard.md)");
    });
    return;
  }
  assets->Register(gw.http());
  EW_INFO("web", "dashboard served from %s (%zu files, %zu KiB in memory)", web_root.c_str(),
          assets->file_count(), assets->bytes() / 1024);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = ParseDaemonOptions(args, BoardsDir());
  if (!parsed.ok()) {
    std::fprintf(stderr, "edgewatchd: %s\n", parsed.status().message().c_str());
    return 2;
  }
  DaemonOptions opts = std::move(parsed).value();
  if (opts.help) {
    std::fputs(DaemonUsage().c_str(), stdout);
    return 0;
  }
  log::SetLevel(opts.log_level);
  log::SetFormat(opts.log_format);
  log::InstallLwsLogger(opts.log_level == log::Level::kDebug ? log::Level::kInfo
                                                             : log::Level::kWarn);

  if (!opts.no_auth) {
    auto secret = fw::auth::LoadOrCreateSecret(opts.jwt_secret_file);
    if (!secret.ok()) {
      EW_ERROR("main", "JWT secret %s: %s", opts.jwt_secret_file.c_str(),
               secret.status().ToString().c_str());
      return 1;
    }
    opts.gateway.verify.secret = std::move(secret).value();
  }

  if (Status tls = PrepareTls(opts); !tls.ok()) {
    EW_ERROR("main", "TLS: %s", tls.ToString().c_str());
    return 1;
  }

  TelemetryPolicy policy(opts.policy);
  // Forecasts (docs/forecasts.md): the tap hands every accepted update to the service; fitting
  // runs on its worker thread. The demo forecasts each camera's people_count unless configured.
  if (opts.demo && opts.forecasts.specs.empty()) {
    opts.forecasts.specs = forecast::DemoForecastConfig().specs;
  }
  forecast::ForecastService forecasts(opts.forecasts);
  forecast::ForecastTap forecast_tap(policy, forecasts);
  // Socket.IO clients of seed 003 listen for these event names (docs/socketio.md); the firmware
  // only knows patterns and names.
  opts.gateway.sio_event_aliases = {{"pipeline/+/status", "pipeline_status_update"},
                                    {"pipeline/+/frame", "pipeline_frame_update"},
                                    {"pipeline/+/analytics", "pipeline_analytics_update"},
                                    {"pipeline/+/error", "pipeline_error_update"}};
  fw::Gateway gw(opts.gateway, &forecast_tap);
  ServeDashboard(opts.web_root, gw);
  Status started = gw.Start();
  if (!started.ok()) {
    EW_ERROR("main", "cannot start: %s", started.ToString().c_str());
    return 1;
  }

  EW_INFO("main", "%s started: board %s (%s), budget %d MiB / %d connections / %d KiB per client",
          opts.gateway.server_name.c_str(), opts.board.name.c_str(), opts.board_file.c_str(),
          opts.board.budget.memory_mb, opts.gateway.max_ws_connections,
          static_cast<int>(opts.gateway.session_queue_bytes / 1024));
  const bool tls = !opts.gateway.tls_cert_path.empty();
  EW_INFO("main", "listening on %s://%s:%d (WebSocket at /ws%s), ingest socket %s, epoch %s",
          tls ? "https" : "http", opts.gateway.listen_host.c_str(), gw.port(),
          tls ? ", wss only" : "", gw.ingest_path().c_str(), gw.epoch().c_str());
  if (opts.no_auth) {
    EW_WARN("main", "authentication is OFF (--no-auth): anyone who can reach the port can read");
  } else {
    EW_INFO("main",
            "authentication on: HS256 tokens signed with %s (mint one with `edgewatch token`)",
            opts.jwt_secret_file.c_str());
  }

  hal::LinuxSysInfo sysinfo(opts.proc_root);
  SystemPublisher system(gw, sysinfo, opts.board.thermal ? opts.board.thermal->zone : "");
  system.Start(opts.resources_period_ms);

  // GPIO by role from the board file, and the alert rules that drive it (docs/hardware.md).
  auto chip = hal::OpenChip(opts.board);
  if (!chip.ok()) {
    EW_ERROR("main", "GPIO (board %s): %s", opts.board.name.c_str(),
             chip.status().ToString().c_str());
    return 1;
  }
  auto alerting =
      alerts::AlertService::Start(gw, chip->get(), std::move(opts.rules), opts.state_dir);
  if (!alerting.ok()) {
    EW_ERROR("main", "alerts: %s", alerting.status().ToString().c_str());
    return 1;
  }

  DemoProducer demo;
  if (opts.demo) {
    Status s = demo.Start(gw.ingest_path());
    if (!s.ok()) {
      EW_ERROR("main", "demo pipeline: %s", s.ToString().c_str());
      return 1;
    }
    EW_INFO("main", "demo pipeline publishing to %s (cam1 ~30 FPS, cam2 ~15 FPS)",
            gw.ingest_path().c_str());
  }

  if (Status s = forecasts.Attach(gw); !s.ok()) {
    EW_ERROR("main", "forecasts: %s", s.ToString().c_str());
    return 1;
  }

  // MQTT uplink and ingest on this loop (docs/mqtt.md); idle unless --mqtt/--mqtt-ingest/config.
  auto mqtt_service = mqtt::MqttService::Start(gw, opts.mqtt, opts.state_dir);
  if (!mqtt_service.ok()) {
    EW_ERROR("main", "MQTT: %s", mqtt_service.status().ToString().c_str());
    return 1;
  }

  // systemd (deploy/edgewatch.service: Type=notify, WatchdogSec=): READY=1 once listening, then
  // WATCHDOG=1 from a loop timer, so a stalled event loop stops the kicks and gets restarted.
  // Every call is a no-op outside systemd.
  hal::Watchdog watchdog;
  if (watchdog.Interval().count() > 0) {
    gw.Every(watchdog.Interval().count(), [&watchdog] { (void)watchdog.Kick(); });
  }
  // mDNS/DNS-SD (docs/pairing.md): a missing avahi-daemon is one log line, not an error.
  std::unique_ptr<discovery::MdnsAdvertiser> mdns;
  if (opts.mdns) {
    discovery::MdnsOptions m;
    m.name =
        opts.mdns_name.empty() ? discovery::DefaultInstanceName(opts.board.name) : opts.mdns_name;
    m.port = gw.port();
    const std::string& server = opts.gateway.server_name;  // "edgewatch/<version>"
    m.txt = discovery::GatewayTxtRecords(opts.board.name, server.substr(server.find('/') + 1),
                                         !opts.gateway.tls_cert_path.empty(), !opts.no_auth);
    mdns = std::make_unique<discovery::MdnsAdvertiser>(gw, std::move(m));
    if (Status s = mdns->Start(); !s.ok()) {
      EW_WARN("mdns", "not advertising: %s", s.ToString().c_str());
      mdns.reset();
    }
  }
  if (opts.ready_fd >= 0) WriteReady(opts.ready_fd, gw);
  (void)watchdog.NotifyReady();
  gw.Run();
  (void)watchdog.NotifyStopping();
  (*mqtt_service)->Stop();  // online=false and a clean DISCONNECT while the loop's sockets live
  forecasts.Stop();  // cancels a running fit and joins the worker before the gateway goes away
  demo.Stop();
  EW_INFO("main", "stopped");
  return 0;
}

}  // namespace
}  // namespace edgewatch::app

int main(int argc, char** argv) {
  return edgewatch::app::Main(argc, argv);
}
