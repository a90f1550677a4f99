// Ecs: Amazon ECS's API on the front door.
//
// Clusters (create, describe, list, update, delete, settings, capacity
// providers, tags), persisted in the store and reloaded at start. Each cluster
// belongs to one (account, region) scope. Loop thread only.
#pragma once

#include <memory>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/store.h"

namespace understudy::ecs {

class Ecs {
 public:
  // Creates or migrates ECS's tables and loads what they hold.
  static Result<std::unique_ptr<Ecs>> Open(Store& store, Journal& journal, Clock& clock);
  virtual ~Ecs() = default;

  // Registers ECS's operations, its reset hook and its wait conditions
  // ("ecsCluster": {"cluster": name-or-ARN, "status": "ACTIVE"}).
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // Drops every ECS resource in every scope.
  virtual Status Reset() = 0;
};

}  // namespace understudy::ecs
