#include "edgewatch/testing/mqtt_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "edgewatch/testing/io.h"

namespace edgewatch::testing {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// A port the kernel just handed out for 127.0.0.1 (released again for the broker to bind).
Result<uint16_t> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, "bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

std::string MosquittoBroker::BinaryPath() {
  return EnvOr("MOSQUITTO", "/usr/sbin/mosquitto");
}

bool MosquittoBroker::BinaryExists() {
  return ::access(BinaryPath().c_str(), X_OK) == 0;
}

MosquittoBroker::~MosquittoBroker() {
  if (process_ != nullptr && process_->running()) {
    process_->Signal(SIGKILL).IgnoreError();
    process_->Wait(-1).status().IgnoreError();
  }
  if (!dir_.empty() && ::testing::Test::HasFailure()) {
    std::cerr << "---- mosquitto log ----\n" << Log() << "---- end of mosquitto log ----\n";
  }
  const char* keep = std::getenv("EDGEWATCH_KEEP_TEST_DIRS");
  if (!dir_.empty() && (keep == nullptr || std::string(keep) != "1")) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Status MosquittoBroker::SetUsers(const std::vector<std::pair<std::string, std::string>>& users) {
  if (dir_.empty()) {
    std::string tmpl = EnvOr("TMPDIR", "/tmp") + "/ew-mosquitto-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoToStatus(errno, "mkdtemp");
    dir_ = tmpl;
  }
  passwd_path_ = dir_ + "/passwd";
  auth_ = !users.empty();
  std::ofstream(passwd_path_, std::ios::trunc).close();
  for (const auto& [name, password] : users) {
    auto r = RunCommand({"/usr/bin/mosquitto_passwd", "-b", passwd_path_, name, password});
    if (!r.ok()) return r.status();
    if (!r->exit.success()) {
      return Internal("mosquitto_passwd " + r->exit.ToString() + ": " + r->err);
    }
  }
  if (running()) {
    EW_TRY(process_->Signal(SIGHUP));
    EW_TRY(WaitForLog("Reloading config", 15000));
  }
  return OkStatus();
}

Status MosquittoBroker::Start() {
  if (!BinaryExists()) return NotFound("mosquitto not installed at " + BinaryPath());
  if (dir_.empty()) {
    std::string tmpl = EnvOr("TMPDIR", "/tmp") + "/ew-mosquitto-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoToStatus(errno, "mkdtemp");
    dir_ = tmpl;
  }
  conf_path_ = dir_ + "/mosquitto.conf";
  log_path_ = dir_ + "/mosquitto.log";
  // A port freed an instant ago can be taken by someone else: try a few.
  Status last = OkStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    EW_ASSIGN_OR_RETURN(port_, FreePort());
    std::ofstream conf(conf_path_, std::ios::trunc);
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous " << (auth_ ? "false" : "true") << "\n"
         << (auth_ ? "password_file " + passwd_path_ + "\n" : std::string())
         << (tls_cert_.empty() ? std::string()
                               : "certfile " + tls_cert_ + "\nkeyfile " + tls_key_ + "\n")
         << "persistence false\n"
         << "user root\n"  // stay who we are (no effect when not started as root)
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
         << "connection_messages true\n"
         << "max_queued_messages 100000\n";
    conf.close();
    last = Launch();
    if (last.ok()) return OkStatus();
  }
  return last;
}

Status MosquittoBroker::Launch() {
  SubprocessOptions o;
  // The broker's stdout is block-buffered when it is a pipe, its stderr is not: log to stderr
  // and read that as the pipe (the shell execs, so the child is the broker itself).
  o.argv = {"/bin/sh", "-c", "exec \"$0\" -c \"$1\" 2>&1", BinaryPath(), conf_path_};
  o.stdout_mode = SubprocessOptions::Stdio::kPipe;
  o.stderr_mode = SubprocessOptions::Stdio::kNull;
  process_ = std::make_unique<Subprocess>();
  EW_TRY(process_->Start(o));
  log_seen_ = Log().size();
  Status s = WaitForLog(" running", 15000);
  if (!s.ok()) {
    if (process_->running()) {
      process_->Signal(SIGKILL).IgnoreError();
      process_->Wait(-1).status().IgnoreError();
    }
    return Unavailable("mosquitto did not start: " + s.message() + "\n" + Log());
  }
  return OkStatus();
}

Status MosquittoBroker::WaitForLog(const std::string& needle, int timeout_ms) {
  Deadline deadline(timeout_ms);
  while (true) {
    std::string log = Log();
    size_t pos = log.find(needle, log_seen_);
    if (pos != std::string::npos) {
      log_seen_ = pos + needle.size();
      return OkStatus();
    }
    if (deadline.Expired()) return DeadlineExceeded("no '" + needle + "' in the broker's log");
    auto line = process_->ReadStdoutLine(deadline.RemainingMs());
    if (!line.ok()) return line.status();
    std::ofstream(log_path_, std::ios::app) << *line << "\n";
  }
}

Status MosquittoBroker::Kill() {
  if (!running()) return FailedPrecondition("the broker is not running");
  EW_TRY(process_->Signal(SIGKILL));
  return process_->Wait(15000).status();
}

Status MosquittoBroker::Restart() {
  if (running()) return FailedPrecondition("the broker is still running");
  return Launch();
}

std::string MosquittoBroker::Log() const {
  std::ifstream in(log_path_);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace edgewatch::testing
