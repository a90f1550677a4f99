#include "ec2/security_groups.h"

#include <algorithm>
#include <set>

#include "ec2/documents.h"
#include "ec2/ec2_internal.h"
#include "ec2/filters.h"
#include "ec2/rules.h"

namespace understudy::ec2 {
namespace {

const std::set<std::string> kGroupFilters = {"group-id",
                                             "group-name",
                                             "vpc-id",
                                             "description",
                                             "owner-id",
                                             "ip-permission.cidr",
                                             "ip-permission.ipv6-cidr",
                                             "ip-permission.from-port",
                                             "ip-permission.to-port",
                                             "ip-permission.protocol",
                                             "ip-permission.group-id",
                                             "egress.ip-permission.cidr",
                                             "egress.ip-permission.ipv6-cidr",
                                             "egress.ip-permission.from-port",
                                             "egress.ip-permission.to-port",
                                             "egress.ip-permission.protocol",
                                             "egress.ip-permission.group-id"};

const std::set<std::string> kRuleFilters = {"group-id", "security-group-rule-id"};

std::optional<std::vector<std::string>> GroupField(const Json& g, const std::string& name) {
  using V = std::vector<std::string>;
  if (name == "group-id") return V{g["GroupId"]};
  if (name == "group-name") return V{g["GroupName"]};
  if (name == "vpc-id") return V{g["VpcId"]};
  if (name == "description") return V{g["Description"]};
  if (name == "owner-id") return V{g["OwnerId"]};
  bool egress = name.rfind("egress.", 0) == 0;
  std::string field = egress ? name.substr(7) : name;
  V out;
  for (const auto& rule : g["_rules"]) {
    if (rule["IsEgress"].get<bool>() != egress) continue;
    if (field == "ip-permission.cidr" && rule.contains("CidrIpv4")) out.push_back(rule["CidrIpv4"]);
    if (field == "ip-permission.ipv6-cidr" && rule.contains("CidrIpv6")) {
      out.push_back(rule["CidrIpv6"]);
    }
    if (field == "ip-permission.from-port") {
      out.push_back(std::to_string(rule["FromPort"].get<int64_t>()));
    }
    if (field == "ip-permission.to-port") {
      out.push_back(std::to_string(rule["ToPort"].get<int64_t>()));
    }
    if (field == "ip-permission.protocol") out.push_back(rule["IpProtocol"]);
    if (field == "ip-permission.group-id" && rule.contains("ReferencedGroupInfo")) {
      out.push_back(rule["ReferencedGroupInfo"]["GroupId"]);
    }
  }
  return out;
}

api::ApiError RuleNotFound(const std::string& id) {
  // Not confirmed against AWS word for word.
  return Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                  "The security group rule ID '" + id + "' does not exist");
}

}  // namespace

SecurityGroups::SecurityGroups(ResourceStore& resources, Journal& journal)
    : resources_(resources), journal_(journal) {}

std::string SecurityGroups::DefaultVpcId(const Scope& scope) const {
  for (const Json* vpc : resources_.List(scope, Kind::kVpc)) {
    if ((*vpc)["IsDefault"].get<bool>()) return (*vpc)["VpcId"];
  }
  return "";
}

const Json* SecurityGroups::ByNameInDefaultVpc(const Scope& scope, const std::string& name) const {
  std::string vpc_id = DefaultVpcId(scope);
  for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
    if ((*group)["VpcId"] == vpc_id && (*group)["GroupName"] == name) return group;
  }
  return nullptr;
}

