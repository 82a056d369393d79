#include "edgewatch/fw/gateway.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/topic.h"
#include "ingest_server.h"
#include "long_poll.h"
#include "raw_handler.h"
#include "socketio/sio_server.h"
#include "ws_session.h"

namespace edgewatch::fw {
namespace {

// Per-connection state of the "edgewatch" protocol: one of the two is set.
struct HttpExchange {
  std::string body;
  size_t sent = 0;
};
struct ConnPss {
  WsSession* ws;
  HttpExchange* http;
  LongPoll* poll;  // a parked GET /api/v1/poll
  SioLink* sio;    // a /socket.io/ request or WebSocket (socketio/sio_server.h)
};

bool IsSocketIoPath(std::string_view path) {
  return path == "/socket.io/" || path == "/socket.io";
}

void DropPoll(lws* wsi, ConnPss* pss) {
  if (pss == nullptr || pss->poll == nullptr) return;
  Gateway* gw = static_cast<Gateway*>(lws_context_user(lws_get_context(wsi)));
  gw->RemovePoll(pss->poll);
  delete pss->poll;
  pss->poll = nullptr;
}

Gateway* GatewayOf(lws* wsi) {
  return static_cast<Gateway*>(lws_context_user(lws_get_context(wsi)));
}

std::string PeerAddress(lws* wsi) {
  char buf[64];
  const char* p = lws_get_peer_simple(wsi, buf, sizeof(buf));
  return p != nullptr ? std::string(p) : std::string("?");
}

std::string RequestUri(lws* wsi, lws_token_indexes token) {
  int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string s(static_cast<size_t>(n) + 1, '\0');
  if (lws_hdr_copy(wsi, s.data(), n + 1, token) < 0) return {};
  s.resize(std::strlen(s.c_str()));
  return s;
}

// Writes the status line and headers of `resp`, and arranges for the body to be written in
// HTTP_WRITEABLE. Returns non-zero when the connection must close.
int StartResponse(lws* wsi, ConnPss* pss, HttpResponse resp) {
  unsigned char headers[LWS_PRE + 2048];
  unsigned char* start = headers + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = headers + sizeof(headers) - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(resp.status),
                                  resp.content_type.c_str(), resp.body.size(), &p, end)) {
    return 1;
  }
  // API answers are never cached; a handler may set its own Cache-Control (static files).
  const bool own_cache_control =
      std::any_of(resp.headers.begin(), resp.headers.end(), [](const auto& h) {
        return h.first.size() == 13 && strncasecmp(h.first.c_str(), "cache-control", 13) == 0;
      });
  static const char kNoStore[] = "no-store";
  if (!own_cache_control &&
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                  reinterpret_cast<const unsigned char*>(kNoStore),
                                  sizeof(kNoStore) - 1, &p, end)) {
    return 1;
  }
  for (const auto& [name, value] : resp.headers) {
    std::string key = name + ":";
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), &p, end)) {
      return 1;
    }
  }
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return 1;
  pss->http = new HttpExchange{std::move(resp.body), 0};
  lws_callback_on_writable(wsi);
  return 0;
}

// For refusals inside LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: lws completes the transaction itself
// when the callback returns 1, so headers and (small) body are written right away.
int WriteResponseNow(lws* wsi, HttpResponse resp) {
  // Composed by hand: at this point lws has not recorded the request's HTTP version and would
  // answer "HTTP/1.0", which strict WebSocket clients refuse to parse.
  std::string out(LWS_PRE, '\0');
  out += "HTTP/1.1 " + std::to_string(resp.status) + " " + HttpReason(resp.status) + "\r\n";
  out += "content-type: " + resp.content_type + "\r\n";
  out += "content-length: " + std::to_string(resp.body.size()) + "\r\n";
  out += "cache-control: no-store\r\nconnection: close\r\n";
  for (const auto& [name, value] : resp.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += resp.body;
  size_t len = out.size() - LWS_PRE;
  auto* p = reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE;
  if (lws_write(wsi, p, len, LWS_WRITE_RAW) != static_cast<int>(len)) return -1;
  return 1;
}

int WriteHttpBody(lws* wsi, ConnPss* pss) {
  HttpExchange* x = pss->http;
  if (x == nullptr) return 0;
  constexpr size_t kChunk = 16 * 1024;
  size_t n = std::min(kChunk, x->body.size() - x->sent);
  bool final = x->sent + n == x->body.size();
  std::string chunk(LWS_PRE, '\0');
  chunk.append(x->body, x->sent, n);
  auto* p = reinterpret_cast<unsigned char*>(chunk.data()) + LWS_PRE;
  if (lws_write(wsi, p, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n)) {
    return -1;
  }
  x->sent += n;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  delete x;
  pss->http = nullptr;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

HttpRequest BuildRequest(lws* wsi, const char* path) {
  HttpRequest req;
  req.wsi = wsi;
  req.path = path != nullptr ? path : "/";
  req.peer = PeerAddress(wsi);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0) {
    req.method = "GET";
  } else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
    req.method = "POST";
  } else if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0) {
    req.method = "OPTIONS";
  } else {
    req.method = "OTHER";
  }
  char frag[1024];
  for (int i = 0; i < 64; ++i) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    std::string_view kv(frag, static_cast<size_t>(n));
    size_t eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    req.query.emplace(std::move(key), std::move(value));
  }
  return req;
}

