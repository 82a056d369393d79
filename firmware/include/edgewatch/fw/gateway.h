// Gateway: the streaming runtime on one lws context and one service thread.
//
// Owns the lws context, the TCP listener (HTTP + WebSocket at /ws), the ingest Unix socket for
// producers, the Bus, WebSocket sessions, heartbeats, the periodic refresh of unchanged topics
// and the graceful shutdown. The application configures it (GatewayConfig), installs its
// PublishPolicy and extra HTTP routes, then calls Start() and Run().
//
// Threading: Start() and Run() are called from the thread that becomes the loop thread; every
// other method is loop-thread-only except RequestStop() and Post(), which any thread may call.
#pragma once

#include <cjson/cJSON.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgewatch/base/log.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/http.h"
#include "edgewatch/fw/limits.h"
#include "edgewatch/fw/loop.h"
#include "edgewatch/fw/op_context.h"
#include "edgewatch/fw/protocol.h"
#include "edgewatch/fw/publish_policy.h"

#include <libwebsockets.h>

namespace edgewatch::fw {

struct GatewayConfig {
  std::string listen_host = "0.0.0.0";  // "0.0.0.0" = all IPv4 interfaces
  int listen_port = 8080;               // 0 = ephemeral (see Gateway::port())
  std::string ingest_path;              // Unix socket for producers; empty = none
  int ingest_mode = 0660;               // permissions of the ingest socket
  std::string ingest_group;             // group owning the ingest socket; empty = process's own
  // TLS: when both are set, the listener serves HTTPS and WSS only (PEM files, loaded by lws and
  // OpenSSL in Start()). Setting only one of them is an error.
  std::string tls_cert_path;
  std::string tls_key_path;
  std::string server_name = "edgewatch/0.0.0";

  int heartbeat_s = 30;     // JSON heartbeat period
  int ping_s = 30;          // lws PING after this long without traffic from the client
  int idle_timeout_s = 60;  // close a client silent (no pong, no message) this long
  int refresh_s = 10;       // re-send an unchanged topic at least this often (0 = never)

  size_t max_message_bytes = 4096;          // inbound WebSocket message (larger: close 1009)
  size_t session_queue_bytes = 256 * 1024;  // unsent bytes per session before it lags
  size_t rx_buffer_bytes = 256;             // lws per-connection receive buffer
  size_t max_ingest_line = 64 * 1024;       // ingest line limit (larger: rejected)
  int max_ingest_connections = 64;
  int max_ws_connections = 2000;
  int shutdown_grace_ms = 1500;  // time given to clients to receive their 1001 close
  bool handle_signals = true;    // SIGINT/SIGTERM stop, SIGHUP calls on_sighup
  BusLimits bus;

  // Authentication (docs/protocol.md, "Authentication"). When `auth_enabled` is false every
  // client may read and write everything (--no-auth).
  bool auth_enabled = true;
  auth::VerifyOptions verify;  // secret, audience, leeway, allow_no_exp
  int auth_timeout_s = 10;     // first-frame auth must arrive within this
  int expiry_grace_s = 30;     // after token_expired, close 4401 unless refreshed

  // Hostile input.
  std::vector<std::string> allowed_origins;  // besides the host itself; "*" = any
  double msg_rate = 20;                      // inbound messages per second per session...
  double msg_burst = 40;                     // ...with this burst; beyond: close 4429
  double conn_rate_per_ip = 10;   // new WebSocket/HTTP requests per second per address...
  double conn_burst_per_ip = 20;  // ...with this burst; beyond: HTTP 429 + Retry-After
  int handshake_timeout_s = 10;   // an HTTP request/handshake not complete by then is dropped

  // Memory budget and admission (docs/budgets.md). A connection (WebSocket or parked poll) is
  // admitted only while connections < max_ws_connections and accounted memory plus the
  // per-connection reservation fits memory_budget_bytes.
  size_t memory_budget_bytes = 64u << 20;
  size_t connection_reservation_bytes = 0;  // 0: derived (session state + lws + rx buffer)

