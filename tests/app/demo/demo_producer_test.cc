#include "edgewatch/app/demo_producer.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <string>

#include "edgewatch/app/telemetry_policy.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app {
namespace {

using std::chrono::steady_clock;

constexpr int kTimeoutMs = 10'000;  // failure detection only; never a synchronisation delay
constexpr int64_t kStart = 1'700'000'000'000;

// A Unix stream socket server in a private temporary directory. Every wait is a poll() on a
// descriptor with a generous timeout that only trips when the test fails.
class UnixServer {
 public:
  UnixServer() {
    char tmpl[] = "/tmp/ew-demo-test-XXXXXX";
    char* dir = ::mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    dir_ = dir != nullptr ? dir : "/tmp";
    path_ = dir_ + "/ingest.sock";
  }
  ~UnixServer() {
    CloseClient();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  const std::string& path() const { return path_; }

  void Listen() {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << std::strerror(errno);
    ASSERT_EQ(::listen(listen_fd_, 4), 0);
  }

  // Waits for and accepts one connection (replacing the current one). Returns false on timeout.
  bool Accept() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) != 1) return false;
    CloseClient();
    client_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    rx_.clear();
    return client_fd_ >= 0;
  }

  void CloseClient() {
    if (client_fd_ >= 0) ::close(client_fd_);
    client_fd_ = -1;
  }

  // The next line from the client (without '\n'); nullopt on EOF or timeout.
  std::optional<std::string> ReadLine() {
    while (true) {
      size_t nl = rx_.find('\n');
      if (nl != std::string::npos) {
        std::string line = rx_.substr(0, nl);
        rx_.erase(0, nl + 1);
        return line;
      }
      pollfd p{client_fd_, POLLIN, 0};
      if (::poll(&p, 1, kTimeoutMs) != 1) return std::nullopt;
      char buf[4096];
      ssize_t n = ::recv(client_fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      rx_.append(buf, static_cast<size_t>(n));
    }
  }

  // True once the client's side is closed (EOF after draining whatever is pending).
  bool WaitEof() {
    char buf[4096];
    while (true) {
      pollfd p{client_fd_, POLLIN, 0};
      if (::poll(&p, 1, kTimeoutMs) != 1) return false;
      ssize_t n = ::recv(client_fd_, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  bool WaitReadable() {
    pollfd p{client_fd_, POLLIN, 0};
    return ::poll(&p, 1, kTimeoutMs) == 1;
  }

  void Send(std::string_view data) {
    ASSERT_EQ(::send(client_fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }

 private:
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int client_fd_ = -1;
  std::string rx_;
};

// A simulated clock that advances by `step_ms` on every reading, so the producer generates
// events as fast as it can write them instead of in real time.
std::function<int64_t()> FastClock(int64_t step_ms) {
  auto now = std::make_shared<std::atomic<int64_t>>(kStart);
  return [now, step_ms] { return now->fetch_add(step_ms); };
}

int64_t MillisSince(steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
}

TEST(DemoProducerTest, WritesValidLinesAndStopsPromptly) {
  UnixServer server;
  server.Listen();
  DemoProducerOptions options;
  options.clock_ms = FastClock(50);
  DemoProducer producer(options);
  ASSERT_TRUE(producer.Start(server.path()).ok());
  ASSERT_TRUE(server.Accept());
  // First the demo registers its cameras' commands (docs/protocol.md, "Commands").
  std::optional<std::string> reg = server.ReadLine();
  ASSERT_TRUE(reg.has_value());
  EXPECT_EQ(reg->rfind("{\"register\":{\"targets\":[\"pipeline/cam1\",\"pipeline/cam2\"]", 0), 0u)
      << *reg;

  TelemetryPolicy policy;
  std::map<std::string, int64_t> last_frame_id;
  std::map<std::string, int> per_topic;
  for (int i = 0; i < 600; ++i) {
    std::optional<std::string> line = server.ReadLine();
    ASSERT_TRUE(line.has_value()) << "line " << i;
    auto root = ParseJson(*line);
    ASSERT_TRUE(root.ok()) << *line;
    auto topic = GetString(root->get(), "topic");
    ASSERT_TRUE(topic.has_value()) << *line;
    ASSERT_TRUE(GetInt(root->get(), "ts").has_value()) << *line;
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(root->get(), "data");
    auto r = policy.Evaluate(*topic, data);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << ": " << *line;
    ++per_topic[std::string(*topic)];
    if (topic->ends_with("/frame")) {
      auto id = GetInt(cJSON_GetObjectItemCaseSensitive(data, "frame_data"), "frame_id");
      ASSERT_TRUE(id.has_value());
      EXPECT_GT(*id, last_frame_id[std::string(*topic)]);
      last_frame_id[std::string(*topic)] = *id;
    }
  }
  EXPECT_GT(per_topic["pipeline/cam1/frame"], per_topic["pipeline/cam2/frame"]);
  EXPECT_GT(per_topic["pipeline/cam2/frame"], 0);
  EXPECT_GE(producer.lines_sent(), 600u);
  EXPECT_EQ(producer.connects(), 1u);

  auto t0 = steady_clock::now();
  producer.Stop();
  EXPECT_LT(MillisSince(t0), 1000);
  EXPECT_FALSE(producer.running());
  EXPECT_TRUE(server.WaitEof());
  producer.Stop();  // idempotent
}

TEST(DemoProducerTest, ConnectsOnceTheSocketAppearsAndReconnectsAfterClose) {
  UnixServer server;
  DemoProducerOptions options;
  options.initial_backoff_ms = 1;
  options.max_backoff_ms = 20;
  DemoProducer producer(options);
  ASSERT_TRUE(producer.Start(server.path()).ok());  // nothing listens yet
  server.Listen();
  ASSERT_TRUE(server.Accept());
  ASSERT_TRUE(server.ReadLine().has_value());

  // The gateway drops the connection: the producer comes back, registers again and re-announces
  // both cameras' status before anything else.
  server.CloseClient();
  ASSERT_TRUE(server.Accept());
  std::optional<std::string> reg = server.ReadLine();
  ASSERT_TRUE(reg && reg->find("\"register\"") != std::string::npos);
  std::optional<std::string> first = server.ReadLine();
  std::optional<std::string> second = server.ReadLine();
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->find("\"topic\":\"pipeline/cam1/status\""), std::string::npos) << *first;
  EXPECT_NE(second->find("\"topic\":\"pipeline/cam2/status\""), std::string::npos) << *second;
  EXPECT_GE(producer.connects(), 2u);
  producer.Stop();
}

TEST(DemoProducerTest, RepliesFromTheGatewayAreReported) {
  UnixServer server;
  server.Listen();
  std::promise<std::string> first_reply;
  std::promise<std::string> second_reply;
  std::atomic<int> replies{0};
  DemoProducerOptions options;
  options.on_reply = [&](std::string_view line) {
    int n = replies.fetch_add(1);
    if (n == 0) first_reply.set_value(std::string(line));
    if (n == 1) second_reply.set_value(std::string(line));
  };
  DemoProducer producer(options);
  ASSERT_TRUE(producer.Start(server.path()).ok());
  ASSERT_TRUE(server.Accept());
  const std::string error =
      R"({"error":"invalid_data","message":"frame_data.fps must be a number","line":3})";
  server.Send(error + "\n");
  auto f1 = first_reply.get_future();
  ASSERT_EQ(f1.wait_for(std::chrono::milliseconds(kTimeoutMs)), std::future_status::ready);
  EXPECT_EQ(f1.get(), error);
  // A reply split across writes is reassembled.
  server.Send(R"({"error":"too_long",)");
  server.Send(R"("line":9})"
              "\n");
  auto f2 = second_reply.get_future();
  ASSERT_EQ(f2.wait_for(std::chrono::milliseconds(kTimeoutMs)), std::future_status::ready);
  EXPECT_EQ(f2.get(), R"({"error":"too_long","line":9})");
  producer.Stop();
  EXPECT_EQ(producer.replies(), 2u);
}

// The gateway accepts but never reads: the producer's small send buffer fills during its first
// burst (two simulated seconds of events, ~30 KB, against an 8 KB buffer), so it is blocked in
// send() when Stop() is called. Stop() must still return at once.
TEST(DemoProducerTest, StopInterruptsABlockedWrite) {
  UnixServer server;
  server.Listen();
  DemoProducerOptions options;
  options.clock_ms = FastClock(3'600'000);  // an hour per reading: always a full catch-up burst
  options.send_buffer_bytes = 4096;
  DemoProducer producer(options);
  ASSERT_TRUE(producer.Start(server.path()).ok());
  ASSERT_TRUE(server.Accept());
  ASSERT_TRUE(server.WaitReadable());
  auto t0 = steady_clock::now();
  producer.Stop();
  EXPECT_LT(MillisSince(t0), 1000);
}

TEST(DemoProducerTest, StopDuringBackOffIsPrompt) {
  UnixServer server;  // never listens
  DemoProducerOptions options;
  options.initial_backoff_ms = 60'000;
  options.max_backoff_ms = 60'000;
  DemoProducer producer(options);
  ASSERT_TRUE(producer.Start(server.path()).ok());
  auto t0 = steady_clock::now();
  producer.Stop();
  EXPECT_LT(MillisSince(t0), 1000);
  EXPECT_EQ(producer.connects(), 0u);
}

TEST(DemoProducerTest, StartErrors) {
  DemoProducer producer;
  producer.Stop();  // not started: no-op
  EXPECT_EQ(producer.Start("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(producer.Start("/tmp/" + std::string(200, 'x')).code(), StatusCode::kInvalidArgument);
  UnixServer server;
  ASSERT_TRUE(producer.Start(server.path()).ok());
  EXPECT_EQ(producer.Start(server.path()).code(), StatusCode::kFailedPrecondition);
  producer.Stop();
  // Restartable after Stop().
  ASSERT_TRUE(producer.Start(server.path()).ok());
  producer.Stop();
}

}  // namespace
}  // namespace edgewatch::app
