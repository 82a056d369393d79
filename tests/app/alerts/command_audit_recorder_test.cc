// CommandAuditRecorder: audit events (as the gateway's command router publishes them) become
// command_audit rows in the store; malformed events and refused writes are counted, not lost
// silently. The store is the fake one, so the test decides when a write "commits".
#include "edgewatch/app/alerts/command_audit_recorder.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fake_store.h"

namespace edgewatch::app::alerts {
namespace {

constexpr char kOk[] = R"({"id":"4f3a","from":"alice","session":"82a3","target":"pipeline/cam1",)"
                       R"("name":"set_threshold","args":{"value":0.7},"ok":true,"result":"ok",)"
                       R"("message":"cam1 threshold 0.70","duration_ms":3})";

fw::FrameRef Event(const std::string& data, uint64_t seq, int64_t ts) {
  // The recorder reads data() and ts_ms; the frame's payload is the data itself here.
  auto f = std::make_shared<fw::Frame>(std::string(LWS_PRE, '\0') + data);
  f->seq = seq;
  f->ts_ms = ts;
  f->data_offset = 0;
  f->data_len = static_cast<uint32_t>(data.size());
  return f;
}

TEST(ParseCommandAuditTest, ReadsEveryField) {
  auto r = ParseCommandAudit(kOk, 1234);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ts_ms, 1234);
  EXPECT_EQ(r->command_id, "4f3a");
  EXPECT_EQ(r->from, "alice");
  EXPECT_EQ(r->session, "82a3");
  EXPECT_EQ(r->target, "pipeline/cam1");
  EXPECT_EQ(r->name, "set_threshold");
  EXPECT_EQ(r->args_json, R"({"value":0.7})");
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result, "ok");
  EXPECT_EQ(r->message, "cam1 threshold 0.70");
  EXPECT_EQ(r->duration_ms, 3);
}

TEST(ParseCommandAuditTest, NullIdAndMissingOptionalFields) {
  auto r = ParseCommandAudit(
      R"({"id":null,"from":"bob","target":"pipeline/cam1","name":"restart","ok":false,)"
      R"("result":"forbidden"})",
      1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->command_id, "");
  EXPECT_EQ(r->args_json, "{}");
  EXPECT_EQ(r->message, "");
  EXPECT_FALSE(r->ok);
}

TEST(ParseCommandAuditTest, RefusesMalformedEvents) {
  EXPECT_FALSE(ParseCommandAudit("not json", 1).has_value());
  EXPECT_FALSE(ParseCommandAudit("[]", 1).has_value());
  EXPECT_FALSE(ParseCommandAudit(R"({"from":"a","target":"t","name":"n","ok":true})", 1));
  EXPECT_FALSE(
      ParseCommandAudit(R"({"from":"a","target":"t","name":"n","ok":"yes","result":"ok"})", 1));
}

TEST(CommandAuditRecorderTest, StoresEachEventAndCountsWhatItCannot) {
  testing::FakeStore store;
  CommandAuditRecorder recorder(store);
  recorder.OnEvent(Event(kOk, 1, 100));
  ASSERT_EQ(store.pending.size(), 1u);
  EXPECT_EQ(recorder.stats().stored, 0u);  // not yet committed
  store.CommitAll();
  EXPECT_EQ(recorder.stats().stored, 1u);
  ASSERT_EQ(store.committed.size(), 1u);
  ASSERT_EQ(store.committed[0].audits.size(), 1u);
  EXPECT_EQ(store.committed[0].audits[0].ts_ms, 100);
  EXPECT_EQ(store.committed[0].audits[0].from, "alice");

  recorder.OnEvent(Event("{}", 2, 101));
  EXPECT_EQ(recorder.stats().malformed, 1u);
  EXPECT_TRUE(store.pending.empty());

  store.refuse = true;
  recorder.OnEvent(Event(kOk, 3, 102));
  EXPECT_EQ(recorder.stats().dropped, 1u);
  store.refuse = false;

  recorder.OnEvent(Event(kOk, 4, 103));
  store.CommitAll(Internal("disk I/O error"));
  EXPECT_EQ(recorder.stats().dropped, 2u);
  EXPECT_EQ(recorder.stats().stored, 1u);
}

}  // namespace
}  // namespace edgewatch::app::alerts
