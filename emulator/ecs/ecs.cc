#include "ecs/ecs.h"

#include "ecs/clusters.h"
#include "ecs/services.h"
#include "ecs/task_definitions.h"
#include "ecs/tasks.h"

namespace understudy::ecs {
namespace {

class EcsImpl final : public Ecs {
 public:
  EcsImpl(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
          runtime::TaskRuntime& runtime, logs::LogSink& logs, EventBus& bus)
      : clusters_(store, journal, clock),
        task_definitions_(store, journal, clock),
        tasks_(loop, store, journal, clock, random, clusters_, task_definitions_, runtime, logs,
               bus),
        services_(loop, store, journal, clock, random.Fork("services"), clusters_,
                  task_definitions_, tasks_, bus) {
    clusters_.SetTaskCounter(
        [this](const Scope& scope, const std::string& arn) { return tasks_.Counts(scope, arn); });
  }

  Status Open() {
    US_RETURN_IF_ERROR(clusters_.Open());
    US_RETURN_IF_ERROR(task_definitions_.Open());
    US_RETURN_IF_ERROR(tasks_.Open());
    return services_.Open();
  }

  // Ecs
  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op, api::ApiResult (Clusters::*method)(const Scope&, const Json&)) {
      front_door.Register("ecs", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (clusters_.*method)(ctx.scope, input);
                          });
    };
    add("CreateCluster", &Clusters::Create);
    add("DescribeClusters", &Clusters::Describe);
    add("ListClusters", &Clusters::List);
    add("DeleteCluster", &Clusters::Delete);
    add("UpdateCluster", &Clusters::Update);
    add("UpdateClusterSettings", &Clusters::UpdateSettings);
    add("PutClusterCapacityProviders", &Clusters::PutCapacityProviders);
    // Tags: service ARNs go to the services, every other ARN to the clusters.
    auto add_tags = [&](const char* op,
                        api::ApiResult (Clusters::*on_cluster)(const Scope&, const Json&),
                        api::ApiResult (Services::*on_service)(const Scope&, const Json&)) {
      front_door.Register(
          "ecs", op,
          [this, on_cluster, on_service](const api::RequestContext& ctx, const Json& input) {
            std::string arn = input.value("resourceArn", "");
            if (arn.find(":service/") != std::string::npos)
              return (services_.*on_service)(ctx.scope, input);
            return (clusters_.*on_cluster)(ctx.scope, input);
          });
    };
    add_tags("TagResource", &Clusters::TagResource, &Services::TagResource);
    add_tags("UntagResource", &Clusters::UntagResource, &Services::UntagResource);
    add_tags("ListTagsForResource", &Clusters::ListTagsForResource, &Services::ListTagsForResource);
    auto add_service = [&](const char* op,
                           api::ApiResult (Services::*method)(const Scope&, const Json&)) {
      front_door.Register("ecs", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (services_.*method)(ctx.scope, input);
                          });
    };
    add_service("CreateService", &Services::Create);
    add_service("UpdateService", &Services::Update);
    add_service("DeleteService", &Services::Delete);
    add_service("DescribeServices", &Services::Describe);
    add_service("ListServices", &Services::List);
    add_service("ListServiceDeployments", &Services::ListServiceDeployments);
    add_service("DescribeServiceDeployments", &Services::DescribeServiceDeployments);
    add_service("DescribeServiceRevisions", &Services::DescribeServiceRevisions);
    add_service("StopServiceDeployment", &Services::StopServiceDeployment);
    add_service("ListServicesByNamespace", &Services::ListByNamespace);
    control.AddCondition(
        "ecsService", [this](const Scope& scope, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || !params.contains("service") ||
              !params["service"].is_string() ||
              (params.contains("steady") && !params["steady"].is_boolean()) ||
              (params.contains("status") && !params["status"].is_string()) ||
              (params.contains("cluster") && !params["cluster"].is_string()) ||
              (params.contains("lifecycleStage") && !params["lifecycleStage"].is_string())) {
            return Status::InvalidArgument(
                "expected {\"service\": \"<name or ARN>\", \"cluster\": \"<name>\", "
                "\"steady\": true | false, \"status\": \"ACTIVE\" | \"DRAINING\" | "
                "\"INACTIVE\", \"lifecycleStage\": \"BAKE_TIME\" | ...}");
          }
          std::string service = params["service"].get<std::string>();
          std::string cluster = params.value("cluster", "default");
          std::string want_status = params.value("status", "");
          std::string want_stage = params.value("lifecycleStage", "");
          std::optional<bool> want_steady;
          if (params.contains("steady")) want_steady = params["steady"].get<bool>();
          if (!want_steady && want_status.empty() && want_stage.empty()) want_steady = true;
          auto current = [this, scope, cluster, service]() -> Json {
            auto s = services_.Find(scope, cluster, service);
            if (!s) return Json{{"service", service}, {"status", "MISSING"}};
            Json deployments = Json::array();
            for (const auto& d : (*s)["deployments"]) {
              deployments.push_back(Json{{"id", d["id"]},
                                         {"status", d["status"]},
                                         {"rolloutState", d.value("rolloutState", "")},
                                         {"runningCount", d["runningCount"]}});
            }
            return Json{{"service", service},
                        {"status", (*s)["status"]},
                        {"desiredCount", (*s)["desiredCount"]},
                        {"runningCount", (*s)["runningCount"]},
                        {"pendingCount", (*s)["pendingCount"]},
                        {"steady", services_.Steady(scope, cluster, service)},
                        {"lifecycleStage", services_.LifecycleStage(scope, cluster, service)},
                        {"deployments", deployments}};
          };
          return api::WaitCondition{
              [current, want_status, want_steady, want_stage] {
                Json now = current();
                return (want_status.empty() || now["status"] == want_status) &&
                       (want_stage.empty() || now["lifecycleStage"] == want_stage) &&
                       (!want_steady || now.value("steady", false) == *want_steady);
              },
              current};
        });
    auto add_td = [&](const char* op,
                      api::ApiResult (TaskDefinitions::*method)(const Scope&, const Json&)) {
      front_door.Register("ecs", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (task_definitions_.*method)(ctx.scope, input);
                          });
    };
    add_td("RegisterTaskDefinition", &TaskDefinitions::Register);
    add_td("DescribeTaskDefinition", &TaskDefinitions::Describe);
    add_td("ListTaskDefinitions", &TaskDefinitions::List);
    add_td("ListTaskDefinitionFamilies", &TaskDefinitions::ListFamilies);
    add_td("DeregisterTaskDefinition", &TaskDefinitions::Deregister);
    add_td("DeleteTaskDefinitions", &TaskDefinitions::Delete);
    auto add_task = [&](const char* op,
                        api::ApiResult (Tasks::*method)(const Scope&, const Json&)) {
      front_door.Register("ecs", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (tasks_.*method)(ctx.scope, input);
                          });
    };
    add_task("RunTask", &Tasks::Run);
    add_task("StopTask", &Tasks::Stop);
    add_task("StartTask", &Tasks::Start);
    add_task("DescribeTasks", &Tasks::Describe);
    add_task("ListTasks", &Tasks::List);
    control.AddCondition(
        "ecsTask", [this](const Scope& scope, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || !params.contains("task") || !params["task"].is_string()) {
            return Status::InvalidArgument(
                "expected {\"task\": \"<id or ARN>\", \"cluster\": \"<name>\", "
                "\"lastStatus\": \"RUNNING\" | \"STOPPED\" | ..., \"healthStatus\": \"HEALTHY\" | "
                "...}");
          }
          std::string task = params["task"].get<std::string>();
          std::string cluster = params.value("cluster", "default");
          // lastStatus defaults to RUNNING unless only healthStatus is asked for.
          std::string want =
              params.value("lastStatus", params.contains("healthStatus") ? "" : "RUNNING");
          std::string want_health = params.value("healthStatus", "");
          auto current = [this, scope, cluster, task]() -> Json {
            const Json* t = tasks_.Find(scope, cluster, task);
            if (t == nullptr) return Json{{"task", task}, {"lastStatus", "MISSING"}};
            return Json{{"task", task},
                        {"lastStatus", (*t)["lastStatus"]},
                        {"healthStatus", t->value("healthStatus", "UNKNOWN")}};
          };
          return api::WaitCondition{
              [current, want, want_health] {
                Json now = current();
                return (want.empty() || now["lastStatus"] == want) &&
                       (want_health.empty() || now.value("healthStatus", "") == want_health);
              },
              current};
        });
    control.AddResetHook([this] { return Reset(); });
    // On the emulator's endpoint, and at ECS's own paths for tasks in their own namespace
    // (reached there as http://169.254.170.2/v4/...).
    for (const std::string prefix :
         {"/_understudy/task-metadata/v3/", "/_understudy/task-metadata/v4/", "/v3/", "/v4/"}) {
      {
        front_door.RegisterInternalPrefix(
            "GET", prefix, [this, prefix](const api::HttpRequest& request, api::HttpReply reply) {
              auto doc = tasks_.Metadata(request.path.substr(prefix.size()));
              if (!doc.ok())
                return reply(api::ControlError(404, "NotFound", doc.status().message()));
              reply(api::JsonResponse(200, *doc));
            });
      }
    }
    control.AddCondition(
        "ecsCluster", [this](const Scope& scope, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || !params.contains("cluster") ||
              !params["cluster"].is_string()) {
            return Status::InvalidArgument(
                "expected {\"cluster\": \"<name or ARN>\", \"status\": "
                "\"ACTIVE\" | \"INACTIVE\"}");
          }
          std::string cluster = params["cluster"].get<std::string>();
          std::string status = params.value("status", "ACTIVE");
          if (status != "ACTIVE" && status != "INACTIVE") {
            return Status::InvalidArgument("\"status\" must be ACTIVE or INACTIVE, found '" +
                                           status + "'");
          }
          auto current = [this, scope, cluster]() -> std::string {
            const Json* c = clusters_.Find(scope, cluster);
            return c == nullptr ? "MISSING" : (*c)["status"].get<std::string>();
          };
          return api::WaitCondition{[current, status] { return current() == status; },
                                    [current, cluster] {
                                      return Json{{"cluster", cluster}, {"status", current()}};
                                    }};
        });
  }

  Status Reset() override {
    US_RETURN_IF_ERROR(services_.Reset());
    US_RETURN_IF_ERROR(tasks_.Reset());
    US_RETURN_IF_ERROR(clusters_.Reset());
    return task_definitions_.Reset();
  }

  api::ApiResult RunTaskFor(const Scope& scope, const Json& input) override {
    return tasks_.RunForCaller(scope, input);
  }
  void SetEndpoint(const std::string& endpoint) override {
    tasks_.environment().aws_endpoint = endpoint;
  }
  TaskEnvironment& environment() { return tasks_.environment(); }
  Services& services() { return services_; }
  std::optional<int> TaskNamespaceForAddress(const std::string& address) const override {
    return tasks_.NamespaceFor(address);
  }
  std::optional<ServiceScale> FindServiceScale(const Scope& scope, const std::string& cluster,
                                               const std::string& service) const override {
    auto scale = services_.ScaleOf(scope, cluster, service);
    if (!scale) return std::nullopt;
    return ServiceScale{scale->desired, scale->running, scale->deploying};
  }
  Status SetServiceDesiredCount(const Scope& scope, const std::string& cluster,
                                const std::string& service, int64_t desired) override {
    api::ApiResult result = services_.Update(
        scope, Json{{"cluster", cluster}, {"service", service}, {"desiredCount", desired}});
    if (!result.ok()) return Status::FailedPrecondition(result.error().message);
    return Status::Ok();
  }
  std::vector<ServiceTaskUsage> SampleServiceTasks() override {
    std::vector<ServiceTaskUsage> out;
    for (const auto& [scope, cluster, service, task_id] : services_.RunningTasks()) {
      auto usage = tasks_.UsageOf(scope, task_id);
      if (!usage) continue;
      out.push_back(ServiceTaskUsage{scope, cluster, service, task_id, usage->cpu_ns,
                                     usage->system_cpu_ns, usage->online_cpus, usage->memory_bytes,
                                     usage->reserved_vcpus, usage->reserved_memory_mib});
    }
    return out;
  }
  std::vector<int> TaskPortsInNamespace(int pid) const override {
    return tasks_.PortsInNamespace(pid);
  }
  std::vector<ChaosTask> ChaosTasks() const override { return tasks_.ChaosTasks(); }
  Status ChaosStopTask(const Scope& scope, const std::string& task_id, const std::string& stop_code,
                       const std::string& reason) override {
    return tasks_.ChaosStop(scope, task_id, stop_code, reason);
  }
  Status ChaosSignalTask(const Scope& scope, const std::string& task_id,
                         const std::string& container, int signal) override {
    return tasks_.ChaosSignal(scope, task_id, container, signal);
  }
  Status ChaosCrashTask(const Scope& scope, const std::string& task_id,
                        const std::string& container, int exit_code) override {
    return tasks_.ChaosCrash(scope, task_id, container, exit_code);
  }
  void ChaosHoldUntilExit(const Scope& scope, const std::string& task_id) override {
    tasks_.ChaosHoldUntilExit(scope, task_id);
  }
  Status ChaosStartCpuStress(const Scope& scope, const std::string& task_id, int workers,
                             int percent) override {
    return tasks_.ChaosStartCpuStress(scope, task_id, workers, percent);
  }
  void ChaosStopCpuStress(const Scope& scope, const std::string& task_id) override {
    tasks_.ChaosStopCpuStress(scope, task_id);
  }
  Status ChaosStartMemoryStress(const Scope& scope, const std::string& task_id) override {
    return tasks_.ChaosStartMemoryStress(scope, task_id);
  }
  void ChaosStopMemoryStress(const Scope& scope, const std::string& task_id) override {
    tasks_.ChaosStopMemoryStress(scope, task_id);
  }
  std::vector<int> ChaosProcessGroups(const Scope& scope, const std::string& task_id,
                                      const std::string& container) const override {
    return tasks_.ChaosProcessGroups(scope, task_id, container);
  }
  void SetTaskNetworks(std::function<Result<std::vector<uint64_t>>(int pid)> open,
                       std::function<void(const std::vector<uint64_t>&)> close) override {
    tasks_.environment().network_namespaces = true;
    tasks_.environment().open_task_endpoints = std::move(open);
    tasks_.environment().close_task_endpoints = std::move(close);
  }
  void SetHostNetworkHosts(std::function<std::string()> refresh) override {
    tasks_.environment().host_network_hosts = std::move(refresh);
  }
  void SetTaskHostsFile(std::function<std::string(int pid)> hosts_file) override {
    tasks_.environment().task_hosts_file = std::move(hosts_file);
  }

 private:
  Clusters clusters_;
  TaskDefinitions task_definitions_;
  Tasks tasks_;
  Services services_;
};

}  // namespace

Result<std::unique_ptr<Ecs>> Ecs::Open(EventLoop& loop, Store& store, Journal& journal,
                                       Clock& clock, Random random, runtime::TaskRuntime& runtime,
                                       logs::LogSink& logs, EventBus& bus,
                                       const EcsOptions& options) {
  auto ecs =
      std::make_unique<EcsImpl>(loop, store, journal, clock, std::move(random), runtime, logs, bus);
  if (!options.images_file.empty()) {
    US_ASSIGN_OR_RETURN(ecs->environment().images, ImageMap::Load(options.images_file));
  }
  if (!options.secrets_file.empty()) {
    US_ASSIGN_OR_RETURN(ecs->environment().secrets, SecretStore::Load(options.secrets_file));
  }
  ecs->environment().network = options.network;
  ecs->services().set_load_balancing(options.load_balancing);
  ecs->services().set_service_discovery(options.service_discovery);
  US_RETURN_IF_ERROR(ecs->Open());
  return std::unique_ptr<Ecs>(std::move(ecs));
}

}  // namespace understudy::ecs
