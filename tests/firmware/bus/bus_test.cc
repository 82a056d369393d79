#include "edgewatch/fw/bus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgewatch::fw {
namespace {

class RecordingSubscriber : public Subscriber {
 public:
  void OnEvent(const FrameRef& event) override { events.push_back(event); }
  std::vector<std::string> Topics() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e->topic->name());
    return out;
  }
  std::vector<FrameRef> events;
};

std::vector<std::string> Names(const std::vector<TopicState*>& topics) {
  std::vector<std::string> out;
  for (auto* t : topics) out.push_back(t->name());
  return out;
}

TEST(BusTest, SeqStartsAtOneAndIsPerTopic) {
  Bus bus;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus.Publish("a", "{}", 1).ok());
  auto b = bus.Publish("b", "{}", 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->seq, 1u);
  EXPECT_EQ(bus.Find("a")->last_seq(), 3u);
  EXPECT_EQ((*b)->gseq, 4u);
}

TEST(BusTest, EventFrameIsSerialisedOnce) {
  Bus bus;
  auto f = bus.Publish("pipeline/cam1/frame", R"({"fps":30})", 1700000000000);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->payload(),
            R"({"type":"event","topic":"pipeline/cam1/frame","seq":1,"ts":1700000000000,)"
            R"("data":{"fps":30}})");
  EXPECT_EQ((*f)->data(), R"({"fps":30})");
  EXPECT_EQ((*f)->buf.size(), LWS_PRE + (*f)->payload().size());
}

TEST(BusTest, FanOutToMatchingSubscribersSharesTheFrame) {
  Bus bus;
  RecordingSubscriber s1, s2, s3;
  ASSERT_TRUE(bus.Subscribe(&s1, "pipeline/+/frame").ok());
  ASSERT_TRUE(bus.Subscribe(&s2, "pipeline/#").ok());
  ASSERT_TRUE(bus.Subscribe(&s3, "system/#").ok());
  auto f = bus.Publish("pipeline/cam1/frame", "{}", 1);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(s1.events.size(), 1u);
  ASSERT_EQ(s2.events.size(), 1u);
  EXPECT_TRUE(s3.events.empty());
  EXPECT_EQ(s1.events[0].get(), s2.events[0].get());
  EXPECT_EQ(bus.deliveries(), 2u);
}

