// Target group operations: create, describe, modify (health checks), delete, attributes.
#include <algorithm>
#include <cctype>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

ApiError TargetGroupNotFound() {
  return ElbError("TargetGroupNotFound", "One or more target groups not found");
}

std::optional<ApiError> CheckTargetGroupName(const std::string& name) {
  if (name.size() > 32) {
    return ValidationError("Target group name '" + name +
                           "' cannot be longer than '32' characters");
  }
  if (!name.empty() && (name.front() == '-' || name.back() == '-')) {
    return ValidationError("Target group name '" + name + "' cannot begin or end with '-'");
  }
  if (!IsValidResourceName(name)) {
    return ValidationError("Target group name '" + name +
                           "' can only contain characters that are alphanumeric characters or "
                           "hyphens(-)");
  }
  return std::nullopt;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

// Checks a matcher such as "200", "200,202" or "200-299" against [lo, hi].
bool MatcherWithin(const std::string& codes, int lo, int hi) {
  if (codes.empty()) return false;
  size_t start = 0;
  while (start <= codes.size()) {
    size_t comma = codes.find(',', start);
    std::string part = codes.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t dash = part.find('-');
    std::string a = part.substr(0, dash), b = dash == std::string::npos ? a : part.substr(dash + 1);
    if (!AllDigits(a) || !AllDigits(b)) return false;
    int x = std::stoi(a), y = std::stoi(b);
    if (x < lo || y > hi || x > y) return false;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

// Applies the health-check members of `input` to target group `doc` and checks the result.
std::optional<ApiError> ApplyHealthCheck(Json& doc, const Json& input) {
  for (const char* key :
       {"HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled", "HealthCheckPath",
        "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
        "UnhealthyThresholdCount", "Matcher"}) {
    if (input.contains(key)) doc[key] = input[key];
  }
  std::string type = doc.value("TargetType", "instance");
  if (doc.contains("HealthCheckProtocol")) {
    std::string protocol = doc["HealthCheckProtocol"];
    if (protocol != "HTTP" && protocol != "HTTPS") {
      return ValidationError("Health check protocol '" + protocol +
                             "' is not supported for target groups of application load "
                             "balancers; use HTTP or HTTPS");
    }
  }
  if (doc.contains("HealthCheckPort")) {
    std::string port = doc["HealthCheckPort"];
    if (port != "traffic-port" &&
        (!AllDigits(port) || std::stoi(port) < 1 || std::stoi(port) > 65535)) {
      return ValidationError("Health check port '" + port +
                             "' must be 'traffic-port' or a port between 1 and 65535");
    }
  }
  if (doc.contains("HealthCheckPath") && doc["HealthCheckPath"].get<std::string>()[0] != '/') {
    return ValidationError("Health check path must begin with a '/' character");
  }
  if (!doc.value("HealthCheckEnabled", true) && (type == "instance" || type == "ip")) {
    return InvalidConfiguration(
        "Health checks cannot be disabled for target groups with target "
        "type '" +
        type + "'");
  }
  if (doc.contains("HealthCheckTimeoutSeconds") && doc.contains("HealthCheckIntervalSeconds") &&
      doc["HealthCheckTimeoutSeconds"].get<int>() >= doc["HealthCheckIntervalSeconds"].get<int>()) {
    return InvalidConfiguration("Health check timeout '" +
                                std::to_string(doc["HealthCheckTimeoutSeconds"].get<int>()) +
                                "' must be smaller than the interval '" +
                                std::to_string(doc["HealthCheckIntervalSeconds"].get<int>()) + "'");
  }
  if (doc.contains("Matcher")) {
    const Json& m = doc["Matcher"];
    if (m.contains("HttpCode") && !MatcherWithin(m["HttpCode"], 200, 499)) {
      return ValidationError("Health check matcher HTTP code '" + m["HttpCode"].get<std::string>() +
                             "' must be within '200-499' range.");
    }
    if (m.contains("GrpcCode") && !MatcherWithin(m["GrpcCode"], 0, 99)) {
      return ValidationError("Health check matcher gRPC code '" + m["GrpcCode"].get<std::string>() +
                             "' must be within '0-99' range.");
    }
    if (m.contains("GrpcCode") && doc.value("ProtocolVersion", "") != "GRPC") {
      return ValidationError(
          "A gRPC matcher is only valid for target groups with protocol "
          "version 'GRPC'");
    }
  }
  return std::nullopt;
}

}  // namespace

ApiResult Service::CreateTargetGroup(const Scope& scope, const Json& input) {
  std::string name = input["Name"];
  if (auto error = CheckTargetGroupName(name)) return *error;
  std::string type = input.value("TargetType", "instance");
  Json tags = input.value("Tags", Json::array());
  if (auto error = CheckTags(tags)) return *error;
  Json doc{{"TargetGroupName", name}, {"TargetType", type}};
  if (type == "lambda") {
    for (const char* key : {"Protocol", "Port", "VpcId"}) {
      if (input.contains(key)) {
        return ValidationError(std::string(key) +
                               " cannot be specified for target groups with target type "
                               "'lambda'");
      }
    }
    doc.update(Json{{"HealthCheckEnabled", false},
                    {"HealthCheckPath", "/"},
                    {"HealthCheckIntervalSeconds", 35},
                    {"HealthCheckTimeoutSeconds", 30},
                    {"HealthyThresholdCount", 5},
                    {"UnhealthyThresholdCount", 2},
                    {"Matcher", Json{{"HttpCode", "200"}}}});
  } else {
    if (!input.contains("Protocol")) return ValidationError("A protocol must be specified");
    if (!input.contains("Port")) return ValidationError("A port must be specified");
    if (!input.contains("VpcId")) return ValidationError("A VPC ID must be specified");
    std::string protocol = input["Protocol"];
    if (type == "alb") {
      if (protocol != "TCP") {
        return ValidationError("Target groups with target type 'alb' must use the TCP protocol");
      }
    } else if (protocol != "HTTP" && protocol != "HTTPS") {
      return ValidationError("Protocol '" + protocol +
                             "' is not supported; target groups of application load balancers "
                             "use HTTP or HTTPS");
    }
    std::string version = input.value("ProtocolVersion", type == "alb" ? "" : "HTTP1");
    if (type != "alb" && version != "HTTP1" && version != "HTTP2" && version != "GRPC") {
      return ValidationError("Protocol version '" + version +
                             "' is not valid; use HTTP1, HTTP2 or GRPC");
    }
    bool grpc = version == "GRPC";
    doc.update(Json{{"Protocol", protocol},
                    {"Port", input["Port"]},
                    {"VpcId", input["VpcId"]},
                    {"HealthCheckProtocol", type == "alb" ? "HTTP" : protocol},
                    {"HealthCheckPort", "traffic-port"},
                    {"HealthCheckEnabled", true},
                    {"HealthCheckPath", grpc ? "/AWS.ALB/healthcheck" : "/"},
                    {"HealthCheckIntervalSeconds", 30},
                    {"HealthCheckTimeoutSeconds", 5},
                    {"HealthyThresholdCount", 5},
                    {"UnhealthyThresholdCount", 2},
                    {"Matcher", grpc ? Json{{"GrpcCode", "12"}} : Json{{"HttpCode", "200"}}},
                    {"IpAddressType", input.value("IpAddressType", "ipv4")}});
    if (!version.empty()) doc["ProtocolVersion"] = version;
  }
  if (auto error = ApplyHealthCheck(doc, input)) return *error;

  for (auto& [arn, tg] : target_groups_) {
    if (!(tg.scope == scope) || tg.doc["TargetGroupName"] != name) continue;
    Json existing = tg.doc;
    existing.erase("TargetGroupArn");
    if (existing == doc) {
      Json view = tg.doc;
      view["LoadBalancerArns"] = LoadBalancersUsing(arn);
      return Json{{"TargetGroups", Json::array({view})}};
    }
    return ElbError("DuplicateTargetGroupName", "A target group with the same name '" + name +
                                                    "' exists, but with different settings");
  }
  std::string arn = MakeArn("elasticloadbalancing", scope, "targetgroup/" + name + "/" + NewId());
  doc["TargetGroupArn"] = arn;
  TargetGroupRecord record{scope, doc, DefaultTargetGroupAttributes(type), MergeTags({}, tags), {}};
  US_RETURN_IF_ERROR_API(Save(record));
  target_groups_[arn] = record;
  journal().Transition(arn, Json{{"created", name}});
  Json view = doc;
  view["LoadBalancerArns"] = Json::array();
  return Json{{"TargetGroups", Json::array({view})}};
}

ApiResult Service::DescribeTargetGroups(const Scope& scope, const Json& input) {
  int given = input.contains("LoadBalancerArn") + input.contains("TargetGroupArns") +
              input.contains("Names");
  if (given > 1) {
    return ValidationError(
        "Only one of load balancer ARN, target group ARNs or target group names can be "
        "specified");
  }
  std::vector<std::string> keys;
  if (input.contains("TargetGroupArns")) {
    for (const auto& a : input["TargetGroupArns"]) {
      if (!FindTargetGroup(scope, a)) return TargetGroupNotFound();
      keys.push_back(a);
    }
  } else if (input.contains("Names")) {
    for (const auto& n : input["Names"]) {
      auto it = std::find_if(target_groups_.begin(), target_groups_.end(), [&](const auto& e) {
        return e.second.scope == scope && e.second.doc["TargetGroupName"] == n;
      });
      if (it == target_groups_.end()) return TargetGroupNotFound();
      keys.push_back(it->first);
    }
  } else if (input.contains("LoadBalancerArn")) {
    std::string lb = input["LoadBalancerArn"];
    if (!FindLoadBalancer(scope, lb)) {
      return ElbError("LoadBalancerNotFound", "One or more load balancers not found");
    }
    for (const auto& [arn, tg] : target_groups_) {
      auto lbs = LoadBalancersUsing(arn);
      if (std::find(lbs.begin(), lbs.end(), lb) != lbs.end()) keys.push_back(arn);
    }
  } else {
    for (const auto& [arn, tg] : target_groups_) {
      if (tg.scope == scope) keys.push_back(arn);
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto paged = Paginate(keys, input);
  if (auto* error = std::get_if<ApiError>(&paged)) return *error;
  const Page& page = std::get<Page>(paged);
  Json out = Json::array();
  for (const auto& arn : page.keys) {
    Json view = target_groups_[arn].doc;
    view["LoadBalancerArns"] = LoadBalancersUsing(arn);
    out.push_back(view);
  }
  Json result{{"TargetGroups", out}};
  if (page.next_marker) result["NextMarker"] = *page.next_marker;
  return result;
}

ApiResult Service::ModifyTargetGroup(const Scope& scope, const Json& input) {
  std::string arn = input["TargetGroupArn"];
  TargetGroupRecord* tg = FindTargetGroup(scope, arn);
  if (tg == nullptr) return TargetGroupNotFound();
  TargetGroupRecord updated = *tg;
  if (auto error = ApplyHealthCheck(updated.doc, input)) return *error;
  US_RETURN_IF_ERROR_API(Save(updated));
  *tg = updated;
  Publish();
  Json view = tg->doc;
  view["LoadBalancerArns"] = LoadBalancersUsing(arn);
  return Json{{"TargetGroups", Json::array({view})}};
}

ApiResult Service::DeleteTargetGroup(const Scope& scope, const Json& input) {
  std::string arn = input["TargetGroupArn"];
  TargetGroupRecord* tg = FindTargetGroup(scope, arn);
  if (tg == nullptr) return TargetGroupNotFound();
  if (InUse(arn)) {
    return ElbError("ResourceInUse",
                    "Target group '" + arn + "' is currently in use by a listener or a rule");
  }
  US_RETURN_IF_ERROR_API(Erase(arn));
  for (const auto& t : tg->targets) {
    if (t.drain_timer != 0) clock().Cancel(t.drain_timer);
  }
  target_groups_.erase(arn);
  journal().Transition(arn, Json{{"deleted", true}});
  Publish();
  return Json::object();
}

ApiResult Service::DescribeTargetGroupAttributes(const Scope& scope, const Json& input) {
  TargetGroupRecord* tg = FindTargetGroup(scope, input["TargetGroupArn"]);
  if (tg == nullptr) return TargetGroupNotFound();
  return Json{{"Attributes", AttributeList(tg->attributes)}};
}

ApiResult Service::ModifyTargetGroupAttributes(const Scope& scope, const Json& input) {
  TargetGroupRecord* tg = FindTargetGroup(scope, input["TargetGroupArn"]);
  if (tg == nullptr) return TargetGroupNotFound();
  TargetGroupRecord updated = *tg;
  if (auto error = ApplyTargetGroupAttributes(updated.attributes, input["Attributes"],
                                              tg->doc.value("TargetType", "instance"))) {
    return *error;
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  *tg = updated;
  Publish();
  return Json{{"Attributes", AttributeList(tg->attributes)}};
}

}  // namespace understudy::elb
