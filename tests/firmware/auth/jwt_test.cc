#include "edgewatch/fw/auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "edgewatch/fw/auth/base64url.h"

namespace edgewatch::fw::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kSecret[] = "test-secret-0123456789abcdef-0123456789";
constexpr char kHs256Header[] = R"({"alg":"HS256","typ":"JWT"})";

std::string B64(std::string_view s) {
  return Base64UrlEncode(s);
}

// "<b64 header>.<b64 payload>.<HS256 signature under secret>" for arbitrary JSON texts.
std::string Sign(std::string_view header, std::string_view payload,
                 std::string_view secret = kSecret) {
  std::string input = B64(header) + "." + B64(payload);
  Result<std::string> sig = SignHs256(input, secret);
  EXPECT_TRUE(sig.ok());
  return input + "." + (sig.ok() ? *sig : "");
}

std::string Payload(std::string_view extra = "") {
  std::string p =
      R"({"sub":"alice","exp":)" + std::to_string(kNow + 3600) + R"(,"scope":"read:pipeline/#")";
  if (!extra.empty()) p += "," + std::string(extra);
  return p + "}";
}

VerifyOptions Options() {
  VerifyOptions o;
  o.secret = kSecret;
  return o;
}

std::optional<AuthError> Reason(const Result<Claims>& r) {
  return ReasonOf(r.status());
}

// --- Known vectors -------------------------------------------------------------------------

