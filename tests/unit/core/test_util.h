// Shared helpers for the core unit tests: fixed instants and a way to drive an
// EventLoop until a condition holds, with a real-time deadline (never a bare sleep).
#pragma once

#include <chrono>
#include <functional>

#include "core/event_loop.h"
#include "core/time.h"

namespace understudy::testing {

// 2026-11-23T08:00:00Z, the start instant used by the virtual-clock tests.
inline TimePoint TestStart() {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + std::chrono::hours(8);
}

// Runs `loop` on the calling thread until `done()` is true or `timeout` of real
// time has passed; returns whether `done()` became true.
inline bool RunLoopUntil(EventLoop& loop, const std::function<bool()>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    loop.RunUntilIdleForTest();
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Blocks for at most 1 ms, returning early only if the loop is stopped; handlers
    // that become ready meanwhile (Asio timers, posts from other threads) run here.
    loop.io().run_for(std::chrono::milliseconds(1));
  }
}

}  // namespace understudy::testing