int HandleHttp(lws* wsi, ConnPss* pss, const char* path) {
  Gateway* gw = GatewayOf(wsi);
  ++gw->mutable_stats().http_requests;
  HttpRequest req = BuildRequest(wsi, path);
  HttpResponse resp;
  bool api = req.path.rfind("/api/", 0) == 0;
  std::optional<auth::Claims> claims;
  // A Socket.IO client polls once per response: only its handshake takes from the address's rate.
  const bool sio_session = IsSocketIoPath(req.path) && gw->socketio().IsLive(req.Param("sid"));
  if (auto refused = gw->Admit(wsi, /*websocket=*/false, api, /*rate_limited=*/!sio_session)) {
    return StartResponse(wsi, pss, std::move(*refused));
  }
  claims = gw->TakePendingClaims(wsi);
  if (IsSocketIoPath(req.path)) {
    auto now = gw->socketio().OnHttp(req, std::move(claims), &pss->sio);
    if (!now) return 0;  // parked GET, or a POST whose body follows
    return StartResponse(wsi, pss, std::move(*now));
  }
  if (claims) req.claims = &*claims;
  if (api && gw->config().auth_enabled && req.claims == nullptr) {
    resp = JsonError(401, "unauthorized", "token_missing");
    resp.body =
        R"({"error":"unauthorized","reason":"token_missing","message":"send Authorization: Bearer <token>"})";
  } else if (req.path == "/api/v1/poll") {
    ++gw->mutable_stats().connection_attempts;
    if (auto refused = gw->AdmitConnection(req.peer)) {
      resp = std::move(*refused);
    } else {
      std::unique_ptr<LongPoll> parked;
      auto immediate = LongPoll::Start(*gw, wsi, req, &parked);
      if (!immediate) {
        pss->poll = parked.release();
        gw->AddPoll(pss->poll);
        return 0;
      }
      resp = std::move(*immediate);
    }
  } else if (const HttpHandler* h = gw->http().Find(req.path)) {
    resp = (*h)(req);
  } else if (req.path == "/ws") {
    resp = JsonError(400, "upgrade_required", "/ws expects a WebSocket upgrade");
  } else {
    resp = JsonError(404, "not_found", "no such endpoint: " + req.path);
  }
  return StartResponse(wsi, pss, std::move(resp));
}

int CallbackMain(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* pss = static_cast<ConnPss*>(user);
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      Gateway* gw = static_cast<Gateway*>(lws_context_user(lws_get_context(wsi)));
      if (gw != nullptr) gw->OnLoopWake();
      return 0;
    }
    case LWS_CALLBACK_HTTP:
      return HandleHttp(wsi, pss, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_BODY:
      if (pss->sio != nullptr) GatewayOf(wsi)->socketio().OnHttpBody(pss->sio, in, len);
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (pss->sio != nullptr) {
        HttpResponse resp = GatewayOf(wsi)->socketio().OnHttpBodyComplete(pss->sio);
        delete pss->sio;
        pss->sio = nullptr;
        return StartResponse(wsi, pss, std::move(resp));
      }
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      if (pss->sio != nullptr && !pss->sio->websocket) {
        if (!pss->sio->parked || !pss->sio->ready) return 0;
        HttpResponse resp = GatewayOf(wsi)->socketio().TakePollResponse(pss->sio);
        delete pss->sio;
        pss->sio = nullptr;
        return StartResponse(wsi, pss, std::move(resp));
      }
      if (pss->poll != nullptr) {
        if (!pss->poll->ready()) return 0;
        HttpResponse resp = pss->poll->Respond();
        DropPoll(wsi, pss);
        return StartResponse(wsi, pss, std::move(resp));
      }
      return WriteHttpBody(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      GatewayOf(wsi)->DropPendingClaims(wsi);
      DropPoll(wsi, pss);
      if (pss != nullptr && pss->sio != nullptr && !pss->sio->websocket) {
        GatewayOf(wsi)->socketio().OnHttpClosed(pss->sio);
        delete pss->sio;
        pss->sio = nullptr;
      }
      if (pss != nullptr && pss->http != nullptr) {
        delete pss->http;
        pss->http = nullptr;
      }
      return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
      Gateway* gw = GatewayOf(wsi);
      std::string uri = RequestUri(wsi, WSI_TOKEN_GET_URI);
      // Socket.IO clients send no subprotocol: dispatch by path. An upgrade of an existing
      // Engine.IO session (sid=) was admitted with its handshake.
      bool new_connection = true;
      if (IsSocketIoPath(uri)) {
        char sid[64];
        new_connection = lws_get_urlarg_by_name(wsi, "sid=", sid, sizeof(sid)) == nullptr;
      } else if (uri != "/ws") {
        return WriteResponseNow(wsi, JsonError(404, "not_found", "WebSocket endpoint is /ws"));
      }
      if (auto refused = gw->Admit(wsi, /*websocket=*/new_connection, /*require_token=*/false)) {
        return WriteResponseNow(wsi, std::move(*refused));
      }
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      Gateway* gw = GatewayOf(wsi);
      pss->sio = nullptr;
      if (IsSocketIoPath(RequestUri(wsi, WSI_TOKEN_GET_URI))) {
        pss->ws = nullptr;
        pss->http = nullptr;
        pss->sio = gw->socketio().OnWsEstablished(wsi, gw->TakePendingClaims(wsi));
        return pss->sio != nullptr ? 0 : -1;
      }
      pss->ws = new WsSession(*gw, wsi, gw->TakePendingClaims(wsi));
      pss->http = nullptr;
      ++gw->mutable_stats().ws_accepted;
      EW_DEBUG("ws", "session %s connected from %s", std::string(pss->ws->session_id()).c_str(),
               PeerAddress(wsi).c_str());
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      if (pss->ws != nullptr) pss->ws->OnReceive(in, len);
      if (pss->sio != nullptr) GatewayOf(wsi)->socketio().OnWsReceive(pss->sio, in, len);
      return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
      if (pss->ws != nullptr) pss->ws->NoteActivity(MonotonicMicros());
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (pss->sio != nullptr) return GatewayOf(wsi)->socketio().OnWsWriteable(pss->sio);
      return pss->ws != nullptr ? pss->ws->OnWriteable() : 0;
    case LWS_CALLBACK_CLOSED:
      GatewayOf(wsi)->DropPendingClaims(wsi);
      if (pss->sio != nullptr) {
        GatewayOf(wsi)->socketio().OnWsClosed(pss->sio);
        delete pss->sio;
        pss->sio = nullptr;
      }
      if (pss->ws != nullptr) {
        if (pss->ws->ClosedByIdle(MonotonicMicros())) {
          ++GatewayOf(wsi)->mutable_stats().heartbeat_timeouts;
          EW_INFO("ws", "session %s closed: silent for %d s (heartbeat timeout)",
                  std::string(pss->ws->session_id()).c_str(),
                  GatewayOf(wsi)->config().idle_timeout_s);
        }
        ++GatewayOf(wsi)->mutable_stats().ws_closed;
        delete pss->ws;
        pss->ws = nullptr;
      }
      return 0;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int CallbackRaw(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
  auto* h = static_cast<RawHandler*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      return h != nullptr ? h->OnReadable(wsi) : 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
      return h != nullptr ? h->OnWriteable(wsi) : 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      if (h != nullptr) {
        lws_set_opaque_user_data(wsi, nullptr);
        h->OnClosed(wsi);
      }
      return 0;
    default:
      return 0;
  }
}

// Reads signals from a signalfd on the loop thread.
class SignalHandler final : public RawHandler {
 public:
  SignalHandler(Gateway& gw, int fd) : gw_(gw), fd_(fd) {}
  int OnReadable(lws*) override {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      gw_.OnSignal(static_cast<int>(info.ssi_signo));
    }
    return 0;
  }
  void OnClosed(lws*) override { delete this; }

 private:
  Gateway& gw_;
  int fd_;
};

}  // namespace

