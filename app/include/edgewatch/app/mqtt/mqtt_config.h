// MQTT settings: the broker connection (URL, credentials, TLS), the uplink (topic patterns,
// prefix, device id, outbox bounds) and the ingest (which broker topics carry DeepStream or
// Frigate payloads). docs/mqtt.md documents every key.
//
// Pure parsing (ParseMqttUrl, ParseMqttConfigJson) plus LoadMqttSecrets, which reads password
// files (blocking file I/O: call it at start, before the loop runs). Any thread.
#pragma once

#include <cjson/cJSON.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::app::mqtt {

struct BrokerConfig {
  std::string host;  // name or numeric address; empty = not configured
  int port = 1883;
  bool tls = false;  // mqtts:// or any of the tls_* files set
  std::string username;
  std::string password;       // secret: never logged
  std::string password_file;  // read by LoadMqttSecrets() into `password`
  std::string tls_ca_file;    // PEM CA bundle; empty with tls: the system's CA path
  std::string tls_cert_file;  // client certificate (with tls_key_file)
  std::string tls_key_file;
  std::string client_id;  // empty: "edgewatch-<device_id>-<role>"
  int keepalive_s = 30;
  // > 0: speak MQTT 5 and ask the broker (CONNECT's Maximum Packet Size) never to send a larger
  // packet, which bounds what libmosquitto buffers per message; 0: MQTT 3.1.1, no bound. The
  // ingest sets it (brokers drop larger messages for this client); the uplink does not.
  uint32_t max_packet_bytes = 0;

  bool enabled() const { return !host.empty(); }
  // "mqtt://host:port" / "mqtts://host:port": never the credentials.
  std::string Describe() const;
};

struct UplinkConfig {
  BrokerConfig broker;
  std::string prefix = "edgewatch";
  std::string device_id;  // empty: the hostname (filled in by ResolveDefaults)
  std::vector<std::string> topics = {"pipeline/#", "alerts", "system/#"};
  // The on-disk queue of QoS 1 messages (<state_dir>/mqtt-outbox.db): bounds in messages and
  // payload bytes; beyond either, new QoS 1 messages are counted as overflow and dropped.
  size_t outbox_max_messages = 10000;
  size_t outbox_max_bytes = 8u << 20;
  // QoS 1 messages handed to the broker and not yet acknowledged (PUBACK).
  int max_inflight = 32;
  // QoS 0 bytes written to libmosquitto while the socket has not drained; beyond: dropped.
  size_t qos0_backlog_bytes = 256 * 1024;
};

struct IngestConfig {
  BrokerConfig broker;
  // Broker topic filters carrying DeepStream nvmsgbroker payloads (minimal or full schema).
  // When neither this nor frigate_prefix is set: ["deepstream/#"] and "frigate".
  std::vector<std::string> deepstream_topics;
  // Frigate's topic prefix ("frigate": frigate/events and frigate/stats); empty = off.
  std::string frigate_prefix;
  // Camera/sensor ids become pipeline ids: pipeline/<id>/...; characters outside [A-Za-z0-9_-.]
  // are replaced by '_'.
};

struct MqttConfig {
  UplinkConfig uplink;
  IngestConfig ingest;
};

// Parses "mqtt://[user[:pass]@]HOST[:PORT]" or "mqtts://..." (default ports 1883 / 8883; IPv6
// literals in brackets; user and password percent-decoded) into `broker`. InvalidArgument
// naming what is wrong (never echoing the password).
Status ParseMqttUrl(std::string_view url, BrokerConfig* broker);

// Applies the "mqtt" and "mqtt_ingest" objects of a configuration file's root (absent: no
// change). InvalidArgument naming the key ("mqtt.topics must be an array of strings").
Status ParseMqttConfigJson(const cJSON* root, MqttConfig* config);

// Fills defaults that depend on the machine: device_id = hostname, client ids. Then checks the
// topic patterns and the prefix. Pure apart from gethostname().
Status ResolveMqttDefaults(MqttConfig* config);

// Reads password files into `password` (the file's first line). Blocking; at start only.
Status LoadMqttSecrets(BrokerConfig* broker);

// Characters allowed in a pipeline id taken from a broker payload; others become '_'.
std::string SanitizeId(std::string_view id);

}  // namespace edgewatch::app::mqtt
