// Scenario files: a valid file read in full, and every kind of mistake reported with
// the file, line, column, JSON path, what was found and what was expected.
#include "scenario/scenario.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace understudy::scenario {
namespace {

std::string ErrorOf(const std::string& text, const OperationCheck& check = nullptr) {
  auto parsed = ParseScenario("s.json", text, check);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(ScenarioTest, ReadsEveryStepKind) {
  auto parsed = ParseScenario("dir/steady.json", R"({
  // comments are allowed
  "name": "steady", "seed": 42, "start": "2026-11-23T08:00:00Z",
  "setup": [{"call": {"service": "ecs", "operation": "CreateCluster",
                      "input": {"clusterName": "web"}}}],
  "steps": [
    {"advance": "90s"},
    {"waitFor": {"ecsService": {"cluster": "web", "service": "api"}}, "timeout": "10m"},
    {"call": {"service": "ecs", "operation": "DescribeClusters", "input": {"clusters": ["x"]}},
     "expect": [{"path": "failures[0].reason", "equals": "MISSING"}, {"path": "clusters", "equals": []}]},
    {"call": {"service": "ecs", "operation": "DeleteCluster", "input": {"cluster": "nope"}},
     "expect": {"error": "ClusterNotFoundException"}},
    {"expect": {"call": {"service": "ecs", "operation": "ListClusters"},
                "path": "clusterArns", "contains": "web", "exists": true}, "name": "listed"}
  ]
})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->name, "steady");
  EXPECT_EQ(parsed->seed, 42u);
  ASSERT_TRUE(parsed->start.has_value());
  EXPECT_EQ(FormatIso8601(*parsed->start), "2026-11-23T08:00:00.000Z");
  ASSERT_EQ(parsed->setup.size(), 1u);
  EXPECT_EQ(parsed->setup[0].call.input["clusterName"], "web");
  EXPECT_EQ(parsed->setup[0].path, "setup[0]");
  ASSERT_EQ(parsed->steps.size(), 5u);
  EXPECT_EQ(parsed->steps[0].kind, StepKind::kAdvance);
  EXPECT_EQ(parsed->steps[0].advance, std::chrono::seconds(90));
  EXPECT_EQ(parsed->steps[0].line, 7u);
  EXPECT_EQ(parsed->steps[1].kind, StepKind::kWaitFor);
  EXPECT_EQ(parsed->steps[1].timeout, std::chrono::minutes(10));
  EXPECT_EQ(parsed->steps[1].label, "ecsService");
  EXPECT_EQ(parsed->steps[2].checks.size(), 2u);
  EXPECT_EQ(parsed->steps[3].expect_error, "ClusterNotFoundException");
  EXPECT_EQ(parsed->steps[4].kind, StepKind::kExpect);
  EXPECT_EQ(parsed->steps[4].checks[0].matchers.size(), 2u);
  EXPECT_EQ(parsed->steps[4].label, "listed");
  EXPECT_EQ(parsed->steps[4].line, 13u);
}

TEST(ScenarioTest, FaultSteps) {
  auto parsed = ParseScenario("f.json", R"j({"steps": [
    {"fault": {"action": "aws:ecs:stop-task",
               "targets": {"service": "web/api", "selection": "COUNT(1)"}, "duration": "5m"}},
    {"fault": {"experiment": {"actions": {"w": {"actionId": "aws:fis:wait",
                                                "parameters": {"duration": "PT1M"}}}}}}]})j");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->steps[0].kind, StepKind::kFault);
  EXPECT_EQ(parsed->steps[0].label, "aws:ecs:stop-task");
  EXPECT_EQ(parsed->steps[0].fault["targets"]["selection"], "COUNT(1)");
  EXPECT_EQ(parsed->steps[1].label, "fault experiment");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"fault\": {\"action\": \"stop\"}}]}"),
            "s.json:2:24: steps[0].fault.action: found \"stop\"; expected an action id such as "
            "\"aws:ecs:stop-task\"");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"fault\": {\"action\": \"aws:ecs:stop-task\", "
                    "\"duration\": \"soon\"}}]}"),
            "s.json:2:57: steps[0].fault.duration: found \"soon\"; expected a duration string "
            "such as \"90s\", \"15m\" or \"1h30m\"");
  EXPECT_FALSE(ErrorOf("{\"steps\": [{\"fault\": {\"targets\": {}}}]}").empty());
}

