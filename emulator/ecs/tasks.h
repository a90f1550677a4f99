// Tasks: ECS tasks run as real containers through a TaskRuntime. Internal to ecs/.
//
// RunTask creates tasks in PROVISIONING and walks them through ECS's lifecycle on
// the clock: PENDING (pull), RUNNING once every container started, and on a stop
// (StopTask, or an essential container exiting) DEACTIVATING, STOPPING (SIGTERM,
// then SIGKILL after stopTimeout of clock time), DEPROVISIONING and STOPPED, with
// stopCode, stoppedReason, exit codes and timestamps as ECS reports them. A
// standalone task holds the clock until it exits. Tasks are kept in memory and
// written through to `ecs_tasks`; tasks found running at start are marked STOPPED
// (their processes died with the previous emulator). Every change of a task's or a
// container's status is published on the EventBus as "ECS Task State Change".
// Loop thread only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "ecs/clusters.h"
#include "ecs/ecs.h"
#include "ecs/image_map.h"
#include "ecs/task_definitions.h"
#include "logs/logs.h"
#include "runtime/task_runtime.h"

namespace understudy::ecs {

// What every container is told about the emulator (brief §6), and the local
// stand-ins for what images and secret stores would supply.
struct TaskEnvironment {
  std::string aws_endpoint;  // AWS_ENDPOINT_URL
  ImageMap images;           // --images
  SecretStore secrets;       // --secrets
  // awsvpc tasks get their own network namespace when true; otherwise they fall back
  // to bridge-style ports on the host network.
  bool network_namespaces = false;
  // Serves the emulator (AWS endpoint, metadata at 169.254.170.2) inside the network
  // namespace of process `pid`; returns listener ids for `close_task_endpoints`.
  std::function<Result<std::vector<uint64_t>>(int pid)> open_task_endpoints;
  std::function<void(const std::vector<uint64_t>&)> close_task_endpoints;
  // Checks the subnets and security groups of awsvpc tasks (task_network.h).
  NetworkLookup network;
  // Containers on the host network (bridge, host, awsvpc without namespaces): brings the
  // emulator's hosts file up to date and returns its path, bound over their /etc/hosts;
  // unset or "": they keep the host's.
  std::function<std::string()> host_network_hosts;
  // awsvpc tasks: the hosts file of the task whose namespace process `pid` holds, for
  // containers with a root filesystem of their own (docker); unset or "": none.
  std::function<std::string(int pid)> task_hosts_file;
};

class Tasks {
 public:
  Tasks(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
        Clusters& clusters, TaskDefinitions& task_definitions, runtime::TaskRuntime& runtime,
        logs::LogSink& logs, EventBus& bus);
  ~Tasks();
  Status Open();
  // Stops every task at once (SIGKILL) and forgets them all.
  Status Reset();
  void set_environment(TaskEnvironment environment) { environment_ = std::move(environment); }
  TaskEnvironment& environment() { return environment_; }

