// Services: deployments that shift traffic between two target groups — the native
// ECS BLUE_GREEN strategy and its LINEAR and CANARY forms (aws-semantics §2.10).
//
// The new (green) deployment's tasks register in the target group the live (blue)
// deployment does not use, scale up to desiredCount, and once all are healthy ECS
// rewrites the test listener rule and then the production listener rule to forward to
// the green group: at once (BLUE_GREEN), in steps of stepPercent (LINEAR) or first
// canaryPercent (CANARY), each step held for its bake time. After bakeTimeInMinutes
// the blue tasks are drained and stopped (CLEAN_UP) and the deployment completes.
// Until then a rollback (circuit breaker or StopServiceDeployment) shifts production
// back at once. The stages are those of ServiceDeployment.lifecycleStage; lifecycle
// hooks target Lambda functions, which understudy does not run, so every hook stage
// passes as soon as it is reached.
#include <cmath>

#include "ecs/ecs_internal.h"
#include "ecs/services.h"

namespace understudy::ecs {
namespace {

using api::ApiError;

constexpr const char* kStages[] = {"RECONCILE_SERVICE",
                                   "PRE_SCALE_UP",
                                   "SCALE_UP",
                                   "POST_SCALE_UP",
                                   "TEST_TRAFFIC_SHIFT",
                                   "POST_TEST_TRAFFIC_SHIFT",
                                   "PRODUCTION_TRAFFIC_SHIFT",
                                   "POST_PRODUCTION_TRAFFIC_SHIFT",
                                   "BAKE_TIME",
                                   "CLEAN_UP"};

int StageIndex(const std::string& stage) {
  for (int i = 0; i < static_cast<int>(std::size(kStages)); ++i) {
    if (stage == kStages[i]) return i;
  }
  return 0;
}

double Minutes(const Json& config, const char* field) { return config.value(field, 0.0) * 60.0; }

}  // namespace

bool Services::ShiftsTraffic(const Json& service) {
  std::string strategy =
      service.value("deploymentConfiguration", Json::object()).value("strategy", "ROLLING");
  return strategy == "BLUE_GREEN" || strategy == "LINEAR" || strategy == "CANARY";
}

std::optional<ApiError> Services::CheckTrafficShift(const Scope& scope, const Json& config,
                                                    const Json& lbs) const {
  std::string strategy = config.value("strategy", "ROLLING");
  if (strategy == "ROLLING") return std::nullopt;
  int64_t bake = config.value("bakeTimeInMinutes", int64_t{0});
  if (bake < 0 || bake > 1440) {
    return InvalidParameter("bakeTimeInMinutes must be between 0 and 1440.");
  }
  if (strategy == "LINEAR") {
    double step = config.value("linearConfiguration", Json::object()).value("stepPercent", 10.0);
    if (step < 3.0 || step > 100.0) {
      return InvalidParameter("linearConfiguration.stepPercent must be between 3.0 and 100.0.");
    }
  }
  if (strategy == "CANARY") {
    double canary = config.value("canaryConfiguration", Json::object()).value("canaryPercent", 5.0);
    if (canary < 0.1 || canary > 100.0) {
      return InvalidParameter("canaryConfiguration.canaryPercent must be between 0.1 and 100.0.");
    }
  }
  for (const auto& lb : lbs) {
    if (!lb.contains("advancedConfiguration")) {
      return InvalidParameter(
          "advancedConfiguration must be specified for each load balancer of a " + strategy +
          " deployment.");
    }
    const Json& advanced = lb["advancedConfiguration"];
    std::string alternate = advanced.value("alternateTargetGroupArn", "");
    std::string production = advanced.value("productionListenerRule", "");
    if (alternate.empty() || production.empty()) {
      return InvalidParameter(
          "advancedConfiguration requires alternateTargetGroupArn and productionListenerRule.");
    }
    if (alternate == lb.value("targetGroupArn", "")) {
      return InvalidParameter(
          "alternateTargetGroupArn must be a different target group from targetGroupArn.");
    }
    if (lb_.target_group && !lb_.target_group(scope, alternate)) {
      return InvalidParameter("Unable to find target group " + alternate + ".");
    }
    for (const char* field : {"productionListenerRule", "testListenerRule"}) {
      if (!advanced.contains(field) || !lb_.rule_target_groups) continue;
      std::string rule = advanced[field].get<std::string>();
      auto groups = lb_.rule_target_groups(scope, rule);
      if (!groups) return InvalidParameter("Unable to find listener rule " + rule + ".");
    }
  }
  return std::nullopt;
}

Json Services::TrafficShiftTargetGroups(const Record& record) const {
  // Green goes to whichever group of each pair the live (last completed) deployment
  // does not use; the first deployment uses targetGroupArn.
  const Json& live = record.doc.value("_lastCompleted", Json::object());
  Json groups = Json::array();
  const Json& lbs = record.doc["loadBalancers"];
  for (size_t i = 0; i < lbs.size(); ++i) {
    std::string primary = lbs[i].value("targetGroupArn", "");
    std::string alternate =
        lbs[i].value("advancedConfiguration", Json::object()).value("alternateTargetGroupArn", "");
    const Json& used = live.value("_targetGroups", Json::array());
    bool blue_on_primary = i >= used.size() || used[i] == primary;
    groups.push_back(live.empty() || alternate.empty() || !blue_on_primary ? primary : alternate);
  }
  return groups;
}

std::string Services::TargetGroupOf(const Record& record, const std::string& deployment_id,
                                    size_t lb_index) const {
  for (const auto& d : record.doc["deployments"]) {
    if (d["id"] != deployment_id || !d.contains("_targetGroups")) continue;
    if (lb_index < d["_targetGroups"].size()) return d["_targetGroups"][lb_index];
  }
  return record.doc["loadBalancers"][lb_index].value("targetGroupArn", "");
}

void Services::SetStage(Record& record, Json& primary, const std::string& stage) {
  primary["_stage"] = stage;
  primary["_stageSince"] = ToEpochSeconds(clock_.Now());
  if (record.doc.contains("_serviceDeployments") && !record.doc["_serviceDeployments"].empty()) {
    record.doc["_serviceDeployments"][0]["lifecycleStage"] = stage;
  }
  journal_.Transition(record.doc["serviceArn"].get<std::string>(),
                      Json{{"deployment", primary["id"]}, {"lifecycleStage", stage}});
}

Status Services::RouteProduction(Record& record, const Json& primary, int green_weight,
                                 const char* rule_field) {
  const Json& lbs = record.doc["loadBalancers"];
  for (size_t i = 0; i < lbs.size(); ++i) {
    const Json& advanced = lbs[i].value("advancedConfiguration", Json::object());
    if (!advanced.contains(rule_field) || !lb_.set_forward_weights) continue;
    std::string green = TargetGroupOf(record, primary["id"].get<std::string>(), i);
    std::string primary_tg = lbs[i].value("targetGroupArn", "");
    std::string alternate = advanced.value("alternateTargetGroupArn", "");
    std::string blue = green == primary_tg ? alternate : primary_tg;
    US_RETURN_IF_ERROR(
        lb_.set_forward_weights(record.scope, advanced[rule_field].get<std::string>(),
                                {{blue, 100 - green_weight}, {green, green_weight}}));
  }
  return Status::Ok();
}

bool Services::AdvanceTrafficShift(Record& record, bool scaled_up) {
  Json& primary = record.doc["deployments"][0];
  if (primary["rolloutState"] == "COMPLETED") return true;
  if (primary["rolloutState"] != "IN_PROGRESS") return false;  // FAILED: blue keeps serving
  const Json& config = record.doc["deploymentConfiguration"];
  std::string strategy = config.value("strategy", "BLUE_GREEN");
  bool rollback = primary.value("_rollback", false);
  double now = ToEpochSeconds(clock_.Now());
  auto report = [&](Status status) {
    if (!status.ok()) {
      journal_.Record(JournalKind::kNote, "ecs.services", Json{{"trafficShift", status.message()}});
    }
  };
  for (;;) {
    std::string stage = primary.value("_stage", "SCALE_UP");
    int index = StageIndex(stage);
    double since = primary.value("_stageSince", now);
    if (stage == "SCALE_UP" && !scaled_up) return false;
    if (stage == "PRODUCTION_TRAFFIC_SHIFT") {
      // The production weight steps: (green %, minutes held after it).
      std::vector<std::pair<int, double>> steps;
      if (rollback || strategy == "BLUE_GREEN") {
        steps = {{100, 0}};
      } else if (strategy == "CANARY") {
        const Json& canary = config.value("canaryConfiguration", Json::object());
        steps = {{static_cast<int>(std::lround(canary.value("canaryPercent", 5.0))),
                  Minutes(canary, "canaryBakeTimeInMinutes")},
                 {100, 0}};
      } else {
        const Json& linear = config.value("linearConfiguration", Json::object());
        double step = linear.value("stepPercent", 10.0);
        for (double w = step; w < 100.0; w += step) {
          steps.emplace_back(static_cast<int>(std::lround(w)),
                             Minutes(linear, "stepBakeTimeInMinutes"));
        }
        steps.emplace_back(100, 0);
      }
      size_t at = primary.value("_shiftStep", size_t{0});
      if (!primary.contains("_shiftStep")) {
        report(RouteProduction(record, primary, steps[0].first, "productionListenerRule"));
        primary["_shiftStep"] = 0;
        primary["_stepSince"] = now;
        at = 0;
      }
      while (at + 1 < steps.size() &&
             now >= primary["_stepSince"].get<double>() + steps[at].second) {
        ++at;
        report(RouteProduction(record, primary, steps[at].first, "productionListenerRule"));
        primary["_shiftStep"] = at;
        primary["_stepSince"] = now;
      }
      if (at + 1 < steps.size()) return false;
    }
    if (stage == "TEST_TRAFFIC_SHIFT") {
      report(RouteProduction(record, primary, 100, "testListenerRule"));
    }
    if (stage == "BAKE_TIME" && !rollback &&
        now < since + config.value("bakeTimeInMinutes", int64_t{0}) * 60.0) {
      return false;
    }
    if (stage == "CLEAN_UP") return true;
    SetStage(record, primary, kStages[index + 1]);
  }
}

}  // namespace understudy::ecs
