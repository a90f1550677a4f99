// ECS tasks on a FakeTaskRuntime in virtual time: the lifecycle, stop codes and
// reasons, SIGTERM then SIGKILL after stopTimeout, and ECS's errors (aws-semantics §2.2-§2.4).
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/ecs/ecs_fixture.h"

namespace understudy::ecs {
namespace {

class TasksTest : public EcsFixture {
 protected:
  void SetUp() override {
    EcsFixture::SetUp();
    ASSERT_EQ(Call("CreateCluster", {{"clusterName", "web"}}).first, 200);
    Json app{{"name", "app"},
             {"image", "app:1"},
             {"memory", 128},
             {"entryPoint", {"/bin/app"}},
             {"command", {"--port", "8080"}},
             {"environment", {{{"name", "GREETING"}, {"value", "hi"}}}},
             {"stopTimeout", 10}};
    Json sidecar{{"name", "sidecar"},
                 {"image", "side:1"},
                 {"memory", 64},
                 {"essential", false},
                 {"command", {"/bin/side"}}};
    ASSERT_EQ(Call("RegisterTaskDefinition",
                   {{"family", "app"}, {"containerDefinitions", {app, sidecar}}})
                  .first,
              200);
  }

  // Runs one task of app:1 and lets it reach RUNNING; returns its ARN.
  std::string RunOne(Json extra = Json::object()) {
    Json input{{"cluster", "web"}, {"taskDefinition", "app"}};
    input.update(extra);
    auto [status, body] = Call("RunTask", input);
    EXPECT_EQ(status, 200) << body.dump();
    loop_.RunUntilIdleForTest();
    return body["tasks"][0]["taskArn"].get<std::string>();
  }

  Json Describe(const std::string& arn) {
    return Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {arn}}}).second["tasks"][0];
  }

  std::vector<std::string> Transitions(const std::string& arn) {
    std::vector<std::string> out;
    auto entries = journal_->Read(0, 1000);
    for (const auto& e : entries.value()) {
      if (e.kind == JournalKind::kTransition && e.subject == arn &&
          e.detail.contains("lastStatus") && !e.detail.contains("container")) {
        out.push_back(e.detail["lastStatus"].get<std::string>());
      }
    }
    return out;
  }
};

// RunTask answers PROVISIONING; the task then starts every container and is RUNNING.
TEST_F(TasksTest, RunReachesRunning) {
  auto [status, body] =
      Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "app"}, {"startedBy", "ci"}});
  ASSERT_EQ(status, 200);
  const Json& task = body["tasks"][0];
  EXPECT_EQ(task["lastStatus"], "PROVISIONING");
  EXPECT_EQ(task["desiredStatus"], "RUNNING");
  EXPECT_EQ(task["group"], "family:app");
  EXPECT_EQ(task["launchType"], "EC2");
  EXPECT_EQ(task["startedBy"], "ci");
  EXPECT_EQ(task["taskDefinitionArn"], "arn:aws:ecs:us-east-1:000000000000:task-definition/app:1");
  EXPECT_THAT(task["taskArn"].get<std::string>(),
              ::testing::MatchesRegex("arn:aws:ecs:us-east-1:000000000000:task/web/[0-9a-f]{32}"));
  EXPECT_EQ(body["failures"], Json::array());
  loop_.RunUntilIdleForTest();
  Json running = Describe(task["taskArn"]);
  EXPECT_EQ(running["lastStatus"], "RUNNING");
  EXPECT_TRUE(running.contains("startedAt"));
  EXPECT_TRUE(running.contains("pullStartedAt"));
  EXPECT_EQ(running["connectivity"], "CONNECTED");
  EXPECT_EQ(running["containers"][0]["lastStatus"], "RUNNING");
  EXPECT_EQ(running["containers"][0]["runtimeId"], "1000");
  EXPECT_EQ(Transitions(task["taskArn"]),
            (std::vector<std::string>{"PROVISIONING", "PENDING", "RUNNING"}));
  ASSERT_EQ(runtime_.started.size(), 2u);
  const auto& spec = runtime_.started[0].spec;
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/bin/app", "--port", "8080"}));
  std::map<std::string, std::string> env(spec.environment.begin(), spec.environment.end());
  EXPECT_EQ(env["GREETING"], "hi");
  EXPECT_EQ(env["AWS_REGION"], "us-east-1");
  EXPECT_EQ(env["AWS_ACCESS_KEY_ID"], "test");
  auto counts = Call("DescribeClusters", {{"clusters", {"web"}}}).second["clusters"][0];
  EXPECT_EQ(counts["runningTasksCount"], 1);
  // A standalone task holds the clock while it runs.
  EXPECT_EQ(clock_->active_holds(), 1u);
}

