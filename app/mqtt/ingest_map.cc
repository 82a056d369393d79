#include "edgewatch/app/mqtt/ingest_map.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/base/json_writer.h"

namespace edgewatch::app::mqtt {
namespace {

// Broker payloads are bounded like ingest lines.
constexpr JsonLimits kPayloadLimits{64 * 1024, 16};
constexpr size_t kMaxObjects = 1000;
constexpr size_t kMaxCameras = 64;

Result<JsonPtr> ParseObject(std::string_view payload) {
  auto parsed = ParseJson(payload, kPayloadLimits);
  if (!parsed.ok()) return InvalidArgument("not JSON: " + parsed.status().message());
  if (!cJSON_IsObject(parsed->get())) return InvalidArgument("payload is not a JSON object");
  return std::move(parsed).value();
}

bool ParseInt64(std::string_view s, int64_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  std::string t(s);
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return *end == '\0' && std::isfinite(*out);
}

// Time from "@timestamp" when present (must parse), else `now_ms`.
Result<int64_t> EventTime(const cJSON* root, int64_t now_ms) {
  const cJSON* ts = cJSON_GetObjectItemCaseSensitive(root, "@timestamp");
  if (ts == nullptr) return now_ms;
  if (!cJSON_IsString(ts)) return InvalidArgument("@timestamp must be a string");
  auto ms = ParseIsoTimestampMs(ts->valuestring);
  if (!ms.ok()) return InvalidArgument("@timestamp: " + ms.status().message());
  return *ms;
}

// A non-empty string or integer id (DeepStream sends either).
std::optional<std::string> IdOf(const cJSON* item) {
  if (cJSON_IsString(item) && item->valuestring[0] != '\0') return std::string(item->valuestring);
  if (cJSON_IsNumber(item) && std::isfinite(item->valuedouble) &&
      item->valuedouble == std::floor(item->valuedouble)) {
    return std::to_string(static_cast<int64_t>(item->valuedouble));
  }
  return std::nullopt;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

// {"version":"4.0","id":N,"@timestamp":T,"sensorId":S,"objects":["id|x1|y1|x2|y2|label[|...]"]}
Result<std::vector<MappedEvent>> MapMinimal(const cJSON* root, int64_t now_ms,
                                            FrameRateTracker* rates) {
  auto sensor = GetString(root, "sensorId");
  if (!sensor || sensor->empty()) return InvalidArgument("sensorId is required (a string)");
  const cJSON* id_item = cJSON_GetObjectItemCaseSensitive(root, "id");
  int64_t frame_id = -1;
  if (cJSON_IsNumber(id_item) && id_item->valuedouble >= 0 && id_item->valuedouble < 9e15 &&
      id_item->valuedouble == std::floor(id_item->valuedouble)) {
    frame_id = static_cast<int64_t>(id_item->valuedouble);
  } else if (cJSON_IsString(id_item)) {
    if (!ParseInt64(id_item->valuestring, &frame_id)) frame_id = -1;
  }
  if (frame_id < 0) return InvalidArgument("id (the frame number) must be an integer >= 0");
  EW_ASSIGN_OR_RETURN(int64_t ts_ms, EventTime(root, now_ms));
  const cJSON* objects = cJSON_GetObjectItemCaseSensitive(root, "objects");
  if (!cJSON_IsArray(objects)) return InvalidArgument("objects must be an array of strings");
  if (static_cast<size_t>(cJSON_GetArraySize(objects)) > kMaxObjects) {
    return InvalidArgument("more than 1000 objects");
  }
  std::string pid = SanitizeId(*sensor);
  JsonWriter dets;
  dets.BeginArray();
  int count = 0;
  const cJSON* o = nullptr;
  cJSON_ArrayForEach(o, objects) {
    if (!cJSON_IsString(o)) return InvalidArgument("objects must be an array of strings");
    std::vector<std::string_view> f = Split(o->valuestring, '|');
    if (f.size() < 6) {
      return InvalidArgument("objects[" + std::to_string(count) +
                             "] must be \"id|x1|y1|x2|y2|label\"");
    }
    double box[4];
    for (int i = 0; i < 4; ++i) {
      if (!ParseDouble(f[1 + i], &box[i])) {
        return InvalidArgument("objects[" + std::to_string(count) + "]: coordinate '" +
                               std::string(f[1 + i]) + "' is not a number");
      }
    }
    dets.BeginObject().Key("tracking_id").String(f[0]).Key("label").String(f[5]);
    dets.Key("bbox").BeginArray();
    for (double v : box) dets.Double(v);
    dets.EndArray();
    double conf = 0;
    if (f.size() > 6 && ParseDouble(f.back(), &conf) && conf >= 0 && conf <= 1) {
      dets.Key("confidence").Double(conf);
    }
    dets.EndObject();
    ++count;
  }
  dets.EndArray();
  double fps = rates != nullptr ? rates->Update(pid, frame_id, ts_ms) : 0;
  JsonWriter w;
  w.BeginObject().Key("pipeline_id").String(pid).Key("frame_data").BeginObject();
  w.Key("frame_id").Int(frame_id).Key("timestamp").Int(ts_ms);
  w.Key("detections_count").Int(count).Key("processing_time").Int(0);
  w.Key("fps").Double(std::round(fps * 10) / 10);
  w.Key("node_results").BeginObject().Key("deepstream").BeginObject();
  w.Key("type").String("nvmsgbroker").Key("detections").Raw(dets.Take());
  w.EndObject().EndObject().EndObject().EndObject();
  return std::vector<MappedEvent>{{"pipeline/" + pid + "/frame", w.Take(), ts_ms}};
}

// Object classes of the full schema: the first of these keys present in "object" is the label.
constexpr const char* kObjectClasses[] = {"person", "vehicle", "face",
                                          "bag",    "bicycle", "roadsign"};

// The full schema: {"messageid","@timestamp","sensor":{"id"},"analyticsModule":{"id"},
// "object":{"id","confidence","bbox":{topleftx,...},"<class>":{...}},"event":{"id","type"}}.
Result<std::vector<MappedEvent>> MapFull(const cJSON* root, int64_t now_ms) {
  const cJSON* sensor = cJSON_GetObjectItemCaseSensitive(root, "sensor");
  auto sid =
      cJSON_IsObject(sensor) ? IdOf(cJSON_GetObjectItemCaseSensitive(sensor, "id")) : std::nullopt;
  if (!sid) return InvalidArgument("sensor.id is required");
  const cJSON* object = cJSON_GetObjectItemCaseSensitive(root, "object");
  const cJSON* event = cJSON_GetObjectItemCaseSensitive(root, "event");
  if (!cJSON_IsObject(object)) return InvalidArgument("object must be an object");
  if (event != nullptr && !cJSON_IsObject(event)) return InvalidArgument("event must be an object");
  EW_ASSIGN_OR_RETURN(int64_t ts_ms, EventTime(root, now_ms));
  std::string pid = SanitizeId(*sid);
  std::string node_id = "deepstream";
  if (const cJSON* am = cJSON_GetObjectItemCaseSensitive(root, "analyticsModule");
      cJSON_IsObject(am)) {
    if (auto id = IdOf(cJSON_GetObjectItemCaseSensitive(am, "id"))) node_id = *id;
  }
  JsonWriter w;
  w.BeginObject().Key("pipeline_id").String(pid).Key("analytics").BeginObject();
  w.Key("node_id").String(node_id).Key("node_type").String("deepstream_event");
  w.Key("results").BeginObject();
  if (auto mid = GetString(root, "messageid")) w.Key("message_id").String(*mid);
  if (event != nullptr) {
    w.Key("event").BeginObject();
    if (auto id = IdOf(cJSON_GetObjectItemCaseSensitive(event, "id"))) w.Key("id").String(*id);
    auto type = GetString(event, "type");
    if (!type) return InvalidArgument("event.type must be a string");
    w.Key("type").String(*type).EndObject();
  }
  w.Key("object").BeginObject();
  if (auto id = IdOf(cJSON_GetObjectItemCaseSensitive(object, "id"))) w.Key("id").String(*id);
  for (const char* cls : kObjectClasses) {
    const cJSON* c = cJSON_GetObjectItemCaseSensitive(object, cls);
    if (c == nullptr) continue;
    w.Key("label").String(cls);
    if (cJSON_IsObject(c)) w.Key("attributes").Raw(PrintJson(c));
    break;
  }
  if (auto conf = GetNumber(object, "confidence")) w.Key("confidence").Double(*conf);
  if (const cJSON* bbox = cJSON_GetObjectItemCaseSensitive(object, "bbox")) {
    static constexpr const char* kCorners[] = {"topleftx", "toplefty", "bottomrightx",
                                               "bottomrighty"};
    w.Key("bbox").BeginArray();
    for (const char* k : kCorners) {
      auto v = cJSON_IsObject(bbox) ? GetNumber(bbox, k) : std::nullopt;
      if (!v) return InvalidArgument(std::string("object.bbox.") + k + " must be a number");
      w.Double(*v);
    }
    w.EndArray();
  }
  for (const char* k : {"speed", "direction", "orientation"}) {
    if (auto v = GetNumber(object, k)) w.Key(k).Double(*v);
  }
  w.EndObject().EndObject().EndObject().EndObject();
  return std::vector<MappedEvent>{{"pipeline/" + pid + "/analytics", w.Take(), ts_ms}};
}

}  // namespace

double FrameRateTracker::Update(const std::string& sensor, int64_t frame_id, int64_t ts_ms) {
  double fps = 0;
  auto it = last_.find(sensor);
  if (it != last_.end() && frame_id > it->second.frame_id && ts_ms > it->second.ts_ms) {
    fps = static_cast<double>(frame_id - it->second.frame_id) * 1000.0 /
          static_cast<double>(ts_ms - it->second.ts_ms);
  }
  if (it == last_.end() && last_.size() >= kMaxCameras) return fps;
  last_[sensor] = Last{frame_id, ts_ms};
  return fps;
}

Result<int64_t> ParseIsoTimestampMs(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > t.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, s;
  if (t.size() < 20 || !num(0, 4, &y) || t[4] != '-' || !num(5, 2, &mo) || t[7] != '-' ||
      !num(8, 2, &d) || (t[10] != 'T' && t[10] != ' ') || !num(11, 2, &h) || t[13] != ':' ||
      !num(14, 2, &mi) || t[16] != ':' || !num(17, 2, &s) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
      h > 23 || mi > 59 || s > 60) {
    return InvalidArgument("expected an ISO 8601 time such as 2026-05-01T12:00:00.000Z");
  }
  size_t p = 19;
  int64_t ms = 0;
  if (p < t.size() && t[p] == '.') {
    ++p;
    int digits = 0;
    while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
      if (digits < 3) ms = ms * 10 + (t[p] - '0');
      ++digits;
      ++p;
    }
    if (digits == 0) return InvalidArgument("empty fraction of a second");
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int64_t offset_s = 0;
  if (p < t.size() && t[p] == 'Z' && p + 1 == t.size()) {
  } else if (p + 6 == t.size() && (t[p] == '+' || t[p] == '-') && t[p + 3] == ':') {
    int oh, om;
    if (!num(p + 1, 2, &oh) || !num(p + 4, 2, &om) || oh > 23 || om > 59) {
      return InvalidArgument("bad UTC offset");
    }
    offset_s = (oh * 3600 + om * 60) * (t[p] == '+' ? 1 : -1);
  } else {
    return InvalidArgument("expected Z or a +HH:MM offset at the end of the time");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(::timegm(&tm)) - offset_s;
  return secs * 1000 + ms;
}

Result<std::vector<MappedEvent>> MapDeepStream(std::string_view payload, int64_t now_ms,
                                               FrameRateTracker* rates) {
  EW_ASSIGN_OR_RETURN(JsonPtr root, ParseObject(payload));
  if (cJSON_GetObjectItemCaseSensitive(root.get(), "objects") != nullptr) {
    return MapMinimal(root.get(), now_ms, rates);
  }
  if (cJSON_GetObjectItemCaseSensitive(root.get(), "object") != nullptr) {
    return MapFull(root.get(), now_ms);
  }
  return InvalidArgument(
      "neither a minimal (objects) nor a full (object/event) DeepStream payload");
}

Result<std::vector<MappedEvent>> MapFrigateEvent(std::string_view payload, int64_t now_ms) {
  EW_ASSIGN_OR_RETURN(JsonPtr root, ParseObject(payload));
  auto type = GetString(root.get(), "type");
  if (!type || (*type != "new" && *type != "update" && *type != "end")) {
    return InvalidArgument("type must be new, update or end");
  }
  const cJSON* after = cJSON_GetObjectItemCaseSensitive(root.get(), "after");
  if (!cJSON_IsObject(after)) return InvalidArgument("after must be an object");
  auto camera = GetString(after, "camera");
  if (!camera || camera->empty()) return InvalidArgument("after.camera is required (a string)");
  auto id = GetString(after, "id");
  if (!id) return InvalidArgument("after.id is required (a string)");
  auto label = GetString(after, "label");
  if (!label) return InvalidArgument("after.label is required (a string)");
  int64_t ts_ms = now_ms;
  if (auto ft = GetNumber(after, "frame_time")) {
    if (*ft < 0 || *ft > 1e11) return InvalidArgument("after.frame_time out of range");
    ts_ms = static_cast<int64_t>(std::llround(*ft * 1000));
  }
  std::string pid = SanitizeId(*camera);
  JsonWriter w;
  w.BeginObject().Key("pipeline_id").String(pid).Key("analytics").BeginObject();
  w.Key("node_id").String("frigate").Key("node_type").String("frigate_event");
  w.Key("results").BeginObject();
  w.Key("event_type").String(*type).Key("id").String(*id).Key("label").String(*label);
  if (auto sub = GetString(after, "sub_label")) w.Key("sub_label").String(*sub);
  for (const char* k : {"score", "top_score", "area"}) {
    if (auto v = GetNumber(after, k)) w.Key(k).Double(*v);
  }
  if (const cJSON* box = cJSON_GetObjectItemCaseSensitive(after, "box")) {
    if (!cJSON_IsArray(box) || cJSON_GetArraySize(box) != 4) {
      return InvalidArgument("after.box must be [x1, y1, x2, y2]");
    }
    w.Key("box").BeginArray();
    const cJSON* v = nullptr;
    cJSON_ArrayForEach(v, box) {
      if (!cJSON_IsNumber(v)) return InvalidArgument("after.box must be [x1, y1, x2, y2]");
      w.Double(v->valuedouble);
    }
    w.EndArray();
  }
  for (const char* k : {"current_zones", "entered_zones"}) {
    const cJSON* z = cJSON_GetObjectItemCaseSensitive(after, k);
    if (cJSON_IsArray(z)) w.Key(k).Raw(PrintJson(z));
  }
  for (const char* k : {"stationary", "false_positive", "has_snapshot", "has_clip"}) {
    if (auto v = GetBool(after, k)) w.Key(k).Bool(*v);
  }
  w.EndObject().EndObject().EndObject();
  return std::vector<MappedEvent>{{"pipeline/" + pid + "/analytics", w.Take(), ts_ms}};
}

Result<std::vector<MappedEvent>> MapFrigateStats(std::string_view payload, int64_t now_ms) {
  EW_ASSIGN_OR_RETURN(JsonPtr root, ParseObject(payload));
  const cJSON* cameras = cJSON_GetObjectItemCaseSensitive(root.get(), "cameras");
  if (cameras != nullptr && !cJSON_IsObject(cameras)) {
    return InvalidArgument("cameras must be an object");
  }
  if (cameras == nullptr) cameras = root.get();  // Frigate <= 0.13: cameras at the top level
  int64_t ts_ms = now_ms;
  if (const cJSON* service = cJSON_GetObjectItemCaseSensitive(root.get(), "service")) {
    if (auto lu = GetNumber(service, "last_updated"); lu && *lu > 0 && *lu < 1e11) {
      ts_ms = static_cast<int64_t>(std::llround(*lu * 1000));
    }
  }
  // Detectors: inference speed (ms) each; the cameras share them.
  std::vector<std::pair<std::string, double>> detector_speeds;
  double inference_sum = 0;
  int detectors = 0;
  if (const cJSON* dets = cJSON_GetObjectItemCaseSensitive(root.get(), "detectors")) {
    if (!cJSON_IsObject(dets)) return InvalidArgument("detectors must be an object");
    const cJSON* d = nullptr;
    cJSON_ArrayForEach(d, dets) {
      auto speed = GetNumber(d, "inference_speed");
      if (!cJSON_IsObject(d) || !speed || *speed < 0) {
        return InvalidArgument(std::string("detectors.") + d->string +
                               ".inference_speed must be a number >= 0");
      }
      if (detector_speeds.size() >= kMaxCameras) return InvalidArgument("too many detectors");
      detector_speeds.emplace_back(SanitizeId(d->string), *speed);
      inference_sum += *speed;
      ++detectors;
    }
  }
  std::vector<MappedEvent> out;
  const cJSON* cam = nullptr;
  cJSON_ArrayForEach(cam, cameras) {
    if (!cJSON_IsObject(cam) || cJSON_GetObjectItemCaseSensitive(cam, "camera_fps") == nullptr) {
      continue;  // detectors, service, cpu_usages ... at the top level
    }
    if (out.size() >= kMaxCameras) return InvalidArgument("more than 64 cameras");
    auto camera_fps = GetNumber(cam, "camera_fps");
    auto process_fps = GetNumber(cam, "process_fps");
    auto detection_fps = GetNumber(cam, "detection_fps");
    if (!camera_fps || !process_fps || !detection_fps || *camera_fps < 0 || *process_fps < 0 ||
        *detection_fps < 0) {
      return InvalidArgument(std::string(cam->string) +
                             ": camera_fps, process_fps and detection_fps must be numbers >= 0");
    }
    std::string pid = SanitizeId(cam->string);
    JsonWriter w;
    w.BeginObject().Key("pipeline_id").String(pid);
    w.Key("status").String(*camera_fps > 0 ? "running" : "stopped");
    w.Key("detailed_status").BeginObject().Key("stats").BeginObject();
    w.Key("camera_fps").Double(*camera_fps).Key("process_fps").Double(*process_fps);
    w.Key("detection_fps").Double(*detection_fps);
    if (auto skipped = GetNumber(cam, "skipped_fps")) w.Key("skipped_fps").Double(*skipped);
    if (detectors > 0) w.Key("inference_speed").Double(inference_sum / detectors);
    w.Key("avg_fps").Double(*process_fps);
    w.EndObject();
    w.Key("nodes").BeginObject();
    w.Key("camera").BeginObject().Key("type").String("frigate_camera");
    w.Key("status").String(*camera_fps > 0 ? "ok" : "idle").EndObject();
    for (const auto& [name, speed] : detector_speeds) {
      if (name == "camera") continue;
      w.Key(name).BeginObject().Key("type").String("frigate_detector");
      w.Key("status").String("ok").Key("inference_speed").Double(speed).EndObject();
    }
    w.EndObject().EndObject().EndObject();
    out.push_back({"pipeline/" + pid + "/status", w.Take(), ts_ms});
  }
  if (out.empty()) return InvalidArgument("no camera with camera_fps in the stats");
  return out;
}

}  // namespace edgewatch::app::mqtt