  api::ApiResult Run(const Scope& scope, const Json& input);
  api::ApiResult Stop(const Scope& scope, const Json& input);
  // StartTask places tasks on named container instances; understudy models none (the
  // machine itself runs every task), so each one is reported MISSING. Use RunTask.
  api::ApiResult Start(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult List(const Scope& scope, const Json& input);

  // For the service scheduler (services.h). RunForService is RunTask for a service's
  // task: `startedBy` may be a deployment id, and the task does not hold the clock
  // (the scheduler holds it while the task settles). Deactivate marks a RUNNING task
  // DEACTIVATING with desiredStatus STOPPED, `stop_code` and `reason` while its
  // targets drain; StopForService then stops it (SIGTERM, ...). Both do nothing for
  // a task that is not live.
  api::ApiResult RunForService(const Scope& scope, const Json& input);
  // RunTask for another service (EventBridge): its startedBy ("events-rule/x") is not
  // held to the public API's character rule.
  api::ApiResult RunForCaller(const Scope& scope, const Json& input);
  void Deactivate(const Scope& scope, const std::string& task_id, const std::string& stop_code,
                  const std::string& reason);
  void StopForService(const Scope& scope, const std::string& task_id, const std::string& stop_code,
                      const std::string& reason);
  // The task with id `task_id` in `scope` (any cluster), or nullptr.
  const Json* FindById(const Scope& scope, const std::string& task_id) const;

  // The task metadata endpoint v4 (and v3): `path` is what follows
  // /_understudy/task-metadata/v4/ — "<container id>", "<id>/task", "<id>/taskWithTags",
  // "<id>/stats" or "<id>/task/stats". NotFound for unknown ids and paths.
  Result<Json> Metadata(const std::string& path);
  // The pid holding the network namespace of the running task with private address
  // `address` (an awsvpc task in a namespace of its own); nothing for any other.
  std::optional<int> NamespaceFor(const std::string& address) const;
  // The container ports the running task whose namespace process `pid` holds maps.
  std::vector<int> PortsInNamespace(int pid) const;

  // The task `id_or_arn` of `cluster` names, or nullptr.
  const Json* Find(const Scope& scope, const std::string& cluster,
                   const std::string& id_or_arn) const;
  // Resource use of a live task, summed over its running containers, and what it
  // reserves (task-level cpu and memory, else the containers' sums; no reservation
  // counts as one vCPU / nothing); nothing once it is not live.
  struct Usage {
    uint64_t cpu_ns = 0;
    uint64_t system_cpu_ns = 0;
    int online_cpus = 1;
    uint64_t memory_bytes = 0;
    double reserved_vcpus = 0;
    double reserved_memory_mib = 0;
  };
  std::optional<Usage> UsageOf(const Scope& scope, const std::string& task_id);
  // Fault injection (ecs.h).
  std::vector<ChaosTask> ChaosTasks() const;
  Status ChaosStop(const Scope& scope, const std::string& task_id, const std::string& stop_code,
                   const std::string& reason);
  Status ChaosSignal(const Scope& scope, const std::string& task_id, const std::string& container,
                     int signal);
  Status ChaosCrash(const Scope& scope, const std::string& task_id, const std::string& container,
                    int exit_code);
  void ChaosHoldUntilExit(const Scope& scope, const std::string& task_id);
  Status ChaosStartCpuStress(const Scope& scope, const std::string& task_id, int workers,
                             int percent);
  void ChaosStopCpuStress(const Scope& scope, const std::string& task_id);
  Status ChaosStartMemoryStress(const Scope& scope, const std::string& task_id);
  void ChaosStopMemoryStress(const Scope& scope, const std::string& task_id);
  std::vector<int> ChaosProcessGroups(const Scope& scope, const std::string& task_id,
                                      const std::string& container) const;
  // (running, pending) counts of a cluster, for DescribeClusters.
  std::pair<int64_t, int64_t> Counts(const Scope& scope, const std::string& cluster_arn) const;

 private:
  struct Live;  // runtime state of a task that has not stopped
  using Key = std::tuple<std::string, std::string, std::string>;  // account, region, task id

  // An address in 10.0.0.0/16 no live task holds, for a task with a namespace of its own.
  std::string NextTaskAddress();
  static std::string PrivateDnsName(const std::string& address);  // "ip-10-0-0-4.ec2.internal"
  static std::string TaskAddress(const Json& task);  // its ENI's address; 127.0.0.1 without one
  api::ApiResult Launch(const Scope& scope, const Json& input, bool for_service,
                        bool trusted_started_by = false);
  void Advance(const Key& key);  // moves a task to its next state when it can
  void StartContainers(const Key& key);
  // Starts every container whose dependsOn conditions hold; RUNNING once all have started.
  void Progress(const Key& key);
  // Starts container `index` of the definition; the failure reason, or "" when started.
  std::string StartContainer(const Key& key, size_t index);
  // The command, environment and working directory container `c` runs with.
  Result<runtime::ContainerSpec> BuildSpec(const Key& key, const Json& c);
  // Container health checks: a probe every `interval` of clock time from `from`.
  void ScheduleHealthCheck(const Key& key, const std::string& container, TimePoint from);
  void RunHealthCheck(const Key& key, const std::string& container);
  void OnHealthResult(const Key& key, const std::string& container, bool passed);
  void UpdateTaskHealth(const Key& key);
  // A process to run `argv` inside the task's first running essential container (a
  // stress fault), named after it with `suffix`.
  Result<runtime::ContainerSpec> ChaosExecSpec(const Key& key, const Live& live,
                                               std::vector<std::string> argv,
                                               const std::string& suffix);
  // Ends a CPU stress fault's burners.
  void StopStress(Live& live);
  void BeginStop(const Key& key, const std::string& stop_code, const std::string& reason);
  void OnContainerExit(const Key& key, const std::string& container,
                       const runtime::ContainerExit& exit);
  // Exits of stopping tasks are applied in task and container order, not in the order the
  // processes really ended: they wait until no stopping task has a container still
  // running, or until the clock moves on (the same seed gives the same journal).
  void DeferExit(const Key& key, const std::string& container, const runtime::ContainerExit& exit);
  void ApplyDeferredExits();
  void SetStatus(const Key& key, const std::string& status);
  // Ends the task's network namespace: its endpoints' listeners and its pause process.
  void ReleaseNetwork(const Key& key);
  // Remembers a started process in the store, so an emulator that was SIGKILLed can be
  // followed by one that ends what it left (Open); forgets it once it has exited.
  void RecordProcess(const Key& key, const runtime::ContainerHandle& handle);
  // The task's failure reason for a container the runtime could not start.
  std::string StartFailure(const Status& status, const std::string& prefix) const;
  // Whether the task's containers are on an engine's bridge network (bridge mode, or
  // awsvpc without namespaces, with a runtime that runs images).
  bool BridgeContainers(const Json& definition) const;
  void ForgetProcess(const runtime::ContainerHandle& handle);
  // True when the task runs in a network namespace of its own.
  bool Namespaced(const Json& definition) const;
  // Publishes "ECS Task State Change" for the task as it is now.
  void PublishChange(const Key& key);
  Status Save(const Key& key);
  Json* Doc(const Key& key);

  EventLoop& loop_;
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  Clusters& clusters_;
  TaskDefinitions& task_definitions_;
  runtime::TaskRuntime& runtime_;
  logs::LogSink& logs_;
  EventBus& bus_;
  TaskEnvironment environment_;
  std::map<Key, Json> tasks_;
  std::map<Key, std::unique_ptr<Live>> live_;
  std::map<Key, std::map<std::string, runtime::ContainerExit>> deferred_exits_;
  TimerId deferred_exits_timer_ = 0;
  uint32_t next_address_ = 0;  // NextTaskAddress's position in 10.0.0.0/16
  // Container ids of the metadata endpoint ("<task id>-<10 digits>") -> task and container.
  std::map<std::string, std::pair<Key, std::string>> metadata_ids_;
  std::map<std::pair<Key, std::string>, std::string> metadata_id_of_;  // the other way
  std::string MetadataId(const Key& key, const std::string& container) const;
  Json ContainerMetadata(const Key& key, const std::string& container);
  Json StatsDocument(const Key& key, const std::string& container);
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::ecs
