#include "edgewatch/hal/board.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <system_error>
#include <utility>

#include "edgewatch/base/json.h"
#include "edgewatch/base/log.h"
#include "internal/fs.h"

namespace edgewatch::hal {

std::string_view GpioBackendName(GpioBackend backend) {
  switch (backend) {
    case GpioBackend::kSim:
      return "sim";
    case GpioBackend::kGpiod:
      return "gpiod";
  }
  return "?";
}

std::string_view DirectionName(Direction direction) {
  return direction == Direction::kInput ? "in" : "out";
}

std::string_view BiasName(Bias bias) {
  switch (bias) {
    case Bias::kAsIs:
      return "as-is";
    case Bias::kDisable:
      return "disable";
    case Bias::kPullUp:
      return "pull-up";
    case Bias::kPullDown:
      return "pull-down";
  }
  return "?";
}

std::string_view EdgeDetectName(EdgeDetect edge) {
  switch (edge) {
    case EdgeDetect::kNone:
      return "none";
    case EdgeDetect::kRising:
      return "rising";
    case EdgeDetect::kFalling:
      return "falling";
    case EdgeDetect::kBoth:
      return "both";
  }
  return "?";
}

EdgeFilter MakeEdgeFilter(const LineSpec& line) {
  EdgeFilter filter;
  if (line.direction != Direction::kInput) return filter;
  bool rising = line.edge == EdgeDetect::kRising || line.edge == EdgeDetect::kBoth;
  bool falling = line.edge == EdgeDetect::kFalling || line.edge == EdgeDetect::kBoth;
  // An electrically rising edge activates an active-high line and deactivates an active-low one.
  filter.report_activate = line.active_low ? falling : rising;
  filter.report_deactivate = line.active_low ? rising : falling;
  filter.debounce_ns = static_cast<int64_t>(line.debounce_ms) * 1'000'000;
  return filter;
}

namespace {

// Limits on numeric fields: generous, but they catch units mistakes (bytes for MiB, ms for s).
constexpr int64_t kMaxOffset = 65535;
constexpr int64_t kMaxDebounceMs = 1000;
constexpr int64_t kMaxMemoryMb = 1 << 20;
constexpr int64_t kMaxConnections = 1'000'000;
constexpr int64_t kMaxSessionQueueKb = 1 << 20;
constexpr double kMinLimitC = 20;
constexpr double kMaxLimitC = 150;

std::string Join(const std::string& path, std::string_view key) {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

Status FieldError(const std::string& path, std::string_view what) {
  std::string msg = path;
  msg += ": ";
  msg += what;
  return InvalidArgument(std::move(msg));
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string TypeName(const cJSON* node) {
  if (cJSON_IsString(node)) return "a string";
  if (cJSON_IsNumber(node)) return "a number";
  if (cJSON_IsObject(node)) return "an object";
  if (cJSON_IsArray(node)) return "an array";
  if (cJSON_IsBool(node)) return "a boolean";
  if (cJSON_IsNull(node)) return "null";
  return "an invalid value";
}

// Rejects unknown and repeated keys in `obj`.
Status CheckKeys(const cJSON* obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  std::set<std::string_view> seen;
  for (const cJSON* c = obj->child; c != nullptr; c = c->next) {
    std::string_view key = c->string;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return FieldError(Join(path, key), "unknown field (expected one of: " + list + ")");
    }
    if (!seen.insert(key).second) return FieldError(Join(path, key), "appears twice");
  }
  return OkStatus();
}

const cJSON* Field(const cJSON* obj, const char* key) {
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

Result<const cJSON*> RequireObject(const cJSON* obj, const std::string& path, const char* key) {
  const cJSON* node = Field(obj, key);
  if (node == nullptr) return FieldError(Join(path, key), "missing (an object is required)");
  if (!cJSON_IsObject(node)) {
    return FieldError(Join(path, key), "expected an object, got " + TypeName(node));
  }
  return node;
}

// A string field; `fallback` when absent (nullopt: the field is required).
Result<std::string> StringField(const cJSON* obj, const std::string& path, const char* key,
                                std::optional<std::string_view> fallback) {
  const cJSON* node = Field(obj, key);
  if (node == nullptr) {
    if (fallback) return std::string(*fallback);
    return FieldError(Join(path, key), "missing (a string is required)");
  }
  if (!cJSON_IsString(node)) {
    return FieldError(Join(path, key), "expected a string, got " + TypeName(node));
  }
  return std::string(node->valuestring);
}

// An integral `v` as text. Beyond int64's range it is printed with %g: converting it to int64
// would be undefined behaviour (found by tests/fuzz/fuzz_board).
std::string IntegralText(double v) {
  if (std::fabs(v) < 9.2e18) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

Result<int64_t> IntField(const cJSON* obj, const std::string& path, const char* key, int64_t min,
                         int64_t max, std::optional<int64_t> fallback) {
  const cJSON* node = Field(obj, key);
  if (node == nullptr) {
    if (fallback) return *fallback;
    return FieldError(Join(path, key), "missing (an integer is required)");
  }
  if (!cJSON_IsNumber(node)) {
    return FieldError(Join(path, key), "expected an integer, got " + TypeName(node));
  }
  double v = node->valuedouble;
  if (!std::isfinite(v) || std::floor(v) != v) {
    return FieldError(Join(path, key), "expected an integer, got " + std::to_string(v));
  }
  if (v < static_cast<double>(min) || v > static_cast<double>(max)) {
    return FieldError(Join(path, key), "must be between " + std::to_string(min) + " and " +
                                           std::to_string(max) + ", got " + IntegralText(v));
  }
  return static_cast<int64_t>(v);
}

Result<double> NumberField(const cJSON* obj, const std::string& path, const char* key, double min,
                           double max) {
  const cJSON* node = Field(obj, key);
  if (node == nullptr) return FieldError(Join(path, key), "missing (a number is required)");
  if (!cJSON_IsNumber(node)) {
    return FieldError(Join(path, key), "expected a number, got " + TypeName(node));
  }
  double v = node->valuedouble;
  if (!std::isfinite(v) || v < min || v > max) {
    return FieldError(Join(path, key),
                      "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

// A string field restricted to `names`; `fallback` when absent (nullopt: required).
template <typename E>
Result<E> EnumField(const cJSON* obj, const std::string& path, const char* key,
                    std::initializer_list<std::pair<std::string_view, E>> names,
                    std::optional<E> fallback) {
  const cJSON* node = Field(obj, key);
  std::string expected;
  size_t i = 0;
  for (const auto& [name, value] : names) {
    if (i > 0) expected += (i + 1 == names.size()) ? " or " : ", ";
    expected += Quoted(name);
    ++i;
  }
  if (node == nullptr) {
    if (fallback) return *fallback;
    return FieldError(Join(path, key), "missing (expected " + expected + ")");
  }
  if (!cJSON_IsString(node)) {
    return FieldError(Join(path, key), "expected " + expected + ", got " + TypeName(node));
  }
  std::string_view got = node->valuestring;
  for (const auto& [name, value] : names) {
    if (got == name) return value;
  }
  return FieldError(Join(path, key), "expected " + expected + ", got " + Quoted(got));
}

bool IsBoardName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsRoleName(std::string_view s) {
  if (s.empty() || s.size() > 32 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<LineSpec> ParseLine(const cJSON* node, const std::string& path) {
  if (!cJSON_IsObject(node)) return FieldError(path, "expected an object, got " + TypeName(node));
  EW_TRY(CheckKeys(node, path,
                   {"offset", "direction", "active", "bias", "edge", "debounce_ms", "pin"}));
  LineSpec line;
  EW_ASSIGN_OR_RETURN(int64_t offset, IntField(node, path, "offset", 0, kMaxOffset, std::nullopt));
  line.offset = static_cast<unsigned>(offset);
  EW_ASSIGN_OR_RETURN(
      line.direction,
      EnumField<Direction>(node, path, "direction",
                           {{"in", Direction::kInput}, {"out", Direction::kOutput}}, std::nullopt));
  EW_ASSIGN_OR_RETURN(bool active_low, EnumField<bool>(node, path, "active",
                                                       {{"high", false}, {"low", true}}, false));
  line.active_low = active_low;
  EW_ASSIGN_OR_RETURN(line.bias, EnumField<Bias>(node, path, "bias",
                                                 {{"as-is", Bias::kAsIs},
                                                  {"disable", Bias::kDisable},
                                                  {"pull-up", Bias::kPullUp},
                                                  {"pull-down", Bias::kPullDown}},
                                                 Bias::kAsIs));
  EW_ASSIGN_OR_RETURN(line.edge, EnumField<EdgeDetect>(node, path, "edge",
                                                       {{"none", EdgeDetect::kNone},
                                                        {"rising", EdgeDetect::kRising},
                                                        {"falling", EdgeDetect::kFalling},
                                                        {"both", EdgeDetect::kBoth}},
                                                       EdgeDetect::kNone));
  EW_ASSIGN_OR_RETURN(int64_t debounce,
                      IntField(node, path, "debounce_ms", 0, kMaxDebounceMs, int64_t{0}));
  line.debounce_ms = static_cast<int>(debounce);
  EW_ASSIGN_OR_RETURN(line.pin, StringField(node, path, "pin", std::string_view()));

  if (line.direction == Direction::kOutput && line.edge != EdgeDetect::kNone) {
    return FieldError(Join(path, "edge"), "only inputs detect edges (direction is \"out\")");
  }
  if (line.debounce_ms > 0 && line.edge == EdgeDetect::kNone) {
    return FieldError(Join(path, "debounce_ms"), "needs \"edge\" (debouncing applies to edges)");
  }
  return line;
}

}  // namespace

Result<BoardSpec> ParseBoard(std::string_view json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return InvalidArgument("board file: " + parsed.status().message());
  const cJSON* root = parsed->get();
  if (!cJSON_IsObject(root)) return InvalidArgument("board file: expected a JSON object");
  const std::string top;
  EW_TRY(CheckKeys(root, top,
                   {"name", "description", "models", "gpio", "lines", "budget", "thermal"}));

  BoardSpec board;
  EW_ASSIGN_OR_RETURN(board.name, StringField(root, top, "name", std::nullopt));
  if (!IsBoardName(board.name)) {
    return FieldError(
        "name", "expected 1-64 characters of a-z, 0-9, '-', '_', '.', got " + Quoted(board.name));
  }
  EW_ASSIGN_OR_RETURN(board.description, StringField(root, top, "description", std::string_view()));

  if (const cJSON* models = Field(root, "models"); models != nullptr) {
    if (!cJSON_IsArray(models)) {
      return FieldError("models", "expected an array of strings, got " + TypeName(models));
    }
    int i = 0;
    for (const cJSON* m = models->child; m != nullptr; m = m->next, ++i) {
      std::string path = "models[" + std::to_string(i) + "]";
      if (!cJSON_IsString(m)) return FieldError(path, "expected a string, got " + TypeName(m));
      if (m->valuestring[0] == '\0') return FieldError(path, "must not be empty");
      board.models.emplace_back(m->valuestring);
    }
  }

  EW_ASSIGN_OR_RETURN(const cJSON* gpio, RequireObject(root, top, "gpio"));
  EW_TRY(CheckKeys(gpio, "gpio", {"backend", "chip"}));
  EW_ASSIGN_OR_RETURN(board.backend, EnumField<GpioBackend>(gpio, "gpio", "backend",
                                                            {{"sim", GpioBackend::kSim},
                                                             {"gpiod", GpioBackend::kGpiod}},
                                                            std::nullopt));
  if (board.backend == GpioBackend::kGpiod) {
    EW_ASSIGN_OR_RETURN(board.chip, StringField(gpio, "gpio", "chip", std::nullopt));
    if (board.chip.empty()) return FieldError("gpio.chip", "must not be empty");
  } else {
    EW_ASSIGN_OR_RETURN(board.chip, StringField(gpio, "gpio", "chip", std::string_view("sim")));
  }

  EW_ASSIGN_OR_RETURN(const cJSON* lines, RequireObject(root, top, "lines"));
  std::map<unsigned, std::string> offsets;
  for (const cJSON* l = lines->child; l != nullptr; l = l->next) {
    std::string role = l->string;
    std::string path = "lines." + role;
    if (!IsRoleName(role)) {
      return FieldError(path,
                        "a role name is 1-32 characters of a-z, 0-9 and '_', starting "
                        "with a letter");
    }
    if (board.lines.count(role) != 0) return FieldError(path, "appears twice");
    EW_ASSIGN_OR_RETURN(LineSpec line, ParseLine(l, path));
    auto [it, inserted] = offsets.emplace(line.offset, role);
    if (!inserted) {
      return FieldError(Join(path, "offset"),
                        std::to_string(line.offset) + " is already used by " + it->second);
    }
    board.lines.emplace(std::move(role), std::move(line));
  }

  EW_ASSIGN_OR_RETURN(const cJSON* budget, RequireObject(root, top, "budget"));
  EW_TRY(CheckKeys(budget, "budget", {"memory_mb", "max_connections", "session_queue_kb"}));
  EW_ASSIGN_OR_RETURN(int64_t memory_mb,
                      IntField(budget, "budget", "memory_mb", 1, kMaxMemoryMb, std::nullopt));
  EW_ASSIGN_OR_RETURN(int64_t max_conn, IntField(budget, "budget", "max_connections", 1,
                                                 kMaxConnections, std::nullopt));
  EW_ASSIGN_OR_RETURN(int64_t queue_kb, IntField(budget, "budget", "session_queue_kb", 1,
                                                 kMaxSessionQueueKb, int64_t{256}));
  board.budget.memory_mb = static_cast<int>(memory_mb);
  board.budget.max_connections = static_cast<int>(max_conn);
  board.budget.session_queue_kb = static_cast<int>(queue_kb);

  if (Field(root, "thermal") != nullptr) {
    EW_ASSIGN_OR_RETURN(const cJSON* thermal, RequireObject(root, top, "thermal"));
    EW_TRY(CheckKeys(thermal, "thermal", {"zone", "limit_c"}));
    Thermal t;
    EW_ASSIGN_OR_RETURN(t.zone, StringField(thermal, "thermal", "zone", std::nullopt));
    if (t.zone.empty()) return FieldError("thermal.zone", "must not be empty");
    EW_ASSIGN_OR_RETURN(t.limit_c,
                        NumberField(thermal, "thermal", "limit_c", kMinLimitC, kMaxLimitC));
    board.thermal = std::move(t);
  }
  return board;
}

Result<BoardSpec> LoadBoardFile(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, internal::ReadSmallFile(path));
  Result<BoardSpec> board = ParseBoard(text);
  if (!board.ok()) return Status(board.status().code(), path + ": " + board.status().message());
  return board;
}

namespace {

// The device-tree model is NUL-terminated and may carry trailing whitespace.
std::string TrimModel(std::string s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == '\n' || s.back() == ' ' ||
                        s.back() == '\t' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

Result<std::string> DetectBoardFile(const std::string& boards_dir, const std::string& model_path) {
  namespace fs = std::filesystem;
  const std::string generic = boards_dir + "/" + std::string(kGenericBoardFile);

  std::string model;
  if (auto raw = internal::ReadSmallFile(model_path, 4096); raw.ok()) {
    model = TrimModel(std::move(*raw));
  } else {
    EW_DEBUG("hal", "no device-tree model (%s)", raw.status().ToString().c_str());
  }

  if (!model.empty()) {
    std::error_code ec;
    std::vector<std::string> files;
    for (fs::directory_iterator it(boards_dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".json" && it->is_regular_file(ec)) {
        files.push_back(it->path().string());
      }
    }
    if (ec) return ErrnoToStatus(ec.value(), "listing board files in " + boards_dir);
    std::sort(files.begin(), files.end());

    std::string best;
    size_t best_len = 0;
    for (const std::string& file : files) {
      EW_ASSIGN_OR_RETURN(BoardSpec board, LoadBoardFile(file));
      for (const std::string& m : board.models) {
        if (m.size() > best_len && model.find(m) != std::string::npos) {
          best = file;
          best_len = m.size();
        }
      }
    }
    if (!best.empty()) {
      EW_INFO("hal", "board file %s matches device-tree model \"%s\"", best.c_str(), model.c_str());
      return best;
    }
    EW_WARN("hal", "no board file in %s matches device-tree model \"%s\"; using %s",
            boards_dir.c_str(), model.c_str(), std::string(kGenericBoardFile).c_str());
  }

  std::error_code ec;
  if (!fs::is_regular_file(generic, ec)) {
    return NotFound("no board file for this machine: " + generic + " is missing");
  }
  return generic;
}

}  // namespace edgewatch::hal
