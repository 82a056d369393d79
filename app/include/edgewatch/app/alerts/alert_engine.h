// AlertEngine: evaluates alert rules on bus events, raises and acknowledges alerts, drives the
// output patterns, keeps alerts and notifications durable, and publishes them once stored.
//
// Flow of an alert:
//   1. An event on a topic matching a rule makes the rule's trigger fire (edge-triggered per
//      concrete topic: a condition that stays true raises one alert, not one per event; while an
//      alert a rule raised for a topic is unacknowledged, the rule raises no other for it).
//   2. The output patterns start at once (the light must not wait for the disk), the alert and
//      its notifications are queued to the AlertStore as one transaction.
//   3. When the store reports the commit (on the loop thread), the alert is published on topic
//      `alerts` and each notification on `notifications/<user>` (user-addressed) or
//      `notifications` (scope-addressed). "Published" therefore means "stored".
//   4. An acknowledgement (WebSocket op or the ack button) stops the alert's outputs at once,
//      stores the new state, then publishes the alert again with state "acked".
//
// The engine is independent of sockets and lws: it gets a Scheduler, an optional GpioChip (no
// outputs without one), a store and a publish function, so unit tests drive it with a
// FakeScheduler, a SimChip and a fake store. AlertService (alert_service.h) wires it to the
// gateway.
//
// Threading: the event-loop thread only; the store's completions must be delivered there too.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgewatch/app/alerts/output_pattern.h"
#include "edgewatch/app/alerts/rule.h"
#include "edgewatch/app/alerts/scheduler.h"
#include "edgewatch/app/store/alert_store.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/bus.h"
#include "edgewatch/hal/chip.h"

namespace edgewatch::app::alerts {

inline constexpr std::string_view kAlertsTopic = "alerts";
inline constexpr std::string_view kNotificationsTopic = "notifications";

// Who may see a notification: its user, or for a scope-addressed one ("scope:<pattern>")
// whoever may read the pattern. Supplied per client by the caller (from its token).
struct Viewer {
  std::string sub;                                 // token subject ("anonymous" without auth)
  std::function<bool(std::string_view)> can_read;  // the client's read authorisation
};

struct EngineStats {
  uint64_t raised = 0;        // alerts raised
  uint64_t deduplicated = 0;  // triggers dropped because the rule's alert was still active
  uint64_t acked = 0;
  uint64_t published = 0;     // alert events published after their commit
  uint64_t store_errors = 0;  // writes refused or failed (the alert still drove its outputs)
  uint64_t refreshes_ignored = 0;
};

class AlertEngine final : public fw::Subscriber {
 public:
  // Publishes `data_json` (a JSON object) on `topic`. Returns the gateway's error, if any.
  using Publish = std::function<Status(std::string_view topic, const std::string& data_json)>;
  // Limits of what is kept in memory (everything stays in the database).
  struct Limits {
    size_t max_active_alerts = 1000;
    size_t max_unread_notifications = 10000;
    size_t max_trigger_states = 4096;  // (rule, concrete topic) pairs tracked
  };

  // `chip` may be null (rules with outputs then only raise alerts). Everything referenced must
  // outlive the engine.
  AlertEngine(std::vector<Rule> rules, Scheduler& scheduler, hal::GpioChip* chip,
              store::AlertStore& store, Publish publish, Limits limits);
  AlertEngine(std::vector<Rule> rules, Scheduler& scheduler, hal::GpioChip* chip,
              store::AlertStore& store, Publish publish)
      : AlertEngine(std::move(rules), scheduler, chip, store, std::move(publish), Limits()) {}
  ~AlertEngine();
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Takes over what the store kept from the previous run (call once, before Start()):
  // unacknowledged alerts become active again (without re-driving outputs: their patterns
  // ended with the previous process) and unread notifications are listed again.
  void Restore(store::UnreadSnapshot snapshot);
  // Arms the silent-producer timers of rules on concrete topics (no wildcard): a producer that
  // never appears is silent too.
  void Start();

