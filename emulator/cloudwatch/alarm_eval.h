// Alarm evaluation: the state a metric alarm goes to from its recent datapoints.
//
// Pure functions of an alarm's settings and the values of its most recent periods
// (aws-semantics §3 and CloudWatch's "evaluation range" rules): M out of N breaching
// datapoints alarm; missing datapoints are treated as `missing` (the most recent N
// real datapoints of the evaluation range are used when there are N; with fewer, the
// alarm moves only when the real ones decide it, and goes to INSUFFICIENT_DATA when
// there are none), `ignore` (the same, but no data keeps the state), `breaching` or
// `notBreaching` (missing datapoints fill up to N). State reasons are worded as
// CloudWatch words them. Any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace understudy::cloudwatch {

struct AlarmRule {
  std::string comparison = "GreaterThanThreshold";  // the model's ComparisonOperator
  double threshold = 0;
  int evaluation_periods = 1;             // N
  int datapoints_to_alarm = 1;            // M
  std::string treat_missing = "missing";  // missing | ignore | breaching | notBreaching
};

// The value of one period (nothing: no datapoint), newest first.
struct PeriodValue {
  TimePoint start;
  std::optional<double> value;
};

struct Evaluation {
  std::string state;                   // ALARM | OK | INSUFFICIENT_DATA; the current one when kept
  bool kept = false;                   // the state stays as it was
  std::string reason;                  // for a new state
  std::vector<PeriodValue> evaluated;  // the datapoints the decision used, newest first
};

// How many periods an alarm with `evaluation_periods` looks back over.
int EvaluationRange(int evaluation_periods);

// True when `value` breaches the rule's threshold.
bool Breaches(const AlarmRule& rule, double value);

// Decides the alarm's state from `periods` (newest first, EvaluationRange long or
// shorter) and the `current` state.
Evaluation Evaluate(const AlarmRule& rule, const std::vector<PeriodValue>& periods,
                    const std::string& current);

// A number as CloudWatch prints it in reasons: "85.0", "72.5", "0.125".
std::string FormatValue(double value);

}  // namespace understudy::cloudwatch
