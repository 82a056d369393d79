#include "edgewatch/fw/ingest_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgewatch::fw {
namespace {

struct Collected {
  std::vector<std::string> lines;
  std::vector<uint64_t> numbers;
  std::vector<uint64_t> too_long;
};

void FeedAll(LineSplitter& s, const std::vector<std::string>& chunks, Collected* c) {
  for (const auto& chunk : chunks) {
    s.Feed(
        chunk,
        [&](std::string_view line, uint64_t n) {
          c->lines.emplace_back(line);
          c->numbers.push_back(n);
        },
        [&](uint64_t n) { c->too_long.push_back(n); });
  }
}

TEST(LineSplitterTest, SplitsAcrossChunks) {
  LineSplitter s(100);
  Collected c;
  FeedAll(s, {"ab", "c\nde", "f\r\n\ng", "h"}, &c);
  EXPECT_THAT(c.lines, testing::ElementsAre("abc", "def", ""));
  EXPECT_THAT(c.numbers, testing::ElementsAre(1, 2, 3));
  EXPECT_EQ(s.pending(), 2u);  // "gh" waits for its newline
}

TEST(LineSplitterTest, OversizedLineIsDiscardedUpToItsNewline) {
  LineSplitter s(8);
  Collected c;
  FeedAll(s, {"ok\n", std::string(5, 'x'), std::string(5, 'x'), "xxx\nnext\n"}, &c);
  EXPECT_THAT(c.lines, testing::ElementsAre("ok", "next"));
  EXPECT_THAT(c.numbers, testing::ElementsAre(1, 3));
  EXPECT_THAT(c.too_long, testing::ElementsAre(2));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitterTest, LineExactlyAtLimitIsAccepted) {
  LineSplitter s(4);
  Collected c;
  FeedAll(s, {"abcd\nabcde\n"}, &c);
  EXPECT_THAT(c.lines, testing::ElementsAre("abcd"));
  EXPECT_THAT(c.too_long, testing::ElementsAre(2));
}

std::string CodeOf(std::string_view line) {
  auto r = ParseIngestLine(line, 64 * 1024);
  if (auto* e = std::get_if<IngestError>(&r)) return e->code;
  return "ok";
}

TEST(IngestCodecTest, AcceptsValidLines) {
  auto r = ParseIngestLine(R"({"topic":"pipeline/cam1/frame","data":{"fps":30},"ts":17})", 1024);
  ASSERT_TRUE(std::holds_alternative<IngestMessage>(r));
  auto& m = std::get<IngestMessage>(r);
  EXPECT_EQ(m.topic, "pipeline/cam1/frame");
  EXPECT_EQ(m.ts_ms, 17);
  EXPECT_TRUE(cJSON_IsObject(m.data));
  EXPECT_EQ(CodeOf(R"({"topic":"a","data":{}})"), "ok");
}

TEST(IngestCodecTest, RejectsWithCodes) {
  EXPECT_EQ(CodeOf("nope"), "bad_json");
  EXPECT_EQ(CodeOf(R"({"topic":"a","data":{}} trailing)"), "bad_json");
  EXPECT_EQ(CodeOf("[]"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"data":{}})"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"topic":"a"})"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"topic":"a","data":[1]})"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"topic":"a","data":{},"ts":-1})"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"topic":"a","data":{},"ts":"now"})"), "bad_line");
  EXPECT_EQ(CodeOf(R"({"topic":"a/+","data":{}})"), "invalid_topic");
  EXPECT_EQ(CodeOf(R"({"topic":"","data":{}})"), "invalid_topic");
  EXPECT_EQ(CodeOf("{\"topic\":\"a\",\"data\":{\"s\":\"\xc3\"}}"), "invalid_utf8");
  std::string deep = R"({"topic":"a","data":)" + std::string(33, '[') + std::string(33, ']') + "}";
  EXPECT_EQ(CodeOf(deep), "too_deep");
}

