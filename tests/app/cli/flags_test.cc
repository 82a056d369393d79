#include "flags.h"

#include <gtest/gtest.h>

namespace edgewatch::cli {
namespace {

struct Fixture {
  std::string url = "ws://default";
  int64_t count = 0;
  bool verbose = false;
  FlagParser parser{"tail", "PATTERN...", "Prints events."};
  Fixture() {
    parser.String("url", &url, "URL", "gateway URL");
    parser.Int("count", &count, "N", "stop after N events", 0, 1000);
    parser.Bool("verbose", &verbose, "say more");
  }
  FlagParser::Outcome Parse(std::vector<std::string> args) {
    return parser.Parse(args, &positionals, &error);
  }
  std::vector<std::string> positionals;
  std::string error;
};

TEST(FlagParserTest, ParsesOptionsAndPositionalsInAnyOrder) {
  Fixture f;
  ASSERT_EQ(f.Parse({"a/#", "--url", "ws://x:1/ws", "--count=5", "b/+", "--verbose"}),
            FlagParser::Outcome::kOk)
      << f.error;
  EXPECT_EQ(f.url, "ws://x:1/ws");
  EXPECT_EQ(f.count, 5);
  EXPECT_TRUE(f.verbose);
  EXPECT_EQ(f.positionals, (std::vector<std::string>{"a/#", "b/+"}));
}

TEST(FlagParserTest, DefaultsSurviveWhenAbsent) {
  Fixture f;
  ASSERT_EQ(f.Parse({"x"}), FlagParser::Outcome::kOk);
  EXPECT_EQ(f.url, "ws://default");
  EXPECT_EQ(f.count, 0);
  EXPECT_FALSE(f.verbose);
}

TEST(FlagParserTest, DoubleDashEndsOptions) {
  Fixture f;
  ASSERT_EQ(f.Parse({"--", "--count", "-"}), FlagParser::Outcome::kOk);
  EXPECT_EQ(f.positionals, (std::vector<std::string>{"--count", "-"}));
  EXPECT_EQ(f.count, 0);
}

TEST(FlagParserTest, Help) {
  Fixture f;
  EXPECT_EQ(f.Parse({"x", "--help"}), FlagParser::Outcome::kHelp);
  EXPECT_EQ(f.Parse({"-h"}), FlagParser::Outcome::kHelp);
  std::string help = f.parser.Help();
  EXPECT_EQ(help.rfind("usage: edgewatch tail [options] PATTERN...\n", 0), 0u) << help;
  EXPECT_NE(help.find("--count N"), std::string::npos);
  EXPECT_NE(help.find("stop after N events"), std::string::npos);
}

TEST(FlagParserTest, Errors) {
  Fixture f;
  EXPECT_EQ(f.Parse({"--nope"}), FlagParser::Outcome::kError);
  EXPECT_NE(f.error.find("--nope"), std::string::npos);
  EXPECT_EQ(f.Parse({"-x"}), FlagParser::Outcome::kError);
  EXPECT_EQ(f.Parse({"--url"}), FlagParser::Outcome::kError);
  EXPECT_NE(f.error.find("needs a value"), std::string::npos);
  EXPECT_EQ(f.Parse({"--count", "abc"}), FlagParser::Outcome::kError);
  EXPECT_EQ(f.Parse({"--count", "1001"}), FlagParser::Outcome::kError);
  EXPECT_EQ(f.Parse({"--count", "-1"}), FlagParser::Outcome::kError);
  EXPECT_EQ(f.Parse({"--count", ""}), FlagParser::Outcome::kError);
  EXPECT_EQ(f.Parse({"--verbose=yes"}), FlagParser::Outcome::kError);
}

TEST(FlagParserTest, BoolAcceptsExplicitValues) {
  Fixture f;
  ASSERT_EQ(f.Parse({"--verbose=true"}), FlagParser::Outcome::kOk);
  EXPECT_TRUE(f.verbose);
  ASSERT_EQ(f.Parse({"--verbose=false"}), FlagParser::Outcome::kOk);
  EXPECT_FALSE(f.verbose);
}

}  // namespace
}  // namespace edgewatch::cli
