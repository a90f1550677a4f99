#include "chaos/experiment.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

namespace understudy::chaos {
namespace {

api::ApiError Invalid(std::string message) {
  return api::ApiError::Client("ValidationException", std::move(message));
}

const ParameterSpec kDuration{"duration", "The duration, from PT1M to PT12H (ISO 8601).", true};
const ParameterSpec kOptionalDuration{
    "duration", "How long the fault stays (ISO 8601); without it, until the experiment stops.",
    false};
const ParameterSpec kFailFirst{"failFirst", "Fail only the first N matching calls, then recover.",
                               false};
const ParameterSpec kEvery{"every", "Fail every Nth matching call (1 = every call).", false};
const ParameterSpec kProbability{
    "probability", "Probability, 0 to 1, that a matching call fails (seeded).", false};

}  // namespace

const std::vector<ActionType>& Catalog() {
  static const std::vector<ActionType> catalog = [] {
    std::vector<ActionType> c = {
        {"aws:ecs:stop-task", "Stop the specified ECS tasks.", "Tasks", "aws:ecs:task", {}},
        {"aws:ecs:task-kill-process",
         "Kill the specified process in the ECS tasks.",
         "Tasks",
         "aws:ecs:task",
         {{"processName", "The name of the processes to kill.", true},
          {"signal", "SIGKILL (default) or SIGTERM.", false}}},
        {"aws:ecs:task-cpu-stress",
         "Run CPU stress on the ECS tasks.",
         "Tasks",
         "aws:ecs:task",
         {kDuration,
          {"percent", "Target CPU load, 0 to 100 (default 100).", false},
          {"workers", "Number of stressors (default 1).", false},
          {"installDependencies", "Accepted; nothing needs installing here.", false}}},
        {"understudy:ecs:task-memory-stress",
         "Grow memory inside the ECS tasks until the container's limit: the kernel's OOM "
         "killer acts and the container is OOM-killed.",
         "Tasks",
         "aws:ecs:task",
         {kOptionalDuration}},
        {"aws:fis:wait", "Wait for the specified duration.", "", "", {kDuration}},
        {"understudy:api:inject-error",
         "Answer matching calls to an emulated API with an error.",
         "",
         "",
         {{"service", "The service's model id (ecs, sesv2, events, ...).", true},
          {"operation", "The operation (RunTask); every operation when absent.", false},
          {"errorCode", "The error code (default ServiceUnavailable).", false},
          {"httpStatus", "The HTTP status (default 503).", false},
          {"message", "The error message.", false},
          kProbability,
          kEvery,
          kFailFirst,
          kOptionalDuration}},
        {"understudy:api:latency",
         "Delay matching calls to an emulated API.",
         "",
         "",
         {{"service", "The service's model id; every service when absent.", false},
          {"operation", "The operation; every operation when absent.", false},
          {"latency", "Added latency (ISO 8601 or 250ms).", true},
          {"jitter", "Up to this much more latency, drawn from the seed.", false},
          kOptionalDuration}},
        {"understudy:ecs:crash-task",
         "Crash the essential container of the ECS tasks with the given exit code.",
         "Tasks",
         "aws:ecs:task",
         {{"exitCode", "The exit code the container reports (default 1).", false},
          {"containerName", "The container to crash (default: the essential ones).", false}}},
        {"aws:ecs:task-network-blackhole-port",
         "Drop inbound or outbound traffic to a port in the ECS tasks' network namespace.",
         "Tasks",
         "aws:ecs:task",
         {{"port", "The port.", true},
          {"protocol", "tcp (default) or udp.", false},
          {"trafficType", "ingress (default) or egress.", false},
          kDuration}},
        {"aws:ecs:task-network-packet-loss",
         "Drop a share of the packets entering the ECS tasks' network namespace.",
         "Tasks",
         "aws:ecs:task",
         {{"lossPercent", "The share of packets dropped, 0 to 100.", true}, kDuration}},
        {"aws:ecs:task-network-latency",
         "Delay the traffic of the ECS tasks' network namespace (needs tc netem).",
         "Tasks",
         "aws:ecs:task",
         {{"delayMilliseconds", "The added delay.", true},
          {"jitterMilliseconds", "Up to this much more per packet, drawn from the seed.", false},
          {"sources", "Accepted; every packet of the task's namespace is delayed.", false},
          kDuration}},
        {"understudy:ecs:spot-interruption",
         "Interrupt the Fargate Spot tasks: the SpotInterruption task state change (the "
         "two-minute warning) and SIGTERM, then SIGKILL after the containers' stopTimeout.",
         "Tasks",
         "aws:ecs:task",
         {}},
        {"understudy:ecs:hang-task",
         "Freeze the ECS tasks' processes (SIGSTOP) for the duration, then resume them "
         "(SIGCONT); their ports stay bound.",
         "Tasks",
         "aws:ecs:task",
         {kDuration, {"containerName", "The container to freeze (default: all).", false}}},
        {"understudy:ecs:placement-failure",
         "Make RunTask fail to place tasks, reporting the reason in failures.",
         "",
         "",
         {{"reason", "The failure reason (default RESOURCE:MEMORY).", false},
          {"cluster", "Only RunTask calls on this cluster.", false},
          kFailFirst,
          kOptionalDuration}},
    };
    // ALB traffic faults: one scope (listener, target group, target) and, per kind, its
    // own parameters.
    std::vector<ParameterSpec> scope = {
        {"listenerArn", "Only requests to this listener.", false},
        {"targetGroupArn", "Only requests forwarded to this target group.", false},
        {"targetId", "Only requests forwarded to this target (IP address or id).", false},
        {"port", "Only requests forwarded to this target port.", false},
        kProbability,
        kOptionalDuration};
    auto with = [&](std::vector<ParameterSpec> own) {
      own.insert(own.end(), scope.begin(), scope.end());
      return own;
    };
    c.push_back(
        {"understudy:ses:smtp-reject",
         "Reply to RCPT TO at SES's SMTP endpoint with a 4xx or 5xx code for matching "
         "recipients.",
         "",
         "",
         {{"recipient", "Recipients matching this pattern (* wildcards); all when absent.", false},
          {"code", "The reply code (default 550; 4xx is a temporary failure).", false},
          {"message", "The reply text after the code.", false},
          kFailFirst,
          kProbability,
          kOptionalDuration}});
    c.push_back({"understudy:events:delivery-delay",
                 "Deliver EventBridge rule and Scheduler target invocations late: each "
                 "matching delivery is attempted `delay` of clock time after it was due.",
                 "",
                 "",
                 {{"source", "Only this rule or schedule (name or ARN).", false},
                  {"targetArn", "Only invocations of this target.", false},
                  {"delay", "How late (ISO 8601 or 250ms).", true},
                  kFailFirst,
                  kProbability,
                  kOptionalDuration}});
    c.push_back({"understudy:events:target-failure",
                 "Fail EventBridge rule and Scheduler target invocations (retried as a "
                 "throttled or unavailable target is, then dead-lettered).",
                 "",
                 "",
                 {{"source", "Only this rule or schedule (name or ARN).", false},
                  {"targetArn", "Only invocations of this target.", false},
                  {"errorCode", "The error code recorded (default ServiceUnavailable).", false},
                  {"message", "The error message recorded.", false},
                  kFailFirst,
                  kProbability,
                  kOptionalDuration}});
    c.push_back({"understudy:elb:latency",
                 "Delay requests through the ALB before they are forwarded.", "", "",
                 with({{"latency", "Added latency (ISO 8601 or 250ms).", true},
                       {"jitter", "Up to this much more, drawn from the seed.", false}})});
    c.push_back({"understudy:elb:error-status",
                 "Answer requests through the ALB with an error status instead of forwarding.", "",
                 "", with({{"status", "The status the ALB answers (default 503).", false}})});
    c.push_back({"understudy:elb:reset-connection",
                 "Reset the client connection (TCP RST) instead of forwarding.", "", "", with({})});
    c.push_back({"understudy:elb:timeout",
                 "Answer nothing and close the connection after the timeout.", "", "",
                 with({{"timeout", "How long to stay silent (default PT30S).", false}})});
    c.push_back({"understudy:elb:bandwidth",
                 "Limit how fast answers through the ALB reach the client.", "", "",
                 with({{"rate", "Kilobytes (1024 bytes) per second, at least 1.", true}})});
    c.push_back({"understudy:elb:slow-close",
                 "Delay the ALB's closing of client connections it ends.", "", "",
                 with({{"delay", "How long the close waits (ISO 8601 or 250ms).", true}})});
    c.push_back({"understudy:elb:health-check-failure",
                 "Fail the health checks of a target group's targets for the duration.",
                 "",
                 "",
                 {{"targetGroupArn", "The target group.", true},
                  {"targetId", "Only this target (default: every target of the group).", false},
                  {"port", "Only this target port.", false},
                  kOptionalDuration}});
    std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return c;
  }();
  return catalog;
}

const ActionType* FindActionType(const std::string& id) {
  for (const auto& a : Catalog()) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const std::vector<std::string>& ResourceTypes() {
  static const std::vector<std::string> types = {"aws:ecs:task"};
  return types;
}

std::optional<Selection> ParseSelection(const std::string& text) {
  if (text == "ALL") return Selection{Selection::Mode::kAll, 0};
  auto number = [&](const std::string& prefix) -> std::optional<int64_t> {
    if (text.size() <= prefix.size() + 1 || text.compare(0, prefix.size(), prefix) != 0 ||
        text.back() != ')')
      return std::nullopt;
    std::string digits = text.substr(prefix.size(), text.size() - prefix.size() - 1);
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoll(digits);
  };
  if (auto n = number("COUNT(")) {
    if (*n < 1) return std::nullopt;
    return Selection{Selection::Mode::kCount, *n};
  }
  if (auto n = number("PERCENT(")) {
    if (*n < 1 || *n > 100) return std::nullopt;
    return Selection{Selection::Mode::kPercent, *n};
  }
  return std::nullopt;
}

size_t SelectionSize(const Selection& selection, size_t candidates) {
  switch (selection.mode) {
    case Selection::Mode::kAll:
      return candidates;
    case Selection::Mode::kCount:
      return std::min<size_t>(candidates, static_cast<size_t>(selection.n));
    case Selection::Mode::kPercent:
      return candidates * static_cast<size_t>(selection.n) / 100;
  }
  return candidates;
}

std::vector<size_t> Select(const Selection& selection, size_t candidates, Random& random) {
  std::vector<size_t> order(candidates);
  for (size_t i = 0; i < candidates; ++i) order[i] = i;
  size_t take = SelectionSize(selection, candidates);
  if (selection.mode != Selection::Mode::kAll) {
    // A partial Fisher-Yates shuffle: the first `take` places are a uniform sample.
    for (size_t i = 0; i < take; ++i) {
      size_t j = i + random.Below(candidates - i);
      std::swap(order[i], order[j]);
    }
  }
  order.resize(take);
  std::sort(order.begin(), order.end());
  return order;
}

std::optional<Duration> ParseFisDuration(const std::string& text) {
  if (text.rfind("PT", 0) != 0) {
    auto d = ParseDuration(text);
    if (!d.ok()) return std::nullopt;
    return *d;
  }
  double total_seconds = 0;
  size_t i = 2;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start || i >= text.size()) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(text.substr(start, i - start));
    } catch (...) {
      return std::nullopt;
    }
    char unit = text[i++];
    if (unit == 'H')
      total_seconds += value * 3600;
    else if (unit == 'M')
      total_seconds += value * 60;
    else if (unit == 'S')
      total_seconds += value;
    else
      return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return Duration(static_cast<int64_t>(std::llround(total_seconds * 1e6)));
}

