#include "sio_session.h"

#include <algorithm>
#include <unordered_map>

#include "../ws_session.h"  // close codes shared with /ws
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/resume.h"
#include "edgewatch/fw/topic.h"
#include "sio_server.h"

namespace edgewatch::fw {
namespace {
constexpr int kMaxFramesPerWrite = 256;
constexpr size_t kMaxPollResponseBytes = 256 * 1024;
constexpr size_t kMaxPacketsPerPayload = 256;
constexpr size_t kMaxPendingAcks = 64;
// A GET is held at most this long (then answered with a noop): below common proxy idle limits,
// whatever the ping interval.
constexpr int64_t kMaxPollHoldUs = 25 * 1000000;

FrameRef PacketFrame(std::string_view packet) {
  return MakeControlFrame(packet);  // LWS_PRE + the packet's text
}

void SetCloseReason(lws* wsi, int code, std::string_view reason) {
  std::string r(reason.substr(0, 120));
  lws_close_reason(wsi, static_cast<lws_close_status>(code),
                   reinterpret_cast<unsigned char*>(r.data()), r.size());
}

int WriteText(lws* wsi, std::string_view text) {
  std::string buf(LWS_PRE, '\0');
  buf.append(text);
  return lws_write(wsi, reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE, text.size(),
                   LWS_WRITE_TEXT);
}
}  // namespace

SioSession::SioSession(SioServer& server, Gateway& gw, std::string sid, std::string peer,
                       bool websocket, std::optional<auth::Claims> claims)
    : server_(server),
      gw_(gw),
      sid_(std::move(sid)),
      id_(RandomHexId(8)),
      peer_(std::move(peer)),
      claims_(std::move(claims)),
      rate_(gw.config().msg_rate, gw.config().msg_burst) {
  (void)websocket;
  int64_t now = MonotonicMicros();
  next_ping_us_ = now + server_.ping_interval_ms() * 1000;
  auth_deadline_us_ = now + static_cast<int64_t>(gw_.config().auth_timeout_s) * 1000000;
}

SioSession::~SioSession() {
  gw_.bus().RemoveSubscriber(this);
}

size_t SioSession::OwnBytes() const {
  size_t bytes = sizeof(*this) + rx_.capacity() + queue_.capacity() * sizeof(FrameRef) +
                 pending_acks_.size() * 48 + close_reason_.capacity() + sid_.capacity() +
                 id_.capacity() + peer_.capacity();
  if (claims_) {
    bytes += sizeof(auth::Claims) + claims_->sub.capacity();
    for (const auto& p : claims_->scopes.read) bytes += sizeof(std::string) + p.capacity();
    for (const auto& p : claims_->scopes.write) bytes += sizeof(std::string) + p.capacity();
  }
  return bytes;
}

// --- output ---------------------------------------------------------------------------------

void SioSession::Wake() {
  if (ws_ != nullptr) {
    lws_callback_on_writable(ws_);
  } else if (poll_ != nullptr && !poll_->ready) {
    poll_->ready = true;
    lws_callback_on_writable(poll_->wsi);
  }
}

void SioSession::Send(FrameRef frame) {
  if (closed_) return;
  queue_.Push(std::move(frame));
  Wake();
}

void SioSession::SendPacket(std::string packet) {
  Send(PacketFrame(packet));
}

void SioSession::SendJson(std::string_view json) {
  // The first reply carrying the id of an event that asked for an acknowledgement answers it
  // (also when it comes later, like a command's result); any other message is emitted as the
  // event named by its "type" (error, gap, skipped, unread, ...).
  std::string name = "message";
  auto parsed = ParseJson(json, JsonLimits{1 << 24, 64});
  if (parsed.ok()) {
    std::optional<int64_t> id = GetInt(parsed->get(), "id");
    if (id && *id >= 0 && pending_acks_.erase(static_cast<uint64_t>(*id)) > 0) {
      SendPacket(SioAckPacket(static_cast<uint64_t>(*id), json));
      return;
    }
    if (auto t = GetString(parsed->get(), "type")) name = std::string(*t);
  }
  SendPacket(SioEventPacket(name, json));
}

void SioSession::SendError(std::optional<int64_t> id, std::string_view code,
                           std::string_view message) {
  ++gw_.mutable_stats().errors_sent;
  SendJson(ErrorMessage(id, code, message));
}

void SioSession::OnEvent(const FrameRef& event) {
  if (closed_ || !connected_) return;
  FrameRef sio_event;
  FrameRef alias;
  server_.EventFrames(event, &sio_event, &alias);
  queue_.Push(std::move(sio_event));
  if (alias) queue_.Push(std::move(alias));
  if (queue_.bytes() > gw_.config().session_queue_bytes) Overflow();
  Wake();
}

// Same policy as WsSession::Overflow: coalesce latest-value topics (telling the client which
// seqs were skipped), then close as a slow consumer.
void SioSession::Overflow() {
  std::vector<FrameRef> frames;
  frames.reserve(queue_.size());
  while (!queue_.empty()) frames.push_back(queue_.Pop());
  std::unordered_map<const TopicState*, uint64_t> newest;
  for (const FrameRef& f : frames) {
    if (f->topic != nullptr && gw_.IsLatestValueTopic(f->topic)) {
      uint64_t& n = newest[f->topic];
      n = std::max(n, f->seq);
    }
  }
  struct Range {
    uint64_t from = 0;
    uint64_t to = 0;
  };
  std::unordered_map<const TopicState*, Range> dropped;
  uint64_t coalesced = 0;
  for (const FrameRef& f : frames) {
    auto it = f->topic != nullptr ? newest.find(f->topic) : newest.end();
    if (it == newest.end()) {
      queue_.Push(f);
      continue;
    }
    if (f->seq < it->second) {
      Range& r = dropped[f->topic];
      if (r.to != f->seq) {  // the event and its alias share a seq: count the event once
        if (r.from == 0) r.from = f->seq;
        r.to = f->seq;
        ++coalesced;
      }
      continue;
    }
    auto d = dropped.find(f->topic);
    if (d != dropped.end()) {
      JsonWriter w;
      w.BeginObject().Key("type").String("skipped").Key("topic").String(f->topic->name());
      w.Key("from").Uint(d->second.from).Key("to").Uint(d->second.to).EndObject();
      queue_.Push(PacketFrame(SioEventPacket("skipped", w.str())));
      ++gw_.mutable_stats().skipped_messages;
      dropped.erase(d);
    }
    queue_.Push(f);
  }
  gw_.mutable_stats().coalesced += coalesced;
  if (queue_.bytes() <= gw_.config().session_queue_bytes) return;
  ++gw_.mutable_stats().slow_consumer_closes;
  EW_WARN("sio", "session %s from %s is a slow consumer (%zu bytes unsent): closing 4408",
          sid_.c_str(), peer_.c_str(), queue_.bytes());
  queue_.Clear();
  Close(kCloseSlowConsumer, "slow_consumer");
}

// --- closing ----------------------------------------------------------------------------------

void SioSession::Close(int code, std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  close_code_ = code;
  close_reason_ = std::string(reason);  // `reason` may view the old close_reason_: use ours
  reason = close_reason_;
  gw_.bus().RemoveSubscriber(this);
  queue_.Clear();
  ++gw_.mutable_stats().ws_closed;
  EW_DEBUG("sio", "session %s closed: %s", sid_.c_str(), close_reason_.c_str());
  for (lws* wsi : {ws_, probe_}) {
    if (wsi == nullptr) continue;
    SetCloseReason(wsi, code, reason);
    lws_callback_on_writable(wsi);
  }
  if (poll_ != nullptr) {
    // The parked GET gets Engine.IO's close packet.
    poll_->response = HttpResponse{200, "text/plain; charset=UTF-8", "1", {}};
    poll_->has_response = true;
    poll_->ready = true;
    lws_callback_on_writable(poll_->wsi);
    poll_ = nullptr;
  }
  server_.Retire(this);
}

void SioSession::Disconnect(std::string_view reason) {
  if (closed_) return;
  EW_INFO("sio", "session %s: server disconnect (%.*s)", sid_.c_str(),
          static_cast<int>(reason.size()), reason.data());
  SendPacket(SioDisconnectPacket());
  connected_ = false;
  gw_.bus().RemoveSubscriber(this);
  close_code_ = kCloseAuthFailed;
  close_reason_ = std::string(reason);
  drain_then_close_ = true;
  Wake();
}

// --- polling ----------------------------------------------------------------------------------

HttpResponse SioSession::PollResponse() {
  HttpResponse r;
  r.content_type = "text/plain; charset=UTF-8";
  if (queue_.empty()) {
    r.body = "6";  // noop: the upgrade is in progress
    noop_ = false;
    return r;
  }
  std::string& body = r.body;
  GatewayStats& stats = gw_.mutable_stats();
  while (!queue_.empty()) {
    std::string_view packet = queue_.Front()->payload();
    if (!body.empty() && body.size() + packet.size() + 1 > kMaxPollResponseBytes) break;
    if (!body.empty()) body.push_back(kEioSeparator);
    body.append(packet);
    queue_.Pop();
    ++stats.frames_out;
  }
  stats.bytes_out += body.size();
  noop_ = false;
  if (drain_then_close_ && queue_.empty()) {
    body.push_back(kEioSeparator);
    body.push_back('1');
    Close(close_code_, close_reason_);
  }
  return r;
}

std::optional<HttpResponse> SioSession::OnPollGet(SioLink* link) {
  if (ws_ != nullptr) {
    Close(LWS_CLOSE_STATUS_POLICY_VIOLATION, "polling after upgrade");
    return HttpResponse{400,
                        "application/json",
                        R"({"code":3,"message":"Bad request: the session was upgraded"})",
                        {}};
  }
  if (poll_ != nullptr) {
    // Engine.IO forbids overlapping GETs: close the session.
    Close(LWS_CLOSE_STATUS_POLICY_VIOLATION, "overlapping polls");
    return HttpResponse{
        400, "application/json", R"({"code":3,"message":"Bad request: overlap"})", {}};
  }
  if (!queue_.empty() || noop_) return PollResponse();
  link->parked = true;
  poll_ = link;
  poll_since_us_ = MonotonicMicros();
  // lws drops an HTTP request that produces no content for 5 s unless told otherwise.
  lws_set_timeout(link->wsi, PENDING_TIMEOUT_HTTP_CONTENT,
                  static_cast<int>(kMaxPollHoldUs / 1000000) + 10);
  return std::nullopt;
}

HttpResponse SioSession::TakePollResponse(SioLink* link) {
  if (poll_ == link) poll_ = nullptr;
  return PollResponse();
}

void SioSession::OnPollClosed(SioLink* link) {
  if (poll_ == link) poll_ = nullptr;
}

HttpResponse SioSession::OnPollPost(std::string_view body) {
  if (ws_ != nullptr) {
    Close(LWS_CLOSE_STATUS_POLICY_VIOLATION, "polling after upgrade");
    return HttpResponse{400,
                        "application/json",
                        R"({"code":3,"message":"Bad request: the session was upgraded"})",
                        {}};
  }
  auto packets = ParseEioPayload(body, kMaxPacketsPerPayload);
  if (!packets.ok()) {
    EW_WARN("sio", "session %s from %s: %s: closing", sid_.c_str(), peer_.c_str(),
            packets.status().message().c_str());
    std::string message = packets.status().message();
    Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, message);
    JsonWriter w;
    w.BeginObject().Key("code").Int(3).Key("message").String("Bad request: " + message);
    w.EndObject();
    return HttpResponse{400, "application/json", w.Take(), {}};
  }
  for (const EioPacket& p : *packets) {
    if (!HandleEio(p, nullptr)) {
      JsonWriter w;
      w.BeginObject().Key("code").Int(3).Key("message").String("Bad request: " + close_reason_);
      w.EndObject();
      return HttpResponse{400, "application/json", w.Take(), {}};
    }
    if (closed_) break;
  }
  return HttpResponse{200, "text/html", "ok", {}};
}

