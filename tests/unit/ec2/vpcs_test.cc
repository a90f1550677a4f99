// VPCs: every scope's defaults, CreateVpc/DeleteVpc with EC2's errors, account
// attributes, persistence across a reopen, reset and isolation per scope.
#include <regex>

#include "unit/ec2/ec2_fixture.h"

namespace understudy::ec2 {
namespace {

using VpcsTest = Ec2Fixture;

bool LooksLikeId(const std::string& id, const std::string& prefix) {
  return std::regex_match(id, std::regex(prefix + "-[0-9a-f]{17}"));
}

// A scope's first use gives it a default VPC, a default subnet per zone and a default group.
TEST_F(VpcsTest, DefaultsOnFirstUse) {
  Json vpcs = Ok("DescribeVpcs", Json::object())["Vpcs"];
  ASSERT_EQ(vpcs.size(), 1u);
  EXPECT_EQ(vpcs[0]["CidrBlock"], "172.31.0.0/16");
  EXPECT_EQ(vpcs[0]["IsDefault"], true);
  EXPECT_EQ(vpcs[0]["State"], "available");
  EXPECT_FALSE(vpcs[0].contains("Tags"));
  std::string vpc_id = vpcs[0]["VpcId"];
  EXPECT_TRUE(LooksLikeId(vpc_id, "vpc")) << vpc_id;

  Json subnets = Ok("DescribeSubnets", Json::object())["Subnets"];
  ASSERT_EQ(subnets.size(), 3u);
  std::vector<std::string> cidrs, zones, zone_ids;
  for (const auto& s : subnets) {
    EXPECT_TRUE(LooksLikeId(s["SubnetId"], "subnet"));
    EXPECT_EQ(s["VpcId"], vpc_id);
    EXPECT_EQ(s["DefaultForAz"], true);
    EXPECT_EQ(s["MapPublicIpOnLaunch"], true);
    EXPECT_EQ(s["AvailableIpAddressCount"], 4091);
    cidrs.push_back(s["CidrBlock"]);
    zones.push_back(s["AvailabilityZone"]);
    zone_ids.push_back(s["AvailabilityZoneId"]);
  }
  EXPECT_EQ(cidrs, (std::vector<std::string>{"172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"}));
  EXPECT_EQ(zones, (std::vector<std::string>{"us-east-1a", "us-east-1b", "us-east-1c"}));
  EXPECT_EQ(zone_ids, (std::vector<std::string>{"use1-az1", "use1-az2", "use1-az3"}));

  Json groups = Ok("DescribeSecurityGroups", Json::object())["SecurityGroups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupName"], "default");
  EXPECT_EQ(groups[0]["Description"], "default VPC security group");
  EXPECT_EQ(groups[0]["VpcId"], vpc_id);
  std::string group_id = groups[0]["GroupId"];
  EXPECT_EQ(groups[0]["IpPermissions"],
            Json::parse(R"([{"IpProtocol":"-1","IpRanges":[],"Ipv6Ranges":[],"PrefixListIds":[],
                "UserIdGroupPairs":[{"GroupId":")" +
                        group_id + R"(","UserId":"000000000000"}]}])"));
  EXPECT_EQ(groups[0]["IpPermissionsEgress"],
            Json::parse(R"([{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}],
                "Ipv6Ranges":[],"PrefixListIds":[],"UserIdGroupPairs":[]}])"));
}

// The defaults' ids depend on the seed and the scope only, not on which scope came first.
TEST_F(VpcsTest, DefaultIdsAreDeterministic) {
  Scope west{"000000000000", "eu-west-1"};
  std::string east_first = DefaultVpcId();
  std::string west_second = DefaultVpcId(west);
  EXPECT_NE(east_first, west_second);
  auto other = std::move(Store::Open(":memory:")).value();
  store_.swap(other);
  journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
  ASSERT_TRUE(journal_->Open().ok());
  Open();
  EXPECT_EQ(DefaultVpcId(west), west_second);
  EXPECT_EQ(DefaultVpcId(), east_first);
  Json zones = Ok("DescribeSubnets", Json::object(), west)["Subnets"][1];
  EXPECT_EQ(zones["AvailabilityZone"], "eu-west-1b");
  EXPECT_EQ(zones["AvailabilityZoneId"], "euw1-az2");
}

