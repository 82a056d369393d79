#include "edgewatch/app/alerts/alert_engine.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <utility>

#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/frame.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::alerts {
namespace {

constexpr std::string_view kScopePrefix = "scope:";

bool HasWildcard(std::string_view pattern) {
  return pattern.find('+') != std::string_view::npos || pattern.find('#') != std::string_view::npos;
}

uint64_t HashData(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

std::string IsoTime(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

AlertEngine::AlertEngine(std::vector<Rule> rules, Scheduler& scheduler, hal::GpioChip* chip,
                         store::AlertStore& store, Publish publish, Limits limits)
    : rules_(std::move(rules)),
      scheduler_(scheduler),
      store_(store),
      publish_(std::move(publish)),
      limits_(limits),
      alive_(std::make_shared<bool>(true)) {
  if (chip != nullptr) {
    outputs_ = std::make_unique<AlertOutputs>(*chip, scheduler_);
    outputs_->on_ended = [](const std::string& key, const std::string& role, bool expired) {
      EW_INFO("alerts", "output %s for alert %s %s", role.c_str(), key.c_str(),
              expired ? "reached its maximum duration" : "completed its pattern");
    };
  }
}

AlertEngine::~AlertEngine() {
  *alive_ = false;
  for (auto& [key, t] : triggers_) scheduler_.Cancel(t.timer);
}

void AlertEngine::Restore(store::UnreadSnapshot snapshot) {
  for (store::AlertRecord& a : snapshot.alerts) {
    if (active_.size() >= limits_.max_active_alerts) break;
    Active act;
    act.stored = true;
    // Tie the alert to its rule and topic again so the rule does not raise a duplicate.
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i].id != a.rule) continue;
      act.trigger = {i, a.topic};
      if (Trigger* t = GetTrigger(i, a.topic)) t->active_alert = a.id;
    }
    std::string id = a.id;
    act.record = std::move(a);
    active_.emplace(std::move(id), std::move(act));
  }
  for (store::NotificationRecord& n : snapshot.notifications) {
    if (unread_.size() >= limits_.max_unread_notifications) unread_.pop_front();
    unread_.push_back(std::move(n));
  }
  if (!active_.empty() || !unread_.empty()) {
    EW_INFO("alerts", "restored %zu unacknowledged alerts and %zu unread notifications",
            active_.size(), unread_.size());
  }
}

void AlertEngine::Start() {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].silent_us > 0 && !HasWildcard(rules_[i].topic)) ArmSilent(i, rules_[i].topic);
  }
}

AlertEngine::Trigger* AlertEngine::GetTrigger(size_t rule, std::string_view topic) {
  auto key = std::make_pair(rule, std::string(topic));
  auto it = triggers_.find(key);
  if (it != triggers_.end()) return &it->second;
  if (triggers_.size() >= limits_.max_trigger_states) {
    EW_WARN("alerts", "rule %s: more than %zu (rule, topic) states; ignoring topic %.*s",
            rules_[rule].id.c_str(), limits_.max_trigger_states, static_cast<int>(topic.size()),
            topic.data());
    return nullptr;
  }
  return &triggers_.emplace(std::move(key), Trigger()).first->second;
}

void AlertEngine::OnEvent(const fw::FrameRef& event) {
  if (event->topic == nullptr) return;
  auto data = ParseJson(event->data(), JsonLimits{event->data().size() + 1, 64});
  if (!data.ok()) return;
  HandleEvent(event->topic->name(), data->get());
}

void AlertEngine::HandleEvent(std::string_view topic, const cJSON* data) {
  // Alerts and notifications never trigger rules (no feedback loops through "#").
  if (topic == kAlertsTopic || fw::TopicMatches("notifications/#", topic)) return;
  // The gateway re-sends an unchanged topic periodically (refresh): the same data as the
  // previous event is no news -- not a new hit for rates, not a sign of life for silent rules.
  std::string json = PrintJson(data);
  uint64_t h = HashData(json);
  auto [it, inserted] = last_hash_.try_emplace(std::string(topic), h);
  if (!inserted) {
    if (it->second == h) {
      ++stats_.refreshes_ignored;
      return;
    }
    it->second = h;
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (fw::TopicMatches(rules_[i].topic, topic)) Evaluate(i, topic, data);
  }
}

