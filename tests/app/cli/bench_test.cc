// Unit tests of `edgewatch bench`'s building blocks (app/cli/bench): the RFC 6455 client codec,
// the latency histogram, event stamps and the protocols' classification of server messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/histogram.h"
#include "bench/protocol.h"
#include "bench/ws_codec.h"

namespace edgewatch::cli::bench {
namespace {

// A server frame (unmasked) with FIN and opcode as given.
std::string ServerFrame(uint8_t opcode, std::string_view payload, bool fin = true) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    f.push_back(126);
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(127);
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xFF));
  }
  f.append(payload);
  return f;
}

TEST(BenchCodec, Sha1AndAcceptKeyMatchTheRfc) {
  auto hex = [](const std::string& s) {
    static const char k[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
      out += k[c >> 4];
      out += k[c & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(Sha1(std::string(1000, 'a'))), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  // RFC 6455 section 1.3.
  EXPECT_EQ(AcceptKeyFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(NewClientKey().size(), 24u);
  EXPECT_NE(NewClientKey(), NewClientKey());
}

TEST(BenchCodec, UpgradeResponseIsChecked) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  std::string req = BuildUpgradeRequest("127.0.0.1:8080", "/ws", key, {"Authorization: Bearer t"});
  EXPECT_EQ(req.rfind("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nSec-WebSocket-Key: " + key + "\r\n"), std::string::npos);
  EXPECT_NE(req.find("\r\nAuthorization: Bearer t\r\n\r\n"), std::string::npos);

  std::string ok =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  auto head = CheckUpgradeResponse(ok.substr(0, 40), key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 0u);  // incomplete
  head = CheckUpgradeResponse(ok + "\x81\x02hi", key);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(*head, ok.size());

  std::string wrong = ok;
  wrong.replace(wrong.find("s3pP"), 4, "AAAA");
  EXPECT_FALSE(CheckUpgradeResponse(wrong, key).ok());
  auto refused = CheckUpgradeResponse(
      "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 22\r\n\r\n{\"error\":\"overloaded\"}",
      key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("503"), std::string::npos);
  EXPECT_NE(refused.status().message().find("overloaded"), std::string::npos);
}

TEST(BenchCodec, ClientFramesAreMasked) {
  for (size_t len :
       {size_t{0}, size_t{5}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}}) {
    std::string payload(len, 'p');
    std::string out;
    AppendClientFrame(&out, kOpText, payload, 0x11223344);
    size_t header = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    ASSERT_EQ(out.size(), header + 4 + len) << len;
    EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x81);
    EXPECT_TRUE(static_cast<unsigned char>(out[1]) & 0x80) << "mask bit";
    const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
    for (size_t i = 0; i < len; ++i) {
      ASSERT_EQ(static_cast<unsigned char>(out[header + 4 + i]) ^ key[i % 4], 'p');
    }
  }
}

TEST(BenchCodec, ReaderHandlesPartialFramesFragmentsAndControlFrames) {
  std::string stream =
      ServerFrame(kOpText, "one") + ServerFrame(kOpText, "fra", false) + ServerFrame(kOpPing, "p") +
      ServerFrame(kOpContinuation, "gm", false) + ServerFrame(kOpContinuation, "ent") +
      ServerFrame(kOpText, std::string(300, 'x')) + ServerFrame(kOpClose, "\x03\xe8");
  // Feed one byte at a time, keeping unconsumed bytes like the load generator does.
  FrameReader reader;
  std::string pending;
  std::vector<std::pair<int, std::string>> got;
  for (char c : stream) {
    pending.push_back(c);
    for (;;) {
      size_t consumed = 0;
      FrameReader::Message m{};
      std::string error;
      auto outcome = reader.Next(pending, &consumed, &m, &error);
      ASSERT_NE(outcome, FrameReader::Outcome::kError) << error;
      std::string payload(m.payload);
      pending.erase(0, consumed);
      if (outcome == FrameReader::Outcome::kNeedMore) break;
      got.emplace_back(m.opcode, payload);
    }
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], std::make_pair(int{kOpText}, std::string("one")));
  EXPECT_EQ(got[1], std::make_pair(int{kOpPing}, std::string("p")));
  EXPECT_EQ(got[2], std::make_pair(int{kOpText}, std::string("fragment")));
  EXPECT_EQ(got[3].second, std::string(300, 'x'));
  EXPECT_EQ(got[4].first, kOpClose);
  EXPECT_TRUE(pending.empty());
}

