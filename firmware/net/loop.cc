#include "edgewatch/fw/loop.h"

#include <cstddef>

#include "edgewatch/base/clock.h"

namespace edgewatch::fw {

void Timer::Init(lws_context* context, std::function<void()> callback) {
  context_ = context;
  callback_ = std::move(callback);
}

void Timer::Arm(int64_t delay_us) {
  due_us_ = MonotonicMicros() + delay_us;
  armed_ = true;
  lws_sul_schedule(context_, 0, &node_.sul, &Timer::Fire, delay_us);
}

void Timer::StartOnce(int64_t delay_us) {
  period_us_ = 0;
  Arm(delay_us);
}

void Timer::StartPeriodic(int64_t period_us) {
  period_us_ = period_us;
  Arm(period_us);
}

void Timer::Cancel() {
  if (!armed_ || context_ == nullptr) return;
  armed_ = false;
  // lws 4.0 has no lws_sul_cancel(); the schedule call with CANCEL works on 4.0 and 4.1.
  lws_sul_schedule(context_, 0, &node_.sul, &Timer::Fire, LWS_SET_TIMER_USEC_CANCEL);
}

void Timer::Fire(lws_sorted_usec_list_t* sul) {
  Timer* self = reinterpret_cast<Node*>(sul)->self;
  int64_t now = MonotonicMicros();
  self->last_lag_us_ = now > self->due_us_ ? now - self->due_us_ : 0;
  self->armed_ = false;
  if (self->period_us_ > 0) {
    // Schedule from the intended due time so periodic timers do not drift.
    int64_t next = self->due_us_ + self->period_us_ - now;
    if (next < 0) next = 0;
    self->due_us_ = now + next;
    self->armed_ = true;
    lws_sul_schedule(self->context_, 0, &self->node_.sul, &Timer::Fire, next);
  }
  // The callback may Cancel() or re-arm this timer, or even destroy its owner: run it last.
  std::function<void()>& cb = self->callback_;
  if (cb) cb();
}

void Mailbox::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    queue_.push_back(std::move(fn));
  }
  if (context_ != nullptr) lws_cancel_service(context_);
}

size_t Mailbox::Drain() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto& fn : batch) fn();
  return batch.size();
}

void Mailbox::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  queue_.clear();
}

}  // namespace edgewatch::fw