TEST(ScenarioTest, ExpectWithinAWindow) {
  auto parsed = ParseScenario("s.json", R"({"steps": [
    {"expect": {"call": {"service": "ecs", "operation": "ListClusters"}, "path": "a", "equals": 1},
     "within": "5m", "every": "10s"},
    {"expect": {"call": {"service": "ecs", "operation": "ListClusters"}, "path": "a", "equals": 1},
     "within": "1m"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->steps[0].within, std::chrono::minutes(5));
  EXPECT_EQ(parsed->steps[0].every, std::chrono::seconds(10));
  EXPECT_EQ(parsed->steps[1].every, std::chrono::seconds(1));
  EXPECT_EQ(ErrorOf(R"({"steps": [
    {"expect": {"call": {"service": "ecs", "operation": "ListClusters"}, "path": "a", "equals": 1},
     "every": "10s"}]})"),
            "s.json:3:15: steps[0].every: found \"10s\"; expected \"every\" only with \"within\" "
            "or \"throughout\" (how often to check in that window)");
}

TEST(ScenarioTest, AdvanceToAnInstantOrAnOffset) {
  auto parsed = ParseScenario("s.json", R"({"steps": [
    {"advanceTo": "2026-11-23T09:00:00Z"}, {"advanceTo": "+1h30m"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->steps[0].kind, StepKind::kAdvanceTo);
  ASSERT_TRUE(parsed->steps[0].advance_to.has_value());
  EXPECT_EQ(FormatIso8601(*parsed->steps[0].advance_to), "2026-11-23T09:00:00.000Z");
  EXPECT_FALSE(parsed->steps[1].advance_to.has_value());
  EXPECT_EQ(parsed->steps[1].advance_to_offset, std::chrono::minutes(90));
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"advanceTo\": \"+soon\"}]}"),
            "s.json:1:26: steps[0].advanceTo: found \"+soon\"; expected an ISO-8601 instant such "
            "as \"2026-11-23T09:00:00Z\" or \"+\" and a duration after the scenario's start, "
            "such as \"+1h\"");
}

TEST(ScenarioTest, EmulatorOptions) {
  auto dir = std::filesystem::temp_directory_path() / "scenario_test_emulator";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "images.json") << "{}";
  std::string file = (dir / "s.json").string();
  auto parsed = ParseScenario(file, R"({"emulator": {"images": "images.json",
    "accountId": "123456789012", "region": "eu-west-1", "strictReferences": true,
    "holdTimeout": "5s"}, "steps": []})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->emulator_args,
            (std::vector<std::string>{"--images", (dir / "images.json").string(), "--account-id",
                                      "123456789012", "--region", "eu-west-1",
                                      "--strict-references", "--hold-timeout", "5s"}));
  auto bad = ParseScenario(file, "{\"emulator\": {\"accountId\": \"12\"}, \"steps\": []}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            file + ":1:28: emulator.accountId: found \"12\"; expected a 12-digit account id");
  auto missing = ParseScenario(file, "{\"emulator\": {\"secrets\": \"none.json\"}, \"steps\": []}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), file +
                                            ":1:26: emulator.secrets: found \"none.json\"; "
                                            "expected an existing file (" +
                                            (dir / "none.json").string() + ")");
  auto flag = ParseScenario(file, "{\"emulator\": {\"port\": 1}, \"steps\": []}");
  ASSERT_FALSE(flag.ok());
  std::filesystem::remove_all(dir);
}

