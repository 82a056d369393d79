#include "edgewatch/app/demo_producer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "edgewatch/app/demo_pipeline.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app {
namespace {

constexpr size_t kMaxReplyBytes = 64 * 1024;
constexpr int kMaxWaitMs = 1000;

// The demo owns both cameras and accepts the pipeline's operator commands.
std::string RegisterLine() {
  JsonWriter w;
  w.BeginObject().Key("register").BeginObject();
  w.Key("targets").BeginArray().String("pipeline/cam1").String("pipeline/cam2").EndArray();
  w.Key("commands").BeginArray();
  for (const char* c : DemoPipeline::kCommands) w.String(c);
  w.EndArray().EndObject().EndObject();
  return w.Take() + "\n";
}

// Applies one {"command":{...}} line; returns the lines to send (events, then the result).
std::string ApplyCommand(DemoPipeline& pipeline, const std::string& line) {
  auto parsed = ParseJson(line);
  if (!parsed.ok()) return {};
  const cJSON* cmd = cJSON_GetObjectItemCaseSensitive(parsed->get(), "command");
  auto id = GetString(cmd, "id");
  auto name = GetString(cmd, "name");
  if (!id || !name) return {};
  // The target is "pipeline/<camera>".
  std::string_view target = GetString(cmd, "target").value_or("");
  std::string camera(target.substr(target.rfind('/') + 1));
  const cJSON* args = cJSON_GetObjectItemCaseSensitive(cmd, "args");
  std::optional<double> threshold;
  const cJSON* value = cJSON_GetObjectItemCaseSensitive(args, "value");
  if (cJSON_IsNumber(value)) threshold = value->valuedouble;
  DemoPipeline::CommandOutcome o = pipeline.Command(camera, *name, threshold);
  EW_INFO("demo", "command %.*s %s: %s", static_cast<int>(name->size()), name->data(),
          camera.c_str(), o.message.c_str());
  std::string out;
  for (const std::string& l : o.lines) out += l;
  JsonWriter w;
  w.BeginObject().Key("result").BeginObject().Key("id").String(*id);
  w.Key("ok").Bool(o.ok).Key("message").String(o.message).EndObject().EndObject();
  return out + w.Take() + "\n";
}

}  // namespace

DemoProducer::DemoProducer(DemoProducerOptions options) : options_(std::move(options)) {}

DemoProducer::~DemoProducer() {
  Stop();
}

Status DemoProducer::Start(std::string socket_path) {
  if (thread_.joinable()) return FailedPrecondition("demo producer already started");
  if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return InvalidArgument("ingest socket path is empty or too long for a Unix socket");
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return ErrnoToStatus(errno, "eventfd");
  path_ = std::move(socket_path);
  stop_.store(false);
  anchor_unix_ms_ = UnixMillis();
  anchor_mono_us_ = MonotonicMicros();
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void DemoProducer::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;  // an eventfd write only fails when the counter would overflow
  {
    // Interrupts a send() blocked on a full socket; the thread closes the descriptor itself.
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  thread_.join();
  ::close(wake_fd_);
  wake_fd_ = -1;
}

int64_t DemoProducer::Now() {
  if (options_.clock_ms) return options_.clock_ms();
  return anchor_unix_ms_ + (MonotonicMicros() - anchor_mono_us_) / 1000;
}

bool DemoProducer::Connect() {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    EW_WARN("demo", "socket: %s", std::strerror(errno));
    return false;
  }
  if (options_.send_buffer_bytes > 0) {
    int size = options_.send_buffer_bytes;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  // Non-blocking connect: a Unix socket connects at once or fails (EAGAIN when the listener's
  // backlog is full), so connecting can never hold up Stop().
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    if (!logged_unavailable_) {
      EW_WARN("demo", "ingest socket %s unavailable (%s); retrying", path_.c_str(),
              std::strerror(err));
      logged_unavailable_ = true;
    } else {
      EW_DEBUG("demo", "connect %s: %s", path_.c_str(), std::strerror(err));
    }
    return false;
  }
  // Writes are blocking from here on; Stop() interrupts them with shutdown().
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_.load()) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

void DemoProducer::CloseSocket() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  rx_.clear();
  rx_discarding_ = false;
}

