#include "ecs/clusters.h"

#include <algorithm>
#include <set>

#include "api/shape_values.h"
#include "ecs/ecs_internal.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

ApiError ClusterNotFound() {
  return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
}

bool IsValidClusterName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

const std::set<std::string> kCapacityProviders = {"FARGATE", "FARGATE_SPOT"};

// Checks a capacity provider strategy: known providers, weights 0..1000, base 0..100000
// on at most one item.
std::optional<ApiError> CheckStrategy(const Json& strategy, const Json& providers) {
  int with_base = 0;
  std::set<std::string> seen;
  for (const auto& item : strategy) {
    std::string name = item.value("capacityProvider", "");
    if (std::find(providers.begin(), providers.end(), name) == providers.end()) {
      return InvalidParameter(
          "The specified capacity provider strategy cannot contain a capacity "
          "provider that is not associated with the cluster. Associate the "
          "capacity provider with the cluster or specify a valid capacity "
          "provider and try again.");
    }
    if (!seen.insert(name).second) {
      return InvalidParameter(
          "The specified capacity provider strategy contains duplicate "
          "capacity providers: " +
          name + ".");
    }
    if (item.value("base", 0) > 0) ++with_base;
  }
  if (with_base > 1) {
    return InvalidParameter(
        "The specified capacity provider strategy cannot contain more than "
        "one capacity provider with a base value greater than zero.");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTags(const Json& tags) {
  std::set<std::string> keys;
  for (const auto& tag : tags) {
    std::string key = tag.value("key", "");
    if (!tag.contains("key")) return InvalidParameter("Tag keys must not be empty.");
    if (key.rfind("aws:", 0) == 0) {
      return InvalidParameter("Tag keys beginning with 'aws:' are reserved for use by AWS.");
    }
  }
  return std::nullopt;
}

// Tags as a key -> tag map, later entries replacing earlier ones.
Json MergeTags(const Json& existing, const Json& added) {
  std::map<std::string, Json> by_key;
  for (const auto& t : existing) by_key[t.value("key", "")] = t;
  for (const auto& t : added)
    by_key[t.value("key", "")] = Json{{"key", t.value("key", "")}, {"value", t.value("value", "")}};
  Json out = Json::array();
  for (auto& [k, t] : by_key) out.push_back(t);
  return out;
}

Json MergeSettings(const Json& existing, const Json& updates) {
  std::map<std::string, Json> by_name;
  for (const auto& s : existing) by_name[s.value("name", "")] = s;
  for (const auto& s : updates) by_name[s.value("name", "")] = s;
  Json out = Json::array();
  for (auto& [k, s] : by_name) out.push_back(s);
  return out;
}

}  // namespace

Clusters::Clusters(Store& store, Journal& journal, Clock& clock)
    : store_(store), journal_(journal), clock_(clock) {}

Status Clusters::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "ecs_clusters",
      {"CREATE TABLE ecs_clusters (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT "
       "NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, name))"}));
  Status status = Status::Ok();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT account, region, name, doc FROM ecs_clusters", {}, [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(3));
        if (!doc.ok()) {
          status = Status::IoError("ecs_clusters row " + row.Text(2) + " is not JSON");
          return;
        }
        clusters_[{row.Text(0), row.Text(1), row.Text(2)}] = std::move(doc).value();
      }));
  return status;
}

Status Clusters::Reset() {
  clusters_.clear();
  return store_.Run("DELETE FROM ecs_clusters");
}

Status Clusters::Save(const Scope& scope, const Json& cluster) {
  return store_.Run(
      "INSERT INTO ecs_clusters(account, region, name, doc) VALUES(?1, ?2, ?3, ?4) "
      "ON CONFLICT(account, region, name) DO UPDATE SET doc = excluded.doc",
      {scope.account, scope.region, cluster["clusterName"].get<std::string>(), cluster.dump()});
}

