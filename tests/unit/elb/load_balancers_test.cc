// Load balancers and target groups: AWS's documents, names, duplicates, paging,
// deletion protection and persistence.
#include <gtest/gtest.h>

#include "unit/elb/elbv2_fixture.h"

namespace understudy::elb {
namespace {

using LoadBalancersTest = Elbv2Fixture;

// CreateLoadBalancer answers AWS's document (provisioning in the answer, active after).
TEST_F(LoadBalancersTest, CreateDescribe) {
  Json lb = Call(&Service::CreateLoadBalancer, {{"Name", "web"},
                                                {"Scheme", "internal"},
                                                {"Subnets", {"subnet-1", "subnet-2"}},
                                                {"SecurityGroups", {"sg-1"}}})["LoadBalancers"][0];
  std::string arn = lb["LoadBalancerArn"];
  EXPECT_EQ(
      arn.rfind("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/", 0),
      0u);
  EXPECT_EQ(arn.size(), std::string("arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                                    "loadbalancer/app/web/")
                                .size() +
                            16);
  EXPECT_EQ(lb["State"], Json({{"Code", "provisioning"}}));
  EXPECT_EQ(lb["Scheme"], "internal");
  std::string dns = lb["DNSName"];
  EXPECT_EQ(dns.rfind("internal-web-", 0), 0u) << dns;
  EXPECT_EQ(dns.substr(dns.size() - 28), ".us-east-1.elb.amazonaws.com") << dns;
  EXPECT_EQ(lb["CanonicalHostedZoneId"], "Z35SXDOTRQ7X7K");
  EXPECT_EQ(lb["VpcId"], "vpc-local");
  EXPECT_EQ(
      lb["AvailabilityZones"],
      Json::parse(R"([{"ZoneName":"us-east-1a","SubnetId":"subnet-1","LoadBalancerAddresses":[]},
                            {"ZoneName":"us-east-1b","SubnetId":"subnet-2","LoadBalancerAddresses":[]}])"));
  Json described = Call(&Service::DescribeLoadBalancers, {{"Names", {"web"}}})["LoadBalancers"][0];
  EXPECT_EQ(described["State"], Json({{"Code", "active"}}));
  EXPECT_EQ(described["DNSName"], lb["DNSName"]);
}

// Names: length, characters, hyphens at the ends, the internal- prefix; duplicates.
TEST_F(LoadBalancersTest, NamesAndDuplicates) {
  Json subnets = {"subnet-1", "subnet-2"};
  EXPECT_EQ(
      Error(&Service::CreateLoadBalancer, {{"Name", std::string(33, 'a')}, {"Subnets", subnets}}),
      "ValidationError: The load balancer name '" + std::string(33, 'a') +
          "' cannot be longer than 32 characters");
  EXPECT_EQ(Error(&Service::CreateLoadBalancer, {{"Name", "internal-x"}, {"Subnets", subnets}}),
            "ValidationError: The load balancer name 'internal-x' cannot begin with 'internal-'");
  EXPECT_EQ(Error(&Service::CreateLoadBalancer, {{"Name", "a_b"}, {"Subnets", subnets}}),
            "ValidationError: The load balancer name 'a_b' can only contain characters that are "
            "alphanumeric characters and hyphens(-)");
  EXPECT_EQ(Error(&Service::CreateLoadBalancer, {{"Name", "web"}, {"Subnets", {"subnet-1"}}}),
            "ValidationError: At least two subnets in two different Availability Zones must be "
            "specified");
  Json first = Call(&Service::CreateLoadBalancer, {{"Name", "web"}, {"Subnets", subnets}});
  Json again = Call(&Service::CreateLoadBalancer, {{"Name", "web"}, {"Subnets", subnets}});
  EXPECT_EQ(again["LoadBalancers"][0]["LoadBalancerArn"],
            first["LoadBalancers"][0]["LoadBalancerArn"]);
  EXPECT_EQ(Error(&Service::CreateLoadBalancer,
                  {{"Name", "web"}, {"Subnets", subnets}, {"Scheme", "internal"}}),
            "DuplicateLoadBalancerName: A load balancer with the same name 'web' exists, but "
            "with different settings");
}

// Subnets resolve through the hook when it is set; an unknown one is SubnetNotFound.
TEST_F(LoadBalancersTest, SubnetHook) {
  options_.resolve_subnet = [](const Scope&, const std::string& id) -> std::optional<SubnetInfo> {
    if (id == "subnet-x") return std::nullopt;
    return SubnetInfo{"vpc-123", id == "subnet-1" ? "us-east-1c" : "us-east-1d"};
  };
  Open();
  Json lb = Call(&Service::CreateLoadBalancer,
                 {{"Name", "web"}, {"Subnets", {"subnet-1", "subnet-2"}}})["LoadBalancers"][0];
  EXPECT_EQ(lb["VpcId"], "vpc-123");
  EXPECT_EQ(lb["AvailabilityZones"][0]["ZoneName"], "us-east-1c");
  EXPECT_EQ(
      Error(&Service::CreateLoadBalancer, {{"Name", "b"}, {"Subnets", {"subnet-1", "subnet-x"}}}),
      "SubnetNotFound: The subnet 'subnet-x' does not exist");
}

// Paging: PageSize bounds a page and NextMarker resumes after it.
TEST_F(LoadBalancersTest, Paging) {
  for (const char* name : {"a", "b", "c"}) {
    Call(&Service::CreateLoadBalancer, {{"Name", name}, {"Subnets", {"s-1", "s-2"}}});
  }
  Json page1 = Call(&Service::DescribeLoadBalancers, {{"PageSize", 2}});
  ASSERT_EQ(page1["LoadBalancers"].size(), 2u);
  ASSERT_TRUE(page1.contains("NextMarker"));
  Json page2 =
      Call(&Service::DescribeLoadBalancers, {{"PageSize", 2}, {"Marker", page1["NextMarker"]}});
  EXPECT_EQ(page2["LoadBalancers"].size(), 1u);
  EXPECT_FALSE(page2.contains("NextMarker"));
  EXPECT_EQ(Error(&Service::DescribeLoadBalancers, {{"Names", {"nope"}}}),
            "LoadBalancerNotFound: Load balancers '[nope]' not found");
  EXPECT_EQ(Error(&Service::DescribeLoadBalancers, {{"Marker", "junk"}}),
            "ValidationError: The marker 'junk' is not valid");
}

// Deletion protection stops DeleteLoadBalancer; deleting removes its listeners and rules.
TEST_F(LoadBalancersTest, DeletionProtectionAndCascade) {
  Basic b = MakeBasic();
  Call(&Service::ModifyLoadBalancerAttributes,
       {{"LoadBalancerArn", b.lb},
        {"Attributes", {{{"Key", "deletion_protection.enabled"}, {"Value", "true"}}}}});
  EXPECT_EQ(Error(&Service::DeleteLoadBalancer, {{"LoadBalancerArn", b.lb}}),
            "OperationNotPermitted: Load balancer '" + b.lb +
                "' cannot be deleted because deletion protection is enabled");
  EXPECT_EQ(
      Error(&Service::DeleteTargetGroup, {{"TargetGroupArn", b.tg}}),
      "ResourceInUse: Target group '" + b.tg + "' is currently in use by a listener or a rule");
  Call(&Service::ModifyLoadBalancerAttributes,
       {{"LoadBalancerArn", b.lb},
        {"Attributes", {{{"Key", "deletion_protection.enabled"}, {"Value", "false"}}}}});
  EXPECT_EQ(Call(&Service::DeleteLoadBalancer, {{"LoadBalancerArn", b.lb}}), Json::object());
  EXPECT_TRUE(data_plane_.open.empty());
  EXPECT_TRUE(service_->rules_.empty());
  EXPECT_EQ(Call(&Service::DeleteTargetGroup, {{"TargetGroupArn", b.tg}}), Json::object());
  EXPECT_EQ(Error(&Service::DescribeLoadBalancers, {{"LoadBalancerArns", {b.lb}}}),
            "LoadBalancerNotFound: One or more load balancers not found");
}

// Target groups: defaults, the name rules, duplicates and LoadBalancerArns from use.
TEST_F(LoadBalancersTest, TargetGroups) {
  Json tg = Call(&Service::CreateTargetGroup,
                 {{"Name", "api"}, {"Protocol", "HTTP"}, {"Port", 8080}, {"VpcId", "vpc-1"}});
  ASSERT_TRUE(tg.contains("TargetGroups")) << tg.dump();
  tg = tg["TargetGroups"][0];
  std::string arn = tg["TargetGroupArn"];
  tg.erase("TargetGroupArn");
  EXPECT_EQ(tg, Json::parse(R"({"TargetGroupName":"api","TargetType":"instance","Protocol":"HTTP",
      "Port":8080,"VpcId":"vpc-1","HealthCheckProtocol":"HTTP","HealthCheckPort":"traffic-port",
      "HealthCheckEnabled":true,"HealthCheckPath":"/","HealthCheckIntervalSeconds":30,
      "HealthCheckTimeoutSeconds":5,"HealthyThresholdCount":5,"UnhealthyThresholdCount":2,
      "Matcher":{"HttpCode":"200"},"IpAddressType":"ipv4","ProtocolVersion":"HTTP1",
      "LoadBalancerArns":[]})"));
  EXPECT_EQ(Error(&Service::CreateTargetGroup,
                  {{"Name", "api"}, {"Protocol", "HTTP"}, {"Port", 9090}, {"VpcId", "vpc-1"}}),
            "DuplicateTargetGroupName: A target group with the same name 'api' exists, but with "
            "different settings");
  EXPECT_EQ(Error(&Service::CreateTargetGroup,
                  {{"Name", "-app"}, {"Protocol", "HTTP"}, {"Port", 9090}, {"VpcId", "vpc-1"}}),
            "ValidationError: Target group name '-app' cannot begin or end with '-'");
  EXPECT_EQ(Error(&Service::CreateTargetGroup, {{"Name", "x"},
                                                {"Protocol", "HTTP"},
                                                {"Port", 80},
                                                {"VpcId", "v"},
                                                {"HealthCheckTimeoutSeconds", 30},
                                                {"HealthCheckIntervalSeconds", 30}}),
            "InvalidConfigurationRequest: Health check timeout '30' must be smaller than the "
            "interval '30'");
  EXPECT_EQ(Error(&Service::CreateTargetGroup, {{"Name", "x"},
                                                {"Protocol", "HTTP"},
                                                {"Port", 80},
                                                {"VpcId", "v"},
                                                {"Matcher", {{"HttpCode", "200-600"}}}}),
            "ValidationError: Health check matcher HTTP code '200-600' must be within '200-499' "
            "range.");
  EXPECT_EQ(Error(&Service::CreateTargetGroup, {{"Name", "x"}, {"Protocol", "HTTP"}, {"Port", 80}}),
            "ValidationError: A VPC ID must be specified");
  Basic b = MakeBasic();
  Json described = Call(&Service::DescribeTargetGroups, {{"LoadBalancerArn", b.lb}});
  ASSERT_EQ(described["TargetGroups"].size(), 1u);
  EXPECT_EQ(described["TargetGroups"][0]["LoadBalancerArns"], Json::array({b.lb}));
  EXPECT_EQ(Error(&Service::DescribeTargetGroups, {{"Names", {"nope"}}}),
            "TargetGroupNotFound: One or more target groups not found");
}

// Everything is reloaded from the store: load balancers, target groups, listeners with
// their local ports, rules, targets, attributes and tags.
TEST_F(LoadBalancersTest, PersistAcrossReopen) {
  data_plane_.taken.insert(80);  // port 80 is busy: the listener gets another one
  Basic b = MakeBasic();
  uint16_t local = data_plane_.open[b.listener];
  EXPECT_NE(local, 80);
  Call(&Service::RegisterTargets, {{"TargetGroupArn", b.tg}, {"Targets", {{{"Id", "10.0.0.5"}}}}});
  Call(&Service::AddTags,
       {{"ResourceArns", {b.lb, b.tg}}, {"Tags", {{{"Key", "env"}, {"Value", "dev"}}}}});
  Call(&Service::ModifyTargetGroupAttributes,
       {{"TargetGroupArn", b.tg},
        {"Attributes", {{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", "10"}}}}});
  Open();
  EXPECT_EQ(data_plane_.opened.back().second, std::vector<uint16_t>({local, 80}));
  EXPECT_EQ(data_plane_.open[b.listener], local) << "the same local port after a restart";
  EXPECT_EQ(Call(&Service::DescribeTags, {{"ResourceArns", {b.lb}}})["TagDescriptions"][0]["Tags"],
            Json::parse(R"([{"Key":"env","Value":"dev"}])"));
  Json health = Call(&Service::DescribeTargetHealth, {{"TargetGroupArn", b.tg}});
  EXPECT_EQ(health["TargetHealthDescriptions"][0]["Target"],
            Json({{"Id", "10.0.0.5"}, {"Port", 8080}}));
  EXPECT_EQ(health["TargetHealthDescriptions"][0]["TargetHealth"]["State"], "initial");
  Json attrs = Call(&Service::DescribeTargetGroupAttributes, {{"TargetGroupArn", b.tg}});
  EXPECT_NE(attrs.dump().find(R"({"Key":"deregistration_delay.timeout_seconds","Value":"10"})"),
            std::string::npos);
  EXPECT_EQ(Call(&Service::DescribeRules, {{"ListenerArn", b.listener}})["Rules"].size(), 1u);
  EXPECT_EQ(data_plane_.last().listeners.size(), 1u);
}

// Reset drops every resource and closes every listener.
TEST_F(LoadBalancersTest, Reset) {
  MakeBasic();
  ASSERT_TRUE(service_->Reset().ok());
  EXPECT_TRUE(data_plane_.open.empty());
  EXPECT_EQ(Call(&Service::DescribeLoadBalancers, Json::object())["LoadBalancers"], Json::array());
  Open();
  EXPECT_EQ(Call(&Service::DescribeLoadBalancers, Json::object())["LoadBalancers"], Json::array());
}

}  // namespace
}  // namespace understudy::elb
