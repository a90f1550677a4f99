#include "ecs/tasks.h"

#include <signal.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <set>

#include "api/shape_values.h"
#include "ecs/ecs_internal.h"
#include "ecs/task_network.h"
#include "runtime/ports.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr int kDefaultStopTimeoutSeconds = 30;

bool IsPendingStatus(const std::string& s) {
  return s == "PROVISIONING" || s == "PENDING" || s == "ACTIVATING";
}

// The task id an id-or-ARN names, if the ARN is a task ARN of `scope`.
std::optional<std::string> TaskIdFrom(const Scope& scope, const std::string& id_or_arn) {
  if (id_or_arn.rfind("arn:", 0) != 0) return id_or_arn;
  auto arn = Arn::Parse(id_or_arn);
  if (!arn || arn->service != "ecs" || arn->account != scope.account ||
      arn->region != scope.region || arn->resource.rfind("task/", 0) != 0) {
    return std::nullopt;
  }
  return arn->resource.substr(arn->resource.rfind('/') + 1);
}

}  // namespace

// What the task knows of one container while the task lives.
struct ContainerState {
  bool started = false;
  bool exited = false;
  int exit_code = 0;
  std::optional<int> forced_exit_code;  // a crash injected by chaos reports this code
  bool forced_oom = false;         // a memory stress fault drove it over its limit: an OOM kill
  std::string health = "UNKNOWN";  // UNKNOWN, HEALTHY, UNHEALTHY (containers with a healthCheck)
  int failures = 0;                // consecutive failed probes after the start period
  TimePoint started_at{};
  TimerId probe_timer = 0;
  std::optional<runtime::ContainerHandle> probe;  // a probe in flight
  std::shared_ptr<boost::asio::steady_timer> probe_timeout;
  Hold probe_hold;                       // a probe is real work in flight
  Json previous_stats = Json::object();  // precpu_stats of the metadata endpoint
};

struct Tasks::Live {
  Hold hold;       // a standalone task holds the clock until it stops
  Hold stop_hold;  // a signalled task holds it again until its processes exit
  Json definition;
  std::map<std::string, runtime::ContainerHandle> running;  // container name -> handle
  std::map<std::string, TimerId> kill_timers;
  std::map<std::string, ContainerState> containers;
  std::vector<TimerId> timers;           // startTimeout timers
  std::map<std::string, Json> bindings;  // container -> its port bindings (all network modes)
  // awsvpc in a namespace: the pause process that holds it, and the emulator's listeners in it.
  std::optional<runtime::ContainerHandle> pause;
  std::vector<uint64_t> listeners;
  bool stopping = false;
  // A CPU stress fault: burner processes inside the task, counted in its CPU use, and
  // the real-time timer that runs them `stress_percent` of each period.
  std::vector<runtime::ContainerHandle> stress;
  std::shared_ptr<boost::asio::steady_timer> stress_timer;
  std::shared_ptr<std::function<void()>> stress_cycle;
  // A memory stress fault: the process growing inside the task until its memory limit.
  std::optional<runtime::ContainerHandle> memory_hog;
  Hold memory_hold;  // its growth is real work in flight: the clock waits for its end
};

Tasks::Tasks(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
             Clusters& clusters, TaskDefinitions& task_definitions, runtime::TaskRuntime& runtime,
             logs::LogSink& logs, EventBus& bus)
    : loop_(loop),
      store_(store),
      journal_(journal),
      clock_(clock),
      random_(std::move(random)),
      clusters_(clusters),
      task_definitions_(task_definitions),
      runtime_(runtime),
      logs_(logs),
      bus_(bus) {}

Tasks::~Tasks() {
  *alive_ = false;
  for (auto& [key, live] : live_) {
    for (auto& [name, handle] : live->running) (void)runtime_.Signal(handle, SIGKILL);
    if (live->pause) (void)runtime_.Signal(*live->pause, SIGKILL);
  }
}

Status Tasks::Open() {
  // Processes a previous emulator started and could not end (it was SIGKILLed): end
  // their process groups now, unless the pid has since gone to another program.
  US_RETURN_IF_ERROR(store_.Migrate(
      "ecs_processes", {"CREATE TABLE ecs_processes (pid INTEGER PRIMARY KEY, start_ticks INTEGER "
                        "NOT NULL, task TEXT NOT NULL)"}));
  int swept = 0;
  US_RETURN_IF_ERROR(
      store_.Query("SELECT pid, start_ticks FROM ecs_processes", {}, [&](const SqlRow& row) {
        if (runtime::KillLeftover(static_cast<int>(row.Int(0)), static_cast<uint64_t>(row.Int(1))))
          ++swept;
      }));
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ecs_processes"));
  if (swept > 0)
    journal_.Record(JournalKind::kNote, "ecs.tasks", Json{{"sweptProcessGroups", swept}});
  US_RETURN_IF_ERROR(store_.Migrate(
      "ecs_tasks", {"CREATE TABLE ecs_tasks (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT "
                    "NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, id))"}));
  Status status = Status::Ok();
  std::vector<Key> interrupted;
  US_RETURN_IF_ERROR(
      store_.Query("SELECT account, region, id, doc FROM ecs_tasks", {}, [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(3));
        if (!doc.ok()) {
          status = Status::IoError("ecs_tasks row " + row.Text(2) + " is not JSON");
          return;
        }
        Key key{row.Text(0), row.Text(1), row.Text(2)};
        if ((*doc)["lastStatus"] != "STOPPED") interrupted.push_back(key);
        tasks_[key] = std::move(doc).value();
      }));
  US_RETURN_IF_ERROR(status);
  // Processes do not survive the emulator (parent-death signal): record how they ended.
  for (const Key& key : interrupted) {
    Json& task = tasks_[key];
    double now = ToEpochSeconds(clock_.Now());
    task["desiredStatus"] = "STOPPED";
    task["lastStatus"] = "STOPPED";
    if (!task.contains("stopCode")) {
      task["stopCode"] = "TerminationNotice";
      task["stoppedReason"] =
          "Task stopped because understudy restarted; its processes ended with the previous run";
    }
    if (!task.contains("stoppingAt")) task["stoppingAt"] = now;
    task["executionStoppedAt"] = now;
    task["stoppedAt"] = now;
    for (auto& c : task["containers"]) c["lastStatus"] = "STOPPED";
    for (auto& a : task["attachments"]) a["status"] = "DELETED";
    task["version"] = task.value("version", 1) + 1;
    US_RETURN_IF_ERROR(Save(key));
    journal_.Transition(task["taskArn"].get<std::string>(),
                        Json{{"lastStatus", "STOPPED"}, {"stopCode", task["stopCode"]}});
  }
  return Status::Ok();
}

Status Tasks::Reset() {
  for (auto& [key, live] : live_) ReleaseNetwork(key);
  for (auto& [key, live] : live_) {
    for (auto& [name, handle] : live->running) (void)runtime_.Signal(handle, SIGKILL);
    for (auto& [name, timer] : live->kill_timers) clock_.Cancel(timer);
    for (TimerId timer : live->timers) clock_.Cancel(timer);
    for (auto& [name, state] : live->containers) {
      if (state.probe_timer) clock_.Cancel(state.probe_timer);
      if (state.probe) (void)runtime_.Signal(*state.probe, SIGKILL);
    }
  }
  live_.clear();
  tasks_.clear();
  metadata_ids_.clear();
  metadata_id_of_.clear();
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ecs_processes"));
  return store_.Run("DELETE FROM ecs_tasks");
}

Json* Tasks::Doc(const Key& key) {
  auto it = tasks_.find(key);
  return it == tasks_.end() ? nullptr : &it->second;
}

Status Tasks::Save(const Key& key) {
  const Json& doc = tasks_.at(key);
  return store_.Run(
      "INSERT INTO ecs_tasks(account, region, id, doc) VALUES(?1, ?2, ?3, ?4) "
      "ON CONFLICT(account, region, id) DO UPDATE SET doc = excluded.doc",
      {std::get<0>(key), std::get<1>(key), std::get<2>(key), doc.dump()});
}

void Tasks::SetStatus(const Key& key, const std::string& status) {
  Json* task = Doc(key);
  if (task == nullptr) return;
  (*task)["lastStatus"] = status;
  (*task)["version"] = task->value("version", 1) + 1;
  Status saved = Save(key);
  if (!saved.ok())
    journal_.Record(JournalKind::kNote, "ecs.tasks", Json{{"storeError", saved.message()}});
  journal_.Transition((*task)["taskArn"].get<std::string>(), Json{{"lastStatus", status}});
  PublishChange(key);
}

void Tasks::PublishChange(const Key& key) {
  const Json* task = Doc(key);
  if (task == nullptr) return;
  // EventBridge's envelope; in events, timestamps are ISO-8601 strings (aws-semantics §2.12).
  Json detail = *task;
  detail.erase("tags");
  detail["updatedAt"] = ToEpochSeconds(clock_.Now());
  for (const char* field :
       {"createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "stoppedAt",
        "executionStoppedAt", "connectivityAt", "updatedAt"}) {
    if (detail.contains(field) && detail[field].is_number()) {
      detail[field] = FormatIso8601(FromEpochSeconds(detail[field].get<double>()));
    }
  }
  bus_.Publish(EcsEvent(random_, Scope{std::get<0>(key), std::get<1>(key)}, clock_.Now(),
                        "ECS Task State Change", (*task)["taskArn"], std::move(detail)));
}

const Json* Tasks::Find(const Scope& scope, const std::string& cluster,
                        const std::string& id_or_arn) const {
  auto id = TaskIdFrom(scope, id_or_arn);
  if (!id) return nullptr;
  auto it = tasks_.find(Key{scope.account, scope.region, *id});
  if (it == tasks_.end()) return nullptr;
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr || it->second["clusterArn"] != (*c)["clusterArn"]) return nullptr;
  return &it->second;
}

std::pair<int64_t, int64_t> Tasks::Counts(const Scope& scope,
                                          const std::string& cluster_arn) const {
  int64_t running = 0, pending = 0;
  for (const auto& [key, task] : tasks_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    if (task["clusterArn"] != cluster_arn) continue;
    const std::string& status = task["lastStatus"].get_ref<const std::string&>();
    if (status == "RUNNING") ++running;
    if (IsPendingStatus(status)) ++pending;
  }
  return {running, pending};
}

ApiResult Tasks::Run(const Scope& scope, const Json& input) {
  return Launch(scope, input, /*for_service=*/false);
}

ApiResult Tasks::RunForService(const Scope& scope, const Json& input) {
  return Launch(scope, input, /*for_service=*/true);
}

ApiResult Tasks::RunForCaller(const Scope& scope, const Json& input) {
  return Launch(scope, input, /*for_service=*/false, /*trusted_started_by=*/true);
}

