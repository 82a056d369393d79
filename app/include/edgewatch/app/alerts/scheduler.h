// Scheduler: the one-shot timers and clock that alert rules and output patterns run on.
//
// Production code uses GatewayScheduler (lws timers on the gateway's loop, through
// fw::Gateway::Every/CancelTimer); tests use FakeScheduler, whose clock only moves when the test
// advances it, so blink phases, sustained conditions and maximum durations are tested exactly and
// without sleeping.
//
// Threading: the event-loop thread only (tests: the test thread). Callbacks run on that thread and
// may schedule or cancel timers, including their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace edgewatch::fw {
class Gateway;
}

namespace edgewatch::app::alerts {

using TimerId = uint64_t;  // 0 is never a valid id

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // Runs `fn` once, `delay_us` (>= 0) from now. Returns an id for Cancel().
  virtual TimerId After(int64_t delay_us, std::function<void()> fn) = 0;
  // Cancels a pending timer. Unknown, fired or already cancelled ids are ignored.
  virtual void Cancel(TimerId id) = 0;
  // Monotonic time in microseconds (intervals and deadlines).
  virtual int64_t NowUs() const = 0;
  // Wall-clock time in Unix milliseconds (timestamps shown to people).
  virtual int64_t UnixMs() const = 0;
};

// Timers on the gateway's lws loop. The gateway must outlive this object; pending timers are
// cancelled by the destructor.
class GatewayScheduler final : public Scheduler {
 public:
  explicit GatewayScheduler(fw::Gateway& gw) : gw_(gw) {}
  ~GatewayScheduler() override;
  GatewayScheduler(const GatewayScheduler&) = delete;
  GatewayScheduler& operator=(const GatewayScheduler&) = delete;

  TimerId After(int64_t delay_us, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  int64_t NowUs() const override;
  int64_t UnixMs() const override;

 private:
  fw::Gateway& gw_;
  TimerId next_id_ = 0;
  std::map<TimerId, uint64_t> gateway_ids_;  // our id -> the gateway's timer id
};

// A deterministic scheduler for tests: time starts at `start_us` and moves only in Advance*().
// Timers due at the same instant run in the order they were scheduled.
class FakeScheduler final : public Scheduler {
 public:
  explicit FakeScheduler(int64_t start_us = 1'000'000, int64_t unix_ms_at_start = 1'700'000'000'000)
      : now_us_(start_us), start_us_(start_us), unix_ms_at_start_(unix_ms_at_start) {}

  TimerId After(int64_t delay_us, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  int64_t NowUs() const override { return now_us_; }
  int64_t UnixMs() const override { return unix_ms_at_start_ + (now_us_ - start_us_) / 1000; }

  // Moves time forward by `us`, running every timer that falls due on the way, each at its due
  // time (NowUs() equals the due time inside the callback). Timers scheduled by callbacks run too
  // if they fall due within the window. Returns how many timers ran.
  int AdvanceBy(int64_t us);
  // Moves time to `us` (not backwards).
  int AdvanceTo(int64_t us) { return AdvanceBy(us > now_us_ ? us - now_us_ : 0); }
  // Runs timers until none is pending, or `max_us` of time has passed. Returns how many ran.
  int RunAll(int64_t max_us);

  size_t pending() const { return timers_.size(); }
  // Due time of the earliest pending timer, or -1.
  int64_t NextDueUs() const { return timers_.empty() ? -1 : timers_.begin()->first.first; }

 private:
  int64_t now_us_;
  int64_t start_us_;
  int64_t unix_ms_at_start_;
  TimerId next_id_ = 0;
  // (due_us, id) -> callback: ordered by due time, then scheduling order.
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, int64_t> due_of_;
};

}  // namespace edgewatch::app::alerts
