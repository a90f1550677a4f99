// Services: ECS services, their deployments and the scheduler that keeps them.
// Internal to ecs/.
//
// The API half (services.cc) creates, updates, deletes, describes, lists and tags
// services, persisted in `ecs_services` and reloaded at start. The scheduler half
// (service_scheduler.cc) runs on the clock: each service is reconciled when one of
// its tasks changes state (the EventBus's "ECS Task State Change") and on a tick of
// clock time, keeping desiredCount tasks running by the rolling-update arithmetic of
// aws-semantics §2.6, registering tasks in the service's target groups, draining them
// before they stop, replacing unhealthy tasks, and failing (and rolling back)
// deployments by the circuit breaker of §2.7. Events (service_events.cc) are worded
// as ECS words them (§2.9) and published on the bus (§2.12). Loop thread only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

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
#include "ecs/task_definitions.h"
#include "ecs/tasks.h"

namespace understudy::ecs {

class Services {
 public:
  Services(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
           Clusters& clusters, TaskDefinitions& task_definitions, Tasks& tasks, EventBus& bus);
  ~Services();
  // Migrates the table, loads every service and schedules a first reconcile of each
  // (their tasks did not survive the previous run).
  Status Open();
  // Forgets every service (their tasks are Tasks::Reset's).
  Status Reset();
  void set_load_balancing(LoadBalancing lb) { lb_ = std::move(lb); }
  void set_service_discovery(ServiceDiscoveryHooks sd) { sd_ = std::move(sd); }

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Update(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult List(const Scope& scope, const Json& input);
  // ListServicesByNamespace (service_registries.cc).
  api::ApiResult ListByNamespace(const Scope& scope, const Json& input);
  // Tags of a service ARN (the ECS tag operations route service ARNs here).
  api::ApiResult TagResource(const Scope& scope, const Json& input);
  api::ApiResult UntagResource(const Scope& scope, const Json& input);
  api::ApiResult ListTagsForResource(const Scope& scope, const Json& input);
  // Service deployments and revisions (service_deployments.cc).
  api::ApiResult ListServiceDeployments(const Scope& scope, const Json& input);
  api::ApiResult DescribeServiceDeployments(const Scope& scope, const Json& input);
  api::ApiResult DescribeServiceRevisions(const Scope& scope, const Json& input);
  // Rolls an unfinished service deployment back to the last completed one.
  api::ApiResult StopServiceDeployment(const Scope& scope, const Json& input);

  // The service `name_or_arn` of cluster `cluster` (name or ARN) as DescribeServices
  // shows it, or nothing.
  std::optional<Json> Find(const Scope& scope, const std::string& cluster,
                           const std::string& name_or_arn) const;
  // For Application Auto Scaling and CloudWatch: the ACTIVE service's desired and
  // running counts and whether a deployment is in progress; nothing when there is none.
  struct Scale {
    int64_t desired = 0;
    int64_t running = 0;
    bool deploying = false;
  };
  std::optional<Scale> ScaleOf(const Scope& scope, const std::string& cluster,
                               const std::string& service) const;
  // Every running service task: (scope, cluster name, service name, task id).
  std::vector<std::tuple<Scope, std::string, std::string, std::string>> RunningTasks() const;
  // True when the service has one deployment, COMPLETED, with runningCount ==
  // desiredCount and nothing pending or draining.
  bool Steady(const Scope& scope, const std::string& cluster, const std::string& name) const;
  // The lifecycleStage of the service's newest service deployment ("" when it has none).
  std::string LifecycleStage(const Scope& scope, const std::string& cluster,
                             const std::string& name) const;

 private:
  // What the scheduler knows of one of a service's tasks while it lives.
  struct ServiceTask {
    std::string id;
    std::string arn;
    std::string deployment;
    bool running = false;
    TimePoint running_since{};
    bool healthy_seen = false;  // it once counted healthy
    bool stopping = false;      // the scheduler is stopping it (draining, then stop)
    bool leaving = false;       // stopping for another reason (StopTask, a fault, an exit)
    bool registered = false;
    std::string capacity_provider;
    int settle_attempts = 0;
    bool settling = false;  // waiting for its port to accept connections
    bool settled = false;   // its port accepts (or never will); targets not registered yet
    std::vector<std::tuple<std::string, std::string, int>> targets;  // (tg, id, port)
    Hold hold;  // held from launch until the task settles (its port accepts) or stops
    std::shared_ptr<bool> settle_alive;
    TimerId drain_timer = 0;
  };
  struct Record {
    Scope scope;
    Json doc;                                  // the Service shape; internal fields start with '_'
    std::map<std::string, ServiceTask> tasks;  // by task id
    TimerId tick = 0;
    bool steady = false;
    int64_t replaced_unhealthy = 0;  // told in the next "has started" event
    bool stall_reported = false;
    bool reloaded = false;  // loaded at start: its previous targets are deregistered first
    // The service throttle (aws-semantics §2.6): tasks of the PRIMARY deployment that
    // stopped without reaching RUNNING in a row, and when the next may be launched.
    int start_failures = 0;
    TimePoint launch_after{};
    bool throttle_reported = false;
    void ResetThrottle() {
      start_failures = 0;
      launch_after = TimePoint{};
      throttle_reported = false;
    }
  };
  // account, region, cluster ARN, service name
  using Key = std::tuple<std::string, std::string, std::string, std::string>;

  // services.cc
  Record* FindRecord(const Scope& scope, const std::string& cluster,
                     const std::string& name_or_arn);
  const Record* FindRecord(const Scope& scope, const std::string& cluster,
                           const std::string& name_or_arn) const;
  Status Save(const Key& key);
  Json View(const Record& record, bool with_tags) const;
  // Checks loadBalancers against the task definition and the ALB; the error or nothing.
  std::optional<api::ApiError> CheckLoadBalancers(const Scope& scope, const Json& lbs,
                                                  const Json& definition) const;
  std::optional<api::ApiError> CheckDeploymentConfiguration(const Json& config) const;
  // A new PRIMARY deployment of the service as it is configured now.
  Json NewDeployment(const Record& record);

  // service_scheduler.cc
  void OnTaskEvent(const Json& event);
  // Reconciles soon (on the next loop turn), holding the clock until then.
  void Kick(const Key& key);
  void Reconcile(const Key& key);
  void ScheduleTick(const Key& key);
  void Launch(const Key& key, Record& record, int64_t count);
  // Starts stopping a task: deregisters it, drains, then stops it.
  // `stops`: (task id, stoppedReason).
  void Retire(const Key& key, Record& record,
              const std::vector<std::pair<std::string, std::string>>& stops);
  bool Healthy(const Record& record, const ServiceTask& task) const;
  // Why a RUNNING task must be replaced (stoppedReason, event text; empty when it
  // need not): a failed container health check or an unhealthy target after the
  // grace period.
  std::pair<std::string, std::string> Unhealthy(const Record& record,
                                                const ServiceTask& task) const;
  void OnRunning(const Key& key, Record& record, ServiceTask& task);
  void OnStopped(const Key& key, Record& record, const std::string& task_id);
  void Settle(const Key& key, const std::string& task_id);
  // Registers `task`'s targets with their target groups (once its port accepts).
  void RegisterTargets(const Key& key, Record& record, ServiceTask& task);
  // Once no service task is settling any more, registers the targets of every settled
  // one, in the order of services and task ids (not in the real order their ports
  // opened), releases their holds and kicks their services.
  void FlushSettled();
  void UpdateCounts(Record& record);
  // Fails the PRIMARY deployment and rolls back when `rollback` (default: the circuit
  // breaker's setting); `reason` is its rolloutStateReason, `event` the service event.
  void TripBreaker(const Key& key, Record& record, const std::string& reason = "",
                   const std::string& event = "", std::optional<bool> rollback = std::nullopt);
  // A CloudWatch alarm of deploymentConfiguration.alarms went to ALARM (§2.7).
  void OnAlarmEvent(const Json& event);
  // Makes the last COMPLETED deployment PRIMARY again (reusing its id) and the
  // current one ACTIVE; `reason` goes to the service deployment's rollback.
  void RollBack(const Key& key, Record& record, const std::string& reason, bool breaker);
  bool HasHealthCheck(const Scope& scope, const std::string& task_definition) const;

  // service_deployments.cc: the service deployment and revision beside each deployment.
  std::string ServiceResourceArn(const Record& record, const std::string& type,
                                 const std::string& id) const;
  // Records a new deployment (already in deployments[]): its revision, and a service
  // deployment IN_PROGRESS that supersedes any unfinished one.
  void OpenServiceDeployment(Record& record, const Json& deployment);
  void ServiceDeploymentCompleted(Record& record, const std::string& deployment_id);
  // The deployment failed (circuit breaker) or is being stopped; `rollback_to` is the
  // deployment it rolls back to, empty when it does not.
  void ServiceDeploymentFailed(Record& record, const std::string& deployment_id,
                               const std::string& reason, const std::string& rollback_to,
                               bool breaker);
  std::string RevisionArnOf(const Record& record, const std::string& deployment_id) const;
  Json* ServiceDeploymentOf(Record& record, const std::string& deployment_id,
                            const std::string& status);
  Json RevisionSummary(const Record& record, const std::string& deployment_id,
                       const std::string& arn) const;
  // Fixes the revision counts of a finished service deployment.
  void FreezeServiceDeployment(const Record& record, Json& sd) const;
  Json ServiceDeploymentView(const Record& record, const Json& sd) const;

  // service_traffic_shift.cc: BLUE_GREEN, LINEAR and CANARY deployments.
  static bool ShiftsTraffic(const Json& service);
  std::optional<api::ApiError> CheckTrafficShift(const Scope& scope, const Json& config,
                                                 const Json& lbs) const;
  // The target group of each loadBalancers[] item a new deployment's tasks register in.
  Json TrafficShiftTargetGroups(const Record& record) const;
  // The target group tasks of deployment `deployment_id` use for loadBalancers[lb_index].
  std::string TargetGroupOf(const Record& record, const std::string& deployment_id,
                            size_t lb_index) const;
  void SetStage(Record& record, Json& primary, const std::string& stage);
  // Points `rule_field` ("productionListenerRule", "testListenerRule") of every load
  // balancer at the PRIMARY deployment's group with `green_weight` percent.
  Status RouteProduction(Record& record, const Json& primary, int green_weight,
                         const char* rule_field);
  // Moves the PRIMARY deployment through its lifecycle stages as far as it can now;
  // true once it has reached CLEAN_UP (the old tasks may go) or completed.
  bool AdvanceTrafficShift(Record& record, bool scaled_up);

  // service_registries.cc: Cloud Map registration of a service's tasks (§2.14).
  // Checks serviceRegistries against Cloud Map and the task definition.
  std::optional<api::ApiError> CheckServiceRegistries(const Scope& scope, const Json& registries,
                                                      const Json& definition) const;
  void RegisterInstances(Record& record, const ServiceTask& task);
  void DeregisterInstances(Record& record, const std::string& task_id);
  // Reports a task's healthStatus to registries with a custom health check.
  void ReportInstanceHealth(Record& record, const std::string& task_id, const std::string& health);
  // Instances the previous run's tasks left in the service's registries.
  void DeregisterLeftoverInstances(Record& record);

  // service_events.cc
  // Adds "(service <name>) <text>" to the service's events (newest first, ≤100).
  void AddEvent(Record& record, const std::string& text);
  // Adds `message` as it is.
  void AddRawEvent(Record& record, const std::string& message);
  void PublishServiceAction(const Record& record, const std::string& event_type,
                            const std::string& event_name);
  void PublishDeploymentChange(const Record& record, const std::string& event_type,
                               const std::string& event_name, const std::string& deployment_id,
                               const std::string& reason);

  EventLoop& loop_;
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  Clusters& clusters_;
  TaskDefinitions& task_definitions_;
  Tasks& tasks_;
  EventBus& bus_;
  LoadBalancing lb_;
  ServiceDiscoveryHooks sd_;
  uint64_t subscription_ = 0;
  std::map<Key, Record> services_;
  std::map<Key, Hold> kicks_;  // services with a reconcile posted, holding the clock
  std::map<std::pair<std::string, std::string>, Key> by_task_;  // (account, task id) -> service
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::ecs
