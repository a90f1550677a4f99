#include "core/clock.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/event_loop.h"
#include "core/time.h"
#include "support/status_matchers.h"
#include "unit/core/test_util.h"

namespace understudy {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::understudy::testing::IsOk;
using ::understudy::testing::RunLoopUntil;
using ::understudy::testing::StatusIs;
using ::understudy::testing::TestStart;

// One timer firing: its label and the clock's Now() as its callback saw it.
struct Firing {
  std::string label;
  TimePoint at;
  bool operator==(const Firing&) const = default;
};

void PrintTo(const Firing& f, std::ostream* os) {
  *os << "{" << f.label << " @ " << FormatIso8601(f.at) << "}";
}

class VirtualClockTest : public ::testing::Test {
 protected:
  void SetUp() override { clock_ = MakeClock(ClockMode::kVirtual); }

  std::unique_ptr<Clock> MakeClock(ClockMode mode, Duration hold_limit = seconds(30)) {
    ClockOptions options;
    options.mode = mode;
    options.start = TestStart();
    options.hold_limit = hold_limit;
    return Clock::Create(loop_, options);
  }

  // Schedules a timer at `at` that records its label and the clock's Now().
  TimerId Record(TimePoint at, std::string label) {
    return clock_->Schedule(
        at,
        [this, label] {
          firings_.push_back({label, clock_->Now()});
        },
        label);
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::vector<Firing> firings_;
};

TimePoint T(Duration offset) { return TestStart() + offset; }

// Proves the clock mode names and their parser agree, and that unknown names are refused.
TEST(ClockModeTest, NamesRoundTripAndUnknownIsInvalidArgument) {
  for (ClockMode mode : {ClockMode::kReal, ClockMode::kVirtual, ClockMode::kFast}) {
    auto parsed = ParseClockMode(ClockModeName(mode));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_STREQ(ClockModeName(ClockMode::kReal), "real");
  EXPECT_STREQ(ClockModeName(ClockMode::kVirtual), "virtual");
  EXPECT_STREQ(ClockModeName(ClockMode::kFast), "fast");
  auto bad = ParseClockMode("slow");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(bad.status().message(), "unknown clock mode 'slow'; expected real, virtual or fast");
}

// Proves a virtual clock starts at the configured instant and reports its mode.
TEST_F(VirtualClockTest, StartsAtStartInstant) {
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_EQ(clock_->mode(), ClockMode::kVirtual);
  EXPECT_TRUE(clock_->is_virtual());
  EXPECT_EQ(clock_->pending_timers(), 0u);
  EXPECT_EQ(clock_->NextTimerAt(), std::nullopt);
}

// Proves virtual time stands still with a future timer pending when nothing pulls it.
TEST_F(VirtualClockTest, StandsStillWithPendingTimersAndNoPull) {
  Record(T(seconds(1)), "later");
  loop_.RunUntilIdleForTest();
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_THAT(firings_, IsEmpty());
  EXPECT_EQ(clock_->pending_timers(), 1u);
  EXPECT_EQ(clock_->NextTimerAt(), T(seconds(1)));
  EXPECT_EQ(clock_->active_pulls(), 0u);
}

// Proves a timer due now (or in the past) fires on the next loop turn, not inside Schedule, and
// without moving the clock.
TEST_F(VirtualClockTest, DueTimerFiresOnNextLoopTurnWithoutPull) {
  Record(TestStart(), "now");
  Record(T(-seconds(5)), "past");
  EXPECT_THAT(firings_, IsEmpty());
  loop_.RunUntilIdleForTest();
  // Ordered by instant: the past one first, both seen at the unchanged Now().
  EXPECT_THAT(firings_, ElementsAre(Firing{"past", TestStart()}, Firing{"now", TestStart()}));
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_EQ(clock_->pending_timers(), 0u);
}

// Proves AdvanceTo fires due timers in (time, sequence) order, ties in scheduling order, each
// seeing its own instant as Now(), then runs `done` at the target and leaves later timers pending.
TEST_F(VirtualClockTest, AdvanceToFiresTimersInTimeThenSequenceOrder) {
  Record(T(seconds(3)), "c");
  Record(T(seconds(1)), "a");
  Record(T(seconds(2)), "b1");
  Record(T(seconds(10)), "beyond");
  Record(T(seconds(2)), "b2");
  Record(T(seconds(5)), "at-target");
  Record(T(seconds(2)), "b3");
  bool done = false;
  TimePoint done_at{};
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)),
                                [&] {
                                  done = true;
                                  done_at = clock_->Now();
                                }),
              IsOk());
  EXPECT_FALSE(done);  // it runs on the loop, not inside AdvanceTo
  loop_.RunUntilIdleForTest();
  ASSERT_TRUE(done);
  EXPECT_EQ(done_at, T(seconds(5)));
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
  EXPECT_THAT(firings_,
              ElementsAre(Firing{"a", T(seconds(1))}, Firing{"b1", T(seconds(2))},
                          Firing{"b2", T(seconds(2))}, Firing{"b3", T(seconds(2))},
                          Firing{"c", T(seconds(3))}, Firing{"at-target", T(seconds(5))}));
  EXPECT_EQ(clock_->pending_timers(), 1u);
  EXPECT_EQ(clock_->NextTimerAt(), T(seconds(10)));
  EXPECT_EQ(clock_->active_pulls(), 0u);
  // With the pull done, the clock stands still again.
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
}

