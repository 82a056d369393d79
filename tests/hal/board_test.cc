// Board files: every file in boards/ parses and names the roles the application relies on; the
// parser names the offending field; DetectBoardFile picks by device-tree model.
#include "edgewatch/hal/board.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace edgewatch::hal {
namespace {

using ::edgewatch::hal::testing::BoardsDir;
using ::edgewatch::hal::testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::filesystem::path> BoardFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(BoardsDir())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(hal_board, EveryBoardFileParsesAndNamesTheRoles) {
  ASSERT_FALSE(BoardsDir().empty()) << "EDGEWATCH_SOURCE_DIR is not set (run through ctest)";
  std::vector<std::filesystem::path> files = BoardFiles();
  std::vector<std::string> names;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    Result<BoardSpec> board = LoadBoardFile(file.string());
    ASSERT_TRUE(board.ok()) << board.status().ToString();
    names.push_back(board->name);
    EXPECT_EQ(board->name, file.stem().string()) << "a board's name is its file name";
    for (const char* role : {"alert_led", "buzzer", "relay"}) {
      ASSERT_EQ(board->lines.count(role), 1u) << role;
      EXPECT_EQ(board->lines.at(role).direction, Direction::kOutput) << role;
    }
    ASSERT_EQ(board->lines.count("ack_button"), 1u);
    const LineSpec& button = board->lines.at("ack_button");
    EXPECT_EQ(button.direction, Direction::kInput);
    EXPECT_EQ(button.bias, Bias::kPullUp);
    EXPECT_EQ(button.edge, EdgeDetect::kFalling);
    EXPECT_TRUE(button.active_low) << "a button to ground is pressed when low";
    EXPECT_GT(button.debounce_ms, 0);
    EXPECT_GT(board->budget.memory_mb, 0);
    EXPECT_GT(board->budget.max_connections, 0);
    EXPECT_GT(board->budget.session_queue_kb, 0);
    if (board->backend == GpioBackend::kGpiod) {
      EXPECT_FALSE(board->chip.empty());
      EXPECT_FALSE(board->models.empty()) << "a hardware board must be detectable";
    }
    if (board->name != "generic-x86_64" && board->name != "qemu-virt") {
      ASSERT_TRUE(board->thermal.has_value()) << "real hardware has a thermal zone to watch";
      EXPECT_FALSE(board->thermal->zone.empty());
    }
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf(
                         {"generic-x86_64", "qemu-virt", "rpi4b", "rpi5", "jetson-orin-nano"}));
}

TEST(hal_board, GenericBoardIsSimulated) {
  Result<BoardSpec> board = LoadBoardFile(BoardsDir() + "/generic-x86_64.json");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  EXPECT_EQ(board->backend, GpioBackend::kSim);
  EXPECT_EQ(board->budget.memory_mb, 64);
  EXPECT_EQ(board->budget.max_connections, 2000);
  EXPECT_TRUE(board->models.empty());
}

TEST(hal_board, QemuVirtUsesGpioSimBankByLabel) {
  Result<BoardSpec> board = LoadBoardFile(BoardsDir() + "/qemu-virt.json");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  EXPECT_EQ(board->backend, GpioBackend::kGpiod);
  EXPECT_EQ(board->chip, "edgewatch-sim");
  EXPECT_EQ(board->lines.at("alert_led").offset, 0u);
  EXPECT_EQ(board->lines.at("buzzer").offset, 1u);
  EXPECT_EQ(board->lines.at("relay").offset, 2u);
  EXPECT_EQ(board->lines.at("ack_button").offset, 3u);
}

constexpr char kMinimal[] = R"({"name":"t","gpio":{"backend":"sim"},)"
                            R"("lines":{"led":{"offset":0,"direction":"out"}},)"
                            R"("budget":{"memory_mb":1,"max_connections":1}})";

TEST(hal_board, DefaultsForOptionalFields) {
  Result<BoardSpec> board = ParseBoard(kMinimal);
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  EXPECT_EQ(board->chip, "sim");
  EXPECT_EQ(board->budget.session_queue_kb, 256);
  EXPECT_FALSE(board->thermal.has_value());
  const LineSpec& led = board->lines.at("led");
  EXPECT_FALSE(led.active_low);
  EXPECT_EQ(led.bias, Bias::kAsIs);
  EXPECT_EQ(led.edge, EdgeDetect::kNone);
  EXPECT_EQ(led.debounce_ms, 0);
}