namespace {

std::map<std::string, std::string> StringMap(const Json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return out;
}

// Actions that change the state of a task's processes: two at once on the same
// targets contradict each other (a frozen task cannot be crashed, a stopped one frozen).
bool ExclusiveTaskFault(const std::string& id) {
  return id == "aws:ecs:stop-task" || id == "understudy:ecs:crash-task" ||
         id == "understudy:ecs:spot-interruption" || id == "understudy:ecs:hang-task" ||
         id == "aws:ecs:task-kill-process";
}

}  // namespace

std::variant<Template, api::ApiError> ParseTemplate(const Json& input) {
  Template t;
  if (!input.is_object()) return Invalid("The experiment template must be a JSON object");
  t.description = input.value("description", "");
  t.role_arn = input.value("roleArn", "");
  if (input.contains("tags") && input["tags"].is_object()) t.tags = input["tags"];
  // Targets.
  Json targets = input.value("targets", Json::object());
  if (!targets.is_object()) return Invalid("targets must be a map of target names to targets");
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    const std::string& name = it.key();
    const Json& j = it.value();
    if (!j.is_object()) return Invalid("Target " + name + " must be an object");
    TargetSpec spec;
    spec.resource_type = j.value("resourceType", "");
    if (spec.resource_type.empty())
      return Invalid("Target " + name + " is missing required field resourceType");
    const auto& types = ResourceTypes();
    if (std::find(types.begin(), types.end(), spec.resource_type) == types.end())
      return Invalid("Target resource type " + spec.resource_type + " is not supported");
    spec.selection_mode = j.value("selectionMode", "");
    auto selection = ParseSelection(spec.selection_mode);
    if (!selection) {
      return Invalid("Target " + name + " has an invalid selection mode '" + spec.selection_mode +
                     "'; expected ALL, COUNT(n) with n >= 1 or PERCENT(n) with 1 <= n <= 100");
    }
    spec.selection = *selection;
    for (const auto& arn : j.value("resourceArns", Json::array())) {
      if (arn.is_string()) spec.resource_arns.push_back(arn.get<std::string>());
    }
    spec.resource_tags = StringMap(j.value("resourceTags", Json::object()));
    spec.filters = j.value("filters", Json::array());
    if (!spec.filters.is_array()) return Invalid("Target " + name + " filters must be a list");
    for (const auto& f : spec.filters) {
      bool ok = f.is_object() && f.contains("path") && f["path"].is_string() &&
                !f["path"].get<std::string>().empty() && f.contains("values") &&
                f["values"].is_array() && !f["values"].empty();
      for (const auto& v : ok ? f["values"] : Json::array()) ok &= v.is_string();
      if (!ok) {
        return Invalid(
            "Target " + name + " has an invalid filter " + f.dump() +
            "; expected {\"path\": \"<attribute path>\", \"values\": [\"<value>\", ...]}");
      }
    }
    spec.parameters = StringMap(j.value("parameters", Json::object()));
    if (!spec.resource_arns.empty() && !spec.resource_tags.empty()) {
      return Invalid("Target " + name + " cannot specify both resourceArns and resourceTags");
    }
    for (const auto& [key, value] : spec.parameters) {
      if (key != "cluster" && key != "service") {
        return Invalid("Target " + name + " has an unknown parameter " + key +
                       " for resource type " + spec.resource_type +
                       "; expected cluster or service");
      }
    }
    if (spec.parameters.count("service") && !spec.parameters.count("cluster")) {
      std::string service = spec.parameters["service"];
      size_t slash = service.find('/');
      if (slash != std::string::npos && service.find(":service/") == std::string::npos) {
        spec.parameters["cluster"] = service.substr(0, slash);
        spec.parameters["service"] = service.substr(slash + 1);
      }
    }
    t.targets[name] = std::move(spec);
  }
  // Actions.
  Json actions = input.value("actions", Json::object());
  if (!actions.is_object() || actions.empty())
    return Invalid("An experiment template must have at least one action");
  for (auto it = actions.begin(); it != actions.end(); ++it) {
    const std::string& name = it.key();
    const Json& j = it.value();
    if (!j.is_object()) return Invalid("Action " + name + " must be an object");
    ActionSpec spec;
    spec.action_id = j.value("actionId", "");
    const ActionType* type = FindActionType(spec.action_id);
    if (type == nullptr) {
      return Invalid("Action type " + spec.action_id + " (action " + name +
                     ") is not supported; ListActions shows the actions understudy runs");
    }
    spec.description = j.value("description", "");
    spec.parameters = StringMap(j.value("parameters", Json::object()));
    spec.targets = StringMap(j.value("targets", Json::object()));
    for (const auto& a : j.value("startAfter", Json::array())) {
      if (a.is_string()) spec.start_after.push_back(a.get<std::string>());
    }
    for (const auto& p : type->parameters) {
      if (p.required && !spec.parameters.count(p.name)) {
        return Invalid("Action " + name + " (" + spec.action_id +
                       ") is missing required parameter " + p.name);
      }
    }
    for (const auto& [key, value] : spec.parameters) {
      bool known = std::any_of(type->parameters.begin(), type->parameters.end(),
                               [&](const ParameterSpec& p) { return p.name == key; });
      if (!known) {
        return Invalid("Action " + name + " (" + spec.action_id + ") has an unknown parameter " +
                       key);
      }
    }
    if (spec.parameters.count("duration")) {
      spec.duration = ParseFisDuration(spec.parameters["duration"]);
      if (!spec.duration || *spec.duration <= Duration(0)) {
        return Invalid("Action " + name + " has an invalid duration '" +
                       spec.parameters["duration"] +
                       "'; expected an ISO 8601 duration such as PT5M");
      }
    }
    for (const char* number :
         {"exitCode", "httpStatus", "failFirst", "every", "status", "port", "code", "lossPercent",
          "delayMilliseconds", "jitterMilliseconds", "rate", "percent", "workers"}) {
      auto p = spec.parameters.find(number);
      if (p == spec.parameters.end()) continue;
      bool ok = !p->second.empty() && p->second.size() < 10 &&
                std::all_of(p->second.begin(), p->second.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
      if (!ok) return Invalid("Action " + name + " parameter " + number + " must be a number");
    }
    if (auto p = spec.parameters.find("probability"); p != spec.parameters.end()) {
      char* end = nullptr;
      double v = std::strtod(p->second.c_str(), &end);
      if (end == p->second.c_str() || *end != '\0' || v < 0 || v > 1)
        return Invalid("Action " + name + " parameter probability must be between 0 and 1");
    }
    if (auto p = spec.parameters.find("signal"); p != spec.parameters.end()) {
      if (p->second != "SIGKILL" && p->second != "SIGTERM")
        return Invalid("Action " + name + " parameter signal must be SIGKILL or SIGTERM");
    }
    if (auto p = spec.parameters.find("percent");
        p != spec.parameters.end() && spec.action_id == "aws:ecs:task-cpu-stress" &&
        (std::stoull(p->second) == 0 || std::stoull(p->second) > 100)) {
      return Invalid("Action " + name + " parameter percent must be between 1 and 100");
    }
    if (auto p = spec.parameters.find("workers");
        p != spec.parameters.end() &&
        (std::stoull(p->second) == 0 || std::stoull(p->second) > 64)) {
      return Invalid("Action " + name + " parameter workers must be between 1 and 64");
    }
    if (auto p = spec.parameters.find("rate"); p != spec.parameters.end() &&
                                               spec.action_id == "understudy:elb:bandwidth" &&
                                               std::stoull(p->second) == 0) {
      return Invalid("Action " + name + " parameter rate must be at least 1");
    }
    for (const char* d : {"latency", "jitter", "timeout", "delay"}) {
      auto p = spec.parameters.find(d);
      if (p != spec.parameters.end() && !ParseFisDuration(p->second))
        return Invalid("Action " + name + " parameter " + d + " must be a duration such as PT2S");
    }
    // Targets: the action's own key, naming a target of the right type.
    for (const auto& [key, target] : spec.targets) {
      if (key != type->target_key) {
        return Invalid("Action " + name + " (" + spec.action_id + ") does not take target " + key +
                       (type->target_key.empty() ? "" : "; expected " + type->target_key));
      }
      auto found = t.targets.find(target);
      if (found == t.targets.end())
        return Invalid("Action " + name + " names target " + target + ", which is not defined");
      if (found->second.resource_type != type->resource_type) {
        return Invalid("Target " + target + " has resource type " + found->second.resource_type +
                       " but action " + name + " (" + spec.action_id + ") needs " +
                       type->resource_type);
      }
    }
    if (!type->target_key.empty() && spec.targets.empty()) {
      return Invalid("Action " + name + " (" + spec.action_id + ") needs target " +
                     type->target_key);
    }
    t.actions[name] = std::move(spec);
  }
  for (const auto& [name, spec] : t.actions) {
    for (const auto& after : spec.start_after) {
      if (!t.actions.count(after))
        return Invalid("Action " + name + " starts after " + after + ", which is not defined");
      if (after == name) return Invalid("Action " + name + " cannot start after itself");
    }
  }
  // startAfter must be acyclic; `ordered(a, b)`: a runs wholly before b or after it.
  std::map<std::string, std::set<std::string>> before;  // name -> every action it follows
  std::function<bool(const std::string&, std::set<std::string>&)> visit =
      [&](const std::string& name, std::set<std::string>& path) -> bool {
    if (before.count(name)) return true;
    if (!path.insert(name).second) return false;
    std::set<std::string> all;
    for (const auto& after : t.actions[name].start_after) {
      if (!visit(after, path)) return false;
      all.insert(after);
      all.insert(before[after].begin(), before[after].end());
    }
    path.erase(name);
    before[name] = std::move(all);
    return true;
  };
  for (const auto& [name, spec] : t.actions) {
    std::set<std::string> path;
    if (!visit(name, path)) return Invalid("The startAfter of action " + name + " makes a cycle");
  }
  auto ordered = [&](const std::string& a, const std::string& b) {
    return before[a].count(b) > 0 || before[b].count(a) > 0;
  };
  for (auto a = t.actions.begin(); a != t.actions.end(); ++a) {
    for (auto b = std::next(a); b != t.actions.end(); ++b) {
      if (ordered(a->first, b->first)) continue;
      const ActionSpec& x = a->second;
      const ActionSpec& y = b->second;
      bool contradict = false;
      if (ExclusiveTaskFault(x.action_id) && ExclusiveTaskFault(y.action_id)) {
        for (const auto& [key, target] : x.targets) {
          for (const auto& [key2, target2] : y.targets) contradict |= target == target2;
        }
      }
      if (x.action_id == "understudy:api:inject-error" && y.action_id == x.action_id) {
        auto op = [](const ActionSpec& s) {
          auto it = s.parameters.find("operation");
          return it == s.parameters.end() ? std::string() : it->second;
        };
        contradict = x.parameters.at("service") == y.parameters.at("service") &&
                     (op(x).empty() || op(y).empty() || op(x) == op(y));
      }
      if (contradict) {
        return Invalid("Actions " + a->first + " and " + b->first +
                       " apply contradictory faults to the same targets at the same time; "
                       "order them with startAfter");
      }
    }
  }
  // Stop conditions.
  for (const auto& c : input.value("stopConditions", Json::array())) {
    StopCondition sc{c.value("source", ""), c.value("value", "")};
    if (sc.source != "none" && sc.source != "aws:cloudwatch:alarm")
      return Invalid("Stop condition source " + sc.source +
                     " is not valid; expected none or aws:cloudwatch:alarm");
    if (sc.source == "aws:cloudwatch:alarm" && sc.value.find(":alarm:") == std::string::npos)
      return Invalid("Stop condition value " + sc.value + " is not a CloudWatch alarm ARN");
    t.stop_conditions.push_back(std::move(sc));
  }
  if (t.stop_conditions.empty()) t.stop_conditions.push_back({"none", ""});
  return t;
}

