// Waits: block until a condition holds in the emulator (`POST /_understudy/wait`) and
// answer a ::testing::AssertionResult. Under the virtual clock the wait moves the clock
// up to its timeout; a failure says what was awaited, for how long, and the last
// state the emulator observed, so EXPECT_TRUE(WaitFor(...)) explains itself.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "understudy/emulator.h"

namespace understudy {

// One of the control API's wait conditions (docs/control-api.md, "Wait conditions").
struct Condition {
  std::string name;       // "ecsService"
  nlohmann::json params;  // {"cluster": "web", "service": "web"}
  std::string Describe() const { return name + " " + params.dump(); }
};

namespace until {
// The service is ACTIVE with one deployment whose running count equals its desired count.
Condition ServiceSteady(const std::string& cluster, const std::string& service);
// The task has `last_status` (RUNNING, STOPPED, ...).
Condition TaskStatus(const std::string& cluster, const std::string& task,
                     const std::string& last_status = "RUNNING");
Condition ClusterActive(const std::string& cluster);
// DescribeTargetHealth shows the target (`id`, `port`; 0: the group's port) in `state`.
Condition TargetHealth(const std::string& target_group_arn, const std::string& id, int port = 0,
                       const std::string& state = "healthy");
// At least `count` stored SES messages match `filters` (to, from, subject, q, ...).
Condition Emails(const nlohmann::json& filters, int count = 1);
// At least `count` EventBridge/Scheduler deliveries from `source` (any when empty).
Condition EventsDelivered(const std::string& source = "", int count = 1,
                          const std::string& outcome = "");
Condition AlarmState(const std::string& alarm, const std::string& state);
// Nothing in flight and no timer due now.
Condition Idle();
}  // namespace until

// Waits for `condition` for at most `timeout` of clock time ("15m", "90s").
::testing::AssertionResult WaitFor(const Emulator& emulator, const Condition& condition,
                                   const std::string& timeout = "15m");

}  // namespace understudy