// RFC 7515 appendix A.1: HS256 with a 64-byte key given as a JWK.
constexpr char kRfc7515Key[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr char kRfc7515Token[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

TEST(JwtVectorTest, Rfc7515A1SignatureAgrees) {
  Result<std::string> key = Base64UrlDecode(kRfc7515Key);
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(key->size(), 64u);
  std::string_view token = kRfc7515Token;
  size_t last_dot = token.rfind('.');
  Result<std::string> sig = SignHs256(token.substr(0, last_dot), *key);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*sig, token.substr(last_dot + 1));

  // Through VerifyToken: the signature is accepted (a wrong key says bad_signature), and the
  // token is then refused only because it has no `sub`.
  VerifyOptions o;
  o.secret = *key;
  o.leeway_s = 0;
  Result<Claims> r = VerifyToken(kRfc7515Token, o, 1300819380);
  EXPECT_EQ(Reason(r), AuthError::kTokenMalformed);
  EXPECT_THAT(r.status().message(), HasSubstr("sub"));
  o.secret[0] ^= 1;
  EXPECT_EQ(Reason(VerifyToken(kRfc7515Token, o, 1300819380)), AuthError::kTokenBadSignature);
}

TEST(JwtVectorTest, JwtIoExampleSignatureAgrees) {
  // jwt.io's default HS256 example (its 19-byte key is too short for VerifyToken).
  Result<std::string> sig = SignHs256(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
      "your-256-bit-secret");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*sig, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

// --- Accepted tokens -----------------------------------------------------------------------

TEST(VerifyTokenTest, AcceptsValidTokenAndReturnsClaims) {
  std::string token =
      Sign(kHs256Header, R"({"sub":"alice","exp":1700003600,"nbf":1699999000,"iat":1699999000,)"
                         R"("aud":["gw-1","gw-2"],"scope":"read:pipeline/# write:alerts/+ admin",)"
                         R"("iss":"ignored","kid":1})");
  Result<Claims> r = VerifyToken(token, Options(), kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sub, "alice");
  EXPECT_EQ(r->exp, 1700003600);
  EXPECT_EQ(r->nbf, 1699999000);
  EXPECT_EQ(r->iat, 1699999000);
  EXPECT_THAT(r->aud, ElementsAre("gw-1", "gw-2"));
  EXPECT_THAT(r->scopes.read, ElementsAre("pipeline/#"));
  EXPECT_THAT(r->scopes.write, ElementsAre("alerts/+"));
  EXPECT_TRUE(r->IsAdmin());
}

TEST(VerifyTokenTest, TypIsOptionalAndCaseInsensitive) {
  for (const char* header : {R"({"alg":"HS256"})", R"({"typ":"jwt","alg":"HS256"})",
                             R"({"alg":"HS256","kid":"k1"})", " {\r\n \"alg\" : \"HS256\" } "}) {
    EXPECT_TRUE(VerifyToken(Sign(header, Payload()), Options(), kNow).ok()) << header;
  }
}

TEST(VerifyTokenTest, FractionalTimesAreRoundedDown) {
  Result<Claims> r =
      VerifyToken(Sign(kHs256Header, R"({"sub":"a","exp":1700000100.9})"), Options(), kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exp, 1700000100);
}

TEST(VerifyTokenTest, ScopeIsOptional) {
  Result<Claims> r =
      VerifyToken(Sign(kHs256Header, R"({"sub":"a","exp":1700000100})"), Options(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->CanRead("pipeline/x"));
}

// --- Leeway and times ----------------------------------------------------------------------

std::string ExpAt(int64_t exp) {
  return Sign(kHs256Header, R"({"sub":"a","exp":)" + std::to_string(exp) + "}");
}
std::string NbfAt(int64_t nbf) {
  return Sign(kHs256Header, R"({"sub":"a","exp":1800000000,"nbf":)" + std::to_string(nbf) + "}");
}

TEST(VerifyTokenTest, ExpiryHonoursLeeway) {
  EXPECT_TRUE(VerifyToken(ExpAt(kNow), Options(), kNow).ok());
  EXPECT_TRUE(VerifyToken(ExpAt(kNow - 29), Options(), kNow).ok());
  EXPECT_TRUE(VerifyToken(ExpAt(kNow - 30), Options(), kNow).ok());
  EXPECT_EQ(Reason(VerifyToken(ExpAt(kNow - 31), Options(), kNow)), AuthError::kTokenExpired);
  EXPECT_EQ(Reason(VerifyToken(ExpAt(kNow - 86400), Options(), kNow)), AuthError::kTokenExpired);

  VerifyOptions strict = Options();
  strict.leeway_s = 0;
  EXPECT_TRUE(VerifyToken(ExpAt(kNow), strict, kNow).ok());
  EXPECT_EQ(Reason(VerifyToken(ExpAt(kNow - 1), strict, kNow)), AuthError::kTokenExpired);
  strict.leeway_s = -100;  // counts as 0
  EXPECT_EQ(Reason(VerifyToken(ExpAt(kNow - 1), strict, kNow)), AuthError::kTokenExpired);

  VerifyOptions lax = Options();
  lax.leeway_s = 3600;
  EXPECT_TRUE(VerifyToken(ExpAt(kNow - 3600), lax, kNow).ok());
  lax.leeway_s = INT64_MAX;  // clamped to 2^53, no overflow
  EXPECT_TRUE(VerifyToken(ExpAt(-1'000'000'000), lax, kNow).ok());
  EXPECT_TRUE(VerifyToken(NbfAt(9007199254740992), lax, kNow).ok());
}

TEST(VerifyTokenTest, NotBeforeHonoursLeeway) {
  EXPECT_TRUE(VerifyToken(NbfAt(kNow + 30), Options(), kNow).ok());
  EXPECT_EQ(Reason(VerifyToken(NbfAt(kNow + 31), Options(), kNow)), AuthError::kTokenNotYetValid);
  EXPECT_EQ(Reason(VerifyToken(NbfAt(kNow + 86400), Options(), kNow)),
            AuthError::kTokenNotYetValid);
}

TEST(VerifyTokenTest, ExpIsRequiredUnlessAllowed) {
  std::string token = Sign(kHs256Header, R"({"sub":"a"})");
  Result<Claims> r = VerifyToken(token, Options(), kNow);
  EXPECT_EQ(Reason(r), AuthError::kTokenMalformed);
  EXPECT_THAT(r.status().message(), HasSubstr("exp"));
  VerifyOptions o = Options();
  o.allow_no_exp = true;
  Result<Claims> ok = VerifyToken(token, o, kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->exp.has_value());
}

// --- Audience ------------------------------------------------------------------------------

TEST(VerifyTokenTest, AudienceIsCheckedWhenConfigured) {
  VerifyOptions o = Options();
  o.audience = "gw-1";
  EXPECT_TRUE(VerifyToken(Sign(kHs256Header, Payload(R"("aud":"gw-1")")), o, kNow).ok());
  EXPECT_TRUE(VerifyToken(Sign(kHs256Header, Payload(R"("aud":["x","gw-1"])")), o, kNow).ok());
  EXPECT_EQ(Reason(VerifyToken(Sign(kHs256Header, Payload(R"("aud":"gw-2")")), o, kNow)),
            AuthError::kTokenWrongAudience);
  EXPECT_EQ(Reason(VerifyToken(Sign(kHs256Header, Payload(R"("aud":[])")), o, kNow)),
            AuthError::kTokenWrongAudience);
  EXPECT_EQ(Reason(VerifyToken(Sign(kHs256Header, Payload()), o, kNow)),
            AuthError::kTokenWrongAudience);
  EXPECT_EQ(Reason(VerifyToken(Sign(kHs256Header, Payload(R"("aud":"GW-1")")), o, kNow)),
            AuthError::kTokenWrongAudience);
  // Not configured: any well-formed aud is accepted.
  EXPECT_TRUE(VerifyToken(Sign(kHs256Header, Payload(R"("aud":"gw-2")")), Options(), kNow).ok());
}

// --- The hostile table ---------------------------------------------------------------------

struct HostileCase {
  std::string name;
  std::string token;
  AuthError reason;
};

std::vector<HostileCase> HostileCases() {
  const std::string valid = Sign(kHs256Header, Payload());
  const size_t dot1 = valid.find('.');
  const size_t dot2 = valid.rfind('.');
  const std::string header_b64 = valid.substr(0, dot1);
  const std::string signature = valid.substr(dot2 + 1);
  std::string tampered_sig = valid;
  tampered_sig[dot2 + 1] = tampered_sig[dot2 + 1] == 'A' ? 'B' : 'A';
  std::string huge = Sign(kHs256Header, Payload(R"("pad":")" + std::string(64 * 1024, 'x') + "\""));

  return {
      {"empty", "", AuthError::kTokenEmpty},
      {"whitespace", " \t\r\n ", AuthError::kTokenEmpty},
      {"three empty parts", "..", AuthError::kTokenMalformed},
      {"one part", "abc", AuthError::kTokenMalformed},
      {"two parts", header_b64 + "." + B64(Payload()), AuthError::kTokenMalformed},
      {"four parts", valid + ".x", AuthError::kTokenMalformed},
      {"64 KiB token", huge, AuthError::kTokenMalformed},
      {"8 KiB + 1 bytes", std::string(kMaxTokenBytes + 1, 'a'), AuthError::kTokenMalformed},
      {"surrounding whitespace", " " + valid + " ", AuthError::kTokenMalformed},
      {"padding in header", header_b64 + "=." + B64(Payload()) + "." + signature,
       AuthError::kTokenMalformed},
      {"bad base64 payload", header_b64 + ".@@@@." + signature, AuthError::kTokenMalformed},
      {"bad base64 signature", header_b64 + "." + B64(Payload()) + ".a+b/",
       AuthError::kTokenMalformed},
      {"non-JSON header", Sign("not json", Payload()), AuthError::kTokenMalformed},
      {"header is an array", Sign(R"(["HS256"])", Payload()), AuthError::kTokenMalformed},
      {"header with trailing junk", Sign(R"({"alg":"HS256"}x)", Payload()),
       AuthError::kTokenMalformed},
      {"header not UTF-8", Sign("{\"alg\":\"HS256\",\"x\":\"\xff\"}", Payload()),
       AuthError::kTokenMalformed},
      {"alg none, no signature", B64(R"({"alg":"none","typ":"JWT"})") + "." + B64(Payload()) + ".",
       AuthError::kTokenMalformed},
      {"alg none, valid HMAC", Sign(R"({"alg":"none","typ":"JWT"})", Payload()),
       AuthError::kTokenMalformed},
      {"alg None", Sign(R"({"alg":"None"})", Payload()), AuthError::kTokenMalformed},
      {"alg HS512", Sign(R"({"alg":"HS512","typ":"JWT"})", Payload()), AuthError::kTokenMalformed},
      {"alg hs256", Sign(R"({"alg":"hs256"})", Payload()), AuthError::kTokenMalformed},
      {"alg RS256", Sign(R"({"alg":"RS256"})", Payload()), AuthError::kTokenMalformed},
      {"alg missing", Sign(R"({"typ":"JWT"})", Payload()), AuthError::kTokenMalformed},
      {"alg not a string", Sign(R"({"alg":256})", Payload()), AuthError::kTokenMalformed},
      {"duplicate alg", Sign(R"({"alg":"none","alg":"HS256"})", Payload()),
       AuthError::kTokenMalformed},
      {"typ JWE", Sign(R"({"alg":"HS256","typ":"JOSE+JSON"})", Payload()),
       AuthError::kTokenMalformed},
      {"crit header", Sign(R"({"alg":"HS256","crit":["exp"]})", Payload()),
       AuthError::kTokenMalformed},
      {"tampered payload", header_b64 + "." + B64(Payload(R"("scope2":1)")) + "." + signature,
       AuthError::kTokenBadSignature},
      {"tampered payload (admin)",
       header_b64 + "." + B64(R"({"sub":"alice","exp":1800000000,"scope":"admin"})") + "." +
           signature,
       AuthError::kTokenBadSignature},
      {"tampered signature", tampered_sig, AuthError::kTokenBadSignature},
      {"truncated signature", valid.substr(0, valid.size() - 11), AuthError::kTokenBadSignature},
      {"empty signature", valid.substr(0, dot2 + 1), AuthError::kTokenBadSignature},
      {"signature of another secret",
       Sign(kHs256Header, Payload(), "another-secret-0123456789abcdef-0123"),
       AuthError::kTokenBadSignature},
      {"signed payload not JSON", Sign(kHs256Header, "sub=alice"), AuthError::kTokenMalformed},
      {"signed payload an array", Sign(kHs256Header, "[]"), AuthError::kTokenMalformed},
      {"missing sub", Sign(kHs256Header, R"({"exp":1800000000})"), AuthError::kTokenMalformed},
      {"empty sub", Sign(kHs256Header, R"({"sub":"","exp":1800000000})"),
       AuthError::kTokenMalformed},
      {"sub a number", Sign(kHs256Header, R"({"sub":7,"exp":1800000000})"),
       AuthError::kTokenMalformed},
      {"duplicate sub", Sign(kHs256Header, R"({"sub":"a","sub":"root","exp":1800000000})"),
       AuthError::kTokenMalformed},
      {"exp a string", Sign(kHs256Header, R"({"sub":"a","exp":"1800000000"})"),
       AuthError::kTokenMalformed},
      {"exp too large", Sign(kHs256Header, R"({"sub":"a","exp":1e300})"),
       AuthError::kTokenMalformed},
      {"nbf a bool", Sign(kHs256Header, Payload(R"("nbf":true)")), AuthError::kTokenMalformed},
      {"aud a number", Sign(kHs256Header, Payload(R"("aud":1)")), AuthError::kTokenMalformed},
      {"aud array of numbers", Sign(kHs256Header, Payload(R"("aud":["a",1])")),
       AuthError::kTokenMalformed},
      {"scope not a string",
       Sign(kHs256Header, R"({"sub":"a","exp":1800000000,"scope":["admin"]})"),
       AuthError::kTokenMalformed},
      {"scope with invalid pattern",
       Sign(kHs256Header, R"({"sub":"a","exp":1800000000,"scope":"read:a/#/b"})"),
       AuthError::kTokenMalformed},
      {"scope unknown word", Sign(kHs256Header, R"({"sub":"a","exp":1800000000,"scope":"root"})"),
       AuthError::kTokenMalformed},
      {"expired beyond leeway", ExpAt(kNow - 31), AuthError::kTokenExpired},
      {"nbf in the future", NbfAt(kNow + 3600), AuthError::kTokenNotYetValid},
  };
}

TEST(VerifyTokenTest, HostileTokensGetTheirDocumentedReason) {
  const std::vector<HostileCase> cases = HostileCases();
  ASSERT_GE(cases.size(), 30u);
  for (const HostileCase& c : cases) {
    Result<Claims> r = VerifyToken(c.token, Options(), kNow);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << c.name;
    ASSERT_TRUE(Reason(r).has_value()) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(ReasonName(*Reason(r)), ReasonName(c.reason))
        << c.name << ": " << r.status().ToString();
  }
}

TEST(VerifyTokenTest, MessagesNeverContainTokenOrSecret) {
  for (const HostileCase& c : HostileCases()) {
    Result<Claims> r = VerifyToken(c.token, Options(), kNow);
    const std::string message = r.status().message();  // status() returns a copy
    EXPECT_THAT(message, Not(HasSubstr(kSecret))) << c.name;
    // No fragment of the token (8 characters is far shorter than any detail would quote).
    for (size_t i = 0; i + 8 <= c.token.size() && i < 512; i += 4) {
      std::string fragment = c.token.substr(i, 8);
      ASSERT_THAT(message, Not(HasSubstr(fragment))) << c.name;
    }
  }
}

TEST(VerifyTokenTest, MessagesNeverQuoteClaims) {
  Result<Claims> r = VerifyToken(
      Sign(kHs256Header, R"({"sub":"a","exp":1800000000,"scope":"read:x quoted-claim-word"})"),
      Options(), kNow);
  EXPECT_EQ(Reason(r), AuthError::kTokenMalformed);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("quoted-claim-word")));
}

TEST(VerifyTokenTest, ShortVerifierSecretFailsClosed) {
  VerifyOptions o;
  o.secret = "short";
  std::string token = Sign(kHs256Header, Payload(), o.secret);
  EXPECT_EQ(Reason(VerifyToken(token, o, kNow)), AuthError::kTokenBadSignature);
  o.secret.clear();
  token = Sign(kHs256Header, Payload(), "");
  EXPECT_EQ(Reason(VerifyToken(token, o, kNow)), AuthError::kTokenBadSignature);
}

TEST(VerifyTokenTest, LongestAcceptedToken) {
  // Exactly kMaxTokenBytes is accepted; one more byte is not.
  const std::string base = Sign(kHs256Header, Payload(R"("pad":"")"));
  // Each 3 bytes of padding add 4 base64url characters: start just below the limit.
  size_t pad = (kMaxTokenBytes - base.size()) * 3 / 4 - 8;
  std::string token;
  for (; pad < kMaxTokenBytes; ++pad) {
    token = Sign(kHs256Header, Payload(R"("pad":")" + std::string(pad, 'x') + "\""));
    if (token.size() >= kMaxTokenBytes) break;
  }
  if (token.size() == kMaxTokenBytes) {
    EXPECT_TRUE(VerifyToken(token, Options(), kNow).ok());
  }
  token = Sign(kHs256Header, Payload(R"("pad":")" + std::string(pad + 1, 'x') + "\""));
  ASSERT_GT(token.size(), kMaxTokenBytes);
  EXPECT_EQ(Reason(VerifyToken(token, Options(), kNow)), AuthError::kTokenMalformed);
}

// --- Reasons -------------------------------------------------------------------------------

TEST(ReasonTest, WireNamesAreStable) {
  EXPECT_EQ(ReasonName(AuthError::kTokenMissing), "token_missing");
  EXPECT_EQ(ReasonName(AuthError::kTokenEmpty), "token_empty");
  EXPECT_EQ(ReasonName(AuthError::kTokenMalformed), "token_malformed");
  EXPECT_EQ(ReasonName(AuthError::kTokenBadSignature), "token_bad_signature");
  EXPECT_EQ(ReasonName(AuthError::kTokenExpired), "token_expired");
  EXPECT_EQ(ReasonName(AuthError::kTokenNotYetValid), "token_not_yet_valid");
  EXPECT_EQ(ReasonName(AuthError::kTokenWrongAudience), "token_wrong_audience");
  EXPECT_EQ(ReasonName(AuthError::kAuthTimeout), "auth_timeout");
}

TEST(ReasonTest, ReasonOfRoundTrips) {
  for (AuthError e :
       {AuthError::kTokenMissing, AuthError::kTokenEmpty, AuthError::kTokenMalformed,
        AuthError::kTokenBadSignature, AuthError::kTokenExpired, AuthError::kTokenNotYetValid,
        AuthError::kTokenWrongAudience, AuthError::kAuthTimeout}) {
    EXPECT_EQ(ReasonOf(AuthFailure(e)), e);
    Status with_detail = AuthFailure(e, "some detail");
    EXPECT_EQ(ReasonOf(with_detail), e);
    EXPECT_EQ(with_detail.message(), std::string(ReasonName(e)) + ": some detail");
  }
  EXPECT_EQ(ReasonOf(OkStatus()), std::nullopt);
  EXPECT_EQ(ReasonOf(InvalidArgument("token_expired")), std::nullopt);
  EXPECT_EQ(ReasonOf(Unauthenticated("who knows")), std::nullopt);
}

// --- Bearer header -------------------------------------------------------------------------

TEST(BearerTokenTest, ExtractsToken) {
  for (const char* header : {"Bearer abc.def.ghi", "bearer abc.def.ghi", "BEARER   abc.def.ghi  ",
                             " Bearer\tabc.def.ghi"}) {
    Result<std::string_view> t = BearerToken(header);
    ASSERT_TRUE(t.ok()) << header;
    EXPECT_EQ(*t, "abc.def.ghi");
  }
}

TEST(BearerTokenTest, RefusesOtherForms) {
  EXPECT_EQ(ReasonOf(BearerToken("").status()), AuthError::kTokenEmpty);
  EXPECT_EQ(ReasonOf(BearerToken("Bearer").status()), AuthError::kTokenEmpty);
  EXPECT_EQ(ReasonOf(BearerToken("Bearer    ").status()), AuthError::kTokenEmpty);
  EXPECT_EQ(ReasonOf(BearerToken("Basic dXNlcjpwdw==").status()), AuthError::kTokenMalformed);
  EXPECT_EQ(ReasonOf(BearerToken("Bearerabc").status()), AuthError::kTokenMalformed);
  EXPECT_EQ(ReasonOf(BearerToken("abc.def.ghi").status()), AuthError::kTokenMalformed);
}

// --- Minting -------------------------------------------------------------------------------

MintOptions Mint() {
  MintOptions m;
  m.sub = "phone-1";
  m.scope = "read:pipeline/# read:system/#";
  m.ttl_s = 30 * 86400;
  m.now_s = kNow;
  return m;
}

TEST(MintTokenTest, RoundTrips) {
  Result<std::string> token = MintToken(Mint(), kSecret);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Result<Claims> c = VerifyToken(*token, Options(), kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sub, "phone-1");
  EXPECT_EQ(c->iat, kNow);
  EXPECT_EQ(c->exp, kNow + 30 * 86400);
  EXPECT_FALSE(c->nbf.has_value());
  EXPECT_TRUE(c->aud.empty());
  EXPECT_TRUE(c->CanRead("pipeline/+/frame"));
  EXPECT_TRUE(c->CanRead("system/#"));
  EXPECT_FALSE(c->CanRead("#"));
  EXPECT_FALSE(c->CanWrite("pipeline/x"));
  // Valid until exp + leeway, then expired.
  EXPECT_TRUE(VerifyToken(*token, Options(), kNow + 30 * 86400 + 30).ok());
  EXPECT_EQ(Reason(VerifyToken(*token, Options(), kNow + 30 * 86400 + 31)),
            AuthError::kTokenExpired);
  // Another secret does not verify it.
  VerifyOptions other = Options();
  other.secret = "another-secret-0123456789abcdef-0123";
  EXPECT_EQ(Reason(VerifyToken(*token, other, kNow)), AuthError::kTokenBadSignature);
}

TEST(MintTokenTest, HeaderIsHs256Jwt) {
  Result<std::string> token = MintToken(Mint(), kSecret);
  ASSERT_TRUE(token.ok());
  Result<std::string> header = Base64UrlDecode(token->substr(0, token->find('.')));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, R"({"alg":"HS256","typ":"JWT"})");
}

TEST(MintTokenTest, AudienceAndNoExpiry) {
  MintOptions m = Mint();
  m.ttl_s.reset();
  m.audience = "gw-1";
  m.scope = "admin  read:a/#";
  Result<std::string> token = MintToken(m, kSecret);
  ASSERT_TRUE(token.ok());
  VerifyOptions o = Options();
  o.audience = "gw-1";
  EXPECT_EQ(Reason(VerifyToken(*token, o, kNow)), AuthError::kTokenMalformed);  // no exp
  o.allow_no_exp = true;
  Result<Claims> c = VerifyToken(*token, o, kNow + 10 * 365 * 86400);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->exp.has_value());
  EXPECT_THAT(c->aud, ElementsAre("gw-1"));
  EXPECT_TRUE(c->IsAdmin());
  o.audience = "gw-2";
  EXPECT_EQ(Reason(VerifyToken(*token, o, kNow)), AuthError::kTokenWrongAudience);
}

