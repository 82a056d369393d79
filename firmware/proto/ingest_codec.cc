#include "edgewatch/fw/ingest_codec.h"

#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::fw {

void LineSplitter::Feed(std::string_view data,
                        const std::function<void(std::string_view, uint64_t)>& on_line,
                        const std::function<void(uint64_t)>& on_too_long) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    std::string_view chunk = data.substr(0, nl);
    if (discarding_) {
      if (nl == std::string_view::npos) return;  // still inside the oversized line
      discarding_ = false;
      data.remove_prefix(nl + 1);
      continue;
    }
    if (buf_.size() + chunk.size() > max_line_) {
      ++line_no_;
      buf_.clear();
      buf_.shrink_to_fit();
      on_too_long(line_no_);
      if (nl == std::string_view::npos) {
        discarding_ = true;
        return;
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      buf_.append(chunk);
      return;
    }
    ++line_no_;
    std::string_view line;
    if (buf_.empty()) {
      line = chunk;
    } else {
      buf_.append(chunk);
      line = buf_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line, line_no_);
    buf_.clear();
    data.remove_prefix(nl + 1);
  }
}

namespace {

// Parses `line` as bounded JSON into `root`; the error to answer otherwise.
std::optional<IngestError> ParseRoot(std::string_view line, size_t max_bytes, JsonPtr* root) {
  JsonLimits limits;
  limits.max_bytes = max_bytes;
  limits.max_depth = 32;
  auto parsed = ParseJson(line, limits);
  if (!parsed.ok()) {
    const Status status = parsed.status();
    const std::string& m = status.message();
    std::string code = "bad_json";
    if (m == "invalid UTF-8") code = "invalid_utf8";
    if (m == "JSON nested too deeply") code = "too_deep";
    if (m == "message too large") code = "line_too_long";
    return IngestError{code, m};
  }
  *root = std::move(parsed).value();
  if (!cJSON_IsObject(root->get())) return IngestError{"bad_line", "line must be a JSON object"};
  return std::nullopt;
}

std::variant<IngestMessage, IngestError> MessageFromRoot(JsonPtr root) {
  IngestMessage msg;
  msg.root = std::move(root);
  auto topic = GetString(msg.root.get(), "topic");
  if (!topic) return IngestError{"bad_line", "missing string member \"topic\""};
  Status valid = ValidateTopicName(*topic);
  if (!valid.ok()) return IngestError{"invalid_topic", valid.message()};
  msg.topic = std::string(*topic);
  msg.data = cJSON_GetObjectItemCaseSensitive(msg.root.get(), "data");
  if (!cJSON_IsObject(msg.data)) return IngestError{"bad_line", "\"data\" must be a JSON object"};
  const cJSON* ts = cJSON_GetObjectItemCaseSensitive(msg.root.get(), "ts");
  if (ts != nullptr) {
    auto v = GetInt(msg.root.get(), "ts");
    if (!v || *v < 0) {
      return IngestError{"bad_line", "\"ts\" must be a non-negative integer (unix ms)"};
    }
    msg.ts_ms = *v;
  }
  return msg;
}

bool IsCommandName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCommandNameBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Appends the strings of the array `name` of `obj` to `out`, each checked by `valid`.
std::optional<IngestError> StringArray(const cJSON* obj, const char* name, size_t max_items,
                                       const std::function<Status(std::string_view)>& valid,
                                       std::vector<std::string>* out) {
  const cJSON* arr = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!cJSON_IsArray(arr)) {
    return IngestError{"bad_register", std::string("\"") + name + "\" must be an array"};
  }
  if (static_cast<size_t>(cJSON_GetArraySize(arr)) > max_items) {
    return IngestError{"bad_register",
                       std::string("more than ") + std::to_string(max_items) + " \"" + name + "\""};
  }
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, arr) {
    if (!cJSON_IsString(item)) {
      return IngestError{"bad_register", std::string("\"") + name + "\" must hold strings"};
    }
    Status s = valid(item->valuestring);
    if (!s.ok()) return IngestError{"bad_register", s.message()};
    out->emplace_back(item->valuestring);
  }
  return std::nullopt;
}

