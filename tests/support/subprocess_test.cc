#include "edgewatch/testing/subprocess.h"

#include <gtest/gtest.h>

#include <csignal>

namespace edgewatch::testing {
namespace {

TEST(SubprocessTest, RunCommandCapturesBothStreamsAndExitCode) {
  auto r = RunCommand({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, "hello\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_TRUE(r->exit.exited);
  EXPECT_EQ(r->exit.code, 3);
}

TEST(SubprocessTest, EnvironmentOverrides) {
  auto r = RunCommand({"/bin/sh", "-c", "printf '%s' \"$EW_TEST_VAR\""}, {}, 30000,
                      {{"EW_TEST_VAR", "v1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "v1");
}

TEST(SubprocessTest, ReadyFdAndSignals) {
  Subprocess p;
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "echo '{\"ready\":1}' >&3; exec 3>&-; echo line1; exec sleep 600"};
  o.ready_fd = 3;
  ASSERT_TRUE(p.Start(o).ok());
  auto ready = p.ReadReadyLine(10000);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(*ready, "{\"ready\":1}");
  auto line = p.ReadStdoutLine(10000);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "line1");
  EXPECT_EQ(p.Wait(0).status().code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(p.Signal(SIGTERM).ok());
  auto exit = p.Wait(10000);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_FALSE(exit->exited);
  EXPECT_EQ(exit->signal, SIGTERM);
  EXPECT_FALSE(p.running());
}

TEST(SubprocessTest, ReadyFdClosedWithoutLineIsUnavailable) {
  Subprocess p;
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "exit 1"};
  o.ready_fd = 3;
  ASSERT_TRUE(p.Start(o).ok());
  EXPECT_EQ(p.ReadReadyLine(10000).status().code(), StatusCode::kUnavailable);
  auto exit = p.Wait(10000);
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->code, 1);
}

TEST(SubprocessTest, MissingBinaryIsNotFound) {
  Subprocess p;
  EXPECT_EQ(p.Start({.argv = {"/nonexistent/edgewatchd"}}).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgewatch::testing