TEST(ScenarioTest, SavedVariables) {
  auto parsed = ParseScenario("s.json", R"({"setup": [
    {"call": {"service": "elbv2", "operation": "CreateTargetGroup", "input": {"Name": "a"}},
     "save": {"tgArn": "TargetGroups[0].TargetGroupArn", "port": "TargetGroups[0].Port"}}],
  "steps": [
    {"call": {"service": "elbv2", "operation": "DescribeTargetGroups",
              "input": {"TargetGroupArns": ["${tgArn}"]}},
     "expect": {"path": "TargetGroups[0].Port", "equals": "${port}"}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->setup[0].saves.size(), 2u);
  EXPECT_EQ(parsed->setup[0].saves[1].name, "tgArn");
  EXPECT_EQ(parsed->setup[0].saves[1].path_text, "TargetGroups[0].TargetGroupArn");

  // A variable is known only after the step that saves it.
  EXPECT_EQ(ErrorOf(R"({"steps": [
    {"call": {"service": "ecs", "operation": "ListClusters", "input": {"a": "x-${arn}"}},
     "save": {"arn": "clusterArns[0]"}}]})"),
            "s.json:2:77: steps[0].call.input.a: found \"x-${arn}\"; expected a variable saved by "
            "an earlier step with \"save\" (none is saved before this step)");
  EXPECT_EQ(ErrorOf(R"({"steps": [
    {"call": {"service": "ecs", "operation": "ListClusters"}, "save": {"a": "clusterArns[0]"}},
    {"waitFor": {"ecsCluster": {"cluster": "${b}"}}}]})"),
            "s.json:3:44: steps[1].waitFor.ecsCluster.cluster: found \"${b}\"; expected a "
            "variable saved by an earlier step with \"save\" (saved so far: a)");
  EXPECT_EQ(ErrorOf(R"({"steps": [
    {"call": {"service": "ecs", "operation": "ListClusters"}, "save": {"1a": "x"}}]})"),
            "s.json:2:78: steps[0].save.1a: found the name \"1a\"; expected a variable name of "
            "letters, digits and _ (not first a digit)");
  EXPECT_EQ(ErrorOf(R"({"steps": [
    {"call": {"service": "ecs", "operation": "ListClusters"}, "save": {"a": "x[y]"}}]})"),
            "s.json:2:77: steps[0].save.a: found \"x[y]\"; expected path 'x[y]' at character 3: "
            "expected an index such as [0] or [-1]");
}

TEST(ScenarioTest, SubstituteVariables) {
  std::map<std::string, Json> vars{{"arn", "arn:aws:x"}, {"port", 8080}, {"list", {1, 2}}};
  auto out = SubstituteVariables(
      Json::parse(R"({"a": "${arn}", "b": "${port}", "c": "p=${port}/${arn}", "d": ["${list}"],
                      "e": "plain", "f": 1})"),
      vars);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, Json::parse(R"({"a": "arn:aws:x", "b": 8080, "c": "p=8080/arn:aws:x",
                                  "d": [[1, 2]], "e": "plain", "f": 1})"));
  auto missing = SubstituteVariables(Json{{"a", "${nope}"}}, vars);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "the variable 'nope' is not saved");
}

