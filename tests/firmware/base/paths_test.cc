#include "edgewatch/base/paths.h"

#include <gtest/gtest.h>

namespace edgewatch {
namespace {

TEST(PathsTest, RuntimeDirectoryWins) {
  RuntimeEnv env{.runtime_directory = "/run/edgewatch-svc", .run_dir_writable = true, .uid = 7};
  EXPECT_EQ(DefaultIngestPath(env), "/run/edgewatch-svc/ingest.sock");
}

TEST(PathsTest, FirstOfSeveralRuntimeDirectories) {
  RuntimeEnv env{.runtime_directory = "/run/a:/run/b", .uid = 7};
  EXPECT_EQ(DefaultRuntimeDir(env), "/run/a");
}

TEST(PathsTest, EmptyRuntimeDirectoryIsIgnored) {
  RuntimeEnv env{.runtime_directory = "", .run_dir_writable = true, .uid = 7};
  EXPECT_EQ(DefaultIngestPath(env), "/run/edgewatch/ingest.sock");
}

TEST(PathsTest, FallsBackToPerUserTmp) {
  RuntimeEnv env{.runtime_directory = std::nullopt, .run_dir_writable = false, .uid = 1000};
  EXPECT_EQ(DefaultIngestPath(env), "/tmp/edgewatch-1000/ingest.sock");
}

}  // namespace
}  // namespace edgewatch
