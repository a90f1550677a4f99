// Target delivery (aws-semantics §4.4): the RunTask request an ECS target makes, retries
// in clock time within RetryPolicy, dead-letter outcomes, log-group targets.
#include "events/delivery.h"

#include <gtest/gtest.h>

#include "core/event_loop.h"

namespace understudy::events {
namespace {

const Scope kScope{"123456789012", "us-east-1"};
const char* kCluster = "arn:aws:ecs:us-east-1:123456789012:cluster/web";

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = Clock::Create(
        loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}, std::chrono::seconds(30)});
    store_ = std::move(Store::Open(":memory:")).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_TRUE(journal_->Open().ok());
    DeliveryHooks hooks;
    hooks.run_task = [this](const Scope& scope, const Json& input) -> api::ApiResult {
      EXPECT_EQ(scope, kScope);
      run_tasks_.push_back(input);
      if (static_cast<int>(run_tasks_.size()) <= fail_times_) return error_;
      return Json{
          {"tasks", Json::array({{{"taskArn", "arn:task/" + std::to_string(run_tasks_.size())}}})},
          {"failures", Json::array()}};
    };
    hooks.logs = &logs_;
    delivery_ = std::make_unique<Delivery>(loop_, *store_, *journal_, *clock_, Random(3), hooks);
    ASSERT_TRUE(delivery_->Migrate().ok());
  }

  DeliveryRequest Request(Json target, std::string input = "{}") {
    DeliveryRequest request;
    request.scope = kScope;
    request.source_kind = "rule";
    request.source_arn = "arn:aws:events:us-east-1:123456789012:rule/nightly";
    request.source_name = "nightly";
    request.target = std::move(target);
    request.input = std::move(input);
    request.event = Json{{"id", "event-1"}, {"detail", Json::object()}};
    request.started_by = "events-rule/nightly";
    return request;
  }

  void Advance(Duration by) {
    bool reached = false;
    ASSERT_TRUE(clock_->AdvanceTo(clock_->Now() + by, [&] { reached = true; }).ok());
    loop_.RunUntilIdleForTest();
    ASSERT_TRUE(reached);
  }

  Json Only() {
    Json all = delivery_->List(0, 100, "");
    EXPECT_EQ(all.size(), 1u) << all.dump(2);
    return all.empty() ? Json() : all[0];
  }

  struct Logs : logs::LogSink {
    Status OpenStream(const Scope&, const std::string& group, const std::string& stream,
                      bool create) override {
      EXPECT_FALSE(create);
      if (group != "/events/audit")
        return Status::NotFound("log group '" + group + "' does not exist");
      streams.push_back(stream);
      return Status::Ok();
    }
    void Append(const Scope&, const std::string& group, const std::string& stream,
                const std::string& message) override {
      lines.push_back(group + " " + stream + " " + message);
    }
    std::vector<std::string> streams, lines;
  } logs_;
  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Delivery> delivery_;
  std::vector<Json> run_tasks_;
  int fail_times_ = 0;  // the first this many RunTask calls fail with error_
  api::ApiError error_;
};

TEST(RunTaskRequestTest, EcsParametersInRunTaskNames) {
  Json params = Json::parse(R"({"TaskDefinitionArn": "nightly:3", "TaskCount": 2,
    "LaunchType": "FARGATE", "PlatformVersion": "LATEST", "Group": "jobs",
    "EnableECSManagedTags": true, "Tags": [{"Key": "k", "Value": "v"}],
    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"],
      "SecurityGroups": ["sg-1"], "AssignPublicIp": "DISABLED"}}})");
  Json overrides = Json::parse(R"({"containerOverrides": [{"name": "app", "command": ["run"]}],
                                   "unrelated": 1})");
  Json request = RunTaskRequest(kCluster, params, overrides, "events-rule/nightly");
  EXPECT_EQ(request, Json::parse(R"({"cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/web",
    "taskDefinition": "nightly:3", "count": 2, "launchType": "FARGATE", "platformVersion": "LATEST",
    "group": "jobs", "enableECSManagedTags": true, "tags": [{"key": "k", "value": "v"}],
    "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"],
      "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}},
    "startedBy": "events-rule/nightly",
    "overrides": {"containerOverrides": [{"name": "app", "command": ["run"]}]}})"));
  EXPECT_EQ(RunTaskRequest(kCluster, Json{{"TaskDefinitionArn", "x"}}, std::nullopt, "")["count"],
            1);
}

