// OpContext: what an application op handler may know about, and do to, the client that sent it.
//
// Transports (the native /ws session, and later Socket.IO) implement ClientPeer; handlers
// registered with Gateway::RegisterOp() and subscribe hooks receive an OpContext for the
// duration of the call. Loop thread only; do not keep the reference after returning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/fw/auth/claims.h"

namespace edgewatch::fw {

class ClientPeer {
 public:
  virtual std::string_view session_id() const = 0;
  // The verified token's claims, or null when authentication is disabled (--no-auth).
  virtual const auth::Claims* claims() const = 0;
  // Queues one JSON message (a complete object) to the client.
  virtual void SendJson(std::string_view json) = 0;

 protected:
  ~ClientPeer() = default;
};

class OpContext {
 public:
  OpContext(ClientPeer& peer, std::optional<int64_t> id) : peer_(peer), id_(id) {}

  std::string_view session_id() const { return peer_.session_id(); }
  // The token's subject, or "anonymous" when authentication is disabled.
  std::string_view sub() const;
  std::optional<int64_t> id() const { return id_; }
  // Authorisation; everything is allowed when authentication is disabled.
  bool CanRead(std::string_view pattern) const;
  bool CanWrite(std::string_view topic_or_pattern) const;
  bool IsAdmin() const;
  // Sends `json` (a complete JSON object) to the client.
  void Reply(std::string_view json) { peer_.SendJson(json); }
  // Sends {"type":"error","id":<id>,"code":code,"message":message}.
  void Error(std::string_view code, std::string_view message);

 private:
  ClientPeer& peer_;
  std::optional<int64_t> id_;
};

}  // namespace edgewatch::fw
