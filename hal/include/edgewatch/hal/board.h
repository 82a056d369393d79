// BoardSpec: a board described as data (boards/*.json; schema in boards/README.md).
//
// Application code names lines by ROLE ("alert_led", "ack_button"), never by pin numbers; the
// board file maps each role to a line offset on one GPIO chip, with its direction, polarity,
// bias, edge detection and debounce. It also carries the board's resource budget and the thermal
// zone to watch. All functions here are pure or read files only; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/digital.h"

namespace edgewatch::hal {

enum class GpioBackend { kSim, kGpiod };
enum class Direction { kInput, kOutput };
enum class Bias { kAsIs, kDisable, kPullUp, kPullDown };
// Electrical edges, as wired: a button to ground with a pull-up makes a falling edge when pressed.
enum class EdgeDetect { kNone, kRising, kFalling, kBoth };

// Stable names, as spelled in board files ("sim", "in", "pull-up", "falling", ...).
std::string_view GpioBackendName(GpioBackend backend);
std::string_view DirectionName(Direction direction);
std::string_view BiasName(Bias bias);
std::string_view EdgeDetectName(EdgeDetect edge);

struct LineSpec {
  unsigned offset = 0;  // line offset on the board's chip
  Direction direction = Direction::kOutput;
  bool active_low = false;  // "active": "low"
  Bias bias = Bias::kAsIs;
  EdgeDetect edge = EdgeDetect::kNone;  // inputs only
  int debounce_ms = 0;                  // inputs with edge detection only
  std::string pin;                      // free text for people ("header pin 11 (GPIO17)")
};

struct Budget {
  int memory_mb = 0;
  int max_connections = 0;
  int session_queue_kb = 256;
};

struct Thermal {
  std::string zone;  // thermal zone *type* (/sys/class/thermal/thermal_zoneN/type)
  double limit_c = 0;
};

struct BoardSpec {
  std::string name;
  std::string description;
  // Substrings of /proc/device-tree/model that select this board (DetectBoardFile).
  std::vector<std::string> models;
  GpioBackend backend = GpioBackend::kSim;
  // gpiod: the chip's label (preferred: stable across kernels) or name ("gpiochip0") or a
  // /dev path. sim: informational, defaults to "sim".
  std::string chip;
  std::map<std::string, LineSpec, std::less<>> lines;  // role -> line
  Budget budget;
  std::optional<Thermal> thermal;  // absent where the board has no thermal zone
};

// Parses a board file. Unknown keys are errors (a typo must not silently fall back to a
// default). Returns InvalidArgument with a message naming the field, e.g.
// `lines.ack_button.edge: expected "none", "rising", "falling" or "both", got "down"`.
Result<BoardSpec> ParseBoard(std::string_view json);

// Reads and parses `path`. Errors are prefixed with the path; NotFound/PermissionDenied when the
// file cannot be read.
Result<BoardSpec> LoadBoardFile(const std::string& path);

// Chooses the board file for this machine: the file in `boards_dir` one of whose "models" is a
// substring of the device-tree model read from `model_path` (the longest such match wins), or
// `<boards_dir>/generic-x86_64.json` when the model file does not exist or no board matches.
// Every *.json file in `boards_dir` is parsed, and a broken one is an error (naming it): a
// broken install must not silently run on simulated GPIO. NotFound when the fallback is missing.
Result<std::string> DetectBoardFile(const std::string& boards_dir,
                                    const std::string& model_path = "/proc/device-tree/model");

inline constexpr std::string_view kGenericBoardFile = "generic-x86_64.json";

// The ReadEdge() filter for an input line: the board's electrical edge translated through its
// polarity into logical directions ("falling" on an active-low line reports activations), and
// its debounce time.
EdgeFilter MakeEdgeFilter(const LineSpec& line);

}  // namespace edgewatch::hal
