// MdnsAdvertiser: publishes the gateway on the local network with mDNS/DNS-SD through the
// system's avahi-daemon (libavahi-client over D-Bus), as `_edgewatch._tcp` and `_http._tcp` on
// the listen port, with TXT records describing it (docs/pairing.md).
//
// Runs on the gateway's loop thread through LwsAvahiPoll. Never makes the daemon fail: when no
// avahi-daemon runs (or no system D-Bus), one log line says so and it advertises as soon as the
// daemon appears (AVAHI_CLIENT_NO_FAIL; without a D-Bus it retries quietly every 30 s); when the
// daemon goes away it logs one line and waits for it again. A name collision picks Avahi's
// alternative name ("name #2").
//
// Note: libavahi-client's requests are synchronous D-Bus round trips to the local daemon, made
// on the loop thread when (re)publishing — at start, on a collision, after a daemon restart.
#pragma once

#include <libwebsockets.h>

#include <memory>
#include <string>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"

struct AvahiClient;
struct AvahiEntryGroup;

namespace edgewatch::app::discovery {

class LwsAvahiPoll;

struct MdnsOptions {
  std::string name;              // service instance name (UTF-8, <= 63 bytes; longer is cut)
  int port = 0;                  // the gateway's listen port
  std::vector<std::string> txt;  // "key=value" TXT records, each <= 255 bytes
  bool http_service = true;      // also publish `_http._tcp` (browsers' service lists)
  int retry_s = 30;              // no D-Bus at all: try again this often (silently)
};

// The TXT records edgewatchd publishes: board=, version=, path=/, ws=/ws, tls=0|1, auth=token|none.
std::vector<std::string> GatewayTxtRecords(const std::string& board, const std::string& version,
                                           bool tls, bool auth);
// "<board> on <host>", the default instance name; `host` without its domain.
std::string DefaultInstanceName(const std::string& board);

class MdnsAdvertiser {
 public:
  enum class State {
    kStopped,      // Start() not called
    kNoDaemon,     // no avahi-daemon (or no D-Bus): waiting for it
    kRegistering,  // services submitted, not yet confirmed
    kPublished,    // avahi-daemon confirmed the services
    kFailed,       // avahi-daemon refused them (logged); nothing more happens
  };

  // `gw` must be started, and must outlive the advertiser (which may outlive Gateway::Run():
  // it then only releases what it holds).
  MdnsAdvertiser(fw::Gateway& gw, MdnsOptions options);
  ~MdnsAdvertiser();
  MdnsAdvertiser(const MdnsAdvertiser&) = delete;
  MdnsAdvertiser& operator=(const MdnsAdvertiser&) = delete;

  // Loop thread. Only an lws failure to create the adapter is an error; a missing avahi-daemon
  // is not (see the class comment).
  Status Start();

  State state() const { return state_; }
  // The instance name in use (Avahi's alternative after a collision).
  const std::string& name() const { return name_; }

  // --- internal (Avahi's C callbacks) ---
  void OnClientState(AvahiClient* client, int state);
  void OnGroupState(AvahiEntryGroup* group, int state);

 private:
  void Connect();
  void Disconnect();
  void Publish(AvahiClient* client);
  void Collide();
  void NoteNoDaemon(const std::string& why);
  void ScheduleReconnect(int64_t delay_us);

  fw::Gateway& gw_;
  MdnsOptions options_;
  std::string name_;
  std::unique_ptr<LwsAvahiPoll> poll_;
  AvahiClient* client_ = nullptr;
  AvahiEntryGroup* group_ = nullptr;
  State state_ = State::kStopped;
  bool absence_logged_ = false;  // one line per absence of the daemon
  uint64_t retry_timer_ = 0;     // Gateway::Every id of a pending reconnect, or 0
};

}  // namespace edgewatch::app::discovery
