// Clusters: ECS cluster resources and their operations. Internal to ecs/.
//
// Each operation takes the request's scope and model-shaped input and returns
// the output or ECS's error (code and message as AWS words them). Clusters are
// cached in memory and written through to the `ecs_clusters` table. Deleted
// clusters stay describable as INACTIVE, as on AWS. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/json.h"
#include "core/store.h"

namespace understudy::ecs {

class Clusters {
 public:
  Clusters(Store& store, Journal& journal, Clock& clock);
  // Migrates the table and loads every cluster.
  Status Open();
  Status Reset();

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult List(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);
  api::ApiResult Update(const Scope& scope, const Json& input);
  api::ApiResult UpdateSettings(const Scope& scope, const Json& input);
  api::ApiResult PutCapacityProviders(const Scope& scope, const Json& input);
  api::ApiResult TagResource(const Scope& scope, const Json& input);
  api::ApiResult UntagResource(const Scope& scope, const Json& input);
  api::ApiResult ListTagsForResource(const Scope& scope, const Json& input);

  // Tells DescribeClusters and DeleteCluster how many tasks run (first) and are
  // pending (second) in a cluster.
  using TaskCounter =
      std::function<std::pair<int64_t, int64_t>(const Scope&, const std::string& cluster_arn)>;
  void SetTaskCounter(TaskCounter counter) { task_counter_ = std::move(counter); }

  // The cluster named by `name_or_arn` in `scope` (any status), or nullptr.
  const Json* Find(const Scope& scope, const std::string& name_or_arn) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // account, region, name
  Key KeyOf(const Scope& scope, const std::string& name) const {
    return {scope.account, scope.region, name};
  }
  // The cluster name in `name_or_arn`, if it is a name or an ARN of `scope`.
  std::optional<std::string> NameFrom(const Scope& scope, const std::string& name_or_arn) const;
  Json* FindMutable(const Scope& scope, const std::string& name_or_arn);
  Status Save(const Scope& scope, const Json& cluster);
  // The cluster as DescribeClusters shows it with `include` fields.
  Json View(const Scope& scope, const Json& cluster, const Json& include) const;
  // `cluster` with its live task counts.
  Json WithCounts(const Scope& scope, Json cluster) const;

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  std::map<Key, Json> clusters_;
  TaskCounter task_counter_;
};

}  // namespace understudy::ecs
