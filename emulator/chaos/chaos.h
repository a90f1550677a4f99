// Chaos: fault injection with AWS FIS's vocabulary (docs/chaos.md).
//
// Experiment templates and experiments on the FIS API (restJson1 on the front door)
// and on /_understudy/chaos/experiments. An experiment resolves its targets when it
// starts, every random choice drawn from its own stream (forked from the run's seed by
// experiment id), then runs its actions in startAfter order on the clock: an action
// with a duration ends (and undoes its fault) when that much clock time has passed, so
// a virtual clock collapses it. Resolved targets and every action's start and end go
// to the journal and to the experiment's timeline. Stop conditions watch CloudWatch
// alarms. Kept in memory: a restarted emulator has no experiments. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/control_api.h"
#include "api/front_door.h"
#include "chaos/api_faults.h"
#include "chaos/experiment.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "ecs/ecs.h"
#include "elb/data_plane.h"
#include "elb/target_health.h"
#include "events/delivery.h"

namespace understudy::chaos {

// What actions reach (the app wires these to ECS and CloudWatch). Unset members: no
// tasks, and every alarm is unknown.
struct ChaosHooks {
  std::function<std::vector<ecs::ChaosTask>()> tasks;
  std::function<Status(const Scope&, const std::string& task_id, const std::string& stop_code,
                       const std::string& reason)>
      stop_task;
  std::function<Status(const Scope&, const std::string& task_id, const std::string& container,
                       int signal)>
      signal_task;
  std::function<Status(const Scope&, const std::string& task_id, const std::string& container,
                       int exit_code)>
      crash_task;
  std::function<std::vector<int>(const Scope&, const std::string& task_id,
                                 const std::string& container)>
      process_groups;
  // CPU burners inside a task (aws:ecs:task-cpu-stress), and their end.
  std::function<Status(const Scope&, const std::string& task_id, int workers, int percent)>
      start_cpu_stress;
  std::function<void(const Scope&, const std::string& task_id)> stop_cpu_stress;
  // A process growing inside a task until its memory limit (understudy:ecs:task-memory-stress).
  std::function<Status(const Scope&, const std::string& task_id)> start_memory_stress;
  std::function<void(const Scope&, const std::string& task_id)> stop_memory_stress;
  // Holds the clock until the task's killed processes have exited.
  std::function<void(const Scope&, const std::string& task_id)> hold_until_exit;
  // The ALB's data plane and health checker: the traffic faults and forced health-check
  // failures in force, replaced whole on every change.
  std::function<void(std::vector<elb::TrafficFault>)> set_traffic_faults;
  std::function<void(std::vector<elb::TargetKey>)> set_health_failures;
  // EventBridge and Scheduler target invocations: the fault consulted before each attempt.
  std::function<void(events::DeliveryFault)> set_delivery_fault;
  // SES's SMTP endpoint: the reply to RCPT TO for a recipient, consulted for each one.
  std::function<void(std::function<std::optional<std::string>(const std::string& address)>)>
      set_smtp_fault;
  // Where control-API experiments act unless the body names "account" and "region"
  // (the emulator's --account-id and --region).
  Scope default_scope{"000000000000", "us-east-1"};
  // The state of the alarm named `name` ("OK", "ALARM", "INSUFFICIENT_DATA"), or nothing.
  std::function<std::optional<std::string>(const Scope&, const std::string& name)> alarm_state;
};

class Chaos {
 public:
  // `random` is the run's generator: chaos forks its own stream ("chaos") and each
  // experiment one of that ("experiment/<id>").
  Chaos(Clock& clock, Journal& journal, EventBus& bus, Random random, ChaosHooks hooks);
  ~Chaos();
  // Keeps experiment templates in `store` (table chaos_templates) and loads those kept
  // there: they survive a restart with the same --state-dir. Experiments do not.
  Status Open(Store& store);

  // Registers the FIS API, /_understudy/chaos/*, the "chaosExperiment" wait condition
  // ({"id", "status"?}: the experiment reached `status`, or any final state), the reset
  // hook, and the front door's fault hook.
  void Install(api::FrontDoor& front_door, api::ControlApi& control);
  // Stops every experiment (undoing its faults) and forgets templates and experiments.
  Status Reset();

  // Creates and starts an experiment from a template (FIS's shape) or one inline action
  // ({"action", "targets", "parameters", "duration"}); the experiment, or why not.
  std::variant<Json, api::ApiError> StartInline(const Scope& scope, const Json& body);
  // The experiment as the control API shows it (FIS's members plus resolvedTargets,
  // timeline and seed), or nothing.
  std::optional<Json> Describe(const std::string& id) const;

