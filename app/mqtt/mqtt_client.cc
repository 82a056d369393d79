#include "edgewatch/app/mqtt/mqtt_client.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "edgewatch/base/log.h"

namespace edgewatch::app::mqtt {
namespace {

constexpr int64_t kFirstBackoffMs = 500;
constexpr int64_t kMaxBackoffMs = 30000;
constexpr int64_t kMiscPeriodUs = 1000000;
constexpr const char* kVhostName = "edgewatch-mqtt";

int RawCallback(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
      auto* c = static_cast<MqttClient*>(lws_get_opaque_user_data(wsi));
      return c != nullptr ? c->OnReadable() : -1;
    }
    case LWS_CALLBACK_RAW_WRITEABLE_FILE: {
      auto* c = static_cast<MqttClient*>(lws_get_opaque_user_data(wsi));
      return c != nullptr ? c->OnWriteable() : -1;
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE: {
      auto* c = static_cast<MqttClient*>(lws_get_opaque_user_data(wsi));
      if (c != nullptr) {
        lws_set_opaque_user_data(wsi, nullptr);
        c->OnClosed();
      }
      return 0;
    }
    default:
      return 0;
  }
}

// Static: lws keeps pointing at the protocol list until the context is destroyed.
const lws_protocols kProtocols[] = {
    {"edgewatch-mqtt", RawCallback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// The vhost that holds every MQTT socket of this context (created on first use).
lws_vhost* MqttVhost(lws_context* context) {
  if (lws_vhost* vh = lws_get_vhost_by_name(context, kVhostName)) return vh;
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.vhost_name = kVhostName;
  return lws_create_vhost(context, &info);
}

std::string MosqError(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

// Owns a connected instance on its way from the worker to the loop; destroys it if the hand-off
// is dropped (shutdown).
struct Handoff {
  mosquitto* m = nullptr;
  int rc = MOSQ_ERR_UNKNOWN;
  std::string error;
  ~Handoff() {
    if (m != nullptr) mosquitto_destroy(m);
  }
};

}  // namespace

void EnsureMosquittoLib() {
  static std::once_flag once;
  // Never cleaned up: connect workers may outlive main().
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// Shared between the loop and one connect worker.
struct MqttClient::Attempt {
  std::mutex mu;
  bool cancelled = false;  // guarded by mu; set by the loop at Stop()
};

MqttClient::MqttClient(fw::Gateway& gw, BrokerConfig broker, WillMessage will, std::string role,
                       Callbacks callbacks)
    : gw_(gw),
      broker_(std::move(broker)),
      will_(std::move(will)),
      role_(std::move(role)),
      cb_(std::move(callbacks)) {}

MqttClient::~MqttClient() {
  Stop();
}

Status MqttClient::Start() {
  EnsureMosquittoLib();
  if (gw_.context() == nullptr) return FailedPrecondition("MQTT client before Gateway::Start");
  vhost_ = MqttVhost(gw_.context());
  if (vhost_ == nullptr) return Internal("could not create the MQTT vhost");
  reconnect_timer_.Init(gw_.context(), [this] { BeginConnect(); });
  misc_timer_.Init(gw_.context(), [this] { Misc(); });
  drop_timer_.Init(gw_.context(), [this] {
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    dropping_ = false;
    if (!stopped_) ScheduleReconnect();
  });
  EW_INFO("mqtt", "%s: connecting to %s as %s%s", role_.c_str(), broker_.Describe().c_str(),
          broker_.client_id.c_str(), broker_.username.empty() ? "" : " (with credentials)");
  BeginConnect();
  return OkStatus();
}

void MqttClient::BeginConnect() {
  if (stopped_ || attempt_ != nullptr || mosq_ != nullptr) return;
  auto attempt = std::make_shared<Attempt>();
  attempt_ = attempt;
  ++stats_.connect_attempts;
  fw::Gateway* gw = &gw_;
  std::thread([attempt, gw, broker = broker_, will = will_, self = this] {
    auto h = std::make_shared<Handoff>();
    h->m = mosquitto_new(broker.client_id.c_str(), true, nullptr);
    if (h->m == nullptr) {
      h->rc = MOSQ_ERR_NOMEM;
      h->error = "out of memory";
    } else {
      const bool v5 = broker.max_packet_bytes > 0;
      mosquitto_int_option(h->m, MOSQ_OPT_PROTOCOL_VERSION,
                           v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
      int rc = MOSQ_ERR_SUCCESS;
      if (!broker.username.empty()) {
        rc = mosquitto_username_pw_set(h->m, broker.username.c_str(),
                                       broker.password.empty() ? nullptr : broker.password.c_str());
      }
      if (rc == MOSQ_ERR_SUCCESS && !will.topic.empty()) {
        rc = mosquitto_will_set(h->m, will.topic.c_str(), static_cast<int>(will.payload.size()),
                                will.payload.data(), will.qos, will.retain);
      }
      if (rc == MOSQ_ERR_SUCCESS && broker.tls) {
        const char* ca = broker.tls_ca_file.empty() ? nullptr : broker.tls_ca_file.c_str();
        rc = mosquitto_tls_set(
            h->m, ca, ca == nullptr ? "/etc/ssl/certs" : nullptr,
            broker.tls_cert_file.empty() ? nullptr : broker.tls_cert_file.c_str(),
            broker.tls_key_file.empty() ? nullptr : broker.tls_key_file.c_str(), nullptr);
      }
      if (rc == MOSQ_ERR_SUCCESS) {
        // Blocking: DNS lookup, TCP connect, TLS handshake, CONNECT. Off the loop.
        mosquitto_property* props = nullptr;
        if (v5) {
          mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE,
                                       broker.max_packet_bytes);
        }
        rc = mosquitto_connect_bind_v5(h->m, broker.host.c_str(), broker.port, broker.keepalive_s,
                                       nullptr, props);
        mosquitto_property_free_all(&props);
      }
      h->rc = rc;
      if (rc != MOSQ_ERR_SUCCESS) {
        h->error = MosqError(rc);
      } else {
        int fd = mosquitto_socket(h->m);
        int flags = ::fcntl(fd, F_GETFL, 0);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
          h->rc = MOSQ_ERR_ERRNO;
          h->error = std::strerror(errno);
        }
      }
    }
    std::lock_guard<std::mutex> lock(attempt->mu);
    if (attempt->cancelled) return;  // Stop() ran: never touch the gateway again
    gw->Post([attempt, h, self] {
      {
        std::lock_guard<std::mutex> l(attempt->mu);
        if (attempt->cancelled) return;
      }
      mosquitto* m = h->m;
      h->m = nullptr;
      self->OnConnectResult(m, h->rc, h->error);
    });
  }).detach();
}

void MqttClient::OnConnectResult(mosquitto* m, int rc, const std::string& error) {
  attempt_.reset();
  if (rc != MOSQ_ERR_SUCCESS || m == nullptr) {
    if (m != nullptr) mosquitto_destroy(m);
    ++stats_.connect_failures;
    // The first failure of an outage is a warning, the retries are debug lines.
    if (failures_in_outage_++ == 0) {
      EW_WARN("mqtt", "%s: cannot connect to %s: %s (retrying with backoff)", role_.c_str(),
              broker_.Describe().c_str(), error.c_str());
    } else {
      EW_DEBUG("mqtt", "%s: cannot connect to %s: %s", role_.c_str(), broker_.Describe().c_str(),
               error.c_str());
    }
    ScheduleReconnect();
    return;
  }
  mosq_ = m;
  mosquitto_user_data_set(m, this);
  mosquitto_connect_callback_set(m, &MqttClient::ConnectCallback);
  mosquitto_disconnect_callback_set(m, &MqttClient::DisconnectCallback);
  mosquitto_publish_callback_set(m, &MqttClient::PublishCallback);
  mosquitto_message_callback_set(m, &MqttClient::MessageCallback);
  // lws closes what it adopts: give it a duplicate; libmosquitto keeps its own descriptor.
  int fd = ::fcntl(mosquitto_socket(m), F_DUPFD_CLOEXEC, 0);
  if (fd >= 0) {
    lws_adopt_desc_t desc{};
    desc.vh = vhost_;
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = fd;
    desc.vh_prot_name = kProtocols[0].name;
    desc.opaque = this;
    wsi_ = lws_adopt_descriptor_vhost_via_info(&desc);
  }
  if (wsi_ == nullptr) {
    Drop("could not adopt the socket into the event loop");
    return;
  }
  misc_timer_.StartPeriodic(kMiscPeriodUs);
  RequestWrite();
}

void MqttClient::ScheduleReconnect() {
  if (stopped_) return;
  reconnect_timer_.StartOnce(backoff_ms_ * 1000);
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

void MqttClient::Drop(const char* why) {
  if (dropping_ || mosq_ == nullptr) return;
  dropping_ = true;
  bool was_connected = connected_;
  connected_ = false;
  misc_timer_.Cancel();
  if (wsi_ != nullptr) {
    lws_set_opaque_user_data(wsi_, nullptr);
    lws_set_timeout(wsi_, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    wsi_ = nullptr;
  }
  // libmosquitto may be inside a call on this instance: destroy it from a fresh timer callback.
  drop_timer_.StartOnce(0);
  if (was_connected) {
    ++stats_.disconnects;
    failures_in_outage_ = 1;  // the line below is the outage's warning
    EW_WARN("mqtt", "%s: connection to %s lost (%s); reconnecting", role_.c_str(),
            broker_.Describe().c_str(), why);
    if (cb_.on_disconnected) cb_.on_disconnected();
  } else if (failures_in_outage_++ == 0) {
    EW_WARN("mqtt", "%s: connection to %s failed (%s); retrying with backoff", role_.c_str(),
            broker_.Describe().c_str(), why);
  } else {
    EW_DEBUG("mqtt", "%s: connection to %s failed (%s)", role_.c_str(), broker_.Describe().c_str(),
             why);
  }
}

void MqttClient::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (attempt_ != nullptr) {
    std::lock_guard<std::mutex> lock(attempt_->mu);
    attempt_->cancelled = true;
  }
  attempt_.reset();
  reconnect_timer_.Cancel();
  misc_timer_.Cancel();
  drop_timer_.Cancel();
  if (mosq_ != nullptr) {
    if (connected_) {
      mosquitto_disconnect(mosq_);  // a clean DISCONNECT: the broker discards the will
      mosquitto_loop_write(mosq_, 1);
    }
    connected_ = false;
    if (wsi_ != nullptr) {
      lws_set_opaque_user_data(wsi_, nullptr);
      lws_set_timeout(wsi_, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
      wsi_ = nullptr;
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
}

Result<int> MqttClient::Publish(const std::string& topic, std::string_view payload, int qos,
                                bool retain) {
  if (!connected_ || mosq_ == nullptr || dropping_) return Unavailable("not connected");
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::string err = MosqError(rc);
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
      Drop(err.c_str());
    }
    return Unavailable("publish: " + err);
  }
  ++stats_.published;
  RequestWrite();
  return mid;
}

Status MqttClient::Subscribe(const std::string& filter, int qos) {
  if (mosq_ == nullptr || dropping_) return Unavailable("not connected");
  int rc = mosquitto_subscribe(mosq_, nullptr, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) return Unavailable("subscribe " + filter + ": " + MosqError(rc));
  RequestWrite();
  return OkStatus();
}

bool MqttClient::WantWrite() const {
  return mosq_ != nullptr && mosquitto_want_write(mosq_);
}

void MqttClient::RequestWrite() {
  if (wsi_ != nullptr && mosq_ != nullptr && mosquitto_want_write(mosq_)) {
    lws_callback_on_writable(wsi_);
  }
}

int MqttClient::OnReadable() {
  if (mosq_ == nullptr || dropping_) return -1;
  int rc = mosquitto_loop_read(mosq_, 1);
  if (rc != MOSQ_ERR_SUCCESS) {
    Drop(MosqError(rc).c_str());
    return 0;  // Drop() closes the wsi
  }
  RequestWrite();
  return 0;
}

int MqttClient::OnWriteable() {
  if (mosq_ == nullptr || dropping_) return -1;
  int rc = mosquitto_loop_write(mosq_, 1);
  if (rc != MOSQ_ERR_SUCCESS) {
    Drop(MosqError(rc).c_str());
    return 0;
  }
  RequestWrite();
  return 0;
}

void MqttClient::OnClosed() {
  // lws closed our descriptor (hang-up): the connection is gone.
  wsi_ = nullptr;
  Drop("socket closed");
}

void MqttClient::Misc() {
  if (mosq_ == nullptr || dropping_) return;
  int rc = mosquitto_loop_misc(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) {
    Drop(rc == MOSQ_ERR_NO_CONN ? "keepalive: no answer from the broker" : MosqError(rc).c_str());
    return;
  }
  RequestWrite();
}

void MqttClient::ConnectCallback(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttClient*>(self);
  if (rc != 0) {
    ++c->stats_.connect_failures;
    std::string why =
        std::string("the broker refused the connection: ") + mosquitto_connack_string(rc);
    c->Drop(why.c_str());
    return;
  }
  c->connected_ = true;
  c->backoff_ms_ = kFirstBackoffMs;
  c->failures_in_outage_ = 0;
  ++c->stats_.connects;
  EW_INFO("mqtt", "%s: connected to %s", c->role_.c_str(), c->broker_.Describe().c_str());
  if (c->cb_.on_connected) c->cb_.on_connected();
}

void MqttClient::DisconnectCallback(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttClient*>(self);
  c->Drop(rc == 0 ? "disconnected" : "the broker closed the connection");
}

void MqttClient::PublishCallback(mosquitto*, void* self, int mid) {
  auto* c = static_cast<MqttClient*>(self);
  if (c->cb_.on_published) c->cb_.on_published(mid);
}

void MqttClient::MessageCallback(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<MqttClient*>(self);
  ++c->stats_.messages_in;
  if (!c->cb_.on_message || msg == nullptr || msg->topic == nullptr) return;
  std::string_view payload(static_cast<const char*>(msg->payload),
                           static_cast<size_t>(std::max(0, msg->payloadlen)));
  c->cb_.on_message(msg->topic, payload);
}

}  // namespace edgewatch::app::mqtt
