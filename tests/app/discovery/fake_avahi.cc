#include "fake_avahi.h"

#include <dbus/dbus.h>

#include <cstring>

namespace edgewatch::testing {

namespace {

constexpr char kName[] = "org.freedesktop.Avahi";
constexpr char kServer[] = "org.freedesktop.Avahi.Server";
constexpr char kGroup[] = "org.freedesktop.Avahi.EntryGroup";
constexpr int kUncommitted = 0, kRegistering = 1, kEstablished = 2, kCollision = 3;

DBusHandlerResult Filter(DBusConnection*, DBusMessage* m, void* self) {
  return static_cast<DBusHandlerResult>(static_cast<FakeAvahi*>(self)->Handle(m));
}

DBusMessage* Reply(DBusMessage* m) {
  return dbus_message_new_method_return(m);
}

}  // namespace

Status FakeAvahi::Start(const std::string& bus_address, Script script) {
  script_ = std::move(script);
  DBusError err;
  dbus_error_init(&err);
  conn_ = dbus_connection_open_private(bus_address.c_str(), &err);
  if (conn_ == nullptr || !dbus_bus_register(conn_, &err)) {
    std::string msg = dbus_error_is_set(&err) ? err.message : "cannot connect";
    dbus_error_free(&err);
    return Unavailable("fake avahi: " + msg);
  }
  dbus_connection_set_exit_on_disconnect(conn_, FALSE);
  if (dbus_bus_request_name(conn_, kName, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
      DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
    std::string msg = dbus_error_is_set(&err) ? err.message : "name taken";
    dbus_error_free(&err);
    return Unavailable("fake avahi: " + msg);
  }
  dbus_connection_add_filter(conn_, &Filter, this, nullptr);
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
      }
      // Waits at most 20 ms for traffic so Stop() is noticed; not a synchronisation sleep.
      if (!dbus_connection_read_write_dispatch(conn_, 20)) break;
    }
  });
  return OkStatus();
}

void FakeAvahi::Stop() {
  if (conn_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  dbus_connection_close(conn_);  // the bus drops the name: NameOwnerChanged to the clients
  dbus_connection_unref(conn_);
  conn_ = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  groups_.clear();
  stop_ = false;
  cv_.notify_all();
}

std::vector<FakeService> FakeAvahi::EstablishedLocked() const {
  std::vector<FakeService> out;
  for (const auto& [path, g] : groups_) {
    if (g.state == kEstablished) out.insert(out.end(), g.services.begin(), g.services.end());
  }
  return out;
}

std::vector<FakeService> FakeAvahi::Established() const {
  std::lock_guard<std::mutex> lock(mu_);
  return EstablishedLocked();
}

bool FakeAvahi::WaitFor(const std::function<bool(const std::vector<FakeService>&)>& pred,
                        std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(EstablishedLocked()); });
}

void FakeAvahi::SetGroupState(const std::string& path, Group& g, int state) {
  g.state = state;
  DBusMessage* sig = dbus_message_new_signal(path.c_str(), kGroup, "StateChanged");
  int32_t s = state;
  const char* error = state == kCollision ? "org.freedesktop.Avahi.CollisionError"
                                          : "org.freedesktop.Avahi.Success";
  dbus_message_append_args(sig, DBUS_TYPE_INT32, &s, DBUS_TYPE_STRING, &error, DBUS_TYPE_INVALID);
  dbus_message_set_destination(sig, g.owner.c_str());  // avahi-daemon sends them to the owner
  dbus_connection_send(conn_, sig, nullptr);
  dbus_message_unref(sig);
  cv_.notify_all();
}

