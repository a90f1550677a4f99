#include "core/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace understudy {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t ToSeconds(TimePoint t) { return FloorDiv(t.time_since_epoch().count(), 1'000'000); }

TimePoint FromSeconds(int64_t s) { return TimePoint(Duration(s * 1'000'000)); }

// A date rule of a POSIX TZ string: Jn, n or Mm.w.d.
struct RuleDate {
  enum class Kind { kJulianNoLeap, kZeroBased, kMonthWeekDay } kind = Kind::kMonthWeekDay;
  int day = 0;  // Jn / n
  int month = 0, week = 0, weekday = 0;
};

// The POSIX TZ rule a TZif file ends with, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
struct PosixRule {
  int std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int dst_offset = 0;
  RuleDate start, end;
  int start_time = 7200, end_time = 7200;  // seconds after local midnight
};

int64_t RuleDay(const RuleDate& r, int year) {
  int64_t jan1 = DaysFromCivil(year, 1, 1);
  switch (r.kind) {
    case RuleDate::Kind::kJulianNoLeap:
      return jan1 + (r.day - 1) + ((IsLeapYear(year) && r.day >= 60) ? 1 : 0);
    case RuleDate::Kind::kZeroBased:
      return jan1 + r.day;
    case RuleDate::Kind::kMonthWeekDay: {
      int64_t first = DaysFromCivil(year, r.month, 1);
      int64_t d = first + ((r.weekday - WeekdayFromDays(first) + 7) % 7) + (r.week - 1) * 7;
      int64_t next_month = first + DaysInMonth(year, r.month);
      while (d >= next_month) d -= 7;
      return d;
    }
  }
  return jan1;
}

// The UTC seconds at which DST starts and ends in `year`.
void RuleTransitions(const PosixRule& r, int year, int64_t* start, int64_t* end) {
  *start = RuleDay(r.start, year) * kSecondsPerDay + r.start_time - r.std_offset;
  *end = RuleDay(r.end, year) * kSecondsPerDay + r.end_time - r.dst_offset;
}

int RuleOffset(const PosixRule& r, int64_t t) {
  if (!r.has_dst) return r.std_offset;
  int y, m, d;
  CivilFromDays(FloorDiv(t + r.std_offset, kSecondsPerDay), &y, &m, &d);
  int64_t s, e;
  RuleTransitions(r, y, &s, &e);
  if (s < e) return (t >= s && t < e) ? r.dst_offset : r.std_offset;
  // Southern hemisphere: DST spans the new year.
  return (t >= e && t < s) ? r.std_offset : r.dst_offset;
}

// A tiny reader for POSIX TZ strings.
class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> Parse() {
    PosixRule r;
    if (!Name()) return std::nullopt;
    auto off = Offset();
    if (!off) return std::nullopt;
    r.std_offset = -*off;
    if (pos_ == s_.size()) return r;
    if (!Name()) return std::nullopt;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (pos_ < s_.size() && s_[pos_] != ',') {
      auto d = Offset();
      if (!d) return std::nullopt;
      r.dst_offset = -*d;
    }
    if (pos_ == s_.size()) {
      // No rule: the US default.
      r.start = {RuleDate::Kind::kMonthWeekDay, 0, 3, 2, 0};
      r.end = {RuleDate::Kind::kMonthWeekDay, 0, 11, 1, 0};
      return r;
    }
    if (s_[pos_++] != ',') return std::nullopt;
    if (!Date(&r.start, &r.start_time)) return std::nullopt;
    if (pos_ >= s_.size() || s_[pos_++] != ',') return std::nullopt;
    if (!Date(&r.end, &r.end_time)) return std::nullopt;
    if (pos_ != s_.size()) return std::nullopt;
    return r;
  }

 private:
  bool Name() {
    if (pos_ < s_.size() && s_[pos_] == '<') {
      size_t close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    return pos_ - start >= 3;
  }
  std::optional<int> Number() {
    size_t start = pos_;
    int v = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      v = v * 10 + (s_[pos_++] - '0');
    }
    if (pos_ == start) return std::nullopt;
    return v;
  }
  // [+-]hh[:mm[:ss]] in seconds, as written (POSIX: positive = west of UTC).
  std::optional<int> Offset() {
    int sign = 1;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
      if (s_[pos_] == '-') sign = -1;
      ++pos_;
    }
    auto h = Number();
    if (!h) return std::nullopt;
    int v = *h * 3600;
    if (pos_ < s_.size() && s_[pos_] == ':') {
      ++pos_;
      auto m = Number();
      if (!m) return std::nullopt;
      v += *m * 60;
      if (pos_ < s_.size() && s_[pos_] == ':') {
        ++pos_;
        auto sec = Number();
        if (!sec) return std::nullopt;
        v += *sec;
      }
    }
    return sign * v;
  }
  bool Date(RuleDate* d, int* time) {
    if (pos_ >= s_.size()) return false;
    if (s_[pos_] == 'J') {
      ++pos_;
      auto n = Number();
      if (!n) return false;
      *d = {RuleDate::Kind::kJulianNoLeap, *n, 0, 0, 0};
    } else if (s_[pos_] == 'M') {
      ++pos_;
      auto m = Number();
      if (!m || pos_ >= s_.size() || s_[pos_++] != '.') return false;
      auto w = Number();
      if (!w || pos_ >= s_.size() || s_[pos_++] != '.') return false;
      auto wd = Number();
      if (!wd) return false;
      *d = {RuleDate::Kind::kMonthWeekDay, 0, *m, *w, *wd};
    } else {
      auto n = Number();
      if (!n) return false;
      *d = {RuleDate::Kind::kZeroBased, *n, 0, 0, 0};
    }
    *time = 7200;
    if (pos_ < s_.size() && s_[pos_] == '/') {
      ++pos_;
      auto t = Offset();  // TZif v3 allows negative and > 24 h
      if (!t) return false;
      *time = *t;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

struct LocalType {
  int32_t utoff = 0;
  bool isdst = false;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view b) : b_(b) {}
  bool Has(size_t n) const { return pos_ + n <= b_.size(); }
  void Skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }
  int64_t Be(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }
  uint8_t U8() { return static_cast<unsigned char>(b_[pos_++]); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+')) {
      return false;
    }
  }
  // No empty, "." or ".." components (only '.'-free names pass the loop above).
  return name.find("//") == std::string_view::npos;
}

}  // namespace

