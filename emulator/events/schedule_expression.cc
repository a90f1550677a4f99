#include "events/schedule_expression.h"

#include <bitset>
#include <cctype>
#include <cstdint>
#include <vector>

namespace understudy::events {

namespace {

constexpr int kMinYear = 1970;
constexpr int kSchedulerMaxYear = 2199;
// PutRule does not enforce the documented year range (aws-semantics §4.1 [O]); a
// rule's year field accepts any four-digit year from 1970.
constexpr int kRuleMaxYear = 9999;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

std::optional<int> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// One cron field's range and names.
struct FieldSpec {
  int min;
  int max;
  const char* const* names = nullptr;  // names[i] is min + i
  int name_count = 0;
};

std::optional<int> ParseValue(std::string_view s, const FieldSpec& spec) {
  if (auto n = ParseUint(s)) {
    if (*n < spec.min || *n > spec.max) return std::nullopt;
    return n;
  }
  std::string u = Upper(s);
  for (int i = 0; i < spec.name_count; ++i) {
    if (u == spec.names[i]) return spec.min + i;
  }
  return std::nullopt;
}

// Parses a list of `*`, `v`, `v-w` (wrapping), each optionally `/step`, into the set of
// values it names (indexed by value). False when the field is not valid.
bool ParseList(std::string_view field, const FieldSpec& spec, std::vector<bool>* out) {
  out->assign(static_cast<size_t>(spec.max) + 1, false);
  for (std::string_view item : Split(field, ',')) {
    if (item.empty()) return false;
    int step = 1;
    bool has_step = false;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      auto s = ParseUint(item.substr(slash + 1));
      // A step may not exceed the field's largest value (`*/60` minutes is invalid).
      if (!s || *s < 1 || (spec.max < 1000 && *s > spec.max)) return false;
      step = *s;
      has_step = true;
      item = item.substr(0, slash);
    }
    int low, high;
    bool wraps = false;
    if (item == "*") {
      low = spec.min;
      high = spec.max;
    } else {
      size_t dash = item.find('-');
      if (dash == std::string_view::npos) {
        auto v = ParseValue(item, spec);
        if (!v) return false;
        low = *v;
        high = has_step ? spec.max : *v;
      } else {
        auto a = ParseValue(item.substr(0, dash), spec);
        auto b = ParseValue(item.substr(dash + 1), spec);
        if (!a || !b) return false;
        low = *a;
        high = *b;
        wraps = low > high;
      }
    }
    if (!wraps) {
      for (int v = low; v <= high; v += step) (*out)[static_cast<size_t>(v)] = true;
    } else {
      const int span = spec.max - spec.min + 1;
      const int count = (high + span - low) + 1;
      for (int k = 0; k < count; k += step) {
        int v = low + k;
        if (v > spec.max) v -= span;
        (*out)[static_cast<size_t>(v)] = true;
      }
    }
  }
  return true;
}

}  // namespace

struct ScheduleExpression::Cron {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<13> months;   // 1..12
  std::vector<bool> years;  // index = year
  int first_year = kMinYear;
  int last_year = kMinYear;

  enum class Dom { kUnspecified, kDays, kLast, kLastWeekday, kNearestWeekday };
  Dom dom = Dom::kUnspecified;
  std::bitset<32> dom_days;  // kDays: 1..31
  int dom_n = 0;             // kLast: offset (L-n); kNearestWeekday: the day

  enum class Dow { kUnspecified, kDays, kLastOf, kNth };
  Dow dow = Dow::kUnspecified;
  std::bitset<8> dow_days;  // 1..7 = SUN..SAT
  int dow_n = 0;            // kLastOf, kNth: the weekday 1..7
  int dow_k = 0;            // kNth: which one, 1..5

