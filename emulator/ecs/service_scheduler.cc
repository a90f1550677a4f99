// Services: the scheduler half — reconciling each service toward its desired count
// by the rolling-update arithmetic, target registration and draining, unhealthy
// replacement and the deployment circuit breaker (aws-semantics §2.6, §2.7).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <set>

#include "ecs/service_math.h"
#include "ecs/services.h"

namespace understudy::ecs {
namespace {

constexpr auto kTick = std::chrono::seconds(5);
// Consecutive start failures after which the throttle event is told.
constexpr int kThrottleReportAfter = 3;
// Tasks with neither a container health check nor a load balancer count as healthy
// this long after they reach RUNNING.
constexpr auto kHealthyAfterRunning = std::chrono::seconds(40);
// A settling task's port is tried this often (real time), this many times.
constexpr auto kSettleEvery = std::chrono::milliseconds(20);
constexpr int kSettleAttempts = 1500;

bool RealPortAccepts(std::optional<int> netns_pid, const std::string& address, int port) {
  int fd = -1;
  if (netns_pid) {
    auto made = runtime::TcpSocketInNetworkNamespace(*netns_pid);
    if (!made.ok()) return false;
    fd = *made;
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    close(fd);
    return false;
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  bool ok = rc == 0;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 50) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  close(fd);
  return ok;
}

std::string TaskIdOf(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

}  // namespace

void Services::OnTaskEvent(const Json& event) {
  if (event.value("detail-type", "") == "CloudWatch Alarm State Change") return OnAlarmEvent(event);
  if (event.value("detail-type", "") != "ECS Task State Change") return;
  const Json& detail = event["detail"];
  if (detail.value("group", "").rfind("service:", 0) != 0) return;
  std::string id = TaskIdOf(detail.value("taskArn", ""));
  auto owner = by_task_.find({event.value("account", ""), id});
  if (owner == by_task_.end()) return;
  Key key = owner->second;
  auto found = services_.find(key);
  if (found == services_.end()) return;
  Record& record = found->second;
  auto task = record.tasks.find(id);
  if (task == record.tasks.end()) return;
  std::string status = detail.value("lastStatus", "");
  if (status == "RUNNING" && !task->second.running) {
    OnRunning(key, record, task->second);
  } else if (status == "DEACTIVATING" || status == "STOPPING" || status == "DEPROVISIONING") {
    // It no longer counts as running (runningCount counts RUNNING tasks), and the
    // service is not steady until the scheduler has replaced it.
    task->second.leaving = true;
    record.steady = false;
    UpdateCounts(record);
  } else if (status == "STOPPED") {
    OnStopped(key, record, id);
  }
  if (status == "RUNNING") ReportInstanceHealth(record, id, detail.value("healthStatus", ""));
  Kick(key);
}

void Services::Kick(const Key& key) {
  // One pending reconcile per service; its hold lives in kicks_, so it is released
  // while the clock is still there even if the loop never runs the posted work.
  if (kicks_.count(key)) return;
  kicks_.emplace(key, clock_.Acquire("service reconcile"));
  loop_.Post([this, key, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.lock()) return;
    kicks_.erase(key);
    Reconcile(key);
  });
}

void Services::ScheduleTick(const Key& key) {
  auto found = services_.find(key);
  if (found == services_.end()) return;
  Record& record = found->second;
  if (record.tick) clock_.Cancel(record.tick);
  record.tick = 0;
  bool watch = !record.steady || !record.doc["loadBalancers"].empty();
  if (record.doc["status"] == "INACTIVE" || !watch) return;
  record.tick = clock_.ScheduleAfter(
      kTick,
      [this, key, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        auto it = services_.find(key);
        if (it != services_.end()) it->second.tick = 0;
        Reconcile(key);
      },
      "service tick");
}

bool Services::HasHealthCheck(const Scope& scope, const std::string& task_definition) const {
  const Json* def = task_definitions_.Resolve(scope, task_definition);
  if (def == nullptr) return false;
  for (const auto& c : (*def)["containerDefinitions"]) {
    if (c.value("essential", true) && c.contains("healthCheck")) return true;
  }
  return false;
}

bool Services::Healthy(const Record& record, const ServiceTask& task) const {
  if (!task.running || task.stopping) return false;
  const Json* t = tasks_.FindById(record.scope, task.id);
  if (t == nullptr) return false;
  bool checked = HasHealthCheck(record.scope, (*t)["taskDefinitionArn"].get<std::string>());
  if (checked && t->value("healthStatus", "UNKNOWN") != "HEALTHY") return false;
  for (const auto& [tg, id, port] : task.targets) {
    if (lb_.target_health && lb_.target_health(record.scope, tg, id, port).state != "healthy") {
      return false;
    }
  }
  if (!checked && task.targets.empty()) {
    return clock_.Now() >= task.running_since + kHealthyAfterRunning;
  }
  return true;
}

std::pair<std::string, std::string> Services::Unhealthy(const Record& record,
                                                        const ServiceTask& task) const {
  if (!task.running || task.stopping) return {};
  int64_t grace = record.doc.value("healthCheckGracePeriodSeconds", int64_t{0});
  if (clock_.Now() < task.running_since + std::chrono::seconds(grace)) return {};
  const Json* t = tasks_.FindById(record.scope, task.id);
  if (t != nullptr && t->value("healthStatus", "UNKNOWN") == "UNHEALTHY") {
    return {"Task failed container health checks",
            "(task " + task.id + ") failed container health checks."};
  }
  if (!lb_.target_health) return {};
  for (const auto& [tg, id, port] : task.targets) {
    TargetState state = lb_.target_health(record.scope, tg, id, port);
    if (state.state != "unhealthy") continue;
    return {"Task failed ELB health checks in (target-group " + tg + ")",
            "(task " + task.id + ") (port " + std::to_string(port) +
                ") is unhealthy in (target-group " + tg + ") due to (reason " + state.description +
                ")."};
  }
  return {};
}

void Services::OnRunning(const Key& key, Record& record, ServiceTask& task) {
  task.running = true;
  task.running_since = clock_.Now();
  record.start_failures = 0;  // a task that starts ends the throttle
  record.throttle_reported = false;
  const Json* t = tasks_.FindById(record.scope, task.id);
  if (t == nullptr) return;
  const Json& lbs = record.doc["loadBalancers"];
  for (size_t lb_index = 0; lb_index < lbs.size(); ++lb_index) {
    const Json& lb = lbs[lb_index];
    std::string container = lb.value("containerName", "");
    int port = lb.value("containerPort", 0);
    std::string address = "127.0.0.1";
    for (const auto& c : (*t)["containers"]) {
      if (c["name"] != container) continue;
      for (const auto& ni : c.value("networkInterfaces", Json::array())) {
        address = ni.value("privateIpv4Address", address);
      }
      for (const auto& b : c.value("networkBindings", Json::array())) {
        if (b.value("containerPort", -1) == port) port = b.value("hostPort", port);
      }
    }
    task.targets.emplace_back(TargetGroupOf(record, task.deployment, lb_index), address, port);
  }
  RegisterInstances(record, task);
  if (!record.doc.contains("_targets")) record.doc["_targets"] = Json::array();
  (void)Save(key);
  // The targets are registered once the port accepts connections (Settle), so that the
  // ALB's first probe never races the app's start: the same seed gives the same health
  // history.
  task.settling = true;
  Settle(key, task.id);
}

void Services::FlushSettled() {
  for (const auto& [key, record] : services_) {
    for (const auto& [id, task] : record.tasks) {
      if (task.settling) return;  // the clock is held: it settles at this instant too
      // Launched and still starting (it holds the clock): it runs, then settles, at this
      // instant too. Registering the others first would order the journal by how fast
      // each process really started.
      if (!task.running && !task.stopping && task.hold.active()) return;
    }
  }
  std::vector<Key> kicked;
  for (auto& [key, record] : services_) {
    for (auto& [id, task] : record.tasks) {
      if (!task.settled) continue;
      task.settled = false;
      if (task.running && !task.stopping) {
        RegisterTargets(key, record, task);
        kicked.push_back(key);
      }
      task.hold.Release();
    }
  }
  for (const auto& key : kicked) Kick(key);
}

void Services::RegisterTargets(const Key& key, Record& record, ServiceTask& task) {
  for (const auto& [tg, id, port] : task.targets) {
    if (lb_.register_target) {
      Status registered = lb_.register_target(record.scope, tg, id, port);
      if (!registered.ok()) {
        journal_.Record(JournalKind::kNote, "ecs.services",
                        Json{{"registerTarget", registered.message()}});
        continue;
      }
    }
    record.doc["_targets"].push_back(Json{{"tg", tg}, {"id", id}, {"port", port}});
    AddEvent(record, "registered 1 targets in (target-group " + tg + ")");
  }
  task.registered = !task.targets.empty();
  (void)Save(key);
}

void Services::Settle(const Key& key, const std::string& task_id) {
  auto found = services_.find(key);
  if (found == services_.end()) return FlushSettled();
  Record& record = found->second;
  auto it = record.tasks.find(task_id);
  if (it == record.tasks.end()) return FlushSettled();
  ServiceTask& task = it->second;
  if (!task.running || task.stopping) {
    task.settling = false;
    task.hold.Release();
    return FlushSettled();
  }
  // The port the ALB will probe, else the first port the task maps.
  std::string address;
  int port = 0;
  if (!task.targets.empty()) {
    address = std::get<1>(task.targets[0]);
    port = std::get<2>(task.targets[0]);
  } else if (const Json* t = tasks_.FindById(record.scope, task_id)) {
    for (const auto& c : (*t)["containers"]) {
      for (const auto& b : c.value("networkBindings", Json::array())) {
        if (port == 0) {
          address = "127.0.0.1";
          port = b.value("hostPort", 0);
        }
      }
      for (const auto& ni : c.value("networkInterfaces", Json::array())) {
        if (port == 0 && ni.contains("privateIpv4Address")) address = ni["privateIpv4Address"];
      }
    }
  }
  if (port == 0 || address.empty()) {
    task.settling = false;
    task.settled = true;
    return FlushSettled();
  }
  std::optional<int> netns = tasks_.NamespaceFor(address);
  // Inside its own namespace the task is reached on that namespace's loopback, as the
  // ALB reaches it.
  if (netns) address = "127.0.0.1";
  bool accepts = lb_.port_accepts ? lb_.port_accepts(netns, address, port)
                                  : RealPortAccepts(netns, address, port);
  if (accepts || ++task.settle_attempts >= kSettleAttempts) {
    task.settling = false;
    task.settled = true;
    return FlushSettled();
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(loop_.io(), kSettleEvery);
  timer->async_wait([this, key, task_id, timer,
                     alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && alive.lock()) Settle(key, task_id);
  });
}

void Services::OnStopped(const Key& key, Record& record, const std::string& task_id) {
  auto it = record.tasks.find(task_id);
  if (it == record.tasks.end()) return;
  record.steady = false;  // until the next reconcile has looked at what is left
  ServiceTask& task = it->second;
  DeregisterInstances(record, task_id);
  if (task.registered && !task.stopping) {
    // It stopped by itself (or from outside): its targets leave the target groups now.
    for (const auto& [tg, id, port] : task.targets) {
      if (lb_.deregister_target) (void)lb_.deregister_target(record.scope, tg, id, port);
      AddEvent(record, "deregistered 1 targets in (target-group " + tg + ")");
    }
  }
  Json kept = Json::array();
  for (const auto& t : record.doc.value("_targets", Json::array())) {
    bool mine = false;
    for (const auto& [tg, id, port] : task.targets) {
      mine |= t["tg"] == tg && t["id"] == id && t["port"] == port;
    }
    if (!mine) kept.push_back(t);
  }
  record.doc["_targets"] = kept;
  Json& deployments = record.doc["deployments"];
  if (!task.stopping && !task.running && !deployments.empty() &&
      deployments[0]["id"] == task.deployment) {
    // PENDING -> STOPPED: the next launch waits longer each time (the service throttle).
    ++record.start_failures;
    record.launch_after = clock_.Now() + StartBackoff(record.start_failures);
    if (record.start_failures == kThrottleReportAfter && !record.throttle_reported) {
      AddEvent(record, "is unable to consistently start tasks successfully.");
      PublishServiceAction(record, "WARN", "SERVICE_TASK_START_IMPAIRED");
      record.throttle_reported = true;
    }
  }
  if (!task.stopping && !task.healthy_seen && !deployments.empty() &&
      deployments[0]["id"] == task.deployment && deployments[0]["rolloutState"] == "IN_PROGRESS") {
    Json& primary = deployments[0];
    primary["failedTasks"] = primary.value("failedTasks", int64_t{0}) + 1;
    const Json& breaker =
        record.doc["deploymentConfiguration"].value("deploymentCircuitBreaker", Json::object());
    if (breaker.value("enable", false) &&
        primary["failedTasks"].get<int64_t>() >=
            FailureThreshold(record.doc["desiredCount"].get<int64_t>())) {
      TripBreaker(key, record);
    }
  }
  if (task.drain_timer) clock_.Cancel(task.drain_timer);
  if (task.settle_alive) *task.settle_alive = false;
  by_task_.erase({record.scope.account, task_id});
  record.tasks.erase(it);
  // A task that never ran no longer keeps the others' registrations back (after the
  // caller is done with the service's tasks).
  loop_.Post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.lock()) FlushSettled();
  });
}

