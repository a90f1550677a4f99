// Target input shaping (aws-semantics §4.4): Input, InputPath, InputTransformer.
#include "events/input_transformer.h"

#include <gtest/gtest.h>

namespace understudy::events {
namespace {

const Json kEvent = Json::parse(R"({
  "version": "0", "id": "e-1", "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2", "account": "123456789012", "time": "2026-11-23T03:00:00Z",
  "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123"],
  "detail": {"instance-id": "i-0123", "state": "running", "count": 3,
             "tags": {"team": "web"}, "list": ["a", "b"]}})");

std::map<std::string, Json> Predefined() {
  return RulePredefinedValues(kEvent, "arn:aws:events:us-east-1:123456789012:rule/r", "r",
                              "2026-11-23T03:00:01Z");
}

TEST(InputPathTest, ValidForms) {
  EXPECT_TRUE(IsValidInputPath("$"));
  EXPECT_TRUE(IsValidInputPath("$.detail"));
  EXPECT_TRUE(IsValidInputPath("$.detail.instance-id"));
  EXPECT_TRUE(IsValidInputPath("$.detail.list[1]"));
  EXPECT_FALSE(IsValidInputPath(""));
  EXPECT_FALSE(IsValidInputPath("detail"));
  EXPECT_FALSE(IsValidInputPath("$."));
  EXPECT_FALSE(IsValidInputPath("$..detail"));
  EXPECT_FALSE(IsValidInputPath("$.list[x]"));
  EXPECT_FALSE(IsValidInputPath("$.list[1"));
}

TEST(InputPathTest, Evaluates) {
  EXPECT_EQ(*EvaluateInputPath(kEvent, "$.detail.state"), "running");
  EXPECT_EQ(*EvaluateInputPath(kEvent, "$.detail.list[1]"), "b");
  EXPECT_EQ(*EvaluateInputPath(kEvent, "$.detail.tags"), Json({{"team", "web"}}));
  EXPECT_EQ(*EvaluateInputPath(kEvent, "$"), kEvent);
  EXPECT_FALSE(EvaluateInputPath(kEvent, "$.detail.missing"));
  EXPECT_FALSE(EvaluateInputPath(kEvent, "$.detail.list[5]"));
  EXPECT_FALSE(EvaluateInputPath(kEvent, "$.detail.state.deeper"));
}

TEST(TemplateTest, JsonValuePositionsQuoteStringsAndKeepJson) {
  std::map<std::string, std::optional<Json>> values{
      {"instance", Json("i-0123")}, {"count", Json(3)}, {"tags", Json({{"team", "web"}})}};
  EXPECT_EQ(RenderTemplate(R"({"instance": <instance>, "n": <count>, "t": <tags>})", values),
            R"({"instance": "i-0123", "n": 3, "t": {"team":"web"}})");
}

TEST(TemplateTest, InsideStringsValuesAreRawText) {
  std::map<std::string, std::optional<Json>> values{{"instance", Json("i-0123")},
                                                    {"count", Json(3)}};
  EXPECT_EQ(RenderTemplate(R"({"path": "users/<instance>/<count>"})", values),
            R"({"path": "users/i-0123/3"})");
  EXPECT_EQ(RenderTemplate(R"("<instance> is in state \"<count>\"")", values),
            R"("i-0123 is in state \"3\"")");
}

TEST(TemplateTest, TextTemplatesAreRawText) {
  std::map<std::string, std::optional<Json>> values{{"instance", Json("i-0123")},
                                                    {"state", Json("running")}};
  EXPECT_EQ(RenderTemplate("<instance> is in state <state>", values), "i-0123 is in state running");
}

TEST(TemplateTest, UnresolvedPathsAreOmitted) {
  std::map<std::string, std::optional<Json>> values{{"gone", std::nullopt}};
  EXPECT_EQ(RenderTemplate(R"({"a": <gone>, "b": "x<gone>y"})", values),
            R"({"a": null, "b": "xy"})");
  EXPECT_EQ(RenderTemplate("value: <gone>.", values), "value: .");
}

TEST(TemplateTest, UnknownPlaceholdersAndMarkupStay) {
  EXPECT_EQ(RenderTemplate("a <b> c < d", {}), "a <b> c < d");
  EXPECT_EQ(TemplatePlaceholders(R"({"a": <x>, "b": "<y> <x>", "c": <aws.events.rule-arn>})"),
            (std::vector<std::string>{"x", "y", "aws.events.rule-arn"}));
}

