// The producer side of the ingest protocol (docs/protocol.md, "Ingest"): newline-delimited JSON.
//
// LineSplitter cuts a byte stream into lines with a hard size limit; ParseIngestLine checks one
// line. Pure, any thread; used by the ingest socket and by the fuzz targets.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"

namespace edgewatch::fw {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  // Feeds `data`. Calls on_line(line, number) for every complete line (without '\n'; a trailing
  // '\r' is removed) and on_too_long(number) once for each line longer than max_line, whose
  // bytes are discarded up to its newline. Line numbers start at 1 and count both kinds.
  void Feed(std::string_view data, const std::function<void(std::string_view, uint64_t)>& on_line,
            const std::function<void(uint64_t)>& on_too_long);
  // Bytes of an unfinished line currently buffered.
  size_t pending() const { return buf_.size(); }
  uint64_t lines() const { return line_no_; }

 private:
  size_t max_line_;
  std::string buf_;
  bool discarding_ = false;
  uint64_t line_no_ = 0;
};

struct IngestMessage {
  std::string topic;
  JsonPtr root;                 // owns the parsed line
  const cJSON* data = nullptr;  // the "data" object inside root
  std::optional<int64_t> ts_ms;
};

struct IngestError {
  std::string code;  // bad_json, bad_line, invalid_topic, ...
  std::string message;
};

// Parses one ingest line: a JSON object with "topic" (a concrete topic name), "data" (an object)
// and optional "ts" (integer unix ms). Limits: `max_bytes`, depth 32, valid UTF-8.
std::variant<IngestMessage, IngestError> ParseIngestLine(std::string_view line, size_t max_bytes);

// Producer control lines (docs/protocol.md, "Commands"): a producer declares the targets it owns
// and the commands it accepts, and answers each command it was sent.
inline constexpr size_t kMaxRegisterItems = 64;     // targets, and commands, per register
inline constexpr size_t kMaxCommandNameBytes = 64;  // [A-Za-z0-9_.-]
inline constexpr size_t kMaxResultMessageBytes = 1024;

// {"register":{"targets":[<topic names>],"commands":[<names>]}}
struct IngestRegister {
  std::vector<std::string> targets;
  std::vector<std::string> commands;
};
// {"result":{"id":"<server id>","ok":bool,"message":"..."}}
struct IngestResult {
  std::string id;
  bool ok = false;
  std::string message;
};

using ProducerLine = std::variant<IngestMessage, IngestRegister, IngestResult, IngestError>;

// Parses any producer line: a "register" or "result" control line (errors bad_register,
// bad_result), otherwise an event line exactly as ParseIngestLine.
ProducerLine ParseProducerLine(std::string_view line, size_t max_bytes);

// {"registered":{"targets":[...],"commands":[...]}} followed by '\n': a register was accepted.
std::string RegisteredLine(const IngestRegister& reg);

// {"command":{"id":id,"target":target,"name":name,"args":args or {},"from":from}} + '\n'.
std::string CommandLine(std::string_view id, std::string_view target, std::string_view name,
                        const cJSON* args, std::string_view from);

// {"error":code,"message":message,"line":n} followed by '\n'.
std::string IngestErrorLine(std::string_view code, std::string_view message, uint64_t line);

}  // namespace edgewatch::fw
