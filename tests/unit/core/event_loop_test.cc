#include "core/event_loop.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/core/test_util.h"

namespace understudy {
namespace {

using ::understudy::testing::RunLoopUntil;

// Proves work posted from another thread runs on the loop thread, in the order it was posted.
TEST(EventLoopTest, PostFromAnotherThreadRunsOnLoopThreadInOrder) {
  EventLoop loop;
  EXPECT_TRUE(loop.IsLoopThread());  // before Run, the building thread
  std::vector<int> order;            // touched only on the loop thread
  std::atomic<bool> all_on_loop{true};
  std::thread poster([&] {
    EXPECT_FALSE(loop.IsLoopThread());
    for (int i = 0; i < 100; ++i) {
      loop.Post([&, i] {
        if (!loop.IsLoopThread()) all_on_loop = false;
        order.push_back(i);
      });
    }
  });
  poster.join();
  ASSERT_TRUE(RunLoopUntil(loop, [&] { return order.size() == 100; }));
  EXPECT_TRUE(all_on_loop);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

// Proves Run makes its thread the loop thread, posts from elsewhere run there, and Stop ends Run.
TEST(EventLoopTest, RunOnDedicatedThreadUntilStop) {
  EventLoop loop;
  std::thread::id loop_id;
  std::atomic<bool> ran{false};
  std::vector<int> order;
  std::thread runner([&] {
    loop_id = std::this_thread::get_id();
    loop.Run();
  });
  for (int i = 0; i < 10; ++i) {
    loop.Post([&, i] {
      EXPECT_TRUE(loop.IsLoopThread());
      EXPECT_EQ(std::this_thread::get_id(), loop_id);
      order.push_back(i);
    });
  }
  loop.Post([&] {
    ran = true;
    loop.Stop();
  });
  runner.join();  // returns only once the posted Stop has run
  EXPECT_TRUE(ran);
  EXPECT_TRUE(loop.stopped());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(loop.IsLoopThread());
}

// Proves RunUntilIdleForTest runs posted work and the work that work posts, and reports the count.
TEST(EventLoopTest, RunUntilIdleRunsChainedPosts) {
  EventLoop loop;
  std::vector<int> order;
  loop.Post([&] {
    order.push_back(1);
    loop.Post([&] { order.push_back(3); });
  });
  loop.Post([&] { order.push_back(2); });
  EXPECT_EQ(loop.RunUntilIdleForTest(), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.RunUntilIdleForTest(), 0u);
}

// Proves a stopped loop can be driven again by RunUntilIdleForTest.
TEST(EventLoopTest, RunUntilIdleRestartsStoppedLoop) {
  EventLoop loop;
  loop.Stop();
  EXPECT_TRUE(loop.stopped());
  bool ran = false;
  loop.Post([&] { ran = true; });
  loop.RunUntilIdleForTest();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace understudy
