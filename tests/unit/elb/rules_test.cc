// Listeners and rules: the default rule, priorities, conditions and actions as
// aws-semantics §1.2–§1.4 has them.
#include <gtest/gtest.h>

#include "unit/elb/elbv2_fixture.h"

namespace understudy::elb {
namespace {

using RulesTest = Elbv2Fixture;

Json PathRule(const std::string& listener, int priority, const std::string& tg,
              const std::string& path) {
  return {{"ListenerArn", listener},
          {"Priority", priority},
          {"Conditions", {{{"Field", "path-pattern"}, {"Values", {path}}}}},
          {"Actions", {{{"Type", "forward"}, {"TargetGroupArn", tg}}}}};
}

// Every listener has a default rule; rules are described by priority, default last.
TEST_F(RulesTest, DefaultRuleAndPriorityOrder) {
  Basic b = MakeBasic();
  Call(&Service::CreateRule, PathRule(b.listener, 20, b.tg, "/b/*"));
  Json r10 = Call(&Service::CreateRule, PathRule(b.listener, 10, b.tg, "/a/*"))["Rules"][0];
  EXPECT_EQ(r10["Priority"], "10");
  EXPECT_EQ(r10["IsDefault"], false);
  EXPECT_EQ(r10["Conditions"],
            Json::parse(R"([{"Field":"path-pattern","PathPatternConfig":{"Values":["/a/*"]},
                             "Values":["/a/*"]}])"));
  Json rules = Call(&Service::DescribeRules, {{"ListenerArn", b.listener}})["Rules"];
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0]["Priority"], "10");
  EXPECT_EQ(rules[1]["Priority"], "20");
  EXPECT_EQ(rules[2]["Priority"], "default");
  EXPECT_EQ(rules[2]["IsDefault"], true);
  EXPECT_EQ(rules[2]["Conditions"], Json::array());
  EXPECT_EQ(Error(&Service::CreateRule, PathRule(b.listener, 10, b.tg, "/c")),
            "PriorityInUse: Priority '10' is currently in use");
  EXPECT_EQ(Error(&Service::DeleteRule, {{"RuleArn", rules[2]["RuleArn"]}}),
            "OperationNotPermitted: Default rule '" + rules[2]["RuleArn"].get<std::string>() +
                "' cannot be deleted");
  // Swapping priorities in one call is allowed; a clash with a third rule is not.
  Json swapped =
      Call(&Service::SetRulePriorities, {{"RulePriorities",
                                          {{{"RuleArn", rules[0]["RuleArn"]}, {"Priority", 20}},
                                           {{"RuleArn", rules[1]["RuleArn"]}, {"Priority", 10}}}}});
  ASSERT_EQ(swapped["Rules"].size(), 2u) << swapped.dump();
  EXPECT_EQ(Error(&Service::SetRulePriorities,
                  {{"RulePriorities", {{{"RuleArn", rules[0]["RuleArn"]}, {"Priority", 10}}}}}),
            "PriorityInUse: Priority '10' is currently in use");
  const Listener& routed = data_plane_.last().listeners.at(0);
  ASSERT_EQ(routed.rules.size(), 2u);
  EXPECT_EQ(routed.rules[0].priority, 10);
  EXPECT_EQ(routed.rules[0].conditions[0].values, std::vector<std::string>({"/b/*"}));
}

// Condition limits: one path-pattern per rule, at most 5 values and 5 wildcards.
TEST_F(RulesTest, ConditionLimits) {
  Basic b = MakeBasic();
  auto create = [&](const Json& conditions) {
    return Error(&Service::CreateRule,
                 {{"ListenerArn", b.listener},
                  {"Priority", 1},
                  {"Conditions", conditions},
                  {"Actions", {{{"Type", "forward"}, {"TargetGroupArn", b.tg}}}}});
  };
  EXPECT_EQ(create({{{"Field", "path-pattern"}, {"Values", {"/a"}}},
                    {{"Field", "path-pattern"}, {"Values", {"/b"}}}}),
            "ValidationError: A rule can only have one 'path-pattern' condition");
  EXPECT_EQ(
      create({{{"Field", "host-header"}, {"HostHeaderConfig", {{"Values", {"a.x", "b.x", "c.x"}}}}},
              {{"Field", "http-request-method"},
               {"HttpRequestMethodConfig", {{"Values", {"GET", "POST", "PUT"}}}}}}),
      "ValidationError: A rule can have at most 5 condition values, found 6");
  EXPECT_EQ(create({{{"Field", "path-pattern"},
                     {"PathPatternConfig", {{"Values", {"/*/*/*", "/*/*/*"}}}}}}),
            "ValidationError: A rule can have at most 5 wildcards in its conditions, found 6");
  EXPECT_EQ(create({{{"Field", "http-request-method"},
                     {"HttpRequestMethodConfig", {{"Values", {"get"}}}}}}),
            "ValidationError: Condition value 'get' for field 'http-request-method' is not "
            "valid: methods are up to 40 of A-Z, - and _");
  EXPECT_EQ(create({{{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", {"10.0.0.0"}}}}}}),
            "ValidationError: Condition value '10.0.0.0' for field 'source-ip' is not valid: it "
            "is not a CIDR block");
  EXPECT_EQ(create({{{"Field", "source-ip"}, {"Values", {"10.0.0.0/8"}}}}),
            "ValidationError: The 'Values' field is only valid for 'host-header' and "
            "'path-pattern' conditions; use 'SourceIpConfig'");
  EXPECT_EQ(create({{{"Field", "query-string"},
                     {"QueryStringConfig", {{"Values", {{{"Key", "v"}, {"Value", "1"}}}}}}},
                    {{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", {"10.0.0.0/8"}}}}}}),
            "");
  const Rule& rule = data_plane_.last().listeners.at(0).rules.at(0);
  EXPECT_EQ(rule.conditions[0].query[0].key, "v");
  EXPECT_EQ(rule.conditions[1].cidrs[0].prefix, 8);
}

// Actions: forward config weights, redirect loops and HTTPS → HTTP, fixed responses,
// unknown target groups and a target group on a second load balancer.
TEST_F(RulesTest, Actions) {
  Basic b = MakeBasic();
  auto create = [&](const Json& actions) {
    return Call(&Service::CreateRule,
                {{"ListenerArn", b.listener},
                 {"Priority", 5},
                 {"Conditions", {{{"Field", "path-pattern"}, {"Values", {"/x"}}}}},
                 {"Actions", actions}});
  };
  EXPECT_EQ(
      create({{{"Type", "redirect"}, {"RedirectConfig", {{"StatusCode", "HTTP_301"}}}}})["error"],
      "ValidationError: A redirect must change at least one of protocol, port, host or "
      "path, or it would loop");
  EXPECT_EQ(create({{{"Type", "fixed-response"},
                     {"FixedResponseConfig",
                      {{"StatusCode", "503"}, {"ContentType", "text/xml"}}}}})["error"],
            "ValidationError: Fixed response content type 'text/xml' is not valid; use "
            "text/plain, text/css, text/html, application/javascript or application/json");
  EXPECT_EQ(create({{{"Type", "forward"}, {"TargetGroupArn", b.tg + "0"}}})["error"],
            "TargetGroupNotFound: Target groups '" + b.tg + "0' not found");
  EXPECT_EQ(
      create({{{"Type", "forward"},
               {"ForwardConfig",
                {{"TargetGroups", {{{"TargetGroupArn", b.tg}, {"Weight", 1000}}}}}}}})["error"],
      "ValidationError: Target group weight 1000 is not valid; weights are between 0 and 999");
  Json other_tg = Call(&Service::CreateTargetGroup, {{"Name", "blue"},
                                                     {"Protocol", "HTTP"},
                                                     {"Port", 8081},
                                                     {"VpcId", "vpc-local"},
                                                     {"TargetType", "ip"}})["TargetGroups"][0];
  Json weighted =
      create({{{"Type", "forward"},
               {"ForwardConfig",
                {{"TargetGroups",
                  {{{"TargetGroupArn", b.tg}, {"Weight", 3}},
                   {{"TargetGroupArn", other_tg["TargetGroupArn"]}, {"Weight", 1}}}},
                 {"TargetGroupStickinessConfig", {{"Enabled", true}, {"DurationSeconds", 60}}}}}}});
  ASSERT_TRUE(weighted.contains("Rules")) << weighted.dump();
  const Action& action = data_plane_.last().listeners.at(0).rules.at(0).action;
  ASSERT_EQ(action.groups.size(), 2u);
  EXPECT_EQ(action.groups[0].weight, 3u);
  EXPECT_TRUE(action.group_stickiness);
  EXPECT_EQ(action.group_stickiness_seconds, 60u);
  // A second load balancer cannot forward to a target group the first one uses.
  std::string lb2 =
      Call(&Service::CreateLoadBalancer,
           {{"Name", "other"}, {"Subnets", {"s-1", "s-2"}}})["LoadBalancers"][0]["LoadBalancerArn"];
  EXPECT_EQ(Error(&Service::CreateListener,
                  {{"LoadBalancerArn", lb2},
                   {"Protocol", "HTTP"},
                   {"Port", 80},
                   {"DefaultActions", {{{"Type", "forward"}, {"TargetGroupArn", b.tg}}}}}),
            "TargetGroupAssociationLimit: The following target groups cannot be associated with "
            "more than one load balancer: " +
                b.tg);
  // HTTPS listeners need a certificate, and may not redirect to HTTP.
  Json https_redirect = {{{"Type", "redirect"},
                          {"RedirectConfig", {{"Protocol", "HTTP"}, {"StatusCode", "HTTP_302"}}}}};
  EXPECT_EQ(Error(&Service::CreateListener, {{"LoadBalancerArn", b.lb},
                                             {"Protocol", "HTTPS"},
                                             {"Port", 443},
                                             {"DefaultActions", https_redirect}}),
            "ValidationError: A certificate must be specified for HTTPS listeners");
  EXPECT_EQ(
      Error(&Service::CreateListener,
            {{"LoadBalancerArn", b.lb},
             {"Protocol", "HTTPS"},
             {"Port", 443},
             {"Certificates", {{{"CertificateArn", "arn:aws:acm:us-east-1:0:certificate/x"}}}},
             {"DefaultActions", https_redirect}}),
      "InvalidLoadBalancerAction: Redirects from HTTPS to HTTP are not allowed");
  EXPECT_EQ(
      Error(&Service::CreateListener,
            {{"LoadBalancerArn", b.lb},
             {"Protocol", "HTTP"},
             {"Port", 80},
             {"DefaultActions",
              {{{"Type", "fixed-response"}, {"FixedResponseConfig", {{"StatusCode", "404"}}}}}}}),
      "DuplicateListener: A listener already exists on this port for this load balancer '" + b.lb +
          "'");
}

// The default rule of a listener follows ModifyListener's default actions.
TEST_F(RulesTest, ModifyListenerDefaultActions) {
  Basic b = MakeBasic();
  Json fixed = {{{"Type", "fixed-response"},
                 {"FixedResponseConfig",
                  {{"StatusCode", "503"}, {"ContentType", "text/html"}, {"MessageBody", "down"}}}}};
  Call(&Service::ModifyListener, {{"ListenerArn", b.listener}, {"DefaultActions", fixed}});
  Json rules = Call(&Service::DescribeRules, {{"ListenerArn", b.listener}})["Rules"];
  EXPECT_EQ(rules[0]["Actions"][0]["Type"], "fixed-response");
  const Action& routed = data_plane_.last().listeners.at(0).default_action;
  EXPECT_EQ(routed.type, Action::Type::kFixedResponse);
  EXPECT_EQ(routed.fixed_status, 503);
  EXPECT_EQ(routed.fixed_body, "down");
  EXPECT_EQ(Call(&Service::DescribeTargetGroups,
                 {{"TargetGroupArns", {b.tg}}})["TargetGroups"][0]["LoadBalancerArns"],
            Json::array());
}

}  // namespace
}  // namespace understudy::elb