Json ActionsJson(const Template& t) {
  Json out = Json::object();
  for (const auto& [name, a] : t.actions) {
    Json j{{"actionId", a.action_id}};
    if (!a.description.empty()) j["description"] = a.description;
    if (!a.parameters.empty()) j["parameters"] = a.parameters;
    if (!a.targets.empty()) j["targets"] = a.targets;
    if (!a.start_after.empty()) j["startAfter"] = a.start_after;
    out[name] = std::move(j);
  }
  return out;
}

Json TargetsJson(const Template& t) {
  Json out = Json::object();
  for (const auto& [name, s] : t.targets) {
    Json j{{"resourceType", s.resource_type}, {"selectionMode", s.selection_mode}};
    if (!s.resource_arns.empty()) j["resourceArns"] = s.resource_arns;
    if (!s.resource_tags.empty()) j["resourceTags"] = s.resource_tags;
    if (!s.filters.empty()) j["filters"] = s.filters;
    if (!s.parameters.empty()) j["parameters"] = s.parameters;
    out[name] = std::move(j);
  }
  return out;
}

Json StopConditionsJson(const Template& t) {
  Json out = Json::array();
  for (const auto& c : t.stop_conditions) {
    Json j{{"source", c.source}};
    if (!c.value.empty()) j["value"] = c.value;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace understudy::chaos
