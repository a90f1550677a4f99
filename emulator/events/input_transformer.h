// Target input shaping: what a rule or schedule target receives (aws-semantics §4.4).
//
// A target takes exactly one of Input (static JSON), InputPath (a JSONPath into the
// event) or InputTransformer (InputPathsMap of variables + InputTemplate); none means
// the whole event. The template's placeholders `<name>` are the map's variables and the
// predefined `<aws.events.*>` (rules) or `<aws.scheduler.*>` (schedules) names. In a
// JSON template a placeholder in a value position becomes the value's JSON (a string is
// quoted), inside a string literal its raw text; in a text template, raw text.
// Validation here is what PutTargets checks, with AWS's ValidationException messages.
// Pure functions; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace understudy::events {

// Whether `path` is a JSONPath EventBridge accepts: "$", then ".name" or "[n]" steps.
bool IsValidInputPath(std::string_view path);
// The value at `path` in `doc`, or nothing when a step does not resolve.
// REQUIRES: IsValidInputPath(path).
std::optional<Json> EvaluateInputPath(const Json& doc, std::string_view path);

// The placeholder names `template_text` uses, in order of first use.
std::vector<std::string> TemplatePlaceholders(std::string_view template_text);

// Fills `template_text`: each placeholder named in `values` becomes its value; a value
// that is nothing (a path that did not resolve) is omitted: null in a JSON value
// position, empty text elsewhere. Placeholders not in `values` are left as they are.
std::string RenderTemplate(std::string_view template_text,
                           const std::map<std::string, std::optional<Json>>& values);

// The variables of the predefined `<aws.events.*>` placeholders for `event`.
std::map<std::string, Json> RulePredefinedValues(const Json& event, const std::string& rule_arn,
                                                 const std::string& rule_name,
                                                 const std::string& ingestion_time);

// Checks a target's input fields as PutTargets does. Returns AWS's ValidationException
// message, or nothing when the target is valid. `target` holds Id, Input, InputPath,
// InputTransformer as the API gives them.
std::optional<std::string> ValidateTargetInput(const Json& target);

// The text `target` receives for `event` (see the header comment). `predefined` are the
// `<aws.*>` values for the transformer. REQUIRES: ValidateTargetInput(target) passed.
std::string TargetInputFor(const Json& target, const Json& event,
                           const std::map<std::string, Json>& predefined);

}  // namespace understudy::events
