// AlertService: wires the AlertEngine into the gateway (the daemon's alerting, in one object).
//
// Start() opens the SQLite store in the state directory, restores unacknowledged alerts and unread
// notifications, subscribes the engine to every rule's topic, and registers with the gateway:
//   - WebSocket ops `ack` (needs a write scope on `alerts`), `notifications` (list unread) and
//     `mark_read`;
//   - a subscribe hook: a client subscribing to a pattern matching `alerts` or
//     `notifications/<its sub>` first receives a {"type":"unread",...} message;
//   - HTTP `GET /api/v1/hal` (the GPIO chip's state; read scope on `system/hal`) and
//     `GET /api/v1/alerts` (active alerts and store statistics; read scope on `alerts`);
//   - the ack button: the `ack_button` role's event descriptor, watched by the loop;
//   - a CommandAuditRecorder on `audit/commands`, which keeps every command's outcome in the
//     store's command_audit table.
// Message formats: docs/protocol.md, "Alerts and notifications".
//
// Threading: create and destroy on the loop thread, after Gateway::Start() and before Run();
// destroy after Run() returned. The gateway and chip must outlive the service.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "edgewatch/app/alerts/alert_engine.h"
#include "edgewatch/app/alerts/command_audit_recorder.h"
#include "edgewatch/app/alerts/rule.h"
#include "edgewatch/app/alerts/scheduler.h"
#include "edgewatch/app/store/alert_store.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/hal/chip.h"

namespace edgewatch::app::alerts {

inline constexpr char kAckButtonRole[] = "ack_button";

class AlertService {
 public:
  // `chip` may be null (no outputs, no button, no /api/v1/hal). Errors: the store's (state
  // directory not writable, database unusable), or the bus's (a rule topic over the pattern
  // limit), or the gateway's WatchFd error for the ack button.
  static Result<std::unique_ptr<AlertService>> Start(fw::Gateway& gw, hal::GpioChip* chip,
                                                     std::vector<Rule> rules,
                                                     const std::string& state_dir);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  AlertEngine& engine() { return *engine_; }
  store::SqliteAlertStore& store() { return *store_; }

 private:
  AlertService(fw::Gateway& gw, hal::GpioChip* chip) : gw_(gw), chip_(chip) {}
  void RegisterOps();
  void RegisterHttp();
  Status WatchAckButton();

  fw::Gateway& gw_;
  hal::GpioChip* chip_;
  std::unique_ptr<GatewayScheduler> scheduler_;
  std::unique_ptr<store::SqliteAlertStore> store_;
  std::unique_ptr<AlertEngine> engine_;
  std::unique_ptr<CommandAuditRecorder> audit_;  // after store_: destroyed before it
};

// {"type":"unread","topic":T,"items":[...]}: the catch-up message sent on subscribe.
std::string UnreadMessage(std::string_view topic, const std::vector<std::string>& items);

}  // namespace edgewatch::app::alerts
