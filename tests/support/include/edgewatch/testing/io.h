// Low-level helpers shared by the test clients: an owning file descriptor, a deadline, and
// poll-bounded reads and writes. Timeouts here are failure bounds only: every wait is a poll(2)
// on the descriptor that returns as soon as it is ready.
//
// Single-threaded use per object; no global state except that the first Subprocess or socket
// write makes SIGPIPE ignored (see IgnoreSigpipe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "edgewatch/base/status.h"

namespace edgewatch::testing {

// Owns a file descriptor; closes it on destruction. -1 means empty.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A point in monotonic time; Deadline(ms) is `ms` milliseconds from now. Negative ms: infinite.
class Deadline {
 public:
  explicit Deadline(int timeout_ms);
  // Milliseconds left, for poll(2): 0 once expired, -1 when infinite. Rounded up so a poll never
  // returns early only to find the deadline still in the future.
  int RemainingMs() const;
  bool Expired() const;

 private:
  int64_t deadline_us_;  // -1: infinite
};

// Ignores SIGPIPE process-wide (idempotent), so writing to a closed pipe or socket returns EPIPE
// instead of killing the test.
void IgnoreSigpipe();

Status SetNonBlocking(int fd);

// Waits until `fd` reports any of `events` (POLLIN, POLLOUT); also returns OK on POLLHUP/POLLERR
// so the caller's next read/write reports the condition. DeadlineExceeded on timeout.
Status WaitFd(int fd, short events, const Deadline& deadline, std::string_view what);

// Writes all of `data` to `fd` (a socket, or a pipe set O_NONBLOCK), polling for
// writability. Unavailable when the peer is gone (EPIPE/ECONNRESET), DeadlineExceeded on timeout.
Status WriteAll(int fd, std::string_view data, const Deadline& deadline);

// Reads what is available from `fd` (a socket, or a pipe set O_NONBLOCK): at most `max` bytes,
// waiting until at least one byte or EOF, and appends them to `out`. Returns the number of bytes
// read; 0 means EOF. Unavailable on a connection reset, DeadlineExceeded on timeout.
Result<size_t> ReadSome(int fd, std::string* out, size_t max, const Deadline& deadline);

// Reads `path` whole; empty string when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace edgewatch::testing
