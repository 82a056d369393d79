#include "ws_session.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/resume.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::fw {
namespace {
// Frames written per writeable callback before yielding to other connections.
constexpr int kMaxFramesPerWrite = 256;

// lws 4.1 fails a connection for some framing violations it detects itself (a control frame
// longer than 125 bytes, a 64-bit length with its top bit set) by dropping TCP without a close
// frame. With a default reason armed it sends 1002 instead; each close of ours replaces it. Only
// armed when no pong can be pending: lws keeps a ping's payload in the same buffer.
void ArmProtocolErrorClose(lws* wsi) {
  unsigned char reason[] = "protocol error";
  lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, reason, sizeof(reason) - 1);
}

std::string PeerOf(lws* wsi) {
  char buf[64];
  const char* p = lws_get_peer_simple(wsi, buf, sizeof(buf));
  return p != nullptr ? std::string(p) : std::string("?");
}
}  // namespace

std::string_view OpContext::sub() const {
  const auth::Claims* c = peer_.claims();
  return c != nullptr ? std::string_view(c->sub) : std::string_view("anonymous");
}
bool OpContext::CanRead(std::string_view pattern) const {
  const auth::Claims* c = peer_.claims();
  return c == nullptr || c->CanRead(pattern);
}
bool OpContext::CanWrite(std::string_view topic) const {
  const auth::Claims* c = peer_.claims();
  return c == nullptr || c->CanWrite(topic);
}
bool OpContext::IsAdmin() const {
  const auth::Claims* c = peer_.claims();
  return c == nullptr || c->IsAdmin();
}
void OpContext::Error(std::string_view code, std::string_view message) {
  peer_.SendJson(ErrorMessage(id_, code, message));
}

WsSession::WsSession(Gateway& gw, lws* wsi, std::optional<auth::Claims> claims)
    : gw_(gw),
      wsi_(wsi),
      id_(RandomHexId(8)),
      rate_(gw.config().msg_rate, gw.config().msg_burst),
      claims_(std::move(claims)) {
  gw_.AddSession(this);
  authed_ = !gw_.config().auth_enabled || claims_.has_value();
  last_activity_us_ = MonotonicMicros();
  auth_deadline_us_ =
      MonotonicMicros() + static_cast<int64_t>(gw_.config().auth_timeout_s) * 1000000;
  SendJson(WelcomeMessage(gw_.config().server_name, id_, gw_.epoch(), gw_.config().heartbeat_s));
  ArmProtocolErrorClose(wsi_);
}

WsSession::~WsSession() {
  gw_.bus().RemoveSubscriber(this);
  gw_.RemoveSession(this);
}

void WsSession::RequestWrite() {
  lws_callback_on_writable(wsi_);
}

void WsSession::Send(FrameRef frame) {
  queue_.Push(std::move(frame));
  RequestWrite();
}

void WsSession::SendError(std::optional<int64_t> id, std::string_view code,
                          std::string_view message) {
  SendJson(ErrorMessage(id, code, message));
}

void WsSession::OnEvent(const FrameRef& event) {
  if (close_pending_) return;
  queue_.Push(event);
  if (queue_.bytes() > gw_.config().session_queue_bytes) Overflow();
  RequestWrite();
}

// The session fell behind: drop its queued events, tell it, and jump to the latest event of
// each topic it lost events on. (The full budget policy -- coalescing, 4408 -- replaces this.)
// The session's unsent bytes exceed its budget. First coalesce: for topics of "latest value"
// kinds, queued events superseded by a newer one of the same topic are dropped and the client is
// told exactly which with {"type":"skipped","topic","from","to"} just before the newer event.
// If that is not enough, the session is closed with 4408 slow_consumer (it can resume).
void WsSession::Overflow() {
  std::vector<FrameRef> frames;
  frames.reserve(queue_.size());
  while (!queue_.empty()) frames.push_back(queue_.Pop());
  std::unordered_map<const TopicState*, uint64_t> newest;  // latest-value topics only
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
      if (r.from == 0) r.from = f->seq;
      r.to = f->seq;
      ++coalesced;
      continue;
    }
    auto d = dropped.find(f->topic);
    if (d != dropped.end()) {
      JsonWriter w;
      w.BeginObject().Key("type").String("skipped").Key("topic").String(f->topic->name());
      w.Key("from").Uint(d->second.from).Key("to").Uint(d->second.to).EndObject();
      queue_.Push(MakeControlFrame(w.str()));
      ++gw_.mutable_stats().skipped_messages;
      dropped.erase(d);
    }
    queue_.Push(f);
  }
  gw_.mutable_stats().coalesced += coalesced;
  if (queue_.bytes() <= gw_.config().session_queue_bytes) return;

  ++gw_.mutable_stats().slow_consumer_closes;
  EW_WARN("ws",
          "session %s from %s is a slow consumer (%zu bytes unsent after coalescing): "
          "closing 4408",
          id_.c_str(), PeerOf(wsi_).c_str(), queue_.bytes());
  queue_.Clear();  // give the memory back now, whatever the socket does
  Close(kCloseSlowConsumer, "slow_consumer", true);
  // A client that stopped reading may never make the socket writeable again: bound the close.
  lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_SEND, 30);
}

