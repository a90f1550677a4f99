// Record: a scenario run kept in one file (`understudy run FILE --record run.journal`)
// and run again from it (`understudy replay run.journal`). The record is
// self-contained: the scenario's text, the $file contents and $env values it read,
// the seed, the start instant and options, the emulator's journal (inputs,
// transitions, virtual times) and its draws per random stream. A replay parses the
// recorded text with the recorded inputs, runs it with the same seed and start, and
// compares the journals entry by entry; the first divergence is reported with both
// sides.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "core/json.h"
#include "core/status.h"
#include "core/time.h"
#include "scenario/runner.h"
#include "scenario/scenario.h"

namespace understudy::scenario {

// What a recorded scenario was made of.
struct RecordSource {
  std::string file;
  std::string text;
  ScenarioInputs inputs;
};

// Reads and parses `file`, keeping its text and inputs in `source`.
Result<Scenario> LoadForRecord(const std::string& file, const OperationCheck& check,
                               RecordSource* source);

// Writes the record of `result` (a run of `source` under `options`) to `path`: one
// JSON document whose journal has one entry per line.
Status WriteRecord(const std::string& path, const RecordSource& source,
                   const RunnerOptions& options, const ScenarioResult& result);

struct Recording {
  RecordSource source;
  uint64_t seed = 0;
  std::optional<TimePoint> start;
  Duration timeout = std::chrono::minutes(5);
  bool passed = false;
  std::string failure;
  Json random_draws = Json::object();
  Json journal = Json::array();
};

// Reads a record; InvalidArgument says what is wrong with it.
Result<Recording> ReadRecord(const std::string& path);

// A journal entry as replays compare it: without the members that follow the
// machine (process ids, real ports) rather than the scenario (see docs/scenarios.md).
Json ComparableEntry(const Json& entry);
// Whether `entry` is an input from an app rather than from the scenario — an AWS
// call from the wire (not through /_understudy/call), mail over SMTP, or what was
// measured of the apps' processes (understudy.measured/...). Apps' output
// is left out of comparisons: its timing follows real processes.
bool IsAppInput(const Json& entry);

struct Divergence {
  size_t index = 0;  // position in the journal (0-based)
  std::string what;  // "entry 12 differs", "the replay has fewer entries"
  Json recorded;     // the recorded entry (null when there is none)
  Json replayed;     // the replayed entry (null when there is none)
};

// The first position at which the journals differ (after ComparableEntry), if any.
std::optional<Divergence> CompareJournals(const Json& recorded, const Json& replayed);
// The first random stream drawn from a different number of times, as text, if any.
std::optional<std::string> CompareDraws(const Json& recorded, const Json& replayed);
// "first divergence at entry 12 (seq 13): ...\n  recorded (virtual 08:00:05Z): {...}\n..."
std::string FormatDivergence(const Divergence& divergence);

struct ReplayOptions {
  std::string record_file;
  std::optional<Duration> timeout;  // real time; default: the recorded run's
  std::string binary;               // empty: /proc/self/exe
};

// `understudy replay FILE`: 0 when the journals are identical, 1 when they diverge
// (the first divergence is printed), 2 when the record cannot be read.
int ReplayCommand(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace understudy::scenario
