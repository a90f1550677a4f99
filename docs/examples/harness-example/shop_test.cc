// The shop's deployment, tested against understudy: a Fargate service of the app
// behind a load balancer reaches a steady state, serves every request, is still
// running after a virtual day, and the order confirmation email goes out.
#include <understudy/harness.h>

#include <cstdlib>
#include <string>

namespace {

using nlohmann::json;
using understudy::until::ServiceSteady;
using understudy::until::TargetHealth;

// The app under test: understudy's fixture app stands in for the shop here.
std::string App() {
  const char* env = std::getenv("UNDERSTUDY_FIXTURE_APP");
  return env != nullptr && *env != '\0' ? env : UNDERSTUDY_FIXTURE_APP_PATH;
}

class ShopTest : public understudy::testing::EmulatorTest {
 protected:
  understudy::EmulatorOptions Options() const override {
    understudy::EmulatorOptions options;
    options.seed = 1234;
    options.start = "2026-11-23T08:00:00Z";
    return options;
  }
};

TEST_F(ShopTest, DeploysServesAndEmails) {
  ASSERT_TRUE(aws().CreateCluster("shop").ok());
  auto family =
      aws().RegisterTaskDefinition({{"family", "shop"},
                                    {"networkMode", "awsvpc"},
                                    {"requiresCompatibilities", {"FARGATE"}},
                                    {"cpu", "256"},
                                    {"memory", "512"},
                                    {"containerDefinitions",
                                     {{{"name", "web"},
                                       {"image", "shop:1"},
                                       {"command", {App(), "--port", "8080", "--name", "shop"}},
                                       {"portMappings", {{{"containerPort", 8080}}}}}}}});
  ASSERT_TRUE(family.ok()) << family.error();

  auto lb = aws().CreateLoadBalancer("shop");
  ASSERT_TRUE(lb.ok()) << lb.error();
  auto tg = aws().CreateTargetGroup("shop", 8080, (*lb)["VpcId"]);
  ASSERT_TRUE(tg.ok()) << tg.error();
  std::string tg_arn = (*tg)["TargetGroupArn"];
  auto listener = aws().CreateListener((*lb)["LoadBalancerArn"], 80, tg_arn);
  ASSERT_TRUE(listener.ok()) << listener.error();
  ASSERT_TRUE(
      aws()
          .CreateService(
              "shop", "web", "shop", 2,
              {{"loadBalancers",
                {{{"targetGroupArn", tg_arn}, {"containerName", "web"}, {"containerPort", 8080}}}}})
          .ok());

  // Waits move the virtual clock; a failure prints the service's last state.
  ASSERT_TRUE(WaitFor(ServiceSteady("shop", "web"), "10m"));
  auto targets = aws().Call("elbv2", "DescribeTargetHealth", {{"TargetGroupArn", tg_arn}});
  ASSERT_TRUE(targets.ok()) << targets.error();
  for (const auto& target : (*targets)["TargetHealthDescriptions"]) {
    ASSERT_TRUE(WaitFor(TargetHealth(tg_arn, target["Target"]["Id"], 8080), "5m"));
  }

  understudy::TrafficOptions traffic;
  traffic.base_url = *aws().ListenerUrl((*listener)["ListenerArn"]);
  traffic.requests = 20;
  auto report = understudy::SendTraffic(traffic);
  EXPECT_EQ(report.Count(200), 20) << report.Summary();

  // A virtual day later the service still runs both tasks.
  ASSERT_TRUE(emulator().Advance("24h").ok());
  EXPECT_EQ((*aws().DescribeService("shop", "web"))["runningCount"], 2);

  // The order confirmation (sent here directly; the shop's worker would send it).
  ASSERT_TRUE(aws().VerifyEmailIdentity("orders@shop.example").ok());
  ASSERT_TRUE(aws().VerifyEmailIdentity("ada@example.org").ok());
  ASSERT_TRUE(
      aws()
          .SendEmail("orders@shop.example", {"ada@example.org"}, "Order 42 confirmed", "Thanks!")
          .ok());
  ASSERT_TRUE(WaitForEmails({{"to", "ada@example.org"}, {"subject", "Order 42"}}));
  auto email = understudy::LatestEmail(emulator(), {{"to", "ada@example.org"}});
  ASSERT_TRUE(email.ok()) << email.error();
  EXPECT_EQ((*email)["subject"], "Order 42 confirmed");
}

}  // namespace