struct TimeZone::Data {
  std::string name;
  std::vector<int64_t> transitions;  // UTC seconds, ascending
  std::vector<uint8_t> type_index;   // per transition
  std::vector<LocalType> types;
  std::optional<PosixRule> rule;

  int OffsetAt(int64_t t) const {
    if (transitions.empty()) {
      if (rule) return RuleOffset(*rule, t);
      return types.empty() ? 0 : types[0].utoff;
    }
    if (t < transitions.front()) return types[0].utoff;
    if (t >= transitions.back() && rule) return RuleOffset(*rule, t);
    auto it = std::upper_bound(transitions.begin(), transitions.end(), t);
    size_t i = static_cast<size_t>(it - transitions.begin()) - 1;
    return types[type_index[i]].utoff;
  }
};

int64_t DaysFromCivil(int y, int m, int d) {
  // Howard Hinnant's algorithm.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int>(y + (m <= 2));
  *month = static_cast<int>(m);
  *day = static_cast<int>(d);
}

int WeekdayFromDays(int64_t days) {
  return static_cast<int>(days + 4 - FloorDiv(days + 4, 7) * 7);  // 1970-01-01 was a Thursday
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && IsLeapYear(y)) return 29;
  return kDays[m - 1];
}

TimeZone TimeZone::Utc() {
  static const std::shared_ptr<const Data> utc = [] {
    auto d = std::make_shared<Data>();
    d->name = "UTC";
    d->types.push_back({0, false});
    return d;
  }();
  return TimeZone(utc);
}