void AlertEngine::Evaluate(size_t ri, std::string_view topic_view, const cJSON* data) {
  const Rule& rule = rules_[ri];
  Trigger* t = GetTrigger(ri, topic_view);
  if (t == nullptr) return;
  std::string topic(topic_view);

  if (rule.silent_us > 0) {  // any event is a sign of life: restart the silence timer
    t->last_data = PrintJson(data);
    ArmSilent(ri, topic);
    return;
  }

  bool now_true;
  if (rule.condition.kind == Condition::Kind::kChanged) {
    std::string v = FieldValueJson(data, rule.condition.field);
    now_true = t->have_value && v != t->last_value;
    t->have_value = true;
    t->last_value = std::move(v);
    // Every change is news: a change right after a change raises again (deduplicated while the
    // alert is active).
    if (now_true) Raise(ri, topic, data);
    return;
  }
  now_true = alerts::Evaluate(rule.condition, data);

  if (rule.rate_count > 0) {
    if (!now_true) return;
    const int64_t now = scheduler_.NowUs();
    t->hits.push_back(now);
    while (!t->hits.empty() && t->hits.front() <= now - rule.rate_window_us) t->hits.pop_front();
    if (static_cast<int>(t->hits.size()) >= rule.rate_count) {
      t->hits.clear();  // the next alert needs `count` new hits
      Raise(ri, topic, data);
    }
    return;
  }

  if (rule.for_us > 0) {
    if (now_true && !t->was_true) {
      t->last_data = PrintJson(data);
      t->timer = scheduler_.After(rule.for_us, [this, ri, topic] {
        Trigger* tt = GetTrigger(ri, topic);
        if (tt == nullptr) return;
        tt->timer = 0;
        auto d = ParseJson(tt->last_data, JsonLimits{tt->last_data.size() + 1, 64});
        Raise(ri, topic, d.ok() ? d->get() : nullptr);
      });
    } else if (now_true) {
      t->last_data = PrintJson(data);  // the message shows the latest values
    } else if (t->was_true) {
      scheduler_.Cancel(t->timer);
      t->timer = 0;
    }
    t->was_true = now_true;
    return;
  }

  if (now_true && !t->was_true) Raise(ri, topic, data);
  t->was_true = now_true;
}

void AlertEngine::ArmSilent(size_t ri, const std::string& topic) {
  Trigger* t = GetTrigger(ri, topic);
  if (t == nullptr) return;
  scheduler_.Cancel(t->timer);
  t->timer = scheduler_.After(rules_[ri].silent_us, [this, ri, topic] {
    Trigger* tt = GetTrigger(ri, topic);
    if (tt == nullptr) return;
    tt->timer = 0;  // re-armed by the next event on the topic
    auto d = ParseJson(tt->last_data.empty() ? "{}" : tt->last_data,
                       JsonLimits{tt->last_data.size() + 3, 64});
    Raise(ri, topic, d.ok() ? d->get() : nullptr);
  });
}

