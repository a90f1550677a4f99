#include "events/schedule_expression.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy::events {
namespace {

using ::understudy::testing::IsOk;

TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours(h) +
         std::chrono::minutes(mi) + std::chrono::seconds(s);
}

std::string Show(std::optional<TimePoint> t) { return t ? FormatIso8601(*t) : "none"; }

struct FireCase {
  const char* expression;
  const char* zone;  // "" = UTC
  TimePoint after;
  std::optional<TimePoint> expected;
};

void ExpectFires(ScheduleFlavor flavor, const std::vector<FireCase>& cases) {
  for (const FireCase& c : cases) {
    auto next = NextFire(c.expression, flavor, c.after, c.after, c.zone);
    ASSERT_THAT(next, IsOk()) << c.expression;
    EXPECT_EQ(Show(*next), Show(c.expected))
        << c.expression << " in '" << c.zone << "' after " << FormatIso8601(c.after);
  }
}

// Proves rule cron fire times (UTC) for every field form of aws-semantics §4.1:
// lists, ranges (also wrapping), steps, names, L, L-n, LW, nW, nL, n#k, the year
// field, month ends and leap years. Fire times are strictly after `after`.
TEST(ScheduleExpressionTest, RuleCronTable) {
  ExpectFires(
      ScheduleFlavor::kRule,
      {
          {"cron(0 3 * * ? *)", "", Utc(2026, 11, 23, 10), Utc(2026, 11, 24, 3)},
          {"cron(0 3 * * ? *)", "", Utc(2026, 11, 23, 2, 59, 59), Utc(2026, 11, 23, 3)},
          {"cron(0 3 * * ? *)", "", Utc(2026, 11, 23, 3), Utc(2026, 11, 24, 3)},
          {"cron(0/15 * * * ? *)", "", Utc(2026, 11, 23, 10, 7), Utc(2026, 11, 23, 10, 15)},
          {"cron(* * * * ? *)", "", Utc(2026, 11, 23, 10, 7, 1), Utc(2026, 11, 23, 10, 8)},
          {"cron(5,35 */6 * * ? *)", "", Utc(2026, 11, 23, 6, 35), Utc(2026, 11, 23, 12, 5)},
          {"cron(10-20/5 8 * * ? *)", "", Utc(2026, 11, 23, 8, 15), Utc(2026, 11, 23, 8, 20)},
          {"cron(0 20-2 * * ? *)", "", Utc(2026, 11, 23, 2, 30), Utc(2026, 11, 23, 20)},
          {"cron(0 20-2 * * ? *)", "", Utc(2026, 11, 23, 23, 30), Utc(2026, 11, 24, 0)},
          // Month ends and leap years.
          {"cron(0 12 L * ? *)", "", Utc(2026, 2, 1), Utc(2026, 2, 28, 12)},
          {"cron(0 12 L * ? *)", "", Utc(2028, 2, 1), Utc(2028, 2, 29, 12)},
          {"cron(0 12 L * ? *)", "", Utc(2026, 11, 30, 12), Utc(2026, 12, 31, 12)},
          {"cron(0 12 29 2 ? *)", "", Utc(2026, 3, 1), Utc(2028, 2, 29, 12)},
          {"cron(0 12 31 * ? *)", "", Utc(2026, 11, 1), Utc(2026, 12, 31, 12)},
          {"cron(0 0 L-2 * ? *)", "", Utc(2026, 11, 1), Utc(2026, 11, 28)},
          // Weekdays: W, LW.
          {"cron(0 0 3W * ? *)", "", Utc(2026, 12, 31), Utc(2027, 1, 4)},  // 3rd: Sunday
          {"cron(0 0 3W * ? *)", "", Utc(2026, 11, 1), Utc(2026, 11, 3)},  // Tuesday
          {"cron(0 0 1W * ? *)", "", Utc(2026, 7, 31), Utc(2026, 8, 3)},   // 1st: Saturday
          {"cron(0 0 LW * ? *)", "", Utc(2027, 1, 1), Utc(2027, 1, 29)},   // 31st: Sunday
          {"cron(0 0 LW * ? *)", "", Utc(2026, 11, 1), Utc(2026, 11, 30)},
          // Day of week: 1-7 = SUN-SAT, names, ranges, L, nL, n#k.
          {"cron(0 10 ? * 1 *)", "", Utc(2026, 11, 23), Utc(2026, 11, 29, 10)},
          {"cron(0 8 ? * MON-FRI *)", "", Utc(2026, 11, 27, 9), Utc(2026, 11, 30, 8)},
          {"cron(0 8 ? * mon-fri *)", "", Utc(2026, 11, 24, 9), Utc(2026, 11, 25, 8)},
          {"cron(0 8 ? * FRI-MON *)", "", Utc(2026, 11, 24), Utc(2026, 11, 27, 8)},
          {"cron(0 10 ? * L *)", "", Utc(2026, 11, 23), Utc(2026, 11, 28, 10)},
          {"cron(0 0 ? * 6L *)", "", Utc(2026, 11, 1), Utc(2026, 11, 27)},
          {"cron(0 0 ? * 6L *)", "", Utc(2026, 11, 28), Utc(2026, 12, 25)},
          {"cron(0 0 ? * 3#2 *)", "", Utc(2026, 11, 1), Utc(2026, 11, 10)},
          {"cron(0 0 ? * 3#2 *)", "", Utc(2026, 11, 10), Utc(2026, 12, 8)},
          {"cron(0 0 ? * MON#5 *)", "", Utc(2026, 11, 1), Utc(2026, 11, 30)},
          // Months and years.
          {"cron(0 0 1 JAN,JUL ? 2026-2027)", "", Utc(2026, 1, 1), Utc(2026, 7, 1)},
          {"cron(0 0 1 1 ? 2027)", "", Utc(2026, 6, 1), Utc(2027, 1, 1)},
          {"cron(0 0 1 1 ? 2027)", "", Utc(2027, 1, 1), std::nullopt},
          {"cron(0 0 1 */3 ? *)", "", Utc(2026, 11, 23), Utc(2027, 1, 1)},
          {"cron(0 0 1 1 ? 2026/2)", "", Utc(2026, 6, 1), Utc(2028, 1, 1)},
          {"cron(0 0 31 2 ? *)", "", Utc(2026, 1, 1), std::nullopt},  // never
          // PutRule does not enforce the year range [O].
          {"cron(0 0 1 1 ? 2300)", "", Utc(2026, 1, 1), Utc(2300, 1, 1)},
      });
}