TEST(ScenarioTest, NameDefaultsToTheFileStem) {
  auto parsed = ParseScenario("a/b/rolling-deploy.json", R"({"steps": []})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->name, "rolling-deploy");
}

TEST(ScenarioTest, TrafficStepsAndExpectations) {
  auto parsed = ParseScenario("s.json", R"({"start": "2026-11-23T08:00:00Z", "steps": [
    {"traffic": {"name": "t1", "loadBalancer": "web", "port": 80, "rate": 20, "duration": "10m",
                 "paths": ["/api/users"], "concurrency": 8}},
    {"waitFor": {"trafficDone": {"name": "t1"}}, "timeout": "15m"},
    {"expect": {"traffic": "t1", "path": "errors", "equals": 0}},
    {"expect": {"traffic": "t1", "path": "status[\"503\"]", "exists": false},
     "throughout": "10m", "every": "30s"},
    {"expect": {"http": {"loadBalancer": "web", "path": "/", "headers": {"X-A": "b"}},
                "path": "status", "equals": 503}, "at": "+1h"},
    {"expect": {"emails": {"to": "ada@example.org", "link": "https://.*/reset"}, "count": 1},
     "after": "5m"},
    {"expect": {"logs": {"group": "/ecs/web", "contains": "started"}}},
    {"expect": {"events": {"source": "nightly", "outcome": "SUCCEEDED"}, "count": {"gte": 2}}},
    {"expect": {"scalingActivities": {"cluster": "web", "service": "api"}, "path": "activities[0].StatusCode",
                "equals": "Successful"}},
    {"expect": {"serviceEvents": {"cluster": "web", "service": "api", "matches": "steady"}},
     "within": "5m"}
  ]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& s = parsed->steps;
  EXPECT_EQ(s[0].kind, StepKind::kTraffic);
  EXPECT_EQ(s[0].traffic["rate"], 20);
  EXPECT_EQ(s[0].label, "t1 20/s for 10m");
  EXPECT_EQ(s[2].source, ExpectSource::kTraffic);
  EXPECT_EQ(s[2].source_params, "t1");
  EXPECT_EQ(s[2].subject, "traffic t1");
  EXPECT_EQ(s[3].throughout, std::chrono::minutes(10));
  EXPECT_EQ(s[3].every, std::chrono::seconds(30));
  EXPECT_EQ(s[4].source, ExpectSource::kHttp);
  EXPECT_EQ(s[4].at_offset, std::chrono::hours(1));
  EXPECT_EQ(s[4].subject, "http GET web:80/");
  EXPECT_EQ(s[5].source, ExpectSource::kEmails);
  EXPECT_EQ(s[5].after, std::chrono::minutes(5));
  // "count": 1 is a check that the count equals 1.
  EXPECT_EQ(Describe(s[5].checks[0]), "count equals 1");
  // Without a matcher: at least one.
  EXPECT_EQ(Describe(s[6].checks[0]), "count gte 1");
  EXPECT_EQ(Describe(s[7].checks[0]), "count gte 2");
  EXPECT_EQ(s[8].source, ExpectSource::kScaling);
  EXPECT_EQ(s[9].source, ExpectSource::kServiceEvents);
  EXPECT_EQ(s[9].within, std::chrono::minutes(5));
}

TEST(ScenarioTest, TrafficErrorsPointAtTheMember) {
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"traffic\": {\"name\": \"t1\", \"loadBalancer\": \"web\",\n"
                    "    \"rate\": -1, \"duration\": \"1m\"}}]}"),
            "s.json:3:13: steps[0].traffic.rate: found -1 (number); expected a number of requests "
            "per second above 0 and at most 10000");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"traffic\": {\"name\": \"t1\", \"loadBalancer\": \"web\", "
                    "\"rate\": 1, \"duration\": \"1m\",\n    \"paths\": [{\"path\": \"/a\", "
                    "\"weight\": 0}]}}]}"),
            "s.json:3:40: steps[0].traffic.paths[0].weight: found 0 (number); expected a weight "
            "above 0 (the share of requests relative to the others)");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"traffic\": {\"name\": \"t1\", \"lb\": \"web\"}}]}"),
            "s.json:2:30: steps[0].traffic.lb: found an unknown member \"lb\"; expected only name, "
            "target, loadBalancer, port, url, rate, duration, paths, method, headers, body, "
            "concurrency, timeout, account, region");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"traffic\": {\"name\": \"t1\", \"rate\": 1, \"duration\": "
                    "\"1m\"}}]}"),
            "s.json:2:15: steps[0].traffic: found neither loadBalancer nor url; expected a "
            "target: \"loadBalancer\" (a load balancer name) with \"port\" (its listener's port), "
            "or \"url\" (\"http://127.0.0.1:8080\")");
  // An expectation on a generator no earlier step started.
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"traffic\": \"t9\", \"path\": \"errors\", "
                    "\"equals\": 0}}]}"),
            "s.json:2:26: steps[0].expect.traffic: found \"t9\"; expected the name of a traffic "
            "generator started by an earlier \"traffic\" step (none is started before)");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"http\": {\"loadBalancer\": \"web\", "
                    "\"path\": \"x\"}, \"path\": \"status\", \"equals\": 200}}]}"),
            "s.json:2:55: steps[0].expect.http.path: found \"x\"; expected a path starting with "
            "'/' without spaces");
  EXPECT_EQ(
      ErrorOf("{\"steps\": [\n  {\"expect\": {\"emails\": {\"to\": \"a\"}, \"count\": -1}}]}"),
      "s.json:2:47: steps[0].expect.count: found -1 (number); expected a whole number (how "
      "many there must be) or matchers such as {\"gte\": 1}");
  EXPECT_EQ(
      ErrorOf("{\"steps\": [\n  {\"expect\": {\"emails\": {\"to\": \"a\", \"link\": \"(\"}}}]}"),
      "s.json:2:45: steps[0].expect.emails.link: found \"(\"; expected a valid regular "
      "expression, found '(' (Mismatched '(' and ')' in regular expression)");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"logs\": {\"contains\": \"x\"}}}]}"),
            "s.json:2:23: steps[0].expect.logs: found no \"group\"; expected a \"group\" string");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"emails\": {}, \"http\": {}}}]}"),
            "s.json:2:14: steps[0].expect: found both \"http\" and \"emails\"; expected {<what>: "
            "..., \"path\": \"...\", <matcher>: <value>} where <what> is one of \"call\", "
            "\"traffic\", \"http\", \"emails\", \"logs\", \"events\", \"scalingActivities\", "
            "\"serviceEvents\"");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"emails\": {}}, \"within\": \"1m\", "
                    "\"throughout\": \"1m\"}]}"),
            "s.json:2:60: steps[0].throughout: found both \"within\" and \"throughout\"; expected "
            "one window: \"within\" (holds at some point) or \"throughout\" (holds all along)");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"expect\": {\"emails\": {}}, \"at\": \"soon\"}]}"),
            "s.json:2:36: steps[0].at: found \"soon\"; expected an ISO-8601 instant such as "
            "\"2026-11-23T09:00:00Z\" or \"+\" and a duration after the scenario's start, such as "
            "\"+1h\"");
}

