#include "core/time.h"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::understudy::testing::IsOk;
using ::understudy::testing::IsOkAndHolds;
using ::understudy::testing::StatusIs;

TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
             Duration frac = Duration(0)) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + hours(h) + minutes(mi) +
         seconds(s) + frac;
}

std::string IsoError(const std::string& text) {
  return "'" + text + "' is not an ISO-8601 instant; expected e.g. 2026-11-23T08:00:00Z";
}

std::string DurationError(const std::string& text) {
  return "'" + text +
         "' is not a duration; expected a number and a unit (ms, s, m, h, d), e.g. 90s, 15m, 24h "
         "or 1h30m";
}

// Proves FormatIso8601 writes UTC with milliseconds, truncating finer digits.
TEST(TimeTest, FormatIso8601) {
  EXPECT_EQ(FormatIso8601(At(2026, 11, 23, 8)), "2026-11-23T08:00:00.000Z");
  EXPECT_EQ(FormatIso8601(At(2026, 1, 2, 3, 4, 5, milliseconds(67))), "2026-01-02T03:04:05.067Z");
  EXPECT_EQ(FormatIso8601(At(2026, 12, 31, 23, 59, 59, microseconds(999999))),
            "2026-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(TimePoint{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(TimePoint{} - milliseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(At(2028, 2, 29, 12)), "2028-02-29T12:00:00.000Z");
}

// Proves formatting then parsing gives back the same instant (at millisecond precision).
TEST(TimeTest, Iso8601RoundTrip) {
  for (TimePoint t : {At(2026, 11, 23, 8), At(2026, 11, 23, 8, 0, 0, milliseconds(1)),
                      At(1999, 12, 31, 23, 59, 59, milliseconds(999)), At(2028, 2, 29),
                      At(1970, 1, 1), At(1960, 6, 15, 1, 2, 3, milliseconds(450))}) {
    std::string text = FormatIso8601(t);
    EXPECT_THAT(ParseIso8601(text), IsOkAndHolds(t)) << text;
  }
}

// Proves ParseIso8601 accepts Z (either case), no zone (UTC), missing seconds and other
// separators.
TEST(TimeTest, ParseIso8601Forms) {
  const TimePoint eight = At(2026, 11, 23, 8);
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00Z"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00z"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23t08:00:00Z"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23 08:00:00Z"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00Z"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T23:59:59Z"), IsOkAndHolds(At(2026, 11, 23, 23, 59, 59)));
}

// Proves a date alone means midnight UTC.
TEST(TimeTest, ParseIso8601DateOnly) {
  EXPECT_THAT(ParseIso8601("2026-11-23"), IsOkAndHolds(At(2026, 11, 23)));
  EXPECT_THAT(ParseIso8601("2028-02-29"), IsOkAndHolds(At(2028, 2, 29)));
}

// Proves offsets are applied (with or without the colon) to give the UTC instant.
TEST(TimeTest, ParseIso8601Offsets) {
  const TimePoint eight = At(2026, 11, 23, 8);
  EXPECT_THAT(ParseIso8601("2026-11-23T10:00:00+02:00"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T10:00:00+0200"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T02:30:00-05:30"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00+00:00"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00-00:00"), IsOkAndHolds(eight));
  // An offset may cross midnight.
  EXPECT_THAT(ParseIso8601("2026-11-24T01:00:00+17:00"), IsOkAndHolds(eight));
  EXPECT_THAT(ParseIso8601("2026-11-22T22:00:00-10:00"), IsOkAndHolds(eight));
}

// Proves fractions of any length are read to the microsecond (finer digits are dropped).
TEST(TimeTest, ParseIso8601Fractions) {
  const TimePoint eight = At(2026, 11, 23, 8);
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00.5Z"), IsOkAndHolds(eight + milliseconds(500)));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00.123Z"), IsOkAndHolds(eight + milliseconds(123)));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00.000001Z"), IsOkAndHolds(eight + microseconds(1)));
  EXPECT_THAT(ParseIso8601("2026-11-23T08:00:00.123456789Z"),
              IsOkAndHolds(eight + microseconds(123456)));
  EXPECT_THAT(ParseIso8601("2026-11-23T10:00:00.250+02:00"),
              IsOkAndHolds(eight + milliseconds(250)));
}

// Proves malformed instants are InvalidArgument with the exact message quoting the input.
TEST(TimeTest, ParseIso8601Invalid) {
  for (const char* text : {
           "",
           "2026",
           "2026-11",
           "2026/11/23",
           "26-11-23",
           "2026-1-23",
           "2026-13-01",
           "2026-00-10",
           "2026-02-30",
           "2027-02-29",
           "2026-11-23X",
           "2026-11-23T",
           "2026-11-23T08",
           "2026-11-23T8:00",
           "2026-11-23T08:0",
           "2026-11-23T08-00",
           "2026-11-23T24:00:00Z",
           "2026-11-23T23:60:00Z",
           "2026-11-23T23:59:61Z",
           "2026-11-23T08:00:00.Z",
           "2026-11-23T08:00:00ZZ",
           "2026-11-23T08:00:00 Z",
           "2026-11-23T08:00:00+02",
           "2026-11-23T08:00:00+2:00",
           "2026-11-23T08:00:00UTC",
           "2026-11-23T08:00:0Z",
           "tomorrow",
       }) {
    auto result = ParseIso8601(text);
    EXPECT_THAT(result, StatusIs(StatusCode::kInvalidArgument)) << text;
    EXPECT_EQ(result.status().message(), IsoError(text));
  }
}

