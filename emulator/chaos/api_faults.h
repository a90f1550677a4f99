// ApiFaults: the error, latency and placement-failure rules the front door consults
// for every call (understudy:api:* and understudy:ecs:placement-failure actions).
//
// Rules are kept in the order they were added; the first matching error rule decides
// the answer and every matching latency rule adds its delay. Counting (every Nth call,
// the first N calls) is per rule over the calls it matches; probabilities and jitter
// draw from the rule's own stream, so a seed replays the same failures. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/front_door.h"
#include "core/random.h"

namespace understudy::chaos {

struct ApiFaultRule {
  enum class Kind { kError, kLatency, kPlacementFailure };
  Kind kind = Kind::kError;
  std::string service;    // model id; "" = any
  std::string operation;  // "" = any
  // kError
  std::string error_code = "ServiceUnavailable";
  int http_status = 503;
  std::string message = "Service Unavailable (injected by understudy chaos)";
  double probability = 1.0;
  int64_t every = 0;       // fail every Nth matching call; 0: not set
  int64_t fail_first = 0;  // fail only the first N matching calls; 0: not set
  // kLatency
  Duration latency{0};
  Duration jitter{0};
  // kPlacementFailure: RunTask answers failures [{arn, reason}] and no tasks.
  std::string reason = "RESOURCE:MEMORY";
  std::string cluster;  // "" = any
};

class ApiFaults {
 public:
  // `on_fault` learns of every call a rule touched (for the journal).
  explicit ApiFaults(
      std::function<void(uint64_t rule, const api::RequestContext&, const std::string& what)>
          on_fault = {})
      : on_fault_(std::move(on_fault)) {}

  uint64_t Add(ApiFaultRule rule, Random random);
  void Remove(uint64_t id);
  void Clear() { rules_.clear(); }
  bool empty() const { return rules_.empty(); }
  // How many calls rule `id` has matched and failed / delayed.
  int64_t matched(uint64_t id) const;
  int64_t applied(uint64_t id) const;

  // The fault for one call (FrontDoor's FaultHook); `input` gives RunTask's cluster.
  std::optional<api::InjectedFault> Decide(const api::RequestContext& ctx, const Json& input);

 private:
  struct Entry {
    uint64_t id;
    ApiFaultRule rule;
    Random random;
    int64_t matched = 0;
    int64_t applied = 0;
  };
  std::vector<Entry> rules_;
  uint64_t next_id_ = 1;
  std::function<void(uint64_t, const api::RequestContext&, const std::string&)> on_fault_;
};

}  // namespace understudy::chaos
