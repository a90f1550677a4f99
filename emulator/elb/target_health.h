// Target health: the ALB's health-check state machine and the checker that probes
// every registered target over real HTTP on the emulator's clock.
//
// The control plane tells the checker which targets to probe (registered, not
// draining, in a target group some listener uses) and with which settings; the
// checker schedules one probe per target per interval on the Clock, holds the
// clock while a probe is in flight (so virtual time collapses the waits but never
// outruns a probe), applies the transitions of aws-semantics §1.6 and reports
// changes. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "elb/routing.h"

namespace understudy::elb {

// A target group's health-check settings, validated and defaulted (§1.5).
struct HealthCheckSettings {
  bool enabled = true;
  std::string protocol = "HTTP";      // HTTP | HTTPS
  std::string port = "traffic-port";  // or a port number as text
  std::string path = "/";
  int interval_seconds = 30;
  int timeout_seconds = 5;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
  std::string matcher = "200";  // "200", "200,202", "200-299"
};

// A registered target: target group, id and port.
struct TargetKey {
  std::string target_group_arn;
  std::string id;
  uint16_t port = 0;
  auto operator<=>(const TargetKey&) const = default;
};

struct CheckedTarget {
  TargetKey key;
  std::string connect_address = "127.0.0.1";
  int netns_pid = 0;  // probes connect inside this process's network namespace when set
  HealthCheckSettings settings;
  int slow_start_seconds = 0;  // 0: off
};

// What DescribeTargetHealth shows for a probed target.
struct TargetHealthReport {
  Target::Health state = Target::Health::kInitial;
  std::string reason;       // "Elb.RegistrationInProgress", "Target.ResponseCodeMismatch"...
  std::string description;  // "Health checks failed with these codes: [404]"
};

// What one probe saw.
struct ProbeResult {
  enum class Outcome { kPassed, kCodeMismatch, kTimeout, kFailed };
  Outcome outcome = Outcome::kFailed;
  int status_code = 0;  // kPassed / kCodeMismatch
};

// One step of the state machine: the health after `result`, given the health before,
// the consecutive-result counters (updated in place) and the thresholds.
struct HealthCounters {
  int successes = 0;
  int failures = 0;
  bool probed = false;  // at least one probe completed
};
TargetHealthReport NextHealth(const TargetHealthReport& before, HealthCounters& counters,
                              const ProbeResult& result, const HealthCheckSettings& settings);

// True when `status` matches a matcher such as "200", "200,202" or "200-299".
bool MatcherAccepts(const std::string& matcher, int status);

class HealthChecker {
 public:
  HealthChecker(EventLoop& loop, Clock& clock);
  ~HealthChecker();

  // Called on the loop thread after any target's state or slow-start share changed.
  void SetOnChange(std::function<void()> on_change);
  // Replaces the set of probed targets. Targets already present keep their state
  // (and are re-scheduled if their settings changed); new ones start `initial`
  // (Elb.RegistrationInProgress) and are probed at once; absent ones are forgotten.
  void SetTargets(std::vector<CheckedTarget> targets);
  // The health of a target given to SetTargets; initial/Elb.RegistrationInProgress
  // for one it does not know.
  TargetHealthReport Health(const TargetKey& key) const;
  // The target's slow-start share in (0, 1]; 1 when not in slow start.
  double SlowStartFactor(const TargetKey& key) const;
  // Fault injection (docs/chaos.md): probes of targets matching one of `keys` fail
  // without connecting (Target.FailedHealthChecks) until replaced. An empty id or a zero
  // port matches every target of the group, or every port.
  void SetForcedFailures(std::vector<TargetKey> keys);
  // Forgets every target and cancels every probe.
  void Clear();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace understudy::elb
