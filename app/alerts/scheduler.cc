#include "edgewatch/app/alerts/scheduler.h"

#include <memory>

#include "edgewatch/base/clock.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::app::alerts {

GatewayScheduler::~GatewayScheduler() {
  // After Gateway::Run() returned there is no loop (context() is null): the gateway frees its
  // timers itself, and CancelTimer's deferred deletion could not run.
  if (gw_.context() == nullptr) return;
  for (const auto& [id, gw_id] : gateway_ids_) gw_.CancelTimer(gw_id);
}

TimerId GatewayScheduler::After(int64_t delay_us, std::function<void()> fn) {
  TimerId id = ++next_id_;
  // The gateway's timers are periodic: the first firing cancels the timer, then runs `fn`.
  // Gateway::CancelTimer defers destroying the timer, so cancelling from its callback is safe.
  uint64_t gw_id = gw_.Every(delay_us > 0 ? delay_us : 1, [this, id, fn = std::move(fn)] {
    auto it = gateway_ids_.find(id);
    if (it == gateway_ids_.end()) return;  // cancelled after it fell due
    gw_.CancelTimer(it->second);
    gateway_ids_.erase(it);
    fn();
  });
  gateway_ids_.emplace(id, gw_id);
  return id;
}

void GatewayScheduler::Cancel(TimerId id) {
  auto it = gateway_ids_.find(id);
  if (it == gateway_ids_.end()) return;
  if (gw_.context() != nullptr) gw_.CancelTimer(it->second);
  gateway_ids_.erase(it);
}

int64_t GatewayScheduler::NowUs() const {
  return MonotonicMicros();
}

int64_t GatewayScheduler::UnixMs() const {
  return UnixMillis();
}

TimerId FakeScheduler::After(int64_t delay_us, std::function<void()> fn) {
  TimerId id = ++next_id_;
  int64_t due = now_us_ + (delay_us > 0 ? delay_us : 0);
  timers_.emplace(std::make_pair(due, id), std::move(fn));
  due_of_.emplace(id, due);
  return id;
}

void FakeScheduler::Cancel(TimerId id) {
  auto it = due_of_.find(id);
  if (it == due_of_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  due_of_.erase(it);
}

int FakeScheduler::AdvanceBy(int64_t us) {
  const int64_t end = now_us_ + (us > 0 ? us : 0);
  int ran = 0;
  while (!timers_.empty() && timers_.begin()->first.first <= end) {
    auto node = timers_.extract(timers_.begin());
    due_of_.erase(node.key().second);
    now_us_ = node.key().first;
    node.mapped()();
    ++ran;
  }
  now_us_ = end;
  return ran;
}

int FakeScheduler::RunAll(int64_t max_us) {
  const int64_t end = now_us_ + max_us;
  int ran = 0;
  while (!timers_.empty() && timers_.begin()->first.first <= end) {
    ran += AdvanceTo(timers_.begin()->first.first);
  }
  return ran;
}

}  // namespace edgewatch::app::alerts