// Proves a timer scheduled before the advance at the target instant fires before `done`, which
// was scheduled after it (sequence order at a tie).
TEST_F(VirtualClockTest, TimerAtTargetFiresBeforeDone) {
  std::vector<std::string> order;
  clock_->Schedule(T(minutes(1)), [&] { order.push_back("timer"); });
  ASSERT_THAT(clock_->AdvanceTo(T(minutes(1)), [&] { order.push_back("done"); }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(order, ElementsAre("timer", "done"));
}

// Proves timers scheduled by a timer callback inside the advance window fire in the same
// advance, in order, while ones beyond the target stay pending.
TEST_F(VirtualClockTest, TimersScheduledByCallbackWithinWindowFireInSameAdvance) {
  clock_->Schedule(T(seconds(1)), [&] {
    firings_.push_back({"first", clock_->Now()});
    Record(T(seconds(4)), "chained+3s");
    Record(T(seconds(1)), "chained-same-instant");
    Record(T(seconds(20)), "chained-beyond");
    clock_->ScheduleAfter(seconds(1), [&] {
      firings_.push_back({"after+1s", clock_->Now()});
      Record(clock_->Now() + seconds(1), "grandchild");
    });
  });
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(10)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  ASSERT_TRUE(done);
  EXPECT_THAT(
      firings_,
      ElementsAre(Firing{"first", T(seconds(1))}, Firing{"chained-same-instant", T(seconds(1))},
                  Firing{"after+1s", T(seconds(2))}, Firing{"grandchild", T(seconds(3))},
                  Firing{"chained+3s", T(seconds(4))}));
  EXPECT_EQ(clock_->Now(), T(seconds(10)));
  EXPECT_EQ(clock_->NextTimerAt(), T(seconds(20)));
}

// Proves a second advance continues from where the first stopped.
TEST_F(VirtualClockTest, ConsecutiveAdvancesContinue) {
  Record(T(seconds(15)), "x");
  int done = 0;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(10)), [&] { ++done; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, IsEmpty());
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(20)), [&] { ++done; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(done, 2);
  EXPECT_THAT(firings_, ElementsAre(Firing{"x", T(seconds(15))}));
  EXPECT_EQ(clock_->Now(), T(seconds(20)));
}

// Proves AdvanceTo the current instant is allowed and completes without moving the clock.
TEST_F(VirtualClockTest, AdvanceToNowCompletesWithoutMoving) {
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(TestStart(), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
  EXPECT_EQ(clock_->Now(), TestStart());
}

// Proves a cancelled timer never fires, and Cancel reports false for fired, cancelled and unknown
// timers.
TEST_F(VirtualClockTest, CancelStopsTimer) {
  TimerId keep = Record(T(seconds(1)), "keep");
  TimerId drop = Record(T(seconds(2)), "drop");
  EXPECT_EQ(clock_->pending_timers(), 2u);
  EXPECT_TRUE(clock_->Cancel(drop));
  EXPECT_FALSE(clock_->Cancel(drop));
  EXPECT_EQ(clock_->pending_timers(), 1u);
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [] {}), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, ElementsAre(Firing{"keep", T(seconds(1))}));
  EXPECT_FALSE(clock_->Cancel(keep));  // already fired
  EXPECT_FALSE(clock_->Cancel(999999));
  EXPECT_EQ(clock_->pending_timers(), 0u);
}