TEST_F(DeliveryTest, EcsTargetRunsTaskWithInputAsOverrides) {
  Json target{{"Id", "1"},
              {"Arn", kCluster},
              {"RoleArn", "arn:aws:iam::123456789012:role/x"},
              {"EcsParameters", {{"TaskDefinitionArn", "nightly"}}},
              {"Input", R"({"containerOverrides":[{"name":"app","command":["report"]}]})"}};
  delivery_->Deliver(Request(target, target["Input"]));
  ASSERT_EQ(run_tasks_.size(), 1u);
  EXPECT_EQ(run_tasks_[0]["startedBy"], "events-rule/nightly");
  EXPECT_EQ(run_tasks_[0]["overrides"]["containerOverrides"][0]["command"][0], "report");
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "SUCCEEDED");
  EXPECT_EQ(outcome["result"]["taskArns"], Json::array({"arn:task/1"}));
  EXPECT_EQ(outcome["attempts"], 1);
  EXPECT_EQ(delivery_->Count("nightly", "SUCCEEDED"), 1);
  EXPECT_EQ(delivery_->Count("nightly", "FAILED"), 0);
  EXPECT_EQ(delivery_->in_flight(), 0u);
}

TEST_F(DeliveryTest, WithoutShapedInputTheEventIsNotUsedAsOverrides) {
  Json target{
      {"Id", "1"}, {"Arn", kCluster}, {"EcsParameters", {{"TaskDefinitionArn", "nightly"}}}};
  delivery_->Deliver(Request(target, R"({"containerOverrides": "from the event"})"));
  ASSERT_EQ(run_tasks_.size(), 1u);
  EXPECT_FALSE(run_tasks_[0].contains("overrides"));
}

TEST_F(DeliveryTest, RetriableFailuresRetryUntilMaximumRetryAttempts) {
  fail_times_ = 1000;
  error_ = api::ApiError::Server("ServerException", "try later");
  Json target{{"Id", "1"},
              {"Arn", kCluster},
              {"EcsParameters", {{"TaskDefinitionArn", "nightly"}}},
              {"RetryPolicy", {{"MaximumRetryAttempts", 2}}},
              {"DeadLetterConfig", {{"Arn", "arn:aws:sqs:us-east-1:123456789012:dlq"}}}};
  delivery_->Deliver(Request(target));
  EXPECT_EQ(run_tasks_.size(), 1u);
  EXPECT_EQ(delivery_->in_flight(), 1u);
  EXPECT_TRUE(delivery_->List(0, 10, "").empty());
  Advance(std::chrono::minutes(5));
  EXPECT_EQ(run_tasks_.size(), 3u);  // the first try and two retries
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "FAILED");
  EXPECT_EQ(outcome["attempts"], 3);
  EXPECT_EQ(outcome["errorCode"], "ServerException");
  EXPECT_EQ(outcome["exhaustedRetryCondition"], "MaximumRetryAttempts");
  EXPECT_EQ(outcome["deadLetter"]["arn"], "arn:aws:sqs:us-east-1:123456789012:dlq");
  Json attributes = outcome["deadLetter"]["messageAttributes"];
  EXPECT_EQ(attributes["RULE_ARN"], "arn:aws:events:us-east-1:123456789012:rule/nightly");
  EXPECT_EQ(attributes["TARGET_ARN"], kCluster);
  EXPECT_EQ(attributes["ERROR_CODE"], "ServerException");
  EXPECT_EQ(attributes["RETRY_ATTEMPTS"], "2");
  EXPECT_EQ(attributes["EXHAUSTED_RETRY_CONDITION"], "MaximumRetryAttempts");
  EXPECT_EQ(delivery_->in_flight(), 0u);
}

