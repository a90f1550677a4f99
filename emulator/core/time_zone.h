// TimeZone: IANA time zones read from the system's TZif files (Debian `tzdata`,
// /usr/share/zoneinfo), including the POSIX TZ rule at the end of each file for
// instants past its transition table. "UTC" is built in and needs no file.
//
// Converts instants to local civil time and back; the way back reports whether a
// local time is unique, skipped by a forward change (spring forward) or repeated
// by a backward one (fall back). Loaded zones are cached; a TimeZone is an
// immutable, cheaply copied value. Any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace understudy {

// A local date and time of day, seconds precision. Fields are not normalised:
// month 1-12, day 1-31, hour 0-23, minute 0-59, second 0-59.
struct CivilTime {
  int year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;

  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(int64_t days, int* year, int* month, int* day);
// 0 = Sunday ... 6 = Saturday.
int WeekdayFromDays(int64_t days);
bool IsLeapYear(int year);
int DaysInMonth(int year, int month);

class TimeZone {
 public:
  struct Data;  // internal: the parsed transition table and POSIX rule

  // The UTC zone.
  static TimeZone Utc();
  // Loads a zone by IANA name ("Europe/Berlin", "America/New_York", "UTC",
  // "Etc/GMT+5"). NotFound for names with no zone file, InvalidArgument for names
  // that are not zone names at all (empty, "..", absolute paths).
  static Result<TimeZone> Load(std::string_view name);
  // Loads from an explicit directory instead of /usr/share/zoneinfo (or $TZDIR).
  static Result<TimeZone> LoadFromDirectory(std::string_view directory, std::string_view name);
  // Parses a TZif file's bytes (versions 1-3) into a zone called `name`.
  static Result<TimeZone> FromTzif(std::string_view name, std::string_view bytes);

  const std::string& name() const;

  // Seconds east of UTC in effect at `t`.
  int UtcOffsetSeconds(TimePoint t) const;
  // The local civil time at `t` (sub-second part dropped).
  CivilTime ToCivil(TimePoint t) const;

  // The instants a local civil time denotes.
  struct Lookup {
    enum class Kind {
      kUnique,    // exactly one instant: `first`
      kSkipped,   // no instant (a forward gap); `first` = the instant the gap starts,
                  // `second` = the local time read with the offset before the gap
      kRepeated,  // two instants (a backward change): `first` < `second`
    };
    Kind kind = Kind::kUnique;
    TimePoint first;
    TimePoint second;
  };
  Lookup FromCivil(const CivilTime& local) const;

 private:
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace understudy