Result<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view bytes) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("time zone " + std::string(name) + ": " + why);
  };
  ByteReader r(bytes);
  auto read_header = [&](int64_t counts[6], int* version) -> bool {
    if (!r.Has(44) || bytes.substr(r.pos(), 4) != "TZif") return false;
    r.Skip(4);
    uint8_t v = r.U8();
    *version = v == 0 ? 1 : v - '0';
    r.Skip(15);
    for (int i = 0; i < 6; ++i) counts[i] = r.Be(4);
    return true;
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  int64_t c[6];
  int version = 1;
  if (!read_header(c, &version)) return bad("not a TZif file");
  auto block_size = [](const int64_t k[6], int time_size) {
    return k[3] * time_size + k[3] + k[4] * 6 + k[5] + k[2] * (time_size + 4) + k[1] + k[0];
  };
  int time_size = 4;
  if (version >= 2) {
    int64_t skip = block_size(c, 4);
    if (!r.Has(static_cast<size_t>(skip))) return bad("truncated");
    r.Skip(static_cast<size_t>(skip));
    int v2 = 0;
    if (!read_header(c, &v2)) return bad("missing second header");
    time_size = 8;
  }
  if (!r.Has(static_cast<size_t>(block_size(c, time_size)))) return bad("truncated");
  if (c[4] <= 0) return bad("no local time types");
  auto data = std::make_shared<Data>();
  data->name = std::string(name);
  for (int64_t i = 0; i < c[3]; ++i) data->transitions.push_back(r.Be(time_size));
  for (int64_t i = 0; i < c[3]; ++i) {
    uint8_t idx = r.U8();
    if (idx >= c[4]) return bad("bad type index");
    data->type_index.push_back(idx);
  }
  for (int64_t i = 0; i < c[4]; ++i) {
    LocalType t;
    t.utoff = static_cast<int32_t>(r.Be(4));
    t.isdst = r.U8() != 0;
    r.U8();  // designation index
    data->types.push_back(t);
  }
  r.Skip(static_cast<size_t>(c[5] + c[2] * (time_size + 4) + c[1] + c[0]));
  if (version >= 2 && r.Has(1)) {
    std::string_view rest = bytes.substr(r.pos());
    if (!rest.empty() && rest.front() == '\n') {
      size_t end = rest.find('\n', 1);
      if (end != std::string_view::npos && end > 1) {
        data->rule = PosixParser(rest.substr(1, end - 1)).Parse();
        if (!data->rule) return bad("bad POSIX TZ footer");
      }
    }
  }
  return TimeZone(std::move(data));
}

Result<TimeZone> TimeZone::LoadFromDirectory(std::string_view directory, std::string_view name) {
  if (!ValidZoneName(name)) {
    return Status::InvalidArgument("not a time zone name: '" + std::string(name) + "'");
  }
  std::string path = std::string(directory) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("unknown time zone '" + std::string(name) + "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return Status::NotFound("unknown time zone '" + std::string(name) + "'");
  }
  auto zone = FromTzif(name, bytes.str());
  if (!zone.ok()) return Status::NotFound("unknown time zone '" + std::string(name) + "'");
  return zone;
}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  if (name == "UTC") return Utc();
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Data>, std::less<>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(name);
    if (it != cache.end()) return TimeZone(it->second);
  }
  const char* dir = std::getenv("TZDIR");
  std::string directory = (dir != nullptr && *dir != '\0') ? dir : "/usr/share/zoneinfo";
  auto zone = LoadFromDirectory(directory, name);
  if (!zone.ok()) return zone.status();
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(std::string(name), zone->data_);
  return zone;
}

const std::string& TimeZone::name() const { return data_->name; }

int TimeZone::UtcOffsetSeconds(TimePoint t) const { return data_->OffsetAt(ToSeconds(t)); }

CivilTime TimeZone::ToCivil(TimePoint t) const {
  int64_t s = ToSeconds(t);
  int64_t local = s + data_->OffsetAt(s);
  int64_t days = FloorDiv(local, kSecondsPerDay);
  int64_t sod = local - days * kSecondsPerDay;
  CivilTime c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  return c;
}

TimeZone::Lookup TimeZone::FromCivil(const CivilTime& local) const {
  const int64_t l = DaysFromCivil(local.year, local.month, local.day) * kSecondsPerDay +
                    local.hour * 3600 + local.minute * 60 + local.second;
  std::set<int> offsets;
  for (int64_t probe : {l - 2 * kSecondsPerDay, l - kSecondsPerDay, l, l + kSecondsPerDay,
                        l + 2 * kSecondsPerDay}) {
    offsets.insert(data_->OffsetAt(probe));
  }
  std::vector<int64_t> valid;
  for (int o : offsets) {
    if (data_->OffsetAt(l - o) == o) valid.push_back(l - o);
  }
  std::sort(valid.begin(), valid.end());
  valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
  Lookup out;
  if (valid.size() == 1) {
    out.kind = Lookup::Kind::kUnique;
    out.first = out.second = FromSeconds(valid[0]);
    return out;
  }
  if (valid.size() >= 2) {
    out.kind = Lookup::Kind::kRepeated;
    out.first = FromSeconds(valid.front());
    out.second = FromSeconds(valid.back());
    return out;
  }
  // Skipped: the gap lies between l - max_offset and l - offset_before.
  int max_offset = *offsets.rbegin();
  int64_t lo = l - max_offset;  // still before the gap
  int before = data_->OffsetAt(lo);
  int64_t hi = l - before;  // after the gap
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (data_->OffsetAt(mid) == before) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  out.kind = Lookup::Kind::kSkipped;
  out.first = FromSeconds(hi);
  out.second = FromSeconds(l - before);
  return out;
}

}  // namespace understudy
