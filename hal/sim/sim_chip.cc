#include "edgewatch/hal/sim_chip.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <utility>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "internal/fs.h"

namespace edgewatch::hal {

// Records every successful Set, bounded by the chip's history capacity.
class SimOutputLine final : public DigitalOut {
 public:
  explicit SimOutputLine(const SimChip::Options& options) : options_(options) {}

  const std::deque<SimSet>& history() const { return history_; }
  uint64_t sets() const { return sets_; }
  uint64_t dropped() const { return dropped_; }
  void ClearHistory() { history_.clear(); }
  void set_error(Status error) { error_ = std::move(error); }

 private:
  Status DoSet(Level level) override {
    if (!error_.ok()) return error_;
    if (options_.history_capacity == 0) {
      ++dropped_;
    } else {
      if (history_.size() >= options_.history_capacity) {
        history_.pop_front();
        ++dropped_;
      }
      history_.push_back({level, options_.clock_ns()});
    }
    ++sets_;
    return OkStatus();
  }

  const SimChip::Options& options_;
  std::deque<SimSet> history_;
  uint64_t sets_ = 0;
  uint64_t dropped_ = 0;
  Status error_;
};

// An input driven by SimChip::Drive. Raw edges wait in `pending_`; the eventfd (semaphore mode)
// counts them, so it polls readable exactly while one is pending, as a kernel line event fd does.
class SimInputLine final : public DigitalIn {
 public:
  SimInputLine(const EdgeFilter& filter, internal::UniqueFd event_fd)
      : DigitalIn(filter), event_fd_(std::move(event_fd)) {}

  Level level() const { return level_; }
  size_t pending() const { return pending_.size(); }
  void set_error(Status error) { error_ = std::move(error); }

  Status Drive(Level level, int64_t now_ns) {
    if (level == level_) return OkStatus();
    level_ = level;
    if (!event_fd_.valid()) return OkStatus();  // no edge detection configured
    uint64_t one = 1;
    if (::write(event_fd_.get(), &one, sizeof one) != static_cast<ssize_t>(sizeof one)) {
      return ErrnoToStatus(errno, "sim: signalling an edge on the eventfd");
    }
    pending_.push_back({level, now_ns});
    return OkStatus();
  }

 private:
  Result<Level> DoGet() override {
    if (!error_.ok()) return error_;
    return level_;
  }
  int DoEventFd() const override { return event_fd_.get(); }
  Result<Edge> DoReadEdge() override {
    uint64_t count = 0;
    if (::read(event_fd_.get(), &count, sizeof count) != static_cast<ssize_t>(sizeof count)) {
      if (errno == EAGAIN) return Unavailable("no edge pending");
      return ErrnoToStatus(errno, "sim: reading the eventfd");
    }
    if (pending_.empty()) return Internal("sim: eventfd and edge queue out of step");
    Edge edge = pending_.front();
    pending_.pop_front();
    return edge;
  }

  internal::UniqueFd event_fd_;
  Level level_ = Level::kInactive;
  std::deque<Edge> pending_;
  Status error_;
};

SimChip::SimChip(const BoardSpec& board, Options options)
    : GpioChip(board), options_(std::move(options)) {
  if (!options_.clock_ns) options_.clock_ns = [] { return MonotonicMicros() * 1000; };
}

SimChip::~SimChip() = default;

Result<std::unique_ptr<SimChip>> SimChip::Open(const BoardSpec& board, Options options) {
  std::unique_ptr<SimChip> chip(new SimChip(board, std::move(options)));
  for (const auto& [role, spec] : board.lines) {
    if (spec.direction == Direction::kOutput) {
      auto line = std::make_unique<SimOutputLine>(chip->options_);
      chip->sim_outputs_[role] = line.get();
      chip->AddOutput(role, std::move(line));
      continue;
    }
    EdgeFilter filter = MakeEdgeFilter(spec);
    internal::UniqueFd fd;
    if (filter.report_activate || filter.report_deactivate) {
      fd = internal::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE));
      if (!fd.valid()) return ErrnoToStatus(errno, "sim: eventfd for role '" + role + "'");
    }
    auto line = std::make_unique<SimInputLine>(filter, std::move(fd));
    chip->sim_inputs_[role] = line.get();
    chip->AddInput(role, std::move(line));
  }
  return chip;
}

