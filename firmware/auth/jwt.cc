#include "edgewatch/fw/auth/jwt.h"

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/fw/auth/base64url.h"

// mbedTLS 2.28's constant_time.h has no extern "C" guard of its own.
extern "C" {
#include <mbedtls/constant_time.h>
}

namespace edgewatch::fw::auth {
namespace {

constexpr size_t kSignatureBytes = 32;  // SHA-256 output
// NumericDate values must be exact in a double (and so in JSON, and in JavaScript clients).
constexpr double kMaxExactDouble = 9007199254740992.0;  // 2^53
constexpr int64_t kMaxLeeway = int64_t{1} << 53;

constexpr std::string_view kReasonNames[] = {
    "token_missing", "token_empty",         "token_malformed",      "token_bad_signature",
    "token_expired", "token_not_yet_valid", "token_wrong_audience", "auth_timeout",
};
constexpr AuthError kReasons[] = {
    AuthError::kTokenMissing,       AuthError::kTokenEmpty,   AuthError::kTokenMalformed,
    AuthError::kTokenBadSignature,  AuthError::kTokenExpired, AuthError::kTokenNotYetValid,
    AuthError::kTokenWrongAudience, AuthError::kAuthTimeout,
};
static_assert(std::size(kReasonNames) == std::size(kReasons));

Status Malformed(std::string_view detail) {
  return AuthFailure(AuthError::kTokenMalformed, detail);
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
Result<std::array<unsigned char, kSignatureBytes>> Hmac(std::string_view key,
                                                        std::string_view data) {
  std::array<unsigned char, kSignatureBytes> mac{};
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if (info == nullptr) return Internal("mbedTLS has no SHA-256");
  int rc =
      mbedtls_md_hmac(info, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                      reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data());
  if (rc != 0) return Internal("mbedtls_md_hmac failed");
  return mac;
}

// Parses a decoded header or payload: a JSON object without duplicate member names.
Result<JsonPtr> ParseObject(std::string_view json, const char* what) {
  JsonLimits limits;
  limits.max_bytes = kMaxTokenBytes;
  limits.max_depth = 16;
  Result<JsonPtr> parsed = ParseJson(json, limits);
  if (!parsed.ok()) return Malformed(std::string(what) + " is not valid JSON");
  const cJSON* root = parsed->get();
  if (!cJSON_IsObject(root)) return Malformed(std::string(what) + " is not a JSON object");
  for (const cJSON* a = root->child; a != nullptr; a = a->next) {
    for (const cJSON* b = a->next; b != nullptr; b = b->next) {
      if (a->string != nullptr && b->string != nullptr &&
          std::string_view(a->string) == std::string_view(b->string)) {
        return Malformed(std::string(what) + " has duplicate members");
      }
    }
  }
  return parsed;
}

// Reads an optional NumericDate claim. Fractions are rounded down.
Status GetNumericDate(const cJSON* payload, const char* key, std::optional<int64_t>* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(payload, key);
  if (item == nullptr) return OkStatus();
  if (!cJSON_IsNumber(item) || !std::isfinite(item->valuedouble) ||
      std::fabs(item->valuedouble) > kMaxExactDouble) {
    return Malformed(std::string("'") + key + "' is not a number of seconds");
  }
  *out = static_cast<int64_t>(std::floor(item->valuedouble));
  return OkStatus();
}

Status GetAudience(const cJSON* payload, std::vector<std::string>* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(payload, "aud");
  if (item == nullptr) return OkStatus();
  if (cJSON_IsString(item) && item->valuestring != nullptr) {
    out->emplace_back(item->valuestring);
    return OkStatus();
  }
  if (!cJSON_IsArray(item)) return Malformed("'aud' is neither a string nor an array");
  for (const cJSON* e = item->child; e != nullptr; e = e->next) {
    if (!cJSON_IsString(e) || e->valuestring == nullptr) {
      return Malformed("'aud' array holds a non-string");
    }
    out->emplace_back(e->valuestring);
  }
  return OkStatus();
}

Result<Claims> ParseClaims(const cJSON* payload) {
  Claims claims;
  const cJSON* sub = cJSON_GetObjectItemCaseSensitive(payload, "sub");
  if (sub == nullptr) return Malformed("missing 'sub'");
  if (!cJSON_IsString(sub) || sub->valuestring == nullptr)
    return Malformed("'sub' is not a string");
  claims.sub = sub->valuestring;
  if (claims.sub.empty()) return Malformed("'sub' is empty");
  EW_TRY(GetNumericDate(payload, "exp", &claims.exp));
  EW_TRY(GetNumericDate(payload, "nbf", &claims.nbf));
  EW_TRY(GetNumericDate(payload, "iat", &claims.iat));
  EW_TRY(GetAudience(payload, &claims.aud));
  const cJSON* scope = cJSON_GetObjectItemCaseSensitive(payload, "scope");
  if (scope != nullptr) {
    if (!cJSON_IsString(scope) || scope->valuestring == nullptr) {
      return Malformed("'scope' is not a string");
    }
    Result<Scopes> scopes = ParseScopes(scope->valuestring);
    // The detail stays generic: messages never quote token content.
    if (!scopes.ok()) return Malformed("invalid 'scope'");
    claims.scopes = std::move(scopes).value();
  }
  return claims;
}

}  // namespace

std::string_view ReasonName(AuthError reason) {
  auto index = static_cast<size_t>(reason);
  return index < std::size(kReasonNames) ? kReasonNames[index] : "token_malformed";
}

Status AuthFailure(AuthError reason, std::string_view detail) {
  std::string message(ReasonName(reason));
  if (!detail.empty()) {
    message += ": ";
    message += detail;
  }
  return Unauthenticated(std::move(message));
}

std::optional<AuthError> ReasonOf(const Status& status) {
  if (status.code() != StatusCode::kUnauthenticated) return std::nullopt;
  std::string_view name = status.message();
  name = name.substr(0, name.find(':'));
  for (size_t i = 0; i < std::size(kReasonNames); ++i) {
    if (kReasonNames[i] == name) return kReasons[i];
  }
  return std::nullopt;
}

Result<std::string> SignHs256(std::string_view signing_input, std::string_view secret) {
  EW_ASSIGN_OR_RETURN(auto mac, Hmac(secret, signing_input));
  std::string out =
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  mbedtls_platform_zeroize(mac.data(), mac.size());
  return out;
}

Result<Claims> VerifyToken(std::string_view token, const VerifyOptions& options, int64_t now_s) {
  if (std::all_of(token.begin(), token.end(), IsAsciiSpace)) {
    return AuthFailure(AuthError::kTokenEmpty, token.empty() ? "" : "only whitespace");
  }
  if (token.size() > kMaxTokenBytes) return Malformed("longer than 8192 bytes");

  // Structure: header.payload.signature, each strict base64url.
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed("not three '.'-separated parts");
  }
  Result<std::string> header_json = Base64UrlDecode(token.substr(0, dot1));
  if (!header_json.ok()) return Malformed("header is not base64url");
  Result<std::string> payload_json = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_json.ok()) return Malformed("payload is not base64url");
  Result<std::string> signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature.ok()) return Malformed("signature is not base64url");

  // Header: only HS256. Parsed before the signature check because it selects the algorithm;
  // nothing from the payload is parsed until the signature has been verified.
  EW_ASSIGN_OR_RETURN(JsonPtr header, ParseObject(*header_json, "header"));
  const cJSON* alg = cJSON_GetObjectItemCaseSensitive(header.get(), "alg");
  if (alg == nullptr) return Malformed("header has no 'alg'");
  if (!cJSON_IsString(alg) || alg->valuestring == nullptr ||
      std::string_view(alg->valuestring) != "HS256") {
    return Malformed("'alg' is not HS256");
  }
  const cJSON* typ = cJSON_GetObjectItemCaseSensitive(header.get(), "typ");
  if (typ != nullptr && (!cJSON_IsString(typ) || typ->valuestring == nullptr ||
                         !EqualsIgnoreCase(typ->valuestring, "JWT"))) {
    return Malformed("'typ' is not JWT");
  }
  if (cJSON_GetObjectItemCaseSensitive(header.get(), "crit") != nullptr) {
    return Malformed("'crit' header is not supported");
  }

  // Signature: HMAC-SHA256 over the ASCII "header.payload", compared in constant time.
  if (options.secret.size() < kMinSecretBytes) {
    return AuthFailure(AuthError::kTokenBadSignature, "verifier secret shorter than 32 bytes");
  }
  if (signature->size() != kSignatureBytes) {
    return AuthFailure(AuthError::kTokenBadSignature, "signature is not 32 bytes");
  }
  EW_ASSIGN_OR_RETURN(auto mac, Hmac(options.secret, token.substr(0, dot2)));
  int diff = mbedtls_ct_memcmp(mac.data(), signature->data(), kSignatureBytes);
  mbedtls_platform_zeroize(mac.data(), mac.size());
  if (diff != 0) return AuthFailure(AuthError::kTokenBadSignature);

  // Claims.
  EW_ASSIGN_OR_RETURN(JsonPtr payload, ParseObject(*payload_json, "payload"));
  EW_ASSIGN_OR_RETURN(Claims claims, ParseClaims(payload.get()));
  if (!claims.exp && !options.allow_no_exp) return Malformed("missing 'exp'");

  // Times: claims are bounded by 2^53 and the leeway is clamped, so nothing overflows.
  int64_t leeway = std::clamp<int64_t>(options.leeway_s, 0, kMaxLeeway);
  if (claims.exp && *claims.exp + leeway < now_s) return AuthFailure(AuthError::kTokenExpired);
  if (claims.nbf && *claims.nbf - leeway > now_s) {
    return AuthFailure(AuthError::kTokenNotYetValid);
  }
  if (options.audience &&
      std::find(claims.aud.begin(), claims.aud.end(), *options.audience) == claims.aud.end()) {
    return AuthFailure(AuthError::kTokenWrongAudience);
  }
  return claims;
}

