// EC2 filters: wildcards, unknown names, tag filters, and any-of/all-of semantics.
#include "ec2/filters.h"

#include <gtest/gtest.h>

namespace understudy::ec2 {
namespace {

// `*` and `?` are wildcards; a backslash makes them literal.
TEST(FiltersTest, Wildcards) {
  EXPECT_TRUE(WildcardMatch("vpc-*", "vpc-0123"));
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("us-east-1?", "us-east-1a"));
  EXPECT_FALSE(WildcardMatch("us-east-1?", "us-east-1"));
  EXPECT_TRUE(WildcardMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(WildcardMatch("a*b*c", "axxbyy"));
  EXPECT_TRUE(WildcardMatch("web\\*", "web*"));
  EXPECT_FALSE(WildcardMatch("web\\*", "webserver"));
  EXPECT_FALSE(WildcardMatch("Web", "web"));  // case matters
}

Json FilterInput(const std::vector<std::pair<std::string, std::vector<std::string>>>& filters) {
  Json list = Json::array();
  for (const auto& [name, values] : filters) list.push_back({{"Name", name}, {"Values", values}});
  return Json{{"Filters", list}};
}

// An unknown filter name is EC2's InvalidParameterValue; tag filters are always known.
TEST(FiltersTest, UnknownNameIsRefused) {
  Filters filters = Filters::From(FilterInput({{"tag:Name", {"x"}}, {"colour", {"red"}}}));
  auto error = filters.Check({"vpc-id"});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "InvalidParameterValue");
  EXPECT_EQ(error->message, "The filter 'colour' is invalid");
  EXPECT_FALSE(Filters::From(FilterInput({{"tag-key", {"x"}}})).Check({}).has_value());
}

// Values of one filter are alternatives; separate filters must all match.
TEST(FiltersTest, AnyValueAllFilters) {
  auto fields = [](const std::string& name) -> std::optional<std::vector<std::string>> {
    if (name == "vpc-id") return std::vector<std::string>{"vpc-1"};
    if (name == "state") return std::vector<std::string>{"available"};
    return std::nullopt;
  };
  Json tags = Json::array({{{"Key", "Name"}, {"Value", "web"}}, {{"Key", "env"}, {"Value", ""}}});
  auto matches = [&](const Json& input) { return Filters::From(input).Matches(fields, tags); };
  EXPECT_TRUE(matches(FilterInput({{"vpc-id", {"vpc-2", "vpc-1"}}})));
  EXPECT_FALSE(matches(FilterInput({{"vpc-id", {"vpc-1"}}, {"state", {"pending"}}})));
  EXPECT_TRUE(matches(FilterInput({{"tag:Name", {"w*"}}})));
  EXPECT_FALSE(matches(FilterInput({{"tag:Name", {"db"}}})));
  EXPECT_FALSE(matches(FilterInput({{"tag:Owner", {"*"}}})));
  EXPECT_TRUE(matches(FilterInput({{"tag-key", {"env"}}})));
  EXPECT_TRUE(matches(Json::object()));
}

}  // namespace
}  // namespace understudy::ec2
