#include "edgewatch/fw/auth/secret.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "edgewatch/fw/auth/jwt.h"

namespace edgewatch::fw::auth {
namespace {

namespace fs = std::filesystem;
using ::testing::MatchesRegex;

// A fresh private directory per test, removed afterwards.
class SecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "edgewatch_secret_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `content` to `name` with `mode`.
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

TEST_F(SecretTest, CreatesPrivateRandomSecret) {
  std::string path = Path("state/nested/jwt.secret");
  Result<std::string> secret = LoadOrCreateSecret(path);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(Path("state")), 0700u);
  EXPECT_EQ(Mode(Path("state/nested")), 0700u);
  // 32 random bytes as 64 hex digits; the key is the text without the newline.
  EXPECT_THAT(ReadAll(path), MatchesRegex("[0-9a-f]{64}\n"));
  EXPECT_EQ(*secret + "\n", ReadAll(path));
  EXPECT_GE(secret->size(), kMinSecretBytes);
  // Nothing but the secret is left in the directory (no temporary files).
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(Path("state/nested"))) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(SecretTest, ReusesExistingSecret) {
  std::string path = Path("jwt.secret");
  Result<std::string> first = LoadOrCreateSecret(path);
  ASSERT_TRUE(first.ok());
  Result<std::string> second = LoadOrCreateSecret(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(Mode(path), 0600u);
}

TEST_F(SecretTest, SecretsDiffer) {
  Result<std::string> a = LoadOrCreateSecret(Path("a"));
  Result<std::string> b = LoadOrCreateSecret(Path("b"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
}

TEST_F(SecretTest, KeepsExistingParentMode) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_TRUE(LoadOrCreateSecret(Path("jwt.secret")).ok());
  EXPECT_EQ(Mode(dir_.string()), 0755u);
}

TEST_F(SecretTest, ReadsUserProvidedSecretVerbatim) {
  const std::string text = "correct horse battery staple, 32+ bytes";
  EXPECT_EQ(*LoadOrCreateSecret(Write("plain", text, 0600)), text);
  EXPECT_EQ(*LoadOrCreateSecret(Write("lf", text + "\n", 0600)), text);
  EXPECT_EQ(*LoadOrCreateSecret(Write("crlf", text + "\r\n", 0600)), text);
  // Only one trailing newline is removed; other bytes are part of the key.
  EXPECT_EQ(*LoadOrCreateSecret(Write("two", text + "\n\n", 0600)), text + "\n");
  EXPECT_EQ(*LoadOrCreateSecret(Write("cr", text + "\r", 0600)), text + "\r");
  std::string binary(48, '\0');
  binary[7] = '\xff';
  EXPECT_EQ(*LoadOrCreateSecret(Write("binary", binary, 0600)), binary);
}

TEST_F(SecretTest, RefusesSecretsOthersCanReach) {
  const std::string text(40, 'k');
  for (mode_t mode : {0644, 0604, 0602, 0660, 0620, 0666}) {
    Result<std::string> r = LoadOrCreateSecret(Write("open", text, mode));
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_THAT(r.status().message(), ::testing::Not(::testing::HasSubstr(text)));
  }
  // Group-readable is accepted (with a warning) for service-group deployments.
  Result<std::string> group = LoadOrCreateSecret(Write("group", text, 0640));
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(*group, text);
  EXPECT_TRUE(LoadOrCreateSecret(Write("owner-ro", text, 0400)).ok());
}

TEST_F(SecretTest, RefusesEmptyShortAndHugeSecrets) {
  for (const std::string& content :
       {std::string(), std::string("\n"), std::string(31, 'k'), std::string(31, 'k') + "\n"}) {
    Result<std::string> r = LoadOrCreateSecret(Write("short", content, 0600));
    ASSERT_FALSE(r.ok()) << content.size();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(LoadOrCreateSecret(Write("exact", std::string(32, 'k'), 0600)).ok());
  Result<std::string> huge =
      LoadOrCreateSecret(Write("huge", std::string(kMaxSecretFileBytes + 1, 'k'), 0600));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(LoadOrCreateSecret(Write("max", std::string(kMaxSecretFileBytes, 'k'), 0600)).ok());
}

TEST_F(SecretTest, RefusesDirectoriesAndBadPaths) {
  ASSERT_EQ(::mkdir(Path("dir").c_str(), 0700), 0);
  EXPECT_EQ(LoadOrCreateSecret(Path("dir")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadOrCreateSecret("").status().code(), StatusCode::kInvalidArgument);
  // A parent that is a file.
  Write("file", std::string(40, 'k'), 0600);
  EXPECT_FALSE(LoadOrCreateSecret(Path("file/jwt.secret")).ok());
}

TEST_F(SecretTest, CreatedSecretSignsAndVerifies) {
  Result<std::string> secret = LoadOrCreateSecret(Path("jwt.secret"));
  ASSERT_TRUE(secret.ok());
  MintOptions m;
  m.sub = "cli";
  m.scope = "read:#";
  m.ttl_s = 60;
  m.now_s = 1'700'000'000;
  Result<std::string> token = MintToken(m, *secret);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  VerifyOptions o;
  o.secret = *LoadOrCreateSecret(Path("jwt.secret"));
  EXPECT_TRUE(VerifyToken(*token, o, m.now_s).ok());
}

}  // namespace
}  // namespace edgewatch::fw::auth