// StopTask answers with desiredStatus STOPPED and the reason; SIGTERM, then exit 143, then STOPPED.
// propagateTags TASK_DEFINITION copies the revision's tags to the task; tags given
// to RunTask win. SERVICE is only for a service's tasks.
TEST_F(TasksTest, PropagateTagsFromTheTaskDefinition) {
  ASSERT_EQ(
      Call("RegisterTaskDefinition",
           {{"family", "tagged"},
            {"containerDefinitions",
             {{{"name", "app"}, {"image", "app:1"}, {"memory", 64}, {"command", {"/bin/app"}}}}},
            {"tags", {{{"key", "team"}, {"value", "pay"}}, {{"key", "tier"}, {"value", "web"}}}}})
          .first,
      200);
  auto [status, body] = Call("RunTask", {{"cluster", "web"},
                                         {"taskDefinition", "tagged"},
                                         {"propagateTags", "TASK_DEFINITION"},
                                         {"tags", {{{"key", "tier"}, {"value", "batch"}}}}});
  ASSERT_EQ(status, 200) << body.dump();
  Json described =
      Call("DescribeTasks",
           {{"cluster", "web"}, {"tasks", {body["tasks"][0]["taskArn"]}}, {"include", {"TAGS"}}})
          .second["tasks"][0];
  EXPECT_EQ(described["tags"], Json::parse(R"([{"key":"tier","value":"batch"},
                                               {"key":"team","value":"pay"}])"));
  auto [refused, error] = Call(
      "RunTask", {{"cluster", "web"}, {"taskDefinition", "tagged"}, {"propagateTags", "SERVICE"}});
  EXPECT_EQ(refused, 400);
  EXPECT_EQ(error["__type"], "InvalidParameterException");
}

TEST_F(TasksTest, StopTaskByUser) {
  std::string arn = RunOne();
  auto [status, body] = Call("StopTask", {{"cluster", "web"}, {"task", arn}, {"reason", "deploy"}});
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["task"]["lastStatus"], "RUNNING");
  EXPECT_EQ(body["task"]["desiredStatus"], "STOPPED");
  EXPECT_EQ(body["task"]["stopCode"], "UserInitiated");
  EXPECT_EQ(body["task"]["stoppedReason"], "deploy");
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(Describe(arn)["lastStatus"], "STOPPING");
  EXPECT_EQ(runtime_.SignalsTo(1001), std::vector<int>{SIGTERM});  // reverse order: sidecar first
  EXPECT_EQ(runtime_.SignalsTo(1000), std::vector<int>{SIGTERM});
  runtime_.Exit("sidecar", 143, SIGTERM);
  runtime_.Exit("app", 143, SIGTERM);
  Json stopped = Describe(arn);
  EXPECT_EQ(stopped["lastStatus"], "STOPPED");
  EXPECT_EQ(stopped["containers"][0]["exitCode"], 143);
  EXPECT_TRUE(stopped.contains("stoppedAt"));
  EXPECT_TRUE(stopped.contains("executionStoppedAt"));
  EXPECT_EQ(Transitions(arn),
            (std::vector<std::string>{"PROVISIONING", "PENDING", "RUNNING", "DEACTIVATING",
                                      "STOPPING", "DEPROVISIONING", "STOPPED"}));
  EXPECT_EQ(clock_->active_holds(), 0u);
  EXPECT_EQ(Call("ListTasks", {{"cluster", "web"}}).second["taskArns"], Json::array());
  EXPECT_EQ(
      Call("ListTasks", {{"cluster", "web"}, {"desiredStatus", "STOPPED"}}).second["taskArns"],
      Json::array({arn}));
}

