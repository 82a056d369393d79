// libFuzzer target for the producers' side of the ingest protocol: LineSplitter
// (edgewatch::fw::LineSplitter) and the line parser (edgewatch::fw::ParseIngestLine).
//
// Input: byte 0 picks the line limit (1..256 bytes, or 64 KiB when 0), byte 1 seeds the sizes of
// the chunks the rest is fed in (as reads from a socket would cut it); the rest is the byte
// stream. Beyond "no crash, no sanitizer report", it traps when an invariant breaks:
//   - splitting does not depend on chunking: the events equal those of one Feed of the whole
//     stream, and both equal a straightforward reference splitter;
//   - no delivered line exceeds the limit or contains '\n', numbers count 1, 2, 3, ... across
//     lines and too-long events, and pending() never exceeds the limit;
//   - every line's parse is either a message with a valid topic, an object "data" and a
//     non-negative ts, or an error with a documented code, whose IngestErrorLine is one line of
//     valid JSON that parses back to the same code, message and line number.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/ingest_codec.h"
#include "edgewatch/fw/topic.h"

namespace {

namespace fw = edgewatch::fw;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Event {
  bool too_long;
  std::string line;
  uint64_t no;
  bool operator==(const Event& o) const {
    return too_long == o.too_long && line == o.line && no == o.no;
  }
};

// The contract of LineSplitter::Feed, written the simple way: complete lines only, a trailing
// '\r' removed, lines longer than `max` (before removing '\r') reported as too long.
std::vector<Event> Reference(std::string_view stream, size_t max) {
  std::vector<Event> out;
  uint64_t no = 0;
  size_t start = 0;
  for (size_t nl = stream.find('\n'); nl != std::string_view::npos;
       start = nl + 1, nl = stream.find('\n', start)) {
    std::string_view line = stream.substr(start, nl - start);
    ++no;
    if (line.size() > max) {
      out.push_back({true, "", no});
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back({false, std::string(line), no});
  }
  // An unterminated tail longer than the limit is reported as soon as it overflows.
  if (stream.size() - start > max) out.push_back({true, "", ++no});
  return out;
}

std::vector<Event> Split(std::string_view stream, size_t max, uint8_t seed, size_t* pending) {
  fw::LineSplitter splitter(max);
  std::vector<Event> events;
  uint32_t state = seed * 2654435761u + 1;
  while (!stream.empty()) {
    size_t n = stream.size();
    if (seed != 0) {
      state = state * 1103515245u + 12345u;
      n = std::min(n, static_cast<size_t>(1 + (state >> 16) % 97));
    }
    splitter.Feed(
        stream.substr(0, n),
        [&](std::string_view line, uint64_t no) {
          Check(line.size() <= max && line.find('\n') == std::string_view::npos);
          events.push_back({false, std::string(line), no});
        },
        [&](uint64_t no) {
          events.push_back({true, "", no});
        });
    Check(splitter.pending() <= max);
    stream.remove_prefix(n);
  }
  *pending = splitter.pending();
  return events;
}

void CheckParse(std::string_view line, uint64_t no) {
  auto parsed = fw::ParseIngestLine(line, 64 * 1024);
  if (auto* msg = std::get_if<fw::IngestMessage>(&parsed)) {
    Check(fw::ValidateTopicName(msg->topic).ok());
    Check(msg->root != nullptr && cJSON_IsObject(msg->data));
    Check(!msg->ts_ms || *msg->ts_ms >= 0);
    return;
  }
  const fw::IngestError& err = std::get<fw::IngestError>(parsed);
  Check(err.code == "bad_json" || err.code == "invalid_utf8" || err.code == "too_deep" ||
        err.code == "line_too_long" || err.code == "bad_line" || err.code == "invalid_topic");
  std::string reply = fw::IngestErrorLine(err.code, err.message, no);
  Check(!reply.empty() && reply.back() == '\n' && reply.find('\n') == reply.size() - 1);
  auto back = edgewatch::ParseJson(reply, edgewatch::JsonLimits{1 << 20, 4});
  Check(back.ok());
  Check(edgewatch::GetString(back->get(), "error") == std::string_view(err.code));
  Check(edgewatch::GetString(back->get(), "message") == std::string_view(err.message));
  Check(edgewatch::GetInt(back->get(), "line") == static_cast<int64_t>(no));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t max = data[0] == 0 ? 64 * 1024 : data[0];
  uint8_t seed = data[1];
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  size_t pending_whole = 0, pending_chunked = 0;
  std::vector<Event> whole = Split(stream, max, 0, &pending_whole);
  std::vector<Event> chunked = Split(stream, max, seed, &pending_chunked);
  Check(whole == chunked);
  Check(pending_whole == pending_chunked);
  Check(whole == Reference(stream, max));
  for (size_t i = 0; i < whole.size(); ++i) {
    Check(whole[i].no == i + 1);
    if (!whole[i].too_long) CheckParse(whole[i].line, whole[i].no);
  }
  // The whole stream as one line too (the parser's own limits).
  CheckParse(stream, 1);
  return 0;
}
