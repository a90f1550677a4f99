// Scaling arithmetic of Application Auto Scaling (aws-semantics §3.2, §3.3): the
// capacity a target-tracking policy asks for, the step a step-scaling policy picks for
// an alarm's value, and how an adjustment applies to the current capacity. Pure
// functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace understudy::autoscaling {

// Target tracking: the capacity that brings `metric` to `target` at `current`
// capacity, ceil(current × metric / target) (at least 1 when current is 0 and the
// metric is above the target).
int64_t TrackingCapacity(int64_t current, double metric, double target);

struct StepAdjustment {
  std::optional<double> lower;  // MetricIntervalLowerBound (nothing: -infinity)
  std::optional<double> upper;  // MetricIntervalUpperBound (nothing: +infinity)
  int64_t adjustment = 0;       // ScalingAdjustment
};

// The step whose interval holds `value - threshold`: lower bound inclusive, upper
// exclusive, except that an upper bound of 0 includes 0 (a "less than or equal" alarm
// breaches at the threshold itself). The first matching step wins.
std::optional<StepAdjustment> PickStep(const std::vector<StepAdjustment>& steps, double value,
                                       double threshold);

enum class AdjustmentType { kChangeInCapacity, kPercentChangeInCapacity, kExactCapacity };

// The capacity after applying `adjustment` of `type` to `current`. Percent changes
// are rounded toward zero, except that a change between -1 and 1 (not 0) moves by 1,
// and `min_magnitude` (MinAdjustmentMagnitude) raises a smaller percent change.
int64_t ApplyAdjustment(AdjustmentType type, int64_t current, int64_t adjustment,
                        int64_t min_magnitude = 0);

}  // namespace understudy::autoscaling
