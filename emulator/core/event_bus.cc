#include "core/event_bus.h"

#include <vector>

namespace understudy {

uint64_t EventBus::Subscribe(Subscriber subscriber) {
  uint64_t id = next_id_++;
  subscribers_.emplace(id, std::move(subscriber));
  return id;
}

void EventBus::Unsubscribe(uint64_t id) { subscribers_.erase(id); }

void EventBus::Publish(const Json& event) {
  ++published_;
  Json kept = event;
  kept["seq"] = published_;
  recent_.push_back(std::move(kept));
  while (recent_.size() > keep_recent_) recent_.pop_front();
  // A subscriber may subscribe or unsubscribe others; deliver to a snapshot.
  std::vector<Subscriber> targets;
  for (const auto& [id, subscriber] : subscribers_) targets.push_back(subscriber);
  for (const auto& subscriber : targets) subscriber(event);
}

}  // namespace understudy