TEST(BusTest, OverlappingPatternsDeliverOnce) {
  Bus bus;
  RecordingSubscriber s;
  ASSERT_TRUE(bus.Subscribe(&s, "pipeline/#").ok());
  ASSERT_TRUE(bus.Subscribe(&s, "pipeline/+/frame").ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam1/frame", "{}", 1).ok());
  EXPECT_EQ(s.events.size(), 1u);
  // Dropping one of the two patterns keeps delivery through the other.
  ASSERT_TRUE(bus.Unsubscribe(&s, "pipeline/#").ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam1/frame", "{}", 1).ok());
  EXPECT_EQ(s.events.size(), 2u);
  ASSERT_TRUE(bus.Unsubscribe(&s, "pipeline/+/frame").ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam1/frame", "{}", 1).ok());
  EXPECT_EQ(s.events.size(), 2u);
  EXPECT_EQ(bus.Unsubscribe(&s, "pipeline/+/frame").code(), StatusCode::kNotFound);
}

TEST(BusTest, SubscribeReturnsNewlyMatchedTopicsOnly) {
  Bus bus;
  ASSERT_TRUE(bus.Publish("pipeline/cam1/frame", "{}", 1).ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam2/frame", "{}", 1).ok());
  ASSERT_TRUE(bus.Publish("system/resources", "{}", 1).ok());
  RecordingSubscriber s;
  auto first = bus.Subscribe(&s, "pipeline/cam1/#");
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Names(*first), testing::ElementsAre("pipeline/cam1/frame"));
  auto second = bus.Subscribe(&s, "pipeline/#");
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Names(*second), testing::ElementsAre("pipeline/cam2/frame"));
  auto again = bus.Subscribe(&s, "pipeline/#");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(BusTest, TopicsCreatedLaterReachExistingSubscribers) {
  Bus bus;
  RecordingSubscriber s;
  ASSERT_TRUE(bus.Subscribe(&s, "pipeline/+/status").ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam9/status", "{}", 1).ok());
  ASSERT_TRUE(bus.Publish("pipeline/cam9/frame", "{}", 1).ok());
  EXPECT_THAT(s.Topics(), testing::ElementsAre("pipeline/cam9/status"));
}

TEST(BusTest, RemoveSubscriberStopsDelivery) {
  Bus bus;
  RecordingSubscriber s;
  ASSERT_TRUE(bus.Subscribe(&s, "#").ok());
  ASSERT_TRUE(bus.Subscribe(&s, "a").ok());
  ASSERT_TRUE(bus.Publish("a", "{}", 1).ok());
  bus.RemoveSubscriber(&s);
  ASSERT_TRUE(bus.Publish("a", "{}", 1).ok());
  EXPECT_EQ(s.events.size(), 1u);
  EXPECT_EQ(bus.Find("a")->subscriber_count(), 0u);
  EXPECT_EQ(bus.PatternsOf(&s), nullptr);
}

TEST(BusTest, RingKeepsLastNAndCollectSinceReportsCoverage) {
  BusLimits limits;
  limits.history_len = 5;
  Bus bus(limits);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(bus.Publish("t", "{}", i).ok());
  TopicState* t = bus.Find("t");
  ASSERT_EQ(t->ring().size(), 5u);
  EXPECT_EQ(t->first_seq(), 8u);
  std::vector<FrameRef> out;
  EXPECT_TRUE(t->CollectSince(7, &out));  // ring holds 8..12: exactly covers
  EXPECT_EQ(out.size(), 5u);
  out.clear();
  EXPECT_FALSE(t->CollectSince(6, &out));  // seq 7 is gone: one short
  EXPECT_EQ(out.size(), 5u);
  out.clear();
  EXPECT_TRUE(t->CollectSince(12, &out));
  EXPECT_TRUE(out.empty());
}

TEST(BusTest, RingIsBoundedInBytesButKeepsLatest) {
  BusLimits limits;
  limits.ring_max_bytes = 1;  // smaller than any frame
  Bus bus(limits);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus.Publish("t", "{}", i).ok());
  EXPECT_EQ(bus.Find("t")->ring().size(), 1u);
  EXPECT_EQ(bus.Find("t")->ring().front()->seq, 3u);
}

TEST(BusTest, MaxTopicsIsEnforced) {
  BusLimits limits;
  limits.max_topics = 2;
  Bus bus(limits);
  ASSERT_TRUE(bus.Publish("a", "{}", 1).ok());
  ASSERT_TRUE(bus.Publish("b", "{}", 1).ok());
  EXPECT_EQ(bus.Publish("c", "{}", 1).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(bus.Publish("a", "{}", 1).ok());
}

TEST(BusTest, InvalidNamesAndPatternsAreRejected) {
  Bus bus;
  RecordingSubscriber s;
  EXPECT_EQ(bus.Publish("a/+", "{}", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bus.Subscribe(&s, "a/#/b").status().code(), StatusCode::kInvalidArgument);
}

TEST(BusTest, PatternLimitPerSubscriber) {
  BusLimits limits;
  limits.max_patterns_per_subscriber = 2;
  Bus bus(limits);
  RecordingSubscriber s;
  ASSERT_TRUE(bus.Subscribe(&s, "a").ok());
  ASSERT_TRUE(bus.Subscribe(&s, "b").ok());
  EXPECT_EQ(bus.Subscribe(&s, "c").status().code(), StatusCode::kResourceExhausted);
}

TEST(BusTest, SuppressedUpdateBecomesLatestWithoutSeq) {
  Bus bus;
  RecordingSubscriber s;
  ASSERT_TRUE(bus.Subscribe(&s, "t").ok());
  ASSERT_TRUE(bus.Publish("t", R"({"v":1})", 1).ok());
  ASSERT_TRUE(bus.SetLatest("t", R"({"v":1.0001})", 2).ok());
  EXPECT_EQ(bus.Find("t")->last_seq(), 1u);
  EXPECT_EQ(bus.Find("t")->latest_data(), R"({"v":1.0001})");
  EXPECT_EQ(s.events.size(), 1u);
}

TEST(BusTest, DueForRefresh) {
  Bus bus;
  ASSERT_TRUE(bus.Publish("t", "{}", 1).ok());
  EXPECT_TRUE(bus.DueForRefresh(0, 10'000'000).empty());
  EXPECT_EQ(bus.DueForRefresh(INT64_MAX / 2, 10'000'000).size(), 1u);
}

TEST(FrameTest, LiveBytesAreAccountedOnce) {
  size_t before = FrameBytesLive();
  {
    Bus bus;
    RecordingSubscriber a, b;
    ASSERT_TRUE(bus.Subscribe(&a, "#").ok());
    ASSERT_TRUE(bus.Subscribe(&b, "#").ok());
    auto f = bus.Publish("t", "{}", 1);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(FrameBytesLive() - before, (*f)->AccountedBytes());
  }
  EXPECT_EQ(FrameBytesLive(), before);
}

}  // namespace
}  // namespace edgewatch::fw
