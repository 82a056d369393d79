#include "edgewatch/fw/topic.h"

#include <gtest/gtest.h>

namespace edgewatch::fw {
namespace {

TEST(TopicTest, ValidNames) {
  EXPECT_TRUE(ValidateTopicName("pipeline/cam1/frame").ok());
  EXPECT_TRUE(ValidateTopicName("a//b").ok());
  EXPECT_TRUE(ValidateTopicName("/leading").ok());
  EXPECT_FALSE(ValidateTopicName("").ok());
  EXPECT_FALSE(ValidateTopicName("a/+/b").ok());
  EXPECT_FALSE(ValidateTopicName("a/#").ok());
  EXPECT_FALSE(ValidateTopicName(std::string(257, 'a')).ok());
  EXPECT_FALSE(ValidateTopicName(std::string_view("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateTopicName("bad\xff").ok());
}

TEST(TopicTest, ValidPatterns) {
  EXPECT_TRUE(ValidatePattern("#").ok());
  EXPECT_TRUE(ValidatePattern("+").ok());
  EXPECT_TRUE(ValidatePattern("pipeline/+/frame").ok());
  EXPECT_TRUE(ValidatePattern("system/#").ok());
  EXPECT_TRUE(ValidatePattern("+/+/#").ok());
  EXPECT_FALSE(ValidatePattern("a/#/b").ok());
  EXPECT_FALSE(ValidatePattern("a/b#").ok());
  EXPECT_FALSE(ValidatePattern("a/+b").ok());
  EXPECT_FALSE(ValidatePattern("").ok());
}

struct MatchCase {
  const char* pattern;
  const char* topic;
  bool match;
};

TEST(TopicTest, Matching) {
  const MatchCase cases[] = {
      {"pipeline/+/frame", "pipeline/cam1/frame", true},
      {"pipeline/+/frame", "pipeline/cam1/status", false},
      {"pipeline/+/frame", "pipeline/frame", false},
      {"pipeline/+/frame", "pipeline/cam1/frame/x", false},
      {"pipeline/#", "pipeline/cam1/frame", true},
      {"pipeline/#", "pipeline", true},  // '#' matches the parent too
      {"pipeline/#", "pipelines/x", false},
      {"#", "anything/at/all", true},
      {"#", "x", true},
      {"+", "x", true},
      {"+", "x/y", false},
      {"a/+/b", "a//b", true},  // '+' matches an empty segment
      {"a//b", "a//b", true},
      {"a//b", "a/x/b", false},
      {"a/+", "a/", true},
      {"a/+", "a", false},
      {"+/#", "a", true},
      {"system/resources", "system/resources", true},
      {"system/resources", "system/resources/x", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TopicMatches(c.pattern, c.topic), c.match) << c.pattern << " vs " << c.topic;
  }
}

TEST(TopicTest, Covers) {
  EXPECT_TRUE(PatternCovers("#", "pipeline/+/frame"));
  EXPECT_TRUE(PatternCovers("pipeline/#", "pipeline/+/frame"));
  EXPECT_TRUE(PatternCovers("pipeline/#", "pipeline/#"));
  EXPECT_TRUE(PatternCovers("pipeline/#", "pipeline"));
  EXPECT_TRUE(PatternCovers("pipeline/+/frame", "pipeline/cam1/frame"));
  EXPECT_TRUE(PatternCovers("pipeline/+/frame", "pipeline/+/frame"));
  EXPECT_FALSE(PatternCovers("pipeline/cam1/frame", "pipeline/+/frame"));
  EXPECT_FALSE(PatternCovers("pipeline/+/frame", "pipeline/#"));
  EXPECT_FALSE(PatternCovers("pipeline/+", "pipeline/+/frame"));
  EXPECT_FALSE(PatternCovers("system/#", "#"));
  EXPECT_FALSE(PatternCovers("pipeline/cam1/#", "pipeline/+/frame"));
}

TEST(TopicTest, FirstSegment) {
  EXPECT_EQ(FirstSegment("pipeline/cam1/frame"), "pipeline");
  EXPECT_EQ(FirstSegment("alerts"), "alerts");
}

}  // namespace
}  // namespace edgewatch::fw