const Json* Tasks::FindById(const Scope& scope, const std::string& task_id) const {
  auto it = tasks_.find(Key{scope.account, scope.region, task_id});
  return it == tasks_.end() ? nullptr : &it->second;
}

void Tasks::Deactivate(const Scope& scope, const std::string& task_id, const std::string& stop_code,
                       const std::string& reason) {
  Key key{scope.account, scope.region, task_id};
  Json* task = Doc(key);
  auto live = live_.find(key);
  if (task == nullptr || live == live_.end() || live->second->stopping) return;
  (*task)["desiredStatus"] = "STOPPED";
  if (!task->contains("stopCode")) {
    (*task)["stopCode"] = stop_code;
    (*task)["stoppedReason"] = reason;
  }
  if (!task->contains("stoppingAt")) (*task)["stoppingAt"] = ToEpochSeconds(clock_.Now());
  if ((*task)["lastStatus"] == "RUNNING") {
    SetStatus(key, "DEACTIVATING");
  } else {
    (*task)["version"] = task->value("version", 1) + 1;
    (void)Save(key);
    PublishChange(key);
  }
}

void Tasks::StopForService(const Scope& scope, const std::string& task_id,
                           const std::string& stop_code, const std::string& reason) {
  BeginStop(Key{scope.account, scope.region, task_id}, stop_code, reason);
}

ApiResult Tasks::Launch(const Scope& scope, const Json& input, bool for_service,
                        bool trusted_started_by) {
  std::string cluster_name = input.value("cluster", "default");
  const Json* cluster = clusters_.Find(scope, cluster_name);
  if (cluster == nullptr || (*cluster)["status"] != "ACTIVE") {
    return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  }
  const Json* found = task_definitions_.Resolve(scope, input["taskDefinition"].get<std::string>());
  if (found == nullptr) return InvalidParameter("TaskDefinition not found.");
  const Json& def = *found;
  if (def["status"] != "ACTIVE")
    return ApiError::Client("ClientException", "TaskDefinition is inactive");
  int64_t count = input.value("count", int64_t{1});
  if (count < 1 || count > 10) return InvalidParameter("count must be between 1 and 10.");
  std::string propagate = input.value("propagateTags", "NONE");
  if (!for_service && propagate == "SERVICE") {
    return InvalidParameter(
        "propagateTags SERVICE is only supported for tasks of a service; use TASK_DEFINITION or "
        "NONE.");
  }
  // The task's tags: those given, then the task definition's (propagateTags
  // TASK_DEFINITION) for keys not given.
  Json task_tags = input.value("tags", Json::array());
  if (propagate == "TASK_DEFINITION") {
    for (const auto& tag :
         task_definitions_.TagsOf(scope, input["taskDefinition"].get<std::string>())) {
      bool given = std::any_of(task_tags.begin(), task_tags.end(),
                               [&](const Json& t) { return t.value("key", "") == tag["key"]; });
      if (!given) task_tags.push_back(tag);
    }
  }
  std::string started_by = input.value("startedBy", "");
  if (!for_service && !trusted_started_by &&
      (started_by.size() > 36 || !std::all_of(started_by.begin(), started_by.end(), [](char c) {
         return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
       }))) {
    return InvalidParameter(
        "startedBy may contain up to 36 letters (uppercase and lowercase), "
        "numbers, hyphens, and underscores.");
  }
  if (input.contains("launchType") && input.contains("capacityProviderStrategy")) {
    return InvalidParameter(
        "Specifying both a launchType and capacityProviderStrategy is not "
        "supported. Remove one and try again.");
  }
  std::string launch_type = input.value("launchType", "");
  std::string capacity_provider;
  if (input.contains("capacityProviderStrategy")) {
    const Json& strategy = input["capacityProviderStrategy"];
    if (!strategy.empty()) capacity_provider = strategy[0].value("capacityProvider", "");
    launch_type = "FARGATE";
  } else if (launch_type.empty()) {
    const Json& dflt = (*cluster)["defaultCapacityProviderStrategy"];
    if (!dflt.empty()) {
      capacity_provider = dflt[0].value("capacityProvider", "");
      launch_type = "FARGATE";
    } else {
      launch_type = "EC2";
    }
  }
  const Json& compat = def["compatibilities"];
  if (std::find(compat.begin(), compat.end(), launch_type) == compat.end()) {
    return ApiError::Client("ClientException",
                            "Task definition does not support launch_type " + launch_type + ".");
  }
  std::string network_mode = def.value("networkMode", "bridge");
  if (network_mode == "awsvpc" && !input.contains("networkConfiguration")) {
    return InvalidParameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  std::string zone = scope.region + "a";
  if (network_mode == "awsvpc") {
    const Json& network = input["networkConfiguration"];
    if (auto error = CheckTaskNetwork(environment_.network, scope, network, &zone)) return *error;
  }
  Json overrides = input.value("overrides", Json::object());
  std::set<std::string> names;
  for (const auto& c : def["containerDefinitions"]) names.insert(c["name"].get<std::string>());
  for (const auto& o : overrides.value("containerOverrides", Json::array())) {
    std::string name = o.value("name", "");
    if (!names.count(name)) {
      return InvalidParameter("Override for container named " + name +
                              " is not a container in the TaskDefinition.");
    }
  }

  std::string cluster_arn = (*cluster)["clusterArn"].get<std::string>();
  std::string short_cluster = (*cluster)["clusterName"].get<std::string>();
  double now = ToEpochSeconds(clock_.Now());
  Json out = Json::array();
  Json failures = Json::array();
  // Host ports that running tasks hold (networkBindings).
  std::set<int64_t> taken;
  for (const auto& [k, l] : live_) {
    if (Namespaced(l->definition)) continue;  // its ports are its own
    for (const auto& [name, list] : l->bindings) {
      for (const auto& b : list) taken.insert(b.value("hostPort", int64_t{0}));
    }
  }
  for (int64_t i = 0; i < count; ++i) {
    // Port mappings: bridge gives each unset hostPort a free loopback port; host and
    // awsvpc bind the containerPort itself (one host network here, see docs/ecs-tasks.md).
    std::vector<Json> bindings;  // per container
    bool ports_ok = true;
    for (const auto& c : def["containerDefinitions"]) {
      Json list = Json::array();
      for (const auto& pm : c.value("portMappings", Json::array())) {
        if (!pm.contains("containerPort")) continue;
        int64_t container_port = pm["containerPort"].get<int64_t>();
        // Without namespaces awsvpc falls back to bridge (dynamic host ports).
        bool dynamic = network_mode == "bridge" ||
                       (network_mode == "awsvpc" && !environment_.network_namespaces);
        int64_t host_port = dynamic ? pm.value("hostPort", int64_t{0}) : container_port;
        if (network_mode == "awsvpc" && environment_.network_namespaces) {
          list.push_back(Json{{"bindIP", "127.0.0.1"},
                              {"containerPort", container_port},
                              {"hostPort", container_port},
                              {"protocol", pm.value("protocol", "tcp")}});
          continue;  // the task's own namespace: no host port to take
        }
        if (host_port == 0) {
          auto picked = runtime::PickFreeLoopbackPort();
          while (picked.ok() && taken.count(*picked)) picked = runtime::PickFreeLoopbackPort();
          if (!picked.ok()) {
            ports_ok = false;
            break;
          }
          host_port = *picked;
        } else if (taken.count(host_port) || host_port > 65535 ||
                   !runtime::IsLoopbackPortFree(static_cast<uint16_t>(host_port))) {
          ports_ok = false;
          break;
        }
        taken.insert(host_port);
        list.push_back(Json{{"bindIP", "127.0.0.1"},
                            {"containerPort", container_port},
                            {"hostPort", host_port},
                            {"protocol", pm.value("protocol", "tcp")}});
      }
      bindings.push_back(list);
    }
    if (!ports_ok) {
      // One host: a port it cannot offer is ECS's placement failure, and no task is made.
      failures.push_back(
          Json{{"arn", MakeArn("ecs", scope, "container-instance/" + short_cluster + "/local")},
               {"reason", "RESOURCE:PORTS"}});
      continue;
    }
    std::string id = random_.Hex(32);
    std::string task_arn = MakeArn("ecs", scope, "task/" + short_cluster + "/" + id);
    Json containers = Json::array();
    std::string eni_attachment = random_.Uuid();
    // A task in a namespace of its own has an address of its own (what the ALB and
    // service discovery register); without namespaces every task shares 127.0.0.1.
    std::string address = network_mode == "awsvpc" && environment_.network_namespaces
                              ? NextTaskAddress()
                              : std::string("127.0.0.1");
    size_t container_index = 0;
    for (const auto& c : def["containerDefinitions"]) {
      Json container{
          {"containerArn",
           MakeArn("ecs", scope, "container/" + short_cluster + "/" + id + "/" + random_.Uuid())},
          {"taskArn", task_arn},
          {"name", c["name"]},
          {"image", c["image"]},
          {"lastStatus", "PENDING"},
          {"networkBindings", network_mode == "awsvpc" ? Json::array() : bindings[container_index]},
          {"networkInterfaces",
           network_mode == "awsvpc"
               ? Json::array({{{"attachmentId", eni_attachment}, {"privateIpv4Address", address}}})
               : Json::array()},
          {"healthStatus", "UNKNOWN"},
          {"cpu", std::to_string(c.value("cpu", 0))}};
      if (c.contains("memory")) container["memory"] = std::to_string(c["memory"].get<int64_t>());
      if (c.contains("memoryReservation")) {
        container["memoryReservation"] = std::to_string(c["memoryReservation"].get<int64_t>());
      }
      containers.push_back(container);
      ++container_index;
    }
    Json container_overrides = overrides.value("containerOverrides", Json::array());
    Json task{{"taskArn", task_arn},
              {"clusterArn", cluster_arn},
              {"taskDefinitionArn", def["taskDefinitionArn"]},
              {"containers", containers},
              {"lastStatus", "PROVISIONING"},
              {"desiredStatus", "RUNNING"},
              {"createdAt", now},
              {"group", input.value("group", "family:" + def["family"].get<std::string>())},
              {"launchType", launch_type},
              {"overrides", Json{{"containerOverrides", container_overrides},
                                 {"inferenceAcceleratorOverrides", Json::array()}}},
              {"tags", task_tags},
              {"version", 1},
              {"healthStatus", "UNKNOWN"},
              {"enableExecuteCommand", input.value("enableExecuteCommand", false)},
              {"availabilityZone", zone},
              {"attachments", Json::array()}};
    if (network_mode == "awsvpc") {
      const Json vpc = input["networkConfiguration"].value("awsvpcConfiguration", Json::object());
      Json subnets = vpc.value("subnets", Json::array());
      task["attachments"] = Json::array(
          {{{"id", eni_attachment},
            {"type", "ElasticNetworkInterface"},
            {"status", "PRECREATED"},
            {"details",
             Json::array(
                 {{{"name", "subnetId"}, {"value", subnets.empty() ? "" : subnets[0]}},
                  {{"name", "networkInterfaceId"}, {"value", "eni-" + random_.Hex(17)}},
                  {{"name", "macAddress"},
                   {"value", "0a:" + random_.Hex(2) + ":" + random_.Hex(2) + ":" + random_.Hex(2) +
                                 ":" + random_.Hex(2) + ":" + random_.Hex(2)}},
                  {{"name", "privateDnsName"}, {"value", PrivateDnsName(address)}},
                  {{"name", "privateIPv4Address"}, {"value", address}}})}}});
    }
    if (!started_by.empty()) task["startedBy"] = started_by;
    if (def.contains("cpu")) task["cpu"] = def["cpu"];
    if (def.contains("memory")) task["memory"] = def["memory"];
    if (launch_type == "FARGATE") {
      task["platformVersion"] = input.value("platformVersion", "1.4.0");
      task["platformFamily"] = "Linux";
      task["ephemeralStorage"] = Json{{"sizeInGiB", 20}};
    }
    if (!capacity_provider.empty()) task["capacityProviderName"] = capacity_provider;
    Key key{scope.account, scope.region, id};
    tasks_[key] = task;
    Status saved = Save(key);
    if (!saved.ok()) {
      tasks_.erase(key);
      return ApiError::Server("ServerException", saved.message());
    }
    auto live = std::make_unique<Live>();
    if (!for_service) live->hold = clock_.Acquire("task " + id);
    live->definition = def;
    for (size_t c = 0; c < def["containerDefinitions"].size(); ++c) {
      live->bindings[def["containerDefinitions"][c]["name"].get<std::string>()] = bindings[c];
    }
    for (const auto& c : def["containerDefinitions"]) {
      std::string metadata_id = id + "-" + random_.Digits(10);
      metadata_ids_[metadata_id] = {key, c["name"].get<std::string>()};
      metadata_id_of_[{key, c["name"].get<std::string>()}] = metadata_id;
    }
    live_[key] = std::move(live);
    journal_.Transition(task_arn, Json{{"lastStatus", "PROVISIONING"}});
    PublishChange(key);
    clock_.Schedule(
        clock_.Now(),
        [this, key, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.lock()) Advance(key);
        },
        "task provision");
    out.push_back(task);
  }
  return Json{{"tasks", out}, {"failures", failures}};
}

