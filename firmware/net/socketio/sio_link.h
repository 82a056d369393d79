// SioLink: what one lws connection knows about the Engine.IO session it serves (private).
//
// Owned by the connection's per-session data (gateway.cc ConnPss::sio) from the first callback
// that recognises /socket.io/ until LWS_CALLBACK_CLOSED(_HTTP). It names its session by sid, so
// a session that closed (and was destroyed) is simply not found again. Loop thread only.
#pragma once

#include <libwebsockets.h>

#include <string>

#include "edgewatch/fw/http.h"

namespace edgewatch::fw {

struct SioLink {
  std::string sid;
  lws* wsi = nullptr;
  bool websocket = false;  // a WebSocket connection (else one HTTP request)
  // HTTP POST: the body collected so far; `too_large` once it passed maxPayload.
  std::string body;
  bool too_large = false;
  // HTTP GET parked until the session has packets to send (or closes).
  bool parked = false;
  bool ready = false;         // a response can be written now
  bool has_response = false;  // `response` is final (the session closed meanwhile)
  HttpResponse response;
  std::string origin;  // echoed in Access-Control-Allow-Origin (already admitted)
};

}  // namespace edgewatch::fw
