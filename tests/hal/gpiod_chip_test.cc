// The libgpiod backend. Error paths run everywhere; the round trip needs a gpio-sim bank labelled
// "edgewatch-sim" (the qemu-virt board) and skips otherwise: real kernel GPIO is exercised in the
// emulated board (make test-emulated).
#include "edgewatch/hal/gpiod_chip.h"

#include <gmock/gmock.h>
#include <gpiod.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "edgewatch/hal/open_chip.h"
#include "test_util.h"

namespace edgewatch::hal {
namespace {

using ::testing::HasSubstr;

BoardSpec GpiodBoard(const std::string& chip) {
  Result<BoardSpec> board = ParseBoard(R"({"name":"t","gpio":{"backend":"gpiod","chip":")" + chip +
                                       R"("},"lines":{"led":{"offset":0,"direction":"out"}},)"
                                       R"("budget":{"memory_mb":1,"max_connections":1}})");
  EXPECT_TRUE(board.ok()) << board.status().ToString();
  return board.ok() ? *board : BoardSpec();
}

TEST(hal_gpiod, MissingChipIsNotFoundAndNamed) {
  Result<std::unique_ptr<GpioChip>> chip = OpenChip(GpiodBoard("edgewatch-no-such-chip"));
  ASSERT_FALSE(chip.ok());
  EXPECT_EQ(chip.status().code(), StatusCode::kNotFound) << chip.status().ToString();
  EXPECT_THAT(chip.status().message(), HasSubstr("edgewatch-no-such-chip"));
  EXPECT_THAT(chip.status().message(), HasSubstr("chips present"));
}

TEST(hal_gpiod, MissingChipPathIsNotFound) {
  Result<std::unique_ptr<GpioChip>> chip = OpenGpiodChip(GpiodBoard("/dev/edgewatch-no-such-chip"));
  ASSERT_FALSE(chip.ok());
  EXPECT_EQ(chip.status().code(), StatusCode::kNotFound) << chip.status().ToString();
}

bool AnyGpioChip() {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/dev", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename().string().rfind("gpiochip", 0) == 0) return true;
  }
  return false;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

bool WriteSysfs(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

TEST(hal_gpiod, GpioSimRoundTrip) {
  if (!AnyGpioChip()) {
    GTEST_SKIP() << "no /dev/gpiochip* on this machine; real kernel GPIO is tested in the "
                    "emulated board (make test-emulated)";
  }
  Result<BoardSpec> board =
      LoadBoardFile(::edgewatch::hal::testing::BoardsDir() + "/qemu-virt.json");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  gpiod_chip* raw = gpiod_chip_open_by_label(board->chip.c_str());
  if (raw == nullptr) {
    GTEST_SKIP() << "no gpio-sim bank labelled '" << board->chip
                 << "' (see boards/README.md); not touching this machine's real GPIO";
  }
  std::string sysfs = std::string("/sys/bus/gpio/devices/") + gpiod_chip_name(raw);
  gpiod_chip_close(raw);

  Result<std::unique_ptr<GpioChip>> chip = OpenChip(*board);
  ASSERT_TRUE(chip.ok()) << chip.status().ToString();
  DigitalOut* led = *(*chip)->Output("alert_led");
  ASSERT_TRUE(led->Set(Level::kActive).ok());
  EXPECT_EQ(ReadTrimmed(sysfs + "/sim_gpio0/value"), "1");
  ASSERT_TRUE(led->Set(Level::kInactive).ok());
  EXPECT_EQ(ReadTrimmed(sysfs + "/sim_gpio0/value"), "0");

  // The button: the request's pull-up holds it high; pulling it down is a press.
  DigitalIn* button = *(*chip)->Input("ack_button");
  EXPECT_EQ(*button->Get(), Level::kInactive);
  ASSERT_TRUE(WriteSysfs(sysfs + "/sim_gpio3/pull", "pull-down"));
  pollfd p{button->EventFd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no edge event within 5 s";
  Result<Edge> edge = button->ReadEdge();
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
  EXPECT_EQ(edge->level, Level::kActive);
  EXPECT_EQ(*button->Get(), Level::kActive);
  ASSERT_TRUE(WriteSysfs(sysfs + "/sim_gpio3/pull", "pull-up"));
}

}  // namespace
}  // namespace edgewatch::hal
