// Experiment templates in AWS FIS's shape: the catalog of actions understudy runs,
// parsing and validating a template, selection modes and FIS durations.
//
// A template is what CreateExperimentTemplate takes (actions, targets,
// stopConditions, description); validation answers FIS-style ValidationException
// messages and changes nothing. Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/json.h"
#include "core/random.h"
#include "core/time.h"

namespace understudy::chaos {

// One parameter an action takes.
struct ParameterSpec {
  std::string name;
  std::string description;
  bool required = false;
};

// One action understudy can run (ListActions / GetAction).
struct ActionType {
  std::string id;             // "aws:ecs:stop-task", "understudy:api:inject-error"
  std::string description;    // as ListActions shows it
  std::string target_key;     // "Tasks"; "" when the action takes no targets
  std::string resource_type;  // "aws:ecs:task"; "" when none
  std::vector<ParameterSpec> parameters;
};

// Every action understudy implements, sorted by id.
const std::vector<ActionType>& Catalog();
const ActionType* FindActionType(const std::string& id);
// Resource types targets may name.
const std::vector<std::string>& ResourceTypes();

// ALL, COUNT(n) or PERCENT(n).
struct Selection {
  enum class Mode { kAll, kCount, kPercent };
  Mode mode = Mode::kAll;
  int64_t n = 0;
};
std::optional<Selection> ParseSelection(const std::string& text);
// How many of `candidates` the selection takes: all; min(n, candidates); n% rounded down.
size_t SelectionSize(const Selection& selection, size_t candidates);
// Indices into a list of `candidates` (sorted by the caller) chosen by `selection`,
// drawing from `random`; ascending. ALL draws nothing.
std::vector<size_t> Select(const Selection& selection, size_t candidates, Random& random);

// "PT5M", "PT30S", "PT1H30M", "PT0.5S" (FIS) or "5m", "30s", "250ms" (understudy's own).
std::optional<Duration> ParseFisDuration(const std::string& text);

struct TargetSpec {
  std::string resource_type;
  std::vector<std::string> resource_arns;
  std::map<std::string, std::string> resource_tags;
  Json filters = Json::array();  // [{"path", "values"}]
  std::string selection_mode;
  Selection selection;
  std::map<std::string, std::string> parameters;  // aws:ecs:task: cluster, service
};

struct ActionSpec {
  std::string action_id;
  std::string description;
  std::map<std::string, std::string> parameters;
  std::map<std::string, std::string> targets;  // target key ("Tasks") -> target name
  std::vector<std::string> start_after;
  std::optional<Duration> duration;  // parameters["duration"] when given
};

struct StopCondition {
  std::string source;  // "none" or "aws:cloudwatch:alarm"
  std::string value;   // the alarm ARN
};

struct Template {
  std::string description;
  std::string role_arn;
  std::map<std::string, ActionSpec> actions;
  std::map<std::string, TargetSpec> targets;
  std::vector<StopCondition> stop_conditions;
  Json tags = Json::object();
};

// Parses and validates a template (CreateExperimentTemplate's input: "actions",
// "targets", "stopConditions", "description", "roleArn", "tags"). A ValidationException
// names what is wrong: an unknown action or resource type, a target an action names but
// the template lacks, a missing or unknown parameter, an invalid selection mode or
// duration, a startAfter cycle, or contradictory faults (two actions that fault the
// same targets in opposite ways at the same time).
std::variant<Template, api::ApiError> ParseTemplate(const Json& input);

// The template in FIS's JSON (the members GetExperimentTemplate and GetExperiment show).
Json ActionsJson(const Template& t);
Json TargetsJson(const Template& t);
Json StopConditionsJson(const Template& t);

}  // namespace understudy::chaos