TEST(MintTokenTest, EscapesSub) {
  MintOptions m = Mint();
  m.sub = "o\"brien\\\n\xc3\xa9";
  Result<std::string> token = MintToken(m, kSecret);
  ASSERT_TRUE(token.ok());
  Result<Claims> c = VerifyToken(*token, Options(), kNow);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sub, m.sub);
}

TEST(MintTokenTest, RefusesBadOptions) {
  auto refused = [](MintOptions m, std::string_view secret = kSecret) {
    Result<std::string> t = MintToken(m, secret);
    return !t.ok() && t.status().code() == StatusCode::kInvalidArgument;
  };
  MintOptions m = Mint();
  EXPECT_TRUE(refused(m, "short-secret"));
  m.sub = "";
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.sub = "bad\xff";
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.scope = "read:a/#/b";
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.scope = "superuser";
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.ttl_s = 0;
  EXPECT_TRUE(refused(m));
  m.ttl_s = -5;
  EXPECT_TRUE(refused(m));
  m.ttl_s = INT64_MAX;
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.audience = "";
  EXPECT_TRUE(refused(m));
  m = Mint();
  m.sub = std::string(9000, 'a');
  EXPECT_TRUE(refused(m));
}

}  // namespace
}  // namespace edgewatch::fw::auth