// --- WebSocket --------------------------------------------------------------------------------

void SioSession::AttachWebSocket(lws* wsi) {
  ws_ = wsi;
  SendPacket(EioOpenPacket(sid_, false, server_.ping_interval_ms(), server_.ping_timeout_ms(),
                           server_.max_payload()));
}

void SioSession::AttachProbe(lws* wsi) {
  if (probe_ != nullptr) {
    SetCloseReason(probe_, LWS_CLOSE_STATUS_POLICY_VIOLATION, "superseded probe");
    lws_callback_on_writable(probe_);
  }
  probe_ = wsi;
  rx_.clear();
}

void SioSession::OnWsReceive(lws* wsi, const void* in, size_t len) {
  if (closed_ || (wsi != ws_ && wsi != probe_)) return;
  if (lws_frame_is_binary(wsi)) {
    Close(LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames are not accepted");
    return;
  }
  if (rx_.size() + len > server_.max_payload()) {
    Close(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    return;
  }
  rx_.append(static_cast<const char*>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return;
  std::string message;
  message.swap(rx_);
  auto p = ParseEioPacket(message);
  if (!p.ok()) {
    EW_WARN("sio", "session %s from %s: %s: closing", sid_.c_str(), peer_.c_str(),
            p.status().message().c_str());
    Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, p.status().message());
    return;
  }
  HandleEio(*p, wsi);
}

int SioSession::OnWsWriteable(lws* wsi) {
  if (closed_) {
    if (wsi == ws_) ws_ = nullptr;
    if (wsi == probe_) probe_ = nullptr;
    return -1;  // the close reason was set by Close()
  }
  if (wsi == probe_) {
    if (probe_reply_) {
      probe_reply_ = false;
      if (WriteText(wsi, "3probe") < 0) return -1;
    }
    return 0;
  }
  if (wsi != ws_) return -1;
  GatewayStats& stats = gw_.mutable_stats();
  for (int i = 0; i < kMaxFramesPerWrite && !queue_.empty(); ++i) {
    if (lws_partial_buffered(wsi)) break;
    FrameRef f = queue_.Pop();
    size_t len = f->buf.size() - LWS_PRE;
    // Shared frame: lws writes the (identical, unmasked) header into the LWS_PRE headroom.
    auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(f->buf.data())) + LWS_PRE;
    if (lws_write(wsi, p, len, LWS_WRITE_TEXT) < 0) return -1;
    ++stats.frames_out;
    stats.bytes_out += len;
  }
  if (!queue_.empty()) {
    lws_callback_on_writable(wsi);
  } else if (drain_then_close_) {
    Close(close_code_, close_reason_);
    return -1;
  }
  return 0;
}

void SioSession::OnWsClosed(lws* wsi) {
  if (wsi == probe_) {
    probe_ = nullptr;  // the upgrade failed: polling continues
    return;
  }
  if (wsi == ws_) {
    ws_ = nullptr;
    Close(LWS_CLOSE_STATUS_NORMAL, "transport close");
  }
}

// --- input ------------------------------------------------------------------------------------

bool SioSession::HandleEio(const EioPacket& p, lws* from) {
  switch (p.type) {
    case EioType::kPong:
      pong_deadline_us_ = 0;
      return true;
    case EioType::kPing:
      if (from != nullptr && from == probe_ && p.data == "probe") {
        probe_reply_ = true;
        lws_callback_on_writable(probe_);
        // Let the client's pending GET return so it can pause polling.
        noop_ = true;
        if (poll_ != nullptr && !poll_->ready) {
          poll_->ready = true;
          lws_callback_on_writable(poll_->wsi);
        }
        return true;
      }
      SendPacket("3" + std::string(p.data.substr(0, 64)));
      return true;
    case EioType::kUpgrade:
      if (from == nullptr || from != probe_) {
        Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, "upgrade outside a probe");
        return false;
      }
      ws_ = probe_;
      probe_ = nullptr;
      noop_ = false;
      if (poll_ != nullptr) {
        poll_->response = HttpResponse{200, "text/plain; charset=UTF-8", "6", {}};
        poll_->has_response = true;
        poll_->ready = true;
        lws_callback_on_writable(poll_->wsi);
        poll_ = nullptr;
      }
      EW_DEBUG("sio", "session %s upgraded to websocket", sid_.c_str());
      lws_callback_on_writable(ws_);
      return true;
    case EioType::kNoop:
      return true;
    case EioType::kClose:
      Close(LWS_CLOSE_STATUS_NORMAL, "client close");
      return true;
    case EioType::kOpen:
      Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, "unexpected open packet");
      return false;
    case EioType::kMessage:
      if (from != nullptr && from == probe_) {
        Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, "message on a probe");
        return false;
      }
      ++gw_.mutable_stats().messages_in;
      if (!rate_.Take(MonotonicMicros())) {
        EW_WARN("sio", "session %s exceeded %.0f msg/s: closing 4429", sid_.c_str(),
                gw_.config().msg_rate);
        Close(kCloseRateLimited, "rate_limited");
        return false;
      }
      return HandleSio(p.data);
  }
  return true;
}