TEST(hal_board, ParsesEveryField) {
  Result<BoardSpec> board = ParseBoard(R"({
    "name": "full", "description": "d", "models": ["Model A", "Model B"],
    "gpio": {"backend": "gpiod", "chip": "pinctrl-x"},
    "lines": {
      "led": {"offset": 4, "direction": "out", "active": "low", "bias": "disable", "pin": "7"},
      "btn": {"offset": 5, "direction": "in", "bias": "pull-down", "edge": "both",
              "debounce_ms": 15}
    },
    "budget": {"memory_mb": 32, "max_connections": 100, "session_queue_kb": 64},
    "thermal": {"zone": "cpu-thermal", "limit_c": 72.5}
  })");
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  EXPECT_EQ(board->description, "d");
  EXPECT_THAT(board->models, ::testing::ElementsAre("Model A", "Model B"));
  EXPECT_EQ(board->chip, "pinctrl-x");
  EXPECT_TRUE(board->lines.at("led").active_low);
  EXPECT_EQ(board->lines.at("led").bias, Bias::kDisable);
  EXPECT_EQ(board->lines.at("led").pin, "7");
  EXPECT_EQ(board->lines.at("btn").bias, Bias::kPullDown);
  EXPECT_EQ(board->lines.at("btn").edge, EdgeDetect::kBoth);
  EXPECT_EQ(board->lines.at("btn").debounce_ms, 15);
  EXPECT_EQ(board->budget.session_queue_kb, 64);
  ASSERT_TRUE(board->thermal.has_value());
  EXPECT_EQ(board->thermal->zone, "cpu-thermal");
  EXPECT_DOUBLE_EQ(board->thermal->limit_c, 72.5);
}

struct BadBoard {
  const char* json;
  const char* error;  // substring of the message
};

class hal_board_errors : public ::testing::TestWithParam<BadBoard> {};

