// MosquittoBroker: a real Mosquitto broker (/usr/sbin/mosquitto, Debian package `mosquitto`) for
// integration tests, on a free loopback port with a generated configuration in a private
// temporary directory. Start() returns once the broker logged that it is running; Kill() and
// Restart() (same port, same configuration) let a test take it away mid-stream.
//
// Optional password authentication: SetUsers() writes a password file with mosquitto_passwd and
// (when the broker runs) makes it re-read it with SIGHUP, so a test can decide when a client is
// let in. Not thread-safe; one test thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edgewatch/base/status.h"
#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {

class MosquittoBroker {
 public:
  MosquittoBroker() = default;
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;
  // Kills the broker and removes the directory (kept with EDGEWATCH_KEEP_TEST_DIRS=1).
  ~MosquittoBroker();

  // $MOSQUITTO if set, else /usr/sbin/mosquitto.
  static std::string BinaryPath();
  static bool BinaryExists();

  // Users allowed to connect ({name, password}); empty = anonymous access. Call before Start()
  // or while running (the broker re-reads the file on SIGHUP; this waits for its log line).
  Status SetUsers(const std::vector<std::pair<std::string, std::string>>& users);

  // Serve MQTT over TLS with this PEM certificate and key instead of plain TCP (before Start()).
  void SetTls(std::string cert_file, std::string key_file) {
    tls_cert_ = std::move(cert_file);
    tls_key_ = std::move(key_file);
  }

  // Picks a free port, writes the configuration and starts the broker. NotFound without the
  // binary; Unavailable (with the broker's output) when it does not come up within 15 s.
  Status Start();
  // SIGKILL and reap: clients see their connection drop, the broker says goodbye to no one.
  Status Kill();
  // Starts again on the same port with the same configuration.
  Status Restart();

  uint16_t port() const { return port_; }
  bool running() const { return process_ != nullptr && process_->running(); }
  // Waits until the broker logs a line containing `needle` after the last line a wait matched
  // (DeadlineExceeded otherwise).
  Status WaitForLog(const std::string& needle, int timeout_ms);
  // Everything the broker logged so far (as read by the waits).
  std::string Log() const;

 private:
  Status Launch();

  std::unique_ptr<Subprocess> process_;
  std::string dir_, conf_path_, log_path_, passwd_path_;
  bool auth_ = false;
  std::string tls_cert_, tls_key_;
  uint16_t port_ = 0;
  size_t log_seen_ = 0;  // log bytes already scanned by WaitForLog
};

}  // namespace edgewatch::testing