// Writes up to kMaxBatchEvents consecutive queued events as one
// {"type":"batch","events":[...]} frame. Returns lws_write's result.
int WsSession::WriteBatch() {
  constexpr size_t kMaxBatchEvents = 64;
  constexpr size_t kMaxBatchBytes = 32 * 1024;
  std::string buf(LWS_PRE, '\0');
  buf += "{\"type\":\"batch\",\"events\":[";
  size_t n = 0;
  while (!queue_.empty() && queue_.Front()->topic != nullptr && n < kMaxBatchEvents &&
         (n == 0 || buf.size() + queue_.Front()->payload().size() < kMaxBatchBytes)) {
    FrameRef f = queue_.Pop();
    if (n++ > 0) buf.push_back(',');
    buf.append(f->payload());
  }
  buf += "]}";
  size_t len = buf.size() - LWS_PRE;
  int written =
      lws_write(wsi_, reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE, len, LWS_WRITE_TEXT);
  if (written < 0) return written;
  GatewayStats& stats = gw_.mutable_stats();
  ++stats.frames_out;
  ++stats.batches;
  stats.bytes_out += len;
  return written;
}

void WsSession::Close(int code, std::string reason, bool now) {
  if (close_pending_) return;
  close_pending_ = true;
  close_now_ = now;
  close_code_ = code;
  close_reason_ = std::move(reason);
  RequestWrite();
}

void WsSession::OnReceive(const void* in, size_t len) {
  if (close_pending_) return;
  last_activity_us_ = MonotonicMicros();
  if (lws_frame_is_binary(wsi_)) {
    Close(LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames are not accepted", true);
    return;
  }
  if (rx_.size() + len > gw_.config().max_message_bytes) {
    rx_.clear();
    rx_.shrink_to_fit();
    Close(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large", true);
    return;
  }
  // A message may arrive split across several RECEIVE callbacks: reassemble until final.
  rx_.append(static_cast<const char*>(in), len);
  if (!lws_is_final_fragment(wsi_) || lws_remaining_packet_payload(wsi_) != 0) return;
  std::string message;
  message.swap(rx_);
  ++gw_.mutable_stats().messages_in;
  if (!rate_.Take(MonotonicMicros())) {
    EW_WARN("ws", "session %s exceeded %.0f msg/s: closing 4429", id_.c_str(),
            gw_.config().msg_rate);
    Close(kCloseRateLimited, "rate_limited", true);
    return;
  }
  HandleMessage(message);
}

void WsSession::HandleMessage(std::string_view text) {
  OpLimits limits;
  limits.max_bytes = gw_.config().max_message_bytes;
  auto parsed = ParseClientOp(text, limits);
  if (auto* err = std::get_if<OpError>(&parsed)) {
    SendError(err->id, err->code, err->message);
    return;
  }
  ClientOp& op = std::get<ClientOp>(parsed);
  if (!authed_ && op.kind != OpKind::kAuth && op.kind != OpKind::kPing) {
    SendError(op.id, "auth_required",
              "send {\"op\":\"auth\",\"token\":...} first; only auth and ping are accepted "
              "before it");
    return;
  }
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
        SendError(op.id, "unknown_op", "unknown op \"" + op.op + "\"");
      }
      break;
  }
}

