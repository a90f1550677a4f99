#include "ec2/subnets.h"

#include <algorithm>
#include <map>
#include <set>

#include "ec2/documents.h"
#include "ec2/ec2_internal.h"
#include "ec2/filters.h"

namespace understudy::ec2 {
namespace {

const std::set<std::string> kSubnetFilters = {"subnet-id",
                                              "vpc-id",
                                              "availability-zone",
                                              "availabilityZone",
                                              "availability-zone-id",
                                              "availabilityZoneId",
                                              "default-for-az",
                                              "defaultForAz",
                                              "cidr-block",
                                              "cidrBlock",
                                              "cidr",
                                              "state",
                                              "owner-id",
                                              "map-public-ip-on-launch",
                                              "subnet-arn",
                                              "available-ip-address-count",
                                              "ipv6-native"};

std::optional<std::vector<std::string>> SubnetField(const Json& s, const std::string& name) {
  using V = std::vector<std::string>;
  if (name == "subnet-id") return V{s["SubnetId"]};
  if (name == "vpc-id") return V{s["VpcId"]};
  if (name == "availability-zone" || name == "availabilityZone") return V{s["AvailabilityZone"]};
  if (name == "availability-zone-id" || name == "availabilityZoneId") {
    return V{s["AvailabilityZoneId"]};
  }
  if (name == "default-for-az" || name == "defaultForAz") return V{BoolText(s["DefaultForAz"])};
  if (name == "cidr-block" || name == "cidrBlock" || name == "cidr") return V{s["CidrBlock"]};
  if (name == "state") return V{s["State"]};
  if (name == "owner-id") return V{s["OwnerId"]};
  if (name == "map-public-ip-on-launch") return V{BoolText(s["MapPublicIpOnLaunch"])};
  if (name == "subnet-arn") return V{s["SubnetArn"]};
  if (name == "available-ip-address-count") {
    return V{std::to_string(s["AvailableIpAddressCount"].get<int64_t>())};
  }
  if (name == "ipv6-native") return V{BoolText(s["Ipv6Native"])};
  return std::nullopt;
}

std::string ZoneList(const std::string& region, bool ids) {
  std::string out;
  for (const Zone& zone : ZonesOf(region)) {
    if (!out.empty()) out += ", ";
    out += ids ? zone.id : zone.name;
  }
  return out;
}

}  // namespace

Subnets::Subnets(ResourceStore& resources, Journal& journal)
    : resources_(resources), journal_(journal) {}

api::ApiResult Subnets::Create(const Scope& scope, const Json& input) {
  std::string vpc_id = input["VpcId"].get<std::string>();
  const Json* vpc = resources_.Find(scope, Kind::kVpc, vpc_id);
  if (vpc == nullptr) return VpcNotFound(vpc_id);

  std::optional<Zone> zone;
  if (input.contains("AvailabilityZone")) {
    std::string name = input["AvailabilityZone"].get<std::string>();
    zone = FindZone(scope.region, name);
    if (!zone || zone->name != name) {
      return InvalidParameterValue(
          "Value (" + name +
          ") for parameter availabilityZone is invalid. Subnets can currently only be created "
          "in the following availability zones: " +
          ZoneList(scope.region, false) + ".");
    }
  } else if (input.contains("AvailabilityZoneId")) {
    std::string id = input["AvailabilityZoneId"].get<std::string>();
    zone = FindZone(scope.region, id);
    if (!zone || zone->id != id) {
      // Worded like the zone-name case; not confirmed against AWS.
      return InvalidParameterValue(
          "Value (" + id +
          ") for parameter availabilityZoneId is invalid. Subnets can currently only be created "
          "in the following availability zones: " +
          ZoneList(scope.region, true) + ".");
    }
  }

  if (!input.contains("CidrBlock")) return MissingParameter("CidrBlock");
  std::string text = input["CidrBlock"].get<std::string>();
  auto cidr = ParseCidr(text);
  if (!cidr) return InvalidCidr(text);
  auto vpc_cidr = ParseCidr((*vpc)["CidrBlock"].get<std::string>());
  if (cidr->prefix < 16 || cidr->prefix > 28 || !vpc_cidr || !vpc_cidr->Contains(*cidr)) {
    return Ec2Error("InvalidSubnet.Range", "The CIDR '" + text + "' is invalid.");
  }
  std::map<std::string, int> per_zone;
  for (const Json* other : resources_.List(scope, Kind::kSubnet)) {
    if ((*other)["VpcId"] != vpc_id) continue;
    ++per_zone[(*other)["AvailabilityZone"].get<std::string>()];
    auto other_cidr = ParseCidr((*other)["CidrBlock"].get<std::string>());
    if (other_cidr && other_cidr->Overlaps(*cidr)) {
      return Ec2Error("InvalidSubnet.Conflict",
                      "The CIDR '" + text + "' conflicts with another subnet");
    }
  }
  if (!zone) {
    for (const Zone& candidate : ZonesOf(scope.region)) {
      if (!zone || per_zone[candidate.name] < per_zone[zone->name]) zone = candidate;
    }
  }
  Json tags;
  if (auto error = TagsFor(input, "subnet", &tags)) return *error;

  std::string subnet_id = resources_.NewId("subnet");
  Json subnet = SubnetDoc(scope, subnet_id, vpc_id, *cidr, *zone, false, tags);
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, {{Kind::kSubnet, subnet_id, subnet}}));
  journal_.Transition(subnet_id, Json{{"state", "available"}});
  return Json{{"Subnet", View(subnet)}};
}

api::ApiResult Subnets::Describe(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check(kSubnetFilters)) return *error;
  std::vector<std::string> ids = Strings(input, "SubnetIds");
  for (const auto& id : ids) {
    if (resources_.Find(scope, Kind::kSubnet, id) == nullptr) return SubnetNotFound(id);
  }
  std::vector<Json> items;
  for (const Json* subnet : resources_.List(scope, Kind::kSubnet)) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), (*subnet)["SubnetId"]) == ids.end()) {
      continue;
    }
    auto fields = [subnet](const std::string& name) { return SubnetField(*subnet, name); };
    if (filters.Matches(fields, (*subnet)["Tags"])) items.push_back(View(*subnet));
  }
  std::string next;
  if (auto error = Page(input, &items, &next)) return *error;
  Json out{{"Subnets", items}};
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

api::ApiResult Subnets::Delete(const Scope& scope, const Json& input) {
  std::string subnet_id = input["SubnetId"].get<std::string>();
  if (resources_.Find(scope, Kind::kSubnet, subnet_id) == nullptr) {
    return SubnetNotFound(subnet_id);
  }
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, {{Kind::kSubnet, subnet_id, std::nullopt}}));
  journal_.Transition(subnet_id, Json{{"state", "deleted"}});
  return Json::object();
}

}  // namespace understudy::ec2