const Json* SecurityGroups::GroupFor(const Scope& scope, const Json& input, bool by_name,
                                     std::optional<api::ApiError>* error) const {
  if (input.contains("GroupId")) {
    std::string id = input["GroupId"].get<std::string>();
    const Json* group = resources_.Find(scope, Kind::kSecurityGroup, id);
    if (group == nullptr) *error = GroupNotFound(id);
    return group;
  }
  if (by_name && input.contains("GroupName")) {
    std::string name = input["GroupName"].get<std::string>();
    const Json* group = ByNameInDefaultVpc(scope, name);
    if (group == nullptr) {
      *error = Ec2Error("InvalidGroup.NotFound", "The security group '" + name +
                                                     "' does not exist in default VPC '" +
                                                     DefaultVpcId(scope) + "'");
    }
    return group;
  }
  *error =
      Ec2Error("MissingParameter", "The request must contain the parameter groupName or groupId");
  return nullptr;
}

api::ApiResult SecurityGroups::Create(const Scope& scope, const Json& input) {
  std::string name = input["GroupName"].get<std::string>();
  std::string description = input["Description"].get<std::string>();
  std::string vpc_id = input.value("VpcId", DefaultVpcId(scope));
  if (vpc_id.empty()) return Ec2Error("VPCIdNotSpecified", "No default VPC for this user");
  if (resources_.Find(scope, Kind::kVpc, vpc_id) == nullptr) return VpcNotFound(vpc_id);
  if (name.rfind("sg-", 0) == 0) {
    return InvalidParameterValue("Group names may not be in the format sg-*.");
  }
  if (name.empty() || name.size() > 255 || description.size() > 255) {
    // Not confirmed against AWS word for word.
    return InvalidParameterValue("Group name and description must be 1 to 255 characters.");
  }
  for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
    if ((*group)["VpcId"] == vpc_id && (*group)["GroupName"] == name) {
      return Ec2Error("InvalidGroup.Duplicate",
                      "The security group '" + name + "' already exists for VPC '" + vpc_id + "'");
    }
  }
  Json tags;
  if (auto error = TagsFor(input, "security-group", &tags)) return *error;
  std::string group_id = resources_.NewId("sg");
  IdSource ids = [this](const std::string& prefix) { return resources_.NewId(prefix); };
  Json group = SecurityGroupDoc(scope, ids, group_id, name, description, vpc_id, false, tags);
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, {{Kind::kSecurityGroup, group_id, group}}));
  journal_.Transition(group_id, Json{{"state", "created"}});
  Json out{{"GroupId", group_id}, {"SecurityGroupArn", group["SecurityGroupArn"]}};
  if (!tags.empty()) out["Tags"] = tags;
  return out;
}

api::ApiResult SecurityGroups::Describe(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check(kGroupFilters)) return *error;
  std::vector<std::string> ids = Strings(input, "GroupIds");
  for (const auto& id : ids) {
    if (resources_.Find(scope, Kind::kSecurityGroup, id) == nullptr) return GroupNotFound(id);
  }
  std::vector<std::string> names = Strings(input, "GroupNames");
  std::set<std::string> named_ids;
  for (const auto& name : names) {
    const Json* group = ByNameInDefaultVpc(scope, name);
    if (group == nullptr) {
      return Ec2Error("InvalidGroup.NotFound", "The security group '" + name +
                                                   "' does not exist in default VPC '" +
                                                   DefaultVpcId(scope) + "'");
    }
    named_ids.insert((*group)["GroupId"].get<std::string>());
  }
  std::vector<Json> items;
  for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
    std::string id = (*group)["GroupId"];
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    if (!names.empty() && !named_ids.count(id)) continue;
    auto fields = [group](const std::string& name) { return GroupField(*group, name); };
    if (filters.Matches(fields, (*group)["Tags"])) items.push_back(SecurityGroupView(*group));
  }
  std::string next;
  if (auto error = Page(input, &items, &next)) return *error;
  Json out{{"SecurityGroups", items}};
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

