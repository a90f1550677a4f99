// Scheduled actions' schedules: at(), rate() and cron() with a timezone.
#include "autoscaling/schedule.h"

#include "autoscaling/timezone.h"

#include <gtest/gtest.h>

namespace understudy::autoscaling {
namespace {

TimePoint At(const char* iso) { return *ParseIso8601(iso); }

TEST(ScheduleTest, At) {
  auto s = Schedule::Parse("at(2026-11-23T09:30:00)", "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Next(At("2026-11-23T08:00:00Z"), At("2026-11-23T08:00:00Z")),
            At("2026-11-23T09:30:00Z"));
  EXPECT_FALSE(s->Next(At("2026-11-23T09:30:00Z"), At("2026-11-23T08:00:00Z")));
  auto ny = Schedule::Parse("at(2026-11-23T09:30:00)", "Etc/GMT+5");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(ny->Next(At("2026-11-23T08:00:00Z"), At("2026-11-23T08:00:00Z")),
            At("2026-11-23T14:30:00Z"));
}

TEST(ScheduleTest, Rate) {
  auto s = Schedule::Parse("rate(5 minutes)", "");
  ASSERT_TRUE(s.ok());
  TimePoint origin = At("2026-11-23T08:00:00Z");
  EXPECT_EQ(s->Next(origin, origin), At("2026-11-23T08:05:00Z"));
  EXPECT_EQ(s->Next(At("2026-11-23T08:07:00Z"), origin), At("2026-11-23T08:10:00Z"));
  EXPECT_FALSE(Schedule::Parse("rate(0 minutes)", "").ok());
  EXPECT_FALSE(Schedule::Parse("rate(5 weeks)", "").ok());
}

TEST(ScheduleTest, Cron) {
  // Weekdays at 09:00 in UTC+01:00.
  auto s = Schedule::Parse("cron(0 9 ? * MON-FRI *)", "+01:00");
  ASSERT_TRUE(s.ok());
  // 2026-11-21 is a Saturday: the next run is Monday 2026-11-23 08:00 UTC.
  EXPECT_EQ(s->Next(At("2026-11-21T12:00:00Z"), {}), At("2026-11-23T08:00:00Z"));
  EXPECT_EQ(s->Next(At("2026-11-23T08:00:00Z"), {}), At("2026-11-24T08:00:00Z"));
  auto every = Schedule::Parse("cron(*/15 * * * ? *)", "");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->Next(At("2026-11-23T08:01:00Z"), {}), At("2026-11-23T08:15:00Z"));
  EXPECT_FALSE(Schedule::Parse("cron(0 9 * *)", "").ok());
  EXPECT_FALSE(Schedule::Parse("cron(0 25 * * ? *)", "").ok());
  EXPECT_FALSE(Schedule::Parse("cron(0 9 * * ? *)", "America/Nowhere").ok());
}

// Named zones come from the tz database, daylight saving time included.
TEST(ScheduleTest, NamedTimezone) {
  auto zone = TimeZone::Load("America/New_York");
  if (!zone.ok()) GTEST_SKIP() << "no tz database here: " << zone.status().message();
  auto s = Schedule::Parse("cron(0 9 * * ? *)", "America/New_York");
  ASSERT_TRUE(s.ok());
  // EST (UTC-5) in November, EDT (UTC-4) in July.
  EXPECT_EQ(s->Next(At("2026-11-23T00:00:00Z"), {}), At("2026-11-23T14:00:00Z"));
  EXPECT_EQ(s->Next(At("2026-07-01T00:00:00Z"), {}), At("2026-07-01T13:00:00Z"));
  // Across the change on 2026-03-08 (02:00 EST -> 03:00 EDT).
  EXPECT_EQ(s->Next(At("2026-03-07T15:00:00Z"), {}), At("2026-03-08T13:00:00Z"));
  // Far past the file's last transition, the footer's rule applies.
  EXPECT_EQ(s->Next(At("2090-07-01T00:00:00Z"), {}), At("2090-07-01T13:00:00Z"));
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  EXPECT_EQ(berlin->OffsetAt(static_cast<int64_t>(ToEpochSeconds(At("2026-01-15T12:00:00Z")))),
            3600);
  EXPECT_EQ(berlin->OffsetAt(static_cast<int64_t>(ToEpochSeconds(At("2026-07-15T12:00:00Z")))),
            7200);
  EXPECT_EQ(berlin->OffsetAt(static_cast<int64_t>(ToEpochSeconds(At("2080-07-15T12:00:00Z")))),
            7200);
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
}

}  // namespace
}  // namespace understudy::autoscaling