// Proves a timer can cancel a later one at the same instant before it fires.
TEST_F(VirtualClockTest, TimerCanCancelAnotherDueAtTheSameInstant) {
  TimerId second = 0;
  clock_->Schedule(T(seconds(1)), [&] {
    firings_.push_back({"first", clock_->Now()});
    EXPECT_TRUE(clock_->Cancel(second));
  });
  second = Record(T(seconds(1)), "second");
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(2)), [] {}), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, ElementsAre(Firing{"first", T(seconds(1))}));
}

// Proves AdvanceTo an instant before Now() is InvalidArgument naming both instants, and neither
// moves the clock nor runs `done`.
TEST_F(VirtualClockTest, AdvanceToThePastIsInvalidArgument) {
  bool done = false;
  Status status = clock_->AdvanceTo(T(-seconds(1)), [&] { done = true; });
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(),
            "cannot move the clock back from 2026-11-23T08:00:00.000Z to 2026-11-23T07:59:59.000Z");
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(done);
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_EQ(clock_->pending_timers(), 0u);
  EXPECT_EQ(clock_->active_pulls(), 0u);
}

// Proves a Pull moves virtual time to its target, and cancelling it stops the pull.
TEST_F(VirtualClockTest, PullMovesClockAndCancelStopsIt) {
  Record(T(seconds(3)), "timer");
  bool reached = false;
  TimerId pull = clock_->Pull(
      T(seconds(10)), [&] { reached = true; }, "test pull");
  EXPECT_EQ(clock_->active_pulls(), 1u);
  EXPECT_TRUE(clock_->Cancel(pull));
  EXPECT_EQ(clock_->active_pulls(), 0u);
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(reached);
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_THAT(firings_, IsEmpty());

  clock_->Pull(T(seconds(10)), [&] { reached = true; });
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(reached);
  EXPECT_THAT(firings_, ElementsAre(Firing{"timer", T(seconds(3))}));
  EXPECT_EQ(clock_->Now(), T(seconds(10)));
  EXPECT_EQ(clock_->active_pulls(), 0u);
}

// Proves the after-fire hook runs after every timer the clock fires, after the timer itself.
TEST_F(VirtualClockTest, AfterFireRunsAfterEachTimer) {
  std::vector<std::string> order;
  clock_->SetAfterFire([&] { order.push_back("after"); });
  clock_->Schedule(T(seconds(1)), [&] { order.push_back("t1"); });
  clock_->Schedule(T(seconds(2)), [&] { order.push_back("t2"); });
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(2)), [&] { order.push_back("done"); }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(order, ElementsAre("t1", "after", "t2", "after", "done", "after"));
}

// Proves an active hold keeps the clock at the current instant during an advance, and releasing
// it lets the advance complete.
TEST_F(VirtualClockTest, HoldBlocksAdvanceUntilReleased) {
  Record(T(seconds(1)), "t1");
  Hold hold = clock_->Acquire("spawn task 3f2a");
  EXPECT_TRUE(hold.active());
  EXPECT_EQ(clock_->active_holds(), 1u);
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), TestStart());
  EXPECT_THAT(firings_, IsEmpty());
  EXPECT_FALSE(done);

  hold.Release();
  EXPECT_FALSE(hold.active());
  EXPECT_EQ(clock_->active_holds(), 0u);
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
  EXPECT_THAT(firings_, ElementsAre(Firing{"t1", T(seconds(1))}));
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
}

