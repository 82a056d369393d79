// LoadOrCreateSelfSigned in a private temporary directory: first start generates (key 0600), later
// starts reuse (same fingerprint), unusable or expiring pairs are replaced, a leaked key stops
// the start. LocalHostIdentity's shape.
#include "edgewatch/fw/tls/self_signed.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace edgewatch::fw::tls {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr int64_t kNow = 1'750'000'000;  // 2025-06-15
constexpr int64_t kDay = 86400;

HostIdentity Board() {
  HostIdentity id;
  id.hostname = "board";
  id.dns_names = {"board", "board.local"};
  id.ip_addresses = {"192.168.1.20"};
  return id;
}

class SelfSignedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "edgewatch_tls_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = (root_ / "state" / "tls").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
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
  static void WriteAll(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }

  fs::path root_;
  std::string dir_;
};

TEST_F(SelfSignedTest, FirstStartGeneratesPrivateKeyAndCertificate) {
  auto c = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->created);
  EXPECT_EQ(c->reason, "no certificate yet");
  EXPECT_EQ(c->cert_path, dir_ + "/cert.pem");
  EXPECT_EQ(c->key_path, dir_ + "/key.pem");
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(c->key_path), 0600u);
  EXPECT_EQ(Mode(c->cert_path), 0644u);
  EXPECT_THAT(ReadAll(c->key_path), StartsWith("-----BEGIN EC PRIVATE KEY-----"));
  EXPECT_EQ(c->info.subject, "CN=board, O=edgewatch");
  EXPECT_THAT(c->info.dns_names, ElementsAre("board", "board.local"));
  EXPECT_THAT(c->info.ip_addresses, ElementsAre("192.168.1.20"));
  EXPECT_EQ(c->info.not_before_s, kNow - kDay);
  EXPECT_EQ(c->info.not_after_s, kNow + 825 * kDay);
  EXPECT_EQ(c->info.key_type, "EC");
  EXPECT_THAT(c->uncovered, IsEmpty());
  // What is on disk is what was reported.
  auto on_disk = InspectCertificateFile(c->cert_path);
  ASSERT_TRUE(on_disk.ok());
  EXPECT_EQ(on_disk->fingerprint_sha256, c->info.fingerprint_sha256);
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 2);
}

TEST_F(SelfSignedTest, LaterStartsReuseTheSameCertificate) {
  auto first = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(first.ok());
  std::string key = ReadAll(first->key_path);
  std::string cert = ReadAll(first->cert_path);
  auto second = LoadOrCreateSelfSigned(dir_, Board(), kNow + 100 * kDay);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->reason, "");
  EXPECT_EQ(second->info.fingerprint_sha256, first->info.fingerprint_sha256);
  EXPECT_EQ(ReadAll(second->key_path), key);
  EXPECT_EQ(ReadAll(second->cert_path), cert);
}

TEST_F(SelfSignedTest, ReusedCertificateReportsNamesItDoesNotCover) {
  ASSERT_TRUE(LoadOrCreateSelfSigned(dir_, Board(), kNow).ok());
  HostIdentity moved = Board();
  moved.dns_names.push_back("renamed.local");
  moved.ip_addresses = {"192.168.1.20", "10.0.0.5"};
  auto c = LoadOrCreateSelfSigned(dir_, moved, kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->created);
  EXPECT_THAT(c->uncovered, ElementsAre("renamed.local", "10.0.0.5"));
}

TEST_F(SelfSignedTest, ExpiringCertificateIsReplaced) {
  auto first = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(first.ok());
  // 29 days before expiry: inside the 30-day renewal window.
  auto renewed = LoadOrCreateSelfSigned(dir_, Board(), kNow + (825 - 29) * kDay);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(renewed->created);
  EXPECT_THAT(renewed->reason, StartsWith("the certificate expires on "));
  EXPECT_NE(renewed->info.fingerprint_sha256, first->info.fingerprint_sha256);

  auto expired = LoadOrCreateSelfSigned(dir_, Board(), kNow + 5000 * kDay);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->created);
  EXPECT_THAT(expired->reason, StartsWith("the certificate expired on "));
}

