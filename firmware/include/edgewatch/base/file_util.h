// Small-file helpers shared by the firmware (TLS keys and certificates, the JWT secret): bounded
// reads, private directories, complete writes, atomic replacement. Blocking: call them at start-up
// or off the event loop. Any thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch {

// Closes a file descriptor on scope exit (a negative descriptor is ignored).
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd();
  int get() const { return fd_; }

 private:
  int fd_;
};

// The directory part of `path`: "." without a slash, "/" for a file in the root.
std::string DirName(const std::string& path);

// Overwrites `n` bytes at `p` in a way the compiler may not remove (for secrets).
void SecureWipe(void* p, size_t n);

// The contents of the regular file at `path`. InvalidArgument when it is not a regular file or is
// longer than `max_bytes`; ErrnoToStatus otherwise. Buffers are wiped; the caller wipes the
// result if it is secret.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// Creates `dir` and its missing parents with mode 0700; an existing directory is left as is.
// InvalidArgument when `dir` exists and is not a directory.
Status MakePrivateDirs(const std::string& dir);

// Writes all of `data` to `fd`, retrying short writes and EINTR. `what` names the file in errors.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Writes `data` to a temporary file next to `path` created with `mode`, fsyncs it and renames it
// over `path` (replacing an existing file), then fsyncs the directory (best effort). On failure
// nothing is left behind and `path` is unchanged.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode);

}  // namespace edgewatch