// CreateVpc gives the VPC its own default group; DescribeVpcs finds it by id and filter.
TEST_F(VpcsTest, CreateDescribe) {
  Json vpc =
      Ok("CreateVpc",
         {{"CidrBlock", "10.0.0.0/16"},
          {"TagSpecifications",
           {{{"ResourceType", "vpc"}, {"Tags", {{{"Key", "Name"}, {"Value", "main"}}}}}}}})["Vpc"];
  std::string id = vpc["VpcId"];
  EXPECT_EQ(vpc["IsDefault"], false);
  EXPECT_EQ(vpc["InstanceTenancy"], "default");
  EXPECT_EQ(vpc["Tags"], Json::parse(R"([{"Key":"Name","Value":"main"}])"));
  EXPECT_EQ(vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"], "associated");
  EXPECT_EQ(Ok("DescribeVpcs", {{"VpcIds", {id}}})["Vpcs"][0], vpc);
  EXPECT_EQ(
      Ok("DescribeVpcs", {{"Filters", {{{"Name", "tag:Name"}, {"Values", {"main"}}}}}})["Vpcs"]
          .size(),
      1u);
  EXPECT_EQ(Ok("DescribeVpcs",
               {{"Filters", {{{"Name", "cidr-block"}, {"Values", {"10.*"}}}}}})["Vpcs"][0]["VpcId"],
            id);
  Json groups = Ok("DescribeSecurityGroups",
                   {{"Filters", {{{"Name", "vpc-id"}, {"Values", {id}}}}}})["SecurityGroups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupName"], "default");
}

// Bad CIDRs and unknown ids are EC2's errors, word for word, and change nothing.
TEST_F(VpcsTest, ErrorsChangeNothing) {
  Json before = Everything();
  EXPECT_EQ(Error("CreateVpc", {{"CidrBlock", "10.0.0.0/33"}}),
            "InvalidParameterValue: Value (10.0.0.0/33) for parameter cidrBlock is invalid. This "
            "is not a valid CIDR block.");
  EXPECT_EQ(Error("CreateVpc", {{"CidrBlock", "10.0.0.0/8"}}),
            "InvalidVpc.Range: The CIDR '10.0.0.0/8' is invalid.");
  EXPECT_EQ(Error("CreateVpc",
                  {{"CidrBlock", "10.0.0.0/16"},
                   {"TagSpecifications",
                    {{{"ResourceType", "vpc"}, {"Tags", {{{"Key", "aws:x"}, {"Value", "1"}}}}}}}}),
            "InvalidParameterValue: Tag keys starting with 'aws:' are reserved for internal use");
  EXPECT_EQ(Error("DescribeVpcs", {{"VpcIds", {"vpc-123"}}}),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-123' does not exist");
  EXPECT_EQ(Error("DeleteVpc", {{"VpcId", "vpc-123"}}),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-123' does not exist");
  EXPECT_EQ(Error("DescribeVpcs", {{"VpcIds", {"main"}}}),
            "InvalidVpcID.Malformed: Invalid id: \"main\" (expecting \"vpc-...\")");
  EXPECT_EQ(Error("DescribeVpcs", {{"Filters", {{{"Name", "colour"}, {"Values", {"red"}}}}}}),
            "InvalidParameterValue: The filter 'colour' is invalid");
  EXPECT_EQ(Everything(), before);
}

// A VPC with a subnet or a group of its own cannot be deleted; once empty it can, with
// its default group.
TEST_F(VpcsTest, DeleteDependencies) {
  std::string vpc = Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}})["Vpc"]["VpcId"];
  std::string subnet =
      Ok("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.0.1.0/24"}})["Subnet"]["SubnetId"];
  std::string dependent =
      "DependencyViolation: The vpc '" + vpc + "' has dependencies and cannot be deleted.";
  EXPECT_EQ(Error("DeleteVpc", {{"VpcId", vpc}}), dependent);
  Ok("DeleteSubnet", {{"SubnetId", subnet}});
  std::string group = Ok("CreateSecurityGroup",
                         {{"GroupName", "web"}, {"Description", "web"}, {"VpcId", vpc}})["GroupId"];
  EXPECT_EQ(Error("DeleteVpc", {{"VpcId", vpc}}), dependent);
  Ok("DeleteSecurityGroup", {{"GroupId", group}});
  Ok("DeleteVpc", {{"VpcId", vpc}});
  EXPECT_EQ(Ok("DescribeVpcs", Json::object())["Vpcs"].size(), 1u);
  EXPECT_EQ(Ok("DescribeSecurityGroups", Json::object())["SecurityGroups"].size(), 1u);
}