TEST_P(hal_board_errors, NamesTheField) {
  Result<BoardSpec> board = ParseBoard(GetParam().json);
  ASSERT_FALSE(board.ok()) << GetParam().json;
  EXPECT_EQ(board.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(board.status().message(), HasSubstr(GetParam().error));
}

// Each case breaks the minimal board in one place.
#define EW_LINES_(lines)                                   \
  R"({"name":"t","gpio":{"backend":"sim"},"lines":)" lines \
  R"(,"budget":{"memory_mb":1,"max_connections":1}})"
#define EW_BOARD_(gpio, budget_and_more) \
  R"({"name":"t","gpio":)" gpio R"(,"lines":{},"budget":)" budget_and_more "}"

INSTANTIATE_TEST_SUITE_P(
    Cases, hal_board_errors,
    ::testing::Values(
        BadBoard{"not json", "malformed JSON"}, BadBoard{"[]", "expected a JSON object"},
        BadBoard{
            R"({"gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "name: missing"},
        BadBoard{
            R"({"name":"Has Space","gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "name: expected"},
        BadBoard{
            R"({"name":"t","name":"u","gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "name: appears twice"},
        BadBoard{
            R"({"name":"t","nmae":"x","gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "nmae: unknown field"},
        BadBoard{
            R"({"name":"t","models":"Pi","gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "models: expected an array"},
        BadBoard{
            R"({"name":"t","models":[""],"gpio":{"backend":"sim"},"lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
            "models[0]: must not be empty"},
        BadBoard{R"({"name":"t","lines":{},"budget":{"memory_mb":1,"max_connections":1}})",
                 "gpio: missing"},
        BadBoard{EW_BOARD_(R"({"backend":"spi"})", R"({"memory_mb":1,"max_connections":1})"),
                 R"(gpio.backend: expected "sim" or "gpiod", got "spi")"},
        BadBoard{EW_BOARD_(R"({"backend":"gpiod"})", R"({"memory_mb":1,"max_connections":1})"),
                 "gpio.chip: missing"},
        BadBoard{EW_BOARD_(R"({"backend":"sim"})", R"({"max_connections":1})"),
                 "budget.memory_mb: missing"},
        BadBoard{EW_BOARD_(R"({"backend":"sim"})", R"({"memory_mb":0,"max_connections":1})"),
                 "budget.memory_mb: must be between 1 and"},
        BadBoard{EW_BOARD_(R"({"backend":"sim"})",
                           R"({"memory_mb":1,"max_connections":1,"session_queue":1})"),
                 "budget.session_queue: unknown field"},
        BadBoard{EW_BOARD_(R"({"backend":"sim"})",
                           R"({"memory_mb":1,"max_connections":1},"thermal":{"limit_c":80})"),
                 "thermal.zone: missing"},
        BadBoard{EW_BOARD_(
                     R"({"backend":"sim"})",
                     R"({"memory_mb":1,"max_connections":1},"thermal":{"zone":"z","limit_c":500})"),
                 "thermal.limit_c: must be between"},
        BadBoard{R"({"name":"t","gpio":{"backend":"sim"},"lines":{}})", "budget: missing"},
        BadBoard{EW_LINES_(R"([])"), "lines: expected an object, got an array"},
        BadBoard{EW_LINES_(R"({"Bad-Role":{"offset":0,"direction":"out"}})"),
                 "lines.Bad-Role: a role name"},
        BadBoard{EW_LINES_(R"({"led":{"direction":"out"}})"), "lines.led.offset: missing"},
        BadBoard{EW_LINES_(R"({"led":{"offset":"17","direction":"out"}})"),
                 "lines.led.offset: expected an integer, got a string"},
        BadBoard{EW_LINES_(R"({"led":{"offset":1.5,"direction":"out"}})"),
                 "lines.led.offset: expected an integer"},
        BadBoard{EW_LINES_(R"({"led":{"offset":-1,"direction":"out"}})"),
                 "lines.led.offset: must be between 0 and 65535"},
        // Beyond int64 (found by fuzz_board: the message used to convert it to int64, which is
        // undefined behaviour).
        BadBoard{EW_LINES_(R"({"led":{"offset":1e300,"direction":"out"}})"),
                 "lines.led.offset: must be between 0 and 65535, got 1e+300"},
        BadBoard{EW_LINES_(R"({"led":{"offset":-9.3e18,"direction":"out"}})"),
                 "lines.led.offset: must be between 0 and 65535, got -9.3e+18"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0}})"), "lines.led.direction: missing"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0,"direction":"output"}})"),
                 R"(lines.led.direction: expected "in" or "out", got "output")"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0,"direction":"out","active":"hi"}})"),
                 R"(lines.led.active: expected "high" or "low")"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0,"direction":"out","bias":"up"}})"),
                 "lines.led.bias: expected"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0,"direction":"out","debounce":5}})"),
                 "lines.led.debounce: unknown field"},
        BadBoard{EW_LINES_(R"({"led":{"offset":0,"direction":"out","edge":"rising"}})"),
                 "lines.led.edge: only inputs detect edges"},
        BadBoard{EW_LINES_(R"({"btn":{"offset":0,"direction":"in","edge":"down"}})"),
                 R"(lines.btn.edge: expected "none", "rising", "falling" or "both", got "down")"},
        BadBoard{EW_LINES_(R"({"btn":{"offset":0,"direction":"in","debounce_ms":5}})"),
                 "lines.btn.debounce_ms: needs \"edge\""},
        BadBoard{
            EW_LINES_(R"({"btn":{"offset":0,"direction":"in","edge":"both","debounce_ms":5000}})"),
            "lines.btn.debounce_ms: must be between 0 and 1000"},
        BadBoard{
            EW_LINES_(R"({"a":{"offset":3,"direction":"out"},"b":{"offset":3,"direction":"out"}})"),
            "lines.b.offset: 3 is already used by a"},
        BadBoard{
            EW_LINES_(R"({"a":{"offset":3,"direction":"out"},"a":{"offset":4,"direction":"out"}})"),
            "lines.a: appears twice"}));

TEST(hal_board, EdgeFilterTranslatesPolarity) {
  LineSpec button;
  button.direction = Direction::kInput;
  button.active_low = true;
  button.edge = EdgeDetect::kFalling;
  button.debounce_ms = 30;
  EdgeFilter f = MakeEdgeFilter(button);
  EXPECT_TRUE(f.report_activate) << "falling on an active-low line is a press";
  EXPECT_FALSE(f.report_deactivate);
  EXPECT_EQ(f.debounce_ns, 30'000'000);

  button.active_low = false;
  f = MakeEdgeFilter(button);
  EXPECT_FALSE(f.report_activate);
  EXPECT_TRUE(f.report_deactivate);

  button.edge = EdgeDetect::kBoth;
  f = MakeEdgeFilter(button);
  EXPECT_TRUE(f.report_activate && f.report_deactivate);

  LineSpec led;  // outputs detect nothing
  f = MakeEdgeFilter(led);
  EXPECT_FALSE(f.report_activate || f.report_deactivate);
}

