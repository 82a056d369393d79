#include "edgewatch/fw/loop.h"

#include <gtest/gtest.h>

#include <thread>

namespace edgewatch::fw {
namespace {

// A bare lws context (no listener) to run timers and the mailbox on this thread.
class LoopTest : public testing::Test {
 protected:
  static int Callback(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
      auto* self = static_cast<LoopTest*>(lws_context_user(lws_get_context(wsi)));
      if (self != nullptr) self->mailbox_.Drain();
    }
    return 0;
  }

  void SetUp() override {
    protocols_[0].name = "test";
    protocols_[0].callback = Callback;
    lws_context_creation_info info{};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols_;
    info.user = this;
    lws_set_log_level(LLL_ERR, nullptr);
    context_ = lws_create_context(&info);
    ASSERT_NE(context_, nullptr);
    mailbox_.set_context(context_);
  }
  void TearDown() override { lws_context_destroy(context_); }

  // Services the loop until `done` or `max_iterations` (a failure bound, not a timing).
  void RunUntil(const bool& done, int max_iterations = 10000) {
    for (int i = 0; i < max_iterations && !done; ++i) lws_service(context_, 0);
  }

  lws_protocols protocols_[2] = {};
  lws_context* context_ = nullptr;
  Mailbox mailbox_;
};

TEST_F(LoopTest, OneShotTimerFiresOnce) {
  int fired = 0;
  bool done = false;
  Timer t;
  t.Init(context_, [&] {
    ++fired;
    done = true;
  });
  t.StartOnce(1000);
  RunUntil(done);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.armed());
}

TEST_F(LoopTest, PeriodicTimerRepeatsUntilCancelled) {
  int fired = 0;
  bool done = false;
  Timer t;
  t.Init(context_, [&] {
    if (++fired == 3) {
      t.Cancel();
      done = true;
    }
  });
  t.StartPeriodic(1000);
  RunUntil(done);
  EXPECT_EQ(fired, 3);
  EXPECT_FALSE(t.armed());
}

TEST_F(LoopTest, MailboxRunsClosuresPostedFromAnotherThread) {
  bool done = false;
  std::thread::id ran_on;
  std::thread poster([&] {
    mailbox_.Post([&] {
      ran_on = std::this_thread::get_id();
      done = true;
    });
  });
  poster.join();
  RunUntil(done);
  EXPECT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(LoopTest, ClosedMailboxDropsClosures) {
  mailbox_.Close();
  bool ran = false;
  mailbox_.Post([&] { ran = true; });
  EXPECT_EQ(mailbox_.Drain(), 0u);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace edgewatch::fw
