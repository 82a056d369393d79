// FakeAvahi: a stand-in for avahi-daemon's D-Bus API (org.freedesktop.Avahi, API 0x0204) on a
// test's private bus (PrivateBus), for what libavahi-client's publishing uses: Server
// GetAPIVersion/GetVersionString/GetState/EntryGroupNew/GetHostName*, and EntryGroup GetState/
// AddService/IsEmpty/Commit/Reset/Free, with the EntryGroup.StateChanged signals sent to the
// group's owner as the real daemon does. No mDNS on the network: it records what was published.
//
// A mock because a real avahi-daemon needs the system bus, root and multicast interfaces
// (docs/pairing.md). Collisions are scripted: AddService of a name in `taken` fails with
// CollisionError; Commit of a group holding a name in `collide_on_commit` ends in COLLISION.
//
// Runs its own thread; every method may be called from the test thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "edgewatch/base/status.h"

struct DBusConnection;
struct DBusMessage;

namespace edgewatch::testing {

struct FakeService {
  std::string name, type;
  int port = 0;
  std::vector<std::string> txt;
};

class FakeAvahi {
 public:
  struct Script {
    std::set<std::string> taken;              // AddService fails with CollisionError
    std::set<std::string> collide_on_commit;  // Commit ends in the COLLISION state
  };

  FakeAvahi() = default;
  ~FakeAvahi() { Stop(); }
  FakeAvahi(const FakeAvahi&) = delete;
  FakeAvahi& operator=(const FakeAvahi&) = delete;

  // Connects to `bus_address`, owns org.freedesktop.Avahi and serves until Stop().
  Status Start(const std::string& bus_address, Script script = {});
  // Releases the name (clients see the daemon go away) and joins the thread.
  void Stop();

  // The services of every group in the ESTABLISHED state.
  std::vector<FakeService> Established() const;
  // Waits until `pred(Established())` holds; false after `timeout` (a failure bound).
  bool WaitFor(const std::function<bool(const std::vector<FakeService>&)>& pred,
               std::chrono::milliseconds timeout) const;

  // Internal: the libdbus filter (fake's thread). Returns a DBusHandlerResult.
  int Handle(DBusMessage* m);

 private:
  struct Group {
    std::string owner;  // unique bus name of the client that created it
    int state = 0;      // AVAHI_ENTRY_GROUP_*
    std::vector<FakeService> services;
  };
  void SetGroupState(const std::string& path, Group& g, int state);
  std::vector<FakeService> EstablishedLocked() const;

  DBusConnection* conn_ = nullptr;
  std::thread thread_;
  bool stop_ = false;  // guarded by mu_
  Script script_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Group> groups_;  // by object path
  int next_group_ = 0;
};

}  // namespace edgewatch::testing
