#include "autoscaling/timezone.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

namespace understudy::autoscaling {
namespace {

int64_t Be(const std::string& data, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// [+-]hh[:mm[:ss]] -> seconds.
bool ParseHms(const std::string& text, size_t& at, int64_t* out) {
  int sign = 1;
  if (at < text.size() && (text[at] == '+' || text[at] == '-')) sign = text[at++] == '-' ? -1 : 1;
  int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (i == 0) return false;
      break;
    }
    int64_t v = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])))
      v = v * 10 + (text[at++] - '0');
    parts[i] = v;
    if (at < text.size() && text[at] == ':' && i < 2) {
      ++at;
    } else {
      break;
    }
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseName(const std::string& text, size_t& at) {
  if (at < text.size() && text[at] == '<') {
    size_t end = text.find('>', at);
    if (end == std::string::npos) return false;
    at = end + 1;
    return true;
  }
  size_t start = at;
  while (at < text.size() && std::isalpha(static_cast<unsigned char>(text[at]))) ++at;
  return at - start >= 3;
}

// "Mm.w.d[/time]"
bool ParseWhen(const std::string& text, size_t& at, int* month, int* week, int* day,
               int64_t* time) {
  if (at >= text.size() || text[at] != 'M') return false;
  ++at;
  int values[3];
  for (int i = 0; i < 3; ++i) {
    int v = 0;
    if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at]))) return false;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])))
      v = v * 10 + (text[at++] - '0');
    values[i] = v;
    if (i < 2) {
      if (at >= text.size() || text[at] != '.') return false;
      ++at;
    }
  }
  *month = values[0];
  *week = values[1];
  *day = values[2];
  if (at < text.size() && text[at] == '/') {
    ++at;
    if (!ParseHms(text, at, time)) return false;
  }
  return true;
}

// Epoch seconds of local midnight of the `week`th `day` (0 = Sunday) of `month` in `year`
// (week 5: the last).
int64_t NthWeekday(int year, int month, int week, int day) {
  using namespace std::chrono;
  sys_days first = sys_days{std::chrono::year{year} / month / 1};
  int wd = static_cast<int>(weekday{first}.c_encoding());
  int offset = (day - wd + 7) % 7 + (week - 1) * 7;
  sys_days d = first + days(offset);
  sys_days next_month = sys_days{(std::chrono::year{year} / month / 1) + months(1)};
  while (d >= next_month) d -= days(7);
  return d.time_since_epoch().count() * 86400;
}

}  // namespace

bool TimeZone::ParseRule(const std::string& text, Rule* rule) {
  size_t at = 0;
  if (!ParseName(text, at)) return false;
  int64_t west = 0;
  if (!ParseHms(text, at, &west)) return false;
  rule->std_offset = -west;
  rule->valid = true;
  if (at >= text.size()) return true;
  if (!ParseName(text, at)) return false;
  rule->has_dst = true;
  rule->dst_offset = rule->std_offset + 3600;
  if (at < text.size() && text[at] != ',') {
    if (!ParseHms(text, at, &west)) return false;
    rule->dst_offset = -west;
  }
  if (at >= text.size() || text[at] != ',') return false;
  ++at;
  if (!ParseWhen(text, at, &rule->start_month, &rule->start_week, &rule->start_day,
                 &rule->start_time))
    return false;
  if (at >= text.size() || text[at] != ',') return false;
  ++at;
  return ParseWhen(text, at, &rule->end_month, &rule->end_week, &rule->end_day, &rule->end_time);
}

int64_t TimeZone::RuleOffset(const Rule& rule, int64_t utc) {
  if (!rule.has_dst) return rule.std_offset;
  using namespace std::chrono;
  int year = static_cast<int>(
      year_month_day{floor<days>(sys_seconds{seconds(utc + rule.std_offset)})}.year());
  // Transitions are in local time: the start in standard time, the end in daylight time.
  int64_t start = NthWeekday(year, rule.start_month, rule.start_week, rule.start_day) +
                  rule.start_time - rule.std_offset;
  int64_t end = NthWeekday(year, rule.end_month, rule.end_week, rule.end_day) + rule.end_time -
                rule.dst_offset;
  bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? rule.dst_offset : rule.std_offset;
}

Result<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo) {
  TimeZone zone;
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "GMT" || name == "Etc/GMT" ||
      name == "Etc/Universal" || name == "Etc/Zulu" || name == "Universal" || name == "Zulu")
    return zone;
  if ((name[0] == '+' || name[0] == '-') && name.size() == 6 && name[3] == ':') {
    size_t at = 0;
    int64_t offset = 0;
    if (ParseHms(name, at, &offset) && at == name.size()) {
      zone.initial_offset_ = offset;
      return zone;
    }
  }
  auto bad = [&] { return Status::InvalidArgument("unknown timezone '" + name + "'"); };
  if (name.find("..") != std::string::npos || name[0] == '/' ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
               c == '+';
      }))
    return bad();
  std::ifstream in(zoneinfo + "/" + name, std::ios::binary);
  if (!in) return bad();
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string data = buffer.str();
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0 || data[4] < '2') return bad();
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be(data, at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t v1 = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  if (data.size() < v1 + 44) return bad();
  counts(v1, c);
  size_t at = v1 + 44;
  size_t need = c[3] * 9 + c[4] * 6 + c[5] + c[2] * 12 + c[1] + c[0];
  if (c[4] <= 0 || data.size() < at + need) return bad();
  std::vector<int64_t> times(c[3]);
  for (int64_t i = 0; i < c[3]; ++i) times[i] = Be(data, at + 8 * i, 8);
  size_t idx_at = at + 8 * c[3];
  size_t types_at = idx_at + c[3];
  auto type_offset = [&](int64_t t) { return Be(data, types_at + 6 * t, 4); };
  zone.initial_offset_ = type_offset(0);
  for (int64_t i = 0; i < c[3]; ++i) {
    int64_t type = static_cast<unsigned char>(data[idx_at + i]);
    if (type >= c[4]) return bad();
    zone.transitions_.push_back(times[i]);
    zone.offsets_.push_back(type_offset(type));
  }
  size_t footer = at + need;
  if (footer < data.size() && data[footer] == '\n') {
    size_t end = data.find('\n', footer + 1);
    if (end != std::string::npos && end > footer + 1) {
      if (!ParseRule(data.substr(footer + 1, end - footer - 1), &zone.rule_)) zone.rule_ = Rule{};
    }
  }
  return zone;
}

int64_t TimeZone::OffsetAt(int64_t utc) const {
  if (transitions_.empty() || utc >= transitions_.back()) {
    if (rule_.valid) return RuleOffset(rule_, utc);
    return transitions_.empty() ? initial_offset_ : offsets_.back();
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int64_t TimeZone::ToUtc(int64_t local) const {
  int64_t guess = local - OffsetAt(local - initial_offset_);
  return local - OffsetAt(guess);
}

}  // namespace understudy::autoscaling