  // fw::Subscriber: the bus delivers events of the rules' topics here.
  void OnEvent(const fw::FrameRef& event) override;
  // The same, for a topic and its data (tests, and OnEvent).
  void HandleEvent(std::string_view topic, const cJSON* data);

  // Acknowledges alert `id`: stops its outputs now, stores the new state, then publishes it.
  // `by` is who (token subject, or "button"), `via` how ("ws" or "button"). NotFound when no
  // alert with that id is active in memory, FailedPrecondition when it is already acknowledged.
  Status Ack(std::string_view id, std::string_view by, std::string_view via);
  // Acknowledges every active alert (the physical button). Returns how many.
  int AckAll(std::string_view by, std::string_view via);
  // Drains the ack button's edge events (call when its EventFd() is readable); any press (an
  // edge to kActive) acknowledges every active alert. Returns the number of presses seen.
  int OnAckButtonReadable(hal::DigitalIn& button);

  // Unacknowledged alerts that are stored, oldest first.
  std::vector<const store::AlertRecord*> UnreadAlerts() const;
  // Unread notifications `viewer` may see, oldest first.
  std::vector<const store::NotificationRecord*> UnreadNotifications(const Viewer& viewer) const;
  // Marks the notifications in `ids` read, for those `viewer` may see; the change is stored in
  // the background. Returns the ids it marked (unknown, already read or invisible ids are left
  // out).
  std::vector<std::string> MarkRead(const std::vector<std::string>& ids, const Viewer& viewer);
  bool CanSee(const Viewer& viewer, const store::NotificationRecord& n) const;

  // The `data` objects published on `alerts` and `notifications/...` (docs/protocol.md).
  static std::string AlertJson(const store::AlertRecord& a);
  static std::string NotificationJson(const store::NotificationRecord& n);
  // The topic a notification is published on.
  static std::string NotificationTopic(const store::NotificationRecord& n);

  const std::vector<Rule>& rules() const { return rules_; }
  AlertOutputs* outputs() { return outputs_.get(); }
  const EngineStats& stats() const { return stats_; }
  // The active alert with `id`, or null (tests).
  const store::AlertRecord* FindActive(std::string_view id) const;

 private:
  // Per (rule, concrete topic).
  struct Trigger {
    bool was_true = false;     // edge detection
    bool have_value = false;   // changed: a previous value exists
    std::string last_value;    // changed: its JSON
    TimerId timer = 0;         // sustained "for" or silent timer
    std::deque<int64_t> hits;  // rate: times of matching events in the window
    std::string last_data;     // the last event's data (messages of timer-raised alerts)
    std::string active_alert;  // id of this trigger's unacknowledged alert
  };
  struct Active {
    store::AlertRecord record;
    bool stored = false;
    std::pair<size_t, std::string> trigger;  // who raised it
  };

  Trigger* GetTrigger(size_t rule, std::string_view topic);
  void Evaluate(size_t rule_index, std::string_view topic, const cJSON* data);
  void ArmSilent(size_t rule_index, const std::string& topic);
  void Raise(size_t rule_index, const std::string& topic, const cJSON* data);
  void OnAlertStored(const store::AlertRecord& record,
                     const std::vector<store::NotificationRecord>& notes, Status status);
  void PublishAlert(const store::AlertRecord& record);

  std::vector<Rule> rules_;
  Scheduler& scheduler_;
  store::AlertStore& store_;
  Publish publish_;
  Limits limits_;
  std::unique_ptr<AlertOutputs> outputs_;
  std::map<std::pair<size_t, std::string>, Trigger> triggers_;
  std::map<std::string, uint64_t, std::less<>> last_hash_;  // topic -> hash of its last data
  std::map<std::string, Active, std::less<>> active_;       // id -> alert
  std::deque<store::NotificationRecord> unread_;            // stored and unread, oldest first
  EngineStats stats_;
  std::shared_ptr<bool> alive_;  // completions check it: the store may outlive the engine
};

// "2026-11-22T02:30:22.123Z" for Unix milliseconds.
std::string IsoTime(int64_t unix_ms);

}  // namespace edgewatch::app::alerts
