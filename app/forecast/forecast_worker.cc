#include "edgewatch/app/forecast/forecast_worker.h"

#include <chrono>
#include <utility>

#include "edgewatch/base/clock.h"

namespace edgewatch::app::forecast {

ForecastWorker::ForecastWorker(size_t capacity, DoneFn on_done)
    : capacity_(capacity > 0 ? capacity : 1), on_done_(std::move(on_done)) {}

ForecastWorker::~ForecastWorker() {
  Stop();
}

Status ForecastWorker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return FailedPrecondition("forecast worker already started");
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return OkStatus();
}

Status ForecastWorker::Submit(std::shared_ptr<ForecastJob> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || stopping_) return FailedPrecondition("forecast worker not running");
  if (queue_.size() >= capacity_) {
    return ResourceExhausted("forecast queue full (" + std::to_string(capacity_) + " jobs)");
  }
  queue_.push_back(std::move(job));
  cv_.notify_all();
  return OkStatus();
}

void ForecastWorker::Cancel(ForecastJob& job) {
  job.cancel.store(true);
  // Taking the mutex orders the flag with the delay's predicate check, so the wake-up is not
  // lost between the check and the wait.
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

void ForecastWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
    if (current_) current_->cancel.store(true);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

size_t ForecastWorker::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void ForecastWorker::Loop() {
  while (true) {
    std::shared_ptr<ForecastJob> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      current_ = job;
      running_job_.store(true);
    }
    // A job cancelled while queued is not run, only reported (Run sees the flag at once).
    Run(*job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_.reset();
      running_job_.store(false);
    }
    jobs_run_.fetch_add(1);
    if (on_done_) on_done_(std::move(job));
  }
}

void ForecastWorker::Run(ForecastJob& job) {
  job.started_ms = UnixMillis();
  const int64_t t0 = MonotonicMicros();
  if (job.test_delay_ms > 0) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(job.test_delay_ms),
                 [&] { return stopping_ || job.cancel.load(); });
  }
  Result<ForecastResult> r = job.cancel.load() ? Result<ForecastResult>(Unavailable("cancelled"))
                                               : RunForecast(job.request, &job.cancel);
  job.duration_us = MonotonicMicros() - t0;
  job.status = r.status();
  if (r.ok()) job.result = std::move(r).value();
}

}  // namespace edgewatch::app::forecast
