#include "edgewatch/fw/protocol.h"

#include <cmath>

#include "edgewatch/base/json_writer.h"

namespace edgewatch::fw {
namespace {

OpError Err(std::string code, std::string message, std::optional<int64_t> id) {
  return OpError{std::move(code), std::move(message), id};
}

void WriteId(JsonWriter& w, std::optional<int64_t> id) {
  w.Key("id");
  if (id) {
    w.Int(*id);
  } else {
    w.Null();
  }
}

}  // namespace

std::variant<ClientOp, OpError> ParseClientOp(std::string_view text, const OpLimits& limits) {
  JsonLimits jl;
  jl.max_bytes = limits.max_bytes;
  jl.max_depth = limits.max_depth;
  auto parsed = ParseJson(text, jl);
  if (!parsed.ok()) return Err("bad_json", parsed.status().message(), std::nullopt);
  JsonPtr root = std::move(parsed).value();
  if (!cJSON_IsObject(root.get())) {
    return Err("bad_request", "message must be a JSON object", std::nullopt);
  }
  ClientOp op;
  const cJSON* id = cJSON_GetObjectItemCaseSensitive(root.get(), "id");
  if (id != nullptr && !cJSON_IsNull(id)) {
    auto value = GetInt(root.get(), "id");
    if (!value) return Err("bad_request", "id must be an integer", std::nullopt);
    op.id = *value;
  }
  auto name = GetString(root.get(), "op");
  if (!name) return Err("bad_request", "missing string member \"op\"", op.id);
  op.op = std::string(*name);

  if (op.op == "subscribe" || op.op == "unsubscribe") {
    op.kind = op.op == "subscribe" ? OpKind::kSubscribe : OpKind::kUnsubscribe;
    const cJSON* topics = cJSON_GetObjectItemCaseSensitive(root.get(), "topics");
    if (!cJSON_IsArray(topics)) return Err("bad_request", "\"topics\" must be an array", op.id);
    int n = cJSON_GetArraySize(topics);
    if (n == 0) return Err("bad_request", "\"topics\" is empty", op.id);
    if (static_cast<size_t>(n) > limits.max_topics_per_op) {
      return Err("bad_request", "too many topics in one op", op.id);
    }
    const cJSON* t = nullptr;
    cJSON_ArrayForEach(t, topics) {
      if (!cJSON_IsString(t)) return Err("bad_request", "topics must be strings", op.id);
      op.topics.emplace_back(t->valuestring);
    }
    if (op.kind == OpKind::kSubscribe) {
      const cJSON* batch = cJSON_GetObjectItemCaseSensitive(root.get(), "batch");
      if (batch != nullptr) {
        if (!cJSON_IsBool(batch)) return Err("bad_request", "\"batch\" must be a boolean", op.id);
        op.batch = cJSON_IsTrue(batch) != 0;
      }
      const cJSON* epoch = cJSON_GetObjectItemCaseSensitive(root.get(), "epoch");
      if (epoch != nullptr) {
        if (!cJSON_IsString(epoch)) return Err("bad_request", "\"epoch\" must be a string", op.id);
        op.epoch = epoch->valuestring;
      }
      const cJSON* since = cJSON_GetObjectItemCaseSensitive(root.get(), "since");
      if (since != nullptr) {
        if (!cJSON_IsObject(since)) return Err("bad_request", "\"since\" must be an object", op.id);
        const cJSON* s = nullptr;
        cJSON_ArrayForEach(s, since) {
          // At most 2^53 (exact in a double): a larger value, or infinity, would make the
          // conversion to uint64_t below undefined behaviour (found by fuzz_client_op).
          if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 9007199254740992.0 ||
              std::floor(s->valuedouble) != s->valuedouble) {
            return Err("bad_request", "\"since\" values must be non-negative integers", op.id);
          }
          if (op.since.size() >= 1024) return Err("bad_request", "\"since\" too large", op.id);
          op.since[s->string] = static_cast<uint64_t>(s->valuedouble);
        }
      }
    }
  } else if (op.op == "ping") {
    op.kind = OpKind::kPing;
  } else if (op.op == "auth") {
    op.kind = OpKind::kAuth;
    const cJSON* token = cJSON_GetObjectItemCaseSensitive(root.get(), "token");
    if (token != nullptr && !cJSON_IsNull(token)) {
      if (!cJSON_IsString(token)) return Err("bad_request", "\"token\" must be a string", op.id);
      op.token = token->valuestring;
    }
  } else {
    op.kind = OpKind::kOther;
  }
  op.root = std::move(root);
  return op;
}

std::string WelcomeMessage(std::string_view server, std::string_view session,
                           std::string_view epoch, int heartbeat_s) {
  JsonWriter w;
  w.BeginObject()
      .Key("type")
      .String("welcome")
      .Key("version")
      .Int(kProtocolVersion)
      .Key("server")
      .String(server)
      .Key("session")
      .String(session)
      .Key("epoch")
      .String(epoch)
      .Key("heartbeat_s")
      .Int(heartbeat_s)
      .EndObject();
  return w.Take();
}

std::string HeartbeatMessage(int64_t ts_ms) {
  JsonWriter w;
  w.BeginObject().Key("type").String("heartbeat").Key("ts").Int(ts_ms).EndObject();
  return w.Take();
}

std::string PongMessage(std::optional<int64_t> id) {
  JsonWriter w;
  w.BeginObject().Key("type").String("pong");
  WriteId(w, id);
  w.EndObject();
  return w.Take();
}

namespace {
std::string TopicsReply(const char* type, std::optional<int64_t> id,
                        const std::vector<std::string>& topics,
                        std::optional<bool> recovered = std::nullopt) {
  JsonWriter w;
  w.BeginObject().Key("type").String(type);
  WriteId(w, id);
  w.Key("topics").BeginArray();
  for (const auto& t : topics) w.String(t);
  w.EndArray();
  if (recovered) w.Key("recovered").Bool(*recovered);
  w.EndObject();
  return w.Take();
}
}  // namespace

std::string SubscribedMessage(std::optional<int64_t> id, const std::vector<std::string>& topics,
                              std::optional<bool> recovered) {
  return TopicsReply("subscribed", id, topics, recovered);
}

std::string UnsubscribedMessage(std::optional<int64_t> id, const std::vector<std::string>& topics) {
  return TopicsReply("unsubscribed", id, topics);
}

std::string ErrorMessage(std::optional<int64_t> id, std::string_view code,
                         std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("type").String("error");
  WriteId(w, id);
  w.Key("code").String(code).Key("message").String(message).EndObject();
  return w.Take();
}

}  // namespace edgewatch::fw
