// The broker payload mappers (docs/mqtt.md, "Ingest"): sample payloads of DeepStream's minimal
// and full schemas and of Frigate's events and stats map field by field onto seed-003 events
// that pass the application's schema validation; malformed payloads are refused with a reason.
#include "edgewatch/app/mqtt/ingest_map.h"

#include <gtest/gtest.h>

#include "edgewatch/app/schema.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app::mqtt {
namespace {

constexpr int64_t kNow = 1790000000000;

JsonPtr Parse(const std::string& s) {
  auto p = ParseJson(s);
  EXPECT_TRUE(p.ok()) << s;
  return std::move(p).value();
}

// Every mapped event must be accepted by the same validation producers face.
void ExpectValid(const MappedEvent& e) {
  JsonPtr data = Parse(e.data);
  Status s = ValidateTelemetry(e.topic, data.get());
  EXPECT_TRUE(s.ok()) << e.topic << ": " << s.message() << "\n" << e.data;
}

const cJSON* At(const cJSON* root, const char* path) {
  const cJSON* v = FindPath(root, path);
  EXPECT_NE(v, nullptr) << path;
  return v;
}

TEST(ParseIsoTimestampMs, ZuluOffsetsAndFractions) {
  EXPECT_EQ(*ParseIsoTimestampMs("2026-05-01T12:00:00.123Z"), 1777636800123);
  EXPECT_EQ(*ParseIsoTimestampMs("2026-05-01T12:00:00Z"), 1777636800000);
  EXPECT_EQ(*ParseIsoTimestampMs("2026-05-01T14:00:00.5+02:00"), 1777636800500);
  EXPECT_EQ(*ParseIsoTimestampMs("2026-05-01T12:00:00.123456Z"), 1777636800123);
  EXPECT_FALSE(ParseIsoTimestampMs("2026-05-01 12:00").ok());
  EXPECT_FALSE(ParseIsoTimestampMs("2026-13-01T12:00:00Z").ok());
  EXPECT_FALSE(ParseIsoTimestampMs("2026-05-01T12:00:00").ok());
  EXPECT_FALSE(ParseIsoTimestampMs("yesterday").ok());
}

TEST(MapDeepStream, MinimalSchemaBecomesAFrame) {
  FrameRateTracker rates;
  const std::string payload = R"({"version":"4.0","id":1200,"@timestamp":"2026-05-01T12:00:00.000Z",
    "sensorId":"cam 1","objects":["17|100.5|50|220|300|person",
    "18|10|20|30|40|Vehicle|#|sedan|Bugatti|M|blue|CA 444|California|0.8"]})";
  auto r = MapDeepStream(payload, kNow, &rates);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const MappedEvent& e = (*r)[0];
  EXPECT_EQ(e.topic, "pipeline/cam_1/frame");  // ids are sanitised into one topic segment
  EXPECT_EQ(e.ts_ms, 1777636800000);
  ExpectValid(e);
  JsonPtr d = Parse(e.data);
  EXPECT_STREQ(At(d.get(), "pipeline_id")->valuestring, "cam_1");
  EXPECT_EQ(At(d.get(), "frame_data.frame_id")->valuedouble, 1200);
  EXPECT_EQ(At(d.get(), "frame_data.timestamp")->valuedouble, 1777636800000.0);
  EXPECT_EQ(At(d.get(), "frame_data.detections_count")->valuedouble, 2);
  EXPECT_EQ(At(d.get(), "frame_data.fps")->valuedouble, 0);  // first frame: no rate yet
  const cJSON* dets = At(d.get(), "frame_data.node_results.deepstream.detections");
  ASSERT_EQ(cJSON_GetArraySize(dets), 2);
  const cJSON* first = cJSON_GetArrayItem(dets, 0);
  EXPECT_STREQ(cJSON_GetObjectItem(first, "tracking_id")->valuestring, "17");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "label")->valuestring, "person");
  EXPECT_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "bbox"), 0)->valuedouble, 100.5);
  EXPECT_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "bbox"), 3)->valuedouble, 300);
  EXPECT_EQ(cJSON_GetObjectItem(first, "confidence"), nullptr);
  const cJSON* second = cJSON_GetArrayItem(dets, 1);
  EXPECT_STREQ(cJSON_GetObjectItem(second, "label")->valuestring, "Vehicle");
  EXPECT_DOUBLE_EQ(cJSON_GetObjectItem(second, "confidence")->valuedouble, 0.8);

  // 30 frames 1 s later on the same sensor: 30 FPS.
  auto next = MapDeepStream(R"({"version":"4.0","id":1230,"@timestamp":"2026-05-01T12:00:01.000Z",
    "sensorId":"cam 1","objects":[]})",
                            kNow, &rates);
  ASSERT_TRUE(next.ok());
  ExpectValid((*next)[0]);
  JsonPtr d2 = Parse((*next)[0].data);
  EXPECT_DOUBLE_EQ(At(d2.get(), "frame_data.fps")->valuedouble, 30);
  EXPECT_EQ(At(d2.get(), "frame_data.detections_count")->valuedouble, 0);
}

