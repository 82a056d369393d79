#include "edgewatch/fw/auth/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace edgewatch::fw::auth {
namespace {

struct Vector {
  const char* plain;
  const char* encoded;
};

// RFC 4648 §10 test vectors, without padding (the base64 and base64url alphabets agree on these).
constexpr Vector kRfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64UrlTest, Rfc4648Vectors) {
  for (const Vector& v : kRfc4648) {
    EXPECT_EQ(Base64UrlEncode(v.plain), v.encoded) << v.plain;
    Result<std::string> decoded = Base64UrlDecode(v.encoded);
    ASSERT_TRUE(decoded.ok()) << v.encoded << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, v.plain);
  }
}

TEST(Base64UrlTest, UsesUrlSafeAlphabet) {
  // 0xfb 0xff 0xbf is "+/+/" in standard base64.
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  Result<std::string> decoded = Base64UrlDecode("-_-_");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "\xfb\xff\xbf");
}

TEST(Base64UrlTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len += 1) {
    std::string in = all.substr(0, len);
    Result<std::string> out = Base64UrlDecode(Base64UrlEncode(in));
    ASSERT_TRUE(out.ok()) << len;
    EXPECT_EQ(*out, in);
  }
}

TEST(Base64UrlTest, RejectsPaddingAndForeignCharacters) {
  for (const char* bad : {"Zg==", "Zm8=", "Zm9v=", "+/+/", "Zm 9v", "Zm9v\n", "Zm.9", "Zm9*"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).ok()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)).ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v\xc3\xa9").ok());
}

TEST(Base64UrlTest, RejectsImpossibleLength) {
  EXPECT_FALSE(Base64UrlDecode("Z").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  // "Zg" is the only encoding of "f"; "Zh".."Zv" carry non-zero unused bits.
  EXPECT_TRUE(Base64UrlDecode("Zg").ok());
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());
  EXPECT_FALSE(Base64UrlDecode("Zv").ok());
  // "Zm8" is the only encoding of "fo"; "Zm9" has a non-zero unused bit pair.
  EXPECT_TRUE(Base64UrlDecode("Zm8").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9").ok());
}

}  // namespace
}  // namespace edgewatch::fw::auth