// Proves ParseDuration reads each unit and combinations of them.
TEST(TimeTest, ParseDuration) {
  EXPECT_THAT(ParseDuration("90s"), IsOkAndHolds(Duration(seconds(90))));
  EXPECT_THAT(ParseDuration("15m"), IsOkAndHolds(Duration(minutes(15))));
  EXPECT_THAT(ParseDuration("24h"), IsOkAndHolds(Duration(hours(24))));
  EXPECT_THAT(ParseDuration("1h30m"), IsOkAndHolds(Duration(minutes(90))));
  EXPECT_THAT(ParseDuration("250ms"), IsOkAndHolds(Duration(milliseconds(250))));
  EXPECT_THAT(ParseDuration("0s"), IsOkAndHolds(Duration(0)));
  EXPECT_THAT(ParseDuration("2d"), IsOkAndHolds(Duration(hours(48))));
  EXPECT_THAT(ParseDuration("1d2h3m4s5ms"),
              IsOkAndHolds(Duration(hours(26) + minutes(3) + seconds(4) + milliseconds(5))));
  EXPECT_THAT(ParseDuration("007s"), IsOkAndHolds(Duration(seconds(7))));
}

// Proves malformed durations (no unit, unknown unit, sign, fraction, spaces, too large) are
// InvalidArgument with the exact message.
TEST(TimeTest, ParseDurationInvalid) {
  for (const char* text : {"", "10", "s", "ms", "-5s", "+5s", "1.5h", "5 s", " 5s", "5s ", "5S",
                           "5sec", "5min", "1h30", "h1", "5s-", "100000000001s"}) {
    auto result = ParseDuration(text);
    EXPECT_THAT(result, StatusIs(StatusCode::kInvalidArgument)) << text;
    EXPECT_EQ(result.status().message(), DurationError(text));
  }
}

// Proves very large durations are refused instead of overflowing into nonsense.
TEST(TimeTest, ParseDurationRejectsOverflow) {
  for (const char* text :
       {"100000000000d", "100000000000h", "99999999999d", "2000000000h2000000000h"}) {
    auto result = ParseDuration(text);
    EXPECT_THAT(result, StatusIs(StatusCode::kInvalidArgument)) << text;
    EXPECT_EQ(result.status().message(), DurationError(text));
  }
  // The largest single number is still accepted where it fits.
  EXPECT_THAT(ParseDuration("100000000000s"), IsOkAndHolds(Duration(seconds(100000000000LL))));
  EXPECT_THAT(ParseDuration("100000000000ms"),
              IsOkAndHolds(Duration(milliseconds(100000000000LL))));
}

// Proves FormatDuration writes the shortest h/m/s/ms form, and ParseDuration reads it back.
TEST(TimeTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(minutes(15)), "15m");
  EXPECT_EQ(FormatDuration(hours(24)), "24h");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1001)), "1s1ms");
  EXPECT_EQ(FormatDuration(hours(49) + seconds(1)), "49h1s");
  EXPECT_EQ(FormatDuration(microseconds(1500)), "1ms");  // below a millisecond is dropped
  for (Duration d : {Duration(0), Duration(seconds(90)), Duration(hours(26) + milliseconds(7)),
                     Duration(milliseconds(250)), Duration(minutes(61))}) {
    EXPECT_THAT(ParseDuration(FormatDuration(d)), IsOkAndHolds(d)) << FormatDuration(d);
  }
}

// Proves the epoch conversions used by AWS JSON timestamps.
TEST(TimeTest, EpochConversions) {
  const TimePoint t = At(2026, 11, 23, 8, 0, 0, milliseconds(250));
  EXPECT_DOUBLE_EQ(ToEpochSeconds(t), 1795420800.25);
  EXPECT_EQ(FromEpochSeconds(1795420800.25), t);
  EXPECT_EQ(ToEpochMillis(t), 1795420800250);
  EXPECT_EQ(FromEpochSeconds(0), TimePoint{});
  EXPECT_EQ(FromEpochSeconds(1.5), TimePoint{} + milliseconds(1500));
  EXPECT_EQ(FromEpochSeconds(ToEpochSeconds(At(2026, 1, 1, 0, 0, 0, microseconds(123456)))),
            At(2026, 1, 1, 0, 0, 0, microseconds(123456)));
}

}  // namespace
}  // namespace understudy
