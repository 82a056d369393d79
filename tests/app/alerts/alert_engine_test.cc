// The alert engine end to end without sockets: events in, GPIO history and published events out.
// A FakeScheduler drives time, a SimChip records the outputs, a FakeStore decides when writes
// are "committed". Nothing sleeps.
#include "edgewatch/app/alerts/alert_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgewatch/base/json.h"
#include "fake_store.h"
#include "test_board.h"

namespace edgewatch::app::alerts {
namespace {

using hal::Level;
using ::testing::ElementsAre;
using testing::FakeStore;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using testing::Timeline;

constexpr int64_t kMs = 1000;
constexpr int64_t kSec = 1000 * kMs;
constexpr Level kOn = Level::kActive;
constexpr Level kOff = Level::kInactive;

struct Published {
  std::string topic;
  JsonPtr data;
  std::string Get(const char* key) const {
    auto v = GetString(data.get(), key);
    return v ? std::string(*v) : std::string("<null>");
  }
};

constexpr char kRules[] = R"([
  {"id": "intrusion",
   "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0"},
   "then": {"output": {"role": "alert_led", "pattern": "blink", "hz": 2, "for": "10s",
                       "priority": 1},
            "alert": {"severity": "critical",
                      "message": "Intrusion on {pipeline_id}: {analytics.new_intrusions} new"},
            "notify": {"users": ["alice", "bob"], "scopes": ["alerts"], "title": "Intrusion"}}},
  {"id": "hot", "when": {"topic": "system/resources", "if": "temperature_c > 80"},
   "then": {"output": {"role": "alert_led", "pattern": "steady", "for": "1m", "priority": 5},
            "alert": {"severity": "warning", "message": "{temperature_c} C"}}},
  {"id": "stalled", "when": {"topic": "pipeline/+/frame", "if": "frame_data.fps < 5",
                             "for": "10s"},
   "then": {"output": {"role": "buzzer", "pattern": "pulses", "count": 2, "width": "100ms",
                       "gap": "100ms"},
            "alert": {"severity": "warning", "message": "{topic} at {frame_data.fps} FPS"}}},
  {"id": "silent-cam1", "when": {"topic": "pipeline/cam1/status", "silent": "30s"},
   "then": {"alert": {"severity": "error", "message": "cam1 silent"}}},
  {"id": "burst", "when": {"topic": "pipeline/+/error", "if": "severity in [high, critical]",
                           "rate": {"count": 3, "window": "1m"}},
   "then": {"alert": {"severity": "error", "message": "errors on {topic}"}}},
  {"id": "status-change", "when": {"topic": "training/+/metrics", "if": "phase changed"},
   "then": {"alert": {"severity": "info", "message": "phase {phase}"}}}
])";

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chip_ = testing::OpenSimChip(sched_);
    ASSERT_NE(chip_, nullptr);
    hal::BoardSpec board = testing::TestBoard();
    auto rules = ParseRules(ParseJson(kRules)->get(), &board);
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::move(rules).value();
    MakeEngine();
  }

  void MakeEngine() {
    engine_ = std::make_unique<AlertEngine>(
        rules_, sched_, chip_.get(), store_,
        [this](std::string_view topic, const std::string& json) {
          auto d = ParseJson(json);
          EXPECT_TRUE(d.ok()) << json;
          published_.push_back(Published{std::string(topic), std::move(d).value()});
          return OkStatus();
        });
    t0_ = sched_.NowUs();
  }

  void Event(std::string_view topic, const char* json) {
    auto d = ParseJson(json);
    ASSERT_TRUE(d.ok()) << json;
    engine_->HandleEvent(topic, d->get());
  }
  void Intrusion(const char* cam, int n) {
    std::string json = std::string(R"({"pipeline_id":")") + cam +
                       R"(","analytics":{"new_intrusions":)" + std::to_string(n) + "}}";
    Event(std::string("pipeline/") + cam + "/analytics", json.c_str());
  }
  std::vector<std::string> AlertStates() const {
    std::vector<std::string> out;
    for (const Published& p : published_) {
      if (p.topic == "alerts") out.push_back(p.Get("rule") + ":" + p.Get("state"));
    }
    return out;
  }
  std::string LastAlertId() const {
    for (auto it = published_.rbegin(); it != published_.rend(); ++it) {
      if (it->topic == "alerts") return it->Get("id");
    }
    return "";
  }
  auto Led() { return Timeline(*chip_, "alert_led", t0_); }

  FakeScheduler sched_;
  std::unique_ptr<hal::SimChip> chip_;
  std::vector<Rule> rules_;
  FakeStore store_;
  std::unique_ptr<AlertEngine> engine_;
  std::vector<Published> published_;
  int64_t t0_ = 0;
};