void Tasks::Advance(const Key& key) {
  Json* task = Doc(key);
  auto live = live_.find(key);
  if (task == nullptr || live == live_.end() || live->second->stopping) return;
  if ((*task)["lastStatus"] == "PROVISIONING") {
    (*task)["pullStartedAt"] = ToEpochSeconds(clock_.Now());
    SetStatus(key, "PENDING");
    clock_.Schedule(
        clock_.Now(),
        [this, key, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.lock()) StartContainers(key);
        },
        "task start");
  }
}

std::string Tasks::StartFailure(const Status& status, const std::string& prefix) const {
  // An image the engine does not have is ECS's pull failure.
  if (runtime_.RunsImages() && status.code() == StatusCode::kNotFound) {
    return "CannotPullContainerError: " + status.message();
  }
  return prefix + status.message();
}

void Tasks::RecordProcess(const Key& key, const runtime::ContainerHandle& handle) {
  if (!handle.id.empty()) return;  // the engine's containers are swept by their labels
  (void)store_.Run(
      "INSERT OR REPLACE INTO ecs_processes(pid, start_ticks, task) VALUES(?1, ?2, ?3)",
      {int64_t{handle.pid}, static_cast<int64_t>(handle.start_ticks), std::get<2>(key)});
}

void Tasks::ForgetProcess(const runtime::ContainerHandle& handle) {
  (void)store_.Run("DELETE FROM ecs_processes WHERE pid = ?1", {int64_t{handle.pid}});
}

std::string Tasks::NextTaskAddress() {
  // 10.0.0.0/16 less the first four and the last of each /24, as a VPC subnet
  // reserves; an address a live task holds is skipped.
  for (int tries = 0; tries < 65536; ++tries) {
    uint32_t n = next_address_++ % (256 * 250);
    std::string address = "10.0." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 4);
    bool taken = false;
    for (const auto& [key, live] : live_) {
      auto task = tasks_.find(key);
      if (task != tasks_.end() && TaskAddress(task->second) == address) taken = true;
    }
    if (!taken) return address;
  }
  return "127.0.0.1";
}

std::string Tasks::PrivateDnsName(const std::string& address) {
  std::string name = "ip-" + address + ".ec2.internal";
  std::replace(name.begin(), name.begin() + name.find(".ec2"), '.', '-');
  return name;
}

std::string Tasks::TaskAddress(const Json& task) {
  for (const auto& attachment : task.value("attachments", Json::array())) {
    for (const auto& detail : attachment.value("details", Json::array())) {
      if (detail.value("name", "") == "privateIPv4Address") return detail.value("value", "");
    }
  }
  return "127.0.0.1";
}

std::optional<int> Tasks::NamespaceFor(const std::string& address) const {
  for (const auto& [key, live] : live_) {
    if (!live->pause) continue;
    auto task = tasks_.find(key);
    if (task != tasks_.end() && TaskAddress(task->second) == address) return live->pause->pid;
  }
  return std::nullopt;
}

std::vector<ChaosTask> Tasks::ChaosTasks() const {
  std::vector<ChaosTask> out;
  for (const auto& [key, live] : live_) {
    auto task = tasks_.find(key);
    if (task == tasks_.end() || live->stopping) continue;
    const Json& t = task->second;
    ChaosTask c;
    c.scope = Scope{std::get<0>(key), std::get<1>(key)};
    c.task_arn = t.value("taskArn", "");
    c.task_id = std::get<2>(key);
    c.cluster_arn = t.value("clusterArn", "");
    c.cluster = c.cluster_arn.substr(c.cluster_arn.rfind('/') + 1);
    std::string group = t.value("group", "");
    if (group.rfind("service:", 0) == 0) c.service = group.substr(8);
    c.last_status = t.value("lastStatus", "");
    for (const auto& tag : t.value("tags", Json::array())) {
      if (tag.is_object()) c.tags[tag.value("key", "")] = tag.value("value", "");
    }
    for (const auto& [name, handle] : live->running) c.containers.push_back(name);
    if (live->pause) c.netns_pid = live->pause->pid;
    c.doc = t;
    out.push_back(std::move(c));
  }
  return out;
}

Status Tasks::ChaosStop(const Scope& scope, const std::string& task_id,
                        const std::string& stop_code, const std::string& reason) {
  Key key{scope.account, scope.region, task_id};
  auto live = live_.find(key);
  if (live == live_.end() || live->second->stopping)
    return Status::NotFound("task " + task_id + " is not running");
  BeginStop(key, stop_code, reason);
  return Status::Ok();
}

Status Tasks::ChaosSignal(const Scope& scope, const std::string& task_id,
                          const std::string& container, int signal) {
  auto live = live_.find(Key{scope.account, scope.region, task_id});
  if (live == live_.end()) return Status::NotFound("task " + task_id + " is not running");
  bool any = false;
  for (const auto& [name, handle] : live->second->running) {
    if (!container.empty() && name != container) continue;
    US_RETURN_IF_ERROR(runtime_.Signal(handle, signal));
    any = true;
  }
  if (!any) return Status::NotFound("task " + task_id + " has no running container " + container);
  return Status::Ok();
}

Status Tasks::ChaosCrash(const Scope& scope, const std::string& task_id,
                         const std::string& container, int exit_code) {
  auto live = live_.find(Key{scope.account, scope.region, task_id});
  if (live == live_.end() || live->second->stopping)
    return Status::NotFound("task " + task_id + " is not running");
  Live& l = *live->second;
  bool any = false;
  for (const auto& c : l.definition["containerDefinitions"]) {
    std::string name = c["name"].get<std::string>();
    if (container.empty() ? !c.value("essential", true) : name != container) continue;
    auto running = l.running.find(name);
    if (running == l.running.end()) continue;
    l.containers[name].forced_exit_code = exit_code;
    if (!l.stop_hold.active())
      l.stop_hold = clock_.Acquire("task " + task_id + " crashed by a fault");
    US_RETURN_IF_ERROR(runtime_.Signal(running->second, SIGKILL));
    any = true;
  }
  if (!any) return Status::NotFound("task " + task_id + " has no running container " + container);
  return Status::Ok();
}

void Tasks::ChaosHoldUntilExit(const Scope& scope, const std::string& task_id) {
  auto live = live_.find(Key{scope.account, scope.region, task_id});
  if (live == live_.end() || live->second->running.empty()) return;
  if (!live->second->stop_hold.active())
    live->second->stop_hold = clock_.Acquire("task " + task_id + " killed by a fault");
}

Result<runtime::ContainerSpec> Tasks::ChaosExecSpec(const Key& key, const Live& live,
                                                    std::vector<std::string> argv,
                                                    const std::string& suffix) {
  // Inside the first running essential container, as a health check runs there (an
  // engine execs it in the container; a process joins the task's namespaces).
  for (const auto& c : live.definition["containerDefinitions"]) {
    std::string name = c["name"].get<std::string>();
    if (!c.value("essential", true) || !live.running.count(name)) continue;
    US_ASSIGN_OR_RETURN(runtime::ContainerSpec spec, BuildSpec(key, c));
    spec.argv = std::move(argv);
    spec.name = name + suffix;
    spec.exec_in = live.running.at(name).id;
    if (live.pause) {
      spec.network = runtime::ContainerSpec::Network::kJoin;
      spec.network_of = live.pause->pid;
    }
    return spec;
  }
  return Status::NotFound("task " + std::get<2>(key) + " has no running essential container");
}