bool SioSession::HandleSio(std::string_view text) {
  JsonLimits limits{server_.max_payload(), 32};
  auto parsed = ParseSioPacket(text, limits);
  if (!parsed.ok()) {
    EW_WARN("sio", "session %s from %s: %s: closing", sid_.c_str(), peer_.c_str(),
            parsed.status().message().c_str());
    Close(LWS_CLOSE_STATUS_PROTOCOL_ERR, parsed.status().message());
    return false;
  }
  SioPacket& p = *parsed;
  if (p.nsp != "/") {
    if (p.type == SioType::kConnect) {
      SendPacket(SioConnectErrorPacket(p.nsp, "Invalid namespace"));
    }
    return true;  // packets for namespaces that were refused are ignored, as socket.io does
  }
  switch (p.type) {
    case SioType::kConnect:
      HandleConnect(p);
      break;
    case SioType::kDisconnect:
      connected_ = false;
      gw_.bus().RemoveSubscriber(this);
      break;
    case SioType::kEvent:
      if (connected_) HandleEvent(p);
      break;
    default:  // ACK: the server never asks for one
      break;
  }
  return true;
}

void SioSession::HandleConnect(SioPacket& p) {
  if (gw_.config().auth_enabled) {
    const cJSON* token = p.data ? cJSON_GetObjectItemCaseSensitive(p.data.get(), "token") : nullptr;
    if (token != nullptr && !cJSON_IsNull(token)) {
      Result<auth::Claims> verified =
          cJSON_IsString(token)
              ? gw_.VerifyToken(token->valuestring)
              : Result<auth::Claims>(auth::AuthFailure(auth::AuthError::kTokenMalformed));
      if (!verified.ok()) {
        auto reason = auth::ReasonOf(verified.status());
        std::string name(reason ? auth::ReasonName(*reason) : "token_malformed");
        gw_.CountAuthFailure(name);
        EW_WARN("auth", "socket.io session %s from %s: %s", sid_.c_str(), peer_.c_str(),
                name.c_str());
        SendPacket(SioConnectErrorPacket("/", name));
        return;
      }
      claims_ = std::move(verified).value();
    } else if (!claims_) {
      gw_.CountAuthFailure("token_missing");
      EW_WARN("auth", "socket.io session %s from %s: token_missing", sid_.c_str(), peer_.c_str());
      SendPacket(SioConnectErrorPacket("/", "token_missing"));
      return;
    }
  }
  connected_ = true;
  expired_notice_us_ = 0;
  SendPacket(SioConnectPacket(id_));
}