class TasksShortHoldTest : public TasksTest {
 protected:
  void SetUp() override {
    hold_limit_ = std::chrono::milliseconds(1);
    TasksTest::SetUp();
  }
};

// A container that ignores SIGTERM gets SIGKILL after its stopTimeout of clock time,
// and the task holds the clock again until the killed process exits.
TEST_F(TasksShortHoldTest, SigkillAfterStopTimeout) {
  std::string arn = RunOne();
  runtime_.Exit("sidecar", 0);
  Call("StopTask", {{"cluster", "web"}, {"task", arn}});
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(runtime_.SignalsTo(1000), std::vector<int>{SIGTERM});
  TimePoint stop_at = clock_->Now();
  bool reached = false;
  ASSERT_TRUE(clock_->AdvanceTo(stop_at + std::chrono::seconds(10), [&] { reached = true; }).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!reached && std::chrono::steady_clock::now() < deadline) {
    loop_.io().run_for(std::chrono::milliseconds(5));  // holds expire in real time
  }
  ASSERT_TRUE(reached);
  EXPECT_EQ(runtime_.SignalsTo(1000), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(Describe(arn)["lastStatus"], "STOPPING");
  runtime_.Exit("app", 137, SIGKILL);
  Json task = Describe(arn);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["containers"][0]["exitCode"], 137);
  EXPECT_EQ(task["stoppedAt"], ToEpochSeconds(stop_at + std::chrono::seconds(10)));
}

// An essential container exiting stops the task with EssentialContainerExited; a
// non-essential one exiting does not.
TEST_F(TasksTest, EssentialContainerExit) {
  std::string arn = RunOne();
  runtime_.Exit("sidecar", 0);
  EXPECT_EQ(Describe(arn)["lastStatus"], "RUNNING");
  runtime_.Exit("app", 1);
  Json task = Describe(arn);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stopCode"], "EssentialContainerExited");
  EXPECT_EQ(task["stoppedReason"], "Essential container in task exited");
  EXPECT_EQ(task["containers"][0]["exitCode"], 1);
  EXPECT_EQ(task["containers"][1]["exitCode"], 0);
}

// A container that cannot start stops the task with TaskFailedToStart and the runtime's words.
TEST_F(TasksTest, CannotStartContainer) {
  runtime_.fail_names["sidecar"] = "exec: \"/bin/side\": executable file not found in $PATH";
  std::string arn = RunOne();
  EXPECT_EQ(runtime_.SignalsTo(1000), std::vector<int>{SIGTERM});
  runtime_.Exit("app", 143, SIGTERM);
  Json task = Describe(arn);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stopCode"], "TaskFailedToStart");
  EXPECT_EQ(task["stoppedReason"],
            "CannotStartContainerError: exec: \"/bin/side\": executable file not found in $PATH");
  EXPECT_EQ(task["containers"][1]["reason"], task["stoppedReason"]);
  EXPECT_EQ(task["containers"][1]["lastStatus"], "STOPPED");
}

// A container with neither entryPoint nor command cannot run as a host process.
TEST_F(TasksTest, NoCommand) {
  Json c{{"name", "web"}, {"image", "nginx:1"}, {"memory", 64}};
  Call("RegisterTaskDefinition", {{"family", "bare"}, {"containerDefinitions", {c}}});
  auto [status, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "bare"}});
  loop_.RunUntilIdleForTest();
  Json task = Describe(body["tasks"][0]["taskArn"]);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stoppedReason"],
            "CannotStartContainerError: container web (image nginx:1) has neither entryPoint nor "
            "command, and no --images entry matches the image");
  EXPECT_TRUE(runtime_.started.empty());
}