  // Load shedding: while CPU or temperature is over its threshold, new connections are refused
  // (reason cpu|thermal) and topics matching shed_patterns are down-sampled to shed_rate_hz.
  double cpu_shed_percent = 80;
  double thermal_limit_c = 0;  // 0: no thermal limit
  double shed_rate_hz = 2;
  std::vector<std::string> shed_patterns = {"pipeline/+/frame"};

  // Slow consumers: for topics of "latest value" kinds, pending events superseded by a newer one
  // of the same topic are dropped (the client gets a `skipped` message) before the session is
  // closed with 4408.
  std::vector<std::string> latest_value_patterns = {"pipeline/+/frame", "pipeline/+/status",
                                                    "pipeline/+/analytics", "system/resources"};
  int gateway_topic_period_s = 5;  // system/gateway (0: off)

  // Socket.IO v4 at /socket.io/ (docs/socketio.md): Engine.IO ping period and the time a client
  // has to answer a ping (100 ms .. 120 s).
  int sio_ping_interval_ms = 25000;
  int sio_ping_timeout_ms = 20000;
  // Extra Socket.IO event names, set by the application: an event on a topic matching `pattern`
  // is also emitted as `event` with its data (the first matching entry wins).
  struct SioAlias {
    std::string pattern;
    std::string event;
  };
  std::vector<SioAlias> sio_event_aliases;
};

struct GatewayStats {
  uint64_t ws_accepted = 0;
  uint64_t ws_closed = 0;
  uint64_t http_requests = 0;
  uint64_t messages_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_out = 0;
  uint64_t ingest_connections = 0;
  uint64_t ingest_lines = 0;
  uint64_t ingest_rejected = 0;
  uint64_t events_suppressed = 0;
  uint64_t events_refreshed = 0;
  uint64_t lagged = 0;
  uint64_t heartbeats = 0;
  uint64_t auth_failures = 0;
  uint64_t rejected_origin = 0;
  uint64_t rejected_rate = 0;
  uint64_t rejected_overload = 0;
  uint64_t rate_limit_closes = 0;
  uint64_t connection_attempts = 0;  // WebSocket upgrades and polls that reached admission
  uint64_t coalesced = 0;            // queued events dropped as superseded
  uint64_t skipped_messages = 0;
  uint64_t slow_consumer_closes = 0;
  uint64_t events_shed = 0;         // down-sampled while shedding load
  uint64_t heartbeat_timeouts = 0;  // clients closed by the idle policy
  uint64_t batches = 0;
  uint64_t errors_sent = 0;
  size_t queued_high_water = 0;                        // largest total of unsent bytes seen
  std::map<std::string, uint64_t> rejected_by_reason;  // admission refusals
  std::map<std::string, uint64_t> auth_failures_by_reason;
  std::map<std::string, uint64_t> events_by_kind;  // first topic segment (<= 32 labels)
};

// Load shedding state (loop thread).
struct LoadState {
  bool shedding = false;
  std::string reason;  // "cpu" | "thermal" | ""
  double cpu_percent = 0;
  std::optional<double> temperature_c;
};

class WsSession;
class IngestServer;
class LongPoll;
class SioServer;

class Gateway {
 public:
  // `policy` is not owned and may be null (everything is published as is).
  Gateway(GatewayConfig config, PublishPolicy* policy);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Creates the lws context and both listeners. Returns Unavailable/AlreadyExists/... naming the
  // listener that failed (e.g. the port is in use).
  Status Start();
  // Services the loop until a stop completes. Returns after clients were closed with 1001.
  void Run();
  // Any thread (also safe from the gateway's own signal handling): begins a graceful shutdown.
  void RequestStop();
  // Any thread: runs `fn` on the loop thread soon.
  void Post(std::function<void()> fn);

  // Loop thread. Validates/suppresses through the policy, then publishes. Returns the policy's
  // InvalidArgument (bad data) or the bus's error (bad topic, too many topics).
  Status Submit(std::string_view topic, const cJSON* data, int64_t ts_ms);

