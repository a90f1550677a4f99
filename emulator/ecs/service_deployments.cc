// Services: service deployments and service revisions (ListServiceDeployments,
// DescribeServiceDeployments, StopServiceDeployment, DescribeServiceRevisions).
//
// Each deployment in a service's deployments[] has one service deployment and one
// service revision beside it, kept in the service's document (`_serviceDeployments`,
// newest first, and `_serviceRevisions`). The scheduler tells this file when a
// deployment starts, completes, fails or rolls back; the statuses follow the AWS
// developer guide's "View service history using Amazon ECS service deployments".
#include <algorithm>

#include "ecs/ecs_internal.h"
#include "ecs/service_math.h"
#include "ecs/services.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr char kIdAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

bool Finished(const std::string& status) {
  return status == "SUCCESSFUL" || status == "STOPPED" || status == "ROLLBACK_SUCCESSFUL" ||
         status == "ROLLBACK_FAILED";
}

Json WithoutInternal(const Json& doc) {
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

std::string Services::ServiceResourceArn(const Record& record, const std::string& type,
                                         const std::string& id) const {
  const Json& doc = record.doc;
  std::string service_arn = doc["serviceArn"].get<std::string>();
  // arn:aws:ecs:<region>:<account>:service/<cluster>/<name>
  std::string path = service_arn.substr(service_arn.find(":service/") + 9);
  return MakeArn("ecs", record.scope, type + "/" + path + "/" + id);
}

void Services::OpenServiceDeployment(Record& record, const Json& deployment) {
  Json& doc = record.doc;
  double now = ToEpochSeconds(clock_.Now());
  std::string deployment_id = deployment["id"].get<std::string>();
  std::string revision_arn = ServiceResourceArn(record, "service-revision", random_.Digits(19));
  Json revision{{"serviceRevisionArn", revision_arn},
                {"serviceArn", doc["serviceArn"]},
                {"clusterArn", doc["clusterArn"]},
                {"taskDefinition", deployment["taskDefinition"]},
                {"loadBalancers", doc.value("loadBalancers", Json::array())},
                {"serviceRegistries", doc.value("serviceRegistries", Json::array())},
                {"guardDutyEnabled", false},
                {"createdAt", now},
                {"_deploymentId", deployment_id}};
  for (const char* field : {"launchType", "capacityProviderStrategy", "platformVersion",
                            "platformFamily", "networkConfiguration"}) {
    if (deployment.contains(field)) revision[field] = deployment[field];
  }
  Json images = Json::array();
  if (const Json* def = task_definitions_.Resolve(
          record.scope, deployment["taskDefinition"].get<std::string>())) {
    for (const auto& c : (*def)["containerDefinitions"]) {
      images.push_back(Json{{"containerName", c["name"]}, {"image", c.value("image", "")}});
    }
  }
  revision["containerImages"] = images;
  if (!doc.contains("_serviceRevisions")) doc["_serviceRevisions"] = Json::array();
  doc["_serviceRevisions"].push_back(revision);

  // An unfinished deployment is superseded by the new one.
  Json sources = Json::array();
  if (!doc.contains("_serviceDeployments")) doc["_serviceDeployments"] = Json::array();
  for (auto& sd : doc["_serviceDeployments"]) {
    if (Finished(sd["status"].get<std::string>())) continue;
    sd["status"] = "STOPPED";
    sd["statusReason"] =
        "Service deployment stopped because a new deployment (" + deployment_id + ") started.";
    sd["stoppedAt"] = now;
    sd["finishedAt"] = now;
    sd["updatedAt"] = now;
    FreezeServiceDeployment(record, sd);
  }
  for (const auto& d : doc["deployments"]) {
    if (d["id"] == deployment_id) continue;
    std::string arn = RevisionArnOf(record, d["id"].get<std::string>());
    if (!arn.empty()) sources.push_back(Json{{"_deploymentId", d["id"]}, {"arn", arn}});
  }
  const Json& config = doc["deploymentConfiguration"];
  bool breaker = config.value("deploymentCircuitBreaker", Json::object()).value("enable", false);
  Json sd{{"serviceDeploymentArn", ServiceResourceArn(record, "service-deployment",
                                                      [&] {
                                                        std::string id;
                                                        for (int i = 0; i < 22; ++i)
                                                          id += kIdAlphabet[random_.Below(64)];
                                                        return id;
                                                      }())},
          {"serviceArn", doc["serviceArn"]},
          {"clusterArn", doc["clusterArn"]},
          {"createdAt", now},
          {"startedAt", now},
          {"updatedAt", now},
          {"status", "IN_PROGRESS"},
          {"deploymentConfiguration", config},
          {"deploymentCircuitBreaker",
           Json{{"status", breaker ? "MONITORING" : "DISABLED"},
                {"failureCount", 0},
                {"threshold", FailureThreshold(doc["desiredCount"].get<int64_t>())}}},
          {"_deploymentId", deployment_id},
          {"_sources", sources},
          {"_target", revision_arn}};
  doc["_serviceDeployments"].insert(doc["_serviceDeployments"].begin(), sd);
}

std::string Services::RevisionArnOf(const Record& record, const std::string& deployment_id) const {
  for (const auto& r : record.doc.value("_serviceRevisions", Json::array())) {
    if (r["_deploymentId"] == deployment_id) return r["serviceRevisionArn"].get<std::string>();
  }
  return "";
}

Json* Services::ServiceDeploymentOf(Record& record, const std::string& deployment_id,
                                    const std::string& status) {
  if (!record.doc.contains("_serviceDeployments")) return nullptr;
  for (auto& sd : record.doc["_serviceDeployments"]) {
    if (sd["_deploymentId"] == deployment_id && sd["status"] == status) return &sd;
  }
  return nullptr;
}

Json Services::RevisionSummary(const Record& record, const std::string& deployment_id,
                               const std::string& arn) const {
  Json summary{
      {"arn", arn}, {"requestedTaskCount", 0}, {"runningTaskCount", 0}, {"pendingTaskCount", 0}};
  for (const auto& d : record.doc["deployments"]) {
    if (d["id"] != deployment_id) continue;
    summary["requestedTaskCount"] = d["desiredCount"];
    summary["runningTaskCount"] = d["runningCount"];
    summary["pendingTaskCount"] = d["pendingCount"];
  }
  return summary;
}

void Services::FreezeServiceDeployment(const Record& record, Json& sd) const {
  sd["targetServiceRevision"] = RevisionSummary(record, sd["_deploymentId"].get<std::string>(),
                                                sd["_target"].get<std::string>());
  Json sources = Json::array();
  for (const auto& s : sd["_sources"]) {
    sources.push_back(RevisionSummary(record, s["_deploymentId"].get<std::string>(),
                                      s["arn"].get<std::string>()));
  }
  sd["sourceServiceRevisions"] = sources;
  sd["_frozen"] = true;
}

Json Services::ServiceDeploymentView(const Record& record, const Json& sd) const {
  Json out = sd;
  if (!sd.value("_frozen", false)) {
    FreezeServiceDeployment(record, out);
    // The breaker's count is the PRIMARY deployment's failed tasks while it runs.
    for (const auto& d : record.doc["deployments"]) {
      if (d["id"] == sd["_deploymentId"] && out.contains("deploymentCircuitBreaker")) {
        out["deploymentCircuitBreaker"]["failureCount"] = d.value("failedTasks", int64_t{0});
      }
    }
  }
  return WithoutInternal(out);
}

void Services::ServiceDeploymentCompleted(Record& record, const std::string& deployment_id) {
  double now = ToEpochSeconds(clock_.Now());
  auto finish = [&](Json& sd, const std::string& status) {
    sd["status"] = status;
    sd["finishedAt"] = now;
    sd["updatedAt"] = now;
    if (sd["deploymentCircuitBreaker"]["status"] == "MONITORING")
      sd["deploymentCircuitBreaker"]["status"] = "MONITORING_COMPLETE";
    FreezeServiceDeployment(record, sd);
  };
  if (Json* sd = ServiceDeploymentOf(record, deployment_id, "IN_PROGRESS")) {
    finish(*sd, "SUCCESSFUL");
  }
  // A rollback to this deployment has succeeded.
  std::string revision = RevisionArnOf(record, deployment_id);
  for (auto& sd : record.doc["_serviceDeployments"]) {
    if (sd["status"] == "ROLLBACK_IN_PROGRESS" && sd.contains("rollback") &&
        sd["rollback"]["serviceRevisionArn"] == revision) {
      finish(sd, "ROLLBACK_SUCCESSFUL");
    }
  }
}

void Services::ServiceDeploymentFailed(Record& record, const std::string& deployment_id,
                                       const std::string& reason, const std::string& rollback_to,
                                       bool breaker) {
  double now = ToEpochSeconds(clock_.Now());
  Json* sd = ServiceDeploymentOf(record, deployment_id, "IN_PROGRESS");
  if (sd == nullptr) sd = ServiceDeploymentOf(record, deployment_id, "ROLLBACK_REQUESTED");
  if (sd == nullptr) return;
  for (const auto& d : record.doc["deployments"]) {
    if (d["id"] == deployment_id)
      (*sd)["deploymentCircuitBreaker"]["failureCount"] = d.value("failedTasks", int64_t{0});
  }
  if (breaker) (*sd)["deploymentCircuitBreaker"]["status"] = "TRIGGERED";
  (*sd)["updatedAt"] = now;
  if (rollback_to.empty()) {
    (*sd)["status"] = "STOPPED";
    (*sd)["statusReason"] = reason;
    (*sd)["stoppedAt"] = now;
    (*sd)["finishedAt"] = now;
    FreezeServiceDeployment(record, *sd);
    return;
  }
  (*sd)["status"] = "ROLLBACK_IN_PROGRESS";
  (*sd)["statusReason"] = reason;
  (*sd)["rollback"] = Json{{"reason", reason},
                           {"startedAt", now},
                           {"serviceRevisionArn", RevisionArnOf(record, rollback_to)}};
}

std::string Services::LifecycleStage(const Scope& scope, const std::string& cluster,
                                     const std::string& name) const {
  const Record* record = FindRecord(scope, cluster, name);
  if (record == nullptr) return "";
  const Json& sds = record->doc.value("_serviceDeployments", Json::array());
  return sds.empty() ? "" : sds[0].value("lifecycleStage", "");
}

ApiResult Services::ListServiceDeployments(const Scope& scope, const Json& input) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr) {
    return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  }
  const Record* record = FindRecord(scope, cluster_name, input["service"].get<std::string>());
  if (record == nullptr || record->doc["status"] == "INACTIVE") {
    return ApiError::Client("ServiceNotFoundException", "Service not found.");
  }
  int64_t max = input.value("maxResults", int64_t{20});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::string after;
  if (input.contains("nextToken")) {
    auto decoded = DecodePageToken(input["nextToken"].get<std::string>());
    if (!decoded) return InvalidParameter("Invalid token");
    after = *decoded;
  }
  Json statuses = input.value("status", Json::array());
  Json created = input.value("createdAt", Json::object());
  Json out = Json::array();
  bool skipping = !after.empty();
  std::string last;
  bool more = false;
  for (const auto& sd : record->doc.value("_serviceDeployments", Json::array())) {
    std::string arn = sd["serviceDeploymentArn"].get<std::string>();
    if (skipping) {
      if (arn == after) skipping = false;
      continue;
    }
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), sd["status"]) == statuses.end()) {
      continue;
    }
    double at = sd["createdAt"].get<double>();
    if (created.contains("after") && at < created["after"].get<double>()) continue;
    if (created.contains("before") && at > created["before"].get<double>()) continue;
    if (static_cast<int64_t>(out.size()) == max) {
      more = true;
      break;
    }
    Json brief{{"serviceDeploymentArn", arn},    {"serviceArn", sd["serviceArn"]},
               {"clusterArn", sd["clusterArn"]}, {"createdAt", sd["createdAt"]},
               {"startedAt", sd["startedAt"]},   {"targetServiceRevisionArn", sd["_target"]},
               {"status", sd["status"]}};
    if (sd.contains("finishedAt")) brief["finishedAt"] = sd["finishedAt"];
    if (sd.contains("statusReason")) brief["statusReason"] = sd["statusReason"];
    out.push_back(brief);
    last = arn;
  }
  Json result{{"serviceDeployments", out}};
  if (more) result["nextToken"] = EncodePageToken(last);
  return result;
}

