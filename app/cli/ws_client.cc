#include "ws_client.h"

#include <cstdio>
#include <cstring>

#include "edgewatch/base/status.h"
#include "flags.h"
#include "lws_client.h"

namespace edgewatch::cli {
namespace {

constexpr char kProtocol[] = "edgewatch-cli";
constexpr size_t kMaxMessage = 16 << 20;
constexpr lws_usec_t kCloseGraceUs = 3 * LWS_USEC_PER_SEC;

}  // namespace

void WsClient::OnDeadline() {
  Finish(kExitFailure, "timed out");
}

void WsClient::OnSignal() {
  Finish(kExitOk, "");
}

void WsClient::Note(std::string_view line) const {
  std::fprintf(stderr, "edgewatch %s: %.*s\n", command_.c_str(), static_cast<int>(line.size()),
               line.data());
}

void WsClient::Finish(int code, std::string message) {
  if (closing_ || finished_) return;
  closing_ = true;
  exit_code_ = code;
  failure_ = std::move(message);
  if (wsi_ == nullptr) {
    finished_ = true;
    return;
  }
  lws_callback_on_writable(wsi_);
  // Bound the close handshake: stop even if the server never answers our close.
  lws_sul_schedule(
      context_, 0, &grace_timer_.sul,
      [](lws_sorted_usec_list_t* sul) { reinterpret_cast<Timer*>(sul)->client->finished_ = true; },
      kCloseGraceUs);
}

void WsClient::Queue(std::string msg) {
  outbox_.push_back(std::move(msg));
  if (wsi_ != nullptr) lws_callback_on_writable(wsi_);
}

int WsClient::OnWriteable() {
  if (closing_) {
    static const char kBye[] = "bye";
    lws_close_reason(wsi_, LWS_CLOSE_STATUS_NORMAL,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(kBye)), 3);
    return -1;
  }
  if (outbox_.empty()) return 0;
  std::string& msg = outbox_.front();
  const size_t len = msg.size() - LWS_PRE;
  int n =
      lws_write(wsi_, reinterpret_cast<unsigned char*>(msg.data()) + LWS_PRE, len, LWS_WRITE_TEXT);
  if (n < static_cast<int>(len)) {
    Finish(kExitFailure, "write to the server failed");
    return -1;
  }
  outbox_.pop_front();
  if (!outbox_.empty()) lws_callback_on_writable(wsi_);
  return 0;
}

int WsClient::OnReceive(const void* in, size_t len) {
  if (rx_.size() + len > kMaxMessage) {
    Finish(kExitFailure, "server sent a message over 16 MiB");
    return -1;
  }
  rx_.append(static_cast<const char*>(in), len);
  // A message may arrive split across several RECEIVE callbacks.
  if (!lws_is_final_fragment(wsi_) || lws_remaining_packet_payload(wsi_) != 0) return 0;
  if (lws_frame_is_binary(wsi_)) {
    Note("ignoring a binary message of " + std::to_string(rx_.size()) + " bytes");
  } else {
    HandleMessage(rx_);
  }
  rx_.clear();
  return 0;
}

void WsClient::OnConnectionError(const char* why_text) {
  std::string why = why_text != nullptr ? why_text : "unknown error";
  wsi_ = nullptr;
  finished_ = true;
  if (closing_) return;
  exit_code_ = kExitFailure;
  failure_ = "cannot connect to " + url_.scheme + "://" + url_.HostPort() + url_.path + ": " + why;
}

void WsClient::OnClosed() {
  wsi_ = nullptr;
  finished_ = true;
  if (closing_) return;
  exit_code_ = kExitFailure;
  if (peer_close_code_) {
    failure_ = "connection closed by server: code " + std::to_string(*peer_close_code_) +
               (peer_close_reason_.empty() ? "" : " (" + peer_close_reason_ + ")");
  } else {
    failure_ = "connection lost (closed without a close frame)";
  }
}

int WsClient::Callback(struct lws* wsi, enum lws_callback_reasons reason, void*, void* in,
                       size_t len) {
  auto* c = static_cast<WsClient*>(lws_context_user(lws_get_context(wsi)));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string why = in != nullptr ? static_cast<const char*>(in) : "unknown error";
      unsigned int status = lws_http_client_http_response(wsi);
      if (status != 0 && status != 101) why += " (HTTP " + std::to_string(status) + ")";
      c->OnConnectionError(why.c_str());
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      c->wsi_ = wsi;
      if (!c->closing_) c->OnEstablished();
      if (c->closing_) lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return c->OnWriteable();
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (c->closing_) return 0;
      return c->OnReceive(in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const auto* p = static_cast<const unsigned char*>(in);
        c->peer_close_code_ = (p[0] << 8) | p[1];
        c->peer_close_reason_.assign(reinterpret_cast<const char*>(p) + 2, len - 2);
      } else {
        c->peer_close_code_ = 1005;  // no status code present
      }
      return 0;  // lws answers the close
    case LWS_CALLBACK_CLIENT_CLOSED:
      c->OnClosed();
      return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
      if (ConsumeSignal(wsi) != 0) c->OnSignal();
      return 0;
    default:
      return 0;
  }
}

int WsClient::Run(const Url& url, bool insecure, bool verbose, int64_t deadline_us) {
  static const struct lws_protocols kProtocols[] = {
      {kProtocol, &WsClient::Callback, 0, 64 * 1024, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  url_ = url;
  verbose_ = verbose;
  context_ = CreateClientContext(kProtocols, this, verbose);
  if (context_ == nullptr) {
    Note("cannot create the lws context");
    return kExitFailure;
  }
  if (Status s = WatchSignals(context_, kProtocol); !s.ok()) {
    Note(s.ToString());
    lws_context_destroy(context_);
    return kExitFailure;
  }
  if (deadline_us > 0) {
    lws_sul_schedule(
        context_, 0, &deadline_timer_.sul,
        [](lws_sorted_usec_list_t* sul) { reinterpret_cast<Timer*>(sul)->client->OnDeadline(); },
        deadline_us);
  }
  std::string host_port = url_.HostPort();
  struct lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = context_;
  ci.address = url_.host.c_str();
  ci.port = url_.port;
  ci.path = url_.path.c_str();
  ci.host = host_port.c_str();
  ci.ssl_connection = ClientTlsFlags(url_.tls(), insecure);
  ci.local_protocol_name = kProtocol;  // no Sec-WebSocket-Protocol header is sent
  ci.pwsi = &wsi_;
  if (lws_client_connect_via_info(&ci) == nullptr && !finished_) {
    failure_ = "cannot connect to " + url_.scheme + "://" + host_port + url_.path;
    finished_ = true;
  }
  while (!finished_) {
    if (lws_service(context_, 0) < 0) break;
  }
  lws_context_destroy(context_);
  context_ = nullptr;
  if (!failure_.empty()) Note(failure_);
  return exit_code_;
}

}  // namespace edgewatch::cli
