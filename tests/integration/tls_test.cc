// TLS end to end: the real edgewatchd with `--tls auto` or `--tls-cert/--tls-key`, and an
// independent client (tests/integration/tls_client.py: Python's ssl + websockets, i.e. OpenSSL)
// that trusts only the generated certificate. Checks: HTTPS and WSS on the same port, the welcome
// over WSS and an authenticated subscribe, the logged SHA-256 fingerprint equals the served and
// the stored certificate's, plain HTTP/WS is refused, the certificate is reused across restarts,
// key.pem is 0600, bad flag combinations and a mismatched key stop the start with a clear error.
//
// Every wait is a failure bound only (ready line, subprocess exit); nothing sleeps to synchronise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/auth/secret.h"
#include "edgewatch/fw/tls/certificate.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/subprocess.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kTimeoutMs = 30000;
constexpr char kPython[] = "/usr/bin/python3";

#define EW_SKIP_WITHOUT_PYTHON()                                                      \
  do {                                                                                \
    if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed"; \
  } while (0)

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The fingerprint edgewatchd logged ("certificate SHA-256 fingerprint AB:..."), or "".
std::string LoggedFingerprint(const DaemonProcess& d) {
  static const std::regex kLine(
      "certificate SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})");
  std::string err = d.ReadStderr();
  std::smatch m;
  return std::regex_search(err, m, kLine) ? m[1].str() : std::string();
}

std::string HostName() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  std::string h = host;
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}

// A read token for the daemon's secret (created by the daemon in its state directory).
std::string Token(const DaemonProcess& d) {
  auto secret = fw::auth::LoadOrCreateSecret(d.state_dir() + "/jwt.secret");
  EXPECT_TRUE(secret.ok()) << secret.status().ToString();
  if (!secret.ok()) return {};
  fw::auth::MintOptions mint;
  mint.sub = "phone";
  mint.scope = "read:system/#";
  mint.ttl_s = 600;
  mint.now_s = static_cast<int64_t>(std::time(nullptr));
  auto token = fw::auth::MintToken(mint, *secret);
  EXPECT_TRUE(token.ok());
  return token.ok() ? *token : std::string();
}

// What tls_client.py reported.
struct ClientReport {
  JsonPtr json;
  std::string served_fingerprint, file_fingerprint, https_status;
  std::vector<std::string> message_types;
  bool untrusted_fails = false;
};

