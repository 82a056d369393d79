#include "sio_server.h"

#include <algorithm>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/engineio.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/socketio.h"
#include "edgewatch/fw/topic.h"
#include "sio_session.h"

namespace edgewatch::fw {
namespace {

// Engine.IO's HTTP error codes ({"code":N,"message":...}, status 400).
HttpResponse EioError(int status, int code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  JsonWriter w;
  w.BeginObject().Key("code").Int(code).Key("message").String(message).EndObject();
  r.body = w.Take();
  return r;
}

FrameRef FrameOf(std::string packet, const Frame* like) {
  std::string buf(LWS_PRE, '\0');
  buf += packet;
  auto f = std::make_shared<Frame>(std::move(buf));
  if (like != nullptr) {
    f->topic = like->topic;
    f->seq = like->seq;
    f->gseq = like->gseq;
    f->ts_ms = like->ts_ms;
  }
  return f;
}

void CloseWs(lws* wsi, int code, std::string_view reason) {
  std::string r(reason.substr(0, 120));
  lws_close_reason(wsi, static_cast<lws_close_status>(code),
                   reinterpret_cast<unsigned char*>(r.data()), r.size());
}

}  // namespace

SioServer::SioServer(Gateway& gw)
    : gw_(gw),
      ping_interval_ms_(std::clamp(gw.config().sio_ping_interval_ms, 100, 120000)),
      ping_timeout_ms_(std::clamp(gw.config().sio_ping_timeout_ms, 100, 120000)),
      max_payload_(gw.config().max_message_bytes),
      ping_(FrameOf("2", nullptr)),
      noop_(FrameOf("6", nullptr)) {}

SioServer::~SioServer() {
  Stop();
}

void SioServer::Start(lws_context* context) {
  tick_.Init(context, [this] { Tick(); });
  tick_.StartPeriodic(std::min<int64_t>(250000, ping_interval_ms_ * 1000 / 4));
}

void SioServer::Stop() {
  tick_.Cancel();
  retired_.clear();
  sessions_.clear();
}

SioSession* SioServer::Find(const std::string& sid) const {
  auto it = sessions_.find(sid);
  return it == sessions_.end() || it->second->closed() ? nullptr : it->second.get();
}

bool SioServer::IsLive(std::optional<std::string_view> sid) const {
  if (!sid) return false;
  auto it = sessions_.find(*sid);
  return it != sessions_.end() && !it->second->closed();
}

void SioServer::Retire(SioSession* s) {
  auto it = sessions_.find(s->sid());
  if (it == sessions_.end() || it->second.get() != s) return;
  retired_.push_back(std::move(it->second));
  sessions_.erase(it);
}

void SioServer::CloseAll() {
  std::vector<SioSession*> all;
  for (auto& [sid, s] : sessions_) all.push_back(s.get());
  for (SioSession* s : all) s->Close(LWS_CLOSE_STATUS_GOINGAWAY, "going away");
}

void SioServer::Tick() {
  retired_.clear();
  int64_t now_us = MonotonicMicros();
  int64_t now_s = UnixMillis() / 1000;
  std::vector<SioSession*> all;
  all.reserve(sessions_.size());
  for (auto& [sid, s] : sessions_) all.push_back(s.get());
  for (SioSession* s : all) s->Tick(now_us, now_s);  // may Retire(): the map is not walked
}

size_t SioServer::OwnBytes() const {
  size_t n = 0;
  for (const auto& [sid, s] : sessions_) n += s->OwnBytes() + 840 + gw_.config().rx_buffer_bytes;
  return n;
}

size_t SioServer::QueuedBytes() const {
  size_t n = 0;
  for (const auto& [sid, s] : sessions_) n += s->queued_bytes();
  return n;
}

ClientPeer* SioServer::FindPeer(std::string_view socket_id) const {
  for (const auto& [sid, s] : sessions_) {
    if (!s->closed() && s->session_id() == socket_id) return s.get();
  }
  return nullptr;
}

std::optional<HttpResponse> SioServer::OnHttp(const HttpRequest& req,
                                              std::optional<auth::Claims> claims, SioLink** link) {
  auto eio = req.Param("EIO");
  if (!eio || *eio != "4") return EioError(400, 5, "Unsupported protocol version");
  auto transport = req.Param("transport");
  if (!transport || (*transport != "polling" && *transport != "websocket")) {
    return EioError(400, 0, "Transport unknown");
  }
  if (*transport == "websocket") return EioError(400, 3, "Bad request: expected an upgrade");
  auto sid = req.Param("sid");
  if (!sid) {
    if (req.method != "GET") return EioError(400, 2, "Bad handshake method");
    ++gw_.mutable_stats().connection_attempts;
    if (auto refused = gw_.AdmitConnection(req.peer)) return refused;
    std::string id = RandomHexId(10);
    auto s = std::make_unique<SioSession>(*this, gw_, id, req.peer, /*websocket=*/false,
                                          std::move(claims));
    sessions_.emplace(id, std::move(s));
    ++gw_.mutable_stats().ws_accepted;
    HttpResponse r;
    r.content_type = "text/plain; charset=UTF-8";
    r.body = EioOpenPacket(id, /*offer_websocket_upgrade=*/true, ping_interval_ms_,
                           ping_timeout_ms_, max_payload_);
    EW_DEBUG("sio", "session %s opened (polling) from %s", id.c_str(), req.peer.c_str());
    return r;
  }
  SioSession* s = Find(std::string(*sid));
  if (s == nullptr) return EioError(400, 1, "Session ID unknown");
  auto* l = new SioLink;
  l->sid = std::string(*sid);
  l->wsi = req.wsi;
  if (req.method == "POST") {
    *link = l;
    return std::nullopt;
  }
  if (req.method != "GET") {
    delete l;
    return EioError(400, 3, "Bad request");
  }
  auto now = s->OnPollGet(l);
  if (now) {
    delete l;
    return now;
  }
  *link = l;
  return std::nullopt;
}

void SioServer::OnHttpBody(SioLink* link, const void* in, size_t len) {
  if (link->too_large) return;
  if (link->body.size() + len > max_payload_) {
    link->too_large = true;
    link->body.clear();
    link->body.shrink_to_fit();
    return;
  }
  link->body.append(static_cast<const char*>(in), len);
}

HttpResponse SioServer::OnHttpBodyComplete(SioLink* link) {
  SioSession* s = Find(link->sid);
  if (s == nullptr) return EioError(400, 1, "Session ID unknown");
  if (link->too_large) {
    s->Close(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "payload too large");
    return EioError(413, 3, "Payload too large (maxPayload " + std::to_string(max_payload_) + ")");
  }
  return s->OnPollPost(link->body);
}

HttpResponse SioServer::TakePollResponse(SioLink* link) {
  if (link->has_response) return std::move(link->response);
  SioSession* s = Find(link->sid);
  if (s == nullptr) return EioError(400, 1, "Session ID unknown");
  return s->TakePollResponse(link);
}

void SioServer::OnHttpClosed(SioLink* link) {
  auto it = sessions_.find(link->sid);
  if (it != sessions_.end()) it->second->OnPollClosed(link);
  for (auto& r : retired_) r->OnPollClosed(link);
}

SioLink* SioServer::OnWsEstablished(lws* wsi, std::optional<auth::Claims> claims) {
  char eio[8];
  char buf[64];
  const char* v = lws_get_urlarg_by_name(wsi, "EIO=", eio, sizeof(eio));
  if (v == nullptr || std::string_view(v) != "4") {
    CloseWs(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "unsupported Engine.IO version");
    return nullptr;
  }
  auto* link = new SioLink;
  link->wsi = wsi;
  link->websocket = true;
  const char* sid = lws_get_urlarg_by_name(wsi, "sid=", buf, sizeof(buf));
  if (sid != nullptr) {
    SioSession* s = Find(sid);
    if (s == nullptr || s->websocket()) {
      delete link;
      CloseWs(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "Session ID unknown");
      return nullptr;
    }
    link->sid = sid;
    s->AttachProbe(wsi);
    return link;
  }
  // Admission was checked in CONFIRM_UPGRADE.
  char peer_buf[64];
  const char* peer = lws_get_peer_simple(wsi, peer_buf, sizeof(peer_buf));
  std::string id = RandomHexId(10);
  auto s = std::make_unique<SioSession>(*this, gw_, id, peer != nullptr ? peer : "?",
                                        /*websocket=*/true, std::move(claims));
  SioSession* raw = s.get();
  sessions_.emplace(id, std::move(s));
  ++gw_.mutable_stats().ws_accepted;
  link->sid = id;
  raw->AttachWebSocket(wsi);  // sends the open packet
  EW_DEBUG("sio", "session %s opened (websocket)", id.c_str());
  return link;
}

void SioServer::OnWsReceive(SioLink* link, const void* in, size_t len) {
  SioSession* s = Find(link->sid);
  if (s != nullptr) s->OnWsReceive(link->wsi, in, len);
}

int SioServer::OnWsWriteable(SioLink* link) {
  auto it = sessions_.find(link->sid);
  if (it == sessions_.end()) {
    for (auto& r : retired_) {
      if (r->sid() == link->sid) return r->OnWsWriteable(link->wsi);
    }
    return -1;
  }
  return it->second->OnWsWriteable(link->wsi);
}

void SioServer::OnWsClosed(SioLink* link) {
  auto it = sessions_.find(link->sid);
  if (it != sessions_.end()) it->second->OnWsClosed(link->wsi);
  for (auto& r : retired_) {
    if (r->sid() == link->sid) r->OnWsClosed(link->wsi);
  }
}

int SioServer::AliasOf(const TopicState* topic) {
  auto it = alias_cache_.find(topic);
  if (it != alias_cache_.end()) return it->second;
  int found = -1;
  const auto& aliases = gw_.config().sio_event_aliases;
  for (size_t i = 0; i < aliases.size(); ++i) {
    if (TopicMatches(aliases[i].pattern, topic->name())) {
      found = static_cast<int>(i);
      break;
    }
  }
  alias_cache_.emplace(topic, found);
  return found;
}

void SioServer::EventFrames(const FrameRef& source, FrameRef* event, FrameRef* alias) {
  int alias_index = source->topic != nullptr ? AliasOf(source->topic) : -1;
  CacheSlot& slot = cache_[source->gseq % cache_.size()];
  if (slot.gseq == source->gseq && source->gseq != 0) {
    *event = slot.event.lock();
    *alias = alias_index >= 0 ? slot.alias.lock() : nullptr;
    if (*event && (alias_index < 0 || *alias)) return;
  }
  JsonWriter w;
  w.BeginObject().Key("topic").String(source->topic != nullptr ? source->topic->name() : "");
  w.Key("seq").Uint(source->seq).Key("ts").Int(source->ts_ms).Key("data").Raw(source->data());
  w.EndObject();
  *event = FrameOf(SioEventPacket("event", w.str()), source.get());
  *alias = alias_index >= 0
               ? FrameOf(SioEventPacket(gw_.config().sio_event_aliases[alias_index].event,
                                        source->data()),
                         source.get())
               : nullptr;
  ++frames_built_;
  slot.gseq = source->gseq;
  slot.event = *event;
  slot.alias = *alias;
}

}  // namespace edgewatch::fw
