#include "edgewatch/base/file_util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace edgewatch {

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void SecureWipe(void* p, size_t n) {
  if (n > 0) ::explicit_bzero(p, n);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoToStatus(errno, "read " + path);
      SecureWipe(data.data(), data.size());
      SecureWipe(buf, sizeof(buf));
      return s;
    }
    if (n == 0) break;
    if (data.size() + static_cast<size_t>(n) > max_bytes) {
      SecureWipe(data.data(), data.size());
      SecureWipe(buf, sizeof(buf));
      return InvalidArgument(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    data.append(buf, static_cast<size_t>(n));
  }
  SecureWipe(buf, sizeof(buf));
  return data;
}

Status MakePrivateDirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return InvalidArgument(dir + " is not a directory");
    return OkStatus();
  }
  if (errno != ENOENT) return ErrnoToStatus(errno, "stat " + dir);
  std::string parent = DirName(dir);
  if (parent != dir) EW_TRY(MakePrivateDirs(parent));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "mkdir " + dir);
  }
  return OkStatus();
}

Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode) {
  std::string dir = DirName(path);
  std::string tmp = path + ".tmp.XXXXXX";
  int raw_fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // created with mode 0600
  if (raw_fd < 0) return ErrnoToStatus(errno, "create a temporary file in " + dir);
  ScopedFd fd(raw_fd);
  auto fail = [&tmp](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(ErrnoToStatus(errno, "chmod " + tmp));
  Status written = WriteAll(fd.get(), data, tmp);
  if (!written.ok()) return fail(written);
  if (::fsync(fd.get()) != 0) return fail(ErrnoToStatus(errno, "fsync " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(ErrnoToStatus(errno, "rename to " + path));
  }
  ScopedFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());  // best effort: the file itself is complete
  return OkStatus();
}

}  // namespace edgewatch