// Proves a hold taken by a timer during an advance stops time at that timer's instant; later
// timers wait until it is released.
TEST_F(VirtualClockTest, HoldTakenMidAdvanceStopsTimeThere) {
  Hold hold;
  clock_->Schedule(T(seconds(1)), [&] {
    firings_.push_back({"spawn", clock_->Now()});
    hold = clock_->Acquire("docker run");
  });
  Record(T(seconds(2)), "next");
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), T(seconds(1)));
  EXPECT_THAT(firings_, ElementsAre(Firing{"spawn", T(seconds(1))}));
  EXPECT_FALSE(done);

  hold = Hold();  // move-assigning releases the old hold
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
  EXPECT_THAT(firings_, ElementsAre(Firing{"spawn", T(seconds(1))}, Firing{"next", T(seconds(2))}));
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
}

// Proves a hold stops time from moving but not timers already due at the current instant.
TEST_F(VirtualClockTest, HoldDoesNotBlockTimersDueNow) {
  Hold hold = clock_->Acquire("work");
  Record(TestStart(), "due-now");
  Record(T(seconds(1)), "future");
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [] {}), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, ElementsAre(Firing{"due-now", TestStart()}));
  EXPECT_EQ(clock_->Now(), TestStart());
  hold.Release();
}

// Proves an advance to T completes only after the real work T's timers started: a request
// sent by a timer due at T (holding the clock) is answered before the advance's caller
// goes on, so what it does next at T cannot race that request.
TEST_F(VirtualClockTest, AdvanceToTCompletesAfterTheWorkTimersAtTStarted) {
  Hold request;
  clock_->Schedule(T(seconds(5)), [&] { request = clock_->Acquire("traffic GET /"); });
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
  EXPECT_FALSE(done);
  request.Release();
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
}

// Proves the clock moves only when the last of several holds is released.
TEST_F(VirtualClockTest, ClockMovesOnlyWhenLastHoldReleased) {
  Hold a = clock_->Acquire("a");
  Hold b = clock_->Acquire("b");
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  a.Release();
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(done);
  EXPECT_EQ(clock_->Now(), TestStart());
  b.Release();
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
}

// Proves holds may be taken and released on another thread, and the release wakes the loop.
TEST_F(VirtualClockTest, HoldFromAnotherThread) {
  Hold hold;
  std::thread([&] { hold = clock_->Acquire("worker thread"); }).join();
  EXPECT_EQ(clock_->active_holds(), 1u);
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(done);
  std::thread([&] { hold.Release(); }).join();
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return done; }));
  EXPECT_EQ(clock_->Now(), T(seconds(5)));
}

// Proves Holds() lists each hold with its description, clock time taken, limit and state, and
// that moving a Hold transfers it while destroying one releases it.
TEST_F(VirtualClockTest, HoldsListsWhatAndSince) {
  Hold first = clock_->Acquire("spawn task 3f2a");
  std::vector<HoldInfo> holds = clock_->Holds();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0].what, "spawn task 3f2a");
  EXPECT_EQ(holds[0].since, TestStart());
  EXPECT_EQ(holds[0].real_limit, seconds(30));
  EXPECT_GE(holds[0].real_age, Duration(0));
  EXPECT_FALSE(holds[0].expired);
  {
    Hold second = clock_->Acquire("api ecs.RunTask");
    holds = clock_->Holds();
    ASSERT_EQ(holds.size(), 2u);
    EXPECT_EQ(holds[1].what, "api ecs.RunTask");
    EXPECT_NE(holds[0].id, holds[1].id);
    EXPECT_EQ(clock_->active_holds(), 2u);

    Hold moved = std::move(second);
    EXPECT_FALSE(second.active());  // NOLINT(bugprone-use-after-move): checking moved-from state
    EXPECT_TRUE(moved.active());
    EXPECT_EQ(clock_->active_holds(), 2u);
  }
  holds = clock_->Holds();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0].what, "spawn task 3f2a");
  first.Release();
  first.Release();  // releasing twice is harmless
  EXPECT_THAT(clock_->Holds(), IsEmpty());
  EXPECT_EQ(clock_->active_holds(), 0u);
}

