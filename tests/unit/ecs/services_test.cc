// ECS services on a FakeTaskRuntime and a scripted ALB in virtual time: the rolling-update
// arithmetic, the circuit breaker's threshold, replacement of stopped tasks, target
// registration and draining, and the service event texts (aws-semantics §2.6-§2.9).
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ecs/service_math.h"
#include "unit/ecs/ecs_fixture.h"

namespace understudy::ecs {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

// The percent arithmetic of §2.6: floor for the maximum, ceil for the minimum.
TEST(ServiceMathTest, MaxTasksAndMinHealthy) {
  EXPECT_EQ(MaxTasks(4, 200), 8);
  EXPECT_EQ(MaxTasks(3, 125), 3);
  EXPECT_EQ(MaxTasks(2, 150), 3);
  EXPECT_EQ(MaxTasks(0, 200), 0);
  EXPECT_EQ(MinHealthy(4, 50), 2);
  EXPECT_EQ(MinHealthy(2, 75), 2);
  EXPECT_EQ(MinHealthy(3, 50), 2);
  EXPECT_EQ(MinHealthy(1, 0), 0);
}

// The breaker threshold of §2.7: clamp(ceil(desired / 2), 3, 200).
TEST(ServiceMathTest, FailureThreshold) {
  EXPECT_EQ(FailureThreshold(0), 3);
  EXPECT_EQ(FailureThreshold(1), 3);
  EXPECT_EQ(FailureThreshold(7), 4);
  EXPECT_EQ(FailureThreshold(25), 13);
  EXPECT_EQ(FailureThreshold(399), 200);
  EXPECT_EQ(FailureThreshold(1000), 200);
}

// Bases first, then weights: FARGATE base 1 weight 1, FARGATE_SPOT weight 3.
// The service throttle (aws-semantics §2.6): growing back-off, at most 15 minutes.
TEST(ServiceMathTest, StartBackoff) {
  using std::chrono::seconds;
  EXPECT_EQ(StartBackoff(0), Duration{0});
  EXPECT_EQ(StartBackoff(1), seconds(10));
  EXPECT_EQ(StartBackoff(2), seconds(20));
  EXPECT_EQ(StartBackoff(4), seconds(80));
  EXPECT_EQ(StartBackoff(7), seconds(640));
  EXPECT_EQ(StartBackoff(8), seconds(900));
  EXPECT_EQ(StartBackoff(1000), seconds(900));
}

TEST(ServiceMathTest, PickCapacityProvider) {
  Json strategy = Json::parse(R"([{"capacityProvider":"FARGATE","base":1,"weight":1},
                                  {"capacityProvider":"FARGATE_SPOT","weight":3}])");
  std::map<std::string, int64_t> counts;
  std::vector<std::string> picks;
  for (int i = 0; i < 5; ++i) {
    std::string p = PickCapacityProvider(strategy, counts);
    ++counts[p];
    picks.push_back(p);
  }
  // After the base, one FARGATE for every three FARGATE_SPOT (ties to the earlier item).
  EXPECT_THAT(picks,
              ElementsAre("FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE", "FARGATE_SPOT"));
  EXPECT_TRUE(IsDeploymentId("ecs-svc/1234567890123456789"));
  EXPECT_FALSE(IsDeploymentId("ecs-svc/123"));
}

class ServicesTest : public EcsFixture {
 protected:
  void SetUp() override {
    hold_limit_ = std::chrono::milliseconds(1);
    options_.load_balancing.target_group =
        [this](const Scope&, const std::string& arn) -> std::optional<TargetGroupInfo> {
      if (arn.find("missing") != std::string::npos) return std::nullopt;
      TargetGroupInfo info;
      if (arn.find("detached") == std::string::npos) info.load_balancer_arns = {"lb"};
      info.deregistration_delay_seconds = 10;
      return info;
    };
    options_.load_balancing.register_target = [this](const Scope&, const std::string& tg,
                                                     const std::string& id, int port) {
      targets_[Target(tg, id, port)] = "initial";
      return Status::Ok();
    };
    options_.load_balancing.deregister_target = [this](const Scope&, const std::string& tg,
                                                       const std::string& id, int port) {
      targets_[Target(tg, id, port)] = "draining";
      return Status::Ok();
    };
    options_.load_balancing.target_health = [this](const Scope&, const std::string& tg,
                                                   const std::string& id, int port) {
      auto it = targets_.find(Target(tg, id, port));
      std::string state = it == targets_.end() ? "unused" : it->second;
      return TargetState{state, "", state == "unhealthy" ? "Health checks failed" : ""};
    };
    options_.load_balancing.port_accepts = [](std::optional<int>, const std::string&, int) {
      return true;
    };
    EcsFixture::SetUp();
    ASSERT_EQ(Call("CreateCluster", {{"clusterName", "web"}}).first, 200);
    Register("app", "app:1");
  }

