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
#include "edgewatch/app/system_publisher.h"
#include "edgewatch/app/telemetry_policy.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/secret.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/hal/linux_sysinfo.h"
#include "edgewatch/hal/open_chip.h"

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

  TelemetryPolicy policy(opts.policy);
  fw::Gateway gw(opts.gateway, &policy);
  Status started = gw.Start();
  if (!started.ok()) {
    EW_ERROR("main", "cannot start: %s", started.ToString().c_str());
    return 1;
  }

  EW_INFO("main", "%s started: board %s (%s), budget %d MiB / %d connections / %d KiB per client",
          opts.gateway.server_name.c_str(), opts.board.name.c_str(), opts.board_file.c_str(),
          opts.board.budget.memory_mb, opts.gateway.max_ws_connections,
          static_cast<int>(opts.gateway.session_queue_bytes / 1024));
  EW_INFO("main", "listening on http://%s:%d (WebSocket at /ws), ingest socket %s, epoch %s",
          opts.gateway.listen_host.c_str(), gw.port(), gw.ingest_path().c_str(),
          gw.epoch().c_str());
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

  if (opts.ready_fd >= 0) WriteReady(opts.ready_fd, gw);
  gw.Run();
  demo.Stop();
  EW_INFO("main", "stopped");
  return 0;
}

}  // namespace
}  // namespace edgewatch::app

int main(int argc, char** argv) {
  return edgewatch::app::Main(argc, argv);
}
