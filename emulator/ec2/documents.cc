#include "ec2/documents.h"

#include <tuple>
#include <vector>

#include "ec2/ec2_internal.h"

namespace understudy::ec2 {
namespace {

const Json kBlockPublicAccess = {{"InternetGatewayBlockMode", "off"}};

}  // namespace

Json VpcDoc(const Scope& scope, const IdSource& ids, const std::string& vpc_id, const Cidr& cidr,
            bool is_default, const std::string& tenancy, const Json& tags) {
  return Json{
      {"VpcId", vpc_id},
      {"OwnerId", scope.account},
      {"InstanceTenancy", tenancy},
      {"CidrBlock", cidr.ToString()},
      {"CidrBlockAssociationSet", Json::array({{{"AssociationId", ids("vpc-cidr-assoc")},
                                                {"CidrBlock", cidr.ToString()},
                                                {"CidrBlockState", {{"State", "associated"}}}}})},
      {"DhcpOptionsId", ids("dopt")},
      {"IsDefault", is_default},
      {"State", "available"},
      {"BlockPublicAccessStates", kBlockPublicAccess},
      {"Tags", tags}};
}

Json SubnetDoc(const Scope& scope, const std::string& subnet_id, const std::string& vpc_id,
               const Cidr& cidr, const Zone& zone, bool default_for_az, const Json& tags) {
  return Json{{"SubnetId", subnet_id},
              {"SubnetArn", MakeArn("ec2", scope, "subnet/" + subnet_id)},
              {"VpcId", vpc_id},
              {"OwnerId", scope.account},
              {"CidrBlock", cidr.ToString()},
              // AWS reserves five addresses of every subnet.
              {"AvailableIpAddressCount", static_cast<int64_t>(cidr.Size()) - 5},
              {"AvailabilityZone", zone.name},
              {"AvailabilityZoneId", zone.id},
              {"DefaultForAz", default_for_az},
              {"MapPublicIpOnLaunch", default_for_az},
              {"MapCustomerOwnedIpOnLaunch", false},
              {"AssignIpv6AddressOnCreation", false},
              {"Ipv6CidrBlockAssociationSet", Json::array()},
              {"Ipv6Native", false},
              {"EnableDns64", false},
              {"PrivateDnsNameOptionsOnLaunch",
               {{"HostnameType", "ip-name"},
                {"EnableResourceNameDnsARecord", false},
                {"EnableResourceNameDnsAAAARecord", false}}},
              {"BlockPublicAccessStates", kBlockPublicAccess},
              {"State", "available"},
              {"Tags", tags}};
}

Json RuleDoc(const Scope& scope, const std::string& rule_id, const std::string& group_id,
             bool egress, const std::string& protocol, int64_t from_port, int64_t to_port,
             const RuleSource& source, const Json& tags) {
  Json rule{{"SecurityGroupRuleId", rule_id},
            {"SecurityGroupRuleArn", MakeArn("ec2", scope, "security-group-rule/" + rule_id)},
            {"GroupId", group_id},
            {"GroupOwnerId", scope.account},
            {"IsEgress", egress},
            {"IpProtocol", protocol},
            {"FromPort", from_port},
            {"ToPort", to_port},
            {"Tags", tags}};
  if (!source.cidr_ipv4.empty()) rule["CidrIpv4"] = source.cidr_ipv4;
  if (!source.cidr_ipv6.empty()) rule["CidrIpv6"] = source.cidr_ipv6;
  if (!source.prefix_list_id.empty()) rule["PrefixListId"] = source.prefix_list_id;
  if (!source.group_id.empty()) {
    rule["ReferencedGroupInfo"] = Json{{"GroupId", source.group_id}, {"UserId", scope.account}};
  }
  if (!source.description.empty()) rule["Description"] = source.description;
  return rule;
}

Json SecurityGroupDoc(const Scope& scope, const IdSource& ids, const std::string& group_id,
                      const std::string& name, const std::string& description,
                      const std::string& vpc_id, bool vpc_default, const Json& tags) {
  Json rules = Json::array();
  if (vpc_default) {
    RuleSource self;
    self.group_id = group_id;
    rules.push_back(RuleDoc(scope, ids("sgr"), group_id, false, "-1", -1, -1, self, Json::array()));
  }
  RuleSource anywhere;
  anywhere.cidr_ipv4 = "0.0.0.0/0";
  rules.push_back(
      RuleDoc(scope, ids("sgr"), group_id, true, "-1", -1, -1, anywhere, Json::array()));
  return Json{{"GroupId", group_id},
              {"GroupName", name},
              {"Description", description},
              {"VpcId", vpc_id},
              {"OwnerId", scope.account},
              {"SecurityGroupArn", MakeArn("ec2", scope, "security-group/" + group_id)},
              {"Tags", tags},
              {"_rules", rules}};
}

Json PermissionOf(const Json& rule) {
  Json permission{{"IpProtocol", rule["IpProtocol"]},
                  {"IpRanges", Json::array()},
                  {"Ipv6Ranges", Json::array()},
                  {"PrefixListIds", Json::array()},
                  {"UserIdGroupPairs", Json::array()}};
  if (rule["IpProtocol"] != "-1") {
    permission["FromPort"] = rule["FromPort"];
    permission["ToPort"] = rule["ToPort"];
  }
  auto with_description = [&](Json entry) {
    if (rule.contains("Description")) entry["Description"] = rule["Description"];
    return entry;
  };
  if (rule.contains("CidrIpv4")) {
    permission["IpRanges"].push_back(with_description({{"CidrIp", rule["CidrIpv4"]}}));
  } else if (rule.contains("CidrIpv6")) {
    permission["Ipv6Ranges"].push_back(with_description({{"CidrIpv6", rule["CidrIpv6"]}}));
  } else if (rule.contains("PrefixListId")) {
    permission["PrefixListIds"].push_back(
        with_description({{"PrefixListId", rule["PrefixListId"]}}));
  } else if (rule.contains("ReferencedGroupInfo")) {
    permission["UserIdGroupPairs"].push_back(
        with_description({{"GroupId", rule["ReferencedGroupInfo"]["GroupId"]},
                          {"UserId", rule["ReferencedGroupInfo"]["UserId"]}}));
  }
  return permission;
}

Json SecurityGroupView(const Json& doc) {
  Json view = View(doc);
  // One IpPermission per (protocol, ports), in the order their first rule was added.
  for (bool egress : {false, true}) {
    std::vector<std::tuple<Json, Json, Json>> keys;
    Json permissions = Json::array();
    for (const auto& rule : doc["_rules"]) {
      if (rule["IsEgress"].get<bool>() != egress) continue;
      Json one = PermissionOf(rule);
      std::tuple<Json, Json, Json> key{rule["IpProtocol"], rule["FromPort"], rule["ToPort"]};
      size_t i = 0;
      while (i < keys.size() && keys[i] != key) ++i;
      if (i == keys.size()) {
        keys.push_back(key);
        permissions.push_back(one);
        continue;
      }
      for (const char* list : {"IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs"}) {
        for (const auto& entry : one[list]) permissions[i][list].push_back(entry);
      }
    }
    view[egress ? "IpPermissionsEgress" : "IpPermissions"] = permissions;
  }
  return view;
}

}  // namespace understudy::ec2
