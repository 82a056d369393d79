#include "mint.h"

#include <unistd.h>

#include <cstdlib>

#include "edgewatch/base/clock.h"
#include "edgewatch/fw/auth/duration.h"
#include "edgewatch/fw/auth/jwt.h"
#include "edgewatch/fw/auth/secret.h"

namespace edgewatch::cli {

std::string DefaultSecretFile() {
  if (::access("/var/lib/edgewatch/jwt.secret", R_OK) == 0) return "/var/lib/edgewatch/jwt.secret";
  if (const char* home = std::getenv("HOME")) {
    return std::string(home) + "/.local/state/edgewatch/jwt.secret";
  }
  return "/tmp/edgewatch-" + std::to_string(::getuid()) + "/state/jwt.secret";
}

Result<std::string> MintCliToken(const MintRequest& request) {
  fw::auth::MintOptions mint;
  mint.sub = request.sub;
  mint.scope = request.scope;
  mint.now_s = UnixMillis() / 1000;
  if (!request.audience.empty()) mint.audience = request.audience;
  if (request.ttl != "none") {
    auto seconds = fw::auth::ParseDuration(request.ttl);
    if (!seconds.ok()) return InvalidArgument("--ttl: " + seconds.status().message());
    mint.ttl_s = *seconds;
  }
  const std::string file = request.secret_file.empty() ? DefaultSecretFile() : request.secret_file;
  auto secret = fw::auth::LoadOrCreateSecret(file);
  if (!secret.ok()) {
    // Not InvalidArgument whatever the secret's own code: the caller maps that to exit 2.
    return Unavailable("secret " + file + ": " + secret.status().message());
  }
  return fw::auth::MintToken(mint, *secret);
}

}  // namespace edgewatch::cli
