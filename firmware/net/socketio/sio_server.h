// SioServer: the Socket.IO v4 endpoint /socket.io/ (private to firmware/net; docs/socketio.md).
//
// Owned by the Gateway. Keeps the Engine.IO sessions by sid, answers the endpoint's HTTP requests
// (handshake, polling GET and POST) and WebSocket connections (opened directly or upgraded from
// polling), pings every session on one timer, and turns each bus event into its Socket.IO
// packets once: 42["event",{...}] and, for topics matching an alias pattern, 42["<alias>",data],
// cached by the event's global seq so every Socket.IO reader shares the same two frames.
// Loop thread only.
#pragma once

#include <libwebsockets.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgewatch/fw/auth/claims.h"
#include "edgewatch/fw/frame.h"
#include "edgewatch/fw/http.h"
#include "edgewatch/fw/loop.h"
#include "sio_link.h"

namespace edgewatch::fw {

class Gateway;
class ClientPeer;
class SioSession;

class SioServer {
 public:
  explicit SioServer(Gateway& gw);
  ~SioServer();
  SioServer(const SioServer&) = delete;
  SioServer& operator=(const SioServer&) = delete;

  // After the lws context exists: starts the ping timer.
  void Start(lws_context* context);
  // Before the context is destroyed: stops the timer and destroys every session.
  void Stop();

  // An HTTP request for /socket.io/ that passed Admit() (`claims`: from its header/query token).
  // Returns the response to send now, or nullopt when *link (new, owned by the caller) holds a
  // parked GET or a POST waiting for its body.
  std::optional<HttpResponse> OnHttp(const HttpRequest& req, std::optional<auth::Claims> claims,
                                     SioLink** link);
  // POST body pieces, then its completion (the response).
  void OnHttpBody(SioLink* link, const void* in, size_t len);
  HttpResponse OnHttpBodyComplete(SioLink* link);
  // A parked GET that became ready.
  HttpResponse TakePollResponse(SioLink* link);
  // The HTTP connection of `link` closed (the caller deletes the link afterwards).
  void OnHttpClosed(SioLink* link);

  // LWS_CALLBACK_ESTABLISHED for /socket.io/: a new link (owned by the caller), or null when the
  // connection must be closed (a close reason is set).
  SioLink* OnWsEstablished(lws* wsi, std::optional<auth::Claims> claims);
  void OnWsReceive(SioLink* link, const void* in, size_t len);
  int OnWsWriteable(SioLink* link);
  void OnWsClosed(SioLink* link);

  // The Socket.IO packets of a bus event, serialised once per event: *event is
  // 42["event",{"topic","seq","ts","data"}], *alias 42["<alias>",data] or null.
  void EventFrames(const FrameRef& source, FrameRef* event, FrameRef* alias);
  const FrameRef& ping_frame() const { return ping_; }
  const FrameRef& noop_frame() const { return noop_; }

  // Moves a closed session out of the sid map; destroyed on the next tick.
  void Retire(SioSession* s);
  // Closes every session (shutdown).
  void CloseAll();
  size_t session_count() const { return sessions_.size(); }
  // Whether `sid` names an open session (false for nullopt).
  bool IsLive(std::optional<std::string_view> sid) const;
  size_t OwnBytes() const;
  size_t QueuedBytes() const;
  ClientPeer* FindPeer(std::string_view socket_id) const;
  int64_t ping_interval_ms() const { return ping_interval_ms_; }
  int64_t ping_timeout_ms() const { return ping_timeout_ms_; }
  size_t max_payload() const { return max_payload_; }
  uint64_t event_frames_built() const { return frames_built_; }

 private:
  SioSession* Find(const std::string& sid) const;
  void Tick();
  // Index into the alias table for `topic`, or -1 (cached per topic).
  int AliasOf(const TopicState* topic);

  struct CacheSlot {
    uint64_t gseq = 0;
    std::weak_ptr<const Frame> event;
    std::weak_ptr<const Frame> alias;
  };

  Gateway& gw_;
  int64_t ping_interval_ms_;
  int64_t ping_timeout_ms_;
  size_t max_payload_;
  std::map<std::string, std::unique_ptr<SioSession>, std::less<>> sessions_;
  std::vector<std::unique_ptr<SioSession>> retired_;
  Timer tick_;
  FrameRef ping_;
  FrameRef noop_;
  std::array<CacheSlot, 256> cache_;
  std::unordered_map<const TopicState*, int> alias_cache_;
  uint64_t frames_built_ = 0;
};

}  // namespace edgewatch::fw
