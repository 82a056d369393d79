// The sim GPIO backend and the facade behaviour every backend shares (level caching, edge
// filtering, debouncing), driven deterministically with a fake clock.
#include "edgewatch/hal/sim_chip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <string>

#include "edgewatch/base/json.h"
#include "edgewatch/hal/open_chip.h"
#include "test_util.h"

namespace edgewatch::hal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMs = 1'000'000;

BoardSpec TestBoard() {
  Result<BoardSpec> board = ParseBoard(R"({
    "name": "test", "gpio": {"backend": "sim"},
    "lines": {
      "alert_led": {"offset": 0, "direction": "out"},
      "relay": {"offset": 1, "direction": "out", "active": "low"},
      "ack_button": {"offset": 2, "direction": "in", "active": "low", "bias": "pull-up",
                     "edge": "falling", "debounce_ms": 20},
      "door": {"offset": 3, "direction": "in"},
      "motion": {"offset": 4, "direction": "in", "edge": "both"}
    },
    "budget": {"memory_mb": 1, "max_connections": 1}})");
  EXPECT_TRUE(board.ok()) << board.status().ToString();
  return board.ok() ? *board : BoardSpec();
}

// True when `fd` polls readable right now (timeout 0: never waits).
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

class hal_sim_chip : public ::testing::Test {
 protected:
  void SetUp() override {
    SimChip::Options options;
    options.clock_ns = [this] { return now_ns_; };
    Result<std::unique_ptr<SimChip>> chip = SimChip::Open(TestBoard(), options);
    ASSERT_TRUE(chip.ok()) << chip.status().ToString();
    chip_ = std::move(chip).value();
  }

  DigitalOut* Out(const char* role) {
    Result<DigitalOut*> out = chip_->Output(role);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : nullptr;
  }
  DigitalIn* In(const char* role) {
    Result<DigitalIn*> in = chip_->Input(role);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    return in.ok() ? *in : nullptr;
  }

  int64_t now_ns_ = 1000 * kMs;
  std::unique_ptr<SimChip> chip_;
};

TEST_F(hal_sim_chip, HandsOutLinesByRole) {
  EXPECT_TRUE(chip_->Output("alert_led").ok());
  EXPECT_TRUE(chip_->Input("ack_button").ok());

  Result<DigitalOut*> missing = chip_->Output("siren");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("siren"));

  Result<DigitalIn*> wrong = chip_->Input("alert_led");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(chip_->Output("ack_button").status().code(), StatusCode::kFailedPrecondition);

  // The same line every time: lines are claimed once, at Open.
  EXPECT_EQ(*chip_->Output("alert_led"), *chip_->Output("alert_led"));
}

TEST_F(hal_sim_chip, RecordsHistoryOfEverySet) {
  DigitalOut* led = Out("alert_led");
  ASSERT_NE(led, nullptr);
  EXPECT_EQ(led->level(), Level::kInactive);
  EXPECT_TRUE(chip_->History("alert_led").empty());

  ASSERT_TRUE(led->Set(Level::kActive).ok());
  now_ns_ += 250 * kMs;
  ASSERT_TRUE(led->Set(Level::kInactive).ok());
  now_ns_ += 250 * kMs;
  ASSERT_TRUE(led->Set(Level::kActive).ok());
  ASSERT_TRUE(led->Set(Level::kActive).ok());  // repeated sets are recorded too

  EXPECT_THAT(chip_->History("alert_led"),
              ElementsAre(Level::kActive, Level::kInactive, Level::kActive, Level::kActive));
  std::vector<SimSet> timed = chip_->TimedHistory("alert_led");
  ASSERT_EQ(timed.size(), 4u);
  EXPECT_EQ(timed[1].timestamp_ns - timed[0].timestamp_ns, 250 * kMs);
  EXPECT_EQ(led->level(), Level::kActive);
  EXPECT_EQ(*chip_->Current("alert_led"), Level::kActive);
  EXPECT_TRUE(chip_->History("relay").empty());
  EXPECT_TRUE(chip_->History("ack_button").empty());
  EXPECT_TRUE(chip_->History("unknown").empty());

  chip_->ClearHistory();
  EXPECT_TRUE(chip_->History("alert_led").empty());
  EXPECT_EQ(*chip_->Current("alert_led"), Level::kActive);
}

TEST_F(hal_sim_chip, HistoryIsBoundedAndCountsDrops) {
  SimChip::Options options;
  options.history_capacity = 3;
  Result<std::unique_ptr<SimChip>> chip = SimChip::Open(TestBoard(), options);
  ASSERT_TRUE(chip.ok());
  DigitalOut* led = *(*chip)->Output("alert_led");
  for (Level l :
       {Level::kActive, Level::kInactive, Level::kActive, Level::kInactive, Level::kActive}) {
    ASSERT_TRUE(led->Set(l).ok());
  }
  EXPECT_THAT((*chip)->History("alert_led"),
              ElementsAre(Level::kActive, Level::kInactive, Level::kActive));
  Result<JsonPtr> state = ParseJson((*chip)->StateJson());
  ASSERT_TRUE(state.ok());
  const cJSON* line = cJSON_GetObjectItem(cJSON_GetObjectItem(state->get(), "lines"), "alert_led");
  EXPECT_EQ(GetInt(line, "sets"), 5);
  EXPECT_EQ(GetInt(line, "history_dropped"), 2);
}

