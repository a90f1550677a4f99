// Scheduled actions' schedules: at(), rate() and cron() with a timezone.
#include "autoscaling/schedule.h"

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

}  // namespace
}  // namespace understudy::autoscaling