TEST_F(SelfSignedTest, UnusablePairsAreReplaced) {
  auto first = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(first.ok());

  ASSERT_EQ(::unlink(first->cert_path.c_str()), 0);
  auto no_cert = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(no_cert.ok());
  EXPECT_TRUE(no_cert->created);
  EXPECT_EQ(no_cert->reason, "cert.pem is missing");

  ASSERT_EQ(::unlink(first->key_path.c_str()), 0);
  auto no_key = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(no_key.ok());
  EXPECT_EQ(no_key->reason, "key.pem is missing");

  WriteAll(first->cert_path, "garbage");
  auto garbage = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(garbage.ok());
  EXPECT_THAT(garbage->reason, StartsWith("cert.pem is unusable"));

  // A key that belongs to another certificate (e.g. a crash between the two renames).
  CertificateSpec spec;
  spec.dns_names = {"x"};
  spec.not_before_s = kNow;
  spec.not_after_s = kNow + 900 * kDay;
  auto other = GenerateSelfSigned(spec);
  ASSERT_TRUE(other.ok());
  WriteAll(garbage->key_path, other->key_pem);
  auto mismatch = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(mismatch.ok());
  EXPECT_TRUE(mismatch->created);
  EXPECT_THAT(mismatch->reason, HasSubstr("does not belong"));
  EXPECT_TRUE(
      CheckKeyMatchesCertificate(ReadAll(mismatch->key_path), ReadAll(mismatch->cert_path)).ok());
}

TEST_F(SelfSignedTest, KeyReadableByOthersStopsTheStart) {
  auto first = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  ASSERT_TRUE(first.ok());
  std::string key = ReadAll(first->key_path);
  for (mode_t mode : {0644, 0604, 0620, 0660}) {
    ASSERT_EQ(::chmod(first->key_path.c_str(), mode), 0);
    auto c = LoadOrCreateSelfSigned(dir_, Board(), kNow);
    EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_THAT(c.status().message(), HasSubstr(first->key_path));
    EXPECT_EQ(ReadAll(first->key_path), key);  // never replaced silently
  }
  ASSERT_EQ(::chmod(first->key_path.c_str(), 0640), 0);  // group-readable: a service group
  EXPECT_TRUE(LoadOrCreateSelfSigned(dir_, Board(), kNow).ok());
}

TEST_F(SelfSignedTest, DirectoryPathThatIsAFileIsAnError) {
  fs::create_directories(root_ / "state");
  WriteAll(dir_, "not a directory");
  auto c = LoadOrCreateSelfSigned(dir_, Board(), kNow);
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalHostIdentityTest, NamesThisMachine) {
  HostIdentity id = LocalHostIdentity();
  EXPECT_THAT(id.dns_names, Contains("localhost"));
  if (!id.hostname.empty()) {
    EXPECT_EQ(id.dns_names[0], id.hostname);
    EXPECT_EQ(id.dns_names[1], id.hostname.substr(0, id.hostname.find('.')) + ".local");
  }
  for (const std::string& name : id.dns_names) EXPECT_TRUE(IsValidDnsName(name)) << name;
  for (const std::string& ip : id.ip_addresses) {
    unsigned char buf[16];
    EXPECT_TRUE(inet_pton(AF_INET, ip.c_str(), buf) == 1 ||
                inet_pton(AF_INET6, ip.c_str(), buf) == 1)
        << ip;
    EXPECT_THAT(ip, ::testing::Not(StartsWith("fe80:")));
  }
  // Whatever the machine is called, its identity makes a valid certificate.
  CertificateSpec spec;
  spec.common_name = id.hostname;
  spec.dns_names = id.dns_names;
  spec.ip_addresses = id.ip_addresses;
  spec.not_before_s = kNow;
  spec.not_after_s = kNow + kDay;
  EXPECT_TRUE(GenerateSelfSigned(spec).ok());
}

}  // namespace
}  // namespace edgewatch::fw::tls
