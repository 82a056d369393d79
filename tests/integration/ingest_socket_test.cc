// The ingest socket's owner group and mode (--ingest-group, --ingest-mode, config keys
// ingest_group/ingest_mode) on the real edgewatchd: applied before producers can connect,
// default 0660, clear errors for an unknown group, a group the daemon may not use, a bad mode.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/ingest_test_client.h"

namespace edgewatch::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kTimeoutMs = 15000;

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

// A group this process may give the socket to, other than its current group when it is root (so
// that the chown is observable): (name, gid).
std::optional<std::pair<std::string, gid_t>> UsableGroup() {
  if (::geteuid() == 0) {
    for (const char* name : {"nogroup", "daemon", "users", "adm"}) {
      if (const group* g = ::getgrnam(name); g != nullptr && g->gr_gid != ::getegid()) {
        return std::make_pair(std::string(name), g->gr_gid);
      }
    }
  }
  if (const group* g = ::getgrgid(::getegid()); g != nullptr) {
    return std::make_pair(std::string(g->gr_name), g->gr_gid);
  }
  return std::nullopt;
}

// Publishes one line and checks the gateway handled it (EOF after the end of stream, no error).
void PublishOne(const DaemonProcess& d) {
  IngestTestClient p;
  ASSERT_TRUE(p.Connect(d.ingest_path()).ok());
  ASSERT_TRUE(p.WriteLine(R"({"topic":"test/ingest_socket","data":{"n":1}})").ok());
  ASSERT_TRUE(p.ShutdownWrite().ok());
  ASSERT_TRUE(p.ExpectEof(kTimeoutMs).ok());
}

TEST(IngestSocketTest, DefaultModeIs0660) {
  EW_SKIP_WITHOUT_DAEMON();
  DaemonProcess d;
  ASSERT_TRUE(d.Start({.args = {"--no-auth"}}).ok());
  struct stat st = StatOf(d.ingest_path());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST(IngestSocketTest, GroupAndModeFromFlags) {
  EW_SKIP_WITHOUT_DAEMON();
  auto group = UsableGroup();
  if (!group) GTEST_SKIP() << "no usable group";
  DaemonProcess d;
  Status s =
      d.Start({.args = {"--no-auth", "--ingest-group", group->first, "--ingest-mode", "0640"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  struct stat st = StatOf(d.ingest_path());
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_gid, group->second) << group->first;
  PublishOne(d);  // the owner can still publish
}

TEST(IngestSocketTest, GroupAndModeFromConfig) {
  EW_SKIP_WITHOUT_DAEMON();
  auto group = UsableGroup();
  if (!group) GTEST_SKIP() << "no usable group";
  std::string tmpl = ::testing::TempDir() + "edgewatch_ingest_cfg_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  std::string config = tmpl + "/config.json";
  std::ofstream(config) << R"({"ingest_group":")" << group->first << R"(","ingest_mode":"0600"})";
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth", "--config", config}});
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(s.ok()) << s.ToString();
  struct stat st = StatOf(d.ingest_path());
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_gid, group->second);
  PublishOne(d);
}

TEST(IngestSocketTest, UnknownGroupStopsTheStart) {
  EW_SKIP_WITHOUT_DAEMON();
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth", "--ingest-group", "edgewatch-no-such-group"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("ingest group 'edgewatch-no-such-group' does not exist"));
}

TEST(IngestSocketTest, GroupTheDaemonMayNotUseStopsTheStart) {
  EW_SKIP_WITHOUT_DAEMON();
  if (::geteuid() == 0) GTEST_SKIP() << "root may give files to any group";
  // A group this user is not a member of.
  std::string name;
  for (const char* candidate : {"root", "daemon", "nogroup", "adm"}) {
    const group* g = ::getgrnam(candidate);
    if (g == nullptr || g->gr_gid == ::getegid()) continue;
    gid_t groups[256];
    int n = ::getgroups(256, groups);
    bool member = false;
    for (int i = 0; i < n; ++i) member = member || groups[i] == g->gr_gid;
    if (!member) {
      name = candidate;
      break;
    }
  }
  if (name.empty()) GTEST_SKIP() << "no foreign group found";
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth", "--ingest-group", name}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("must run as root or as a member of '" + name + "'"));
}

TEST(IngestSocketTest, BadModeIsRefused) {
  EW_SKIP_WITHOUT_DAEMON();
  for (const char* mode : {"0999", "rw-rw----", "10660", "", "-1"}) {
    DaemonProcess d;
    Status s = d.Start({.args = {"--no-auth", "--ingest-mode", mode}});
    ASSERT_FALSE(s.ok()) << mode;
    EXPECT_THAT(s.message(), HasSubstr("--ingest-mode must be an octal mode")) << mode;
  }
}

}  // namespace
}  // namespace edgewatch::testing
