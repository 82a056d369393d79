#include "edgewatch/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace edgewatch::testing {

namespace {

constexpr size_t kMaxLine = 4 << 20;

// Builds the child's environment before fork (no allocation after fork).
std::vector<std::string> BuildEnv(const SubprocessOptions& o) {
  std::vector<std::string> env;
  auto overridden = [&o](std::string_view entry) {
    std::string_view name = entry.substr(0, entry.find('='));
    for (const auto& [k, v] : o.env) {
      if (k == name) return true;
    }
    for (const std::string& k : o.unset_env) {
      if (k == name) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env.emplace_back(*e);
  }
  for (const auto& [k, v] : o.env) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Result<UniqueFd> OpenFor(SubprocessOptions::Stdio mode, const std::string& path, bool input) {
  if (mode == SubprocessOptions::Stdio::kFile) {
    int fd = input ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC)
                   : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "open " + path);
    return UniqueFd(fd);
  }
  int fd = ::open("/dev/null", (input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open /dev/null");
  return UniqueFd(fd);
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return "exit " + std::to_string(code);
  return "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

Subprocess::~Subprocess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
}

Status Subprocess::Start(const SubprocessOptions& o) {
  if (pid_ > 0) return FailedPrecondition("already started");
  if (o.argv.empty()) return InvalidArgument("empty argv");
  if (::access(o.argv[0].c_str(), X_OK) != 0) {
    return ErrnoToStatus(errno, "cannot execute " + o.argv[0]);
  }
  IgnoreSigpipe();
  using Stdio = SubprocessOptions::Stdio;

  // Child-side descriptors for 0, 1, 2 and the ready fd; parent-side pipe ends.
  UniqueFd child_fd[3];
  for (int i = 0; i < 3; ++i) {
    Stdio mode = i == 0 ? o.stdin_mode : i == 1 ? o.stdout_mode : o.stderr_mode;
    if (mode == Stdio::kPipe) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
      UniqueFd r(p[0]), w(p[1]);
      UniqueFd& parent = i == 0 ? stdin_ : i == 1 ? stdout_ : stderr_;
      child_fd[i] = i == 0 ? std::move(r) : std::move(w);
      parent = i == 0 ? std::move(w) : std::move(r);
      EW_TRY(SetNonBlocking(parent.get()));
    } else {
      const std::string& path = i == 0 ? o.stdin_path : i == 1 ? o.stdout_path : o.stderr_path;
      EW_ASSIGN_OR_RETURN(child_fd[i], OpenFor(mode, path, i == 0));
    }
  }
  UniqueFd ready_child;
  if (o.ready_fd >= 0) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
    ready_ = UniqueFd(p[0]);
    ready_child = UniqueFd(p[1]);
    EW_TRY(SetNonBlocking(ready_.get()));
  }

  std::vector<std::string> argv_s = o.argv;
  std::vector<std::string> env_s = BuildEnv(o);
  std::vector<char*> argv = CStrings(argv_s);
  std::vector<char*> envp = CStrings(env_s);
  // dup2 targets must not collide with the sources: move every source above the highest target.
  const int floor_fd = std::max(3, o.ready_fd + 1);
  int src[4] = {child_fd[0].get(), child_fd[1].get(), child_fd[2].get(), ready_child.get()};
  UniqueFd raised[4];
  for (int i = 0; i < 4; ++i) {
    if (src[i] < 0) continue;
    int fd = ::fcntl(src[i], F_DUPFD_CLOEXEC, floor_fd);
    if (fd < 0) return ErrnoToStatus(errno, "fcntl(F_DUPFD)");
    raised[i] = UniqueFd(fd);
    src[i] = fd;
  }
  const pid_t parent_pid = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    if (o.kill_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent_pid) ::_exit(127);
    }
    for (int i = 0; i < 3; ++i) {
      if (::dup2(src[i], i) < 0) ::_exit(127);
    }
    if (o.ready_fd >= 0 && ::dup2(src[3], o.ready_fd) < 0) ::_exit(127);
    // Restore default signal dispositions the test may have changed (SIGPIPE ignored).
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  pid_ = pid;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) pidfd_ = UniqueFd(pidfd);
  return OkStatus();
}

Status Subprocess::WriteStdin(std::string_view data, int timeout_ms) {
  if (!stdin_.valid()) return FailedPrecondition("stdin is not a pipe (or already closed)");
  return WriteAll(stdin_.get(), data, Deadline(timeout_ms));
}

void Subprocess::CloseStdin() {
  stdin_.Reset();
}

