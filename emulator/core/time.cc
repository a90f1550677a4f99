#include "core/time.h"

#include <cmath>
#include <cstdio>

namespace understudy {
namespace {

bool ParseDigits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

}  // namespace

std::string FormatIso8601(TimePoint t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  auto since_midnight = t - day;
  int64_t us = since_midnight.count();
  int64_t ms = us / 1000;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

Result<TimePoint> ParseIso8601(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an ISO-8601 instant; expected e.g. "
                                   "2026-11-23T08:00:00Z");
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!ParseDigits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !ParseDigits(text, 5, 2, &month) || text[7] != '-' || !ParseDigits(text, 8, 2, &day)) {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                                  std::chrono::day{unsigned(day)}};
  if (!ymd.ok()) return bad();
  size_t pos = 10;
  Duration fraction{0};
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad();
    if (!ParseDigits(text, pos + 1, 2, &hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &minute)) {
      return bad();
    }
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!ParseDigits(text, pos + 1, 2, &second)) return bad();
      pos += 3;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        fraction += Duration((text[pos] - '0') * scale);
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad();
    }
    if (pos < text.size()) {
      if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
      } else if (text[pos] == '+' || text[pos] == '-') {
        int oh, om;
        int sign = text[pos] == '-' ? -1 : 1;
        if (!ParseDigits(text, pos + 1, 2, &oh)) return bad();
        pos += 3;
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (!ParseDigits(text, pos, 2, &om)) return bad();
        pos += 2;
        offset_seconds = sign * (oh * 3600 + om * 60);
      } else {
        return bad();
      }
    }
    if (pos != text.size() || hour > 23 || minute > 59 || second > 60) return bad();
  }
  TimePoint t = std::chrono::sys_days{ymd} + std::chrono::hours(hour) +
                std::chrono::minutes(minute) + std::chrono::seconds(second) + fraction -
                std::chrono::seconds(offset_seconds);
  return t;
}

Result<Duration> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration; expected a number and a unit "
                                   "(ms, s, m, h, d), e.g. 90s, 15m, 24h or 1h30m");
  };
  if (text.empty()) return bad();
  Duration total{0};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + (text[pos] - '0');
      if (value > 100000000000LL) return bad();
      ++pos;
    }
    if (pos == start) return bad();
    size_t unit_start = pos;
    while (pos < text.size() && ((text[pos] >= 'a' && text[pos] <= 'z'))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    Duration per_unit;
    if (unit == "ms") {
      per_unit = std::chrono::milliseconds(1);
    } else if (unit == "s") {
      per_unit = std::chrono::seconds(1);
    } else if (unit == "m") {
      per_unit = std::chrono::minutes(1);
    } else if (unit == "h") {
      per_unit = std::chrono::hours(1);
    } else if (unit == "d") {
      per_unit = std::chrono::hours(24);
    } else {
      return bad();
    }
    // Refuse what does not fit in a Duration instead of overflowing (into negatives).
    if (value > (Duration::max() - total) / per_unit) return bad();
    total += value * per_unit;
  }
  return total;
}

std::string FormatDuration(Duration d) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms == 0) return "0s";
  std::string out;
  auto part = [&](int64_t unit_ms, const char* unit) {
    if (ms >= unit_ms) {
      out += std::to_string(ms / unit_ms) + unit;
      ms %= unit_ms;
    }
  };
  part(3600000, "h");
  part(60000, "m");
  part(1000, "s");
  part(1, "ms");
  return out;
}

double ToEpochSeconds(TimePoint t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1e6;
}

TimePoint FromEpochSeconds(double seconds) {
  return TimePoint(Duration(static_cast<int64_t>(std::llround(seconds * 1e6))));
}

std::chrono::steady_clock::time_point RealElapsedNow() { return std::chrono::steady_clock::now(); }

TimePoint WallTimeNow() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

int64_t ToEpochMillis(TimePoint t) { return t.time_since_epoch().count() / 1000; }

}  // namespace understudy
