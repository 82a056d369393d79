#include "edgewatch/testing/http.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace edgewatch::testing {
namespace {

TEST(HttpTest, ParsesHead) {
  auto r = ParseHttpResponseHead(
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\ncontent-type:  application/json ");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->reason, "Too Many Requests");
  EXPECT_EQ(r->Header("retry-after"), "2");
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  EXPECT_EQ(r->Header("X-Missing"), std::nullopt);
}

TEST(HttpTest, RejectsNonHttp) {
  EXPECT_FALSE(ParseHttpResponseHead("SSH-2.0-OpenSSH").ok());
  EXPECT_FALSE(ParseHttpResponseHead("HTTP/1.1 abc Nope").ok());
  EXPECT_FALSE(ParseHttpResponseHead("HTTP/1.1 200 OK\r\nno colon here").ok());
}

struct SocketPair {
  SocketPair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
    reader = UniqueFd(sv[0]);
    writer = UniqueFd(sv[1]);
  }
  UniqueFd reader, writer;
};

TEST(HttpTest, ReadsChunkedBodyAndKeepsTheRest) {
  SocketPair sp;
  ASSERT_TRUE(WriteAll(sp.writer.get(),
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\nNEXT",
                       Deadline(1000))
                  .ok());
  std::string pending;
  auto r = ReadHttpResponse(sp.reader.get(), &pending, true, Deadline(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "{\"a\":1}");
  EXPECT_EQ(pending, "NEXT");
}

TEST(HttpTest, ReadsBodyUntilEofWithoutLength) {
  SocketPair sp;
  ASSERT_TRUE(
      WriteAll(sp.writer.get(), "HTTP/1.0 404 Not Found\r\n\r\n{\"error\":\"x\"}", Deadline(1000))
          .ok());
  sp.writer.Reset();
  std::string pending;
  auto r = ReadHttpResponse(sp.reader.get(), &pending, true, Deadline(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"error\":\"x\"}");
}

TEST(HttpTest, TruncatedBodyIsAnError) {
  SocketPair sp;
  ASSERT_TRUE(
      WriteAll(sp.writer.get(), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", Deadline(1000))
          .ok());
  sp.writer.Reset();
  std::string pending;
  auto r = ReadHttpResponse(sp.reader.get(), &pending, true, Deadline(5000));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace edgewatch::testing
