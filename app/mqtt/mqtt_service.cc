#include "edgewatch/app/mqtt/mqtt_service.h"

#include <sys/stat.h>

#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/http.h"

namespace edgewatch::app::mqtt {

Result<std::unique_ptr<MqttService>> MqttService::Start(fw::Gateway& gw, const MqttConfig& config,
                                                        const std::string& state_dir) {
  std::unique_ptr<MqttService> svc(new MqttService(gw));
  if (config.uplink.broker.enabled()) {
    ::mkdir(state_dir.c_str(), 0700);  // usually there already (JWT secret, alerts)
    EW_ASSIGN_OR_RETURN(
        std::unique_ptr<Outbox> outbox,
        Outbox::Open(state_dir + "/mqtt-outbox.db", config.uplink.outbox_max_messages,
                     config.uplink.outbox_max_bytes));
    svc->uplink_ = std::make_unique<MqttUplink>(gw, config.uplink, std::move(outbox));
    EW_TRY(svc->uplink_->Start());
    std::string patterns;
    for (const std::string& p : config.uplink.topics) patterns += (patterns.empty() ? "" : " ") + p;
    EW_INFO("mqtt", "uplink: publishing %s as %s/%s/<topic> to %s", patterns.c_str(),
            config.uplink.prefix.c_str(), config.uplink.device_id.c_str(),
            config.uplink.broker.Describe().c_str());
  }
  if (config.ingest.broker.enabled()) {
    svc->ingest_ = std::make_unique<MqttIngest>(gw, config.ingest);
    EW_TRY(svc->ingest_->Start());
  }
  if (svc->uplink_ != nullptr || svc->ingest_ != nullptr) svc->RegisterRoutes();
  return svc;
}

MqttService::~MqttService() {
  Stop();
}

void MqttService::Stop() {
  if (uplink_ != nullptr) uplink_->Stop();
  if (ingest_ != nullptr) ingest_->Stop();
}

void MqttService::RegisterRoutes() {
  gw_.http().Add("/api/v1/mqtt", [this](const fw::HttpRequest& req) {
    if (!req.CanRead("system/mqtt")) {
      return fw::JsonError(403, "forbidden", "reading the MQTT state needs read:system/mqtt");
    }
    JsonWriter w;
    w.BeginObject().Key("uplink");
    if (uplink_ != nullptr) {
      w.Raw(uplink_->StatusJson());
    } else {
      w.Null();
    }
    w.Key("ingest");
    if (ingest_ != nullptr) {
      w.Raw(ingest_->StatusJson());
    } else {
      w.Null();
    }
    w.EndObject();
    fw::HttpResponse r;
    r.body = w.Take();
    return r;
  });
  // Append to whatever serves /metrics now (the gateway's counters).
  const fw::HttpHandler* current = gw_.http().Find("/metrics");
  fw::HttpHandler previous = current != nullptr ? *current : fw::HttpHandler();
  gw_.http().Add("/metrics", [this, previous](const fw::HttpRequest& req) {
    fw::HttpResponse r;
    if (previous) {
      r = previous(req);
    } else {
      r.content_type = "text/plain; version=0.0.4";
    }
    if (r.status != 200) return r;
    if (uplink_ != nullptr) r.body += uplink_->MetricsText();
    if (ingest_ != nullptr) r.body += ingest_->MetricsText();
    return r;
  });
}

}  // namespace edgewatch::app::mqtt
