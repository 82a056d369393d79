#include "bench/protocol.h"

#include <cstring>

#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::cli::bench {
namespace {

bool ParseDigits(std::string_view text, size_t at, uint64_t* out) {
  uint64_t v = 0;
  size_t i = at;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == at) return false;
  *out = v;
  return true;
}

size_t Find(std::string_view text, std::string_view key) {
  const void* p = memmem(text.data(), text.size(), key.data(), key.size());
  return p == nullptr ? std::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - text.data());
}

std::string Str(const cJSON* obj, const char* key) {
  auto v = GetString(obj, key);
  return v ? std::string(*v) : std::string();
}

// docs/protocol.md: first-frame (or header/query) token, one subscribe, `event` envelopes with a
// per-topic seq; the publisher writes newline-delimited JSON to the ingest socket.
class EdgewatchProtocol final : public Protocol {
 public:
  explicit EdgewatchProtocol(ProtocolOptions o) : Protocol(std::move(o)) {}
  const char* name() const override { return "edgewatch"; }

  std::string PathSuffix() const override {
    if (options_.token.empty() || options_.auth_mode != "query") return {};
    return "?token=" + options_.token;  // base64url and dots: nothing to escape
  }
  std::vector<std::string> UpgradeHeaders() const override {
    if (options_.token.empty() || options_.auth_mode != "header") return {};
    return {"Authorization: Bearer " + options_.token};
  }
  std::vector<Outgoing> SubscriberOpening() const override {
    std::vector<Outgoing> out;
    if (!options_.token.empty() && options_.auth_mode == "frame") {
      JsonWriter w;
      w.BeginObject().Key("op").String("auth").Key("id").Int(0).Key("token").String(options_.token);
      out.push_back({kOpText, w.EndObject().Take()});
    }
    JsonWriter w;
    w.BeginObject().Key("op").String("subscribe").Key("id").Int(1).Key("topics").BeginArray();
    w.String(options_.pattern).EndArray();
    if (options_.batch) w.Key("batch").Bool(true);
    w.EndObject();
    out.push_back({kOpText, w.Take()});
    return out;
  }
  bool ReadyAfterOpening() const override { return false; }

  void Classify(Opcode opcode, std::string_view payload, std::vector<Parsed>* out) const override {
    static constexpr std::string_view kEvent = "{\"type\":\"event\"";
    static constexpr std::string_view kBatch = "{\"type\":\"batch\"";
    if (opcode == kOpText && payload.substr(0, kEvent.size()) == kEvent) {
      AddEvent(payload, out);
      return;
    }
    if (opcode == kOpText && payload.substr(0, kBatch.size()) == kBatch) {
      // {"type":"batch","events":[{"type":"event",...},...]}: split at each event's start.
      std::string_view rest = payload.substr(kBatch.size());
      size_t at = Find(rest, kEvent);
      while (at != std::string_view::npos) {
        rest.remove_prefix(at);
        size_t next = Find(rest.substr(kEvent.size()), kEvent);
        size_t len = next == std::string_view::npos ? rest.size() : next + kEvent.size();
        AddEvent(rest.substr(0, len), out);
        rest.remove_prefix(len);
        at = next == std::string_view::npos ? next : 0;
      }
      return;
    }
    Parsed& p = out->emplace_back();
    if (opcode != kOpText) {
      p.verdict = Verdict::kFatal;
      p.text = "unexpected binary message";
      return;
    }
    auto parsed = ParseJson(payload, JsonLimits{size_t{1} << 24, 64});
    if (!parsed.ok()) {
      p.verdict = Verdict::kFatal;
      p.text = "server sent invalid JSON: " + parsed.status().message();
      return;
    }
    std::string type = Str(parsed->get(), "type");
    if (type == "subscribed") {
      p.verdict = Verdict::kReady;
    } else if (type == "error") {
      std::string code = Str(parsed->get(), "code");
      p.text = code + ": " + Str(parsed->get(), "message");
      // An error answering auth (id 0) or subscribe (id 1) means this subscriber is useless.
      auto id = GetInt(parsed->get(), "id");
      p.verdict = id.has_value() ? Verdict::kFatal : Verdict::kWarning;
    } else if (type == "skipped") {
      p.verdict = Verdict::kWarning;
      p.text = "skipped (coalesced) events";
    }
  }

  // One event envelope: the stamp in its data and the server's seq.
  void AddEvent(std::string_view event, std::vector<Parsed>* out) const {
    Parsed p;
    if (!ParseStamp(event, options_.run_id, &p.stamp)) return;  // another run's snapshot
    if (!FindUint(event, ",\"seq\":", &p.seq)) p.seq = 0;
    p.verdict = Verdict::kEvent;
    out->push_back(p);
  }

