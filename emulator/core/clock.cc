#include "core/clock.h"

#include <algorithm>
#include <atomic>

#include "core/check.h"

namespace understudy {

const char* ClockModeName(ClockMode mode) {
  switch (mode) {
    case ClockMode::kReal:
      return "real";
    case ClockMode::kVirtual:
      return "virtual";
    case ClockMode::kFast:
      return "fast";
  }
  return "real";
}

Result<ClockMode> ParseClockMode(std::string_view text) {
  if (text == "real") return ClockMode::kReal;
  if (text == "virtual") return ClockMode::kVirtual;
  if (text == "fast") return ClockMode::kFast;
  return Status::InvalidArgument("unknown clock mode '" + std::string(text) +
                                 "'; expected real, virtual or fast");
}

Hold::Hold(Hold&& other) noexcept : clock_(other.clock_), id_(other.id_) { other.clock_ = nullptr; }

Hold& Hold::operator=(Hold&& other) noexcept {
  if (this != &other) {
    Release();
    clock_ = other.clock_;
    id_ = other.id_;
    other.clock_ = nullptr;
  }
  return *this;
}

void Hold::Release() {
  if (clock_ != nullptr) {
    Clock* clock = clock_;
    clock_ = nullptr;
    clock->ReleaseHold(id_);
  }
}

Clock::Clock(EventLoop& loop, const ClockOptions& options) : loop_(loop), options_(options) {}

Clock::~Clock() = default;

TimerId Clock::Schedule(TimePoint at, std::function<void()> fn, std::string label) {
  TimerId id = next_timer_id_++;
  timers_.emplace(TimerKey{at, id}, TimerEntry{std::move(fn), std::move(label)});
  timer_times_.emplace(id, at);
  OnChange();
  return id;
}

bool Clock::Cancel(TimerId id) {
  auto it = timer_times_.find(id);
  if (it == timer_times_.end()) return false;
  timers_.erase(TimerKey{it->second, id});
  timer_times_.erase(it);
  pulls_.erase(id);
  OnChange();
  return true;
}

std::optional<TimePoint> Clock::NextTimerAt() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

TimerId Clock::Pull(TimePoint target, std::function<void()> on_reached, std::string label) {
  TimerId id = next_timer_id_;  // Schedule() takes this id
  pulls_.emplace(id, true);
  TimerId scheduled = Schedule(target, std::move(on_reached), std::move(label));
  UNDERSTUDY_CHECK(scheduled == id);
  return id;
}

Status Clock::AdvanceTo(TimePoint target, std::function<void()> done) {
  if (!is_virtual()) {
    return Status::FailedPrecondition(
        "the clock is real and follows the wall clock; start understudy with --clock virtual "
        "or --clock fast to move it");
  }
  if (target < Now()) {
    return Status::InvalidArgument("cannot move the clock back from " + FormatIso8601(Now()) +
                                   " to " + FormatIso8601(target));
  }
  Pull(target, std::move(done), "advance");
  return Status::Ok();
}

void Clock::FireEarliest() {
  auto it = timers_.begin();
  UNDERSTUDY_CHECK(it != timers_.end());
  // A pull reaching its instant fires after every other timer due then, including
  // ones scheduled while the clock was on its way: "advance to T" means T is done.
  for (auto same = it; same != timers_.end() && same->first.first == it->first.first; ++same) {
    if (!pulls_.count(same->first.second)) {
      it = same;
      break;
    }
  }
  TimerId id = it->first.second;
  TimerEntry entry = std::move(it->second);
  timers_.erase(it);
  timer_times_.erase(id);
  pulls_.erase(id);
  entry.fn();
  if (after_fire_) after_fire_();
}

Hold Clock::Acquire(std::string what) {
  std::lock_guard<std::mutex> lock(holds_mu_);
  uint64_t id = next_hold_id_++;
  holds_.emplace(id, HoldState{std::move(what), Now(), std::chrono::steady_clock::now(), false});
  ++active_hold_count_;
  return Hold(this, id);
}

void Clock::ReleaseHold(uint64_t id) {
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(holds_mu_);
    auto it = holds_.find(id);
    if (it == holds_.end()) return;
    if (!it->second.expired) {
      --active_hold_count_;
      last = active_hold_count_ == 0;
    }
    holds_.erase(it);
  }
  if (last && is_virtual()) loop_.Post([this] { OnChange(); });
}

