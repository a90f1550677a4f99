// Subnets: ranges inside the VPC, overlaps, zones, filters and EC2's errors.
#include "unit/ec2/ec2_fixture.h"

namespace understudy::ec2 {
namespace {

class SubnetsTest : public Ec2Fixture {
 protected:
  void SetUp() override {
    Ec2Fixture::SetUp();
    vpc_ = Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}})["Vpc"]["VpcId"];
  }
  std::string vpc_;
};

// CreateSubnet in a zone gives AWS's subnet document; DescribeSubnets finds it.
TEST_F(SubnetsTest, CreateDescribeDelete) {
  Json subnet = Ok("CreateSubnet", {{"VpcId", vpc_},
                                    {"CidrBlock", "10.0.1.0/24"},
                                    {"AvailabilityZone", "us-east-1b"}})["Subnet"];
  std::string id = subnet["SubnetId"];
  EXPECT_EQ(subnet["VpcId"], vpc_);
  EXPECT_EQ(subnet["AvailabilityZone"], "us-east-1b");
  EXPECT_EQ(subnet["AvailabilityZoneId"], "use1-az2");
  EXPECT_EQ(subnet["AvailableIpAddressCount"], 251);
  EXPECT_EQ(subnet["DefaultForAz"], false);
  EXPECT_EQ(subnet["MapPublicIpOnLaunch"], false);
  EXPECT_EQ(subnet["State"], "available");
  EXPECT_EQ(subnet["SubnetArn"], "arn:aws:ec2:us-east-1:000000000000:subnet/" + id);
  EXPECT_EQ(Ok("DescribeSubnets", {{"SubnetIds", {id}}})["Subnets"][0], subnet);
  Ok("DeleteSubnet", {{"SubnetId", id}});
  EXPECT_EQ(Error("DeleteSubnet", {{"SubnetId", id}}),
            "InvalidSubnetID.NotFound: The subnet ID '" + id + "' does not exist");
}

// Without a zone, subnets spread over the zones in order.
TEST_F(SubnetsTest, ZonesSpread) {
  std::vector<std::string> zones;
  for (const char* cidr : {"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"}) {
    zones.push_back(
        Ok("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", cidr}})["Subnet"]["AvailabilityZone"]);
  }
  EXPECT_EQ(zones,
            (std::vector<std::string>{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"}));
}

// Out of range, overlapping and malformed blocks, unknown VPCs and zones: EC2's errors,
// and nothing changes.
TEST_F(SubnetsTest, ErrorsChangeNothing) {
  Ok("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.0.0.0/24"}});
  Json before = Everything();
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.1.0.0/24"}}),
            "InvalidSubnet.Range: The CIDR '10.1.0.0/24' is invalid.");
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.0.0.0/29"}}),
            "InvalidSubnet.Range: The CIDR '10.0.0.0/29' is invalid.");
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.0.0.128/25"}}),
            "InvalidSubnet.Conflict: The CIDR '10.0.0.128/25' conflicts with another subnet");
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.0.0.0/15"}}),
            "InvalidSubnet.Range: The CIDR '10.0.0.0/15' is invalid.");
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", vpc_}, {"CidrBlock", "10.0.1.1/24"}}),
            "InvalidParameterValue: Value (10.0.1.1/24) for parameter cidrBlock is invalid. This "
            "is not a valid CIDR block.");
  EXPECT_EQ(Error("CreateSubnet", {{"VpcId", "vpc-123"}, {"CidrBlock", "10.0.1.0/24"}}),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-123' does not exist");
  EXPECT_EQ(
      Error("CreateSubnet",
            {{"VpcId", vpc_}, {"CidrBlock", "10.0.1.0/24"}, {"AvailabilityZone", "us-east-1z"}}),
      "InvalidParameterValue: Value (us-east-1z) for parameter availabilityZone is invalid. "
      "Subnets can currently only be created in the following availability zones: "
      "us-east-1a, us-east-1b, us-east-1c.");
  EXPECT_EQ(Error("DescribeSubnets", {{"SubnetIds", {"subnet-a"}}}),
            "InvalidSubnetID.NotFound: The subnet ID 'subnet-a' does not exist");
  EXPECT_EQ(Everything(), before);
}

// Filters by VPC, zone, default-for-az and tag, as the AWS CLI sends them.
TEST_F(SubnetsTest, Filters) {
  Ok("CreateSubnet",
     {{"VpcId", vpc_},
      {"CidrBlock", "10.0.0.0/24"},
      {"AvailabilityZone", "us-east-1c"},
      {"TagSpecifications",
       {{{"ResourceType", "subnet"}, {"Tags", {{{"Key", "tier"}, {"Value", "app"}}}}}}}});
  auto count = [&](const std::string& name, const std::string& value) {
    return Ok("DescribeSubnets", {{"Filters", {{{"Name", name}, {"Values", {value}}}}}})["Subnets"]
        .size();
  };
  EXPECT_EQ(count("vpc-id", vpc_), 1u);
  EXPECT_EQ(count("availability-zone", "us-east-1c"), 2u);
  EXPECT_EQ(count("default-for-az", "true"), 3u);
  EXPECT_EQ(count("defaultForAz", "false"), 1u);
  EXPECT_EQ(count("tag:tier", "app"), 1u);
  EXPECT_EQ(count("tag-key", "tier"), 1u);
  EXPECT_EQ(count("cidr-block", "172.31.*"), 3u);
  EXPECT_EQ(Error("CreateSubnet",
                  {{"VpcId", vpc_},
                   {"CidrBlock", "10.0.9.0/24"},
                   {"TagSpecifications", {{{"ResourceType", "vpc"}, {"Tags", Json::array()}}}}}),
            "InvalidParameterValue: 'vpc' is not a valid taggable resource type for this "
            "operation.");
}

}  // namespace
}  // namespace understudy::ec2
