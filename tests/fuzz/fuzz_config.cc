// libFuzzer target for edgewatchd's configuration file (edgewatch::app::ParseConfigJson, the
// parser behind --config; the suppression section is ParsePolicyConfig, fuzzed on its own by
// fuzz_policy).
//
// The whole input is the config file's text, applied on top of default options. Beyond "no
// crash, no sanitizer report", it traps when an invariant breaks: a refusal is InvalidArgument
// with a non-empty, valid UTF-8 message; accepted options stay inside the documented ranges
// (timers, limits, rates, the ingest mode), so that no config can start the gateway with a
// nonsensical value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgewatch/app/daemon_options.h"
#include "edgewatch/base/json.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  edgewatch::app::DaemonOptions o;
  edgewatch::Status s = edgewatch::app::ParseConfigJson(text, &o);
  if (!s.ok()) {
    Check(s.code() == edgewatch::StatusCode::kInvalidArgument);
    Check(!s.message().empty());
    Check(edgewatch::IsValidUtf8(s.message()));
    return 0;
  }
  const edgewatch::fw::GatewayConfig& g = o.gateway;
  Check(g.listen_port >= 0 && g.listen_port <= 65535 && !g.listen_host.empty());
  Check(g.heartbeat_s >= 1 && g.heartbeat_s <= 3600);
  Check(g.ping_s >= 1 && g.ping_s <= 3600);
  Check(g.idle_timeout_s >= 2 && g.idle_timeout_s <= 3600);
  Check(g.refresh_s >= 0 && g.refresh_s <= 3600);
  Check(g.max_ws_connections >= 1 && g.max_ingest_connections >= 1);
  Check(g.auth_timeout_s >= 1 && g.expiry_grace_s >= 0 && g.handshake_timeout_s >= 1);
  Check(g.msg_rate > 0 && g.msg_burst > 0 && g.conn_rate_per_ip > 0 && g.conn_burst_per_ip > 0);
  Check(g.bus.history_len >= 1 && g.session_queue_bytes >= 4 * 1024);
  Check(g.ingest_mode >= 0 && g.ingest_mode <= 0777);
  return 0;
}
