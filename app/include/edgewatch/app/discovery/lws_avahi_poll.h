// LwsAvahiPoll: Avahi's event-loop abstraction (AvahiPoll) on the gateway's lws loop, so that
// avahi-client runs on the ONE service thread instead of avahi's threaded poll.
//
// Watches: every watched descriptor is registered in one epoll set (level-triggered) and that
// epoll descriptor is adopted into lws as a raw file on a listener-less vhost
// ("edgewatch-avahi"); when lws sees it readable, the ready watches' callbacks run. lws never
// owns the watched descriptors themselves (closing a raw file wsi would shutdown() a socket that
// libdbus still uses). Several watches may share a descriptor (libdbus watches its socket for
// reading and writing separately). Timeouts: one gateway timer (Gateway::Every, cancelled at its
// first firing) each, so none outlives the lws context; Avahi's absolute times are gettimeofday()
// times. When the gateway destroys its context (the end of Gateway::Run()), the adapter goes
// quiet: watches and timeouts may still be freed (avahi_client_free) but never fire again.
//
// Domain-free: knows nothing about edgewatch's services. Threading: everything, including every
// AvahiPoll entry point, runs on the loop thread. Callbacks may create, update and free any
// watch or timeout, their own included (frees are deferred until the callback returns). The
// adapter must outlive every AvahiClient using it (free the client first).
#pragma once

#include <avahi-common/watch.h>
#include <libwebsockets.h>

#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::app::discovery {

class LwsAvahiPoll {
 public:
  // Loop thread, after gw.Start(). Creates (or reuses) the "edgewatch-avahi" vhost on the
  // gateway's context and adopts the epoll descriptor. Errors: FailedPrecondition before Start(),
  // the errno of epoll_create1, Internal when lws refuses the vhost or the descriptor.
  static Result<std::unique_ptr<LwsAvahiPoll>> Create(fw::Gateway& gw);
  ~LwsAvahiPoll();
  LwsAvahiPoll(const LwsAvahiPoll&) = delete;
  LwsAvahiPoll& operator=(const LwsAvahiPoll&) = delete;

  // The table to pass to avahi_client_new(); valid as long as this object.
  const AvahiPoll* api() const { return &api_; }

  // Live (not freed) watches and timeouts, for tests and leak checks.
  size_t watch_count() const { return watches_.size(); }
  size_t timeout_count() const { return timeouts_.size(); }

  // False once the gateway's lws context is gone (nothing fires any more).
  bool live() const { return epoll_fd_ >= 0; }

  // --- internal (the C callbacks in the .cc) ---
  void OnEpollReadable();
  void OnContextGone();
  struct WatchImpl;
  struct TimeoutImpl;
  WatchImpl* NewWatch(int fd, AvahiWatchEvent events, AvahiWatchCallback cb, void* userdata);
  void UpdateWatch(WatchImpl* w, AvahiWatchEvent events);
  void FreeWatch(WatchImpl* w);
  TimeoutImpl* NewTimeout(const struct timeval* tv, AvahiTimeoutCallback cb, void* userdata);
  void UpdateTimeout(TimeoutImpl* t, const struct timeval* tv);
  void FreeTimeout(TimeoutImpl* t);
  void FireTimeout(TimeoutImpl* t);

 private:
  explicit LwsAvahiPoll(fw::Gateway& gw);
  // Re-registers `fd` in the epoll set with the union of its enabled watches' events (or removes
  // it when none wants anything: epoll reports hang-ups even for an empty mask).
  void SyncFd(int fd);

  fw::Gateway& gw_;
  AvahiPoll api_{};
  int epoll_fd_ = -1;  // owned by lws once adopted
  lws* wsi_ = nullptr;
  std::set<WatchImpl*> watches_;
  std::map<int, std::vector<WatchImpl*>> by_fd_;
  std::set<int> registered_fds_;  // in the epoll set
  std::set<TimeoutImpl*> timeouts_;
  std::vector<WatchImpl*> dead_watches_;  // freed during OnEpollReadable(), deleted at its end
  bool dispatching_ = false;
};

}  // namespace edgewatch::app::discovery