// Proves a hold outliving hold_limit in real time stops holding: the clock moves on and the
// expiry callback reports it.
TEST_F(VirtualClockTest, HoldOlderThanLimitExpiresAndClockMovesOn) {
  clock_ = MakeClock(ClockMode::kVirtual, milliseconds(1));
  std::vector<HoldInfo> expired;
  clock_->SetOnHoldExpired([&](const HoldInfo& info) { expired.push_back(info); });
  Record(T(seconds(1)), "t1");
  Hold hold = clock_->Acquire("stuck container");
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(seconds(5)), [&] { done = true; }), IsOk());
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return done; }));

  EXPECT_EQ(clock_->Now(), T(seconds(5)));
  EXPECT_THAT(firings_, ElementsAre(Firing{"t1", T(seconds(1))}));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].what, "stuck container");
  EXPECT_EQ(expired[0].since, TestStart());
  EXPECT_TRUE(expired[0].expired);
  EXPECT_EQ(expired[0].real_limit, milliseconds(1));
  EXPECT_GE(expired[0].real_age, milliseconds(1));

  // The hold is still listed, marked expired, but no longer counts.
  std::vector<HoldInfo> holds = clock_->Holds();
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_TRUE(holds[0].expired);
  EXPECT_EQ(clock_->active_holds(), 0u);
  EXPECT_TRUE(hold.active());

  // Releasing an expired hold is harmless, and later holds still count.
  hold.Release();
  EXPECT_THAT(clock_->Holds(), IsEmpty());
  EXPECT_EQ(clock_->active_holds(), 0u);
  Hold again = clock_->Acquire("again");
  EXPECT_EQ(clock_->active_holds(), 1u);
}

// Proves fast mode moves to the next timer with no pull at all when nothing is held.
TEST_F(VirtualClockTest, FastModeSkipsAheadWithoutPull) {
  clock_ = MakeClock(ClockMode::kFast);
  EXPECT_EQ(clock_->mode(), ClockMode::kFast);
  EXPECT_TRUE(clock_->is_virtual());
  Record(T(hours(1)), "in an hour");
  Record(T(hours(24)), "tomorrow");
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_,
              ElementsAre(Firing{"in an hour", T(hours(1))}, Firing{"tomorrow", T(hours(24))}));
  EXPECT_EQ(clock_->Now(), T(hours(24)));
  EXPECT_EQ(clock_->active_pulls(), 0u);
}

// Proves fast mode with no timers stands still.
TEST_F(VirtualClockTest, FastModeWithoutTimersStandsStill) {
  clock_ = MakeClock(ClockMode::kFast);
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(clock_->Now(), TestStart());
}

// Proves fast mode still respects holds, and moves on once they are released.
TEST_F(VirtualClockTest, FastModeWaitsForHolds) {
  clock_ = MakeClock(ClockMode::kFast);
  Hold hold = clock_->Acquire("work");
  Record(T(minutes(1)), "t");
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, IsEmpty());
  EXPECT_EQ(clock_->Now(), TestStart());
  hold.Release();
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(firings_, ElementsAre(Firing{"t", T(minutes(1))}));
}

// Proves AdvanceTo works in fast mode as in virtual mode.
TEST_F(VirtualClockTest, FastModeAdvanceTo) {
  clock_ = MakeClock(ClockMode::kFast);
  bool done = false;
  ASSERT_THAT(clock_->AdvanceTo(T(minutes(3)), [&] { done = true; }), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(done);
  EXPECT_EQ(clock_->Now(), T(minutes(3)));
}

class RealClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClockOptions options;
    options.mode = ClockMode::kReal;
    options.start = TestStart();  // ignored in real mode
    clock_ = Clock::Create(loop_, options);
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
};

