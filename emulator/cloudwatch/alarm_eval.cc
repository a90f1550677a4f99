#include "cloudwatch/alarm_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace understudy::cloudwatch {
namespace {

// "greater than or equal to" for GreaterThanOrEqualToThreshold, ...
std::string Words(const std::string& comparison) {
  if (comparison == "GreaterThanOrEqualToThreshold") return "greater than or equal to";
  if (comparison == "GreaterThanThreshold") return "greater than";
  if (comparison == "LessThanThreshold") return "less than";
  if (comparison == "LessThanOrEqualToThreshold") return "less than or equal to";
  return comparison;
}

// "23/11/26 08:02:00", as reasons show a datapoint's time.
std::string ReasonTime(TimePoint t) {
  std::time_t secs = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%d/%m/%y %H:%M:%S", &tm);
  return buf;
}

std::string List(const std::vector<PeriodValue>& points) {
  std::string out = "[";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out += ", ";
    out += FormatValue(*points[i].value) + " (" + ReasonTime(points[i].start) + ")";
  }
  return out + "]";
}

std::string Plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

int EvaluationRange(int evaluation_periods) { return evaluation_periods + 2; }

bool Breaches(const AlarmRule& rule, double value) {
  const std::string& c = rule.comparison;
  if (c == "GreaterThanOrEqualToThreshold") return value >= rule.threshold;
  if (c == "GreaterThanThreshold") return value > rule.threshold;
  if (c == "LessThanThreshold") return value < rule.threshold;
  if (c == "LessThanOrEqualToThreshold") return value <= rule.threshold;
  return false;
}

std::string FormatValue(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.1f", value);
    return buf;
  }
  // The shortest form that reads back as the same double.
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

Evaluation Evaluate(const AlarmRule& rule, const std::vector<PeriodValue>& periods,
                    const std::string& current) {
  const int n = std::max(1, rule.evaluation_periods);
  const int m = std::clamp(rule.datapoints_to_alarm, 1, n);
  std::vector<PeriodValue> real;
  for (const auto& p : periods) {
    if (p.value) real.push_back(p);
  }
  Evaluation out;
  auto keep = [&] {
    out.state = current;
    out.kept = true;
    return out;
  };
  auto decide = [&](const std::vector<PeriodValue>& points, int missing_breaching, int missing_ok) {
    std::vector<PeriodValue> breaching, fine;
    for (const auto& p : points) (Breaches(rule, *p.value) ? breaching : fine).push_back(p);
    int total = static_cast<int>(points.size()) + missing_breaching + missing_ok;
    int breach = static_cast<int>(breaching.size()) + missing_breaching;
    out.evaluated = points;
    if (breach >= m) {
      out.state = "ALARM";
      if (points.empty() || breaching.empty()) {
        out.reason = "Threshold Crossed: no datapoints were received for " +
                     Plural(missing_breaching, "period") + " and " +
                     std::to_string(missing_breaching) + " missing datapoint" +
                     (missing_breaching == 1 ? " was" : "s were") + " treated as [Breaching].";
      } else {
        out.reason = "Threshold Crossed: " + std::to_string(breach) + " out of the last " +
                     std::to_string(total) + " datapoints " + List(breaching) +
                     (breach == 1 ? " was " : " were ") + Words(rule.comparison) +
                     " the threshold (" + FormatValue(rule.threshold) + ") (minimum " +
                     Plural(m, "datapoint") + " for " + (current == "ALARM" ? "OK" : current) +
                     " -> ALARM transition).";
      }
    } else {
      out.state = "OK";
      int ok = total - breach;
      int needed = n - m + 1;
      if (fine.empty()) {
        out.reason = "Threshold Crossed: no datapoints were received for " +
                     Plural(missing_ok, "period") + " and " + std::to_string(missing_ok) +
                     " missing datapoint" + (missing_ok == 1 ? " was" : "s were") +
                     " treated as [NonBreaching].";
      } else {
        out.reason = "Threshold Crossed: " + std::to_string(ok) + " out of the last " +
                     std::to_string(total) + " datapoints " + List(fine) +
                     (ok == 1 ? " was not " : " were not ") + Words(rule.comparison) +
                     " the threshold (" + FormatValue(rule.threshold) + ") (minimum " +
                     Plural(needed, "datapoint") + " for " + (current == "OK" ? "ALARM" : current) +
                     " -> OK transition).";
      }
    }
    out.kept = out.state == current;
    return out;
  };
  if (static_cast<int>(real.size()) >= n) {
    real.resize(n);
    return decide(real, 0, 0);
  }
  int missing = n - static_cast<int>(real.size());
  if (rule.treat_missing == "breaching") return decide(real, missing, 0);
  if (rule.treat_missing == "notBreaching") return decide(real, 0, missing);
  // missing / ignore: only the real datapoints decide.
  if (real.empty()) {
    if (rule.treat_missing == "ignore") return keep();
    out.state = "INSUFFICIENT_DATA";
    out.kept = current == out.state;
    out.reason =
        "Insufficient Data: " + Plural(n, "datapoint") + (n == 1 ? " was" : " were") + " unknown.";
    return out;
  }
  int breach = 0;
  for (const auto& p : real) breach += Breaches(rule, *p.value) ? 1 : 0;
  int fine = static_cast<int>(real.size()) - breach;
  if (breach >= m || fine > n - m) return decide(real, 0, 0);
  return keep();
}

}  // namespace understudy::cloudwatch
