#include "edgewatch/testing/daemon_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "edgewatch/base/json.h"

namespace edgewatch::testing {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A short base directory: Unix socket paths are limited to 107 bytes.
std::string TempBase() {
  std::string tmp = Env("TMPDIR");
  if (!tmp.empty() && tmp.size() < 60) return tmp;
  return "/tmp";
}

}  // namespace

std::string BuiltToolPath(const char* env_var, const std::string& relative) {
  std::string v = Env(env_var);
  if (!v.empty()) return v;
  std::string build = DaemonProcess::BuildDir();
  if (build.empty()) return "";
  return build + "/" + relative;
}

std::string DaemonProcess::BinaryPath() {
  return BuiltToolPath("EDGEWATCHD", "app/edgewatchd");
}

bool DaemonProcess::BinaryExists() {
  std::string p = BinaryPath();
  return !p.empty() && ::access(p.c_str(), X_OK) == 0;
}

std::string DaemonProcess::SourceDir() {
  std::string v = Env("EDGEWATCH_SOURCE_DIR");
#ifdef EDGEWATCH_DEFAULT_SOURCE_DIR
  if (v.empty()) v = EDGEWATCH_DEFAULT_SOURCE_DIR;
#endif
  return v;
}

std::string DaemonProcess::BuildDir() {
  std::string v = Env("EDGEWATCH_BINARY_DIR");
#ifdef EDGEWATCH_DEFAULT_BINARY_DIR
  if (v.empty()) v = EDGEWATCH_DEFAULT_BINARY_DIR;
#endif
  return v;
}

DaemonProcess::~DaemonProcess() {
  if (process_.running()) {
    process_.Signal(SIGKILL).IgnoreError();
    process_.Wait(-1).status().IgnoreError();
  }
  if (!dir_.empty() && ::testing::Test::HasFailure()) {
    std::cerr << "---- edgewatchd stderr (" << stderr_path_ << ", tail) ----\n"
              << StderrTail() << "\n---- end of edgewatchd stderr ----\n";
  }
  if (!dir_.empty() && Env("EDGEWATCH_KEEP_TEST_DIRS") != "1") {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string DaemonProcess::ReadStderr() const {
  return ReadFileOrEmpty(stderr_path_);
}
std::string DaemonProcess::ReadStdout() const {
  return ReadFileOrEmpty(stdout_path_);
}

std::string DaemonProcess::StderrTail() const {
  std::string err = ReadStderr();
  constexpr size_t kTail = 8192;
  if (err.size() > kTail) err = "..." + err.substr(err.size() - kTail);
  return err;
}

std::string DaemonProcess::ws_url() const {
  return "ws://127.0.0.1:" + std::to_string(port_) + "/ws";
}

std::string DaemonProcess::http_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

Status DaemonProcess::Start(const DaemonOptions& options) {
  if (!dir_.empty()) return FailedPrecondition("DaemonProcess already started");
  const std::string binary = BinaryPath();
  if (binary.empty()) {
    return NotFound("edgewatchd path unknown: set EDGEWATCHD or EDGEWATCH_BINARY_DIR");
  }
  if (::access(binary.c_str(), X_OK) != 0) return NotFound("edgewatchd not built: " + binary);

  std::string tmpl = TempBase() + "/ew-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoToStatus(errno, "mkdtemp " + tmpl);
  dir_ = tmpl;
  state_dir_ = dir_ + "/state";
  if (::mkdir(state_dir_.c_str(), 0700) != 0) return ErrnoToStatus(errno, "mkdir " + state_dir_);
  stdout_path_ = dir_ + "/stdout.log";
  stderr_path_ = dir_ + "/stderr.log";

  std::vector<std::string> argv = {binary};
  if (options.default_listen) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  argv.insert(argv.end(), {"--ready-fd", "3"});
  // The machine's real CPU load (parallel tests, a busy CI host) must not make the gateway shed
  // load in tests that are not about it: CPU shedding is off unless a test asks for it.
  argv.insert(argv.end(), {"--cpu-shed-percent", "101"});
  if (options.default_board) {
    std::string board = SourceDir() + "/boards/generic-x86_64.json";
    if (::access(board.c_str(), R_OK) != 0) return NotFound("board file missing: " + board);
    argv.insert(argv.end(), {"--board", board});
  }
  if (options.default_ingest) argv.insert(argv.end(), {"--ingest", dir_ + "/ingest.sock"});
  if (options.default_state_dir) argv.insert(argv.end(), {"--state-dir", state_dir_});
  argv.insert(argv.end(), options.args.begin(), options.args.end());

  SubprocessOptions so;
  so.argv = argv;
  so.env = options.env;
  so.stdout_mode = SubprocessOptions::Stdio::kFile;
  so.stdout_path = stdout_path_;
  so.stderr_mode = SubprocessOptions::Stdio::kFile;
  so.stderr_path = stderr_path_;
  so.ready_fd = 3;
  EW_TRY(process_.Start(so));

  auto fail = [this](Status s) {
    return Status(s.code(), s.message() + "\n---- edgewatchd stderr ----\n" + StderrTail());
  };
  auto line = process_.ReadReadyLine(options.ready_timeout_ms);
  if (!line.ok()) {
    Status s = line.status();
    if (s.code() == StatusCode::kUnavailable) {
      auto exit = process_.Wait(2000);
      return fail(Unavailable("edgewatchd closed the ready fd without a ready line (" +
                              (exit.ok() ? exit->ToString() : std::string("still running")) +
                              "): " + s.message()));
    }
    return fail(Status(s.code(), "waiting for edgewatchd's ready line: " + s.message()));
  }
  auto json = ParseJson(*line);
  if (!json.ok()) return fail(InvalidArgument("ready line is not JSON: " + *line));
  std::optional<int64_t> port = GetInt(json->get(), "port");
  std::optional<std::string_view> ingest = GetString(json->get(), "ingest");
  std::optional<std::string_view> epoch = GetString(json->get(), "epoch");
  std::optional<int64_t> pid = GetInt(json->get(), "pid");
  if (!port || *port <= 0 || *port > 65535 || !ingest || !epoch) {
    return fail(InvalidArgument("ready line lacks port/ingest/epoch: " + *line));
  }
  if (pid && *pid != process_.pid()) {
    return fail(InvalidArgument("ready line pid " + std::to_string(*pid) + " is not the child " +
                                std::to_string(process_.pid())));
  }
  port_ = static_cast<uint16_t>(*port);
  ingest_path_ = std::string(*ingest);
  epoch_ = std::string(*epoch);
  return OkStatus();
}

}  // namespace edgewatch::testing