  bool DayMatches(int year, int month, int day) const {
    const int last = DaysInMonth(year, month);
    const int64_t days = DaysFromCivil(year, month, day);
    const int weekday = WeekdayFromDays(days) + 1;  // 1..7 = SUN..SAT
    if (dom != Dom::kUnspecified) {
      switch (dom) {
        case Dom::kDays:
          return dom_days[static_cast<size_t>(day)];
        case Dom::kLast:
          return day == last - dom_n;
        case Dom::kLastWeekday: {
          int target = last;
          int wd = WeekdayFromDays(DaysFromCivil(year, month, last));
          if (wd == 6) target = last - 1;
          if (wd == 0) target = last - 2;
          return day == target;
        }
        case Dom::kNearestWeekday: {
          if (dom_n > last) return false;
          int target = dom_n;
          int wd = WeekdayFromDays(DaysFromCivil(year, month, dom_n));
          if (wd == 6) target = dom_n == 1 ? 3 : dom_n - 1;
          if (wd == 0) target = dom_n == last ? dom_n - 2 : dom_n + 1;
          return day == target;
        }
        case Dom::kUnspecified:
          break;
      }
      return false;
    }
    switch (dow) {
      case Dow::kDays:
        return dow_days[static_cast<size_t>(weekday)];
      case Dow::kLastOf:
        return weekday == dow_n && day + 7 > last;
      case Dow::kNth:
        return weekday == dow_n && (day - 1) / 7 + 1 == dow_k;
      case Dow::kUnspecified:
        break;
    }
    return false;
  }
};

namespace {

using Cron = ScheduleExpression::Cron;

bool ParseDom(std::string_view f, Cron* c) {
  if (f == "?") {
    c->dom = Cron::Dom::kUnspecified;
    return true;
  }
  std::string u = Upper(f);
  if (u.find('L') != std::string::npos || u.find('W') != std::string::npos) {
    // L, W and LW stand alone in the field.
    if (u == "L") {
      c->dom = Cron::Dom::kLast;
      c->dom_n = 0;
      return true;
    }
    if (u == "LW") {
      c->dom = Cron::Dom::kLastWeekday;
      return true;
    }
    if (u.size() > 2 && u.compare(0, 2, "L-") == 0) {
      auto n = ParseUint(std::string_view(u).substr(2));
      if (!n || *n < 1 || *n > 30) return false;
      c->dom = Cron::Dom::kLast;
      c->dom_n = *n;
      return true;
    }
    if (u.size() >= 2 && u.back() == 'W') {
      auto n = ParseUint(std::string_view(u).substr(0, u.size() - 1));
      if (!n || *n < 1 || *n > 31) return false;
      c->dom = Cron::Dom::kNearestWeekday;
      c->dom_n = *n;
      return true;
    }
    return false;
  }
  std::vector<bool> days;
  if (!ParseList(f, FieldSpec{1, 31}, &days)) return false;
  c->dom = Cron::Dom::kDays;
  for (int d = 1; d <= 31; ++d) c->dom_days[static_cast<size_t>(d)] = days[static_cast<size_t>(d)];
  return true;
}

bool ParseDow(std::string_view f, Cron* c) {
  const FieldSpec spec{1, 7, kDayNames, 7};
  if (f == "?") {
    c->dow = Cron::Dow::kUnspecified;
    return true;
  }
  std::string u = Upper(f);
  if (size_t hash = u.find('#'); hash != std::string::npos) {
    // n#k stands alone in the field.
    auto n = ParseValue(std::string_view(u).substr(0, hash), spec);
    auto k = ParseUint(std::string_view(u).substr(hash + 1));
    if (!n || !k || *k < 1 || *k > 5) return false;
    c->dow = Cron::Dow::kNth;
    c->dow_n = *n;
    c->dow_k = *k;
    return true;
  }
  if (u == "L") {  // the last day of the week: Saturday
    c->dow = Cron::Dow::kDays;
    c->dow_days[7] = true;
    return true;
  }
  if (u.size() >= 2 && u.back() == 'L' && u.find(',') == std::string::npos) {
    auto n = ParseValue(std::string_view(u).substr(0, u.size() - 1), spec);
    if (!n) return false;
    c->dow = Cron::Dow::kLastOf;
    c->dow_n = *n;
    return true;
  }
  if (u.find('/') != std::string::npos) return false;  // no steps in day-of-week
  std::vector<bool> days;
  if (!ParseList(u, spec, &days)) return false;
  c->dow = Cron::Dow::kDays;
  for (int d = 1; d <= 7; ++d) c->dow_days[static_cast<size_t>(d)] = days[static_cast<size_t>(d)];
  return true;
}

std::shared_ptr<const Cron> ParseCron(std::string_view body, ScheduleFlavor flavor) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && body[i] == ' ') ++i;
    if (i == body.size()) break;
    size_t start = i;
    while (i < body.size() && body[i] != ' ') ++i;
    fields.push_back(body.substr(start, i - start));
  }
  if (fields.size() != 6) return nullptr;
  auto c = std::make_shared<Cron>();
  std::vector<bool> set;
  if (!ParseList(fields[0], FieldSpec{0, 59}, &set)) return nullptr;
  for (int v = 0; v < 60; ++v) c->minutes[static_cast<size_t>(v)] = set[static_cast<size_t>(v)];
  if (!ParseList(fields[1], FieldSpec{0, 23}, &set)) return nullptr;
  for (int v = 0; v < 24; ++v) c->hours[static_cast<size_t>(v)] = set[static_cast<size_t>(v)];
  if (!ParseList(fields[3], FieldSpec{1, 12, kMonthNames, 12}, &set)) return nullptr;
  for (int v = 1; v <= 12; ++v) c->months[static_cast<size_t>(v)] = set[static_cast<size_t>(v)];
  const int max_year = flavor == ScheduleFlavor::kRule ? kRuleMaxYear : kSchedulerMaxYear;
  if (!ParseList(fields[5], FieldSpec{kMinYear, max_year}, &c->years)) return nullptr;
  for (int y = 0; y < kMinYear; ++y) c->years[static_cast<size_t>(y)] = false;
  // `*` means the documented range; only explicit years reach beyond it.
  if (fields[5].find('*') != std::string_view::npos && max_year > kSchedulerMaxYear) {
    for (int y = kSchedulerMaxYear + 1; y <= max_year; ++y) {
      c->years[static_cast<size_t>(y)] = false;
    }
  }
  c->first_year = -1;
  for (int y = kMinYear; y <= max_year; ++y) {
    if (c->years[static_cast<size_t>(y)]) {
      if (c->first_year < 0) c->first_year = y;
      c->last_year = y;
    }
  }
  if (c->first_year < 0) return nullptr;
  // Exactly one of day-of-month and day-of-week is `?`.
  const bool dom_q = fields[2] == "?";
  const bool dow_q = fields[4] == "?";
  if (dom_q == dow_q) return nullptr;
  if (!ParseDom(fields[2], c.get()) || !ParseDow(fields[4], c.get())) return nullptr;
  return c;
}

