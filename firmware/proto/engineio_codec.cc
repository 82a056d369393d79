#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/engineio.h"

namespace edgewatch::fw {

Result<EioPacket> ParseEioPacket(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty Engine.IO packet");
  char t = text.front();
  if (t == 'b') return InvalidArgument("binary Engine.IO packets are not supported");
  if (t < '0' || t > '6') return InvalidArgument("unknown Engine.IO packet type");
  EioPacket p;
  p.type = static_cast<EioType>(t);
  p.data = text.substr(1);
  return p;
}

Result<std::vector<EioPacket>> ParseEioPayload(std::string_view body, size_t max_packets) {
  if (body.empty()) return InvalidArgument("empty Engine.IO payload");
  std::vector<EioPacket> out;
  while (true) {
    size_t sep = body.find(kEioSeparator);
    if (out.size() >= max_packets) return InvalidArgument("too many packets in one payload");
    EW_ASSIGN_OR_RETURN(EioPacket p, ParseEioPacket(body.substr(0, sep)));
    out.push_back(p);
    if (sep == std::string_view::npos) break;
    body.remove_prefix(sep + 1);
  }
  return out;
}

std::string EioOpenPacket(std::string_view sid, bool offer_websocket_upgrade,
                          int64_t ping_interval_ms, int64_t ping_timeout_ms, size_t max_payload) {
  JsonWriter w;
  w.BeginObject().Key("sid").String(sid).Key("upgrades").BeginArray();
  if (offer_websocket_upgrade) w.String("websocket");
  w.EndArray();
  w.Key("pingInterval").Int(ping_interval_ms).Key("pingTimeout").Int(ping_timeout_ms);
  w.Key("maxPayload").Uint(max_payload).EndObject();
  return "0" + w.Take();
}

}  // namespace edgewatch::fw
