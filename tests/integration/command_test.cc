// Operator commands end to end (docs/protocol.md, "Commands"): the real edgewatchd with auth on,
// a producer on the ingest socket that registers targets and answers commands, WebSocket clients
// with and without the write scope, and the audit/commands topic.
//
// Order is established by observation: the producer's "registered" reply means the register was
// handled, a "subscribed" reply means the audit subscription is live, the producer reading the
// command line means the command is pending. Every wait is bounded by kTimeoutMs (failure bound).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "edgewatch/app/store/alert_store.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/subprocess.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 15000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-command-test";
constexpr char kRegister[] =
    R"({"register":{"targets":["pipeline/cam1"],"commands":["restart","set_threshold"]}})";

std::string Str(const cJSON* obj, const char* key) {
  auto v = GetString(obj, key);
  return v ? std::string(*v) : std::string("<none>");
}
const cJSON* Member(const cJSON* obj, const char* key) {
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EW_SKIP_WITHOUT_DAEMON();
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-cmd-XXXXXX";
    char* made = ::mkdtemp(templ.data());
    ASSERT_NE(made, nullptr);
    dir_ = made;
    std::string secret = dir_ + "/jwt.secret";
    std::ofstream(secret) << kSecret;
    std::filesystem::permissions(secret, std::filesystem::perms::owner_read,
                                 std::filesystem::perm_options::replace);
    Status s = daemon_.Start({.args = {"--jwt-secret-file", secret}});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string Token(const std::string& sub, const std::string& scope) {
    fw::auth::MintOptions o;
    o.sub = sub;
    o.scope = scope;
    o.ttl_s = 3600;
    o.now_s = UnixMillis() / 1000;
    auto t = fw::auth::MintToken(o, kSecret);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : "";
  }
  // Opens `ws` with a header token and subscribes it to audit/commands.
  void Open(WsTestClient& ws, const std::string& token) {
    Status s = ws.Open(daemon_.port(), "/ws", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());
    ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":1,"topics":["audit/commands"]})").ok());
    auto sub = ws.ReceiveJson(kTimeoutMs);
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    ASSERT_EQ(Str(sub->get(), "type"), "subscribed") << PrintJson(sub->get());
  }
  void Register(IngestTestClient& producer, const std::string& line = kRegister) {
    ASSERT_TRUE(producer.Connect(daemon_.ingest_path()).ok());
    ASSERT_TRUE(producer.WriteLine(line).ok());
    auto reply = producer.ReadJsonLine(kTimeoutMs);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_NE(Member(reply->get(), "registered"), nullptr) << PrintJson(reply->get());
  }
  // The next command line the producer receives.
  JsonPtr ReadCommand(IngestTestClient& producer) {
    auto line = producer.ReadJsonLine(kTimeoutMs);
    EXPECT_TRUE(line.ok()) << line.status().ToString();
    if (!line.ok()) return JsonPtr(cJSON_CreateObject());
    EXPECT_NE(Member(line->get(), "command"), nullptr) << PrintJson(line->get());
    return std::move(line).value();
  }
  // The next audit event's data.
  JsonPtr NextAudit(WsTestClient& ws) {
    auto ev = ws.ReceiveJsonUntil(
        [](const cJSON& m) {
          return Str(&m, "type") == "event" && Str(&m, "topic") == "audit/commands";
        },
        kTimeoutMs);
    EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    if (!ev.ok()) return JsonPtr(cJSON_CreateObject());
    return JsonPtr(cJSON_Duplicate(Member(ev->get(), "data"), true));
  }
  // The error answering op `id`; its code.
  std::string ErrorCode(WsTestClient& ws, int id) {
    auto err = ws.ReceiveType("error", kTimeoutMs);
    EXPECT_TRUE(err.ok()) << err.status().ToString();
    if (!err.ok()) return "<none>";
    EXPECT_EQ(GetInt(err->get(), "id"), id);
    return Str(err->get(), "code");
  }

  std::string dir_;
  DaemonProcess daemon_;
};

