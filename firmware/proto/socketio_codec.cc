#include <cctype>

#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/socketio.h"

namespace edgewatch::fw {
namespace {
constexpr size_t kMaxNamespaceBytes = 128;
constexpr size_t kMaxAckIdDigits = 15;  // below 2^53: exact in JavaScript numbers
}  // namespace

Result<SioPacket> ParseSioPacket(std::string_view text, const JsonLimits& limits) {
  if (text.empty()) return InvalidArgument("empty Socket.IO packet");
  char t = text.front();
  if (t < '0' || t > '6') return InvalidArgument("unknown Socket.IO packet type");
  SioPacket p;
  p.type = static_cast<SioType>(t - '0');
  if (p.type == SioType::kBinaryEvent || p.type == SioType::kBinaryAck) {
    return InvalidArgument("binary Socket.IO packets are not supported");
  }
  if (p.type == SioType::kConnectError) {
    return InvalidArgument("CONNECT_ERROR is sent by servers only");
  }
  size_t i = 1;
  if (i < text.size() && text[i] == '/') {
    size_t comma = text.find(',', i);
    size_t end = comma == std::string_view::npos ? text.size() : comma;
    if (end - i > kMaxNamespaceBytes) return InvalidArgument("namespace too long");
    p.nsp = std::string(text.substr(i, end - i));
    i = comma == std::string_view::npos ? text.size() : comma + 1;
  }
  size_t digits = 0;
  uint64_t id = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (++digits > kMaxAckIdDigits) return InvalidArgument("ack id too long");
    id = id * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (digits > 0) {
    if (p.type != SioType::kEvent && p.type != SioType::kAck) {
      return InvalidArgument("only EVENT and ACK packets carry an ack id");
    }
    p.ack_id = id;
  } else if (p.type == SioType::kAck) {
    return InvalidArgument("ACK without an id");
  }
  std::string_view rest = text.substr(i);
  if (!rest.empty()) {
    auto parsed = ParseJson(rest, limits);
    if (!parsed.ok()) return InvalidArgument("invalid JSON data: " + parsed.status().message());
    p.data = std::move(parsed).value();
  }
  const cJSON* d = p.data.get();
  switch (p.type) {
    case SioType::kConnect:
      if (d != nullptr && !cJSON_IsObject(d)) {
        return InvalidArgument("CONNECT data must be an object");
      }
      break;
    case SioType::kDisconnect:
      if (d != nullptr) return InvalidArgument("DISCONNECT carries no data");
      break;
    case SioType::kEvent: {
      const cJSON* name = d != nullptr ? cJSON_GetArrayItem(d, 0) : nullptr;
      if (d == nullptr || !cJSON_IsArray(d) || !cJSON_IsString(name)) {
        return InvalidArgument("EVENT data must be an array starting with the event name");
      }
      p.event = name->valuestring;
      break;
    }
    case SioType::kAck:
      if (d == nullptr || !cJSON_IsArray(d)) return InvalidArgument("ACK data must be an array");
      break;
    default:
      break;
  }
  return p;
}

std::string SioConnectPacket(std::string_view sid) {
  JsonWriter w;
  w.BeginObject().Key("sid").String(sid).EndObject();
  return "40" + w.Take();
}

std::string SioConnectErrorPacket(std::string_view nsp, std::string_view message) {
  std::string out = "44";
  if (nsp != "/") {
    out.append(nsp);
    out.push_back(',');
  }
  JsonWriter w;
  w.BeginObject().Key("message").String(message).EndObject();
  return out + w.Take();
}

std::string SioEventPacket(std::string_view event, std::string_view arg_json) {
  std::string out = "42[";
  JsonWriter::AppendEscaped(out, event);
  out.push_back(',');
  out.append(arg_json);
  out.push_back(']');
  return out;
}

std::string SioAckPacket(uint64_t ack_id, std::string_view arg_json) {
  std::string out = "43" + std::to_string(ack_id) + "[";
  out.append(arg_json);
  out.push_back(']');
  return out;
}

std::string SioDisconnectPacket() {
  return "41";
}

}  // namespace edgewatch::fw
