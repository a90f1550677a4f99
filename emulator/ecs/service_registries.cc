// Services: Cloud Map registration (aws-semantics §2.14) — checking serviceRegistries,
// registering each task as an instance when it reaches RUNNING and deregistering it
// when it starts to stop, reporting container health to registries with a custom
// health check, and ListServicesByNamespace.
#include "ecs/ecs_internal.h"
#include "ecs/services.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

// "arn:aws:servicediscovery:<region>:<account>:service/srv-..."
bool IsRegistryArn(const std::string& arn) {
  auto parsed = Arn::Parse(arn);
  return parsed && parsed->service == "servicediscovery" &&
         parsed->resource.rfind("service/", 0) == 0 && parsed->resource.size() > 8;
}

}  // namespace

std::optional<ApiError> Services::CheckServiceRegistries(const Scope& scope, const Json& registries,
                                                         const Json& definition) const {
  if (registries.size() > 1) {
    return InvalidParameter("Only one service registry can be specified for a service.");
  }
  for (const auto& r : registries) {
    std::string arn = r.value("registryArn", "");
    // Observed texts: "The format of the supplied service registry ARN is invalid: <arn>."
    // and "Specify a value for either 'port' or the 'containerName' and 'containerPort'
    // combination, but not both. Remove one and retry." [O]
    if (!IsRegistryArn(arn)) {
      return InvalidParameter("The format of the supplied service registry ARN is invalid: " + arn +
                              ".");
    }
    if (r.contains("port") && (r.contains("containerName") || r.contains("containerPort"))) {
      return InvalidParameter(
          "Specify a value for either 'port' or the 'containerName' and 'containerPort' "
          "combination, but not both. Remove one and retry.");
    }
    if (r.contains("containerName") != r.contains("containerPort")) {
      return InvalidParameter(
          "The values specified for serviceRegistries need both 'containerName' and "
          "'containerPort', or neither.");
    }
    std::optional<ServiceRegistryInfo> info;
    if (sd_.registry) {
      info = sd_.registry(scope, arn);
      if (!info) {
        return InvalidParameter("The service registry " + arn +
                                " does not exist. Create it in AWS Cloud Map and retry.");
      }
    }
    if (r.contains("containerName")) {
      std::string container = r["containerName"].get<std::string>();
      const Json* found = nullptr;
      for (const auto& c : definition["containerDefinitions"]) {
        if (c["name"] == container) found = &c;
      }
      if (found == nullptr) {
        return InvalidParameter("The container " + container +
                                " does not exist in the task definition.");
      }
      int64_t port = r["containerPort"].get<int64_t>();
      bool has_port = false;
      for (const auto& pm : found->value("portMappings", Json::array())) {
        has_port |= pm.value("containerPort", int64_t{-1}) == port;
      }
      if (!has_port) {
        return InvalidParameter("The container " + container + " did not have a container port " +
                                std::to_string(port) + " defined.");
      }
    }
    std::string mode = definition.value("networkMode", "bridge");
    if (info && info->srv_records && mode != "awsvpc" && !r.contains("containerName") &&
        !r.contains("port")) {
      return InvalidParameter(
          "When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and "
          "'containerPort' must be specified from the task definition.");
    }
  }
  return std::nullopt;
}

void Services::RegisterInstances(Record& record, const ServiceTask& task) {
  const Json& registries = record.doc.value("serviceRegistries", Json::array());
  if (registries.empty() || !sd_.register_instance) return;
  const Json* t = tasks_.FindById(record.scope, task.id);
  if (t == nullptr) return;
  std::string definition_arn = (*t)["taskDefinitionArn"].get<std::string>();
  const Json* definition = task_definitions_.Resolve(record.scope, definition_arn);
  std::string family = definition_arn.substr(definition_arn.rfind('/') + 1);
  family = family.substr(0, family.find(':'));
  std::string cluster = record.doc["clusterArn"].get<std::string>();
  cluster = cluster.substr(cluster.rfind('/') + 1);
  for (const auto& r : registries) {
    // The address and port the task is reached on: its private address (awsvpc) or the
    // host's loopback, and the registry's port, the named container port, or the first
    // port the task maps; host ports for bridge tasks.
    std::string address = "127.0.0.1";
    int64_t port = r.value("port", int64_t{0});
    std::string want = r.value("containerName", "");
    for (const auto& c : (*t)["containers"]) {
      for (const auto& ni : c.value("networkInterfaces", Json::array())) {
        address = ni.value("privateIpv4Address", address);
      }
    }
    if (port == 0 && definition != nullptr) {
      for (const auto& c : (*definition)["containerDefinitions"]) {
        if (!want.empty() && c["name"] != want) continue;
        for (const auto& pm : c.value("portMappings", Json::array())) {
          int64_t cp = pm.value("containerPort", int64_t{0});
          if (r.contains("containerPort") && cp != r["containerPort"].get<int64_t>()) continue;
          if (port == 0) port = cp;
        }
        if (port != 0) break;
      }
      for (const auto& c : (*t)["containers"]) {
        for (const auto& b : c.value("networkBindings", Json::array())) {
          if (b.value("containerPort", int64_t{-1}) == port) port = b.value("hostPort", port);
        }
      }
    }
    std::map<std::string, std::string> attributes = {
        {"AWS_INSTANCE_IPV4", address},
        {"AWS_INIT_HEALTH_STATUS", "HEALTHY"},
        {"AVAILABILITY_ZONE", t->value("availabilityZone", record.scope.region + "a")},
        {"REGION", record.scope.region},
        {"ECS_CLUSTER_NAME", cluster},
        {"ECS_SERVICE_NAME", record.doc["serviceName"].get<std::string>()},
        {"ECS_TASK_DEFINITION_FAMILY", family}};
    if (port > 0) attributes["AWS_INSTANCE_PORT"] = std::to_string(port);
    std::string arn = r["registryArn"].get<std::string>();
    Status registered = sd_.register_instance(record.scope, arn, task.id, attributes);
    journal_.Record(JournalKind::kNote, "ecs.services",
                    Json{{"registerInstance", task.id},
                         {"registry", arn},
                         {"status", registered.ok() ? "OK" : registered.message()}});
  }
}