// RunTask and StopTask misuse gets ECS's errors and starts nothing.
TEST_F(TasksTest, Errors) {
  auto error = [&](const std::string& op, Json input) {
    auto [status, body] = Call(op, input);
    EXPECT_EQ(status, 400);
    return body["__type"].get<std::string>() + ": " + body["message"].get<std::string>();
  };
  EXPECT_EQ(error("RunTask", {{"cluster", "nope"}, {"taskDefinition", "app"}}),
            "ClusterNotFoundException: Cluster not found.");
  EXPECT_EQ(error("RunTask", {{"cluster", "web"}, {"taskDefinition", "ghost"}}),
            "InvalidParameterException: TaskDefinition not found.");
  EXPECT_EQ(error("RunTask", {{"cluster", "web"}, {"taskDefinition", "app"}, {"count", 11}}),
            "InvalidParameterException: count must be between 1 and 10.");
  EXPECT_EQ(
      error("RunTask", {{"cluster", "web"}, {"taskDefinition", "app"}, {"launchType", "FARGATE"}}),
      "ClientException: Task definition does not support launch_type FARGATE.");
  EXPECT_EQ(error("RunTask", {{"cluster", "web"},
                              {"taskDefinition", "app"},
                              {"overrides", {{"containerOverrides", {{{"name", "db"}}}}}}}),
            "InvalidParameterException: Override for container named db is not a container in the "
            "TaskDefinition.");
  Json fargate{{"family", "f"},
               {"networkMode", "awsvpc"},
               {"requiresCompatibilities", {"FARGATE"}},
               {"cpu", "256"},
               {"memory", "512"},
               {"containerDefinitions", {{{"name", "c"}, {"image", "i"}, {"command", {"x"}}}}}};
  ASSERT_EQ(Call("RegisterTaskDefinition", fargate).first, 200);
  EXPECT_EQ(
      error("RunTask", {{"cluster", "web"}, {"taskDefinition", "f"}, {"launchType", "FARGATE"}}),
      "InvalidParameterException: Network Configuration must be provided when networkMode "
      "'awsvpc' is specified.");
  EXPECT_EQ(error("StopTask", {{"cluster", "web"}, {"task", "0123"}}),
            "InvalidParameterException: The referenced task was not found.");
  EXPECT_TRUE(runtime_.started.empty());
  auto [status, body] = Call("DescribeTasks", {{"cluster", "web"}, {"tasks", {"abc"}}});
  EXPECT_EQ(body["failures"],
            Json::array({{{"arn", "arn:aws:ecs:us-east-1:000000000000:task/web/abc"},
                          {"reason", "MISSING"}}}));
}

// A cluster with tasks cannot be deleted.
TEST_F(TasksTest, ClusterWithTasksCannotBeDeleted) {
  RunOne();
  auto [status, body] = Call("DeleteCluster", {{"cluster", "web"}});
  EXPECT_EQ(body, Json({{"__type", "ClusterContainsTasksException"},
                        {"message", "The Cluster cannot be deleted while Tasks are active."}}));
}

// Overrides replace the command and add environment; count starts that many tasks.
TEST_F(TasksTest, OverridesAndCount) {
  Json overrides{{"containerOverrides",
                  {{{"name", "app"},
                    {"command", {"--once"}},
                    {"environment", {{{"name", "MODE"}, {"value", "job"}}}}}}}};
  auto [status, body] = Call(
      "RunTask",
      {{"cluster", "web"}, {"taskDefinition", "app:1"}, {"count", 3}, {"overrides", overrides}});
  EXPECT_EQ(body["tasks"].size(), 3u);
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(runtime_.started.size(), 6u);
  EXPECT_EQ(runtime_.started[0].spec.argv, (std::vector<std::string>{"/bin/app", "--once"}));
  std::map<std::string, std::string> env(runtime_.started[0].spec.environment.begin(),
                                         runtime_.started[0].spec.environment.end());
  EXPECT_EQ(env["MODE"], "job");
  EXPECT_EQ(Call("ListTasks", {{"cluster", "web"}, {"family", "app"}}).second["taskArns"].size(),
            3u);
}

