// AlertService on a real gateway loop (in process, no clients): lws timers drive the blink
// pattern through GatewayScheduler, the SQLite writer thread hands completions back through
// Gateway::Post, and the SimChip's ack_button descriptor is watched with Gateway::WatchFd.
// The loop stops itself when the acknowledged alert is published; a 20 s timer is only a failure
// bound.
#include "edgewatch/app/alerts/alert_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/hal/sim_chip.h"
#include "test_board.h"

namespace edgewatch::app::alerts {
namespace {

using ::testing::ElementsAre;

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-svc-XXXXXX";
    char* made = ::mkdtemp(templ.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Records `alerts` events; presses the simulated button once the LED has blinked a few times
// after the alert was published, and stops the loop when the acknowledgement is published.
class Observer final : public fw::Subscriber {
 public:
  Observer(fw::Gateway& gw, hal::SimChip& chip) : gw_(gw), chip_(chip) {}
  void OnEvent(const fw::FrameRef& event) override {
    auto data = ParseJson(event->data());
    if (!data.ok()) return;
    states.push_back(std::string(GetString(data->get(), "state").value_or("?")) + "/" +
                     std::string(GetString(data->get(), "ack_via").value_or("-")));
    if (states.back() == "acked/button") gw_.RequestStop();
  }
  void PressWhenBlinking() {
    // Called on the loop by a periodic timer: press once the LED toggled at least 4 times.
    if (pressed_ || chip_.History("alert_led").size() < 4 || states.empty()) return;
    pressed_ = true;
    ASSERT_TRUE(chip_.Drive("ack_button", hal::Level::kActive).ok());
  }
  std::vector<std::string> states;

 private:
  fw::Gateway& gw_;
  hal::SimChip& chip_;
  bool pressed_ = false;
};

TEST(AlertServiceTest, BlinkOnLoopTimersAndAcknowledgeWithTheButton) {
  TempDir dir;
  fw::GatewayConfig config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.handle_signals = false;
  config.auth_enabled = false;
  fw::Gateway gw(config, nullptr);
  ASSERT_TRUE(gw.Start().ok());

  auto chip = hal::SimChip::Open(testing::TestBoard());
  ASSERT_TRUE(chip.ok());
  auto rules = ParseRules(ParseJson(R"([{"id": "intrusion",
      "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0"},
      "then": {"output": {"role": "alert_led", "pattern": "blink", "hz": 20, "for": "1m"},
               "alert": {"severity": "critical", "message": "Intrusion on {pipeline_id}"}}}])")
                              ->get());
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto svc = AlertService::Start(gw, chip->get(), *rules, dir.path());
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();

  Observer observer(gw, **chip);
  ASSERT_TRUE(gw.bus().Subscribe(&observer, "alerts").ok());
  bool timed_out = false;
  gw.Every(20 * 1000000LL, [&] {
    timed_out = true;  // failure bound only
    gw.RequestStop();
  });
  gw.Every(10 * 1000, [&] { observer.PressWhenBlinking(); });
  gw.Post([&] {
    auto data = ParseJson(R"({"pipeline_id":"cam1","analytics":{"new_intrusions":1}})");
    ASSERT_TRUE(gw.Submit("pipeline/cam1/analytics", data->get(), UnixMillis()).ok());
  });
  gw.Run();
  gw.bus().RemoveSubscriber(&observer);

  ASSERT_FALSE(timed_out) << "alert states seen: " << ::testing::PrintToString(observer.states);
  EXPECT_THAT(observer.states, ElementsAre("active/-", "acked/button"));
  std::vector<hal::Level> history = (*chip)->History("alert_led");
  ASSERT_GE(history.size(), 4u);
  EXPECT_EQ(history.front(), hal::Level::kActive);
  EXPECT_EQ(history.back(), hal::Level::kInactive);
  for (size_t i = 1; i < history.size(); ++i) EXPECT_NE(history[i], history[i - 1]);
  EXPECT_EQ((*svc)->engine().stats().acked, 1u);
  EXPECT_EQ((*svc)->store().stats().writes, 2u);  // the alert, then its acknowledgement
  EXPECT_TRUE((*svc)->engine().UnreadAlerts().empty());
}

}  // namespace
}  // namespace edgewatch::app::alerts
