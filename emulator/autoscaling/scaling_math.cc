#include "autoscaling/scaling_math.h"

#include <cmath>
#include <cstdlib>

namespace understudy::autoscaling {

int64_t TrackingCapacity(int64_t current, double metric, double target) {
  if (target <= 0) return current;
  if (current <= 0) return metric > target ? 1 : 0;
  double wanted = static_cast<double>(current) * metric / target;
  // Guard against 2.0000000001 from floating point turning into 3.
  double rounded = std::round(wanted);
  if (std::fabs(wanted - rounded) < 1e-9) wanted = rounded;
  return static_cast<int64_t>(std::ceil(wanted));
}

std::optional<StepAdjustment> PickStep(const std::vector<StepAdjustment>& steps, double value,
                                       double threshold) {
  double d = value - threshold;
  for (const auto& s : steps) {
    bool above_lower = !s.lower || d >= *s.lower;
    bool below_upper = !s.upper || d < *s.upper || (*s.upper == 0 && d == 0);
    if (above_lower && below_upper) return s;
  }
  return std::nullopt;
}

int64_t ApplyAdjustment(AdjustmentType type, int64_t current, int64_t adjustment,
                        int64_t min_magnitude) {
  switch (type) {
    case AdjustmentType::kExactCapacity:
      return adjustment;
    case AdjustmentType::kChangeInCapacity:
      return current + adjustment;
    case AdjustmentType::kPercentChangeInCapacity: {
      double change = static_cast<double>(current) * static_cast<double>(adjustment) / 100.0;
      int64_t whole;
      if (change > 0 && change < 1) {
        whole = 1;
      } else if (change < 0 && change > -1) {
        whole = -1;
      } else {
        whole = static_cast<int64_t>(std::trunc(change));
      }
      if (min_magnitude > 0 && whole != 0 && std::llabs(whole) < min_magnitude) {
        whole = whole > 0 ? min_magnitude : -min_magnitude;
      }
      return current + whole;
    }
  }
  return current;
}

}  // namespace understudy::autoscaling
