// Subprocess: fork/exec a program for integration tests, with piped or file-captured stdio, an
// optional "ready" pipe on a chosen descriptor, bounded waits, and kill-and-reap on destruction.
// Not thread-safe; the owning test thread drives it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/testing/io.h"

namespace edgewatch::testing {

struct ExitStatus {
  bool exited = false;  // true: exited with `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;

  bool success() const { return exited && code == 0; }
  // "exit 0", "exit 3", "signal 9 (Killed)".
  std::string ToString() const;
};

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the program path (no PATH lookup)
  // Set in the child's environment (inherited from the test otherwise); overrides.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;

  // Where each stream goes. kNull: /dev/null; kPipe: readable/writable through this object;
  // kFile: the file at *_path (created or truncated).
  enum class Stdio { kNull, kPipe, kFile };
  Stdio stdin_mode = Stdio::kNull;
  Stdio stdout_mode = Stdio::kPipe;
  Stdio stderr_mode = Stdio::kPipe;
  std::string stdin_path;  // kFile: read from this file
  std::string stdout_path;
  std::string stderr_path;

  // When >= 0: a pipe whose write end the child holds as this descriptor (e.g. 3 for
  // --ready-fd 3); read it with ReadReadyLine().
  int ready_fd = -1;
  // The child gets SIGKILL if the test process dies (PR_SET_PDEATHSIG), so nothing leaks.
  bool kill_with_parent = true;
};

class Subprocess {
 public:
  Subprocess() = default;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  // Starts the child. NotFound when argv[0] does not exist or is not executable; a failed exec
  // after fork shows up as exit code 127.
  Status Start(const SubprocessOptions& options);

  // stdin (kPipe only).
  Status WriteStdin(std::string_view data, int timeout_ms = 5000);
  void CloseStdin();

  // stdout (kPipe only): the next line without '\n'. Unavailable at EOF, DeadlineExceeded.
  Result<std::string> ReadStdoutLine(int timeout_ms);
  // The first line written to the ready descriptor (without '\n'). Unavailable when the child
  // closed it (or exited) without writing a full line.
  Result<std::string> ReadReadyLine(int timeout_ms);

  struct Output {
    ExitStatus exit;
    std::string out;  // remaining stdout (kPipe), else empty
    std::string err;  // remaining stderr (kPipe), else empty
  };
  // Writes `input` to stdin (kPipe) then closes it, reads stdout and stderr pipes to EOF, and
  // reaps the child, all within `timeout_ms`. DeadlineExceeded leaves the child running (the
  // destructor kills it).
  Result<Output> Communicate(std::string_view input, int timeout_ms);

  Status Signal(int sig);
  // Waits for the child to exit and reaps it. DeadlineExceeded if it is still running.
  Result<ExitStatus> Wait(int timeout_ms);
  bool running() const { return pid_ > 0 && !exit_; }
  pid_t pid() const { return pid_; }

 private:
  Result<std::string> ReadLineFrom(int fd, std::string* buf, bool* eof, int timeout_ms);
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<ExitStatus> exit_;
  UniqueFd pidfd_;  // pidfd_open(2) when the kernel has it; otherwise Wait() polls waitpid
  UniqueFd stdin_, stdout_, stderr_, ready_;
  std::string stdout_buf_, ready_buf_;
  bool stdout_eof_ = false, ready_eof_ = false;
};

// Runs `argv` to completion with `input` on stdin; captures stdout and stderr.
Result<Subprocess::Output> RunCommand(
    const std::vector<std::string>& argv, std::string_view input = {}, int timeout_ms = 30000,
    const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace edgewatch::testing
