#include "core/time_zone.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy {
namespace {

using ::understudy::testing::IsOk;
using ::understudy::testing::StatusIs;

TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours(h) +
         std::chrono::minutes(mi) + std::chrono::seconds(s);
}

TimeZone Zone(const char* name) {
  auto z = TimeZone::Load(name);
  EXPECT_THAT(z, IsOk()) << name;
  return z.ok() ? *z : TimeZone::Utc();
}

// Proves the civil-date helpers against known calendar facts.
TEST(TimeZoneTest, CivilDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  int y, m, d;
  CivilFromDays(DaysFromCivil(2028, 2, 29), &y, &m, &d);
  EXPECT_EQ(y * 10000 + m * 100 + d, 20280229);
  EXPECT_EQ(WeekdayFromDays(0), 4);                            // 1970-01-01: Thursday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(2026, 11, 23)), 1);  // Monday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(1969, 12, 28)), 0);  // Sunday
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(DaysInMonth(2026, 2), 28);
}

// Proves offsets from the transition table, and past it from the POSIX TZ rule,
// for northern and southern zones and fixed-offset ones.
TEST(TimeZoneTest, Offsets) {
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.name(), "Europe/Berlin");
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 1, 15)), 3600);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 7, 15)), 7200);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 3, 29, 0, 59, 59)), 3600);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 3, 29, 1, 0, 0)), 7200);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 10, 25, 0, 59, 59)), 7200);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2026, 10, 25, 1, 0, 0)), 3600);
  // Past 2037 only the footer rule knows.
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2100, 1, 15)), 3600);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2100, 7, 15)), 7200);
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2100, 3, 28, 0, 59)), 3600);  // last Sunday of March
  EXPECT_EQ(berlin.UtcOffsetSeconds(Utc(2100, 3, 28, 1, 0)), 7200);

  TimeZone ny = Zone("America/New_York");
  EXPECT_EQ(ny.UtcOffsetSeconds(Utc(2026, 1, 15)), -5 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(Utc(2026, 7, 15)), -4 * 3600);
  EXPECT_EQ(ny.UtcOffsetSeconds(Utc(2060, 3, 14, 6, 59)), -5 * 3600);  // second Sunday of March
  EXPECT_EQ(ny.UtcOffsetSeconds(Utc(2060, 3, 14, 7, 0)), -4 * 3600);

  TimeZone sydney = Zone("Australia/Sydney");
  EXPECT_EQ(sydney.UtcOffsetSeconds(Utc(2026, 1, 15)), 11 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(Utc(2026, 7, 15)), 10 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(Utc(2100, 1, 15)), 11 * 3600);
  EXPECT_EQ(sydney.UtcOffsetSeconds(Utc(2100, 7, 15)), 10 * 3600);

  EXPECT_EQ(Zone("Asia/Kolkata").UtcOffsetSeconds(Utc(2026, 7, 15)), 5 * 3600 + 1800);
  EXPECT_EQ(Zone("Etc/GMT+5").UtcOffsetSeconds(Utc(2026, 7, 15)), -5 * 3600);
  EXPECT_EQ(TimeZone::Utc().UtcOffsetSeconds(Utc(2026, 7, 15)), 0);
  EXPECT_EQ(Zone("UTC").name(), "UTC");
}

// Proves conversion to local civil time and back, including a skipped and a
// repeated local hour.
TEST(TimeZoneTest, CivilConversion) {
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.ToCivil(Utc(2026, 3, 29, 1, 0)), (CivilTime{2026, 3, 29, 3, 0, 0}));
  EXPECT_EQ(berlin.ToCivil(Utc(2026, 12, 31, 23, 30)), (CivilTime{2027, 1, 1, 0, 30, 0}));

  auto unique = berlin.FromCivil({2026, 6, 1, 12, 0, 0});
  EXPECT_EQ(unique.kind, TimeZone::Lookup::Kind::kUnique);
  EXPECT_EQ(unique.first, Utc(2026, 6, 1, 10));

  auto gap = berlin.FromCivil({2026, 3, 29, 2, 30, 0});
  EXPECT_EQ(gap.kind, TimeZone::Lookup::Kind::kSkipped);
  EXPECT_EQ(gap.first, Utc(2026, 3, 29, 1, 0));    // the change
  EXPECT_EQ(gap.second, Utc(2026, 3, 29, 1, 30));  // 02:30 read as CET

  auto twice = berlin.FromCivil({2026, 10, 25, 2, 30, 0});
  EXPECT_EQ(twice.kind, TimeZone::Lookup::Kind::kRepeated);
  EXPECT_EQ(twice.first, Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(twice.second, Utc(2026, 10, 25, 1, 30));

  TimeZone ny = Zone("America/New_York");
  auto ny_twice = ny.FromCivil({2026, 11, 1, 1, 15, 0});
  EXPECT_EQ(ny_twice.kind, TimeZone::Lookup::Kind::kRepeated);
  EXPECT_EQ(ny_twice.first, Utc(2026, 11, 1, 5, 15));
  EXPECT_EQ(ny_twice.second, Utc(2026, 11, 1, 6, 15));
  EXPECT_EQ(ny.FromCivil({2026, 3, 8, 2, 0, 0}).kind, TimeZone::Lookup::Kind::kSkipped);
  // Beyond the table: the rule's gap.
  EXPECT_EQ(berlin.FromCivil({2100, 3, 28, 2, 15, 0}).kind, TimeZone::Lookup::Kind::kSkipped);
}

// Proves unknown and malformed zone names are errors, not UTC.
TEST(TimeZoneTest, UnknownZones) {
  EXPECT_THAT(TimeZone::Load("Mars/Olympus_Mons"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(TimeZone::Load(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TimeZone::Load("../../etc/passwd"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TimeZone::Load("/etc/localtime"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TimeZone::Load("Europe"), StatusIs(StatusCode::kNotFound));  // a directory
  EXPECT_THAT(TimeZone::FromTzif("x", "not a tzif file"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace understudy