void Services::OnAlarmEvent(const Json& event) {
  Json detail = event.value("detail", Json::object());
  if (!detail.is_object() || detail.value("state", Json::object()).value("value", "") != "ALARM")
    return;
  std::string alarm = detail.value("alarmName", "");
  for (auto& [key, record] : services_) {
    if (record.scope.account != event.value("account", "") ||
        record.scope.region != event.value("region", ""))
      continue;
    const Json& alarms = record.doc["deploymentConfiguration"].value("alarms", Json::object());
    const Json& names = alarms.value("alarmNames", Json::array());
    if (!alarms.value("enable", false) ||
        std::find(names.begin(), names.end(), alarm) == names.end())
      continue;
    Json& deployments = record.doc["deployments"];
    if (deployments.empty() || deployments[0].value("rolloutState", "") != "IN_PROGRESS") continue;
    TripBreaker(key, record, "ECS deployment failed: alarm " + alarm + " is in ALARM state.",
                "(deployment " + deployments[0]["id"].get<std::string>() +
                    ") deployment failed: alarm detected.",
                alarms.value("rollback", false));
    record.steady = false;
    (void)Save(key);
    Kick(key);
  }
}

void Services::TripBreaker(const Key& key, Record& record, const std::string& reason_given,
                           const std::string& event, std::optional<bool> rollback_wanted) {
  Json& deployments = record.doc["deployments"];
  Json& failed = deployments[0];
  std::string failed_id = failed["id"].get<std::string>();
  std::string reason =
      reason_given.empty() ? "ECS deployment circuit breaker: task failed to start." : reason_given;
  failed["rolloutState"] = "FAILED";
  failed["rolloutStateReason"] = reason;
  failed["updatedAt"] = ToEpochSeconds(clock_.Now());
  AddEvent(record, event.empty()
                       ? "(deployment " + failed_id + ") deployment failed: tasks failed to start."
                       : event);
  PublishDeploymentChange(record, "ERROR", "SERVICE_DEPLOYMENT_FAILED", failed_id, reason);
  // The circuit breaker, or a CloudWatch alarm (which says whether to roll back).
  const bool by_breaker = !rollback_wanted.has_value();
  const Json& breaker =
      record.doc["deploymentConfiguration"].value("deploymentCircuitBreaker", Json::object());
  bool rollback = rollback_wanted.value_or(breaker.value("rollback", false)) &&
                  record.doc.contains("_lastCompleted") &&
                  record.doc["_lastCompleted"]["id"] != failed_id;
  if (!rollback) {
    ServiceDeploymentFailed(record, failed_id, reason, "", by_breaker);
    return;
  }
  RollBack(key, record, reason, by_breaker);
}

