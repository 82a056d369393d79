// The libgpiod 1.6 backend, over the C API (the C++ binding throws and allocates per call).
//
// errno is mapped to a Status here, once, and logged here only. libgpiod 1.6 speaks the kernel's
// v1 character-device ABI, in which the active-low flag also applies to edge events: an event is
// reported in logical terms (RISING = became active), which is what hal::Edge carries.
#include "edgewatch/hal/gpiod_chip.h"

#include <fcntl.h>
#include <gpiod.h>

#include <cerrno>
#include <string>
#include <utility>

#include "edgewatch/base/log.h"

namespace edgewatch::hal {

namespace {

constexpr char kConsumer[] = "edgewatch";
constexpr char kLog[] = "gpio";

struct ChipCloser {
  void operator()(gpiod_chip* chip) const { gpiod_chip_close(chip); }
};
using ChipHandle = std::unique_ptr<gpiod_chip, ChipCloser>;

// "gpiochip0 [pinctrl-bcm2711] (54 lines), ..." for error messages; "none" without devices.
std::string ListChips() {
  gpiod_chip_iter* iter = gpiod_chip_iter_new();
  if (iter == nullptr) return "none readable";
  std::string out;
  gpiod_chip* chip;
  gpiod_foreach_chip(iter, chip) {
    if (!out.empty()) out += ", ";
    out += gpiod_chip_name(chip);
    out += " [";
    out += gpiod_chip_label(chip);
    out += "] (" + std::to_string(gpiod_chip_num_lines(chip)) + " lines)";
  }
  gpiod_chip_iter_free(iter);
  return out.empty() ? "none" : out;
}

Result<ChipHandle> FindChip(const BoardSpec& board) {
  const std::string& id = board.chip;
  if (!id.empty() && id[0] == '/') {
    gpiod_chip* chip = gpiod_chip_open(id.c_str());
    if (chip == nullptr) return ErrnoToStatus(errno, "opening gpio chip " + id);
    return ChipHandle(chip);
  }
  errno = 0;
  if (gpiod_chip* chip = gpiod_chip_open_by_label(id.c_str()); chip != nullptr) {
    return ChipHandle(chip);
  }
  int label_errno = errno;
  if (gpiod_chip* chip = gpiod_chip_open_by_name(id.c_str()); chip != nullptr) {
    return ChipHandle(chip);
  }
  int name_errno = errno;
  for (int e : {label_errno, name_errno}) {
    if (e == EACCES || e == EPERM) {
      return ErrnoToStatus(
          e, "opening gpio chip '" + id + "' (is the user in the group owning /dev/gpiochip*?)");
    }
  }
  return NotFound("board '" + board.name + "': no gpio chip with label or name '" + id +
                  "' (chips present: " + ListChips() + ")");
}

// "line 17 (alert_led) on pinctrl-bcm2711", for messages.
std::string Describe(const std::string& role, const LineSpec& spec, const BoardSpec& board) {
  return "line " + std::to_string(spec.offset) + " (" + role + ") on " + board.chip;
}

// Logs the first failure of a run of failures and the recovery, not every blink of a broken line.
class FailureLog {
 public:
  void Failed(const std::string& what, const Status& s) {
    if (!failing_) EW_WARN(kLog, "%s: %s", what.c_str(), s.ToString().c_str());
    failing_ = true;
  }
  void Succeeded(const std::string& what) {
    if (failing_) EW_INFO(kLog, "%s works again", what.c_str());
    failing_ = false;
  }

 private:
  bool failing_ = false;
};

class GpiodOutputLine final : public DigitalOut {
 public:
  GpiodOutputLine(gpiod_line* line, std::string what) : line_(line), what_(std::move(what)) {}

 private:
  Status DoSet(Level level) override {
    if (gpiod_line_set_value(line_, level == Level::kActive ? 1 : 0) < 0) {
      Status s = ErrnoToStatus(errno, "setting " + what_);
      log_.Failed(what_, s);
      return s;
    }
    log_.Succeeded(what_);
    return OkStatus();
  }

  gpiod_line* line_;  // owned by the chip; released by gpiod_chip_close
  std::string what_;
  FailureLog log_;
};

class GpiodInputLine final : public DigitalIn {
 public:
  GpiodInputLine(gpiod_line* line, int event_fd, const EdgeFilter& filter, std::string what)
      : DigitalIn(filter), line_(line), event_fd_(event_fd), what_(std::move(what)) {}

 private:
  Result<Level> DoGet() override {
    int v = gpiod_line_get_value(line_);
    if (v < 0) {
      Status s = ErrnoToStatus(errno, "reading " + what_);
      log_.Failed(what_, s);
      return s;
    }
    log_.Succeeded(what_);
    return v ? Level::kActive : Level::kInactive;
  }

  int DoEventFd() const override { return event_fd_; }

