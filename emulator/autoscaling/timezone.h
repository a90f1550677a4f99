// TimeZone: the UTC offset of a timezone at an instant, for scheduled actions.
//
// Named zones ("America/New_York", "Europe/Berlin") are read from the system's tz
// database (/usr/share/zoneinfo, TZif version 2+: its transitions, then the POSIX TZ
// rule of its footer for later instants); "UTC", "Etc/GMT±N" and "+hh:mm" offsets need
// no database. Pure once loaded; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace understudy::autoscaling {

class TimeZone {
 public:
  // InvalidArgument when the name is not a zone this machine knows.
  static Result<TimeZone> Load(const std::string& name,
                               const std::string& zoneinfo = "/usr/share/zoneinfo");
  // A zone `offset` seconds east of UTC all year.
  static TimeZone Fixed(int64_t offset) {
    TimeZone zone;
    zone.initial_offset_ = offset;
    return zone;
  }
  // Seconds to add to UTC for local time at `utc` (epoch seconds).
  int64_t OffsetAt(int64_t utc) const;
  // The UTC instant of local wall time `local` (epoch seconds as if UTC); in a gap or
  // an overlap, the offset in effect just before is used.
  int64_t ToUtc(int64_t local) const;

 private:
  struct Rule {  // the POSIX TZ footer
    bool valid = false;
    int64_t std_offset = 0, dst_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int start_month = 0, start_week = 0, start_day = 0;  // Mm.w.d
    int64_t start_time = 7200;
    int end_month = 0, end_week = 0, end_day = 0;
    int64_t end_time = 7200;
  };
  static int64_t RuleOffset(const Rule& rule, int64_t utc);
  static bool ParseRule(const std::string& text, Rule* rule);
  std::vector<int64_t> transitions_;
  std::vector<int64_t> offsets_;  // offset from each transition on
  int64_t initial_offset_ = 0;
  Rule rule_;
};

}  // namespace understudy::autoscaling