TEST(hal_board, LoadBoardFileErrorsNameThePath) {
  TempDir dir;
  Result<BoardSpec> missing = LoadBoardFile(dir.path() + "/nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.json"));

  std::string broken = dir.Write("broken.json", R"({"name":"t"})");
  Result<BoardSpec> bad = LoadBoardFile(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr(broken + ": gpio: missing"));
}

// DetectBoardFile against the real boards/ directory and fake device-tree model files.
struct ModelCase {
  const char* model;  // nullptr: no model file
  const char* board_file;
};

class hal_board_detect : public ::testing::TestWithParam<ModelCase> {};

TEST_P(hal_board_detect, ChoosesByDeviceTreeModel) {
  TempDir dir;
  std::string model_path = dir.path() + "/model";
  if (GetParam().model != nullptr) {
    // The device tree's model property ends with a NUL byte.
    std::string model = GetParam().model;
    model.push_back('\0');
    dir.Write("model", model);
  }
  Result<std::string> chosen = DetectBoardFile(BoardsDir(), model_path);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(*chosen, BoardsDir() + "/" + GetParam().board_file);
}

INSTANTIATE_TEST_SUITE_P(
    Models, hal_board_detect,
    ::testing::Values(ModelCase{nullptr, "generic-x86_64.json"},
                      ModelCase{"Raspberry Pi 4 Model B Rev 1.4", "rpi4b.json"},
                      ModelCase{"Raspberry Pi 400 Rev 1.0", "rpi4b.json"},
                      ModelCase{"Raspberry Pi Compute Module 4 Rev 1.0", "rpi4b.json"},
                      ModelCase{"Raspberry Pi 5 Model B Rev 1.0", "rpi5.json"},
                      ModelCase{"NVIDIA Jetson Orin Nano Developer Kit", "jetson-orin-nano.json"},
                      ModelCase{"linux,dummy-virt", "qemu-virt.json"},
                      ModelCase{"Banana Pi BPI-M5", "generic-x86_64.json"},
                      ModelCase{"", "generic-x86_64.json"}));

constexpr char kBoardTemplate[] =
    R"({"name":"%s","models":[%s],"gpio":{"backend":"sim"},"lines":{},)"
    R"("budget":{"memory_mb":1,"max_connections":1}})";

std::string MakeBoard(const std::string& name, const std::string& models) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kBoardTemplate, name.c_str(), models.c_str());
  return buf;
}

TEST(hal_board, DetectPrefersTheLongestMatchingModel) {
  TempDir dir;
  dir.Write("boards/generic-x86_64.json", MakeBoard("generic-x86_64", ""));
  dir.Write("boards/family.json", MakeBoard("family", R"("Acme Board")"));
  dir.Write("boards/exact.json", MakeBoard("exact", R"("Acme Board 2 Plus")"));
  dir.Write("model", std::string("Acme Board 2 Plus Rev 3\0", 24));
  Result<std::string> chosen = DetectBoardFile(dir.path() + "/boards", dir.path() + "/model");
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(*chosen, dir.path() + "/boards/exact.json");
}

TEST(hal_board, DetectFailsOnABrokenBoardFile) {
  TempDir dir;
  dir.Write("boards/generic-x86_64.json", MakeBoard("generic-x86_64", ""));
  dir.Write("boards/zz-broken.json", "{");
  dir.Write("model", "Acme Board");
  Result<std::string> chosen = DetectBoardFile(dir.path() + "/boards", dir.path() + "/model");
  ASSERT_FALSE(chosen.ok());
  EXPECT_THAT(chosen.status().message(), HasSubstr("zz-broken.json"));
}

TEST(hal_board, DetectNeedsTheGenericFallback) {
  TempDir dir;
  dir.Write("boards/other.json", MakeBoard("other", R"("Other")"));
  Result<std::string> chosen =
      DetectBoardFile(dir.path() + "/boards", dir.path() + "/no-model-file");
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(chosen.status().message(), HasSubstr("generic-x86_64.json"));
}

}  // namespace
}  // namespace edgewatch::hal
