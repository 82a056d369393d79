// LwsAvahiPoll on a real gateway loop (fw::Gateway on an ephemeral loopback port): watches on
// pipes and socket pairs fire for the events asked for and stop when disabled, two watches share
// a descriptor, hang-ups are reported, callbacks may free watches; timeouts fire in order, can be
// updated, disabled and freed (also from their own callback); after the gateway's loop ends the
// adapter is quiet and frees cleanly. With a private dbus-daemon, a real avahi-client runs on it:
// "daemon not running" at once, then the bus hang-up arrives through a watch.
//
// Every wait is for an observable event (a callback), bounded by a 60 s failure deadline.
#include "edgewatch/app/discovery/lws_avahi_poll.h"

#include <avahi-client/client.h>
#include <avahi-common/error.h>
#include <avahi-common/timeval.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgewatch/fw/gateway.h"
#include "private_bus.h"

namespace edgewatch::app::discovery {
namespace {

class AvahiPollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fw::GatewayConfig config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.handle_signals = false;
    config.auth_enabled = false;
    config.gateway_topic_period_s = 0;
    gw_ = std::make_unique<fw::Gateway>(config, nullptr);
    Status s = gw_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto poll = LwsAvahiPoll::Create(*gw_);
    ASSERT_TRUE(poll.ok()) << poll.status().ToString();
    poll_ = std::move(poll).value();
    api_ = poll_->api();
  }
  void TearDown() override {
    poll_.reset();
    gw_.reset();
  }

  // Services the loop until Stop() (or the failure deadline). The loop ends for good: the
  // gateway destroys its lws context when Run() returns.
  void RunLoop() {
    gw_->Every(60 * 1000000, [this] {
      timed_out_ = true;
      gw_->RequestStop();
    });
    gw_->Run();
    ASSERT_FALSE(timed_out_) << "the expected events did not happen within 60 s";
  }
  void Stop() { gw_->RequestStop(); }

  // An absolute Avahi time `ms` from now.
  static timeval In(int ms) {
    timeval tv;
    avahi_elapse_time(&tv, static_cast<unsigned>(ms), 0);
    return tv;
  }

  std::unique_ptr<fw::Gateway> gw_;
  std::unique_ptr<LwsAvahiPoll> poll_;
  const AvahiPoll* api_ = nullptr;
  bool timed_out_ = false;
};

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0); }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void Write(char c) { EXPECT_EQ(::write(fds[1], &c, 1), 1); }
  void CloseWriter() {
    ::close(fds[1]);
    fds[1] = -1;
  }
};

// Test state reachable from Avahi's C callbacks.
struct Probe {
  AvahiPollTest* test = nullptr;
  const AvahiPoll* api = nullptr;
  std::function<void(AvahiWatch*, int, AvahiWatchEvent)> on_watch;
  std::function<void(AvahiTimeout*)> on_timeout;
};

void WatchCb(AvahiWatch* w, int fd, AvahiWatchEvent e, void* p) {
  static_cast<Probe*>(p)->on_watch(w, fd, e);
}
void TimeoutCb(AvahiTimeout* t, void* p) {
  static_cast<Probe*>(p)->on_timeout(t);
}

TEST_F(AvahiPollTest, ReadWatchFiresOnlyWhileEnabled) {
  Pipe pipe;
  Probe probe;
  int fired = 0;
  AvahiWatchEvent seen_in_callback = static_cast<AvahiWatchEvent>(0);
  AvahiWatch* watch = nullptr;
  AvahiTimeout* check = nullptr;
  probe.on_watch = [&](AvahiWatch* w, int fd, AvahiWatchEvent e) {
    ++fired;
    EXPECT_EQ(w, watch);
    EXPECT_EQ(fd, pipe.fds[0]);
    EXPECT_TRUE(e & AVAHI_WATCH_IN);
    seen_in_callback = api_->watch_get_events(w);
    char c;
    ASSERT_EQ(::read(fd, &c, 1), 1);
    if (fired == 1) {
      // Disable it, make it readable again, and let a timeout check that nothing fires.
      api_->watch_update(w, static_cast<AvahiWatchEvent>(0));
      pipe.Write('b');
      timeval soon = In(20);
      api_->timeout_update(check, &soon);
    } else {
      EXPECT_EQ(c, 'b');
      Stop();
    }
  };
  probe.on_timeout = [&](AvahiTimeout*) {
    EXPECT_EQ(fired, 1) << "a disabled watch fired";
    api_->watch_update(watch, AVAHI_WATCH_IN);  // the pending 'b' fires it now
  };
  watch = api_->watch_new(api_, pipe.fds[0], AVAHI_WATCH_IN, WatchCb, &probe);
  ASSERT_NE(watch, nullptr);
  check = api_->timeout_new(api_, nullptr, TimeoutCb, &probe);  // disabled until armed
  EXPECT_EQ(api_->watch_get_events(watch), 0) << "outside a callback nothing has happened";
  pipe.Write('a');
  RunLoop();
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(seen_in_callback, AVAHI_WATCH_IN);
  api_->watch_free(watch);
  api_->timeout_free(check);
  EXPECT_EQ(poll_->watch_count(), 0u);
  EXPECT_EQ(poll_->timeout_count(), 0u);
}

