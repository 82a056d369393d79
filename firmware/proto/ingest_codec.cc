#include "edgewatch/fw/ingest_codec.h"

#include <cmath>

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

std::variant<IngestMessage, IngestError> ParseIngestLine(std::string_view line, size_t max_bytes) {
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
  IngestMessage msg;
  msg.root = std::move(parsed).value();
  if (!cJSON_IsObject(msg.root.get())) return IngestError{"bad_line", "line must be a JSON object"};
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
    if (!v || *v < 0)
      return IngestError{"bad_line", "\"ts\" must be a non-negative integer (unix ms)"};
    msg.ts_ms = *v;
  }
  return msg;
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