void WsSession::HandleAuth(ClientOp& op) {
  if (!gw_.config().auth_enabled) {
    SendError(op.id, "auth_disabled", "authentication is disabled on this gateway (--no-auth)");
    return;
  }
  const cJSON* token_item = cJSON_GetObjectItemCaseSensitive(op.root.get(), "token");
  Result<auth::Claims> verified =
      token_item == nullptr || cJSON_IsNull(token_item)
          ? Result<auth::Claims>(auth::AuthFailure(auth::AuthError::kTokenMissing))
          : gw_.VerifyToken(op.token);
  if (!verified.ok()) {
    auto reason = auth::ReasonOf(verified.status());
    std::string name(reason ? auth::ReasonName(*reason) : "token_malformed");
    gw_.CountAuthFailure(name);
    EW_WARN("auth", "session %s from %s: %s", id_.c_str(), PeerOf(wsi_).c_str(), name.c_str());
    if (!authed_) {
      Close(kCloseAuthFailed, name, true);
    } else {
      // A failed refresh leaves the current token in force (and its expiry).
      SendError(op.id, name, "token refresh refused: " + name);
    }
    return;
  }
  if (claims_ && verified->sub != claims_->sub) {
    SendError(op.id, "forbidden", "a refreshed token must keep the same sub");
    return;
  }
  bool refresh = claims_.has_value();
  claims_ = std::move(verified).value();
  authed_ = true;
  expired_notice_us_ = 0;
  JsonWriter w;
  w.BeginObject().Key("type").String("authenticated").Key("id");
  if (op.id) {
    w.Int(*op.id);
  } else {
    w.Null();
  }
  w.Key("sub").String(claims_->sub);
  w.Key("scope").String(auth::FormatScopes(claims_->scopes));
  w.Key("exp");
  if (claims_->exp) {
    w.Int(*claims_->exp);
  } else {
    w.Null();
  }
  w.EndObject();
  SendJson(w.str());
  if (refresh) DropForbiddenSubscriptions();
}

void WsSession::DropForbiddenSubscriptions() {
  const std::vector<std::string>* mine = gw_.bus().PatternsOf(this);
  if (mine == nullptr) return;
  std::vector<std::string> patterns = *mine;
  for (const std::string& p : patterns) {
    if (claims_->CanRead(p)) continue;
    gw_.bus().Unsubscribe(this, p).IgnoreError();
    SendError(std::nullopt, "forbidden",
              "subscription " + p + " is outside the refreshed token's scopes");
  }
}

void WsSession::Sweep(int64_t now_us, int64_t now_s) {
  if (close_pending_ || !gw_.config().auth_enabled) return;
  if (!authed_) {
    if (now_us >= auth_deadline_us_) {
      gw_.CountAuthFailure("auth_timeout");
      EW_WARN("auth", "session %s from %s: no auth frame within %d s", id_.c_str(),
              PeerOf(wsi_).c_str(), gw_.config().auth_timeout_s);
      Close(kCloseAuthFailed, "auth_timeout", true);
    }
    return;
  }
  if (!claims_ || !claims_->exp) return;
  if (*claims_->exp + gw_.config().verify.leeway_s >= now_s) return;
  if (expired_notice_us_ == 0) {
    expired_notice_us_ = now_us;
    SendError(std::nullopt, "token_expired",
              "the token has expired; send a new one with {\"op\":\"auth\"} within " +
                  std::to_string(gw_.config().expiry_grace_s) + " s");
  } else if (now_us - expired_notice_us_ >=
             static_cast<int64_t>(gw_.config().expiry_grace_s) * 1000000) {
    EW_INFO("auth", "session %s: token expired without refresh, closing 4401", id_.c_str());
    Close(kCloseAuthFailed, "token_expired", true);
  }
}

