#include "autoscaling/schedule.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <vector>

namespace understudy::autoscaling {
namespace {

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::optional<int> Number(std::string text, const std::vector<std::string>& names, int base) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return static_cast<int>(i) + base;
  }
  if (text.empty() || text.size() > 4 || !std::all_of(text.begin(), text.end(), ::isdigit))
    return std::nullopt;
  return std::stoi(text);
}

// Sets the bits of `field` in [lo, hi]; false when it does not parse.
template <size_t N>
bool ParseField(const std::string& field, int lo, int hi, const std::vector<std::string>& names,
                int name_base, std::bitset<N>& bits, int bit_offset = 0) {
  for (const auto& part : Split(field, ',')) {
    std::string range = part;
    int step = 1;
    size_t slash = part.find('/');
    if (slash != std::string::npos) {
      auto s = Number(part.substr(slash + 1), {}, 0);
      if (!s || *s <= 0) return false;
      step = *s;
      range = part.substr(0, slash);
    }
    int from = lo, to = hi;
    if (range != "*") {
      size_t dash = range.find('-');
      auto a = Number(range.substr(0, dash), names, name_base);
      if (!a) return false;
      from = *a;
      to = slash != std::string::npos ? hi : *a;
      if (dash != std::string::npos) {
        auto b = Number(range.substr(dash + 1), names, name_base);
        if (!b) return false;
        to = *b;
      }
    }
    if (from < lo || to > hi || from > to) return false;
    for (int v = from; v <= to; v += step) bits.set(static_cast<size_t>(v - bit_offset));
  }
  return true;
}

Result<TimeZone> ParseZone(const std::string& tz) {
  if (tz.rfind("Etc/GMT", 0) == 0 && tz.size() > 8 && (tz[7] == '+' || tz[7] == '-')) {
    auto n = Number(tz.substr(8), {}, 0);
    if (n && *n <= 14) return TimeZone::Fixed((tz[7] == '+' ? -1 : 1) * int64_t{*n} * 3600);
  }
  return TimeZone::Load(tz);
}

}  // namespace

Result<Schedule> Schedule::Parse(const std::string& expression, const std::string& timezone) {
  Schedule s;
  US_ASSIGN_OR_RETURN(s.zone_, ParseZone(timezone));
  auto inner = [&](const char* prefix) -> std::optional<std::string> {
    std::string p = prefix;
    if (expression.rfind(p + "(", 0) != 0 || expression.back() != ')') return std::nullopt;
    return expression.substr(p.size() + 1, expression.size() - p.size() - 2);
  };
  if (auto at = inner("at")) {
    auto t = ParseIso8601(*at + "Z");
    if (!t.ok() || at->size() != 19) return Status::InvalidArgument("bad at() expression");
    s.kind_ = Kind::kAt;
    int64_t local = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
    s.at_ = TimePoint(std::chrono::seconds(s.zone_.ToUtc(local)));
    return s;
  }
  if (auto rate = inner("rate")) {
    auto parts = Split(*rate, ' ');
    if (parts.size() != 2) return Status::InvalidArgument("bad rate() expression");
    auto n = Number(parts[0], {}, 0);
    const std::string& unit = parts[1];
    int64_t secs = unit == "minute" || unit == "minutes" ? 60
                   : unit == "hour" || unit == "hours"   ? 3600
                   : unit == "day" || unit == "days"     ? 86400
                                                         : 0;
    if (!n || *n <= 0 || secs == 0) return Status::InvalidArgument("bad rate() expression");
    s.kind_ = Kind::kRate;
    s.rate_ = std::chrono::seconds(secs * *n);
    return s;
  }
  if (auto cron = inner("cron")) {
    auto f = Split(*cron, ' ');
    if (f.size() != 6) return Status::InvalidArgument("bad cron() expression: expected 6 fields");
    static const std::vector<std::string> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    static const std::vector<std::string> kDays = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
    s.kind_ = Kind::kCron;
    s.any_day_ = f[2] == "*" || f[2] == "?";
    s.any_weekday_ = f[4] == "*" || f[4] == "?";
    if (f[2] == "?" && f[4] == "?") return Status::InvalidArgument("bad cron() expression");
    bool ok = ParseField(f[0], 0, 59, {}, 0, s.minutes_) &&
              ParseField(f[1], 0, 23, {}, 0, s.hours_) &&
              ParseField(f[2] == "?" ? "*" : f[2], 1, 31, {}, 0, s.days_) &&
              ParseField(f[3], 1, 12, kMonths, 1, s.months_) &&
              ParseField(f[4] == "?" ? "*" : f[4], 1, 7, kDays, 1, s.weekdays_) &&
              ParseField(f[5], 1970, 2169, {}, 0, s.years_, 1970);
    if (!ok) return Status::InvalidArgument("bad cron() expression");
    return s;
  }
  return Status::InvalidArgument("bad schedule expression");
}

std::optional<TimePoint> Schedule::Next(TimePoint after, TimePoint origin) const {
  using namespace std::chrono;
  switch (kind_) {
    case Kind::kAt:
      if (at_ > after) return at_;
      return std::nullopt;
    case Kind::kRate: {
      if (origin > after) return origin;
      auto k = (after - origin) / rate_ + 1;
      return origin + rate_ * k;
    }
    case Kind::kCron:
      break;
  }
  // Local time, whole minutes, strictly after `after`.
  int64_t after_s = duration_cast<seconds>(after.time_since_epoch()).count();
  auto local = floor<minutes>(sys_seconds{seconds(after_s + zone_.OffsetAt(after_s))}) - minutes(1);
  auto day = floor<days>(local);
  for (int i = 0; i < 366 * 5; ++i, day += days(1)) {
    year_month_day ymd{day};
    int y = static_cast<int>(ymd.year());
    if (y < 1970 || y >= 2170 || !years_.test(static_cast<size_t>(y - 1970))) continue;
    if (!months_.test(static_cast<unsigned>(ymd.month()))) continue;
    unsigned wd = weekday{day}.c_encoding() + 1;  // SUN = 1
    bool dom = days_.test(static_cast<unsigned>(ymd.day()));
    bool dow = weekdays_.test(wd);
    if (!(any_day_ ? dow : any_weekday_ ? dom : (dom || dow))) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(static_cast<size_t>(h))) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(static_cast<size_t>(m))) continue;
        auto t = day + hours(h) + minutes(m);
        if (t < local) continue;
        TimePoint utc(seconds(zone_.ToUtc(duration_cast<seconds>(t.time_since_epoch()).count())));
        if (utc <= after) continue;
        return utc;
      }
    }
  }
  return std::nullopt;
}

}  // namespace understudy::autoscaling
