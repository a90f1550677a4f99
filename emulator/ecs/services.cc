// Services: the API half — create, update, delete, describe, list, tags, and the
// store. The scheduler half is in service_scheduler.cc.
#include "ecs/services.h"

#include <algorithm>
#include <set>

#include "ecs/ecs_internal.h"
#include "ecs/service_math.h"
#include "ecs/task_network.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

ApiError ClusterNotFound() {
  return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
}
ApiError ServiceNotFound() {
  return ApiError::Client("ServiceNotFoundException", "Service not found.");
}

// DAEMON services run one task on each container instance: this machine is one.
constexpr int64_t kDaemonInstances = 1;

bool IsValidServiceName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The service name in a name or a service ARN ("service/<cluster>/<name>" or the
// old "service/<name>").
std::string ServiceNameFrom(const std::string& name_or_arn) {
  if (name_or_arn.rfind("arn:", 0) != 0) return name_or_arn;
  return name_or_arn.substr(name_or_arn.rfind('/') + 1);
}

// Internal fields (leading '_') are never shown.
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

}  // namespace

Services::Services(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
                   Clusters& clusters, TaskDefinitions& task_definitions, Tasks& tasks,
                   EventBus& bus)
    : loop_(loop),
      store_(store),
      journal_(journal),
      clock_(clock),
      random_(std::move(random)),
      clusters_(clusters),
      task_definitions_(task_definitions),
      tasks_(tasks),
      bus_(bus) {
  subscription_ = bus_.Subscribe([this](const Json& event) { OnTaskEvent(event); });
}

Services::~Services() {
  *alive_ = false;
  bus_.Unsubscribe(subscription_);
  for (auto& [key, record] : services_) {
    if (record.tick) clock_.Cancel(record.tick);
    for (auto& [id, task] : record.tasks) {
      if (task.drain_timer) clock_.Cancel(task.drain_timer);
    }
  }
}

Status Services::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "ecs_services",
      {"CREATE TABLE ecs_services (account TEXT NOT NULL, region TEXT NOT NULL, cluster TEXT NOT "
       "NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, cluster, "
       "name))"}));
  Status status = Status::Ok();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT account, region, cluster, name, doc FROM ecs_services", {}, [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(4));
        if (!doc.ok()) {
          status = Status::IoError("ecs_services row " + row.Text(3) + " is not JSON");
          return;
        }
        Key key{row.Text(0), row.Text(1), row.Text(2), row.Text(3)};
        Record record;
        record.scope = Scope{row.Text(0), row.Text(1)};
        record.doc = std::move(doc).value();
        record.reloaded = true;
        services_[key] = std::move(record);
      }));
  US_RETURN_IF_ERROR(status);
  // The previous run's tasks are gone: counts start from nothing, and the first
  // reconcile deregisters what they left in target groups and starts replacements.
  for (auto& [key, record] : services_) {
    record.doc["runningCount"] = 0;
    record.doc["pendingCount"] = 0;
    for (auto& d : record.doc["deployments"]) {
      d["runningCount"] = 0;
      d["pendingCount"] = 0;
    }
    Key k = key;
    clock_.Schedule(
        clock_.Now(),
        [this, k, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.lock()) Reconcile(k);
        },
        "service reload");
  }
  return Status::Ok();
}

Status Services::Reset() {
  for (auto& [key, record] : services_) {
    if (record.tick) clock_.Cancel(record.tick);
    for (auto& [id, task] : record.tasks) {
      if (task.drain_timer) clock_.Cancel(task.drain_timer);
      if (task.settle_alive) *task.settle_alive = false;
    }
  }
  services_.clear();
  by_task_.clear();
  kicks_.clear();
  return store_.Run("DELETE FROM ecs_services");
}

Status Services::Save(const Key& key) {
  const Record& record = services_.at(key);
  return store_.Run(
      "INSERT INTO ecs_services(account, region, cluster, name, doc) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(account, region, cluster, name) DO UPDATE SET doc = excluded.doc",
      {std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), record.doc.dump()});
}

Services::Record* Services::FindRecord(const Scope& scope, const std::string& cluster,
                                       const std::string& name_or_arn) {
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr) return nullptr;
  auto it = services_.find(Key{scope.account, scope.region, (*c)["clusterArn"].get<std::string>(),
                               ServiceNameFrom(name_or_arn)});
  return it == services_.end() ? nullptr : &it->second;
}

