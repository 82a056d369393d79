// Alerts, acknowledgements and notifications end to end: the real edgewatchd with alert rules in
// its config file, a producer on the ingest socket, WebSocket clients, GET /api/v1/hal on the
// simulated board, authorisation of `ack`, and durability across `kill -9`.
//
// Order is established by observation, never by sleeping: an alert is stored once its `alerts`
// event arrives (the engine publishes only after the SQLite commit); every wait is bounded by
// kTimeoutMs as a failure bound only.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/subprocess.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 15000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-alerts-test";

constexpr char kConfig[] = R"({
  "rules": [
    {"id": "intrusion",
     "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0"},
     "then": {"output": {"role": "alert_led", "pattern": "blink", "hz": 2, "for": "10m"},
              "alert": {"severity": "critical", "message": "Intrusion on {pipeline_id}"},
              "notify": {"users": ["alice"], "title": "Intrusion"}}}
  ]
})";

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-alerts-XXXXXX";
    char* made = ::mkdtemp(templ.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string IntrusionLine(const std::string& cam) {
  return R"({"topic":"pipeline/)" + cam + R"(/analytics","data":{"pipeline_id":")" + cam +
         R"(","analytics":{"node_id":"zones","node_type":"zone_counter","results":null,)"
         R"("new_intrusions":1}}})";
}

void PublishAll(const std::string& ingest, const std::vector<std::string>& lines) {
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(ingest).ok());
  for (const auto& l : lines) ASSERT_TRUE(p.WriteLine(l).ok());
  ASSERT_TRUE(p.ShutdownWrite().ok());
  ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
}

std::string Str(const cJSON* obj, const char* key) {
  auto v = GetString(obj, key);
  return v ? std::string(*v) : std::string("<none>");
}
const cJSON* Member(const cJSON* obj, const char* key) {
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

// The next `alerts` event whose data has state `state`; returns its data's JSON.
Result<JsonPtr> NextAlert(WsTestClient& ws, const std::string& state) {
  return ws.ReceiveJsonUntil(
      [&](const cJSON& m) {
        return Str(&m, "type") == "event" && Str(&m, "topic") == "alerts" &&
               Str(Member(&m, "data"), "state") == state;
      },
      kTimeoutMs);
}

Result<JsonPtr> HalState(uint16_t port, const HttpHeaders& headers = {}) {
  auto r = HttpGet(port, "/api/v1/hal", headers);
  if (!r.ok()) return r.status();
  if (r->status != 200) return Internal("HTTP " + std::to_string(r->status) + ": " + r->body);
  return r->Json();
}

std::string LedLevel(const cJSON* hal) {
  return Str(Member(Member(hal, "lines"), "alert_led"), "level");
}

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override { EW_SKIP_WITHOUT_DAEMON(); }

  void Start(DaemonProcess& d, std::vector<std::string> args, bool auth = false) {
    std::vector<std::string> all = {"--config", dir_.Write("config.json", kConfig)};
    if (auth) {
      std::string secret = dir_.Write("jwt.secret", kSecret);
      std::filesystem::permissions(secret, std::filesystem::perms::owner_read,
                                   std::filesystem::perm_options::replace);
      all.insert(all.end(), {"--jwt-secret-file", secret});
    } else {
      all.push_back("--no-auth");
    }
    all.insert(all.end(), args.begin(), args.end());
    Status s = d.Start({.args = all});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Open(WsTestClient& ws, uint16_t port, const std::string& token = "") {
    Status s = ws.Open(port, token.empty() ? "/ws" : "/ws?token=" + token);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(ws.ReceiveType("welcome", kTimeoutMs).ok());
  }
  // Subscribes and returns the "unread" message that follows for `topic`.
  JsonPtr SubscribeUnread(WsTestClient& ws, const std::string& topic, int id = 1) {
    EXPECT_TRUE(ws.SendText(R"({"op":"subscribe","id":)" + std::to_string(id) + R"(,"topics":[")" +
                            topic + R"("]})")
                    .ok());
    auto unread = ws.ReceiveJsonUntil(
        [&](const cJSON& m) { return Str(&m, "type") == "unread" && Str(&m, "topic") == topic; },
        kTimeoutMs);
    EXPECT_TRUE(unread.ok()) << unread.status().ToString();
    return unread.ok() ? std::move(unread).value() : JsonPtr(cJSON_CreateObject());
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

  TempDir dir_;
};