std::optional<int> ParseDigits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// "yyyy-mm-ddThh:mm:ss" with a real calendar date.
std::optional<CivilTime> ParseAt(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':') {
    return std::nullopt;
  }
  auto y = ParseDigits(s, 0, 4), mo = ParseDigits(s, 5, 2), d = ParseDigits(s, 8, 2),
       h = ParseDigits(s, 11, 2), mi = ParseDigits(s, 14, 2), se = ParseDigits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > DaysInMonth(*y, *mo) || *h > 23 || *mi > 59 ||
      *se > 59) {
    return std::nullopt;
  }
  return CivilTime{*y, *mo, *d, *h, *mi, *se};
}

}  // namespace

std::string ScheduleExpression::InvalidMessage(std::string_view text, ScheduleFlavor flavor) {
  if (flavor == ScheduleFlavor::kRule) return "Parameter ScheduleExpression is not valid.";
  return "Invalid Schedule Expression " + std::string(text) + ".";
}

Result<ScheduleExpression> ScheduleExpression::Parse(std::string_view text, ScheduleFlavor flavor) {
  const Status invalid = Status::InvalidArgument(InvalidMessage(text, flavor));
  auto body_of = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (text.size() < prefix.size() + 1 || text.substr(0, prefix.size()) != prefix ||
        text.back() != ')') {
      return std::nullopt;
    }
    return text.substr(prefix.size(), text.size() - prefix.size() - 1);
  };
  ScheduleExpression e;
  e.text_ = std::string(text);
  e.flavor_ = flavor;
  if (auto body = body_of("rate(")) {
    size_t space = body->find(' ');
    if (space == std::string_view::npos) return invalid;
    auto value = ParseUint(body->substr(0, space));
    std::string_view unit = body->substr(space + 1);
    if (!value || *value < 1) return invalid;
    const bool one = *value == 1;
    int64_t unit_minutes = 0;
    if (unit == (one ? "minute" : "minutes")) {
      unit_minutes = 1;
    } else if (unit == (one ? "hour" : "hours")) {
      unit_minutes = 60;
    } else if (unit == (one ? "day" : "days")) {
      unit_minutes = 1440;
    } else {
      return invalid;
    }
    // Periods beyond a century are not schedules anyone means (and would overflow).
    if (static_cast<int64_t>(*value) * unit_minutes > 100LL * 366 * 1440) return invalid;
    e.kind_ = Kind::kRate;
    e.rate_period_ = std::chrono::minutes(*value * unit_minutes);
    return e;
  }
  if (auto body = body_of("cron(")) {
    e.cron_ = ParseCron(*body, flavor);
    if (!e.cron_) return invalid;
    e.kind_ = Kind::kCron;
    return e;
  }
  if (auto body = body_of("at(")) {
    if (flavor != ScheduleFlavor::kScheduler) return invalid;
    auto at = ParseAt(*body);
    if (!at) return invalid;
    e.kind_ = Kind::kAt;
    e.at_ = *at;
    return e;
  }
  return invalid;
}