ApiResult Services::DescribeServiceDeployments(const Scope& scope, const Json& input) {
  const Json& arns = input["serviceDeploymentArns"];
  if (arns.empty() || arns.size() > 20) {
    return InvalidParameter("serviceDeploymentArns must contain between 1 and 20 items.");
  }
  Json found = Json::array();
  Json failures = Json::array();
  for (const auto& arn : arns) {
    bool hit = false;
    for (const auto& [key, record] : services_) {
      if (record.scope.account != scope.account || record.scope.region != scope.region) continue;
      for (const auto& sd : record.doc.value("_serviceDeployments", Json::array())) {
        if (sd["serviceDeploymentArn"] != arn) continue;
        found.push_back(ServiceDeploymentView(record, sd));
        hit = true;
      }
      if (hit) break;
    }
    if (!hit) failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
  }
  return Json{{"serviceDeployments", found}, {"failures", failures}};
}

ApiResult Services::DescribeServiceRevisions(const Scope& scope, const Json& input) {
  const Json& arns = input["serviceRevisionArns"];
  if (arns.empty() || arns.size() > 20) {
    return InvalidParameter("serviceRevisionArns must contain between 1 and 20 items.");
  }
  Json found = Json::array();
  Json failures = Json::array();
  for (const auto& arn : arns) {
    bool hit = false;
    for (const auto& [key, record] : services_) {
      if (record.scope.account != scope.account || record.scope.region != scope.region) continue;
      for (const auto& revision : record.doc.value("_serviceRevisions", Json::array())) {
        if (revision["serviceRevisionArn"] != arn) continue;
        found.push_back(WithoutInternal(revision));
        hit = true;
      }
      if (hit) break;
    }
    if (!hit) failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
  }
  return Json{{"serviceRevisions", found}, {"failures", failures}};
}