std::string RandomHexId(size_t bytes) {
  unsigned char raw[32];
  bytes = std::min(bytes, sizeof(raw));
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Never expected on Linux >= 3.17; fall back to the clock so ids stay unique-ish.
      int64_t t = MonotonicMicros() ^ UnixMillis();
      for (; got < bytes; ++got) raw[got] = static_cast<unsigned char>(t >> ((got % 8) * 8));
      break;
    }
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(kHex[raw[i] >> 4]);
    out.push_back(kHex[raw[i] & 0xf]);
  }
  return out;
}

Gateway::Gateway(GatewayConfig config, PublishPolicy* policy)
    : config_(std::move(config)),
      policy_(policy != nullptr ? policy : &passthrough_),
      bus_(config_.bus),
      conn_limiter_(config_.conn_rate_per_ip, config_.conn_burst_per_ip),
      epoch_(RandomHexId(8)) {
  sio_ = std::make_unique<SioServer>(*this);
  InstallBuiltinRoutes();
  RegisterLogLevelOp();
}

Gateway::~Gateway() {
  sweep_timer_.Cancel();
  stats_timer_.Cancel();
  heartbeat_timer_.Cancel();
  refresh_timer_.Cancel();
  shutdown_timer_.Cancel();
  for (auto& [id, t] : timers_) t->Cancel();
  sio_->Stop();
  if (context_ != nullptr) {
    lws_context* ctx = context_;
    lws_context_destroy(ctx);
    context_ = nullptr;
  }
  ingest_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

int64_t Gateway::uptime_s() const {
  return (MonotonicMicros() - started_mono_us_) / 1000000;
}

Status Gateway::Start() {
  started_mono_us_ = MonotonicMicros();
  start_log_level_ = log::GetLevel();
  if (start_log_level_ == log::Level::kDebug) start_log_level_ = log::Level::kInfo;

  if (config_.handle_signals) {
    // Block the signals in this thread (and every thread started after this) and read them
    // through a signalfd on the loop: handlers never run arbitrary code.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return ErrnoToStatus(errno, "signalfd");
  }
  ::signal(SIGPIPE, SIG_IGN);

  protocols_[0] = {};
  protocols_[0].name = "edgewatch";
  protocols_[0].callback = CallbackMain;
  protocols_[0].per_session_data_size = sizeof(ConnPss);
  protocols_[0].rx_buffer_size = config_.rx_buffer_bytes;
  protocols_[1] = {};
  protocols_[1].name = "edgewatch-raw";
  protocols_[1].callback = CallbackRaw;
  protocols_[2] = {};

  retry_.secs_since_valid_ping = static_cast<uint16_t>(std::max(1, config_.ping_s));
  retry_.secs_since_valid_hangup = static_cast<uint16_t>(std::max(2, config_.idle_timeout_s));

  const bool tls = !config_.tls_cert_path.empty() || !config_.tls_key_path.empty();
  if (tls && (config_.tls_cert_path.empty() || config_.tls_key_path.empty())) {
    return InvalidArgument("TLS needs both a certificate and a private key file");
  }

  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.gid = -1;
  info.uid = -1;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) return Internal("lws_create_context failed");
  mailbox_.set_context(context_);

  lws_context_creation_info vinfo{};
  vinfo.vhost_name = "edgewatch";
  vinfo.port = config_.listen_port;
  std::string iface = config_.listen_host;
  bool any = iface.empty() || iface == "0.0.0.0" || iface == "*";
  vinfo.iface = any ? nullptr : iface.c_str();
  if (!any && iface.find(':') == std::string::npos) {
    vinfo.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  }
  if (any) vinfo.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  vinfo.protocols = protocols_;
  vinfo.retry_and_idle_policy = &retry_;
  // Slowloris: lws 4.1 bounds a request whose headers are incomplete by timeout_secs_ah_idle
  // (not by timeout_secs, which it ignores on a vhost) and an idle keep-alive connection by
  // keepalive_timeout; neither is extended by trickled bytes.
  const int handshake_s = std::max(1, config_.handshake_timeout_s);
  vinfo.timeout_secs_ah_idle = static_cast<unsigned int>(handshake_s);
  vinfo.keepalive_timeout = std::min(10, handshake_s);
  vinfo.server_string = config_.server_name.c_str();
  if (tls) {  // the same listener then speaks only TLS: HTTPS and WSS
    // lws reads this option from the vhost's info too: without it the vhost stays plaintext.
    vinfo.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vinfo.ssl_cert_filepath = config_.tls_cert_path.c_str();
    vinfo.ssl_private_key_filepath = config_.tls_key_path.c_str();
  }
  vhost_ = lws_create_vhost(context_, &vinfo);
  if (vhost_ == nullptr) {
    return Unavailable(
        "cannot listen on " + config_.listen_host + ":" + std::to_string(config_.listen_port) +
        (tls ? " (address in use or not local, or TLS certificate " + config_.tls_cert_path +
                   " / key " + config_.tls_key_path + " unreadable or not a pair?)"
             : " (address in use or not local?)"));
  }
  port_ = lws_get_vhost_listen_port(vhost_);

  if (signal_fd_ >= 0) {
    auto* sh = new SignalHandler(*this, signal_fd_);
    if (AdoptRawFd(vhost_, signal_fd_, sh) == nullptr) {
      delete sh;
      signal_fd_ = -1;  // lws closed it
      return Internal("could not adopt the signalfd");
    }
    signal_fd_ = -1;  // owned by lws now
  }

  if (!config_.ingest_path.empty()) {
    ingest_ = std::make_unique<IngestServer>(*this);
    EW_TRY(ingest_->Listen(config_.ingest_path, config_.ingest_mode, config_.ingest_group));
  }

  heartbeat_timer_.Init(context_, [this] { SendHeartbeats(); });
  heartbeat_timer_.StartPeriodic(static_cast<int64_t>(config_.heartbeat_s) * 1000000);
  if (config_.refresh_s > 0) {
    refresh_timer_.Init(context_, [this] { RefreshUnchanged(); });
    refresh_timer_.StartPeriodic(1000000);
  }
  shutdown_timer_.Init(context_, [this] { done_ = true; });
  sio_->Start(context_);
  sweep_timer_.Init(context_, [this] { SweepSessions(); });
  sweep_timer_.StartPeriodic(250000);
  if (config_.gateway_topic_period_s > 0) {
    stats_timer_.Init(context_, [this] { PublishGatewayStats(); });
    stats_timer_.StartPeriodic(static_cast<int64_t>(config_.gateway_topic_period_s) * 1000000);
  }
  return OkStatus();
}

