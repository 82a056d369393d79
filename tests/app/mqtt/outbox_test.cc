// The SQLite outbox of QoS 1 uplink messages: order, bounds, removal, survival across reopen.
#include "edgewatch/app/mqtt/outbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace edgewatch::app::mqtt {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ew-outbox-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/mqtt-outbox.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_, path_;
};

TEST_F(OutboxTest, KeepsOrderAndSurvivesReopen) {
  {
    auto box = Outbox::Open(path_, 100, 1 << 20);
    ASSERT_TRUE(box.ok()) << box.status().message();
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE((*box)->Append("t/" + std::to_string(i), "{\"n\":" + std::to_string(i) + "}"));
    }
    (*box)->Remove((*box)->pending()[1].id);  // acknowledged out of order
    (*box)->Remove((*box)->pending()[0].id);
    EXPECT_EQ((*box)->pending().size(), 3u);
    (*box)->Flush();
  }
  auto box = Outbox::Open(path_, 100, 1 << 20);
  ASSERT_TRUE(box.ok());
  ASSERT_EQ((*box)->pending().size(), 3u);
  EXPECT_EQ((*box)->loaded(), 3u);
  EXPECT_EQ((*box)->pending()[0].topic, "t/3");
  EXPECT_EQ((*box)->pending()[2].payload, "{\"n\":5}");
  // New ids continue after the loaded ones: order is kept across runs.
  ASSERT_TRUE((*box)->Append("t/6", "{}"));
  EXPECT_GT((*box)->pending()[3].id, (*box)->pending()[2].id);
}

TEST_F(OutboxTest, BoundsCountOverflow) {
  auto box = Outbox::Open(path_, 3, 1 << 20);
  ASSERT_TRUE(box.ok());
  for (int i = 0; i < 5; ++i) (*box)->Append("t", "x");
  EXPECT_EQ((*box)->pending().size(), 3u);
  EXPECT_EQ((*box)->overflowed(), 2u);
  EXPECT_EQ((*box)->bytes(), 6u);  // topic + payload per message

  auto small = Outbox::Open(dir_ + "/small.db", 100, 10);
  ASSERT_TRUE(small.ok());
  EXPECT_TRUE((*small)->Append("ab", "cdefgh"));  // 8 bytes
  EXPECT_FALSE((*small)->Append("ab", "cd"));     // 12 > 10
  EXPECT_EQ((*small)->overflowed(), 1u);
  (*small)->Remove((*small)->pending()[0].id);
  EXPECT_EQ((*small)->bytes(), 0u);
  EXPECT_TRUE((*small)->Append("ab", "cd"));
}

TEST_F(OutboxTest, ShrunkBoundsDropTheNewestExcessAtOpenAndCountIt) {
  {
    auto box = Outbox::Open(path_, 100, 1 << 20);
    ASSERT_TRUE(box.ok());
    for (int i = 0; i < 4; ++i) (*box)->Append("t", std::to_string(i));
  }
  auto box = Outbox::Open(path_, 2, 1 << 20);
  ASSERT_TRUE(box.ok());
  EXPECT_EQ((*box)->pending().size(), 2u);
  EXPECT_EQ((*box)->overflowed(), 2u);
  EXPECT_EQ((*box)->pending()[0].payload, "0");
}

TEST_F(OutboxTest, UnwritableLocationIsAnError) {
  auto box = Outbox::Open(dir_ + "/missing/dir/outbox.db", 10, 100);
  EXPECT_FALSE(box.ok());
}

}  // namespace
}  // namespace edgewatch::app::mqtt