void Services::RollBack(const Key& key, Record& record, const std::string& reason, bool breaker) {
  (void)key;
  Json& deployments = record.doc["deployments"];
  Json failed = deployments[0];
  Json target = record.doc["_lastCompleted"];
  std::string target_id = target["id"].get<std::string>();
  ServiceDeploymentFailed(record, failed["id"].get<std::string>(), reason, target_id, breaker);
  AddEvent(record, "rolling back to deployment " + target_id + ".");
  double now = ToEpochSeconds(clock_.Now());
  target["status"] = "PRIMARY";
  target["rolloutState"] = "IN_PROGRESS";
  target["rolloutStateReason"] =
      breaker ? "ECS deployment circuit breaker: rolling back to deploymentId " + target_id + "."
              : "ECS deployment rolling back to deploymentId " + target_id + ".";
  target["desiredCount"] = record.doc["desiredCount"];
  target["failedTasks"] = 0;
  target["updatedAt"] = now;
  if (target.contains("_stage")) {
    // Back through the stages at once: its tasks still serve, production moves back.
    target["_stage"] = "SCALE_UP";
    target["_stageSince"] = now;
    target["_rollback"] = true;
    target.erase("_shiftStep");
    target.erase("_stepSince");
  }
  if (!breaker) {
    failed["rolloutState"] = "FAILED";
    failed["rolloutStateReason"] = reason;
  }
  failed["status"] = "ACTIVE";
  failed["desiredCount"] = 0;
  failed["updatedAt"] = now;
  Json list = Json::array({target, failed});
  for (size_t i = 1; i < deployments.size(); ++i) {
    if (deployments[i]["id"] != target_id) list.push_back(deployments[i]);
  }
  deployments = list;
  record.doc["taskDefinition"] = target["taskDefinition"];
  if (target.contains("networkConfiguration"))
    record.doc["networkConfiguration"] = target["networkConfiguration"];
  record.stall_reported = false;
  record.steady = false;
  record.ResetThrottle();
  PublishDeploymentChange(record, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", target_id,
                          target["rolloutStateReason"].get<std::string>());
}

