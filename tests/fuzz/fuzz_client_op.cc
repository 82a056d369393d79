// libFuzzer target for the client-op codec (edgewatch::fw::ParseClientOp) and the replies the
// session builds from what it returns.
//
// The whole input is one WebSocket text message, parsed under the default limits and under tight
// ones (64 bytes, depth 4, 2 topics). Beyond "no crash, no sanitizer report", it traps when an
// invariant breaks: an error has a known code; a parsed op respects the limits, its kind matches
// its "op" string and it keeps the parsed document; every reply built from the op (error,
// subscribed, unsubscribed, pong) is valid JSON that parses back to the same id and topics.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/protocol.h"

namespace {

namespace fw = edgewatch::fw;
using edgewatch::JsonPtr;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Parses a reply we built; it must be valid JSON with the expected "id".
JsonPtr CheckReply(const std::string& reply, std::optional<int64_t> id) {
  auto parsed = edgewatch::ParseJson(reply, edgewatch::JsonLimits{1 << 24, 64});
  Check(parsed.ok());
  const cJSON* jid = cJSON_GetObjectItemCaseSensitive(parsed->get(), "id");
  if (id) {
    Check(edgewatch::GetInt(parsed->get(), "id") == id);
  } else {
    Check(cJSON_IsNull(jid));
  }
  return std::move(parsed).value();
}

void CheckTopicsEcho(const cJSON* reply, const std::vector<std::string>& topics) {
  const cJSON* arr = cJSON_GetObjectItemCaseSensitive(reply, "topics");
  Check(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == static_cast<int>(topics.size()));
  size_t i = 0;
  const cJSON* t = nullptr;
  cJSON_ArrayForEach(t, arr) {
    Check(cJSON_IsString(t) && topics[i++] == t->valuestring);
  }
}

void CheckOne(std::string_view text, const fw::OpLimits& limits) {
  auto result = fw::ParseClientOp(text, limits);
  if (auto* err = std::get_if<fw::OpError>(&result)) {
    Check(err->code == "bad_json" || err->code == "bad_request");
    Check(!err->message.empty());
    CheckReply(fw::ErrorMessage(err->id, err->code, err->message), err->id);
    return;
  }
  fw::ClientOp& op = std::get<fw::ClientOp>(result);
  Check(text.size() <= limits.max_bytes);
  Check(op.root != nullptr && cJSON_IsObject(op.root.get()));
  Check(edgewatch::GetString(op.root.get(), "op") == std::string_view(op.op));
  switch (op.kind) {
    case fw::OpKind::kSubscribe:
    case fw::OpKind::kUnsubscribe: {
      Check(op.op == (op.kind == fw::OpKind::kSubscribe ? "subscribe" : "unsubscribe"));
      Check(!op.topics.empty() && op.topics.size() <= limits.max_topics_per_op);
      JsonPtr reply =
          CheckReply(op.kind == fw::OpKind::kSubscribe ? fw::SubscribedMessage(op.id, op.topics)
                                                       : fw::UnsubscribedMessage(op.id, op.topics),
                     op.id);
      CheckTopicsEcho(reply.get(), op.topics);
      break;
    }
    case fw::OpKind::kPing:
      Check(op.op == "ping");
      CheckReply(fw::PongMessage(op.id), op.id);
      break;
    case fw::OpKind::kAuth:
      Check(op.op == "auth");
      break;
    case fw::OpKind::kOther:
      Check(op.op != "subscribe" && op.op != "unsubscribe" && op.op != "ping" && op.op != "auth");
      CheckReply(fw::ErrorMessage(op.id, "unknown_op", "unknown op " + op.op), op.id);
      break;
  }
  if (op.kind != fw::OpKind::kSubscribe) Check(op.since.empty() && op.epoch.empty() && !op.batch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckOne(text, fw::OpLimits{});
  fw::OpLimits tight;
  tight.max_bytes = 64;
  tight.max_depth = 4;
  tight.max_topics_per_op = 2;
  CheckOne(text, tight);
  return 0;
}
