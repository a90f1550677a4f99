// Rule evaluation: every condition type, OR within a condition, AND across a
// rule, priority order, redirect keywords (aws-semantics §1.2–§1.4).
#include "elb/rule_match.h"

#include <gtest/gtest.h>

namespace understudy::elb {
namespace {

RequestView Request(std::string_view method, std::string_view target, std::string_view host) {
  RequestView view;
  view.method = method;
  view.target = target;
  view.host = host;
  view.peer = {10, 1, 2, 3};
  return view;
}

Condition Make(Condition::Field field, std::vector<std::string> values, std::string header = "") {
  Condition condition;
  condition.field = field;
  condition.values = std::move(values);
  condition.header_name = std::move(header);
  return condition;
}

TEST(WildcardMatchTest, StarAndQuestionMark) {
  EXPECT_TRUE(WildcardMatch("/img/*", "/img/", true));
  EXPECT_TRUE(WildcardMatch("/img/*", "/img/a/b", true));
  EXPECT_FALSE(WildcardMatch("/img/*", "/img", true));
  EXPECT_TRUE(WildcardMatch("/v?/x", "/v1/x", true));
  EXPECT_FALSE(WildcardMatch("/v?/x", "/v10/x", true));
  EXPECT_FALSE(WildcardMatch("/API", "/api", true));
  EXPECT_TRUE(WildcardMatch("/API", "/api", false));
  EXPECT_TRUE(WildcardMatch("*a*b*c", "xxaxxbxxc", true));
  EXPECT_TRUE(WildcardMatch("a\\*", "a*", false, true));
  EXPECT_FALSE(WildcardMatch("a\\*", "ab", false, true));
}

TEST(ConditionTest, PathPatternIgnoresTheQueryAndIsCaseSensitive) {
  Condition path = Make(Condition::Field::kPathPattern, {"/api/*", "/health"});
  EXPECT_TRUE(ConditionMatches(path, Request("GET", "/api/users?x=/health", "h")));
  EXPECT_TRUE(ConditionMatches(path, Request("GET", "/health", "h")));
  EXPECT_FALSE(ConditionMatches(path, Request("GET", "/Health", "h")));
  EXPECT_FALSE(ConditionMatches(path, Request("GET", "/x?p=/api/", "h")));
}

TEST(ConditionTest, HostHeaderIsCaseInsensitiveWithoutPort) {
  Condition host = Make(Condition::Field::kHostHeader, {"*.example.com"});
  EXPECT_TRUE(ConditionMatches(host, Request("GET", "/", "Test.Example.com:8080")));
  EXPECT_FALSE(ConditionMatches(host, Request("GET", "/", "example.com")));
}

TEST(ConditionTest, HttpHeaderTriesEveryOccurrence) {
  Condition header = Make(Condition::Field::kHttpHeader, {"beta*"}, "X-Channel");
  RequestView view = Request("GET", "/", "h");
  view.headers = {{"x-channel", "stable"}, {"X-CHANNEL", "BETA-2"}};
  EXPECT_TRUE(ConditionMatches(header, view));
  view.headers = {{"x-channel", "stable"}};
  EXPECT_FALSE(ConditionMatches(header, view));
}

TEST(ConditionTest, MethodIsExactAndCaseSensitive) {
  Condition method = Make(Condition::Field::kHttpRequestMethod, {"POST", "PATCH"});
  EXPECT_TRUE(ConditionMatches(method, Request("PATCH", "/", "h")));
  EXPECT_FALSE(ConditionMatches(method, Request("post", "/", "h")));
}

TEST(ConditionTest, QueryStringDecodedKeysOptional) {
  Condition query;
  query.field = Condition::Field::kQueryString;
  query.query = {{std::string("version"), "v2*"}, {std::nullopt, "debug"}};
  EXPECT_TRUE(ConditionMatches(query, Request("GET", "/?a=1&VERSION=V2.1", "h")));
  EXPECT_TRUE(ConditionMatches(query, Request("GET", "/?anything=debug", "h")));
  EXPECT_TRUE(ConditionMatches(query, Request("GET", "/?version=v2%2E0", "h")));
  EXPECT_FALSE(ConditionMatches(query, Request("GET", "/?version=v1", "h")));
  EXPECT_FALSE(ConditionMatches(query, Request("GET", "/", "h")));
}

TEST(ConditionTest, SourceIpUsesThePeerAddress) {
  Condition source;
  source.field = Condition::Field::kSourceIp;
  Cidr cidr;
  ASSERT_TRUE(ParseCidr("10.1.0.0/16", cidr));
  source.cidrs = {cidr};
  EXPECT_TRUE(ConditionMatches(source, Request("GET", "/", "h")));
  RequestView other = Request("GET", "/", "h");
  other.peer = {10, 2, 0, 1};
  EXPECT_FALSE(ConditionMatches(source, other));
  Cidr v6;
  ASSERT_TRUE(ParseCidr("::1/128", v6));
  EXPECT_FALSE(ParseCidr("10.0.0.0/33", v6));
  EXPECT_FALSE(ParseCidr("10.0.0.0", v6));
}

TEST(SelectRuleTest, LowestPriorityFirstAllConditionsAndDefaultLast) {
  Listener listener;
  listener.default_action.fixed_body = "default";
  Rule both;
  both.priority = 1;
  both.conditions = {Make(Condition::Field::kPathPattern, {"/api/*"}),
                     Make(Condition::Field::kHttpRequestMethod, {"POST"})};
  both.action.fixed_body = "post-api";
  Rule api;
  api.priority = 2;
  api.conditions = {Make(Condition::Field::kPathPattern, {"/api/*"})};
  api.action.fixed_body = "api";
  listener.rules = {both, api};
  EXPECT_EQ(SelectRule(listener, Request("POST", "/api/x", "h")).action->fixed_body, "post-api");
  EXPECT_EQ(SelectRule(listener, Request("GET", "/api/x", "h")).action->fixed_body, "api");
  EXPECT_EQ(SelectRule(listener, Request("GET", "/api/x", "h")).priority, 2);
  RuleChoice fallback = SelectRule(listener, Request("GET", "/", "h"));
  EXPECT_EQ(fallback.action->fixed_body, "default");
  EXPECT_EQ(fallback.priority, 0);
}

TEST(RedirectTest, DefaultsKeepTheRequestAndKeywordsSubstitute) {
  Action action;
  action.type = Action::Type::kRedirect;
  action.redirect_protocol = "HTTPS";
  action.redirect_port = "443";
  RequestView view = Request("GET", "/a/b?x=1", "shop.example.com:80");
  EXPECT_EQ(RedirectLocation(action, view), "https://shop.example.com/a/b?x=1");
  action.redirect_host = "new.#{host}";
  action.redirect_path = "/v2/#{path}";
  action.redirect_query = "from=#{port}&#{query}";
  action.redirect_port = "8443";
  EXPECT_EQ(RedirectLocation(action, view), "https://new.shop.example.com:8443/v2/a/b?from=80&x=1");
}

}  // namespace
}  // namespace understudy::elb
