// WsTestClient against an in-process peer on a socketpair: the test plays the server with the
// frame codec, so every byte on the wire is checked. No threads: the socket buffers hold what
// either side writes until the other reads it.
#include "edgewatch/testing/ws_test_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 5000;  // failure bound only

class Peer {
 public:
  explicit Peer(UniqueFd fd) : fd_(std::move(fd)) { SetNonBlocking(fd_.get()).IgnoreError(); }

  void Write(std::string_view bytes) {
    ASSERT_TRUE(WriteAll(fd_.get(), bytes, Deadline(kTimeoutMs)).ok());
  }
  void Send(FrameSpec spec) { Write(EncodeFrame(spec)); }

  // The next frame the client sent.
  DecodedFrame Next() {
    Deadline deadline(kTimeoutMs);
    for (;;) {
      size_t consumed = 0;
      auto r = DecodeFrame(rx_, &consumed);
      EXPECT_TRUE(r.ok());
      if (!r.ok()) return {};
      if (r->has_value()) {
        rx_.erase(0, consumed);
        return **r;
      }
      auto n = ReadSome(fd_.get(), &rx_, 65536, deadline);
      EXPECT_TRUE(n.ok() && *n > 0) << (n.ok() ? "EOF" : n.status().ToString());
      if (!n.ok() || *n == 0) return {};
    }
  }

  std::string ReadUntil(std::string_view terminator) {
    Deadline deadline(kTimeoutMs);
    while (rx_.find(terminator) == std::string::npos) {
      auto n = ReadSome(fd_.get(), &rx_, 65536, deadline);
      if (!n.ok() || *n == 0) break;
    }
    size_t end = rx_.find(terminator);
    std::string out =
        rx_.substr(0, end == std::string::npos ? rx_.size() : end + terminator.size());
    rx_.erase(0, out.size());
    return out;
  }

  void Close() { fd_.Reset(); }

 private:
  UniqueFd fd_;
  std::string rx_;
};

struct Pair {
  WsTestClient client;
  std::unique_ptr<Peer> peer;
};

void MakePair(Pair* p) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  p->client.Adopt(UniqueFd(sv[0]));
  p->peer = std::make_unique<Peer>(UniqueFd(sv[1]));
}

TEST(WsTestClientTest, SendsMaskedFrames) {
  Pair p;
  MakePair(&p);
  ASSERT_TRUE(p.client.SendText(R"({"op":"ping","id":1})").ok());
  DecodedFrame f = p.peer->Next();
  EXPECT_TRUE(f.masked);
  EXPECT_TRUE(f.fin);
  EXPECT_EQ(f.opcode, 0x1);
  EXPECT_EQ(f.payload, R"({"op":"ping","id":1})");

  p.client.set_masking(false);
  ASSERT_TRUE(p.client.SendBinary("raw").ok());
  f = p.peer->Next();
  EXPECT_FALSE(f.masked);
  EXPECT_EQ(f.opcode, 0x2);
}

TEST(WsTestClientTest, SendsInvalidUtf8AndOversizeControlFrames) {
  Pair p;
  MakePair(&p);
  ASSERT_TRUE(p.client.SendText("\xff\xfe\xc0\xaf").ok());
  EXPECT_EQ(p.peer->Next().payload, "\xff\xfe\xc0\xaf");
  ASSERT_TRUE(p.client.SendPing(std::string(200, 'p')).ok());
  DecodedFrame f = p.peer->Next();
  EXPECT_EQ(f.opcode, 0x9);
  EXPECT_EQ(f.payload.size(), 200u);
}

TEST(WsTestClientTest, SendsFragmentedMessages) {
  Pair p;
  MakePair(&p);
  ASSERT_TRUE(p.client.SendFragmented("abcdefgh", 3).ok());
  DecodedFrame a = p.peer->Next(), b = p.peer->Next(), c = p.peer->Next();
  EXPECT_EQ(a.opcode, 0x1);
  EXPECT_FALSE(a.fin);
  EXPECT_EQ(b.opcode, 0x0);
  EXPECT_FALSE(b.fin);
  EXPECT_EQ(c.opcode, 0x0);
  EXPECT_TRUE(c.fin);
  EXPECT_EQ(a.payload + b.payload + c.payload, "abcdefgh");
  EXPECT_EQ(a.payload, "abc");
  EXPECT_EQ(c.payload, "gh");
}

TEST(WsTestClientTest, ReassemblesAndAnswersPingsInBetween) {
  Pair p;
  MakePair(&p);
  p.peer->Send({.opcode = 0x1, .fin = false, .payload = R"({"type":)"});
  p.peer->Send({.opcode = 0x9, .payload = "hb"});
  p.peer->Send({.opcode = 0x0, .fin = true, .payload = R"("welcome"})"});
  auto json = p.client.ReceiveJson(kTimeoutMs);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(GetString(json->get(), "type"), "welcome");
  EXPECT_EQ(p.client.pings_answered(), 1u);
  DecodedFrame pong = p.peer->Next();
  EXPECT_EQ(pong.opcode, 0xA);
  EXPECT_EQ(pong.payload, "hb");
  EXPECT_TRUE(pong.masked);
}

TEST(WsTestClientTest, ReturnsPingsWhenAutoPongIsOff) {
  Pair p;
  MakePair(&p);
  p.client.set_auto_pong(false);
  p.peer->Send({.opcode = 0x9, .payload = "x"});
  auto f = p.client.Receive(kTimeoutMs);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->opcode, WsOpcode::kPing);
  EXPECT_EQ(f->payload, "x");
  EXPECT_EQ(p.client.pings_answered(), 0u);
}