  // Loop thread: runs `fn` on the loop thread every `period_us` until CancelTimer(id).
  // The gateway owns the timer, so it never outlives the lws context.
  uint64_t Every(int64_t period_us, std::function<void()> fn);
  void CancelTimer(uint64_t id);

  // Application client ops ({"op":"<name>",...}) on every transport. Loop thread; a later
  // registration for the same name wins. Built-in ops (subscribe, unsubscribe, ping, auth)
  // cannot be overridden.
  using OpHandler = std::function<void(const ClientOp&, OpContext&)>;
  void RegisterOp(std::string name, OpHandler handler);
  const OpHandler* FindOp(std::string_view name) const;
  // Called after a client's subscribe succeeded, with the patterns it added (for catch-up
  // messages such as unread notifications).
  using SubscribeHook = std::function<void(const std::vector<std::string>&, OpContext&)>;
  void AddSubscribeHook(SubscribeHook hook);
  const std::vector<SubscribeHook>& subscribe_hooks() const { return subscribe_hooks_; }
  // The WebSocket client with this session id, or null once it is gone: for answers to ops that
  // complete later (commands). Loop thread; do not keep the pointer.
  ClientPeer* FindPeer(std::string_view session_id) const;

  // Watches `fd` for readability on the loop thread (GPIO edge events, MQTT sockets, ...).
  // The gateway watches a dup() of `fd`; the caller keeps ownership of `fd`. `on_readable` runs
  // on the loop thread each time it is readable and must drain what it can without blocking.
  Status WatchFd(int fd, std::function<void()> on_readable);

  // Memory accounted to the gateway (loop thread): every live frame once, every connection's own
  // state and lws buffers, topic state. Refreshed by the periodic sweep; frames are exact.
  size_t AccountedBytes() const;
  size_t ConnectionReservation() const;
  // The process's resident set size (from /proc/self/statm), for comparison.
  static size_t ResidentBytes();

  // Loop thread: the application reports CPU and temperature readings (system/resources);
  // the gateway decides load shedding and publishes each change on system/load_shedding.
  void ReportLoad(double cpu_percent, std::optional<double> temperature_c);
  const LoadState& load_state() const { return load_; }

  // Prometheus text exposition of the gateway's counters (GET /metrics).
  std::string MetricsText() const;
  // seed 001's DiagnosticResult computed from live state (GET /api/v1/diagnostics).
  std::string DiagnosticsJson() const;
  // Records an admission refusal / auth failure with its reason (for metrics).
  void CountRejection(const std::string& reason);
  void CountAuthFailure(std::string_view reason);
  // A producer line arrived (with its own event time, if it gave one): silence and clock-skew
  // diagnostics.
  void NoteIngest(std::optional<int64_t> producer_ts_ms);

  // Verifies `token` against the gateway's auth settings (loop thread).
  Result<auth::Claims> VerifyToken(std::string_view token) const;

  // Called on the loop thread when SIGHUP arrives (when handle_signals), after the log level was
  // toggled: debug, or back to the level in force at Start() when it is debug already.
  void set_on_sighup(std::function<void()> fn) { on_sighup_ = std::move(fn); }

  Bus& bus() { return bus_; }
  HttpRouter& http() { return router_; }
  lws_context* context() { return context_; }
  const GatewayConfig& config() const { return config_; }
  const GatewayStats& stats() const { return stats_; }
  GatewayStats& mutable_stats() { return stats_; }
  int port() const { return port_; }
  const std::string& ingest_path() const { return config_.ingest_path; }
  const std::string& epoch() const { return epoch_; }
  int64_t uptime_s() const;
  size_t session_count() const { return sessions_.size(); }
  // WebSocket sessions plus parked long-polls plus Socket.IO sessions: what admission counts.
  size_t connection_count() const;
  bool stopping() const { return stopping_; }

