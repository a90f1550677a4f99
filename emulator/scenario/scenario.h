// Scenario: a test story in a JSON file (comments allowed) — setup calls, then steps
// (AWS calls, clock advances, waits, expectations) — read and validated in full
// before anything runs.
//
// Every error names the file, the line and column, the JSON path, what was found
// and what was expected: "s.json:12:7: steps[2].advance: found 'soon'; expected a
// duration such as 90s". Task definitions and other inputs may come from files
// ({"$file": "taskdefs/web.json"}, relative to the scenario) and strings from the
// environment ({"$env": "NAME"}). Pure apart from reading files; any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "core/time.h"
#include "scenario/check.h"

namespace understudy::scenario {

struct CallSpec {
  std::string service;    // model id: "ecs", "elbv2", "logs"
  std::string operation;  // "CreateCluster"
  Json input = Json::object();
  std::string region;   // empty: the emulator's default
  std::string account;  // empty: the emulator's default
};

enum class StepKind { kCall, kAdvance, kAdvanceTo, kWaitFor, kExpect, kMetrics, kTraffic, kFault };
const char* StepKindName(StepKind kind);

// What an expectation looks at: an operation's output, a traffic generator's counts
// (GET /_understudy/traffic/<name>), one HTTP request's answer (POST
// /_understudy/http), stored emails, log lines, EventBridge deliveries, scaling
// activities or an ECS service's events ({"count", <list>}).
enum class ExpectSource {
  kCall,
  kTraffic,
  kHttp,
  kEmails,
  kLogs,
  kEvents,
  kScaling,
  kServiceEvents
};
const char* ExpectSourceName(ExpectSource source);

struct Step {
  StepKind kind = StepKind::kCall;
  std::string path;  // "steps[2]", "setup[0]"
  size_t line = 0;
  std::string label;    // what progress shows: "ecs.CreateCluster", "90s", "ecsService"
  std::string subject;  // kExpect: what is checked ("ecs.DescribeServices", "traffic t1")

  CallSpec call;                            // kCall, kExpect
  std::optional<std::string> expect_error;  // kCall: the call must fail with this code
  std::vector<Check> checks;                // kCall (on the output), kExpect
  Duration advance{};                       // kAdvance
  std::optional<TimePoint> advance_to;      // kAdvanceTo: an instant, or...
  Duration advance_to_offset{};             // ...this long after the scenario's start
  Json wait_until;                          // kWaitFor: {"ecsService": {...}}
  Json metrics;  // kMetrics: a metric override, as POST /_understudy/metrics takes it
  Json traffic;  // kTraffic: a generator, as POST /_understudy/traffic takes it
  Json fault;    // kFault: an experiment, as POST /_understudy/chaos/experiments takes it
  Duration timeout = std::chrono::minutes(15);  // kWaitFor
  // kExpect: the check may first hold up to `within` of virtual time later; the clock
  // moves `every` between tries.
  std::optional<Duration> within;
  Duration every = std::chrono::seconds(1);
  // kExpect: what is checked (kCall uses `call`) and its parameters: the traffic
  // generator's name, the request, the email/log/delivery filters.
  ExpectSource source = ExpectSource::kCall;
  Json source_params;
  // kExpect: the check must hold at every check while the clock moves `throughout`
  // this long (one check each `every`).
  std::optional<Duration> throughout;
  // kExpect: the clock first moves this long ("after"), or to this instant ("at": an
  // instant, or at_offset after the scenario's start).
  std::optional<Duration> after;
  std::optional<TimePoint> at;
  std::optional<Duration> at_offset;
  // kCall: values of the output kept for later steps: "save": {"tgArn":
  // "TargetGroups[0].TargetGroupArn"}.
  struct Save {
    std::string name;
    std::string path_text;
    std::vector<PathStep> path;
  };
  std::vector<Save> saves;
};

// Replaces "${name}" in the strings of `value` with saved values: a string that is
// exactly "${name}" becomes the value itself (any JSON type); elsewhere the value is
// spliced in as text. InvalidArgument names the first unknown variable.
Result<Json> SubstituteVariables(const Json& value, const std::map<std::string, Json>& vars);

struct Scenario {
  std::string file;
  std::string name;
  std::optional<uint64_t> seed;
  std::optional<TimePoint> start;
  // Flags for `understudy serve` from the "emulator" member ("--images", "/abs/path"...).
  std::vector<std::string> emulator_args;
  std::vector<Step> setup;
  std::vector<Step> steps;
};

// Says whether `service` has `operation`; InvalidArgument names what exists instead.
using OperationCheck =
    std::function<Status(const std::string& service, const std::string& operation)>;

// Parses and validates scenario `text` read from `file` (whose directory anchors
// $file references). InvalidArgument carries the "file:line:col: path: ..." message.
Result<Scenario> ParseScenario(const std::string& file, std::string text,
                               const OperationCheck& check_operation = nullptr);

// What a scenario read besides its own text: the $file contents (by path relative to
// the scenario's directory) and the $env values. A recording keeps them; a replay
// parses with `replay` set, reading them from here instead of the disk and the
// environment.
struct ScenarioInputs {
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> env;
  bool replay = false;
};
// ParseScenario that fills (or, with inputs->replay, reads) `inputs`.
Result<Scenario> ParseScenario(const std::string& file, std::string text,
                               const OperationCheck& check_operation, ScenarioInputs* inputs);
// Reads `file` and parses it.
Result<Scenario> LoadScenario(const std::string& file,
                              const OperationCheck& check_operation = nullptr);

// The scenario files `paths` name: files as given, directories searched recursively
// for *.json, sorted, skipping directories named taskdefs or starting with '_' or '.'.
Result<std::vector<std::string>> ExpandScenarioPaths(const std::vector<std::string>& paths);

}  // namespace understudy::scenario