// Runs tls_client.py against the daemon's port, trusting only `ca`, authenticating with `token`
// and subscribing to system/#.
ClientReport RunClient(const DaemonProcess& d, const std::string& ca, const std::string& token) {
  std::vector<std::string> argv = {
      kPython,         DaemonProcess::SourceDir() + "/tests/integration/tls_client.py",
      "--port",        std::to_string(d.port()),
      "--ca",          ca,
      "--server-name", HostName(),
      "--send",        R"({"op":"auth","token":")" + token + R"("})",
      "--send",        R"({"op":"subscribe","id":1,"topics":["system/#"]})",
      "--until",       "subscribed",
  };
  ClientReport r;
  auto out = RunCommand(argv, {}, kTimeoutMs);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return r;
  EXPECT_TRUE(out->exit.success()) << out->exit.ToString() << "\n" << out->err;
  auto json = ParseJson(out->out);
  EXPECT_TRUE(json.ok()) << out->out << out->err;
  if (!json.ok()) return r;
  r.json = std::move(json).value();
  const cJSON* root = r.json.get();
  r.served_fingerprint = std::string(GetString(root, "served_fingerprint").value_or(""));
  r.file_fingerprint = std::string(GetString(root, "file_fingerprint").value_or(""));
  r.https_status = std::string(GetString(root, "https_status").value_or(""));
  r.untrusted_fails = GetBool(root, "untrusted_fails").value_or(false);
  const cJSON* msg = nullptr;
  cJSON_ArrayForEach(msg, cJSON_GetObjectItemCaseSensitive(root, "messages")) {
    r.message_types.emplace_back(GetString(msg, "type").value_or("?"));
  }
  return r;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "edgewatch_tls_it_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(TlsTest, AutoCertificateServesHttpsAndWssAndLogsItsFingerprint) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_PYTHON();
  DaemonProcess d;
  Status s = d.Start({.args = {"--tls", "auto"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string cert = d.state_dir() + "/tls/cert.pem";
  std::string key = d.state_dir() + "/tls/key.pem";
  EXPECT_EQ(Mode(key), 0600u);
  EXPECT_EQ(Mode(d.state_dir() + "/tls"), 0700u);
  std::string logged = LoggedFingerprint(d);
  ASSERT_FALSE(logged.empty()) << d.ReadStderr();
  EXPECT_THAT(d.ReadStderr(), HasSubstr("listening on https://"));
  // The key never reaches the log.
  std::string key_pem = ReadAll(key);
  ASSERT_GT(key_pem.size(), 100u);
  EXPECT_THAT(d.ReadStderr(), ::testing::Not(HasSubstr(key_pem.substr(31, 40))));

  ClientReport r = RunClient(d, cert, Token(d));
  EXPECT_EQ(r.https_status, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.served_fingerprint, logged);
  EXPECT_EQ(r.file_fingerprint, logged);
  ASSERT_FALSE(r.message_types.empty());
  EXPECT_EQ(r.message_types.front(), "welcome");
  EXPECT_EQ(r.message_types.back(), "subscribed");
  EXPECT_TRUE(r.untrusted_fails) << "a client without the certificate must refuse it";

  // Our own reading of the stored certificate agrees, and names this machine.
  auto info = fw::tls::InspectCertificateFile(cert);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->fingerprint_sha256, logged);
  EXPECT_THAT(info->dns_names, ::testing::Contains("localhost"));
  EXPECT_THAT(info->ip_addresses, ::testing::Contains("127.0.0.1"));

  // Plain HTTP and WS on the TLS port get nothing.
  auto plain = HttpGet(d.port(), "/healthz");
  EXPECT_FALSE(plain.ok() && plain->status == 200);
  WsTestClient ws;
  EXPECT_FALSE(ws.Open(d.port()).ok());
}

TEST_F(TlsTest, RestartReusesTheCertificateAndItsFingerprint) {
  EW_SKIP_WITHOUT_DAEMON();
  std::string state = (dir_ / "state").string();
  std::string first_fp, cert_before;
  {
    DaemonProcess d;
    Status s =
        d.Start({.args = {"--tls", "auto", "--state-dir", state}, .default_state_dir = false});
    ASSERT_TRUE(s.ok()) << s.ToString();
    first_fp = LoggedFingerprint(d);
    EXPECT_THAT(d.ReadStderr(), HasSubstr("generated a self-signed certificate"));
    cert_before = ReadAll(state + "/tls/cert.pem");
    ASSERT_TRUE(d.Signal(SIGTERM).ok());
    auto exit = d.Wait(kTimeoutMs);
    ASSERT_TRUE(exit.ok() && exit->success());
  }
  ASSERT_FALSE(first_fp.empty());
  DaemonProcess d;
  Status s = d.Start({.args = {"--tls", "auto", "--state-dir", state}, .default_state_dir = false});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(d.ReadStderr(), HasSubstr("using the self-signed certificate"));
  EXPECT_EQ(LoggedFingerprint(d), first_fp);
  EXPECT_EQ(ReadAll(state + "/tls/cert.pem"), cert_before);
}

TEST_F(TlsTest, UserSuppliedCertificateAndKey) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_PYTHON();
  fw::tls::CertificateSpec spec;
  spec.common_name = HostName().empty() ? "localhost" : HostName();
  spec.dns_names = {spec.common_name, "localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  spec.not_before_s = static_cast<int64_t>(std::time(nullptr)) - 3600;
  spec.not_after_s = spec.not_before_s + 30 * 86400;
  auto pair = fw::tls::GenerateSelfSigned(spec);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  std::string cert = (dir_ / "site.crt").string();
  std::string key = (dir_ / "site.key").string();
  std::ofstream(cert) << pair->cert_pem;
  std::ofstream(key) << pair->key_pem;
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);

  DaemonProcess d;
  Status s = d.Start({.args = {"--tls-cert", cert, "--tls-key", key}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string expected = fw::tls::InspectCertificate(pair->cert_pem)->fingerprint_sha256;
  EXPECT_EQ(LoggedFingerprint(d), expected);
  EXPECT_FALSE(fs::exists(d.state_dir() + "/tls"));  // nothing generated
  ClientReport r = RunClient(d, cert, Token(d));
  EXPECT_EQ(r.served_fingerprint, expected);
  ASSERT_FALSE(r.message_types.empty());
  EXPECT_EQ(r.message_types.back(), "subscribed");
}

TEST_F(TlsTest, MismatchedKeyStopsTheStartWithAClearError) {
  EW_SKIP_WITHOUT_DAEMON();
  fw::tls::CertificateSpec spec;
  spec.dns_names = {"localhost"};
  spec.not_before_s = static_cast<int64_t>(std::time(nullptr)) - 3600;
  spec.not_after_s = spec.not_before_s + 30 * 86400;
  auto a = fw::tls::GenerateSelfSigned(spec);
  auto b = fw::tls::GenerateSelfSigned(spec);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string cert = (dir_ / "a.crt").string();
  std::string key = (dir_ / "b.key").string();
  std::ofstream(cert) << a->cert_pem;
  std::ofstream(key) << b->key_pem;

  DaemonProcess d;
  Status s = d.Start({.args = {"--tls-cert", cert, "--tls-key", key}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("does not belong to the certificate"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr(b->key_pem.substr(31, 40))));
}

TEST_F(TlsTest, FlagCombinationsAreChecked) {
  EW_SKIP_WITHOUT_DAEMON();
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case cases[] = {
      {{"--tls", "auto", "--tls-cert", "/x.crt", "--tls-key", "/x.key"}, "exclude each other"},
      {{"--tls-cert", "/x.crt"}, "--tls-cert and --tls-key go together"},
      {{"--tls", "maybe"}, "--tls must be auto or off"},
      {{"--tls-cert", "/nonexistent.crt", "--tls-key", "/nonexistent.key"}, "/nonexistent.crt"},
  };
  for (const Case& c : cases) {
    DaemonProcess d;
    Status s = d.Start({.args = c.args});
    EXPECT_FALSE(s.ok()) << c.error;
    EXPECT_THAT(s.message(), HasSubstr(c.error));
  }
  // --tls off after a config file's TLS settings turns TLS off.
  std::string config = (dir_ / "config.json").string();
  std::ofstream(config) << R"({"tls":"auto"})";
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth", "--config", config, "--tls", "off"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto plain = HttpGet(d.port(), "/healthz");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->status, 200);
}

}  // namespace
}  // namespace edgewatch::testing
