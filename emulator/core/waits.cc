#include "core/waits.h"

#include <vector>

namespace understudy {

Waits::Waits(EventLoop& loop, Clock& clock) : loop_(loop), clock_(clock) {
  clock_.SetAfterFire([this] { CheckAll(); });
}

Waits::~Waits() { clock_.SetAfterFire(nullptr); }

uint64_t Waits::WaitUntil(std::string what, Check check, Duration timeout,
                          std::function<void(bool)> done) {
  uint64_t id = next_id_++;
  if (check()) {
    done(true);
    return id;
  }
  Wait wait{std::move(what), std::move(check), std::move(done), 0};
  wait.deadline_timer = clock_.Pull(
      clock_.Now() + timeout, [this, id] { Finish(id, false); }, "wait " + wait.what);
  waits_.emplace(id, std::move(wait));
  return id;
}

void Waits::Cancel(uint64_t id) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  clock_.Cancel(it->second.deadline_timer);
  waits_.erase(it);
}

void Waits::NotifyChanged() {
  if (check_posted_.exchange(true)) return;
  loop_.Post([this] {
    check_posted_ = false;
    CheckAll();
  });
}

void Waits::CheckAll() {
  std::vector<uint64_t> met;
  for (auto& [id, wait] : waits_) {
    if (wait.check()) met.push_back(id);
  }
  for (uint64_t id : met) Finish(id, true);
}

void Waits::Finish(uint64_t id, bool met) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  Wait wait = std::move(it->second);
  waits_.erase(it);
  if (met) clock_.Cancel(wait.deadline_timer);
  wait.done(met);
}

}  // namespace understudy
