// SioSession: one Engine.IO v4 session carrying the Socket.IO v5 default namespace "/"
// (private to firmware/net; docs/socketio.md).
//
// Created by SioServer on a handshake (polling GET or WebSocket without sid), destroyed by
// SioServer after it closed. Owns the session's outbound queue of Engine.IO packets (FrameRefs;
// event packets shared with every other Socket.IO reader of the same event), its current
// transport (the parked polling GET, or the WebSocket it was opened or upgraded to) and the
// client's identity. Applies the native protocol's ops, scopes, rate limit, queue budget and
// slow-consumer policy exactly as WsSession does. Loop thread only.
#pragma once

#include <libwebsockets.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "edgewatch/fw/auth/claims.h"
#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/engineio.h"
#include "edgewatch/fw/frame_queue.h"
#include "edgewatch/fw/http.h"
#include "edgewatch/fw/limits.h"
#include "edgewatch/fw/op_context.h"
#include "edgewatch/fw/protocol.h"
#include "edgewatch/fw/socketio.h"
#include "sio_link.h"

namespace edgewatch::fw {

class Gateway;
class SioServer;

class SioSession final : public Subscriber, public ClientPeer {
 public:
  // `claims`: verified from an Authorization header or ?token= at the handshake, if any.
  SioSession(SioServer& server, Gateway& gw, std::string sid, std::string peer, bool websocket,
             std::optional<auth::Claims> claims);
  ~SioSession();
  SioSession(const SioSession&) = delete;
  SioSession& operator=(const SioSession&) = delete;

  const std::string& sid() const { return sid_; }
  bool closed() const { return closed_; }
  bool websocket() const { return ws_ != nullptr; }
  size_t queued_bytes() const { return queue_.bytes(); }
  // Memory this session holds besides shared frames.
  size_t OwnBytes() const;

  // ClientPeer: the Socket.IO socket id; replies become an ACK or an event named by "type".
  std::string_view session_id() const override { return id_; }
  const auth::Claims* claims() const override { return claims_ ? &*claims_ : nullptr; }
  void SendJson(std::string_view json) override;

  // Subscriber: queues the event's shared Socket.IO packets (queue budget applies).
  void OnEvent(const FrameRef& event) override;

  // --- polling transport ---
  // A GET: answers now (packets waiting, or an error), or parks `link` (returns nullopt).
  std::optional<HttpResponse> OnPollGet(SioLink* link);
  // A POST body (a payload of packets): "ok", or an error after which the session is closed.
  HttpResponse OnPollPost(std::string_view body);
  // The response for a parked GET that became ready.
  HttpResponse TakePollResponse(SioLink* link);
  // The parked GET's connection went away.
  void OnPollClosed(SioLink* link);

  // --- WebSocket transport ---
  // The session was opened over this WebSocket (no polling): it is the transport from now on.
  void AttachWebSocket(lws* wsi);
  // A WebSocket with this session's sid (upgrade from polling): the probe connection.
  void AttachProbe(lws* wsi);
  void OnWsReceive(lws* wsi, const void* in, size_t len);
  // Returns -1 to close the connection.
  int OnWsWriteable(lws* wsi);
  void OnWsClosed(lws* wsi);

  // Periodic (SioServer's timer): pings, ping timeout, auth timeout, token expiry.
  void Tick(int64_t now_us, int64_t now_s);
  // Closes the session now: WebSocket close `code`/`reason`, or a close packet to the parked
  // GET. The server destroys it later.
  void Close(int code, std::string_view reason);
  // Sends DISCONNECT for "/" (the client will not reconnect by itself), then closes.
  void Disconnect(std::string_view reason);

 private:
  void Send(FrameRef frame);
  void SendPacket(std::string packet);
  void Wake();
  // One Engine.IO packet from the client; false when it was malformed (the session is closed).
  bool HandleEio(const EioPacket& p, lws* from);
  bool HandleSio(std::string_view text);
  void HandleConnect(SioPacket& p);
  void HandleEvent(SioPacket& p);
  void HandleSubscribe(ClientOp& op);
  void HandleUnsubscribe(ClientOp& op);
  void HandleAuth(ClientOp& op);
  void SendError(std::optional<int64_t> id, std::string_view code, std::string_view message);
  void Overflow();
  HttpResponse PollResponse();

  SioServer& server_;
  Gateway& gw_;
  std::string sid_;  // Engine.IO session id
  std::string id_;   // Socket.IO socket id (the "sid" of the CONNECT reply)
  std::string peer_;
  std::optional<auth::Claims> claims_;
  bool connected_ = false;  // namespace "/" connected
  FrameQueue queue_;
  TokenBucket rate_;
  // Transports.
  lws* ws_ = nullptr;         // the WebSocket transport, once open or upgraded
  lws* probe_ = nullptr;      // a WebSocket probing for the upgrade
  bool probe_reply_ = false;  // "3probe" to write on probe_
  SioLink* poll_ = nullptr;   // the parked GET
  bool noop_ = false;         // answer the parked GET with a noop (upgrade in progress, hold limit)
  int64_t poll_since_us_ = 0;  // when the parked GET was parked
  bool drain_then_close_ = false;
  std::string rx_;
  // Timers (monotonic µs).
  int64_t next_ping_us_ = 0;
  int64_t pong_deadline_us_ = 0;  // 0: no ping outstanding
  int64_t auth_deadline_us_ = 0;
  int64_t expired_notice_us_ = 0;
  // Ack ids of client events not answered yet (the op's reply with this "id" answers them).
  std::set<uint64_t> pending_acks_;
  bool closed_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace edgewatch::fw
