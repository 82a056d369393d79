// Gateway::MetricsText (GET /metrics, Prometheus text format) and Gateway::DiagnosticsJson
// (GET /api/v1/diagnostics, seed 001's DiagnosticResult). Loop thread.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::fw {
namespace {

class PromWriter {
 public:
  void Help(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void Value(const char* name, double v, const std::string& labels = "") {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e18) {
      std::snprintf(buf, sizeof(buf), " %" PRId64 "\n", static_cast<int64_t>(v));
    } else {
      std::snprintf(buf, sizeof(buf), " %.6g\n", v);
    }
    out_ += buf;
  }
  void Metric(const char* name, const char* type, const char* help, double v) {
    Help(name, type, help);
    Value(name, v);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Label values are reasons and topic segments; escape the three characters Prometheus needs.
std::string Label(const char* key, const std::string& value) {
  std::string out = std::string(key) + "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::string Gateway::MetricsText() const {
  const GatewayStats& s = stats_;
  PromWriter p;
  p.Metric("edgewatch_connections", "gauge", "WebSocket sessions open now",
           static_cast<double>(sessions_.size()));
  p.Metric("edgewatch_polls", "gauge", "long-polls parked now", static_cast<double>(polls_.size()));
  p.Metric("edgewatch_connections_max", "gauge", "admission limit on connections",
           config_.max_ws_connections);
  p.Metric("edgewatch_connection_attempts_total", "counter",
           "WebSocket upgrades and polls that reached admission",
           static_cast<double>(s.connection_attempts));
  p.Metric("edgewatch_connections_accepted_total", "counter", "WebSocket sessions accepted",
           static_cast<double>(s.ws_accepted));
  p.Help("edgewatch_connections_rejected_total", "counter",
         "refusals before the upgrade, by reason");
  for (const auto& [reason, n] : s.rejected_by_reason) {
    p.Value("edgewatch_connections_rejected_total", static_cast<double>(n),
            Label("reason", reason));
  }
  p.Help("edgewatch_auth_failures_total", "counter", "authentication failures, by reason");
  for (const auto& [reason, n] : s.auth_failures_by_reason) {
    p.Value("edgewatch_auth_failures_total", static_cast<double>(n), Label("reason", reason));
  }
  p.Metric("edgewatch_messages_in_total", "counter", "client messages received",
           static_cast<double>(s.messages_in));
  p.Metric("edgewatch_messages_out_total", "counter", "WebSocket frames sent",
           static_cast<double>(s.frames_out));
  p.Metric("edgewatch_bytes_out_total", "counter", "WebSocket payload bytes sent",
           static_cast<double>(s.bytes_out));
  p.Metric("edgewatch_deliveries_total", "counter", "events queued to subscribers",
           static_cast<double>(bus_.deliveries()));
  p.Metric("edgewatch_events_published_total", "counter", "events published on the bus",
           static_cast<double>(bus_.events_published()));
  p.Metric("edgewatch_events_suppressed_total", "counter",
           "updates not fanned out (change suppression and load shedding)",
           static_cast<double>(s.events_suppressed));
  p.Metric("edgewatch_events_shed_total", "counter", "updates down-sampled while shedding load",
           static_cast<double>(s.events_shed));
  p.Metric("edgewatch_coalesced_events_total", "counter",
           "queued events dropped as superseded for slow consumers",
           static_cast<double>(s.coalesced));
  p.Metric("edgewatch_slow_consumer_closes_total", "counter", "sessions closed with 4408",
           static_cast<double>(s.slow_consumer_closes));
  p.Metric("edgewatch_batches_total", "counter", "batched frames sent",
           static_cast<double>(s.batches));
  size_t queued = 0;
  for (const WsSession* ws : sessions_) queued += SessionQueuedBytes(ws);
  p.Metric("edgewatch_queued_bytes", "gauge",
           "unsent bytes in session queues (each frame counted "
           "in full per session)",
           static_cast<double>(queued));
  p.Metric("edgewatch_queued_bytes_high_water", "gauge", "largest queued total seen",
           static_cast<double>(std::max(s.queued_high_water, queued)));
  p.Metric("edgewatch_heartbeat_timeouts_total", "counter", "clients closed by the idle policy",
           static_cast<double>(s.heartbeat_timeouts));
  p.Metric("edgewatch_ingest_lines_total", "counter", "producer lines received",
           static_cast<double>(s.ingest_lines));
  p.Metric("edgewatch_ingest_rejected_total", "counter", "producer lines rejected",
           static_cast<double>(s.ingest_rejected));
  p.Metric("edgewatch_accounted_bytes", "gauge", "memory accounted against the budget",
           static_cast<double>(AccountedBytes()));
  p.Metric("edgewatch_memory_budget_bytes", "gauge", "the memory budget",
           static_cast<double>(config_.memory_budget_bytes));
  p.Metric("edgewatch_resident_bytes", "gauge", "process RSS",
           static_cast<double>(ResidentBytes()));
  p.Metric("edgewatch_load_shedding", "gauge", "1 while shedding load", load_.shedding ? 1 : 0);
  p.Help("edgewatch_events_by_kind_total", "counter", "published events by first topic segment");
  for (const auto& [kind, n] : s.events_by_kind) {
    p.Value("edgewatch_events_by_kind_total", static_cast<double>(n), Label("kind", kind));
  }
  // Event-loop lag: how late the 250 ms sweep timer fired.
  static const char* kBounds[] = {"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf"};
  p.Help("edgewatch_loop_lag_seconds", "histogram", "how late periodic timers fire");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < lag_buckets_.size() && i < std::size(kBounds); ++i) {
    cumulative += lag_buckets_[i];
    p.Value("edgewatch_loop_lag_seconds_bucket", static_cast<double>(cumulative),
            Label("le", kBounds[i]));
  }
  p.Value("edgewatch_loop_lag_seconds_sum", lag_sum_s_);
  p.Value("edgewatch_loop_lag_seconds_count", static_cast<double>(lag_count_));
  p.Metric("edgewatch_uptime_seconds", "gauge", "seconds since start",
           static_cast<double>(uptime_s()));
  return p.Take();
}

std::string Gateway::DiagnosticsJson() const {
  struct Issue {
    const char* type;
    const char* severity;
    std::string description;
    std::string solution;
  };
  std::vector<Issue> issues;
  std::vector<std::string> recommendations;
  const GatewayStats& s = stats_;

  double budget_use =
      config_.memory_budget_bytes > 0
          ? static_cast<double>(AccountedBytes()) / static_cast<double>(config_.memory_budget_bytes)
          : 0;
  if (budget_use > 0.9) {
    issues.push_back({"resource", budget_use > 0.98 ? "critical" : "high",
                      "accounted memory is at " +
                          std::to_string(static_cast<int>(budget_use * 100)) +
                          "% of the budget; new connections are being refused",
                      "raise budget.memory_mb in the board file (or --memory-mb), lower "
                      "--session-queue-kb, or reduce the number of clients"});
  }
  double conn_use = config_.max_ws_connections > 0
                        ? static_cast<double>(connection_count()) / config_.max_ws_connections
                        : 0;
  if (conn_use > 0.9) {
    issues.push_back({"resource", "high",
                      "connections are at " + std::to_string(static_cast<int>(conn_use * 100)) +
                          "% of max_connections",
                      "raise budget.max_connections / --max-connections if memory allows"});
  }
  if (load_.shedding) {
    issues.push_back({"resource", "high",
                      "shedding load (" + load_.reason +
                          "): new connections refused, per-frame "
                          "topics down-sampled",
                      load_.reason == "thermal"
                          ? "improve cooling or reduce the pipeline's load; check the heatsink/fan"
                          : "the device's CPU is saturated: reduce the pipeline's frame rate or "
                            "model size"});
  }
  if (s.auth_failures >= 10) {
    std::string top;
    uint64_t top_n = 0;
    for (const auto& [reason, n] : s.auth_failures_by_reason) {
      if (n > top_n) {
        top = reason;
        top_n = n;
      }
    }
    issues.push_back(
        {"token", s.auth_failures >= 100 ? "high" : "medium",
         std::to_string(s.auth_failures) + " authentication failures (most: " + top + ")",
         top == "token_expired"
             ? "clients use expired tokens: mint longer-lived ones or refresh them "
               "with the auth op before exp"
         : top == "token_bad_signature"
             ? "tokens were signed with another secret: re-mint them with "
               "`edgewatch token` on this device"
             : "check the clients' tokens with `edgewatch token` and the "
               "gateway's --jwt-secret-file"});
  }
  if (s.heartbeat_timeouts > 0) {
    issues.push_back({"connection", s.heartbeat_timeouts >= 10 ? "medium" : "low",
                      std::to_string(s.heartbeat_timeouts) +
                          " clients stopped answering and were closed after " +
                          std::to_string(config_.idle_timeout_s) + " s",
                      "weak Wi-Fi or sleeping phones: clients should reconnect and resume; raise "
                      "--idle-timeout-s if the network is slow"});
  }
  if (s.slow_consumer_closes > 0) {
    issues.push_back({"connection", "medium",
                      std::to_string(s.slow_consumer_closes) +
                          " slow clients were closed with 4408 after coalescing",
                      "clients on slow links should subscribe to fewer per-frame topics or use "
                      "\"batch\":true; raise --session-queue-kb if memory allows"});
  }
  int64_t now = MonotonicMicros();
  if (s.ingest_connections == 0 && uptime_s() > 30) {
    issues.push_back({"configuration", "medium",
                      "no producer has connected to the ingest socket " + ingest_path(),
                      "point the pipeline at the ingest socket (newline-delimited JSON) or check "
                      "its permissions (group of the socket)"});
  } else if (last_ingest_activity_us_ > 0 && now - last_ingest_activity_us_ > 30'000'000) {
    issues.push_back({"connection", "high",
                      "the ingest socket has been silent for " +
                          std::to_string((now - last_ingest_activity_us_) / 1000000) + " s",
                      "the pipeline may have stalled or crashed: check its process and logs"});
  }
  if (UnixMillis() < 1704067200000) {  // 2024-01-01
    issues.push_back({"configuration", "high",
                      "the system clock is before 2024: token expiry and event times are wrong",
                      "enable NTP (systemd-timesyncd) or set the clock; boards without an RTC "
                      "need network time before edgewatch starts"});
  }
  if (max_clock_skew_ms_ > 60000) {
    issues.push_back({"configuration", "medium",
                      "producers send event times up to " +
                          std::to_string(max_clock_skew_ms_ / 1000) +
                          " s away from the gateway's clock",
                      "synchronise the producer's and the gateway's clocks (NTP)"});
  }
  if (!config_.auth_enabled) {
    issues.push_back({"configuration", "medium", "authentication is disabled (--no-auth)",
                      "remove --no-auth and give clients tokens from `edgewatch token`"});
  }
  if (s.ingest_rejected > 0) {
    recommendations.push_back(std::to_string(s.ingest_rejected) +
                              " producer lines were rejected: producers should read the error "
                              "lines the gateway sends back");
  }
  if (sessions_.empty()) recommendations.push_back("no client is connected");
  if (budget_use > 0.7 && budget_use <= 0.9) {
    recommendations.push_back("memory budget above 70%: watch edgewatch_accounted_bytes");
  }

  bool success = true;
  for (const Issue& i : issues) {
    std::string_view sev = i.severity;
    if (sev == "high" || sev == "critical") success = false;
  }
  JsonWriter w;
  w.BeginObject().Key("success").Bool(success).Key("issues").BeginArray();
  for (const Issue& i : issues) {
    w.BeginObject()
        .Key("type")
        .String(i.type)
        .Key("severity")
        .String(i.severity)
        .Key("description")
        .String(i.description)
        .Key("solution")
        .String(i.solution)
        .EndObject();
  }
  w.EndArray().Key("recommendations").BeginArray();
  for (const auto& r : recommendations) w.String(r);
  w.EndArray().Key("metrics").BeginObject();
  w.Key("uptime_s").Int(uptime_s());
  w.Key("connections").Uint(sessions_.size());
  w.Key("polls").Uint(polls_.size());
  w.Key("max_connections").Int(config_.max_ws_connections);
  w.Key("accounted_bytes").Uint(AccountedBytes());
  w.Key("memory_budget_bytes").Uint(config_.memory_budget_bytes);
  w.Key("rss_bytes").Uint(ResidentBytes());
  w.Key("auth_failures").Uint(s.auth_failures);
  w.Key("heartbeat_timeouts").Uint(s.heartbeat_timeouts);
  w.Key("slow_consumer_closes").Uint(s.slow_consumer_closes);
  w.Key("ingest_connections").Uint(s.ingest_connections);
  w.Key("ingest_lines").Uint(s.ingest_lines);
  w.Key("events_published").Uint(bus_.events_published());
  w.Key("load_shedding").Bool(load_.shedding);
  w.Key("cpu_percent").Double(load_.cpu_percent);
  if (load_.temperature_c) w.Key("temperature_c").Double(*load_.temperature_c);
  w.EndObject().EndObject();
  return w.Take();
}

}  // namespace edgewatch::fw
