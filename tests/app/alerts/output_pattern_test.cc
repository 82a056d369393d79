// Output patterns and their arbitration, on a SimChip driven by a FakeScheduler: every assertion
// is on the recorded GPIO history with exact scheduler timestamps; nothing sleeps.
#include "edgewatch/app/alerts/output_pattern.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgewatch/base/json.h"
#include "test_board.h"

namespace edgewatch::app::alerts {
namespace {

using hal::Level;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OpenSimChip;
using ::testing::Pair;
using testing::Timeline;

constexpr int64_t kMs = 1000;
constexpr int64_t kSec = 1000 * kMs;
constexpr Level kOn = Level::kActive;
constexpr Level kOff = Level::kInactive;

Pattern Steady() {
  return Pattern{};
}
Pattern Blink(int64_t half_us) {
  return Pattern{Pattern::Kind::kBlink, half_us, half_us, 1};
}

class AlertOutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chip_ = OpenSimChip(sched_);
    ASSERT_NE(chip_, nullptr);
    outputs_ = std::make_unique<AlertOutputs>(*chip_, sched_);
    outputs_->on_ended = [this](const std::string& key, const std::string& role, bool expired) {
      ended_.push_back(key + "@" + role + (expired ? ":expired" : ":done"));
    };
    t0_ = sched_.NowUs();
  }
  auto Line(std::string_view role = "alert_led") { return Timeline(*chip_, role, t0_); }

  FakeScheduler sched_;
  std::unique_ptr<hal::SimChip> chip_;
  std::unique_ptr<AlertOutputs> outputs_;
  std::vector<std::string> ended_;
  int64_t t0_ = 0;
};

TEST_F(AlertOutputsTest, SteadyStaysOnUntilStopped) {
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Steady(), 60 * kSec).ok());
  sched_.AdvanceBy(10 * kSec);
  EXPECT_EQ(outputs_->Stop("a1"), 1);
  EXPECT_THAT(Line(), ElementsAre(Pair(kOn, 0), Pair(kOff, 10000)));
  EXPECT_EQ(sched_.pending(), 0u);
  EXPECT_TRUE(ended_.empty());  // Stop() is not "ended by itself"
}

TEST_F(AlertOutputsTest, BlinkAtFrequencyUntilMaximumDuration) {
  auto p = ParsePattern(ParseJson(R"({"pattern":"blink","hz":2})")->get());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, *p, 2 * kSec).ok());
  sched_.RunAll(60 * kSec);
  EXPECT_THAT(Line(),
              ElementsAre(Pair(kOn, 0), Pair(kOff, 250), Pair(kOn, 500), Pair(kOff, 750),
                          Pair(kOn, 1000), Pair(kOff, 1250), Pair(kOn, 1500), Pair(kOff, 1750)));
  EXPECT_THAT(ended_, ElementsAre("a1@alert_led:expired"));
  EXPECT_EQ(outputs_->request_count(), 0u);
  EXPECT_EQ(sched_.pending(), 0u);
}

TEST_F(AlertOutputsTest, ExpiryWhileOnTurnsTheLineOff) {
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Blink(300 * kMs), 1000 * kMs).ok());
  sched_.RunAll(60 * kSec);
  // on 0, off 300, on 600, off 900, on ... expiry at 1000 turns it off
  EXPECT_THAT(Line(), ElementsAre(Pair(kOn, 0), Pair(kOff, 300), Pair(kOn, 600), Pair(kOff, 900)));
  ASSERT_TRUE(outputs_->Start("alert_led", "a2", 0, Blink(300 * kMs), 700 * kMs).ok());
  sched_.RunAll(60 * kSec);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_EQ(Line().back(), std::make_pair(kOff, int64_t{1000 + 700}));
}

TEST_F(AlertOutputsTest, SinglePulseEndsByItself) {
  auto p = ParsePattern(ParseJson(R"({"pattern":"pulse","width":"500ms"})")->get());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(outputs_->Start("buzzer", "a1", 0, *p, 60 * kSec).ok());
  sched_.RunAll(120 * kSec);
  EXPECT_THAT(Line("buzzer"), ElementsAre(Pair(kOn, 0), Pair(kOff, 500)));
  EXPECT_THAT(ended_, ElementsAre("a1@buzzer:done"));
  EXPECT_EQ(sched_.pending(), 0u);  // the expiry timer was cancelled too
}