  bool Receives(uint32_t k) const override {
    return fw::TopicMatches(options_.pattern, TopicName(k));
  }

  PublisherTransport publisher_transport() const override {
    return PublisherTransport::kIngestLines;
  }
  void AppendPublish(std::string* out, uint32_t k, std::string_view data_json) const override {
    *out += "{\"topic\":";
    JsonWriter::AppendEscaped(*out, TopicName(k));
    *out += ",\"data\":";
    *out += data_json;
    *out += "}\n";
  }
};

// Any broadcast server: subscribers receive every text frame the publisher sends on its own
// WebSocket (the peers in bench/peers accept it at /pub). The frame is the event's data object.
class RawProtocol final : public Protocol {
 public:
  explicit RawProtocol(ProtocolOptions o) : Protocol(std::move(o)) {}
  const char* name() const override { return "raw"; }

  std::vector<Outgoing> SubscriberOpening() const override {
    if (options_.hello.empty()) return {};
    return {{kOpText, options_.hello}};
  }
  bool ReadyAfterOpening() const override { return true; }
  void Classify(Opcode opcode, std::string_view payload, std::vector<Parsed>* out) const override {
    Parsed p;
    if ((opcode == kOpText || opcode == kOpBinary) &&
        ParseStamp(payload, options_.run_id, &p.stamp)) {
      p.verdict = Verdict::kEvent;
      out->push_back(p);
    }
  }
  bool Receives(uint32_t) const override { return true; }
  PublisherTransport publisher_transport() const override { return PublisherTransport::kWebSocket; }
  void AppendPublish(std::string* out, uint32_t, std::string_view data_json) const override {
    *out += data_json;
  }
};

}  // namespace

std::string FormatStampedData(std::string_view run_id, uint32_t k, uint64_t n, int64_t sent_ns,
                              size_t size) {
  std::string s;
  s.reserve(size + 16);
  s += "{\"bench_run\":\"";
  s += run_id;
  s += "\",\"bench_k\":";
  s += std::to_string(k);
  s += ",\"bench_n\":";
  s += std::to_string(n);
  s += ",\"bench_t\":";
  s += std::to_string(sent_ns);
  static constexpr std::string_view kPadOpen = ",\"pad\":\"";
  // The shortest padded form adds kPadOpen, the closing quote and the brace.
  if (s.size() + kPadOpen.size() + 2 <= size) {
    s += kPadOpen;
    s.append(size - s.size() - 2, 'x');
    s += '"';
  }
  s += '}';
  return s;
}

bool FindUint(std::string_view text, std::string_view key, uint64_t* out) {
  size_t at = Find(text, key);
  return at != std::string_view::npos && ParseDigits(text, at + key.size(), out);
}

bool ParseStamp(std::string_view text, std::string_view run_id, Stamp* out) {
  static constexpr std::string_view kRun = "\"bench_run\":\"";
  size_t at = Find(text, kRun);
  if (at == std::string_view::npos) return false;
  std::string_view rest = text.substr(at + kRun.size());
  if (rest.size() <= run_id.size() || rest.substr(0, run_id.size()) != run_id ||
      rest[run_id.size()] != '"') {
    return false;
  }
  uint64_t k = 0, n = 0, t = 0;
  if (!FindUint(rest, "\"bench_k\":", &k) || !FindUint(rest, "\"bench_n\":", &n) ||
      !FindUint(rest, "\"bench_t\":", &t)) {
    return false;
  }
  out->topic = static_cast<uint32_t>(k);
  out->n = n;
  out->sent_ns = static_cast<int64_t>(t);
  return true;
}

Result<std::unique_ptr<Protocol>> MakeProtocol(std::string_view name, ProtocolOptions options) {
  if (name == "edgewatch") {
    if (options.auth_mode.empty()) options.auth_mode = "frame";
    if (options.auth_mode != "frame" && options.auth_mode != "header" &&
        options.auth_mode != "query") {
      return InvalidArgument("--auth must be frame, header or query");
    }
    EW_TRY(fw::ValidatePattern(options.pattern));
    return std::unique_ptr<Protocol>(new EdgewatchProtocol(std::move(options)));
  }
  if (name == "raw") return std::unique_ptr<Protocol>(new RawProtocol(std::move(options)));
  if (name == "mqtt") {
    if (options.pattern.empty() || options.pattern.size() > 65535) {
      return InvalidArgument("mqtt: the topic filter (--pattern) must be 1..65535 bytes");
    }
    return NewMqttProtocol(std::move(options));
  }
  if (name == "socketio") return NewSocketIoProtocol(std::move(options));
  return InvalidArgument("unknown --protocol '" + std::string(name) +
                         "' (edgewatch, raw, mqtt or socketio)");
}

}  // namespace edgewatch::cli::bench