  ApiFaults& api_faults() { return api_faults_; }

 private:
  struct Experiment;
  struct ActionRun;

  api::ApiResult CreateTemplate(const api::RequestContext& ctx, const Json& input);
  api::ApiResult GetTemplate(const api::RequestContext& ctx, const Json& input);
  api::ApiResult ListTemplates(const api::RequestContext& ctx, const Json& input);
  api::ApiResult DeleteTemplate(const api::RequestContext& ctx, const Json& input);
  api::ApiResult StartExperiment(const api::RequestContext& ctx, const Json& input);
  api::ApiResult GetExperiment(const api::RequestContext& ctx, const Json& input);
  api::ApiResult StopExperiment(const api::RequestContext& ctx, const Json& input);
  api::ApiResult ListExperiments(const api::RequestContext& ctx, const Json& input);
  api::ApiResult ListResolvedTargets(const api::RequestContext& ctx, const Json& input);
  api::ApiResult ListActions(const api::RequestContext& ctx, const Json& input);
  api::ApiResult GetAction(const api::RequestContext& ctx, const Json& input);
  api::ApiResult UpdateTemplate(const api::RequestContext& ctx, const Json& input);
  api::ApiResult TagResource(const api::RequestContext& ctx, const Json& input);
  api::ApiResult UntagResource(const api::RequestContext& ctx, const Json& input);
  api::ApiResult ListTagsForResource(const api::RequestContext& ctx, const Json& input);
  // The tags of the template or experiment `arn` names in `scope`, or nullptr.
  Json* TagsOf(const Scope& scope, const std::string& arn);

  // Makes an experiment of `tmpl` and starts it; its id.
  std::string Start(const Scope& scope, const Template& tmpl, const std::string& template_id,
                    const Json& tags);
  void Advance(Experiment& e);
  void StartAction(Experiment& e, const std::string& name);
  void EndAction(Experiment& e, const std::string& name, const std::string& status,
                 const std::string& reason);
  // Ends the experiment: undoes running actions (`action_status`), cancels pending ones.
  void Finish(Experiment& e, const std::string& status, const std::string& reason,
              const std::string& action_status);
  void Record(Experiment& e, Json event);
  void OnBusEvent(const Json& event);
  Json ExperimentJson(const Experiment& e, bool understudy_view) const;
  Json TemplateJson(const std::string& id) const;
  std::string NewId(const std::string& prefix);
  // Applies the action to its targets; the undo to run at its end, or why it failed.
  Result<std::function<void()>> Apply(Experiment& e, const ActionSpec& spec,
                                      const std::string& action_name,
                                      const std::vector<ecs::ChaosTask>& targets);

  Clock& clock_;
  Journal& journal_;
  EventBus& bus_;
  uint64_t run_seed_;
  Random random_;
  ChaosHooks hooks_;
  ApiFaults api_faults_;
  uint64_t bus_subscription_ = 0;
  struct StoredTemplate {
    Scope scope;
    Template tmpl;
    Json input;
    double created = 0;
    double updated = 0;
  };
  std::map<std::string, StoredTemplate> templates_;
  Store* store_ = nullptr;
  // Writes template `id` to the store (or removes it when it is gone).
  Status SaveTemplate(const std::string& id);
  std::map<uint64_t, elb::TrafficFault> traffic_faults_;
  std::map<uint64_t, elb::TargetKey> health_failures_;
  uint64_t next_elb_rule_ = 1;
  struct DeliveryRule {
    std::string source;  // rule or schedule name or ARN; "" = any
    std::string target_arn;
    events::InjectedFailure failure;  // with a delay: understudy:events:delivery-delay
    int64_t fail_first = 0;
    double probability = 1.0;
    Random random{0};
    int64_t matched = 0;
    int64_t applied = 0;
  };
  std::map<uint64_t, DeliveryRule> delivery_rules_;
  uint32_t next_queue_ = 1;  // netfilter queue numbers of network faults (netfault.h)
  struct SmtpRule {
    std::string recipient;  // a pattern with * wildcards, matched case-insensitively
    std::string reply;      // "550 5.1.1 ..."
    int64_t fail_first = 0;
    double probability = 1.0;
    Random random{0};
    int64_t matched = 0;
    int64_t applied = 0;
  };
  std::map<uint64_t, SmtpRule> smtp_rules_;
  std::optional<std::string> DecideSmtp(const std::string& address);
  std::optional<events::InjectedFailure> DecideDelivery(const events::DeliveryRequest& request);
  void PublishElbFaults();
  std::map<std::string, std::unique_ptr<Experiment>> experiments_;
  std::vector<std::string> order_;  // experiment ids, oldest first
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::chaos
