#include "ec2/zones.h"

#include <algorithm>
#include <map>
#include <set>

#include "ec2/ec2_internal.h"
#include "ec2/filters.h"

namespace understudy::ec2 {
namespace {

// Regions every account has without opting in.
const std::vector<std::string> kRegions = {
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ca-central-1",   "eu-central-1",   "eu-north-1", "eu-west-1",
    "eu-west-2",      "eu-west-3",      "sa-east-1",      "us-east-1",  "us-east-2",
    "us-west-1",      "us-west-2"};

const std::map<std::string, std::string> kDirections = {
    {"north", "n"},      {"south", "s"},      {"east", "e"},       {"west", "w"},
    {"central", "c"},    {"northeast", "ne"}, {"northwest", "nw"}, {"southeast", "se"},
    {"southwest", "sw"}, {"gov", "g"},        {"iso", "i"},        {"isob", "ib"}};

}  // namespace

std::string RegionCode(const std::string& region) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dash = region.find('-', start);
    parts.push_back(region.substr(start, dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  std::string code = parts.front();
  for (size_t i = 1; i < parts.size(); ++i) {
    auto it = kDirections.find(parts[i]);
    if (it != kDirections.end()) {
      code += it->second;
    } else if (i + 1 == parts.size()) {
      code += parts[i];  // the number
    } else if (!parts[i].empty()) {
      code += parts[i][0];
    }
  }
  return code;
}

std::vector<Zone> ZonesOf(const std::string& region) {
  std::vector<Zone> zones;
  std::string code = RegionCode(region);
  for (int i = 0; i < 3; ++i) {
    zones.push_back(
        Zone{region + static_cast<char>('a' + i), code + "-az" + std::to_string(i + 1)});
  }
  return zones;
}

std::optional<Zone> FindZone(const std::string& region, const std::string& name_or_id) {
  for (const Zone& zone : ZonesOf(region)) {
    if (zone.name == name_or_id || zone.id == name_or_id) return zone;
  }
  return std::nullopt;
}

api::ApiResult DescribeAvailabilityZones(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check({"group-name", "message", "opt-in-status", "region-name", "state",
                                  "zone-id", "zone-name", "zone-type", "network-border-group",
                                  "group-long-name"})) {
    return *error;
  }
  std::vector<std::string> names = Strings(input, "ZoneNames");
  std::vector<std::string> ids = Strings(input, "ZoneIds");
  for (const auto& name : names) {
    // Not confirmed against AWS word for word.
    if (!FindZone(scope.region, name)) {
      return InvalidParameterValue("Invalid availability zone: [" + name + "]");
    }
  }
  for (const auto& id : ids) {
    if (!FindZone(scope.region, id)) {
      return InvalidParameterValue("Invalid availability zone: [" + id + "]");
    }
  }
  Json zones = Json::array();
  for (const Zone& zone : ZonesOf(scope.region)) {
    bool named = std::find(names.begin(), names.end(), zone.name) != names.end() ||
                 std::find(ids.begin(), ids.end(), zone.id) != ids.end();
    if ((!names.empty() || !ids.empty()) && !named) continue;
    auto fields = [&](const std::string& name) -> std::optional<std::vector<std::string>> {
      if (name == "zone-name") return std::vector<std::string>{zone.name};
      if (name == "zone-id") return std::vector<std::string>{zone.id};
      if (name == "region-name" || name == "group-name" || name == "network-border-group") {
        return std::vector<std::string>{scope.region};
      }
      if (name == "state") return std::vector<std::string>{"available"};
      if (name == "opt-in-status") return std::vector<std::string>{"opt-in-not-required"};
      if (name == "zone-type") return std::vector<std::string>{"availability-zone"};
      return std::vector<std::string>{};
    };
    if (!filters.Matches(fields, Json::array())) continue;
    zones.push_back(Json{{"State", "available"},
                         {"OptInStatus", "opt-in-not-required"},
                         {"Messages", Json::array()},
                         {"RegionName", scope.region},
                         {"ZoneName", zone.name},
                         {"ZoneId", zone.id},
                         {"GroupName", scope.region},
                         {"NetworkBorderGroup", scope.region},
                         {"ZoneType", "availability-zone"}});
  }
  return Json{{"AvailabilityZones", zones}};
}

api::ApiResult DescribeRegions(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check({"endpoint", "opt-in-status", "region-name"})) return *error;
  std::set<std::string> regions(kRegions.begin(), kRegions.end());
  regions.insert(scope.region);
  std::vector<std::string> names = Strings(input, "RegionNames");
  for (const auto& name : names) {
    if (!regions.count(name)) {
      // Not confirmed against AWS word for word.
      return InvalidParameterValue("Invalid region: " + name);
    }
  }
  Json out = Json::array();
  for (const auto& region : regions) {
    if (!names.empty() && std::find(names.begin(), names.end(), region) == names.end()) continue;
    std::string endpoint = "ec2." + region + ".amazonaws.com";
    auto fields = [&](const std::string& name) -> std::optional<std::vector<std::string>> {
      if (name == "region-name") return std::vector<std::string>{region};
      if (name == "endpoint") return std::vector<std::string>{endpoint};
      if (name == "opt-in-status") return std::vector<std::string>{"opt-in-not-required"};
      return std::vector<std::string>{};
    };
    if (!filters.Matches(fields, Json::array())) continue;
    out.push_back(Json{
        {"Endpoint", endpoint}, {"RegionName", region}, {"OptInStatus", "opt-in-not-required"}});
  }
  return Json{{"Regions", out}};
}

}  // namespace understudy::ec2