void SioSession::HandleEvent(SioPacket& p) {
  // The event becomes a native client op: {"op":<event>,"id":<ack id>, ...<first argument>}.
  cJSON* args = cJSON_DetachItemFromArray(p.data.get(), 1);
  JsonPtr obj(args != nullptr && cJSON_IsObject(args) ? args : cJSON_CreateObject());
  if (args != nullptr && obj.get() != args) cJSON_Delete(args);
  cJSON_DeleteItemFromObjectCaseSensitive(obj.get(), "op");
  cJSON_AddStringToObject(obj.get(), "op", p.event.c_str());
  if (p.ack_id) {
    cJSON_DeleteItemFromObjectCaseSensitive(obj.get(), "id");
    cJSON_AddNumberToObject(obj.get(), "id", static_cast<double>(*p.ack_id));
  }
  if (p.ack_id) {
    pending_acks_.insert(*p.ack_id);
    // Bounded: ops that never answer must not grow the set (the oldest ack is given up).
    if (pending_acks_.size() > kMaxPendingAcks) pending_acks_.erase(pending_acks_.begin());
  }
  OpLimits limits;
  limits.max_bytes = server_.max_payload() + 64;
  auto parsed = ParseClientOp(PrintJson(obj.get()), limits);
  if (auto* err = std::get_if<OpError>(&parsed)) {
    std::optional<int64_t> id = err->id;
    if (!id && p.ack_id) id = static_cast<int64_t>(*p.ack_id);
    SendError(id, err->code, err->message);
  } else {
    ClientOp& op = std::get<ClientOp>(parsed);
    switch (op.kind) {
      case OpKind::kSubscribe:
        HandleSubscribe(op);
        break;
      case OpKind::kUnsubscribe:
        HandleUnsubscribe(op);
        break;
      case OpKind::kPing:
        SendJson(PongMessage(op.id));
        break;
      case OpKind::kAuth:
        HandleAuth(op);
        break;
      case OpKind::kOther:
        if (const Gateway::OpHandler* h = gw_.FindOp(op.op)) {
          OpContext ctx(*this, op.id);
          (*h)(op, ctx);
        } else {
          SendError(op.id, "unknown_op", "unknown event \"" + op.op + "\"");
        }
        break;
    }
  }
}

