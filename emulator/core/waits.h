// Waits: clients blocked until a condition on emulator state holds.
//
// A wait is a predicate plus a timeout in clock time. It is checked at once,
// after every timer the clock fires and whenever a component reports a state
// change (NotifyChanged). In virtual and fast modes a wait pulls the clock
// toward its deadline, so a wait for "service steady, within 15m" moves virtual
// time only as far as it must. Loop thread only, except NotifyChanged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/clock.h"
#include "core/event_loop.h"

namespace understudy {

class Waits {
 public:
  Waits(EventLoop& loop, Clock& clock);
  ~Waits();

  using Check = std::function<bool()>;
  // Calls done(true) as soon as check() is true (possibly before returning), or
  // done(false) when `timeout` of clock time has passed first. Returns the wait's id.
  uint64_t WaitUntil(std::string what, Check check, Duration timeout,
                     std::function<void(bool met)> done);
  // Abandons a wait without calling its callback (a client went away).
  void Cancel(uint64_t id);

  // State changed somewhere; re-check every wait on the next loop turn. Any thread.
  void NotifyChanged();
  size_t pending() const { return waits_.size(); }

 private:
  struct Wait {
    std::string what;
    Check check;
    std::function<void(bool)> done;
    TimerId deadline_timer = 0;
  };
  void CheckAll();
  void Finish(uint64_t id, bool met);

  EventLoop& loop_;
  Clock& clock_;
  std::map<uint64_t, Wait> waits_;
  uint64_t next_id_ = 1;
  std::atomic<bool> check_posted_{false};
};

}  // namespace understudy