TEST_F(DeliveryTest, RetriesStopAtMaximumEventAge) {
  fail_times_ = 1000;
  error_ = api::ApiError::Server("ServerException", "try later");
  Json target{{"Id", "1"},
              {"Arn", kCluster},
              {"EcsParameters", {{"TaskDefinitionArn", "nightly"}}},
              {"RetryPolicy", {{"MaximumEventAgeInSeconds", 60}}}};
  delivery_->Deliver(Request(target));
  Advance(std::chrono::hours(1));
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "FAILED");
  EXPECT_EQ(outcome["exhaustedRetryCondition"], "MaximumEventAgeInSeconds");
  EXPECT_GT(outcome["attempts"].get<int>(), 2);
  EXPECT_LT(outcome["attempts"].get<int>(), 10);
  EXPECT_FALSE(outcome.contains("deadLetter"));
}

TEST_F(DeliveryTest, RetriedTargetThatRecoversSucceeds) {
  fail_times_ = 2;
  error_ = api::ApiError::Client("ThrottlingException", "slow down");
  Json target{
      {"Id", "1"}, {"Arn", kCluster}, {"EcsParameters", {{"TaskDefinitionArn", "nightly"}}}};
  delivery_->Deliver(Request(target));
  EXPECT_TRUE(delivery_->List(0, 10, "").empty());
  Advance(std::chrono::minutes(1));
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "SUCCEEDED");
  EXPECT_EQ(outcome["attempts"], 3);
  EXPECT_EQ(outcome["result"]["taskArns"], Json::array({"arn:task/3"}));
}

TEST_F(DeliveryTest, ClientErrorsGoStraightToTheDeadLetterQueue) {
  fail_times_ = 1000;
  error_ = api::ApiError::Client("ClientException", "TaskDefinition not found.");
  Json target{{"Id", "1"},
              {"Arn", kCluster},
              {"EcsParameters", {{"TaskDefinitionArn", "gone"}}},
              {"DeadLetterConfig", {{"Arn", "arn:aws:sqs:us-east-1:123456789012:dlq"}}}};
  delivery_->Deliver(Request(target));
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "FAILED");
  EXPECT_EQ(outcome["attempts"], 1);
  EXPECT_EQ(outcome["errorMessage"], "TaskDefinition not found.");
  EXPECT_FALSE(outcome.contains("exhaustedRetryCondition"));
  EXPECT_EQ(outcome["deadLetter"]["messageAttributes"]["RETRY_ATTEMPTS"], "0");
}

TEST_F(DeliveryTest, LogGroupTargetWritesTheInputToAStreamNamedForTheEvent) {
  delivery_->Deliver(Request(
      Json{{"Id", "1"}, {"Arn", "arn:aws:logs:us-east-1:123456789012:log-group:/events/audit"}},
      R"({"hello":"world"})"));
  ASSERT_EQ(logs_.lines.size(), 1u);
  EXPECT_EQ(logs_.lines[0], R"(/events/audit event-1 {"hello":"world"})");
  EXPECT_EQ(Only()["outcome"], "SUCCEEDED");
  delivery_->Deliver(
      Request(Json{{"Id", "1"}, {"Arn", "arn:aws:logs:us-east-1:123456789012:log-group:/nope"}}));
  EXPECT_EQ(delivery_->Count("", "FAILED"), 1);
}

TEST_F(DeliveryTest, UnsupportedTargetsAreRecordedAsFailed) {
  delivery_->Deliver(
      Request(Json{{"Id", "q"}, {"Arn", "arn:aws:sqs:us-east-1:123456789012:queue"}}));
  Json outcome = Only();
  EXPECT_EQ(outcome["outcome"], "FAILED");
  EXPECT_EQ(outcome["errorCode"], "UnsupportedTarget");
  EXPECT_EQ(outcome["targetId"], "q");
  EXPECT_EQ(outcome["input"], "{}");
}

TEST_F(DeliveryTest, EveryOutcomeIsJournaled) {
  delivery_->Deliver(
      Request(Json{{"Id", "q"}, {"Arn", "arn:aws:sqs:us-east-1:123456789012:queue"}}));
  ASSERT_TRUE(journal_->Flush().ok());
  auto entries = journal_->Read(0, 100);
  ASSERT_TRUE(entries.ok());
  int deliveries = 0;
  for (const auto& entry : *entries) {
    if (entry.subject == "events.delivery") ++deliveries;
  }
  EXPECT_EQ(deliveries, 1);
}

}  // namespace
}  // namespace understudy::events