void SioSession::HandleSubscribe(ClientOp& op) {
  for (const std::string& pattern : op.topics) {
    Status s = ValidatePattern(pattern);
    if (!s.ok()) {
      SendError(op.id, "invalid_pattern", pattern + ": " + s.message());
      return;
    }
  }
  std::vector<TopicState*> newly;
  std::vector<std::string> added;
  std::vector<std::string> errors;  // sent after the acknowledgement
  for (const std::string& pattern : op.topics) {
    if (claims_ && gw_.config().auth_enabled && !claims_->CanRead(pattern)) {
      errors.push_back(
          ErrorMessage(op.id, "forbidden", "the token's read scopes do not cover " + pattern));
      continue;
    }
    auto r = gw_.bus().Subscribe(this, pattern);
    if (!r.ok()) {
      errors.push_back(ErrorMessage(op.id, "too_many_subscriptions", r.status().message()));
      break;
    }
    added.push_back(pattern);
    newly.insert(newly.end(), r->begin(), r->end());
  }
  if (added.empty()) {
    for (const std::string& e : errors) {
      ++gw_.mutable_stats().errors_sent;
      SendJson(e);
    }
    return;
  }
  ResumeRequest request{op.epoch, op.since};
  ResumePlan plan = PlanResume(newly, request, gw_.epoch());
  SendJson(SubscribedMessage(
      op.id, added, request.resume() ? std::optional<bool>(plan.recovered) : std::nullopt));
  for (const std::string& e : errors) {
    ++gw_.mutable_stats().errors_sent;
    SendJson(e);
  }
  for (const Gap& gap : plan.gaps) SendJson(GapMessage(gap));
  for (auto& f : plan.events) {
    FrameRef sio_event;
    FrameRef alias;
    server_.EventFrames(f, &sio_event, &alias);
    queue_.Push(std::move(sio_event));
    if (alias) queue_.Push(std::move(alias));
  }
  if (queue_.bytes() > gw_.config().session_queue_bytes) Overflow();
  Wake();
  if (!gw_.subscribe_hooks().empty()) {
    OpContext ctx(*this, op.id);
    for (const auto& hook : gw_.subscribe_hooks()) hook(added, ctx);
  }
}

