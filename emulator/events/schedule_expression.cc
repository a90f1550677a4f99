#include "events/schedule_expression.h"

namespace understudy::events {

struct ScheduleExpression::Cron {};

std::string ScheduleExpression::InvalidMessage(std::string_view text, ScheduleFlavor flavor) {
  if (flavor == ScheduleFlavor::kRule) return "Parameter ScheduleExpression is not valid.";
  return "Invalid Schedule Expression " + std::string(text) + ".";
}

Result<ScheduleExpression> ScheduleExpression::Parse(std::string_view text, ScheduleFlavor flavor) {
  return Status::InvalidArgument(InvalidMessage(text, flavor));
}

std::optional<TimePoint> ScheduleExpression::NextFire(TimePoint, TimePoint, const TimeZone&) const {
  return std::nullopt;
}

Result<std::optional<TimePoint>> NextFire(std::string_view expression, ScheduleFlavor flavor,
                                          TimePoint after, TimePoint anchor,
                                          std::string_view zone) {
  US_ASSIGN_OR_RETURN(ScheduleExpression e, ScheduleExpression::Parse(expression, flavor));
  US_ASSIGN_OR_RETURN(TimeZone z, ParseScheduleTimezone(zone));
  return e.NextFire(after, anchor, z);
}

Result<TimeZone> ParseScheduleTimezone(std::string_view name) {
  if (name.empty()) return TimeZone::Utc();
  auto zone = TimeZone::Load(name);
  if (!zone.ok()) {
    return Status::InvalidArgument("Invalid ScheduleExpressionTimezone " + std::string(name) + ".");
  }
  return zone;
}

}  // namespace understudy::events