TEST_F(AlertEngineTest, IntrusionBlinksTheLedAndPublishesOnlyOnceStored) {
  Intrusion("cam1", 2);
  // The LED reacts at once...
  EXPECT_EQ(chip_->Current("alert_led").value(), kOn);
  // ...but nothing is reported before the store committed.
  EXPECT_THAT(published_, IsEmpty());
  ASSERT_THAT(store_.pending, SizeIs(1));
  const store::StoreWrite& w = store_.pending[0].first;
  ASSERT_THAT(w.alerts, SizeIs(1));
  EXPECT_EQ(w.alerts[0].message, "Intrusion on cam1: 2 new");
  EXPECT_EQ(w.alerts[0].severity, "critical");
  ASSERT_THAT(w.notifications, SizeIs(3));  // alice, bob, scope:alerts
  EXPECT_EQ(w.notifications[0].recipient, "alice");
  EXPECT_EQ(w.notifications[2].recipient, "scope:alerts");
  EXPECT_EQ(w.notifications[0].type, "error");
  EXPECT_THAT(engine_->UnreadAlerts(), IsEmpty());  // not stored yet

  store_.CommitAll();
  ASSERT_THAT(published_, SizeIs(4));
  EXPECT_EQ(published_[0].topic, "alerts");
  EXPECT_EQ(published_[0].Get("state"), "active");
  EXPECT_EQ(published_[0].Get("topic"), "pipeline/cam1/analytics");
  EXPECT_EQ(published_[0].Get("created_at"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(published_[1].topic, "notifications/alice");
  EXPECT_EQ(published_[2].topic, "notifications/bob");
  EXPECT_EQ(published_[3].topic, "notifications");
  EXPECT_EQ(published_[3].Get("scope"), "alerts");
  EXPECT_EQ(published_[1].Get("title"), "Intrusion");
  const cJSON* action = cJSON_GetObjectItemCaseSensitive(published_[1].data.get(), "action");
  EXPECT_EQ(PrintJson(action),
            R"({"type":"open_alert","payload":{"alert":")" + LastAlertId() + R"("}})");
  EXPECT_THAT(engine_->UnreadAlerts(), SizeIs(1));

  sched_.AdvanceBy(1 * kSec);
  EXPECT_THAT(Led(), ElementsAre(Pair(kOn, 0), Pair(kOff, 250), Pair(kOn, 500), Pair(kOff, 750),
                                 Pair(kOn, 1000)));
}

TEST_F(AlertEngineTest, EdgeTriggeredAndDeduplicatedWhileActive) {
  Intrusion("cam1", 1);
  Intrusion("cam1", 3);  // still true: no new alert
  Intrusion("cam1", 0);
  Intrusion("cam1", 1);  // true again, but cam1's alert is still active
  EXPECT_EQ(engine_->stats().raised, 1u);
  EXPECT_EQ(engine_->stats().deduplicated, 1u);
  Intrusion("cam2", 1);  // another topic: its own alert
  EXPECT_EQ(engine_->stats().raised, 2u);
  store_.CommitAll();
  ASSERT_EQ(engine_->UnreadAlerts().size(), 2u);
  std::string cam1;
  for (const auto* a : engine_->UnreadAlerts()) {
    if (a->topic == "pipeline/cam1/analytics") cam1 = a->id;
  }
  ASSERT_TRUE(engine_->Ack(cam1, "alice", "ws").ok());
  store_.CommitAll();
  Intrusion("cam1", 0);
  Intrusion("cam1", 2);  // after the acknowledgement a new edge raises again
  EXPECT_EQ(engine_->stats().raised, 3u);
}

TEST_F(AlertEngineTest, AckStopsTheOutputAtOnceAndPublishesAfterTheCommit) {
  Intrusion("cam1", 1);
  store_.CommitAll();
  std::string id = LastAlertId();
  sched_.AdvanceBy(600 * kMs);  // on 0, off 250, on 500
  ASSERT_TRUE(engine_->Ack(id, "alice", "ws").ok());
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_THAT(Led(), ElementsAre(Pair(kOn, 0), Pair(kOff, 250), Pair(kOn, 500), Pair(kOff, 600)));
  EXPECT_EQ(sched_.pending(), 0u);  // blink and expiry timers are gone
  EXPECT_THAT(AlertStates(), ElementsAre("intrusion:active"));
  EXPECT_THAT(engine_->UnreadAlerts(), IsEmpty());
  store_.CommitAll();
  EXPECT_THAT(AlertStates(), ElementsAre("intrusion:active", "intrusion:acked"));
  EXPECT_EQ(published_.back().Get("acked_by"), "alice");
  EXPECT_EQ(published_.back().Get("ack_via"), "ws");
  EXPECT_EQ(published_.back().Get("acked_at"), "2023-11-14T22:13:20.600Z");
  ASSERT_THAT(store_.committed, SizeIs(2));
  EXPECT_EQ(store_.committed[1].alerts[0].state, "acked");

  EXPECT_EQ(engine_->Ack(id, "alice", "ws").code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->Ack("nope", "alice", "ws").code(), StatusCode::kNotFound);
}

TEST_F(AlertEngineTest, AckBeforeTheCommitPublishesActiveThenAcked) {
  Intrusion("cam1", 1);
  const std::string id = store_.pending[0].first.alerts[0].id;
  ASSERT_TRUE(engine_->Ack(id, "bob", "ws").ok());
  EXPECT_EQ(engine_->Ack(id, "bob", "ws").code(), StatusCode::kFailedPrecondition);
  store_.CommitAll();
  EXPECT_THAT(AlertStates(), ElementsAre("intrusion:active", "intrusion:acked"));
}

TEST_F(AlertEngineTest, AckButtonAcknowledgesEveryActiveAlert) {
  Intrusion("cam1", 1);
  Intrusion("cam2", 1);
  store_.CommitAll();
  auto button = chip_->Input("ack_button");
  ASSERT_TRUE(button.ok());
  // A press with contact bounce inside the 20 ms debounce window: one press.
  ASSERT_TRUE(chip_->Drive("ack_button", kOn).ok());
  sched_.AdvanceBy(2 * kMs);
  ASSERT_TRUE(chip_->Drive("ack_button", kOff).ok());
  sched_.AdvanceBy(2 * kMs);
  ASSERT_TRUE(chip_->Drive("ack_button", kOn).ok());
  EXPECT_EQ(engine_->OnAckButtonReadable(**button), 1);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  store_.CommitAll();
  EXPECT_THAT(AlertStates(), ElementsAre("intrusion:active", "intrusion:active", "intrusion:acked",
                                         "intrusion:acked"));
  EXPECT_EQ(published_.back().Get("ack_via"), "button");
  // Releasing the button acknowledges nothing more.
  sched_.AdvanceBy(100 * kMs);
  ASSERT_TRUE(chip_->Drive("ack_button", kOff).ok());
  EXPECT_EQ(engine_->OnAckButtonReadable(**button), 0);
}

TEST_F(AlertEngineTest, PriorityHotOverridesIntrusionAndHandsBack) {
  Intrusion("cam1", 1);  // blink, priority 1
  sched_.AdvanceBy(100 * kMs);
  Event("system/resources", R"({"temperature_c": 85.5})");  // steady, priority 5
  store_.CommitAll();
  std::string hot = LastAlertId();
  sched_.AdvanceBy(1 * kSec);  // steady: no change
  EXPECT_EQ(engine_->outputs()->Driver("alert_led"), hot);
  ASSERT_TRUE(engine_->Ack(hot, "alice", "ws").ok());  // at 1100: intrusion resumes blinking
  sched_.AdvanceBy(300 * kMs);
  EXPECT_THAT(Led(), ElementsAre(Pair(kOn, 0), Pair(kOff, 1350)));
  EXPECT_EQ(published_[0].Get("message"), "Intrusion on cam1: 1 new");
  EXPECT_EQ(published_[1].topic, "notifications/alice");
}

TEST_F(AlertEngineTest, OutputsStopAtTheirMaximumDurationButTheAlertStaysActive) {
  Intrusion("cam1", 1);
  store_.CommitAll();
  sched_.RunAll(3600 * kSec);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_EQ(Led().back(), std::make_pair(kOff, int64_t{9750}));  // last toggle before 10 s
  EXPECT_EQ(sched_.pending(), 0u);
  EXPECT_THAT(engine_->UnreadAlerts(), SizeIs(1));  // still to be acknowledged
}

TEST_F(AlertEngineTest, SustainedConditionNeedsItsWholeDuration) {
  Event("pipeline/cam1/frame", R"({"frame_data":{"fps":3}})");
  sched_.AdvanceBy(9 * kSec);
  Event("pipeline/cam1/frame", R"({"frame_data":{"fps":30}})");  // recovered: timer cancelled
  sched_.AdvanceBy(60 * kSec);
  EXPECT_EQ(engine_->stats().raised, 0u);

  Event("pipeline/cam1/frame", R"({"frame_data":{"fps":4}})");
  sched_.AdvanceBy(5 * kSec);
  Event("pipeline/cam1/frame", R"({"frame_data":{"fps":2.5}})");  // still stalled
  sched_.AdvanceBy(5 * kSec);  // 10 s after it first dropped: fires, with the latest values
  EXPECT_EQ(engine_->stats().raised, 1u);
  store_.CommitAll();
  EXPECT_EQ(published_[0].Get("message"), "pipeline/cam1/frame at 2.5 FPS");
  // Two pulses on the buzzer, then the pattern ends by itself.
  sched_.RunAll(10 * kSec);
  EXPECT_THAT(chip_->History("buzzer"), ElementsAre(kOn, kOff, kOn, kOff));
}

TEST_F(AlertEngineTest, SilentProducer) {
  // A concrete topic is watched from the start: a producer that never appears is silent too.
  engine_->Start();
  sched_.AdvanceBy(31 * kSec);
  EXPECT_EQ(engine_->stats().raised, 1u);
  store_.CommitAll();
  ASSERT_TRUE(engine_->Ack(LastAlertId(), "alice", "ws").ok());
  store_.CommitAll();
  published_.clear();
  sched_.AdvanceBy(100 * kSec);  // not re-armed until the topic shows life
  EXPECT_EQ(engine_->stats().raised, 1u);
  Event("pipeline/cam1/status", R"({"status":"running","n":1})");
  sched_.AdvanceBy(29 * kSec);
  EXPECT_EQ(engine_->stats().raised, 1u);
  // The gateway's periodic refresh re-sends the same data: not a sign of life.
  Event("pipeline/cam1/status", R"({"status":"running","n":1})");
  EXPECT_EQ(engine_->stats().refreshes_ignored, 1u);
  sched_.AdvanceBy(1 * kSec);
  EXPECT_EQ(engine_->stats().raised, 2u);
  store_.CommitAll();
  EXPECT_EQ(published_[0].Get("message"), "cam1 silent");
  EXPECT_EQ(published_[0].Get("severity"), "error");
}

TEST_F(AlertEngineTest, RateOverAWindow) {
  auto err = [&](int n) {
    Event("pipeline/cam1/error", (R"({"severity":"high","n":)" + std::to_string(n) + "}").c_str());
  };
  err(1);
  sched_.AdvanceBy(40 * kSec);
  err(2);
  Event("pipeline/cam1/error", R"({"severity":"low"})");  // does not count
  sched_.AdvanceBy(30 * kSec);                            // the first hit left the window
  err(3);
  EXPECT_EQ(engine_->stats().raised, 0u);
  sched_.AdvanceBy(10 * kSec);
  err(4);  // 2, 3, 4 within one minute
  EXPECT_EQ(engine_->stats().raised, 1u);
}

TEST_F(AlertEngineTest, Changed) {
  Event("training/run1/metrics", R"({"phase":"train","loss":1})");  // baseline
  Event("training/run1/metrics", R"({"phase":"train","loss":0.5})");
  EXPECT_EQ(engine_->stats().raised, 0u);
  Event("training/run1/metrics", R"({"phase":"eval","loss":0.5})");
  EXPECT_EQ(engine_->stats().raised, 1u);
  store_.CommitAll();
  EXPECT_EQ(published_[0].Get("message"), "phase eval");
}

TEST_F(AlertEngineTest, AlertsAndNotificationsNeverTriggerRules) {
  Event("alerts", R"({"temperature_c": 99})");
  Event("notifications/alice", R"({"temperature_c": 99})");
  EXPECT_EQ(engine_->stats().raised, 0u);
}

TEST_F(AlertEngineTest, NotificationsVisibilityAndMarkRead) {
  Intrusion("cam1", 1);
  store_.CommitAll();
  Viewer alice{"alice", [](std::string_view) { return false; }};
  Viewer carol{"carol", [](std::string_view p) { return p == "alerts"; }};
  Viewer admin{"root", [](std::string_view) { return true; }};
  auto ids = [](const std::vector<const store::NotificationRecord*>& v) {
    std::vector<std::string> out;
    for (const auto* n : v) out.push_back(n->recipient);
    return out;
  };
  EXPECT_THAT(ids(engine_->UnreadNotifications(alice)), ElementsAre("alice"));
  EXPECT_THAT(ids(engine_->UnreadNotifications(carol)), ElementsAre("scope:alerts"));
  EXPECT_THAT(ids(engine_->UnreadNotifications(admin)),
              ElementsAre("alice", "bob", "scope:alerts"));

  std::string alice_id = engine_->UnreadNotifications(alice)[0]->id;
  std::string bob_id = engine_->UnreadNotifications(admin)[1]->id;
  // Alice cannot mark Bob's; unknown ids are ignored.
  EXPECT_THAT(engine_->MarkRead({alice_id, bob_id, "zzz"}, alice), ElementsAre(alice_id));
  EXPECT_THAT(engine_->UnreadNotifications(alice), IsEmpty());
  ASSERT_THAT(store_.pending, SizeIs(1));
  EXPECT_THAT(store_.pending[0].first.mark_read, ElementsAre(alice_id));
  EXPECT_THAT(engine_->MarkRead({alice_id}, alice), IsEmpty());  // already read
}

TEST_F(AlertEngineTest, RestoreKeepsUnreadStateAndDeduplicates) {
  store::UnreadSnapshot snap;
  store::AlertRecord a;
  a.id = "a1";
  a.rule = "intrusion";
  a.topic = "pipeline/cam1/analytics";
  a.severity = "critical";
  a.message = "old";
  a.created_at_ms = 1;
  snap.alerts.push_back(a);
  store::NotificationRecord n;
  n.id = "n1";
  n.recipient = "alice";
  n.type = "error";
  snap.notifications.push_back(n);
  engine_->Restore(snap);
  ASSERT_THAT(engine_->UnreadAlerts(), SizeIs(1));
  EXPECT_THAT(engine_->UnreadNotifications({"alice", nullptr}), SizeIs(1));
  Intrusion("cam1", 1);  // the restored alert is still active for this rule and topic
  EXPECT_EQ(engine_->stats().raised, 0u);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);  // restored alerts do not re-drive
  ASSERT_TRUE(engine_->Ack("a1", "alice", "ws").ok());
  store_.CommitAll();
  EXPECT_THAT(AlertStates(), ElementsAre("intrusion:acked"));
}

TEST_F(AlertEngineTest, AStoreThatRefusesStillDrivesOutputsButReportsNothing) {
  store_.refuse = true;
  Intrusion("cam1", 1);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOn);
  EXPECT_EQ(engine_->stats().store_errors, 1u);
  EXPECT_THAT(published_, IsEmpty());
  store_.refuse = false;
  Intrusion("cam2", 1);
  store_.CommitAll(Internal("disk I/O error"));
  EXPECT_THAT(published_, IsEmpty());
  EXPECT_EQ(engine_->stats().store_errors, 2u);
}