TEST_F(AvahiPollTest, TwoWatchesShareADescriptorAndMayFreeEachOther) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  Probe reader_probe, writer_probe;
  AvahiWatch* reader = nullptr;
  AvahiWatch* writer = nullptr;
  int writable = 0, readable = 0;
  writer_probe.on_watch = [&](AvahiWatch* w, int fd, AvahiWatchEvent e) {
    ++writable;
    EXPECT_EQ(fd, sv[0]);
    EXPECT_TRUE(e & AVAHI_WATCH_OUT);
    EXPECT_FALSE(e & AVAHI_WATCH_IN) << "IN is the other watch's";
    api_->watch_update(w, static_cast<AvahiWatchEvent>(0));  // writable forever: stop asking
    ASSERT_EQ(::write(sv[1], "x", 1), 1);                    // make sv[0] readable
  };
  reader_probe.on_watch = [&](AvahiWatch* w, int fd, AvahiWatchEvent e) {
    ++readable;
    EXPECT_EQ(fd, sv[0]);
    EXPECT_TRUE(e & AVAHI_WATCH_IN);
    EXPECT_FALSE(e & AVAHI_WATCH_OUT) << "OUT is the other watch's";
    char c;
    EXPECT_EQ(::read(fd, &c, 1), 1);
    api_->watch_free(writer);  // another watch on this descriptor, then itself
    api_->watch_free(w);
    Stop();
  };
  reader = api_->watch_new(api_, sv[0], AVAHI_WATCH_IN, WatchCb, &reader_probe);
  writer = api_->watch_new(api_, sv[0], AVAHI_WATCH_OUT, WatchCb, &writer_probe);
  ASSERT_NE(reader, nullptr);
  ASSERT_NE(writer, nullptr);
  RunLoop();
  EXPECT_EQ(writable, 1);
  EXPECT_EQ(readable, 1);
  EXPECT_EQ(poll_->watch_count(), 0u);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_F(AvahiPollTest, HangUpIsReported) {
  Pipe pipe;
  Probe probe;
  AvahiWatchEvent got = static_cast<AvahiWatchEvent>(0);
  probe.on_watch = [&](AvahiWatch* w, int, AvahiWatchEvent e) {
    got = e;
    api_->watch_free(w);
    Stop();
  };
  ASSERT_NE(api_->watch_new(api_, pipe.fds[0], AVAHI_WATCH_IN, WatchCb, &probe), nullptr);
  pipe.CloseWriter();
  RunLoop();
  EXPECT_TRUE(got & AVAHI_WATCH_HUP) << "events " << got;
}

TEST_F(AvahiPollTest, TimeoutsFireInOrderAndCanBeUpdatedDisabledAndFreed) {
  Probe probe;
  std::vector<std::string> order;
  AvahiTimeout *t_late = nullptr, *t_mid = nullptr, *t_early = nullptr, *t_freed = nullptr,
               *t_disabled = nullptr, *t_last = nullptr, *t_past = nullptr;
  int early_count = 0;
  probe.on_timeout = [&](AvahiTimeout* t) {
    if (t == t_early) {
      order.push_back("early");
      if (++early_count == 1) {
        timeval again = In(1);
        api_->timeout_update(t, &again);  // re-arm from its own callback: fires once more
      }
    } else if (t == t_mid) {
      order.push_back("mid");
    } else if (t == t_late) {
      order.push_back("late");
    } else if (t == t_past) {
      order.push_back("past");
    } else if (t == t_last) {
      order.push_back("last");
      api_->timeout_free(t);  // from its own callback
      t_last = nullptr;
      Stop();
    } else {
      ADD_FAILURE() << "a freed or disabled timeout fired";
    }
  };
  timeval late = In(60), mid = In(20), early = In(5), freed = In(1), last = In(150);
  timeval past = In(0);
  past.tv_sec -= 10;  // already due
  t_late = api_->timeout_new(api_, &late, TimeoutCb, &probe);
  t_disabled = api_->timeout_new(api_, &late, TimeoutCb, &probe);
  api_->timeout_update(t_disabled, nullptr);  // disabled
  t_mid = api_->timeout_new(api_, nullptr, TimeoutCb, &probe);
  api_->timeout_update(t_mid, &mid);  // armed late
  t_early = api_->timeout_new(api_, &early, TimeoutCb, &probe);
  t_freed = api_->timeout_new(api_, &freed, TimeoutCb, &probe);
  api_->timeout_free(t_freed);  // never fires
  t_last = api_->timeout_new(api_, &last, TimeoutCb, &probe);
  t_past = api_->timeout_new(api_, &past, TimeoutCb, &probe);
  EXPECT_EQ(poll_->timeout_count(), 6u);
  RunLoop();
  EXPECT_EQ(early_count, 2);
  // The re-armed "early" may land anywhere after its first firing on a loaded machine; the
  // others keep their order.
  std::vector<std::string> fixed;
  bool first_early = true;
  for (const std::string& s : order) {
    if (s == "early" && !first_early) continue;
    if (s == "early") first_early = false;
    fixed.push_back(s);
  }
  EXPECT_EQ(fixed, (std::vector<std::string>{"past", "early", "mid", "late", "last"}));
  for (AvahiTimeout* t : {t_late, t_mid, t_early, t_disabled, t_past}) api_->timeout_free(t);
  EXPECT_EQ(poll_->timeout_count(), 0u);
}