void Gateway::Run() {
  while (!done_) {
    if (lws_service(context_, 0) < 0) break;
  }
  heartbeat_timer_.Cancel();
  refresh_timer_.Cancel();
  shutdown_timer_.Cancel();
  sweep_timer_.Cancel();
  stats_timer_.Cancel();
  for (auto& [id, t] : timers_) t->Cancel();
  sio_->Stop();
  mailbox_.Close();
  lws_context_destroy(context_);
  context_ = nullptr;
}

void Gateway::RequestStop() {
  stop_requested_.store(true);
  if (context_ != nullptr) lws_cancel_service(context_);
}

void Gateway::Post(std::function<void()> fn) {
  mailbox_.Post(std::move(fn));
}

void Gateway::OnLoopWake() {
  mailbox_.Drain();
  if (stop_requested_.load() && !stopping_) BeginShutdown();
}

namespace {
// Sets the level of our lines and of lws's (lws's info lines only at debug).
void ApplyLogLevel(log::Level level) {
  log::SetLevel(level);
  log::InstallLwsLogger(level == log::Level::kDebug ? log::Level::kInfo : log::Level::kWarn);
}
}  // namespace

void Gateway::OnSignal(int signo) {
  if (signo == SIGHUP) {
    log::Level before = log::GetLevel();
    log::Level after = before == log::Level::kDebug ? start_log_level_ : log::Level::kDebug;
    ApplyLogLevel(after);
    EW_LOG(log::Level::kWarn, "gateway", "SIGHUP received: log level %s -> %s",
           std::string(log::LevelName(before)).c_str(), std::string(log::LevelName(after)).c_str());
    if (on_sighup_) on_sighup_();
    return;
  }
  EW_INFO("gateway", "%s received: shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
  BeginShutdown();
}

void Gateway::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  if (ingest_) ingest_->StopListening();
  for (WsSession* s : sessions_) s->Close(LWS_CLOSE_STATUS_GOINGAWAY, "going away", true);
  sio_->CloseAll();
  if (sessions_.empty()) {
    done_ = true;
    lws_cancel_service(context_);
  } else {
    shutdown_timer_.StartOnce(static_cast<int64_t>(config_.shutdown_grace_ms) * 1000);
  }
}

void Gateway::AddSession(WsSession* s) {
  s->slot = sessions_.size();
  sessions_.push_back(s);
}

