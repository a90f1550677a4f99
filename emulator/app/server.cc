#include "app/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "api/control_api.h"
#include "api/front_door.h"
#include "api/http_server.h"
#include "api/model.h"
#include "app/task_names.h"
#include "autoscaling/autoscaling.h"
#include "chaos/chaos.h"
#include "cloudwatch/cloudwatch.h"
#include "cloudwatch/collectors.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/measured.h"
#include "core/random.h"
#include "core/store.h"
#include "core/waits.h"
#include "ec2/ec2.h"
#include "ecs/ecs.h"
#include "elb/data_plane.h"
#include "elb/elbv2.h"
#include "elb/local_ca.h"
#include "elb/target_health.h"
#include "events/events_service.h"
#include "logs/logs.h"
#include "runtime/docker_client.h"
#include "runtime/task_runtime.h"
#include "runtime/tcp_forwarder.h"
#include "servicediscovery/servicediscovery.h"
#include "ses/ses.h"
#include "ses/smtp_listeners.h"
#include "traffic/traffic.h"

namespace understudy::app {
namespace {

// The state directory: made (and removed at exit) when temporary, locked while used.
class StateDir {
 public:
  static Result<std::unique_ptr<StateDir>> Prepare(const std::string& requested) {
    auto dir = std::unique_ptr<StateDir>(new StateDir());
    std::error_code ec;
    if (requested.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path(ec) / "understudy-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) {
        return Status::IoError("cannot create a temporary state dir: " +
                               std::string(strerror(errno)));
      }
      dir->path_ = pattern;
      dir->temporary_ = true;
    } else {
      std::filesystem::create_directories(requested, ec);
      if (ec)
        return Status::IoError("cannot create --state-dir " + requested + ": " + ec.message());
      dir->path_ = std::filesystem::absolute(requested, ec).string();
    }
    std::string lock_path = dir->path_ + "/lock";
    dir->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dir->lock_fd_ < 0) {
      return Status::IoError("cannot open " + lock_path + ": " + strerror(errno));
    }
    if (flock(dir->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::Unavailable("--state-dir " + dir->path_ +
                                 " is in use by another understudy; stop it or pick another dir");
    }
    return dir;
  }
  ~StateDir() {
    if (lock_fd_ >= 0) close(lock_fd_);
    if (temporary_) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }
  bool temporary() const { return temporary_; }

 private:
  StateDir() = default;
  std::string path_;
  bool temporary_ = false;
  int lock_fd_ = -1;
};

// The runtime --runtime asks for: docker needs an engine that answers; auto falls
// back to processes without one.
Result<std::unique_ptr<runtime::TaskRuntime>> MakeTaskRuntime(EventLoop& loop,
                                                              const ServeOptions& options,
                                                              const std::string& state_dir) {
  if (options.runtime == "process") return runtime::NewProcessRuntime(loop);
  auto socket = runtime::DockerSocketFromEnvironment();
  if (!socket.ok()) {
    if (options.runtime == "docker") return socket.status();
    Log(LogLevel::kInfo, "--runtime auto: " + socket.status().message() + "; running processes");
    return runtime::NewProcessRuntime(loop);
  }
  runtime::DockerRuntimeOptions docker{*socket,
                                       std::to_string(std::hash<std::string>{}(state_dir))};
  auto made = runtime::NewDockerRuntime(loop, docker);
  if (made.ok()) {
    Log(LogLevel::kInfo, "ECS containers run in the container engine at " + *socket);
    return made;
  }
  if (options.runtime == "docker") {
    return Status(made.status().code(), "--runtime docker: " + made.status().message());
  }
  Log(LogLevel::kInfo, "--runtime auto: " + made.status().message() + "; running processes");
  return runtime::NewProcessRuntime(loop);
}

}  // namespace