api::ApiResult SecurityGroups::Delete(const Scope& scope, const Json& input) {
  std::optional<api::ApiError> error;
  const Json* group = GroupFor(scope, input, true, &error);
  if (group == nullptr) return *error;
  std::string group_id = (*group)["GroupId"];
  if ((*group)["GroupName"] == "default") {
    return Ec2Error("CannotDelete", "the specified group: \"" + group_id +
                                        "\" name: \"default\" cannot be deleted by a user");
  }
  for (const Json* other : resources_.List(scope, Kind::kSecurityGroup)) {
    if ((*other)["GroupId"] == group_id) continue;
    for (const auto& rule : (*other)["_rules"]) {
      if (rule.contains("ReferencedGroupInfo") &&
          rule["ReferencedGroupInfo"]["GroupId"] == group_id) {
        return Ec2Error("DependencyViolation", "resource " + group_id + " has a dependent object");
      }
    }
  }
  US_RETURN_IF_ERROR_API(
      resources_.Commit(scope, {{Kind::kSecurityGroup, group_id, std::nullopt}}));
  journal_.Transition(group_id, Json{{"state", "deleted"}});
  return Json{{"Return", true}, {"GroupId", group_id}};
}

api::ApiResult SecurityGroups::Authorize(const Scope& scope, const Json& input, bool egress) {
  std::optional<api::ApiError> error;
  const Json* group = GroupFor(scope, input, !egress, &error);
  if (group == nullptr) return *error;
  std::string vpc_id = (*group)["VpcId"];
  GroupResolver resolve = [&](const std::string& id_or_name,
                              bool by_name) -> std::variant<std::string, api::ApiError> {
    if (!by_name) {
      if (resources_.Find(scope, Kind::kSecurityGroup, id_or_name) == nullptr) {
        return GroupNotFound(id_or_name);
      }
      return id_or_name;
    }
    // By name: a group of the same VPC.
    for (const Json* g : resources_.List(scope, Kind::kSecurityGroup)) {
      if ((*g)["VpcId"] == vpc_id && (*g)["GroupName"] == id_or_name) return (*g)["GroupId"];
    }
    return Ec2Error("InvalidGroup.NotFound", "The security group '" + id_or_name +
                                                 "' does not exist in VPC '" + vpc_id + "'");
  };
  auto specs = RuleSpecsFrom(input, resolve);
  if (auto* bad = std::get_if<api::ApiError>(&specs)) return *bad;
  Json tags;
  if (auto e = TagsFor(input, "security-group-rule", &tags)) return *e;

  Json updated = *group;
  Json added = Json::array();
  std::string group_id = (*group)["GroupId"];
  for (const RuleSpec& spec : std::get<std::vector<RuleSpec>>(specs)) {
    for (const auto& rule : updated["_rules"]) {
      if (rule["IsEgress"].get<bool>() == egress && SameRule(spec, rule)) {
        return Ec2Error("InvalidPermission.Duplicate",
                        "the specified rule \"" + RuleText(spec) + "\" already exists");
      }
    }
    Json rule = RuleDoc(scope, resources_.NewId("sgr"), group_id, egress, spec.protocol,
                        spec.from_port, spec.to_port, spec.source, tags);
    updated["_rules"].push_back(rule);
    added.push_back(View(rule));
  }
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, {{Kind::kSecurityGroup, group_id, updated}}));
  journal_.Transition(group_id, Json{{"rulesAdded", added.size()}});
  return Json{{"Return", true}, {"SecurityGroupRules", added}};
}

