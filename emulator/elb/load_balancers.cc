// Load balancer operations: create, describe, delete, attributes, security groups,
// subnets and IP address type.
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/log.h"
#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

ApiError LoadBalancerNotFound() {
  return ElbError("LoadBalancerNotFound", "One or more load balancers not found");
}

// The Route 53 zone of ALB DNS names per region.
std::string HostedZoneFor(const std::string& region) {
  static const std::map<std::string, std::string> zones = {
      {"us-east-1", "Z35SXDOTRQ7X7K"},      {"us-east-2", "Z3AADJGX6KTTL2"},
      {"us-west-1", "Z368ELLRRE2KJ0"},      {"us-west-2", "Z1H1FL5HABSF5"},
      {"eu-west-1", "Z32O12XQLNTSW2"},      {"eu-west-2", "ZHURV8PSTC4K8"},
      {"eu-central-1", "Z215JYRZR1TBD5"},   {"ap-southeast-1", "Z1LMS91P8CMLE5"},
      {"ap-southeast-2", "Z1GM3OXH4ZPM65"}, {"ap-northeast-1", "Z14GRHDCWA56QT"},
  };
  auto it = zones.find(region);
  return it == zones.end() ? "Z35SXDOTRQ7X7K" : it->second;
}

std::optional<ApiError> CheckLoadBalancerName(const std::string& name) {
  if (name.size() > 32) {
    return ValidationError("The load balancer name '" + name +
                           "' cannot be longer than 32 characters");
  }
  if (name.rfind("internal-", 0) == 0) {
    return ValidationError("The load balancer name '" + name + "' cannot begin with 'internal-'");
  }
  if (!name.empty() && (name.front() == '-' || name.back() == '-')) {
    return ValidationError("The load balancer name '" + name +
                           "' cannot begin or end with a hyphen");
  }
  if (!IsValidResourceName(name)) {
    return ValidationError("The load balancer name '" + name +
                           "' can only contain characters that are alphanumeric characters and "
                           "hyphens(-)");
  }
  return std::nullopt;
}

struct Placement {
  Json zones = Json::array();  // AvailabilityZones
  std::string vpc_id;
};

// The availability zones and VPC of the subnets in `input` (Subnets or SubnetMappings).
std::variant<Placement, ApiError> Place(const Service& s, const Scope& scope, const Json& input) {
  if (input.contains("Subnets") && input.contains("SubnetMappings")) {
    return ValidationError("You can specify subnets or subnet mappings, but not both");
  }
  std::vector<std::string> ids;
  for (const auto& id : input.value("Subnets", Json::array())) ids.push_back(id);
  for (const auto& m : input.value("SubnetMappings", Json::array())) {
    ids.push_back(m.value("SubnetId", ""));
  }
  Placement out;
  std::set<std::string> zones, vpcs;
  int index = 0;
  for (const auto& id : ids) {
    SubnetInfo info;
    if (s.options().resolve_subnet) {
      auto found = s.options().resolve_subnet(scope, id);
      if (!found) return ElbError("SubnetNotFound", "The subnet '" + id + "' does not exist");
      info = *found;
      // An unknown subnet accepted as is (no zone known): spread like the default.
      if (info.availability_zone.empty()) {
        info.availability_zone = scope.region + static_cast<char>('a' + (index % 26));
      }
      ++index;
    } else {
      info = SubnetInfo{"vpc-local", scope.region + static_cast<char>('a' + (index++ % 26))};
    }
    if (!zones.insert(info.availability_zone).second) {
      return InvalidConfiguration(
          "A load balancer cannot be attached to multiple subnets in the same Availability Zone");
    }
    vpcs.insert(info.vpc_id);
    out.zones.push_back(Json{{"ZoneName", info.availability_zone},
                             {"SubnetId", id},
                             {"LoadBalancerAddresses", Json::array()}});
    out.vpc_id = info.vpc_id;
  }
  if (zones.size() < 2) {
    return ValidationError(
        "At least two subnets in two different Availability Zones must be specified");
  }
  if (vpcs.size() > 1) {
    return InvalidConfiguration("The subnets of a load balancer must all belong to the same VPC");
  }
  return out;
}

}  // namespace

