// edgewatch token: mints an HS256 access token with the gateway's secret.
//
// The token is printed on stdout and nowhere else (never logged). The secret file is the one the
// daemon uses (--jwt-secret-file); when it does not exist yet it is created (32 random bytes,
// mode 0600), so `edgewatch token` may run before the first start of edgewatchd.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "flags.h"
#include "mint.h"

namespace edgewatch::cli {

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
  auto token = MintCliToken({sub, scope, ttl, secret_file, audience});
  if (!token.ok()) {
    std::fprintf(stderr, "edgewatch token: %s\n", token.status().message().c_str());
    return token.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace edgewatch::cli
