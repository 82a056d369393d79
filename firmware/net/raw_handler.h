// RawHandler: a file descriptor adopted into the lws loop as a raw file (private to net/).
//
// The ingest listener and its connections and the signalfd are adopted with
// lws_adopt_descriptor_vhost_via_info(); the handler is the wsi's opaque user data and receives
// the raw-file callbacks on the loop thread.
#pragma once

#include <libwebsockets.h>

namespace edgewatch::fw {

class RawHandler {
 public:
  virtual ~RawHandler() = default;
  // The fd is readable (or at EOF). Return -1 to close the wsi.
  virtual int OnReadable(lws* wsi) = 0;
  // lws_callback_on_writable() was honoured. Return -1 to close the wsi.
  virtual int OnWriteable(lws* /*wsi*/) { return 0; }
  // The wsi is closing; lws closes the fd. The handler may delete itself here.
  virtual void OnClosed(lws* /*wsi*/) {}
};

// Adopts `fd` into `vhost` with `handler` as its opaque user data. Returns the wsi, or null
// (lws has then closed the fd).
lws* AdoptRawFd(lws_vhost* vhost, int fd, RawHandler* handler);

}  // namespace edgewatch::fw
