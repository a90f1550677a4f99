// CloudWatch: metrics and metric alarms on the front door, evaluated on the Clock.
//
// PutMetricData / GetMetricStatistics / GetMetricData / ListMetrics over the
// MetricsStore, and metric alarms (PutMetricAlarm, DescribeAlarms,
// DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState, DescribeAlarmHistory,
// Enable/DisableAlarmActions), served in every protocol the model lists (Smithy RPC v2
// CBOR, JSON 1.0, query). Once a minute of clock time (at each whole minute) the
// minute sources publish the minute that ended (ECS and ALB metrics), metric
// overrides from /_understudy/metrics fill in or replace what they publish, and
// then every alarm whose period ends is evaluated (alarm_eval.h). A state change is
// recorded in the alarm's history, published on the EventBus as "CloudWatch Alarm
// State Change" and runs the alarm's actions; actions into Application Auto Scaling
// policies also run at every evaluation while the alarm stays in ALARM, as AWS
// invokes them. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "cloudwatch/metrics_store.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::cloudwatch {

// What an alarm action is told.
struct AlarmFiring {
  std::string alarm_name;
  std::string alarm_arn;
  std::string state;            // the alarm's state now ("ALARM", ...)
  std::optional<double> value;  // the newest evaluated datapoint, when there is one
  double threshold = 0;
};
using ActionHandler =
    std::function<void(const Scope& scope, const std::string& action_arn, const AlarmFiring&)>;

class CloudWatch {
 public:
  // `default_scope` is where /_understudy/metrics overrides act unless they name one.
  static Result<std::unique_ptr<CloudWatch>> Open(Store& store, Journal& journal, Clock& clock,
                                                  Random random, EventBus& bus,
                                                  Scope default_scope);
  virtual ~CloudWatch() = default;

  // Registers the operations, the reset hook, the /_understudy/metrics endpoints and
  // the wait condition "cloudwatchAlarm": {"alarm", "state"}.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  virtual Status Reset() = 0;

  // Publishes a measured value of the minute starting at `period_start`, unless an
  // override replaces it.
  virtual void Publish(const Scope& scope, const MetricId& id, TimePoint period_start, double value,
                       const std::string& unit) = 0;
  // Called at each whole minute with the start of the minute that ended, before alarms
  // are evaluated; sources Publish() what they measured.
  virtual void AddMinuteSource(std::function<void(TimePoint period_start)> source) = 0;
  // Actions whose ARN starts with `arn_prefix` ("arn:aws:autoscaling:") go to `handler`.
  virtual void SetActionHandler(const std::string& arn_prefix, ActionHandler handler) = 0;

  // PutMetricAlarm and DeleteAlarms for other components (target tracking's alarms).
  virtual api::ApiResult PutAlarm(const Scope& scope, const Json& input) = 0;
  virtual void DeleteAlarm(const Scope& scope, const std::string& name) = 0;
  // The alarm's state, or nothing when there is no such alarm.
  virtual std::optional<std::string> AlarmState(const Scope& scope,
                                                const std::string& name) const = 0;
  // (name, ARN) of the alarms of `scope` with `action_arn` among their actions.
  virtual std::vector<std::pair<std::string, std::string>> AlarmsWithAction(
      const Scope& scope, const std::string& action_arn) const = 0;
  // Evaluates every alarm now (as at a whole minute), after the minute sources ran.
  virtual void RunMinute(TimePoint now) = 0;
};

}  // namespace understudy::cloudwatch
