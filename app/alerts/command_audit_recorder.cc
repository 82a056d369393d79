#include "edgewatch/app/alerts/command_audit_recorder.h"

#include <utility>

#include "edgewatch/base/json.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app::alerts {

std::optional<store::CommandAuditRecord> ParseCommandAudit(std::string_view data_json,
                                                           int64_t ts_ms) {
  JsonLimits limits;
  limits.max_bytes = 64 * 1024;
  auto parsed = ParseJson(data_json, limits);
  if (!parsed.ok() || !cJSON_IsObject(parsed->get())) return std::nullopt;
  const cJSON* o = parsed->get();
  auto from = GetString(o, "from");
  auto target = GetString(o, "target");
  auto name = GetString(o, "name");
  auto ok = GetBool(o, "ok");
  auto result = GetString(o, "result");
  if (!from || !target || !name || !ok || !result) return std::nullopt;
  store::CommandAuditRecord r;
  r.ts_ms = ts_ms;
  r.command_id = std::string(GetString(o, "id").value_or(""));
  r.from = std::string(*from);
  r.session = std::string(GetString(o, "session").value_or(""));
  r.target = std::string(*target);
  r.name = std::string(*name);
  const cJSON* args = cJSON_GetObjectItemCaseSensitive(o, "args");
  r.args_json = args != nullptr ? PrintJson(args) : "{}";
  r.ok = *ok;
  r.result = std::string(*result);
  r.message = std::string(GetString(o, "message").value_or(""));
  r.duration_ms = GetInt(o, "duration_ms").value_or(0);
  return r;
}

void CommandAuditRecorder::OnEvent(const fw::FrameRef& event) {
  auto record = ParseCommandAudit(event->data(), event->ts_ms);
  if (!record) {
    ++stats_.malformed;
    EW_WARN("audit", "audit event %llu not stored: malformed",
            static_cast<unsigned long long>(event->seq));
    return;
  }
  store::StoreWrite w;
  w.audits.push_back(std::move(*record));
  // The store outlives the recorder and its completions run on the loop; the stats live as long
  // as the recorder, which the AlertService destroys after the gateway stopped running.
  Stats* stats = &stats_;
  Status s = store_.Write(std::move(w), [stats](Status done) {
    if (done.ok()) {
      ++stats->stored;
    } else {
      ++stats->dropped;
      EW_ERROR("audit", "command audit not stored: %s", done.ToString().c_str());
    }
  });
  if (!s.ok()) {
    ++stats_.dropped;
    EW_WARN("audit", "command audit not stored: %s", s.ToString().c_str());
  }
}

}  // namespace edgewatch::app::alerts
