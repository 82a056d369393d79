// Base64url without padding (RFC 4648 §5), as used by the JWS compact serialisation (RFC 7515 §2).
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::auth {

// Encodes `bytes` with the URL-safe alphabet (A-Z a-z 0-9 '-' '_') and no '=' padding.
std::string Base64UrlEncode(std::string_view bytes);

// Strict decoder: each byte string has exactly one accepted encoding. Returns the decoded bytes
// ("" for ""), or InvalidArgument when `text` contains anything outside the URL-safe alphabet
// (including '=', '+', '/', whitespace and NUL), has a length of 1 modulo 4, or has non-zero
// unused bits in its last character (a non-canonical encoding).
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace edgewatch::fw::auth