// Tasks running when the emulator stopped are STOPPED after a restart, with the reason.
TEST_F(TasksTest, RestartStopsRunningTasks) {
  std::string arn = RunOne();
  Open();
  Json task = Describe(arn);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stopCode"], "TerminationNotice");
  EXPECT_EQ(task["stoppedReason"],
            "Task stopped because understudy restarted; its processes ended with the previous run");
}

}  // namespace
}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

// Containers with the awslogs driver write each output line to <prefix>/<container>/<task id>.
TEST_F(TasksTest, AwslogsDriver) {
  Json c{{"name", "web"},
         {"image", "i"},
         {"memory", 64},
         {"command", {"/bin/web"}},
         {"logConfiguration",
          {{"logDriver", "awslogs"},
           {"options", {{"awslogs-group", "/ecs/web"}, {"awslogs-stream-prefix", "svc"}}}}}};
  Call("RegisterTaskDefinition", {{"family", "logged"}, {"containerDefinitions", {c}}});
  auto [status, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "logged"}});
  loop_.RunUntilIdleForTest();
  std::string arn = body["tasks"][0]["taskArn"];
  std::string id = arn.substr(arn.rfind('/') + 1);
  ASSERT_EQ(logs_.streams, std::vector<std::string>{"/ecs/web svc/web/" + id});
  runtime_.started[0].callbacks.output("hello", false);
  runtime_.started[0].callbacks.output("oops", true);
  EXPECT_EQ(logs_.lines, (std::vector<std::string>{"/ecs/web svc/web/" + id + " hello",
                                                   "/ecs/web svc/web/" + id + " oops"}));
}

// A log group that does not exist fails the task like ECS's log driver does.
TEST_F(TasksTest, AwslogsMissingGroup) {
  Json c{{"name", "web"},
         {"image", "i"},
         {"memory", 64},
         {"command", {"/bin/web"}},
         {"logConfiguration",
          {{"logDriver", "awslogs"}, {"options", {{"awslogs-group", "missing"}}}}}};
  Call("RegisterTaskDefinition", {{"family", "logged"}, {"containerDefinitions", {c}}});
  auto [status, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "logged"}});
  loop_.RunUntilIdleForTest();
  Json task = Describe(body["tasks"][0]["taskArn"]);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stopCode"], "TaskFailedToStart");
  EXPECT_EQ(
      task["stoppedReason"],
      "ResourceInitializationError: failed to validate logger args: The specified log group does "
      "not exist.");
  EXPECT_TRUE(runtime_.started.empty());
}

}  // namespace
}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

