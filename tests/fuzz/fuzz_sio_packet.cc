// libFuzzer target for the Socket.IO endpoint's packet parsers: edgewatch::fw::ParseEioPayload
// (an HTTP long-polling POST body) and ParseEioPacket + ParseSioPacket (each packet, as a
// WebSocket message would carry it).
//
// The whole input is one payload. Beyond "no crash, no sanitizer report", it traps when an
// invariant breaks: a parsed payload's packets are views into the input whose text, rejoined with
// the separator, is the input; a parsed Socket.IO packet has a namespace starting with '/', data
// of the documented shape for its type (CONNECT: object or none; EVENT: array starting with the
// event name; ACK: array, with an id; DISCONNECT: none), never a binary or CONNECT_ERROR type;
// every packet the server builds from what was parsed parses back to the same name and id.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/engineio.h"
#include "edgewatch/fw/socketio.h"

namespace {

namespace fw = edgewatch::fw;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckSio(std::string_view text) {
  auto parsed = fw::ParseSioPacket(text, edgewatch::JsonLimits{4096, 32});
  if (!parsed.ok()) {
    Check(!parsed.status().message().empty());
    Check(edgewatch::IsValidUtf8(parsed.status().message()));
    return;
  }
  const fw::SioPacket& p = *parsed;
  Check(!p.nsp.empty() && p.nsp.front() == '/');
  Check(p.type != fw::SioType::kBinaryEvent && p.type != fw::SioType::kBinaryAck &&
        p.type != fw::SioType::kConnectError);
  const cJSON* d = p.data.get();
  switch (p.type) {
    case fw::SioType::kConnect:
      Check(d == nullptr || cJSON_IsObject(d));
      Check(!p.ack_id.has_value());
      break;
    case fw::SioType::kDisconnect:
      Check(d == nullptr && !p.ack_id.has_value());
      break;
    case fw::SioType::kEvent: {
      Check(cJSON_IsArray(d) && cJSON_IsString(cJSON_GetArrayItem(d, 0)));
      Check(p.event == cJSON_GetArrayItem(d, 0)->valuestring);
      // The server's own packets round-trip.
      std::string event = fw::SioEventPacket(p.event, "{}");
      auto back = fw::ParseSioPacket(std::string_view(event).substr(1));
      Check(back.ok() && back->event == p.event);
      if (p.ack_id) {
        std::string ack = fw::SioAckPacket(*p.ack_id, "{}");
        auto ack_back = fw::ParseSioPacket(std::string_view(ack).substr(1));
        Check(ack_back.ok() && ack_back->ack_id == p.ack_id);
      }
      break;
    }
    case fw::SioType::kAck:
      Check(cJSON_IsArray(d) && p.ack_id.has_value());
      break;
    default:
      Check(false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto packets = fw::ParseEioPayload(body, 64);
  if (packets.ok()) {
    Check(!packets->empty() && packets->size() <= 64);
    std::string joined;
    for (const fw::EioPacket& p : *packets) {
      Check(p.data.data() >= body.data() && p.data.data() + p.data.size() <= body.data() + size);
      if (!joined.empty() || &p != &packets->front()) joined.push_back(fw::kEioSeparator);
      joined.push_back(static_cast<char>(p.type));
      joined.append(p.data);
      if (p.type == fw::EioType::kMessage) CheckSio(p.data);
    }
    Check(joined == body);
  }
  // Each packet as a WebSocket message.
  auto one = fw::ParseEioPacket(body);
  if (one.ok() && one->type == fw::EioType::kMessage) CheckSio(one->data);
  if (!one.ok()) Check(!one.status().message().empty());
  return 0;
}
