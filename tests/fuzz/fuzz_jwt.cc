// libFuzzer target for JWT parsing and verification (edgewatch::fw::auth::VerifyToken).
//
// The first input byte selects what is fuzzed:
//   'P' <payload>                  the payload, signed with the fixed secret under an HS256 header,
//                                  so the claims parser (reached only after a valid signature)
//                                  is exercised
//   'H' <header> '\n' <payload>    header and payload, validly signed
//   anything else                  the whole input is the token text (structure, base64url,
//                                  header, signature checks)
// Beyond "no crash, no sanitizer report", it checks invariants and traps when one breaks: every
// failure carries a reason VerifyToken may return and never quotes the secret; an accepted token
// has a sub, respects exp/nbf and its scopes survive MintToken -> VerifyToken; base64url
// round-trips and is canonical.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgewatch/fw/auth/base64url.h"
#include "edgewatch/fw/auth/jwt.h"

namespace {

using edgewatch::Result;
using edgewatch::StatusCode;
namespace auth = edgewatch::fw::auth;

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef-0123456789";
constexpr int64_t kNow = 1'700'000'000;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string SignedToken(std::string_view header, std::string_view payload) {
  std::string token = auth::Base64UrlEncode(header) + "." + auth::Base64UrlEncode(payload);
  Result<std::string> sig = auth::SignHs256(token, kSecret);
  Check(sig.ok());
  return token + "." + *sig;
}

void CheckBase64(std::string_view data) {
  Result<std::string> decoded = auth::Base64UrlDecode(data);
  if (decoded.ok()) Check(auth::Base64UrlEncode(*decoded) == data);  // canonical
  Result<std::string> round = auth::Base64UrlDecode(auth::Base64UrlEncode(data));
  Check(round.ok() && *round == data);
}

void CheckVerify(std::string_view token, const auth::VerifyOptions& options) {
  Result<auth::Claims> r = auth::VerifyToken(token, options, kNow);
  if (!r.ok()) {
    Check(r.status().code() == StatusCode::kUnauthenticated);
    std::optional<auth::AuthError> reason = auth::ReasonOf(r.status());
    Check(reason.has_value() && *reason != auth::AuthError::kTokenMissing &&
          *reason != auth::AuthError::kAuthTimeout);
    Check(r.status().message().find(kSecret) == std::string::npos);
    return;
  }
  const auth::Claims& c = *r;
  Check(!c.sub.empty());
  Check(c.exp.has_value() || options.allow_no_exp);
  if (c.exp) Check(*c.exp + options.leeway_s >= kNow);
  if (c.nbf) Check(*c.nbf - options.leeway_s <= kNow);
  for (const std::string& p : c.scopes.read) Check(c.CanRead(p));
  for (const std::string& p : c.scopes.write) Check(c.CanWrite(p));

  // What was accepted can be minted again with the same meaning (when it fits in a token).
  auth::MintOptions mint;
  mint.sub = c.sub;
  mint.scope = auth::FormatScopes(c.scopes);
  mint.ttl_s = 60;
  mint.now_s = kNow;
  if (options.audience) mint.audience = *options.audience;
  Result<std::string> again = auth::MintToken(mint, kSecret);
  if (!again.ok()) {
    Check(again.status().message().find("longer than") != std::string::npos);
    return;
  }
  Result<auth::Claims> back = auth::VerifyToken(*again, options, kNow);
  Check(back.ok() && back->sub == c.sub && back->scopes.read == c.scopes.read &&
        back->scopes.write == c.scopes.write && back->scopes.admin == c.scopes.admin);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string token;
  if (!input.empty() && input[0] == 'P') {
    token = SignedToken(R"({"alg":"HS256","typ":"JWT"})", input.substr(1));
  } else if (!input.empty() && input[0] == 'H') {
    std::string_view rest = input.substr(1);
    size_t nl = rest.find('\n');
    token = nl == std::string_view::npos ? SignedToken(rest, "")
                                         : SignedToken(rest.substr(0, nl), rest.substr(nl + 1));
  } else {
    token = std::string(input);
    CheckBase64(input.substr(0, 1024));
  }

  auth::VerifyOptions strict;
  strict.secret = kSecret;
  CheckVerify(token, strict);

  auth::VerifyOptions lax;
  lax.secret = kSecret;
  lax.audience = "gw-1";
  lax.allow_no_exp = true;
  lax.leeway_s = 0;
  CheckVerify(token, lax);
  return 0;
}