TEST(MapDeepStream, MinimalWithoutTimestampUsesArrivalTimeAndStringFrameIds) {
  auto r =
      MapDeepStream(R"({"version":"4.0","id":"77","sensorId":"c","objects":[]})", kNow, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].ts_ms, kNow);
  JsonPtr d = Parse((*r)[0].data);
  EXPECT_EQ(At(d.get(), "frame_data.frame_id")->valuedouble, 77);
}

TEST(MapDeepStream, FullSchemaBecomesAnalytics) {
  const std::string payload = R"({
    "messageid":"84a3a0ad-7eb8-49a2-9aa7-104ded6764d0","mdsversion":"1.0",
    "@timestamp":"2026-05-01T12:00:00.250Z",
    "place":{"id":"1","name":"HQ"},
    "sensor":{"id":"CAMERA_ID","type":"Camera","description":"Entrance"},
    "analyticsModule":{"id":"XYZ","description":"Vehicle Detection and License Plate Recognition"},
    "object":{"id":"957","speed":0.0,"direction":0.0,"orientation":0.0,"confidence":0.91,
      "vehicle":{"type":"sedan","make":"Bugatti","model":"M","color":"blue","license":"CA 444"},
      "bbox":{"topleftx":585,"toplefty":472,"bottomrightx":642,"bottomrighty":518}},
    "event":{"id":"event-id","type":"entry"},
    "videoPath":""})";
  auto r = MapDeepStream(payload, kNow, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const MappedEvent& e = (*r)[0];
  EXPECT_EQ(e.topic, "pipeline/CAMERA_ID/analytics");
  EXPECT_EQ(e.ts_ms, 1777636800250);
  ExpectValid(e);
  JsonPtr d = Parse(e.data);
  EXPECT_STREQ(At(d.get(), "analytics.node_id")->valuestring, "XYZ");
  EXPECT_STREQ(At(d.get(), "analytics.node_type")->valuestring, "deepstream_event");
  EXPECT_STREQ(At(d.get(), "analytics.results.event.type")->valuestring, "entry");
  EXPECT_STREQ(At(d.get(), "analytics.results.event.id")->valuestring, "event-id");
  EXPECT_STREQ(At(d.get(), "analytics.results.object.id")->valuestring, "957");
  EXPECT_STREQ(At(d.get(), "analytics.results.object.label")->valuestring, "vehicle");
  EXPECT_STREQ(At(d.get(), "analytics.results.object.attributes.license")->valuestring, "CA 444");
  EXPECT_DOUBLE_EQ(At(d.get(), "analytics.results.object.confidence")->valuedouble, 0.91);
  const cJSON* bbox = At(d.get(), "analytics.results.object.bbox");
  ASSERT_EQ(cJSON_GetArraySize(bbox), 4);
  EXPECT_EQ(cJSON_GetArrayItem(bbox, 2)->valuedouble, 642);
  EXPECT_STREQ(At(d.get(), "analytics.results.message_id")->valuestring,
               "84a3a0ad-7eb8-49a2-9aa7-104ded6764d0");
}