api::ApiResult SecurityGroups::Revoke(const Scope& scope, const Json& input, bool egress) {
  std::optional<api::ApiError> error;
  const Json* group = GroupFor(scope, input, !egress, &error);
  if (group == nullptr) return *error;
  std::string group_id = (*group)["GroupId"];
  Json updated = *group;
  Json& rules = updated["_rules"];
  Json revoked = Json::array();
  Json unknown = Json::array();
  auto take = [&](size_t i) {
    Json r{{"SecurityGroupRuleId", rules[i]["SecurityGroupRuleId"]},
           {"GroupId", group_id},
           {"IsEgress", egress},
           {"IpProtocol", rules[i]["IpProtocol"]},
           {"FromPort", rules[i]["FromPort"]},
           {"ToPort", rules[i]["ToPort"]}};
    for (const char* m : {"CidrIpv4", "CidrIpv6", "PrefixListId", "Description"}) {
      if (rules[i].contains(m)) r[m] = rules[i][m];
    }
    if (rules[i].contains("ReferencedGroupInfo")) {
      r["ReferencedGroupId"] = rules[i]["ReferencedGroupInfo"]["GroupId"];
    }
    revoked.push_back(r);
    rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(i));
  };
  if (input.contains("SecurityGroupRuleIds")) {
    for (const auto& id : Strings(input, "SecurityGroupRuleIds")) {
      size_t i = 0;
      while (i < rules.size() && (rules[i]["SecurityGroupRuleId"] != id ||
                                  rules[i]["IsEgress"].get<bool>() != egress)) {
        ++i;
      }
      if (i == rules.size()) return RuleNotFound(id);
      take(i);
    }
  } else {
    std::string vpc_id = (*group)["VpcId"];
    GroupResolver resolve = [&](const std::string& id_or_name,
                                bool by_name) -> std::variant<std::string, api::ApiError> {
      if (!by_name) return id_or_name;  // an unknown group simply matches no rule
      for (const Json* g : resources_.List(scope, Kind::kSecurityGroup)) {
        if ((*g)["VpcId"] == vpc_id && (*g)["GroupName"] == id_or_name) return (*g)["GroupId"];
      }
      return Ec2Error("InvalidGroup.NotFound", "The security group '" + id_or_name +
                                                   "' does not exist in VPC '" + vpc_id + "'");
    };
    auto specs = RuleSpecsFrom(input, resolve);
    if (auto* bad = std::get_if<api::ApiError>(&specs)) return *bad;
    const Json* vpc = resources_.Find(scope, Kind::kVpc, vpc_id);
    bool in_default_vpc = vpc != nullptr && (*vpc)["IsDefault"].get<bool>();
    for (const RuleSpec& spec : std::get<std::vector<RuleSpec>>(specs)) {
      size_t i = 0;
      while (i < rules.size() &&
             !(rules[i]["IsEgress"].get<bool>() == egress && SameRule(spec, rules[i]))) {
        ++i;
      }
      if (i < rules.size()) {
        take(i);
      } else if (in_default_vpc) {
        unknown.push_back(PermissionOf(spec));
      } else {
        return Ec2Error("InvalidPermission.NotFound",
                        "The specified rule does not exist in this security group.");
      }
    }
  }
  if (!revoked.empty()) {
    US_RETURN_IF_ERROR_API(resources_.Commit(scope, {{Kind::kSecurityGroup, group_id, updated}}));
    journal_.Transition(group_id, Json{{"rulesRevoked", revoked.size()}});
  }
  Json out{{"Return", true}, {"RevokedSecurityGroupRules", revoked}};
  if (!unknown.empty()) out["UnknownIpPermissions"] = unknown;
  return out;
}

api::ApiResult SecurityGroups::DescribeRules(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check(kRuleFilters)) return *error;
  std::vector<std::string> ids = Strings(input, "SecurityGroupRuleIds");
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::set<std::string> seen;
  std::vector<Json> items;
  for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
    for (const auto& rule : (*group)["_rules"]) {
      std::string id = rule["SecurityGroupRuleId"];
      seen.insert(id);
      if (!wanted.empty() && !wanted.count(id)) continue;
      auto fields = [&](const std::string& name) -> std::optional<std::vector<std::string>> {
        if (name == "group-id") return std::vector<std::string>{rule["GroupId"]};
        if (name == "security-group-rule-id") return std::vector<std::string>{id};
        return std::nullopt;
      };
      if (filters.Matches(fields, rule["Tags"])) items.push_back(View(rule));
    }
  }
  for (const auto& id : ids) {
    if (!seen.count(id)) return RuleNotFound(id);
  }
  std::string next;
  if (auto error = Page(input, &items, &next)) return *error;
  Json out{{"SecurityGroupRules", items}};
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

}  // namespace understudy::ec2
