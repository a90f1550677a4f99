// Paths into answers and the matchers: every matcher passing and failing, with evidence.
#include "scenario/check.h"

#include <gtest/gtest.h>

namespace understudy::scenario {
namespace {

Check Make(const std::string& path, const std::string& matcher, Json value) {
  Check check;
  check.path_text = path;
  auto parsed = ParsePath(path);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (parsed.ok()) check.path = *parsed;
  check.matchers.push_back(Matcher{*MatcherFromName(matcher), std::move(value)});
  EXPECT_TRUE(ValidateMatcher(check.matchers.back()).ok());
  return check;
}

const Json kDoc = Json::parse(R"({
  "services": [{"serviceName": "api", "runningCount": 2, "status": "ACTIVE",
                "events": [{"message": "(service api) has reached a steady state."}],
                "tags": [{"key": "team", "value": "web"}]}],
  "failures": [],
  "odd.key": {"x": 1}
})");

TEST(CheckTest, ParsesPaths) {
  auto path = ParsePath("services[0].events[-1].message");
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(path->size(), 5u);
  EXPECT_EQ((*path)[0].member, "services");
  EXPECT_EQ((*path)[1].index, 0);
  EXPECT_EQ((*path)[3].index, -1);
  EXPECT_EQ((*path)[4].member, "message");
  auto quoted = ParsePath("[\"odd.key\"].x");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ((*quoted)[0].member, "odd.key");
  EXPECT_TRUE(ParsePath("").ok());
  EXPECT_EQ(ParsePath("services[x]").status().message(),
            "path 'services[x]' at character 10: expected an index such as [0] or [-1]");
  EXPECT_EQ(ParsePath("a..b").status().message(),
            "path 'a..b' at character 3: expected a member name");
  EXPECT_FALSE(ParsePath("a[0").ok());
  EXPECT_FALSE(ParsePath(".a").ok());
}

TEST(CheckTest, Matchers) {
  EXPECT_TRUE(Evaluate(Make("services[0].runningCount", "equals", 2), kDoc).passed);
  CheckOutcome wrong = Evaluate(Make("services[0].runningCount", "equals", 3), kDoc);
  EXPECT_FALSE(wrong.passed);
  EXPECT_EQ(wrong.evidence, "got 2");
  EXPECT_TRUE(Evaluate(Make("services[-1].status", "matches", "^ACT"), kDoc).passed);
  EXPECT_FALSE(Evaluate(Make("services[0].status", "matches", "^DRAIN"), kDoc).passed);
  EXPECT_TRUE(
      Evaluate(Make("services[0].events[0].message", "contains", "steady state"), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("services[0].tags", "contains", Json{{"key", "team"}}), kDoc).passed);
  EXPECT_FALSE(Evaluate(Make("services[0].tags", "contains", Json{{"key", "x"}}), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("services[0].runningCount", "gte", 2), kDoc).passed);
  EXPECT_FALSE(Evaluate(Make("services[0].runningCount", "gte", 2.5), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("services[0].runningCount", "lte", 2), kDoc).passed);
  EXPECT_FALSE(Evaluate(Make("services[0].runningCount", "lte", 1), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("failures", "equals", Json::array()), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("[\"odd.key\"].x", "equals", 1), kDoc).passed);
  EXPECT_TRUE(Evaluate(Make("services[1]", "exists", false), kDoc).passed);
  EXPECT_FALSE(Evaluate(Make("services[0]", "exists", false), kDoc).passed);
}

TEST(CheckTest, MissingValuesSayWhatIsThere) {
  CheckOutcome out = Evaluate(Make("services[3].runningCount", "equals", 2), kDoc);
  EXPECT_FALSE(out.passed);
  EXPECT_EQ(out.evidence, "services[3] is missing (services has 1 elements)");
  out = Evaluate(Make("services[0].desired", "exists", true), kDoc);
  EXPECT_FALSE(out.passed);
  EXPECT_EQ(out.evidence,
            "services[0].desired is missing (services[0] has: events, runningCount, serviceName, "
            "status, tags)");
}

TEST(CheckTest, MalformedMatchers) {
  EXPECT_EQ(ValidateMatcher(Matcher{MatcherKind::kMatches, "("})
                .message()
                .rfind("a valid regular expression, found '('", 0),
            0u);
  EXPECT_EQ(ValidateMatcher(Matcher{MatcherKind::kGte, "2"}).message(), "a number, found string");
  EXPECT_EQ(ValidateMatcher(Matcher{MatcherKind::kExists, 1}).message(),
            "true or false, found number");
  EXPECT_FALSE(MatcherFromName("equal").has_value());
}

TEST(CheckTest, Describe) {
  EXPECT_EQ(Describe(Make("services[0].runningCount", "equals", 2)),
            "services[0].runningCount equals 2");
}

}  // namespace
}  // namespace understudy::scenario
