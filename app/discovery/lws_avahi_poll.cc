#include "edgewatch/app/discovery/lws_avahi_poll.h"

#include <avahi-common/timeval.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace edgewatch::app::discovery {

namespace {

constexpr char kVhostName[] = "edgewatch-avahi";
constexpr char kProtocolName[] = "edgewatch-avahi-poll";

int CallbackEpoll(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
  auto* self = static_cast<LwsAvahiPoll*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      if (self != nullptr) self->OnEpollReadable();
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      // Not closed by the adapter (that detaches first): the context is being destroyed.
      lws_set_opaque_user_data(wsi, nullptr);
      if (self != nullptr) self->OnContextGone();
      return 0;
    default:
      return 0;
  }
}

// Static: the vhost keeps pointing at it until the context is destroyed, possibly after the
// adapter is gone (the callback then finds no opaque pointer).
const lws_protocols kProtocols[] = {
    {kProtocolName, CallbackEpoll, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

uint32_t ToEpoll(AvahiWatchEvent e) {
  uint32_t out = 0;
  if (e & AVAHI_WATCH_IN) out |= EPOLLIN;
  if (e & AVAHI_WATCH_OUT) out |= EPOLLOUT;
  return out;
}

AvahiWatchEvent FromEpoll(uint32_t e) {
  int out = 0;
  if (e & EPOLLIN) out |= AVAHI_WATCH_IN;
  if (e & EPOLLOUT) out |= AVAHI_WATCH_OUT;
  if (e & EPOLLERR) out |= AVAHI_WATCH_ERR;
  if (e & EPOLLHUP) out |= AVAHI_WATCH_HUP;
  return static_cast<AvahiWatchEvent>(out);
}

}  // namespace

struct LwsAvahiPoll::WatchImpl {
  LwsAvahiPoll* owner;
  int fd;
  AvahiWatchEvent events;
  AvahiWatchEvent revents = static_cast<AvahiWatchEvent>(0);  // during its callback only
  AvahiWatchCallback callback;
  void* userdata;
  bool dead = false;
};

struct LwsAvahiPoll::TimeoutImpl {
  LwsAvahiPoll* owner;
  AvahiTimeoutCallback callback;
  void* userdata;
  uint64_t timer_id = 0;  // Gateway::Every id while armed
};

}  // namespace edgewatch::app::discovery

// avahi-common declares these as opaque structs: each is the adapter's implementation.
struct AvahiWatch : edgewatch::app::discovery::LwsAvahiPoll::WatchImpl {};
struct AvahiTimeout : edgewatch::app::discovery::LwsAvahiPoll::TimeoutImpl {};