std::vector<Level> SimChip::History(std::string_view role) const {
  std::vector<Level> out;
  if (auto it = sim_outputs_.find(role); it != sim_outputs_.end()) {
    for (const SimSet& s : it->second->history()) out.push_back(s.level);
  }
  return out;
}

std::vector<SimSet> SimChip::TimedHistory(std::string_view role) const {
  if (auto it = sim_outputs_.find(role); it != sim_outputs_.end()) {
    return {it->second->history().begin(), it->second->history().end()};
  }
  return {};
}

void SimChip::ClearHistory() {
  for (auto& [role, line] : sim_outputs_) line->ClearHistory();
}

Result<Level> SimChip::Current(std::string_view role) const {
  if (auto it = sim_outputs_.find(role); it != sim_outputs_.end()) return it->second->level();
  if (auto it = sim_inputs_.find(role); it != sim_inputs_.end()) return it->second->level();
  return NotFound("board '" + board().name + "' has no line with role '" + std::string(role) + "'");
}

Status SimChip::Drive(std::string_view role, Level level) {
  if (auto it = sim_inputs_.find(role); it != sim_inputs_.end()) {
    return it->second->Drive(level, options_.clock_ns());
  }
  if (sim_outputs_.count(role) != 0) {
    return FailedPrecondition("role '" + std::string(role) +
                              "' is an output; only inputs can be "
                              "driven");
  }
  return NotFound("board '" + board().name + "' has no line with role '" + std::string(role) + "'");
}

Status SimChip::InjectError(std::string_view role, Status error) {
  if (auto it = sim_outputs_.find(role); it != sim_outputs_.end()) {
    it->second->set_error(std::move(error));
    return OkStatus();
  }
  if (auto it = sim_inputs_.find(role); it != sim_inputs_.end()) {
    it->second->set_error(std::move(error));
    return OkStatus();
  }
  return NotFound("board '" + board().name + "' has no line with role '" + std::string(role) + "'");
}

std::string SimChip::DoStateJson() {
  // The last few sets per output are enough to see a pattern; the full history is for tests.
  constexpr size_t kRecentSets = 16;
  JsonWriter w;
  w.BeginObject();
  w.Key("board").String(board().name);
  w.Key("backend").String("sim");
  w.Key("chip").String(board().chip);
  w.Key("lines").BeginObject();
  for (const auto& [role, spec] : board().lines) {
    w.Key(role).BeginObject();
    w.Key("direction").String(DirectionName(spec.direction));
    w.Key("offset").Uint(spec.offset);
    w.Key("active_low").Bool(spec.active_low);
    if (auto out = sim_outputs_.find(role); out != sim_outputs_.end()) {
      const SimOutputLine& line = *out->second;
      w.Key("level").String(LevelName(line.level()));
      w.Key("sets").Uint(line.sets());
      w.Key("history_dropped").Uint(line.dropped());
      w.Key("recent").BeginArray();
      const auto& h = line.history();
      size_t start = h.size() > kRecentSets ? h.size() - kRecentSets : 0;
      for (size_t i = start; i < h.size(); ++i) {
        w.BeginObject();
        w.Key("level").String(LevelName(h[i].level));
        w.Key("t_ns").Int(h[i].timestamp_ns);
        w.EndObject();
      }
      w.EndArray();
    } else if (auto in = sim_inputs_.find(role); in != sim_inputs_.end()) {
      const SimInputLine& line = *in->second;
      w.Key("level").String(LevelName(line.level()));
      w.Key("edge").String(EdgeDetectName(spec.edge));
      w.Key("debounce_ms").Int(spec.debounce_ms);
      w.Key("pending_edges").Uint(line.pending());
      w.Key("bounces").Uint(line.bounces());
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace edgewatch::hal
