#include "autoscaling/autoscaling.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "api/shape_values.h"
#include "autoscaling/scaling_math.h"
#include "autoscaling/schedule.h"

namespace understudy::autoscaling {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr const char* kDimension = "ecs:service:DesiredCount";
constexpr int64_t kDefaultCooldown = 300;  // ECS services (aws-semantics §3.2)

ApiError Invalid(std::string message) {
  return ApiError::Client("ValidationException", std::move(message));
}
ApiError NotFound(std::string message) {
  return ApiError::Client("ObjectNotFoundException", std::move(message));
}

std::string Triple(const std::string& ns, const std::string& resource, const std::string& dim) {
  return "service namespace: " + ns + ", resource ID: " + resource + ", scalable dimension: " + dim;
}

Json Shown(const Json& doc) {
  Json out = doc;
  for (auto it = out.begin(); it != out.end();) {
    if (it.key().rfind('_', 0) == 0) {
      it = out.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::string PageToken(size_t offset) { return api::Base64Encode(std::to_string(offset)); }
std::optional<size_t> FromPageToken(const std::string& token) {
  std::string text;
  if (!api::Base64Decode(token, &text) || text.empty() ||
      !std::all_of(text.begin(), text.end(), ::isdigit))
    return std::nullopt;
  return static_cast<size_t>(std::stoull(text));
}

// "service/<cluster>/<service>" -> (cluster, service).
std::optional<std::pair<std::string, std::string>> ServiceOf(const std::string& resource) {
  if (resource.rfind("service/", 0) != 0) return std::nullopt;
  size_t slash = resource.find('/', 8);
  if (slash == std::string::npos || slash == 8 || slash + 1 >= resource.size() ||
      resource.find('/', slash + 1) != std::string::npos)
    return std::nullopt;
  return std::make_pair(resource.substr(8, slash - 8), resource.substr(slash + 1));
}

class AutoScalingImpl final : public AutoScaling {
 public:
  AutoScalingImpl(Store& store, Journal& journal, Clock& clock, Random random,
                  cloudwatch::CloudWatch& cloudwatch, AutoScalingOptions options)
      : store_(store),
        journal_(journal),
        clock_(clock),
        random_(std::move(random)),
        cloudwatch_(cloudwatch),
        options_(std::move(options)) {}
  ~AutoScalingImpl() override {
    for (auto& [key, timer] : timers_) clock_.Cancel(timer);
  }

  Status Open() {
    US_RETURN_IF_ERROR(store_.Migrate(
        "autoscaling",
        {"CREATE TABLE aas_targets (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, "
         "doc TEXT NOT NULL, PRIMARY KEY (account, region, id));"
         "CREATE TABLE aas_policies (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT "
         "NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, id));"
         "CREATE TABLE aas_scheduled (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT "
         "NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, id));"
         "CREATE TABLE aas_activities (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT "
         "NULL, region TEXT NOT NULL, ns TEXT NOT NULL, resource TEXT NOT NULL, dim TEXT NOT "
         "NULL, doc TEXT NOT NULL);"}));
    for (auto [table, map] :
         {std::pair{"aas_targets", &targets_}, std::pair{"aas_policies", &policies_},
          std::pair{"aas_scheduled", &scheduled_}}) {
      auto* m = map;
      US_RETURN_IF_ERROR(store_.Query(std::string("SELECT account, region, id, doc FROM ") + table,
                                      {}, [&](const SqlRow& row) {
                                        auto doc = ParseJson(row.Text(3));
                                        if (doc.ok())
                                          (*m)[Key{row.Text(0), row.Text(1), row.Text(2)}] = *doc;
                                      }));
    }
    for (const auto& [key, doc] : scheduled_) Arm(key);
    return Status::Ok();
  }

  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op,
                   ApiResult (AutoScalingImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("application-autoscaling", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("RegisterScalableTarget", &AutoScalingImpl::RegisterScalableTarget);
    add("DeregisterScalableTarget", &AutoScalingImpl::DeregisterScalableTarget);
    add("DescribeScalableTargets", &AutoScalingImpl::DescribeScalableTargets);
    add("PutScalingPolicy", &AutoScalingImpl::PutScalingPolicy);
    add("DeleteScalingPolicy", &AutoScalingImpl::DeleteScalingPolicy);
    add("DescribeScalingPolicies", &AutoScalingImpl::DescribeScalingPolicies);
    add("PutScheduledAction", &AutoScalingImpl::PutScheduledAction);
    add("DeleteScheduledAction", &AutoScalingImpl::DeleteScheduledAction);
    add("DescribeScheduledActions", &AutoScalingImpl::DescribeScheduledActions);
    add("DescribeScalingActivities", &AutoScalingImpl::DescribeScalingActivities);
    add("TagResource", &AutoScalingImpl::TagResource);
    add("UntagResource", &AutoScalingImpl::UntagResource);
    add("ListTagsForResource", &AutoScalingImpl::ListTagsForResource);
    cloudwatch_.SetActionHandler(
        "arn:aws:autoscaling:",
        [this](const Scope& scope, const std::string& arn, const cloudwatch::AlarmFiring& firing) {
          OnAlarm(scope, arn, firing);
        });
    control.AddResetHook([this] { return Reset(); });
  }

  Status Reset() override {
    for (auto& [key, timer] : timers_) clock_.Cancel(timer);
    timers_.clear();
    targets_.clear();
    policies_.clear();
    scheduled_.clear();
    for (const char* table : {"aas_targets", "aas_policies", "aas_scheduled", "aas_activities"}) {
      US_RETURN_IF_ERROR(store_.Run(std::string("DELETE FROM ") + table));
    }
    return Status::Ok();
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // account, region, id
  static std::string TargetId(const std::string& ns, const std::string& resource,
                              const std::string& dim) {
    return ns + "|" + resource + "|" + dim;
  }
  static Key TargetKey(const Scope& scope, const Json& input) {
    return Key{
        scope.account, scope.region,
        TargetId(input["ServiceNamespace"], input["ResourceId"], input["ScalableDimension"])};
  }
  Status Save(const char* table, std::map<Key, Json>& map, const Key& key) {
    return store_.Run(std::string("INSERT INTO ") + table +
                          "(account, region, id, doc) VALUES(?1, ?2, ?3, ?4) ON "
                          "CONFLICT(account, region, id) DO UPDATE SET doc = excluded.doc",
                      {std::get<0>(key), std::get<1>(key), std::get<2>(key), map.at(key).dump()});
  }
  Status Erase(const char* table, std::map<Key, Json>& map, const Key& key) {
    map.erase(key);
    return store_.Run(
        std::string("DELETE FROM ") + table + " WHERE account = ?1 AND region = ?2 AND id = ?3",
        {std::get<0>(key), std::get<1>(key), std::get<2>(key)});
  }

  // Checks the namespace, resource id and dimension; the error or nothing.
  std::optional<ApiError> CheckResource(const Json& input) const {
    std::string ns = input["ServiceNamespace"];
    std::string resource = input["ResourceId"];
    std::string dim = input["ScalableDimension"];
    if (ns != "ecs") {
      return Invalid(
          "understudy's Application Auto Scaling scales ECS services only (service "
          "namespace ecs), not " +
          ns);
    }
    if (!ServiceOf(resource) || dim != kDimension) {
      return Invalid("Unsupported service namespace, resource type or scalable dimension");
    }
    return std::nullopt;
  }

  // --- scalable targets --------------------------------------------------------

  ApiResult RegisterScalableTarget(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    std::string resource = input["ResourceId"];
    auto [cluster, service] = *ServiceOf(resource);
    std::optional<ServiceCapacity> capacity;
    if (options_.describe_service) {
      capacity = options_.describe_service(scope, cluster, service);
      if (!capacity) return Invalid("ECS service doesn't exist: " + resource);
    }
    Key key = TargetKey(scope, input);
    auto existing = targets_.find(key);
    Json doc;
    if (existing == targets_.end()) {
      if (!input.contains("MinCapacity") || !input.contains("MaxCapacity")) {
        return Invalid(
            "MinCapacity and MaxCapacity are required for registering a new scalable "
            "target");
      }
      std::string arn = MakeArn(
          "application-autoscaling", scope,
          "scalable-target/" + random_.Hex(32).substr(0, 4) + random_.Hex(32).substr(0, 28));
      doc = Json{{"ServiceNamespace", "ecs"},
                 {"ResourceId", resource},
                 {"ScalableDimension", kDimension},
                 {"RoleARN", "arn:aws:iam::" + scope.account +
                                 ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                                 "AWSServiceRoleForApplicationAutoScaling_ECSService"},
                 {"CreationTime", ToEpochSeconds(clock_.Now())},
                 {"ScalableTargetARN", arn},
                 {"SuspendedState",
                  {{"DynamicScalingInSuspended", false},
                   {"DynamicScalingOutSuspended", false},
                   {"ScheduledScalingSuspended", false}}},
                 {"_tags", input.value("Tags", Json::object())}};
    } else {
      doc = existing->second;
    }
    for (const char* f : {"MinCapacity", "MaxCapacity", "RoleARN"}) {
      if (input.contains(f)) doc[f] = input[f];
    }
    if (input.contains("SuspendedState")) {
      for (auto& [k, v] : input["SuspendedState"].items()) doc["SuspendedState"][k] = v;
    }
    if (doc["MinCapacity"].get<int64_t>() > doc["MaxCapacity"].get<int64_t>()) {
      return Invalid("Minimum capacity cannot be greater than maximum capacity");
    }
    targets_[key] = doc;
    US_RETURN_IF_ERROR_API(Save("aas_targets", targets_, key));
    journal_.Transition(doc["ScalableTargetARN"].get<std::string>(),
                        Json{{"minCapacity", doc["MinCapacity"]},
                             {"maxCapacity", doc["MaxCapacity"]},
                             {"suspendedState", doc["SuspendedState"]}});
    // A desired count outside the new range is brought into it.
    if (capacity) {
      int64_t min = doc["MinCapacity"], max = doc["MaxCapacity"];
      int64_t want = std::clamp(capacity->desired, min, max);
      if (want != capacity->desired) {
        SetDesired(scope, key, capacity->desired, want,
                   want > capacity->desired ? "minimum capacity was set to " + std::to_string(min)
                                            : "maximum capacity was set to " + std::to_string(max));
      }
    }
    return Json{{"ScalableTargetARN", doc["ScalableTargetARN"]}};
  }

  ApiResult DeregisterScalableTarget(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    Key key = TargetKey(scope, input);
    if (!targets_.count(key)) {
      return NotFound("No scalable target found for " + Triple(input["ServiceNamespace"],
                                                               input["ResourceId"],
                                                               input["ScalableDimension"]));
    }
    std::string prefix = std::get<2>(key) + "|";
    for (auto* map : {&policies_, &scheduled_}) {
      std::vector<Key> doomed;
      for (const auto& [k, doc] : *map) {
        if (std::get<0>(k) == scope.account && std::get<1>(k) == scope.region &&
            std::get<2>(k).rfind(prefix, 0) == 0)
          doomed.push_back(k);
      }
      for (const auto& k : doomed) {
        if (map == &policies_) {
          DropPolicyAlarms(scope, policies_[k]);
          US_RETURN_IF_ERROR_API(Erase("aas_policies", policies_, k));
        } else {
          Disarm(k);
          US_RETURN_IF_ERROR_API(Erase("aas_scheduled", scheduled_, k));
        }
      }
    }
    journal_.Transition(targets_[key]["ScalableTargetARN"].get<std::string>(),
                        Json{{"deregistered", true}});
    US_RETURN_IF_ERROR_API(Erase("aas_targets", targets_, key));
    return Json::object();
  }

  ApiResult DescribeScalableTargets(const Scope& scope, const Json& input) {
    std::vector<Json> found;
    Json ids = input.value("ResourceIds", Json::array());
    for (const auto& [key, doc] : targets_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      if (doc["ServiceNamespace"] != input["ServiceNamespace"]) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), doc["ResourceId"]) == ids.end())
        continue;
      if (input.contains("ScalableDimension") &&
          doc["ScalableDimension"] != input["ScalableDimension"])
        continue;
      found.push_back(Shown(doc));
    }
    return Page(found, input, "ScalableTargets", 50);
  }

  ApiResult Page(const std::vector<Json>& all, const Json& input, const char* field,
                 size_t default_max) {
    size_t offset = 0;
    if (input.contains("NextToken")) {
      auto o = FromPageToken(input["NextToken"].get<std::string>());
      if (!o) return ApiError::Client("InvalidNextTokenException", "Invalid token");
      offset = *o;
    }
    size_t max = input.value("MaxResults", static_cast<int64_t>(default_max));
    Json page = Json::array();
    for (size_t i = offset; i < all.size() && page.size() < max; ++i) page.push_back(all[i]);
    Json out{{field, page}};
    if (offset + page.size() < all.size()) out["NextToken"] = PageToken(offset + page.size());
    return out;
  }

  // --- tags (of scalable targets) ------------------------------------------------

  Json* TargetByArn(const Scope& scope, const std::string& arn, Key* key) {
    for (auto& [k, doc] : targets_) {
      if (std::get<0>(k) == scope.account && std::get<1>(k) == scope.region &&
          doc["ScalableTargetARN"] == arn) {
        *key = k;
        return &doc;
      }
    }
    return nullptr;
  }
  static ApiError TagTargetNotFound(const std::string& arn) {
    return ApiError::Client("ResourceNotFoundException", "No scalable target found for " + arn);
  }

  ApiResult TagResource(const Scope& scope, const Json& input) {
    Key key;
    Json* doc = TargetByArn(scope, input["ResourceARN"], &key);
    if (doc == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    Json tags = doc->value("_tags", Json::object());
    for (auto& [k, v] : input["Tags"].items()) tags[k] = v;
    (*doc)["_tags"] = tags;
    US_RETURN_IF_ERROR_API(Save("aas_targets", targets_, key));
    return Json::object();
  }

  ApiResult UntagResource(const Scope& scope, const Json& input) {
    Key key;
    Json* doc = TargetByArn(scope, input["ResourceARN"], &key);
    if (doc == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    Json tags = doc->value("_tags", Json::object());
    for (const auto& k : input["TagKeys"]) tags.erase(k.get<std::string>());
    (*doc)["_tags"] = tags;
    US_RETURN_IF_ERROR_API(Save("aas_targets", targets_, key));
    return Json::object();
  }

  ApiResult ListTagsForResource(const Scope& scope, const Json& input) {
    Key key;
    Json* doc = TargetByArn(scope, input["ResourceARN"], &key);
    if (doc == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    return Json{{"Tags", doc->value("_tags", Json::object())}};
  }

  // --- policies ----------------------------------------------------------------

  ApiResult PutScalingPolicy(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    std::string ns = input["ServiceNamespace"], resource = input["ResourceId"],
                dim = input["ScalableDimension"], name = input["PolicyName"];
    Key target = TargetKey(scope, input);
    if (!targets_.count(target)) {
      return NotFound("No scalable target registered for " + Triple(ns, resource, dim));
    }
    std::string type = input.value("PolicyType", "StepScaling");
    Json doc{{"PolicyName", name},       {"ServiceNamespace", ns}, {"ResourceId", resource},
             {"ScalableDimension", dim}, {"PolicyType", type},     {"Alarms", Json::array()}};
    Key key{scope.account, scope.region, std::get<2>(target) + "|" + name};
    auto existing = policies_.find(key);
    std::string uuid =
        existing != policies_.end() ? existing->second["_uuid"].get<std::string>() : random_.Uuid();
    std::string arn = "arn:aws:autoscaling:" + scope.region + ":" + scope.account +
                      ":scalingPolicy:" + uuid + ":resource/" + ns + "/" + resource +
                      ":policyName/" + name;
    doc["PolicyARN"] = arn;
    doc["_uuid"] = uuid;
    doc["CreationTime"] = existing != policies_.end() ? existing->second["CreationTime"]
                                                      : Json(ToEpochSeconds(clock_.Now()));
    if (type == "TargetTrackingScaling") {
      if (!input.contains("TargetTrackingScalingPolicyConfiguration")) {
        return Invalid(
            "TargetTrackingScalingPolicyConfiguration is required for a policy of "
            "type TargetTrackingScaling");
      }
      Json cfg = input["TargetTrackingScalingPolicyConfiguration"];
      bool predefined = cfg.contains("PredefinedMetricSpecification");
      bool customized = cfg.contains("CustomizedMetricSpecification");
      if (predefined == customized) {
        return Invalid(
            "Exactly one of PredefinedMetricSpecification and "
            "CustomizedMetricSpecification must be specified");
      }
      if (predefined) {
        const Json& p = cfg["PredefinedMetricSpecification"];
        std::string metric = p["PredefinedMetricType"];
        if (metric != "ECSServiceAverageCPUUtilization" &&
            metric != "ECSServiceAverageMemoryUtilization" &&
            metric != "ALBRequestCountPerTarget") {
          return Invalid("Unsupported metric type " + metric + " for service namespace ecs");
        }
        if (metric == "ALBRequestCountPerTarget") {
          std::string label = p.value("ResourceLabel", "");
          if (label.empty()) {
            return Invalid(
                "ResourceLabel must be specified for predefined metric type "
                "ALBRequestCountPerTarget");
          }
          if (label.rfind("app/", 0) != 0 || label.find("/targetgroup/") == std::string::npos ||
              (options_.resource_label_exists && !options_.resource_label_exists(scope, label))) {
            return Invalid("Invalid resource label: " + label);
          }
        }
      } else {
        const Json& c = cfg["CustomizedMetricSpecification"];
        if (c.contains("Metrics")) {
          return Invalid(
              "understudy does not support metric math (Metrics) in customized "
              "metric specifications yet");
        }
        if (!c.contains("MetricName") || !c.contains("Namespace") || !c.contains("Statistic")) {
          return Invalid(
              "CustomizedMetricSpecification must specify MetricName, Namespace and "
              "Statistic");
        }
      }
      double target_value = cfg["TargetValue"].get<double>();
      if (!(target_value > 0)) return Invalid("TargetValue must be greater than 0");
      doc["TargetTrackingScalingPolicyConfiguration"] = cfg;
    } else if (type == "StepScaling") {
      if (!input.contains("StepScalingPolicyConfiguration")) {
        return Invalid(
            "StepScalingPolicyConfiguration is required for a policy of type "
            "StepScaling");
      }
      Json cfg = input["StepScalingPolicyConfiguration"];
      if (!cfg.contains("AdjustmentType")) {
        return Invalid("AdjustmentType must be specified for a step scaling policy");
      }
      const Json& steps = cfg.value("StepAdjustments", Json::array());
      if (steps.empty()) return Invalid("StepAdjustments must be specified");
      int unbounded_lower = 0, unbounded_upper = 0;
      for (const auto& s : steps) {
        if (!s.contains("MetricIntervalLowerBound")) ++unbounded_lower;
        if (!s.contains("MetricIntervalUpperBound")) ++unbounded_upper;
        if (s.contains("MetricIntervalLowerBound") && s.contains("MetricIntervalUpperBound") &&
            s["MetricIntervalLowerBound"].get<double>() >=
                s["MetricIntervalUpperBound"].get<double>()) {
          return Invalid("Lower bound must be less than upper bound in a step adjustment");
        }
      }
      if (unbounded_lower > 1 || unbounded_upper > 1) {
        return Invalid(
            "There can be at most one step adjustment with a null lower bound and at "
            "most one with a null upper bound");
      }
      doc["StepScalingPolicyConfiguration"] = cfg;
    } else {
      return Invalid(
          "understudy supports the TargetTrackingScaling and StepScaling policy types, "
          "not " +
          type);
    }
    if (existing != policies_.end()) DropPolicyAlarms(scope, existing->second);
    if (type == "TargetTrackingScaling") {
      auto alarms = CreateTrackingAlarms(scope, doc);
      if (!alarms.ok()) return alarms.error();
      doc["Alarms"] = alarms.output();
    }
    policies_[key] = doc;
    US_RETURN_IF_ERROR_API(Save("aas_policies", policies_, key));
    journal_.Transition(arn, Json{{"policy", name}, {"type", type}});
    Json out{{"PolicyARN", arn}};
    if (type == "TargetTrackingScaling") out["Alarms"] = doc["Alarms"];
    return out;
  }

  // The metric a target-tracking policy tracks, as PutMetricAlarm fields.
  static Json TrackedMetric(const Json& policy) {
    const Json& cfg = policy["TargetTrackingScalingPolicyConfiguration"];
    if (cfg.contains("CustomizedMetricSpecification")) {
      const Json& c = cfg["CustomizedMetricSpecification"];
      Json m{{"Namespace", c["Namespace"]},
             {"MetricName", c["MetricName"]},
             {"Statistic", c["Statistic"]},
             {"Dimensions", c.value("Dimensions", Json::array())}};
      if (c.contains("Unit")) m["Unit"] = c["Unit"];
      return m;
    }
    const Json& p = cfg["PredefinedMetricSpecification"];
    std::string type = p["PredefinedMetricType"];
    if (type == "ALBRequestCountPerTarget") {
      std::string label = p["ResourceLabel"];
      return Json{
          {"Namespace", "AWS/ApplicationELB"},
          {"MetricName", "RequestCountPerTarget"},
          {"Statistic", "Sum"},
          {"Dimensions", Json::array({Json{{"Name", "TargetGroup"},
                                           {"Value", label.substr(label.find("targetgroup/"))}}})}};
    }
    auto [cluster, service] = *ServiceOf(policy["ResourceId"]);
    return Json{{"Namespace", "AWS/ECS"},
                {"MetricName", type == "ECSServiceAverageCPUUtilization" ? "CPUUtilization"
                                                                         : "MemoryUtilization"},
                {"Statistic", "Average"},
                {"Dimensions", Json::array({Json{{"Name", "ClusterName"}, {"Value", cluster}},
                                            Json{{"Name", "ServiceName"}, {"Value", service}}})}};
  }

  ApiResult CreateTrackingAlarms(const Scope& scope, const Json& policy) {
    const Json& cfg = policy["TargetTrackingScalingPolicyConfiguration"];
    double target = cfg["TargetValue"].get<double>();
    std::string resource = policy["ResourceId"];
    Json metric = TrackedMetric(policy);
    Json alarms = Json::array();
    struct Spec {
      const char* kind;
      const char* op;
      double threshold;
      int periods;
    };
    std::vector<Spec> specs = {{"AlarmHigh", "GreaterThanThreshold", target, 3}};
    if (!cfg.value("DisableScaleIn", false)) {
      specs.push_back({"AlarmLow", "LessThanThreshold", target * 0.9, 15});
    }
    for (const auto& s : specs) {
      std::string name = "TargetTracking-" + resource + "-" + s.kind + "-" + random_.Uuid();
      Json input = metric;
      input["AlarmName"] = name;
      input["AlarmDescription"] = "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " +
                                  policy["PolicyARN"].get<std::string>() + ".";
      input["AlarmActions"] = Json::array({policy["PolicyARN"]});
      input["Period"] = 60;
      input["EvaluationPeriods"] = s.periods;
      input["DatapointsToAlarm"] = s.periods;
      input["Threshold"] = s.threshold;
      input["ComparisonOperator"] = s.op;
      ApiResult made = cloudwatch_.PutAlarm(scope, input);
      if (!made.ok()) return made;
      alarms.push_back(
          Json{{"AlarmName", name}, {"AlarmARN", MakeArn("cloudwatch", scope, "alarm:" + name)}});
    }
    return alarms;
  }

  void DropPolicyAlarms(const Scope& scope, const Json& policy) {
    if (policy["PolicyType"] != "TargetTrackingScaling") return;
    for (const auto& a : policy["Alarms"]) cloudwatch_.DeleteAlarm(scope, a["AlarmName"]);
  }

  ApiResult DeleteScalingPolicy(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    Key key{scope.account, scope.region,
            std::get<2>(TargetKey(scope, input)) + "|" + input["PolicyName"].get<std::string>()};
    auto it = policies_.find(key);
    if (it == policies_.end()) {
      return NotFound(
          "No scaling policy found for " +
          Triple(input["ServiceNamespace"], input["ResourceId"], input["ScalableDimension"]) +
          ", policy name: " + input["PolicyName"].get<std::string>());
    }
    DropPolicyAlarms(scope, it->second);
    journal_.Transition(it->second["PolicyARN"].get<std::string>(), Json{{"deleted", true}});
    US_RETURN_IF_ERROR_API(Erase("aas_policies", policies_, key));
    return Json::object();
  }

  ApiResult DescribeScalingPolicies(const Scope& scope, const Json& input) {
    std::vector<Json> found;
    Json names = input.value("PolicyNames", Json::array());
    for (const auto& [key, doc] : policies_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      if (doc["ServiceNamespace"] != input["ServiceNamespace"]) continue;
      if (input.contains("ResourceId") && doc["ResourceId"] != input["ResourceId"]) continue;
      if (input.contains("ScalableDimension") &&
          doc["ScalableDimension"] != input["ScalableDimension"])
        continue;
      if (!names.empty() && std::find(names.begin(), names.end(), doc["PolicyName"]) == names.end())
        continue;
      Json shown = Shown(doc);
      if (doc["PolicyType"] == "StepScaling") {
        // A step policy's alarms are those whose actions name it.
        shown["Alarms"] = Json::array();
        for (const auto& [name, arn] : cloudwatch_.AlarmsWithAction(scope, doc["PolicyARN"])) {
          shown["Alarms"].push_back(Json{{"AlarmName", name}, {"AlarmARN", arn}});
        }
      }
      found.push_back(shown);
    }
    return Page(found, input, "ScalingPolicies", 50);
  }

  // --- scheduled actions ---------------------------------------------------------

  ApiResult PutScheduledAction(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    std::string ns = input["ServiceNamespace"], resource = input["ResourceId"],
                dim = input["ScalableDimension"], name = input["ScheduledActionName"];
    Key target = TargetKey(scope, input);
    if (!targets_.count(target)) {
      return NotFound("No scalable target registered for " + Triple(ns, resource, dim));
    }
    Key key{scope.account, scope.region, std::get<2>(target) + "|" + name};
    auto existing = scheduled_.find(key);
    Json doc = existing != scheduled_.end() ? existing->second : Json::object();
    if (existing == scheduled_.end()) {
      if (!input.contains("Schedule"))
        return Invalid("Schedule is required for a new scheduled action");
      std::string uuid = random_.Uuid();
      doc =
          Json{{"ScheduledActionName", name},
               {"ScheduledActionARN", "arn:aws:autoscaling:" + scope.region + ":" + scope.account +
                                          ":scheduledAction:" + uuid + ":resource/" + ns + "/" +
                                          resource + ":scheduledActionName/" + name},
               {"ServiceNamespace", ns},
               {"ResourceId", resource},
               {"ScalableDimension", dim},
               {"CreationTime", ToEpochSeconds(clock_.Now())}};
    }
    for (const char* f : {"Schedule", "Timezone", "StartTime", "EndTime", "ScalableTargetAction"}) {
      if (input.contains(f)) doc[f] = input[f];
    }
    auto schedule = Schedule::Parse(doc["Schedule"].get<std::string>(), doc.value("Timezone", ""));
    if (!schedule.ok()) {
      return Invalid("Invalid schedule expression " + doc["Schedule"].get<std::string>() + ": " +
                     schedule.status().message());
    }
    if (doc.contains("ScalableTargetAction")) {
      const Json& a = doc["ScalableTargetAction"];
      if (a.contains("MinCapacity") && a.contains("MaxCapacity") &&
          a["MinCapacity"].get<int64_t>() > a["MaxCapacity"].get<int64_t>()) {
        return Invalid("Minimum capacity cannot be greater than maximum capacity");
      }
    }
    doc["_origin"] =
        doc.contains("StartTime") ? doc["StartTime"] : Json(ToEpochSeconds(clock_.Now()));
    scheduled_[key] = doc;
    US_RETURN_IF_ERROR_API(Save("aas_scheduled", scheduled_, key));
    journal_.Transition(doc["ScheduledActionARN"].get<std::string>(),
                        Json{{"schedule", doc["Schedule"]}});
    Arm(key);
    return Json::object();
  }

  void Disarm(const Key& key) {
    auto t = timers_.find(key);
    if (t == timers_.end()) return;
    clock_.Cancel(t->second);
    timers_.erase(t);
  }

  // Schedules the action's next firing, if it has one.
  void Arm(const Key& key) {
    Disarm(key);
    const Json& doc = scheduled_.at(key);
    auto schedule = Schedule::Parse(doc["Schedule"].get<std::string>(), doc.value("Timezone", ""));
    if (!schedule.ok()) return;
    TimePoint origin = FromEpochSeconds(doc.value("_origin", 0.0));
    TimePoint after = std::max(clock_.Now(), origin - std::chrono::seconds(1));
    auto next = schedule->Next(after, origin);
    if (!next) return;
    if (doc.contains("EndTime") && *next > FromEpochSeconds(doc["EndTime"].get<double>())) return;
    timers_[key] = clock_.Schedule(
        *next,
        [this, key] {
          timers_.erase(key);
          if (!scheduled_.count(key)) return;
          Fire(key);
          if (scheduled_.count(key)) Arm(key);
        },
        "scheduled action " + doc["ScheduledActionName"].get<std::string>());
  }

  void Fire(const Key& key) {
    const Json doc = scheduled_.at(key);
    Scope scope{std::get<0>(key), std::get<1>(key)};
    Key target{scope.account, scope.region,
               TargetId(doc["ServiceNamespace"], doc["ResourceId"], doc["ScalableDimension"])};
    auto t = targets_.find(target);
    std::string name = doc["ScheduledActionName"];
    if (t == targets_.end()) return;
    if (t->second["SuspendedState"].value("ScheduledScalingSuspended", false)) {
      journal_.Transition(doc["ScheduledActionARN"].get<std::string>(),
                          Json{{"skipped", "scheduled scaling is suspended"}});
      return;
    }
    const Json action = doc.value("ScalableTargetAction", Json::object());
    Json& tdoc = t->second;
    if (action.contains("MinCapacity")) tdoc["MinCapacity"] = action["MinCapacity"];
    if (action.contains("MaxCapacity")) tdoc["MaxCapacity"] = action["MaxCapacity"];
    if (tdoc["MinCapacity"].get<int64_t>() > tdoc["MaxCapacity"].get<int64_t>()) {
      tdoc["MaxCapacity"] = tdoc["MinCapacity"];
    }
    (void)Save("aas_targets", targets_, target);
    std::string cause = "scheduled action name " + name + " was triggered";
    std::string what = "Setting min capacity to " +
                       std::to_string(tdoc["MinCapacity"].get<int64_t>()) +
                       " and max capacity to " + std::to_string(tdoc["MaxCapacity"].get<int64_t>());
    Record(scope, tdoc, what, cause, "Successful", "Successfully s" + what.substr(1));
    auto [cluster, service] = *ServiceOf(tdoc["ResourceId"]);
    if (!options_.describe_service) return;
    auto capacity = options_.describe_service(scope, cluster, service);
    if (!capacity) return;
    int64_t want = std::clamp(capacity->desired, tdoc["MinCapacity"].get<int64_t>(),
                              tdoc["MaxCapacity"].get<int64_t>());
    if (want != capacity->desired) SetDesired(scope, target, capacity->desired, want, cause);
  }

  ApiResult DeleteScheduledAction(const Scope& scope, const Json& input) {
    if (auto error = CheckResource(input)) return *error;
    Key key{scope.account, scope.region,
            std::get<2>(TargetKey(scope, input)) + "|" +
                input["ScheduledActionName"].get<std::string>()};
    if (!scheduled_.count(key)) {
      return NotFound(
          "No scheduled action found for " +
          Triple(input["ServiceNamespace"], input["ResourceId"], input["ScalableDimension"]) +
          ", scheduled action name: " + input["ScheduledActionName"].get<std::string>());
    }
    Disarm(key);
    US_RETURN_IF_ERROR_API(Erase("aas_scheduled", scheduled_, key));
    return Json::object();
  }

  ApiResult DescribeScheduledActions(const Scope& scope, const Json& input) {
    std::vector<Json> found;
    Json names = input.value("ScheduledActionNames", Json::array());
    for (const auto& [key, doc] : scheduled_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      if (doc["ServiceNamespace"] != input["ServiceNamespace"]) continue;
      if (input.contains("ResourceId") && doc["ResourceId"] != input["ResourceId"]) continue;
      if (input.contains("ScalableDimension") &&
          doc["ScalableDimension"] != input["ScalableDimension"])
        continue;
      if (!names.empty() &&
          std::find(names.begin(), names.end(), doc["ScheduledActionName"]) == names.end())
        continue;
      found.push_back(Shown(doc));
    }
    return Page(found, input, "ScheduledActions", 50);
  }

  // --- activities ----------------------------------------------------------------

  // Records an activity; one with `not_scaled` reasons is shown only with
  // IncludeNotScaledActivities.
  void Record(const Scope& scope, const Json& target, const std::string& description,
              const std::string& cause, const std::string& status, const std::string& message,
              const Json& not_scaled = Json()) {
    double now = ToEpochSeconds(clock_.Now());
    Json activity{{"ActivityId", random_.Uuid()},
                  {"ServiceNamespace", target["ServiceNamespace"]},
                  {"ResourceId", target["ResourceId"]},
                  {"ScalableDimension", target["ScalableDimension"]},
                  {"Description", description},
                  {"Cause", cause},
                  {"StartTime", now},
                  {"EndTime", now},
                  {"StatusCode", status},
                  {"StatusMessage", message}};
    if (message.empty()) activity.erase("StatusMessage");
    if (!not_scaled.is_null()) {
      activity["NotScaledReasons"] = not_scaled;
      activity.erase("EndTime");
    } else {
      last_not_scaled_.erase(Key{
          scope.account, scope.region,
          TargetId(target["ServiceNamespace"], target["ResourceId"], target["ScalableDimension"])});
    }
    (void)store_.Run(
        "INSERT INTO aas_activities(account, region, ns, resource, dim, doc) VALUES(?1, ?2, ?3, "
        "?4, ?5, ?6)",
        {scope.account, scope.region, target["ServiceNamespace"].get<std::string>(),
         target["ResourceId"].get<std::string>(), target["ScalableDimension"].get<std::string>(),
         activity.dump()});
    journal_.Transition(target["ScalableTargetARN"].get<std::string>(),
                        Json{{"activity", description}, {"cause", cause}, {"status", status}});
  }

  ApiResult DescribeScalingActivities(const Scope& scope, const Json& input) {
    auto text = [&](const char* field) -> SqlValue {
      if (!input.contains(field)) return nullptr;
      return input[field].get<std::string>();
    };
    std::string sql =
        "SELECT doc FROM aas_activities WHERE account = ?1 AND region = ?2 AND ns = ?3 AND (?4 IS "
        "NULL OR resource = ?4) AND (?5 IS NULL OR dim = ?5) ORDER BY seq DESC";
    std::vector<SqlValue> params{scope.account, scope.region, text("ServiceNamespace"),
                                 text("ResourceId"), text("ScalableDimension")};
    std::vector<Json> found;
    US_RETURN_IF_ERROR_API(store_.Query(sql, params, [&](const SqlRow& row) {
      auto doc = ParseJson(row.Text(0));
      if (!doc.ok()) return;
      if (doc->contains("NotScaledReasons") && !input.value("IncludeNotScaledActivities", false))
        return;
      found.push_back(*doc);
    }));
    return Page(found, input, "ScalingActivities", 50);
  }

  // Sets the desired count and records the activity.
  void SetDesired(const Scope& scope, const Key& target, int64_t from, int64_t to,
                  const std::string& cause) {
    const Json& t = targets_.at(target);
    auto [cluster, service] = *ServiceOf(t["ResourceId"]);
    std::string what = "Setting desired count to " + std::to_string(to) + ".";
    Status set =
        options_.set_desired ? options_.set_desired(scope, cluster, service, to) : Status::Ok();
    if (set.ok()) {
      Record(scope, t, what, cause, "Successful",
             "Successfully set desired count to " + std::to_string(to) +
                 ". Change successfully fulfilled by ecs.");
    } else {
      Record(scope, t, what, cause, "Failed",
             "Failed to set desired count to " + std::to_string(to) + ". " + set.message());
    }
    (void)from;
  }

  // --- policies at work ------------------------------------------------------------

  void Skip(const Json& policy, const std::string& alarm, const std::string& why) {
    journal_.Transition(policy["PolicyARN"].get<std::string>(),
                        Json{{"alarm", alarm}, {"notScaled", why}});
  }

  void OnAlarm(const Scope& scope, const std::string& arn, const cloudwatch::AlarmFiring& firing) {
    Key key;
    Json* policy = nullptr;
    for (auto& [k, doc] : policies_) {
      if (std::get<0>(k) == scope.account && std::get<1>(k) == scope.region &&
          doc["PolicyARN"] == arn) {
        key = k;
        policy = &doc;
      }
    }
    if (policy == nullptr || firing.state != "ALARM") return;
    Key target{scope.account, scope.region,
               TargetId((*policy)["ServiceNamespace"], (*policy)["ResourceId"],
                        (*policy)["ScalableDimension"])};
    auto t = targets_.find(target);
    if (t == targets_.end()) return;
    const Json& tdoc = t->second;
    auto [cluster, service] = *ServiceOf(tdoc["ResourceId"]);
    if (!options_.describe_service) return;
    auto capacity = options_.describe_service(scope, cluster, service);
    if (!capacity) {
      Skip(*policy, firing.alarm_name, "the ECS service does not exist");
      return;
    }
    if (!firing.value) {
      Skip(*policy, firing.alarm_name, "the alarm has no datapoint to scale on");
      return;
    }
    int64_t min = tdoc["MinCapacity"], max = tdoc["MaxCapacity"];
    int64_t current = capacity->desired;
    double v = *firing.value;
    TimePoint now = clock_.Now();
    auto since = [&](const char* field) {
      return policy->contains(field) ? now - FromEpochSeconds((*policy)[field].get<double>())
                                     : Duration::max();
    };
    const Json& suspended = tdoc["SuspendedState"];
    std::string cause = "monitor alarm " + firing.alarm_name + " in state ALARM triggered policy " +
                        (*policy)["PolicyName"].get<std::string>();
    int64_t want = current;
    bool out = false;
    bool cooling_out = false;  // a scale-out of this policy is within its cooldown
    std::string type = (*policy)["PolicyType"];
    if (type == "TargetTrackingScaling") {
      const Json& cfg = (*policy)["TargetTrackingScalingPolicyConfiguration"];
      double target_value = cfg["TargetValue"].get<double>();
      out = firing.alarm_name.find("-AlarmHigh-") != std::string::npos;
      if (out) {
        auto cooldown = std::chrono::seconds(cfg.value("ScaleOutCooldown", kDefaultCooldown));
        cooling_out = since("_lastOut") < cooldown;
        int64_t base = cooling_out ? (*policy)["_baseOut"].get<int64_t>() : current;
        want = std::max(current, TrackingCapacity(base, v, target_value));
      } else {
        if (cfg.value("DisableScaleIn", false))
          return Skip(*policy, firing.alarm_name, "scale-in is disabled");
        auto cooldown = std::chrono::seconds(cfg.value("ScaleInCooldown", kDefaultCooldown));
        if (since("_lastIn") < cooldown) {
          return Skip(*policy, firing.alarm_name, "scale-in cooldown in effect");
        }
        // Scale in only when every target-tracking policy of the target wants to.
        for (const auto& [k, other] : policies_) {
          if (&other == policy || other["PolicyType"] != "TargetTrackingScaling") continue;
          if (std::get<2>(k).rfind(std::get<2>(target) + "|", 0) != 0) continue;
          if (std::get<0>(k) != scope.account || std::get<1>(k) != scope.region) continue;
          for (const auto& a : other["Alarms"]) {
            std::string n = a["AlarmName"];
            if (n.find("-AlarmLow-") == std::string::npos) continue;
            if (cloudwatch_.AlarmState(scope, n).value_or("") != "ALARM") {
              return Skip(*policy, firing.alarm_name,
                          "policy " + other["PolicyName"].get<std::string>() +
                              " does not want to scale in");
            }
          }
          if (other["TargetTrackingScalingPolicyConfiguration"].value("DisableScaleIn", false)) {
            continue;
          }
        }
        want = std::min(current, TrackingCapacity(current, v, target_value));
      }
    } else {
      const Json& cfg = (*policy)["StepScalingPolicyConfiguration"];
      std::vector<StepAdjustment> steps;
      for (const auto& s : cfg["StepAdjustments"]) {
        StepAdjustment a;
        if (s.contains("MetricIntervalLowerBound"))
          a.lower = s["MetricIntervalLowerBound"].get<double>();
        if (s.contains("MetricIntervalUpperBound"))
          a.upper = s["MetricIntervalUpperBound"].get<double>();
        a.adjustment = s["ScalingAdjustment"].get<int64_t>();
        steps.push_back(a);
      }
      auto step = PickStep(steps, v, firing.threshold);
      if (!step)
        return Skip(*policy, firing.alarm_name, "no step adjustment matches the metric value");
      std::string adj = cfg["AdjustmentType"];
      AdjustmentType type_of = adj == "ExactCapacity" ? AdjustmentType::kExactCapacity
                               : adj == "PercentChangeInCapacity"
                                   ? AdjustmentType::kPercentChangeInCapacity
                                   : AdjustmentType::kChangeInCapacity;
      int64_t magnitude = cfg.value("MinAdjustmentMagnitude", int64_t{0});
      int64_t raw = ApplyAdjustment(type_of, current, step->adjustment, magnitude);
      out = raw > current;
      auto cooldown = std::chrono::seconds(cfg.value("Cooldown", kDefaultCooldown));
      if (out) {
        cooling_out = since("_lastOut") < cooldown;
        int64_t base = cooling_out ? (*policy)["_baseOut"].get<int64_t>() : current;
        want = std::max(current, ApplyAdjustment(type_of, base, step->adjustment, magnitude));
      } else {
        if (since("_lastOut") < cooldown || since("_lastIn") < cooldown) {
          return Skip(*policy, firing.alarm_name, "cooldown in effect");
        }
        want = raw;
      }
    }
    int64_t unclamped = want;
    want = std::clamp(want, min, max);
    if (out && suspended.value("DynamicScalingOutSuspended", false)) {
      return Skip(*policy, firing.alarm_name, "dynamic scale-out is suspended");
    }
    if (!out && suspended.value("DynamicScalingInSuspended", false)) {
      return Skip(*policy, firing.alarm_name, "dynamic scale-in is suspended");
    }
    if (want == current) {
      // A not scaled activity (IncludeNotScaledActivities), once per alarm and reason.
      Json reason;
      if (unclamped > max && current == max) {
        reason = Json{{"Code", "AlreadyAtMaxCapacity"}, {"MaxCapacity", max}};
      } else if (unclamped < min && current == min) {
        reason = Json{{"Code", "AlreadyAtMinCapacity"}, {"MinCapacity", min}};
      } else {
        reason = Json{{"Code", "AlreadyAtDesiredCapacity"}, {"CurrentCapacity", current}};
      }
      std::string seen = cause + "|" + reason.dump();
      if (last_not_scaled_[target] != seen) {
        last_not_scaled_[target] = seen;
        Record(scope, tdoc, "Attempting to scale due to alarm triggered", cause, "Failed", "",
               Json::array({reason}));
      }
      return Skip(*policy, firing.alarm_name,
                  "capacity stays at " + std::to_string(current) + " (min " + std::to_string(min) +
                      ", max " + std::to_string(max) + ")");
    }
    if (want < current && capacity->deploying) {
      return Skip(*policy, firing.alarm_name,
                  "scale-in is paused while a deployment is in progress");
    }
    double stamp = ToEpochSeconds(now);
    if (want > current) {
      if (!cooling_out) (*policy)["_baseOut"] = current;
      (*policy)["_lastOut"] = stamp;
      // A scale-out ends the scale-in cooldown of every policy of the target.
      for (auto& [k, other] : policies_) {
        if (std::get<2>(k).rfind(std::get<2>(target) + "|", 0) == 0) other.erase("_lastIn");
      }
    } else {
      (*policy)["_lastIn"] = stamp;
    }
    (void)Save("aas_policies", policies_, key);
    SetDesired(scope, target, current, want, cause);
  }

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  cloudwatch::CloudWatch& cloudwatch_;
  AutoScalingOptions options_;
  std::map<Key, Json> targets_;
  std::map<Key, Json> policies_;
  std::map<Key, Json> scheduled_;
  std::map<Key, TimerId> timers_;
  std::map<Key, std::string> last_not_scaled_;  // by target: the last not scaled activity
};

}  // namespace

Result<std::unique_ptr<AutoScaling>> AutoScaling::Open(Store& store, Journal& journal, Clock& clock,
                                                       Random random,
                                                       cloudwatch::CloudWatch& cloudwatch,
                                                       AutoScalingOptions options) {
  auto a = std::make_unique<AutoScalingImpl>(store, journal, clock, std::move(random), cloudwatch,
                                             std::move(options));
  US_RETURN_IF_ERROR(a->Open());
  return std::unique_ptr<AutoScaling>(std::move(a));
}

}  // namespace understudy::autoscaling
