// ScheduleExpression: EventBridge schedule expressions, parsed and validated with
// AWS's exact messages, and their fire times (aws-semantics §4.1, §4.5).
//
//   rate(value unit)   unit minute|minutes|hour|hours|day|days; 1 takes the singular,
//                      larger values the plural
//   cron(Min Hour Dom Month Dow Year)   six fields, `, - * / ? L W #`, exactly one of
//                      Dom/Dow is `?`; Dow 1-7 = SUN-SAT; Year 1970-2199 (a rule
//                      also takes later years written out, as PutRule does)
//   at(yyyy-mm-ddThh:mm:ss)   one time (Scheduler only)
//
// Two flavours: an EventBridge rule (rate and cron, always UTC) and an EventBridge
// Scheduler schedule (at, rate and cron in the schedule's time zone). Cron and at
// are read as local civil times of the zone: local times a spring-forward gap skips
// never fire, local times a fall-back repeats fire once (at their first instant).
// Rate is a fixed period of elapsed time from an anchor (24 h for `rate(1 day)`).
//
// Pure values; any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "core/time_zone.h"

namespace understudy::events {

enum class ScheduleFlavor {
  kRule,       // PutRule: rate and cron, UTC
  kScheduler,  // CreateSchedule/UpdateSchedule: at, rate and cron, any zone
};

class ScheduleExpression {
 public:
  enum class Kind { kRate, kCron, kAt };
  struct Cron;  // internal: the parsed cron fields

  // Parses `text`. On bad input: InvalidArgument whose message is AWS's exact
  // ValidationException message for the flavour:
  //   kRule:      "Parameter ScheduleExpression is not valid."
  //   kScheduler: "Invalid Schedule Expression <text>."
  static Result<ScheduleExpression> Parse(std::string_view text, ScheduleFlavor flavor);

  // The message Parse uses for an invalid `text` in `flavor` (for callers that
  // reject before parsing, e.g. an empty or over-long expression).
  static std::string InvalidMessage(std::string_view text, ScheduleFlavor flavor);

  Kind kind() const { return kind_; }
  const std::string& text() const { return text_; }
  ScheduleFlavor flavor() const { return flavor_; }
  // kRate: the period.
  Duration rate_period() const { return rate_period_; }
  // kAt: the local civil time named.
  const CivilTime& at_time() const { return at_; }

  // The first fire instant strictly after `after`, or none (an at() already past,
  // a cron whose year list is exhausted).
  //   kRate: anchor + k * period for the smallest k >= 0 that is after `after`. A
  //          rule fires first one period after creation: pass anchor = creation and
  //          after = creation. A schedule "starts invoking immediately": pass
  //          after = anchor - 1us to include the anchor itself.
  //   kCron: the next matching whole minute (second 0) of `zone`'s local time.
  //   kAt:   the instant of the local time in `zone` (a time in a spring-forward gap
  //          reads with the offset before the gap; a repeated time is its first
  //          instant), if it is after `after`.
  // `zone` is ignored for rate; for the rule flavour callers pass TimeZone::Utc().
  std::optional<TimePoint> NextFire(TimePoint after, TimePoint anchor, const TimeZone& zone) const;

 private:
  ScheduleExpression() = default;

  Kind kind_ = Kind::kRate;
  ScheduleFlavor flavor_ = ScheduleFlavor::kRule;
  std::string text_;
  Duration rate_period_{0};
  CivilTime at_;
  std::shared_ptr<const Cron> cron_;
};

// Parses and computes in one step; `zone` is an IANA name (empty = UTC).
// Errors: the expression's parse error, or the zone's (see ParseScheduleTimezone).
Result<std::optional<TimePoint>> NextFire(std::string_view expression, ScheduleFlavor flavor,
                                          TimePoint after, TimePoint anchor, std::string_view zone);

// Validates a Scheduler `ScheduleExpressionTimezone` (empty = UTC) and loads it.
// On an unknown zone: InvalidArgument with AWS's ValidationException message
// "Invalid ScheduleExpressionTimezone <name>.".
Result<TimeZone> ParseScheduleTimezone(std::string_view name);

}  // namespace understudy::events
