// Checks: a path into a JSON answer ("services[0].runningCount") and matchers
// (equals, contains, matches, exists, gte, lte) that must all hold there.
//
// Path syntax: member names joined by dots, [n] for array elements ([-1] is the
// last), ["name"] for members with other characters. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace understudy::scenario {

struct PathStep {
  std::string member;            // when !index
  std::optional<int64_t> index;  // array element; negative counts from the end
};

// InvalidArgument says where the path is malformed and what was expected.
Result<std::vector<PathStep>> ParsePath(std::string_view path);
// The value at `path` in `doc`, or nullptr when any step is missing.
const Json* Lookup(const Json& doc, const std::vector<PathStep>& path);

enum class MatcherKind { kEquals, kContains, kMatches, kExists, kGte, kLte };
const char* MatcherName(MatcherKind kind);
// The matcher named `name`, if there is one.
std::optional<MatcherKind> MatcherFromName(std::string_view name);

struct Matcher {
  MatcherKind kind = MatcherKind::kEquals;
  Json value;
};

struct Check {
  std::string path_text;  // as written; "" is the whole answer
  std::vector<PathStep> path;
  std::vector<Matcher> matchers;
};

// Checks that `matcher` is well formed (a valid regex for matches, a boolean for
// exists, a number for gte/lte); InvalidArgument says what was expected.
Status ValidateMatcher(const Matcher& matcher);

struct CheckOutcome {
  bool passed = false;
  std::string
      evidence;  // what was found: "got 2", "services[0] is missing (services has 0 elements)"
};

// Evaluates every matcher of `check` against `doc`.
CheckOutcome Evaluate(const Check& check, const Json& doc);
// "services[0].runningCount equals 2".
std::string Describe(const Check& check);

}  // namespace understudy::scenario
