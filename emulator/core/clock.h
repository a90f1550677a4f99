// Clock: where every component gets "now" and its timers.
//
// Three modes (brief §5). kReal follows the wall clock. kVirtual stands still
// until something pulls it (an advance, or a wait with a virtual deadline); while
// pulled it jumps from one due timer to the next, in (time, sequence) order, but
// only while no real-world work is in flight (no Hold is active). kFast behaves
// as if a client were always pulling: it skips ahead whenever nothing is in
// flight.
//
// Timers, pulls and advances: loop thread only. Holds: any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "core/event_loop.h"
#include "core/status.h"
#include "core/time.h"

namespace understudy {

enum class ClockMode { kReal, kVirtual, kFast };
const char* ClockModeName(ClockMode mode);  // "real", "virtual", "fast"
Result<ClockMode> ParseClockMode(std::string_view text);

using TimerId = uint64_t;

// One piece of real-world work in flight ("spawn task 3f2a…", "api ecs.RunTask").
struct HoldInfo {
  uint64_t id = 0;
  std::string what;
  TimePoint since;         // clock time when it was taken
  Duration real_age{0};    // real time it has been held
  Duration real_limit{0};  // after this much real time it stops holding the clock
  bool expired = false;    // it outlived real_limit and no longer holds the clock
};

class Clock;

// A hold on the clock, released when destroyed (or by Release()). Move-only.
class Hold {
 public:
  Hold() = default;
  Hold(Hold&& other) noexcept;
  Hold& operator=(Hold&& other) noexcept;
  ~Hold() { Release(); }
  void Release();
  bool active() const { return clock_ != nullptr; }

 private:
  friend class Clock;
  Hold(Clock* clock, uint64_t id) : clock_(clock), id_(id) {}
  Clock* clock_ = nullptr;
  uint64_t id_ = 0;
};

struct ClockOptions {
  ClockMode mode = ClockMode::kReal;
  // Virtual and fast modes: the first instant. Ignored in real mode.
  TimePoint start{};
  // How long a hold may stand in real time before it stops holding the clock, so
  // that a broken app cannot freeze virtual time. 30 s unless given.
  Duration hold_limit = std::chrono::seconds(30);
};

class Clock {
 public:
  // Builds the clock for `options.mode`, firing timers on `loop`.
  static std::unique_ptr<Clock> Create(EventLoop& loop, const ClockOptions& options);
  virtual ~Clock();

  ClockMode mode() const { return options_.mode; }
  bool is_virtual() const { return options_.mode != ClockMode::kReal; }
  // The current instant: wall time in real mode, virtual time otherwise.
  virtual TimePoint Now() const = 0;

  // Runs `fn` on the loop thread once the clock reaches `at` (at once, on the
  // next loop turn, if `at` is past). Timers due at the same instant fire in the
  // order they were scheduled, a pull reaching that instant last. `label` names the
  // timer in diagnostics.
  TimerId Schedule(TimePoint at, std::function<void()> fn, std::string label = {});
  TimerId ScheduleAfter(Duration delay, std::function<void()> fn, std::string label = {}) {
    return Schedule(Now() + delay, std::move(fn), std::move(label));
  }
  // Cancels a timer that has not fired; false when it is unknown or has fired.
  bool Cancel(TimerId id);
  // The instant of the earliest pending timer.
  std::optional<TimePoint> NextTimerAt() const;
  size_t pending_timers() const { return timers_.size(); }

  // Pulls the clock toward `target`: `on_reached` runs when the clock reaches it.
  // In real mode this is a plain timer; in virtual mode it also makes virtual
  // time move (see the header comment). Cancel the returned id to stop pulling.
  TimerId Pull(TimePoint target, std::function<void()> on_reached, std::string label = {});

  // Moves virtual time to `target`, firing due timers on the way; `done` runs
  // when it gets there. FailedPrecondition in real mode; InvalidArgument if
  // `target` is in the past.
  Status AdvanceTo(TimePoint target, std::function<void()> done);

  // Marks real-world work in flight until the Hold is released. Any thread.
  Hold Acquire(std::string what);
  std::vector<HoldInfo> Holds() const;  // any thread
  size_t active_holds() const;          // holds that still hold (not expired); any thread
  // Ids of the timers that pull the clock, and the furthest pull target.
  size_t active_pulls() const { return pulls_.size(); }

  // Called on the loop thread after each timer this clock fires, so waits can
  // re-check their conditions.
  void SetAfterFire(std::function<void()> fn) { after_fire_ = std::move(fn); }
  // Called on the loop thread when a hold outlives its real-time limit.
  void SetOnHoldExpired(std::function<void(const HoldInfo&)> fn) {
    on_hold_expired_ = std::move(fn);
  }

 protected:
  Clock(EventLoop& loop, const ClockOptions& options);

  struct TimerEntry {
    std::function<void()> fn;
    std::string label;
  };
  using TimerKey = std::pair<TimePoint, TimerId>;

  // Something changed that may let timers fire: a timer or a pull was added, or
  // a hold was released. Loop thread.
  virtual void OnChange() = 0;
  // Pops and runs the earliest timer. REQUIRES: a timer is pending.
  void FireEarliest();

  EventLoop& loop_;
  ClockOptions options_;
  std::map<TimerKey, TimerEntry> timers_;
  std::unordered_map<TimerId, TimePoint> timer_times_;
  std::unordered_map<TimerId, bool> pulls_;  // timer ids that pull
  TimerId next_timer_id_ = 1;
  std::function<void()> after_fire_;
  std::function<void(const HoldInfo&)> on_hold_expired_;

  // Holds, guarded by holds_mu_ (taken and released from any thread).
  struct HoldState {
    std::string what;
    TimePoint since;
    std::chrono::steady_clock::time_point real_start;
    bool expired = false;
  };
  mutable std::mutex holds_mu_;
  std::map<uint64_t, HoldState> holds_;
  uint64_t next_hold_id_ = 1;
  size_t active_hold_count_ = 0;
  // Marks holds past their real limit expired; returns the earliest real deadline
  // among those still active. Loop thread.
  std::optional<std::chrono::steady_clock::time_point> ExpireOldHolds();

 private:
  friend class Hold;
  void ReleaseHold(uint64_t id);
};

}  // namespace understudy