short DemoProducer::Wait(int timeout_ms, bool with_socket, bool* stop) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd_, POLLIN, 0}};
  int n = ::poll(fds, with_socket ? 2 : 1, timeout_ms);
  if (n < 0) return 0;  // EINTR: the caller loops
  if (fds[0].revents != 0 || stop_.load()) *stop = true;
  return with_socket ? fds[1].revents : 0;
}

bool DemoProducer::SendAll(const std::string& data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!stop_.load()) EW_WARN("demo", "write to ingest socket: %s", std::strerror(errno));
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

bool DemoProducer::ReadReplies() {
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) {
      if (!stop_.load()) EW_INFO("demo", "gateway closed the ingest connection");
      return false;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (!stop_.load()) EW_WARN("demo", "read from ingest socket: %s", std::strerror(errno));
      return false;
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (!rx_discarding_) rx_.append(chunk);
        if (rx_.size() > kMaxReplyBytes) {  // a runaway line: drop it up to its newline
          rx_.clear();
          rx_discarding_ = true;
        }
        break;
      }
      if (!rx_discarding_) {
        rx_.append(chunk.substr(0, nl));
        if (rx_.rfind("{\"command\":", 0) == 0) {
          commands_in_.push_back(rx_);
        } else if (rx_.rfind("{\"registered\":", 0) == 0) {
          EW_INFO("demo", "registered for commands: %s", rx_.c_str());
        } else {
          replies_.fetch_add(1);
          EW_WARN("demo", "gateway replied: %.*s",
                  static_cast<int>(std::min<size_t>(rx_.size(), 512)), rx_.data());
          if (options_.on_reply) options_.on_reply(rx_);
        }
      }
      rx_.clear();
      rx_discarding_ = false;
      chunk.remove_prefix(nl + 1);
    }
  }
}

void DemoProducer::Run() {
  DemoPipeline pipeline(Now(), options_.seed);
  int backoff_ms = std::max(1, options_.initial_backoff_ms);
  bool stop = false;
  std::string batch;
  while (!stop && !stop_.load()) {
    if (fd_ < 0) {
      if (!Connect()) {
        Wait(backoff_ms, /*with_socket=*/false, &stop);
        backoff_ms = std::min(backoff_ms * 2, std::max(1, options_.max_backoff_ms));
        continue;
      }
      EW_INFO("demo", "connected to ingest socket %s", path_.c_str());
      logged_unavailable_ = false;
      backoff_ms = std::max(1, options_.initial_backoff_ms);
      connects_.fetch_add(1);
      // What fell due while disconnected is dropped; the cameras' status is re-announced.
      pipeline.SkipTo(Now() - 1);
      std::vector<std::string> snapshot = pipeline.StatusSnapshot();
      batch = RegisterLine();
      for (const std::string& l : snapshot) batch += l;
      if (!batch.empty() && !SendAll(batch)) {
        CloseSocket();
        continue;
      }
      lines_sent_.fetch_add(snapshot.size());
    }

    int64_t now = Now();
    if (now - pipeline.now_ms() > options_.max_catch_up_ms) {
      pipeline.SkipTo(now - options_.max_catch_up_ms);
    }
    std::vector<std::string> lines = pipeline.Advance(now);
    if (!lines.empty()) {
      batch.clear();
      for (const std::string& l : lines) batch += l;
      if (!SendAll(batch)) {
        CloseSocket();
        continue;
      }
      lines_sent_.fetch_add(lines.size());
    }

    int64_t wait = std::clamp<int64_t>(pipeline.NextDueMs() - Now(), 0, kMaxWaitMs);
    short revents = Wait(static_cast<int>(wait), /*with_socket=*/true, &stop);
    if (stop) break;
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !ReadReplies()) {
      CloseSocket();
      commands_in_.clear();
      continue;
    }
    if (!commands_in_.empty()) {
      batch.clear();
      for (const std::string& l : commands_in_) batch += ApplyCommand(pipeline, l);
      commands_in_.clear();
      if (!batch.empty() && !SendAll(batch)) CloseSocket();
    }
  }
  CloseSocket();
}

}  // namespace edgewatch::app
