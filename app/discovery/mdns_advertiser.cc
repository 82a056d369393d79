#include "edgewatch/app/discovery/mdns_advertiser.h"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <unistd.h>

#include <algorithm>

#include "edgewatch/app/discovery/lws_avahi_poll.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app::discovery {

namespace {

constexpr char kEdgewatchType[] = "_edgewatch._tcp";
constexpr char kHttpType[] = "_http._tcp";
constexpr size_t kMaxNameBytes = 63;  // a DNS label

void ClientCallback(AvahiClient* client, AvahiClientState state, void* self) {
  static_cast<MdnsAdvertiser*>(self)->OnClientState(client, state);
}

void GroupCallback(AvahiEntryGroup* group, AvahiEntryGroupState state, void* self) {
  static_cast<MdnsAdvertiser*>(self)->OnGroupState(group, state);
}

// Cuts `name` to a DNS label's 63 bytes without splitting a UTF-8 sequence.
std::string CutName(std::string name) {
  if (name.size() <= kMaxNameBytes) return name;
  size_t n = kMaxNameBytes;
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
  name.resize(n);
  return name;
}

}  // namespace

std::vector<std::string> GatewayTxtRecords(const std::string& board, const std::string& version,
                                           bool tls, bool auth) {
  return {"board=" + board.substr(0, 200),
          "version=" + version.substr(0, 200),
          "path=/",
          "ws=/ws",
          std::string("tls=") + (tls ? "1" : "0"),
          std::string("auth=") + (auth ? "token" : "none")};
}

std::string DefaultInstanceName(const std::string& board) {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "edgewatch " + board;
  std::string h(host);
  if (size_t dot = h.find('.'); dot != std::string::npos) h.resize(dot);
  return CutName(board + " on " + h);
}

MdnsAdvertiser::MdnsAdvertiser(fw::Gateway& gw, MdnsOptions options)
    : gw_(gw), options_(std::move(options)), name_(CutName(options_.name)) {
  if (name_.empty()) name_ = "edgewatch";
}

MdnsAdvertiser::~MdnsAdvertiser() {
  if (retry_timer_ != 0) gw_.CancelTimer(retry_timer_);
  Disconnect();
  poll_.reset();
}

Status MdnsAdvertiser::Start() {
  EW_ASSIGN_OR_RETURN(poll_, LwsAvahiPoll::Create(gw_));
  Connect();
  return OkStatus();
}

void MdnsAdvertiser::ScheduleReconnect(int64_t delay_us) {
  if (retry_timer_ != 0 || !poll_->live()) return;
  // From a timer, never inside Avahi's own callbacks (which must not free their client).
  retry_timer_ = gw_.Every(std::max<int64_t>(delay_us, 1), [this] {
    gw_.CancelTimer(retry_timer_);
    retry_timer_ = 0;
    Disconnect();
    Connect();
  });
}

void MdnsAdvertiser::Connect() {
  int error = 0;
  // The callback runs inside avahi_client_new() already (with the new client as argument).
  AvahiClient* client =
      avahi_client_new(poll_->api(), AVAHI_CLIENT_NO_FAIL, ClientCallback, this, &error);
  if (client == nullptr) {
    // NO_FAIL covers a missing avahi-daemon, not a missing D-Bus system bus.
    NoteNoDaemon(std::string("cannot reach avahi-daemon (") + avahi_strerror(error) + ")");
    ScheduleReconnect(static_cast<int64_t>(options_.retry_s) * 1000000);
    return;
  }
  client_ = client;
}

void MdnsAdvertiser::Disconnect() {
  if (client_ != nullptr) avahi_client_free(client_);  // frees group_ too
  client_ = nullptr;
  group_ = nullptr;
}

void MdnsAdvertiser::NoteNoDaemon(const std::string& why) {
  state_ = State::kNoDaemon;
  if (absence_logged_) return;
  absence_logged_ = true;
  EW_INFO("mdns", "%s: not advertising on mDNS until avahi-daemon runs (--no-mdns turns this off)",
          why.c_str());
}

