// EventBus: the internal bus services publish AWS-shaped events on.
//
// ECS publishes "ECS Task State Change" and friends here in EventBridge's envelope
// (version, id, detail-type, source, account, time, region, resources, detail);
// EventBridge subscribes and matches them against rules. Publishers never know
// who listens. The bus keeps the most recent events for introspection. Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>

#include "core/json.h"

namespace understudy {

class EventBus {
 public:
  explicit EventBus(size_t keep_recent = 1000) : keep_recent_(keep_recent) {}

  using Subscriber = std::function<void(const Json& event)>;
  // Calls `subscriber` for every event published from now on; returns an id for Unsubscribe.
  uint64_t Subscribe(Subscriber subscriber);
  void Unsubscribe(uint64_t id);

  // Delivers `event` to every subscriber, in subscription order, before returning.
  void Publish(const Json& event);

  // The most recent events, oldest first, each with a "seq" added.
  const std::deque<Json>& recent() const { return recent_; }
  uint64_t published() const { return published_; }
  void ClearRecent() { recent_.clear(); }

 private:
  size_t keep_recent_;
  std::map<uint64_t, Subscriber> subscribers_;
  uint64_t next_id_ = 1;
  uint64_t published_ = 0;
  std::deque<Json> recent_;
};

}  // namespace understudy