  static std::string Target(const std::string& tg, const std::string& id, int port) {
    return tg + " " + id + ":" + std::to_string(port);
  }
  void Register(const std::string& name, const std::string& image) {
    Json c{{"name", name},
           {"image", image},
           {"memory", 64},
           {"command", {"/bin/" + name}},
           {"portMappings", {{{"containerPort", 8080}}}}};
    ASSERT_EQ(Call("RegisterTaskDefinition",
                   {{"family", "app"}, {"networkMode", "bridge"}, {"containerDefinitions", {c}}})
                  .first,
              200);
  }
  // Moves the clock by `by`, running the loop until it gets there.
  void Advance(Duration by) {
    bool reached = false;
    ASSERT_TRUE(clock_->AdvanceTo(clock_->Now() + by, [&] { reached = true; }).ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reached && std::chrono::steady_clock::now() < deadline) {
      loop_.io().run_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(reached);
    loop_.RunUntilIdleForTest();
  }
  Json Service(const std::string& name = "api") {
    return Call("DescribeServices", {{"cluster", "web"}, {"services", {name}}})
        .second["services"][0];
  }
  // Messages of the service's events, oldest first, with task ids and ARNs as <id>, <tg>.
  std::vector<std::string> Events(const std::string& name = "api") {
    std::vector<std::string> out;
    Json service = Service(name);  // kept alive: the loop walks into it
    for (const auto& e : service["events"]) out.insert(out.begin(), e["message"]);
    return out;
  }
  std::vector<std::string> RunningTasks() {
    auto [status, body] = Call("ListTasks", {{"cluster", "web"}, {"serviceName", "api"}});
    std::vector<std::string> out;
    for (const auto& a : body["taskArns"]) out.push_back(a.get<std::string>());
    return out;
  }
  static std::string Id(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }
  void MarkAll(const std::string& from, const std::string& to) {
    for (auto& [k, v] : targets_) {
      if (v == from) v = to;
    }
  }

  std::map<std::string, std::string> targets_;  // "tg id:port" -> state
};

// CreateService starts desiredCount tasks of the deployment; without health checks or a
// load balancer they count healthy 40 s after RUNNING, then the deployment completes.
TEST_F(ServicesTest, CreateReachesSteadyState) {
  auto [status, body] = Call(
      "CreateService",
      {{"cluster", "web"}, {"serviceName", "api"}, {"taskDefinition", "app"}, {"desiredCount", 2}});
  ASSERT_EQ(status, 200) << body.dump();
  const Json& service = body["service"];
  EXPECT_EQ(service["serviceArn"], "arn:aws:ecs:us-east-1:000000000000:service/web/api");
  EXPECT_EQ(service["deploymentConfiguration"]["maximumPercent"], 200);
  EXPECT_EQ(service["deploymentConfiguration"]["minimumHealthyPercent"], 100);
  std::string deployment = service["deployments"][0]["id"];
  EXPECT_THAT(deployment, MatchesRegex("ecs-svc/[0-9]{19}"));
  loop_.RunUntilIdleForTest();
  auto tasks = RunningTasks();
  ASSERT_EQ(tasks.size(), 2u);
  Json task = Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {tasks[0]}}}).second["tasks"][0];
  EXPECT_EQ(task["startedBy"], deployment);
  EXPECT_EQ(task["group"], "service:api");
  EXPECT_EQ(task["lastStatus"], "RUNNING");
  EXPECT_EQ(Service()["runningCount"], 2);
  EXPECT_EQ(Service()["deployments"][0]["rolloutState"], "IN_PROGRESS");
  Advance(std::chrono::seconds(45));
  Json now = Service();
  EXPECT_EQ(now["deployments"].size(), 1u);
  EXPECT_EQ(now["deployments"][0]["rolloutState"], "COMPLETED");
  EXPECT_EQ(now["deployments"][0]["rolloutStateReason"],
            "ECS deployment " + deployment + " completed.");
  std::set<std::string> ids{Id(tasks[0]), Id(tasks[1])};
  auto events = Events();
  ASSERT_EQ(events.size(), 3u) << now.dump();
  EXPECT_THAT(events[0],
              MatchesRegex("\\(service api\\) has started 2 tasks: \\(task [0-9a-f]{32}\\) "
                           "\\(task [0-9a-f]{32}\\)\\."));
  EXPECT_EQ(events[1], "(service api) (deployment " + deployment + ") deployment completed.");
  EXPECT_EQ(events[2], "(service api) has reached a steady state.");
  // The bus carried the deployment's and the service's state changes.
  std::vector<std::string> names;
  for (const auto& e : bus_.recent()) {
    if (e["detail-type"] != "ECS Task State Change") names.push_back(e["detail"]["eventName"]);
  }
  EXPECT_THAT(names, ElementsAre("SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED",
                                 "SERVICE_STEADY_STATE"));
}