TEST(MapDeepStream, MalformedPayloadsAreRefusedWithAReason) {
  struct Case {
    const char* payload;
    const char* reason;
  };
  const Case cases[] = {
      {"not json", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"version":"4.0"})", "neither"},
      {R"({"id":1,"objects":[]})", "sensorId"},
      {R"({"sensorId":"c","objects":[]})", "id (the frame number)"},
      {R"({"sensorId":"c","id":-1,"objects":[]})", "id (the frame number)"},
      {R"({"sensorId":"c","id":1,"objects":"x"})", "objects must be an array"},
      {R"({"sensorId":"c","id":1,"objects":[3]})", "objects must be an array of strings"},
      {R"({"sensorId":"c","id":1,"objects":["1|2|3"]})", "objects[0]"},
      {R"({"sensorId":"c","id":1,"objects":["1|a|2|3|4|p"]})", "not a number"},
      {R"({"sensorId":"c","id":1,"@timestamp":"noon","objects":[]})", "@timestamp"},
      {R"({"object":{"id":"1"}})", "sensor.id"},
      {R"({"sensor":{"id":"s"},"object":3})", "object must be an object"},
      {R"({"sensor":{"id":"s"},"object":{"bbox":{"topleftx":1}}})", "object.bbox.toplefty"},
      {R"({"sensor":{"id":"s"},"object":{},"event":{"id":"e"}})", "event.type"},
  };
  for (const Case& c : cases) {
    auto r = MapDeepStream(c.payload, kNow, nullptr);
    ASSERT_FALSE(r.ok()) << c.payload;
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.payload << " -> " << r.status().message();
  }
}

TEST(MapFrigateEvent, EventBecomesAnalytics) {
  const std::string payload = R"({"type":"update",
    "before":{"id":"1607123955.475377-mxklsc","camera":"front_door","label":"person"},
    "after":{"id":"1607123955.475377-mxklsc","camera":"front_door","frame_time":1607123961.837752,
      "snapshot_time":1607123961.837752,"label":"person","sub_label":null,"top_score":0.958984375,
      "false_positive":false,"start_time":1607123955.475377,"end_time":null,"score":0.7890625,
      "box":[424,500,536,712],"area":23744,"ratio":2.113207,"region":[264,450,667,853],
      "current_zones":["driveway"],"entered_zones":["yard","driveway"],"thumbnail":null,
      "has_snapshot":false,"has_clip":false,"stationary":false}})";
  auto r = MapFrigateEvent(payload, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const MappedEvent& e = (*r)[0];
  EXPECT_EQ(e.topic, "pipeline/front_door/analytics");
  EXPECT_EQ(e.ts_ms, 1607123961838);
  ExpectValid(e);
  JsonPtr d = Parse(e.data);
  EXPECT_STREQ(At(d.get(), "analytics.node_id")->valuestring, "frigate");
  EXPECT_STREQ(At(d.get(), "analytics.node_type")->valuestring, "frigate_event");
  EXPECT_STREQ(At(d.get(), "analytics.results.event_type")->valuestring, "update");
  EXPECT_STREQ(At(d.get(), "analytics.results.id")->valuestring, "1607123955.475377-mxklsc");
  EXPECT_STREQ(At(d.get(), "analytics.results.label")->valuestring, "person");
  EXPECT_DOUBLE_EQ(At(d.get(), "analytics.results.score")->valuedouble, 0.7890625);
  EXPECT_DOUBLE_EQ(At(d.get(), "analytics.results.top_score")->valuedouble, 0.958984375);
  EXPECT_EQ(cJSON_GetArrayItem(At(d.get(), "analytics.results.box"), 3)->valuedouble, 712);
  EXPECT_EQ(cJSON_GetArraySize(At(d.get(), "analytics.results.entered_zones")), 2);
  EXPECT_FALSE(cJSON_IsTrue(At(d.get(), "analytics.results.stationary")));
}

