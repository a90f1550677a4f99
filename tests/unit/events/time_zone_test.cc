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

// A TZif v2 file with no transitions: only its POSIX TZ footer decides.
std::string TzifWithRule(const std::string& rule) {
  auto be32 = [](std::string* out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
  };
  auto block = [&](std::string* out) {
    out->append("TZif2");
    out->append(15, '\0');
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for (uint32_t count : {0u, 0u, 0u, 0u, 1u, 4u}) be32(out, count);
    be32(out, 0);          // utoff of the one type
    out->push_back('\0');  // isdst
    out->push_back('\0');  // designation index
    out->append("XXX", 4);
  };
  std::string bytes;
  block(&bytes);
  block(&bytes);
  bytes += "\n" + rule + "\n";
  return bytes;
}

// Proves the POSIX TZ rule forms: quoted names and minutes, Jn (no leap day), n
// (zero-based, counting Feb 29), Mm.w.d with times, southern zones, and TZif v3's
// negative and over-24 h times.
TEST(TimeZoneTest, PosixRules) {
  auto zone = [](const std::string& rule) {
    auto z = TimeZone::FromTzif("Test/Zone", TzifWithRule(rule));
    EXPECT_THAT(z, IsOk()) << rule;
    return z.ok() ? *z : TimeZone::Utc();
  };
  EXPECT_EQ(zone("<+0330>-3:30").UtcOffsetSeconds(Utc(2030, 6, 1)), 3 * 3600 + 1800);
  EXPECT_EQ(zone("<+0330>-3:30").name(), "Test/Zone");

  // J60 is March 1 every year; DST starts 01:00 local standard time (UTC-3).
  TimeZone j = zone("AAA3BBB,J60/1,J300");
  EXPECT_EQ(j.UtcOffsetSeconds(Utc(2028, 3, 1, 3, 59)), -3 * 3600);
  EXPECT_EQ(j.UtcOffsetSeconds(Utc(2028, 3, 1, 4, 0)), -2 * 3600);
  // J300 is October 27; DST ends 02:00 local daylight time (UTC-2).
  EXPECT_EQ(j.UtcOffsetSeconds(Utc(2028, 10, 27, 3, 59)), -2 * 3600);
  EXPECT_EQ(j.UtcOffsetSeconds(Utc(2028, 10, 27, 4, 0)), -3 * 3600);

  // Zero-based day 59 is February 29 in a leap year, March 1 otherwise.
  TimeZone n = zone("AAA3BBB,59/0,299");
  EXPECT_EQ(n.UtcOffsetSeconds(Utc(2028, 2, 29, 3)), -2 * 3600);
  EXPECT_EQ(n.UtcOffsetSeconds(Utc(2027, 2, 28, 12)), -3 * 3600);
  EXPECT_EQ(n.UtcOffsetSeconds(Utc(2027, 3, 1, 3)), -2 * 3600);

  // Southern hemisphere: DST spans the new year.
  TimeZone south = zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(south.UtcOffsetSeconds(Utc(2031, 1, 15)), 11 * 3600);
  EXPECT_EQ(south.UtcOffsetSeconds(Utc(2031, 7, 15)), 10 * 3600);
  // 2031-10-05 is the first Sunday of October: 02:00 AEST = 16:00 UTC the day before.
  EXPECT_EQ(south.UtcOffsetSeconds(Utc(2031, 10, 4, 15, 59)), 10 * 3600);
  EXPECT_EQ(south.UtcOffsetSeconds(Utc(2031, 10, 4, 16, 0)), 11 * 3600);

  // Negative and over-24 h rule times (TZif v3): starts 23:00 the Saturday before the
  // second Sunday of March, ends 01:00 the Monday after the first Sunday of November.
  TimeZone v3 = zone("EST5EDT,M3.2.0/-1,M11.1.0/25");
  EXPECT_EQ(v3.UtcOffsetSeconds(Utc(2030, 3, 10, 3, 59)), -5 * 3600);  // Sat 22:59 EST
  EXPECT_EQ(v3.UtcOffsetSeconds(Utc(2030, 3, 10, 4, 0)), -4 * 3600);   // Sat 23:00 EST
  EXPECT_EQ(v3.UtcOffsetSeconds(Utc(2030, 11, 4, 4, 59)), -4 * 3600);  // Mon 00:59 EDT
  EXPECT_EQ(v3.UtcOffsetSeconds(Utc(2030, 11, 4, 5, 0)), -5 * 3600);   // Mon 01:00 EDT

  // A rule without dates takes the US default (second Sunday of March, first of November).
  TimeZone us = zone("EST5EDT");
  EXPECT_EQ(us.UtcOffsetSeconds(Utc(2030, 3, 10, 6, 59)), -5 * 3600);
  EXPECT_EQ(us.UtcOffsetSeconds(Utc(2030, 3, 10, 7, 0)), -4 * 3600);

  EXPECT_THAT(TimeZone::FromTzif("Bad/Rule", TzifWithRule("AAA3BBB,M3")),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace understudy
