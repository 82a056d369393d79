// edgewatch token: mints an HS256 access token with the gateway's secret.
//
// The token is printed on stdout and nowhere else (never logged). The secret file is the one the
// daemon uses (--jwt-secret-file); when it does not exist yet it is created (32 random bytes,
// mode 0600), so `edgewatch token` may run before the first start of edgewatchd.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/fw/auth/duration.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/auth/secret.h"
#include "flags.h"

namespace edgewatch::cli {

namespace {

std::string DefaultSecretFile() {
  if (::access("/var/lib/edgewatch/jwt.secret", R_OK) == 0) return "/var/lib/edgewatch/jwt.secret";
  if (const char* home = std::getenv("HOME")) {
    return std::string(home) + "/.local/state/edgewatch/jwt.secret";
  }
  return "/tmp/edgewatch-" + std::to_string(::getuid()) + "/state/jwt.secret";
}

}  // namespace

int RunToken(const std::vector<std::string>& args) {
  std::string sub = "operator";
  std::string scope = "read:pipeline/# read:system/# read:forecast/# read:training/# read:alerts";
  std::string ttl = "30d";
  std::string secret_file;
  std::string audience;
  FlagParser flags("token", "",
                   "Mint an access token (HS256 JWT) signed with the gateway's secret and print "
                   "it on stdout. Scopes: read:<pattern>, write:<pattern>, admin.");
  flags.String("sub", &sub, "NAME", "the token's subject (default: operator)");
  flags.String("scope", &scope, "SCOPES",
               "space-separated scopes (default: read access to pipeline, system, forecast, "
               "training and alerts topics)");
  flags.String("ttl", &ttl, "DURATION", "lifetime: 30d, 12h, 15m, 90s, or 'none' (default 30d)");
  flags.String("secret-file", &secret_file, "FILE",
               "the gateway's --jwt-secret-file (default: /var/lib/edgewatch/jwt.secret when "
               "readable, else ~/.local/state/edgewatch/jwt.secret); created when absent");
  flags.String("audience", &audience, "AUD", "write this `aud` claim");
  std::vector<std::string> positionals;
  if (auto code = flags.ParseOrExit(args, &positionals)) return *code;
  if (!positionals.empty()) {
    std::fprintf(stderr, "edgewatch token: unexpected argument '%s'\n", positionals[0].c_str());
    return 2;
  }
  if (secret_file.empty()) secret_file = DefaultSecretFile();

  fw::auth::MintOptions mint;
  mint.sub = sub;
  mint.scope = scope;
  mint.now_s = UnixMillis() / 1000;
  if (!audience.empty()) mint.audience = audience;
  if (ttl != "none") {
    auto seconds = fw::auth::ParseDuration(ttl);
    if (!seconds.ok()) {
      std::fprintf(stderr, "edgewatch token: --ttl: %s\n", seconds.status().message().c_str());
      return 2;
    }
    mint.ttl_s = *seconds;
  }
  auto secret = fw::auth::LoadOrCreateSecret(secret_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "edgewatch token: secret %s: %s\n", secret_file.c_str(),
                 secret.status().message().c_str());
    return 1;
  }
  auto token = fw::auth::MintToken(mint, *secret);
  if (!token.ok()) {
    std::fprintf(stderr, "edgewatch token: %s\n", token.status().message().c_str());
    return 2;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace edgewatch::cli