Status Tasks::ChaosStartCpuStress(const Scope& scope, const std::string& task_id, int workers,
                                  int percent) {
  Key key{scope.account, scope.region, task_id};
  auto found = live_.find(key);
  if (found == live_.end() || found->second->stopping || found->second->running.empty())
    return Status::NotFound("task " + task_id + " is not running");
  Live& live = *found->second;
  if (!live.stress.empty())
    return Status::FailedPrecondition("task " + task_id + " is already under CPU stress");
  for (int i = 0; i < workers; ++i) {
    // A shell's busy loop.
    auto spec = ChaosExecSpec(key, live, {"/bin/sh", "-c", "while :; do :; done"},
                              "-cpu-stress-" + std::to_string(i));
    if (!spec.ok()) return spec.status();
    runtime::ContainerCallbacks callbacks;
    callbacks.output = [](const std::string&, bool) {};
    callbacks.exited = [](const runtime::ContainerExit&) {};
    auto handle = runtime_.Start(*spec, std::move(callbacks));
    if (!handle.ok()) {
      ChaosStopCpuStress(scope, task_id);
      return handle.status();
    }
    live.stress.push_back(*handle);
  }
  if (percent < 100) {
    // Duty cycle in real time (the CPU burns in real time): run `percent` of every
    // 100 ms, stopped for the rest.
    auto timer = std::make_shared<boost::asio::steady_timer>(loop_.io());
    live.stress_timer = timer;
    auto running = std::make_shared<bool>(true);
    auto cycle = std::make_shared<std::function<void()>>();
    *cycle = [this, key, timer, running, percent,
              weak = std::weak_ptr<std::function<void()>>(cycle),
              alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.lock()) return;
      auto l = live_.find(key);
      if (l == live_.end() || l->second->stress_timer != timer) return;
      *running = !*running;
      for (const auto& h : l->second->stress)
        (void)runtime_.Signal(h, *running ? SIGCONT : SIGSTOP);
      timer->expires_after(std::chrono::milliseconds(*running ? percent : 100 - percent));
      timer->async_wait([weak](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto next = weak.lock()) (*next)();
      });
    };
    live.stress_cycle = cycle;
    timer->expires_after(std::chrono::milliseconds(percent));
    timer->async_wait(
        [weak = std::weak_ptr<std::function<void()>>(cycle)](const boost::system::error_code& ec) {
          if (ec) return;
          if (auto next = weak.lock()) (*next)();
        });
  }
  return Status::Ok();
}

Status Tasks::ChaosStartMemoryStress(const Scope& scope, const std::string& task_id) {
  Key key{scope.account, scope.region, task_id};
  auto found = live_.find(key);
  if (found == live_.end() || found->second->stopping || found->second->running.empty())
    return Status::NotFound("task " + task_id + " is not running");
  Live& live = *found->second;
  if (live.memory_hog)
    return Status::FailedPrecondition("task " + task_id + " is already under memory stress");
  if (!runtime_.EnforcesMemoryLimits()) {
    return Status::FailedPrecondition(std::string("memory limits are not enforced by the ") +
                                      runtime_.Name() + " runtime here");
  }
  // `tail` keeps all it reads while it looks for a last line, and /dev/zero has none: it
  // grows until the container's limit, where the kernel's OOM killer ends it.
  const std::string suffix = "-memory-stress";
  auto spec = ChaosExecSpec(key, live, {"/bin/sh", "-c", "exec tail /dev/zero"}, suffix);
  if (!spec.ok()) return spec.status();
  std::string container = spec->name.substr(0, spec->name.size() - suffix.size());
  if (spec->memory_limit_bytes == 0) {
    return Status::FailedPrecondition("container " + container + " of task " + task_id +
                                      " has no memory limit to exceed");
  }
  runtime::ContainerCallbacks callbacks;
  callbacks.output = [](const std::string&, bool) {};
  callbacks.exited = [this, key, container,
                      alive = std::weak_ptr<bool>(alive_)](const runtime::ContainerExit& exit) {
    if (!alive.lock()) return;
    auto l = live_.find(key);
    if (l == live_.end() || !l->second->memory_hog) return;  // stopped on purpose
    l->second->memory_hog.reset();
    Hold growing = std::move(l->second->memory_hold);  // released once this is handled
    if (l->second->stopping) return;
    if (!(exit.oom_killed || exit.signal == SIGKILL || exit.exit_code == 137)) return;
    // Over the limit: the container is OOM-killed, as the engine reports it.
    auto running = l->second->running.find(container);
    if (running == l->second->running.end()) return;
    l->second->containers[container].forced_oom = true;
    if (!l->second->stop_hold.active())
      l->second->stop_hold = clock_.Acquire("task " + std::get<2>(key) + " out of memory");
    (void)runtime_.Signal(running->second, SIGKILL);
  };
  auto handle = runtime_.Start(*spec, std::move(callbacks));
  if (!handle.ok()) return handle.status();
  live.memory_hog = *handle;
  live.memory_hold = clock_.Acquire("memory stress in task " + task_id);
  return Status::Ok();
}

void Tasks::ChaosStopMemoryStress(const Scope& scope, const std::string& task_id) {
  auto found = live_.find(Key{scope.account, scope.region, task_id});
  if (found == live_.end() || !found->second->memory_hog) return;
  runtime::ContainerHandle hog = *found->second->memory_hog;
  found->second->memory_hog.reset();
  found->second->memory_hold.Release();
  (void)runtime_.Signal(hog, SIGKILL);
}

void Tasks::ChaosStopCpuStress(const Scope& scope, const std::string& task_id) {
  auto found = live_.find(Key{scope.account, scope.region, task_id});
  if (found == live_.end()) return;
  StopStress(*found->second);
}

void Tasks::StopStress(Live& live) {
  if (live.memory_hog) {
    runtime::ContainerHandle hog = *live.memory_hog;
    live.memory_hog.reset();
    live.memory_hold.Release();
    (void)runtime_.Signal(hog, SIGKILL);
  }
  if (live.stress_timer) live.stress_timer->cancel();
  live.stress_timer.reset();
  live.stress_cycle.reset();
  for (const auto& h : live.stress) {
    (void)runtime_.Signal(h, SIGCONT);
    (void)runtime_.Signal(h, SIGKILL);
  }
  live.stress.clear();
}

std::vector<int> Tasks::ChaosProcessGroups(const Scope& scope, const std::string& task_id,
                                           const std::string& container) const {
  std::vector<int> out;
  auto live = live_.find(Key{scope.account, scope.region, task_id});
  if (live == live_.end()) return out;
  for (const auto& [name, handle] : live->second->running) {
    if (container.empty() || name == container) out.push_back(handle.pid);
  }
  return out;
}

std::vector<int> Tasks::PortsInNamespace(int pid) const {
  std::vector<int> ports;
  for (const auto& [key, live] : live_) {
    if (!live->pause || live->pause->pid != pid) continue;
    for (const auto& c : live->definition["containerDefinitions"]) {
      for (const auto& pm : c.value("portMappings", Json::array())) {
        ports.push_back(pm.value("containerPort", 0));
      }
    }
  }
  return ports;
}

bool Tasks::Namespaced(const Json& definition) const {
  return environment_.network_namespaces && definition.value("networkMode", "bridge") == "awsvpc";
}

bool Tasks::BridgeContainers(const Json& definition) const {
  if (!runtime_.RunsImages()) return false;
  std::string mode = definition.value("networkMode", "bridge");
  return mode == "bridge" || (mode == "awsvpc" && !environment_.network_namespaces);
}

void Tasks::ReleaseNetwork(const Key& key) {
  auto found = live_.find(key);
  if (found == live_.end()) return;
  Live& live = *found->second;
  if (!live.listeners.empty() && environment_.close_task_endpoints) {
    environment_.close_task_endpoints(live.listeners);
  }
  live.listeners.clear();
  if (live.pause) {
    (void)runtime_.Signal(*live.pause, SIGKILL);
    ForgetProcess(*live.pause);
  }
  live.pause.reset();
}

Result<runtime::ContainerSpec> Tasks::BuildSpec(const Key& key, const Json& c) {
  const Json* task = Doc(key);
  std::string name = c["name"].get<std::string>();
  Json override_of = Json::object();
  for (const auto& o : (*task)["overrides"]["containerOverrides"]) {
    if (o.value("name", "") == name) override_of = o;
  }
  runtime::ContainerSpec spec;
  spec.task_id = std::get<2>(key);
  spec.name = name;
  std::string image = c["image"].get<std::string>();
  std::optional<ImageConfig> image_config = environment_.images.Find(image);
  auto strings = [](const Json& list) {
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(a.get<std::string>());
    return out;
  };
  Json command =
      override_of.contains("command") ? override_of["command"] : c.value("command", Json::array());
  spec.argv =
      ContainerArgv(strings(c.value("entryPoint", Json::array())), strings(command), image_config);
  const bool images = runtime_.RunsImages();
  spec.image = image;
  spec.entry_point = strings(c.value("entryPoint", Json::array()));
  spec.command = strings(command);
  auto fail = [](std::string why) { return Status::FailedPrecondition(std::move(why)); };
  if (spec.argv.empty() && !images) {
    return fail("CannotStartContainerError: container " + name + " (image " + image +
                ") has neither entryPoint nor command, and no --images entry matches the image");
  }
  // Precedence, lowest first: the emulator's, the image's, environment files,
  // environment, secrets, the override's environment.
  std::map<std::string, std::string> env;
  // An image brings its own PATH (the engine merges the image's environment under this).
  if (const char* path = std::getenv("PATH"); path != nullptr && !images) env["PATH"] = path;
  env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = std::get<1>(key);
  env["AWS_ACCESS_KEY_ID"] = "test";
  env["AWS_SECRET_ACCESS_KEY"] = "test";
  if (!environment_.aws_endpoint.empty()) env["AWS_ENDPOINT_URL"] = environment_.aws_endpoint;
  if (std::string metadata_id = MetadataId(key, name);
      !metadata_id.empty() && !environment_.aws_endpoint.empty()) {
    auto l = live_.find(key);
    bool own_network = l != live_.end() && (Namespaced(l->second->definition) ||
                                            BridgeContainers(l->second->definition));
    // In the task's own namespace the endpoint is where ECS puts it.
    std::string base = own_network ? "http://169.254.170.2"
                                   : environment_.aws_endpoint + "/_understudy/task-metadata";
    env["ECS_CONTAINER_METADATA_URI_V4"] = base + "/v4/" + metadata_id;
    env["ECS_CONTAINER_METADATA_URI"] = base + "/v3/" + metadata_id;
  }
  // Where the app must listen: the host port of each mapping (bridge maps them).
  if (auto l = live_.find(key); l != live_.end()) {
    const Json& list = l->second->bindings[name];
    for (const auto& b : list) {
      env["ECS_HOST_PORT_" + std::to_string(b["containerPort"].get<int64_t>())] =
          std::to_string(b["hostPort"].get<int64_t>());
    }
    if (!list.empty()) env["PORT"] = std::to_string(list[0]["hostPort"].get<int64_t>());
    if (BridgeContainers(l->second->definition)) {
      // The engine publishes 127.0.0.1:hostPort to the container's own port.
      for (const auto& b : list) {
        spec.port_mappings.push_back({static_cast<uint16_t>(b["hostPort"].get<int64_t>()),
                                      static_cast<uint16_t>(b["containerPort"].get<int64_t>()),
                                      b.value("protocol", "tcp")});
      }
      spec.bridge = true;
      if (!list.empty()) env["PORT"] = std::to_string(list[0]["containerPort"].get<int64_t>());
    }
  }
  // The labels the ECS agent puts on a task's containers.
  spec.labels = {{"com.amazonaws.ecs.cluster", (*task).value("clusterArn", "")},
                 {"com.amazonaws.ecs.task-arn", (*task).value("taskArn", "")},
                 {"com.amazonaws.ecs.container-name", name}};
  if (auto l = live_.find(key); l != live_.end()) {
    spec.labels.emplace_back("com.amazonaws.ecs.task-definition-family",
                             l->second->definition.value("family", ""));
    spec.labels.emplace_back("com.amazonaws.ecs.task-definition-version",
                             std::to_string(l->second->definition.value("revision", 0)));
  }
  env["AWS_EXECUTION_ENV"] = (*task)["launchType"] == "FARGATE" ? "AWS_ECS_FARGATE" : "AWS_ECS_EC2";
  if (image_config) {
    for (const auto& [k, v] : image_config->environment) env[k] = v;
  }
  for (const auto& file : c.value("environmentFiles", Json::array())) {
    std::string value = file.value("value", "");
    if (value.rfind("file://", 0) == 0) value = value.substr(7);
    if (value.rfind("arn:", 0) == 0) {
      return fail(
          "ResourceInitializationError: failed to download env files: understudy reads "
          "environment files from local paths, and " +
          value + " is not one");
    }
    auto vars = ReadEnvironmentFile(value);
    if (!vars.ok()) {
      return fail("ResourceInitializationError: failed to download env files: " +
                  vars.status().message());
    }
    for (const auto& [k, v] : *vars) env[k] = v;
  }
  for (const auto& e : c.value("environment", Json::array()))
    env[e.value("name", "")] = e.value("value", "");
  for (const auto& secret : c.value("secrets", Json::array())) {
    std::string from = secret.value("valueFrom", "");
    auto value = environment_.secrets.Find(from);
    if (!value) {
      return fail("ResourceInitializationError: unable to pull secrets or registry auth: secret " +
                  from + " is not in the --secrets file");
    }
    env[secret.value("name", "")] = *value;
  }
  for (const auto& e : override_of.value("environment", Json::array()))
    env[e.value("name", "")] = e.value("value", "");
  for (auto& [k, v] : env) spec.environment.emplace_back(k, v);
  spec.user = c.value("user", "");
  for (const auto& u : c.value("ulimits", Json::array())) {
    spec.ulimits.push_back({u.value("name", ""),
                            static_cast<uint64_t>(u.value("softLimit", int64_t{0})),
                            static_cast<uint64_t>(u.value("hardLimit", int64_t{0}))});
  }
  // The container's hard memory limit, else the task's (MiB).
  if (c.contains("memory")) {
    spec.memory_limit_bytes = static_cast<uint64_t>(c["memory"].get<int64_t>()) << 20;
  } else if (task->contains("memory")) {
    spec.memory_limit_bytes =
        static_cast<uint64_t>(std::stoll((*task)["memory"].get<std::string>())) << 20;
  }
  // The task's cpu (Fargate's hard cap), in vCPUs; container cpu units are shares on
  // ECS, a relative weight between containers, not a cap.
  if (task->contains("cpu")) {
    spec.cpu_limit_vcpus = std::stod((*task)["cpu"].get<std::string>()) / 1024.0;
  }
  if (c.value("cpu", int64_t{0}) > 0)
    spec.cpu_shares = static_cast<uint32_t>(c["cpu"].get<int64_t>());
  spec.working_directory =
      c.value("workingDirectory",
              image_config && !images ? image_config->working_directory : std::string());
  return spec;
}