ApiResult Service::CreateLoadBalancer(const Scope& scope, const Json& input) {
  std::string name = input["Name"];
  if (auto error = CheckLoadBalancerName(name)) return *error;
  std::string type = input.value("Type", "application");
  if (type != "application") {
    return ValidationError("Load balancers of type '" + type +
                           "' are not supported; only 'application' load balancers are");
  }
  std::string scheme = input.value("Scheme", "internet-facing");
  Json tags = input.value("Tags", Json::array());
  if (auto error = CheckTags(tags)) return *error;
  auto placed = Place(*this, scope, input);
  if (auto* error = std::get_if<ApiError>(&placed)) return *error;
  Placement placement = std::get<Placement>(placed);
  Json groups = input.value("SecurityGroups", Json::array());
  std::string ip_type = input.value("IpAddressType", "ipv4");

  for (auto& [arn, lb] : load_balancers_) {
    if (!(lb.scope == scope) || lb.doc["LoadBalancerName"] != name) continue;
    // The same name with the same settings gives back the existing load balancer.
    if (lb.doc["Scheme"] == scheme && lb.doc["AvailabilityZones"] == placement.zones &&
        lb.doc["SecurityGroups"] == groups && lb.doc["IpAddressType"] == ip_type) {
      return Json{{"LoadBalancers", Json::array({lb.doc})}};
    }
    return ElbError("DuplicateLoadBalancerName", "A load balancer with the same name '" + name +
                                                     "' exists, but with different settings");
  }
  if (std::count_if(load_balancers_.begin(), load_balancers_.end(),
                    [&](const auto& e) { return e.second.scope == scope; }) >= 50) {
    return ElbError("TooManyLoadBalancers",
                    "The quota for the number of load balancers has been reached");
  }
  std::string id = NewId();
  std::string arn = MakeArn("elasticloadbalancing", scope, "loadbalancer/app/" + name + "/" + id);
  std::string dns = (scheme == "internal" ? "internal-" : "") + name + "-" + random().Digits(10) +
                    "." + scope.region + ".elb.amazonaws.com";
  Json doc{{"LoadBalancerArn", arn},
           {"DNSName", dns},
           {"CanonicalHostedZoneId", HostedZoneFor(scope.region)},
           {"CreatedTime", ToEpochSeconds(clock().Now())},
           {"LoadBalancerName", name},
           {"Scheme", scheme},
           {"VpcId", placement.vpc_id},
           {"State", Json{{"Code", "active"}}},
           {"Type", "application"},
           {"AvailabilityZones", placement.zones},
           {"SecurityGroups", groups},
           {"IpAddressType", ip_type}};
  LoadBalancerRecord record{scope, doc, DefaultLoadBalancerAttributes(), MergeTags({}, tags)};
  US_RETURN_IF_ERROR_API(Save(record));
  load_balancers_[arn] = record;
  journal().Transition(arn, Json{{"state", "active"}});
  // The answer to the create call says provisioning, as AWS's does; the load balancer
  // is active for every later call.
  doc["State"] = Json{{"Code", "provisioning"}};
  Publish();
  return Json{{"LoadBalancers", Json::array({doc})}};
}

