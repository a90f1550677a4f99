// Ecs: Amazon ECS's API on the front door.
//
// Clusters (create, describe, list, update, delete, settings, capacity
// providers, tags), task definitions, tasks run as real containers through a
// TaskRuntime, and services kept by a scheduler with rolling deployments; persisted in the store
// and reloaded at start. Every resource belongs to one (account, region) scope. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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

// What a service needs to know of one ALB target group.
struct TargetGroupInfo {
  std::string target_type = "ip";               // "ip", "instance", ...
  std::vector<std::string> load_balancer_arns;  // load balancers forwarding to it
  int64_t deregistration_delay_seconds = 300;   // how long a deregistered target drains
};

// The state of one target in a target group, as DescribeTargetHealth words it.
struct TargetState {
  std::string state;  // "initial", "healthy", "unhealthy", "draining", "unused", ...
  std::string reason;
  std::string description;
};

// How services reach the ALB (the app wires them to ELBv2). Unset members: every
// target group exists, is attached and has no deregistration delay; registration
// does nothing and every target reads healthy.
struct LoadBalancing {
  // The target group `arn` of `scope`, or nothing when there is none.
  std::function<std::optional<TargetGroupInfo>(const Scope&, const std::string& arn)> target_group;
  // Registers / deregisters target `id`:`port` in target group `arn`.
  std::function<Status(const Scope&, const std::string& arn, const std::string& id, int port)>
      register_target;
  std::function<Status(const Scope&, const std::string& arn, const std::string& id, int port)>
      deregister_target;
  std::function<TargetState(const Scope&, const std::string& arn, const std::string& id, int port)>
      target_health;
  // Blue/green, linear and canary deployments: the target groups listener rule `rule_arn`
  // forwards to (nothing when there is no such rule), and rewriting its forward action
  // to weighted target groups.
  std::function<std::optional<std::vector<std::string>>(const Scope&, const std::string& rule_arn)>
      rule_target_groups;
  std::function<Status(const Scope&, const std::string& rule_arn,
                       const std::vector<std::pair<std::string, int>>& weights)>
      set_forward_weights;
  // Whether `address`:`port` accepts a TCP connection (inside the network namespace of
  // process `netns_pid` when given): how a service task is seen to have settled.
  // Unset: a real connect.
  std::function<bool(std::optional<int> netns_pid, const std::string& address, int port)>
      port_accepts;
};

// A Cloud Map service a service registers its tasks in (serviceRegistries[].registryArn).
struct ServiceRegistryInfo {
  std::string namespace_arn;
  bool custom_health = false;  // HealthCheckCustomConfig: ECS reports the tasks' health
  bool srv_records = false;    // its DnsConfig has an SRV record (needs a port)
};

// How services reach Cloud Map (the app wires them to ServiceDiscovery). Unset members:
// every registry exists, registration does nothing and no namespace exists.
struct ServiceDiscoveryHooks {
  // The Cloud Map service with ARN `registry_arn`, or nothing when there is none.
  std::function<std::optional<ServiceRegistryInfo>(const Scope&, const std::string& registry_arn)>
      registry;
  // The ARN of the namespace named (or with ARN) `name_or_arn`, or nothing.
  std::function<std::optional<std::string>(const Scope&, const std::string& name_or_arn)>
      namespace_arn;
  std::function<Status(const Scope&, const std::string& registry_arn, const std::string& instance,
                       const std::map<std::string, std::string>& attributes)>
      register_instance;
  std::function<Status(const Scope&, const std::string& registry_arn, const std::string& instance)>
      deregister_instance;
  std::function<Status(const Scope&, const std::string& registry_arn, const std::string& instance,
                       bool healthy)>
      set_health;
  // The instances of the registry, with their attributes.
  std::function<std::vector<std::pair<std::string, std::map<std::string, std::string>>>(
      const Scope&, const std::string& registry_arn)>
      instances;
};

// Local stand-ins for what images and secret stores supply (docs/ecs-tasks.md), and
// the EC2 and ALB lookups.
struct EcsOptions {
  std::string images_file;   // --images: image -> entry point, command, working dir, environment
  std::string secrets_file;  // --secrets: valueFrom -> secret value
  NetworkLookup network;     // default: every subnet and security group id accepted
  LoadBalancing load_balancing;             // default: see LoadBalancing
  ServiceDiscoveryHooks service_discovery;  // default: see ServiceDiscoveryHooks
};

// One running service task's resource use, for CloudWatch's AWS/ECS metrics:
// cumulative CPU time, the host's cumulative CPU time (both ns) and online CPUs at the
// same reading, resident memory, and what the task reserves.
struct ServiceTaskUsage {
  Scope scope;
  std::string cluster;  // name
  std::string service;  // name
  std::string task_id;
  uint64_t cpu_ns = 0;
  uint64_t system_cpu_ns = 0;
  int online_cpus = 1;
  uint64_t memory_bytes = 0;
  double reserved_vcpus = 1;
  double reserved_memory_mib = 0;
};

