// Small file helpers private to the HAL: whole-file reads of procfs/sysfs/board files and an owned
// file descriptor. errno is mapped to a Status here, once.
#pragma once

#include <cstddef>
#include <string>

#include "edgewatch/base/status.h"

namespace edgewatch::hal::internal {

// Reads all of `path` (procfs files report size 0, so this reads to EOF). Errors: the open/read
// errno mapped by ErrnoToStatus (NotFound, PermissionDenied, ...) with the path in the message;
// ResourceExhausted when the file is larger than `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 64 * 1024);

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

}  // namespace edgewatch::hal::internal
