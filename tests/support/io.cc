#include "edgewatch/testing/io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>

#include "edgewatch/base/clock.h"

namespace edgewatch::testing {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Deadline::Deadline(int timeout_ms)
    : deadline_us_(timeout_ms < 0 ? -1 : MonotonicMicros() + int64_t{timeout_ms} * 1000) {}

int Deadline::RemainingMs() const {
  if (deadline_us_ < 0) return -1;
  int64_t left = deadline_us_ - MonotonicMicros();
  if (left <= 0) return 0;
  return static_cast<int>((left + 999) / 1000);
}

bool Deadline::Expired() const {
  return deadline_us_ >= 0 && MonotonicMicros() >= deadline_us_;
}

void IgnoreSigpipe() {
  static const bool done = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoToStatus(errno, "fcntl(O_NONBLOCK)");
  }
  return OkStatus();
}

Status WaitFd(int fd, short events, const Deadline& deadline, std::string_view what) {
  for (;;) {
    struct pollfd p = {fd, events, 0};
    int n = ::poll(&p, 1, deadline.RemainingMs());
    if (n > 0) return OkStatus();
    if (n == 0) return DeadlineExceeded("timed out waiting for " + std::string(what));
    if (errno != EINTR) return ErrnoToStatus(errno, "poll");
  }
}

Status WriteAll(int fd, std::string_view data, const Deadline& deadline) {
  IgnoreSigpipe();
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data() + off, data.size() - off);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      EW_TRY(WaitFd(fd, POLLOUT, deadline,
                    "the peer to accept data (" + std::to_string(off) + " of " +
                        std::to_string(data.size()) + " bytes written)"));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return Unavailable("peer closed the connection after " + std::to_string(off) + " of " +
                         std::to_string(data.size()) + " bytes");
    }
    return ErrnoToStatus(errno, "write");
  }
  return OkStatus();
}

Result<size_t> ReadSome(int fd, std::string* out, size_t max, const Deadline& deadline) {
  size_t old = out->size();
  out->resize(old + max);
  for (;;) {
    ssize_t n = ::recv(fd, out->data() + old, max, MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) n = ::read(fd, out->data() + old, max);
    if (n >= 0) {
      out->resize(old + static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = WaitFd(fd, POLLIN, deadline, "data from the peer");
      if (!s.ok()) {
        out->resize(old);
        return s;
      }
      continue;
    }
    int err = errno;
    out->resize(old);
    if (err == ECONNRESET) return Unavailable("connection reset by peer");
    return ErrnoToStatus(err, "read");
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace edgewatch::testing
