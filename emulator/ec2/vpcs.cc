#include "ec2/vpcs.h"

#include <algorithm>
#include <set>

#include "ec2/ec2_internal.h"
#include "ec2/filters.h"

namespace understudy::ec2 {
namespace {

const Cidr kDefaultVpcCidr{(172u << 24) | (31u << 16), 16};

// The filters DescribeVpcs knows (besides tag:<Key> and tag-key).
const std::set<std::string> kVpcFilters = {"vpc-id",
                                           "cidr",
                                           "cidr-block",
                                           "cidr-block-association.cidr-block",
                                           "cidr-block-association.association-id",
                                           "cidr-block-association.state",
                                           "dhcp-options-id",
                                           "is-default",
                                           "isDefault",
                                           "owner-id",
                                           "state",
                                           "instance-tenancy"};

std::optional<std::vector<std::string>> VpcField(const Json& vpc, const std::string& name) {
  using V = std::vector<std::string>;
  if (name == "vpc-id") return V{vpc["VpcId"]};
  if (name == "cidr" || name == "cidr-block") return V{vpc["CidrBlock"]};
  if (name == "dhcp-options-id") return V{vpc["DhcpOptionsId"]};
  if (name == "is-default" || name == "isDefault") return V{BoolText(vpc["IsDefault"])};
  if (name == "owner-id") return V{vpc["OwnerId"]};
  if (name == "state") return V{vpc["State"]};
  if (name == "instance-tenancy") return V{vpc["InstanceTenancy"]};
  V out;
  for (const auto& a : vpc["CidrBlockAssociationSet"]) {
    if (name == "cidr-block-association.cidr-block") out.push_back(a["CidrBlock"]);
    if (name == "cidr-block-association.association-id") out.push_back(a["AssociationId"]);
    if (name == "cidr-block-association.state") out.push_back(a["CidrBlockState"]["State"]);
  }
  return out;
}

}  // namespace

Vpcs::Vpcs(ResourceStore& resources, Journal& journal) : resources_(resources), journal_(journal) {}

IdSource Vpcs::NewIds() {
  return [this](const std::string& prefix) { return resources_.NewId(prefix); };
}

std::vector<Change> Vpcs::DefaultVpcChanges(const Scope& scope, const IdSource& ids,
                                            std::string* vpc_id) const {
  *vpc_id = ids("vpc");
  std::vector<Change> changes;
  changes.push_back(
      Change{Kind::kVpc, *vpc_id,
             VpcDoc(scope, ids, *vpc_id, kDefaultVpcCidr, true, "default", Json::array())});
  uint32_t n = 0;
  for (const Zone& zone : ZonesOf(scope.region)) {
    std::string subnet_id = ids("subnet");
    changes.push_back(
        Change{Kind::kSubnet, subnet_id,
               SubnetDoc(scope, subnet_id, *vpc_id, NthBlock(kDefaultVpcCidr, 20, n++), zone, true,
                         Json::array())});
  }
  std::string group_id = ids("sg");
  changes.push_back(
      Change{Kind::kSecurityGroup, group_id,
             SecurityGroupDoc(scope, ids, group_id, "default", "default VPC security group",
                              *vpc_id, true, Json::array())});
  return changes;
}

Status Vpcs::EnsureDefaults(const Scope& scope) {
  if (resources_.HasDefaults(scope)) return Status::Ok();
  Random stream = resources_.DefaultsStream(scope);
  IdSource ids = [&stream](const std::string& prefix) { return prefix + "-" + stream.Hex(17); };
  std::string vpc_id;
  return resources_.CommitDefaults(scope, DefaultVpcChanges(scope, ids, &vpc_id));
}

const Json* Vpcs::DefaultVpc(const Scope& scope) const {
  for (const Json* vpc : resources_.List(scope, Kind::kVpc)) {
    if ((*vpc)["IsDefault"].get<bool>()) return vpc;
  }
  return nullptr;
}

api::ApiResult Vpcs::Create(const Scope& scope, const Json& input) {
  if (!input.contains("CidrBlock")) return MissingParameter("CidrBlock");
  std::string text = input["CidrBlock"].get<std::string>();
  auto cidr = ParseCidr(text);
  if (!cidr) return InvalidCidr(text);
  if (cidr->prefix < 16 || cidr->prefix > 28) {
    return Ec2Error("InvalidVpc.Range", "The CIDR '" + text + "' is invalid.");
  }
  Json tags;
  if (auto error = TagsFor(input, "vpc", &tags)) return *error;
  IdSource ids = NewIds();
  std::string vpc_id = ids("vpc");
  Json vpc =
      VpcDoc(scope, ids, vpc_id, *cidr, false, input.value("InstanceTenancy", "default"), tags);
  std::string group_id = ids("sg");
  Json group = SecurityGroupDoc(scope, ids, group_id, "default", "default VPC security group",
                                vpc_id, true, Json::array());
  US_RETURN_IF_ERROR_API(resources_.Commit(
      scope, {{Kind::kVpc, vpc_id, vpc}, {Kind::kSecurityGroup, group_id, group}}));
  journal_.Transition(vpc_id, Json{{"state", "available"}});
  journal_.Transition(group_id, Json{{"state", "created"}});
  return Json{{"Vpc", View(vpc)}};
}

api::ApiResult Vpcs::CreateDefault(const Scope& scope, const Json&) {
  if (DefaultVpc(scope) != nullptr) {
    return Ec2Error("DefaultVpcAlreadyExists",
                    "A Default VPC already exists for this account in this region.");
  }
  std::string vpc_id;
  std::vector<Change> changes = DefaultVpcChanges(scope, NewIds(), &vpc_id);
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, changes));
  for (const Change& change : changes) {
    journal_.Transition(change.id, Json{{"state", "available"}});
  }
  return Json{{"Vpc", View(*resources_.Find(scope, Kind::kVpc, vpc_id))}};
}