// Proves rate fires anchor + k*period, strictly after `after`.
TEST(ScheduleExpressionTest, Rate) {
  auto rate = ScheduleExpression::Parse("rate(5 minutes)", ScheduleFlavor::kRule);
  ASSERT_THAT(rate, IsOk());
  EXPECT_EQ(rate->kind(), ScheduleExpression::Kind::kRate);
  EXPECT_EQ(rate->rate_period(), std::chrono::minutes(5));
  const TimePoint created = Utc(2026, 11, 23, 10, 0, 30);
  const TimeZone utc = TimeZone::Utc();
  // A rule fires first one period after creation.
  EXPECT_EQ(Show(rate->NextFire(created, created, utc)), Show(Utc(2026, 11, 23, 10, 5, 30)));
  EXPECT_EQ(Show(rate->NextFire(Utc(2026, 11, 23, 10, 7), created, utc)),
            Show(Utc(2026, 11, 23, 10, 10, 30)));
  EXPECT_EQ(Show(rate->NextFire(Utc(2026, 11, 23, 10, 10, 30), created, utc)),
            Show(Utc(2026, 11, 23, 10, 15, 30)));
  // A schedule starts at its anchor.
  EXPECT_EQ(Show(rate->NextFire(created - Duration(1), created, utc)), Show(created));
  for (const auto& [text, minutes] :
       std::vector<std::pair<const char*, int>>{{"rate(1 minute)", 1},
                                                {"rate(1 hour)", 60},
                                                {"rate(2 hours)", 120},
                                                {"rate(1 day)", 1440},
                                                {"rate(7 days)", 7 * 1440}}) {
    auto r = ScheduleExpression::Parse(text, ScheduleFlavor::kScheduler);
    ASSERT_THAT(r, IsOk()) << text;
    EXPECT_EQ(r->rate_period(), std::chrono::minutes(minutes)) << text;
  }
  // rate(1 day) is 24 h of elapsed time, across a DST change too.
  auto day = ScheduleExpression::Parse("rate(1 day)", ScheduleFlavor::kScheduler);
  ASSERT_THAT(day, IsOk());
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_THAT(berlin, IsOk());
  EXPECT_EQ(Show(day->NextFire(Utc(2026, 3, 28, 12), Utc(2026, 3, 28, 12), *berlin)),
            Show(Utc(2026, 3, 29, 12)));
}