void Tasks::StartContainers(const Key& key) {
  Json* task = Doc(key);
  auto found = live_.find(key);
  if (task == nullptr || found == live_.end() || found->second->stopping) return;
  (*task)["pullStoppedAt"] = ToEpochSeconds(clock_.Now());
  Live& live = *found->second;
  // Containers whose dependencies take too long stop the task (startTimeout, clock time).
  for (const auto& c : live.definition["containerDefinitions"]) {
    if (!c.contains("startTimeout") || c.value("dependsOn", Json::array()).empty()) continue;
    std::string name = c["name"].get<std::string>();
    int64_t seconds = c["startTimeout"].get<int64_t>();
    live.timers.push_back(clock_.ScheduleAfter(
        std::chrono::seconds(seconds),
        [this, key, name, seconds, alive = std::weak_ptr<bool>(alive_)] {
          if (!alive.lock()) return;
          auto l = live_.find(key);
          if (l == live_.end() || l->second->stopping) return;
          if (l->second->containers[name].started) return;
          BeginStop(key, "TaskFailedToStart",
                    "CannotStartContainerError: dependencies of container " + name +
                        " were not met within its startTimeout of " + std::to_string(seconds) +
                        "s");
        },
        "task startTimeout"));
  }
  Progress(key);
}

void Tasks::Progress(const Key& key) {
  Json* task = Doc(key);
  auto found = live_.find(key);
  if (task == nullptr || found == live_.end() || found->second->stopping) return;
  Live& live = *found->second;
  const Json& defs = live.definition["containerDefinitions"];
  // Start every container whose dependencies hold, until a pass starts none.
  for (bool progressed = true; progressed;) {
    progressed = false;
    for (size_t index = 0; index < defs.size(); ++index) {
      const Json& c = defs[index];
      std::string name = c["name"].get<std::string>();
      ContainerState& state = live.containers[name];
      if (state.started) continue;
      std::string blocked;  // a dependency that can never hold
      bool ready = true;
      for (const auto& dep : c.value("dependsOn", Json::array())) {
        std::string target = dep.value("containerName", "");
        std::string condition = dep.value("condition", "START");
        const ContainerState& other = live.containers[target];
        if (condition == "START") {
          ready = ready && other.started;
        } else if (condition == "COMPLETE") {
          ready = ready && other.exited;
        } else if (condition == "SUCCESS") {
          if (other.exited && other.exit_code != 0) {
            blocked =
                target + " exited with " + std::to_string(other.exit_code) + ", not 0 (SUCCESS)";
          }
          ready = ready && other.exited && other.exit_code == 0;
        } else if (condition == "HEALTHY") {
          if (other.health == "UNHEALTHY" || other.exited) blocked = target + " is not HEALTHY";
          ready = ready && other.health == "HEALTHY" && !other.exited;
        }
      }
      if (!blocked.empty()) {
        std::string why = "CannotStartContainerError: dependency graph: container " + name +
                          " cannot start: " + blocked;
        (*task)["containers"][index]["reason"] = why.substr(0, 255);
        BeginStop(key, "TaskFailedToStart", why.substr(0, 255));
        return;
      }
      if (!ready) continue;
      std::string failure = StartContainer(key, index);
      if (!failure.empty()) {
        (*task)["containers"][index]["reason"] = failure.substr(0, 255);
        BeginStop(key, "TaskFailedToStart", failure.substr(0, 255));
        return;
      }
      progressed = true;
    }
  }
  bool all_started = true;
  for (const auto& c : defs)
    all_started = all_started && live.containers[c["name"].get<std::string>()].started;
  if (all_started && (*task)["lastStatus"] == "PENDING") {
    double now = ToEpochSeconds(clock_.Now());
    (*task)["startedAt"] = now;
    (*task)["connectivity"] = "CONNECTED";
    (*task)["connectivityAt"] = now;
    for (auto& a : (*task)["attachments"]) a["status"] = "ATTACHED";
    SetStatus(key, "RUNNING");
  }
}

std::string Tasks::StartContainer(const Key& key, size_t index) {
  Json* task = Doc(key);
  Live& live = *live_.at(key);
  const Json& c = live.definition["containerDefinitions"][index];
  std::string name = c["name"].get<std::string>();
  auto built = BuildSpec(key, c);
  if (!built.ok()) return built.status().message();
  runtime::ContainerSpec spec = std::move(built).value();
  if (Namespaced(live.definition)) {
    if (!live.pause) {
      // Like Fargate's pause container: a process that holds the task's namespace, so
      // the emulator's endpoints are in place before any app container starts.
      runtime::ContainerSpec pause;
      pause.task_id = std::get<2>(key);
      pause.name = "~pause";
      pause.argv = {"sleep", "infinity"};
      pause.environment = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
      pause.network = runtime::ContainerSpec::Network::kNew;
      pause.image = spec.image;  // an engine's pause runs in the task's first image
      pause.labels = spec.labels;
      for (auto& [k, v] : pause.labels) {
        if (k == "com.amazonaws.ecs.container-name") v = "~internal~ecs~pause";
      }
      runtime::ContainerCallbacks ignore;
      ignore.output = [](const std::string&, bool) {};
      ignore.exited = [](const runtime::ContainerExit&) {};
      auto handle = runtime_.Start(pause, std::move(ignore));
      if (!handle.ok()) return StartFailure(handle.status(), "ResourceInitializationError: ");
      live.pause = *handle;
      RecordProcess(key, *handle);
      if (environment_.open_task_endpoints) {
        auto listeners = environment_.open_task_endpoints(handle->pid);
        if (!listeners.ok()) return "ResourceInitializationError: " + listeners.status().message();
        live.listeners = *listeners;
      }
    }
    spec.network = runtime::ContainerSpec::Network::kJoin;
    spec.network_of = live.pause->pid;
    if (environment_.task_hosts_file)
      spec.hosts_file = environment_.task_hosts_file(spec.network_of);
  } else if (environment_.host_network_hosts) {
    spec.hosts_file = environment_.host_network_hosts();
  }
  std::weak_ptr<bool> alive = alive_;
  runtime::ContainerCallbacks callbacks;
  // The awslogs driver: one event per line in <prefix>/<container>/<task id>.
  const Json log_config = c.value("logConfiguration", Json::object());
  if (log_config.value("logDriver", "") == "awslogs") {
    const Json options = log_config.value("options", Json::object());
    std::string group = options.value("awslogs-group", "");
    std::string prefix = options.value("awslogs-stream-prefix", "");
    std::string stream = prefix.empty() ? name + "-" + std::get<2>(key)
                                        : prefix + "/" + name + "/" + std::get<2>(key);
    Scope log_scope{std::get<0>(key), options.value("awslogs-region", std::get<1>(key))};
    Status opened = group.empty()
                        ? Status::InvalidArgument("awslogs-group is required")
                        : logs_.OpenStream(log_scope, group, stream,
                                           options.value("awslogs-create-group", "") == "true");
    if (!opened.ok()) {
      return "ResourceInitializationError: failed to validate logger args: " +
             (opened.code() == StatusCode::kNotFound
                  ? std::string("The specified log group does not exist.")
                  : opened.message());
    }
    callbacks.output = [this, log_scope, group, stream, alive](const std::string& line, bool) {
      if (alive.lock()) logs_.Append(log_scope, group, stream, line);
    };
  } else {
    callbacks.output = [](const std::string&, bool) {};
  }
  callbacks.exited = [this, key, name, alive](const runtime::ContainerExit& exit) {
    if (alive.lock()) DeferExit(key, name, exit);
  };
  auto handle = runtime_.Start(spec, std::move(callbacks));
  if (!handle.ok()) return StartFailure(handle.status(), "CannotStartContainerError: ");
  live.running[name] = *handle;
  RecordProcess(key, *handle);
  if (spec.bridge && handle->pid > 0 && environment_.open_task_endpoints) {
    // A container on the engine's bridge has a network of its own: the emulator's
    // endpoints (API, task metadata) are put inside it, as for an awsvpc task.
    auto listeners = environment_.open_task_endpoints(handle->pid);
    if (listeners.ok()) {
      live.listeners.insert(live.listeners.end(), listeners->begin(), listeners->end());
    }
  }
  (*task)["containers"][index]["lastStatus"] = "RUNNING";
  (*task)["containers"][index]["runtimeId"] =
      handle->id.empty() ? std::to_string(handle->pid) : handle->id;
  ContainerState& state = live.containers[name];
  state.started = true;
  state.started_at = clock_.Now();
  if (c.contains("healthCheck")) {
    (*task)["containers"][index]["healthStatus"] = "UNKNOWN";
    ScheduleHealthCheck(key, name, clock_.Now());
  }
  return "";
}

