#include "bench/socketio_codec.h"

namespace edgewatch::cli::bench::socketio {
namespace {

// The event name: the first element of the JSON array `data`, when a plain string.
std::string_view EventName(std::string_view data) {
  if (data.size() < 3 || data[0] != '[' || data[1] != '"') return {};
  size_t end = data.find('"', 2);
  if (end == std::string_view::npos) return {};
  std::string_view name = data.substr(2, end - 2);
  if (name.find('\\') != std::string_view::npos) return {};
  return name;
}

}  // namespace

Packet Parse(std::string_view text) {
  Packet p;
  if (text.empty()) return p;
  switch (text[0]) {
    case '0':
      p.kind = Kind::kOpen;
      p.data = text.substr(1);
      return p;
    case '1':
      p.kind = Kind::kClose;
      return p;
    case '2':
      p.kind = Kind::kPing;
      p.data = text.substr(1);
      return p;
    case '3':
      p.kind = Kind::kPong;
      return p;
    case '5':
    case '6':
      p.kind = Kind::kNoop;
      return p;
    case '4':
      break;
    default:
      return p;
  }
  if (text.size() < 2) return p;  // "4" alone: an empty message is not a Socket.IO packet
  std::string_view rest = text.substr(2);
  if (!rest.empty() && rest[0] == '/') {  // "/namespace," precedes the JSON
    size_t comma = rest.find(',');
    p.name_space = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  // An ack id (digits) may precede an event's array.
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  p.data = rest.substr(digits);
  switch (text[1]) {
    case '0':
      p.kind = Kind::kConnected;
      return p;
    case '1':
      p.kind = Kind::kDisconnect;
      return p;
    case '2':
      p.kind = Kind::kEvent;
      p.name = EventName(p.data);
      if (p.name.empty()) p.kind = Kind::kInvalid;
      return p;
    case '4':
      p.kind = Kind::kConnectError;
      return p;
    default:
      p.kind = Kind::kOther;
      return p;
  }
}

void AppendEvent(std::string* out, std::string_view name, std::string_view json_arg) {
  *out += "42[\"";
  *out += name;
  *out += "\",";
  *out += json_arg;
  *out += ']';
}

std::string Event(std::string_view name, std::string_view json_arg) {
  std::string out;
  AppendEvent(&out, name, json_arg);
  return out;
}

}  // namespace edgewatch::cli::bench::socketio