TEST_F(AlertEngineTest, CompletionsAfterTheEngineIsGoneAreDropped) {
  Intrusion("cam1", 1);
  engine_.reset();
  store_.CommitAll();  // must not touch the destroyed engine
  EXPECT_THAT(published_, IsEmpty());
}

TEST(AlertJsonTest, Shapes) {
  store::AlertRecord a;
  a.id = "x";
  a.rule = "r";
  a.topic = "t";
  a.severity = "info";
  a.message = "m \"q\"";
  a.created_at_ms = 1700000000123;
  EXPECT_EQ(AlertEngine::AlertJson(a),
            R"({"id":"x","rule":"r","topic":"t","severity":"info","message":"m \"q\"",)"
            R"("state":"active","created_at":"2023-11-14T22:13:20.123Z","acked_by":null,)"
            R"("ack_via":null,"acked_at":null})");
  store::NotificationRecord n;
  n.id = "n";
  n.recipient = "scope:pipeline/#";
  n.type = "warning";
  n.title = "T";
  n.message = "M";
  n.created_at_ms = 0;
  EXPECT_EQ(AlertEngine::NotificationJson(n),
            R"({"id":"n","user_id":null,"scope":"pipeline/#","type":"warning","title":"T",)"
            R"("message":"M","read":false,"created_at":"1970-01-01T00:00:00.000Z","action":null})");
  EXPECT_EQ(AlertEngine::NotificationTopic(n), "notifications");
}

}  // namespace
}  // namespace edgewatch::app::alerts