namespace edgewatch::app::discovery {

namespace {

LwsAvahiPoll* Owner(const AvahiPoll* api) {
  return static_cast<LwsAvahiPoll*>(api->userdata);
}

AvahiWatch* ApiWatchNew(const AvahiPoll* api, int fd, AvahiWatchEvent event,
                        AvahiWatchCallback callback, void* userdata) {
  return static_cast<AvahiWatch*>(Owner(api)->NewWatch(fd, event, callback, userdata));
}
void ApiWatchUpdate(AvahiWatch* w, AvahiWatchEvent event) {
  w->owner->UpdateWatch(w, event);
}
AvahiWatchEvent ApiWatchGetEvents(AvahiWatch* w) {
  return w->revents;
}
void ApiWatchFree(AvahiWatch* w) {
  w->owner->FreeWatch(w);
}
AvahiTimeout* ApiTimeoutNew(const AvahiPoll* api, const struct timeval* tv,
                            AvahiTimeoutCallback callback, void* userdata) {
  return static_cast<AvahiTimeout*>(Owner(api)->NewTimeout(tv, callback, userdata));
}
void ApiTimeoutUpdate(AvahiTimeout* t, const struct timeval* tv) {
  t->owner->UpdateTimeout(t, tv);
}
void ApiTimeoutFree(AvahiTimeout* t) {
  t->owner->FreeTimeout(t);
}

}  // namespace

LwsAvahiPoll::LwsAvahiPoll(fw::Gateway& gw) : gw_(gw) {
  api_.userdata = this;
  api_.watch_new = ApiWatchNew;
  api_.watch_update = ApiWatchUpdate;
  api_.watch_get_events = ApiWatchGetEvents;
  api_.watch_free = ApiWatchFree;
  api_.timeout_new = ApiTimeoutNew;
  api_.timeout_update = ApiTimeoutUpdate;
  api_.timeout_free = ApiTimeoutFree;
}

Result<std::unique_ptr<LwsAvahiPoll>> LwsAvahiPoll::Create(fw::Gateway& gw) {
  lws_context* context = gw.context();
  if (context == nullptr) return FailedPrecondition("LwsAvahiPoll needs a started gateway");
  lws_vhost* vhost = lws_get_vhost_by_name(context, kVhostName);
  if (vhost == nullptr) {
    lws_context_creation_info info{};
    info.vhost_name = kVhostName;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = kProtocols;
    info.gid = -1;
    info.uid = -1;
    vhost = lws_create_vhost(context, &info);
    if (vhost == nullptr) return Internal("lws refused the " + std::string(kVhostName) + " vhost");
  }
  std::unique_ptr<LwsAvahiPoll> self(new LwsAvahiPoll(gw));
  self->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (self->epoll_fd_ < 0) return ErrnoToStatus(errno, "epoll_create1");
  lws_adopt_desc_t desc{};
  desc.vh = vhost;
  desc.type = LWS_ADOPT_RAW_FILE_DESC;
  desc.fd.filefd = self->epoll_fd_;
  desc.vh_prot_name = kProtocolName;
  desc.opaque = self.get();
  self->wsi_ = lws_adopt_descriptor_vhost_via_info(&desc);
  if (self->wsi_ == nullptr) {
    self->epoll_fd_ = -1;  // lws closed it
    return Internal("lws could not adopt the Avahi epoll descriptor");
  }
  return self;
}

LwsAvahiPoll::~LwsAvahiPoll() {
  if (wsi_ != nullptr) {
    // lws closes the epoll descriptor on its next service, or when the context goes.
    lws_set_opaque_user_data(wsi_, nullptr);
    lws_set_timeout(wsi_, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
  }
  for (WatchImpl* w : watches_) delete static_cast<AvahiWatch*>(w);
  for (WatchImpl* w : dead_watches_) delete static_cast<AvahiWatch*>(w);
  for (TimeoutImpl* t : timeouts_) {
    if (t->timer_id != 0) gw_.CancelTimer(t->timer_id);
    delete static_cast<AvahiTimeout*>(t);
  }
}

void LwsAvahiPoll::OnContextGone() {
  // lws closes the epoll descriptor; the gateway cancelled every timer before destroying the
  // context.
  wsi_ = nullptr;
  epoll_fd_ = -1;
  registered_fds_.clear();
}

LwsAvahiPoll::WatchImpl* LwsAvahiPoll::NewWatch(int fd, AvahiWatchEvent events,
                                                AvahiWatchCallback cb, void* userdata) {
  auto* w = new AvahiWatch();
  w->owner = this;
  w->fd = fd;
  w->events = events;
  w->callback = cb;
  w->userdata = userdata;
  watches_.insert(w);
  by_fd_[fd].push_back(w);
  SyncFd(fd);
  return w;
}

void LwsAvahiPoll::UpdateWatch(WatchImpl* w, AvahiWatchEvent events) {
  if (w->dead) return;
  w->events = events;
  SyncFd(w->fd);
}

void LwsAvahiPoll::FreeWatch(WatchImpl* w) {
  if (w->dead) return;
  w->dead = true;
  watches_.erase(w);
  auto it = by_fd_.find(w->fd);
  if (it != by_fd_.end()) {
    std::erase(it->second, w);
    if (it->second.empty()) by_fd_.erase(it);
  }
  SyncFd(w->fd);
  if (dispatching_) {
    dead_watches_.push_back(w);
  } else {
    delete static_cast<AvahiWatch*>(w);
  }
}

void LwsAvahiPoll::SyncFd(int fd) {
  if (epoll_fd_ < 0) return;  // the context is gone
  uint32_t mask = 0;
  if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
    for (const WatchImpl* w : it->second) mask |= ToEpoll(w->events);
  }
  const bool registered = registered_fds_.count(fd) != 0;
  if (mask == 0) {
    // The descriptor may already be closed (then the kernel dropped it from the set: EBADF or
    // ENOENT here are fine).
    if (registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    registered_fds_.erase(fd);
    return;
  }
  epoll_event ev{};
  ev.events = mask;
  ev.data.fd = fd;
  if (registered && ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0) return;
  // Not registered, or registered under a descriptor number that was closed and reused.
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0 ||
      (errno == EEXIST && ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0)) {
    registered_fds_.insert(fd);
  } else {
    registered_fds_.erase(fd);  // a closed descriptor: nothing to watch
  }
}

void LwsAvahiPoll::OnEpollReadable() {
  epoll_event events[16];
  int n = ::epoll_wait(epoll_fd_, events, 16, 0);
  if (n <= 0) return;
  dispatching_ = true;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) continue;
    // A callback may free or add watches on this descriptor: dispatch over a copy and skip the
    // ones freed meanwhile (they stay allocated until Reap()).
    std::vector<WatchImpl*> ready = it->second;
    for (WatchImpl* w : ready) {
      if (w->dead) continue;
      const AvahiWatchEvent happened = FromEpoll(events[i].events);
      const int wanted = w->events | AVAHI_WATCH_ERR | AVAHI_WATCH_HUP;
      if (w->events == 0 || (happened & wanted) == 0) continue;
      w->revents = static_cast<AvahiWatchEvent>(happened & wanted);
      w->callback(static_cast<AvahiWatch*>(w), w->fd, w->revents, w->userdata);
      w->revents = static_cast<AvahiWatchEvent>(0);
    }
  }
  dispatching_ = false;
  for (WatchImpl* w : dead_watches_) delete static_cast<AvahiWatch*>(w);
  dead_watches_.clear();
}

