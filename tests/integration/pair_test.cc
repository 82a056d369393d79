// `edgewatch pair` end to end: the PNG it writes decodes with a real QR reader (zbarimg, from
// zbar-tools) to exactly the first URL it prints, the terminal rendering decodes to the same URL,
// and the token in it verifies against the secret (with the auth library and with the real
// daemon, which answers an authenticated HTTP request with it).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/auth/secret.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/io.h"
#include "edgewatch/testing/subprocess.h"
#include "qr_code.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 30000;  // failure bound for each step

std::string Cli() {
  return BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
}

const char* Zbarimg() {
  return "/usr/bin/zbarimg";
}

struct PairOutput {
  Subprocess::Output run;
  std::string qr_text;            // the half-block lines before the first blank line
  std::vector<std::string> urls;  // lines starting with http:// or https://
};

PairOutput RunPair(std::vector<std::string> args) {
  args.insert(args.begin(), {Cli(), "pair"});
  PairOutput out;
  auto r = RunCommand(args, {}, kTimeoutMs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  out.run = std::move(r).value();
  bool in_qr = true;
  size_t at = 0;
  const std::string& text = out.run.out;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    at = nl + 1;
    if (line.empty()) in_qr = false;
    if (in_qr) out.qr_text += line + "\n";
    if (line.rfind("http://", 0) == 0 || line.rfind("https://", 0) == 0) out.urls.push_back(line);
  }
  return out;
}

// zbarimg's decoding of `png_path`, without the trailing newline.
std::string DecodeQr(const std::string& png_path) {
  auto r = RunCommand({Zbarimg(), "--quiet", "--raw", png_path}, {}, kTimeoutMs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_TRUE(r->exit.success()) << "zbarimg " << r->exit.ToString() << ": " << r->err;
  std::string s = r->out;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string TokenOf(const std::string& url) {
  size_t at = url.find("/#token=");
  return at == std::string::npos ? "" : url.substr(at + 8);
}

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(Cli().c_str(), X_OK), 0) << "edgewatch CLI not built: " << Cli();
    if (::access(Zbarimg(), X_OK) != 0) {
      GTEST_SKIP() << "zbarimg not installed (scripts/deps.sh test installs zbar-tools)";
    }
    char tmpl[] = "/tmp/ew-pair-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    secret_file_ = dir_ + "/jwt.secret";
  }
  void TearDown() override {
    if (!dir_.empty()) (void)RunCommand({"/bin/rm", "-rf", dir_}, {}, kTimeoutMs);
  }

  std::string dir_, secret_file_;
};

