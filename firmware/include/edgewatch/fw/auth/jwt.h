// JSON Web Tokens signed with HS256 (RFC 7519 / RFC 7515 compact serialisation): verification,
// minting and the stable reasons a token is refused.
//
// Only HS256 is accepted; the HMAC-SHA256 is computed with mbedTLS and compared in constant time.
// Error Statuses carry a reason (AuthError) whose wire name clients see in HTTP 401 bodies and
// WebSocket close 4401 texts; the Status message adds a fixed detail for logs. No part of a token
// (not even a claim value) nor of the secret appears in a Status message or a log line.
// Pure functions (no I/O, no clock: callers pass the time); any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"
#include "edgewatch/fw/auth/claims.h"

namespace edgewatch::fw::auth {

// Tokens longer than this are refused (token_malformed) before any decoding.
inline constexpr size_t kMaxTokenBytes = 8 * 1024;
// Shortest HMAC key accepted for minting and verification (RFC 7518 §3.2: at least the hash size).
inline constexpr size_t kMinSecretBytes = 32;
inline constexpr int64_t kDefaultLeewaySeconds = 30;

// Why a token was refused. The wire names (ReasonName) are stable protocol strings.
enum class AuthError {
  kTokenMissing,        // "token_missing": no token was presented (produced by the transport)
  kTokenEmpty,          // "token_empty": "" or only whitespace
  kTokenMalformed,      // "token_malformed": not a well-formed HS256 JWT with valid claims
  kTokenBadSignature,   // "token_bad_signature": the HMAC does not match the secret
  kTokenExpired,        // "token_expired": exp + leeway < now
  kTokenNotYetValid,    // "token_not_yet_valid": nbf - leeway > now
  kTokenWrongAudience,  // "token_wrong_audience": `aud` does not name this gateway
  kAuthTimeout,         // "auth_timeout": no auth frame in time (produced by the transport)
};

// The stable lower_snake_case wire name of `reason`, e.g. "token_expired".
std::string_view ReasonName(AuthError reason);

// A Status with code kUnauthenticated and message "<wire name>" or "<wire name>: <detail>".
// `detail` is for logs; it must not contain a token or secret.
Status AuthFailure(AuthError reason, std::string_view detail = {});

// The reason carried by a Status made by AuthFailure (and so by VerifyToken, BearerToken);
// nullopt for OK and for any other Status.
std::optional<AuthError> ReasonOf(const Status& status);

struct VerifyOptions {
  // The HMAC key (see secret.h). Shorter than kMinSecretBytes: every token is refused with
  // token_bad_signature, so a misconfigured gateway fails closed.
  std::string secret;
  // When set, the token's `aud` (a string, or an array of strings) must contain it.
  std::optional<std::string> audience;
  // Clock skew tolerated for exp and nbf, in seconds; negative values count as 0.
  int64_t leeway_s = kDefaultLeewaySeconds;
  // Accept tokens without `exp` (they never expire). Off by default.
  bool allow_no_exp = false;
};

// Verifies `token` against `options` at Unix time `now_s` and returns its claims. Checks run in
// this order, and the first failure is returned as AuthFailure(reason, detail):
//   token_empty          `token` is empty or only ASCII whitespace
//   token_malformed      longer than kMaxTokenBytes; not exactly three '.'-separated parts; a part
//                        that is not strict base64url; a header that is not a JSON object, has
//                        duplicate members, an `alg` other than "HS256" (including "none" and
//                        "HS512"), a `typ` other than "JWT" (case-insensitive; absent is fine) or
//                        a `crit` member
//   token_bad_signature  the signature is not the 32-byte HMAC-SHA256 of "<header>.<payload>"
//                        under options.secret (or the secret is too short)
//   token_malformed      (only now is the payload parsed) a payload that is not a JSON object or
//                        has duplicate members; `sub` missing, not a string or empty; `exp`, `nbf`
//                        or `iat` present but not a number (fractions are rounded down); `aud`
//                        neither a string nor an array of strings; `scope` not a string or
//                        refused by ParseScopes; `exp` absent and !options.allow_no_exp
//   token_expired        exp + leeway < now_s
//   token_not_yet_valid  nbf - leeway > now_s
//   token_wrong_audience options.audience is set and not in `aud` (or `aud` is absent)
// Unknown header members (kid, ...) and unknown claims (iss, jti, ...) are ignored. The token is
// not trimmed: surrounding whitespace makes it malformed.
Result<Claims> VerifyToken(std::string_view token, const VerifyOptions& options, int64_t now_s);

struct MintOptions {
  std::string sub;                      // required, non-empty
  std::string scope;                    // as for ParseScopes; written in canonical form
  std::optional<int64_t> ttl_s;         // > 0: exp = now_s + ttl_s; nullopt: no `exp` claim
  std::optional<std::string> audience;  // when set (non-empty), written as the `aud` string
  int64_t now_s = 0;                    // written as `iat`
};

// Returns a signed token {"alg":"HS256","typ":"JWT"}.{"sub",["aud"],"scope","iat",["exp"]}, or
// InvalidArgument when sub is empty, the scope is refused, ttl_s <= 0, exp would not be an exact
// JSON number, the audience is empty or `secret` is shorter than kMinSecretBytes. The token is a
// credential: print it to the user who asked for it, never log it.
Result<std::string> MintToken(const MintOptions& options, std::string_view secret);

// The base64url HMAC-SHA256 of `signing_input` under `secret` (the JWS HS256 signature). A
// building block for tests and fuzzers: it does not check the key length. Internal on an mbedTLS
// failure.
Result<std::string> SignHs256(std::string_view signing_input, std::string_view secret);

// Extracts the token from an `Authorization` header value "Bearer <token>" (scheme
// case-insensitive, spaces around the token ignored). Returns token_empty for a scheme without a
// token and token_malformed for another scheme; the result is then passed to VerifyToken. The
// returned view points into `header_value`.
Result<std::string_view> BearerToken(std::string_view header_value);

}  // namespace edgewatch::fw::auth