TEST_F(AlertsTest, IntrusionDrivesTheLedAndAWebSocketAckStopsIt) {
  DaemonProcess d;
  Start(d, {});
  WsTestClient ws;
  Open(ws, d.port());
  JsonPtr unread = SubscribeUnread(ws, "alerts");
  EXPECT_EQ(cJSON_GetArraySize(Member(unread.get(), "items")), 0);

  PublishAll(d.ingest_path(), {IntrusionLine("cam1")});
  auto active = NextAlert(ws, "active");
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  const cJSON* data = Member(active->get(), "data");
  EXPECT_EQ(Str(data, "rule"), "intrusion");
  EXPECT_EQ(Str(data, "severity"), "critical");
  EXPECT_EQ(Str(data, "message"), "Intrusion on cam1");
  const std::string id = Str(data, "id");

  // The sim backend's state: the LED was driven (its pattern's first step is "on").
  auto hal = HalState(d.port());
  ASSERT_TRUE(hal.ok()) << hal.status().ToString();
  const cJSON* led = Member(Member(hal->get(), "lines"), "alert_led");
  ASSERT_NE(led, nullptr) << PrintJson(hal->get());
  EXPECT_GE(GetInt(led, "sets").value_or(0), 1);
  EXPECT_EQ(Str(cJSON_GetArrayItem(Member(led, "recent"), 0), "level"), "active");

  ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":7,"alert":")" + id + R"("})").ok());
  auto acked = ws.ReceiveType("acked", kTimeoutMs);
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_EQ(GetInt(acked->get(), "id"), 7);
  EXPECT_EQ(Str(acked->get(), "alert"), id);
  // The output stopped when the ack was accepted, before this reply was sent.
  hal = HalState(d.port());
  ASSERT_TRUE(hal.ok());
  EXPECT_EQ(LedLevel(hal->get()), "inactive");
  auto event = NextAlert(ws, "acked");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(Str(Member(event->get(), "data"), "ack_via"), "ws");
  EXPECT_EQ(Str(Member(event->get(), "data"), "acked_by"), "anonymous");

  // A second ack, and an unknown alert, are errors that keep the connection open.
  ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":8,"alert":")" + id + R"("})").ok());
  auto err = ws.ReceiveType("error", kTimeoutMs);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(Str(err->get(), "code"), "not_found");
  ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":9})").ok());
  err = ws.ReceiveType("error", kTimeoutMs);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(Str(err->get(), "code"), "bad_request");
}

TEST_F(AlertsTest, UnreadOnSubscribeAndNotificationOps) {
  DaemonProcess d;
  Start(d, {});
  WsTestClient watcher;
  Open(watcher, d.port());
  SubscribeUnread(watcher, "alerts");
  PublishAll(d.ingest_path(), {IntrusionLine("cam1"), IntrusionLine("cam2")});
  ASSERT_TRUE(NextAlert(watcher, "active").ok());
  ASSERT_TRUE(NextAlert(watcher, "active").ok());

  // A client arriving later first receives the unacknowledged alerts...
  WsTestClient ws;
  Open(ws, d.port());
  JsonPtr unread = SubscribeUnread(ws, "alerts");
  EXPECT_EQ(cJSON_GetArraySize(Member(unread.get(), "items")), 2) << PrintJson(unread.get());
  // ...and on its notification topic the unread notifications (without auth it may see them all).
  unread = SubscribeUnread(ws, "notifications/anonymous", 2);
  const cJSON* items = Member(unread.get(), "items");
  ASSERT_EQ(cJSON_GetArraySize(items), 2) << PrintJson(unread.get());
  const cJSON* n0 = cJSON_GetArrayItem(items, 0);
  EXPECT_EQ(Str(n0, "user_id"), "alice");
  EXPECT_EQ(Str(n0, "type"), "error");
  EXPECT_EQ(Str(n0, "title"), "Intrusion");
  EXPECT_TRUE(cJSON_IsFalse(Member(n0, "read")));
  EXPECT_EQ(Str(Member(n0, "action"), "type"), "open_alert");

  ASSERT_TRUE(ws.SendText(R"({"op":"notifications","id":3})").ok());
  auto list = ws.ReceiveType("notifications", kTimeoutMs);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(GetInt(list->get(), "id"), 3);
  ASSERT_EQ(cJSON_GetArraySize(Member(list->get(), "items")), 2);
  std::string first = Str(cJSON_GetArrayItem(Member(list->get(), "items"), 0), "id");

  ASSERT_TRUE(ws.SendText(R"({"op":"mark_read","id":4,"ids":[")" + first + R"(","nope"]})").ok());
  auto marked = ws.ReceiveType("marked_read", kTimeoutMs);
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(PrintJson(Member(marked->get(), "ids")), "[\"" + first + "\"]");
  ASSERT_TRUE(ws.SendText(R"({"op":"notifications","id":5})").ok());
  list = ws.ReceiveType("notifications", kTimeoutMs);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(cJSON_GetArraySize(Member(list->get(), "items")), 1);

  ASSERT_TRUE(ws.SendText(R"({"op":"mark_read","id":6,"ids":"all"})").ok());
  auto err = ws.ReceiveType("error", kTimeoutMs);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(Str(err->get(), "code"), "bad_request");
}