std::vector<HoldInfo> Clock::Holds() const {
  std::lock_guard<std::mutex> lock(holds_mu_);
  auto now = std::chrono::steady_clock::now();
  std::vector<HoldInfo> out;
  for (const auto& [id, h] : holds_) {
    out.push_back(HoldInfo{id, h.what, h.since,
                           std::chrono::duration_cast<Duration>(now - h.real_start),
                           options_.hold_limit, h.expired});
  }
  return out;
}

size_t Clock::active_holds() const {
  std::lock_guard<std::mutex> lock(holds_mu_);
  return active_hold_count_;
}

std::optional<std::chrono::steady_clock::time_point> Clock::ExpireOldHolds() {
  std::vector<HoldInfo> expired;
  std::optional<std::chrono::steady_clock::time_point> earliest;
  {
    std::lock_guard<std::mutex> lock(holds_mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, h] : holds_) {
      if (h.expired) continue;
      auto deadline = h.real_start + options_.hold_limit;
      if (deadline <= now) {
        h.expired = true;
        --active_hold_count_;
        expired.push_back(HoldInfo{id, h.what, h.since,
                                   std::chrono::duration_cast<Duration>(now - h.real_start),
                                   options_.hold_limit, true});
      } else if (!earliest || deadline < *earliest) {
        earliest = deadline;
      }
    }
  }
  for (const auto& info : expired) {
    if (on_hold_expired_) on_hold_expired_(info);
  }
  return earliest;
}

namespace {

// Follows the wall clock; one Asio timer armed for the earliest pending timer.
class RealClock final : public Clock {
 public:
  RealClock(EventLoop& loop, const ClockOptions& options)
      : Clock(loop, options), timer_(loop.io()) {}

  // Clock
  TimePoint Now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }

 protected:
  void OnChange() override { Arm(); }

 private:
  void Arm() {
    auto next = NextTimerAt();
    if (!next) {
      if (armed_) timer_.cancel();
      armed_.reset();
      return;
    }
    if (armed_ && *armed_ == *next) return;
    armed_ = next;
    timer_.expires_after(std::max(Duration(0), *next - Now()));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or cancelled
      armed_.reset();
      FireDue();
    });
  }

  void FireDue() {
    TimePoint now = Now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) FireEarliest();
    Arm();
  }

  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_;
};

// Discrete-event time: moves from due timer to due timer while pulled (or
// always, in fast mode), and only while no hold is active.
class VirtualClock final : public Clock {
 public:
  VirtualClock(EventLoop& loop, const ClockOptions& options)
      : Clock(loop, options),
        now_us_(options.start.time_since_epoch().count()),
        hold_timer_(loop.io()) {}

  // Clock
  TimePoint Now() const override { return TimePoint(Duration(now_us_.load())); }

 protected:
  void OnChange() override {
    if (step_posted_) return;
    step_posted_ = true;
    loop_.Post([this] {
      step_posted_ = false;
      Step();
    });
  }

 private:
  void Step() {
    if (timers_.empty()) return;
    TimePoint next = timers_.begin()->first.first;
    TimePoint now = Now();
    // A pull due now (only pulls left at this instant) completes once the real work the
    // instant's timers started is done too: "advance to T" means T's requests are
    // answered, so what the puller does next cannot race them.
    bool pull_due_now = next <= now;
    for (auto it = timers_.begin(); pull_due_now && it != timers_.end() && it->first.first == next;
         ++it) {
      pull_due_now = pulls_.count(it->first.second) > 0;
    }
    if (next > now || pull_due_now) {
      if (next > now && pulls_.empty() && mode() != ClockMode::kFast) return;  // standing still
      auto deadline = ExpireOldHolds();
      if (active_holds() > 0) {
        // Real work is in flight; wake when a hold expires (release wakes us too).
        // A hold taken on another thread since ExpireOldHolds has the full limit ahead.
        if (!deadline) deadline = std::chrono::steady_clock::now() + options_.hold_limit;
        hold_timer_.expires_at(*deadline);
        hold_timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec) OnChange();
        });
        return;
      }
      if (next > now) now_us_ = next.time_since_epoch().count();
    }
    FireEarliest();
    OnChange();  // the next step runs after whatever the timer posted
  }

  std::atomic<int64_t> now_us_;
  bool step_posted_ = false;
  boost::asio::steady_timer hold_timer_;
};

}  // namespace

std::unique_ptr<Clock> Clock::Create(EventLoop& loop, const ClockOptions& options) {
  if (options.mode == ClockMode::kReal) return std::make_unique<RealClock>(loop, options);
  return std::make_unique<VirtualClock>(loop, options);
}

}  // namespace understudy