LwsAvahiPoll::TimeoutImpl* LwsAvahiPoll::NewTimeout(const struct timeval* tv,
                                                    AvahiTimeoutCallback cb, void* userdata) {
  auto* t = new AvahiTimeout();
  t->owner = this;
  t->callback = cb;
  t->userdata = userdata;
  timeouts_.insert(t);
  UpdateTimeout(t, tv);
  return t;
}

void LwsAvahiPoll::UpdateTimeout(TimeoutImpl* t, const struct timeval* tv) {
  if (t->timer_id != 0) gw_.CancelTimer(t->timer_id);
  t->timer_id = 0;
  if (tv == nullptr || !live()) return;  // disabled, or nothing fires any more
  // avahi_age: microseconds since `tv` (negative while it lies in the future). A periodic
  // gateway timer, cancelled when it first fires; at least 1 µs so lws never spins.
  const AvahiUsec age = avahi_age(tv);
  t->timer_id = gw_.Every(age >= 0 ? 1 : -age, [this, t] { FireTimeout(t); });
}

void LwsAvahiPoll::FreeTimeout(TimeoutImpl* t) {
  // The gateway keeps a cancelled timer's closure alive until its next sweep, so `t` may go now
  // even when this runs inside its own callback (FireTimeout touches nothing after it).
  if (t->timer_id != 0) gw_.CancelTimer(t->timer_id);
  timeouts_.erase(t);
  delete static_cast<AvahiTimeout*>(t);
}

void LwsAvahiPoll::FireTimeout(TimeoutImpl* t) {
  gw_.CancelTimer(t->timer_id);  // one-shot
  t->timer_id = 0;
  t->callback(static_cast<AvahiTimeout*>(t), t->userdata);
}

}  // namespace edgewatch::app::discovery