void MdnsAdvertiser::OnClientState(AvahiClient* client, int state) {
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      absence_logged_ = false;
      Publish(client);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      // The host name is being (re)registered: withdraw; S_RUNNING republishes.
      if (group_ != nullptr) avahi_entry_group_reset(group_);
      state_ = State::kRegistering;
      break;
    case AVAHI_CLIENT_CONNECTING:
      NoteNoDaemon("avahi-daemon is not running");
      break;
    case AVAHI_CLIENT_FAILURE: {
      const int error = avahi_client_errno(client);
      if (error == AVAHI_ERR_DISCONNECTED || error == AVAHI_ERR_NO_DAEMON) {
        NoteNoDaemon("avahi-daemon went away");
        ScheduleReconnect(0);  // a new NO_FAIL client waits for the daemon to return
      } else {
        state_ = State::kFailed;
        EW_WARN("mdns", "avahi client failed: %s (retrying in %d s)", avahi_strerror(error),
                options_.retry_s);
        ScheduleReconnect(static_cast<int64_t>(options_.retry_s) * 1000000);
      }
      break;
    }
    default:
      break;
  }
}

void MdnsAdvertiser::Publish(AvahiClient* client) {
  if (group_ == nullptr) {
    group_ = avahi_entry_group_new(client, GroupCallback, this);
    if (group_ == nullptr) {
      state_ = State::kFailed;
      EW_WARN("mdns", "cannot create an Avahi entry group: %s",
              avahi_strerror(avahi_client_errno(client)));
      return;
    }
  }
  const int empty = avahi_entry_group_is_empty(group_);
  if (empty < 0) {
    state_ = State::kFailed;
    EW_WARN("mdns", "cannot query the Avahi entry group: %s", avahi_strerror(empty));
    return;
  }
  if (empty == 0) return;  // already submitted

  std::vector<const char*> txt;
  for (const std::string& t : options_.txt) txt.push_back(t.c_str());
  AvahiStringList* list =
      avahi_string_list_new_from_array(txt.data(), static_cast<int>(txt.size()));
  int error = AVAHI_OK;
  // A local collision (our own name registered already, e.g. a second edgewatchd): take the
  // alternative name and try again, a bounded number of times.
  for (int attempt = 0; attempt < 16; ++attempt) {
    error = avahi_entry_group_add_service_strlst(group_, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                 static_cast<AvahiPublishFlags>(0), name_.c_str(),
                                                 kEdgewatchType, nullptr, nullptr,
                                                 static_cast<uint16_t>(options_.port), list);
    if (error == AVAHI_OK && options_.http_service) {
      error = avahi_entry_group_add_service_strlst(
          group_, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
          name_.c_str(), kHttpType, nullptr, nullptr, static_cast<uint16_t>(options_.port), list);
    }
    if (error != AVAHI_ERR_COLLISION) break;
    char* alt = avahi_alternative_service_name(name_.c_str());
    EW_WARN("mdns", "service name \"%s\" is taken: using \"%s\"", name_.c_str(), alt);
    name_ = alt;
    avahi_free(alt);
    avahi_entry_group_reset(group_);
  }
  avahi_string_list_free(list);
  if (error == AVAHI_OK) error = avahi_entry_group_commit(group_);
  if (error != AVAHI_OK) {
    state_ = State::kFailed;
    EW_WARN("mdns", "avahi-daemon refused the services: %s", avahi_strerror(error));
    return;
  }
  state_ = State::kRegistering;
}

void MdnsAdvertiser::Collide() {
  char* alt = avahi_alternative_service_name(name_.c_str());
  EW_WARN("mdns", "service name \"%s\" is taken on the network: using \"%s\"", name_.c_str(), alt);
  name_ = alt;
  avahi_free(alt);
  avahi_entry_group_reset(group_);
  Publish(avahi_entry_group_get_client(group_));
}

void MdnsAdvertiser::OnGroupState(AvahiEntryGroup* group, int state) {
  if (group_ == nullptr) group_ = group;  // the callback may run inside avahi_entry_group_new()
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      state_ = State::kPublished;
      EW_INFO("mdns", "advertising \"%s\" as %s%s on port %d", name_.c_str(), kEdgewatchType,
              options_.http_service ? " and _http._tcp" : "", options_.port);
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      Collide();
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      state_ = State::kFailed;
      EW_WARN("mdns", "advertisement failed: %s",
              avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
      break;
    default:
      break;
  }
}

}  // namespace edgewatch::app::discovery
