#include "url.h"

#include <gtest/gtest.h>

namespace edgewatch::cli {
namespace {

TEST(UrlTest, ParsesWebSocketUrls) {
  auto u = ParseUrl("ws://127.0.0.1:8080/ws", "/ws");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "ws");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/ws");
  EXPECT_FALSE(u->tls());
  EXPECT_EQ(u->HostPort(), "127.0.0.1:8080");
}

TEST(UrlTest, DefaultsPortAndPath) {
  auto u = ParseUrl("WSS://gw.local", "/ws");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "wss");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/ws");
  EXPECT_TRUE(u->tls());
  u = ParseUrl("http://gw:81?x=1", "/ws");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 81);
  EXPECT_EQ(u->path, "/ws?x=1");
  u = ParseUrl("http://gw", "");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "");
}

TEST(UrlTest, KeepsQuery) {
  auto u = ParseUrl("ws://h:1/ws?token=abc", "/ws");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->path, "/ws?token=abc");
}

TEST(UrlTest, Ipv6Literals) {
  auto u = ParseUrl("ws://[::1]:9000/ws", "/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->HostPort(), "[::1]:9000");
}

TEST(UrlTest, RejectsBadUrls) {
  for (const char* bad :
       {"127.0.0.1:8080", "ftp://h/", "ws://", "ws://:80/", "ws://h:/", "ws://h:0/",
        "ws://h:65536/", "ws://h:12a/", "ws://u@h/", "ws://h/#f", "ws://[::1/", "ws://[::1]x/"}) {
    EXPECT_FALSE(ParseUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace edgewatch::cli
