// Runner: `understudy run` — validates every scenario file, then runs each against
// its own emulator (this binary, `serve --clock virtual --port 0`, a fresh state
// dir), printing progress per step and a report of every expectation, and writes
// JUnit XML on request. Exit codes: 0 all passed, 1 any failed, 2 invalid input.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "scenario/scenario.h"

namespace understudy::scenario {

struct RunnerOptions {
  std::vector<std::string> paths;              // files and directories
  std::string junit_file;                      // empty: no JUnit report
  std::optional<uint64_t> seed;                // overrides the scenarios' seeds
  std::string filter;                          // run scenarios whose name or file contains this
  Duration timeout = std::chrono::minutes(5);  // real time per scenario
  std::string binary;              // the understudy binary to serve with; empty: /proc/self/exe
  std::string record_file;         // write the run's record here (one scenario only)
  std::optional<TimePoint> start;  // overrides the scenarios' start instant (replays)
  std::string measured_file;       // recorded measurements for the emulator (replays)
};

struct ExpectationResult {
  std::string step;  // "steps[3]"
  size_t line = 0;
  std::string what;  // "ecs.DescribeServices: services[0].runningCount equals 2"
  bool passed = false;
  std::string evidence;
};

struct ScenarioResult {
  std::string name;
  std::string file;
  uint64_t seed = 0;
  bool passed = true;
  std::string failure;  // the first failure, for JUnit's message
  std::vector<ExpectationResult> expectations;
  double wall_seconds = 0;
  std::string virtual_start;
  std::string virtual_end;
  // The emulator's journal at the end (inputs, transitions, times): entries and a
  // 64-bit FNV-1a fingerprint of them as replays compare them (ComparableEntry, apps' inputs
  // left out). Equal seeds and steps give equal fingerprints.
  size_t journal_entries = 0;
  // Fault steps: (step path, "EXP... [resolved target ARNs]"), also JUnit properties.
  std::vector<std::pair<std::string, std::string>> faults;
  std::string journal_fingerprint;
  Json journal = Json::array();  // the entries themselves
  Json random_draws;             // GET /_understudy/random's "streams" at the end
};

// Runs one parsed scenario against its own emulator, as RunCommand does for each.
ScenarioResult RunScenario(const Scenario& scenario, const RunnerOptions& options,
                           std::ostream& out);

// Runs `options`; progress and reports go to `out`, input errors to `err`.
int RunCommand(const RunnerOptions& options, std::ostream& out, std::ostream& err);

// JUnit XML for `results` (one testsuite per scenario, the seed as a property).
std::string JUnitXml(const std::vector<ScenarioResult>& results);

}  // namespace understudy::scenario
