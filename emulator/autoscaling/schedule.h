// Schedules of scheduled actions: at(yyyy-mm-ddThh:mm:ss), rate(N unit) and
// cron(minutes hours day-of-month month day-of-week year) in a timezone.
//
// The expressions are EventBridge Scheduler's (events/schedule_expression.h: `, - * / ?
// L W #`, names, years; local times a spring-forward gap skips never fire, repeated ones
// fire once) and the zones the tz database's (core/time_zone.h). Pure; any thread.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "core/time.h"
#include "core/time_zone.h"
#include "events/schedule_expression.h"

namespace understudy::autoscaling {

class Schedule {
 public:
  // Parses `expression` for `timezone` (empty: UTC). InvalidArgument says what is wrong.
  static Result<Schedule> Parse(const std::string& expression, const std::string& timezone);
  // The first firing strictly after `after`; rate schedules count from `origin`.
  std::optional<TimePoint> Next(TimePoint after, TimePoint origin) const;

 private:
  Schedule(events::ScheduleExpression expression, TimeZone zone)
      : expression_(std::move(expression)), zone_(std::move(zone)) {}
  events::ScheduleExpression expression_;
  TimeZone zone_;
};

}  // namespace understudy::autoscaling
