#include "edgewatch/testing/ingest_test_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace edgewatch::testing {

namespace {
constexpr size_t kMaxReplyLine = 1 << 20;
}  // namespace

Status IngestTestClient::Connect(const std::string& path) {
  Close();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return InvalidArgument("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoToStatus(errno, "connect " + path);
  }
  EW_TRY(SetNonBlocking(fd.get()));
  fd_ = std::move(fd);
  rx_.clear();
  eof_ = false;
  return OkStatus();
}

Status IngestTestClient::WriteLine(std::string_view line, int timeout_ms) {
  std::string l(line);
  l.push_back('\n');
  return WriteRaw(l, timeout_ms);
}

Status IngestTestClient::WriteRaw(std::string_view bytes, int timeout_ms) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  return WriteAll(fd_.get(), bytes, Deadline(timeout_ms));
}

Result<std::string> IngestTestClient::ReadLine(int timeout_ms) {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  Deadline deadline(timeout_ms);
  for (;;) {
    size_t nl = rx_.find('\n');
    if (nl != std::string::npos) {
      std::string line = rx_.substr(0, nl);
      rx_.erase(0, nl + 1);
      return line;
    }
    if (eof_) {
      return Unavailable(rx_.empty() ? "EOF" : "EOF after a partial line: " + rx_.substr(0, 200));
    }
    if (rx_.size() > kMaxReplyLine) return ResourceExhausted("reply line over 1 MiB");
    auto n = ReadSome(fd_.get(), &rx_, 16 * 1024, deadline);
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kDeadlineExceeded) {
        return DeadlineExceeded("no reply line within " + std::to_string(timeout_ms) + " ms");
      }
      return n.status();
    }
    if (*n == 0) eof_ = true;
  }
}

Result<JsonPtr> IngestTestClient::ReadJsonLine(int timeout_ms) {
  EW_ASSIGN_OR_RETURN(std::string line, ReadLine(timeout_ms));
  auto json = ParseJson(line, JsonLimits{.max_bytes = kMaxReplyLine, .max_depth = 64});
  if (!json.ok()) return InvalidArgument("reply is not JSON: " + line);
  return json;
}

Status IngestTestClient::ExpectEof(int timeout_ms) {
  auto line = ReadLine(timeout_ms);
  if (line.ok()) return FailedPrecondition("expected EOF, got a reply: " + *line);
  if (line.status().code() == StatusCode::kUnavailable && rx_.empty()) return OkStatus();
  return line.status();
}

Status IngestTestClient::ShutdownWrite() {
  if (!fd_.valid()) return FailedPrecondition("not connected");
  if (::shutdown(fd_.get(), SHUT_WR) != 0) return ErrnoToStatus(errno, "shutdown");
  return OkStatus();
}

void IngestTestClient::Close() {
  fd_.Reset();
  rx_.clear();
  eof_ = false;
}

}  // namespace edgewatch::testing