std::optional<std::string> Clusters::NameFrom(const Scope& scope,
                                              const std::string& name_or_arn) const {
  if (name_or_arn.rfind("arn:", 0) != 0) return name_or_arn;
  auto arn = Arn::Parse(name_or_arn);
  if (!arn || arn->service != "ecs" || arn->region != scope.region ||
      arn->account != scope.account || arn->resource.rfind("cluster/", 0) != 0) {
    return std::nullopt;
  }
  return arn->resource.substr(8);
}

const Json* Clusters::Find(const Scope& scope, const std::string& name_or_arn) const {
  auto name = NameFrom(scope, name_or_arn);
  if (!name) return nullptr;
  auto it = clusters_.find(KeyOf(scope, *name));
  return it == clusters_.end() ? nullptr : &it->second;
}

Json* Clusters::FindMutable(const Scope& scope, const std::string& name_or_arn) {
  return const_cast<Json*>(Find(scope, name_or_arn));
}

Json Clusters::WithCounts(const Scope& scope, Json cluster) const {
  if (task_counter_) {
    auto [running, pending] = task_counter_(scope, cluster["clusterArn"].get<std::string>());
    cluster["runningTasksCount"] = running;
    cluster["pendingTasksCount"] = pending;
  }
  return cluster;
}

Json Clusters::View(const Scope& scope, const Json& cluster, const Json& include) const {
  auto has = [&](const char* field) {
    return std::find(include.begin(), include.end(), field) != include.end();
  };
  Json view = WithCounts(scope, cluster);
  if (!has("TAGS")) view.erase("tags");
  if (!has("SETTINGS")) view.erase("settings");
  if (!has("CONFIGURATIONS")) view.erase("configuration");
  if (!has("ATTACHMENTS")) view.erase("attachments");
  if (has("STATISTICS")) {
    view["statistics"] = Json::array();
  } else {
    view.erase("statistics");
  }
  return view;
}

ApiResult Clusters::Create(const Scope& scope, const Json& input) {
  std::string name = input.value("clusterName", "default");
  if (!IsValidClusterName(name)) {
    return InvalidParameter(
        "Cluster name can only contain up to 255 letters (uppercase and lowercase), numbers, "
        "underscores, and hyphens.");
  }
  Json tags = input.value("tags", Json::array());
  if (auto error = CheckTags(tags)) return *error;
  Json providers = input.value("capacityProviders", Json::array());
  for (const auto& p : providers) {
    if (!kCapacityProviders.count(p.get<std::string>())) {
      return InvalidParameter("The specified capacity provider '" + p.get<std::string>() +
                              "' does not exist. Specify a valid capacity provider and try again.");
    }
  }
  Json strategy = input.value("defaultCapacityProviderStrategy", Json::array());
  if (auto error = CheckStrategy(strategy, providers)) return *error;

  auto it = clusters_.find(KeyOf(scope, name));
  if (it != clusters_.end() && it->second["status"] == "ACTIVE") {
    return Json{{"cluster", it->second}};  // CreateCluster is idempotent on AWS
  }
  Json cluster{
      {"clusterArn", MakeArn("ecs", scope, "cluster/" + name)},
      {"clusterName", name},
      {"status", "ACTIVE"},
      {"registeredContainerInstancesCount", 0},
      {"runningTasksCount", 0},
      {"pendingTasksCount", 0},
      {"activeServicesCount", 0},
      {"statistics", Json::array()},
      {"tags", MergeTags(Json::array(), tags)},
      {"settings",
       MergeSettings(Json::array({{{"name", "containerInsights"}, {"value", "disabled"}}}),
                     input.value("settings", Json::array()))},
      {"capacityProviders", providers},
      {"defaultCapacityProviderStrategy", strategy},
  };
  if (input.contains("configuration")) cluster["configuration"] = input["configuration"];
  if (input.contains("serviceConnectDefaults")) {
    cluster["serviceConnectDefaults"] = input["serviceConnectDefaults"];
  }
  US_RETURN_IF_ERROR_API(Save(scope, cluster));
  journal_.Transition(cluster["clusterArn"].get<std::string>(), Json{{"status", "ACTIVE"}});
  clusters_[KeyOf(scope, name)] = cluster;
  return Json{{"cluster", cluster}};
}

