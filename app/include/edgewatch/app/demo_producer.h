// DemoProducer: runs a DemoPipeline on its own thread and writes its lines to the gateway's
// ingest Unix socket, exactly like any external producer would (SOCK_STREAM, newline-delimited
// JSON, blocking writes).
//
// - Absent or closed socket: reconnects with exponential back-off (initial_backoff_ms doubling up
//   to max_backoff_ms); events due while disconnected are dropped, not replayed.
// - Lines the gateway sends back (error replies such as {"error":...,"line":n}) are logged at
//   warn level (subsystem "demo") and passed to `on_reply`.
// - If writing falls behind (the gateway reads slowly), events older than max_catch_up_ms are
//   dropped instead of queued: memory stays bounded.
// - Waiting (for the next event, for a reply, during back-off) is a poll() on the socket and an
//   eventfd, so Stop() wakes the thread at once; a write blocked on a full socket is interrupted
//   by shutting the socket down. Stop() therefore returns promptly in every state.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "edgewatch/base/status.h"

namespace edgewatch::app {

struct DemoProducerOptions {
  uint64_t seed = 1;
  int initial_backoff_ms = 100;
  int max_backoff_ms = 5000;
  int64_t max_catch_up_ms = 2000;
  // SO_SNDBUF for the socket; 0 keeps the kernel's default.
  int send_buffer_bytes = 0;
  // Unix ms "now" for the generator; empty: the real clock (wall time at Start(), advanced by
  // the monotonic clock). Called on the producer thread only.
  std::function<int64_t()> clock_ms;
  // Called on the producer thread with each line the gateway sent (without the '\n').
  std::function<void(std::string_view)> on_reply;
};

class DemoProducer {
 public:
  explicit DemoProducer(DemoProducerOptions options = {});
  // Stops (and joins) the thread.
  ~DemoProducer();
  DemoProducer(const DemoProducer&) = delete;
  DemoProducer& operator=(const DemoProducer&) = delete;

  // Starts the thread, which connects to `socket_path` (it need not exist yet). Returns
  // FailedPrecondition when already started, InvalidArgument when the path does not fit a
  // sockaddr_un, or the errno-derived status when the eventfd cannot be created. Not
  // thread-safe with respect to Stop(): call both from the owning thread.
  Status Start(std::string socket_path);

  // Wakes and joins the thread and closes the socket. Idempotent; no-op when not started.
  void Stop();

  bool running() const { return thread_.joinable(); }

  // Counters; any thread.
  uint64_t lines_sent() const { return lines_sent_.load(); }
  uint64_t connects() const { return connects_.load(); }
  uint64_t replies() const { return replies_.load(); }

 private:
  void Run();
  int64_t Now();
  // Opens a connected, blocking socket and publishes it in fd_ (unless stopping). Returns false
  // (with errno-derived detail logged) on failure.
  bool Connect();
  void CloseSocket();
  // Waits up to `timeout_ms` for the stop eventfd (and, when `with_socket`, for socket input).
  // Returns the poll revents of the socket; sets `*stop` when Stop() was called.
  short Wait(int timeout_ms, bool with_socket, bool* stop);
  bool SendAll(const std::string& data);
  // Reads what the gateway sent; returns false on EOF or error.
  bool ReadReplies();

  DemoProducerOptions options_;
  std::string path_;
  std::thread thread_;
  int wake_fd_ = -1;  // eventfd; written by Stop()
  std::atomic<bool> stop_{false};
  // fd_ is written by the producer thread under mu_ and shut down by Stop() under mu_, so Stop()
  // never touches a descriptor number that was closed and reused.
  std::mutex mu_;
  int fd_ = -1;
  std::string rx_;
  std::vector<std::string> commands_in_;  // "command" lines read, applied by Run()
  bool rx_discarding_ = false;
  bool logged_unavailable_ = false;
  int64_t anchor_unix_ms_ = 0;
  int64_t anchor_mono_us_ = 0;
  std::atomic<uint64_t> lines_sent_{0};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> replies_{0};
};

}  // namespace edgewatch::app