void Services::Launch(const Key& key, Record& record, int64_t count) {
  const Json primary = record.doc["deployments"][0];
  std::string deployment = primary["id"].get<std::string>();
  std::vector<std::string> started;
  for (int64_t i = 0; i < count; ++i) {
    Json input{{"cluster", record.doc["clusterArn"]},
               {"taskDefinition", primary["taskDefinition"]},
               {"count", 1},
               {"group", "service:" + record.doc["serviceName"].get<std::string>()},
               {"startedBy", deployment}};
    if (primary.contains("networkConfiguration"))
      input["networkConfiguration"] = primary["networkConfiguration"];
    std::string provider;
    if (primary.contains("capacityProviderStrategy")) {
      std::map<std::string, int64_t> counts;
      for (const auto& [id, t] : record.tasks) {
        if (!t.stopping && !t.capacity_provider.empty()) ++counts[t.capacity_provider];
      }
      provider = PickCapacityProvider(primary["capacityProviderStrategy"], counts);
      if (provider.empty()) provider = "FARGATE";
      input["capacityProviderStrategy"] =
          Json::array({{{"capacityProvider", provider}, {"weight", 1}}});
    } else {
      input["launchType"] = primary.value("launchType", "EC2");
    }
    if (primary.value("platformVersion", "LATEST") != "LATEST")
      input["platformVersion"] = primary["platformVersion"];
    Json tags = Json::array();
    std::string propagate = record.doc.value("propagateTags", "NONE");
    if (propagate == "SERVICE") tags = record.doc["tags"];
    if (propagate == "TASK_DEFINITION") input["propagateTags"] = "TASK_DEFINITION";
    if (record.doc.value("enableECSManagedTags", false)) {
      tags.push_back(Json{{"key", "aws:ecs:serviceName"}, {"value", record.doc["serviceName"]}});
      std::string cluster = record.doc["clusterArn"].get<std::string>();
      tags.push_back(
          Json{{"key", "aws:ecs:clusterName"}, {"value", cluster.substr(cluster.rfind('/') + 1)}});
    }
    if (!tags.empty()) input["tags"] = tags;
    api::ApiResult result = tasks_.RunForService(record.scope, input);
    if (!result.ok()) {
      AddEvent(record, "failed to launch a task with (error " + result.error().message + ").");
      Json& p = record.doc["deployments"][0];
      p["failedTasks"] = p.value("failedTasks", int64_t{0}) + 1;
      break;
    }
    const Json& tasks = result.output()["tasks"];
    if (tasks.empty()) {
      AddEvent(record,
               "was unable to place a task because no container instance met all of its "
               "requirements.");
      break;
    }
    std::string arn = tasks[0]["taskArn"].get<std::string>();
    std::string id = TaskIdOf(arn);
    ServiceTask task;
    task.id = id;
    task.arn = arn;
    task.deployment = deployment;
    task.capacity_provider = provider;
    task.hold = clock_.Acquire("service task " + id + " settling");
    record.tasks.emplace(id, std::move(task));
    by_task_[{record.scope.account, id}] = key;
    started.push_back(id);
  }
  if (started.empty()) return;
  std::string text = "has started " + std::to_string(started.size()) + " tasks:";
  for (const auto& id : started) text += " (task " + id + ")";
  text += ".";
  if (record.replaced_unhealthy > 0) {
    text += " Amazon ECS replaced " + std::to_string(record.replaced_unhealthy) +
            " tasks due to an unhealthy status.";
    record.replaced_unhealthy = 0;
  }
  AddEvent(record, text);
}

