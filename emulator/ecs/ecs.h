// Ecs: Amazon ECS's API on the front door.
//
// Clusters (create, describe, list, update, delete, settings, capacity
// providers, tags), task definitions, and tasks run as real containers through a
// TaskRuntime; persisted in the store and reloaded at start. Every resource
// belongs to one (account, region) scope. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "api/api_error.h"
#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "logs/logs.h"
#include "runtime/task_runtime.h"

namespace understudy::ecs {

// How ECS checks the EC2 ids an awsvpc task names (RunTask, StartTask). The app wires
// both to EC2's references policy; unset members accept every id.
struct NetworkLookup {
  // The availability zone of subnet `subnet_id`, or EC2's error for the id.
  std::function<std::variant<std::string, api::ApiError>(const Scope&,
                                                         const std::string& subnet_id)>
      subnet_zone;
  // Nothing when security group `group_id` may be used, or EC2's error for the id.
  std::function<std::optional<api::ApiError>(const Scope&, const std::string& group_id)>
      security_group;
};

// Local stand-ins for what images and secret stores supply (docs/ecs-tasks.md), and
// the EC2 lookups.
struct EcsOptions {
  std::string images_file;   // --images: image -> entry point, command, working dir, environment
  std::string secrets_file;  // --secrets: valueFrom -> secret value
  NetworkLookup network;     // default: every subnet and security group id accepted
};

class Ecs {
 public:
  // Creates or migrates ECS's tables and loads what they hold.
  // `random` is ECS's own stream (task ids); `runtime` runs the containers and
  // `logs` receives the output of containers with the awslogs driver.
  static Result<std::unique_ptr<Ecs>> Open(EventLoop& loop, Store& store, Journal& journal,
                                           Clock& clock, Random random,
                                           runtime::TaskRuntime& runtime, logs::LogSink& logs,
                                           EventBus& bus, const EcsOptions& options = {});
  virtual ~Ecs() = default;

  // Registers ECS's operations, its reset hook and its wait conditions
  // ("ecsCluster": {"cluster", "status"}; "ecsTask": {"cluster", "task", "lastStatus"}).
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // Drops every ECS resource in every scope, killing running tasks.
  virtual Status Reset() = 0;
  // The endpoint tasks reach the AWS APIs on (AWS_ENDPOINT_URL), once it is bound.
  virtual void SetEndpoint(const std::string& endpoint) = 0;
  // Gives awsvpc tasks network namespaces of their own; `open` serves the emulator inside
  // the namespace of a process and returns listener ids that `close` ends.
  // The pid holding the network namespace of the running awsvpc task with private
  // address `address`, so the ALB can reach it; nothing when no such task runs.
  virtual std::optional<int> TaskNamespaceForAddress(const std::string& address) const = 0;
  virtual void SetTaskNetworks(std::function<Result<std::vector<uint64_t>>(int pid)> open,
                               std::function<void(const std::vector<uint64_t>&)> close) = 0;
};

}  // namespace understudy::ecs
