// Targets: registration checks, the health states of aws-semantics §1.6, and
// deregistration delays in virtual time.
#include <gtest/gtest.h>

#include "unit/elb/elbv2_fixture.h"

namespace understudy::elb {
namespace {

using TargetsTest = Elbv2Fixture;

Json StateOf(const Json& describe, size_t i = 0) {
  return describe["TargetHealthDescriptions"][i]["TargetHealth"];
}

// ip targets must be addresses; instance targets instance ids.
TEST_F(TargetsTest, RegisterChecks) {
  Basic b = MakeBasic();
  EXPECT_EQ(Error(&Service::RegisterTargets,
                  {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "i-0123456789abcdef0"}}}}}),
            "InvalidTarget: The IP address 'i-0123456789abcdef0' is not a valid IP address");
  EXPECT_EQ(Error(&Service::RegisterTargets,
                  {{"TargetGroupArn", b.tg + "x"}, {"Targets", {{{"Id", "10.0.0.1"}}}}}),
            "TargetGroupNotFound: One or more target groups not found");
  EXPECT_EQ(Call(&Service::RegisterTargets,
                 {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.1"}, {"Port", 9000}}}}}),
            Json::object());
}

// Health: unused/NotRegistered when asked for, initial from the checker, then what it
// reports; unused/NotInUse when no listener uses the group.
TEST_F(TargetsTest, HealthStates) {
  Basic b = MakeBasic();
  Call(&Service::RegisterTargets, {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.1"}}}}});
  ASSERT_EQ(health_.targets.size(), 1u);
  EXPECT_EQ(health_.targets[0].key, (TargetKey{b.tg, "10.0.0.1", 8080}));
  EXPECT_EQ(health_.targets[0].connect_address, "10.0.0.1");
  Json all = Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}});
  EXPECT_EQ(all["TargetHealthDescriptions"][0]["HealthCheckPort"], "8080");
  EXPECT_EQ(StateOf(all), Json::parse(R"({"State":"initial","Reason":"Elb.RegistrationInProgress",
                                          "Description":"Target registration is in progress"})"));
  health_.Set({b.tg, "10.0.0.1", 8080}, {Target::Health::kUnhealthy, "Target.ResponseCodeMismatch",
                                         "Health checks failed with these codes: [404]"});
  EXPECT_EQ(StateOf(Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}}))["Reason"],
            "Target.ResponseCodeMismatch");
  EXPECT_EQ(data_plane_.last().target_groups.at(b.tg).targets[0].health,
            Target::Health::kUnhealthy);
  Json asked = Call(&Service::DescribeTargetHealth,
                    {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.9"}}}}});
  EXPECT_EQ(StateOf(asked), Json::parse(R"({"State":"unused","Reason":"Target.NotRegistered",
                                             "Description":"Target is not registered to the target group"})"));
  Call(&Service::DeleteListener, {{"ListenerArn", b.listener}});
  EXPECT_TRUE(health_.targets.empty()) << "no probes for a group no listener uses";
  EXPECT_EQ(StateOf(Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}}))["Reason"],
            "Target.NotInUse");
}

// A deregistered target drains for deregistration_delay of clock time, then is cut
// and gone; it is not probed while draining.
TEST_F(TargetsTest, DrainingInVirtualTime) {
  Basic b = MakeBasic();
  Call(&Service::ModifyTargetGroupAttributes,
       {{"TargetGroupArn", b.tg},
        {"Attributes", {{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", "30"}}}}});
  Call(&Service::RegisterTargets, {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.1"}}}}});
  Call(&Service::DeregisterTargets,
       {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.1"}}}}});
  EXPECT_EQ(StateOf(Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}})),
            Json::parse(R"({"State":"draining","Reason":"Target.DeregistrationInProgress",
                            "Description":"Target deregistration is in progress"})"));
  EXPECT_TRUE(health_.targets.empty());
  EXPECT_EQ(data_plane_.last().target_groups.at(b.tg).targets[0].health, Target::Health::kDraining);
  bool done = false;
  ASSERT_TRUE(clock_->AdvanceTo(TimePoint{} + std::chrono::seconds(29), [&] { done = true; }).ok());
  while (!done) loop_.RunUntilIdleForTest();
  EXPECT_TRUE(data_plane_.cut.empty());
  done = false;
  ASSERT_TRUE(clock_->AdvanceTo(TimePoint{} + std::chrono::seconds(30), [&] { done = true; }).ok());
  while (!done) loop_.RunUntilIdleForTest();
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(data_plane_.cut, std::vector<std::string>({b.tg + " 10.0.0.1:8080"}));
  EXPECT_EQ(
      Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}})["TargetHealthDescriptions"],
      Json::array());
  EXPECT_TRUE(data_plane_.last().target_groups.at(b.tg).targets.empty());
}

// Targets in an awsvpc task's namespace are probed and reached inside it.
TEST_F(TargetsTest, NamespaceTargets) {
  options_.resolve_target_namespace = [](const std::string& ip) -> std::optional<int> {
    if (ip == "10.1.0.7") return 4242;
    return std::nullopt;
  };
  Open();
  Basic b = MakeBasic();
  Json targets = Json::array({Json{{"Id", "10.1.0.7"}}, Json{{"Id", "127.0.0.2"}, {"Port", 9000}}});
  Call(&Service::RegisterTargets, {{"TargetGroupArn", b.tg}, {"Targets", targets}});
  ASSERT_EQ(health_.targets.size(), 2u);
  const auto& routed = data_plane_.last().target_groups.at(b.tg).targets;
  EXPECT_EQ(routed[0].connect_address, "127.0.0.1");
  EXPECT_EQ(routed[0].netns_pid, 4242);
  EXPECT_EQ(routed[1].connect_address, "127.0.0.2");
  EXPECT_EQ(routed[1].netns_pid, 0);
}

}  // namespace
}  // namespace understudy::elb
