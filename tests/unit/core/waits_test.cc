#include "core/waits.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "unit/core/test_util.h"

namespace understudy {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::understudy::testing::RunLoopUntil;
using ::understudy::testing::TestStart;

class WaitsTest : public ::testing::Test {
 protected:
  explicit WaitsTest(ClockMode mode = ClockMode::kVirtual) {
    ClockOptions options;
    options.mode = mode;
    options.start = TestStart();
    clock_ = Clock::Create(loop_, options);
    waits_ = std::make_unique<Waits>(loop_, *clock_);
  }

  // A done callback that stores its outcome in result_.
  std::function<void(bool)> Done() {
    return [this](bool met) {
      EXPECT_FALSE(result_.has_value()) << "done called twice";
      result_ = met;
      done_at_ = clock_->Now();
    };
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Waits> waits_;
  std::optional<bool> result_;
  TimePoint done_at_{};
};

// Proves a wait whose condition already holds calls done(true) before WaitUntil returns, without
// pulling or moving the clock.
TEST_F(WaitsTest, MetImmediatelyWhenAlreadyTrue) {
  waits_->WaitUntil(
      "already", [] { return true; }, minutes(15), Done());
  EXPECT_EQ(result_, true);
  EXPECT_EQ(waits_->pending(), 0u);
  EXPECT_EQ(clock_->active_pulls(), 0u);
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), TestStart());
}

// Proves a pending wait is met after a state change reported with NotifyChanged (from another
// thread), while a hold keeps virtual time still.
TEST_F(WaitsTest, MetAfterNotifyChanged) {
  Hold hold = clock_->Acquire("api call in flight");
  std::atomic<bool> steady{false};
  waits_->WaitUntil(
      "service steady", [&] { return steady.load(); }, minutes(15), Done());
  EXPECT_EQ(waits_->pending(), 1u);
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(result_.has_value());

  // A change without NotifyChanged is not seen until something re-checks.
  steady = true;
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(result_.has_value());

  std::thread([&] { waits_->NotifyChanged(); }).join();
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return result_.has_value(); }));
  EXPECT_EQ(result_, true);
  EXPECT_EQ(done_at_, TestStart());
  EXPECT_EQ(waits_->pending(), 0u);
  EXPECT_EQ(clock_->pending_timers(), 0u);  // the deadline timer was cancelled
  hold.Release();
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), TestStart());
}

// Proves a wait is re-checked after each timer the clock fires, so a timer-driven change meets it
// at that instant and virtual time moves only as far as it must.
TEST_F(WaitsTest, MetByTimerMovesClockOnlyAsFarAsNeeded) {
  bool running = false;
  clock_->Schedule(TestStart() + seconds(30), [&] { running = true; });
  clock_->Schedule(TestStart() + minutes(5), [] {});
  waits_->WaitUntil(
      "task running", [&] { return running; }, minutes(15), Done());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(result_, true);
  EXPECT_EQ(done_at_, TestStart() + seconds(30));
  EXPECT_EQ(clock_->Now(), TestStart() + seconds(30));
  EXPECT_EQ(clock_->active_pulls(), 0u);
  EXPECT_EQ(clock_->NextTimerAt(), TestStart() + minutes(5));
}

// Proves a wait times out with done(false) when its virtual deadline passes, and that the wait
// itself pulls virtual time exactly to that deadline.
TEST_F(WaitsTest, TimesOutAtVirtualDeadline) {
  int checks = 0;
  waits_->WaitUntil(
      "never",
      [&] {
        ++checks;
        return false;
      },
      minutes(15), Done());
  EXPECT_EQ(clock_->active_pulls(), 1u);
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(result_, false);
  EXPECT_EQ(done_at_, TestStart() + minutes(15));
  EXPECT_EQ(clock_->Now(), TestStart() + minutes(15));
  EXPECT_EQ(waits_->pending(), 0u);
  EXPECT_EQ(clock_->active_pulls(), 0u);
  EXPECT_GE(checks, 1);
}

// Proves the wait's pull fires other timers on the way to its deadline, in order.
TEST_F(WaitsTest, TimeoutPullFiresTimersOnTheWay) {
  std::vector<TimePoint> fired;
  clock_->Schedule(TestStart() + minutes(1), [&] { fired.push_back(clock_->Now()); });
  clock_->Schedule(TestStart() + minutes(20), [&] { fired.push_back(clock_->Now()); });
  waits_->WaitUntil(
      "never", [] { return false; }, minutes(15), Done());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(result_, false);
  EXPECT_THAT(fired, ElementsAre(TestStart() + minutes(1)));
  EXPECT_EQ(clock_->Now(), TestStart() + minutes(15));
}

// Proves Cancel abandons a wait without calling its callback and stops its pull on the clock.
TEST_F(WaitsTest, CancelSuppressesCallback) {
  uint64_t id = waits_->WaitUntil(
      "abandoned", [] { return false; }, minutes(15), Done());
  EXPECT_EQ(waits_->pending(), 1u);
  waits_->Cancel(id);
  waits_->Cancel(id);  // cancelling twice is harmless
  EXPECT_EQ(waits_->pending(), 0u);
  EXPECT_EQ(clock_->active_pulls(), 0u);
  waits_->NotifyChanged();
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(result_.has_value());
  EXPECT_EQ(clock_->Now(), TestStart());
}

// Proves several waits are independent: each gets its own outcome and the shorter deadline
// passes first while the longer wait keeps pulling.
TEST_F(WaitsTest, IndependentWaits) {
  std::vector<std::pair<int, bool>> outcomes;
  bool ready = false;
  clock_->Schedule(TestStart() + minutes(10), [&] { ready = true; });
  uint64_t a = waits_->WaitUntil(
      "short", [] { return false; }, minutes(5), [&](bool met) { outcomes.emplace_back(1, met); });
  uint64_t b = waits_->WaitUntil(
      "ready", [&] { return ready; }, minutes(15),
      [&](bool met) { outcomes.emplace_back(2, met); });
  EXPECT_NE(a, b);
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(outcomes, ElementsAre(std::pair{1, false}, std::pair{2, true}));
  EXPECT_EQ(clock_->Now(), TestStart() + minutes(10));
}

// Proves a done callback may start a new wait.
TEST_F(WaitsTest, DoneMayStartAnotherWait) {
  std::optional<bool> second;
  waits_->WaitUntil(
      "first", [] { return false; }, minutes(1),
      [&](bool) {
        waits_->WaitUntil(
            "second", [] { return false; }, minutes(1), [&](bool met) { second = met; });
      });
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(second, false);
  EXPECT_EQ(clock_->Now(), TestStart() + minutes(2));
}

class RealClockWaitsTest : public WaitsTest {
 protected:
  RealClockWaitsTest() : WaitsTest(ClockMode::kReal) {}
};

// Proves on a real clock a wait times out once its timeout of real time has passed.
TEST_F(RealClockWaitsTest, TimesOutInRealTime) {
  TimePoint start = clock_->Now();
  waits_->WaitUntil(
      "never", [] { return false; }, milliseconds(20), Done());
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return result_.has_value(); }));
  EXPECT_EQ(result_, false);
  EXPECT_GE(done_at_, start + milliseconds(20));
}

}  // namespace
}  // namespace understudy
