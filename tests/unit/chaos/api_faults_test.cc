#include "chaos/api_faults.h"

#include <gtest/gtest.h>

namespace understudy::chaos {
namespace {

api::RequestContext Call(const std::string& service, const std::string& operation) {
  api::RequestContext ctx;
  ctx.scope = Scope{"000000000000", "us-east-1"};
  ctx.service = service;
  ctx.operation = operation;
  return ctx;
}

bool Fails(ApiFaults& faults, const std::string& service, const std::string& op) {
  auto f = faults.Decide(Call(service, op), Json::object());
  return f && f->error.has_value();
}

TEST(ApiFaultsTest, NothingWithoutRules) {
  ApiFaults faults;
  EXPECT_FALSE(faults.Decide(Call("ecs", "RunTask"), Json::object()));
}

TEST(ApiFaultsTest, FailFirstThenRecover) {
  ApiFaults faults;
  ApiFaultRule rule;
  rule.service = "sesv2";
  rule.operation = "SendEmail";
  rule.error_code = "TooManyRequestsException";
  rule.http_status = 429;
  rule.fail_first = 2;
  uint64_t id = faults.Add(rule, Random(1));
  EXPECT_FALSE(Fails(faults, "sesv2", "GetAccount"));  // another operation
  EXPECT_TRUE(Fails(faults, "sesv2", "SendEmail"));
  auto second = faults.Decide(Call("sesv2", "SendEmail"), Json::object());
  ASSERT_TRUE(second && second->error);
  EXPECT_EQ(second->error->code, "TooManyRequestsException");
  EXPECT_EQ(second->error->http_status, 429);
  EXPECT_FALSE(Fails(faults, "sesv2", "SendEmail"));
  EXPECT_FALSE(Fails(faults, "sesv2", "SendEmail"));
  EXPECT_EQ(faults.matched(id), 4);
  EXPECT_EQ(faults.applied(id), 2);
  faults.Remove(id);
  EXPECT_TRUE(faults.empty());
}

TEST(ApiFaultsTest, EveryNthCall) {
  ApiFaults faults;
  ApiFaultRule rule;
  rule.service = "ecs";
  rule.every = 3;
  faults.Add(rule, Random(1));
  std::vector<bool> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(Fails(faults, "ecs", "ListClusters"));
  EXPECT_EQ(seen, (std::vector<bool>{false, false, true, false, false, true}));
}

TEST(ApiFaultsTest, ProbabilityReplaysWithTheSameSeed) {
  auto run = [](uint64_t seed) {
    ApiFaults faults;
    ApiFaultRule rule;
    rule.probability = 0.5;
    faults.Add(rule, Random(seed).Fork("action/a"));
    std::vector<bool> out;
    for (int i = 0; i < 32; ++i) out.push_back(Fails(faults, "ecs", "RunTask"));
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
  auto seen = run(7);
  EXPECT_GT(std::count(seen.begin(), seen.end(), true), 4);
  EXPECT_LT(std::count(seen.begin(), seen.end(), true), 28);
}

TEST(ApiFaultsTest, LatencyAddsUpAndPlacementFailureAnswersFailures) {
  ApiFaults faults;
  ApiFaultRule latency;
  latency.kind = ApiFaultRule::Kind::kLatency;
  latency.latency = std::chrono::seconds(2);
  faults.Add(latency, Random(1));
  ApiFaultRule placement;
  placement.kind = ApiFaultRule::Kind::kPlacementFailure;
  placement.cluster = "web";
  faults.Add(placement, Random(1));
  auto other = faults.Decide(Call("ecs", "RunTask"), Json{{"cluster", "batch"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->latency, std::chrono::seconds(2));
  EXPECT_FALSE(other->output);
  auto placed = faults.Decide(Call("ecs", "RunTask"), Json{{"cluster", "web"}});
  ASSERT_TRUE(placed && placed->output);
  EXPECT_EQ((*placed->output)["failures"][0]["reason"], "RESOURCE:MEMORY");
  EXPECT_TRUE((*placed->output)["tasks"].empty());
}

}  // namespace
}  // namespace understudy::chaos