void Services::Retire(const Key& key, Record& record,
                      const std::vector<std::pair<std::string, std::string>>& stops) {
  if (stops.empty()) return;
  std::string stopped_text = "has stopped " + std::to_string(stops.size()) + " running tasks:";
  std::map<std::string, int> per_group;       // target group -> targets deregistered
  std::map<std::string, int> per_deployment;  // deployment -> tasks draining
  std::vector<std::tuple<std::string, std::string, int64_t>> later;  // id, reason, delay
  for (const auto& [id, reason] : stops) {
    auto it = record.tasks.find(id);
    if (it == record.tasks.end()) continue;
    ServiceTask& task = it->second;
    task.stopping = true;
    task.hold.Release();
    stopped_text += " (task " + id + ")";
    int64_t delay = 0;
    if (task.running) {
      tasks_.Deactivate(record.scope, id, "ServiceSchedulerInitiated", reason);
      DeregisterInstances(record, id);
      for (const auto& [tg, target, port] : task.targets) {
        if (lb_.deregister_target) (void)lb_.deregister_target(record.scope, tg, target, port);
        ++per_group[tg];
        if (lb_.target_group) {
          if (auto info = lb_.target_group(record.scope, tg))
            delay = std::max(delay, info->deregistration_delay_seconds);
        }
      }
      if (!task.targets.empty()) ++per_deployment[task.deployment];
    }
    later.emplace_back(id, reason, delay);
  }
  AddEvent(record, stopped_text + ".");
  for (const auto& [tg, n] : per_group) {
    AddEvent(record, "deregistered " + std::to_string(n) + " targets in (target-group " + tg + ")");
  }
  for (const auto& [deployment, n] : per_deployment) {
    AddRawEvent(record, "(service " + record.doc["serviceName"].get<std::string>() + ", taskSet " +
                            deployment + ") has begun draining connections on " +
                            std::to_string(n) + " tasks.");
  }
  // After the deregistration delay (clock time) the task is stopped: SIGTERM, ...
  for (const auto& [id, reason, delay] : later) {
    Scope scope = record.scope;
    TimerId timer = clock_.ScheduleAfter(
        std::chrono::seconds(delay),
        [this, key, scope, id = id, reason = reason, alive = std::weak_ptr<bool>(alive_)] {
          if (!alive.lock()) return;
          auto found = services_.find(key);
          if (found != services_.end()) {
            auto t = found->second.tasks.find(id);
            if (t != found->second.tasks.end()) t->second.drain_timer = 0;
          }
          tasks_.StopForService(scope, id, "ServiceSchedulerInitiated", reason);
        },
        "service task drain");
    record.tasks[id].drain_timer = timer;
  }
}