// Proves Scheduler cron and at() read local time in the schedule's zone, with DST:
// local times a spring-forward skips do not run, times a fall-back repeats run once
// (aws-semantics §4.5).
TEST(ScheduleExpressionTest, SchedulerZonesAndDst) {
  ExpectFires(
      ScheduleFlavor::kScheduler,
      {
          {"cron(0 9 * * ? *)", "America/New_York", Utc(2026, 1, 10), Utc(2026, 1, 10, 14)},
          {"cron(0 9 * * ? *)", "America/New_York", Utc(2026, 7, 10), Utc(2026, 7, 10, 13)},
          {"cron(0 9 * * ? *)", "", Utc(2026, 7, 10), Utc(2026, 7, 10, 9)},
          // Berlin spring forward 2026-03-29 02:00 -> 03:00: 02:30 does not exist.
          {"cron(30 2 * * ? *)", "Europe/Berlin", Utc(2026, 3, 27, 12), Utc(2026, 3, 28, 1, 30)},
          {"cron(30 2 * * ? *)", "Europe/Berlin", Utc(2026, 3, 28, 12), Utc(2026, 3, 30, 0, 30)},
          {"cron(0 * * * ? *)", "Europe/Berlin", Utc(2026, 3, 29, 0, 30), Utc(2026, 3, 29, 1)},
          // Berlin fall back 2026-10-25 03:00 -> 02:00: 02:30 happens twice, runs once.
          {"cron(30 2 * * ? *)", "Europe/Berlin", Utc(2026, 10, 24, 12), Utc(2026, 10, 25, 0, 30)},
          {"cron(30 2 * * ? *)", "Europe/Berlin", Utc(2026, 10, 25, 0, 30),
           Utc(2026, 10, 26, 1, 30)},
          // New York: spring 2026-03-08 02:00 -> 03:00, fall 2026-11-01 02:00 -> 01:00.
          {"cron(30 2 * * ? *)", "America/New_York", Utc(2026, 3, 7, 12), Utc(2026, 3, 9, 6, 30)},
          {"cron(0 * * * ? *)", "America/New_York", Utc(2026, 11, 1, 4, 30), Utc(2026, 11, 1, 5)},
          {"cron(0 * * * ? *)", "America/New_York", Utc(2026, 11, 1, 5), Utc(2026, 11, 1, 7)},
          {"cron(*/30 1 * * ? *)", "America/New_York", Utc(2026, 11, 1, 5, 30),
           Utc(2026, 11, 2, 6)},
          // at(): local time in the zone; once.
          {"at(2026-12-01T09:00:00)", "Europe/Berlin", Utc(2026, 11, 23), Utc(2026, 12, 1, 8)},
          {"at(2026-12-01T09:00:00)", "", Utc(2026, 11, 23), Utc(2026, 12, 1, 9)},
          {"at(2026-12-01T09:00:00)", "Europe/Berlin", Utc(2026, 12, 1, 8), std::nullopt},
          {"at(2026-03-29T02:30:00)", "Europe/Berlin", Utc(2026, 3, 1), Utc(2026, 3, 29, 1, 30)},
          {"at(2026-10-25T02:30:00)", "Europe/Berlin", Utc(2026, 10, 1), Utc(2026, 10, 25, 0, 30)},
          {"at(2028-02-29T23:59:59)", "", Utc(2026, 1, 1), Utc(2028, 2, 29, 23, 59, 59)},
      });
}

