// Logs are safe and machine-readable (issue 12): a session with tokens on all three transports
// (first frame, Authorization header, ?token=), refused tokens, a long-poll with a query token, a
// producer and a command, with auth on, --log-format json and --log-level debug. Afterwards no
// token, no 16-character prefix or suffix of one, and not the secret appear in the daemon's
// stderr, and every line is a JSON object with ts, level, subsystem and msg.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 15000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-log-test-secret";

std::string Str(const cJSON* obj, const char* key) {
  auto v = GetString(obj, key);
  return v ? std::string(*v) : std::string("<none>");
}

TEST(LogTest, NoTokenInTheLogsAndJsonLinesParse) {
  EW_SKIP_WITHOUT_DAEMON();
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-log-XXXXXX";
  char* made = ::mkdtemp(templ.data());
  ASSERT_NE(made, nullptr);
  const std::string dir = made;
  const std::string secret_path = dir + "/jwt.secret";
  std::ofstream(secret_path) << kSecret;
  std::filesystem::permissions(secret_path, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);

  auto mint = [](const std::string& sub, const std::string& scope) {
    fw::auth::MintOptions o;
    o.sub = sub;
    o.scope = scope;
    o.ttl_s = 3600;
    o.now_s = UnixMillis() / 1000;
    auto t = fw::auth::MintToken(o, kSecret);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : std::string();
  };
  const std::string first_frame = mint("frame-user", "read:# write:pipeline/+");
  const std::string header = mint("header-user", "read:#");
  const std::string query = mint("query-user", "read:#");
  const std::string poll = mint("poll-user", "read:#");
  std::string tampered = query;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  const std::string foreign = [] {
    fw::auth::MintOptions o;
    o.sub = "mallory";
    o.scope = "admin";
    o.ttl_s = 3600;
    o.now_s = UnixMillis() / 1000;
    auto t = fw::auth::MintToken(o, "another-secret-that-is-long-enough-0123456789");
    return t.ok() ? *t : std::string();
  }();

  {
    DaemonProcess d;
    Status s = d.Start({.args = {"--jwt-secret-file", secret_path, "--log-format", "json",
                                 "--log-level", "debug"}});
    ASSERT_TRUE(s.ok()) << s.ToString();

    // A producer that owns pipeline/cam1 and answers commands.
    IngestTestClient producer;
    ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());
    ASSERT_TRUE(
        producer.WriteLine(R"({"register":{"targets":["pipeline/cam1"],"commands":["restart"]}})")
            .ok());
    ASSERT_TRUE(producer.ReadJsonLine(kTimeoutMs).ok());

    // 1. First-frame token, then a command.
    WsTestClient ws1;
    ASSERT_TRUE(ws1.Open(d.port()).ok());
    ASSERT_TRUE(ws1.ReceiveType("welcome", kTimeoutMs).ok());
    ASSERT_TRUE(ws1.SendText(R"({"op":"auth","id":1,"token":")" + first_frame + R"("})").ok());
    ASSERT_TRUE(ws1.ReceiveType("authenticated", kTimeoutMs).ok());
    ASSERT_TRUE(
        ws1.SendText(R"({"op":"command","id":2,"target":"pipeline/cam1","name":"restart"})").ok());
    auto cmd = producer.ReadJsonLine(kTimeoutMs);
    ASSERT_TRUE(cmd.ok());
    std::string id = Str(cJSON_GetObjectItemCaseSensitive(cmd->get(), "command"), "id");
    ASSERT_TRUE(producer.WriteLine(R"({"result":{"id":")" + id + R"(","ok":true}})").ok());
    ASSERT_TRUE(ws1.ReceiveType("command_result", kTimeoutMs).ok());

    // 2. Authorization header.
    WsTestClient ws2;
    ASSERT_TRUE(ws2.Open(d.port(), "/ws", {{"Authorization", "Bearer " + header}}).ok());
    ASSERT_TRUE(ws2.ReceiveType("welcome", kTimeoutMs).ok());
    ASSERT_TRUE(ws2.SendText(R"({"op":"subscribe","id":1,"topics":["pipeline/#"]})").ok());
    ASSERT_TRUE(ws2.ReceiveType("subscribed", kTimeoutMs).ok());

    // 3. Query token, with other query parameters around it.
    WsTestClient ws3;
    ASSERT_TRUE(ws3.Open(d.port(), "/ws?client=phone&token=" + query + "&x=1").ok());
    ASSERT_TRUE(ws3.ReceiveType("welcome", kTimeoutMs).ok());

    // Refusals: a tampered query token, a token of another secret in the header and in the first
    // frame, and a long-poll with a query token.
    WsTestClient bad;
    auto r = bad.Connect({.port = d.port(), .target = "/ws?token=" + tampered});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401);
    WsTestClient bad2;
    r = bad2.Connect({.port = d.port(), .headers = {{"Authorization", "Bearer " + foreign}}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401);
    WsTestClient bad3;
    ASSERT_TRUE(bad3.Open(d.port()).ok());
    ASSERT_TRUE(bad3.ReceiveType("welcome", kTimeoutMs).ok());
    ASSERT_TRUE(bad3.SendText(R"({"op":"auth","id":1,"token":")" + foreign + R"("})").ok());
    ASSERT_TRUE(bad3.ReceiveClose(kTimeoutMs).ok());
    auto p = HttpGet(d.port(), "/api/v1/poll?topics=system/%23&timeout=0&token=" + poll);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->status, 200) << p->body;

    ws1.Close();
    ws2.Close();
    ws3.Close();
    producer.Close();
    ASSERT_TRUE(d.Signal(SIGTERM).ok());
    auto exit = d.Wait(kTimeoutMs);
    ASSERT_TRUE(exit.ok()) << exit.status().ToString();
    const std::string log = d.ReadStderr();
    ASSERT_FALSE(log.empty());

    const std::vector<std::string> tokens = {first_frame, header, query, poll, tampered, foreign};
    for (const std::string& token : tokens) {
      const std::string* t = &token;
      ASSERT_GT(t->size(), 32u);
      EXPECT_EQ(log.find(*t), std::string::npos);
      EXPECT_EQ(log.find(t->substr(0, 16)), std::string::npos) << "prefix of a token logged";
      EXPECT_EQ(log.find(t->substr(t->size() - 16)), std::string::npos)
          << "signature of a token logged";
      size_t dot = t->find('.');
      EXPECT_EQ(log.find(t->substr(dot + 1, 16)), std::string::npos) << "claims of a token logged";
    }
    EXPECT_EQ(log.find(kSecret), std::string::npos);
    EXPECT_EQ(log.find(std::string(kSecret).substr(0, 16)), std::string::npos);
    EXPECT_EQ(log.find("token="), std::string::npos) << "a query string was logged";

    // Every line is one JSON object with the four members; the session left its traces.
    std::istringstream lines(log);
    std::string line;
    int count = 0;
    bool saw_command = false, saw_refusal = false, saw_producer = false;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      ++count;
      auto j = ParseJson(line);
      ASSERT_TRUE(j.ok()) << "not JSON: " << line;
      ASSERT_TRUE(cJSON_IsObject(j->get())) << line;
      for (const char* key : {"ts", "level", "subsystem", "msg"}) {
        EXPECT_TRUE(GetString(j->get(), key).has_value()) << key << " missing: " << line;
      }
      std::string msg = Str(j->get(), "msg");
      if (Str(j->get(), "subsystem") == "command" && msg.find(": ok after") != std::string::npos) {
        saw_command = true;
      }
      if (msg.find("token_bad_signature") != std::string::npos) saw_refusal = true;
      if (msg.find("producer 1 connected") != std::string::npos) saw_producer = true;
    }
    EXPECT_GT(count, 10);
    EXPECT_TRUE(saw_command) << log;
    EXPECT_TRUE(saw_refusal) << log;
    EXPECT_TRUE(saw_producer) << log;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace edgewatch::testing
