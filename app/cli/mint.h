// Token minting shared by `edgewatch token` and `edgewatch pair`: the default secret file and
// "mint from command-line values". Single-threaded (CLI); blocking file I/O.
#pragma once

#include <string>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

// The gateway's default --jwt-secret-file as seen by the CLI: /var/lib/edgewatch/jwt.secret when
// readable, else $HOME/.local/state/edgewatch/jwt.secret, else
// /tmp/edgewatch-$UID/state/jwt.secret.
std::string DefaultSecretFile();

struct MintRequest {
  std::string sub;
  std::string scope;        // space-separated scopes
  std::string ttl = "30d";  // ParseDuration syntax, or "none" (no exp)
  std::string secret_file;  // empty: DefaultSecretFile(); created (0600) when absent
  std::string audience;     // empty: no aud claim
};

// Mints an HS256 token. Errors: InvalidArgument for a bad --ttl/--scope/--sub (a usage error:
// exit 2), any other code for the secret file (exit 1); messages name the flag or the file and
// never contain the secret. The returned token is a credential: print it, never log it.
Result<std::string> MintCliToken(const MintRequest& request);

}  // namespace edgewatch::cli
