// Target-tracking and step-scaling arithmetic (aws-semantics §3.2, §3.3).
#include "autoscaling/scaling_math.h"

#include <gtest/gtest.h>

namespace understudy::autoscaling {
namespace {

TEST(ScalingMathTest, TrackingIsProportional) {
  EXPECT_EQ(TrackingCapacity(1, 85, 80), 2);  // the reference 80 % policy scales out
  EXPECT_EQ(TrackingCapacity(2, 20, 80), 1);  // and back in
  EXPECT_EQ(TrackingCapacity(4, 100, 50), 8);
  EXPECT_EQ(TrackingCapacity(3, 80, 80), 3);  // at the target: no change
  EXPECT_EQ(TrackingCapacity(10, 72, 80), 9);
  EXPECT_EQ(TrackingCapacity(0, 90, 80), 1);
}

TEST(ScalingMathTest, StepsAreRelativeToTheThreshold) {
  std::vector<StepAdjustment> steps = {{0.0, 20.0, 1}, {20.0, std::nullopt, 3}};
  EXPECT_EQ(PickStep(steps, 60, 60)->adjustment, 1);  // lower bound inclusive
  EXPECT_EQ(PickStep(steps, 79.9, 60)->adjustment, 1);
  EXPECT_EQ(PickStep(steps, 80, 60)->adjustment, 3);  // upper bound exclusive
  EXPECT_FALSE(PickStep(steps, 59, 60));
  std::vector<StepAdjustment> in = {{std::nullopt, 0.0, -1}};
  EXPECT_EQ(PickStep(in, 20, 60)->adjustment, -1);
  EXPECT_EQ(PickStep(in, 60, 60)->adjustment, -1);  // a "<=" alarm breaches at the threshold
}

TEST(ScalingMathTest, Adjustments) {
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kChangeInCapacity, 1, 1), 2);
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kChangeInCapacity, 2, -1), 1);
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kExactCapacity, 7, 3), 3);
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kPercentChangeInCapacity, 10, 25), 12);  // 2.5 -> 2
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kPercentChangeInCapacity, 2, 10), 3);    // 0.2 -> 1
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kPercentChangeInCapacity, 10, -25), 8);  // -2.5 -> -2
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kPercentChangeInCapacity, 2, -10), 1);   // -0.2 -> -1
  EXPECT_EQ(ApplyAdjustment(AdjustmentType::kPercentChangeInCapacity, 10, 20, 5), 15);
}

}  // namespace
}  // namespace understudy::autoscaling