// Every status change is published as "ECS Task State Change" in EventBridge's envelope.
TEST_F(TasksTest, TaskStateChangeEvents) {
  std::string arn = RunOne();
  std::vector<std::string> statuses;
  for (const auto& event : bus_.recent()) {
    EXPECT_EQ(event["detail-type"], "ECS Task State Change");
    EXPECT_EQ(event["source"], "aws.ecs");
    EXPECT_EQ(event["version"], "0");
    EXPECT_EQ(event["account"], "000000000000");
    EXPECT_EQ(event["region"], "us-east-1");
    EXPECT_EQ(event["resources"], Json::array({arn}));
    EXPECT_EQ(event["time"], "1970-01-01T00:00:00Z");
    EXPECT_EQ(event["detail"]["createdAt"], "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(event["detail"]["taskArn"], arn);
    statuses.push_back(event["detail"]["lastStatus"]);
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"PROVISIONING", "PENDING", "RUNNING"}));
  EXPECT_EQ(bus_.recent().back()["detail"]["startedAt"], "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

// A fixture whose holds expire at once, so tests can move virtual time while tasks run.
class HealthTest : public TasksTest {
 protected:
  void SetUp() override {
    hold_limit_ = std::chrono::milliseconds(1);
    TasksTest::SetUp();
  }

  // Moves the clock by `by`, running the loop in real time until it gets there.
  void Advance(Duration by) {
    bool reached = false;
    ASSERT_TRUE(clock_->AdvanceTo(clock_->Now() + by, [&] { reached = true; }).ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reached && std::chrono::steady_clock::now() < deadline) {
      loop_.io().run_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(reached);
  }

  std::vector<std::string> ProbeArgv() {
    for (auto it = runtime_.started.rbegin(); it != runtime_.started.rend(); ++it) {
      if (it->spec.name == "web-healthcheck") return it->spec.argv;
    }
    return {};
  }
};

// Probes every interval of clock time: HEALTHY on a pass, UNHEALTHY after `retries` failures;
// the task's health follows its essential containers, and a standalone task keeps running.
TEST_F(HealthTest, HealthCheckTransitions) {
  Json web{{"name", "web"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/web"}},
           {"healthCheck",
            {{"command", {"CMD-SHELL", "curl -f localhost/health"}},
             {"interval", 10},
             {"retries", 2},
             {"timeout", 5}}}};
  Call("RegisterTaskDefinition", {{"family", "hc"}, {"containerDefinitions", {web}}});
  auto [status, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "hc"}});
  std::string arn = body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(Describe(arn)["containers"][0]["healthStatus"], "UNKNOWN");
  Advance(std::chrono::seconds(10));
  EXPECT_EQ(ProbeArgv(), (std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost/health"}));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 0));
  Json task = Describe(arn);
  EXPECT_EQ(task["containers"][0]["healthStatus"], "HEALTHY");
  EXPECT_EQ(task["healthStatus"], "HEALTHY");
  Advance(std::chrono::seconds(10));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 1));
  EXPECT_EQ(Describe(arn)["healthStatus"], "HEALTHY");  // one failure of two allowed
  Advance(std::chrono::seconds(10));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 1));
  task = Describe(arn);
  EXPECT_EQ(task["containers"][0]["healthStatus"], "UNHEALTHY");
  EXPECT_EQ(task["healthStatus"], "UNHEALTHY");
  EXPECT_EQ(task["lastStatus"], "RUNNING");
}

// Failures inside startPeriod do not count; a pass inside it counts.
TEST_F(HealthTest, StartPeriod) {
  Json web{{"name", "web"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/web"}},
           {"healthCheck",
            {{"command", {"CMD", "/bin/check", "--quick"}},
             {"interval", 5},
             {"retries", 1},
             {"startPeriod", 12}}}};
  Call("RegisterTaskDefinition", {{"family", "hc"}, {"containerDefinitions", {web}}});
  auto [status, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "hc"}});
  std::string arn = body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(5));
  EXPECT_EQ(ProbeArgv(), (std::vector<std::string>{"/bin/check", "--quick"}));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 1));
  Advance(std::chrono::seconds(5));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 1));
  EXPECT_EQ(Describe(arn)["containers"][0]["healthStatus"],
            "UNKNOWN");  // still in the start period
  Advance(std::chrono::seconds(5));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 1));
  EXPECT_EQ(Describe(arn)["containers"][0]["healthStatus"], "UNHEALTHY");
}