TEST(MapFrigateEvent, MalformedEventsAreRefused) {
  EXPECT_FALSE(MapFrigateEvent("{", kNow).ok());
  EXPECT_FALSE(MapFrigateEvent(R"({"type":"gone","after":{}})", kNow).ok());
  EXPECT_FALSE(MapFrigateEvent(R"({"type":"new"})", kNow).ok());
  EXPECT_FALSE(MapFrigateEvent(R"({"type":"new","after":{"id":"x","label":"p"}})", kNow).ok());
  EXPECT_FALSE(
      MapFrigateEvent(R"({"type":"new","after":{"id":"x","camera":"c","label":"p","box":[1,2]}})",
                      kNow)
          .ok());
}

TEST(MapFrigateStats, CamerasBecomeStatusWithFpsAndInferenceSpeed) {
  // Frigate 0.12/0.13: cameras at the top level next to detectors and service.
  const std::string payload = R"({
    "detection_fps":13.7,
    "detectors":{"coral":{"detection_start":0.0,"inference_speed":8.94,"pid":52},
                 "cpu1":{"detection_start":0.0,"inference_speed":11.06,"pid":53}},
    "front":{"camera_fps":5.0,"capture_pid":64,"detection_fps":1.5,"pid":54,"process_fps":4.9,
             "skipped_fps":0.1},
    "back":{"camera_fps":0.0,"capture_pid":65,"detection_fps":0.0,"pid":55,"process_fps":0.0,
            "skipped_fps":0.0},
    "service":{"storage":{},"uptime":3600,"version":"0.13.2","last_updated":1790000123}})";
  auto r = MapFrigateStats(payload, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  for (const MappedEvent& e : *r) {
    ExpectValid(e);
    EXPECT_EQ(e.ts_ms, 1790000123000);
  }
  const MappedEvent& front = (*r)[0].topic == "pipeline/front/status" ? (*r)[0] : (*r)[1];
  const MappedEvent& back = (*r)[0].topic == "pipeline/front/status" ? (*r)[1] : (*r)[0];
  EXPECT_EQ(front.topic, "pipeline/front/status");
  EXPECT_EQ(back.topic, "pipeline/back/status");
  JsonPtr d = Parse(front.data);
  EXPECT_STREQ(At(d.get(), "status")->valuestring, "running");
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.stats.camera_fps")->valuedouble, 5.0);
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.stats.process_fps")->valuedouble, 4.9);
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.stats.detection_fps")->valuedouble, 1.5);
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.stats.skipped_fps")->valuedouble, 0.1);
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.stats.inference_speed")->valuedouble, 10.0);
  EXPECT_DOUBLE_EQ(At(d.get(), "detailed_status.nodes.coral.inference_speed")->valuedouble, 8.94);
  EXPECT_STREQ(At(d.get(), "detailed_status.nodes.camera.status")->valuestring, "ok");
  JsonPtr b = Parse(back.data);
  EXPECT_STREQ(At(b.get(), "status")->valuestring, "stopped");
}

TEST(MapFrigateStats, CamerasUnderTheCamerasKey) {
  // Frigate 0.14+.
  auto r = MapFrigateStats(R"({"cameras":{"yard":{"camera_fps":10,"process_fps":10,
      "detection_fps":2,"skipped_fps":0}},"detectors":{"ov":{"inference_speed":20.5}}})",
                           kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].topic, "pipeline/yard/status");
  EXPECT_EQ((*r)[0].ts_ms, kNow);
  ExpectValid((*r)[0]);
}

TEST(MapFrigateStats, MalformedStatsAreRefused) {
  EXPECT_FALSE(MapFrigateStats("[]", kNow).ok());
  EXPECT_FALSE(MapFrigateStats(R"({"service":{}})", kNow).ok());  // no camera at all
  EXPECT_FALSE(MapFrigateStats(R"({"front":{"camera_fps":"fast"}})", kNow).ok());
  EXPECT_FALSE(
      MapFrigateStats(R"({"front":{"camera_fps":5,"process_fps":-1,"detection_fps":0}})", kNow)
          .ok());
  EXPECT_FALSE(MapFrigateStats(R"({"detectors":{"c":{}},"front":{"camera_fps":5,
      "process_fps":5,"detection_fps":0}})",
                               kNow)
                   .ok());
}

}  // namespace
}  // namespace edgewatch::app::mqtt
