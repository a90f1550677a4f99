// Ec2Fixture: EC2's resources over an in-memory store, called with model-shaped JSON
// the way the front door calls them (the scope's defaults made first).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/store.h"
#include "ec2/resource_store.h"
#include "ec2/security_groups.h"
#include "ec2/subnets.h"
#include "ec2/tags.h"
#include "ec2/vpcs.h"
#include "ec2/zones.h"

namespace understudy::ec2 {

class Ec2Fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = Clock::Create(
        loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}, std::chrono::seconds(30)});
    store_ = std::move(Store::Open(":memory:")).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_TRUE(journal_->Open().ok());
    Open();
  }

  // (Re)opens the component on the same store, as a restart does.
  void Open(uint64_t seed = 7) {
    tags_.reset();
    groups_.reset();
    subnets_.reset();
    vpcs_.reset();
    resources_ = std::make_unique<ResourceStore>(*store_, Random(seed));
    ASSERT_TRUE(resources_->Open().ok());
    vpcs_ = std::make_unique<Vpcs>(*resources_, *journal_);
    subnets_ = std::make_unique<Subnets>(*resources_, *journal_);
    groups_ = std::make_unique<SecurityGroups>(*resources_, *journal_);
    tags_ = std::make_unique<Tags>(*resources_, *journal_);
  }

  // Calls `op` in `scope` (us-east-1 of account 000000000000 unless given).
  api::ApiResult Call(const std::string& op, const Json& input, const Scope& scope = kScope) {
    EXPECT_TRUE(vpcs_->EnsureDefaults(scope).ok());
    using Op = std::function<api::ApiResult(const Scope&, const Json&)>;
    std::map<std::string, Op> ops = {
        {"CreateVpc", [&](auto& s, auto& i) { return vpcs_->Create(s, i); }},
        {"DescribeVpcs", [&](auto& s, auto& i) { return vpcs_->Describe(s, i); }},
        {"DeleteVpc", [&](auto& s, auto& i) { return vpcs_->Delete(s, i); }},
        {"CreateDefaultVpc", [&](auto& s, auto& i) { return vpcs_->CreateDefault(s, i); }},
        {"DescribeAccountAttributes",
         [&](auto& s, auto& i) { return vpcs_->DescribeAccountAttributes(s, i); }},
        {"CreateSubnet", [&](auto& s, auto& i) { return subnets_->Create(s, i); }},
        {"DescribeSubnets", [&](auto& s, auto& i) { return subnets_->Describe(s, i); }},
        {"DeleteSubnet", [&](auto& s, auto& i) { return subnets_->Delete(s, i); }},
        {"CreateSecurityGroup", [&](auto& s, auto& i) { return groups_->Create(s, i); }},
        {"DescribeSecurityGroups", [&](auto& s, auto& i) { return groups_->Describe(s, i); }},
        {"DeleteSecurityGroup", [&](auto& s, auto& i) { return groups_->Delete(s, i); }},
        {"AuthorizeSecurityGroupIngress",
         [&](auto& s, auto& i) { return groups_->Authorize(s, i, false); }},
        {"AuthorizeSecurityGroupEgress",
         [&](auto& s, auto& i) { return groups_->Authorize(s, i, true); }},
        {"RevokeSecurityGroupIngress",
         [&](auto& s, auto& i) { return groups_->Revoke(s, i, false); }},
        {"RevokeSecurityGroupEgress",
         [&](auto& s, auto& i) { return groups_->Revoke(s, i, true); }},
        {"DescribeSecurityGroupRules",
         [&](auto& s, auto& i) { return groups_->DescribeRules(s, i); }},
        {"CreateTags", [&](auto& s, auto& i) { return tags_->Create(s, i); }},
        {"DeleteTags", [&](auto& s, auto& i) { return tags_->Delete(s, i); }},
        {"DescribeTags", [&](auto& s, auto& i) { return tags_->Describe(s, i); }},
        {"DescribeAvailabilityZones",
         [&](auto& s, auto& i) { return DescribeAvailabilityZones(s, i); }},
        {"DescribeRegions", [&](auto& s, auto& i) { return DescribeRegions(s, i); }},
    };
    auto it = ops.find(op);
    EXPECT_NE(it, ops.end()) << op;
    return it->second(scope, input);
  }

  // The output of a call that must succeed.
  Json Ok(const std::string& op, const Json& input, const Scope& scope = kScope) {
    api::ApiResult result = Call(op, input, scope);
    EXPECT_TRUE(result.ok()) << op << ": "
                             << (result.ok() ? ""
                                             : result.error().code + " " + result.error().message);
    return result.ok() ? result.output() : Json::object();
  }

  // "<code>: <message>" of a call that must fail.
  std::string Error(const std::string& op, const Json& input, const Scope& scope = kScope) {
    api::ApiResult result = Call(op, input, scope);
    EXPECT_FALSE(result.ok()) << op
                              << " succeeded: " << (result.ok() ? result.output().dump() : "");
    return result.ok() ? "" : result.error().code + ": " + result.error().message;
  }

  // Every resource of the scope as Describe* shows it: what "changes nothing" compares.
  Json Everything(const Scope& scope = kScope) {
    return Json{{"vpcs", Ok("DescribeVpcs", Json::object(), scope)},
                {"subnets", Ok("DescribeSubnets", Json::object(), scope)},
                {"groups", Ok("DescribeSecurityGroups", Json::object(), scope)},
                {"tags", Ok("DescribeTags", Json::object(), scope)}};
  }

  std::string DefaultVpcId(const Scope& scope = kScope) {
    return Ok("DescribeVpcs", {{"Filters", {{{"Name", "is-default"}, {"Values", {"true"}}}}}},
              scope)["Vpcs"][0]["VpcId"];
  }

  inline static const Scope kScope{"000000000000", "us-east-1"};
  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<ResourceStore> resources_;
  std::unique_ptr<Vpcs> vpcs_;
  std::unique_ptr<Subnets> subnets_;
  std::unique_ptr<SecurityGroups> groups_;
  std::unique_ptr<Tags> tags_;
};

}  // namespace understudy::ec2
