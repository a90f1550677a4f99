// Targets: registration, deregistration with its draining delay on the clock, and
// the health DescribeTargetHealth shows (aws-semantics §1.6).
#include <arpa/inet.h>

#include <algorithm>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

ApiError TargetGroupNotFound() {
  return ElbError("TargetGroupNotFound", "One or more target groups not found");
}

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool IsInstanceId(const std::string& id) {
  if (id.size() < 10 || id.size() > 19 || id.rfind("i-", 0) != 0) return false;
  return std::all_of(id.begin() + 2, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The port a target description names: its own, else the target group's.
uint16_t PortOf(const TargetGroupRecord& tg, const Json& target) {
  return static_cast<uint16_t>(target.value("Port", tg.doc.value("Port", 0)));
}

std::optional<ApiError> CheckTarget(const Service& s, const Scope& scope,
                                    const TargetGroupRecord& tg, const Json& target) {
  std::string id = target["Id"];
  std::string type = tg.doc.value("TargetType", "instance");
  if (type == "ip" && !IsIpAddress(id)) {
    return ElbError("InvalidTarget", "The IP address '" + id + "' is not a valid IP address");
  }
  if (type == "instance" && !IsInstanceId(id)) {
    return ElbError("InvalidTarget", "The instance ID '" + id + "' is not valid");
  }
  if (type == "lambda") {
    if (id.rfind("arn:", 0) != 0 || id.find(":lambda:") == std::string::npos) {
      return ElbError("InvalidTarget", "The target '" + id + "' is not a Lambda function ARN");
    }
    if (target.contains("Port")) {
      return ElbError("InvalidTarget",
                      "A port cannot be specified for targets of target type 'lambda'");
    }
    if (!tg.targets.empty() && tg.targets[0].id != id) {
      return ElbError("TooManyTargets",
                      "A target group of target type 'lambda' can have only "
                      "one target");
    }
  }
  if (type == "alb") {
    auto* self = const_cast<Service*>(&s);
    if (self->FindLoadBalancer(scope, id) == nullptr) {
      return ElbError("InvalidTarget", "The load balancer '" + id + "' is not a valid target");
    }
  }
  if (type != "lambda" && !target.contains("Port") && !tg.doc.contains("Port")) {
    return ElbError("InvalidTarget", "A port must be specified for target '" + id + "'");
  }
  return std::nullopt;
}

const char* StateName(Target::Health h) {
  switch (h) {
    case Target::Health::kInitial:
      return "initial";
    case Target::Health::kHealthy:
      return "healthy";
    case Target::Health::kUnhealthy:
      return "unhealthy";
    case Target::Health::kDraining:
      return "draining";
    case Target::Health::kUnused:
      return "unused";
    case Target::Health::kUnavailable:
      return "unavailable";
  }
  return "initial";
}

Json HealthJson(const std::string& state, const std::string& reason,
                const std::string& description) {
  Json out{{"State", state}};
  if (!reason.empty()) out["Reason"] = reason;
  if (!description.empty()) out["Description"] = description;
  return out;
}

}  // namespace

const char* HealthStateName(Target::Health health) { return StateName(health); }

ApiResult Service::RegisterTargets(const Scope& scope, const Json& input) {
  std::string arn = input["TargetGroupArn"];
  TargetGroupRecord* tg = FindTargetGroup(scope, arn);
  if (tg == nullptr) return TargetGroupNotFound();
  for (const auto& t : input["Targets"]) {
    if (auto error = CheckTarget(*this, scope, *tg, t)) return *error;
  }
  TargetGroupRecord updated = *tg;
  for (const auto& t : input["Targets"]) {
    std::string id = t["Id"];
    uint16_t port = PortOf(*tg, t);
    auto it = std::find_if(updated.targets.begin(), updated.targets.end(),
                           [&](const TargetRecord& r) { return r.id == id && r.port == port; });
    if (it != updated.targets.end()) {
      if (it->draining) {  // registered again while draining: back in service
        if (it->drain_timer != 0) clock().Cancel(it->drain_timer);
        it->draining = false;
        it->drain_timer = 0;
        it->drain_until = TimePoint{};
      }
      continue;
    }
    TargetRecord record;
    record.id = id;
    record.port = port;
    record.availability_zone = t.value("AvailabilityZone", "");
    updated.targets.push_back(record);
  }
  if (updated.targets.size() > 1000) {
    return ElbError("TooManyTargets",
                    "You've reached the limit on the number of targets per target group");
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  *tg = std::move(updated);
  journal().Transition(arn, Json{{"registered", input["Targets"]}});
  Publish();
  return Json::object();
}

ApiResult Service::DeregisterTargets(const Scope& scope, const Json& input) {
  std::string arn = input["TargetGroupArn"];
  TargetGroupRecord* tg = FindTargetGroup(scope, arn);
  if (tg == nullptr) return TargetGroupNotFound();
  std::vector<size_t> indexes;
  for (const auto& t : input["Targets"]) {
    std::string id = t["Id"];
    uint16_t port = PortOf(*tg, t);
    auto it = std::find_if(tg->targets.begin(), tg->targets.end(), [&](const TargetRecord& r) {
      return r.id == id && (r.port == port || !t.contains("Port"));
    });
    if (it == tg->targets.end()) {
      return ElbError(
          "InvalidTarget",
          "The following targets are not registered in target group '" + arn + "': '" + id + "'");
    }
    indexes.push_back(static_cast<size_t>(it - tg->targets.begin()));
  }
  // Highest index first, so removing one does not move the others.
  std::sort(indexes.rbegin(), indexes.rend());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  for (size_t i : indexes) {
    if (!tg->targets[i].draining) StartDraining(*tg, i);
  }
  US_RETURN_IF_ERROR_API(Save(*tg));
  journal().Transition(arn, Json{{"deregistered", input["Targets"]}});
  Publish();
  return Json::object();
}

void Service::StartDraining(TargetGroupRecord& tg, size_t index) {
  std::string arn = tg.doc["TargetGroupArn"];
  TargetRecord& t = tg.targets[index];
  int delay = std::stoi(tg.attributes.count("deregistration_delay.timeout_seconds")
                            ? tg.attributes["deregistration_delay.timeout_seconds"]
                            : "0");
  if (delay == 0) {
    data_plane_.CutTarget(arn, t.id, t.port);
    tg.targets.erase(tg.targets.begin() + static_cast<ptrdiff_t>(index));
    return;
  }
  t.draining = true;
  t.drain_until = clock().Now() + std::chrono::seconds(delay);
  t.drain_timer = ScheduleDrainEnd(arn, t);
}

TimerId Service::ScheduleDrainEnd(const std::string& tg_arn, const TargetRecord& target) {
  std::string id = target.id;
  uint16_t port = target.port;
  return clock().Schedule(
      target.drain_until,
      [this, tg_arn, id, port] {
        auto it = target_groups_.find(tg_arn);
        if (it == target_groups_.end()) return;
        auto& targets = it->second.targets;
        auto t = std::find_if(targets.begin(), targets.end(), [&](const TargetRecord& r) {
          return r.id == id && r.port == port && r.draining;
        });
        if (t == targets.end()) return;
        targets.erase(t);
        data_plane_.CutTarget(tg_arn, id, port);
        Status saved = Save(it->second);
        (void)saved;  // a store failure here is reported by the next write
        journal().Transition(tg_arn, Json{{"drained", Json{{"Id", id}, {"Port", port}}}});
        Publish();
      },
      "elbv2 deregistration delay " + id + ":" + std::to_string(port));
}

Json Service::TargetHealthOf(const TargetGroupRecord& tg, const std::string& id,
                             uint16_t port) const {
  auto it = std::find_if(tg.targets.begin(), tg.targets.end(),
                         [&](const TargetRecord& r) { return r.id == id && r.port == port; });
  if (it == tg.targets.end()) {
    return HealthJson("unused", "Target.NotRegistered",
                      "Target is not registered to the target group");
  }
  if (it->draining) {
    return HealthJson("draining", "Target.DeregistrationInProgress",
                      "Target deregistration is in progress");
  }
  if (!tg.doc.value("HealthCheckEnabled", true)) {
    return HealthJson("unavailable", "Target.HealthCheckDisabled", "Health checks are disabled");
  }
  std::string arn = tg.doc["TargetGroupArn"];
  std::string type = tg.doc.value("TargetType", "instance");
  if (!InUse(arn) || (type != "instance" && type != "ip")) {
    return HealthJson("unused", "Target.NotInUse",
                      "Target group is not configured to receive traffic from the load balancer");
  }
  TargetHealthReport report = health_.Health(TargetKey{arn, id, port});
  return HealthJson(StateName(report.state), report.reason, report.description);
}

ApiResult Service::DescribeTargetHealth(const Scope& scope, const Json& input) {
  const TargetGroupRecord* tg = FindTargetGroup(scope, input["TargetGroupArn"]);
  if (tg == nullptr) return TargetGroupNotFound();
  std::string hc_port = tg->doc.value("HealthCheckPort", "traffic-port");
  bool lambda = tg->doc.value("TargetType", "") == "lambda";
  auto describe = [&](const std::string& id, uint16_t port, const std::string& az) {
    Json target{{"Id", id}};
    if (!lambda) target["Port"] = port;
    if (!az.empty()) target["AvailabilityZone"] = az;
    Json out{{"Target", target}, {"TargetHealth", TargetHealthOf(*tg, id, port)}};
    if (!lambda)
      out["HealthCheckPort"] = hc_port == "traffic-port" ? std::to_string(port) : hc_port;
    return out;
  };
  Json out = Json::array();
  if (input.contains("Targets")) {
    for (const auto& t : input["Targets"]) {
      std::string id = t["Id"];
      uint16_t port = PortOf(*tg, t);
      auto it = std::find_if(tg->targets.begin(), tg->targets.end(),
                             [&](const TargetRecord& r) { return r.id == id && r.port == port; });
      out.push_back(describe(id, port, it == tg->targets.end() ? "" : it->availability_zone));
    }
  } else {
    for (const auto& t : tg->targets) out.push_back(describe(t.id, t.port, t.availability_zone));
  }
  return Json{{"TargetHealthDescriptions", out}};
}

}  // namespace understudy::elb