Status Serve(const ServeOptions& options) {
  SetLogLevel(options.log_level);
  US_ASSIGN_OR_RETURN(auto state_dir, StateDir::Prepare(options.state_dir));
  EventLoop loop;
  // Declared early so it is destroyed late: a second SIGINT or SIGTERM during teardown is
  // caught here too, and the temporary state dir and child processes are still cleaned up.
  boost::asio::signal_set signals(loop.io(), SIGINT, SIGTERM);
  ClockOptions clock_options;
  clock_options.mode = options.clock;
  clock_options.hold_limit = options.hold_timeout;
  clock_options.start = options.start.value_or(WallTimeNow());
  auto clock = Clock::Create(loop, clock_options);
  US_ASSIGN_OR_RETURN(auto store, Store::Open(state_dir->path() + "/state.db"));
  Journal journal(loop, *clock, *store);
  US_RETURN_IF_ERROR(journal.Open());
  Waits waits(loop, *clock);
  journal.SetObserver([&waits](const JournalEntry&) { waits.NotifyChanged(); });
  clock->SetOnHoldExpired([&journal](const HoldInfo& hold) {
    Log(LogLevel::kWarn, "'" + hold.what + "' held the clock for " + FormatDuration(hold.real_age) +
                             " of real time; the clock moves on without it");
    journal.Transition("clock", Json{{"holdExpired", hold.what}});
  });

  US_ASSIGN_OR_RETURN(auto models, api::ModelRegistry::LoadEmbedded());
  Random random(options.seed);
  api::FrontDoorOptions front_options{options.account_id, options.region};
  api::FrontDoor front_door(*clock, journal, random.Fork("request-ids"), *models, front_options);
  api::ControlInfo info{
      kVersion, "", state_dir->path(), state_dir->temporary(), options.seed, options.account_id};
  api::ControlApi control(front_door, *clock, waits, journal, info, options.region);
  EventBus bus;
  control.SetEventBus(&bus);
  control.Install();

  US_ASSIGN_OR_RETURN(auto logs, logs::Logs::Open(*store, journal, *clock));
  logs->Install(front_door, control);
  // Cloud Map: the registries ECS services put their tasks in (docs/service-discovery.md).
  US_ASSIGN_OR_RETURN(auto service_discovery,
                      servicediscovery::ServiceDiscovery::Open(*store, journal, *clock,
                                                               random.Fork("servicediscovery")));
  service_discovery->Install(front_door, control);
  US_ASSIGN_OR_RETURN(auto ec2, ec2::Ec2::Open(*store, journal, random.Fork("ec2"),
                                               ec2::Ec2Options{options.strict_references}));
  ec2->Install(front_door, control);
  US_ASSIGN_OR_RETURN(auto task_runtime, MakeTaskRuntime(loop, options, state_dir->path()));
  ecs::EcsOptions ecs_options{options.images_file, options.secrets_file, {}, {}, {}};
  // awsvpc tasks' subnets and security groups go through EC2's references policy.
  ecs_options.network.subnet_zone =
      [&ec2](const Scope& scope,
             const std::string& id) -> std::variant<std::string, api::ApiError> {
    auto subnet = ec2->ResolveSubnet(scope, id);
    if (!subnet.ok()) return subnet.error();
    return subnet.value().availability_zone;
  };
  ecs_options.network.security_group =
      [&ec2](const Scope& scope, const std::string& id) -> std::optional<api::ApiError> {
    auto group = ec2->ResolveSecurityGroup(scope, id);
    if (!group.ok()) return group.error();
    return std::nullopt;
  };
  // Services register their tasks in ALB target groups. The ALB is opened after ECS
  // (it reaches awsvpc tasks through ECS), so the hooks go through a pointer set below.
  elb::Elbv2* alb = nullptr;
  ecs_options.load_balancing.target_group =
      [&alb](const Scope& scope, const std::string& arn) -> std::optional<ecs::TargetGroupInfo> {
    if (alb == nullptr) return std::nullopt;
    auto tg = alb->FindTargetGroup(scope, arn);
    if (!tg) return std::nullopt;
    return ecs::TargetGroupInfo{tg->target_type, tg->load_balancer_arns,
                                tg->deregistration_delay_seconds};
  };
  ecs_options.load_balancing.register_target = [&alb](const Scope& scope, const std::string& arn,
                                                      const std::string& id, int port) {
    return alb == nullptr ? Status::Unavailable("no ALB")
                          : alb->RegisterTarget(scope, arn, id, port);
  };
  ecs_options.load_balancing.deregister_target = [&alb](const Scope& scope, const std::string& arn,
                                                        const std::string& id, int port) {
    return alb == nullptr ? Status::Unavailable("no ALB")
                          : alb->DeregisterTarget(scope, arn, id, port);
  };
  ecs_options.load_balancing.target_health = [&alb](const Scope& scope, const std::string& arn,
                                                    const std::string& id, int port) {
    if (alb == nullptr) return ecs::TargetState{"unused", "", ""};
    Json health = alb->TargetHealth(scope, arn, id, port);
    return ecs::TargetState{health.value("State", ""), health.value("Reason", ""),
                            health.value("Description", "")};
  };
  ecs_options.load_balancing.rule_target_groups =
      [&alb](const Scope& scope,
             const std::string& rule_arn) -> std::optional<std::vector<std::string>> {
    if (alb == nullptr) return std::nullopt;
    auto rule = alb->FindRule(scope, rule_arn);
    if (!rule) return std::nullopt;
    std::vector<std::string> groups;
    for (const auto& action : rule->value("Actions", Json::array())) {
      if (action.value("Type", "") != "forward") continue;
      if (action.contains("TargetGroupArn")) groups.push_back(action["TargetGroupArn"]);
      for (const auto& g :
           action.value("ForwardConfig", Json::object()).value("TargetGroups", Json::array())) {
        std::string arn = g.value("TargetGroupArn", "");
        if (std::find(groups.begin(), groups.end(), arn) == groups.end()) groups.push_back(arn);
      }
    }
    return groups;
  };
  ecs_options.load_balancing.set_forward_weights =
      [&alb](const Scope& scope, const std::string& rule_arn,
             const std::vector<std::pair<std::string, int>>& weights) {
        return alb == nullptr ? Status::Unavailable("no ALB")
                              : alb->SetForwardWeights(scope, rule_arn, weights);
      };
  // Services register their tasks in Cloud Map services (serviceRegistries).
  {
    servicediscovery::ServiceDiscovery* sd = service_discovery.get();
    ecs_options.service_discovery.registry =
        [sd](const Scope& scope,
             const std::string& arn) -> std::optional<ecs::ServiceRegistryInfo> {
      auto info = sd->FindService(scope, arn);
      if (!info) return std::nullopt;
      return ecs::ServiceRegistryInfo{info->namespace_arn, info->custom_health, info->srv_records};
    };
    ecs_options.service_discovery.namespace_arn =
        [sd](const Scope& scope, const std::string& name_or_arn) -> std::optional<std::string> {
      auto info = sd->FindNamespace(scope, name_or_arn);
      if (!info) return std::nullopt;
      return info->arn;
    };
    ecs_options.service_discovery.register_instance =
        [sd](const Scope& scope, const std::string& arn, const std::string& id,
             const std::map<std::string, std::string>& attributes) {
          return sd->RegisterInstance(scope, arn, id, attributes);
        };
    ecs_options.service_discovery.deregister_instance =
        [sd](const Scope& scope, const std::string& arn, const std::string& id) {
          return sd->DeregisterInstance(scope, arn, id);
        };
    ecs_options.service_discovery.set_health = [sd](const Scope& scope, const std::string& arn,
                                                    const std::string& id, bool healthy) {
      return sd->SetCustomHealth(scope, arn, id, healthy);
    };
    ecs_options.service_discovery.instances = [sd](const Scope& scope, const std::string& arn) {
      return sd->Instances(scope, arn);
    };
  }
  US_ASSIGN_OR_RETURN(auto ecs, ecs::Ecs::Open(loop, *store, journal, *clock, random.Fork("ecs"),
                                               *task_runtime, *logs, bus, ecs_options));
  ecs->Install(front_door, control);
  // EventBridge rules and schedules run ECS tasks through ECS's own RunTask.
  events::EventsOptions events_options;
  events_options.run_task = [&ecs](const Scope& scope, const Json& input) {
    return ecs->RunTaskFor(scope, input);
  };
  US_ASSIGN_OR_RETURN(
      auto events, events::EventsService::Open(loop, *store, journal, *clock, random.Fork("events"),
                                               bus, *logs, std::move(events_options)));
  events->Install(front_door, control);
  // The ALB: its control plane and health checker on the loop, its data plane on
  // threads of its own.
  elb::DataPlaneOptions data_plane_options;
  data_plane_options.threads = 2;
  data_plane_options.now = [&clock] { return clock->Now(); };
  data_plane_options.seed = options.seed;
  US_ASSIGN_OR_RETURN(auto data_plane, elb::DataPlane::Start(data_plane_options));
  elb::HealthChecker health_checker(loop, *clock);
  auto target_health = elb::HealthCheckerSource(health_checker);
  // HTTPS listeners present certificates from the emulator's own CA, kept in the
  // state dir; clients trust <state-dir>/ca/ca.pem (also GET /_understudy/elb/ca.pem).
  // Made on first use, so start-up pays no key generation.
  std::unique_ptr<elb::LocalCa> local_ca;
  auto ca = [&local_ca, dir = state_dir->path() + "/ca"]() -> Result<elb::LocalCa*> {
    if (!local_ca) {
      US_ASSIGN_OR_RETURN(local_ca, elb::LocalCa::LoadOrCreate(dir));
    }
    return local_ca.get();
  };
  front_door.RegisterInternal(
      "GET", "/_understudy/elb/ca.pem", [ca](const api::HttpRequest&, api::HttpReply reply) {
        auto authority = ca();
        if (!authority.ok()) {
          reply(api::ControlError(500, "LocalCaUnavailable", authority.status().message()));
          return;
        }
        api::HttpResponse response;
        response.SetHeader("Content-Type", "application/x-pem-file");
        response.body = (*authority)->ca_pem();
        reply(std::move(response));
      });
  elb::Elbv2Options elb_options;
  elb_options.state_dir = state_dir->path();
  // Targets at an awsvpc task's address are reached inside its network namespace.
  elb_options.resolve_target_namespace = [&ecs](const std::string& ip) {
    return ecs->TaskNamespaceForAddress(ip);
  };
  elb_options.issue_certificate =
      [ca](const std::vector<std::string>& names) -> Result<std::pair<std::string, std::string>> {
    US_ASSIGN_OR_RETURN(auto authority, ca());
    US_ASSIGN_OR_RETURN(auto issued, authority->Issue(names));
    return std::make_pair(issued.certificate_pem, issued.private_key_pem);
  };
  // Subnets go through EC2's references policy too; ELBv2 answers an unknown one
  // with its own SubnetNotFound, as AWS does.
  elb_options.resolve_subnet = [&ec2](const Scope& scope,
                                      const std::string& id) -> std::optional<elb::SubnetInfo> {
    auto subnet = ec2->ResolveSubnet(scope, id);
    if (!subnet.ok()) return std::nullopt;
    if (subnet.synthesized()) return elb::SubnetInfo{subnet.value().vpc_id, ""};
    return elb::SubnetInfo{subnet.value().vpc_id, subnet.value().availability_zone};
  };
  US_ASSIGN_OR_RETURN(
      auto elbv2, elb::Elbv2::Open(loop, *store, journal, *clock, random.Fork("elbv2"), *data_plane,
                                   *target_health, elb_options));
  elbv2->Install(front_door, control);
  alb = elbv2.get();
  // Traffic generators: real HTTP to the ALB's listeners at a rate in clock time
  // (docs/traffic.md).
  traffic::TrafficOptions traffic_options{[&elbv2] { return elbv2->Describe(); },
                                          options.account_id, options.region};
  auto traffic = traffic::Traffic::Create(loop, *clock, journal, waits, random.Fork("traffic"),
                                          std::move(traffic_options));
  traffic->Install(front_door, control);

  // CloudWatch: metrics measured from ECS tasks and the ALB data plane each minute,
  // alarms, and Application Auto Scaling acting on ECS services' desired counts.
  US_ASSIGN_OR_RETURN(auto cloudwatch, cloudwatch::CloudWatch::Open(
                                           *store, journal, *clock, random.Fork("cloudwatch"), bus,
                                           Scope{options.account_id, options.region}));
  cloudwatch->Install(front_door, control);
  cloudwatch::EcsCollector ecs_metrics(*cloudwatch, [&ecs] {
    std::vector<cloudwatch::TaskReading> out;
    for (const auto& t : ecs->SampleServiceTasks()) {
      out.push_back({t.scope, t.cluster, t.service, t.task_id, t.cpu_ns, t.system_cpu_ns,
                     t.online_cpus, t.memory_bytes, t.reserved_vcpus, t.reserved_memory_mib});
    }
    return out;
  });
  cloudwatch::AlbCollector alb_metrics(*cloudwatch, [&elbv2] {
    std::vector<cloudwatch::TargetGroupReading> out;
    // "targetgroup/<name>/<id>" and "app/<name>/<id>", as the metrics' dimensions.
    auto path = [](const std::string& arn) { return arn.substr(arn.rfind(':') + 1); };
    for (const auto& g : elbv2->SampleTargetGroups()) {
      cloudwatch::TargetGroupReading r{g.scope, path(g.arn), {}, {}};
      for (const auto& lb : g.load_balancer_arns)
        r.load_balancers.push_back(lb.substr(lb.find("loadbalancer/") + 13));
      for (const auto& t : g.targets) {
        r.targets.push_back({g.arn + "|" + t.id + "|" + std::to_string(t.port),
                             t.state == "healthy", t.state == "unhealthy", t.counters.requests,
                             t.counters.responses, t.counters.response_time_us,
                             t.counters.target_4xx, t.counters.target_5xx});
      }
      out.push_back(std::move(r));
    }
    return out;
  });
  // What the collectors measure is an input: journalled, and taken from the record on a
  // replay (--measured), so alarms and scaling decide the same way.
  MeasuredInputs measured(journal);
  if (!options.measured_file.empty())
    US_RETURN_IF_ERROR(measured.LoadRecorded(options.measured_file));
  ecs_metrics.SetMeasuredInputs(&measured);
  alb_metrics.SetMeasuredInputs(&measured);
  cloudwatch->AddMinuteSource([&](TimePoint start) { ecs_metrics.Collect(start); });
  cloudwatch->AddMinuteSource([&](TimePoint start) { alb_metrics.Collect(start); });
  autoscaling::AutoScalingOptions scaling_options;
  scaling_options.describe_service =
      [&ecs](const Scope& scope, const std::string& cluster,
             const std::string& service) -> std::optional<autoscaling::ServiceCapacity> {
    auto scale = ecs->FindServiceScale(scope, cluster, service);
    if (!scale) return std::nullopt;
    return autoscaling::ServiceCapacity{scale->desired, scale->running, scale->deploying};
  };
  scaling_options.set_desired = [&ecs](const Scope& scope, const std::string& cluster,
                                       const std::string& service, int64_t desired) {
    return ecs->SetServiceDesiredCount(scope, cluster, service, desired);
  };
  // "app/<lb>/<id>/targetgroup/<tg>/<id>": the target group exists and that load
  // balancer forwards to it.
  scaling_options.resource_label_exists = [&elbv2](const Scope& scope, const std::string& label) {
    size_t at = label.find("/targetgroup/");
    if (at == std::string::npos) return false;
    auto tg =
        elbv2->FindTargetGroup(scope, MakeArn("elasticloadbalancing", scope, label.substr(at + 1)));
    if (!tg) return false;
    std::string lb = "loadbalancer/" + label.substr(0, at);
    for (const auto& arn : tg->load_balancer_arns) {
      if (arn.size() >= lb.size() && arn.compare(arn.size() - lb.size(), lb.size(), lb) == 0)
        return true;
    }
    return false;
  };
  US_ASSIGN_OR_RETURN(auto scaling, autoscaling::AutoScaling::Open(*store, journal, *clock,
                                                                   random.Fork("autoscaling"),
                                                                   *cloudwatch, scaling_options));
  scaling->Install(front_door, control);
  // Fault injection (docs/chaos.md): FIS experiments acting on ECS tasks and API faults
  // at the front door, stopped by CloudWatch alarms.
  chaos::ChaosHooks chaos_hooks;
  chaos_hooks.tasks = [&ecs] { return ecs->ChaosTasks(); };
  chaos_hooks.stop_task = [&ecs](const Scope& scope, const std::string& id,
                                 const std::string& stop_code, const std::string& reason) {
    return ecs->ChaosStopTask(scope, id, stop_code, reason);
  };
  chaos_hooks.signal_task = [&ecs](const Scope& scope, const std::string& id,
                                   const std::string& container, int signal) {
    return ecs->ChaosSignalTask(scope, id, container, signal);
  };
  chaos_hooks.crash_task = [&ecs](const Scope& scope, const std::string& id,
                                  const std::string& container, int exit_code) {
    return ecs->ChaosCrashTask(scope, id, container, exit_code);
  };
  chaos_hooks.process_groups = [&ecs](const Scope& scope, const std::string& id,
                                      const std::string& container) {
    return ecs->ChaosProcessGroups(scope, id, container);
  };
  chaos_hooks.start_cpu_stress = [&ecs](const Scope& scope, const std::string& id, int workers,
                                        int percent) {
    return ecs->ChaosStartCpuStress(scope, id, workers, percent);
  };
  chaos_hooks.stop_cpu_stress = [&ecs](const Scope& scope, const std::string& id) {
    ecs->ChaosStopCpuStress(scope, id);
  };
  chaos_hooks.start_memory_stress = [&ecs](const Scope& scope, const std::string& id) {
    return ecs->ChaosStartMemoryStress(scope, id);
  };
  chaos_hooks.stop_memory_stress = [&ecs](const Scope& scope, const std::string& id) {
    ecs->ChaosStopMemoryStress(scope, id);
  };
  chaos_hooks.hold_until_exit = [&ecs](const Scope& scope, const std::string& id) {
    ecs->ChaosHoldUntilExit(scope, id);
  };
  chaos_hooks.set_traffic_faults = [&data_plane](std::vector<elb::TrafficFault> faults) {
    data_plane->SetTrafficFaults(std::move(faults));
  };
  chaos_hooks.set_health_failures = [&health_checker](std::vector<elb::TargetKey> keys) {
    health_checker.SetForcedFailures(std::move(keys));
  };
  chaos_hooks.set_delivery_fault = [&events](events::DeliveryFault fault) {
    events->SetDeliveryFault(std::move(fault));
  };
  // SMTP listeners start later; they consult the chaos fault through this.
  std::function<std::optional<std::string>(const std::string&)> smtp_fault;
  chaos_hooks.set_smtp_fault =
      [&smtp_fault](std::function<std::optional<std::string>(const std::string&)> fault) {
        smtp_fault = std::move(fault);
      };
  chaos_hooks.default_scope = Scope{options.account_id, options.region};
  chaos_hooks.alarm_state = [&cloudwatch](const Scope& scope, const std::string& name) {
    return cloudwatch->AlarmState(scope, name);
  };
  chaos::Chaos chaos(*clock, journal, bus, random, std::move(chaos_hooks));
  US_RETURN_IF_ERROR(chaos.Open(*store));
  chaos.Install(front_door, control);
  // SES: the API on the front door, and its SMTP endpoint (STARTTLS with the local CA).
  ses::SesOptions ses_options{!options.ses_production,
                              options.ses_pending_verification,
                              options.ses_max_24h_send,
                              options.ses_max_send_rate,
                              options.ses_retention,
                              options.account_id,
                              options.region};
  US_ASSIGN_OR_RETURN(auto ses, ses::Ses::Open(loop, *store, journal, *clock, waits, bus,
                                               random.Fork("ses"), ses_options));
  ses->Install(front_door, control);
  ses::SmtpListenOptions smtp_options{
      options.smtp_host,
      options.smtp_port,
      options.smtp_port_given,
      options.smtps_port,
      options.smtp_require_auth,
      options.smtp_credentials,
      static_cast<size_t>(options.smtp_max_connections),
      options.region,
      [ca](const std::string& name) -> Result<std::pair<std::string, std::string>> {
        US_ASSIGN_OR_RETURN(auto authority, ca());
        US_ASSIGN_OR_RETURN(auto issued, authority->Issue({name}));
        return std::make_pair(issued.certificate_pem, issued.private_key_pem);
      },
      options.smtp_idle_timeout.value_or(clock->is_virtual() ? Duration(0)
                                                             : Duration(std::chrono::minutes(10))),
      [&clock](Duration delay, std::function<void()> fn) {
        return clock->ScheduleAfter(delay, std::move(fn), "smtp idle");
      },
      [&clock](uint64_t id) { clock->Cancel(id); },
      [&smtp_fault](const std::string& address) -> std::optional<std::string> {
        return smtp_fault ? smtp_fault(address) : std::nullopt;
      }};
  US_ASSIGN_OR_RETURN(auto smtp, ses::StartSmtpListeners(loop.io(), *ses, smtp_options));
  control.AddHealthField("ses", [&smtp] { return smtp.health; });

  api::HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  US_ASSIGN_OR_RETURN(
      auto server,
      api::HttpServer::Start(loop.io(), http_options,
                             [&front_door](api::HttpRequest request, api::HttpReply reply) {
                               front_door.Handle(std::move(request), std::move(reply));
                             }));
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::string endpoint = "http://" + host + ":" + std::to_string(server->port());
  control.set_endpoint(endpoint);
  ecs->SetEndpoint(endpoint);
  // awsvpc tasks get network namespaces of their own where this process may make them;
  // the emulator then listens inside each: its AWS endpoint on the same address and
  // port, and the task metadata endpoint at 169.254.170.2:80.
  // Everything opened inside a task's namespace, by id, so the task's end can close it.
  std::map<uint64_t, std::function<void()>> in_task;
  uint64_t next_in_task = 1;
  // What names resolve to inside awsvpc tasks (docs/service-discovery.md): Cloud Map's
  // <service>.<namespace> to the registered addresses, relayed into the tasks behind
  // them; load balancers' DNS names to an address of their own (10.1.x.y) whose listener
  // ports are relayed to the listeners on the host's loopback.
  auto name_targets = [&service_discovery, &elbv2, &smtp, &options]() {
    std::vector<NameTarget> targets;
    // SES's SMTP endpoint under its AWS name (docs/ses.md): 25, 587 and 2587 lead to the
    // SMTP port, 465 and 2465 to the implicit-TLS one. 10.1.255.254 is never a load
    // balancer's address (those end in 4..253).
    if (smtp.health.is_object()) {
      NameTarget t{"email-smtp." + options.region + ".amazonaws.com", "10.1.255.254", {}, true};
      if (smtp.health.contains("smtp")) {
        for (int p : {25, 587, 2587})
          t.ports.push_back({p, smtp.health["smtp"]["port"].get<int>()});
      }
      if (smtp.health.contains("smtps")) {
        for (int p : {465, 2465}) t.ports.push_back({p, smtp.health["smtps"]["port"].get<int>()});
      }
      targets.push_back(std::move(t));
    }
    for (const auto& name : service_discovery->DnsNames()) {
      // Every instance is reachable at its address; the DNS answer (at most 8, healthy
      // first) is what the name resolves to.
      for (const auto& a : name.instances) {
        bool answered = false;
        for (const auto& in : name.addresses) answered |= in.ipv4 == a.ipv4 && in.port == a.port;
        NameTarget t{name.name, a.ipv4, {}, a.ipv4.rfind("127.", 0) == 0, answered};
        if (a.port > 0) t.ports.push_back({a.port, a.port});
        targets.push_back(std::move(t));
      }
    }
    Json described = elbv2->Describe();
    for (const auto& lb : described["loadBalancers"]) {
      uint32_t h = 2166136261u;  // FNV-1a of the ARN: a stable address per load balancer
      for (char c : lb["arn"].get<std::string>()) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
      NameTarget t{lb["dnsName"].get<std::string>(),
                   "10.1." + std::to_string((h >> 8) & 0xff) + "." + std::to_string(h % 250 + 4),
                   {},
                   true};
      for (const auto& l : lb["listeners"]) {
        int local = l.value("localPort", 0);
        if (local != 0) t.ports.push_back({l["port"].get<int>(), local});
      }
      targets.push_back(std::move(t));
    }
    return targets;
  };
  std::unique_ptr<TaskNames> task_names;
  if (runtime::NetworkNamespacesAvailable()) {
    task_names = std::make_unique<TaskNames>(
        loop, state_dir->path() + "/task-hosts", name_targets,
        [&ecs](const std::string& address) { return ecs->TaskNamespaceForAddress(address); },
        [&ecs](int pid) { return ecs->TaskPortsInNamespace(pid); });
    service_discovery->SetOnChange([&task_names] { task_names->Changed(); });
    ecs->SetHostNetworkHosts([&task_names] { return task_names->HostNetworkHosts(); });
    ecs->SetTaskHostsFile([&task_names](int pid) { return task_names->HostsPath(pid); });
    uint16_t port = server->port();
    api::HttpServer* http = server.get();
    // Containers with root filesystems of their own get the task's hosts file when they
    // are created; process tasks share the mount namespace it is bound in.
    const bool runs_images = task_runtime->RunsImages();
    ecs->SetTaskNetworks(
        [&, http, port, runs_images](int pid) -> Result<std::vector<uint64_t>> {
          std::vector<uint64_t> ids;
          auto fail = [&](Status status) -> Result<std::vector<uint64_t>> {
            for (uint64_t id : ids) {
              in_task[id]();
              in_task.erase(id);
            }
            return status;
          };
          for (auto [address, p] : {std::pair<const char*, uint16_t>{"127.0.0.1", port},
                                    std::pair<const char*, uint16_t>{"169.254.170.2", 80}}) {
            auto fd = runtime::ListenInNetworkNamespace(pid, address, p);
            if (!fd.ok()) return fail(fd.status());
            auto listener = http->AddListener(*fd);
            if (!listener.ok()) return fail(listener.status());
            uint64_t id = next_in_task++;
            in_task[id] = [http, listener = *listener] { http->RemoveListener(listener); };
            ids.push_back(id);
          }
          // --task-forward ports, and SES's SMTP ports: 127.0.0.1:<port> inside the task
          // reaches the same port on the host.
          std::vector<uint16_t> forwards = options.task_forwards;
          for (const char* kind : {"smtp", "smtps"}) {
            if (!smtp.health.is_object() || !smtp.health.contains(kind)) continue;
            auto smtp_port = smtp.health[kind]["port"].get<uint16_t>();
            if (std::find(forwards.begin(), forwards.end(), smtp_port) == forwards.end())
              forwards.push_back(smtp_port);
          }
          for (uint16_t forward : forwards) {
            if (forward == port) continue;
            auto fd = runtime::ListenInNetworkNamespace(pid, "127.0.0.1", forward);
            if (!fd.ok()) return fail(fd.status());
            auto forwarder = runtime::TcpForwarder::Start(loop.io(), *fd, forward);
            if (!forwarder.ok()) return fail(forwarder.status());
            std::shared_ptr<runtime::TcpForwarder> shared(std::move(forwarder).value());
            uint64_t id = next_in_task++;
            in_task[id] = [shared] { shared->Stop(); };
            ids.push_back(id);
          }
          // Service discovery and load balancer names, in the task's own /etc/hosts.
          Status named = task_names->Open(pid, !runs_images);
          if (named.ok()) {
            uint64_t id = next_in_task++;
            in_task[id] = [&task_names, pid] { task_names->Close(pid); };
            ids.push_back(id);
          } else {
            Log(LogLevel::kWarn, "service discovery names are not served in the task of process " +
                                     std::to_string(pid) + ": " + named.message());
          }
          return ids;
        },
        [&](const std::vector<uint64_t>& ids) {
          for (uint64_t id : ids) {
            auto it = in_task.find(id);
            if (it == in_task.end()) continue;
            it->second();
            in_task.erase(it);
          }
        });
  } else {
    Log(LogLevel::kWarn,
        "network namespaces are not available: awsvpc tasks fall back to bridge (dynamic host "
        "ports on 127.0.0.1)");
    Log(LogLevel::kWarn,
        "network namespaces are not available: service discovery names (<service>.<namespace>) "
        "and load balancer DNS names do NOT resolve inside tasks; find instances with "
        "servicediscovery DiscoverInstances instead (docs/service-discovery.md)");
  }
  journal.Input("understudy.serve", Json{{"seed", options.seed},
                                         {"clock", ClockModeName(options.clock)},
                                         {"start", FormatIso8601(clock->Now())}});

  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    Log(LogLevel::kInfo, std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
    server->Stop();
    smtp.Stop();
    loop.Stop();
  });

  std::printf("understudy %s listening on %s\n", kVersion, endpoint.c_str());
  std::printf("%s", smtp.ready_lines.c_str());
  std::fflush(stdout);
  Log(LogLevel::kInfo, "state dir " + state_dir->path() +
                           (state_dir->temporary() ? " (temporary)" : "") + "; clock " +
                           ClockModeName(options.clock) + " at " + FormatIso8601(clock->Now()) +
                           "; seed " + std::to_string(options.seed));
  loop.Run();
  data_plane->Stop();
  Status flushed = journal.Flush();
  if (!flushed.ok()) Log(LogLevel::kError, "journal: " + flushed.message());
  return Status::Ok();
}

}  // namespace understudy::app