// The default VPC can be deleted once empty; CreateDefaultVpc then makes a new one, and
// refuses while one exists.
TEST_F(VpcsTest, CreateDefaultVpc) {
  EXPECT_EQ(Error("CreateDefaultVpc", Json::object()),
            "DefaultVpcAlreadyExists: A Default VPC already exists for this account in this "
            "region.");
  std::string old_id = DefaultVpcId();
  Json subnets = Ok("DescribeSubnets", Json::object())["Subnets"];
  for (const auto& s : subnets) {
    Ok("DeleteSubnet", {{"SubnetId", s["SubnetId"]}});
  }
  Ok("DeleteVpc", {{"VpcId", old_id}});
  EXPECT_EQ(Ok("DescribeVpcs", Json::object())["Vpcs"], Json::array());
  EXPECT_EQ(Ok("DescribeAccountAttributes", {{"AttributeNames", {"default-vpc"}}}),
            Json::parse(R"({"AccountAttributes":[{"AttributeName":"default-vpc",
                "AttributeValues":[{"AttributeValue":"none"}]}]})"));
  Json vpc = Ok("CreateDefaultVpc", Json::object())["Vpc"];
  EXPECT_NE(vpc["VpcId"], old_id);
  EXPECT_EQ(vpc["IsDefault"], true);
  EXPECT_EQ(Ok("DescribeSubnets", Json::object())["Subnets"].size(), 3u);
}

// Account attributes name the default VPC; AttributeNames picks some.
TEST_F(VpcsTest, AccountAttributes) {
  Json all = Ok("DescribeAccountAttributes", Json::object())["AccountAttributes"];
  std::map<std::string, std::string> values;
  for (const auto& a : all) values[a["AttributeName"]] = a["AttributeValues"][0]["AttributeValue"];
  EXPECT_EQ(values,
            (std::map<std::string, std::string>{{"default-vpc", DefaultVpcId()},
                                                {"max-elastic-ips", "5"},
                                                {"max-instances", "20"},
                                                {"supported-platforms", "VPC"},
                                                {"vpc-max-elastic-ips", "5"},
                                                {"vpc-max-security-groups-per-interface", "5"}}));
  Json one = Ok("DescribeAccountAttributes", {{"AttributeNames", {"supported-platforms"}}});
  EXPECT_EQ(one["AccountAttributes"].size(), 1u);
}

// A reopen on the same store keeps every resource and hands out no id twice.
TEST_F(VpcsTest, PersistAcrossReopen) {
  std::string first = Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}})["Vpc"]["VpcId"];
  Json before = Everything();
  Open();
  EXPECT_EQ(Everything(), before);
  std::string second = Ok("CreateVpc", {{"CidrBlock", "10.1.0.0/16"}})["Vpc"]["VpcId"];
  EXPECT_NE(first, second);
}

