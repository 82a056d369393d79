#include "edgewatch/base/json.h"

#include <gtest/gtest.h>

#include "edgewatch/base/json_writer.h"

namespace edgewatch {
namespace {

TEST(JsonTest, ParsesObject) {
  auto r = ParseJson(R"({"a":1,"b":"x"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(GetInt(r->get(), "a"), 1);
  EXPECT_EQ(GetString(r->get(), "b"), "x");
}

TEST(JsonTest, RejectsTrailingGarbage) {
  auto r = ParseJson(R"({"a":1} x)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "trailing characters after JSON");
}

TEST(JsonTest, RejectsDeepNesting) {
  std::string deep(40, '[');
  deep += std::string(40, ']');
  auto r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "JSON nested too deeply");
  std::string ok(32, '[');
  ok += std::string(32, ']');
  EXPECT_TRUE(ParseJson(ok).ok());
}

TEST(JsonTest, BracketsInsideStringsDoNotCount) {
  std::string s = "{\"k\":\"" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(ParseJson(s).ok());
}

TEST(JsonTest, RejectsInvalidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xe2\x82"));       // truncated
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  auto r = ParseJson("{\"a\":\"\xff\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "invalid UTF-8");
}

TEST(JsonTest, RejectsOversized) {
  JsonLimits limits;
  limits.max_bytes = 10;
  EXPECT_FALSE(ParseJson(R"({"a":"0123456789"})", limits).ok());
}

TEST(JsonWriterTest, WritesNestedWithCommas) {
  JsonWriter w;
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().Int(2).Double(2.5).Null().EndArray();
  w.Key("c").String("q\"\n\x01").Key("d").Double(3.0).Key("e").Bool(true).EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[2,2.5,null],"c":"q\"\n\u0001","d":3,"e":true})");
}

TEST(JsonWriterTest, ReservesPrefix) {
  JsonWriter w(4);
  w.BeginObject().EndObject();
  EXPECT_EQ(w.str().size(), 6u);
  EXPECT_EQ(w.str().substr(4), "{}");
}

}  // namespace
}  // namespace edgewatch