// Proves a real clock follows the wall clock and ignores the start instant.
TEST_F(RealClockTest, FollowsWallClock) {
  EXPECT_EQ(clock_->mode(), ClockMode::kReal);
  EXPECT_FALSE(clock_->is_virtual());
  auto before = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  TimePoint now = clock_->Now();
  auto after = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

// Proves a real-clock timer 20 ms ahead fires once real time has reached its instant.
TEST_F(RealClockTest, TimerFiresAfterRealTimePasses) {
  TimePoint at = clock_->Now() + milliseconds(20);
  bool fired = false;
  TimePoint fired_at{};
  clock_->Schedule(at, [&] {
    fired = true;
    fired_at = clock_->Now();
  });
  loop_.RunUntilIdleForTest();
  EXPECT_TRUE(!fired || clock_->Now() >= at);  // never early
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return fired; }));
  EXPECT_GE(fired_at, at);
  EXPECT_EQ(clock_->pending_timers(), 0u);
}

// Proves real-clock timers fire in instant order even when scheduled out of order, and a timer
// in the past fires on the next loop turn.
TEST_F(RealClockTest, TimersFireInOrder) {
  TimePoint now = clock_->Now();
  std::vector<std::string> order;
  clock_->Schedule(now + milliseconds(30), [&] { order.push_back("30ms"); });
  clock_->Schedule(now + milliseconds(10), [&] { order.push_back("10ms"); });
  clock_->Schedule(now - seconds(1), [&] { order.push_back("past"); });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return order.size() == 3; }));
  EXPECT_THAT(order, ElementsAre("past", "10ms", "30ms"));
}

// Proves cancelling a real-clock timer (even the armed, earliest one) stops it while others fire.
TEST_F(RealClockTest, CancelStopsTimer) {
  TimePoint now = clock_->Now();
  bool cancelled_fired = false;
  bool other_fired = false;
  TimerId id = clock_->Schedule(now + milliseconds(5), [&] { cancelled_fired = true; });
  clock_->Schedule(now + milliseconds(25), [&] { other_fired = true; });
  EXPECT_TRUE(clock_->Cancel(id));
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return other_fired; }));
  EXPECT_FALSE(cancelled_fired);
}

// Proves a Pull on a real clock is a plain timer: it fires when real time reaches it.
TEST_F(RealClockTest, PullIsPlainTimer) {
  bool reached = false;
  clock_->Pull(clock_->Now() + milliseconds(5), [&] { reached = true; });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return reached; }));
}

// Proves AdvanceTo is refused on a real clock with FailedPrecondition and its exact message.
TEST_F(RealClockTest, AdvanceToIsFailedPrecondition) {
  bool done = false;
  Status status = clock_->AdvanceTo(clock_->Now() + seconds(10), [&] { done = true; });
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(status.message(),
            "the clock is real and follows the wall clock; start understudy with --clock virtual "
            "or --clock fast to move it");
  loop_.RunUntilIdleForTest();
  EXPECT_FALSE(done);
  EXPECT_EQ(clock_->pending_timers(), 0u);
}

// Proves holds are tracked on a real clock too (for diagnostics) and do not delay its timers.
TEST_F(RealClockTest, HoldsAreListedButDoNotDelayTimers) {
  Hold hold = clock_->Acquire("api ecs.RunTask");
  ASSERT_EQ(clock_->Holds().size(), 1u);
  EXPECT_EQ(clock_->Holds()[0].what, "api ecs.RunTask");
  bool fired = false;
  clock_->ScheduleAfter(milliseconds(1), [&] { fired = true; });
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return fired; }));
  hold.Release();
  EXPECT_EQ(clock_->active_holds(), 0u);
}

}  // namespace
}  // namespace understudy
