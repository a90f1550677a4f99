// Alarm evaluation: M of N, the evaluation range and missing-data treatment
// (aws-semantics §3.2; CloudWatch's "Configuring how alarms treat missing data").
#include "cloudwatch/alarm_eval.h"

#include <gtest/gtest.h>

namespace understudy::cloudwatch {
namespace {

using std::chrono::minutes;

const TimePoint kNow =
    TimePoint(std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}) + std::chrono::hours(8);

// Periods newest first from a pattern read oldest first, as AWS's table writes it:
// "0" not breaching, "X" breaching, "-" missing.
std::vector<PeriodValue> Periods(const std::string& oldest_first, double low = 10,
                                 double high = 90) {
  std::vector<PeriodValue> out;
  int n = static_cast<int>(oldest_first.size());
  for (int i = n - 1; i >= 0; --i) {
    PeriodValue p{kNow - minutes(n - i), std::nullopt};
    if (oldest_first[i] == '0') p.value = low;
    if (oldest_first[i] == 'X') p.value = high;
    out.push_back(p);
  }
  return out;
}

AlarmRule Rule(int n, int m, const std::string& treat) {
  AlarmRule rule;
  rule.comparison = "GreaterThanOrEqualToThreshold";
  rule.threshold = 60;
  rule.evaluation_periods = n;
  rule.datapoints_to_alarm = m;
  rule.treat_missing = treat;
  return rule;
}

std::string StateFor(const std::string& pattern, const std::string& treat,
                     const std::string& current = "OK") {
  Evaluation e = Evaluate(Rule(3, 3, treat), Periods(pattern), current);
  return e.kept ? "keep " + e.state : e.state;
}

// CloudWatch's table for 3 of 3 with an evaluation range of 5 datapoints.
TEST(AlarmEvalTest, MissingDataTable) {
  EXPECT_EQ(EvaluationRange(3), 5);
  // 0 - X - X: three real datapoints, not all breaching.
  for (const char* treat : {"missing", "ignore", "breaching", "notBreaching"}) {
    EXPECT_EQ(StateFor("0-X-X", treat, "ALARM"), "OK") << treat;
    EXPECT_EQ(StateFor("----0", treat, "ALARM"), "OK") << treat;
    // 0 X X - X: the newest three real datapoints all breach.
    EXPECT_EQ(StateFor("0XX-X", treat), "ALARM") << treat;
  }
  // - - - - -: no data at all.
  EXPECT_EQ(StateFor("-----", "missing"), "INSUFFICIENT_DATA");
  EXPECT_EQ(StateFor("-----", "ignore"), "keep OK");
  EXPECT_EQ(StateFor("-----", "breaching"), "ALARM");
  EXPECT_EQ(StateFor("-----", "notBreaching", "ALARM"), "OK");
  // - - X - -: one breaching datapoint cannot alarm alone.
  EXPECT_EQ(StateFor("--X--", "missing"), "keep OK");
  EXPECT_EQ(StateFor("--X--", "ignore"), "keep OK");
  EXPECT_EQ(StateFor("--X--", "breaching"), "ALARM");
  EXPECT_EQ(StateFor("--X--", "notBreaching", "ALARM"), "OK");
}

// The reference step policy: CPU >= 60 % for 3 one-minute datapoints.
TEST(AlarmEvalTest, ThreeOfThreeAlarmsOnTheThirdDatapoint) {
  AlarmRule rule = Rule(3, 3, "missing");
  EXPECT_EQ(Evaluate(rule, Periods("000X"), "OK").state, "OK");
  EXPECT_TRUE(Evaluate(rule, Periods("00XX"), "OK").kept);
  Evaluation e = Evaluate(rule, Periods("0XXX"), "OK");
  EXPECT_EQ(e.state, "ALARM");
  EXPECT_FALSE(e.kept);
  EXPECT_EQ(e.reason,
            "Threshold Crossed: 3 out of the last 3 datapoints [90.0 (23/11/26 07:59:00), 90.0 "
            "(23/11/26 07:58:00), 90.0 (23/11/26 07:57:00)] were greater than or equal to the "
            "threshold (60.0) (minimum 3 datapoints for OK -> ALARM transition).");
  ASSERT_EQ(e.evaluated.size(), 3u);
  EXPECT_EQ(e.evaluated.front().start, kNow - minutes(1));
  // Starting from no data, the first three breaching datapoints alarm too.
  EXPECT_TRUE(Evaluate(rule, Periods("---XX"), "INSUFFICIENT_DATA").kept);
  EXPECT_EQ(Evaluate(rule, Periods("--XXX"), "INSUFFICIENT_DATA").state, "ALARM");
}

TEST(AlarmEvalTest, OneGoodDatapointEndsAThreeOfThreeAlarm) {
  Evaluation e = Evaluate(Rule(3, 3, "missing"), Periods("XXXX0"), "ALARM");
  EXPECT_EQ(e.state, "OK");
  EXPECT_EQ(e.reason,
            "Threshold Crossed: 1 out of the last 3 datapoints [10.0 (23/11/26 07:59:00)] was not "
            "greater than or equal to the threshold (60.0) (minimum 1 datapoint for ALARM -> OK "
            "transition).");
}

TEST(AlarmEvalTest, MOfN) {
  AlarmRule rule = Rule(5, 2, "missing");
  EXPECT_EQ(Evaluate(rule, Periods("0000X0"), "OK").state, "OK");
  EXPECT_EQ(Evaluate(rule, Periods("00X0X0"), "OK").state, "ALARM");
}

// Target tracking's AlarmLow: below 90 % of the target for 15 of 15 datapoints.
TEST(AlarmEvalTest, FifteenOfFifteenLow) {
  AlarmRule rule;
  rule.comparison = "LessThanThreshold";
  rule.threshold = 72;
  rule.evaluation_periods = 15;
  rule.datapoints_to_alarm = 15;
  std::string pattern = std::string(3, 'X') + std::string(14, '0');  // X = 90 is not below 72
  EXPECT_EQ(Evaluate(rule, Periods(pattern, 20, 90), "OK").state, "OK");
  pattern = std::string(2, 'X') + std::string(15, '0');
  EXPECT_EQ(Evaluate(rule, Periods(pattern, 20, 90), "OK").state, "ALARM");
}

TEST(AlarmEvalTest, NumbersAsCloudWatchPrintsThem) {
  EXPECT_EQ(FormatValue(85), "85.0");
  EXPECT_EQ(FormatValue(72.5), "72.5");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(-3), "-3.0");
}

}  // namespace
}  // namespace understudy::cloudwatch
