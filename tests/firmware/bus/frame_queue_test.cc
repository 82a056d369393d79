#include "edgewatch/fw/frame_queue.h"

#include <gtest/gtest.h>

namespace edgewatch::fw {
namespace {

TEST(FrameQueueTest, FifoAcrossGrowthAndWrap) {
  FrameQueue q;
  EXPECT_EQ(q.capacity(), 0u);  // an idle queue holds no storage
  std::vector<FrameRef> frames;
  for (int i = 0; i < 40; ++i) frames.push_back(MakeControlFrame(std::to_string(i)));
  size_t next_pop = 0;
  for (int round = 0; round < 40; ++round) {
    q.Push(frames[round]);
    if (round % 3 == 2) {
      EXPECT_EQ(q.Pop().get(), frames[next_pop++].get());
    }
  }
  while (!q.empty()) EXPECT_EQ(q.Pop().get(), frames[next_pop++].get());
  EXPECT_EQ(next_pop, 40u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.capacity(), 0u);  // released after draining from a large capacity
}

TEST(FrameQueueTest, CountsBytesOfEachFrame) {
  FrameQueue q;
  FrameRef f = MakeControlFrame("abc");
  q.Push(f);
  q.Push(f);
  EXPECT_EQ(q.bytes(), 2 * f->AccountedBytes());
  q.Pop();
  EXPECT_EQ(q.bytes(), f->AccountedBytes());
}

TEST(FrameQueueTest, RemoveIfKeepsOrder) {
  FrameQueue q;
  for (int i = 0; i < 10; ++i) q.Push(MakeControlFrame(std::to_string(i)));
  q.RemoveIf([](const FrameRef& f) { return (f->payload()[0] - '0') % 2 == 1; });
  std::string order;
  while (!q.empty()) order += std::string(q.Pop()->payload());
  EXPECT_EQ(order, "02468");
}

}  // namespace
}  // namespace edgewatch::fw