void WsSession::HandleSubscribe(ClientOp& op) {
  // Validate every pattern first: a malformed op is refused entirely.
  for (const std::string& pattern : op.topics) {
    Status s = ValidatePattern(pattern);
    if (!s.ok()) {
      SendError(op.id, "invalid_pattern", pattern + ": " + s.message());
      return;
    }
  }
  std::vector<TopicState*> newly;
  std::vector<std::string> added;
  for (const std::string& pattern : op.topics) {
    if (claims_ && gw_.config().auth_enabled && !claims_->CanRead(pattern)) {
      SendError(op.id, "forbidden", "the token's read scopes do not cover " + pattern);
      continue;
    }
    auto r = gw_.bus().Subscribe(this, pattern);
    if (!r.ok()) {
      SendError(op.id, "too_many_subscriptions", r.status().message());
      break;
    }
    added.push_back(pattern);
    newly.insert(newly.end(), r->begin(), r->end());
  }
  if (added.empty()) return;
  // Snapshot or resume for the newly matched topics, then live events, which the bus delivers
  // from now on (same thread: no gap and no duplicate between the two).
  if (op.batch) batch_ = true;
  ResumeRequest request{op.epoch, op.since};
  ResumePlan plan = PlanResume(newly, request, gw_.epoch());
  SendJson(SubscribedMessage(
      op.id, added, request.resume() ? std::optional<bool>(plan.recovered) : std::nullopt));
  for (const Gap& gap : plan.gaps) SendJson(GapMessage(gap));
  for (auto& f : plan.events) queue_.Push(std::move(f));
  if (queue_.bytes() > gw_.config().session_queue_bytes) Overflow();
  RequestWrite();
  if (!gw_.subscribe_hooks().empty()) {
    OpContext ctx(*this, op.id);
    for (const auto& hook : gw_.subscribe_hooks()) hook(added, ctx);
  }
}

void WsSession::HandleUnsubscribe(ClientOp& op) {
  std::vector<std::string> removed;
  for (const std::string& pattern : op.topics) {
    Status s = gw_.bus().Unsubscribe(this, pattern);
    if (s.ok()) {
      removed.push_back(pattern);
    } else {
      SendError(op.id, "not_subscribed", s.message());
    }
  }
  if (!removed.empty()) SendJson(UnsubscribedMessage(op.id, removed));
}

int WsSession::OnWriteable() {
  if (close_pending_ && (close_now_ || queue_.empty())) {
    lws_close_reason(wsi_, static_cast<lws_close_status>(close_code_),
                     reinterpret_cast<unsigned char*>(close_reason_.data()), close_reason_.size());
    return -1;
  }
  ArmProtocolErrorClose(wsi_);  // lws sends pending pongs before calling this
  GatewayStats& stats = gw_.mutable_stats();
  for (int i = 0; i < kMaxFramesPerWrite && !queue_.empty(); ++i) {
    // lws_partial_buffered() (set when lws had to keep part of the last write) rather than
    // lws_send_pipe_choked(), which costs a poll() system call per frame: the first write of a
    // WRITEABLE callback always goes out, and lws's documented rule for several writes in one
    // callback is to stop once a write was partly buffered.
    if (lws_partial_buffered(wsi_)) break;
    if (batch_ && queue_.size() > 1 && queue_.Front()->topic != nullptr) {
      if (WriteBatch() < 0) return -1;
      continue;
    }
    FrameRef f = queue_.Pop();
    size_t len = f->buf.size() - LWS_PRE;
    // lws_write needs a mutable pointer; it writes the WebSocket header into the LWS_PRE
    // headroom, which is identical for every reader of this frame (server frames are unmasked).
    auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(f->buf.data())) + LWS_PRE;
    int n = lws_write(wsi_, p, len, LWS_WRITE_TEXT);
    if (n < 0) return -1;
    ++stats.frames_out;
    stats.bytes_out += len;
  }
  if (!queue_.empty() || close_pending_) RequestWrite();
  return 0;
}

bool WsSession::ClosedByIdle(int64_t now_us) const {
  return !close_pending_ &&
         now_us - last_activity_us_ >= static_cast<int64_t>(gw_.config().idle_timeout_s) * 1000000;
}

size_t WsSession::OwnBytes() const {
  size_t bytes = sizeof(*this) + rx_.capacity() + queue_.capacity() * sizeof(FrameRef) +
                 close_reason_.capacity();
  if (claims_) {
    bytes += sizeof(auth::Claims) + claims_->sub.capacity();
    for (const auto& p : claims_->scopes.read) bytes += sizeof(std::string) + p.capacity();
    for (const auto& p : claims_->scopes.write) bytes += sizeof(std::string) + p.capacity();
  }
  return bytes;
}

}  // namespace edgewatch::fw
