// Choosing where a forwarded request goes: one target group of a (weighted) forward
// action, then one target in it — sticky cookies first, then the group's algorithm
// over its healthy targets, failing open to unhealthy ones when none is healthy
// (aws-semantics §1.4, §1.7). Any thread: the counters are atomics shared by all.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "elb/routing.h"

namespace understudy::elb {

// What the data plane keeps about a target across snapshots.
struct TargetRuntime {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> in_flight{0};
  // Answers the target gave (CloudWatch's TargetResponseTime, HTTPCode_Target_*).
  std::atomic<uint64_t> responses{0};
  std::atomic<uint64_t> response_time_us{0};
  std::atomic<uint64_t> target_4xx{0};
  std::atomic<uint64_t> target_5xx{0};
  // Moves on when the target's deregistration delay elapses: the exchanges with it that
  // started before are ended (the data plane keeps them per worker).
  std::atomic<uint64_t> cut_epoch{0};
};

struct GroupRuntime {
  std::atomic<uint64_t> next{0};  // round robin position
};

// A target group as the data plane routes over it.
struct RoutableGroup {
  const TargetGroup* group = nullptr;
  std::shared_ptr<GroupRuntime> runtime;
  std::vector<std::shared_ptr<TargetRuntime>> runtimes;  // parallel to group->targets
  std::vector<std::string> tokens;                       // sticky cookie value per target
  std::vector<std::string> pool_keys;  // per target: its idle upstream connections' key
  std::string group_token;             // AWSALBTG value
  std::vector<size_t> healthy;         // indexes into group->targets
  std::vector<size_t> fail_open;       // unhealthy ones, used when no healthy
  bool has_slow_start = false;

  // The targets a new request may go to: the healthy ones, else (fail-open) the
  // unhealthy ones; empty when there are none (503).
  const std::vector<size_t>& Candidates() const { return healthy.empty() ? fail_open : healthy; }
};

// A per-target cookie value: opaque, stable for (seed, target group, target).
std::string StickyToken(uint64_t seed, std::string_view target_group_arn, std::string_view id,
                        uint16_t port);

// Picks a target index among `group.Candidates()`, or nothing when there is none.
// `sticky` is the decoded target the request's cookie names, when still a candidate.
std::optional<size_t> ChooseTarget(const RoutableGroup& group, std::optional<size_t> sticky,
                                   Random& random);

// Picks a target group of a forward action by weight; nothing when every weight is 0.
std::optional<size_t> ChooseWeightedGroup(const std::vector<Action::WeightedGroup>& groups,
                                          Random& random);

// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string_view> FindCookie(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view name);

// "Wed, 21 Oct 2026 07:28:00 GMT" for a Unix time in seconds (cookie Expires).
std::string HttpDate(int64_t epoch_seconds);

}  // namespace understudy::elb