// A task that stops by itself is replaced; scaling down stops the surplus with ECS's reason.
TEST_F(ServicesTest, ReplacesStoppedTasksAndScales) {
  Call(
      "CreateService",
      {{"cluster", "web"}, {"serviceName", "api"}, {"taskDefinition", "app"}, {"desiredCount", 1}});
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(45));
  auto first = RunningTasks();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(runtime_.Exit("app", 1));
  loop_.RunUntilIdleForTest();
  auto second = RunningTasks();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0], first[0]);
  EXPECT_EQ(Events().back(), "(service api) has started 1 tasks: (task " + Id(second[0]) + ").");
  Advance(std::chrono::seconds(45));
  EXPECT_EQ(Events().back(), "(service api) has reached a steady state.");

  ASSERT_EQ(
      Call("UpdateService", {{"cluster", "web"}, {"service", "api"}, {"desiredCount", 3}}).first,
      200);
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(RunningTasks().size(), 3u);
  Advance(std::chrono::seconds(45));
  ASSERT_EQ(
      Call("UpdateService", {{"cluster", "web"}, {"service", "api"}, {"desiredCount", 1}}).first,
      200);
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(1));
  EXPECT_THAT(Events(),
              ::testing::Contains(MatchesRegex(
                  "\\(service api\\) has stopped 2 running tasks: \\(task [0-9a-f]{32}\\) "
                  "\\(task [0-9a-f]{32}\\)\\.")));
  Json stopped = Call("ListTasks", {{"cluster", "web"}, {"desiredStatus", "STOPPED"}}).second;
  int scaled_in = 0;
  for (const auto& arn : stopped["taskArns"]) {
    Json task = Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {arn}}}).second["tasks"][0];
    if (task["stopCode"] != "ServiceSchedulerInitiated") continue;
    ++scaled_in;
    EXPECT_THAT(task["stoppedReason"].get<std::string>(),
                MatchesRegex("Scaling activity initiated by \\(deployment ecs-svc/[0-9]{19}\\)"));
  }
  EXPECT_EQ(scaled_in, 2);
}