  // --- internal, used by the transport callbacks (loop thread) ---
  void AddSession(WsSession* s);
  void AddPoll(LongPoll* p);
  void RemovePoll(LongPoll* p);
  void RemoveSession(WsSession* s);
  PublishPolicy& policy() { return *policy_; }
  SioServer& socketio() { return *sio_; }
  lws_vhost* vhost() { return vhost_; }
  void OnLoopWake();
  void OnSignal(int signo);
  // Checks a WebSocket upgrade or HTTP request before it is served: origin, per-address rate,
  // admission, and a header/query token. Returns a response to send instead, or nullopt.
  // On success stores the verified claims (if a token was presented) for TakePendingClaims().
  // `rate_limited` false: the request belongs to an admitted Socket.IO session (its polls and
  // posts are bounded by the session's own limits) and does not take from the address's rate.
  std::optional<HttpResponse> Admit(lws* wsi, bool websocket, bool require_token,
                                    bool rate_limited = true);
  // Admission of one more connection (WebSocket or parked poll): 503 with the reason, or nullopt.
  std::optional<HttpResponse> AdmitConnection(const std::string& peer);
  // Whether `topic` is of a "latest value" kind (slow-consumer coalescing); cached per topic.
  bool IsLatestValueTopic(const TopicState* topic);
  std::optional<auth::Claims> TakePendingClaims(lws* wsi);
  void DropPendingClaims(lws* wsi) { pending_claims_.erase(wsi); }

 private:
  void InstallBuiltinRoutes();
  void RegisterLogLevelOp();
  void SendHeartbeats();
  void RefreshUnchanged();
  void BeginShutdown();
  void SweepSessions();
  void PublishGatewayStats();
  void RecomputeAccounting();
  bool ShedEvent(TopicState* topic, int64_t now_us);

  GatewayConfig config_;
  PassThroughPolicy passthrough_;
  PublishPolicy* policy_;
  Bus bus_;
  HttpRouter router_;
  PerPeerLimiter conn_limiter_;
  Mailbox mailbox_;
  GatewayStats stats_;
  std::string epoch_;
  int64_t started_mono_us_ = 0;
  int port_ = 0;
  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  std::unique_ptr<IngestServer> ingest_;
  std::unique_ptr<SioServer> sio_;
  std::vector<WsSession*> sessions_;
  std::set<LongPoll*> polls_;
  lws_protocols protocols_[3] = {};
  lws_retry_bo_t retry_ = {};
  std::map<uint64_t, std::unique_ptr<Timer>> timers_;
  std::vector<std::unique_ptr<Timer>> retired_timers_;
  std::map<std::string, OpHandler, std::less<>> ops_;
  std::vector<SubscribeHook> subscribe_hooks_;
  Timer sweep_timer_;
  Timer stats_timer_;
  LoadState load_;
  std::unordered_map<const TopicState*, bool> latest_value_cache_;
  size_t accounted_other_bytes_ = 0;   // sessions, polls, topics (refreshed by the sweep)
  std::vector<uint64_t> lag_buckets_;  // event-loop lag histogram (see MetricsText)
  uint64_t lag_count_ = 0;
  double lag_sum_s_ = 0;
  // For system/gateway rates.
  uint64_t last_frames_out_ = 0;
  uint64_t last_ingest_lines_ = 0;
  int64_t last_stats_us_ = 0;
  int64_t last_ingest_activity_us_ = 0;
  int64_t max_clock_skew_ms_ = 0;
  static size_t SessionQueuedBytes(const WsSession* s);
  uint64_t next_timer_id_ = 0;
  Timer heartbeat_timer_;
  Timer refresh_timer_;
  Timer shutdown_timer_;
  int signal_fd_ = -1;
  std::map<lws*, auth::Claims> pending_claims_;
  std::function<void()> on_sighup_;
  log::Level start_log_level_ = log::Level::kInfo;  // SIGHUP toggles between it and debug
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  bool done_ = false;
};

// Random lowercase hex id of `bytes` random bytes (sessions, epochs). Any thread.
std::string RandomHexId(size_t bytes);

}  // namespace edgewatch::fw