ProducerLine RegisterFromRoot(const cJSON* reg) {
  if (!cJSON_IsObject(reg)) return IngestError{"bad_register", "\"register\" must be an object"};
  IngestRegister r;
  auto target_ok = [](std::string_view t) { return ValidateTopicName(t); };
  auto command_ok = [](std::string_view c) {
    return IsCommandName(c) ? OkStatus()
                            : InvalidArgument("command names are 1-64 of [A-Za-z0-9_.-]");
  };
  if (auto e = StringArray(reg, "targets", kMaxRegisterItems, target_ok, &r.targets)) return *e;
  if (auto e = StringArray(reg, "commands", kMaxRegisterItems, command_ok, &r.commands)) {
    return *e;
  }
  if (r.targets.empty()) return IngestError{"bad_register", "\"targets\" is empty"};
  return r;
}

ProducerLine ResultFromRoot(const cJSON* res) {
  if (!cJSON_IsObject(res)) return IngestError{"bad_result", "\"result\" must be an object"};
  IngestResult r;
  auto id = GetString(res, "id");
  if (!id || id->empty() || id->size() > 64) {
    return IngestError{"bad_result", "\"id\" must be the command's id"};
  }
  r.id = std::string(*id);
  const cJSON* ok = cJSON_GetObjectItemCaseSensitive(res, "ok");
  if (!cJSON_IsBool(ok)) return IngestError{"bad_result", "\"ok\" must be true or false"};
  r.ok = cJSON_IsTrue(ok);
  const cJSON* message = cJSON_GetObjectItemCaseSensitive(res, "message");
  if (message != nullptr) {
    if (!cJSON_IsString(message)) {
      return IngestError{"bad_result", "\"message\" must be a string"};
    }
    r.message = message->valuestring;
    if (r.message.size() > kMaxResultMessageBytes) {
      return IngestError{"bad_result", "\"message\" is longer than " +
                                           std::to_string(kMaxResultMessageBytes) + " bytes"};
    }
  }
  return r;
}

}  // namespace

std::variant<IngestMessage, IngestError> ParseIngestLine(std::string_view line, size_t max_bytes) {
  JsonPtr root;
  if (auto e = ParseRoot(line, max_bytes, &root)) return *e;
  return MessageFromRoot(std::move(root));
}

ProducerLine ParseProducerLine(std::string_view line, size_t max_bytes) {
  JsonPtr root;
  if (auto e = ParseRoot(line, max_bytes, &root)) return *e;
  if (const cJSON* reg = cJSON_GetObjectItemCaseSensitive(root.get(), "register")) {
    return RegisterFromRoot(reg);
  }
  if (const cJSON* res = cJSON_GetObjectItemCaseSensitive(root.get(), "result")) {
    return ResultFromRoot(res);
  }
  auto msg = MessageFromRoot(std::move(root));
  if (auto* e = std::get_if<IngestError>(&msg)) return std::move(*e);
  return std::move(std::get<IngestMessage>(msg));
}

std::string RegisteredLine(const IngestRegister& reg) {
  JsonWriter w;
  w.BeginObject().Key("registered").BeginObject().Key("targets").BeginArray();
  for (const auto& t : reg.targets) w.String(t);
  w.EndArray().Key("commands").BeginArray();
  for (const auto& c : reg.commands) w.String(c);
  w.EndArray().EndObject().EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

std::string CommandLine(std::string_view id, std::string_view target, std::string_view name,
                        const cJSON* args, std::string_view from) {
  JsonWriter w;
  w.BeginObject().Key("command").BeginObject();
  w.Key("id").String(id).Key("target").String(target).Key("name").String(name).Key("args");
  if (args != nullptr) {
    w.Raw(PrintJson(args));
  } else {
    w.Raw("{}");
  }
  w.Key("from").String(from).EndObject().EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

std::string IngestErrorLine(std::string_view code, std::string_view message, uint64_t line) {
  JsonWriter w;
  w.BeginObject().Key("error").String(code).Key("message").String(message).Key("line").Uint(line);
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

}  // namespace edgewatch::fw
