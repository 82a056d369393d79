// WsSession: one native WebSocket client at /ws (private to firmware/net).
//
// Created on LWS_CALLBACK_ESTABLISHED, destroyed on LWS_CALLBACK_CLOSED; loop thread only.
// Owns the client's outbound queue (FrameRefs shared with the bus), reassembles inbound
// messages split across RECEIVE callbacks, and applies the wire protocol's client ops.
#pragma once

#include <libwebsockets.h>

#include <string>

#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/frame_queue.h"
#include "edgewatch/fw/protocol.h"

namespace edgewatch::fw {

class Gateway;

class WsSession final : public Subscriber {
 public:
  WsSession(Gateway& gw, lws* wsi);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  const std::string& id() const { return id_; }
  lws* wsi() const { return wsi_; }
  size_t queued_bytes() const { return queue_.bytes(); }

  // Bus delivery: queues the event (lagging policy applies) and asks for a writeable callback.
  void OnEvent(const FrameRef& event) override;
  // Queues a control or event frame unconditionally.
  void Send(FrameRef frame);
  void SendJson(std::string_view json);
  // LWS_CALLBACK_RECEIVE: one piece of a message.
  void OnReceive(const void* in, size_t len);
  // LWS_CALLBACK_SERVER_WRITEABLE: writes queued frames; returns -1 to close the connection.
  int OnWriteable();
  // Closes after the queued frames with `code` and `reason` (flushed first unless `now`).
  void Close(int code, std::string reason, bool now = false);

  // Index in the gateway's session list (for O(1) removal).
  size_t slot = 0;

 private:
  void HandleMessage(std::string_view text);
  void HandleSubscribe(ClientOp& op);
  void HandleUnsubscribe(ClientOp& op);
  void SendError(std::optional<int64_t> id, std::string_view code, std::string_view message);
  void Lag();
  void RequestWrite();

  Gateway& gw_;
  lws* wsi_;
  std::string id_;
  FrameQueue queue_;
  std::string rx_;
  bool rx_overflow_ = false;
  bool close_pending_ = false;
  bool close_now_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace edgewatch::fw