api::ApiResult Vpcs::Describe(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check(kVpcFilters)) return *error;
  std::vector<std::string> ids = Strings(input, "VpcIds");
  for (const auto& id : ids) {
    if (resources_.Find(scope, Kind::kVpc, id) == nullptr) return VpcNotFound(id);
  }
  std::vector<Json> items;
  for (const Json* vpc : resources_.List(scope, Kind::kVpc)) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), (*vpc)["VpcId"]) == ids.end()) continue;
    auto fields = [vpc](const std::string& name) { return VpcField(*vpc, name); };
    if (filters.Matches(fields, (*vpc)["Tags"])) items.push_back(View(*vpc));
  }
  std::string next;
  if (auto error = Page(input, &items, &next)) return *error;
  Json out{{"Vpcs", items}};
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

api::ApiResult Vpcs::Delete(const Scope& scope, const Json& input) {
  std::string vpc_id = input["VpcId"].get<std::string>();
  if (resources_.Find(scope, Kind::kVpc, vpc_id) == nullptr) return VpcNotFound(vpc_id);
  std::vector<Change> changes{{Kind::kVpc, vpc_id, std::nullopt}};
  bool dependent = false;
  for (const Json* subnet : resources_.List(scope, Kind::kSubnet)) {
    if ((*subnet)["VpcId"] == vpc_id) dependent = true;
  }
  for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
    if ((*group)["VpcId"] != vpc_id) continue;
    if ((*group)["GroupName"] != "default") {
      dependent = true;
    } else {
      changes.push_back(Change{Kind::kSecurityGroup, (*group)["GroupId"], std::nullopt});
    }
  }
  if (dependent) {
    return Ec2Error("DependencyViolation",
                    "The vpc '" + vpc_id + "' has dependencies and cannot be deleted.");
  }
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, changes));
  for (const Change& change : changes) journal_.Transition(change.id, Json{{"state", "deleted"}});
  return Json::object();
}

api::ApiResult Vpcs::DescribeAccountAttributes(const Scope& scope, const Json& input) {
  const Json* vpc = DefaultVpc(scope);
  // In the order AWS lists them.
  std::vector<std::pair<std::string, std::string>> attributes = {
      {"vpc-max-security-groups-per-interface", "5"},
      {"max-instances", "20"},
      {"supported-platforms", "VPC"},
      {"default-vpc", vpc != nullptr ? (*vpc)["VpcId"].get<std::string>() : "none"},
      {"max-elastic-ips", "5"},
      {"vpc-max-elastic-ips", "5"}};
  std::vector<std::string> names = Strings(input, "AttributeNames");
  Json out = Json::array();
  for (const auto& [name, value] : attributes) {
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
    out.push_back(Json{{"AttributeName", name},
                       {"AttributeValues", Json::array({{{"AttributeValue", value}}})}});
  }
  return Json{{"AccountAttributes", out}};
}

}  // namespace understudy::ec2
