#include "edgewatch/testing/mqtt_test_client.h"

#include <mosquitto.h>

#include <algorithm>
#include <chrono>

namespace edgewatch::testing {
namespace {

std::once_flag lib_once;

}  // namespace

MqttTestClient::MqttTestClient() {
  std::call_once(lib_once, [] { mosquitto_lib_init(); });
}

MqttTestClient::~MqttTestClient() {
  Disconnect();
}

Status MqttTestClient::Connect(uint16_t port, const std::string& client_id, bool clean_session,
                               const std::string& username, const std::string& password,
                               int timeout_ms) {
  Disconnect();
  mosq_ = mosquitto_new(client_id.c_str(), clean_session, this);
  if (mosq_ == nullptr) return Internal("mosquitto_new failed");
  mosquitto_connect_callback_set(mosq_, &MqttTestClient::OnConnect);
  mosquitto_disconnect_callback_set(mosq_, &MqttTestClient::OnDisconnect);
  mosquitto_subscribe_callback_set(mosq_, &MqttTestClient::OnSubscribe);
  mosquitto_publish_callback_set(mosq_, &MqttTestClient::OnPublish);
  mosquitto_message_callback_set(mosq_, &MqttTestClient::OnMessage);
  if (!username.empty()) {
    mosquitto_username_pw_set(mosq_, username.c_str(), password.c_str());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    connack_ = -1;
  }
  if (!tls_ca_.empty()) {
    int t = mosquitto_tls_set(mosq_, tls_ca_.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (t != MOSQ_ERR_SUCCESS) return Internal(std::string("tls: ") + mosquitto_strerror(t));
  }
  int rc = mosquitto_connect(mosq_, tls_ca_.empty() ? "127.0.0.1" : "localhost", port, 30);
  if (rc != MOSQ_ERR_SUCCESS) return Unavailable(std::string("connect: ") + mosquitto_strerror(rc));
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) return Internal(std::string("loop: ") + mosquitto_strerror(rc));
  loop_started_ = true;
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return connack_ >= 0; })) {
    return DeadlineExceeded("no CONNACK");
  }
  if (connack_ != 0)
    return Unavailable(std::string("refused: ") + mosquitto_connack_string(connack_));
  return OkStatus();
}

Status MqttTestClient::Subscribe(const std::string& filter, int qos, int timeout_ms) {
  if (mosq_ == nullptr) return FailedPrecondition("not connected");
  int mid = 0;
  int rc = mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS)
    return Unavailable(std::string("subscribe: ") + mosquitto_strerror(rc));
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
        return std::find(acked_mids_.begin(), acked_mids_.end(), mid) != acked_mids_.end();
      })) {
    return DeadlineExceeded("no SUBACK for " + filter);
  }
  return OkStatus();
}

Status MqttTestClient::Publish(const std::string& topic, const std::string& payload, int qos,
                               bool retain, int timeout_ms) {
  if (mosq_ == nullptr) return FailedPrecondition("not connected");
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) return Unavailable(std::string("publish: ") + mosquitto_strerror(rc));
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
        return std::find(acked_mids_.begin(), acked_mids_.end(), mid) != acked_mids_.end();
      })) {
    return DeadlineExceeded("publish not completed on " + topic);
  }
  return OkStatus();
}

void MqttTestClient::Disconnect() {
  if (mosq_ == nullptr) return;
  mosquitto_disconnect(mosq_);
  if (loop_started_) mosquitto_loop_stop(mosq_, false);
  loop_started_ = false;
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  connected_ = false;
}

Result<MqttMessage> MqttTestClient::WaitFor(const std::function<bool(const MqttMessage&)>& match,
                                            int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const MqttMessage* found = nullptr;
  auto pred = [&] {
    for (const MqttMessage& m : messages_) {
      if (match(m)) {
        found = &m;
        return true;
      }
    }
    return false;
  };
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), pred)) {
    return DeadlineExceeded("no matching MQTT message among " + std::to_string(messages_.size()));
  }
  return *found;
}

Result<std::vector<MqttMessage>> MqttTestClient::WaitUntil(
    const std::function<bool(const std::vector<MqttMessage>&)>& done, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done(messages_); })) {
    return DeadlineExceeded("condition not met; " + std::to_string(messages_.size()) +
                            " MQTT messages received");
  }
  return messages_;
}

std::vector<MqttMessage> MqttTestClient::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

bool MqttTestClient::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_;
}

void MqttTestClient::OnConnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->connack_ = rc;
  c->connected_ = rc == 0;
  c->cv_.notify_all();
}

void MqttTestClient::OnDisconnect(mosquitto*, void* self, int) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->connected_ = false;
  c->cv_.notify_all();
}

void MqttTestClient::OnSubscribe(mosquitto*, void* self, int mid, int, const int*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->acked_mids_.push_back(mid);
  c->cv_.notify_all();
}

void MqttTestClient::OnPublish(mosquitto*, void* self, int mid) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->acked_mids_.push_back(mid);
  c->cv_.notify_all();
}

void MqttTestClient::OnMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<MqttTestClient*>(self);
  MqttMessage m;
  m.topic = msg->topic;
  m.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  m.qos = msg->qos;
  m.retain = msg->retain;
  std::lock_guard<std::mutex> lock(c->mu_);
  c->messages_.push_back(std::move(m));
  c->cv_.notify_all();
}

}  // namespace edgewatch::testing
