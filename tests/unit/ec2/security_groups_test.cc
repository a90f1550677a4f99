// Security groups and rules: duplicates, rule folding into IpPermissions, revoke in a
// VPC of the user's and in the default VPC, deletes refused, tags on groups and rules.
#include "unit/ec2/ec2_fixture.h"

namespace understudy::ec2 {
namespace {

class SecurityGroupsTest : public Ec2Fixture {
 protected:
  void SetUp() override {
    Ec2Fixture::SetUp();
    vpc_ = Ok("CreateVpc", {{"CidrBlock", "10.0.0.0/16"}})["Vpc"]["VpcId"];
    group_ = Ok("CreateSecurityGroup",
                {{"GroupName", "web"}, {"Description", "web tier"}, {"VpcId", vpc_}})["GroupId"];
  }
  static Json Tcp(int from, int to, const std::vector<std::string>& cidrs) {
    Json ranges = Json::array();
    for (const auto& c : cidrs) ranges.push_back({{"CidrIp", c}});
    return Json{{"IpProtocol", "tcp"}, {"FromPort", from}, {"ToPort", to}, {"IpRanges", ranges}};
  }
  Json Group(const std::string& id) {
    return Ok("DescribeSecurityGroups", {{"GroupIds", {id}}})["SecurityGroups"][0];
  }
  std::string vpc_, group_;
};

// A new group has the egress-anywhere rule and no ingress; duplicates per VPC are refused.
TEST_F(SecurityGroupsTest, CreateAndDuplicate) {
  Json group = Group(group_);
  EXPECT_EQ(group["GroupName"], "web");
  EXPECT_EQ(group["Description"], "web tier");
  EXPECT_EQ(group["IpPermissions"], Json::array());
  EXPECT_EQ(group["IpPermissionsEgress"][0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
  EXPECT_EQ(group["SecurityGroupArn"],
            "arn:aws:ec2:us-east-1:000000000000:security-group/" + group_);
  Json before = Everything();
  EXPECT_EQ(
      Error("CreateSecurityGroup",
            {{"GroupName", "web"}, {"Description", "again"}, {"VpcId", vpc_}}),
      "InvalidGroup.Duplicate: The security group 'web' already exists for VPC '" + vpc_ + "'");
  EXPECT_EQ(
      Error("CreateSecurityGroup",
            {{"GroupName", "default"}, {"Description", "x"}, {"VpcId", vpc_}}),
      "InvalidGroup.Duplicate: The security group 'default' already exists for VPC '" + vpc_ + "'");
  EXPECT_EQ(Error("CreateSecurityGroup",
                  {{"GroupName", "sg-web"}, {"Description", "x"}, {"VpcId", vpc_}}),
            "InvalidParameterValue: Group names may not be in the format sg-*.");
  EXPECT_EQ(Error("CreateSecurityGroup",
                  {{"GroupName", "x"}, {"Description", "x"}, {"VpcId", "vpc-0000"}}),
            "InvalidVpcID.NotFound: The vpc ID 'vpc-0000' does not exist");
  EXPECT_EQ(Everything(), before);
  // Without a VpcId the group goes to the default VPC, where the same name is free.
  std::string other =
      Ok("CreateSecurityGroup", {{"GroupName", "web"}, {"Description", "d"}})["GroupId"];
  EXPECT_EQ(Group(other)["VpcId"], DefaultVpcId());
}

// Rules with the same protocol and ports fold into one IpPermission; a repeat is a duplicate.
TEST_F(SecurityGroupsTest, AuthorizeFoldsAndRefusesDuplicates) {
  Json out = Ok("AuthorizeSecurityGroupIngress",
                {{"GroupId", group_},
                 {"IpPermissions",
                  {Tcp(80, 80, {"10.0.0.0/8", "192.168.0.0/16"}), Tcp(443, 443, {"0.0.0.0/0"})}}});
  EXPECT_EQ(out["Return"], true);
  ASSERT_EQ(out["SecurityGroupRules"].size(), 3u);
  EXPECT_EQ(out["SecurityGroupRules"][0]["CidrIpv4"], "10.0.0.0/8");
  EXPECT_EQ(out["SecurityGroupRules"][0]["IsEgress"], false);
  Json permissions = Group(group_)["IpPermissions"];
  ASSERT_EQ(permissions.size(), 2u);
  EXPECT_EQ(permissions[0]["FromPort"], 80);
  EXPECT_EQ(permissions[0]["IpRanges"],
            Json::parse(R"([{"CidrIp":"10.0.0.0/8"},{"CidrIp":"192.168.0.0/16"}])"));
  Json before = Everything();
  EXPECT_EQ(Error("AuthorizeSecurityGroupIngress",
                  {{"GroupId", group_}, {"IpPermissions", {Tcp(80, 80, {"10.0.0.0/8"})}}}),
            "InvalidPermission.Duplicate: the specified rule \"peer: 10.0.0.0/8, TCP, from port: "
            "80, to port: 80, ALLOW\" already exists");
  EXPECT_EQ(Error("AuthorizeSecurityGroupEgress",
                  {{"GroupId", group_},
                   {"IpPermissions",
                    {{{"IpProtocol", "-1"}, {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}}}}),
            "InvalidPermission.Duplicate: the specified rule \"peer: 0.0.0.0/0, ALL, ALLOW\" "
            "already exists");
  EXPECT_EQ(Error("AuthorizeSecurityGroupIngress",
                  {{"GroupId", group_}, {"IpPermissions", {Tcp(22, 22, {"10.0.0/8"})}}}),
            "InvalidParameterValue: CIDR block 10.0.0/8 is malformed");
  EXPECT_EQ(Error("AuthorizeSecurityGroupIngress",
                  {{"GroupId", group_},
                   {"IpPermissions",
                    {{{"IpProtocol", "tcpx"}, {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}}}}),
            "InvalidParameterValue: Invalid value 'tcpx' for IP protocol. Unknown protocol.");
  EXPECT_EQ(
      Error("AuthorizeSecurityGroupIngress", {{"GroupId", "sg-00000000000000000"},
                                              {"IpPermissions", {Tcp(22, 22, {"10.0.0.0/8"})}}}),
      "InvalidGroup.NotFound: The security group 'sg-00000000000000000' does not exist");
  // A whole request is refused when one of its rules is a duplicate.
  EXPECT_EQ(
      Error("AuthorizeSecurityGroupIngress",
            {{"GroupId", group_},
             {"IpPermissions", {Tcp(8080, 8080, {"10.0.0.0/8"}), Tcp(80, 80, {"10.0.0.0/8"})}}}),
      "InvalidPermission.Duplicate: the specified rule \"peer: 10.0.0.0/8, TCP, from port: "
      "80, to port: 80, ALLOW\" already exists");
  EXPECT_EQ(Everything(), before);
}

// The flat form (IpProtocol, ports, CidrIp) and group references as sources.
TEST_F(SecurityGroupsTest, FlatFormAndGroupSources) {
  Ok("AuthorizeSecurityGroupIngress", {{"GroupId", group_},
                                       {"IpProtocol", "6"},
                                       {"FromPort", 22},
                                       {"ToPort", 22},
                                       {"CidrIp", "10.0.0.0/16"}});
  std::string app = Ok("CreateSecurityGroup",
                       {{"GroupName", "app"}, {"Description", "app"}, {"VpcId", vpc_}})["GroupId"];
  Ok("AuthorizeSecurityGroupIngress",
     {{"GroupId", app},
      {"IpPermissions",
       {{{"IpProtocol", "tcp"},
         {"FromPort", 8080},
         {"ToPort", 8080},
         {"UserIdGroupPairs", {{{"GroupId", group_}, {"Description", "from web"}}}}}}}});
  Json permission = Group(app)["IpPermissions"][0];
  EXPECT_EQ(permission["UserIdGroupPairs"],
            Json::parse(R"([{"Description":"from web","GroupId":")" + group_ +
                        R"(","UserId":"000000000000"}])"));
  Json rules =
      Ok("DescribeSecurityGroupRules",
         {{"Filters", {{{"Name", "group-id"}, {"Values", {group_}}}}}})["SecurityGroupRules"];
  ASSERT_EQ(rules.size(), 2u);  // egress anywhere and tcp/22
  EXPECT_EQ(rules[1]["IpProtocol"], "tcp");
  EXPECT_EQ(rules[1]["CidrIpv4"], "10.0.0.0/16");
  // web is referenced by app's rule: it cannot be deleted until the rule is revoked.
  EXPECT_EQ(Error("DeleteSecurityGroup", {{"GroupId", group_}}),
            "DependencyViolation: resource " + group_ + " has a dependent object");
  Ok("RevokeSecurityGroupIngress", {{"GroupId", app},
                                    {"IpPermissions",
                                     {{{"IpProtocol", "tcp"},
                                       {"FromPort", 8080},
                                       {"ToPort", 8080},
                                       {"UserIdGroupPairs", {{{"GroupId", group_}}}}}}}});
  EXPECT_EQ(Ok("DeleteSecurityGroup", {{"GroupId", group_}}),
            Json({{"Return", true}, {"GroupId", group_}}));
}

// Revoking a rule that does not exist: an error in a user's VPC, reported in the default VPC.
TEST_F(SecurityGroupsTest, RevokeUnknownRule) {
  Ok("AuthorizeSecurityGroupIngress",
     {{"GroupId", group_}, {"IpPermissions", {Tcp(80, 80, {"0.0.0.0/0"})}}});
  Json before = Everything();
  EXPECT_EQ(Error("RevokeSecurityGroupIngress",
                  {{"GroupId", group_}, {"IpPermissions", {Tcp(81, 81, {"0.0.0.0/0"})}}}),
            "InvalidPermission.NotFound: The specified rule does not exist in this security "
            "group.");
  EXPECT_EQ(Everything(), before);
  Json revoked = Ok("RevokeSecurityGroupIngress",
                    {{"GroupId", group_}, {"IpPermissions", {Tcp(80, 80, {"0.0.0.0/0"})}}});
  EXPECT_EQ(revoked["RevokedSecurityGroupRules"][0]["CidrIpv4"], "0.0.0.0/0");
  EXPECT_EQ(Group(group_)["IpPermissions"], Json::array());

  std::string in_default =
      Ok("CreateSecurityGroup", {{"GroupName", "d"}, {"Description", "d"}})["GroupId"];
  Json out = Ok("RevokeSecurityGroupIngress",
                {{"GroupId", in_default}, {"IpPermissions", {Tcp(81, 81, {"0.0.0.0/0"})}}});
  EXPECT_EQ(out["Return"], true);
  EXPECT_EQ(out["UnknownIpPermissions"][0]["FromPort"], 81);
  EXPECT_EQ(out["UnknownIpPermissions"][0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
}

// Revoke by rule id; unknown rule ids are refused.
TEST_F(SecurityGroupsTest, RevokeByRuleId) {
  Json added = Ok("AuthorizeSecurityGroupIngress",
                  {{"GroupId", group_}, {"IpPermissions", {Tcp(80, 80, {"0.0.0.0/0"})}}});
  std::string rule = added["SecurityGroupRules"][0]["SecurityGroupRuleId"];
  EXPECT_EQ(rule.rfind("sgr-", 0), 0u);
  EXPECT_EQ(Error("RevokeSecurityGroupIngress",
                  {{"GroupId", group_}, {"SecurityGroupRuleIds", {"sgr-0000"}}}),
            "InvalidSecurityGroupRuleId.NotFound: The security group rule ID 'sgr-0000' does not "
            "exist");
  Ok("RevokeSecurityGroupIngress", {{"GroupId", group_}, {"SecurityGroupRuleIds", {rule}}});
  EXPECT_EQ(Group(group_)["IpPermissions"], Json::array());
}

// A VPC's default group cannot be deleted; unknown groups by id and by name are not found.
TEST_F(SecurityGroupsTest, DeleteRefusals) {
  std::string default_group =
      Ok("DescribeSecurityGroups",
         {{"Filters",
           {{{"Name", "vpc-id"}, {"Values", {vpc_}}},
            {{"Name", "group-name"}, {"Values", {"default"}}}}}})["SecurityGroups"][0]["GroupId"];
  EXPECT_EQ(Error("DeleteSecurityGroup", {{"GroupId", default_group}}),
            "CannotDelete: the specified group: \"" + default_group +
                "\" name: \"default\" cannot be deleted by a user");
  EXPECT_EQ(Error("DeleteSecurityGroup", {{"GroupId", "sg-1"}}),
            "InvalidGroup.NotFound: The security group 'sg-1' does not exist");
  EXPECT_EQ(Error("DeleteSecurityGroup", {{"GroupName", "nope"}}),
            "InvalidGroup.NotFound: The security group 'nope' does not exist in default VPC '" +
                DefaultVpcId() + "'");
  EXPECT_EQ(Error("DescribeSecurityGroups", {{"GroupIds", {"web"}}}),
            "InvalidGroupId.Malformed: Invalid id: \"web\" (expecting \"sg-...\")");
}

// Tags on groups and rules: set, described, filtered, deleted by key or key and value.
TEST_F(SecurityGroupsTest, Tags) {
  Json added = Ok("AuthorizeSecurityGroupIngress",
                  {{"GroupId", group_}, {"IpPermissions", {Tcp(80, 80, {"0.0.0.0/0"})}}});
  std::string rule = added["SecurityGroupRules"][0]["SecurityGroupRuleId"];
  Ok("CreateTags",
     {{"Resources", {group_, rule, vpc_}},
      {"Tags", {{{"Key", "team"}, {"Value", "web"}}, {{"Key", "env"}, {"Value", "dev"}}}}});
  EXPECT_EQ(Group(group_)["Tags"],
            Json::parse(R"([{"Key":"env","Value":"dev"},{"Key":"team","Value":"web"}])"));
  Json described =
      Ok("DescribeTags", {{"Filters", {{{"Name", "resource-id"}, {"Values", {rule}}}}}});
  EXPECT_EQ(described["Tags"][0], Json({{"ResourceId", rule},
                                        {"ResourceType", "security-group-rule"},
                                        {"Key", "env"},
                                        {"Value", "dev"}}));
  EXPECT_EQ(Ok("DescribeSecurityGroups",
               {{"Filters", {{{"Name", "tag:team"}, {"Values", {"web"}}}}}})["SecurityGroups"]
                .size(),
            1u);
  Ok("DeleteTags", {{"Resources", {group_}}, {"Tags", {{{"Key", "team"}, {"Value", "other"}}}}});
  EXPECT_EQ(Group(group_)["Tags"].size(), 2u);  // the value did not match
  Ok("DeleteTags", {{"Resources", {group_}}, {"Tags", {{{"Key", "team"}}}}});
  EXPECT_EQ(Group(group_)["Tags"], Json::parse(R"([{"Key":"env","Value":"dev"}])"));
  Ok("DeleteTags", {{"Resources", {group_}}});
  EXPECT_FALSE(Group(group_).contains("Tags"));
  // One unknown id refuses the whole request.
  Json before = Everything();
  EXPECT_EQ(Error("CreateTags", {{"Resources", {vpc_, "subnet-0000"}}, {"Tags", {{{"Key", "a"}}}}}),
            "InvalidSubnetID.NotFound: The subnet ID 'subnet-0000' does not exist");
  EXPECT_EQ(Error("CreateTags", {{"Resources", {"i-123"}}, {"Tags", {{{"Key", "a"}}}}}),
            "InvalidID: The ID 'i-123' is not valid");
  EXPECT_EQ(Everything(), before);
}

}  // namespace
}  // namespace understudy::ec2