TEST(TargetInputTest, NoneMeansTheWholeEvent) {
  EXPECT_EQ(Json::parse(TargetInputFor(Json{{"Id", "1"}}, kEvent, Predefined())), kEvent);
}

TEST(TargetInputTest, StaticInputAndInputPath) {
  EXPECT_EQ(TargetInputFor(Json{{"Id", "1"}, {"Input", R"({"a":1})"}}, kEvent, Predefined()),
            R"({"a":1})");
  EXPECT_EQ(Json::parse(TargetInputFor(Json{{"Id", "1"}, {"InputPath", "$.detail.tags"}}, kEvent,
                                       Predefined())),
            Json({{"team", "web"}}));
}

TEST(TargetInputTest, TransformerWithPredefinedVariables) {
  Json target{
      {"Id", "1"},
      {"InputTransformer",
       {{"InputPathsMap", {{"instance", "$.detail.instance-id"}}},
        {"InputTemplate",
         R"({"i": <instance>, "rule": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", )"
         R"("at": <aws.events.event.ingestion-time>, "event": <aws.events.event>, )"
         R"("full": <aws.events.event.json>})"}}}};
  ASSERT_FALSE(ValidateTargetInput(target)) << *ValidateTargetInput(target);
  Json out = Json::parse(TargetInputFor(target, kEvent, Predefined()));
  EXPECT_EQ(out["i"], "i-0123");
  EXPECT_EQ(out["rule"], "arn:aws:events:us-east-1:123456789012:rule/r");
  EXPECT_EQ(out["name"], "r");
  EXPECT_EQ(out["at"], "2026-11-23T03:00:01Z");
  EXPECT_FALSE(out["event"].contains("detail"));
  EXPECT_EQ(out["event"]["id"], "e-1");
  EXPECT_EQ(out["full"], kEvent);
}

TEST(ValidateTest, RejectsWithAwsMessages) {
  EXPECT_EQ(*ValidateTargetInput(Json{{"Id", "t1"}, {"Input", "{}"}, {"InputPath", "$"}}),
            "Only one of Input, InputPath, or InputTransformer must be provided for target t1.");
  EXPECT_EQ(*ValidateTargetInput(Json{{"Id", "t1"}, {"Input", "{not json"}}),
            "Input for target t1 is not a valid JSON text.");
  EXPECT_EQ(*ValidateTargetInput(Json{{"Id", "t1"}, {"InputPath", "detail"}}),
            "InputPath for target t1 is not a valid JSON path.");
  EXPECT_EQ(*ValidateTargetInput(Json{
                {"Id", "t1"}, {"InputTransformer", {{"InputTemplate", R"({"a": <undefined>})"}}}}),
            "InputTemplate for target t1 contains invalid placeholder undefined.");
  EXPECT_EQ(*ValidateTargetInput(Json{
                {"Id", "t1"},
                {"InputTransformer",
                 {{"InputPathsMap", {{"AWSkey", "$.detail"}}}, {"InputTemplate", "<AWSkey>"}}}}),
            "InputPathsMap for target t1 contains invalid key AWSkey.");
  EXPECT_EQ(*ValidateTargetInput(
                Json{{"Id", "t1"},
                     {"InputTransformer",
                      {{"InputPathsMap", {{"k", "detail.x"}}}, {"InputTemplate", "<k>"}}}}),
            "InputPathsMap for target t1 contains invalid path for key k.");
  EXPECT_EQ(*ValidateTargetInput(
                Json{{"Id", "t1"},
                     {"InputTransformer",
                      {{"InputPathsMap", {{"k", "$.detail"}}}, {"InputTemplate", R"({<k>: 1})"}}}}),
            "InputTemplate for target t1 is not a valid JSON text.");
  EXPECT_EQ(*ValidateTargetInput(Json{
                {"Id", "t1"}, {"InputTransformer", {{"InputTemplate", "<aws.events.nothing>"}}}}),
            "InputTemplate for target t1 contains invalid placeholder aws.events.nothing.");
  EXPECT_FALSE(ValidateTargetInput(
      Json{{"Id", "t1"},
           {"InputTransformer",
            {{"InputPathsMap", {{"k", "$.detail"}}}, {"InputTemplate", "plain <k> text"}}}}));
}

}  // namespace
}  // namespace understudy::events
