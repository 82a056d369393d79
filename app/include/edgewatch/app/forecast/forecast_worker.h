// ForecastWorker: the thread that runs forecast jobs, so that fitting never runs on the loop.
//
// One std::thread, one bounded FIFO of jobs. The loop thread submits jobs (Submit never blocks:
// it takes a mutex that is only ever held for a push/pop, and fails at once when the queue is
// full); the worker runs them one at a time and hands each finished job to `on_done` on the worker
// thread, which posts it to the loop (Gateway::Post → lws_cancel_service()). Nothing here ever
// waits for the loop, and the loop never waits for a job.
//
// Cancellation, deadlines and a prompt stop. A job carries an atomic `cancel` flag. The
// forecaster polls it before every objective evaluation (microseconds of work for the contexts
// allowed), and the testing delay waits on a condition variable that Cancel()/Stop() notify. So:
//   - a job abandoned at its deadline (ForecastService) stops within one evaluation; its result,
//     if it still arrives, is discarded by the service;
//   - Stop() cancels the running job, drops queued ones and joins: the join waits for one
//     objective evaluation, not for the rest of a fit (a 2 s job, or a 60 s test delay, does not
//     delay shutdown). The alternative — detaching a thread that may still call into a destroyed
//     gateway — would trade a bounded join for a use-after-free at exit.
//
// Thread-safety: Submit, Cancel and the accessors may be called from any thread; Start and Stop
// from the owner's thread (never from `on_done`).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "edgewatch/app/forecast/forecaster.h"
#include "edgewatch/base/status.h"

namespace edgewatch::app::forecast {

struct ForecastJob {
  // Written by the submitter before Submit(), read-only afterwards.
  uint64_t series_id = 0;
  ForecastRequest request;
  int test_delay_ms = 0;  // testing only: sleep (interruptibly) this long before fitting

  // Any thread may set it (ForecastWorker::Cancel); the worker reads it.
  std::atomic<bool> cancel{false};

  // Written by the worker before `on_done`; read by whoever `on_done` hands the job to (the
  // hand-off through Gateway::Post's mutex orders the accesses).
  Status status;
  std::optional<ForecastResult> result;  // set when status is OK
  int64_t started_ms = 0;                // unix ms when the worker picked the job up
  int64_t duration_us = 0;               // monotonic, including the testing delay
};

class ForecastWorker {
 public:
  using DoneFn = std::function<void(std::shared_ptr<ForecastJob>)>;

  // `capacity`: jobs that may wait (>= 1). `on_done` runs on the worker thread for every job taken
  // from the queue — successful, failed, or cancelled (before or while running: status
  // Unavailable); it must not block. Jobs still queued at Stop() are dropped without a report.
  ForecastWorker(size_t capacity, DoneFn on_done);
  ~ForecastWorker();  // Stop()
  ForecastWorker(const ForecastWorker&) = delete;
  ForecastWorker& operator=(const ForecastWorker&) = delete;

  // Starts the thread. FailedPrecondition when already started or stopped.
  Status Start();
  // Queues `job`. ResourceExhausted when `capacity` jobs are waiting, FailedPrecondition when not
  // running. Never blocks.
  Status Submit(std::shared_ptr<ForecastJob> job);
  // Sets job.cancel and wakes the worker if it is in the testing delay. Never blocks.
  void Cancel(ForecastJob& job);
  // Cancels the running job, drops the queued ones and joins (see the file comment for why this
  // is prompt). Idempotent; Submit fails afterwards. Owner thread only.
  void Stop();

  size_t queued() const;
  bool running_job() const { return running_job_.load(); }
  uint64_t jobs_run() const { return jobs_run_.load(); }

 private:
  void Loop();
  void Run(ForecastJob& job);

  const size_t capacity_;
  DoneFn on_done_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<ForecastJob>> queue_;  // guarded by mu_
  std::shared_ptr<ForecastJob> current_;            // guarded by mu_
  bool started_ = false;                            // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::thread thread_;
  std::atomic<bool> running_job_{false};
  std::atomic<uint64_t> jobs_run_{0};
};

}  // namespace edgewatch::app::forecast
