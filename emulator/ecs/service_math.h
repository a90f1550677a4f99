// Service arithmetic: the numbers the ECS service scheduler works with
// (aws-semantics §2.6, §2.7, §2.14). Pure functions. Internal to ecs/. Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/json.h"
#include "core/time.h"

namespace understudy::ecs {

// The cap on PENDING + RUNNING tasks across all deployments during a rolling update:
// floor(desired × maximumPercent / 100).
int64_t MaxTasks(int64_t desired, int64_t maximum_percent);
// The floor on healthy RUNNING tasks: ceil(desired × minimumHealthyPercent / 100).
int64_t MinHealthy(int64_t desired, int64_t minimum_healthy_percent);
// The deployment circuit breaker's failure threshold:
// clamp(ceil(0.5 × desired), 3, 200).
int64_t FailureThreshold(int64_t desired);

// How long the service scheduler waits before the next launch after `failures` tasks
// in a row stopped without reaching RUNNING: 10 s, doubling, at most 15 minutes.
Duration StartBackoff(int failures);

// The capacity provider of a capacityProviderStrategy ([{capacityProvider, weight,
// base}]) the next task goes to, given how many tasks each provider already has:
// bases are filled first in strategy order, then the provider whose share beyond
// its base is furthest below its weight (ties to the earlier item). Empty when the
// strategy is empty or every weight is 0 and every base is met.
std::string PickCapacityProvider(const Json& strategy,
                                 const std::map<std::string, int64_t>& counts);

// A deployment id as ECS prints it: "ecs-svc/" and 19 digits.
bool IsDeploymentId(const std::string& id);

}  // namespace understudy::ecs