TEST(WsTestClientTest, ManyPipelinedMessagesInOneRead) {
  Pair p;
  MakePair(&p);
  std::string wire;
  for (int i = 0; i < 500; ++i) {
    std::string msg = R"({"type":"event","seq":)" + std::to_string(i + 1) + "}";
    wire += EncodeFrame({.payload = msg});
  }
  p.peer->Write(wire);
  for (int i = 0; i < 500; ++i) {
    auto json = p.client.ReceiveJson(kTimeoutMs);
    ASSERT_TRUE(json.ok()) << json.status().ToString();
    EXPECT_EQ(GetInt(json->get(), "seq"), i + 1);
  }
}

TEST(WsTestClientTest, ReceiveUntilSkipsOtherMessages) {
  Pair p;
  MakePair(&p);
  p.peer->Send({.payload = R"({"type":"heartbeat","ts":1})"});
  p.peer->Send({.payload = R"({"type":"subscribed","id":7,"topics":[]})"});
  auto json = p.client.ReceiveType("subscribed", kTimeoutMs);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(GetInt(json->get(), "id"), 7);
}

TEST(WsTestClientTest, CloseIsReturnedAndEchoed) {
  Pair p;
  MakePair(&p);
  p.peer->Send({.opcode = 0x8, .payload = EncodeClosePayload(1009, "message too big")});
  auto f = p.client.Receive(kTimeoutMs);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->is_close());
  EXPECT_EQ(f->close_code, 1009);
  EXPECT_EQ(f->close_reason, "message too big");
  DecodedFrame echo = p.peer->Next();
  EXPECT_EQ(echo.opcode, 0x8);
  auto cp = ParseClosePayload(echo.payload);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->code, 1009);
  EXPECT_EQ(p.client.Receive(kTimeoutMs).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(p.client.close_frame().has_value());
  EXPECT_EQ(p.client.ReceiveClose(kTimeoutMs)->close_code, 1009);
}

TEST(WsTestClientTest, ReceiveJsonReportsClose) {
  Pair p;
  MakePair(&p);
  p.peer->Send({.opcode = 0x8, .payload = EncodeClosePayload(4401, "token_expired")});
  auto json = p.client.ReceiveJson(kTimeoutMs);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(json.status().message().find("4401 token_expired"), std::string::npos);
}

TEST(WsTestClientTest, EofWithoutCloseIsUnavailable) {
  Pair p;
  MakePair(&p);
  p.peer->Write(EncodeFrame({.payload = "{}"}).substr(0, 2));  // half a frame
  p.peer->Close();
  auto f = p.client.Receive(kTimeoutMs);
  EXPECT_EQ(f.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(f.status().message().find("mid-frame"), std::string::npos);
}

TEST(WsTestClientTest, TimeoutIsDeadlineExceeded) {
  Pair p;
  MakePair(&p);
  EXPECT_EQ(p.client.Receive(0).status().code(), StatusCode::kDeadlineExceeded);
}

TEST(WsTestClientTest, RejectsServerViolations) {
  {
    Pair p;
    MakePair(&p);
    p.peer->Send({.payload = "x", .mask_key = MaskKey{1, 2, 3, 4}});
    EXPECT_EQ(p.client.Receive(kTimeoutMs).status().code(), StatusCode::kInvalidArgument);
  }
  {
    Pair p;
    MakePair(&p);
    p.peer->Send({.rsv = 4, .payload = "x"});
    EXPECT_EQ(p.client.Receive(kTimeoutMs).status().code(), StatusCode::kInvalidArgument);
  }
  {
    Pair p;
    MakePair(&p);
    p.peer->Send({.opcode = 0x0, .payload = "x"});
    EXPECT_EQ(p.client.Receive(kTimeoutMs).status().code(), StatusCode::kInvalidArgument);
  }
}

// The handshake over a socketpair: the peer's answer is written before the client reads it.
TEST(WsTestClientTest, UpgradeVerifiesAcceptAndKeepsEarlyFrames) {
  Pair p;
  MakePair(&p);
  p.peer->Write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" +
      EncodeFrame({.payload = R"({"type":"welcome","version":1})"}));
  WsConnectOptions o;
  o.port = 8080;
  o.target = "/ws?x=1";
  o.key = "dGhlIHNhbXBsZSBub25jZQ==";
  o.headers = {{"Origin", "http://evil.example"}, {"Authorization", "Bearer abc"}};
  auto r = p.client.Upgrade(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 101);
  std::string request = p.peer->ReadUntil("\r\n\r\n");
  EXPECT_EQ(request.rfind("GET /ws?x=1 HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
  EXPECT_NE(request.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(request.find("Origin: http://evil.example\r\n"), std::string::npos);
  EXPECT_NE(request.find("Authorization: Bearer abc\r\n"), std::string::npos);
  auto json = p.client.ReceiveJson(kTimeoutMs);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(GetString(json->get(), "type"), "welcome");
}

TEST(WsTestClientTest, UpgradeRejectsWrongAccept) {
  Pair p;
  MakePair(&p);
  p.peer->Write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
  WsConnectOptions o;
  o.port = 1;
  EXPECT_EQ(p.client.Upgrade(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(WsTestClientTest, RefusedUpgradeReturnsStatusHeadersAndBody) {
  Pair p;
  MakePair(&p);
  const std::string body = R"({"error":"token_expired","message":"token expired"})";
  p.peer->Write("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
  WsConnectOptions o;
  o.port = 1;
  auto r = p.client.Upgrade(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  auto json = r->Json();
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(GetString(json->get(), "error"), "token_expired");
  EXPECT_FALSE(p.client.is_open());
}

}  // namespace
}  // namespace edgewatch::testing