TEST(ScenarioTest, ErrorsNameFileLinePathFoundAndExpected) {
  EXPECT_EQ(ErrorOf("{\n  \"steps\": [\n    {\"advance\": \"soon\"}\n  ]\n}"),
            "s.json:3:17: steps[0].advance: found \"soon\"; expected a duration string such as "
            "\"90s\", \"15m\" or \"1h30m\"");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n\n  {\"sleep\": 1}]}"),
            "s.json:3:3: steps[0]: found an object with members sleep; expected a step object "
            "with one of \"call\", \"advance\", \"advanceTo\", \"waitFor\", \"expect\", "
            "\"metrics\", \"traffic\" or \"fault\"");
  EXPECT_EQ(
      ErrorOf("{\"steps\": [\n  {\"metrics\": 85}]}"),
      "s.json:2:15: steps[0].metrics: found 85 (number); expected a metric override object such "
      "as "
      "{\"cluster\": \"web\", \"service\": \"api\", \"value\": 85}");
  EXPECT_EQ(ErrorOf("{\"steps\": [],\n \"stpes\": []}"),
            "s.json:2:2: stpes: found an unknown member \"stpes\"; expected only name, "
            "description, seed, start, emulator, setup, steps");
  EXPECT_EQ(ErrorOf("{\"name\": \"x\"}"),
            "s.json:1:1: the document: found no \"steps\"; expected a \"steps\" array of calls, "
            "advances, waits and expectations");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"call\": {\"service\": 3, \"operation\": \"X\"}}]}"),
            "s.json:1:33: steps[0].call.service: found 3 (number); expected a service name string");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"call\": {\"service\": \"ecs\"}}]}"),
            "s.json:1:21: steps[0].call: found no \"operation\"; expected a \"operation\" string");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n {\"expect\": {\"call\": {\"service\": \"ecs\", \"operation\": "
                    "\"ListClusters\"},\n  \"path\": \"clusterArns\", \"equal\": 1}}]}"),
            "s.json:3:26: steps[0].expect.equal: found an unknown member \"equal\"; expected "
            "\"path\" or a matcher: equals, contains, matches, exists, gte or lte");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"expect\": {\"call\": {\"service\": \"ecs\", \"operation\": "
                    "\"ListClusters\"},\n \"path\": \"a[x]\", \"equals\": 1}}]}"),
            "s.json:2:10: steps[0].expect.path: found \"a[x]\"; expected path 'a[x]' at "
            "character 3: expected an index such as [0] or [-1]");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"expect\": {\"call\": {\"service\": \"ecs\", \"operation\": "
                    "\"ListClusters\"},\n \"path\": \"a\", \"gte\": \"2\"}}]}"),
            "s.json:2:22: steps[0].expect.gte: found \"2\"; expected a number, found string");
  EXPECT_EQ(ErrorOf("{\"seed\": -1, \"steps\": []}"),
            "s.json:1:10: seed: found -1 (number); expected a whole number from 0 to "
            "18446744073709551615");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"waitFor\": {\"a\": {}, \"b\": {}}}]}"),
            "s.json:1:24: steps[0].waitFor: found an object; expected an object with one wait "
            "condition, e.g. {\"ecsService\": {\"cluster\": \"web\", \"service\": \"api\"}}");
  // Wait conditions and their parameters are checked before anything runs.
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"waitFor\": {\"sunrise\": {}}}]}"),
            "s.json:1:24: steps[0].waitFor: found the condition \"sunrise\"; expected one of "
            "chaosExperiment, cloudwatchAlarm, ecsCluster, ecsService, ecsTask, elbTargetHealth, "
            "eventsDelivered, idle, sesMessages, trafficDone");
  EXPECT_EQ(ErrorOf("{\"steps\": [{\"waitFor\": {\"ecsTask\": {\"task\": \"t\", \"status\": "
                    "\"RUNNING\"}}}]}"),
            "s.json:1:60: steps[0].waitFor.ecsTask.status: found an unknown parameter \"status\"; "
            "expected a parameter of ecsTask: \"task\", \"cluster\", \"lastStatus\", "
            "\"healthStatus\"");
  EXPECT_EQ(ErrorOf("{\"steps\": [\n  {\"advance\": \"1s\"}\n"),
            "s.json:3:1: invalid JSON: found the end of the file; expected ',' or ']' after an "
            "array element");
}

