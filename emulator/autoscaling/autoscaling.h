// AutoScaling: Application Auto Scaling (awsJson1_1) for ECS services' DesiredCount.
//
// Scalable targets (with their suspended state), scaling policies, scheduled actions
// and scaling activities, persisted in the store (aws-semantics §3). Target-tracking
// policies create and own their CloudWatch alarms (AlarmHigh 3 of 3 above the target,
// AlarmLow 15 of 15 below 90 % of it); step-scaling policies are run by the alarms
// users point at them. When an alarm action reaches a policy, the policy computes a
// new desired count (scaling_math.h) within [MinCapacity, MaxCapacity], honouring
// cooldowns, DisableScaleIn, suspended dynamic scaling and, for scale-in, ECS
// deployments in progress; the change goes to ECS through `set_desired`, and every
// decision is journaled and every change is a scaling activity worded as AWS words
// it. Scheduled actions fire on the Clock. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "cloudwatch/cloudwatch.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::autoscaling {

// What the scaler needs to know of an ECS service.
struct ServiceCapacity {
  int64_t desired = 0;
  int64_t running = 0;
  bool deploying = false;  // a deployment is in progress (scale-in waits)
};

// How the scaler reaches ECS (the app wires them to ecs::Ecs). Resource ids are
// "service/<cluster>/<service>".
struct AutoScalingOptions {
  // The service's capacity, or nothing when it does not exist (or is not ACTIVE).
  std::function<std::optional<ServiceCapacity>(const Scope&, const std::string& cluster,
                                               const std::string& service)>
      describe_service;
  // Sets the service's desiredCount; the error's message on failure.
  std::function<Status(const Scope&, const std::string& cluster, const std::string& service,
                       int64_t desired)>
      set_desired;
  // The "app/<lb>/<id>/targetgroup/<tg>/<id>" label of an ALBRequestCountPerTarget metric
  // is valid (its target group exists and belongs to that load balancer). Unset: all are.
  std::function<bool(const Scope&, const std::string& resource_label)> resource_label_exists;
};

class AutoScaling {
 public:
  static Result<std::unique_ptr<AutoScaling>> Open(Store& store, Journal& journal, Clock& clock,
                                                   Random random,
                                                   cloudwatch::CloudWatch& cloudwatch,
                                                   AutoScalingOptions options);
  virtual ~AutoScaling() = default;
  // Registers the operations, the alarm action handler and the reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  virtual Status Reset() = 0;
};

}  // namespace understudy::autoscaling