TEST(IngestCodecTest, ErrorLine) {
  EXPECT_EQ(IngestErrorLine("bad_json", "malformed JSON", 3),
            "{\"error\":\"bad_json\",\"message\":\"malformed JSON\",\"line\":3}\n");
}

std::string ProducerCode(std::string_view line) {
  auto r = ParseProducerLine(line, 4096);
  auto* e = std::get_if<IngestError>(&r);
  return e != nullptr ? e->code : "";
}

TEST(IngestCodecTest, ProducerControlLines) {
  auto r = ParseProducerLine(
      R"({"register":{"targets":["pipeline/cam1","pipeline/cam2"],"commands":["restart"]}})", 1024);
  auto* reg = std::get_if<IngestRegister>(&r);
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->targets, (std::vector<std::string>{"pipeline/cam1", "pipeline/cam2"}));
  EXPECT_EQ(reg->commands, (std::vector<std::string>{"restart"}));
  EXPECT_EQ(RegisteredLine(*reg),
            "{\"registered\":{\"targets\":[\"pipeline/cam1\",\"pipeline/cam2\"],"
            "\"commands\":[\"restart\"]}}\n");

  r = ParseProducerLine(R"({"result":{"id":"ab12","ok":false,"message":"busy"}})", 1024);
  auto* res = std::get_if<IngestResult>(&r);
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->id, "ab12");
  EXPECT_FALSE(res->ok);
  EXPECT_EQ(res->message, "busy");

  // Event lines parse exactly as ParseIngestLine.
  r = ParseProducerLine(R"({"topic":"pipeline/cam1/frame","data":{"fps":30}})", 1024);
  ASSERT_NE(std::get_if<IngestMessage>(&r), nullptr);
  EXPECT_EQ(ProducerCode(R"({"topic":"a"})"), "bad_line");

  EXPECT_EQ(ProducerCode(R"({"register":[]})"), "bad_register");
  EXPECT_EQ(ProducerCode(R"({"register":{"targets":[],"commands":[]}})"), "bad_register");
  EXPECT_EQ(ProducerCode(R"({"register":{"targets":["a/#"],"commands":[]}})"), "bad_register");
  EXPECT_EQ(ProducerCode(R"({"register":{"targets":["a"],"commands":["no spaces"]}})"),
            "bad_register");
  EXPECT_EQ(ProducerCode(R"({"register":{"targets":["a"],"commands":[1]}})"), "bad_register");
  EXPECT_EQ(ProducerCode(R"({"register":{"targets":["a"]}})"), "bad_register");
  EXPECT_EQ(ProducerCode(R"({"result":{"ok":true}})"), "bad_result");
  EXPECT_EQ(ProducerCode(R"({"result":{"id":"x","ok":"yes"}})"), "bad_result");
  EXPECT_EQ(ProducerCode(R"({"result":{"id":"x","ok":true,"message":7}})"), "bad_result");
  EXPECT_EQ(ProducerCode(R"({"result":{"id":"x","ok":true,"message":")" + std::string(1025, 'm') +
                         "\"}}"),
            "bad_result");
}

TEST(IngestCodecTest, CommandLine) {
  auto args = ParseJson(R"({"value":0.5})");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(CommandLine("ab12", "pipeline/cam1", "set_threshold", args->get(), "alice"),
            "{\"command\":{\"id\":\"ab12\",\"target\":\"pipeline/"
            "cam1\",\"name\":\"set_threshold\",\"args\":{\"value\":0.5},"
            "\"from\":\"alice\"}}\n");
  EXPECT_EQ(CommandLine("1", "a", "restart", nullptr, "anonymous"),
            "{\"command\":{\"id\":\"1\",\"target\":\"a\",\"name\":\"restart\",\"args\":{},\"from\":"
            "\"anonymous\"}}\n");
}

}  // namespace
}  // namespace edgewatch::fw
