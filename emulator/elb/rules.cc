// Listener rule operations: create, describe (priority order, default last), modify,
// delete and set priorities.
#include <algorithm>
#include <cstdio>
#include <set>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

ApiError RuleNotFound() { return ElbError("RuleNotFound", "One or more rules not found"); }

ApiError PriorityInUse(int priority) {
  return ElbError("PriorityInUse",
                  "Priority '" + std::to_string(priority) + "' is currently in use");
}

// A key that sorts rules by priority, the default rule last.
std::string SortKey(const RuleRecord& rule) {
  char buf[16];
  std::string p = rule.doc["Priority"];
  std::snprintf(buf, sizeof buf, "%06d|", p == "default" ? 999999 : std::stoi(p));
  return buf + rule.doc["RuleArn"].get<std::string>();
}

}  // namespace

ApiResult Service::CreateRule(const Scope& scope, const Json& input) {
  std::string listener_arn = input["ListenerArn"];
  ListenerRecord* listener = FindListener(scope, listener_arn);
  if (listener == nullptr) {
    return ElbError("ListenerNotFound", "One or more listeners not found");
  }
  int priority = input["Priority"];
  std::string lb_arn = listener->doc["LoadBalancerArn"];
  for (RuleRecord* rule : RulesOf(listener_arn)) {
    if (rule->doc["Priority"] == std::to_string(priority)) return PriorityInUse(priority);
  }
  int on_lb = 0;
  for (const auto& [arn, rule] : rules_) {
    if (rule.doc.value("IsDefault", false)) continue;
    auto l = listeners_.find(rule.listener_arn);
    if (l != listeners_.end() && l->second.doc["LoadBalancerArn"] == lb_arn) ++on_lb;
  }
  if (on_lb >= 100) {
    return ElbError("TooManyRules",
                    "The quota for the number of rules per load balancer has been reached");
  }
  auto conditions = CheckConditions(input["Conditions"]);
  if (auto* error = std::get_if<ApiError>(&conditions)) return *error;
  auto actions = CheckActions(scope, input["Actions"], listener->doc["Protocol"], lb_arn);
  if (auto* error = std::get_if<ApiError>(&actions)) return *error;
  Json tags = input.value("Tags", Json::array());
  if (auto error = CheckTags(tags)) return *error;
  std::string arn =
      MakeArn("elasticloadbalancing", scope,
              "listener-rule/" + ResourcePath(listener_arn, "listener") + "/" + NewId());
  RuleRecord rule{scope, listener_arn,
                  Json{{"RuleArn", arn},
                       {"Priority", std::to_string(priority)},
                       {"Conditions", std::get<Json>(conditions)},
                       {"Actions", std::get<Json>(actions)},
                       {"IsDefault", false}},
                  MergeTags({}, tags)};
  US_RETURN_IF_ERROR_API(Save(rule));
  rules_[arn] = rule;
  journal().Transition(arn, Json{{"created", Json{{"priority", priority}}}});
  Publish();
  return Json{{"Rules", Json::array({rule.doc})}};
}

ApiResult Service::DescribeRules(const Scope& scope, const Json& input) {
  std::vector<RuleRecord*> found;
  if (input.contains("RuleArns")) {
    if (input.contains("ListenerArn")) {
      return ValidationError("Rule ARNs and a listener ARN cannot be specified at the same time");
    }
    for (const auto& a : input["RuleArns"]) {
      RuleRecord* rule = FindRule(scope, a);
      if (rule == nullptr) return RuleNotFound();
      found.push_back(rule);
    }
  } else if (input.contains("ListenerArn")) {
    if (FindListener(scope, input["ListenerArn"]) == nullptr) {
      return ElbError("ListenerNotFound", "One or more listeners not found");
    }
    found = RulesOf(input["ListenerArn"]);
  } else {
    return ValidationError("You must specify either listener ARN or rule ARNs");
  }
  std::map<std::string, RuleRecord*> by_key;
  for (RuleRecord* r : found) by_key[SortKey(*r)] = r;
  std::vector<std::string> keys;
  for (const auto& [k, r] : by_key) keys.push_back(k);
  auto paged = Paginate(keys, input);
  if (auto* error = std::get_if<ApiError>(&paged)) return *error;
  const Page& page = std::get<Page>(paged);
  Json out = Json::array();
  for (const auto& k : page.keys) out.push_back(by_key[k]->doc);
  Json result{{"Rules", out}};
  if (page.next_marker) result["NextMarker"] = *page.next_marker;
  return result;
}