// Reset drops everything; the next use brings back the same defaults.
TEST_F(VpcsTest, ResetRestoresDefaults) {
  std::string default_vpc = DefaultVpcId();
  Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}});
  ASSERT_TRUE(resources_->Reset().ok());
  Json vpcs = Ok("DescribeVpcs", Json::object())["Vpcs"];
  ASSERT_EQ(vpcs.size(), 1u);
  EXPECT_EQ(vpcs[0]["VpcId"], default_vpc);
}

// Scopes are isolated: another account or region neither sees nor deletes a VPC.
TEST_F(VpcsTest, ScopesAreIsolated) {
  std::string vpc = Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}})["Vpc"]["VpcId"];
  Scope other_account{"111111111111", "us-east-1"};
  Scope other_region{"000000000000", "us-west-2"};
  for (const Scope& scope : {other_account, other_region}) {
    EXPECT_EQ(Error("DescribeVpcs", {{"VpcIds", {vpc}}}, scope),
              "InvalidVpcID.NotFound: The vpc ID '" + vpc + "' does not exist");
    EXPECT_EQ(Ok("DescribeVpcs", Json::object(), scope)["Vpcs"].size(), 1u);
  }
  EXPECT_NE(DefaultVpcId(other_account), DefaultVpcId());
}

// MaxResults pages with a NextToken that resumes where the page ended.
TEST_F(VpcsTest, Paging) {
  for (const char* cidr : {"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"}) {
    Ok("CreateVpc", {{"CidrBlock", cidr}});
  }
  Json page1 = Ok("DescribeVpcs", {{"MaxResults", 3}});
  ASSERT_EQ(page1["Vpcs"].size(), 3u);
  ASSERT_TRUE(page1.contains("NextToken"));
  Json page2 = Ok("DescribeVpcs", {{"MaxResults", 3}, {"NextToken", page1["NextToken"]}});
  ASSERT_EQ(page2["Vpcs"].size(), 1u);
  EXPECT_EQ(page2["Vpcs"][0]["CidrBlock"], "10.2.0.0/16");
  EXPECT_FALSE(page2.contains("NextToken"));
  // A page of nothing would never end: DescribeTags (unbounded in the model) refuses it.
  EXPECT_EQ(Error("DescribeTags", {{"MaxResults", 0}}),
            "InvalidParameterValue: Value (0) for parameter maxResults is invalid. Expecting a "
            "value greater than 0.");
  EXPECT_EQ(Error("DescribeVpcs", {{"NextToken", "x"}}),
            "InvalidParameterValue: Invalid value 'x' for NextToken");
}

// Zones and regions: the scope's three zones, filters, and an unknown zone refused.
TEST_F(VpcsTest, ZonesAndRegions) {
  Json zones = Ok("DescribeAvailabilityZones", Json::object())["AvailabilityZones"];
  ASSERT_EQ(zones.size(), 3u);
  EXPECT_EQ(zones[2]["ZoneName"], "us-east-1c");
  EXPECT_EQ(zones[2]["ZoneId"], "use1-az3");
  EXPECT_EQ(zones[2]["State"], "available");
  EXPECT_EQ(Ok("DescribeAvailabilityZones",
               {{"ZoneIds", {"use1-az2"}}})["AvailabilityZones"][0]["ZoneName"],
            "us-east-1b");
  EXPECT_EQ(Error("DescribeAvailabilityZones", {{"ZoneNames", {"us-east-1z"}}}),
            "InvalidParameterValue: Invalid availability zone: [us-east-1z]");
  Json regions = Ok("DescribeRegions", {{"RegionNames", {"eu-central-1"}}})["Regions"];
  EXPECT_EQ(regions, Json::parse(R"([{"Endpoint":"ec2.eu-central-1.amazonaws.com",
      "OptInStatus":"opt-in-not-required","RegionName":"eu-central-1"}])"));
  EXPECT_EQ(RegionCode("ap-northeast-1"), "apne1");
  EXPECT_EQ(RegionCode("us-gov-west-1"), "usgw1");
}

}  // namespace
}  // namespace understudy::ec2