TEST_F(AlertOutputsTest, NPulses) {
  auto p = ParsePattern(
      ParseJson(R"({"pattern":"pulses","count":3,"width":"100ms","gap":"200ms"})")->get());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(outputs_->Start("buzzer", "a1", 0, *p, 60 * kSec).ok());
  sched_.RunAll(120 * kSec);
  EXPECT_THAT(Line("buzzer"), ElementsAre(Pair(kOn, 0), Pair(kOff, 100), Pair(kOn, 300),
                                          Pair(kOff, 400), Pair(kOn, 600), Pair(kOff, 700)));
  EXPECT_THAT(ended_, ElementsAre("a1@buzzer:done"));
}

TEST_F(AlertOutputsTest, ActiveLowPolarityIsTheBackendsBusiness) {
  // "relay" is active-low on the board: the pattern still speaks of logical levels.
  ASSERT_TRUE(outputs_->Start("relay", "a1", 0, Steady(), kSec).ok());
  sched_.RunAll(2 * kSec);
  EXPECT_THAT(chip_->History("relay"), ElementsAre(kOn, kOff));
}

TEST_F(AlertOutputsTest, HigherPriorityPreemptsAndTheLowerResumes) {
  ASSERT_TRUE(outputs_->Start("alert_led", "low", 1, Blink(100 * kMs), 60 * kSec).ok());
  sched_.AdvanceBy(150 * kMs);                                                     // on 0, off 100
  ASSERT_TRUE(outputs_->Start("alert_led", "high", 5, Steady(), 60 * kSec).ok());  // at 150
  EXPECT_EQ(outputs_->Driver("alert_led"), "high");
  sched_.AdvanceBy(1000 * kMs);  // steady: nothing changes
  // A lower-priority start while the high one drives: it waits.
  ASSERT_TRUE(outputs_->Start("alert_led", "lowest", 0, Steady(), 60 * kSec).ok());
  EXPECT_EQ(outputs_->Driver("alert_led"), "high");
  EXPECT_EQ(outputs_->Stop("high"), 1);  // at 1150: "low" resumes from the start of its pattern
  EXPECT_EQ(outputs_->Driver("alert_led"), "low");
  sched_.AdvanceBy(250 * kMs);
  EXPECT_THAT(Line(), ElementsAre(Pair(kOn, 0), Pair(kOff, 100), Pair(kOn, 150), Pair(kOff, 1250),
                                  Pair(kOn, 1350)));
  outputs_->Stop("low");
  EXPECT_EQ(outputs_->Driver("alert_led"), "lowest");
  EXPECT_EQ(chip_->Current("alert_led").value(), kOn);
  outputs_->StopAll();
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_EQ(sched_.pending(), 0u);
}

TEST_F(AlertOutputsTest, EqualPrioritiesMostRecentWins) {
  ASSERT_TRUE(outputs_->Start("alert_led", "first", 3, Steady(), 60 * kSec).ok());
  ASSERT_TRUE(outputs_->Start("alert_led", "second", 3, Blink(100 * kMs), 60 * kSec).ok());
  EXPECT_EQ(outputs_->Driver("alert_led"), "second");
}

TEST_F(AlertOutputsTest, ExpiryOfTheDriverHandsOverToTheNext) {
  ASSERT_TRUE(outputs_->Start("alert_led", "long", 1, Steady(), 10 * kSec).ok());
  ASSERT_TRUE(outputs_->Start("alert_led", "short", 2, Blink(100 * kMs), 300 * kMs).ok());
  sched_.AdvanceBy(300 * kMs);
  EXPECT_EQ(outputs_->Driver("alert_led"), "long");
  EXPECT_EQ(chip_->Current("alert_led").value(), kOn);
  sched_.RunAll(60 * kSec);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_THAT(ended_, ElementsAre("short@alert_led:expired", "long@alert_led:expired"));
}

