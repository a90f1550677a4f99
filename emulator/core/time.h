// Time values shared by every component: instants, durations, and their text forms.
//
// An instant is microseconds since the Unix epoch (UTC). In virtual mode it is
// the virtual instant; in real mode the wall clock. Pure functions; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace understudy {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Duration>;

// "2026-11-23T08:00:00.000Z" (milliseconds, UTC).
std::string FormatIso8601(TimePoint t);
// Parses an ISO-8601 instant: "2026-11-23T08:00:00Z", with optional fraction and
// a "Z" or "+hh:mm"/"-hh:mm" offset; a date alone means midnight UTC.
Result<TimePoint> ParseIso8601(std::string_view text);

// Parses a duration: a sequence of <number><unit> with units ms, s, m, h, d
// ("90s", "15m", "24h", "1h30m", "250ms"). Zero is allowed; negatives are not.
Result<Duration> ParseDuration(std::string_view text);
// The shortest form ParseDuration reads back: "1h30m", "250ms", "0s".
std::string FormatDuration(Duration d);

// Seconds since the epoch as a double (AWS JSON timestamps).
double ToEpochSeconds(TimePoint t);
TimePoint FromEpochSeconds(double seconds);
int64_t ToEpochMillis(TimePoint t);

// The wall clock now. Only for choosing a virtual clock's default start; every
// other reading of time goes through Clock.
TimePoint WallTimeNow();

// A monotonic real-time reading, for measuring how long real I/O took (the ALB's
// processing times, connection lifetimes) — never for behaviour virtual time drives.
std::chrono::steady_clock::time_point RealElapsedNow();

}  // namespace understudy