void SioSession::HandleUnsubscribe(ClientOp& op) {
  std::vector<std::string> removed;
  std::vector<std::string> errors;
  for (const std::string& pattern : op.topics) {
    Status s = gw_.bus().Unsubscribe(this, pattern);
    if (s.ok()) {
      removed.push_back(pattern);
    } else {
      errors.push_back(ErrorMessage(op.id, "not_subscribed", s.message()));
    }
  }
  if (!removed.empty()) SendJson(UnsubscribedMessage(op.id, removed));
  for (const std::string& e : errors) SendJson(e);
}

// A token refresh on a connected socket ({"token"} emitted as "auth").
void SioSession::HandleAuth(ClientOp& op) {
  if (!gw_.config().auth_enabled) {
    SendError(op.id, "auth_disabled", "authentication is disabled on this gateway (--no-auth)");
    return;
  }
  Result<auth::Claims> verified = gw_.VerifyToken(op.token);
  if (!verified.ok()) {
    auto reason = auth::ReasonOf(verified.status());
    std::string name(reason ? auth::ReasonName(*reason) : "token_malformed");
    gw_.CountAuthFailure(name);
    SendError(op.id, name, "token refresh refused: " + name);
    return;
  }
  if (claims_ && verified->sub != claims_->sub) {
    SendError(op.id, "forbidden", "a refreshed token must keep the same sub");
    return;
  }
  claims_ = std::move(verified).value();
  expired_notice_us_ = 0;
  JsonWriter w;
  w.BeginObject().Key("type").String("authenticated").Key("id");
  if (op.id) {
    w.Int(*op.id);
  } else {
    w.Null();
  }
  w.Key("sub").String(claims_->sub).Key("scope").String(auth::FormatScopes(claims_->scopes));
  w.Key("exp");
  if (claims_->exp) {
    w.Int(*claims_->exp);
  } else {
    w.Null();
  }
  w.EndObject();
  SendJson(w.str());
  if (const std::vector<std::string>* mine = gw_.bus().PatternsOf(this)) {
    std::vector<std::string> patterns = *mine;
    for (const std::string& pattern : patterns) {
      if (claims_->CanRead(pattern)) continue;
      gw_.bus().Unsubscribe(this, pattern).IgnoreError();
      SendError(std::nullopt, "forbidden",
                "subscription " + pattern + " is outside the refreshed token's scopes");
    }
  }
}