  Result<Edge> DoReadEdge() override {
    gpiod_line_event event{};
    // The descriptor is non-blocking: EAGAIN means nothing is pending.
    if (gpiod_line_event_read_fd(event_fd_, &event) < 0) {
      if (errno == EAGAIN) return Unavailable("no edge pending on " + what_);
      Status s = ErrnoToStatus(errno, "reading an edge event of " + what_);
      log_.Failed(what_, s);
      return s;
    }
    Edge edge;
    edge.level =
        event.event_type == GPIOD_LINE_EVENT_RISING_EDGE ? Level::kActive : Level::kInactive;
    edge.timestamp_ns = static_cast<int64_t>(event.ts.tv_sec) * 1'000'000'000 +
                        static_cast<int64_t>(event.ts.tv_nsec);
    return edge;
  }

  gpiod_line* line_;  // owned by the chip
  int event_fd_;      // owned by libgpiod (closed on release); -1 without edge detection
  std::string what_;
  FailureLog log_;
};

class GpiodChip final : public GpioChip {
 public:
  GpiodChip(const BoardSpec& board, ChipHandle chip) : GpioChip(board), chip_(std::move(chip)) {}

  // Lines are released by gpiod_chip_close() when chip_ is destroyed; the line objects (owned by
  // the base class, destroyed after this) never touch libgpiod in their destructors.
  ~GpiodChip() override = default;

  Status RequestAll() {
    const BoardSpec& b = board();
    unsigned num_lines = gpiod_chip_num_lines(chip_.get());
    for (const auto& [role, spec] : b.lines) {
      std::string what = Describe(role, spec, b);
      if (spec.offset >= num_lines) {
        return OutOfRange("board '" + b.name + "': lines." + role + ".offset " +
                          std::to_string(spec.offset) + " is beyond chip " + b.chip + " (" +
                          gpiod_chip_name(chip_.get()) + ", " + std::to_string(num_lines) +
                          " lines)");
      }
      gpiod_line* line = gpiod_chip_get_line(chip_.get(), spec.offset);
      if (line == nullptr) return ErrnoToStatus(errno, "getting " + what);

      int flags = 0;
      if (spec.active_low) flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
      switch (spec.bias) {
        case Bias::kAsIs:
          break;
        case Bias::kDisable:
          flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
          break;
        case Bias::kPullUp:
          flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
          break;
        case Bias::kPullDown:
          flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
          break;
      }
      EdgeFilter filter = MakeEdgeFilter(spec);
      bool events = filter.report_activate || filter.report_deactivate;
      int type = GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
      if (spec.direction == Direction::kInput) {
        // Both edges whenever any is wanted: the facade's debounce must see releases too, or a
        // bouncing release reads as a second press. It filters the direction afterwards.
        type = events ? GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES : GPIOD_LINE_REQUEST_DIRECTION_INPUT;
      }
      gpiod_line_request_config config{kConsumer, type, flags};
      // Outputs start inactive (logical 0; the kernel applies active-low).
      if (gpiod_line_request(line, &config, 0) < 0) return RequestError(line, errno, what);

      if (spec.direction == Direction::kOutput) {
        AddOutput(role, std::make_unique<GpiodOutputLine>(line, std::move(what)));
        continue;
      }
      int fd = -1;
      if (events) {
        fd = gpiod_line_event_get_fd(line);
        if (fd < 0) return ErrnoToStatus(errno, "event descriptor of " + what);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
          return ErrnoToStatus(errno, "making the event descriptor of " + what + " non-blocking");
        }
      }
      AddInput(role, std::make_unique<GpiodInputLine>(line, fd, filter, std::move(what)));
    }
    EW_INFO(kLog, "board %s: %zu lines requested on %s [%s] as \"%s\"", b.name.c_str(),
            b.lines.size(), gpiod_chip_name(chip_.get()), gpiod_chip_label(chip_.get()), kConsumer);
    return OkStatus();
  }

 private:
  Status RequestError(gpiod_line* line, int err, const std::string& what) {
    std::string msg = "requesting " + what;
    if (err == EBUSY && gpiod_line_update(line) == 0) {
      const char* holder = gpiod_line_consumer(line);
      msg += " (held by '" + std::string(holder ? holder : "unknown") + "')";
    }
    Status s = ErrnoToStatus(err, msg);
    EW_ERROR(kLog, "%s", s.ToString().c_str());
    return s;
  }

  ChipHandle chip_;
};

}  // namespace

Result<std::unique_ptr<GpioChip>> OpenGpiodChip(const BoardSpec& board) {
  Result<ChipHandle> handle = FindChip(board);
  if (!handle.ok()) {
    EW_ERROR(kLog, "%s", handle.status().ToString().c_str());
    return handle.status();
  }
  auto chip = std::make_unique<GpiodChip>(board, std::move(handle).value());
  EW_TRY(chip->RequestAll());
  return std::unique_ptr<GpioChip>(std::move(chip));
}

}  // namespace edgewatch::hal
