// The edgewatch CLI against the real edgewatchd (DaemonProcess): publish → tail, rejected lines,
// the topic table, and how tail reports a server-side close. Tests that need the daemon skip
// themselves when it has not been built; the others check the CLI alone.
//
// Ordering is established by observation, never by sleeping: a `publish` has finished when it
// exits (the gateway closes the ingest connection only after handling every line), and a `tail`
// is subscribed once it has printed the snapshot event.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 20000;  // failure bound for each step

std::string Cli() {
  return BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
}

Subprocess::Output RunCli(std::vector<std::string> args, std::string_view input = {}) {
  args.insert(args.begin(), Cli());
  auto r = RunCommand(args, input, kTimeoutMs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Subprocess::Output{};
}

JsonPtr ParseLine(const std::string& line) {
  auto j = ParseJson(line);
  EXPECT_TRUE(j.ok()) << "not JSON: " << line;
  return j.ok() ? std::move(j).value() : JsonPtr(cJSON_CreateObject());
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(Cli().c_str(), X_OK), 0) << "edgewatch CLI not built: " << Cli();
  }
};

class CliDaemonTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    EW_SKIP_WITHOUT_DAEMON();
    Status s = daemon_.Start({.args = {"--no-auth"}});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Subprocess::Output Publish(std::vector<std::string> args, std::string_view input = {}) {
    args.insert(args.begin(), {"publish", "--ingest", daemon_.ingest_path()});
    return RunCli(std::move(args), input);
  }

  // Starts `edgewatch tail` with stdout on a pipe, for line-by-line reading.
  void StartTail(Subprocess* tail, std::vector<std::string> args) {
    SubprocessOptions o;
    o.argv = {Cli(), "tail", "--url", daemon_.ws_url()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.stderr_mode = SubprocessOptions::Stdio::kFile;
    o.stderr_path = daemon_.temp_dir() + "/tail.stderr";
    ASSERT_TRUE(tail->Start(o).ok());
  }
  std::string TailStderr() const { return ReadFileOrEmpty(daemon_.temp_dir() + "/tail.stderr"); }

  DaemonProcess daemon_;
};

// --- The CLI alone ---------------------------------------------------------------------------

