// The routing snapshot: versions increase, listeners carry local ports, load balancer
// settings follow attributes, health changes are published and journaled.
#include <gtest/gtest.h>

#include "unit/elb/elbv2_fixture.h"

namespace understudy::elb {
namespace {

using SnapshotTest = Elbv2Fixture;

// Each change publishes a newer snapshot with what the data plane needs.
TEST_F(SnapshotTest, Contents) {
  Basic b = MakeBasic();
  const RoutingSnapshot& s = data_plane_.last();
  EXPECT_GT(s.version, data_plane_.snapshots.front().version);
  ASSERT_EQ(s.listeners.size(), 1u);
  EXPECT_EQ(s.listeners[0].port, 80);
  EXPECT_EQ(s.listeners[0].local_port, data_plane_.open[b.listener]);
  EXPECT_EQ(s.listeners[0].default_action.groups[0].target_group_arn, b.tg);
  const LoadBalancerSettings& lb = s.load_balancers.at(b.lb);
  EXPECT_EQ(lb.name, "web");
  EXPECT_EQ(lb.id.size(), 16u);
  EXPECT_EQ(lb.xff_mode, "append");
  EXPECT_EQ(data_plane_.opened[0].second, std::vector<uint16_t>({80}));
  Json described = service_->Describe();
  EXPECT_EQ(described["loadBalancers"][0]["listeners"][0]["url"],
            "http://127.0.0.1:" + std::to_string(s.listeners[0].local_port));
}

// A health change reported by the checker publishes a snapshot and a journal entry.
TEST_F(SnapshotTest, HealthChangePublishes) {
  Basic b = MakeBasic();
  Call(&Service::RegisterTargets, {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.1"}}}}});
  size_t before = data_plane_.snapshots.size();
  health_.factor = 0.5;
  health_.Set({b.tg, "10.0.0.1", 8080}, {Target::Health::kHealthy, "", ""});
  ASSERT_EQ(data_plane_.snapshots.size(), before + 1);
  const Target& t = data_plane_.last().target_groups.at(b.tg).targets[0];
  EXPECT_EQ(t.health, Target::Health::kHealthy);
  EXPECT_DOUBLE_EQ(t.slow_start_factor, 0.5);
  ASSERT_TRUE(journal_->Flush().ok());
  auto entries = journal_->Read(0, 1000);
  ASSERT_TRUE(entries.ok());
  bool seen = false;
  for (const auto& e : *entries) {
    if (e.subject == b.tg && e.detail.value("health", "") == "healthy") seen = true;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace understudy::elb