ApiResult Service::DescribeLoadBalancers(const Scope& scope, const Json& input) {
  if (input.contains("Names") && input.contains("LoadBalancerArns")) {
    return ValidationError(
        "Load balancer names and load balancer ARNs cannot be specified at the same time");
  }
  std::vector<std::string> keys;
  if (input.contains("LoadBalancerArns")) {
    for (const auto& a : input["LoadBalancerArns"]) {
      if (!FindLoadBalancer(scope, a)) return LoadBalancerNotFound();
      keys.push_back(a);
    }
  } else if (input.contains("Names")) {
    for (const auto& n : input["Names"]) {
      auto it = std::find_if(load_balancers_.begin(), load_balancers_.end(), [&](const auto& e) {
        return e.second.scope == scope && e.second.doc["LoadBalancerName"] == n;
      });
      if (it == load_balancers_.end()) {
        return ElbError("LoadBalancerNotFound",
                        "Load balancers '[" + n.get<std::string>() + "]' not found");
      }
      keys.push_back(it->first);
    }
  } else {
    for (const auto& [arn, lb] : load_balancers_) {
      if (lb.scope == scope) keys.push_back(arn);
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto paged = Paginate(keys, input);
  if (auto* error = std::get_if<ApiError>(&paged)) return *error;
  const Page& page = std::get<Page>(paged);
  Json out = Json::array();
  for (const auto& arn : page.keys) out.push_back(load_balancers_[arn].doc);
  Json result{{"LoadBalancers", out}};
  if (page.next_marker) result["NextMarker"] = *page.next_marker;
  return result;
}

ApiResult Service::DeleteLoadBalancer(const Scope& scope, const Json& input) {
  std::string arn = input["LoadBalancerArn"];
  LoadBalancerRecord* lb = FindLoadBalancer(scope, arn);
  if (lb == nullptr) return LoadBalancerNotFound();
  if (lb->attributes["deletion_protection.enabled"] == "true") {
    return ElbError("OperationNotPermitted", "Load balancer '" + arn +
                                                 "' cannot be deleted because deletion "
                                                 "protection is enabled");
  }
  std::vector<std::string> listeners;
  for (const auto& [larn, l] : listeners_) {
    if (l.doc["LoadBalancerArn"] == arn) listeners.push_back(larn);
  }
  for (const auto& larn : listeners) US_RETURN_IF_ERROR_API(RemoveListener(larn));
  US_RETURN_IF_ERROR_API(Erase(arn));
  load_balancers_.erase(arn);
  journal().Transition(arn, Json{{"state", "deleted"}});
  Publish();
  return Json::object();
}

ApiResult Service::DescribeLoadBalancerAttributes(const Scope& scope, const Json& input) {
  LoadBalancerRecord* lb = FindLoadBalancer(scope, input["LoadBalancerArn"]);
  if (lb == nullptr) return LoadBalancerNotFound();
  return Json{{"Attributes", AttributeList(lb->attributes)}};
}

ApiResult Service::ModifyLoadBalancerAttributes(const Scope& scope, const Json& input) {
  LoadBalancerRecord* lb = FindLoadBalancer(scope, input["LoadBalancerArn"]);
  if (lb == nullptr) return LoadBalancerNotFound();
  Attributes next = lb->attributes;
  if (auto error = ApplyLoadBalancerAttributes(next, input["Attributes"])) return *error;
  LoadBalancerRecord updated = *lb;
  updated.attributes = next;
  US_RETURN_IF_ERROR_API(Save(updated));
  *lb = updated;
  if (next["access_logs.s3.enabled"] == "true") {
    std::error_code ec;
    std::filesystem::create_directories(AccessLogDirectory(*lb), ec);
    if (ec) {
      Log(LogLevel::kWarn,
          "access log directory " + AccessLogDirectory(*lb) + " cannot be made: " + ec.message());
    }
  }
  Publish();
  return Json{{"Attributes", AttributeList(next)}};
}

std::string Service::AccessLogDirectory(const LoadBalancerRecord& lb) const {
  auto get = [&](const char* key) {
    auto it = lb.attributes.find(key);
    return it == lb.attributes.end() ? std::string() : it->second;
  };
  if (get("access_logs.s3.enabled") != "true" || options_.state_dir.empty()) return "";
  std::string dir = options_.state_dir + "/alb-access-logs/" + get("access_logs.s3.bucket");
  std::string prefix = get("access_logs.s3.prefix");
  if (!prefix.empty()) dir += "/" + prefix;
  return dir;
}

ApiResult Service::SetSecurityGroups(const Scope& scope, const Json& input) {
  LoadBalancerRecord* lb = FindLoadBalancer(scope, input["LoadBalancerArn"]);
  if (lb == nullptr) return LoadBalancerNotFound();
  LoadBalancerRecord updated = *lb;
  updated.doc["SecurityGroups"] = input["SecurityGroups"];
  US_RETURN_IF_ERROR_API(Save(updated));
  *lb = updated;
  return Json{{"SecurityGroupIds", input["SecurityGroups"]}};
}

ApiResult Service::SetSubnets(const Scope& scope, const Json& input) {
  LoadBalancerRecord* lb = FindLoadBalancer(scope, input["LoadBalancerArn"]);
  if (lb == nullptr) return LoadBalancerNotFound();
  auto placed = Place(*this, scope, input);
  if (auto* error = std::get_if<ApiError>(&placed)) return *error;
  Placement placement = std::get<Placement>(placed);
  if (placement.vpc_id != lb->doc["VpcId"]) {
    return InvalidConfiguration("The subnets must belong to the load balancer's VPC '" +
                                lb->doc["VpcId"].get<std::string>() + "'");
  }
  LoadBalancerRecord updated = *lb;
  updated.doc["AvailabilityZones"] = placement.zones;
  if (input.contains("IpAddressType")) updated.doc["IpAddressType"] = input["IpAddressType"];
  US_RETURN_IF_ERROR_API(Save(updated));
  *lb = updated;
  return Json{{"AvailabilityZones", placement.zones}, {"IpAddressType", lb->doc["IpAddressType"]}};
}

ApiResult Service::SetIpAddressType(const Scope& scope, const Json& input) {
  LoadBalancerRecord* lb = FindLoadBalancer(scope, input["LoadBalancerArn"]);
  if (lb == nullptr) return LoadBalancerNotFound();
  std::string type = input["IpAddressType"];
  if (type == "dualstack-without-public-ipv4" && lb->doc["Scheme"] != "internet-facing") {
    return InvalidConfiguration(
        "IP address type 'dualstack-without-public-ipv4' is only supported for internet-facing "
        "load balancers");
  }
  LoadBalancerRecord updated = *lb;
  updated.doc["IpAddressType"] = type;
  US_RETURN_IF_ERROR_API(Save(updated));
  *lb = updated;
  return Json{{"IpAddressType", type}};
}

}  // namespace understudy::elb
