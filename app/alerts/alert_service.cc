#include "edgewatch/app/alerts/alert_service.h"

#include <set>
#include <utility>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/protocol.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::alerts {
namespace {

Viewer ViewerOf(fw::OpContext& ctx) {
  Viewer v;
  v.sub = std::string(ctx.sub());
  v.can_read = [&ctx](std::string_view pattern) { return ctx.CanRead(pattern); };
  return v;
}

std::string ItemsMessage(std::string_view type, std::optional<int64_t> id,
                         const std::vector<std::string>& items) {
  JsonWriter w;
  w.BeginObject().Key("type").String(type).Key("id");
  id ? w.Int(*id) : w.Null();
  w.Key("items").BeginArray();
  for (const std::string& item : items) w.Raw(item);
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace

std::string UnreadMessage(std::string_view topic, const std::vector<std::string>& items) {
  JsonWriter w;
  w.BeginObject().Key("type").String("unread").Key("topic").String(topic).Key("items");
  w.BeginArray();
  for (const std::string& item : items) w.Raw(item);
  w.EndArray().EndObject();
  return w.Take();
}

Result<std::unique_ptr<AlertService>> AlertService::Start(fw::Gateway& gw, hal::GpioChip* chip,
                                                          std::vector<Rule> rules,
                                                          const std::string& state_dir) {
  std::unique_ptr<AlertService> svc(new AlertService(gw, chip));
  svc->scheduler_ = std::make_unique<GatewayScheduler>(gw);
  EW_ASSIGN_OR_RETURN(svc->store_,
                      store::SqliteAlertStore::Open(
                          state_dir, [&gw](std::function<void()> fn) { gw.Post(std::move(fn)); }));
  EW_ASSIGN_OR_RETURN(store::UnreadSnapshot snapshot, svc->store_->LoadUnread());

  auto publish = [&gw](std::string_view topic, const std::string& json) -> Status {
    EW_ASSIGN_OR_RETURN(JsonPtr data, ParseJson(json, JsonLimits{json.size() + 1, 64}));
    return gw.Submit(topic, data.get(), UnixMillis());
  };
  svc->engine_ = std::make_unique<AlertEngine>(std::move(rules), *svc->scheduler_, chip,
                                               *svc->store_, publish);
  svc->engine_->Restore(std::move(snapshot));

  std::set<std::string> patterns;
  for (const Rule& r : svc->engine_->rules()) patterns.insert(r.topic);
  for (const std::string& p : patterns) {
    auto sub = gw.bus().Subscribe(svc->engine_.get(), p);
    if (!sub.ok()) return InvalidArgument("rule topic " + p + ": " + sub.status().message());
  }
  svc->engine_->Start();
  // Every operator command's outcome is kept with the alerts (docs/protocol.md, "Audit").
  svc->audit_ = std::make_unique<CommandAuditRecorder>(*svc->store_);
  auto audit_sub = gw.bus().Subscribe(svc->audit_.get(), fw::kAuditTopic);
  if (!audit_sub.ok()) return audit_sub.status();
  // The last step that can fail comes before the gateway holds handlers pointing at the engine.
  EW_TRY(svc->WatchAckButton());
  svc->RegisterOps();
  svc->RegisterHttp();
  EW_INFO("alerts", "%zu rules on %zu topic patterns; alerts stored in %s",
          svc->engine_->rules().size(), patterns.size(), svc->store_->path().c_str());
  return svc;
}

AlertService::~AlertService() {
  if (audit_) gw_.bus().RemoveSubscriber(audit_.get());
  if (engine_) gw_.bus().RemoveSubscriber(engine_.get());
}

void AlertService::RegisterOps() {
  AlertEngine* engine = engine_.get();
  gw_.RegisterOp("ack", [engine](const fw::ClientOp& op, fw::OpContext& ctx) {
    auto alert = GetString(op.root.get(), "alert");
    if (!alert || alert->empty()) {
      ctx.Error("bad_request", "ack needs \"alert\": the alert's id");
      return;
    }
    if (!ctx.CanWrite(kAlertsTopic)) {
      ctx.Error("forbidden", "acknowledging alerts needs a write scope on \"alerts\"");
      return;
    }
    Status s = engine->Ack(*alert, ctx.sub(), "ws");
    if (!s.ok()) {
      ctx.Error(s.code() == StatusCode::kNotFound ? "not_found" : "already_acked", s.message());
      return;
    }
    JsonWriter w;
    w.BeginObject().Key("type").String("acked").Key("id");
    op.id ? w.Int(*op.id) : w.Null();
    w.Key("alert").String(*alert).EndObject();
    ctx.Reply(w.Take());
  });
  gw_.RegisterOp("notifications", [engine](const fw::ClientOp& op, fw::OpContext& ctx) {
    std::vector<std::string> items;
    for (const auto* n : engine->UnreadNotifications(ViewerOf(ctx))) {
      items.push_back(AlertEngine::NotificationJson(*n));
    }
    ctx.Reply(ItemsMessage("notifications", op.id, items));
  });
  gw_.RegisterOp("mark_read", [engine](const fw::ClientOp& op, fw::OpContext& ctx) {
    const cJSON* ids = cJSON_GetObjectItemCaseSensitive(op.root.get(), "ids");
    std::vector<std::string> wanted;
    bool ok = cJSON_IsArray(ids) && cJSON_GetArraySize(ids) <= 1000;
    const cJSON* c;
    if (ok) {
      cJSON_ArrayForEach(c, ids) {
        if (!cJSON_IsString(c)) {
          ok = false;
          break;
        }
        wanted.emplace_back(c->valuestring);
      }
    }
    if (!ok) {
      ctx.Error("bad_request",
                "mark_read needs \"ids\": an array of at most 1000 notification ids");
      return;
    }
    std::vector<std::string> marked = engine->MarkRead(wanted, ViewerOf(ctx));
    JsonWriter w;
    w.BeginObject().Key("type").String("marked_read").Key("id");
    op.id ? w.Int(*op.id) : w.Null();
    w.Key("ids").BeginArray();
    for (const std::string& id : marked) w.String(id);
    w.EndArray().EndObject();
    ctx.Reply(w.Take());
  });
  gw_.AddSubscribeHook([engine](const std::vector<std::string>& patterns, fw::OpContext& ctx) {
    bool alerts = false, notes = false;
    const std::string own = std::string(kNotificationsTopic) + "/" + std::string(ctx.sub());
    for (const std::string& p : patterns) {
      alerts = alerts || fw::TopicMatches(p, kAlertsTopic);
      notes = notes || fw::TopicMatches(p, own);
    }
    if (alerts) {
      std::vector<std::string> items;
      for (const auto* a : engine->UnreadAlerts()) items.push_back(AlertEngine::AlertJson(*a));
      ctx.Reply(UnreadMessage(kAlertsTopic, items));
    }
    if (notes) {
      std::vector<std::string> items;
      for (const auto* n : engine->UnreadNotifications(ViewerOf(ctx))) {
        items.push_back(AlertEngine::NotificationJson(*n));
      }
      ctx.Reply(UnreadMessage(own, items));
    }
  });
}

void AlertService::RegisterHttp() {
  hal::GpioChip* chip = chip_;
  if (chip != nullptr) {
    gw_.http().Add("/api/v1/hal", [chip](const fw::HttpRequest& req) {
      if (!req.CanRead("system/hal")) {
        return fw::JsonError(403, "forbidden", "reading the HAL state needs read:system/hal");
      }
      fw::HttpResponse r;
      r.body = chip->StateJson();
      return r;
    });
  }
  AlertEngine* engine = engine_.get();
  store::SqliteAlertStore* st = store_.get();
  const CommandAuditRecorder* audit = audit_.get();
  gw_.http().Add("/api/v1/alerts", [engine, st, audit](const fw::HttpRequest& req) {
    if (!req.CanRead(kAlertsTopic)) {
      return fw::JsonError(403, "forbidden", "reading alerts needs read:alerts");
    }
    store::StoreStats s = st->stats();
    const EngineStats& e = engine->stats();
    JsonWriter w;
    w.BeginObject().Key("active").BeginArray();
    for (const auto* a : engine->UnreadAlerts()) w.Raw(AlertEngine::AlertJson(*a));
    w.EndArray();
    w.Key("engine")
        .BeginObject()
        .Key("rules")
        .Uint(engine->rules().size())
        .Key("raised")
        .Uint(e.raised)
        .Key("deduplicated")
        .Uint(e.deduplicated)
        .Key("acked")
        .Uint(e.acked)
        .Key("published")
        .Uint(e.published)
        .Key("store_errors")
        .Uint(e.store_errors)
        .EndObject();
    w.Key("command_audit")
        .BeginObject()
        .Key("stored")
        .Uint(audit->stats().stored)
        .Key("dropped")
        .Uint(audit->stats().dropped)
        .Key("malformed")
        .Uint(audit->stats().malformed)
        .EndObject();
    w.Key("store")
        .BeginObject()
        .Key("writes")
        .Uint(s.writes)
        .Key("batches")
        .Uint(s.batches)
        .Key("failed")
        .Uint(s.failed)
        .Key("rejected")
        .Uint(s.rejected)
        .Key("queued")
        .Uint(s.queued)
        .Key("enqueue_ns_max")
        .Int(s.enqueue_ns_max)
        .Key("enqueue_ns_avg")
        .Int(s.enqueued > 0 ? s.enqueue_ns_total / static_cast<int64_t>(s.enqueued) : 0)
        .Key("commit_us_max")
        .Int(s.commit_us_max)
        .Key("commit_us_avg")
        .Int(s.batches > 0 ? s.commit_us_total / static_cast<int64_t>(s.batches) : 0)
        .EndObject();
    w.EndObject();
    fw::HttpResponse r;
    r.body = w.Take();
    return r;
  });
}

Status AlertService::WatchAckButton() {
  if (chip_ == nullptr) return OkStatus();
  auto in = chip_->Input(kAckButtonRole);
  if (!in.ok()) {
    EW_INFO("alerts", "board %s has no usable %s (%s): acknowledge over WebSocket only",
            chip_->board().name.c_str(), kAckButtonRole, in.status().message().c_str());
    return OkStatus();
  }
  hal::DigitalIn* button = *in;
  if (button->EventFd() < 0) {
    EW_WARN("alerts", "%s has no edge detection in board %s: the button is ignored", kAckButtonRole,
            chip_->board().name.c_str());
    return OkStatus();
  }
  AlertEngine* engine = engine_.get();
  return gw_.WatchFd(button->EventFd(), [engine, button] { engine->OnAckButtonReadable(*button); });
}

}  // namespace edgewatch::app::alerts