const Services::Record* Services::FindRecord(const Scope& scope, const std::string& cluster,
                                             const std::string& name_or_arn) const {
  return const_cast<Services*>(this)->FindRecord(scope, cluster, name_or_arn);
}

std::optional<Json> Services::Find(const Scope& scope, const std::string& cluster,
                                   const std::string& name_or_arn) const {
  const Record* record = FindRecord(scope, cluster, name_or_arn);
  if (record == nullptr) return std::nullopt;
  return View(*record, false);
}

std::optional<Services::Scale> Services::ScaleOf(const Scope& scope, const std::string& cluster,
                                                 const std::string& service) const {
  const Record* record = FindRecord(scope, cluster, service);
  if (record == nullptr || record->doc["status"] != "ACTIVE") return std::nullopt;
  const Json& deployments = record->doc["deployments"];
  bool deploying =
      deployments.size() > 1 ||
      (!deployments.empty() && deployments[0].value("rolloutState", "") == "IN_PROGRESS");
  return Scale{record->doc["desiredCount"].get<int64_t>(),
               record->doc["runningCount"].get<int64_t>(), deploying};
}

std::vector<std::tuple<Scope, std::string, std::string, std::string>> Services::RunningTasks()
    const {
  std::vector<std::tuple<Scope, std::string, std::string, std::string>> out;
  for (const auto& [key, record] : services_) {
    const std::string& cluster_arn = std::get<2>(key);
    std::string cluster = cluster_arn.substr(cluster_arn.rfind('/') + 1);
    for (const auto& [id, task] : record.tasks) {
      if (task.running && !task.stopping)
        out.emplace_back(record.scope, cluster, std::get<3>(key), id);
    }
  }
  return out;
}

bool Services::Steady(const Scope& scope, const std::string& cluster,
                      const std::string& name) const {
  const Record* record = FindRecord(scope, cluster, name);
  return record != nullptr && record->steady;
}

Json Services::View(const Record& record, bool with_tags) const {
  Json out = Shown(record.doc);
  if (!with_tags) out.erase("tags");
  const Json& sds = record.doc.value("_serviceDeployments", Json::array());
  if (!sds.empty()) out["currentServiceDeployment"] = sds[0]["serviceDeploymentArn"];
  Json revisions = Json::array();
  for (const auto& d : record.doc["deployments"]) {
    std::string id = d["id"].get<std::string>();
    std::string arn = RevisionArnOf(record, id);
    if (!arn.empty()) revisions.push_back(RevisionSummary(record, id, arn));
  }
  out["currentServiceRevisions"] = revisions;
  return out;
}

