#include "edgewatch/app/mqtt/mqtt_config.h"

#include <unistd.h>

#include <charconv>
#include <fstream>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::mqtt {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return InvalidArgument("MQTT URL: bad percent escape in the " + std::string(what));
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("MQTT URL: bad percent escape in the " + std::string(what));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Status StringList(const cJSON* obj, const char* key, const char* name,
                  std::vector<std::string>* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == nullptr) return OkStatus();
  if (!cJSON_IsArray(item)) {
    return InvalidArgument(std::string(name) + "." + key + " must be an array of strings");
  }
  std::vector<std::string> v;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, item) {
    if (!cJSON_IsString(e)) {
      return InvalidArgument(std::string(name) + "." + key + " must be an array of strings");
    }
    v.emplace_back(e->valuestring);
  }
  *out = std::move(v);
  return OkStatus();
}

Status StringKey(const cJSON* obj, const char* key, const char* name, std::string* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == nullptr) return OkStatus();
  if (!cJSON_IsString(item)) {
    return InvalidArgument(std::string(name) + "." + key + " must be a string");
  }
  *out = item->valuestring;
  return OkStatus();
}

template <typename T>
Status IntKey(const cJSON* obj, const char* key, const char* name, int64_t min, int64_t max,
              T* out) {
  if (cJSON_GetObjectItemCaseSensitive(obj, key) == nullptr) return OkStatus();
  auto v = GetInt(obj, key);
  if (!v || *v < min || *v > max) {
    return InvalidArgument(std::string(name) + "." + key + " must be an integer in [" +
                           std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = static_cast<T>(*v);
  return OkStatus();
}

// The broker keys shared by "mqtt" and "mqtt_ingest".
Status ParseBroker(const cJSON* obj, const char* name, BrokerConfig* b) {
  if (auto url = GetString(obj, "url")) {
    Status s = ParseMqttUrl(*url, b);
    if (!s.ok()) return InvalidArgument(std::string(name) + ".url: " + s.message());
  } else if (cJSON_GetObjectItemCaseSensitive(obj, "url") != nullptr) {
    return InvalidArgument(std::string(name) + ".url must be a string");
  }
  EW_TRY(StringKey(obj, "username", name, &b->username));
  EW_TRY(StringKey(obj, "password_file", name, &b->password_file));
  EW_TRY(StringKey(obj, "client_id", name, &b->client_id));
  EW_TRY(IntKey(obj, "keepalive_s", name, 5, 3600, &b->keepalive_s));
  if (const cJSON* tls = cJSON_GetObjectItemCaseSensitive(obj, "tls")) {
    if (!cJSON_IsObject(tls)) return InvalidArgument(std::string(name) + ".tls must be an object");
    std::string tname = std::string(name) + ".tls";
    EW_TRY(StringKey(tls, "ca", tname.c_str(), &b->tls_ca_file));
    EW_TRY(StringKey(tls, "cert", tname.c_str(), &b->tls_cert_file));
    EW_TRY(StringKey(tls, "key", tname.c_str(), &b->tls_key_file));
    b->tls = true;
  }
  if (b->tls_cert_file.empty() != b->tls_key_file.empty()) {
    return InvalidArgument(std::string(name) + ".tls.cert and .tls.key go together");
  }
  return OkStatus();
}

Status CheckPatterns(const std::vector<std::string>& patterns, const char* what) {
  for (const std::string& p : patterns) {
    Status s = fw::ValidatePattern(p);
    if (!s.ok()) return InvalidArgument(std::string(what) + ": '" + p + "': " + s.message());
  }
  return OkStatus();
}

// An MQTT topic filter: non-empty, '#' only as the whole last level, '+' only as a whole level.
Status CheckMqttFilter(std::string_view f) {
  if (f.empty()) return InvalidArgument("empty topic filter");
  size_t start = 0;
  while (true) {
    size_t slash = f.find('/', start);
    std::string_view level =
        f.substr(start, slash == std::string_view::npos ? f.npos : slash - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) {
      return InvalidArgument("'" + std::string(f) + "': wildcards must be whole levels");
    }
    if (level == "#" && slash != std::string_view::npos) {
      return InvalidArgument("'" + std::string(f) + "': '#' must be the last level");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return OkStatus();
}

}  // namespace

std::string BrokerConfig::Describe() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "mqtts://" : "mqtt://") + h + ":" + std::to_string(port);
}

Status ParseMqttUrl(std::string_view url, BrokerConfig* b) {
  std::string_view rest;
  bool tls = false;
  if (url.substr(0, 7) == "mqtt://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "mqtts://") {
    rest = url.substr(8);
    tls = true;
  } else {
    return InvalidArgument("MQTT URL must start with mqtt:// or mqtts://");
  }
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != rest.size()) return InvalidArgument("MQTT URL must not have a path");
    rest = rest.substr(0, slash);
  }
  std::string user, pass;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    EW_ASSIGN_OR_RETURN(user, PercentDecode(cred.substr(0, colon), "user name"));
    if (colon != std::string_view::npos) {
      EW_ASSIGN_OR_RETURN(pass, PercentDecode(cred.substr(colon + 1), "password"));
    }
    if (user.empty()) return InvalidArgument("MQTT URL: empty user name before '@'");
  }
  std::string host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("MQTT URL: unclosed '['");
    host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("MQTT URL: expected ':' after ']'");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    if (colon != std::string_view::npos && port_text.empty()) {
      return InvalidArgument("MQTT URL: empty port");
    }
  }
  if (host.empty()) return InvalidArgument("MQTT URL has no host");
  int port = tls ? 8883 : 1883;
  if (!port_text.empty()) {
    auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return InvalidArgument("MQTT URL: port must be in [1, 65535], got '" +
                             std::string(port_text) + "'");
    }
  }
  b->host = std::move(host);
  b->port = port;
  b->tls = b->tls || tls;
  if (!user.empty()) {
    b->username = std::move(user);
    b->password = std::move(pass);
  }
  return OkStatus();
}

