// MqttService: the daemon's MQTT feature in one piece — the uplink (with its outbox in the state
// directory) and the ingest, whichever are configured, plus their HTTP surface:
// GET /api/v1/mqtt (needs a read scope covering system/mqtt) and the edgewatch_mqtt_* lines
// appended to GET /metrics.
//
// Threading: Start() on the loop thread after Gateway::Start() and before Run() (it opens the
// outbox with blocking file I/O); Stop() after Run() returned or on the loop thread.
#pragma once

#include <memory>
#include <string>

#include "edgewatch/app/mqtt/ingest.h"
#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/app/mqtt/uplink.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::app::mqtt {

class MqttService {
 public:
  // Starts what `config` enables (nothing: an idle service). The outbox is
  // <state_dir>/mqtt-outbox.db. Errors: the outbox cannot be opened, a bad topic pattern.
  static Result<std::unique_ptr<MqttService>> Start(fw::Gateway& gw, const MqttConfig& config,
                                                    const std::string& state_dir);
  ~MqttService();
  // Graceful: publishes online=false, disconnects, writes the outbox.
  void Stop();

  MqttUplink* uplink() { return uplink_.get(); }
  MqttIngest* ingest() { return ingest_.get(); }

 private:
  explicit MqttService(fw::Gateway& gw) : gw_(gw) {}
  void RegisterRoutes();

  fw::Gateway& gw_;
  std::unique_ptr<MqttUplink> uplink_;
  std::unique_ptr<MqttIngest> ingest_;
};

}  // namespace edgewatch::app::mqtt