TEST_F(AvahiPollTest, QuietAfterTheLoopEnds) {
  Pipe pipe;
  Probe probe;
  int fired = 0;
  probe.on_watch = [&](AvahiWatch*, int, AvahiWatchEvent) { ++fired; };
  probe.on_timeout = [&](AvahiTimeout*) { Stop(); };
  AvahiWatch* w = api_->watch_new(api_, pipe.fds[0], AVAHI_WATCH_IN, WatchCb, &probe);
  timeval now = In(0);
  AvahiTimeout* stop = api_->timeout_new(api_, &now, TimeoutCb, &probe);
  timeval later = In(3600 * 1000);
  AvahiTimeout* pending = api_->timeout_new(api_, &later, TimeoutCb, &probe);
  RunLoop();  // destroys the lws context at its end
  EXPECT_FALSE(poll_->live());
  EXPECT_EQ(fired, 0);
  // What avahi_client_free() does after Gateway::Run(): update and free everything.
  pipe.Write('x');
  api_->watch_update(w, AVAHI_WATCH_OUT);
  api_->timeout_update(pending, &now);
  AvahiTimeout* fresh = api_->timeout_new(api_, &now, TimeoutCb, &probe);
  api_->watch_free(w);
  api_->timeout_free(stop);
  api_->timeout_free(pending);
  api_->timeout_free(fresh);
  EXPECT_EQ(poll_->watch_count(), 0u);
  EXPECT_EQ(poll_->timeout_count(), 0u);
}

// A real avahi-client on the adapter, against a private D-Bus with no avahi-daemon on it.
struct ClientStates {
  std::vector<int> states;
  std::function<void(AvahiClient*, AvahiClientState)> on_state;
};
void ClientCb(AvahiClient* c, AvahiClientState s, void* p) {
  auto* cs = static_cast<ClientStates*>(p);
  cs->states.push_back(s);
  if (cs->on_state) cs->on_state(c, s);
}

TEST_F(AvahiPollTest, AvahiClientWaitsForTheDaemonAndSeesTheBusHangUp) {
  if (!testing::PrivateBus::Available()) GTEST_SKIP() << "dbus-daemon not installed";
  testing::PrivateBus bus;
  Status s = bus.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);

  ClientStates cs;
  int error = 0;
  AvahiClient* client = avahi_client_new(api_, AVAHI_CLIENT_NO_FAIL, ClientCb, &cs, &error);
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  ASSERT_NE(client, nullptr) << avahi_strerror(error);
  // No avahi-daemon on this bus: CONNECTING, from inside avahi_client_new().
  ASSERT_EQ(cs.states, (std::vector<int>{AVAHI_CLIENT_CONNECTING}));
  EXPECT_GE(poll_->watch_count(), 1u) << "libdbus watches its socket through the adapter";

  int failure_errno = 0;
  cs.on_state = [&](AvahiClient* c, AvahiClientState st) {
    if (st == AVAHI_CLIENT_FAILURE) {
      failure_errno = avahi_client_errno(c);
      Stop();
    }
  };
  // Kill the bus once the loop runs: the hang-up reaches libdbus only through a watch.
  timeval now = In(0);
  Probe probe;
  probe.on_timeout = [&](AvahiTimeout* t) {
    api_->timeout_free(t);
    bus.Stop();
  };
  api_->timeout_new(api_, &now, TimeoutCb, &probe);
  RunLoop();
  EXPECT_EQ(failure_errno, AVAHI_ERR_DISCONNECTED) << avahi_strerror(failure_errno);
  avahi_client_free(client);  // after the loop, as edgewatchd does
  EXPECT_EQ(poll_->watch_count(), 0u);
  EXPECT_EQ(poll_->timeout_count(), 0u);
}

}  // namespace
}  // namespace edgewatch::app::discovery