// A service's counts, for Application Auto Scaling.
struct ServiceScale {
  int64_t desired = 0;
  int64_t running = 0;
  bool deploying = false;  // a deployment is in progress
};

// A task as fault injection sees it (docs/chaos.md): what targets select on.
struct ChaosTask {
  Scope scope;
  std::string task_arn;
  std::string task_id;
  std::string cluster_arn;
  std::string cluster;  // name
  std::string service;  // service name when the task belongs to one, else ""
  std::string last_status;
  std::map<std::string, std::string> tags;
  std::vector<std::string> containers;  // names of its running containers
  int netns_pid = 0;  // a process in its network namespace of its own (awsvpc), or 0
  Json doc;           // the task as DescribeTasks shows it (FIS target filters)
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
  // ("ecsCluster": {"cluster", "status"}; "ecsTask": {"cluster", "task", "lastStatus"};
  // "ecsService": {"cluster", "service", "steady"?, "status"?}).
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
  // The ACTIVE service's counts, or nothing when there is no such service.
  virtual std::optional<ServiceScale> FindServiceScale(const Scope& scope,
                                                       const std::string& cluster,
                                                       const std::string& service) const = 0;
  // Sets a service's desiredCount as UpdateService does (Application Auto Scaling).
  virtual Status SetServiceDesiredCount(const Scope& scope, const std::string& cluster,
                                        const std::string& service, int64_t desired) = 0;
  // The resource use of every running service task.
  virtual std::vector<ServiceTaskUsage> SampleServiceTasks() = 0;
  // The container ports mapped by the running task whose namespace process `pid` holds.
  virtual std::vector<int> TaskPortsInNamespace(int pid) const = 0;
  // RunTask on behalf of another service (EventBridge rules and Scheduler): `input` is a
  // RunTask request whose startedBy may name the caller ("events-rule/nightly").
  virtual api::ApiResult RunTaskFor(const Scope& scope, const Json& input) = 0;
  // Fault injection (docs/chaos.md). Tasks that are live (not STOPPED), ordered by
  // scope and task id.
  virtual std::vector<ChaosTask> ChaosTasks() const = 0;
  // Stops the task as StopTask does, with `stop_code` ("UserInitiated",
  // "SpotInterruption") and `reason`.
  virtual Status ChaosStopTask(const Scope& scope, const std::string& task_id,
                               const std::string& stop_code, const std::string& reason) = 0;
  // Sends `signal` to the process groups of the task's running containers (`container`
  // "" for all of them).
  virtual Status ChaosSignalTask(const Scope& scope, const std::string& task_id,
                                 const std::string& container, int signal) = 0;
  // Kills the container (every essential one when `container` is "") with SIGKILL and
  // reports `exit_code` as its exit code, as if it had crashed with it.
  virtual Status ChaosCrashTask(const Scope& scope, const std::string& task_id,
                                const std::string& container, int exit_code) = 0;
  // Holds the clock until the task's processes have exited (a fault killed them from
  // outside, and their exit is real work in flight).
  virtual void ChaosHoldUntilExit(const Scope& scope, const std::string& task_id) = 0;
  // Starts `workers` CPU burners inside the task (in its first running essential
  // container, as a health check runs), busy `percent` of the time and counted in the
  // task's CPU use; ChaosStopCpuStress (or the task stopping) ends them.
  virtual Status ChaosStartCpuStress(const Scope& scope, const std::string& task_id, int workers,
                                     int percent) = 0;
  virtual void ChaosStopCpuStress(const Scope& scope, const std::string& task_id) = 0;
  // Grows a process inside the task until its container's memory limit; when the
  // kernel's OOM killer ends it, the container is OOM-killed (exit 137, OutOfMemoryError).
  virtual Status ChaosStartMemoryStress(const Scope& scope, const std::string& task_id) = 0;
  virtual void ChaosStopMemoryStress(const Scope& scope, const std::string& task_id) = 0;
  // Process group ids of the task's running containers.
  virtual std::vector<int> ChaosProcessGroups(const Scope& scope, const std::string& task_id,
                                              const std::string& container) const = 0;
  virtual void SetTaskNetworks(std::function<Result<std::vector<uint64_t>>(int pid)> open,
                               std::function<void(const std::vector<uint64_t>&)> close) = 0;
  // Containers on the host network get the hosts file `refresh` brings up to date and
  // names, bound over their /etc/hosts.
  virtual void SetHostNetworkHosts(std::function<std::string()> refresh) = 0;
  // The hosts file of the task whose network namespace process `pid` holds ("" when
  // none), for containers that join that namespace with a root filesystem of their own.
  virtual void SetTaskHostsFile(std::function<std::string(int pid)> hosts_file) = 0;
};

}  // namespace understudy::ecs