void Tasks::ScheduleHealthCheck(const Key& key, const std::string& container, TimePoint from) {
  auto found = live_.find(key);
  if (found == live_.end() || found->second->stopping) return;
  Live& live = *found->second;
  ContainerState& state = live.containers[container];
  int64_t interval = 30;
  for (const auto& c : live.definition["containerDefinitions"]) {
    if (c["name"] == container) interval = c["healthCheck"].value("interval", int64_t{30});
  }
  state.probe_timer = clock_.Schedule(
      from + std::chrono::seconds(interval),
      [this, key, container, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) RunHealthCheck(key, container);
      },
      "container health check");
}

void Tasks::RunHealthCheck(const Key& key, const std::string& container) {
  auto found = live_.find(key);
  if (found == live_.end() || found->second->stopping) return;
  Live& live = *found->second;
  ContainerState& state = live.containers[container];
  if (state.exited || state.probe) return;
  const Json* def = nullptr;
  for (const auto& c : live.definition["containerDefinitions"]) {
    if (c["name"] == container) def = &c;
  }
  const Json& check = (*def)["healthCheck"];
  auto spec = BuildSpec(key, *def);
  if (!spec.ok()) return OnHealthResult(key, container, false);
  // ["CMD", exe, args...] runs exe; ["CMD-SHELL", "..."] runs a shell; no prefix is CMD.
  std::vector<std::string> command;
  for (const auto& part : check.value("command", Json::array()))
    command.push_back(part.get<std::string>());
  if (!command.empty() && command[0] == "CMD-SHELL") {
    std::string script;
    for (size_t i = 1; i < command.size(); ++i) script += (i > 1 ? " " : "") + command[i];
    spec->argv = {"/bin/sh", "-c", script};
  } else {
    if (!command.empty() && command[0] == "CMD") command.erase(command.begin());
    spec->argv = command;
  }
  spec->name = container + "-healthcheck";
  if (auto target = live.running.find(container); target != live.running.end()) {
    spec->exec_in = target->second.id;  // an engine runs the check inside the container
  }
  if (live.pause) {
    // Inside the task's namespaces, as the container's own command runs: its
    // `localhost` is the task's loopback.
    spec->network = runtime::ContainerSpec::Network::kJoin;
    spec->network_of = live.pause->pid;
  }
  std::weak_ptr<bool> alive = alive_;
  runtime::ContainerCallbacks callbacks;
  callbacks.output = [](const std::string&, bool) {};
  callbacks.exited = [this, key, container, alive](const runtime::ContainerExit& exit) {
    if (!alive.lock()) return;
    auto l = live_.find(key);
    if (l == live_.end()) return;
    ContainerState& s = l->second->containers[container];
    bool timed_out = s.probe_timeout == nullptr;  // the timeout fired first
    if (s.probe_timeout) s.probe_timeout->cancel();
    s.probe_timeout.reset();
    s.probe.reset();
    s.probe_hold.Release();
    OnHealthResult(key, container, !timed_out && exit.exit_code == 0);
  };
  auto handle = runtime_.Start(*spec, std::move(callbacks));
  if (!handle.ok()) return OnHealthResult(key, container, false);
  state.probe = *handle;
  state.probe_hold = clock_.Acquire("health check " + container + " of task " + std::get<2>(key));
  // The probe's timeout is real time: it bounds real work (brief §5).
  auto timeout = std::make_shared<boost::asio::steady_timer>(loop_.io());
  timeout->expires_after(std::chrono::seconds(check.value("timeout", int64_t{5})));
  state.probe_timeout = timeout;
  timeout->async_wait([this, key, container, alive, timeout](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    auto l = live_.find(key);
    if (l == live_.end()) return;
    ContainerState& s = l->second->containers[container];
    if (s.probe_timeout != timeout || !s.probe) return;
    s.probe_timeout.reset();  // marks the result as a timeout
    (void)runtime_.Signal(*s.probe, SIGKILL);
  });
}

void Tasks::OnHealthResult(const Key& key, const std::string& container, bool passed) {
  auto found = live_.find(key);
  Json* task = Doc(key);
  if (found == live_.end() || task == nullptr || found->second->stopping) return;
  Live& live = *found->second;
  ContainerState& state = live.containers[container];
  if (state.exited) return;
  int64_t retries = 3, start_period = 0;
  for (const auto& c : live.definition["containerDefinitions"]) {
    if (c["name"] != container) continue;
    retries = c["healthCheck"].value("retries", int64_t{3});
    start_period = c["healthCheck"].value("startPeriod", int64_t{0});
  }
  std::string before = state.health;
  if (passed) {
    state.failures = 0;
    state.health = "HEALTHY";
  } else if (clock_.Now() >= state.started_at + std::chrono::seconds(start_period)) {
    // Failures inside the start period do not count.
    if (++state.failures >= retries) state.health = "UNHEALTHY";
  }
  if (state.health != before) {
    for (auto& c : (*task)["containers"]) {
      if (c["name"] == container) c["healthStatus"] = state.health;
    }
    journal_.Transition((*task)["taskArn"].get<std::string>(),
                        Json{{"container", container}, {"healthStatus", state.health}});
    UpdateTaskHealth(key);
    Progress(key);  // HEALTHY may let dependent containers start
    if (live_.find(key) == live_.end() || live.stopping) return;
  }
  ScheduleHealthCheck(key, container, clock_.Now());
}

void Tasks::UpdateTaskHealth(const Key& key) {
  Json* task = Doc(key);
  auto found = live_.find(key);
  if (task == nullptr || found == live_.end()) return;
  // HEALTHY when every essential container with a check is; UNHEALTHY when any is.
  bool any_check = false, all_healthy = true, any_unhealthy = false;
  for (const auto& c : found->second->definition["containerDefinitions"]) {
    if (!c.value("essential", true) || !c.contains("healthCheck")) continue;
    any_check = true;
    const std::string& health = found->second->containers[c["name"].get<std::string>()].health;
    all_healthy = all_healthy && health == "HEALTHY";
    any_unhealthy = any_unhealthy || health == "UNHEALTHY";
  }
  std::string health =
      any_unhealthy ? "UNHEALTHY" : (any_check && all_healthy ? "HEALTHY" : "UNKNOWN");
  if ((*task)["healthStatus"] == health) {
    (void)Save(key);
    PublishChange(key);
    return;
  }
  (*task)["healthStatus"] = health;
  (*task)["version"] = task->value("version", 1) + 1;
  (void)Save(key);
  journal_.Transition((*task)["taskArn"].get<std::string>(), Json{{"healthStatus", health}});
  PublishChange(key);
}

void Tasks::BeginStop(const Key& key, const std::string& stop_code, const std::string& reason) {
  Json* task = Doc(key);
  auto found = live_.find(key);
  if (task == nullptr || found == live_.end() || found->second->stopping) return;
  Live& live = *found->second;
  live.stopping = true;
  StopStress(live);
  for (TimerId timer : live.timers) clock_.Cancel(timer);
  for (auto& [name, state] : live.containers) {
    if (state.probe_timer) clock_.Cancel(state.probe_timer);
    if (state.probe) (void)runtime_.Signal(*state.probe, SIGKILL);
    if (state.probe_timeout) state.probe_timeout->cancel();
  }
  if (!live.running.empty())
    live.stop_hold = clock_.Acquire("task " + std::get<2>(key) + " stopping");
  double now = ToEpochSeconds(clock_.Now());
  (*task)["desiredStatus"] = "STOPPED";
  if (!task->contains("stopCode")) {
    (*task)["stopCode"] = stop_code;
    (*task)["stoppedReason"] = reason;
  }
  if (!task->contains("stoppingAt")) (*task)["stoppingAt"] = now;
  if ((*task)["lastStatus"] == "RUNNING") SetStatus(key, "DEACTIVATING");
  SetStatus(key, "STOPPING");
  // Shutdown in reverse start order: SIGTERM now, SIGKILL after stopTimeout of clock time.
  const Json& defs = live.definition["containerDefinitions"];
  for (auto it = defs.rbegin(); it != defs.rend(); ++it) {
    std::string name = (*it)["name"].get<std::string>();
    auto running = live.running.find(name);
    if (running == live.running.end()) continue;
    (void)runtime_.Signal(running->second, SIGTERM);
    int timeout = it->value("stopTimeout", kDefaultStopTimeoutSeconds);
    live.kill_timers[name] = clock_.ScheduleAfter(
        std::chrono::seconds(timeout),
        [this, key, name, alive = std::weak_ptr<bool>(alive_)] {
          if (!alive.lock()) return;
          auto l = live_.find(key);
          if (l == live_.end()) return;
          auto r = l->second->running.find(name);
          if (r == l->second->running.end()) return;
          l->second->stop_hold = clock_.Acquire("task " + std::get<2>(key) + " killed");
          (void)runtime_.Signal(r->second, SIGKILL);
        },
        "task stopTimeout");
  }
  if (live.running.empty()) {
    // Nothing is running (it failed to start): the task ends now.
    (*task)["executionStoppedAt"] = now;
    SetStatus(key, "DEPROVISIONING");
    (*task)["stoppedAt"] = now;
    for (auto& c : (*task)["containers"]) c["lastStatus"] = "STOPPED";
    for (auto& a : (*task)["attachments"]) a["status"] = "DELETED";
    SetStatus(key, "STOPPED");
    ReleaseNetwork(key);
    live_.erase(found);
  }
}