std::optional<ApiError> Services::CheckDeploymentConfiguration(const Json& config) const {
  int64_t max = config.value("maximumPercent", int64_t{200});
  int64_t min = config.value("minimumHealthyPercent", int64_t{100});
  if (min < 0 || min > 100) {
    return InvalidParameter("minimumHealthyPercent must be between 0 and 100.");
  }
  if (max < 100) {
    return InvalidParameter(
        "maximumPercent must be greater than or equal to 100 for the REPLICA scheduling "
        "strategy.");
  }
  if (max > 2000) return InvalidParameter("maximumPercent must be less than or equal to 2000.");
  if (config.contains("deploymentCircuitBreaker")) {
    const Json& breaker = config["deploymentCircuitBreaker"];
    if (!breaker.contains("enable") || !breaker.contains("rollback")) {
      return InvalidParameter(
          "deploymentCircuitBreaker requires both enable and rollback to be specified.");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> Services::CheckLoadBalancers(const Scope& scope, const Json& lbs,
                                                     const Json& definition) const {
  std::string network_mode = definition.value("networkMode", "bridge");
  for (const auto& lb : lbs) {
    if (!lb.contains("targetGroupArn")) {
      return InvalidParameter(
          "Classic Load Balancers are not supported; specify a targetGroupArn.");
    }
    std::string arn = lb["targetGroupArn"].get<std::string>();
    std::string container = lb.value("containerName", "");
    if (container.empty() || !lb.contains("containerPort")) {
      return InvalidParameter(
          "containerName and containerPort must be specified for a load balancer.");
    }
    if (lb_.target_group) {
      auto tg = lb_.target_group(scope, arn);
      if (!tg) {
        return InvalidParameter(
            "Unable to assume role and validate the specified targetGroupArn. Please verify "
            "that the ECS service role being passed has the proper permissions.");
      }
      if (tg->load_balancer_arns.empty()) {
        return InvalidParameter("The target group with targetGroupArn " + arn +
                                " does not have an associated load balancer.");
      }
      if (network_mode == "awsvpc" && tg->target_type == "instance") {
        return InvalidParameter("The provided target group " + arn +
                                " has target type instance, which is incompatible with the "
                                "awsvpc network mode specified in the task definition.");
      }
    }
    const Json* found = nullptr;
    for (const auto& c : definition["containerDefinitions"]) {
      if (c["name"] == container) found = &c;
    }
    if (found == nullptr) {
      return InvalidParameter("The container " + container +
                              " does not exist in the task definition.");
    }
    int64_t port = lb["containerPort"].get<int64_t>();
    bool has_port = false;
    for (const auto& pm : found->value("portMappings", Json::array())) {
      if (pm.value("containerPort", int64_t{-1}) == port) has_port = true;
    }
    if (!has_port) {
      return InvalidParameter("The container " + container + " did not have a container port " +
                              std::to_string(port) + " defined.");
    }
  }
  return std::nullopt;
}

Json Services::NewDeployment(const Record& record) {
  const Json& s = record.doc;
  double now = ToEpochSeconds(clock_.Now());
  std::string id = "ecs-svc/" + random_.Digits(19);
  Json d{{"id", id},
         {"status", "PRIMARY"},
         {"taskDefinition", s["taskDefinition"]},
         {"desiredCount", s["desiredCount"]},
         {"pendingCount", 0},
         {"runningCount", 0},
         {"failedTasks", 0},
         {"createdAt", now},
         {"updatedAt", now},
         {"rolloutState", "IN_PROGRESS"},
         {"rolloutStateReason", "ECS deployment " + id + " in progress."}};
  for (const char* field : {"launchType", "capacityProviderStrategy", "platformVersion",
                            "platformFamily", "networkConfiguration"}) {
    if (s.contains(field)) d[field] = s[field];
  }
  if (ShiftsTraffic(s)) {
    d["_targetGroups"] = TrafficShiftTargetGroups(record);
    d["_stage"] = "PRE_SCALE_UP";
  }
  return d;
}

ApiResult Services::Create(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  std::string name = input["serviceName"].get<std::string>();
  if (!IsValidServiceName(name)) {
    return InvalidParameter(
        "Service names can contain up to 255 letters (uppercase and lowercase), numbers, "
        "underscores, and hyphens.");
  }
  std::string cluster_arn = (*cluster)["clusterArn"].get<std::string>();
  Key key{scope.account, scope.region, cluster_arn, name};
  if (auto it = services_.find(key);
      it != services_.end() && it->second.doc["status"] != "INACTIVE") {
    return InvalidParameter("Creation of service was not idempotent.");
  }
  std::string strategy = input.value("schedulingStrategy", "REPLICA");
  std::string controller = input.value("deploymentController", Json::object()).value("type", "ECS");
  bool daemon = strategy == "DAEMON";
  if (daemon) {
    // One task on each container instance; this machine is the cluster's one instance.
    if (input.contains("desiredCount")) {
      return InvalidParameter(
          "The daemon scheduling strategy does not support a desired count for services. Remove "
          "the desired count value and try again");
    }
    if (!input.value("placementStrategy", Json::array()).empty()) {
      return InvalidParameter(
          "The daemon scheduling strategy does not support placement strategies. Remove the "
          "placement strategy and try again");
    }
    if (input.contains("capacityProviderStrategy") ||
        (!input.contains("launchType") && !(*cluster)["defaultCapacityProviderStrategy"].empty())) {
      return InvalidParameter(
          "Specifying a capacity provider strategy is not supported when you create a service "
          "using the DAEMON scheduling strategy.");
    }
    if (input.value("launchType", "EC2") == "FARGATE" || controller != "ECS") {
      return InvalidParameter(
          "The DAEMON scheduling strategy does not support the FARGATE launch type or the "
          "CODE_DEPLOY and EXTERNAL deployment controllers.");
    }
  }
  if (controller != "ECS") {
    return InvalidParameter("understudy supports the ECS deployment controller only.");
  }
  if (!input.contains("taskDefinition")) {
    return InvalidParameter("TaskDefinition must be specified for the ECS deployment controller.");
  }
  const Json* def = task_definitions_.Resolve(scope, input["taskDefinition"].get<std::string>());
  if (def == nullptr) return InvalidParameter("TaskDefinition not found.");
  if ((*def)["status"] != "ACTIVE") {
    return InvalidParameter("TaskDefinition is inactive");
  }
  int64_t desired = daemon ? kDaemonInstances : input.value("desiredCount", int64_t{0});
  if (desired < 0) return InvalidParameter("desiredCount must be greater than or equal to 0.");
  if (input.contains("launchType") && input.contains("capacityProviderStrategy")) {
    return InvalidParameter(
        "Specifying both a launchType and capacityProviderStrategy is not supported. Remove "
        "one and try again.");
  }
  Json config = input.value("deploymentConfiguration", Json::object());
  if (auto error = CheckDeploymentConfiguration(config)) return *error;
  if (!config.contains("maximumPercent")) config["maximumPercent"] = daemon ? 100 : 200;
  if (!config.contains("minimumHealthyPercent")) config["minimumHealthyPercent"] = daemon ? 0 : 100;
  if (!config.contains("deploymentCircuitBreaker")) {
    config["deploymentCircuitBreaker"] = Json{{"enable", false}, {"rollback", false}};
  }
  Json lbs = input.value("loadBalancers", Json::array());
  if (auto error = CheckLoadBalancers(scope, lbs, *def)) return *error;
  if (auto error =
          CheckServiceRegistries(scope, input.value("serviceRegistries", Json::array()), *def)) {
    return *error;
  }
  if (auto error = CheckTrafficShift(scope, config, lbs)) return *error;
  std::string network_mode = def->value("networkMode", "bridge");
  if (network_mode == "awsvpc") {
    if (!input.contains("networkConfiguration")) {
      return InvalidParameter(
          "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    }
    std::string zone;
    if (auto error = CheckTaskNetwork(tasks_.environment().network, scope,
                                      input["networkConfiguration"], &zone)) {
      return *error;
    }
  }
  Json tags = input.value("tags", Json::array());
  for (const auto& tag : tags) {
    if (tag.value("key", "").rfind("aws:", 0) == 0) {
      return InvalidParameter("Tag keys beginning with 'aws:' are reserved for use by AWS.");
    }
  }

  double now = ToEpochSeconds(clock_.Now());
  std::string short_cluster = (*cluster)["clusterName"].get<std::string>();
  Json doc{{"serviceArn", MakeArn("ecs", scope, "service/" + short_cluster + "/" + name)},
           {"serviceName", name},
           {"clusterArn", cluster_arn},
           {"loadBalancers", lbs},
           {"serviceRegistries", input.value("serviceRegistries", Json::array())},
           {"status", "ACTIVE"},
           {"desiredCount", desired},
           {"runningCount", 0},
           {"pendingCount", 0},
           {"taskDefinition", (*def)["taskDefinitionArn"]},
           {"deploymentConfiguration", config},
           {"deployments", Json::array()},
           {"events", Json::array()},
           {"createdAt", now},
           {"placementConstraints", input.value("placementConstraints", Json::array())},
           {"placementStrategy", input.value("placementStrategy", Json::array())},
           {"schedulingStrategy", strategy},
           {"deploymentController", Json{{"type", "ECS"}}},
           {"createdBy", "arn:aws:iam::" + scope.account + ":root"},
           {"enableECSManagedTags", input.value("enableECSManagedTags", false)},
           {"propagateTags", input.value("propagateTags", "NONE")},
           {"enableExecuteCommand", input.value("enableExecuteCommand", false)},
           {"healthCheckGracePeriodSeconds", input.value("healthCheckGracePeriodSeconds", 0)},
           {"tags", tags}};
  if (input.contains("capacityProviderStrategy")) {
    doc["capacityProviderStrategy"] = input["capacityProviderStrategy"];
  } else if (input.contains("launchType")) {
    doc["launchType"] = input["launchType"];
  } else if (!(*cluster)["defaultCapacityProviderStrategy"].empty()) {
    doc["capacityProviderStrategy"] = (*cluster)["defaultCapacityProviderStrategy"];
  } else {
    doc["launchType"] = "EC2";
  }
  if (doc.value("launchType", "") == "FARGATE" || doc.contains("capacityProviderStrategy")) {
    doc["platformVersion"] = input.value("platformVersion", "LATEST");
    doc["platformFamily"] = "Linux";
  }
  if (input.contains("networkConfiguration")) {
    doc["networkConfiguration"] = input["networkConfiguration"];
  }
  if (input.contains("role")) doc["roleArn"] = input["role"];
  if (input.contains("serviceConnectConfiguration")) {
    doc["serviceConnectConfiguration"] = input["serviceConnectConfiguration"];
  }

  // A deleted (INACTIVE) service of the same name is replaced.
  services_.erase(key);
  Record& record = services_[key];
  record.scope = scope;
  record.doc = doc;
  Json deployment = NewDeployment(record);
  record.doc["deployments"] = Json::array({deployment});
  OpenServiceDeployment(record, deployment);
  Status saved = Save(key);
  if (!saved.ok()) {
    services_.erase(key);
    return ApiError::Server("ServerException", saved.message());
  }
  journal_.Transition(doc["serviceArn"].get<std::string>(),
                      Json{{"status", "ACTIVE"}, {"desiredCount", desired}});
  PublishDeploymentChange(record, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS",
                          deployment["id"].get<std::string>(),
                          deployment["rolloutStateReason"].get<std::string>());
  Kick(key);
  return Json{{"service", View(record, true)}};
}

ApiResult Services::Update(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  Record* record = FindRecord(scope, cluster_name, input["service"].get<std::string>());
  if (record == nullptr) return ServiceNotFound();
  if (record->doc["status"] != "ACTIVE") {
    return ApiError::Client("ServiceNotActiveException", "Service was not ACTIVE.");
  }
  Json doc = record->doc;
  bool new_deployment = input.value("forceNewDeployment", false);
  const Json* def = task_definitions_.Resolve(scope, doc["taskDefinition"].get<std::string>());
  if (input.contains("taskDefinition")) {
    def = task_definitions_.Resolve(scope, input["taskDefinition"].get<std::string>());
    if (def == nullptr) return InvalidParameter("TaskDefinition not found.");
    if ((*def)["status"] != "ACTIVE") return InvalidParameter("TaskDefinition is inactive");
    if ((*def)["taskDefinitionArn"] != doc["taskDefinition"]) new_deployment = true;
    doc["taskDefinition"] = (*def)["taskDefinitionArn"];
  }
  if (def == nullptr) return InvalidParameter("TaskDefinition not found.");
  if (input.contains("desiredCount")) {
    if (doc.value("schedulingStrategy", "REPLICA") == "DAEMON") {
      return InvalidParameter(
          "The daemon scheduling strategy does not support a desired count for services. Remove "
          "the desired count value and try again");
    }
    int64_t desired = input["desiredCount"].get<int64_t>();
    if (desired < 0) return InvalidParameter("desiredCount must be greater than or equal to 0.");
    doc["desiredCount"] = desired;
  }
  if (input.contains("deploymentConfiguration")) {
    Json config = doc["deploymentConfiguration"];
    for (auto& [k, v] : input["deploymentConfiguration"].items()) config[k] = v;
    if (auto error = CheckDeploymentConfiguration(config)) return *error;
    doc["deploymentConfiguration"] = config;
  }
  if (input.contains("loadBalancers")) {
    if (auto error = CheckLoadBalancers(scope, input["loadBalancers"], *def)) return *error;
    if (input["loadBalancers"] != doc["loadBalancers"]) new_deployment = true;
    doc["loadBalancers"] = input["loadBalancers"];
  } else if (input.contains("taskDefinition")) {
    if (auto error = CheckLoadBalancers(scope, doc["loadBalancers"], *def)) return *error;
  }
  if (input.contains("deploymentConfiguration") || input.contains("loadBalancers")) {
    if (auto error = CheckTrafficShift(scope, doc["deploymentConfiguration"], doc["loadBalancers"]))
      return *error;
  }
  if (input.contains("launchType") && input.contains("capacityProviderStrategy")) {
    return InvalidParameter(
        "Specifying both a launchType and capacityProviderStrategy is not supported. Remove "
        "one and try again.");
  }
  if (input.contains("capacityProviderStrategy")) {
    if (input["capacityProviderStrategy"] != doc.value("capacityProviderStrategy", Json()))
      new_deployment = true;
    doc["capacityProviderStrategy"] = input["capacityProviderStrategy"];
    doc.erase("launchType");
  }
  if (input.contains("networkConfiguration")) {
    std::string zone;
    if (auto error = CheckTaskNetwork(tasks_.environment().network, scope,
                                      input["networkConfiguration"], &zone)) {
      return *error;
    }
    if (input["networkConfiguration"] != doc.value("networkConfiguration", Json()))
      new_deployment = true;
    doc["networkConfiguration"] = input["networkConfiguration"];
  }
  for (const char* field : {"healthCheckGracePeriodSeconds", "propagateTags",
                            "enableECSManagedTags", "enableExecuteCommand", "platformVersion"}) {
    if (input.contains(field)) doc[field] = input[field];
  }
  Key key{scope.account, scope.region, doc["clusterArn"].get<std::string>(),
          doc["serviceName"].get<std::string>()};
  Record& r = *record;
  Json before = r.doc;
  r.doc = doc;
  std::string started;
  if (new_deployment) {
    Json deployment = NewDeployment(r);
    Json deployments = Json::array({deployment});
    for (auto d : before["deployments"]) {
      d["status"] = "ACTIVE";
      d["desiredCount"] = 0;
      d["updatedAt"] = ToEpochSeconds(clock_.Now());
      deployments.push_back(d);
    }
    r.doc["deployments"] = deployments;
    OpenServiceDeployment(r, deployment);
    r.stall_reported = false;
    r.ResetThrottle();
    started = deployment["id"].get<std::string>();
  } else if (!r.doc["deployments"].empty()) {
    r.doc["deployments"][0]["desiredCount"] = r.doc["desiredCount"];
    if (before["desiredCount"] != r.doc["desiredCount"]) r.stall_reported = false;
  }
  r.steady = false;
  Status saved = Save(key);
  if (!saved.ok()) {
    r.doc = before;
    return ApiError::Server("ServerException", saved.message());
  }
  journal_.Transition(
      r.doc["serviceArn"].get<std::string>(),
      Json{{"desiredCount", r.doc["desiredCount"]}, {"taskDefinition", r.doc["taskDefinition"]}});
  if (!started.empty()) {
    PublishDeploymentChange(r, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", started,
                            "ECS deployment " + started + " in progress.");
  }
  Kick(key);
  return Json{{"service", View(r, false)}};
}

ApiResult Services::Delete(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr) return ClusterNotFound();
  Record* record = FindRecord(scope, cluster_name, input["service"].get<std::string>());
  if (record == nullptr || record->doc["status"] == "INACTIVE") return ServiceNotFound();
  if (record->doc["status"] == "DRAINING") {
    return Json{{"service", View(*record, false)}};
  }
  bool force = input.value("force", false);
  bool daemon = record->doc.value("schedulingStrategy", "REPLICA") == "DAEMON";
  if (!force && !daemon && record->doc["desiredCount"].get<int64_t>() > 0) {
    return InvalidParameter("The service cannot be stopped while it is scaled above 0.");
  }
  record->doc["status"] = "DRAINING";
  record->doc["desiredCount"] = 0;
  for (auto& d : record->doc["deployments"]) d["desiredCount"] = 0;
  record->steady = false;
  Key key{scope.account, scope.region, record->doc["clusterArn"].get<std::string>(),
          record->doc["serviceName"].get<std::string>()};
  US_RETURN_IF_ERROR_API(Save(key));
  journal_.Transition(record->doc["serviceArn"].get<std::string>(), Json{{"status", "DRAINING"}});
  Kick(key);
  return Json{{"service", View(*record, false)}};
}

ApiResult Services::Describe(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr) return ClusterNotFound();
  bool with_tags = false;
  for (const auto& f : input.value("include", Json::array())) with_tags |= f == "TAGS";
  const Json& names = input["services"];
  if (names.empty() || names.size() > 10) {
    return InvalidParameter("services can have at most 10 items and at least 1.");
  }
  Json out = Json::array();
  Json failures = Json::array();
  for (const auto& n : names) {
    std::string name = n.get<std::string>();
    const Record* record = FindRecord(scope, cluster_name, name);
    if (record == nullptr) {
      std::string arn =
          name.rfind("arn:", 0) == 0
              ? name
              : MakeArn("ecs", scope,
                        "service/" + (*cluster)["clusterName"].get<std::string>() + "/" + name);
      failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
      continue;
    }
    out.push_back(View(*record, with_tags));
  }
  return Json{{"services", out}, {"failures", failures}};
}

ApiResult Services::List(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr) return ClusterNotFound();
  std::string cluster_arn = (*cluster)["clusterArn"].get<std::string>();
  std::string launch_type = input.value("launchType", "");
  int64_t max = input.value("maxResults", int64_t{10});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::string after;
  if (input.contains("nextToken")) {
    auto decoded = DecodePageToken(input["nextToken"].get<std::string>());
    if (!decoded) return InvalidParameter("Invalid token");
    after = *decoded;
  }
  Json arns = Json::array();
  std::string last;
  bool more = false;
  for (const auto& [key, record] : services_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region ||
        std::get<2>(key) != cluster_arn) {
      continue;
    }
    if (record.doc["status"] == "INACTIVE") continue;
    if (!launch_type.empty() && record.doc.value("launchType", "") != launch_type) continue;
    const std::string& name = std::get<3>(key);
    if (!after.empty() && name <= after) continue;
    if (static_cast<int64_t>(arns.size()) == max) {
      more = true;
      break;
    }
    arns.push_back(record.doc["serviceArn"]);
    last = name;
  }
  Json out{{"serviceArns", arns}};
  if (more) out["nextToken"] = EncodePageToken(last);
  return out;
}

ApiResult Services::TagResource(const Scope& scope, const Json& input) {
  std::string arn = input["resourceArn"].get<std::string>();
  for (auto& [key, record] : services_) {
    if (record.doc["serviceArn"] != arn || record.doc["status"] == "INACTIVE") continue;
    std::map<std::string, std::string> merged;
    for (const auto& t : record.doc["tags"]) merged[t.value("key", "")] = t.value("value", "");
    for (const auto& t : input["tags"]) {
      if (t.value("key", "").rfind("aws:", 0) == 0) {
        return InvalidParameter("Tag keys beginning with 'aws:' are reserved for use by AWS.");
      }
      merged[t.value("key", "")] = t.value("value", "");
    }
    if (merged.size() > 50) return InvalidParameter("A resource can have at most 50 tags.");
    Json tags = Json::array();
    for (auto& [k, v] : merged) tags.push_back(Json{{"key", k}, {"value", v}});
    record.doc["tags"] = tags;
    US_RETURN_IF_ERROR_API(Save(key));
    journal_.Transition(arn, Json{{"tags", tags}});
    return Json::object();
  }
  (void)scope;
  return ServiceNotFound();
}

ApiResult Services::UntagResource(const Scope& scope, const Json& input) {
  std::string arn = input["resourceArn"].get<std::string>();
  for (auto& [key, record] : services_) {
    if (record.doc["serviceArn"] != arn || record.doc["status"] == "INACTIVE") continue;
    const Json& remove = input["tagKeys"];
    Json kept = Json::array();
    for (const auto& t : record.doc["tags"]) {
      if (std::find(remove.begin(), remove.end(), t["key"]) == remove.end()) kept.push_back(t);
    }
    record.doc["tags"] = kept;
    US_RETURN_IF_ERROR_API(Save(key));
    journal_.Transition(arn, Json{{"tags", kept}});
    return Json::object();
  }
  (void)scope;
  return ServiceNotFound();
}

ApiResult Services::ListTagsForResource(const Scope& scope, const Json& input) {
  std::string arn = input["resourceArn"].get<std::string>();
  for (const auto& [key, record] : services_) {
    if (record.doc["serviceArn"] == arn && record.doc["status"] != "INACTIVE") {
      return Json{{"tags", record.doc["tags"]}};
    }
  }
  (void)scope;
  return ServiceNotFound();
}

}  // namespace understudy::ecs