int FakeAvahi::Handle(DBusMessage* m) {
  if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL) {
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
  }
  const char* iface = dbus_message_get_interface(m);
  const char* member = dbus_message_get_member(m);
  const char* path = dbus_message_get_path(m);
  if (iface == nullptr || member == nullptr || path == nullptr) {
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
  }
  std::lock_guard<std::mutex> lock(mu_);
  DBusMessage* reply = nullptr;
  if (std::strcmp(iface, kServer) == 0) {
    if (std::strcmp(member, "GetAPIVersion") == 0) {
      uint32_t v = 0x0204;
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_UINT32, &v, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "GetVersionString") == 0) {
      const char* v = "avahi 0.8";
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_STRING, &v, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "GetState") == 0) {
      int32_t running = 2;  // AVAHI_SERVER_RUNNING
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_INT32, &running, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "GetHostName") == 0 ||
               std::strcmp(member, "GetHostNameFqdn") == 0 ||
               std::strcmp(member, "GetDomainName") == 0) {
      const char* v = std::strcmp(member, "GetHostName") == 0     ? "fakehost"
                      : std::strcmp(member, "GetDomainName") == 0 ? "local"
                                                                  : "fakehost.local";
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_STRING, &v, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "EntryGroupNew") == 0) {
      std::string p = "/Client1/EntryGroup" + std::to_string(++next_group_);
      groups_[p].owner = dbus_message_get_sender(m);
      const char* pp = p.c_str();
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &pp, DBUS_TYPE_INVALID);
    }
  } else if (std::strcmp(iface, kGroup) == 0 && groups_.count(path) != 0) {
    Group& g = groups_[path];
    if (std::strcmp(member, "GetState") == 0) {
      int32_t s = g.state;
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_INT32, &s, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "IsEmpty") == 0) {
      dbus_bool_t empty = g.services.empty();
      reply = Reply(m);
      dbus_message_append_args(reply, DBUS_TYPE_BOOLEAN, &empty, DBUS_TYPE_INVALID);
    } else if (std::strcmp(member, "AddService") == 0) {
      // iiussssq then aay
      DBusMessageIter it;
      dbus_message_iter_init(m, &it);
      FakeService s;
      for (int i = 0; i < 8; ++i, dbus_message_iter_next(&it)) {
        if (i == 3 || i == 4) {
          const char* v = nullptr;
          dbus_message_iter_get_basic(&it, &v);
          (i == 3 ? s.name : s.type) = v;
        } else if (i == 7) {
          uint16_t port = 0;
          dbus_message_iter_get_basic(&it, &port);
          s.port = port;
        }
      }
      DBusMessageIter txts;
      dbus_message_iter_recurse(&it, &txts);
      while (dbus_message_iter_get_arg_type(&txts) == DBUS_TYPE_ARRAY) {
        DBusMessageIter bytes;
        dbus_message_iter_recurse(&txts, &bytes);
        const unsigned char* data = nullptr;
        int n = 0;
        dbus_message_iter_get_fixed_array(&bytes, &data, &n);
        s.txt.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
        dbus_message_iter_next(&txts);
      }
      if (script_.taken.count(s.name) != 0) {
        reply = dbus_message_new_error(m, "org.freedesktop.Avahi.CollisionError",
                                       "Local name collision");
      } else {
        g.services.push_back(std::move(s));
        reply = Reply(m);
      }
    } else if (std::strcmp(member, "Commit") == 0) {
      reply = Reply(m);
      dbus_connection_send(conn_, reply, nullptr);
      dbus_message_unref(reply);
      reply = nullptr;
      bool collide = false;
      for (const FakeService& s : g.services) collide |= script_.collide_on_commit.count(s.name);
      SetGroupState(path, g, kRegistering);
      SetGroupState(path, g, collide ? kCollision : kEstablished);
      return DBUS_HANDLER_RESULT_HANDLED;
    } else if (std::strcmp(member, "Reset") == 0) {
      g.services.clear();
      reply = Reply(m);
      dbus_connection_send(conn_, reply, nullptr);
      dbus_message_unref(reply);
      SetGroupState(path, g, kUncommitted);
      return DBUS_HANDLER_RESULT_HANDLED;
    } else if (std::strcmp(member, "Free") == 0) {
      groups_.erase(path);
      cv_.notify_all();
      reply = Reply(m);
    }
  }
  if (reply == nullptr) return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
  dbus_connection_send(conn_, reply, nullptr);
  dbus_message_unref(reply);
  return DBUS_HANDLER_RESULT_HANDLED;
}

}  // namespace edgewatch::testing