// --- timers -----------------------------------------------------------------------------------

void SioSession::Tick(int64_t now_us, int64_t now_s) {
  if (closed_) return;
  if (pong_deadline_us_ != 0 && now_us >= pong_deadline_us_) {
    ++gw_.mutable_stats().heartbeat_timeouts;
    EW_INFO("sio", "session %s closed: no pong within %lld ms (ping timeout)", sid_.c_str(),
            static_cast<long long>(server_.ping_timeout_ms()));
    Close(LWS_CLOSE_STATUS_GOINGAWAY, "ping timeout");
    return;
  }
  if (poll_ != nullptr && !poll_->ready && now_us - poll_since_us_ >= kMaxPollHoldUs) {
    noop_ = true;
    Wake();
  }
  if (pong_deadline_us_ == 0 && now_us >= next_ping_us_) {
    next_ping_us_ = now_us + server_.ping_interval_ms() * 1000;
    pong_deadline_us_ = now_us + server_.ping_timeout_ms() * 1000;
    Send(server_.ping_frame());
  }
  if (!gw_.config().auth_enabled || drain_then_close_) return;
  if (!connected_) {
    if (now_us >= auth_deadline_us_) {
      gw_.CountAuthFailure("auth_timeout");
      EW_WARN("auth", "socket.io session %s from %s: no CONNECT within %d s", sid_.c_str(),
              peer_.c_str(), gw_.config().auth_timeout_s);
      Close(kCloseAuthFailed, "auth_timeout");
    }
    return;
  }
  if (!claims_ || !claims_->exp) return;
  if (*claims_->exp + gw_.config().verify.leeway_s >= now_s) return;
  if (expired_notice_us_ == 0) {
    expired_notice_us_ = now_us;
    SendError(std::nullopt, "token_expired",
              "the token has expired; emit \"auth\" with {\"token\"} within " +
                  std::to_string(gw_.config().expiry_grace_s) + " s");
  } else if (now_us - expired_notice_us_ >=
             static_cast<int64_t>(gw_.config().expiry_grace_s) * 1000000) {
    Disconnect("token_expired");
  }
}

}  // namespace edgewatch::fw
