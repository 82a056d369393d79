// WsSession: one native WebSocket client at /ws (private to firmware/net).
//
// Created on LWS_CALLBACK_ESTABLISHED, destroyed on LWS_CALLBACK_CLOSED; loop thread only.
// Owns the client's outbound queue (FrameRefs shared with the bus), reassembles inbound
// messages split across RECEIVE callbacks, enforces the inbound rate, authenticates (first-frame
// token, or claims verified from a header/query token before the upgrade) and applies the wire
// protocol's client ops.
#pragma once

#include <libwebsockets.h>

#include <optional>
#include <string>

#include "edgewatch/fw/auth/claims.h"
#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/frame_queue.h"
#include "edgewatch/fw/limits.h"
#include "edgewatch/fw/op_context.h"
#include "edgewatch/fw/protocol.h"

namespace edgewatch::fw {

class Gateway;

// Close codes of the native protocol (docs/protocol.md has the table).
inline constexpr int kCloseAuthFailed = 4401;
inline constexpr int kCloseForbidden = 4403;
inline constexpr int kCloseSlowConsumer = 4408;
inline constexpr int kCloseRateLimited = 4429;

class WsSession final : public Subscriber, public ClientPeer {
 public:
  // `claims`: verified from an Authorization header or ?token= before the upgrade, if any.
  WsSession(Gateway& gw, lws* wsi, std::optional<auth::Claims> claims);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  lws* wsi() const { return wsi_; }
  size_t queued_bytes() const { return queue_.bytes(); }
  bool authenticated() const { return authed_; }

  // ClientPeer.
  std::string_view session_id() const override { return id_; }
  const auth::Claims* claims() const override { return claims_ ? &*claims_ : nullptr; }
  void SendJson(std::string_view json) override { Send(MakeControlFrame(json)); }

  // Bus delivery: queues the event (lagging policy applies) and asks for a writeable callback.
  void OnEvent(const FrameRef& event) override;
  // Queues a control or event frame unconditionally.
  void Send(FrameRef frame);
  // LWS_CALLBACK_RECEIVE: one piece of a message.
  void OnReceive(const void* in, size_t len);
  // LWS_CALLBACK_SERVER_WRITEABLE: writes queued frames; returns -1 to close the connection.
  int OnWriteable();
  // Closes after the queued frames with `code` and `reason` (flushed first unless `now`).
  void Close(int code, std::string reason, bool now = false);
  // Periodic checks (auth timeout, token expiry); `now_us` monotonic, `now_s` unix seconds.
  void Sweep(int64_t now_us, int64_t now_s);

  // A message or a pong arrived (the idle policy's notion of activity).
  void NoteActivity(int64_t now_us) { last_activity_us_ = now_us; }
  // True when the client went silent long enough for lws's idle policy to have closed it.
  bool ClosedByIdle(int64_t now_us) const;
  // Memory this session holds besides shared frames: its own state, receive buffer, queue slots.
  size_t OwnBytes() const;
  bool closing() const { return close_pending_; }

  // Index in the gateway's session list (for O(1) removal).
  size_t slot = 0;

 private:
  void HandleMessage(std::string_view text);
  void HandleAuth(ClientOp& op);
  void HandleSubscribe(ClientOp& op);
  void HandleUnsubscribe(ClientOp& op);
  void DropForbiddenSubscriptions();
  void SendError(std::optional<int64_t> id, std::string_view code, std::string_view message);
  void Overflow();
  int WriteBatch();
  void RequestWrite();

  Gateway& gw_;
  lws* wsi_;
  std::string id_;
  FrameQueue queue_;
  std::string rx_;
  TokenBucket rate_;
  std::optional<auth::Claims> claims_;
  bool authed_ = false;
  int64_t auth_deadline_us_ = 0;
  int64_t expired_notice_us_ = 0;  // when token_expired was sent (0: not sent)
  bool batch_ = false;             // the client asked for batched delivery
  int64_t last_activity_us_ = 0;
  bool close_pending_ = false;
  bool close_now_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace edgewatch::fw