Result<std::string> MintToken(const MintOptions& options, std::string_view secret) {
  if (options.sub.empty()) return InvalidArgument("sub is empty");
  if (!IsValidUtf8(options.sub)) return InvalidArgument("sub is not valid UTF-8");
  Result<Scopes> scopes = ParseScopes(options.scope);
  if (!scopes.ok()) return InvalidArgument("invalid scope: " + scopes.status().message());
  if (options.audience && (options.audience->empty() || !IsValidUtf8(*options.audience))) {
    return InvalidArgument("audience is empty or not valid UTF-8");
  }
  if (secret.size() < kMinSecretBytes) return InvalidArgument("secret shorter than 32 bytes");
  const auto max_exact = static_cast<int64_t>(kMaxExactDouble);
  if (options.now_s < 0 || options.now_s > max_exact) return InvalidArgument("now is out of range");
  std::optional<int64_t> exp;
  if (options.ttl_s) {
    if (*options.ttl_s <= 0) return InvalidArgument("ttl must be positive");
    if (*options.ttl_s > max_exact - options.now_s) return InvalidArgument("ttl is too large");
    exp = options.now_s + *options.ttl_s;
  }

  JsonWriter payload;
  payload.BeginObject().Key("sub").String(options.sub);
  if (options.audience) payload.Key("aud").String(*options.audience);
  payload.Key("scope").String(FormatScopes(*scopes));
  payload.Key("iat").Int(options.now_s);
  if (exp) payload.Key("exp").Int(*exp);
  payload.EndObject();

  std::string token = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += Base64UrlEncode(payload.str());
  EW_ASSIGN_OR_RETURN(std::string signature, SignHs256(token, secret));
  if (token.size() + 1 + signature.size() > kMaxTokenBytes) {
    return InvalidArgument("token would be longer than 8192 bytes");
  }
  token += '.';
  token += signature;
  return token;
}

Result<std::string_view> BearerToken(std::string_view header_value) {
  constexpr std::string_view kScheme = "bearer";
  std::string_view v = header_value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return AuthFailure(AuthError::kTokenEmpty, "empty Authorization header");
  size_t space = v.find_first_of(" \t");
  if (!EqualsIgnoreCase(v.substr(0, space), kScheme)) {
    return AuthFailure(AuthError::kTokenMalformed, "Authorization scheme is not Bearer");
  }
  if (space == std::string_view::npos) {
    return AuthFailure(AuthError::kTokenEmpty, "Bearer without a token");
  }
  v.remove_prefix(space);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (v.empty()) return AuthFailure(AuthError::kTokenEmpty, "Bearer without a token");
  return v;
}

}  // namespace edgewatch::fw::auth