void AlertEngine::Raise(size_t ri, const std::string& topic, const cJSON* data) {
  const Rule& rule = rules_[ri];
  Trigger* t = GetTrigger(ri, topic);
  if (t == nullptr) return;
  if (!t->active_alert.empty() && active_.count(t->active_alert) != 0 &&
      active_.at(t->active_alert).record.state == "active") {
    ++stats_.deduplicated;
    return;
  }
  if (active_.size() >= limits_.max_active_alerts) {
    // Forget the oldest acknowledged-or-not alert in memory (it stays in the database).
    auto oldest =
        std::min_element(active_.begin(), active_.end(), [](const auto& a, const auto& b) {
          return a.second.record.created_at_ms < b.second.record.created_at_ms;
        });
    if (outputs_) outputs_->Stop(oldest->first);
    active_.erase(oldest);
  }

  store::AlertRecord a;
  a.id = fw::RandomHexId(8);
  a.rule = rule.id;
  a.topic = topic;
  a.severity = rule.alert.severity;
  a.message = RenderTemplate(rule.alert.message, data, topic, rule.id);
  a.created_at_ms = scheduler_.UnixMs();
  a.state = "active";
  t->active_alert = a.id;
  ++stats_.raised;
  EW_INFO("alerts", "alert %s raised by rule %s on %s (%s): %s", a.id.c_str(), rule.id.c_str(),
          topic.c_str(), a.severity.c_str(), a.message.c_str());

  // The outputs first: the light reacts now, whatever the disk does.
  if (outputs_) {
    for (const OutputAction& o : rule.outputs) {
      Status s = outputs_->Start(o.role, a.id, o.priority, o.pattern, o.max_duration_us);
      if (!s.ok()) {
        EW_WARN("alerts", "rule %s: output %s: %s", rule.id.c_str(), o.role.c_str(),
                s.ToString().c_str());
      }
    }
  }

  store::StoreWrite w;
  w.alerts.push_back(a);
  if (rule.notify) {
    const NotifyAction& n = *rule.notify;
    std::string title = RenderTemplate(n.title, data, topic, rule.id);
    std::string message =
        n.message.empty() ? a.message : RenderTemplate(n.message, data, topic, rule.id);
    JsonWriter action;
    action.BeginObject()
        .Key("type")
        .String("open_alert")
        .Key("payload")
        .BeginObject()
        .Key("alert")
        .String(a.id)
        .EndObject()
        .EndObject();
    std::string action_json = action.Take();
    auto add = [&](std::string recipient) {
      store::NotificationRecord r;
      r.id = fw::RandomHexId(8);
      r.recipient = std::move(recipient);
      r.type = n.type;
      r.title = title;
      r.message = message;
      r.created_at_ms = a.created_at_ms;
      r.action_json = action_json;
      r.alert_id = a.id;
      w.notifications.push_back(std::move(r));
    };
    for (const std::string& u : n.users) add(u);
    for (const std::string& s : n.scopes) add(std::string(kScopePrefix) + s);
  }

  Active act;
  act.record = a;
  act.trigger = {ri, topic};
  active_.emplace(a.id, std::move(act));

  std::vector<store::NotificationRecord> notes = w.notifications;
  std::weak_ptr<bool> alive = alive_;
  Status s = store_.Write(std::move(w), [this, alive, a, notes](Status st) {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    OnAlertStored(a, notes, st);
  });
  if (!s.ok()) {
    ++stats_.store_errors;
    EW_ERROR("alerts", "alert %s not stored (%s): it drives its outputs but is not published",
             a.id.c_str(), s.ToString().c_str());
  }
}

void AlertEngine::OnAlertStored(const store::AlertRecord& record,
                                const std::vector<store::NotificationRecord>& notes,
                                Status status) {
  if (!status.ok()) {
    ++stats_.store_errors;
    EW_ERROR("alerts", "alert %s could not be stored (%s): not published", record.id.c_str(),
             status.ToString().c_str());
    return;
  }
  auto it = active_.find(record.id);
  if (it != active_.end()) it->second.stored = true;
  // Published as it was when stored: a later acknowledgement publishes its own event after its
  // own commit (the store commits in queue order).
  PublishAlert(record);
  for (const store::NotificationRecord& n : notes) {
    if (unread_.size() >= limits_.max_unread_notifications) unread_.pop_front();
    unread_.push_back(n);
    Status s = publish_(NotificationTopic(n), NotificationJson(n));
    if (!s.ok()) {
      EW_WARN("alerts", "notification %s: publish failed: %s", n.id.c_str(), s.ToString().c_str());
    }
  }
}

