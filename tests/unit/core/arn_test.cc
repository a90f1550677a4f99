#include "core/arn.h"

#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace understudy {
namespace {

// Proves an account id is exactly 12 ASCII digits.
TEST(ArnTest, IsAccountId) {
  EXPECT_TRUE(IsAccountId("123456789012"));
  EXPECT_TRUE(IsAccountId("000000000000"));
  EXPECT_TRUE(IsAccountId(kDefaultAccountId));
  EXPECT_FALSE(IsAccountId(""));
  EXPECT_FALSE(IsAccountId("12345678901"));
  EXPECT_FALSE(IsAccountId("1234567890123"));
  EXPECT_FALSE(IsAccountId("12345678901a"));
  EXPECT_FALSE(IsAccountId("AKIAIOSFODNN"));
  EXPECT_FALSE(IsAccountId(" 23456789012"));
  EXPECT_FALSE(IsAccountId("-12345678901"));
}

// Proves a 12-digit access key id is used as the account, anything else falls back to the
// default.
TEST(ArnTest, AccountFor) {
  EXPECT_EQ(AccountFor("111122223333", kDefaultAccountId), "111122223333");
  EXPECT_EQ(AccountFor("AKIAIOSFODNN7EXAMPLE", kDefaultAccountId), "000000000000");
  EXPECT_EQ(AccountFor("test", "444455556666"), "444455556666");
  EXPECT_EQ(AccountFor("", "444455556666"), "444455556666");
}

// Proves region names are letters-and-dashes, a dash, then digits.
TEST(ArnTest, IsRegionName) {
  for (const char* ok : {"us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-10",
                         "cn-north-1", "il-central-1"}) {
    EXPECT_TRUE(IsRegionName(ok)) << ok;
  }
  EXPECT_TRUE(IsRegionName(kDefaultRegion));
  for (const char* bad :
       {"", "us-east", "useast1", "us-east-", "-1", "US-EAST-1", "us_east_1", "us-east-1a",
        "us-east-1 ", "1-east-1", "us-east-x", "averyveryverylongregionnamethatgoesonandon-1"}) {
    EXPECT_FALSE(IsRegionName(bad)) << bad;
  }
}

// Proves ToString writes the six ARN fields in order and Parse reads them back.
TEST(ArnTest, ParseToStringRoundTrip) {
  for (const char* text : {
           "arn:aws:ecs:us-east-1:123456789012:cluster/web",
           "arn:aws:ecs:eu-west-1:123456789012:task/web/0123456789abcdef",
           "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*",
           "arn:aws:s3:::my-bucket/key",
           "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
           "arn:aws-cn:events:cn-north-1:123456789012:rule/nightly",
       }) {
    std::optional<Arn> arn = Arn::Parse(text);
    ASSERT_TRUE(arn.has_value()) << text;
    EXPECT_EQ(arn->ToString(), text);
  }
}

// Proves Parse splits at the first five colons and keeps later colons in the resource.
TEST(ArnTest, ParseFields) {
  std::optional<Arn> arn = Arn::Parse("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*");
  ASSERT_TRUE(arn.has_value());
  EXPECT_EQ(arn->partition, "aws");
  EXPECT_EQ(arn->service, "logs");
  EXPECT_EQ(arn->region, "us-east-1");
  EXPECT_EQ(arn->account, "123456789012");
  EXPECT_EQ(arn->resource, "log-group:/ecs/web:*");

  std::optional<Arn> s3 = Arn::Parse("arn:aws:s3:::bucket");
  ASSERT_TRUE(s3.has_value());
  EXPECT_EQ(s3->region, "");
  EXPECT_EQ(s3->account, "");
  EXPECT_EQ(s3->resource, "bucket");
}

// Proves malformed ARNs (wrong prefix, missing fields, empty partition, service or resource) are
// refused.
TEST(ArnTest, ParseInvalid) {
  for (const char* text : {
           "",
           "arn",
           "arn:aws:ecs:us-east-1:123456789012",
           "arn:aws:ecs:us-east-1:123456789012:",
           "arn:aws:ecs:us-east-1",
           "urn:aws:ecs:us-east-1:123456789012:cluster/web",
           "ARN:aws:ecs:us-east-1:123456789012:cluster/web",
           "arn::ecs:us-east-1:123456789012:cluster/web",
           "arn:aws::us-east-1:123456789012:cluster/web",
           "cluster/web",
       }) {
    EXPECT_EQ(Arn::Parse(text), std::nullopt) << text;
  }
}

// Proves MakeArn builds an aws-partition ARN in the scope's region and account.
TEST(ArnTest, MakeArn) {
  Scope scope{"123456789012", "eu-west-1"};
  EXPECT_EQ(MakeArn("ecs", scope, "cluster/web"), "arn:aws:ecs:eu-west-1:123456789012:cluster/web");
  std::optional<Arn> arn = Arn::Parse(MakeArn("events", scope, "rule/nightly"));
  ASSERT_TRUE(arn.has_value());
  EXPECT_EQ(arn->service, "events");
  EXPECT_EQ((Scope{arn->account, arn->region}), scope);
}

}  // namespace
}  // namespace understudy