ApiResult Clusters::Describe(const Scope& scope, const Json& input) {
  Json names = input.value("clusters", Json::array());
  if (names.empty()) names = Json::array({"default"});
  if (names.size() > 100) {
    return InvalidParameter("The clusters parameter can contain at most 100 clusters.");
  }
  Json include = input.value("include", Json::array());
  Json found = Json::array();
  Json failures = Json::array();
  for (const auto& n : names) {
    std::string id = n.get<std::string>();
    if (const Json* cluster = Find(scope, id)) {
      found.push_back(View(scope, *cluster, include));
    } else {
      std::string arn = id.rfind("arn:", 0) == 0 ? id : MakeArn("ecs", scope, "cluster/" + id);
      failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
    }
  }
  return Json{{"clusters", found}, {"failures", failures}};
}

ApiResult Clusters::List(const Scope& scope, const Json& input) {
  int64_t max = input.value("maxResults", int64_t{100});
  if (max < 1 || max > 100) {
    return InvalidParameter("maxResults must be between 1 and 100.");
  }
  std::string after;
  if (input.contains("nextToken")) {
    auto token = DecodePageToken(input["nextToken"].get<std::string>());
    if (!token) return InvalidParameter("Invalid nextToken.");
    after = *token;
  }
  std::vector<std::string> arns;
  for (const auto& [key, cluster] : clusters_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    if (cluster["status"] != "ACTIVE") continue;
    arns.push_back(cluster["clusterArn"].get<std::string>());
  }
  std::sort(arns.begin(), arns.end());
  Json page = Json::array();
  auto start = std::upper_bound(arns.begin(), arns.end(), after);
  if (after.empty()) start = arns.begin();
  for (auto it = start; it != arns.end(); ++it) {
    if (static_cast<int64_t>(page.size()) == max) {
      return Json{{"clusterArns", page},
                  {"nextToken", EncodePageToken(page.back().get<std::string>())}};
    }
    page.push_back(*it);
  }
  return Json{{"clusterArns", page}};
}

ApiResult Clusters::Delete(const Scope& scope, const Json& input) {
  Json* cluster = FindMutable(scope, input["cluster"].get<std::string>());
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  if ((*cluster)["activeServicesCount"].get<int64_t>() > 0) {
    return ApiError::Client("ClusterContainsServicesException",
                            "The Cluster cannot be deleted while Services are active.");
  }
  Json counted = WithCounts(scope, *cluster);
  if (counted["runningTasksCount"].get<int64_t>() + counted["pendingTasksCount"].get<int64_t>() >
      0) {
    return ApiError::Client("ClusterContainsTasksException",
                            "The Cluster cannot be deleted while Tasks are active.");
  }
  Json updated = *cluster;
  updated["status"] = "INACTIVE";
  US_RETURN_IF_ERROR_API(Save(scope, updated));
  *cluster = updated;
  journal_.Transition(updated["clusterArn"].get<std::string>(), Json{{"status", "INACTIVE"}});
  return Json{{"cluster", updated}};
}

ApiResult Clusters::Update(const Scope& scope, const Json& input) {
  Json* cluster = FindMutable(scope, input["cluster"].get<std::string>());
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  Json updated = *cluster;
  if (input.contains("settings"))
    updated["settings"] = MergeSettings(updated["settings"], input["settings"]);
  if (input.contains("configuration")) updated["configuration"] = input["configuration"];
  if (input.contains("serviceConnectDefaults")) {
    updated["serviceConnectDefaults"] = input["serviceConnectDefaults"];
  }
  US_RETURN_IF_ERROR_API(Save(scope, updated));
  *cluster = updated;
  journal_.Transition(updated["clusterArn"].get<std::string>(), Json{{"updated", input}});
  return Json{{"cluster", updated}};
}

ApiResult Clusters::UpdateSettings(const Scope& scope, const Json& input) {
  Json update{{"cluster", input["cluster"]}, {"settings", input["settings"]}};
  return Update(scope, update);
}

