#include "chaos/experiment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace understudy::chaos {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SelectionTest, ParsesFisModes) {
  ASSERT_TRUE(ParseSelection("ALL"));
  EXPECT_EQ(ParseSelection("COUNT(3)")->mode, Selection::Mode::kCount);
  EXPECT_EQ(ParseSelection("COUNT(3)")->n, 3);
  EXPECT_EQ(ParseSelection("PERCENT(25)")->n, 25);
  for (const char* bad : {"", "all", "COUNT(0)", "COUNT()", "COUNT(x)", "PERCENT(0)",
                          "PERCENT(101)", "COUNT(1", "RANDOM(1)"}) {
    EXPECT_FALSE(ParseSelection(bad)) << bad;
  }
}

TEST(SelectionTest, SizesAreAllCountCappedAndPercentRoundedDown) {
  EXPECT_EQ(SelectionSize(*ParseSelection("ALL"), 7), 7u);
  EXPECT_EQ(SelectionSize(*ParseSelection("COUNT(2)"), 7), 2u);
  EXPECT_EQ(SelectionSize(*ParseSelection("COUNT(9)"), 7), 7u);
  EXPECT_EQ(SelectionSize(*ParseSelection("PERCENT(50)"), 7), 3u);
  EXPECT_EQ(SelectionSize(*ParseSelection("PERCENT(10)"), 7), 0u);
}

TEST(SelectionTest, SameSeedSameChoiceAndDistinctIndices) {
  Random a = Random(42).Fork("experiment/x");
  Random b = Random(42).Fork("experiment/x");
  auto first = Select(*ParseSelection("COUNT(3)"), 10, a);
  auto second = Select(*ParseSelection("COUNT(3)"), 10, b);
  EXPECT_EQ(first, second);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_LT(first[0], first[1]);
  EXPECT_LT(first[1], first[2]);
  // Different seeds draw differently at least sometimes.
  bool differs = false;
  for (uint64_t seed = 1; seed < 20 && !differs; ++seed) {
    Random r(seed);
    differs = Select(*ParseSelection("COUNT(3)"), 10, r) != first;
  }
  EXPECT_TRUE(differs);
  Random c(1);
  EXPECT_THAT(Select(*ParseSelection("ALL"), 3, c), ElementsAre(0, 1, 2));
}

TEST(DurationTest, ParsesIsoAndShortForms) {
  EXPECT_EQ(*ParseFisDuration("PT5M"), std::chrono::minutes(5));
  EXPECT_EQ(*ParseFisDuration("PT1H30M"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseFisDuration("PT0.5S"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseFisDuration("2m"), std::chrono::minutes(2));
  EXPECT_FALSE(ParseFisDuration("PT"));
  EXPECT_FALSE(ParseFisDuration("P1D"));
  EXPECT_FALSE(ParseFisDuration("PT5X"));
}

std::string ErrorOf(const Json& input) {
  auto parsed = ParseTemplate(input);
  if (auto* e = std::get_if<api::ApiError>(&parsed)) {
    EXPECT_EQ(e->code, "ValidationException");
    return e->message;
  }
  return "";
}

Json StopTaskTemplate() {
  return Json::parse(R"j({
    "description": "kill one",
    "targets": {"api": {"resourceType": "aws:ecs:task", "selectionMode": "COUNT(1)",
                        "parameters": {"cluster": "web", "service": "api"}}},
    "actions": {"stop": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "api"}}},
    "stopConditions": [{"source": "none"}]})j");
}

TEST(TemplateTest, ParsesAValidTemplate) {
  auto parsed = ParseTemplate(StopTaskTemplate());
  ASSERT_TRUE(std::holds_alternative<Template>(parsed));
  const Template& t = std::get<Template>(parsed);
  EXPECT_EQ(t.actions.at("stop").targets.at("Tasks"), "api");
  EXPECT_EQ(t.targets.at("api").selection.n, 1);
  EXPECT_EQ(TargetsJson(t)["api"]["selectionMode"], "COUNT(1)");
}

TEST(TemplateTest, ServiceWithClusterSplits) {
  Json j = StopTaskTemplate();
  j["targets"]["api"]["parameters"] = {{"service", "web/api"}};
  auto parsed = ParseTemplate(j);
  ASSERT_TRUE(std::holds_alternative<Template>(parsed));
  EXPECT_EQ(std::get<Template>(parsed).targets.at("api").parameters.at("cluster"), "web");
  EXPECT_EQ(std::get<Template>(parsed).targets.at("api").parameters.at("service"), "api");
}

TEST(TemplateTest, RejectsBadInputWithFisStyleMessages) {
  Json j = StopTaskTemplate();
  j["actions"]["stop"]["actionId"] = "aws:ecs:explode";
  EXPECT_THAT(ErrorOf(j), HasSubstr("Action type aws:ecs:explode"));

  j = StopTaskTemplate();
  j["targets"]["api"]["selectionMode"] = "SOME(2)";
  EXPECT_THAT(ErrorOf(j), HasSubstr("invalid selection mode 'SOME(2)'"));

  j = StopTaskTemplate();
  j["actions"]["stop"]["targets"]["Tasks"] = "nope";
  EXPECT_THAT(ErrorOf(j), HasSubstr("names target nope, which is not defined"));

  j = StopTaskTemplate();
  j["targets"]["api"]["resourceType"] = "aws:ec2:instance";
  EXPECT_THAT(ErrorOf(j), HasSubstr("aws:ec2:instance is not supported"));

  j = StopTaskTemplate();
  j["actions"]["wait"] = {{"actionId", "aws:fis:wait"}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("missing required parameter duration"));

  j = StopTaskTemplate();
  j["actions"]["wait"] = {{"actionId", "aws:fis:wait"}, {"parameters", {{"duration", "PT5X"}}}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("invalid duration 'PT5X'"));

  j = StopTaskTemplate();
  j["actions"]["stop"]["startAfter"] = {"stop"};
  EXPECT_THAT(ErrorOf(j), HasSubstr("cannot start after itself"));

  j = StopTaskTemplate();
  j["stopConditions"] = {{{"source", "aws:sqs:queue"}}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("Stop condition source aws:sqs:queue is not valid"));
}

TEST(TemplateTest, RejectsContradictoryFaultsUnlessOrdered) {
  Json j = StopTaskTemplate();
  j["actions"]["freeze"] = {{"actionId", "understudy:ecs:hang-task"},
                            {"parameters", {{"duration", "PT1M"}}},
                            {"targets", {{"Tasks", "api"}}}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("contradictory faults"));
  j["actions"]["stop"]["startAfter"] = {"freeze"};
  EXPECT_EQ(ErrorOf(j), "");

  Json api = Json::parse(R"j({"actions": {
    "a": {"actionId": "understudy:api:inject-error", "parameters": {"service": "ecs"}},
    "b": {"actionId": "understudy:api:inject-error",
          "parameters": {"service": "ecs", "operation": "RunTask"}}}})j");
  EXPECT_THAT(ErrorOf(api), HasSubstr("contradictory faults"));
  api["actions"]["b"]["parameters"]["service"] = "sesv2";
  EXPECT_EQ(ErrorOf(api), "");
}

TEST(TemplateTest, RejectsCycles) {
  Json j = Json::parse(R"j({"actions": {
    "a": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}, "startAfter": ["b"]},
    "b": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}, "startAfter": ["a"]}}})j");
  EXPECT_THAT(ErrorOf(j), HasSubstr("makes a cycle"));
}

}  // namespace
}  // namespace understudy::chaos