TEST_F(PairTest, PngDecodesToTheFirstUrlAndTheTokenVerifies) {
  const std::string png = dir_ + "/pair.png";
  { std::ofstream(png) << "old"; }
  ASSERT_EQ(::chmod(png.c_str(), 0644), 0);
  PairOutput p =
      RunPair({"--secret-file", secret_file_, "--sub", "phone1", "--port", "8123", "--png", png});
  ASSERT_TRUE(p.run.exit.success()) << p.run.exit.ToString() << ": " << p.run.err;
  ASSERT_FALSE(p.urls.empty()) << p.run.out;

  // The first URL is the mDNS name; every URL carries the same token on the given port.
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  std::string short_host(host);
  short_host = short_host.substr(0, short_host.find('.'));
  EXPECT_EQ(p.urls[0].rfind("http://" + short_host + ".local:8123/#token=", 0), 0u) << p.urls[0];
  const std::string token = TokenOf(p.urls[0]);
  ASSERT_FALSE(token.empty());
  for (const std::string& url : p.urls) {
    EXPECT_EQ(TokenOf(url), token) << url;
    EXPECT_NE(url.find(":8123/#token="), std::string::npos) << url;
    EXPECT_EQ(url.find("127.0.0.1"), std::string::npos) << "loopback listed: " << url;
  }

  // The PNG decodes to exactly the first URL, and it is private (it holds a credential), even
  // when it replaced a world-readable file.
  EXPECT_EQ(DecodeQr(png), p.urls[0]);
  struct stat st {};
  ASSERT_EQ(::stat(png.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // So does the terminal rendering (stdout is not a tty here: plain glyphs), read back and
  // drawn as a PNG.
  auto drawn = cli::ParseQrHalfBlocks(p.qr_text, 2);
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString() << "\n" << p.qr_text;
  auto drawn_png = cli::EncodeQrPng(*drawn, 6, 4);
  ASSERT_TRUE(drawn_png.ok());
  {
    std::ofstream f(dir_ + "/terminal.png", std::ios::binary);
    f << *drawn_png;
    ASSERT_TRUE(f.good());
  }
  EXPECT_EQ(DecodeQr(dir_ + "/terminal.png"), p.urls[0]);

  // The token: signed with the secret file's key, sub phone1, 30 days, read + ack alerts.
  auto secret = fw::auth::LoadOrCreateSecret(secret_file_);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  fw::auth::VerifyOptions verify;
  verify.secret = *secret;
  auto claims = fw::auth::VerifyToken(token, verify, UnixMillis() / 1000);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "phone1");
  ASSERT_TRUE(claims->exp && claims->iat);
  EXPECT_EQ(*claims->exp - *claims->iat, 30 * 86400);
  EXPECT_TRUE(claims->CanRead("pipeline/#"));
  EXPECT_TRUE(claims->CanRead("alerts"));
  EXPECT_TRUE(claims->CanWrite("alerts"));          // `ack` (docs/protocol.md)
  EXPECT_FALSE(claims->CanWrite("pipeline/cam1"));  // no commands
  EXPECT_FALSE(claims->IsAdmin());
  // A different secret refuses it.
  verify.secret = std::string(32, 'x');
  EXPECT_FALSE(fw::auth::VerifyToken(token, verify, UnixMillis() / 1000).ok());
}

TEST_F(PairTest, TheDaemonAcceptsThePairedToken) {
  EW_SKIP_WITHOUT_DAEMON();
  PairOutput p = RunPair({"--secret-file", secret_file_});
  ASSERT_TRUE(p.run.exit.success()) << p.run.err;
  ASSERT_FALSE(p.urls.empty());
  const std::string token = TokenOf(p.urls[0]);

  DaemonProcess d;
  Status s = d.Start({.args = {"--jwt-secret-file", secret_file_, "--no-mdns"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto ok = HttpGet(d.port(), "/api/v1/topics", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200) << ok->body;
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto refused = HttpGet(d.port(), "/api/v1/topics", {{"Authorization", "Bearer " + forged}});
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 401) << refused->body;
}

TEST_F(PairTest, TlsHostnameAndScopeFlags) {
  PairOutput p = RunPair({"--secret-file", secret_file_, "--tls", "--hostname", "gw.example",
                          "--scope", "read:pipeline/#", "--ttl", "2h", "--port", "8443"});
  ASSERT_TRUE(p.run.exit.success()) << p.run.err;
  ASSERT_FALSE(p.urls.empty());
  EXPECT_EQ(p.urls[0].rfind("https://gw.example:8443/#token=", 0), 0u) << p.urls[0];
  for (const std::string& url : p.urls) EXPECT_EQ(url.rfind("https://", 0), 0u) << url;
  auto secret = fw::auth::LoadOrCreateSecret(secret_file_);
  ASSERT_TRUE(secret.ok());
  fw::auth::VerifyOptions verify;
  verify.secret = *secret;
  auto claims = fw::auth::VerifyToken(TokenOf(p.urls[0]), verify, UnixMillis() / 1000);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "phone");
  EXPECT_EQ(*claims->exp - *claims->iat, 2 * 3600);
  EXPECT_FALSE(claims->CanWrite("alerts"));
}

TEST_F(PairTest, PortAndTlsFromTheDaemonsConfig) {
  const std::string config = dir_ + "/edgewatchd.json";
  { std::ofstream(config) << R"({"listen": "0.0.0.0:9443", "tls": "auto"})"; }
  PairOutput p = RunPair({"--secret-file", secret_file_, "--config", config});
  ASSERT_TRUE(p.run.exit.success()) << p.run.err;
  ASSERT_FALSE(p.urls.empty());
  for (const std::string& url : p.urls) {
    EXPECT_EQ(url.rfind("https://", 0), 0u) << url;
    EXPECT_NE(url.find(":9443/#token="), std::string::npos) << url;
  }
  // --port wins over the config.
  PairOutput q = RunPair({"--secret-file", secret_file_, "--config", config, "--port", "7000"});
  ASSERT_TRUE(q.run.exit.success()) << q.run.err;
  ASSERT_FALSE(q.urls.empty());
  EXPECT_NE(q.urls[0].find(":7000/#token="), std::string::npos) << q.urls[0];

  { std::ofstream(config) << R"({"listen": "0.0.0.0"})"; }
  PairOutput bad = RunPair({"--secret-file", secret_file_, "--config", config});
  EXPECT_EQ(bad.run.exit.code, 2) << bad.run.err;
  EXPECT_NE(bad.run.err.find("listen"), std::string::npos) << bad.run.err;
  PairOutput missing = RunPair({"--secret-file", secret_file_, "--config", dir_ + "/none.json"});
  EXPECT_EQ(missing.run.exit.code, 2) << missing.run.err;
}

TEST_F(PairTest, BadInputIsAClearError) {
  auto bad_ttl = RunPair({"--secret-file", secret_file_, "--ttl", "soon"});
  EXPECT_EQ(bad_ttl.run.exit.code, 2) << bad_ttl.run.err;
  EXPECT_NE(bad_ttl.run.err.find("--ttl"), std::string::npos) << bad_ttl.run.err;
  EXPECT_TRUE(bad_ttl.urls.empty());

  auto bad_scope = RunPair({"--secret-file", secret_file_, "--scope", "root:everything"});
  EXPECT_EQ(bad_scope.run.exit.code, 2) << bad_scope.run.err;

  auto bad_png = RunPair({"--secret-file", secret_file_, "--png", dir_ + "/missing/dir/x.png"});
  EXPECT_EQ(bad_png.run.exit.code, 1) << bad_png.run.err;
  EXPECT_NE(bad_png.run.err.find("--png"), std::string::npos) << bad_png.run.err;

  auto bad_port = RunPair({"--secret-file", secret_file_, "--port", "70000"});
  EXPECT_EQ(bad_port.run.exit.code, 2) << bad_port.run.err;
}

}  // namespace
}  // namespace edgewatch::testing
