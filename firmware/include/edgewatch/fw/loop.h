// Event-loop primitives on top of one lws context: timers and a cross-thread mailbox.
//
// Everything here runs on the loop thread except Mailbox::Post(), which any thread may call:
// it queues a closure and wakes the loop with lws_cancel_service(), the only lws call that is
// safe from another thread.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace edgewatch::fw {

// A one-shot or periodic timer on lws's sorted-usec list. Loop thread only. The callback runs on
// the loop thread; it may re-arm or cancel its own timer. Destroying the Timer cancels it.
class Timer {
 public:
  Timer() = default;
  ~Timer() { Cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Binds to `context`. Must be called once before Start*().
  void Init(lws_context* context, std::function<void()> callback);
  // Fires once after `delay_us`.
  void StartOnce(int64_t delay_us);
  // Fires every `period_us`, first after one period. Late firings are measured (LastLagUs()).
  void StartPeriodic(int64_t period_us);
  void Cancel();
  bool armed() const { return armed_; }
  // How late (µs) the most recent firing was relative to its schedule.
  int64_t last_lag_us() const { return last_lag_us_; }

 private:
  static void Fire(lws_sorted_usec_list_t* sul);
  void Arm(int64_t delay_us);

  // Standard-layout holder so Fire() can get from the sul back to its Timer.
  struct Node {
    lws_sorted_usec_list_t sul;
    Timer* self;
  };
  Node node_{{}, this};
  lws_context* context_ = nullptr;
  std::function<void()> callback_;
  int64_t period_us_ = 0;
  int64_t due_us_ = 0;
  int64_t last_lag_us_ = 0;
  bool armed_ = false;
};

// Hands closures from any thread to the loop thread.
class Mailbox {
 public:
  explicit Mailbox(lws_context* context = nullptr) : context_(context) {}
  void set_context(lws_context* context) { context_ = context; }

  // Any thread. Queues `fn` to run on the loop thread and wakes the loop. After Close(),
  // closures are dropped.
  void Post(std::function<void()> fn);
  // Loop thread: runs every queued closure (including ones posted while draining? no: those run
  // on the next wake-up). Returns how many ran.
  size_t Drain();
  // Any thread: stops accepting closures (used at shutdown).
  void Close();

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  lws_context* context_;
  bool closed_ = false;
};

}  // namespace edgewatch::fw