TEST_F(AlertsTest, AckNeedsAWriteScopeOnAlertsAndNotificationsArePerUser) {
  DaemonProcess d;
  Start(d, {}, /*auth=*/true);
  WsTestClient bob;  // may read alerts, may not acknowledge them
  Open(bob, d.port(), Token("bob", "read:alerts read:notifications/bob"));
  SubscribeUnread(bob, "alerts");
  PublishAll(d.ingest_path(), {IntrusionLine("cam1")});
  auto active = NextAlert(bob, "active");
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  const std::string id = Str(Member(active->get(), "data"), "id");

  ASSERT_TRUE(bob.SendText(R"({"op":"ack","id":1,"alert":")" + id + R"("})").ok());
  auto err = bob.ReceiveType("error", kTimeoutMs);
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(Str(err->get(), "code"), "forbidden");
  // Bob's notification topic holds none (the rule notifies alice).
  JsonPtr unread = SubscribeUnread(bob, "notifications/bob", 2);
  EXPECT_EQ(cJSON_GetArraySize(Member(unread.get(), "items")), 0);

  WsTestClient alice;
  Open(alice, d.port(), Token("alice", "read:alerts read:notifications/alice write:alerts"));
  unread = SubscribeUnread(alice, "notifications/alice");
  EXPECT_EQ(cJSON_GetArraySize(Member(unread.get(), "items")), 1);
  ASSERT_TRUE(alice.SendText(R"({"op":"ack","id":2,"alert":")" + id + R"("})").ok());
  ASSERT_TRUE(alice.ReceiveType("acked", kTimeoutMs).ok());
  auto event = NextAlert(bob, "acked");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(Str(Member(event->get(), "data"), "acked_by"), "alice");

  // The HAL state needs a read scope covering system/hal.
  auto hal = HttpGet(d.port(), "/api/v1/hal",
                     {{"Authorization", "Bearer " + Token("bob", "read:alerts")}});
  ASSERT_TRUE(hal.ok());
  EXPECT_EQ(hal->status, 403);
  EXPECT_TRUE(
      HalState(d.port(), {{"Authorization", "Bearer " + Token("ops", "read:system/#")}}).ok());
}