TEST_F(AlertOutputsTest, RolesAreIndependentAndStopCoversEveryRole) {
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Steady(), 60 * kSec).ok());
  ASSERT_TRUE(outputs_->Start("buzzer", "a1", 0, Blink(100 * kMs), 60 * kSec).ok());
  ASSERT_TRUE(outputs_->Start("buzzer", "a2", -1, Steady(), 60 * kSec).ok());
  EXPECT_EQ(outputs_->request_count(), 3u);
  EXPECT_EQ(outputs_->Stop("a1"), 2);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOff);
  EXPECT_EQ(outputs_->Driver("buzzer"), "a2");
}

TEST_F(AlertOutputsTest, RestartingAKeyReplacesItsRequest) {
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Steady(), kSec).ok());
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Steady(), 5 * kSec).ok());
  EXPECT_EQ(outputs_->request_count(), 1u);
  sched_.AdvanceBy(2 * kSec);
  EXPECT_EQ(chip_->Current("alert_led").value(), kOn);  // the first expiry was cancelled
}

TEST_F(AlertOutputsTest, Errors) {
  EXPECT_EQ(outputs_->Start("siren", "a", 0, Steady(), kSec).code(), StatusCode::kNotFound);
  EXPECT_EQ(outputs_->Start("ack_button", "a", 0, Steady(), kSec).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(outputs_->Start("alert_led", "a", 0, Steady(), 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outputs_->Start("alert_led", "a", 0, Blink(0), kSec).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(outputs_->Stop("nothing"), 0);
}

TEST_F(AlertOutputsTest, BackendErrorsAreCountedAndRetriedOnTheNextStep) {
  ASSERT_TRUE(chip_->InjectError("alert_led", Unavailable("EBUSY")).ok());
  ASSERT_TRUE(outputs_->Start("alert_led", "a1", 0, Blink(100 * kMs), kSec).ok());
  sched_.AdvanceBy(100 * kMs);  // off: already off, nothing to set
  EXPECT_EQ(outputs_->set_failures(), 1u);
  ASSERT_TRUE(chip_->InjectError("alert_led", OkStatus()).ok());
  sched_.AdvanceBy(100 * kMs);  // on again: succeeds
  EXPECT_THAT(Line(), ElementsAre(Pair(kOn, 200)));
}

TEST(ParsePatternTest, Errors) {
  auto err = [](const char* json) {
    return ParsePattern(ParseJson(json)->get()).status().message();
  };
  EXPECT_THAT(err(R"({})"), HasSubstr("\"pattern\" is required"));
  EXPECT_THAT(err(R"({"pattern":"strobe"})"), HasSubstr("got \"strobe\""));
  EXPECT_THAT(err(R"({"pattern":"blink"})"), HasSubstr("hz"));
  EXPECT_THAT(err(R"({"pattern":"blink","hz":100})"), HasSubstr("0.1 to 50"));
  EXPECT_THAT(err(R"({"pattern":"pulse"})"), HasSubstr("\"width\" is required"));
  EXPECT_THAT(err(R"({"pattern":"pulse","width":"0ms"})"), HasSubstr("greater than 0"));
  EXPECT_THAT(err(R"({"pattern":"pulses","count":0,"width":"1s","gap":"1s"})"), HasSubstr("count"));
  EXPECT_THAT(err(R"({"pattern":"pulses","count":2,"width":"1s"})"), HasSubstr("gap"));
}

TEST(ParseDurationTest, UnitsAndErrors) {
  EXPECT_EQ(ParseDurationUs("250ms").value(), 250 * kMs);
  EXPECT_EQ(ParseDurationUs("30s").value(), 30 * kSec);
  EXPECT_EQ(ParseDurationUs("30").value(), 30 * kSec);
  EXPECT_EQ(ParseDurationUs("5m").value(), 300 * kSec);
  EXPECT_EQ(ParseDurationUs("2h").value(), 7200 * kSec);
  EXPECT_EQ(ParseDurationUs("0s").value(), 0);
  for (const char* bad : {"", "s", "ms", "-1s", "1.5s", "1d", "10 s", "31d", "999999h", "1S"}) {
    EXPECT_FALSE(ParseDurationUs(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDurationUs(250 * kMs), "250ms");
  EXPECT_EQ(FormatDurationUs(90 * kSec), "90s");
  EXPECT_EQ(FormatDurationUs(600 * kSec), "10m");
}

}  // namespace
}  // namespace edgewatch::app::alerts
