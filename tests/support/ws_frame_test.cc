#include "edgewatch/testing/ws_frame.h"

#include <gtest/gtest.h>

#include <string>

namespace edgewatch::testing {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

DecodedFrame DecodeOne(std::string_view wire) {
  size_t consumed = 0;
  auto r = DecodeFrame(wire, &consumed);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(consumed, wire.size());
  return r.ok() && r->has_value() ? **r : DecodedFrame{};
}

// RFC 6455 section 5.7 examples.
TEST(WsFrameTest, EncodesRfcExamples) {
  EXPECT_EQ(EncodeFrame({.payload = "Hello"}), Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(EncodeFrame({.payload = "Hello", .mask_key = MaskKey{0x37, 0xfa, 0x21, 0x3d}}),
            Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(EncodeFrame({.opcode = 0x1, .fin = false, .payload = "Hel"}),
            Bytes({0x01, 0x03, 'H', 'e', 'l'}));
  EXPECT_EQ(EncodeFrame({.opcode = 0x0, .fin = true, .payload = "lo"}),
            Bytes({0x80, 0x02, 'l', 'o'}));
  EXPECT_EQ(EncodeFrame({.opcode = 0x9, .payload = "Hello"}),
            Bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  std::string big(256, 'x');
  std::string wire = EncodeFrame({.opcode = 0x2, .payload = big});
  EXPECT_EQ(wire.substr(0, 4), Bytes({0x82, 0x7E, 0x01, 0x00}));
  std::string huge(65536, 'x');
  wire = EncodeFrame({.opcode = 0x2, .payload = huge});
  EXPECT_EQ(wire.substr(0, 10), Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WsFrameTest, DecodesRfcMaskedExample) {
  DecodedFrame f =
      DecodeOne(Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_TRUE(f.fin);
  EXPECT_TRUE(f.masked);
  EXPECT_EQ(f.opcode, 0x1);
  EXPECT_EQ(f.payload, "Hello");
}

TEST(WsFrameTest, RoundTripsAtLengthBoundaries) {
  for (size_t len : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string payload(len, '\0');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i * 7);
    for (bool masked : {false, true}) {
      FrameSpec spec{.opcode = 0x2, .payload = payload};
      if (masked) spec.mask_key = MaskKey{1, 2, 3, 4};
      DecodedFrame f = DecodeOne(EncodeFrame(spec));
      EXPECT_EQ(f.payload, payload) << "len " << len;
      EXPECT_EQ(f.masked, masked);
      EXPECT_EQ(f.opcode, 0x2);
    }
  }
}

TEST(WsFrameTest, NonMinimalLengthFormsDecode) {
  for (auto form : {FrameSpec::LengthForm::k16, FrameSpec::LengthForm::k64}) {
    std::string wire = EncodeFrame({.payload = "abc", .length_form = form});
    EXPECT_EQ(wire.size(), 3 + (form == FrameSpec::LengthForm::k16 ? 4u : 10u));
    EXPECT_EQ(DecodeOne(wire).payload, "abc");
  }
}

TEST(WsFrameTest, EncodesViolationsVerbatim) {
  std::string wire = EncodeFrame({.opcode = 0xB, .fin = false, .rsv = 5, .payload = ""});
  EXPECT_EQ(wire, Bytes({0x5B, 0x00}));
  // A frame claiming 10 bytes but carrying 3.
  wire = EncodeFrame({.payload = "abc", .declared_length = 10});
  EXPECT_EQ(wire, Bytes({0x81, 0x0A, 'a', 'b', 'c'}));
  size_t consumed = 99;
  auto r = DecodeFrame(wire, &consumed);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());  // still waiting for 7 more bytes
  EXPECT_EQ(consumed, 0u);
}

TEST(WsFrameTest, EveryPrefixIsIncomplete) {
  std::string wire =
      EncodeFrame({.payload = std::string(300, 'z'), .mask_key = MaskKey{9, 8, 7, 6}});
  for (size_t n = 0; n < wire.size(); ++n) {
    size_t consumed = 1;
    auto r = DecodeFrame(std::string_view(wire).substr(0, n), &consumed);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << n;
  }
}

TEST(WsFrameTest, DecodesBackToBackFrames) {
  std::string wire = EncodeFrame({.payload = "one"}) + EncodeFrame({.opcode = 0xA, .payload = "p"});
  size_t consumed = 0;
  auto first = DecodeFrame(wire, &consumed);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->payload, "one");
  auto second = DecodeFrame(std::string_view(wire).substr(consumed), &consumed);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->opcode, 0xA);
}

TEST(WsFrameTest, RejectsHugeLengths) {
  size_t consumed = 0;
  auto r = DecodeFrame(Bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}), &consumed);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  r = DecodeFrame(EncodeFrame({.payload = std::string(100, 'a')}), &consumed,
                  DecodeLimits{.max_payload = 99});
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(WsFrameTest, MaskingIsAnInvolutionAtAnyOffset) {
  MaskKey key{0xde, 0xad, 0xbe, 0xef};
  std::string data = "the quick brown fox";
  std::string masked = data;
  ApplyMask(key, 0, masked.data(), 5);
  ApplyMask(key, 5, masked.data() + 5, masked.size() - 5);
  std::string whole = data;
  ApplyMask(key, 0, whole.data(), whole.size());
  EXPECT_EQ(masked, whole);
  EXPECT_NE(masked, data);
  ApplyMask(key, 0, masked.data(), masked.size());
  EXPECT_EQ(masked, data);
}

TEST(WsFrameTest, ClosePayloads) {
  EXPECT_EQ(EncodeClosePayload(1009, "too big"), Bytes({0x03, 0xF1}) + "too big");
  auto c = ParseClosePayload(EncodeClosePayload(4401, "token_expired"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->code, 4401);
  EXPECT_EQ(c->reason, "token_expired");
  auto empty = ParseClosePayload("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->code, kCloseNoStatus);
  EXPECT_FALSE(ParseClosePayload("x").ok());
}

DecodedFrame Frame(uint8_t opcode, bool fin, std::string payload) {
  DecodedFrame f;
  f.opcode = opcode;
  f.fin = fin;
  f.payload = std::move(payload);
  return f;
}

TEST(MessageAssemblerTest, ReassemblesWithInterleavedControlFrames) {
  MessageAssembler a;
  auto r = a.Add(Frame(0x1, false, "{\"a\":"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(a.in_progress());
  r = a.Add(Frame(0x9, true, "ping!"));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->opcode, WsOpcode::kPing);
  EXPECT_EQ((*r)->payload, "ping!");
  r = a.Add(Frame(0x0, false, "1"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  r = a.Add(Frame(0x0, true, "}"));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->opcode, WsOpcode::kText);
  EXPECT_EQ((*r)->payload, "{\"a\":1}");
  EXPECT_EQ((*r)->fragments, 3);
  EXPECT_FALSE(a.in_progress());
}

TEST(MessageAssemblerTest, RejectsViolations) {
  {
    MessageAssembler a;
    EXPECT_EQ(a.Add(Frame(0x0, true, "x")).status().code(), StatusCode::kInvalidArgument);
  }
  {
    MessageAssembler a;
    ASSERT_TRUE(a.Add(Frame(0x1, false, "x")).ok());
    EXPECT_FALSE(a.Add(Frame(0x2, true, "y")).ok());
    EXPECT_FALSE(a.in_progress());  // reset after the error
  }
  {
    MessageAssembler a;
    EXPECT_FALSE(a.Add(Frame(0x9, false, "")).ok());  // fragmented control frame
    EXPECT_FALSE(a.Add(Frame(0x9, true, std::string(126, 'p'))).ok());
    EXPECT_FALSE(a.Add(Frame(0x3, true, "")).ok());
    EXPECT_FALSE(a.Add(Frame(0xB, true, "")).ok());
  }
  {
    MessageAssembler a(/*max_message=*/4);
    ASSERT_TRUE(a.Add(Frame(0x1, false, "abc")).ok());
    EXPECT_EQ(a.Add(Frame(0x0, true, "de")).status().code(), StatusCode::kResourceExhausted);
  }
}

TEST(HandshakeTest, AcceptKeyMatchesRfc) {
  EXPECT_EQ(WebSocketAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HandshakeTest, Sha1AndBase64KnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  auto d = Sha1("abc");
  EXPECT_EQ(Base64Encode(std::string(reinterpret_cast<const char*>(d.data()), d.size())),
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  // Two-block message (56 bytes forces a second padding block).
  d = Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(Base64Encode(std::string(reinterpret_cast<const char*>(d.data()), d.size())),
            "hJg+RBw70m66rkqh+VEp5eVGcPE=");
  std::string key = RandomWebSocketKey();
  EXPECT_EQ(key.size(), 24u);
  EXPECT_NE(key, RandomWebSocketKey());
}

}  // namespace
}  // namespace edgewatch::testing
