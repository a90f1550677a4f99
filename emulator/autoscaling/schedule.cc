#include "autoscaling/schedule.h"

namespace understudy::autoscaling {

Result<Schedule> Schedule::Parse(const std::string& expression, const std::string& timezone) {
  TimeZone zone = TimeZone::Utc();
  if (!timezone.empty() && timezone != "UTC") {
    auto loaded = TimeZone::Load(timezone);
    if (!loaded.ok()) return Status::InvalidArgument("unknown timezone " + timezone);
    zone = std::move(loaded).value();
  }
  auto parsed = events::ScheduleExpression::Parse(expression, events::ScheduleFlavor::kScheduler);
  if (!parsed.ok()) {
    return Status::InvalidArgument(
        "expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or "
        "cron(minutes hours day-of-month month day-of-week year)");
  }
  return Schedule(std::move(parsed).value(), std::move(zone));
}

std::optional<TimePoint> Schedule::Next(TimePoint after, TimePoint origin) const {
  return expression_.NextFire(after, origin, zone_);
}

}  // namespace understudy::autoscaling