ApiResult Clusters::PutCapacityProviders(const Scope& scope, const Json& input) {
  Json* cluster = FindMutable(scope, input["cluster"].get<std::string>());
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  const Json& providers = input["capacityProviders"];
  for (const auto& p : providers) {
    if (!kCapacityProviders.count(p.get<std::string>())) {
      return InvalidParameter("The specified capacity provider '" + p.get<std::string>() +
                              "' does not exist. Specify a valid capacity provider and try again.");
    }
  }
  if (auto error = CheckStrategy(input["defaultCapacityProviderStrategy"], providers))
    return *error;
  Json updated = *cluster;
  updated["capacityProviders"] = providers;
  updated["defaultCapacityProviderStrategy"] = input["defaultCapacityProviderStrategy"];
  US_RETURN_IF_ERROR_API(Save(scope, updated));
  *cluster = updated;
  journal_.Transition(updated["clusterArn"].get<std::string>(),
                      Json{{"capacityProviders", providers}});
  return Json{{"cluster", updated}};
}

namespace {

// The cluster name an ECS resource ARN names, or an error for ARNs we do not tag yet.
std::variant<std::string, ApiError> ClusterFromResourceArn(const Scope& scope,
                                                           const std::string& text) {
  auto arn = Arn::Parse(text);
  if (!arn || arn->service != "ecs") {
    return InvalidParameter("The ARN '" + text + "' is not a valid Amazon ECS resource ARN.");
  }
  if (arn->account != scope.account || arn->region != scope.region) return ClusterNotFound();
  if (arn->resource.rfind("cluster/", 0) == 0) return arn->resource.substr(8);
  return ApiError::Client("ResourceNotFoundException", "The specified resource is not found.");
}

}  // namespace

ApiResult Clusters::TagResource(const Scope& scope, const Json& input) {
  auto target = ClusterFromResourceArn(scope, input["resourceArn"].get<std::string>());
  if (auto* error = std::get_if<ApiError>(&target)) return *error;
  Json* cluster = FindMutable(scope, std::get<std::string>(target));
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  if (auto error = CheckTags(input["tags"])) return *error;
  Json merged = MergeTags((*cluster)["tags"], input["tags"]);
  if (merged.size() > 50) {
    return InvalidParameter("A resource can have at most 50 tags.");
  }
  Json updated = *cluster;
  updated["tags"] = merged;
  US_RETURN_IF_ERROR_API(Save(scope, updated));
  *cluster = updated;
  journal_.Transition(updated["clusterArn"].get<std::string>(), Json{{"tags", merged}});
  return Json::object();
}

ApiResult Clusters::UntagResource(const Scope& scope, const Json& input) {
  auto target = ClusterFromResourceArn(scope, input["resourceArn"].get<std::string>());
  if (auto* error = std::get_if<ApiError>(&target)) return *error;
  Json* cluster = FindMutable(scope, std::get<std::string>(target));
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  Json kept = Json::array();
  const Json& remove = input["tagKeys"];
  for (const auto& tag : (*cluster)["tags"]) {
    if (std::find(remove.begin(), remove.end(), tag["key"]) == remove.end()) kept.push_back(tag);
  }
  Json updated = *cluster;
  updated["tags"] = kept;
  US_RETURN_IF_ERROR_API(Save(scope, updated));
  *cluster = updated;
  journal_.Transition(updated["clusterArn"].get<std::string>(), Json{{"tags", kept}});
  return Json::object();
}

ApiResult Clusters::ListTagsForResource(const Scope& scope, const Json& input) {
  auto target = ClusterFromResourceArn(scope, input["resourceArn"].get<std::string>());
  if (auto* error = std::get_if<ApiError>(&target)) return *error;
  const Json* cluster = Find(scope, std::get<std::string>(target));
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") return ClusterNotFound();
  return Json{{"tags", (*cluster)["tags"]}};
}

}  // namespace understudy::ecs