// Every alert whose `alerts` event was published is on disk: after SIGKILL and a restart on the
// same state directory, all of them are there with their acknowledged/unread state.
TEST_F(AlertsTest, KillDashNineKeepsEveryReportedAlertAndItsUnreadState) {
  constexpr int kAlerts = 12;
  const std::string state = dir_.path() + "/state";
  std::set<std::string> ids, acked;
  std::string read_notification;
  {
    DaemonProcess d;
    Start(d, {"--state-dir", state});
    WsTestClient ws;
    Open(ws, d.port());
    SubscribeUnread(ws, "alerts");
    std::vector<std::string> lines;
    for (int i = 0; i < kAlerts; ++i) lines.push_back(IntrusionLine("cam" + std::to_string(i)));
    PublishAll(d.ingest_path(), lines);
    for (int i = 0; i < kAlerts; ++i) {
      auto a = NextAlert(ws, "active");
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      ids.insert(Str(Member(a->get(), "data"), "id"));
    }
    ASSERT_EQ(ids.size(), static_cast<size_t>(kAlerts));
    for (auto it = ids.begin(); acked.size() < 3; ++it) {
      ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":1,"alert":")" + *it + R"("})").ok());
      ASSERT_TRUE(NextAlert(ws, "acked").ok());
      acked.insert(*it);
    }
    ASSERT_TRUE(ws.SendText(R"({"op":"notifications","id":2})").ok());
    auto list = ws.ReceiveType("notifications", kTimeoutMs);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(cJSON_GetArraySize(Member(list->get(), "items")), kAlerts);
    read_notification = Str(cJSON_GetArrayItem(Member(list->get(), "items"), 0), "id");
    ASSERT_TRUE(
        ws.SendText(R"({"op":"mark_read","id":3,"ids":[")" + read_notification + R"("]})").ok());
    ASSERT_TRUE(ws.ReceiveType("marked_read", kTimeoutMs).ok());
    // A read flag is acknowledged before its commit (docs/protocol.md); this ack's commit queues
    // behind it, so once its event arrives the read flag is on disk too.
    auto it = ids.begin();
    while (acked.count(*it) != 0) ++it;
    ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":4,"alert":")" + *it + R"("})").ok());
    ASSERT_TRUE(NextAlert(ws, "acked").ok());
    acked.insert(*it);

    ASSERT_TRUE(d.Signal(SIGKILL).ok());
    auto exit = d.Wait(kTimeoutMs);
    ASSERT_TRUE(exit.ok());
    EXPECT_EQ(exit->signal, SIGKILL);
  }
  DaemonProcess d;
  Start(d, {"--state-dir", state});
  WsTestClient ws;
  Open(ws, d.port());
  JsonPtr unread = SubscribeUnread(ws, "alerts");
  std::set<std::string> restored;
  const cJSON* item;
  cJSON_ArrayForEach(item, Member(unread.get(), "items")) {
    EXPECT_EQ(Str(item, "state"), "active");
    restored.insert(Str(item, "id"));
  }
  std::set<std::string> expected;
  for (const std::string& id : ids) {
    if (acked.count(id) == 0) expected.insert(id);
  }
  EXPECT_EQ(restored, expected);
  EXPECT_EQ(restored.size(), static_cast<size_t>(kAlerts - 4));

  ASSERT_TRUE(ws.SendText(R"({"op":"notifications","id":2})").ok());
  auto list = ws.ReceiveType("notifications", kTimeoutMs);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(cJSON_GetArraySize(Member(list->get(), "items")), kAlerts - 1);
  cJSON_ArrayForEach(item, Member(list->get(), "items")) {
    EXPECT_NE(Str(item, "id"), read_notification);
  }
  // The restored alerts can still be acknowledged, and the rule does not raise them again.
  ASSERT_TRUE(ws.SendText(R"({"op":"ack","id":5,"alert":")" + *expected.begin() + R"("})").ok());
  ASSERT_TRUE(ws.ReceiveType("acked", kTimeoutMs).ok());
  PublishAll(d.ingest_path(), {IntrusionLine("cam11")});
  auto stats = HttpGet(d.port(), "/api/v1/alerts");
  ASSERT_TRUE(stats.ok());
  auto body = stats->Json();
  ASSERT_TRUE(body.ok());
  const cJSON* engine = Member(body->get(), "engine");
  EXPECT_EQ(GetInt(engine, "raised").value_or(-1) + GetInt(engine, "deduplicated").value_or(-1), 1)
      << stats->body;
}

TEST_F(AlertsTest, GpioCommandShowsTheLines) {
  const std::string cli = BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
  DaemonProcess d;
  Start(d, {});
  WsTestClient ws;
  Open(ws, d.port());
  SubscribeUnread(ws, "alerts");
  PublishAll(d.ingest_path(), {IntrusionLine("cam1")});
  ASSERT_TRUE(NextAlert(ws, "active").ok());

  auto out = RunCommand({cli, "gpio", "--url", d.http_url()}, "", kTimeoutMs);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->exit.success()) << out->err;
  EXPECT_NE(out->out.find("board generic-x86_64, backend sim"), std::string::npos) << out->out;
  EXPECT_NE(out->out.find("ack_button  in        3  low     inactive  edge falling"),
            std::string::npos)
      << out->out;
  EXPECT_NE(out->out.find("recent: on +0ms"), std::string::npos) << out->out;

  out = RunCommand({cli, "gpio", "--json", "--url", d.ws_url()}, "", kTimeoutMs);
  ASSERT_TRUE(out.ok());
  auto json = ParseJson(out->out);
  ASSERT_TRUE(json.ok()) << out->out;
  EXPECT_EQ(Str(json->get(), "backend"), "sim");

  out = RunCommand({cli, "gpio", "extra"}, "", kTimeoutMs);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit.code, 2);
}

TEST_F(AlertsTest, ABadRuleStopsTheDaemonAtStart) {
  DaemonProcess d;
  std::string config =
      dir_.Write("bad.json", R"({"rules":[{"id":"x","when":{"topic":"a","if":"v > 1"},
                      "then":{"output":{"role":"siren","pattern":"steady"}}}]})");
  Status s = d.Start({.args = {"--no-auth", "--config", config}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no role \"siren\""), std::string::npos) << s.message();
}

}  // namespace
}  // namespace edgewatch::testing
