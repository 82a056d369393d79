// SioServer::EventFrames: a bus event's Socket.IO packets are serialised once and shared by every
// Socket.IO reader (like the native frame), with the application's alias event name when the
// topic matches an alias pattern.
#include <gtest/gtest.h>

#include "edgewatch/fw/gateway.h"
#include "socketio/sio_server.h"

namespace edgewatch::fw {
namespace {

GatewayConfig AliasConfig() {
  GatewayConfig c;
  c.sio_event_aliases = {{"pipeline/+/frame", "pipeline_frame_update"},
                         {"pipeline/#", "pipeline_other"}};
  return c;
}

TEST(SioFramesTest, EventPacketsAreBuiltOncePerEventAndShared) {
  Gateway gw(AliasConfig(), nullptr);
  auto published = gw.bus().Publish("pipeline/cam1/frame", R"({"fps":30})", 1700000000123);
  ASSERT_TRUE(published.ok());
  FrameRef event1, alias1, event2, alias2;
  gw.socketio().EventFrames(*published, &event1, &alias1);
  gw.socketio().EventFrames(*published, &event2, &alias2);
  ASSERT_NE(event1, nullptr);
  ASSERT_NE(alias1, nullptr);
  EXPECT_EQ(event1.get(), event2.get());  // the same Frame, not an equal copy
  EXPECT_EQ(alias1.get(), alias2.get());
  EXPECT_EQ(gw.socketio().event_frames_built(), 1u);
  EXPECT_EQ(event1->payload(),
            R"(42["event",{"topic":"pipeline/cam1/frame","seq":1,"ts":1700000000123,)"
            R"("data":{"fps":30}}])");
  // The first matching alias wins.
  EXPECT_EQ(alias1->payload(), R"(42["pipeline_frame_update",{"fps":30}])");
  // Coalescing sees the event's topic and seq on both packets.
  EXPECT_EQ(event1->topic, published.value()->topic);
  EXPECT_EQ(alias1->seq, 1u);
}

TEST(SioFramesTest, TopicsWithoutAliasGetOnlyTheEventPacket) {
  Gateway gw(AliasConfig(), nullptr);
  auto published = gw.bus().Publish("system/resources", R"({"cpu_percent":3})", 5);
  ASSERT_TRUE(published.ok());
  FrameRef event, alias;
  gw.socketio().EventFrames(*published, &event, &alias);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(alias, nullptr);
  auto other = gw.bus().Publish("pipeline/cam1/status", R"({"s":1})", 6);
  ASSERT_TRUE(other.ok());
  gw.socketio().EventFrames(*other, &event, &alias);
  ASSERT_NE(alias, nullptr);
  EXPECT_EQ(alias->payload(), R"(42["pipeline_other",{"s":1}])");
}

TEST(SioFramesTest, EachEventGetsItsOwnPacketsAndReleasedOnesAreRebuilt) {
  Gateway gw(AliasConfig(), nullptr);
  auto a = gw.bus().Publish("pipeline/cam1/frame", R"({"n":1})", 1);
  auto b = gw.bus().Publish("pipeline/cam1/frame", R"({"n":2})", 2);
  ASSERT_TRUE(a.ok() && b.ok());
  FrameRef ea, aa, eb, ab;
  gw.socketio().EventFrames(*a, &ea, &aa);
  gw.socketio().EventFrames(*b, &eb, &ab);
  EXPECT_NE(ea.get(), eb.get());
  EXPECT_NE(ea->payload(), eb->payload());
  EXPECT_EQ(gw.socketio().event_frames_built(), 2u);
  // The cache holds no reference of its own: once every reader released them, they are freed
  // and a later reader (a resume from the ring) gets them rebuilt.
  std::weak_ptr<const Frame> weak = ea;
  ea.reset();
  aa.reset();
  EXPECT_TRUE(weak.expired());
  FrameRef again, again_alias;
  gw.socketio().EventFrames(*a, &again, &again_alias);
  EXPECT_EQ(gw.socketio().event_frames_built(), 3u);
  EXPECT_EQ(again->seq, 1u);
}

}  // namespace
}  // namespace edgewatch::fw