void AlertEngine::PublishAlert(const store::AlertRecord& record) {
  Status s = publish_(kAlertsTopic, AlertJson(record));
  if (s.ok()) {
    ++stats_.published;
  } else {
    EW_WARN("alerts", "alert %s: publish failed: %s", record.id.c_str(), s.ToString().c_str());
  }
}

Status AlertEngine::Ack(std::string_view id, std::string_view by, std::string_view via) {
  auto it = active_.find(id);
  if (it == active_.end()) return NotFound("no active alert \"" + std::string(id) + "\"");
  store::AlertRecord& a = it->second.record;
  if (a.state != "active") {
    return FailedPrecondition("alert " + a.id + " is already acknowledged by " + a.acked_by);
  }
  a.state = "acked";
  a.acked_by = std::string(by);
  a.ack_via = std::string(via);
  a.acked_at_ms = scheduler_.UnixMs();
  ++stats_.acked;
  if (outputs_) outputs_->Stop(a.id);
  auto tk = triggers_.find(it->second.trigger);
  if (tk != triggers_.end() && tk->second.active_alert == a.id) tk->second.active_alert.clear();
  EW_INFO("alerts", "alert %s acknowledged by %s via %s", a.id.c_str(), a.acked_by.c_str(),
          a.ack_via.c_str());

  store::AlertRecord copy = a;
  std::weak_ptr<bool> alive = alive_;
  store::StoreWrite w;
  w.alerts.push_back(copy);
  Status s = store_.Write(std::move(w), [this, alive, copy](Status st) {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    if (!st.ok()) {
      ++stats_.store_errors;
      EW_ERROR("alerts", "acknowledgement of %s could not be stored: %s", copy.id.c_str(),
               st.ToString().c_str());
      return;
    }
    PublishAlert(copy);
    auto cur = active_.find(copy.id);
    if (cur != active_.end() && cur->second.record.state != "active") active_.erase(cur);
  });
  if (!s.ok()) {
    ++stats_.store_errors;
    EW_ERROR("alerts", "acknowledgement of %s not stored: %s", copy.id.c_str(),
             s.ToString().c_str());
  }
  return OkStatus();
}

int AlertEngine::AckAll(std::string_view by, std::string_view via) {
  std::vector<std::string> ids;
  for (const auto& [id, act] : active_) {
    if (act.record.state == "active") ids.push_back(id);
  }
  int n = 0;
  for (const std::string& id : ids) n += Ack(id, by, via).ok() ? 1 : 0;
  return n;
}

int AlertEngine::OnAckButtonReadable(hal::DigitalIn& button) {
  int presses = 0;
  for (int i = 0; i < 64; ++i) {  // bounded: the descriptor stays readable if more is pending
    Result<hal::Edge> e = button.ReadEdge();
    if (!e.ok()) {
      if (e.status().code() != StatusCode::kUnavailable) {
        EW_WARN("alerts", "ack button: %s", e.status().ToString().c_str());
      }
      break;
    }
    if (e->level == hal::Level::kActive) ++presses;
  }
  if (presses > 0) {
    int n = AckAll("button", "button");
    EW_INFO("alerts", "ack button pressed: %d alert%s acknowledged", n, n == 1 ? "" : "s");
  }
  return presses;
}

const store::AlertRecord* AlertEngine::FindActive(std::string_view id) const {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second.record;
}

std::vector<const store::AlertRecord*> AlertEngine::UnreadAlerts() const {
  std::vector<const store::AlertRecord*> out;
  for (const auto& [id, act] : active_) {
    if (act.stored && act.record.state == "active") out.push_back(&act.record);
  }
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return a->created_at_ms != b->created_at_ms ? a->created_at_ms < b->created_at_ms
                                                : a->id < b->id;
  });
  return out;
}