// dependsOn SUCCESS: the app starts after its init container exits 0, and the task is
// RUNNING only then; an init that fails stops the task.
TEST_F(HealthTest, DependsOnSuccess) {
  Json init{{"name", "init"},
            {"image", "i"},
            {"memory", 64},
            {"essential", false},
            {"command", {"/bin/migrate"}}};
  Json app{{"name", "app"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/app"}},
           {"dependsOn", {{{"containerName", "init"}, {"condition", "SUCCESS"}}}}};
  Call("RegisterTaskDefinition", {{"family", "dep"}, {"containerDefinitions", {init, app}}});
  auto [s1, ok_body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "dep"}});
  std::string ok_arn = ok_body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(runtime_.started.size(), 1u);
  EXPECT_EQ(Describe(ok_arn)["lastStatus"], "PENDING");
  ASSERT_TRUE(runtime_.Exit("init", 0));
  ASSERT_EQ(runtime_.started.size(), 2u);
  EXPECT_EQ(runtime_.started[1].spec.name, "app");
  EXPECT_EQ(Describe(ok_arn)["lastStatus"], "RUNNING");

  auto [s2, bad_body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "dep"}});
  std::string bad_arn = bad_body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  ASSERT_TRUE(runtime_.Exit("init", 2));
  Json task = Describe(bad_arn);
  EXPECT_EQ(task["lastStatus"], "STOPPED");
  EXPECT_EQ(task["stopCode"], "TaskFailedToStart");
  EXPECT_EQ(task["stoppedReason"],
            "CannotStartContainerError: dependency graph: container app cannot start: init "
            "exited with 2, not 0 (SUCCESS)");
}

// dependsOn HEALTHY waits for the dependency's health check; startTimeout bounds the wait.
TEST_F(HealthTest, DependsOnHealthyAndStartTimeout) {
  Json db{{"name", "web"},
          {"image", "db"},
          {"memory", 64},
          {"command", {"/bin/db"}},
          {"healthCheck", {{"command", {"CMD", "/bin/ready"}}, {"interval", 5}}}};
  Json app{
      {"name", "app"},      {"image", "i"},
      {"memory", 64},       {"command", {"/bin/app"}},
      {"startTimeout", 30}, {"dependsOn", {{{"containerName", "web"}, {"condition", "HEALTHY"}}}}};
  Call("RegisterTaskDefinition", {{"family", "dep"}, {"containerDefinitions", {db, app}}});
  auto [s1, body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "dep"}});
  std::string arn = body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(5));
  ASSERT_TRUE(runtime_.Exit("web-healthcheck", 0));
  EXPECT_EQ(Describe(arn)["lastStatus"], "RUNNING");
  EXPECT_EQ(runtime_.started.back().spec.name, "app");

  auto [s2, slow_body] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "dep"}});
  std::string slow = slow_body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(31));
  Json task = Describe(slow);
  EXPECT_EQ(task["stopCode"], "TaskFailedToStart");
  EXPECT_EQ(task["stoppedReason"],
            "CannotStartContainerError: dependencies of container app were not met within its "
            "startTimeout of 30s");
}

}  // namespace
}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

// bridge: each unset hostPort gets a free loopback port, told to the app as PORT and
// ECS_HOST_PORT_<containerPort>, and reported in networkBindings.
TEST_F(TasksTest, BridgeDynamicHostPorts) {
  Json web{{"name", "web"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/web"}},
           {"portMappings", {{{"containerPort", 8080}}, {{"containerPort", 9090}}}}};
  Call("RegisterTaskDefinition", {{"family", "br"}, {"containerDefinitions", {web}}});
  auto [status, body] =
      Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "br"}, {"count", 2}});
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(body["tasks"].size(), 2u);
  const Json& bindings = body["tasks"][0]["containers"][0]["networkBindings"];
  ASSERT_EQ(bindings.size(), 2u);
  EXPECT_EQ(bindings[0]["bindIP"], "127.0.0.1");
  EXPECT_EQ(bindings[0]["containerPort"], 8080);
  EXPECT_EQ(bindings[0]["protocol"], "tcp");
  int64_t host_port = bindings[0]["hostPort"];
  EXPECT_GT(host_port, 1024);
  EXPECT_NE(host_port, body["tasks"][1]["containers"][0]["networkBindings"][0]["hostPort"]);
  std::map<std::string, std::string> env(runtime_.started[0].spec.environment.begin(),
                                         runtime_.started[0].spec.environment.end());
  EXPECT_EQ(env["PORT"], std::to_string(host_port));
  EXPECT_EQ(env["ECS_HOST_PORT_8080"], std::to_string(host_port));
  EXPECT_EQ(env["ECS_HOST_PORT_9090"], std::to_string(bindings[1]["hostPort"].get<int64_t>()));
}

