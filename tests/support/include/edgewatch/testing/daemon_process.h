// DaemonProcess: runs the real edgewatchd for an integration test, on an ephemeral port and a
// private temporary directory (state dir, ingest socket, captured stdout/stderr), and waits until
// it reports ready. The destructor kills and reaps it and removes the directory.
//
//   DaemonProcess d;
//   ASSERT_TRUE(d.Start({.args = {"--no-auth"}}).ok());
//   WsTestClient ws;
//   ASSERT_TRUE(ws.Open(d.port()).ok());
//
// Not thread-safe; one test thread drives it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {

struct DaemonOptions {
  // Appended after the defaults (later flags override earlier ones in edgewatchd).
  std::vector<std::string> args;
  // The defaults, each of which can be turned off to pass your own (or to test the daemon's own
  // default): --listen 127.0.0.1:0, --board $EDGEWATCH_SOURCE_DIR/boards/generic-x86_64.json,
  // --ingest <tmp>/ingest.sock, --state-dir <tmp>/state. --ready-fd 3 is always passed.
  bool default_listen = true;
  bool default_board = true;
  bool default_ingest = true;
  bool default_state_dir = true;
  // Bound for the ready line; exceeding it is an error (with the daemon's stderr in the message).
  int ready_timeout_ms = 15000;
  std::vector<std::pair<std::string, std::string>> env;
};

class DaemonProcess {
 public:
  DaemonProcess() = default;
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  // SIGKILL + reap if running, then removes the temporary directory (kept when the environment
  // has EDGEWATCH_KEEP_TEST_DIRS=1). If the current test has failed, prints the tail of the
  // daemon's stderr to help diagnose it.
  ~DaemonProcess();

  // $EDGEWATCHD if set, else BuildDir()/app/edgewatchd.
  static std::string BinaryPath();
  static bool BinaryExists();
  // $EDGEWATCH_SOURCE_DIR / $EDGEWATCH_BINARY_DIR (set by cmake for every test), falling back to
  // the source and build directories this library was configured in.
  static std::string SourceDir();
  static std::string BuildDir();

  // Creates the temporary directory, starts edgewatchd and waits for its ready line
  // {"port":..,"ingest":..,"pid":..,"epoch":..} on fd 3. Errors: NotFound (binary or board file
  // missing), DeadlineExceeded (no ready line in time), Unavailable (exited first), InvalidArgument
  // (unparsable ready line); each message carries the tail of the daemon's stderr.
  Status Start(const DaemonOptions& options = {});

  // From the ready line.
  uint16_t port() const { return port_; }
  const std::string& ingest_path() const { return ingest_path_; }
  const std::string& epoch() const { return epoch_; }
  pid_t pid() const { return process_.pid(); }
  // "ws://127.0.0.1:<port>/ws" and "http://127.0.0.1:<port>".
  std::string ws_url() const;
  std::string http_url() const;

  const std::string& temp_dir() const { return dir_; }
  const std::string& state_dir() const { return state_dir_; }
  // Everything the daemon wrote so far (files in the temp dir; read at call time).
  std::string ReadStderr() const;
  std::string ReadStdout() const;

  Status Signal(int sig) { return process_.Signal(sig); }
  Result<ExitStatus> Wait(int timeout_ms) { return process_.Wait(timeout_ms); }
  bool running() const { return process_.running(); }

 private:
  std::string StderrTail() const;

  Subprocess process_;
  std::string dir_, state_dir_, stdout_path_, stderr_path_;
  uint16_t port_ = 0;
  std::string ingest_path_;
  std::string epoch_;
};

// Skips the current test when edgewatchd has not been built (yet).
#define EW_SKIP_WITHOUT_DAEMON()                                        \
  do {                                                                  \
    if (!::edgewatch::testing::DaemonProcess::BinaryExists()) {         \
      GTEST_SKIP() << "edgewatchd not found at '"                       \
                   << ::edgewatch::testing::DaemonProcess::BinaryPath() \
                   << "' (build target edgewatchd or set EDGEWATCHD)";  \
    }                                                                   \
  } while (0)

// The path of a tool built in this tree: $<env_var> if set, else
// DaemonProcess::BuildDir()/<relative>.
std::string BuiltToolPath(const char* env_var, const std::string& relative);

}  // namespace edgewatch::testing