Status ParseMqttConfigJson(const cJSON* root, MqttConfig* c) {
  if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(root, "mqtt")) {
    if (!cJSON_IsObject(m)) return InvalidArgument("\"mqtt\" must be an object");
    UplinkConfig& u = c->uplink;
    EW_TRY(ParseBroker(m, "mqtt", &u.broker));
    EW_TRY(StringKey(m, "prefix", "mqtt", &u.prefix));
    EW_TRY(StringKey(m, "device_id", "mqtt", &u.device_id));
    EW_TRY(StringList(m, "topics", "mqtt", &u.topics));
    EW_TRY(IntKey(m, "outbox_max_messages", "mqtt", 1, 10000000, &u.outbox_max_messages));
    int64_t kb = static_cast<int64_t>(u.outbox_max_bytes / 1024);
    EW_TRY(IntKey(m, "outbox_max_kb", "mqtt", 1, 16 << 20, &kb));
    u.outbox_max_bytes = static_cast<size_t>(kb) * 1024;
    EW_TRY(IntKey(m, "max_inflight", "mqtt", 1, 1000, &u.max_inflight));
  }
  if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(root, "mqtt_ingest")) {
    if (!cJSON_IsObject(m)) return InvalidArgument("\"mqtt_ingest\" must be an object");
    IngestConfig& in = c->ingest;
    EW_TRY(ParseBroker(m, "mqtt_ingest", &in.broker));
    EW_TRY(StringList(m, "deepstream_topics", "mqtt_ingest", &in.deepstream_topics));
    EW_TRY(StringKey(m, "frigate_prefix", "mqtt_ingest", &in.frigate_prefix));
  }
  return OkStatus();
}

Status ResolveMqttDefaults(MqttConfig* c) {
  UplinkConfig& u = c->uplink;
  if (u.device_id.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
      u.device_id = "edgewatch";
    } else {
      u.device_id = host;
    }
  }
  if (u.device_id.find_first_of("+#/") != std::string::npos) {
    return InvalidArgument("mqtt.device_id must not contain '/', '+' or '#'");
  }
  if (u.prefix.empty() || u.prefix.find_first_of("+#") != std::string::npos ||
      u.prefix.front() == '/' || u.prefix.back() == '/') {
    return InvalidArgument("mqtt.prefix must be non-empty, without wildcards or edge '/'");
  }
  if (u.broker.enabled()) EW_TRY(CheckPatterns(u.topics, "mqtt.topics"));
  if (u.broker.client_id.empty()) u.broker.client_id = "edgewatch-" + u.device_id + "-uplink";
  IngestConfig& in = c->ingest;
  if (in.broker.enabled()) {
    for (const std::string& f : in.deepstream_topics) {
      Status s = CheckMqttFilter(f);
      if (!s.ok()) return InvalidArgument("mqtt_ingest.deepstream_topics: " + s.message());
    }
    if (in.frigate_prefix.find_first_of("+#") != std::string::npos) {
      return InvalidArgument("mqtt_ingest.frigate_prefix must not contain wildcards");
    }
    if (in.deepstream_topics.empty() && in.frigate_prefix.empty()) {
      in.deepstream_topics = {"deepstream/#"};  // nvmsgbroker's usual topic
      in.frigate_prefix = "frigate";            // Frigate's default topic_prefix
    }
    if (in.broker.client_id.empty()) in.broker.client_id = "edgewatch-" + u.device_id + "-ingest";
    // Payloads are parsed with a 64 KiB limit: never receive much more than that.
    in.broker.max_packet_bytes = 64 * 1024 + 1024;
  }
  return OkStatus();
}

Status LoadMqttSecrets(BrokerConfig* b) {
  if (b->password_file.empty()) return OkStatus();
  std::ifstream in(b->password_file);
  if (!in) return NotFound("cannot read the MQTT password file " + b->password_file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  b->password = std::move(line);
  return OkStatus();
}

std::string SanitizeId(std::string_view id) {
  std::string out(id.substr(0, 64));
  for (char& ch : out) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.';
    if (!ok) ch = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

}  // namespace edgewatch::app::mqtt