TEST_F(CommandTest, CommandReachesTheProducerAndItsResultReachesTheClient) {
  IngestTestClient producer;
  Register(producer);
  WsTestClient alice;
  Open(alice, Token("alice", "write:pipeline/+ read:audit/commands"));

  ASSERT_TRUE(alice
                  .SendText(R"({"op":"command","id":5,"target":"pipeline/cam1",)"
                            R"("name":"set_threshold","args":{"value":0.7}})")
                  .ok());
  JsonPtr line = ReadCommand(producer);
  const cJSON* cmd = Member(line.get(), "command");
  EXPECT_EQ(Str(cmd, "name"), "set_threshold");
  EXPECT_EQ(Str(cmd, "from"), "alice");
  EXPECT_EQ(Str(cmd, "target"), "pipeline/cam1");
  EXPECT_EQ(PrintJson(Member(cmd, "args")), R"({"value":0.7})");
  const std::string id = Str(cmd, "id");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(
      producer.WriteLine(R"({"result":{"id":")" + id + R"(","ok":true,"message":"threshold 0.7"}})")
          .ok());

  auto result = alice.ReceiveType("command_result", kTimeoutMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(GetInt(result->get(), "id"), 5);
  EXPECT_TRUE(cJSON_IsTrue(Member(result->get(), "ok")));
  EXPECT_EQ(Str(result->get(), "message"), "threshold 0.7");

  JsonPtr audit = NextAudit(alice);
  EXPECT_EQ(Str(audit.get(), "id"), id);
  EXPECT_EQ(Str(audit.get(), "from"), "alice");
  EXPECT_EQ(Str(audit.get(), "target"), "pipeline/cam1");
  EXPECT_EQ(Str(audit.get(), "name"), "set_threshold");
  EXPECT_EQ(Str(audit.get(), "result"), "ok");
  EXPECT_EQ(PrintJson(Member(audit.get(), "args")), R"({"value":0.7})");

  // A producer's refusal is a result with ok:false, not an error.
  ASSERT_TRUE(
      alice.SendText(R"({"op":"command","id":6,"target":"pipeline/cam1","name":"restart"})").ok());
  line = ReadCommand(producer);
  const std::string id2 = Str(Member(line.get(), "command"), "id");
  EXPECT_EQ(PrintJson(Member(Member(line.get(), "command"), "args")), "{}");
  ASSERT_TRUE(
      producer.WriteLine(R"({"result":{"id":")" + id2 + R"(","ok":false,"message":"busy"}})").ok());
  result = alice.ReceiveType("command_result", kTimeoutMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(GetInt(result->get(), "id"), 6);
  EXPECT_TRUE(cJSON_IsFalse(Member(result->get(), "ok")));
  EXPECT_EQ(Str(result->get(), "message"), "busy");
  audit = NextAudit(alice);
  EXPECT_EQ(Str(audit.get(), "result"), "failed");

  // A result nobody waits for is answered on the ingest socket; the producer stays connected.
  ASSERT_TRUE(producer.WriteLine(R"({"result":{"id":")" + id2 + R"(","ok":true}})").ok());
  auto reply = producer.ReadJsonLine(kTimeoutMs);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(Str(reply->get(), "error"), "unknown_command_id");

  // Another producer may not take a target that is owned.
  IngestTestClient intruder;
  ASSERT_TRUE(intruder.Connect(daemon_.ingest_path()).ok());
  ASSERT_TRUE(intruder.WriteLine(kRegister).ok());
  reply = intruder.ReadJsonLine(kTimeoutMs);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(Str(reply->get(), "error"), "target_taken");
}

TEST_F(CommandTest, RefusalsTimeoutsAndVanishingProducersAreAnsweredAndAudited) {
  IngestTestClient producer;
  Register(producer);
  WsTestClient alice;
  Open(alice, Token("alice", "write:pipeline/cam1 read:audit/commands"));
  WsTestClient bob;  // may read the audit, may write only another pipeline
  Open(bob, Token("bob", "write:pipeline/cam2 read:audit/commands"));

  // Wrong scope: forbidden, and the producer never hears of it.
  ASSERT_TRUE(
      bob.SendText(R"({"op":"command","id":1,"target":"pipeline/cam1","name":"restart"})").ok());
  EXPECT_EQ(ErrorCode(bob, 1), "forbidden");
  JsonPtr audit = NextAudit(alice);
  EXPECT_EQ(Str(audit.get(), "result"), "forbidden");
  EXPECT_EQ(Str(audit.get(), "from"), "bob");
  EXPECT_TRUE(cJSON_IsNull(Member(audit.get(), "id")));

  // Unknown target (bob may write it, nobody registered it) and unknown command.
  ASSERT_TRUE(
      bob.SendText(R"({"op":"command","id":2,"target":"pipeline/cam2","name":"restart"})").ok());
  EXPECT_EQ(ErrorCode(bob, 2), "no_such_target");
  EXPECT_EQ(Str(NextAudit(alice).get(), "result"), "no_such_target");
  ASSERT_TRUE(
      alice.SendText(R"({"op":"command","id":3,"target":"pipeline/cam1","name":"reboot"})").ok());
  EXPECT_EQ(ErrorCode(alice, 3), "unknown_command");
  EXPECT_EQ(Str(NextAudit(alice).get(), "result"), "unknown_command");

  // Timeout: the producer reads the command and does not answer.
  ASSERT_TRUE(alice
                  .SendText(R"({"op":"command","id":4,"target":"pipeline/cam1",)"
                            R"("name":"restart","timeout_ms":50})")
                  .ok());
  JsonPtr line = ReadCommand(producer);
  const std::string late = Str(Member(line.get(), "command"), "id");
  EXPECT_EQ(ErrorCode(alice, 4), "timeout");
  audit = NextAudit(alice);
  EXPECT_EQ(Str(audit.get(), "result"), "timeout");
  EXPECT_EQ(Str(audit.get(), "id"), late);
  // Its late result is refused on the ingest socket.
  ASSERT_TRUE(producer.WriteLine(R"({"result":{"id":")" + late + R"(","ok":true}})").ok());
  auto reply = producer.ReadJsonLine(kTimeoutMs);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(Str(reply->get(), "error"), "unknown_command_id");

  // The producer vanishes while a command (with the default 10 s timeout) is pending: the
  // client hears target_offline at once, well within the timeout.
  int64_t sent_ms = UnixMillis();
  ASSERT_TRUE(
      alice.SendText(R"({"op":"command","id":5,"target":"pipeline/cam1","name":"restart"})").ok());
  ReadCommand(producer);
  producer.Close();
  EXPECT_EQ(ErrorCode(alice, 5), "target_offline");
  EXPECT_LT(UnixMillis() - sent_ms, 9000);
  EXPECT_EQ(Str(NextAudit(alice).get(), "result"), "target_offline");

  // While it is away its target is offline, not unknown; when it is back, commands flow again.
  ASSERT_TRUE(
      alice.SendText(R"({"op":"command","id":6,"target":"pipeline/cam1","name":"restart"})").ok());
  EXPECT_EQ(ErrorCode(alice, 6), "target_offline");
  EXPECT_EQ(Str(NextAudit(alice).get(), "result"), "target_offline");
  IngestTestClient back;
  Register(back);
  ASSERT_TRUE(
      alice.SendText(R"({"op":"command","id":7,"target":"pipeline/cam1","name":"restart"})").ok());
  line = ReadCommand(back);
  const std::string id = Str(Member(line.get(), "command"), "id");
  ASSERT_TRUE(back.WriteLine(R"({"result":{"id":")" + id + R"(","ok":true,"message":"ok"}})").ok());
  auto result = alice.ReceiveType("command_result", kTimeoutMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(GetInt(result->get(), "id"), 7);

  // Bob sees the audit events too (read scope on audit/commands); the first one (his own
  // forbidden) went by while he waited for his second error.
  std::vector<std::string> results;
  for (int i = 0; i < 6; ++i) results.push_back(Str(NextAudit(bob).get(), "result"));
  EXPECT_EQ(results, (std::vector<std::string>{"no_such_target", "unknown_command", "timeout",
                                               "target_offline", "target_offline", "ok"}));

  // Malformed ops are bad_request and not audited.
  ASSERT_TRUE(alice.SendText(R"({"op":"command","id":8,"target":"pipeline/cam1"})").ok());
  EXPECT_EQ(ErrorCode(alice, 8), "bad_request");
  ASSERT_TRUE(alice
                  .SendText(R"({"op":"command","id":9,"target":"pipeline/cam1",)"
                            R"("name":"restart","timeout_ms":0})")
                  .ok());
  EXPECT_EQ(ErrorCode(alice, 9), "bad_request");

  // Every outcome is also kept in the SQLite store next to the alerts. A clean stop commits
  // whatever the store still had queued; the rows are then read from the file itself.
  ASSERT_TRUE(daemon_.Signal(SIGTERM).ok());
  auto exited = daemon_.Wait(kTimeoutMs);
  ASSERT_TRUE(exited.ok()) << exited.status().ToString();
  auto store =
      app::store::SqliteAlertStore::Open(daemon_.state_dir(), [](std::function<void()>) {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto rows = (*store)->LoadAudit(100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 7u);  // the malformed ops (bad_request) are not audited
  const char* want_results[] = {"forbidden", "no_such_target", "unknown_command",
                                "timeout",   "target_offline", "target_offline",
                                "ok"};
  const char* froms[] = {"bob", "bob", "alice", "alice", "alice", "alice", "alice"};
  for (size_t i = 0; i < rows->size(); ++i) {
    const app::store::CommandAuditRecord& r = (*rows)[i];
    EXPECT_EQ(r.result, want_results[i]) << i;
    EXPECT_EQ(r.from, froms[i]) << i;
    EXPECT_EQ(r.name, i == 2 ? "reboot" : "restart") << i;
    EXPECT_EQ(r.ok, i == 6) << i;
    EXPECT_GT(r.ts_ms, 0) << i;
  }
  EXPECT_EQ((*rows)[0].command_id, "");  // refused before it was sent
  EXPECT_EQ((*rows)[3].command_id, late);
  EXPECT_EQ((*rows)[0].target, "pipeline/cam1");
  EXPECT_EQ((*rows)[1].target, "pipeline/cam2");
}

TEST_F(CommandTest, LogLevelOpNeedsTheAdminScope) {
  WsTestClient op;
  Open(op, Token("op", "read:audit/commands"));
  ASSERT_TRUE(op.SendText(R"({"op":"log_level","id":1,"level":"debug"})").ok());
  EXPECT_EQ(ErrorCode(op, 1), "forbidden");
  WsTestClient admin;
  Open(admin, Token("root", "admin"));
  ASSERT_TRUE(admin.SendText(R"({"op":"log_level","id":2,"level":"loud"})").ok());
  EXPECT_EQ(ErrorCode(admin, 2), "bad_request");
  ASSERT_TRUE(admin.SendText(R"({"op":"log_level","id":3,"level":"debug"})").ok());
  auto reply = admin.ReceiveType("log_level", kTimeoutMs);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(GetInt(reply->get(), "id"), 3);
  EXPECT_EQ(Str(reply->get(), "level"), "debug");
  // The change is logged (the reply is sent after the line was written).
  EXPECT_NE(daemon_.ReadStderr().find("log level info -> debug by root (admin op)"),
            std::string::npos);
}

// The demo pipeline (--demo) registers both cameras and visibly obeys its commands.
TEST(DemoCommandTest, DemoPipelineObeysPauseResumeAndThreshold) {
  EW_SKIP_WITHOUT_DAEMON();
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth", "--demo"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  WsTestClient ws;
  ASSERT_TRUE(ws.Open(d.port()).ok());
  ASSERT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());
  ASSERT_TRUE(
      ws.SendText(
            R"({"op":"subscribe","id":1,"topics":["pipeline/cam1/status","pipeline/cam1/frame"]})")
          .ok());
  ASSERT_TRUE(ws.ReceiveType("subscribed", kTimeoutMs).ok());
  auto status_is = [](const std::string& status) {
    return [status](const cJSON& m) {
      return Str(&m, "topic") == "pipeline/cam1/status" &&
             Str(Member(&m, "data"), "status") == status;
    };
  };
  // The demo registers right after connecting; the first frame event means it is connected.
  ASSERT_TRUE(
      ws.ReceiveJsonUntil([](const cJSON& m) { return Str(&m, "topic") == "pipeline/cam1/frame"; },
                          kTimeoutMs)
          .ok());
  // Status events seen while waiting for a command's answer (they come before it).
  std::vector<std::string> statuses;
  auto command = [&](int id, const std::string& name, const std::string& args) {
    EXPECT_TRUE(ws.SendText(R"({"op":"command","id":)" + std::to_string(id) +
                            R"(,"target":"pipeline/cam1","name":")" + name + R"(","args":)" + args +
                            "}")
                    .ok());
    auto r = ws.ReceiveJsonUntil(
        [&statuses, id](const cJSON& m) {
          if (Str(&m, "topic") == "pipeline/cam1/status") {
            statuses.push_back(Str(Member(&m, "data"), "status"));
          }
          return (Str(&m, "type") == "command_result" || Str(&m, "type") == "error") &&
                 GetInt(&m, "id") == id;
        },
        kTimeoutMs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : JsonPtr(cJSON_CreateObject());
  };

  JsonPtr r = command(2, "pause", "{}");
  EXPECT_TRUE(cJSON_IsTrue(Member(r.get(), "ok"))) << PrintJson(r.get());
  EXPECT_EQ(Str(r.get(), "message"), "cam1 paused");
  // The producer sends the status event before the result.
  EXPECT_EQ(statuses.empty() ? "" : statuses.back(), "paused");
  r = command(4, "pause", "{}");
  EXPECT_TRUE(cJSON_IsFalse(Member(r.get(), "ok"))) << PrintJson(r.get());
  r = command(5, "resume", "{}");
  EXPECT_TRUE(cJSON_IsTrue(Member(r.get(), "ok"))) << PrintJson(r.get());
  EXPECT_EQ(statuses.empty() ? "" : statuses.back(), "running");

  // Threshold 1: no detection passes; every later frame has detections_count 0.
  r = command(6, "set_threshold", R"({"value":1.0})");
  EXPECT_TRUE(cJSON_IsTrue(Member(r.get(), "ok"))) << PrintJson(r.get());
  for (int i = 0; i < 10; ++i) {
    auto frame = ws.ReceiveJsonUntil(
        [](const cJSON& m) { return Str(&m, "topic") == "pipeline/cam1/frame"; }, kTimeoutMs);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    EXPECT_EQ(GetInt(Member(Member(frame->get(), "data"), "frame_data"), "detections_count"), 0);
  }
  r = command(7, "set_threshold", R"({"value":"high"})");
  EXPECT_TRUE(cJSON_IsFalse(Member(r.get(), "ok"))) << PrintJson(r.get());
  r = command(8, "restart", "{}");
  EXPECT_TRUE(cJSON_IsTrue(Member(r.get(), "ok"))) << PrintJson(r.get());
  EXPECT_EQ(statuses.empty() ? "" : statuses.back(), "starting");
  ASSERT_TRUE(ws.ReceiveJsonUntil(status_is("running"), kTimeoutMs).ok());
}

// `edgewatch command TARGET NAME [JSON]` against the demo, with a token file (auth on).
TEST_F(CommandTest, CliSendsACommandAndPrintsTheResult) {
  IngestTestClient producer;
  Register(producer);
  const std::string token_file = dir_ + "/token";
  std::ofstream(token_file) << Token("cli", "write:pipeline/cam1") << "\n";
  const std::string cli = BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
  Subprocess cmd;
  SubprocessOptions o;
  o.argv = {cli,        "command",       "--url",         daemon_.ws_url(),   "--token-file",
            token_file, "pipeline/cam1", "set_threshold", R"({"value":0.25})"};
  ASSERT_TRUE(cmd.Start(o).ok());
  // The producer answers what the CLI sent.
  JsonPtr line = ReadCommand(producer);
  const cJSON* c = Member(line.get(), "command");
  EXPECT_EQ(Str(c, "from"), "cli");
  EXPECT_EQ(PrintJson(Member(c, "args")), R"({"value":0.25})");
  ASSERT_TRUE(producer
                  .WriteLine(R"({"result":{"id":")" + Str(c, "id") +
                             R"(","ok":true,"message":"cam1 threshold 0.25"}})")
                  .ok());
  auto out = cmd.Communicate({}, kTimeoutMs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->exit.success()) << out->exit.ToString() << out->err;
  EXPECT_EQ(out->out,
            R"({"type":"command_result","id":2,"ok":true,"message":"cam1 threshold 0.25"})"
            "\n");

  // Errors go to stderr with exit 1; usage errors exit 2.
  auto r = RunCommand({cli, "command", "--url", daemon_.ws_url(), "--token-file", token_file,
                       "pipeline/cam9", "restart"},
                      {}, kTimeoutMs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit.code, 1);
  EXPECT_NE(r->err.find("server error forbidden"), std::string::npos) << r->err;
  r = RunCommand({cli, "command", "pipeline/cam1", "restart", "[1]"}, {}, kTimeoutMs);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit.code, 2);
}

}  // namespace
}  // namespace edgewatch::testing
