// LinuxSysInfo against a fake /proc and /sys tree (and once against the real one), and SimSysInfo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgewatch/hal/linux_sysinfo.h"
#include "edgewatch/hal/sim_sysinfo.h"
#include "test_util.h"

namespace edgewatch::hal {
namespace {

using ::edgewatch::hal::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr char kMeminfo[] =
    "MemTotal:        1000000 kB\n"
    "MemFree:          100000 kB\n"
    "MemAvailable:     600000 kB\n"
    "Buffers:           10000 kB\n"
    "Cached:           200000 kB\n";

class hal_linux_sysinfo : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    // user nice system idle iowait irq softirq steal guest guest_nice
    root_.Write("proc/stat",
                "cpu  100 0 100 700 100 0 0 0 50 0\n"
                "cpu0 100 0 100 700 100 0 0 0 50 0\n"
                "intr 12345\n");
    root_.Write("proc/meminfo", kMeminfo);
    root_.Write("proc/uptime", "12345.67 54321.00\n");
    root_.Write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
    root_.Write("sys/class/thermal/thermal_zone0/temp", "45500\n");
    root_.Write("sys/class/thermal/thermal_zone1/type", "gpu-thermal\n");
    root_.Write("sys/class/thermal/thermal_zone1/temp", "-1000\n");
    // A second zone of the same type gets its own key.
    root_.Write("sys/class/thermal/thermal_zone10/type", "cpu-thermal\n");
    root_.Write("sys/class/thermal/thermal_zone10/temp", "50000\n");
    // A zone whose temperature cannot be read is left out.
    root_.Write("sys/class/thermal/thermal_zone2/type", "tj-thermal\n");
    root_.Write("sys/class/thermal/cooling_device0/type", "Processor\n");
  }

  TempDir root_;
};

TEST_F(hal_linux_sysinfo, CpuPercentIsTheDeltaBetweenSamples) {
  LinuxSysInfo info(root_.path());
  Result<SysSample> first = info.Sample();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Since boot: busy 200 of 1000 (iowait counts as idle, guest is inside user).
  EXPECT_DOUBLE_EQ(first->cpu_percent, 20.0);

  // +300 busy, +200 idle.
  root_.Write("proc/stat", "cpu  300 0 200 900 100 0 0 0 50 0\n");
  Result<SysSample> second = info.Sample();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_DOUBLE_EQ(second->cpu_percent, 60.0);

  // No time passed: 0, not a division by zero.
  Result<SysSample> third = info.Sample();
  ASSERT_TRUE(third.ok());
  EXPECT_DOUBLE_EQ(third->cpu_percent, 0.0);
}

TEST_F(hal_linux_sysinfo, MemoryUptimeAndThermalZones) {
  LinuxSysInfo info(root_.path());
  Result<SysSample> s = info.Sample();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->mem_total_bytes, 1000000ull * 1024);
  EXPECT_EQ(s->mem_used_bytes, 400000ull * 1024);  // total - available
  EXPECT_DOUBLE_EQ(s->uptime_s, 12345.67);
  EXPECT_THAT(s->temperatures_c,
              ElementsAre(Pair("cpu-thermal", 45.5), Pair("cpu-thermal#10", 50.0),
                          Pair("gpu-thermal", -1.0)));
}

TEST_F(hal_linux_sysinfo, OldKernelsWithoutMemAvailable) {
  root_.Write("proc/meminfo",
              "MemTotal: 1000000 kB\nMemFree: 100000 kB\nBuffers: 10000 kB\nCached: 200000 kB\n");
  LinuxSysInfo info(root_.path());
  Result<SysSample> s = info.Sample();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->mem_used_bytes, (1000000ull - 310000) * 1024);
}

TEST_F(hal_linux_sysinfo, NoThermalDirectoryMeansNoTemperatures) {
  TempDir bare;
  bare.Write("proc/stat", "cpu  1 0 1 8 0 0 0 0\n");
  bare.Write("proc/meminfo", kMeminfo);
  bare.Write("proc/uptime", "5.00 9.00\n");
  LinuxSysInfo info(bare.path());
  Result<SysSample> s = info.Sample();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->temperatures_c.empty());
}

TEST_F(hal_linux_sysinfo, Errors) {
  TempDir empty;
  Result<SysSample> missing = LinuxSysInfo(empty.path()).Sample();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("proc/stat"));

  root_.Write("proc/stat", "intr 1 2 3\n");
  Result<SysSample> garbled = LinuxSysInfo(root_.path()).Sample();
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.status().code(), StatusCode::kInternal);

  root_.Write("proc/stat", "cpu  1 0 1 8 0 0 0 0\n");
  root_.Write("proc/meminfo", "MemFree: 5 kB\n");
  Result<SysSample> no_total = LinuxSysInfo(root_.path()).Sample();
  ASSERT_FALSE(no_total.ok());
  EXPECT_THAT(no_total.status().message(), ::testing::HasSubstr("MemTotal"));
}

TEST(hal_linux_sysinfo_real, SanityOnThisMachine) {
  LinuxSysInfo info;
  Result<SysSample> s = info.Sample();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->mem_total_bytes, 0u);
  EXPECT_LE(s->mem_used_bytes, s->mem_total_bytes);
  EXPECT_GT(s->uptime_s, 0.0);
  EXPECT_GE(s->cpu_percent, 0.0);
  EXPECT_LE(s->cpu_percent, 100.0);
  Result<SysSample> again = info.Sample();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GE(again->cpu_percent, 0.0);
  EXPECT_LE(again->cpu_percent, 100.0);
}

TEST(hal_sim_sysinfo, ReturnsWhatTheTestSet) {
  SimSysInfo info;
  Result<SysSample> s = info.Sample();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->cpu_percent, 0.0);
  EXPECT_GT(s->mem_total_bytes, s->mem_used_bytes);

  info.SetCpuPercent(97.5);
  info.SetMemory(900, 1000);
  info.SetTemperature("cpu-thermal", 85.0);
  info.SetUptime(42);
  s = info.Sample();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->cpu_percent, 97.5);
  EXPECT_EQ(s->mem_used_bytes, 900u);
  EXPECT_EQ(s->mem_total_bytes, 1000u);
  EXPECT_THAT(s->temperatures_c, ElementsAre(Pair("cpu-thermal", 85.0)));
  EXPECT_EQ(s->uptime_s, 42.0);

  info.RemoveTemperature("cpu-thermal");
  info.SetError(Unavailable("sensor gone"));
  EXPECT_EQ(info.Sample().status().code(), StatusCode::kUnavailable);
  info.SetError(OkStatus());
  s = info.Sample();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->temperatures_c.empty());
  EXPECT_EQ(info.samples(), 4);
}

}  // namespace
}  // namespace edgewatch::hal