void Services::DeregisterInstances(Record& record, const std::string& task_id) {
  if (!sd_.deregister_instance) return;
  for (const auto& r : record.doc.value("serviceRegistries", Json::array())) {
    // NotFound when it was never registered or is already gone: nothing to do.
    (void)sd_.deregister_instance(record.scope, r["registryArn"].get<std::string>(), task_id);
  }
}

void Services::ReportInstanceHealth(Record& record, const std::string& task_id,
                                    const std::string& health) {
  if (!sd_.set_health || (health != "HEALTHY" && health != "UNHEALTHY")) return;
  auto task = record.tasks.find(task_id);
  if (task == record.tasks.end() || !task->second.running) return;
  for (const auto& r : record.doc.value("serviceRegistries", Json::array())) {
    std::string arn = r["registryArn"].get<std::string>();
    if (sd_.registry) {
      auto info = sd_.registry(record.scope, arn);
      if (!info || !info->custom_health) continue;
    }
    (void)sd_.set_health(record.scope, arn, task_id, health == "HEALTHY");
  }
}

void Services::DeregisterLeftoverInstances(Record& record) {
  if (!sd_.instances || !sd_.deregister_instance) return;
  std::string cluster = record.doc["clusterArn"].get<std::string>();
  cluster = cluster.substr(cluster.rfind('/') + 1);
  for (const auto& r : record.doc.value("serviceRegistries", Json::array())) {
    std::string arn = r["registryArn"].get<std::string>();
    for (const auto& [id, attributes] : sd_.instances(record.scope, arn)) {
      auto service = attributes.find("ECS_SERVICE_NAME");
      auto in_cluster = attributes.find("ECS_CLUSTER_NAME");
      if (service == attributes.end() || in_cluster == attributes.end() ||
          service->second != record.doc["serviceName"] || in_cluster->second != cluster ||
          record.tasks.count(id)) {
        continue;
      }
      (void)sd_.deregister_instance(record.scope, arn, id);
    }
  }
}

ApiResult Services::ListByNamespace(const Scope& scope, const Json& input) {
  std::string ns = input["namespace"].get<std::string>();
  std::optional<std::string> ns_arn;
  if (sd_.namespace_arn) ns_arn = sd_.namespace_arn(scope, ns);
  if (!ns_arn) {
    // Observed for an unknown namespace: "Failed to retrieve namespace for <name>" [O].
    return ApiError::Client("NamespaceNotFoundException", "Failed to retrieve namespace for " + ns);
  }
  int64_t max = input.value("maxResults", int64_t{10});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::string after;
  if (input.contains("nextToken")) {
    auto decoded = DecodePageToken(input["nextToken"].get<std::string>());
    if (!decoded) return InvalidParameter("Invalid token");
    after = *decoded;
  }
  std::vector<std::string> arns;
  for (const auto& [key, record] : services_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    if (record.doc["status"] == "INACTIVE") continue;
    bool in = false;
    for (const auto& r : record.doc.value("serviceRegistries", Json::array())) {
      if (!sd_.registry) continue;
      auto info = sd_.registry(scope, r.value("registryArn", ""));
      in |= info && info->namespace_arn == *ns_arn;
    }
    const Json connect = record.doc.value("serviceConnectConfiguration", Json::object());
    if (connect.value("enabled", false) && connect.contains("namespace")) {
      std::string named = connect["namespace"].get<std::string>();
      in |= named == *ns_arn || (sd_.namespace_arn && sd_.namespace_arn(scope, named) == *ns_arn);
    }
    if (in) arns.push_back(record.doc["serviceArn"].get<std::string>());
  }
  std::sort(arns.begin(), arns.end());
  Json out{{"serviceArns", Json::array()}};
  for (const auto& arn : arns) {
    if (!after.empty() && arn <= after) continue;
    if (static_cast<int64_t>(out["serviceArns"].size()) == max) {
      out["nextToken"] = EncodePageToken(out["serviceArns"].back().get<std::string>());
      break;
    }
    out["serviceArns"].push_back(arn);
  }
  return out;
}

}  // namespace understudy::ecs
