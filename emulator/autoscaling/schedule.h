// Schedules of scheduled actions: at(yyyy-mm-ddThh:mm:ss), rate(N unit) and
// cron(minutes hours day-of-month month day-of-week year), in a timezone.
//
// Cron fields take *, ?, numbers, names (JAN..DEC, SUN..SAT with SUN = 1), lists,
// ranges and /steps; L, W and # are not supported. Timezones: names of the tz database
// ("America/New_York", with its daylight saving time; timezone.h), UTC, Etc/GMT±N
// (POSIX sign: Etc/GMT+5 is five hours behind UTC) and fixed offsets (+hh:mm).
// Pure; any thread.
#pragma once

#include <array>
#include <bitset>
#include <optional>
#include <string>

#include "autoscaling/timezone.h"
#include "core/status.h"
#include "core/time.h"

namespace understudy::autoscaling {

class Schedule {
 public:
  // Parses `expression` for `timezone` (empty: UTC). InvalidArgument says what is wrong.
  static Result<Schedule> Parse(const std::string& expression, const std::string& timezone);
  // The first firing strictly after `after`; rate schedules count from `origin`.
  std::optional<TimePoint> Next(TimePoint after, TimePoint origin) const;

 private:
  enum class Kind { kAt, kRate, kCron };
  Kind kind_ = Kind::kAt;
  TimePoint at_{};
  Duration rate_{0};
  TimeZone zone_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<8> weekdays_;  // 1..7, SUN = 1
  bool any_day_ = true, any_weekday_ = true;
  std::bitset<200> years_;  // 1970 + i
};

}  // namespace understudy::autoscaling