namespace {

std::optional<TimePoint> Resolve(const TimeZone& zone, const CivilTime& local, bool skip_gap) {
  TimeZone::Lookup l = zone.FromCivil(local);
  switch (l.kind) {
    case TimeZone::Lookup::Kind::kUnique:
    case TimeZone::Lookup::Kind::kRepeated:
      return l.first;
    case TimeZone::Lookup::Kind::kSkipped:
      if (skip_gap) return std::nullopt;
      return l.second;
  }
  return std::nullopt;
}

std::optional<TimePoint> NextCron(const Cron& c, TimePoint after, const TimeZone& zone) {
  CivilTime start = zone.ToCivil(after);
  int year = std::max(start.year, c.first_year);
  int month = 1, day = 1, hour = 0, minute = 0;
  bool at_start = year == start.year;
  if (at_start) {
    month = start.month;
    day = start.day;
    hour = start.hour;
    minute = start.minute;
  }
  for (; year <= c.last_year; ++year, month = 1, day = 1, hour = 0, minute = 0) {
    if (!c.years[static_cast<size_t>(year)]) continue;
    for (; month <= 12; ++month, day = 1, hour = 0, minute = 0) {
      if (!c.months[static_cast<size_t>(month)]) continue;
      const int last = DaysInMonth(year, month);
      for (; day <= last; ++day, hour = 0, minute = 0) {
        if (!c.DayMatches(year, month, day)) continue;
        for (; hour < 24; ++hour, minute = 0) {
          if (!c.hours[static_cast<size_t>(hour)]) continue;
          for (; minute < 60; ++minute) {
            if (!c.minutes[static_cast<size_t>(minute)]) continue;
            auto t = Resolve(zone, CivilTime{year, month, day, hour, minute, 0}, true);
            if (t && *t > after) return t;
          }
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<TimePoint> ScheduleExpression::NextFire(TimePoint after, TimePoint anchor,
                                                      const TimeZone& zone) const {
  switch (kind_) {
    case Kind::kRate: {
      if (after < anchor) return anchor;
      const int64_t period = rate_period_.count();
      const int64_t k = (after - anchor).count() / period + 1;
      return anchor + Duration(k * period);
    }
    case Kind::kCron:
      return NextCron(*cron_, after, zone);
    case Kind::kAt: {
      auto t = Resolve(zone, at_, false);
      if (t && *t > after) return t;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Result<std::optional<TimePoint>> NextFire(std::string_view expression, ScheduleFlavor flavor,
                                          TimePoint after, TimePoint anchor,
                                          std::string_view zone) {
  US_ASSIGN_OR_RETURN(ScheduleExpression e, ScheduleExpression::Parse(expression, flavor));
  US_ASSIGN_OR_RETURN(TimeZone z, ParseScheduleTimezone(zone));
  return e.NextFire(after, anchor, z);
}

Result<TimeZone> ParseScheduleTimezone(std::string_view name) {
  if (name.empty()) return TimeZone::Utc();
  auto zone = TimeZone::Load(name);
  if (!zone.ok()) {
    return Status::InvalidArgument("Invalid ScheduleExpressionTimezone " + std::string(name) + ".");
  }
  return zone;
}

}  // namespace understudy::events
