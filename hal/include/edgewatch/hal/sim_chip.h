// SimChip: the in-memory GPIO backend ("gpio": {"backend": "sim"}), for x86 development, demos and
// deterministic tests.
//
// Outputs record the history of every successful Set(); inputs are driven with Drive(), which
// queues an edge and makes the line's EventFd() (an eventfd) readable, so a simulated button
// enters the event loop exactly like a kernel GPIO line does. StateJson() is the state shown at
// `GET /api/v1/hal` and by `edgewatch gpio`.
//
// A SimChip accepts any board, whatever its "gpio.backend": tests can run a Raspberry Pi board's
// roles and polarities in memory. Threading: event-loop thread only (tests: the test thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/board.h"
#include "edgewatch/hal/chip.h"
#include "edgewatch/hal/level.h"

namespace edgewatch::hal {

class SimOutputLine;
class SimInputLine;

struct SimSet {
  Level level = Level::kInactive;
  int64_t timestamp_ns = 0;  // SimChip clock
};

class SimChip final : public GpioChip {
 public:
  struct Options {
    // Time source for history and edge timestamps, in nanoseconds. Default: the monotonic clock.
    // Tests inject a fake clock to exercise debouncing without sleeping.
    std::function<int64_t()> clock_ns;
    // Sets remembered per output; beyond it the oldest are dropped and counted (history_dropped
    // in StateJson), so a LED blinking for days does not grow memory.
    size_t history_capacity = 4096;
  };

  // Claims every line of `board` in memory. Returns ResourceExhausted if an eventfd cannot be
  // created (descriptor limit).
  static Result<std::unique_ptr<SimChip>> Open(const BoardSpec& board, Options options);
  static Result<std::unique_ptr<SimChip>> Open(const BoardSpec& board) {
    return Open(board, Options());
  }
  ~SimChip() override;

  // Levels set on output `role`, oldest first (at most history_capacity). Empty for an unknown
  // role or an input.
  std::vector<Level> History(std::string_view role) const;
  // The same with timestamps.
  std::vector<SimSet> TimedHistory(std::string_view role) const;
  // Forgets the recorded history of every output (current levels are kept).
  void ClearHistory();

  // The current logical level of any line: an output's last Set, an input's last Drive.
  // NotFound for an unknown role.
  Result<Level> Current(std::string_view role) const;

  // Moves input `role` to `level` as the outside world would (a button press on an active-low
  // button is Drive("ack_button", Level::kActive)). A change queues one raw edge, timestamped by
  // the clock; its EventFd() then polls readable until ReadEdge() has consumed it. Driving the
  // level the line already has is OK and queues nothing. NotFound for an unknown role,
  // FailedPrecondition for an output.
  Status Drive(std::string_view role, Level level);

  // Makes every following Set() (outputs) or Get() (inputs) on `role` fail with `error`, to test
  // error handling; OkStatus() clears it. NotFound for an unknown role.
  Status InjectError(std::string_view role, Status error);

 private:
  SimChip(const BoardSpec& board, Options options);
  std::string DoStateJson() override;

  Options options_;
  std::map<std::string, SimOutputLine*, std::less<>> sim_outputs_;  // owned by GpioChip
  std::map<std::string, SimInputLine*, std::less<>> sim_inputs_;    // owned by GpioChip
};

}  // namespace edgewatch::hal