// A fixed host port already held by a running task is ECS's RESOURCE:PORTS placement failure.
TEST_F(TasksTest, HostPortConflict) {
  Json web{{"name", "web"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/web"}},
           {"portMappings", {{{"containerPort", 18080}}}}};
  Call("RegisterTaskDefinition",
       {{"family", "hostnet"}, {"networkMode", "host"}, {"containerDefinitions", {web}}});
  auto [s1, first] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "hostnet"}});
  EXPECT_EQ(first["tasks"][0]["containers"][0]["networkBindings"][0]["hostPort"], 18080);
  auto [s2, second] = Call("RunTask", {{"cluster", "web"}, {"taskDefinition", "hostnet"}});
  EXPECT_EQ(second["tasks"], Json::array());
  EXPECT_EQ(
      second["failures"],
      Json::array({{{"arn", "arn:aws:ecs:us-east-1:000000000000:container-instance/web/local"},
                    {"reason", "RESOURCE:PORTS"}}}));
}

// awsvpc: an ENI attachment PRECREATED, ATTACHED while running, DELETED once stopped.
TEST_F(TasksTest, AwsvpcAttachment) {
  Json web{{"name", "web"},
           {"image", "i"},
           {"memory", 64},
           {"command", {"/bin/web"}},
           {"portMappings", {{{"containerPort", 18081}}}}};
  Call("RegisterTaskDefinition",
       {{"family", "vpc"}, {"networkMode", "awsvpc"}, {"containerDefinitions", {web}}});
  auto [status, body] =
      Call("RunTask",
           {{"cluster", "web"},
            {"taskDefinition", "vpc"},
            {"networkConfiguration", {{"awsvpcConfiguration", {{"subnets", {"subnet-a"}}}}}}});
  const Json& attachment = body["tasks"][0]["attachments"][0];
  EXPECT_EQ(attachment["type"], "ElasticNetworkInterface");
  EXPECT_EQ(attachment["status"], "PRECREATED");
  EXPECT_EQ(attachment["details"][0], Json({{"name", "subnetId"}, {"value", "subnet-a"}}));
  EXPECT_EQ(body["tasks"][0]["containers"][0]["networkInterfaces"][0]["attachmentId"],
            attachment["id"]);
  std::string arn = body["tasks"][0]["taskArn"];
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(Describe(arn)["attachments"][0]["status"], "ATTACHED");
  runtime_.Exit("web", 0);
  EXPECT_EQ(Describe(arn)["attachments"][0]["status"], "DELETED");
}

}  // namespace
}  // namespace understudy::ecs

namespace understudy::ecs {
namespace {

// StartTask names container instances; understudy models none, so each is MISSING.
TEST_F(TasksTest, StartTaskReportsMissingInstances) {
  auto [status, body] =
      Call("StartTask",
           {{"cluster", "web"}, {"taskDefinition", "app"}, {"containerInstances", {"abc123"}}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["tasks"], Json::array());
  EXPECT_EQ(
      body["failures"],
      Json::array({{{"arn", "arn:aws:ecs:us-east-1:000000000000:container-instance/web/abc123"},
                    {"reason", "MISSING"}}}));
  EXPECT_TRUE(runtime_.started.empty());
}

}  // namespace
}  // namespace understudy::ecs