void Gateway::RemoveSession(WsSession* s) {
  size_t slot = s->slot;
  if (slot >= sessions_.size() || sessions_[slot] != s) return;
  sessions_[slot] = sessions_.back();
  sessions_[slot]->slot = slot;
  sessions_.pop_back();
  if (stopping_ && sessions_.empty()) done_ = true;
}

uint64_t Gateway::Every(int64_t period_us, std::function<void()> fn) {
  uint64_t id = ++next_timer_id_;
  auto t = std::make_unique<Timer>();
  t->Init(context_, std::move(fn));
  t->StartPeriodic(period_us);
  timers_.emplace(id, std::move(t));
  return id;
}

void Gateway::CancelTimer(uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->Cancel();
  // The timer may be cancelling itself from its own callback: destroy it later (next sweep, or
  // with the gateway).
  retired_timers_.push_back(std::move(it->second));
  timers_.erase(it);
}

void Gateway::AddPoll(LongPoll* p) {
  polls_.insert(p);
}
void Gateway::RemovePoll(LongPoll* p) {
  polls_.erase(p);
}

void Gateway::SweepSessions() {
  retired_timers_.clear();
  RecomputeAccounting();
  // Event-loop lag: how late this periodic timer fired.
  static constexpr int64_t kLagBoundsUs[] = {1000, 5000, 10000, 50000, 100000, 500000, 1000000};
  if (lag_buckets_.empty()) lag_buckets_.assign(std::size(kLagBoundsUs) + 1, 0);
  int64_t lag = sweep_timer_.last_lag_us();
  size_t b = 0;
  while (b < std::size(kLagBoundsUs) && lag > kLagBoundsUs[b]) ++b;
  ++lag_buckets_[b];
  ++lag_count_;
  lag_sum_s_ += static_cast<double>(lag) / 1e6;
  int64_t now = MonotonicMicros();
  for (LongPoll* p : polls_) {
    if (now >= p->deadline_us()) p->Expire();
  }
  int64_t now_us = MonotonicMicros();
  int64_t now_s = UnixMillis() / 1000;
  // Sweep() may close (not destroy) sessions; the list is stable during the walk.
  for (WsSession* s : sessions_) s->Sweep(now_us, now_s);
}

void Gateway::RegisterOp(std::string name, OpHandler handler) {
  ops_[std::move(name)] = std::move(handler);
}

ClientPeer* Gateway::FindPeer(std::string_view session_id) const {
  for (WsSession* s : sessions_) {
    if (s->session_id() == session_id) return s;
  }
  return sio_->FindPeer(session_id);
}

size_t Gateway::connection_count() const {
  return sessions_.size() + polls_.size() + sio_->session_count();
}

void Gateway::RegisterLogLevelOp() {
  // {"op":"log_level","id":n,"level":"debug|info|warn|error"}: admin scope.
  RegisterOp("log_level", [](const ClientOp& op, OpContext& ctx) {
    if (!ctx.IsAdmin()) {
      ctx.Error("forbidden", "log_level needs the admin scope");
      return;
    }
    auto text = GetString(op.root.get(), "level");
    log::Level level;
    if (!text || !log::ParseLevel(*text, &level)) {
      ctx.Error("bad_request", "\"level\" must be debug, info, warn or error");
      return;
    }
    log::Level before = log::GetLevel();
    ApplyLogLevel(level);
    EW_LOG(log::Level::kWarn, "gateway", "log level %s -> %s by %.*s (admin op)",
           std::string(log::LevelName(before)).c_str(), std::string(log::LevelName(level)).c_str(),
           static_cast<int>(ctx.sub().size()), ctx.sub().data());
    JsonWriter w;
    w.BeginObject().Key("type").String("log_level").Key("id");
    if (ctx.id()) {
      w.Int(*ctx.id());
    } else {
      w.Null();
    }
    w.Key("level").String(log::LevelName(level)).EndObject();
    ctx.Reply(w.str());
  });
}

