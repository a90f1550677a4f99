// Choosing a target group and a target: weights, algorithms, slow start, sticky
// cookies and fail-open (aws-semantics §1.4, §1.7).
#include "elb/target_choice.h"

#include <gtest/gtest.h>

#include <map>

namespace understudy::elb {
namespace {

struct Group {
  TargetGroup group;
  RoutableGroup routable;
};

// A routable group of `n` targets (ports 9001...) in the given health.
std::unique_ptr<Group> MakeGroup(std::vector<Target::Health> health,
                                 const std::string& algorithm = "round_robin") {
  auto g = std::make_unique<Group>();
  g->group.arn = "arn:tg";
  g->group.algorithm = algorithm;
  for (size_t i = 0; i < health.size(); ++i) {
    Target t;
    t.id = "127.0.0.1";
    t.port = static_cast<uint16_t>(9001 + i);
    t.health = health[i];
    g->group.targets.push_back(t);
  }
  g->routable.group = &g->group;
  g->routable.runtime = std::make_shared<GroupRuntime>();
  for (size_t i = 0; i < health.size(); ++i) {
    g->routable.runtimes.push_back(std::make_shared<TargetRuntime>());
    g->routable.tokens.push_back(StickyToken(1, "arn:tg", "127.0.0.1", g->group.targets[i].port));
    if (health[i] == Target::Health::kHealthy) g->routable.healthy.push_back(i);
    if (health[i] == Target::Health::kUnhealthy) g->routable.fail_open.push_back(i);
  }
  return g;
}

using H = Target::Health;

TEST(TargetChoiceTest, RoundRobinSkipsTargetsNotHealthy) {
  auto g = MakeGroup({H::kHealthy, H::kInitial, H::kHealthy, H::kDraining});
  Random random(1);
  std::map<size_t, int> counts;
  for (int i = 0; i < 100; ++i) counts[*ChooseTarget(g->routable, std::nullopt, random)]++;
  EXPECT_EQ(counts, (std::map<size_t, int>{{0, 50}, {2, 50}}));
}

TEST(TargetChoiceTest, FailOpenOnlyOverUnhealthyTargets) {
  auto g = MakeGroup({H::kUnhealthy, H::kInitial, H::kUnhealthy});
  Random random(1);
  std::map<size_t, int> counts;
  for (int i = 0; i < 10; ++i) counts[*ChooseTarget(g->routable, std::nullopt, random)]++;
  EXPECT_EQ(counts, (std::map<size_t, int>{{0, 5}, {2, 5}}));
  auto none = MakeGroup({H::kInitial, H::kDraining});
  EXPECT_EQ(ChooseTarget(none->routable, std::nullopt, random), std::nullopt);
}

TEST(TargetChoiceTest, LeastOutstandingRequestsPicksTheIdlest) {
  auto g = MakeGroup({H::kHealthy, H::kHealthy, H::kHealthy}, "least_outstanding_requests");
  g->routable.runtimes[0]->in_flight = 3;
  g->routable.runtimes[1]->in_flight = 1;
  g->routable.runtimes[2]->in_flight = 2;
  Random random(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ChooseTarget(g->routable, std::nullopt, random), 1u);
}

TEST(TargetChoiceTest, WeightedRandomSpreadsEvenly) {
  auto g = MakeGroup({H::kHealthy, H::kHealthy}, "weighted_random");
  Random random(1);
  int first = 0;
  for (int i = 0; i < 10000; ++i) first += *ChooseTarget(g->routable, std::nullopt, random) == 0;
  EXPECT_NEAR(first / 10000.0, 0.5, 0.03);
}

TEST(TargetChoiceTest, SlowStartGivesANewTargetItsShare) {
  auto g = MakeGroup({H::kHealthy, H::kHealthy});
  g->group.targets[1].slow_start_factor = 0.25;
  g->routable.has_slow_start = true;
  Random random(1);
  int ramping = 0;
  for (int i = 0; i < 10000; ++i) ramping += *ChooseTarget(g->routable, std::nullopt, random) == 1;
  EXPECT_NEAR(ramping / 10000.0, 0.25 / 1.25, 0.03);
}

TEST(TargetChoiceTest, StickyTargetWins) {
  auto g = MakeGroup({H::kHealthy, H::kHealthy});
  Random random(1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ChooseTarget(g->routable, size_t{1}, random), 1u);
  EXPECT_NE(StickyToken(1, "arn:tg", "127.0.0.1", 9001),
            StickyToken(2, "arn:tg", "127.0.0.1", 9001));
  EXPECT_NE(StickyToken(1, "arn:tg", "127.0.0.1", 9001),
            StickyToken(1, "arn:tg", "127.0.0.1", 9002));
}

TEST(TargetChoiceTest, WeightedGroupsByWeightAndZeroGetsNothing) {
  Random random(1);
  std::vector<Action::WeightedGroup> groups = {{"a", 1}, {"b", 0}, {"c", 3}};
  std::map<size_t, int> counts;
  for (int i = 0; i < 8000; ++i) counts[*ChooseWeightedGroup(groups, random)]++;
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_NEAR(counts[0] / 8000.0, 0.25, 0.03);
  EXPECT_EQ(ChooseWeightedGroup({{"a", 0}}, random), std::nullopt);
}

TEST(TargetChoiceTest, CookiesAndDates) {
  std::vector<std::pair<std::string_view, std::string_view>> headers = {
      {"cookie", "a=1; AWSALB=tok; AWSALBTG=grp"}, {"Cookie", "b=2"}};
  EXPECT_EQ(FindCookie(headers, "AWSALB"), "tok");
  EXPECT_EQ(FindCookie(headers, "AWSALBTG"), "grp");
  EXPECT_EQ(FindCookie(headers, "b"), "2");
  EXPECT_EQ(FindCookie(headers, "AWSALBCORS"), std::nullopt);
  EXPECT_EQ(HttpDate(1795000000), "Wed, 18 Nov 2026 11:06:40 GMT");
}

}  // namespace
}  // namespace understudy::elb