ApiResult Services::StopServiceDeployment(const Scope& scope, const Json& input) {
  std::string arn = input["serviceDeploymentArn"].get<std::string>();
  std::string stop_type = input.value("stopType", "ROLLBACK");
  for (auto& [key, record] : services_) {
    if (record.scope.account != scope.account || record.scope.region != scope.region) continue;
    if (!record.doc.contains("_serviceDeployments")) continue;
    for (auto& sd : record.doc["_serviceDeployments"]) {
      if (sd["serviceDeploymentArn"] != arn) continue;
      std::string status = sd["status"].get<std::string>();
      if (status == "STOP_REQUESTED" || status == "ROLLBACK_REQUESTED" ||
          status == "ROLLBACK_IN_PROGRESS") {
        return Json{{"serviceDeploymentArn", arn}};  // it is already stopping
      }
      if (Finished(status)) {
        return ApiError::Client("ConflictException", "The service deployment " + arn + " is " +
                                                         status + " and can't be stopped.");
      }
      if (stop_type != "ROLLBACK") {
        return InvalidParameter("The stopType " + stop_type +
                                " isn't supported for this service deployment. Use ROLLBACK.");
      }
      std::string deployment_id = sd["_deploymentId"].get<std::string>();
      if (!record.doc.contains("_lastCompleted") ||
          record.doc["_lastCompleted"]["id"] == deployment_id) {
        return ApiError::Client("ConflictException",
                                "The service deployment " + arn +
                                    " can't be rolled back because the service has no previous "
                                    "successful service revision.");
      }
      sd["status"] = "ROLLBACK_REQUESTED";
      RollBack(key, record, "Service deployment rolled back because of a stop request.",
               /*breaker=*/false);
      US_RETURN_IF_ERROR_API(Save(key));
      journal_.Transition(arn, Json{{"status", "ROLLBACK_IN_PROGRESS"}});
      Kick(key);
      return Json{{"serviceDeploymentArn", arn}};
    }
  }
  return ApiError::Client("ServiceDeploymentNotFoundException",
                          "The service deployment " + arn + " does not exist.");
}

}  // namespace understudy::ecs