void Services::UpdateCounts(Record& record) {
  int64_t running = 0, pending = 0;
  for (auto& d : record.doc["deployments"]) {
    int64_t r = 0, p = 0;
    for (const auto& [id, task] : record.tasks) {
      if (task.deployment != d["id"] || task.stopping || task.leaving) continue;
      if (task.running) {
        ++r;
      } else {
        ++p;
      }
    }
    d["runningCount"] = r;
    d["pendingCount"] = p;
    running += r;
    pending += p;
  }
  record.doc["runningCount"] = running;
  record.doc["pendingCount"] = pending;
}

void Services::Reconcile(const Key& key) {
  auto found = services_.find(key);
  if (found == services_.end()) return;
  Record& r = found->second;
  Json& doc = r.doc;
  std::string status = doc["status"].get<std::string>();
  if (status == "INACTIVE" || doc["deployments"].empty()) return;
  if (r.reloaded) {
    // Targets the previous run's tasks left behind.
    for (const auto& t : doc.value("_targets", Json::array())) {
      if (lb_.deregister_target) {
        (void)lb_.deregister_target(r.scope, t["tg"].get<std::string>(), t["id"].get<std::string>(),
                                    t["port"].get<int>());
      }
    }
    doc["_targets"] = Json::array();
    DeregisterLeftoverInstances(r);
    r.reloaded = false;
  }
  int64_t desired = doc["desiredCount"].get<int64_t>();
  const Json& config = doc["deploymentConfiguration"];
  int64_t max_tasks = MaxTasks(desired, config.value("maximumPercent", int64_t{200}));
  int64_t min_healthy = MinHealthy(desired, config.value("minimumHealthyPercent", int64_t{100}));
  if (status == "DRAINING") min_healthy = 0;
  std::string primary_id = doc["deployments"][0]["id"].get<std::string>();

  // 1. Replace unhealthy tasks (after the grace period).
  std::vector<std::pair<std::string, std::string>> stops;
  for (auto& [id, task] : r.tasks) {
    if (Healthy(r, task)) task.healthy_seen = true;
    auto [reason, text] = Unhealthy(r, task);
    if (reason.empty()) continue;
    AddEvent(r, text);
    stops.emplace_back(id, reason);
    Json& primary = doc["deployments"][0];
    if (task.deployment == primary_id && primary["rolloutState"] == "IN_PROGRESS") {
      primary["failedTasks"] = primary.value("failedTasks", int64_t{0}) + 1;
    }
    ++r.replaced_unhealthy;
  }
  Retire(key, r, stops);
  {
    Json& primary = doc["deployments"][0];
    const Json& breaker = config.value("deploymentCircuitBreaker", Json::object());
    if (!stops.empty() && breaker.value("enable", false) &&
        primary["rolloutState"] == "IN_PROGRESS" &&
        primary["failedTasks"].get<int64_t>() >= FailureThreshold(desired)) {
      TripBreaker(key, r);
      primary_id = doc["deployments"][0]["id"].get<std::string>();
    }
  }

  // 2. Launch PRIMARY tasks within maximumPercent.
  auto count = [&](auto pred) {
    int64_t n = 0;
    for (const auto& [id, task] : r.tasks) n += pred(task) ? 1 : 0;
    return n;
  };
  int64_t primary_active =
      count([&](const ServiceTask& t) { return !t.stopping && t.deployment == primary_id; });
  int64_t all_active = count([&](const ServiceTask& t) { return !t.stopping; });
  // Traffic-shifting deployments scale the new deployment up in full beside the old.
  bool shifting = ShiftsTraffic(doc);
  int64_t can_launch = shifting ? desired - primary_active
                                : std::min(desired - primary_active, max_tasks - all_active);
  bool launched = false;
  if (status == "ACTIVE" && doc["deployments"][0]["rolloutState"] != "FAILED" && can_launch > 0 &&
      clock_.Now() >= r.launch_after) {
    Launch(key, r, can_launch);
    launched = true;
  }

  // 2b. Traffic-shifting deployments: the lifecycle stages; the old tasks may go only
  //     once production traffic has moved and the bake time is over.
  bool clean_up = true;
  if (shifting && status == "ACTIVE") {
    int64_t scaled = count([&](const ServiceTask& t) {
      return t.deployment == primary_id && !t.stopping && Healthy(r, t);
    });
    clean_up = AdvanceTrafficShift(r, scaled >= desired);
    if (clean_up) min_healthy = 0;
  }

  // 3. Stop old tasks while minimumHealthyPercent allows (not-healthy ones first), and
  //    PRIMARY tasks beyond desiredCount.
  stops.clear();
  int64_t healthy = count([&](const ServiceTask& t) { return Healthy(r, t); });
  std::vector<std::string> old_ids;
  for (const auto& [id, task] : r.tasks) {
    if (!task.stopping && (task.deployment != primary_id || status == "DRAINING") &&
        (clean_up || status == "DRAINING"))
      old_ids.push_back(id);
  }
  std::stable_sort(old_ids.begin(), old_ids.end(), [&](const auto& a, const auto& b) {
    return !Healthy(r, r.tasks.at(a)) && Healthy(r, r.tasks.at(b));
  });
  for (const auto& id : old_ids) {
    const ServiceTask& task = r.tasks.at(id);
    bool is_healthy = Healthy(r, task);
    if (is_healthy && healthy - 1 < min_healthy) break;
    if (is_healthy) --healthy;
    stops.emplace_back(id, "Scaling activity initiated by (deployment " + task.deployment + ")");
  }
  if (status == "ACTIVE" && primary_active > desired) {
    std::vector<std::string> primary_ids;
    for (const auto& [id, task] : r.tasks) {
      if (!task.stopping && task.deployment == primary_id) primary_ids.push_back(id);
    }
    // Pending first, then not healthy, then the newest.
    std::stable_sort(primary_ids.begin(), primary_ids.end(), [&](const auto& a, const auto& b) {
      const ServiceTask& x = r.tasks.at(a);
      const ServiceTask& y = r.tasks.at(b);
      auto rank = [&](const ServiceTask& t) { return !t.running ? 0 : !Healthy(r, t) ? 1 : 2; };
      if (rank(x) != rank(y)) return rank(x) < rank(y);
      return x.running_since > y.running_since;
    });
    for (int64_t i = 0; i < primary_active - desired; ++i) {
      stops.emplace_back(primary_ids[static_cast<size_t>(i)],
                         "Scaling activity initiated by (deployment " + primary_id + ")");
    }
  }
  Retire(key, r, stops);

  // 4. A deployment that can neither start nor stop a task stalls.
  bool old_left = !old_ids.empty() && stops.empty();
  bool all_settled = true;
  for (const auto& [id, task] : r.tasks) {
    if (!task.stopping && !Healthy(r, task)) all_settled = false;
  }
  if (status == "ACTIVE" && !shifting && old_left && !launched && all_settled && can_launch <= 0 &&
      !r.stall_reported) {
    AddEvent(r,
             "was unable to stop or start tasks during a deployment because of the service "
             "deployment configuration. Update the minimumHealthyPercent or maximumPercent "
             "value and try again.");
    r.stall_reported = true;
  }

  // 5. Counts, completion, steady state.
  UpdateCounts(r);
  Json& deployments = doc["deployments"];
  {
    Json kept = Json::array({deployments[0]});
    for (size_t i = 1; i < deployments.size(); ++i) {
      std::string id = deployments[i]["id"].get<std::string>();
      bool has_tasks = std::any_of(r.tasks.begin(), r.tasks.end(),
                                   [&](const auto& t) { return t.second.deployment == id; });
      if (has_tasks) kept.push_back(deployments[i]);
    }
    deployments = kept;
  }
  Json& primary = deployments[0];
  bool only_primary = std::all_of(r.tasks.begin(), r.tasks.end(), [&](const auto& t) {
    return t.second.deployment == primary_id && !t.second.stopping;
  });
  int64_t primary_healthy =
      count([&](const ServiceTask& t) { return t.deployment == primary_id && Healthy(r, t); });
  bool settled = only_primary && deployments.size() == 1 &&
                 static_cast<int64_t>(r.tasks.size()) == desired && primary_healthy == desired;
  if (shifting && status == "ACTIVE" && primary["rolloutState"] == "IN_PROGRESS") {
    settled = settled && primary.value("_stage", "") == "CLEAN_UP";
  }
  if (status == "ACTIVE" && primary["rolloutState"] == "IN_PROGRESS" && settled) {
    primary["rolloutState"] = "COMPLETED";
    primary["rolloutStateReason"] = "ECS deployment " + primary_id + " completed.";
    primary["updatedAt"] = ToEpochSeconds(clock_.Now());
    doc["_lastCompleted"] = primary;
    doc["_lastCompleted"].erase("_rollback");
    ServiceDeploymentCompleted(r, primary_id);
    AddEvent(r, "(deployment " + primary_id + ") deployment completed.");
    PublishDeploymentChange(r, "INFO", "SERVICE_DEPLOYMENT_COMPLETED", primary_id,
                            primary["rolloutStateReason"].get<std::string>());
    journal_.Transition(doc["serviceArn"].get<std::string>(),
                        Json{{"deployment", primary_id}, {"rolloutState", "COMPLETED"}});
  }
  bool steady = status == "ACTIVE" && settled && primary["rolloutState"] == "COMPLETED";
  if (steady && !r.steady) {
    AddEvent(r, "has reached a steady state.");
    PublishServiceAction(r, "INFO", "SERVICE_STEADY_STATE");
    journal_.Transition(doc["serviceArn"].get<std::string>(), Json{{"steady", true}});
  }
  r.steady = steady;
  if (status == "DRAINING" && r.tasks.empty()) {
    doc["status"] = "INACTIVE";
    // Deleting a service deletes its service deployments and revisions.
    doc.erase("_serviceDeployments");
    doc.erase("_serviceRevisions");
    journal_.Transition(doc["serviceArn"].get<std::string>(), Json{{"status", "INACTIVE"}});
  }
  Status saved = Save(key);
  if (!saved.ok())
    journal_.Record(JournalKind::kNote, "ecs.services", Json{{"storeError", saved.message()}});
  ScheduleTick(key);
}

}  // namespace understudy::ecs