// A rolling update behind a load balancer: start new, register, stop old, deregister,
// drain for the deregistration delay, then SIGTERM; events in ECS's order and words.
TEST_F(ServicesTest, RollingUpdateBehindALoadBalancer) {
  const std::string tg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/api/1";
  auto [status, body] =
      Call("CreateService",
           {{"cluster", "web"},
            {"serviceName", "api"},
            {"taskDefinition", "app"},
            {"desiredCount", 1},
            {"loadBalancers",
             {{{"targetGroupArn", tg}, {"containerName", "app"}, {"containerPort", 8080}}}}});
  ASSERT_EQ(status, 200) << body.dump();
  std::string first_deployment = body["service"]["deployments"][0]["id"];
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(targets_.size(), 1u);
  // Bridge mode: the task's host port on 127.0.0.1.
  EXPECT_EQ(targets_.begin()->first.rfind(tg + " 127.0.0.1:", 0), 0u) << targets_.begin()->first;
  MarkAll("initial", "healthy");
  Advance(std::chrono::seconds(5));
  EXPECT_EQ(Events().back(), "(service api) has reached a steady state.");
  std::string old_task = Id(RunningTasks()[0]);
  int old_pid = runtime_.started.back().pid;

  Register("app", "app:2");
  auto [s2, updated] =
      Call("UpdateService", {{"cluster", "web"}, {"service", "api"}, {"taskDefinition", "app:2"}});
  ASSERT_EQ(s2, 200) << updated.dump();
  std::string second_deployment = updated["service"]["deployments"][0]["id"];
  EXPECT_EQ(updated["service"]["deployments"][1]["status"], "ACTIVE");
  loop_.RunUntilIdleForTest();
  Json during = Service();
  ASSERT_EQ(during["deployments"].size(), 2u);
  EXPECT_EQ(during["deployments"][0]["runningCount"], 1);
  EXPECT_EQ(during["deployments"][1]["runningCount"], 1);
  MarkAll("initial", "healthy");
  Advance(std::chrono::seconds(5));
  // The old task drains for 10 s before it is signalled.
  EXPECT_TRUE(runtime_.SignalsTo(old_pid).empty());
  Json old = Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {old_task}}}).second["tasks"][0];
  EXPECT_EQ(old["lastStatus"], "DEACTIVATING");
  EXPECT_EQ(old["desiredStatus"], "STOPPED");
  Advance(std::chrono::seconds(10));
  EXPECT_THAT(runtime_.SignalsTo(old_pid), ElementsAre(SIGTERM));
  ASSERT_TRUE(runtime_.Exit("app", 143));
  Advance(std::chrono::seconds(5));
  auto events = Events();
  std::string new_task = Id(RunningTasks()[0]);
  std::vector<std::string> tail(events.end() - 7, events.end());
  EXPECT_THAT(
      tail,
      ElementsAre("(service api) has started 1 tasks: (task " + new_task + ").",
                  "(service api) registered 1 targets in (target-group " + tg + ")",
                  "(service api) has stopped 1 running tasks: (task " + old_task + ").",
                  "(service api) deregistered 1 targets in (target-group " + tg + ")",
                  "(service api, taskSet " + first_deployment +
                      ") has begun draining connections on 1 tasks.",
                  "(service api) (deployment " + second_deployment + ") deployment completed.",
                  "(service api) has reached a steady state."));
  Json done = Service();
  EXPECT_EQ(done["deployments"].size(), 1u);
  EXPECT_EQ(done["taskDefinition"], "arn:aws:ecs:us-east-1:000000000000:task-definition/app:2");
}

// A task the target group reports unhealthy after the grace period is replaced, with
// ECS's event and stoppedReason.
TEST_F(ServicesTest, ReplacesTasksTheLoadBalancerReportsUnhealthy) {
  const std::string tg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/api/1";
  Call("CreateService",
       {{"cluster", "web"},
        {"serviceName", "api"},
        {"taskDefinition", "app"},
        {"desiredCount", 1},
        {"healthCheckGracePeriodSeconds", 30},
        {"loadBalancers",
         {{{"targetGroupArn", tg}, {"containerName", "app"}, {"containerPort", 8080}}}}});
  loop_.RunUntilIdleForTest();
  std::string task = Id(RunningTasks()[0]);
  ASSERT_EQ(targets_.size(), 1u);
  std::string port = targets_.begin()->first.substr(targets_.begin()->first.rfind(':') + 1);
  MarkAll("initial", "unhealthy");
  Advance(std::chrono::seconds(20));  // within the grace period
  EXPECT_EQ(RunningTasks().size(), 1u);
  Advance(std::chrono::seconds(15));
  auto events = Events();
  EXPECT_THAT(events, ::testing::Contains("(service api) (task " + task + ") (port " + port +
                                          ") is unhealthy in (target-group " + tg +
                                          ") due to (reason Health checks failed)."));
  EXPECT_THAT(events, ::testing::Contains(MatchesRegex(
                          "\\(service api\\) has started 1 tasks: \\(task [0-9a-f]{32}\\)\\. "
                          "Amazon ECS replaced 1 tasks due to an unhealthy status\\.")));
  Json old = Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {task}}}).second["tasks"][0];
  EXPECT_EQ(old["stopCode"], "ServiceSchedulerInitiated");
  EXPECT_EQ(old["stoppedReason"], "Task failed ELB health checks in (target-group " + tg + ")");
}