void Tasks::DeferExit(const Key& key, const std::string& container,
                      const runtime::ContainerExit& exit) {
  auto found = live_.find(key);
  if (found == live_.end() || !found->second->stopping)
    return OnContainerExit(key, container, exit);
  deferred_exits_[key][container] = exit;
  auto awaits_exit = [this](const Key& task_key, const Live& live) {
    auto exits = deferred_exits_.find(task_key);
    for (const auto& [name, handle] : live.running) {
      if (exits == deferred_exits_.end() || exits->second.count(name) == 0) return true;
    }
    return false;
  };
  bool others_running = false;
  for (const auto& [other_key, other] : live_) {
    if (other->stopping && awaits_exit(other_key, *other)) others_running = true;
  }
  if (!others_running) return ApplyDeferredExits();
  // Another stopping task still runs: the exits wait for it, or for the clock to move on
  // (this task no longer holds it once all its containers have ended; the other one
  // holds it until it exits or its hold outlives its real-time limit). The timer is one
  // tick ahead, not at this instant: a timer due now would run on the next loop turn,
  // before or after the other exit depending on how fast the process really ended.
  // The hold is released last: releasing it may let the clock move at once.
  if (deferred_exits_timer_ == 0) {
    deferred_exits_timer_ = clock_.ScheduleAfter(
        Duration(1),
        [this, alive = std::weak_ptr<bool>(alive_)] {
          if (!alive.lock()) return;
          deferred_exits_timer_ = 0;
          ApplyDeferredExits();
        },
        "stopped tasks' exits");
  }
  if (!awaits_exit(key, *found->second)) found->second->stop_hold.Release();
}

void Tasks::ApplyDeferredExits() {
  if (deferred_exits_timer_ != 0) {
    clock_.Cancel(deferred_exits_timer_);
    deferred_exits_timer_ = 0;
  }
  auto exits = std::move(deferred_exits_);
  deferred_exits_.clear();
  // The clock stays at this instant until all of them are applied (a task that ends
  // releases its own hold, which could let the clock move between two of them).
  Hold applying = clock_.Acquire("stopped tasks' exits");
  for (const auto& [key, containers] : exits) {
    for (const auto& [name, exit] : containers) OnContainerExit(key, name, exit);
  }
}

void Tasks::OnContainerExit(const Key& key, const std::string& container,
                            const runtime::ContainerExit& exit) {
  Json* task = Doc(key);
  auto found = live_.find(key);
  if (task == nullptr || found == live_.end()) return;
  Live& live = *found->second;
  if (auto h = live.running.find(container); h != live.running.end()) ForgetProcess(h->second);
  live.running.erase(container);
  if (auto timer = live.kill_timers.find(container); timer != live.kill_timers.end()) {
    clock_.Cancel(timer->second);
    live.kill_timers.erase(timer);
  }
  bool essential = true;
  for (const auto& c : live.definition["containerDefinitions"]) {
    if (c["name"] == container) essential = c.value("essential", true);
  }
  ContainerState& state = live.containers[container];
  state.exited = true;
  runtime::ContainerExit exit_seen = exit;
  if (state.forced_exit_code) {
    exit_seen.exit_code = *state.forced_exit_code;
    exit_seen.oom_killed = false;
  }
  if (state.forced_oom) {
    exit_seen.exit_code = 137;
    exit_seen.oom_killed = true;
  }
  const runtime::ContainerExit& exit_ref = exit_seen;
  state.exit_code = exit_ref.exit_code;
  if (state.probe_timer) clock_.Cancel(state.probe_timer);
  for (auto& c : (*task)["containers"]) {
    if (c["name"] != container) continue;
    c["lastStatus"] = "STOPPED";
    c["exitCode"] = exit_ref.exit_code;
    if (exit_ref.oom_killed) c["reason"] = "OutOfMemoryError: Container killed due to memory usage";
    if (!exit_ref.reason.empty()) c["reason"] = exit_ref.reason.substr(0, 255);
  }
  journal_.Transition(
      (*task)["taskArn"].get<std::string>(),
      Json{{"container", container}, {"lastStatus", "STOPPED"}, {"exitCode", exit_ref.exit_code}});
  if (!live.stopping) {
    if (essential) {
      BeginStop(key, "EssentialContainerExited",
                exit.reason.empty() ? std::string("Essential container in task exited")
                                    : exit.reason.substr(0, 255));
    } else {
      (void)Save(key);
      PublishChange(key);
      Progress(key);  // COMPLETE and SUCCESS dependencies may now hold
    }
    return;
  }
  if (live.running.empty()) {
    double now = ToEpochSeconds(clock_.Now());
    (*task)["executionStoppedAt"] = now;
    SetStatus(key, "DEPROVISIONING");
    (*task)["stoppedAt"] = now;
    for (auto& c : (*task)["containers"]) c["lastStatus"] = "STOPPED";
    for (auto& a : (*task)["attachments"]) a["status"] = "DELETED";
    SetStatus(key, "STOPPED");
    ReleaseNetwork(key);
    live_.erase(found);  // releases the hold
  }
}

ApiResult Tasks::Start(const Scope& scope, const Json& input) {
  std::string cluster = input.value("cluster", "default");
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr || (*c)["status"] != "ACTIVE") {
    return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  }
  if (task_definitions_.Resolve(scope, input["taskDefinition"].get<std::string>()) == nullptr) {
    return InvalidParameter("TaskDefinition not found.");
  }
  if (input.contains("networkConfiguration")) {
    std::string zone;
    const Json& network = input["networkConfiguration"];
    if (auto error = CheckTaskNetwork(environment_.network, scope, network, &zone)) return *error;
  }
  const Json& instances = input["containerInstances"];
  if (instances.empty() || instances.size() > 10) {
    return InvalidParameter(
        "containerInstances must contain between 1 and 10 container instances.");
  }
  Json failures = Json::array();
  for (const auto& instance : instances) {
    std::string id = instance.get<std::string>();
    std::string arn =
        id.rfind("arn:", 0) == 0
            ? id
            : MakeArn("ecs", scope,
                      "container-instance/" + (*c)["clusterName"].get<std::string>() + "/" + id);
    failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
  }
  return Json{{"tasks", Json::array()}, {"failures", failures}};
}

ApiResult Tasks::Stop(const Scope& scope, const Json& input) {
  std::string cluster = input.value("cluster", "default");
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr) return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  const Json* task = Find(scope, cluster, input["task"].get<std::string>());
  if (task == nullptr) return InvalidParameter("The referenced task was not found.");
  std::string reason = input.value("reason", "Task stopped by user");
  if (reason.size() > 255) return InvalidParameter("reason can be at most 255 characters.");
  auto id = TaskIdFrom(scope, input["task"].get<std::string>());
  Key key{scope.account, scope.region, *id};
  auto live = live_.find(key);
  if (live != live_.end() && !live->second->stopping) {
    Json* doc = Doc(key);
    (*doc)["desiredStatus"] = "STOPPED";
    (*doc)["stopCode"] = "UserInitiated";
    (*doc)["stoppedReason"] = reason;
    (*doc)["stoppingAt"] = ToEpochSeconds(clock_.Now());
    (*doc)["version"] = doc->value("version", 1) + 1;
    US_RETURN_IF_ERROR_API(Save(key));
    journal_.Transition((*doc)["taskArn"].get<std::string>(), Json{{"desiredStatus", "STOPPED"}});
    // As on AWS, StopTask answers with lastStatus unchanged; the stop proceeds on the next turn.
    clock_.Schedule(
        clock_.Now(),
        [this, key, reason, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.lock()) BeginStop(key, "UserInitiated", reason);
        },
        "task stop");
  }
  return Json{{"task", *Doc(key)}};
}

ApiResult Tasks::Describe(const Scope& scope, const Json& input) {
  std::string cluster = input.value("cluster", "default");
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr) return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  const Json& ids = input["tasks"];
  if (ids.size() > 100)
    return InvalidParameter("The tasks parameter can contain at most 100 tasks.");
  Json include = input.value("include", Json::array());
  bool with_tags = std::find(include.begin(), include.end(), "TAGS") != include.end();
  Json found = Json::array();
  Json failures = Json::array();
  for (const auto& id : ids) {
    const Json* task = Find(scope, cluster, id.get<std::string>());
    if (task == nullptr) {
      std::string ref = id.get<std::string>();
      std::string arn =
          ref.rfind("arn:", 0) == 0
              ? ref
              : MakeArn("ecs", scope, "task/" + (*c)["clusterName"].get<std::string>() + "/" + ref);
      failures.push_back(Json{{"arn", arn}, {"reason", "MISSING"}});
      continue;
    }
    Json view = *task;
    if (!with_tags) view.erase("tags");
    found.push_back(view);
  }
  return Json{{"tasks", found}, {"failures", failures}};
}

ApiResult Tasks::List(const Scope& scope, const Json& input) {
  std::string cluster = input.value("cluster", "default");
  const Json* c = clusters_.Find(scope, cluster);
  if (c == nullptr || (*c)["status"] != "ACTIVE") {
    return ApiError::Client("ClusterNotFoundException", "Cluster not found.");
  }
  int64_t max = input.value("maxResults", int64_t{100});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::string desired = input.value("desiredStatus", "RUNNING");
  std::string family = input.value("family", "");
  std::string started_by = input.value("startedBy", "");
  std::string service = input.value("serviceName", "");
  std::string launch_type = input.value("launchType", "");
  std::string after;
  if (input.contains("nextToken")) {
    auto token = DecodePageToken(input["nextToken"].get<std::string>());
    if (!token) return InvalidParameter("Invalid nextToken.");
    after = *token;
  }
  std::vector<std::string> arns;
  for (const auto& [key, task] : tasks_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    if (task["clusterArn"] != (*c)["clusterArn"]) continue;
    if (task["desiredStatus"] != desired) continue;
    if (!started_by.empty() && task.value("startedBy", "") != started_by) continue;
    if (!service.empty() && task.value("group", "") != "service:" + service) continue;
    if (!launch_type.empty() && task.value("launchType", "") != launch_type) continue;
    if (!family.empty()) {
      std::string def = task["taskDefinitionArn"].get<std::string>();
      std::string fam = def.substr(def.find("task-definition/") + 16);
      if (fam.substr(0, fam.find(':')) != family) continue;
    }
    arns.push_back(task["taskArn"].get<std::string>());
  }
  std::sort(arns.begin(), arns.end());
  Json page = Json::array();
  for (const auto& arn : arns) {
    if (!after.empty() && arn <= after) continue;
    if (static_cast<int64_t>(page.size()) == max) {
      return Json{{"taskArns", page},
                  {"nextToken", EncodePageToken(page.back().get<std::string>())}};
    }
    page.push_back(arn);
  }
  return Json{{"taskArns", page}};
}

}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

std::string IsoOf(const Json& task, const char* field) {
  if (!task.contains(field) || !task[field].is_number()) return "";
  return FormatIso8601(FromEpochSeconds(task[field].get<double>()));
}

