// Attributes of load balancers, target groups and listeners: every default, and the
// validation of each value.
#include <gtest/gtest.h>

#include "unit/elb/elbv2_fixture.h"

namespace understudy::elb {
namespace {

using AttributesTest = Elbv2Fixture;

Json Attr(const std::string& key, const std::string& value) {
  return Json::array({{{"Key", key}, {"Value", value}}});
}

// DescribeLoadBalancerAttributes lists the ALB defaults of aws-semantics §1.10.
TEST_F(AttributesTest, LoadBalancerDefaults) {
  Basic b = MakeBasic();
  Json attrs = Call(&Service::DescribeLoadBalancerAttributes, {{"LoadBalancerArn", b.lb}});
  std::map<std::string, std::string> got;
  for (const auto& a : attrs["Attributes"]) got[a["Key"]] = a["Value"];
  EXPECT_EQ(got["deletion_protection.enabled"], "false");
  EXPECT_EQ(got["idle_timeout.timeout_seconds"], "60");
  EXPECT_EQ(got["client_keep_alive.seconds"], "3600");
  EXPECT_EQ(got["routing.http2.enabled"], "true");
  EXPECT_EQ(got["routing.http.desync_mitigation_mode"], "defensive");
  EXPECT_EQ(got["routing.http.xff_header_processing.mode"], "append");
  EXPECT_EQ(got["access_logs.s3.enabled"], "false");
  EXPECT_EQ(got["load_balancing.cross_zone.enabled"], "true");
  EXPECT_EQ(got.size(), 19u);
}

// Each kind of bad load balancer attribute gets its own error, and changes nothing.
TEST_F(AttributesTest, LoadBalancerValidation) {
  Basic b = MakeBasic();
  auto modify = [&](const std::string& k, const std::string& v) {
    return Error(&Service::ModifyLoadBalancerAttributes,
                 {{"LoadBalancerArn", b.lb}, {"Attributes", Attr(k, v)}});
  };
  EXPECT_EQ(modify("nope", "1"),
            "ValidationError: Load balancer attribute key 'nope' is not recognized");
  EXPECT_EQ(modify("idle_timeout.timeout_seconds", "0"),
            "ValidationError: The value of 'idle_timeout.timeout_seconds' must be an integer "
            "between 1 and 4000, found '0'");
  EXPECT_EQ(modify("routing.http2.enabled", "yes"),
            "ValidationError: The value of 'routing.http2.enabled' must be 'true' or 'false', "
            "found 'yes'");
  EXPECT_EQ(modify("routing.http.xff_header_processing.mode", "drop"),
            "ValidationError: The value of 'routing.http.xff_header_processing.mode' must be one "
            "of 'append', 'preserve', 'remove', found 'drop'");
  EXPECT_EQ(modify("access_logs.s3.enabled", "true"),
            "InvalidConfigurationRequest: The value of 'access_logs.s3.bucket' cannot be empty "
            "when access_logs.s3.enabled is 'true'");
  EXPECT_EQ(modify("load_balancing.cross_zone.enabled", "false"),
            "InvalidConfigurationRequest: Cross-zone load balancing cannot be disabled for load "
            "balancers of type 'application'");
  Json ok = Call(
      &Service::ModifyLoadBalancerAttributes,
      {{"LoadBalancerArn", b.lb}, {"Attributes", Attr("idle_timeout.timeout_seconds", "120")}});
  EXPECT_NE(ok.dump().find(R"({"Key":"idle_timeout.timeout_seconds","Value":"120"})"),
            std::string::npos);
  EXPECT_EQ(data_plane_.last().load_balancers.at(b.lb).idle_timeout_seconds, 120);
}

// Access logs go under <state-dir>/alb-access-logs/<bucket>/<prefix>.
TEST_F(AttributesTest, AccessLogDirectory) {
  options_.state_dir = ::testing::TempDir() + "elb-state";
  Open();
  Basic b = MakeBasic();
  Json changes = Json::array({{{"Key", "access_logs.s3.enabled"}, {"Value", "true"}},
                              {{"Key", "access_logs.s3.bucket"}, {"Value", "logs"}},
                              {{"Key", "access_logs.s3.prefix"}, {"Value", "web"}}});
  Call(&Service::ModifyLoadBalancerAttributes,
       {{"LoadBalancerArn", b.lb}, {"Attributes", changes}});
  EXPECT_EQ(data_plane_.last().load_balancers.at(b.lb).access_log_directory,
            options_.state_dir + "/alb-access-logs/logs/web");
}

// Target group attributes: defaults and the rules of §1.7 and §1.10.
TEST_F(AttributesTest, TargetGroupValidation) {
  Basic b = MakeBasic();
  Json attrs = Call(&Service::DescribeTargetGroupAttributes, {{"TargetGroupArn", b.tg}});
  std::map<std::string, std::string> got;
  for (const auto& a : attrs["Attributes"]) got[a["Key"]] = a["Value"];
  EXPECT_EQ(got["deregistration_delay.timeout_seconds"], "300");
  EXPECT_EQ(got["stickiness.enabled"], "false");
  EXPECT_EQ(got["stickiness.type"], "lb_cookie");
  EXPECT_EQ(got["stickiness.lb_cookie.duration_seconds"], "86400");
  EXPECT_EQ(got["load_balancing.algorithm.type"], "round_robin");
  EXPECT_EQ(got["slow_start.duration_seconds"], "0");
  EXPECT_EQ(got["load_balancing.cross_zone.enabled"], "use_load_balancer_configuration");
  auto modify = [&](const Json& changes) {
    return Error(&Service::ModifyTargetGroupAttributes,
                 {{"TargetGroupArn", b.tg}, {"Attributes", changes}});
  };
  EXPECT_EQ(modify(Attr("deregistration_delay.timeout_seconds", "3601")),
            "ValidationError: The value of 'deregistration_delay.timeout_seconds' must be an "
            "integer between 0 and 3600, found '3601'");
  EXPECT_EQ(modify(Attr("slow_start.duration_seconds", "10")),
            "ValidationError: The value of 'slow_start.duration_seconds' must be 0 (off) or "
            "between 30 and 900, found '10'");
  EXPECT_EQ(modify(Attr("stickiness.app_cookie.cookie_name", "AWSALBAPP-1")),
            "ValidationError: The value of 'stickiness.app_cookie.cookie_name' cannot start with "
            "'AWSALB', 'AWSALBAPP' or 'AWSALBTG'; those names are reserved for the load balancer");
  EXPECT_EQ(modify(Json::array({{{"Key", "stickiness.enabled"}, {"Value", "true"}},
                                {{"Key", "stickiness.type"}, {"Value", "app_cookie"}}})),
            "InvalidConfigurationRequest: You must set an application cookie name to enable "
            "stickiness of type 'app_cookie'");
  EXPECT_EQ(modify(Json::array({{{"Key", "slow_start.duration_seconds"}, {"Value", "30"}},
                                {{"Key", "load_balancing.algorithm.type"},
                                 {"Value", "least_outstanding_requests"}}})),
            "InvalidConfigurationRequest: Slow start mode is not supported with the "
            "'least_outstanding_requests' load balancing algorithm");
  EXPECT_EQ(modify(Attr("foo.bar", "1")),
            "InvalidConfigurationRequest: The provided target group attribute is not supported");
  EXPECT_EQ(
      Call(&Service::ModifyTargetGroupAttributes,
           {{"TargetGroupArn", b.tg},
            {"Attributes",
             Json::array({{{"Key", "stickiness.enabled"}, {"Value", "true"}},
                          {{"Key", "stickiness.type"}, {"Value", "app_cookie"}},
                          {{"Key", "stickiness.app_cookie.cookie_name"}, {"Value", "SESSION"}}})}})
          .contains("Attributes"),
      true);
  const TargetGroup& routed = data_plane_.last().target_groups.at(b.tg);
  EXPECT_TRUE(routed.stickiness);
  EXPECT_EQ(routed.stickiness_type, "app_cookie");
  EXPECT_EQ(routed.app_cookie_name, "SESSION");
}

// Listener attributes: the response-header defaults and boolean validation.
TEST_F(AttributesTest, ListenerAttributes) {
  Basic b = MakeBasic();
  Json attrs = Call(&Service::DescribeListenerAttributes, {{"ListenerArn", b.listener}});
  EXPECT_NE(attrs.dump().find(R"({"Key":"routing.http.response.server.enabled","Value":"true"})"),
            std::string::npos);
  EXPECT_EQ(Error(&Service::ModifyListenerAttributes,
                  {{"ListenerArn", b.listener},
                   {"Attributes", Attr("routing.http.response.server.enabled", "no")}}),
            "ValidationError: The value of 'routing.http.response.server.enabled' must be 'true' "
            "or 'false', found 'no'");
}

}  // namespace
}  // namespace understudy::elb
