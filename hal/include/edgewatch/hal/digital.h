// DigitalOut / DigitalIn: one GPIO line each, as handed out by a GpioChip (chip.h).
//
// Facade + backend: the public methods are non-virtual and hold the behaviour every backend
// shares (the last level set, debouncing and edge filtering); backends implement the private
// Do*() hooks. Lines are owned by the chip that created them and live as long as it does.
//
// Threading: a line is used from the event-loop thread only. No call blocks: GPIO ioctls return
// at once, and edge events are read from a non-blocking descriptor.
#pragma once

#include <cstdint>

#include "edgewatch/base/status.h"
#include "edgewatch/hal/level.h"

namespace edgewatch::hal {

class DigitalOut {
 public:
  virtual ~DigitalOut() = default;
  DigitalOut(const DigitalOut&) = delete;
  DigitalOut& operator=(const DigitalOut&) = delete;

  // Drives the line to the logical `level` (polarity from the board file is applied by the
  // backend). Returns OK; or the backend's error (the kernel's errno mapped once by
  // ErrnoToStatus: Unavailable, PermissionDenied, Internal, ...), in which case level() keeps
  // the last level that was set successfully.
  Status Set(Level level) {
    Status s = DoSet(level);
    if (s.ok()) level_ = level;
    return s;
  }

  // The last level set successfully. Lines are requested inactive, so kInactive before any Set.
  Level level() const { return level_; }

 protected:
  DigitalOut() = default;

 private:
  virtual Status DoSet(Level level) = 0;

  Level level_ = Level::kInactive;
};

// One edge event, in logical terms.
struct Edge {
  // The level the line moved to: kActive for an activating edge (e.g. a button with
  // "active": "low" being pressed, which is an electrically falling edge).
  Level level = Level::kInactive;
  // When the edge happened, in nanoseconds. gpiod: the kernel's event timestamp
  // (CLOCK_MONOTONIC on Linux >= 5.7); sim: the SimChip's clock. Only differences are meaningful.
  int64_t timestamp_ns = 0;
};

// Which edges DigitalIn::ReadEdge() reports, and how it debounces. Backends derive it from the
// board's LineSpec with MakeEdgeFilter() (board.h).
struct EdgeFilter {
  bool report_activate = false;    // report edges to Level::kActive
  bool report_deactivate = false;  // report edges to Level::kInactive
  // An edge less than this long after the last accepted edge (of either direction) is a bounce
  // and is dropped. Accepting both directions keeps the release of a button from bouncing into a
  // second "press". 0 disables debouncing.
  int64_t debounce_ns = 0;
};

class DigitalIn {
 public:
  virtual ~DigitalIn() = default;
  DigitalIn(const DigitalIn&) = delete;
  DigitalIn& operator=(const DigitalIn&) = delete;

  // The current logical level. OK with the level, or the backend's error.
  Result<Level> Get() { return DoGet(); }

  // A descriptor that polls readable while at least one raw edge event is pending, for adoption
  // into the event loop (lws_adopt_descriptor_vhost with LWS_ADOPT_RAW_FILE_DESC). Owned by the
  // line: do not close it. -1 when the board configures no edge detection for this line.
  int EventFd() const { return DoEventFd(); }

  // Consumes pending raw edges until one passes the debounce and direction filter, and returns
  // it. Returns Unavailable when nothing (more) is pending: call it in a loop when EventFd()
  // becomes readable, until it returns Unavailable. FailedPrecondition when the line has no edge
  // detection; other codes are backend errors. Never blocks.
  Result<Edge> ReadEdge();

  // Edges dropped as bounces since the line was opened (diagnostics).
  uint64_t bounces() const { return bounces_; }
  const EdgeFilter& edge_filter() const { return filter_; }

 protected:
  explicit DigitalIn(const EdgeFilter& filter) : filter_(filter) {}

 private:
  virtual Result<Level> DoGet() = 0;
  virtual int DoEventFd() const = 0;
  // Returns the next raw edge (both directions, undebounced), Unavailable when none is pending.
  virtual Result<Edge> DoReadEdge() = 0;

  EdgeFilter filter_;
  bool have_last_ = false;
  int64_t last_accepted_ns_ = 0;
  uint64_t bounces_ = 0;
};

}  // namespace edgewatch::hal
