// IngestTestClient: a producer on edgewatchd's Unix-socket ingest (newline-delimited JSON), for
// integration tests. It can write whole lines or arbitrary bytes (partial lines, oversize lines,
// invalid UTF-8) and read the gateway's reply lines. Every wait is a poll(2) bounded by a
// timeout (a failure bound, never synchronisation). Not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"
#include "edgewatch/testing/io.h"

namespace edgewatch::testing {

class IngestTestClient {
 public:
  IngestTestClient() = default;
  IngestTestClient(const IngestTestClient&) = delete;
  IngestTestClient& operator=(const IngestTestClient&) = delete;

  // Connects to the stream socket at `path`. NotFound/Unavailable when nothing listens there.
  Status Connect(const std::string& path);

  // Writes `line` plus '\n'. `line` is sent as given (it may contain anything but is expected to
  // hold no newline).
  Status WriteLine(std::string_view line, int timeout_ms = 5000);
  // Writes bytes verbatim: partial lines, several lines at once, garbage.
  Status WriteRaw(std::string_view bytes, int timeout_ms = 5000);

  // The next reply line, without its '\n'. Unavailable at EOF (a partial last line is reported in
  // the message), DeadlineExceeded on timeout.
  Result<std::string> ReadLine(int timeout_ms);
  // ReadLine() parsed as JSON.
  Result<JsonPtr> ReadJsonLine(int timeout_ms);
  // OK when the gateway closes its side with no further reply; FailedPrecondition with the line
  // if a reply arrives instead.
  Status ExpectEof(int timeout_ms);

  // Half-close (SHUT_WR): tells the gateway this producer is done; it answers what it received
  // and then closes (see app/cli/README.md, "Ingest end-of-stream contract").
  Status ShutdownWrite();
  // Closes the socket at once (a producer vanishing, possibly mid-line).
  void Close();

  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string rx_;
  bool eof_ = false;
};

}  // namespace edgewatch::testing