TEST(BenchCodec, ReaderRejectsWhatAServerMustNotSend) {
  auto fails = [](std::string bytes) {
    FrameReader reader;
    size_t consumed = 0;
    FrameReader::Message m{};
    std::string error;
    return reader.Next(bytes, &consumed, &m, &error) == FrameReader::Outcome::kError;
  };
  EXPECT_TRUE(fails("\x81\x82\x00\x00\x00\x00hi"));              // masked
  EXPECT_TRUE(fails(ServerFrame(kOpPing, "x", /*fin=*/false)));  // fragmented control frame
  EXPECT_TRUE(fails(ServerFrame(kOpContinuation, "x")));         // nothing to continue
  EXPECT_TRUE(fails("\xC1\x01x"));                               // RSV1
  FrameReader small;
  small.set_max_message(10);
  size_t consumed = 0;
  FrameReader::Message m{};
  std::string error;
  EXPECT_EQ(small.Next(ServerFrame(kOpText, std::string(11, 'x')), &consumed, &m, &error),
            FrameReader::Outcome::kError);
}

TEST(BenchHistogram, QuantilesWithinOnePercent) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0u);
  for (uint64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);  // 1 us .. 100 ms in ns
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.5)), 50e6, 50e6 * 0.01);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.99)), 99e6, 99e6 * 0.01);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.999)), 99.9e6, 99.9e6 * 0.01);
  EXPECT_EQ(h.Quantile(1.0), 100000000u);
  EXPECT_NEAR(h.mean(), 50.0005e6, 1);
  LatencyHistogram small;
  for (uint64_t v = 0; v < 100; ++v) small.Record(v);  // exact below 128
  EXPECT_EQ(small.Quantile(0.5), 49u);
  h.Merge(small);
  EXPECT_EQ(h.count(), 100100u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(BenchStamp, RoundTripsAndPadsToSize) {
  std::string data = FormatStampedData("abc123", 2, 41, 123456789012, 200);
  EXPECT_EQ(data.size(), 200u);
  EXPECT_EQ(data.rfind("{\"bench_run\":\"abc123\",\"bench_k\":2,\"bench_n\":41,", 0), 0u);
  Stamp s;
  ASSERT_TRUE(ParseStamp(data, "abc123", &s));
  EXPECT_EQ(s.topic, 2u);
  EXPECT_EQ(s.n, 41u);
  EXPECT_EQ(s.sent_ns, 123456789012);
  EXPECT_FALSE(ParseStamp(data, "abc12", &s));                 // another run
  EXPECT_FALSE(ParseStamp(data, "zzz123", &s));                // another run
  EXPECT_EQ(FormatStampedData("r", 0, 0, 1, 10).back(), '}');  // too small to pad: no pad
}

ProtocolOptions Options() {
  ProtocolOptions o;
  o.run_id = "r1";
  o.token = "tok";
  o.pattern = "bench/#";
  o.topic_prefix = "bench/";
  o.topics = 2;
  return o;
}

TEST(BenchProtocol, EdgewatchOpensWithAuthAndSubscribe) {
  auto p = MakeProtocol("edgewatch", Options());
  ASSERT_TRUE(p.ok());
  auto opening = (*p)->SubscriberOpening();
  ASSERT_EQ(opening.size(), 2u);
  EXPECT_EQ(opening[0].payload, R"({"op":"auth","id":0,"token":"tok"})");
  EXPECT_EQ(opening[1].payload, R"({"op":"subscribe","id":1,"topics":["bench/#"]})");
  EXPECT_FALSE((*p)->ReadyAfterOpening());
  EXPECT_TRUE((*p)->Receives(1));
  std::string line;
  (*p)->AppendPublish(&line, 1, "{}");
  EXPECT_EQ(line, "{\"topic\":\"bench/1\",\"data\":{}}\n");

  ProtocolOptions o = Options();
  o.auth_mode = "header";
  o.pattern = "bench/0";
  o.batch = true;
  auto h = MakeProtocol("edgewatch", o);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ((*h)->SubscriberOpening().size(), 1u);
  EXPECT_EQ((*h)->SubscriberOpening()[0].payload,
            R"({"op":"subscribe","id":1,"topics":["bench/0"],"batch":true})");
  EXPECT_EQ((*h)->UpgradeHeaders(), std::vector<std::string>{"Authorization: Bearer tok"});
  EXPECT_FALSE((*h)->Receives(1));
  o.auth_mode = "cookie";
  EXPECT_FALSE(MakeProtocol("edgewatch", o).ok());
  EXPECT_FALSE(MakeProtocol("stomp", Options()).ok());
}

TEST(BenchProtocol, EdgewatchClassifiesEventsBatchesAndControlMessages) {
  auto p = MakeProtocol("edgewatch", Options());
  ASSERT_TRUE(p.ok());
  auto event = [](uint64_t seq, uint64_t n, std::string_view run) {
    return "{\"type\":\"event\",\"topic\":\"bench/1\",\"seq\":" + std::to_string(seq) +
           ",\"ts\":1,\"data\":" + FormatStampedData(run, 1, n, 77, 120) + "}";
  };
  std::vector<Protocol::Parsed> out;
  (*p)->Classify(kOpText, event(9, 4, "r1"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kEvent);
  EXPECT_EQ(out[0].seq, 9u);
  EXPECT_EQ(out[0].stamp.n, 4u);
  EXPECT_EQ(out[0].stamp.topic, 1u);

  out.clear();
  (*p)->Classify(kOpText, event(3, 0, "old"), &out);  // a previous run's snapshot
  EXPECT_TRUE(out.empty());

  out.clear();
  std::string batch = "{\"type\":\"batch\",\"events\":[" + event(10, 5, "r1") + "," +
                      event(11, 6, "r1") + "," + event(12, 7, "r1") + "]}";
  (*p)->Classify(kOpText, batch, &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].seq, 10u);
  EXPECT_EQ(out[2].seq, 12u);
  EXPECT_EQ(out[2].stamp.n, 7u);

  out.clear();
  (*p)->Classify(kOpText, R"({"type":"subscribed","id":1,"topics":["bench/#"]})", &out);
  (*p)->Classify(kOpText, R"({"type":"welcome","version":1})", &out);
  (*p)->Classify(kOpText, R"({"type":"error","id":1,"code":"forbidden","message":"no"})", &out);
  (*p)->Classify(kOpText, R"({"type":"error","id":null,"code":"lagged","message":"x"})", &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].verdict, Protocol::Verdict::kReady);
  EXPECT_EQ(out[1].verdict, Protocol::Verdict::kIgnore);
  EXPECT_EQ(out[2].verdict, Protocol::Verdict::kFatal);
  EXPECT_EQ(out[2].text, "forbidden: no");
  EXPECT_EQ(out[3].verdict, Protocol::Verdict::kWarning);
}

TEST(BenchProtocol, RawTreatsEveryStampedFrameAsAnEvent) {
  ProtocolOptions o = Options();
  o.hello = "hi";
  auto p = MakeProtocol("raw", o);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)->ReadyAfterOpening());
  ASSERT_EQ((*p)->SubscriberOpening().size(), 1u);
  EXPECT_EQ((*p)->SubscriberOpening()[0].payload, "hi");
  std::vector<Protocol::Parsed> out;
  (*p)->Classify(kOpText, FormatStampedData("r1", 0, 3, 5, 100), &out);
  (*p)->Classify(kOpText, "{\"something\":\"else\"}", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].stamp.n, 3u);
  std::string frame;
  (*p)->AppendPublish(&frame, 0, "{\"a\":1}");
  EXPECT_EQ(frame, "{\"a\":1}");
}

}  // namespace
}  // namespace edgewatch::cli::bench