// A stable, image-derived id in Docker's "sha256:<64 hex>" form.
std::string ImageId(const std::string& image) {
  uint64_t h = 0xcbf29ce484222325ULL;
  std::string hex;
  for (int round = 0; round < 4; ++round) {
    for (unsigned char c : image + std::to_string(round)) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    hex += buf;
  }
  return "sha256:" + hex;
}

}  // namespace

std::string Tasks::MetadataId(const Key& key, const std::string& container) const {
  auto it = metadata_id_of_.find({key, container});
  return it == metadata_id_of_.end() ? std::string() : it->second;
}

Json Tasks::ContainerMetadata(const Key& key, const std::string& container) {
  const Json& task = tasks_.at(key);
  std::string id = MetadataId(key, container);
  Json def = Json::object();
  std::string def_arn = task["taskDefinitionArn"].get<std::string>();
  std::string family_rev = def_arn.substr(def_arn.find("task-definition/") + 16);
  auto live = live_.find(key);
  if (live != live_.end()) {
    for (const auto& c : live->second->definition["containerDefinitions"]) {
      if (c["name"] == container) def = c;
    }
  }
  std::string network_mode =
      live != live_.end() ? live->second->definition.value("networkMode", "bridge") : "bridge";
  Json doc{
      {"DockerId", id},
      {"Name", container},
      {"DockerName",
       "ecs-" + family_rev.substr(0, family_rev.find(':')) + "-" + container + "-" + id},
      {"Labels",
       {{"com.amazonaws.ecs.cluster", task["clusterArn"]},
        {"com.amazonaws.ecs.container-name", container},
        {"com.amazonaws.ecs.task-arn", task["taskArn"]},
        {"com.amazonaws.ecs.task-definition-family", family_rev.substr(0, family_rev.find(':'))},
        {"com.amazonaws.ecs.task-definition-version",
         family_rev.substr(family_rev.find(':') + 1)}}},
      {"DesiredStatus", task["desiredStatus"]},
      {"Type", "NORMAL"},
      {"CreatedAt", IsoOf(task, "createdAt")},
      {"Networks", Json::array({{{"NetworkMode", network_mode},
                                 {"IPv4Addresses", Json::array({TaskAddress(task)})}}})}};
  for (const auto& c : task["containers"]) {
    if (c["name"] != container) continue;
    doc["Image"] = c["image"];
    doc["ImageID"] = ImageId(c["image"].get<std::string>());
    doc["KnownStatus"] = c["lastStatus"];
    doc["ContainerARN"] = c["containerArn"];
    if (c.contains("exitCode")) doc["ExitCode"] = c["exitCode"];
    doc["Limits"] =
        Json{{"CPU", std::stoll(c.value("cpu", std::string("0")))},
             {"Memory", c.contains("memory") ? std::stoll(c["memory"].get<std::string>()) : 0}};
  }
  if (!IsoOf(task, "startedAt").empty()) doc["StartedAt"] = IsoOf(task, "startedAt");
  if (!IsoOf(task, "stoppedAt").empty()) doc["FinishedAt"] = IsoOf(task, "stoppedAt");
  if (def.contains("logConfiguration")) {
    const Json& log = def["logConfiguration"];
    doc["LogDriver"] = log.value("logDriver", "");
    Json options = log.value("options", Json::object());
    if (doc["LogDriver"] == "awslogs") {
      std::string prefix = options.value("awslogs-stream-prefix", "");
      std::string task_id = std::get<2>(key);
      options["awslogs-stream"] =
          prefix.empty() ? container + "-" + task_id : prefix + "/" + container + "/" + task_id;
    }
    doc["LogOptions"] = options;
  }
  std::vector<Json> ports;
  for (const auto& p : def.value("portMappings", Json::array())) {
    ports.push_back(Json{{"ContainerPort", p.value("containerPort", 0)},
                         {"Protocol", p.value("protocol", "tcp")},
                         {"HostPort", p.value("hostPort", p.value("containerPort", 0))},
                         {"HostIp", "127.0.0.1"}});
  }
  if (!ports.empty()) doc["Ports"] = ports;
  return doc;
}

std::optional<Tasks::Usage> Tasks::UsageOf(const Scope& scope, const std::string& task_id) {
  Key key{scope.account, scope.region, task_id};
  auto live = live_.find(key);
  const Json* task = Doc(key);
  if (live == live_.end() || task == nullptr) return std::nullopt;
  Usage usage;
  bool any = false;
  for (const auto& [name, handle] : live->second->running) {
    auto stats = runtime_.Stats(handle);
    if (!stats.ok()) continue;
    any = true;
    usage.cpu_ns += stats->cpu_user_ns + stats->cpu_kernel_ns;
    usage.memory_bytes += stats->memory_bytes;
    usage.system_cpu_ns = stats->system_cpu_ns;
    usage.online_cpus = stats->online_cpus;
  }
  for (const auto& burner : live->second->stress) {  // a CPU stress fault runs in the task
    auto stats = runtime_.Stats(burner);
    if (stats.ok()) usage.cpu_ns += stats->cpu_user_ns + stats->cpu_kernel_ns;
  }
  if (live->second->memory_hog) {  // so does a memory stress fault
    auto stats = runtime_.Stats(*live->second->memory_hog);
    if (stats.ok()) usage.memory_bytes += stats->memory_bytes;
  }
  if (!any) return std::nullopt;
  const Json& def = live->second->definition;
  double cpu_units = 0, memory_mib = 0;
  if (task->contains("cpu")) cpu_units = std::stod((*task)["cpu"].get<std::string>());
  if (task->contains("memory")) memory_mib = std::stod((*task)["memory"].get<std::string>());
  for (const auto& c : def.value("containerDefinitions", Json::array())) {
    if (!task->contains("cpu")) cpu_units += c.value("cpu", int64_t{0});
    if (!task->contains("memory")) {
      memory_mib += c.value("memory", c.value("memoryReservation", int64_t{0}));
    }
  }
  usage.reserved_vcpus = cpu_units > 0 ? cpu_units / 1024.0 : 1.0;
  usage.reserved_memory_mib = memory_mib;
  return usage;
}

Json Tasks::StatsDocument(const Key& key, const std::string& container) {
  auto live = live_.find(key);
  if (live == live_.end()) return nullptr;  // a stopped task has no stats, as on ECS
  auto running = live->second->running.find(container);
  if (running == live->second->running.end()) return nullptr;
  auto stats = runtime_.Stats(running->second);
  if (!stats.ok()) return nullptr;
  ContainerState& state = live->second->containers[container];
  Json cpu{{"cpu_usage",
            {{"total_usage", stats->cpu_user_ns + stats->cpu_kernel_ns},
             {"usage_in_usermode", stats->cpu_user_ns},
             {"usage_in_kernelmode", stats->cpu_kernel_ns},
             {"percpu_usage", Json::array()}}},
           {"system_cpu_usage", stats->system_cpu_ns},
           {"online_cpus", stats->online_cpus},
           {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
  std::string now = FormatIso8601(clock_.Now());
  Json previous = state.previous_stats;
  Json doc{{"read", now},
           {"preread", previous.value("read", std::string("0001-01-01T00:00:00Z"))},
           {"pids_stats", {{"current", stats->pids}}},
           {"num_procs", 0},
           {"cpu_stats", cpu},
           {"precpu_stats", previous.value("cpu_stats", Json::object())},
           {"memory_stats",
            {{"usage", stats->memory_bytes},
             {"max_usage", stats->memory_bytes},
             {"stats", Json::object()},
             {"limit", 0}}},
           {"blkio_stats", Json::object()},
           {"storage_stats", Json::object()},
           {"name", container},
           {"networks", Json::object()}};
  doc["id"] = MetadataId(key, container);
  for (const auto& c : live->second->definition["containerDefinitions"]) {
    if (c["name"] == container && c.contains("memory")) {
      doc["memory_stats"]["limit"] = c["memory"].get<int64_t>() * 1024 * 1024;
    }
  }
  state.previous_stats = Json{{"read", now}, {"cpu_stats", cpu}};
  return doc;
}

Result<Json> Tasks::Metadata(const std::string& path) {
  std::string id = path.substr(0, path.find('/'));
  std::string rest = path.size() > id.size() ? path.substr(id.size()) : "";
  auto owner = metadata_ids_.find(id);
  if (owner == metadata_ids_.end() || !tasks_.count(owner->second.first)) {
    return Status::NotFound("no container with metadata id '" + id + "'");
  }
  const Key& key = owner->second.first;
  const std::string& container = owner->second.second;
  const Json& task = tasks_.at(key);
  if (rest.empty() || rest == "/") return ContainerMetadata(key, container);
  if (rest == "/stats") return StatsDocument(key, container);
  if (rest == "/task" || rest == "/taskWithTags") {
    std::string def_arn = task["taskDefinitionArn"].get<std::string>();
    std::string family_rev = def_arn.substr(def_arn.find("task-definition/") + 16);
    Json containers = Json::array();
    for (const auto& c : task["containers"])
      containers.push_back(ContainerMetadata(key, c["name"].get<std::string>()));
    Json doc{{"Cluster", task["clusterArn"]},
             {"TaskARN", task["taskArn"]},
             {"Family", family_rev.substr(0, family_rev.find(':'))},
             {"Revision", family_rev.substr(family_rev.find(':') + 1)},
             {"DesiredStatus", task["desiredStatus"]},
             {"KnownStatus", task["lastStatus"]},
             {"AvailabilityZone", task.value("availabilityZone", "")},
             {"LaunchType", task.value("launchType", "")},
             {"Containers", containers}};
    if (task.contains("cpu") || task.contains("memory")) {
      Json limits = Json::object();
      if (task.contains("cpu")) limits["CPU"] = std::stod(task["cpu"].get<std::string>()) / 1024.0;
      if (task.contains("memory")) limits["Memory"] = std::stoll(task["memory"].get<std::string>());
      doc["Limits"] = limits;
    }
    for (const char* field : {"PullStartedAt", "PullStoppedAt", "ExecutionStoppedAt"}) {
      std::string api(field);
      api[0] = static_cast<char>(api[0] - 'A' + 'a');
      if (!IsoOf(task, api.c_str()).empty()) doc[field] = IsoOf(task, api.c_str());
    }
    if (rest == "/taskWithTags") {
      Json tags = Json::object();
      for (const auto& t : task.value("tags", Json::array()))
        tags[t.value("key", "")] = t.value("value", "");
      doc["TaskTags"] = tags;
    }
    return doc;
  }
  if (rest == "/task/stats") {
    Json all = Json::object();
    for (const auto& c : task["containers"]) {
      std::string name = c["name"].get<std::string>();
      all[MetadataId(key, name)] = StatsDocument(key, name);
    }
    return all;
  }
  return Status::NotFound("unknown task metadata path '" + rest + "'");
}

}  // namespace understudy::ecs