Result<std::string> Subprocess::ReadLineFrom(int fd, std::string* buf, bool* eof, int timeout_ms) {
  Deadline deadline(timeout_ms);
  for (;;) {
    size_t nl = buf->find('\n');
    if (nl != std::string::npos) {
      std::string line = buf->substr(0, nl);
      buf->erase(0, nl + 1);
      return line;
    }
    if (*eof) {
      return Unavailable(buf->empty() ? "EOF" : "EOF after a partial line: " + *buf);
    }
    if (buf->size() > kMaxLine) return ResourceExhausted("line over 4 MiB");
    auto n = ReadSome(fd, buf, 64 * 1024, deadline);
    if (!n.ok()) return n.status();
    if (*n == 0) *eof = true;
  }
}

Result<std::string> Subprocess::ReadStdoutLine(int timeout_ms) {
  if (!stdout_.valid()) return FailedPrecondition("stdout is not a pipe");
  return ReadLineFrom(stdout_.get(), &stdout_buf_, &stdout_eof_, timeout_ms);
}

Result<std::string> Subprocess::ReadReadyLine(int timeout_ms) {
  if (!ready_.valid()) return FailedPrecondition("no ready fd");
  return ReadLineFrom(ready_.get(), &ready_buf_, &ready_eof_, timeout_ms);
}

Result<Subprocess::Output> Subprocess::Communicate(std::string_view input, int timeout_ms) {
  Deadline deadline(timeout_ms);
  Output out;
  out.out = std::move(stdout_buf_);
  stdout_buf_.clear();
  size_t written = 0;
  if (stdin_.valid() && input.empty()) CloseStdin();
  while (stdin_.valid() || stdout_.valid() || stderr_.valid()) {
    struct pollfd p[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (stdin_.valid()) {
      idx_in = n;
      p[n++] = {stdin_.get(), POLLOUT, 0};
    }
    if (stdout_.valid()) {
      idx_out = n;
      p[n++] = {stdout_.get(), POLLIN, 0};
    }
    if (stderr_.valid()) {
      idx_err = n;
      p[n++] = {stderr_.get(), POLLIN, 0};
    }
    int rc = ::poll(p, static_cast<nfds_t>(n), deadline.RemainingMs());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ErrnoToStatus(errno, "poll");
    if (rc == 0) {
      return DeadlineExceeded("process " + std::to_string(pid_) + " still running after " +
                              std::to_string(timeout_ms) +
                              " ms; stdout so far: " + out.out.substr(0, 2000) +
                              "; stderr so far: " + out.err.substr(0, 2000));
    }
    if (idx_in >= 0 && p[idx_in].revents != 0) {
      ssize_t w = ::write(stdin_.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) CloseStdin();
    }
    auto drain = [](UniqueFd& fd, std::string* sink) {
      char buf[16384];
      ssize_t r = ::read(fd.get(), buf, sizeof(buf));
      if (r > 0) {
        sink->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        fd.Reset();
      }
    };
    if (idx_out >= 0 && p[idx_out].revents != 0) drain(stdout_, &out.out);
    if (idx_err >= 0 && p[idx_err].revents != 0) drain(stderr_, &out.err);
  }
  EW_ASSIGN_OR_RETURN(out.exit, Wait(deadline.RemainingMs()));
  return out;
}

Status Subprocess::Signal(int sig) {
  if (!running()) return FailedPrecondition("process not running");
  if (::kill(pid_, sig) != 0) return ErrnoToStatus(errno, "kill");
  return OkStatus();
}

bool Subprocess::Reap(bool block) {
  if (exit_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  ExitStatus e;
  e.exited = WIFEXITED(status);
  e.code = e.exited ? WEXITSTATUS(status) : 0;
  e.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  exit_ = e;
  pidfd_.Reset();
  return true;
}

Result<ExitStatus> Subprocess::Wait(int timeout_ms) {
  if (pid_ <= 0) return FailedPrecondition("not started");
  Deadline deadline(timeout_ms);
  while (!Reap(/*block=*/false)) {
    if (deadline.Expired()) {
      return DeadlineExceeded("process " + std::to_string(pid_) + " did not exit within " +
                              std::to_string(timeout_ms) + " ms");
    }
    if (pidfd_.valid()) {
      // Readable once the process has exited.
      Status s = WaitFd(pidfd_.get(), POLLIN, deadline, "process exit");
      if (!s.ok() && s.code() != StatusCode::kDeadlineExceeded) return s;
    } else {
      // No pidfd (old kernel, qemu-user): re-check every 5 ms until the deadline.
      struct pollfd none = {-1, 0, 0};
      ::poll(&none, 0, std::min(5, std::max(deadline.RemainingMs(), 0)));
    }
  }
  return *exit_;
}

Result<Subprocess::Output> RunCommand(const std::vector<std::string>& argv, std::string_view input,
                                      int timeout_ms,
                                      const std::vector<std::pair<std::string, std::string>>& env) {
  Subprocess p;
  SubprocessOptions o;
  o.argv = argv;
  o.env = env;
  o.stdin_mode = SubprocessOptions::Stdio::kPipe;
  EW_TRY(p.Start(o));
  return p.Communicate(input, timeout_ms);
}

}  // namespace edgewatch::testing
