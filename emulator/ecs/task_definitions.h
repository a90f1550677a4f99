// TaskDefinitions: ECS task definition families and revisions. Internal to ecs/.
//
// Register validates a definition the way ECS does (container names and images,
// essential containers, dependsOn conditions, memory per container, the Fargate
// cpu/memory table, awsvpc for Fargate) and stores it as the family's next
// revision with ECS's defaults filled in. Deregister makes a revision INACTIVE;
// DeleteTaskDefinitions moves INACTIVE revisions to DELETE_IN_PROGRESS. Revisions
// are cached in memory and written through to `ecs_task_definitions`. Loop thread only.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/json.h"
#include "core/store.h"

namespace understudy::ecs {

class TaskDefinitions {
 public:
  TaskDefinitions(Store& store, Journal& journal, Clock& clock);
  Status Open();
  Status Reset();

  api::ApiResult Register(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult List(const Scope& scope, const Json& input);
  api::ApiResult ListFamilies(const Scope& scope, const Json& input);
  api::ApiResult Deregister(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);

  // The revision `ref` names: "family" (latest ACTIVE), "family:revision" or an
  // ARN of `scope`; nullptr when there is none.
  const Json* Resolve(const Scope& scope, const std::string& ref) const;
  // The tags of the revision `ref` names (propagateTags TASK_DEFINITION); [] when none.
  Json TagsOf(const Scope& scope, const std::string& ref) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string,
                         int64_t>;  // account, region, family, revision
  Status Save(const Scope& scope, const Json& definition);

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  std::map<Key, Json> revisions_;
  std::map<Key, Json> tags_;  // by revision, for include TAGS
};

// Checks a Fargate task size: "No Fargate configuration exists for given values: ..."
// when `cpu` units and `memory` MiB are not a Fargate combination.
bool IsFargateSize(int64_t cpu_units, int64_t memory_mib);
// Task-level cpu ("1024", "1 vCPU", "0.5 vcpu") in units, or -1 when malformed.
int64_t ParseCpuUnits(const std::string& text);
// Task-level memory ("2048", "2 GB", "2GB") in MiB, or -1 when malformed.
int64_t ParseMemoryMib(const std::string& text);

}  // namespace understudy::ecs
