// Reading an access token for the CLI's network commands.
#pragma once

#include <string>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

// The token in `path` (at most 8 KiB plus a line end), without trailing whitespace. Errors: the
// errno of opening the file, as a Status naming it.
Result<std::string> ReadTokenFile(const std::string& path);

// --token, else --token-file, else $EDGEWATCH_TOKEN, else empty (no auth).
Result<std::string> ResolveToken(const std::string& token, const std::string& token_file);

}  // namespace edgewatch::cli