TEST(ScenarioTest, UnknownServicesAndOperations) {
  OperationCheck check = [](const std::string& service, const std::string& operation) {
    if (service != "ecs") return Status::InvalidArgument("a service with a model: ecs");
    if (!operation.empty() && operation != "CreateCluster") {
      return Status::InvalidArgument("an operation of ecs");
    }
    return Status::Ok();
  };
  EXPECT_EQ(
      ErrorOf("{\"steps\": [\n{\"call\": {\"service\": \"ecz\", \"operation\": \"X\"}}]}", check),
      "s.json:2:22: steps[0].call.service: found \"ecz\"; expected a service with a model: ecs");
  EXPECT_EQ(
      ErrorOf("{\"steps\": [\n{\"call\": {\"service\": \"ecs\", \"operation\": \"X\"}}]}", check),
      "s.json:2:42: steps[0].call.operation: found \"X\"; expected an operation of ecs");
}

TEST(ScenarioTest, FileAndEnvironmentReferences) {
  auto dir = std::filesystem::temp_directory_path() / "scenario_test_refs";
  std::filesystem::create_directories(dir / "taskdefs");
  {
    std::ofstream(dir / "taskdefs" / "web.json")
        << "{\"family\": \"web\",\n \"command\": [{\"$env\": \"SCENARIO_TEST_APP\"}]}";
    std::ofstream(dir / "taskdefs" / "broken.json") << "{\"family\": \"web\",\n oops}";
  }
  ::setenv("SCENARIO_TEST_APP", "/bin/app", 1);
  std::string file = (dir / "s.json").string();
  auto parsed = ParseScenario(file, R"({"steps": [{"call": {"service": "ecs",
    "operation": "RegisterTaskDefinition", "input": {"$file": "taskdefs/web.json"}}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->steps[0].call.input["family"], "web");
  EXPECT_EQ(parsed->steps[0].call.input["command"][0], "/bin/app");

  auto missing = ParseScenario(file, R"({"steps": [{"call": {"service": "ecs",
    "operation": "X", "input": {"$file": "taskdefs/none.json"}}}]})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            file +
                ":2:42: steps[0].call.input.$file: found \"taskdefs/none.json\"; expected a "
                "readable file relative to the scenario (" +
                (dir / "taskdefs/none.json").string() + ")");
  auto broken = ParseScenario(file, R"({"steps": [{"call": {"service": "ecs",
    "operation": "X", "input": {"$file": "taskdefs/broken.json"}}}]})");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message(), (dir / "taskdefs/broken.json").string() +
                                           ":2:2: invalid JSON: found 'oops'; expected a member "
                                           "name in double quotes");
  ::unsetenv("SCENARIO_TEST_APP");
  auto unset = ParseScenario(file, R"({"steps": [{"call": {"service": "ecs",
    "operation": "X", "input": {"$file": "taskdefs/web.json"}}}]})");
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.status().message(),
            (dir / "taskdefs/web.json").string() +
                ":2:23: command[0].$env: found \"SCENARIO_TEST_APP\"; expected the name of a "
                "variable set in the environment");
  std::filesystem::remove_all(dir);
}

TEST(ScenarioTest, ExpandsDirectories) {
  auto dir = std::filesystem::temp_directory_path() / "scenario_test_expand";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "b" / "taskdefs");
  std::filesystem::create_directories(dir / "_files");
  // images.json and secrets.json are the emulator's files a scenario names, not scenarios.
  for (auto p : {"b/2.json", "a.json", "b/taskdefs/t.json", "_files/f.json", "notes.md",
                 "b/images.json", "b/secrets.json", "b/_shared.json"}) {
    std::ofstream(dir / p) << "{}";
  }
  auto files = ExpandScenarioPaths({dir.string()});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files,
            (std::vector<std::string>{(dir / "a.json").string(), (dir / "b/2.json").string()}));
  EXPECT_FALSE(ExpandScenarioPaths({(dir / "none").string()}).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace understudy::scenario