TEST_F(hal_sim_chip, DrivenPressArrivesThroughTheEventFd) {
  DigitalIn* button = In("ack_button");
  ASSERT_NE(button, nullptr);
  int fd = button->EventFd();
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(Readable(fd));
  EXPECT_EQ(button->ReadEdge().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*button->Get(), Level::kInactive);

  ASSERT_TRUE(chip_->Drive("ack_button", Level::kActive).ok());
  EXPECT_TRUE(Readable(fd));
  EXPECT_EQ(*button->Get(), Level::kActive);
  Result<Edge> edge = button->ReadEdge();
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
  EXPECT_EQ(edge->level, Level::kActive);
  EXPECT_EQ(edge->timestamp_ns, now_ns_);
  EXPECT_FALSE(Readable(fd));
  EXPECT_EQ(button->ReadEdge().status().code(), StatusCode::kUnavailable);

  // Driving the level the line already has is not an edge.
  ASSERT_TRUE(chip_->Drive("ack_button", Level::kActive).ok());
  EXPECT_FALSE(Readable(fd));

  // The release is consumed but not reported: the board asks for falling (press) edges only.
  now_ns_ += 300 * kMs;
  ASSERT_TRUE(chip_->Drive("ack_button", Level::kInactive).ok());
  EXPECT_TRUE(Readable(fd));
  EXPECT_EQ(button->ReadEdge().status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(Readable(fd));
}

TEST_F(hal_sim_chip, DebounceDropsBouncesOfPressAndRelease) {
  DigitalIn* button = In("ack_button");
  ASSERT_NE(button, nullptr);
  auto drive = [&](int64_t at_ms, Level level) {
    now_ns_ = 1000 * kMs + at_ms * kMs;
    ASSERT_TRUE(chip_->Drive("ack_button", level).ok());
  };
  // A press that bounces for 4 ms: one press.
  drive(0, Level::kActive);
  drive(2, Level::kInactive);
  drive(4, Level::kActive);
  Result<Edge> press = button->ReadEdge();
  ASSERT_TRUE(press.ok()) << press.status().ToString();
  EXPECT_EQ(press->timestamp_ns, 1000 * kMs);
  EXPECT_EQ(button->ReadEdge().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(button->bounces(), 2u);

  // The release bounces too; its bounce back to active must not read as a second press.
  drive(500, Level::kInactive);
  drive(503, Level::kActive);
  drive(505, Level::kInactive);
  EXPECT_EQ(button->ReadEdge().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(button->bounces(), 4u);

  // The next real press, well after the debounce time, is reported.
  drive(900, Level::kActive);
  Result<Edge> second = button->ReadEdge();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->timestamp_ns, 1900 * kMs);
  EXPECT_FALSE(Readable(button->EventFd()));
}

TEST_F(hal_sim_chip, BothEdgesWithoutDebounce) {
  DigitalIn* motion = In("motion");
  ASSERT_NE(motion, nullptr);
  ASSERT_TRUE(chip_->Drive("motion", Level::kActive).ok());
  ASSERT_TRUE(chip_->Drive("motion", Level::kInactive).ok());
  Result<Edge> a = motion->ReadEdge();
  Result<Edge> b = motion->ReadEdge();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->level, Level::kActive);
  EXPECT_EQ(b->level, Level::kInactive);
  EXPECT_EQ(motion->ReadEdge().status().code(), StatusCode::kUnavailable);
}

TEST_F(hal_sim_chip, InputWithoutEdgeDetectionHasNoFd) {
  DigitalIn* door = In("door");
  ASSERT_NE(door, nullptr);
  EXPECT_EQ(door->EventFd(), -1);
  EXPECT_EQ(door->ReadEdge().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(chip_->Drive("door", Level::kActive).ok());
  EXPECT_EQ(*door->Get(), Level::kActive);
}

TEST_F(hal_sim_chip, DriveChecksTheRole) {
  EXPECT_EQ(chip_->Drive("alert_led", Level::kActive).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(chip_->Drive("nope", Level::kActive).code(), StatusCode::kNotFound);
  EXPECT_EQ(chip_->Current("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(hal_sim_chip, InjectedErrorsKeepTheLastGoodLevel) {
  DigitalOut* led = Out("alert_led");
  ASSERT_NE(led, nullptr);
  ASSERT_TRUE(led->Set(Level::kActive).ok());
  ASSERT_TRUE(chip_->InjectError("alert_led", Unavailable("line gone")).ok());
  Status s = led->Set(Level::kInactive);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(led->level(), Level::kActive);
  EXPECT_THAT(chip_->History("alert_led"), ElementsAre(Level::kActive));

  ASSERT_TRUE(chip_->InjectError("alert_led", OkStatus()).ok());
  EXPECT_TRUE(led->Set(Level::kInactive).ok());
  EXPECT_EQ(led->level(), Level::kInactive);

  ASSERT_TRUE(chip_->InjectError("door", Internal("broken")).ok());
  EXPECT_EQ(In("door")->Get().status().code(), StatusCode::kInternal);
  EXPECT_EQ(chip_->InjectError("nope", Internal("x")).code(), StatusCode::kNotFound);
}

TEST_F(hal_sim_chip, StateJsonShowsLevelsHistoryAndPendingEdges) {
  ASSERT_TRUE(Out("alert_led")->Set(Level::kActive).ok());
  ASSERT_TRUE(chip_->Drive("ack_button", Level::kActive).ok());

  Result<JsonPtr> state = ParseJson(chip_->StateJson());
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  const cJSON* root = state->get();
  EXPECT_EQ(GetString(root, "board"), "test");
  EXPECT_EQ(GetString(root, "backend"), "sim");
  const cJSON* lines = cJSON_GetObjectItem(root, "lines");
  const cJSON* led = cJSON_GetObjectItem(lines, "alert_led");
  EXPECT_EQ(GetString(led, "direction"), "out");
  EXPECT_EQ(GetString(led, "level"), "active");
  EXPECT_EQ(GetInt(led, "sets"), 1);
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(led, "recent")), 1);
  const cJSON* relay = cJSON_GetObjectItem(lines, "relay");
  EXPECT_EQ(GetBool(relay, "active_low"), true);
  EXPECT_EQ(GetString(relay, "level"), "inactive");
  const cJSON* button = cJSON_GetObjectItem(lines, "ack_button");
  EXPECT_EQ(GetString(button, "direction"), "in");
  EXPECT_EQ(GetString(button, "level"), "active");
  EXPECT_EQ(GetString(button, "edge"), "falling");
  EXPECT_EQ(GetInt(button, "pending_edges"), 1);
}

TEST(hal_sim_chip_open, OpenChipChoosesSimForTheGenericBoard) {
  Result<BoardSpec> board =
      LoadBoardFile(::edgewatch::hal::testing::BoardsDir() + "/generic-x86_64.json");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  Result<std::unique_ptr<GpioChip>> chip = OpenChip(*board);
  ASSERT_TRUE(chip.ok()) << chip.status().ToString();
  EXPECT_NE(dynamic_cast<SimChip*>(chip->get()), nullptr);
  for (const char* role : {"alert_led", "buzzer", "relay"}) {
    EXPECT_TRUE((*chip)->Output(role).ok()) << role;
  }
  Result<DigitalIn*> button = (*chip)->Input("ack_button");
  ASSERT_TRUE(button.ok());
  EXPECT_GE((*button)->EventFd(), 0);
}

TEST(hal_sim_chip_open, SimRunsAnyBoardsRoles) {
  // A Raspberry Pi board in memory: same roles and polarities, no hardware.
  Result<BoardSpec> board = LoadBoardFile(::edgewatch::hal::testing::BoardsDir() + "/rpi4b.json");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  Result<std::unique_ptr<SimChip>> chip = SimChip::Open(*board);
  ASSERT_TRUE(chip.ok()) << chip.status().ToString();
  ASSERT_TRUE((*chip)->Drive("ack_button", Level::kActive).ok());
  Result<Edge> edge = (*(*chip)->Input("ack_button"))->ReadEdge();
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
  EXPECT_EQ(edge->level, Level::kActive);
}

// The facade's shared behaviour, with a backend that is neither sim nor gpiod.
class FakeOut final : public DigitalOut {
 public:
  Status next = OkStatus();

 private:
  Status DoSet(Level) override { return next; }
};

class FakeChip final : public GpioChip {
 public:
  explicit FakeChip(const BoardSpec& board) : GpioChip(board) {
    auto led = std::make_unique<FakeOut>();
    led_ = led.get();
    AddOutput("alert_led", std::move(led));
  }
  FakeOut* led_;
};

TEST(hal_gpio_chip, DefaultStateJsonAndLevelCaching) {
  BoardSpec board = TestBoard();
  FakeChip chip(board);
  DigitalOut* led = *chip.Output("alert_led");
  ASSERT_TRUE(led->Set(Level::kActive).ok());
  chip.led_->next = Unavailable("kernel said no");
  EXPECT_FALSE(led->Set(Level::kInactive).ok());
  EXPECT_EQ(led->level(), Level::kActive);

  Result<JsonPtr> state = ParseJson(chip.StateJson());
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  const cJSON* lines = cJSON_GetObjectItem(state->get(), "lines");
  EXPECT_EQ(GetString(cJSON_GetObjectItem(lines, "alert_led"), "level"), "active");
  // Roles the backend did not claim show a null level.
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(lines, "relay"), "level")));
  EXPECT_EQ(chip.Output("relay").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgewatch::hal