// Proves every invalid form is rejected with the flavour's exact message:
// PutRule's "Parameter ScheduleExpression is not valid." (aws-semantics §4.1) and
// Scheduler's "Invalid Schedule Expression <expression>.".
TEST(ScheduleExpressionTest, InvalidExpressions) {
  const std::vector<const char*> invalid_both = {
      "",
      "every 5 minutes",
      "rate(1 minutes)",
      "rate(5 minute)",
      "rate(1 hours)",
      "rate(5 hour)",
      "rate(2 day)",
      "rate(0 minutes)",
      "rate(-1 minutes)",
      "rate(1.5 hours)",
      "rate(1 second)",
      "rate(5 seconds)",
      "rate(1 week)",
      "rate(5minutes)",
      "rate(5 minutes",
      "rate()",
      "Rate(5 minutes)",
      "rate(999999999 days)",
      "cron(0 3 * * * *)",
      "cron(0 3 ? * ? *)",
      "cron(0 3 * * ?)",
      "cron(0 3 * * ? * *)",
      "cron(*/60 * * * ? *)",
      "cron(60 * * * ? *)",
      "cron(0 24 * * ? *)",
      "cron(0 0 0 * ? *)",
      "cron(0 0 32 * ? *)",
      "cron(0 0 * 0 ? *)",
      "cron(0 0 * 13 ? *)",
      "cron(0 0 ? * 0 *)",
      "cron(0 0 ? * 8 *)",
      "cron(0 0 ? * -1 *)",
      "cron(0 0 ? * 2#6 *)",
      "cron(0 0 ? * 2#1,3#1 *)",
      "cron(0 0 L,15 * ? *)",
      "cron(0 0 ? * MON-FOO *)",
      "cron(0 0 ? FOO * *)",
      "cron(0 0 1 1 ? 1969)",
      "cron(0/5, 9-18, ?, *, MON-FRI, *)",
      "cron(0 0 ? * 2W *)",
      "cron(0 0 1L * ? *)",
      "cron(0 0 ? * 1/2 *)",
      "cron(0 0 1#2 * ? *)",
      "cron(0 ? * * ? *)",
      "cron(0 0 1-/2 * ? *)",
      "cron(0 0 1 1 ? 2027",
      "cron 0 0 1 1 ? 2027",
  };
  for (const char* text : invalid_both) {
    auto rule = ScheduleExpression::Parse(text, ScheduleFlavor::kRule);
    ASSERT_FALSE(rule.ok()) << text;
    EXPECT_EQ(rule.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(rule.status().message(), "Parameter ScheduleExpression is not valid.") << text;
    auto schedule = ScheduleExpression::Parse(text, ScheduleFlavor::kScheduler);
    ASSERT_FALSE(schedule.ok()) << text;
    EXPECT_EQ(schedule.status().message(),
              "Invalid Schedule Expression " + std::string(text) + ".");
  }
  // at() is a Scheduler form only.
  EXPECT_EQ(ScheduleExpression::Parse("at(2026-12-01T09:00:00)", ScheduleFlavor::kRule)
                .status()
                .message(),
            "Parameter ScheduleExpression is not valid.");
  for (const char* text :
       {"at(2026-02-29T09:00:00)", "at(2026-12-01 09:00:00)", "at(2026-12-01T24:00:00)",
        "at(2026-12-01T09:00)", "at(2026-13-01T09:00:00)", "at(2026-12-01T09:00:00Z)",
        "cron(0 0 1 1 ? 2200)"}) {
    auto schedule = ScheduleExpression::Parse(text, ScheduleFlavor::kScheduler);
    ASSERT_FALSE(schedule.ok()) << text;
    EXPECT_EQ(schedule.status().message(),
              "Invalid Schedule Expression " + std::string(text) + ".");
  }
}

// Proves valid forms parse in both flavours and report their kind.
TEST(ScheduleExpressionTest, ValidForms) {
  for (const char* text :
       {"cron(0 18 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(0 12 * * ? *)",
        "cron(0 8 1 * ? *)", "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)", "cron(30-30 13-13 ? * 2,4,6 *)",
        "cron(1-31/30 1-1 ? * 1,7 *)", "cron(15 10 ? * 6L 2019-2022)", "cron(0 0 ? * * *)",
        "cron(0 0 1 jan-dec ? *)", "cron(59 23 31 12 ? 2199)", "rate(10 minutes)"}) {
    EXPECT_THAT(ScheduleExpression::Parse(text, ScheduleFlavor::kRule), IsOk()) << text;
    EXPECT_THAT(ScheduleExpression::Parse(text, ScheduleFlavor::kScheduler), IsOk()) << text;
  }
  auto at = ScheduleExpression::Parse("at(2026-12-01T09:00:00)", ScheduleFlavor::kScheduler);
  ASSERT_THAT(at, IsOk());
  EXPECT_EQ(at->kind(), ScheduleExpression::Kind::kAt);
  EXPECT_EQ(at->at_time(), (CivilTime{2026, 12, 1, 9, 0, 0}));
  EXPECT_EQ(at->text(), "at(2026-12-01T09:00:00)");
  EXPECT_EQ(at->flavor(), ScheduleFlavor::kScheduler);
}

// Proves ScheduleExpressionTimezone names an IANA zone; empty means UTC.
TEST(ScheduleExpressionTest, Timezones) {
  EXPECT_THAT(ParseScheduleTimezone(""), IsOk());
  EXPECT_THAT(ParseScheduleTimezone("Europe/Berlin"), IsOk());
  auto bad = ParseScheduleTimezone("Mars/Olympus_Mons");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Invalid ScheduleExpressionTimezone Mars/Olympus_Mons.");
  auto fire = NextFire("cron(0 0 * * ? *)", ScheduleFlavor::kScheduler, Utc(2026, 1, 1),
                       Utc(2026, 1, 1), "Nowhere/Zone");
  EXPECT_FALSE(fire.ok());
}

}  // namespace
}  // namespace understudy::events