TEST_F(CliTest, HelpListsEveryCommand) {
  auto r = RunCli({"help"});
  EXPECT_TRUE(r.exit.success()) << r.exit.ToString();
  for (const char* cmd : {"tail", "publish", "topics"}) {
    EXPECT_NE(r.out.find(std::string("  ") + cmd + " "), std::string::npos) << cmd;
  }
  r = RunCli({"publish", "--help"});
  EXPECT_TRUE(r.exit.success());
  EXPECT_NE(r.out.find("usage: edgewatch publish"), std::string::npos) << r.out;
  r = RunCli({"help", "tail"});
  EXPECT_TRUE(r.exit.success());
  EXPECT_NE(r.out.find("--count N"), std::string::npos) << r.out;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCli({}).exit.code, 2);
  auto r = RunCli({"frobnicate"});
  EXPECT_EQ(r.exit.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_EQ(RunCli({"tail"}).exit.code, 2);  // no pattern
  EXPECT_EQ(RunCli({"tail", "--count", "many", "a/#"}).exit.code, 2);
  EXPECT_EQ(RunCli({"tail", "--url", "localhost:8080", "a/#"}).exit.code, 2);
  r = RunCli({"publish", "--ingest", "/nonexistent.sock", "a/b", "{not json"});
  EXPECT_EQ(r.exit.code, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST_F(CliTest, TailReportsConnectionFailure) {
  // A bound but non-listening socket: connections to its port are refused for as long as we
  // hold it.
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string url = "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/ws";
  auto r = RunCli({"tail", "--url", url, "a/#"});
  EXPECT_EQ(r.exit.code, 1) << r.exit.ToString();
  EXPECT_NE(r.err.find("cannot connect to " + url), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, PublishReportsMissingGateway) {
  auto r = RunCli({"publish", "--ingest", "/nonexistent/ingest.sock", "a/b", "{}"});
  EXPECT_EQ(r.exit.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/ingest.sock"), std::string::npos) << r.err;
}

// --- The CLI with the daemon -----------------------------------------------------------------

TEST_F(CliDaemonTest, PublishedEventReachesTail) {
  auto pub = Publish({"cli/test/one", R"({"value": 42,
                                          "label": "multi-line argument"})"});
  ASSERT_TRUE(pub.exit.success()) << pub.exit.ToString() << "\n" << pub.err;
  EXPECT_EQ(pub.err, "");

  // Subscribing after the event: the snapshot delivers it.
  auto tail = RunCli({"tail", "--url", daemon_.ws_url(), "--count", "1", "cli/#"});
  ASSERT_TRUE(tail.exit.success()) << tail.exit.ToString() << "\n" << tail.err;
  ASSERT_FALSE(tail.out.empty());
  ASSERT_EQ(tail.out.back(), '\n');
  ASSERT_EQ(tail.out.find('\n'), tail.out.size() - 1) << "expected exactly one line: " << tail.out;
  JsonPtr ev = ParseLine(tail.out.substr(0, tail.out.size() - 1));
  EXPECT_EQ(GetString(ev.get(), "type"), "event");
  EXPECT_EQ(GetString(ev.get(), "topic"), "cli/test/one");
  EXPECT_EQ(GetInt(ev.get(), "seq"), 1);
  EXPECT_TRUE(GetInt(ev.get(), "ts").has_value());
  const cJSON* data = cJSON_GetObjectItemCaseSensitive(ev.get(), "data");
  EXPECT_EQ(GetInt(data, "value"), 42);
  EXPECT_EQ(GetString(data, "label"), "multi-line argument");
}

TEST_F(CliDaemonTest, TailPrintsSnapshotThenLiveEventsWithoutGaps) {
  ASSERT_TRUE(Publish({"cli/live", R"({"n":1})"}).exit.success());
  Subprocess tail;
  StartTail(&tail, {"--count", "3", "cli/+"});
  // The first line is the snapshot: once it is printed, the subscription is live.
  auto first = tail.ReadStdoutLine(kTimeoutMs);
  ASSERT_TRUE(first.ok()) << first.status().ToString() << "\n" << TailStderr();
  EXPECT_EQ(GetInt(ParseLine(*first).get(), "seq"), 1);

  auto pub = Publish({"cli/live"}, "{\"n\":2}\n{\"n\":3}\n");
  ASSERT_TRUE(pub.exit.success()) << pub.err;
  for (int64_t seq = 2; seq <= 3; ++seq) {
    auto line = tail.ReadStdoutLine(kTimeoutMs);
    ASSERT_TRUE(line.ok()) << line.status().ToString() << "\n" << TailStderr();
    JsonPtr ev = ParseLine(*line);
    EXPECT_EQ(GetInt(ev.get(), "seq"), seq);
    EXPECT_EQ(GetInt(cJSON_GetObjectItemCaseSensitive(ev.get(), "data"), "n"), seq);
  }
  auto exit = tail.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << TailStderr();
}

TEST_F(CliDaemonTest, RejectedLineIsPrintedAndExitsNonZero) {
  auto pub = Publish({}, "this is not json\n{\"topic\":\"cli/ok\",\"data\":{\"k\":1}}\n");
  EXPECT_EQ(pub.exit.code, 1) << pub.exit.ToString();
  // The gateway's reply, attributed to the input line it came from.
  EXPECT_NE(pub.err.find("stdin line 1 rejected: {"), std::string::npos) << pub.err;
  EXPECT_NE(pub.err.find("\"error\""), std::string::npos) << pub.err;
  EXPECT_EQ(pub.err.find("stdin line 2"), std::string::npos) << pub.err;
  EXPECT_NE(pub.err.find("1 of 2 lines rejected"), std::string::npos) << pub.err;

  // The good line went through despite the bad one before it.
  auto topics = HttpGet(daemon_.port(), "/api/v1/topics");
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(topics->status, 200);
  EXPECT_NE(topics->body.find("\"cli/ok\""), std::string::npos) << topics->body;
}

TEST_F(CliDaemonTest, DataLinesForOneTopic) {
  auto pub = Publish({"cli/data"}, "{\"i\":1}\n\n{broken\n{\"i\":2}");  // blank, bad, no final \n
  EXPECT_EQ(pub.exit.code, 1);
  EXPECT_NE(pub.err.find("stdin line 2: data is not valid JSON"), std::string::npos) << pub.err;
  EXPECT_NE(pub.err.find("1 of 3 lines rejected"), std::string::npos) << pub.err;

  auto tail = RunCli({"tail", "--url", daemon_.ws_url(), "--count", "1", "cli/data"});
  ASSERT_TRUE(tail.exit.success()) << tail.err;
  JsonPtr ev = ParseLine(tail.out.substr(0, tail.out.find('\n')));
  EXPECT_EQ(GetInt(ev.get(), "seq"), 2);  // latest of two accepted events
  EXPECT_EQ(GetInt(cJSON_GetObjectItemCaseSensitive(ev.get(), "data"), "i"), 2);
}

TEST_F(CliDaemonTest, TopicsPrintsTheTable) {
  ASSERT_TRUE(Publish({"cli/table/a", "{}"}).exit.success());
  ASSERT_TRUE(Publish({"cli/table/a", "{}"}).exit.success());
  ASSERT_TRUE(Publish({"cli/table/b", "{}"}).exit.success());
  auto r = RunCli({"topics", "--url", daemon_.http_url()});
  ASSERT_TRUE(r.exit.success()) << r.err;
  EXPECT_EQ(r.out.rfind("TOPIC", 0), 0u) << r.out;
  size_t a = r.out.find("cli/table/a "), b = r.out.find("cli/table/b ");
  ASSERT_NE(a, std::string::npos) << r.out;
  ASSERT_NE(b, std::string::npos) << r.out;
  EXPECT_LT(a, b);  // sorted
  std::string row_a = r.out.substr(a, r.out.find('\n', a) - a);
  EXPECT_NE(row_a.find(" 2  "), std::string::npos) << row_a;  // seq 2

  r = RunCli({"topics", "--json", "--url", daemon_.ws_url()});  // a ws URL works too
  ASSERT_TRUE(r.exit.success()) << r.err;
  JsonPtr j = ParseLine(r.out.substr(0, r.out.find('\n')));
  EXPECT_TRUE(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j.get(), "topics")));
}

TEST_F(CliDaemonTest, TailReassemblesLargeEvents) {
  // ~50 KB: lws hands it to the client in several RECEIVE callbacks.
  std::string blob;
  for (int i = 0; blob.size() < 50000; ++i) blob += "chunk-" + std::to_string(i) + "|";
  ASSERT_TRUE(Publish({"cli/big", "{\"blob\":\"" + blob + "\"}"}).exit.success());
  auto tail = RunCli({"tail", "--url", daemon_.ws_url(), "--count", "1", "cli/big"});
  ASSERT_TRUE(tail.exit.success()) << tail.err;
  JsonPtr ev = ParseLine(tail.out.substr(0, tail.out.find('\n')));
  EXPECT_EQ(GetString(cJSON_GetObjectItemCaseSensitive(ev.get(), "data"), "blob"), blob);
}

TEST_F(CliDaemonTest, TailTimeoutWithoutEnoughEventsFails) {
  // The timeout is the behaviour under test: nothing matches, so it must fire.
  auto r = RunCli(
      {"tail", "--url", daemon_.ws_url(), "--timeout-s", "1", "--count", "2", "cli/never/#"});
  EXPECT_EQ(r.exit.code, 1) << r.exit.ToString();
  EXPECT_NE(r.err.find("timed out: received 0 of 2 events"), std::string::npos) << r.err;
  r = RunCli({"tail", "--url", daemon_.ws_url(), "--timeout-s", "1", "cli/never/#"});
  EXPECT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err;
}

TEST_F(CliDaemonTest, TailReportsTheServersCloseCode) {
  ASSERT_TRUE(Publish({"cli/bye", "{}"}).exit.success());
  Subprocess tail;
  StartTail(&tail, {"cli/bye"});
  ASSERT_TRUE(tail.ReadStdoutLine(kTimeoutMs).ok()) << TailStderr();  // subscribed

  ASSERT_TRUE(daemon_.Signal(SIGTERM).ok());
  auto tail_exit = tail.Wait(kTimeoutMs);
  ASSERT_TRUE(tail_exit.ok()) << tail_exit.status().ToString();
  EXPECT_EQ(tail_exit->code, 1) << tail_exit->ToString();
  EXPECT_NE(TailStderr().find("code 1001"), std::string::npos) << TailStderr();
  auto daemon_exit = daemon_.Wait(kTimeoutMs);
  ASSERT_TRUE(daemon_exit.ok()) << daemon_exit.status().ToString();
  EXPECT_TRUE(daemon_exit->success()) << daemon_exit->ToString();
}

TEST_F(CliDaemonTest, TailStopsOnSigint) {
  ASSERT_TRUE(Publish({"cli/int", "{}"}).exit.success());
  Subprocess tail;
  StartTail(&tail, {"cli/int"});
  ASSERT_TRUE(tail.ReadStdoutLine(kTimeoutMs).ok()) << TailStderr();
  ASSERT_TRUE(tail.Signal(SIGINT).ok());
  auto exit = tail.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << TailStderr();
}

}  // namespace
}  // namespace edgewatch::testing