bool AlertEngine::CanSee(const Viewer& viewer, const store::NotificationRecord& n) const {
  std::string_view r = n.recipient;
  if (r.substr(0, kScopePrefix.size()) == kScopePrefix) {
    return viewer.can_read && viewer.can_read(r.substr(kScopePrefix.size()));
  }
  if (r == viewer.sub) return true;
  // Whoever may read a user's notification topic may see that user's notifications.
  return viewer.can_read && viewer.can_read(NotificationTopic(n));
}

std::vector<const store::NotificationRecord*> AlertEngine::UnreadNotifications(
    const Viewer& viewer) const {
  std::vector<const store::NotificationRecord*> out;
  for (const store::NotificationRecord& n : unread_) {
    if (CanSee(viewer, n)) out.push_back(&n);
  }
  return out;
}

std::vector<std::string> AlertEngine::MarkRead(const std::vector<std::string>& ids,
                                               const Viewer& viewer) {
  std::vector<std::string> marked;
  for (const std::string& id : ids) {
    auto it = std::find_if(unread_.begin(), unread_.end(),
                           [&](const store::NotificationRecord& n) { return n.id == id; });
    if (it == unread_.end() || !CanSee(viewer, *it)) continue;
    unread_.erase(it);
    marked.push_back(id);
  }
  if (marked.empty()) return marked;
  store::StoreWrite w;
  w.mark_read = marked;
  std::weak_ptr<bool> alive = alive_;
  Status s = store_.Write(std::move(w), [this, alive](Status st) {
    auto guard = alive.lock();
    if (!guard || !*guard || st.ok()) return;
    ++stats_.store_errors;
    EW_ERROR("alerts", "marking notifications read could not be stored: %s", st.ToString().c_str());
  });
  if (!s.ok()) {
    ++stats_.store_errors;
    EW_ERROR("alerts", "marking notifications read not stored: %s", s.ToString().c_str());
  }
  return marked;
}

std::string AlertEngine::AlertJson(const store::AlertRecord& a) {
  JsonWriter w;
  w.BeginObject()
      .Key("id")
      .String(a.id)
      .Key("rule")
      .String(a.rule)
      .Key("topic")
      .String(a.topic)
      .Key("severity")
      .String(a.severity)
      .Key("message")
      .String(a.message)
      .Key("state")
      .String(a.state)
      .Key("created_at")
      .String(IsoTime(a.created_at_ms));
  w.Key("acked_by");
  a.acked_by.empty() ? w.Null() : w.String(a.acked_by);
  w.Key("ack_via");
  a.ack_via.empty() ? w.Null() : w.String(a.ack_via);
  w.Key("acked_at");
  a.acked_at_ms == 0 ? w.Null() : w.String(IsoTime(a.acked_at_ms));
  w.EndObject();
  return w.Take();
}

std::string AlertEngine::NotificationJson(const store::NotificationRecord& n) {
  JsonWriter w;
  w.BeginObject().Key("id").String(n.id);
  std::string_view r = n.recipient;
  if (r.substr(0, kScopePrefix.size()) == kScopePrefix) {
    w.Key("user_id").Null().Key("scope").String(r.substr(kScopePrefix.size()));
  } else {
    w.Key("user_id").String(r);
  }
  w.Key("type")
      .String(n.type)
      .Key("title")
      .String(n.title)
      .Key("message")
      .String(n.message)
      .Key("read")
      .Bool(n.read)
      .Key("created_at")
      .String(IsoTime(n.created_at_ms));
  w.Key("action");
  n.action_json.empty() ? w.Null() : w.Raw(n.action_json);
  w.EndObject();
  return w.Take();
}

std::string AlertEngine::NotificationTopic(const store::NotificationRecord& n) {
  std::string_view r = n.recipient;
  if (r.substr(0, kScopePrefix.size()) == kScopePrefix) return std::string(kNotificationsTopic);
  return std::string(kNotificationsTopic) + "/" + n.recipient;
}

}  // namespace edgewatch::app::alerts