// A deployment whose tasks cannot start trips the breaker after clamp(ceil(n/2), 3, 200)
// failures, is FAILED, and the service rolls back to the last completed deployment.
TEST_F(ServicesTest, CircuitBreakerRollsBack) {
  auto [status, body] = Call(
      "CreateService", {{"cluster", "web"},
                        {"serviceName", "api"},
                        {"taskDefinition", "app"},
                        {"desiredCount", 1},
                        {"deploymentConfiguration",
                         {{"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}}}}});
  ASSERT_EQ(status, 200) << body.dump();
  std::string good = body["service"]["deployments"][0]["id"];
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(45));
  Register("bad", "bad:1");
  runtime_.fail_names["bad"] = "exec format error";
  auto [s2, updated] =
      Call("UpdateService", {{"cluster", "web"}, {"service", "api"}, {"taskDefinition", "app:2"}});
  ASSERT_EQ(s2, 200);
  std::string bad = updated["service"]["deployments"][0]["id"];
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(45));
  Json now = Service();
  ASSERT_EQ(now["deployments"].size(), 1u) << now["deployments"].dump();
  EXPECT_EQ(now["deployments"][0]["id"], good);
  EXPECT_EQ(now["deployments"][0]["rolloutState"], "COMPLETED");
  EXPECT_EQ(now["taskDefinition"], "arn:aws:ecs:us-east-1:000000000000:task-definition/app:1");
  auto events = Events();
  EXPECT_THAT(events, ::testing::Contains("(service api) (deployment " + bad +
                                          ") deployment failed: tasks failed to start."));
  EXPECT_THAT(events,
              ::testing::Contains("(service api) rolling back to deployment " + good + "."));
  EXPECT_EQ(events.back(), "(service api) has reached a steady state.");
  int failures = 0;
  for (const auto& e : bus_.recent()) {
    if (e["detail-type"] == "ECS Deployment State Change" &&
        e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED") {
      ++failures;
      EXPECT_EQ(e["detail"]["reason"], "ECS deployment circuit breaker: task failed to start.");
    }
  }
  EXPECT_EQ(failures, 1);
}

// DAEMON: one task on the one container instance (this machine), no desiredCount, and
// ECS's errors for what the strategy does not take.
TEST_F(ServicesTest, DaemonRunsOneTaskPerInstance) {
  auto [status, body] = Call("CreateService", {{"cluster", "web"},
                                               {"serviceName", "agent"},
                                               {"taskDefinition", "app"},
                                               {"schedulingStrategy", "DAEMON"}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["service"]["schedulingStrategy"], "DAEMON");
  EXPECT_EQ(body["service"]["desiredCount"], 1);
  EXPECT_EQ(body["service"]["deploymentConfiguration"]["maximumPercent"], 100);
  EXPECT_EQ(body["service"]["deploymentConfiguration"]["minimumHealthyPercent"], 0);
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(45));
  EXPECT_EQ(Service("agent")["runningCount"], 1);
  auto [s2, refused] =
      Call("UpdateService", {{"cluster", "web"}, {"service", "agent"}, {"desiredCount", 2}});
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(refused["message"],
            "The daemon scheduling strategy does not support a desired count for services. "
            "Remove the desired count value and try again");
  auto [s3, fargate] = Call("CreateService", {{"cluster", "web"},
                                              {"serviceName", "agent2"},
                                              {"taskDefinition", "app"},
                                              {"launchType", "FARGATE"},
                                              {"schedulingStrategy", "DAEMON"}});
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(fargate["__type"], "InvalidParameterException");
  auto [s4, counted] = Call("CreateService", {{"cluster", "web"},
                                              {"serviceName", "agent3"},
                                              {"taskDefinition", "app"},
                                              {"desiredCount", 1},
                                              {"schedulingStrategy", "DAEMON"}});
  EXPECT_EQ(s4, 400);
  // A DAEMON service is deleted without scaling it to 0 first.
  EXPECT_EQ(Call("DeleteService", {{"cluster", "web"}, {"service", "agent"}}).first, 200);
}

// minimumHealthyPercent = maximumPercent = 100 can neither start nor stop: the stall event.
TEST_F(ServicesTest, StallsWhenNeitherStartNorStopIsAllowed) {
  Call("CreateService",
       {{"cluster", "web"},
        {"serviceName", "api"},
        {"taskDefinition", "app"},
        {"desiredCount", 1},
        {"deploymentConfiguration", {{"maximumPercent", 100}, {"minimumHealthyPercent", 100}}}});
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(45));
  Call("UpdateService", {{"cluster", "web"}, {"service", "api"}, {"forceNewDeployment", true}});
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(5));
  EXPECT_EQ(Events().back(),
            "(service api) was unable to stop or start tasks during a deployment because of the "
            "service deployment configuration. Update the minimumHealthyPercent or maximumPercent "
            "value and try again.");
}

// CreateService's checks of loadBalancers and deploymentConfiguration, in ECS's words.
TEST_F(ServicesTest, CreateErrors) {
  auto error = [&](Json extra) {
    Json input{
        {"cluster", "web"}, {"serviceName", "api"}, {"taskDefinition", "app"}, {"desiredCount", 1}};
    input.update(extra);
    auto [status, body] = Call("CreateService", input);
    EXPECT_EQ(status, 400);
    return body.value("__type", "") + ": " + body.value("message", "");
  };
  auto lb = [](const std::string& tg, const std::string& container, int port) {
    return Json{
        {"loadBalancers",
         {{{"targetGroupArn", tg}, {"containerName", container}, {"containerPort", port}}}}};
  };
  EXPECT_EQ(error(lb("arn:tg/detached", "app", 8080)),
            "InvalidParameterException: The target group with targetGroupArn arn:tg/detached does "
            "not have an associated load balancer.");
  EXPECT_EQ(error(lb("arn:tg/a", "web", 8080)),
            "InvalidParameterException: The container web does not exist in the task definition.");
  EXPECT_EQ(error(lb("arn:tg/a", "app", 80)),
            "InvalidParameterException: The container app did not have a container port 80 "
            "defined.");
  EXPECT_EQ(error(lb("arn:tg/missing", "app", 8080)),
            "InvalidParameterException: Unable to assume role and validate the specified "
            "targetGroupArn. Please verify that the ECS service role being passed has the proper "
            "permissions.");
  EXPECT_EQ(error({{"deploymentConfiguration", {{"maximumPercent", 50}}}}),
            "InvalidParameterException: maximumPercent must be greater than or equal to 100 for "
            "the REPLICA scheduling strategy.");
  EXPECT_EQ(error({{"cluster", "nope"}}), "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(error({{"taskDefinition", "nope"}}),
            "InvalidParameterException: TaskDefinition not found.");
  ASSERT_EQ(Call("CreateService", {{"cluster", "web"},
                                   {"serviceName", "api"},
                                   {"taskDefinition", "app"},
                                   {"desiredCount", 0}})
                .first,
            200);
  EXPECT_EQ(error(Json::object()),
            "InvalidParameterException: Creation of service was not idempotent.");
  auto [status, body] =
      Call("UpdateService", {{"cluster", "web"}, {"service", "nope"}, {"desiredCount", 1}});
  EXPECT_EQ(body["__type"], "ServiceNotFoundException");
}

// Describe reports missing services as failures; delete drains to INACTIVE; tags; paging.
TEST_F(ServicesTest, DescribeListDeleteAndTags) {
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_EQ(Call("CreateService", {{"cluster", "web"},
                                     {"serviceName", name},
                                     {"taskDefinition", "app"},
                                     {"desiredCount", 0},
                                     {"tags", {{{"key", "team"}, {"value", "x"}}}}})
                  .first,
              200);
  }
  auto [s, described] = Call(
      "DescribeServices", {{"cluster", "web"}, {"services", {"a", "zzz"}}, {"include", {"TAGS"}}});
  EXPECT_EQ(described["services"][0]["tags"][0]["key"], "team");
  EXPECT_EQ(described["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:service/web/zzz");
  EXPECT_EQ(described["failures"][0]["reason"], "MISSING");
  auto [s1, page1] = Call("ListServices", {{"cluster", "web"}, {"maxResults", 2}});
  ASSERT_EQ(page1["serviceArns"].size(), 2u);
  auto [s2, page2] = Call("ListServices", {{"cluster", "web"}, {"nextToken", page1["nextToken"]}});
  ASSERT_EQ(page2["serviceArns"].size(), 1u);
  std::string arn = "arn:aws:ecs:us-east-1:000000000000:service/web/b";
  ASSERT_EQ(
      Call("TagResource", {{"resourceArn", arn}, {"tags", {{{"key", "k"}, {"value", "v"}}}}}).first,
      200);
  EXPECT_EQ(Call("ListTagsForResource", {{"resourceArn", arn}}).second["tags"].size(), 2u);
  auto [sd, deleted] = Call("DeleteService", {{"cluster", "web"}, {"service", "b"}});
  ASSERT_EQ(sd, 200);
  EXPECT_EQ(deleted["service"]["status"], "DRAINING");
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(Service("b")["status"], "INACTIVE");
  EXPECT_EQ(Call("ListServices", {{"cluster", "web"}}).second["serviceArns"].size(), 2u);
}

}  // namespace
}  // namespace understudy::ecs
