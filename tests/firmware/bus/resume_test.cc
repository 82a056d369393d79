#include "edgewatch/fw/resume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace edgewatch::fw {
namespace {

class ResumeTest : public testing::Test {
 protected:
  ResumeTest() : bus_(Limits()) {}
  static BusLimits Limits() {
    BusLimits l;
    l.history_len = 5;
    return l;
  }
  void Publish(const std::string& topic, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(bus_.Publish(topic, "{}", i).ok());
  }
  std::vector<TopicState*> All() {
    std::vector<TopicState*> out;
    for (auto& t : bus_.topics()) out.push_back(t.get());
    return out;
  }
  static std::vector<std::pair<std::string, uint64_t>> Events(const ResumePlan& p) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& f : p.events) out.emplace_back(f->topic->name(), f->seq);
    return out;
  }
  using Ev = std::pair<std::string, uint64_t>;
  Bus bus_;
};

TEST_F(ResumeTest, PlainSubscribeGetsTheLatestOfEachTopicInPublishOrder) {
  Publish("a", 3);
  Publish("b", 2);
  Publish("a", 1);
  ResumePlan p = PlanResume(All(), {}, "E");
  EXPECT_TRUE(p.gaps.empty());
  EXPECT_THAT(Events(p), testing::ElementsAre(Ev{"b", 2}, Ev{"a", 4}));
}

TEST_F(ResumeTest, RingExactlyCoveringTheGapReplaysEverything) {
  Publish("a", 10);  // ring holds 6..10
  ResumePlan p = PlanResume(All(), {"E", {{"a", 5}}}, "E");
  EXPECT_TRUE(p.recovered);
  EXPECT_TRUE(p.gaps.empty());
  EXPECT_THAT(Events(p),
              testing::ElementsAre(Ev{"a", 6}, Ev{"a", 7}, Ev{"a", 8}, Ev{"a", 9}, Ev{"a", 10}));
}

TEST_F(ResumeTest, OneEventShortGivesAGapAndTheLatest) {
  Publish("a", 10);  // ring holds 6..10; the client saw 4, so 5 is lost
  ResumePlan p = PlanResume(All(), {"E", {{"a", 4}}}, "E");
  EXPECT_FALSE(p.recovered);
  ASSERT_EQ(p.gaps.size(), 1u);
  EXPECT_EQ(p.gaps[0].from, 5u);
  EXPECT_EQ(p.gaps[0].to, 9u);
  EXPECT_EQ(p.gaps[0].reason, "ring_overflow");
  EXPECT_THAT(Events(p), testing::ElementsAre(Ev{"a", 10}));
}

TEST_F(ResumeTest, UpToDateTopicSendsNothing) {
  Publish("a", 3);
  ResumePlan p = PlanResume(All(), {"E", {{"a", 3}}}, "E");
  EXPECT_TRUE(p.recovered);
  EXPECT_TRUE(p.events.empty());
}

TEST_F(ResumeTest, WildcardTopicCreatedAfterTheDisconnectIsReplayedFromOne) {
  Publish("cam/1", 4);
  Publish("cam/2", 3);  // created while the client was away: not in its `since`
  ResumePlan p = PlanResume(All(), {"E", {{"cam/1", 4}}}, "E");
  EXPECT_TRUE(p.recovered);
  EXPECT_THAT(Events(p), testing::ElementsAre(Ev{"cam/2", 1}, Ev{"cam/2", 2}, Ev{"cam/2", 3}));
}

TEST_F(ResumeTest, ReplayAcrossTopicsKeepsPublishOrder) {
  Publish("a", 1);
  Publish("b", 1);
  Publish("a", 1);
  Publish("b", 1);
  ResumePlan p = PlanResume(All(), {"E", {{"a", 0}, {"b", 0}}}, "E");
  EXPECT_THAT(Events(p), testing::ElementsAre(Ev{"a", 1}, Ev{"b", 1}, Ev{"a", 2}, Ev{"b", 2}));
}

TEST_F(ResumeTest, AnotherEpochGivesEpochChangedGapsAndSnapshots) {
  Publish("a", 2);
  Publish("b", 1);
  ResumePlan p = PlanResume(All(), {"OLD", {{"a", 57}}}, "E");
  EXPECT_FALSE(p.recovered);
  ASSERT_EQ(p.gaps.size(), 1u);
  EXPECT_EQ(p.gaps[0].topic, "a");
  EXPECT_EQ(p.gaps[0].from, 58u);
  EXPECT_FALSE(p.gaps[0].to.has_value());
  EXPECT_EQ(p.gaps[0].reason, "epoch_changed");
  EXPECT_THAT(Events(p), testing::ElementsAre(Ev{"a", 2}, Ev{"b", 1}));
}

TEST_F(ResumeTest, GapMessageFormat) {
  EXPECT_EQ(GapMessage({"a/b", 5, 9, "ring_overflow"}),
            R"({"type":"gap","topic":"a/b","from":5,"to":9,"reason":"ring_overflow"})");
  EXPECT_EQ(GapMessage({"a", 3, std::nullopt, "epoch_changed"}),
            R"({"type":"gap","topic":"a","from":3,"to":null,"reason":"epoch_changed"})");
}

}  // namespace
}  // namespace edgewatch::fw