ApiResult Service::ModifyRule(const Scope& scope, const Json& input) {
  RuleRecord* rule = FindRule(scope, input["RuleArn"]);
  if (rule == nullptr) return RuleNotFound();
  ListenerRecord* listener = FindListener(scope, rule->listener_arn);
  if (listener == nullptr) return RuleNotFound();
  bool is_default = rule->doc.value("IsDefault", false);
  RuleRecord updated = *rule;
  if (input.contains("Conditions")) {
    if (is_default) {
      return ElbError("OperationNotPermitted", "The default rule cannot have conditions");
    }
    auto conditions = CheckConditions(input["Conditions"]);
    if (auto* error = std::get_if<ApiError>(&conditions)) return *error;
    updated.doc["Conditions"] = std::get<Json>(conditions);
  }
  if (input.contains("Actions")) {
    auto actions = CheckActions(scope, input["Actions"], listener->doc["Protocol"],
                                listener->doc["LoadBalancerArn"]);
    if (auto* error = std::get_if<ApiError>(&actions)) return *error;
    updated.doc["Actions"] = std::get<Json>(actions);
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  if (is_default) {  // the default rule's actions are the listener's default actions
    ListenerRecord listener_updated = *listener;
    listener_updated.doc["DefaultActions"] = updated.doc["Actions"];
    US_RETURN_IF_ERROR_API(Save(listener_updated));
    *listener = listener_updated;
  }
  *rule = updated;
  Publish();
  return Json{{"Rules", Json::array({rule->doc})}};
}

ApiResult Service::DeleteRule(const Scope& scope, const Json& input) {
  std::string arn = input["RuleArn"];
  RuleRecord* rule = FindRule(scope, arn);
  if (rule == nullptr) return RuleNotFound();
  if (rule->doc.value("IsDefault", false)) {
    return ElbError("OperationNotPermitted", "Default rule '" + arn + "' cannot be deleted");
  }
  US_RETURN_IF_ERROR_API(Erase(arn));
  rules_.erase(arn);
  journal().Transition(arn, Json{{"deleted", true}});
  Publish();
  return Json::object();
}

ApiResult Service::SetRulePriorities(const Scope& scope, const Json& input) {
  std::map<std::string, int> next;  // rule ARN -> new priority
  for (const auto& p : input["RulePriorities"]) {
    std::string arn = p.value("RuleArn", "");
    RuleRecord* rule = FindRule(scope, arn);
    if (rule == nullptr) return RuleNotFound();
    if (rule->doc.value("IsDefault", false)) {
      return ElbError("OperationNotPermitted",
                      "The priority of default rule '" + arn + "' cannot be changed");
    }
    if (!p.contains("Priority")) return ValidationError("A rule priority must be specified");
    if (next.count(arn)) return ValidationError("Rule '" + arn + "' is given more than once");
    next[arn] = p["Priority"];
  }
  // Every listener touched must end up with unique priorities.
  std::map<std::string, std::set<int>> taken;  // listener -> priorities
  for (const auto& [arn, rule] : rules_) {
    if (rule.doc.value("IsDefault", false)) continue;
    auto it = next.find(arn);
    int priority =
        it != next.end() ? it->second : std::stoi(rule.doc["Priority"].get<std::string>());
    if (!taken[rule.listener_arn].insert(priority).second) return PriorityInUse(priority);
  }
  Json out = Json::array();
  for (const auto& [arn, priority] : next) {
    RuleRecord updated = rules_[arn];
    updated.doc["Priority"] = std::to_string(priority);
    US_RETURN_IF_ERROR_API(Save(updated));
    rules_[arn] = updated;
    out.push_back(updated.doc);
  }
  Publish();
  return Json{{"Rules", out}};
}

}  // namespace understudy::elb