const Gateway::OpHandler* Gateway::FindOp(std::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

void Gateway::AddSubscribeHook(SubscribeHook hook) {
  subscribe_hooks_.push_back(std::move(hook));
}

namespace {
class FdWatcher final : public RawHandler {
 public:
  explicit FdWatcher(std::function<void()> fn) : fn_(std::move(fn)) {}
  int OnReadable(lws*) override {
    fn_();
    return 0;
  }
  void OnClosed(lws*) override { delete this; }

 private:
  std::function<void()> fn_;
};
}  // namespace

Status Gateway::WatchFd(int fd, std::function<void()> on_readable) {
  if (context_ == nullptr) return FailedPrecondition("WatchFd before Start");
  // lws closes the descriptors it adopts: give it a duplicate so the caller keeps its own.
  int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ErrnoToStatus(errno, "dup");
  auto* w = new FdWatcher(std::move(on_readable));
  if (AdoptRawFd(vhost_, dup_fd, w) == nullptr) {
    delete w;
    return Internal("could not adopt the descriptor into the event loop");
  }
  return OkStatus();
}

Result<auth::Claims> Gateway::VerifyToken(std::string_view token) const {
  return auth::VerifyToken(token, config_.verify, UnixMillis() / 1000);
}

std::optional<HttpResponse> Gateway::AdmitConnection(const std::string& peer) {
  std::string reason;
  if (stopping_) {
    reason = "shutting_down";
  } else if (connection_count() >= static_cast<size_t>(config_.max_ws_connections)) {
    reason = "max_connections";
  } else if (AccountedBytes() + ConnectionReservation() > config_.memory_budget_bytes) {
    reason = "memory_budget";
  } else if (load_.shedding) {
    reason = load_.reason;
  }
  if (reason.empty()) return std::nullopt;
  CountRejection(reason);
  EW_WARN("ws", "rejected %s: %s", peer.c_str(), reason.c_str());
  HttpResponse r;
  r.status = 503;
  r.body = R"({"error":"overloaded","reason":")" + reason + R"("})";
  r.headers.emplace_back("Retry-After", reason == "max_connections" ? "5" : "10");
  return r;
}

std::optional<HttpResponse> Gateway::Admit(lws* wsi, bool websocket, bool require_token,
                                           bool rate_limited) {
  std::string peer = PeerAddress(wsi);
  int retry_after = 1;
  if (rate_limited && !conn_limiter_.Allow(peer, MonotonicMicros(), &retry_after)) {
    ++stats_.rejected_rate;
    CountRejection("rate_limited");
    EW_WARN("http", "rejected %s: more than %.0f new requests/s", peer.c_str(),
            config_.conn_rate_per_ip);
    HttpResponse r;
    r.status = 429;
    r.body = R"({"error":"rate_limited","message":"too many new connections from this address"})";
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
  }
  std::string origin = RequestUri(wsi, WSI_TOKEN_ORIGIN);
  std::string host = RequestUri(wsi, WSI_TOKEN_HOST);
  if (!OriginAllowed(origin, host, config_.allowed_origins)) {
    ++stats_.rejected_origin;
    CountRejection("forbidden_origin");
    EW_WARN("http", "rejected %s: origin %s not allowed", peer.c_str(), origin.c_str());
    return JsonError(403, "forbidden_origin", "this Origin is not in the gateway's allowlist");
  }
  if (websocket) {
    ++stats_.connection_attempts;
    if (auto refused = AdmitConnection(peer)) return refused;
  }
  if (!config_.auth_enabled) return std::nullopt;
  // A token in the Authorization header (preferred) or the ?token= query parameter (never
  // logged). Absent on a WebSocket upgrade: the client authenticates with its first frame.
  std::string token;
  bool presented = false;
  Status header_error;  // set when Authorization is not "Bearer <token>"
  std::string authz = RequestUri(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (!authz.empty()) {
    presented = true;
    auto bearer = auth::BearerToken(authz);
    if (bearer.ok()) {
      token = std::string(*bearer);
    } else {
      header_error = bearer.status();
    }
  } else {
    char buf[auth::kMaxTokenBytes + 16];
    const char* v = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof(buf));
    if (v != nullptr) {
      presented = true;
      token.assign(v);
    }
  }
  if (!presented) {
    (void)require_token;  // the HTTP layer answers 401 token_missing for API paths
    return std::nullopt;
  }
  auto claims = header_error.ok() ? VerifyToken(token) : Result<auth::Claims>(header_error);
  if (!claims.ok()) {
    auto reason = auth::ReasonOf(claims.status());
    std::string name(reason ? auth::ReasonName(*reason) : "token_malformed");
    CountAuthFailure(name);
    EW_WARN("auth", "rejected %s before upgrade: %s", peer.c_str(), name.c_str());
    HttpResponse r;
    r.status = 401;
    JsonWriter w;
    w.BeginObject().Key("error").String("unauthorized").Key("reason").String(name);
    w.Key("message").String("the token was refused: " + name).EndObject();
    r.body = w.Take();
    return r;
  }
  pending_claims_[wsi] = std::move(claims).value();
  return std::nullopt;
}

std::optional<auth::Claims> Gateway::TakePendingClaims(lws* wsi) {
  auto it = pending_claims_.find(wsi);
  if (it == pending_claims_.end()) return std::nullopt;
  auth::Claims c = std::move(it->second);
  pending_claims_.erase(it);
  return c;
}

Status Gateway::Submit(std::string_view topic, const cJSON* data, int64_t ts_ms) {
  EW_ASSIGN_OR_RETURN(PublishAction action, policy_->Evaluate(topic, data));
  std::string json = PrintJson(data);
  if (action == PublishAction::kPublish && load_.shedding) {
    TopicState* t = bus_.Find(topic);
    if (t != nullptr && ShedEvent(t, MonotonicMicros())) {
      ++stats_.events_shed;
      action = PublishAction::kSuppress;
    }
  }
  if (action == PublishAction::kSuppress) {
    ++stats_.events_suppressed;
    return bus_.SetLatest(topic, json, ts_ms);
  }
  auto r = bus_.Publish(topic, json, ts_ms);
  if (r.ok()) {
    std::string kind(FirstSegment(topic));
    auto it = stats_.events_by_kind.find(kind);
    if (it != stats_.events_by_kind.end()) {
      ++it->second;
    } else if (stats_.events_by_kind.size() < 32) {
      stats_.events_by_kind.emplace(std::move(kind), 1);
    } else {
      ++stats_.events_by_kind["other"];
    }
  }
  return r.status();
}

// While shedding, a topic matching shed_patterns publishes at most shed_rate_hz.
bool Gateway::ShedEvent(TopicState* topic, int64_t now_us) {
  bool shed_kind = false;
  for (const std::string& p : config_.shed_patterns) {
    if (TopicMatches(p, topic->name())) {
      shed_kind = true;
      break;
    }
  }
  if (!shed_kind || config_.shed_rate_hz <= 0) return false;
  int64_t min_interval_us = static_cast<int64_t>(1e6 / config_.shed_rate_hz);
  return now_us - topic->last_publish_mono_us() < min_interval_us;
}

bool Gateway::IsLatestValueTopic(const TopicState* topic) {
  auto it = latest_value_cache_.find(topic);
  if (it != latest_value_cache_.end()) return it->second;
  bool latest = false;
  for (const std::string& p : config_.latest_value_patterns) {
    if (TopicMatches(p, topic->name())) {
      latest = true;
      break;
    }
  }
  latest_value_cache_.emplace(topic, latest);
  return latest;
}

void Gateway::NoteIngest(std::optional<int64_t> producer_ts_ms) {
  last_ingest_activity_us_ = MonotonicMicros();
  if (producer_ts_ms) {
    int64_t skew = std::llabs(*producer_ts_ms - UnixMillis());
    max_clock_skew_ms_ = std::max(max_clock_skew_ms_, skew);
  }
}

size_t Gateway::SessionQueuedBytes(const WsSession* s) {
  return s->queued_bytes();
}

void Gateway::CountRejection(const std::string& reason) {
  ++stats_.rejected_by_reason[reason];
}

void Gateway::CountAuthFailure(std::string_view reason) {
  ++stats_.auth_failures;
  ++stats_.auth_failures_by_reason[std::string(reason)];
}

size_t Gateway::ConnectionReservation() const {
  if (config_.connection_reservation_bytes > 0) return config_.connection_reservation_bytes;
  // lws reports 840 bytes of per-connection state plus the protocol's rx buffer; add the
  // session's own state and a small allowance for its queue and receive buffer.
  return 840 + config_.rx_buffer_bytes + sizeof(void*) * 4 + 1024;
}

size_t Gateway::AccountedBytes() const {
  return FrameBytesLive() + accounted_other_bytes_;
}

size_t Gateway::ResidentBytes() {
  long pages_total = 0;
  long pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  int n = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<size_t>(pages_resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void Gateway::RecomputeAccounting() {
  size_t bytes = 0;
  size_t queued = 0;
  for (WsSession* s : sessions_) {
    bytes += s->OwnBytes() + 840 + config_.rx_buffer_bytes;
    queued += s->queued_bytes();
  }
  bytes += polls_.size() * (sizeof(LongPoll) + 840 + 1024);
  bytes += sio_->OwnBytes();
  queued += sio_->QueuedBytes();
  for (const auto& t : bus_.topics()) {
    bytes += sizeof(TopicState) + t->name().capacity() + t->latest_data().capacity() +
             t->ring().size() * sizeof(FrameRef) + t->subscriber_count() * 24;
  }
  accounted_other_bytes_ = bytes;
  stats_.queued_high_water = std::max(stats_.queued_high_water, queued);
}

void Gateway::ReportLoad(double cpu_percent, std::optional<double> temperature_c) {
  load_.cpu_percent = cpu_percent;
  load_.temperature_c = temperature_c;
  // Hysteresis: shed above the threshold, recover 10 CPU points / 5 degC below it.
  bool hot =
      config_.thermal_limit_c > 0 && temperature_c &&
      *temperature_c >= (load_.shedding && load_.reason == "thermal" ? config_.thermal_limit_c - 5
                                                                     : config_.thermal_limit_c);
  bool busy =
      cpu_percent >= (load_.shedding && load_.reason == "cpu" ? config_.cpu_shed_percent - 10
                                                              : config_.cpu_shed_percent);
  std::string reason = hot ? "thermal" : busy ? "cpu" : "";
  bool shedding = !reason.empty();
  if (shedding == load_.shedding && reason == load_.reason) return;
  load_.shedding = shedding;
  load_.reason = reason;
  if (shedding) {
    EW_WARN(
        "load",
        "shedding load (%s): cpu %.0f%%, temperature %s; refusing new connections, "
        "per-frame topics down-sampled to %.1f Hz",
        reason.c_str(), cpu_percent,
        temperature_c ? (std::to_string(static_cast<int>(*temperature_c)) + " C").c_str() : "n/a",
        config_.shed_rate_hz);
  } else {
    EW_INFO("load", "load shedding ended: cpu %.0f%%", cpu_percent);
  }
  JsonWriter w;
  w.BeginObject().Key("active").Bool(shedding).Key("reason");
  if (shedding) {
    w.String(reason);
  } else {
    w.Null();
  }
  w.Key("cpu_percent").Double(cpu_percent);
  if (temperature_c) w.Key("temperature_c").Double(*temperature_c);
  w.Key("cpu_threshold").Double(config_.cpu_shed_percent);
  if (config_.thermal_limit_c > 0) w.Key("thermal_limit_c").Double(config_.thermal_limit_c);
  w.Key("frame_rate_hz").Double(config_.shed_rate_hz);
  w.EndObject();
  auto parsed = ParseJson(w.str());
  if (parsed.ok()) Submit("system/load_shedding", parsed->get(), UnixMillis()).IgnoreError();
}

void Gateway::PublishGatewayStats() {
  int64_t now = MonotonicMicros();
  double dt = last_stats_us_ > 0 ? static_cast<double>(now - last_stats_us_) / 1e6 : 0;
  double out_rate = dt > 0 ? static_cast<double>(stats_.frames_out - last_frames_out_) / dt : 0;
  double in_rate = dt > 0 ? static_cast<double>(stats_.ingest_lines - last_ingest_lines_) / dt : 0;
  last_stats_us_ = now;
  last_frames_out_ = stats_.frames_out;
  last_ingest_lines_ = stats_.ingest_lines;
  uint64_t rejected = 0;
  for (const auto& [reason, n] : stats_.rejected_by_reason) rejected += n;
  uint64_t attempts = stats_.connection_attempts;
  uint64_t errors = rejected + stats_.auth_failures + stats_.ingest_rejected +
                    stats_.slow_consumer_closes + stats_.errors_sent;
  uint64_t handled = attempts + stats_.messages_in + stats_.ingest_lines;
  JsonWriter w;
  w.BeginObject();
  w.Key("uptime_s").Int(uptime_s());
  w.Key("connections").Uint(sessions_.size() + sio_->session_count());  // incl. Socket.IO
  w.Key("polls").Uint(polls_.size());
  w.Key("connection_attempts").Uint(attempts);
  w.Key("connection_success_rate")
      .Double(attempts > 0 ? std::round(1000.0 * static_cast<double>(stats_.ws_accepted) /
                                        static_cast<double>(attempts)) /
                                 1000.0
                           : 1.0);
  w.Key("messages_per_second").Double(std::round(out_rate * 10) / 10);
  w.Key("ingest_per_second").Double(std::round(in_rate * 10) / 10);
  w.Key("error_rate")
      .Double(handled > 0 ? std::round(10000.0 * static_cast<double>(errors) /
                                       static_cast<double>(handled)) /
                                10000.0
                          : 0.0);
  w.Key("accounted_bytes").Uint(AccountedBytes());
  w.Key("memory_budget_bytes").Uint(config_.memory_budget_bytes);
  w.Key("rss_bytes").Uint(ResidentBytes());
  w.Key("load_shedding").Bool(load_.shedding);
  w.EndObject();
  auto parsed = ParseJson(w.str());
  if (parsed.ok()) Submit("system/gateway", parsed->get(), UnixMillis()).IgnoreError();
}

void Gateway::SendHeartbeats() {
  if (sessions_.empty()) return;
  FrameRef hb = MakeControlFrame(HeartbeatMessage(UnixMillis()));
  for (WsSession* s : sessions_) s->Send(hb);
  ++stats_.heartbeats;
}

void Gateway::RefreshUnchanged() {
  int64_t interval = static_cast<int64_t>(config_.refresh_s) * 1000000;
  for (TopicState* t : bus_.DueForRefresh(MonotonicMicros(), interval)) {
    auto parsed = ParseJson(t->latest_data(), JsonLimits{1 << 30, 1 << 20});
    if (parsed.ok()) policy_->OnForcedPublish(t->name(), parsed->get());
    std::string data = t->latest_data();
    if (bus_.Publish(t->name(), data, UnixMillis()).ok()) ++stats_.events_refreshed;
  }
}

void Gateway::InstallBuiltinRoutes() {
  router_.Add("/metrics", [this](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = MetricsText();
    return r;
  });
  router_.Add("/api/v1/diagnostics", [this](const HttpRequest&) {
    HttpResponse r;
    r.body = DiagnosticsJson();
    return r;
  });
  router_.Add("/healthz", [this](const HttpRequest&) {
    JsonWriter w;
    w.BeginObject()
        .Key("status")
        .String(stopping_ ? "stopping" : "ok")
        .Key("version")
        .String(config_.server_name)
        .Key("uptime_s")
        .Int(uptime_s())
        .Key("connections")
        .Uint(sessions_.size() + sio_->session_count())  // incl. Socket.IO
        .Key("polls")
        .Uint(polls_.size())
        .Key("epoch")
        .String(epoch_)
        .EndObject();
    HttpResponse r;
    r.body = w.Take();
    return r;
  });
  router_.Add("/api/v1/topics", [this](const HttpRequest& req) {
    JsonWriter w;
    w.BeginObject().Key("epoch").String(epoch_).Key("topics").BeginArray();
    for (const auto& t : bus_.topics()) {
      if (!req.CanRead(t->name())) continue;
      w.BeginObject()
          .Key("topic")
          .String(t->name())
          .Key("seq")
          .Uint(t->last_seq())
          .Key("last_ts")
          .Int(t->last_ts_ms())
          .Key("first_seq")
          .Uint(t->first_seq())
          .Key("subscribers")
          .Uint(t->subscriber_count())
          .EndObject();
    }
    w.EndArray().EndObject();
    HttpResponse r;
    r.body = w.Take();
    return r;
  });
  router_.Add("/api/v1/history", [this](const HttpRequest& req) {
    auto topic = req.Param("topic");
    if (!topic || topic->empty()) {
      return JsonError(400, "bad_request", "query parameter 'topic' is required");
    }
    size_t limit = bus_.limits().history_len;
    if (auto l = req.Param("limit")) {
      char* end = nullptr;
      std::string lv(*l);
      long v = std::strtol(lv.c_str(), &end, 10);
      if (lv.empty() || *end != '\0' || v <= 0) {
        return JsonError(400, "bad_request", "'limit' must be a positive integer");
      }
      limit = std::min(limit, static_cast<size_t>(v));
    }
    if (!req.CanRead(*topic)) {
      return JsonError(403, "forbidden", "the token's read scopes do not cover this topic");
    }
    TopicState* t = bus_.Find(*topic);
    if (t == nullptr) return JsonError(404, "not_found", "no such topic: " + std::string(*topic));
    const auto& ring = t->ring();
    size_t skip = ring.size() > limit ? ring.size() - limit : 0;
    JsonWriter w;
    w.BeginObject().Key("topic").String(t->name()).Key("epoch").String(epoch_);
    w.Key("events").BeginArray();
    for (size_t i = skip; i < ring.size(); ++i) w.Raw(ring[i]->payload());
    w.EndArray().EndObject();
    HttpResponse r;
    r.body = w.Take();
    return r;
  });
}

}  // namespace edgewatch::fw
