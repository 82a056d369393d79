// LongPoll: one parked GET /api/v1/poll request (private to firmware/net).
//
// The HTTP long-poll fallback (docs/protocol.md, "Long-poll"): the same topics, tokens, scopes
// and rings as WebSocket clients. A poll answers at once when events (or gaps) are waiting for
// the client's position; otherwise it subscribes to its patterns on the bus and is answered on
// the first matching event or when its timeout passes. Parked polls count against admission.
// Loop thread only; owned by the connection's per-session data, destroyed with it.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <string>
#include <vector>

#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/http.h"
#include "edgewatch/fw/resume.h"

namespace edgewatch::fw {

class Gateway;

class LongPoll final : public Subscriber {
 public:
  // Parses the request. Returns the response to send right away (a 4xx, or events that are
  // already waiting), or null when the poll must be parked (then *out holds the poll).
  static std::optional<HttpResponse> Start(Gateway& gw, lws* wsi, const HttpRequest& req,
                                           std::unique_ptr<LongPoll>* out);
  ~LongPoll();

  void OnEvent(const FrameRef& event) override;
  // True once an event arrived or the deadline passed: the response should be written.
  bool ready() const { return ready_; }
  int64_t deadline_us() const { return deadline_us_; }
  // Marks the poll due (timeout) and asks for a writeable callback.
  void Expire();
  // The response for the current state of the rings.
  HttpResponse Respond();

 private:
  LongPoll(Gateway& gw, lws* wsi) : gw_(gw), wsi_(wsi) {}
  std::vector<TopicState*> MatchingTopics() const;

  Gateway& gw_;
  lws* wsi_;
  std::vector<std::string> patterns_;
  ResumeRequest request_;
  int64_t deadline_us_ = 0;
  bool ready_ = false;
  bool subscribed_ = false;
};

}  // namespace edgewatch::fw
