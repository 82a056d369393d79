#include "edgewatch/fw/auth/claims.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace edgewatch::fw::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Claims WithScopes(std::string_view text) {
  Result<Scopes> scopes = ParseScopes(text);
  EXPECT_TRUE(scopes.ok()) << text << ": " << scopes.status().ToString();
  Claims claims;
  claims.sub = "tester";
  if (scopes.ok()) claims.scopes = *scopes;
  return claims;
}

TEST(ScopesTest, ParsesWords) {
  Result<Scopes> s = ParseScopes("read:pipeline/# read:system/#  write:alerts/+ admin");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(s->read, ElementsAre("pipeline/#", "system/#"));
  EXPECT_THAT(s->write, ElementsAre("alerts/+"));
  EXPECT_TRUE(s->admin);
}

TEST(ScopesTest, EmptyAndDuplicates) {
  Result<Scopes> empty = ParseScopes("   ");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(empty->read, IsEmpty());
  EXPECT_FALSE(empty->admin);

  Result<Scopes> dup = ParseScopes(" read:a/# read:a/# ");
  ASSERT_TRUE(dup.ok());
  EXPECT_THAT(dup->read, ElementsAre("a/#"));
}

TEST(ScopesTest, RejectsUnknownAndInvalid) {
  for (const char* bad : {"read:", "write:", "read:a/#/b", "read:a/b#", "Admin", "read",
                          "subscribe:a", "read:pipeline/#\tadmin", "read:a\xff"}) {
    EXPECT_FALSE(ParseScopes(bad).ok()) << bad;
  }
}

TEST(ScopesTest, FormatRoundTrips) {
  Result<Scopes> s = ParseScopes("admin write:x/+  read:a/# read:b");
  ASSERT_TRUE(s.ok());
  std::string text = FormatScopes(*s);
  EXPECT_EQ(text, "read:a/# read:b write:x/+ admin");
  Result<Scopes> again = ParseScopes(text);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->read, s->read);
  EXPECT_EQ(again->write, s->write);
  EXPECT_EQ(again->admin, s->admin);
}

TEST(ClaimsTest, ReadScopeCoversSubscriptions) {
  Claims c = WithScopes("read:pipeline/#");
  EXPECT_TRUE(c.CanRead("pipeline/+/frame"));
  EXPECT_TRUE(c.CanRead("pipeline/cam1/frame"));
  EXPECT_TRUE(c.CanRead("pipeline/#"));
  EXPECT_TRUE(c.CanRead("pipeline"));
  EXPECT_FALSE(c.CanRead("system/#"));
  EXPECT_FALSE(c.CanRead("#"));
  EXPECT_FALSE(c.CanRead("+/frame"));
  EXPECT_FALSE(c.CanRead("pipelines/x"));
  EXPECT_FALSE(c.IsAdmin());
}

TEST(ClaimsTest, SingleLevelScope) {
  Claims c = WithScopes("read:pipeline/+/frame");
  EXPECT_TRUE(c.CanRead("pipeline/cam1/frame"));
  EXPECT_TRUE(c.CanRead("pipeline/+/frame"));
  EXPECT_FALSE(c.CanRead("pipeline/#"));
  EXPECT_FALSE(c.CanRead("pipeline/cam1/#"));
  EXPECT_FALSE(c.CanRead("pipeline/cam1/frame/x"));
}

TEST(ClaimsTest, AnyReadScopeSuffices) {
  Claims c = WithScopes("read:pipeline/# read:system/#");
  EXPECT_TRUE(c.CanRead("system/cpu"));
  EXPECT_TRUE(c.CanRead("pipeline/+/frame"));
  EXPECT_FALSE(c.CanRead("+/cpu"));  // could match topics outside both scopes
}

TEST(ClaimsTest, ReadAndWriteAreSeparate) {
  Claims c = WithScopes("read:pipeline/# write:alerts/+/ack");
  EXPECT_TRUE(c.CanWrite("alerts/a1/ack"));
  EXPECT_FALSE(c.CanWrite("alerts/a1/clear"));
  EXPECT_FALSE(c.CanWrite("pipeline/cam1/frame"));
  EXPECT_FALSE(c.CanRead("alerts/a1/ack"));
}

TEST(ClaimsTest, AdminMayDoEverythingValid) {
  Claims c = WithScopes("admin");
  EXPECT_TRUE(c.IsAdmin());
  EXPECT_TRUE(c.CanRead("#"));
  EXPECT_TRUE(c.CanWrite("alerts/a1/ack"));
  EXPECT_FALSE(c.CanRead("a/#/b"));
  EXPECT_FALSE(c.CanWrite(""));
}

TEST(ClaimsTest, NoScopesNoAccess) {
  Claims c = WithScopes("");
  EXPECT_FALSE(c.CanRead("pipeline/x"));
  EXPECT_FALSE(c.CanWrite("pipeline/x"));
}

TEST(ClaimsTest, InvalidRequestsAreRefused) {
  Claims c = WithScopes("read:# write:#");
  EXPECT_TRUE(c.CanRead("anything/at/all"));
  EXPECT_FALSE(c.CanRead(""));
  EXPECT_FALSE(c.CanRead("a/b#"));
  EXPECT_FALSE(c.CanWrite("a/#/b"));
  EXPECT_FALSE(c.CanRead(std::string(300, 'a')));
}

}  // namespace
}  // namespace edgewatch::fw::auth
