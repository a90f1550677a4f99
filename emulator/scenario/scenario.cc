#include "scenario/scenario.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "api/wait_conditions.h"
#include "core/arn.h"
#include "scenario/source_json.h"
#include "traffic/spec.h"

namespace understudy::scenario {
namespace {

namespace fs = std::filesystem;

std::string Found(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return value.empty() ? "an empty object" : "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string: {
      std::string text = value.dump();
      return text.size() > 60 ? text.substr(0, 57) + "...\"" : text;
    }
    case Json::value_t::null:
      return "null";
    default:
      return value.dump() + " (" + value.type_name() + ")";
  }
}

std::string KeysOf(const Json& object) {
  std::string out;
  for (auto it = object.begin(); it != object.end(); ++it) {
    out += (out.empty() ? "" : ", ") + it.key();
  }
  return out;
}

Result<std::string> ReadFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::InvalidArgument(file + ": cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reports errors against one source file.
class Source {
 public:
  Source(std::string file, SourceJson json) : file_(std::move(file)), json_(std::move(json)) {}

  const Json& root() const { return json_.value; }
  const std::string& file() const { return file_; }

  Status Error(const std::string& path, const std::string& found,
               const std::string& expected) const {
    LineColumn at = json_.PositionOf(path);
    return Status::InvalidArgument(
        file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
        (path.empty() ? "the document" : path) + ": found " + found + "; expected " + expected);
  }
  // The error for an unexpected member: points at its name.
  Status UnknownMember(const std::string& path, const std::string& name,
                       const std::string& expected) const {
    std::string member = JoinPath(path, name);
    LineColumn at = json_.PositionOf(member + "#key");
    if (json_.offsets.count(member + "#key") == 0) at = json_.PositionOf(member);
    return Status::InvalidArgument(
        file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + member +
        ": found an unknown member \"" + name + "\"; expected " + expected);
  }
  size_t Line(const std::string& path) const { return json_.PositionOf(path).line; }

  Status OnlyMembers(const Json& object, const std::string& path,
                     const std::vector<std::string>& allowed) const {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        return UnknownMember(path, it.key(), "only " + list);
      }
    }
    return Status::Ok();
  }

 private:
  std::string file_;
  SourceJson json_;
};

Result<Source> LoadSource(const std::string& file, std::string text) {
  auto parsed = ParseSourceJson(std::move(text));
  if (!parsed.ok()) {
    // "line L, column C: ..." -> "file:L:C: ..."
    std::string message = parsed.status().message();
    size_t line = 0, column = 0;
    if (std::sscanf(message.c_str(), "line %zu, column %zu:", &line, &column) == 2) {
      message = file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                ": invalid JSON:" + message.substr(message.find(':') + 1);
    } else {
      message = file + ": " + message;
    }
    return Status::InvalidArgument(message);
  }
  return Source(file, std::move(parsed).value());
}

// The inputs being captured or replayed by the ParseScenario on this thread, and the
// directory their file names are relative to.
thread_local ScenarioInputs* t_inputs = nullptr;
thread_local std::string t_inputs_base;

Result<std::string> ReadInputFile(const fs::path& target) {
  if (t_inputs == nullptr) return ReadFile(target.string());
  std::error_code ec;
  std::string key =
      fs::absolute(target, ec).lexically_normal().lexically_relative(t_inputs_base).string();
  if (t_inputs->replay) {
    auto it = t_inputs->files.find(key);
    if (it == t_inputs->files.end()) {
      return Status::InvalidArgument(key + ": not in the recording");
    }
    return it->second;
  }
  US_ASSIGN_OR_RETURN(std::string text, ReadFile(target.string()));
  t_inputs->files[key] = text;
  return text;
}

std::optional<std::string> ReadEnv(const std::string& name) {
  if (t_inputs != nullptr && t_inputs->replay) {
    auto it = t_inputs->env.find(name);
    if (it == t_inputs->env.end()) return std::nullopt;
    return it->second;
  }
  const char* set = std::getenv(name.c_str());
  if (set == nullptr) return std::nullopt;
  if (t_inputs != nullptr) t_inputs->env[name] = set;
  return std::string(set);
}

// Replaces {"$file": "..."} and {"$env": "NAME"} in `value` (at `path` of `source`).
Status Resolve(const Source& source, Json& value, const std::string& path, int depth) {
  if (depth > 8) return source.Error(path, "$file references nested 8 deep", "fewer levels");
  if (value.is_object() && value.size() == 1 && value.contains("$file")) {
    const Json& name = value["$file"];
    if (!name.is_string() || name.get<std::string>().empty()) {
      return source.Error(JoinPath(path, "$file"), Found(name), "a file path string");
    }
    fs::path target = fs::path(source.file()).parent_path() / name.get<std::string>();
    auto text = ReadInputFile(target);
    if (!text.ok()) {
      return source.Error(JoinPath(path, "$file"), Found(name),
                          "a readable file relative to the scenario (" + target.string() + ")");
    }
    US_ASSIGN_OR_RETURN(Source included, LoadSource(target.string(), std::move(text).value()));
    Json content = included.root();
    US_RETURN_IF_ERROR(Resolve(included, content, "", depth + 1));
    value = std::move(content);
    return Status::Ok();
  }
  if (value.is_object() && value.size() == 1 && value.contains("$env")) {
    const Json& name = value["$env"];
    if (!name.is_string() || name.get<std::string>().empty()) {
      return source.Error(JoinPath(path, "$env"), Found(name), "an environment variable name");
    }
    std::optional<std::string> set = ReadEnv(name.get<std::string>());
    if (!set) {
      return source.Error(JoinPath(path, "$env"), Found(name),
                          "the name of a variable set in the environment");
    }
    value = std::move(*set);
    return Status::Ok();
  }
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      US_RETURN_IF_ERROR(Resolve(source, it.value(), JoinPath(path, it.key()), depth));
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      US_RETURN_IF_ERROR(Resolve(source, value[i], JoinPath(path, i), depth));
    }
  }
  return Status::Ok();
}

bool IsVariableName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

class Parser {
 public:
  Parser(const Source& source, const OperationCheck& check_operation)
      : source_(source), check_operation_(check_operation) {}

  Result<Scenario> Parse() {
    const Json& root = source_.root();
    Scenario out;
    out.file = source_.file();
    if (!root.is_object()) {
      return source_.Error("", Found(root), "a scenario object {\"name\", \"steps\": [...]}");
    }
    US_RETURN_IF_ERROR(source_.OnlyMembers(
        root, "", {"name", "description", "seed", "start", "emulator", "setup", "steps"}));
    out.name = fs::path(out.file).stem().string();
    if (auto it = root.find("name"); it != root.end()) {
      if (!it->is_string() || it->get<std::string>().empty()) {
        return source_.Error("name", Found(*it), "a non-empty string");
      }
      out.name = it->get<std::string>();
    }
    if (auto it = root.find("description"); it != root.end() && !it->is_string()) {
      return source_.Error("description", Found(*it), "a string");
    }
    if (auto it = root.find("seed"); it != root.end()) {
      if (!it->is_number_unsigned()) {
        return source_.Error("seed", Found(*it), "a whole number from 0 to 18446744073709551615");
      }
      out.seed = it->get<uint64_t>();
    }
    if (auto it = root.find("start"); it != root.end()) {
      auto t = it->is_string() ? ParseIso8601(it->get<std::string>())
                               : Result<TimePoint>(Status::InvalidArgument(""));
      if (!t.ok()) {
        return source_.Error("start", Found(*it),
                             "an ISO-8601 instant such as \"2026-11-23T08:00:00Z\"");
      }
      out.start = *t;
    }
    if (auto it = root.find("emulator"); it != root.end()) {
      US_ASSIGN_OR_RETURN(out.emulator_args, EmulatorArgs(*it, "emulator"));
    }
    if (auto it = root.find("setup"); it != root.end()) {
      US_ASSIGN_OR_RETURN(out.setup, Steps(*it, "setup"));
    }
    auto steps = root.find("steps");
    if (steps == root.end()) {
      return source_.Error("", "no \"steps\"",
                           "a \"steps\" array of calls, advances, waits and expectations");
    }
    US_ASSIGN_OR_RETURN(out.steps, Steps(*steps, "steps"));
    return out;
  }

 private:
  // "emulator": {"images": "images.json", "secrets": ..., "accountId", "region",
  // "strictReferences", "holdTimeout"} -> serve flags; files relative to the scenario.
  Result<std::vector<std::string>> EmulatorArgs(const Json& value, const std::string& path) {
    if (!value.is_object()) {
      return source_.Error(path, Found(value),
                           "an object of serve options: images, secrets, accountId, region, "
                           "strictReferences, holdTimeout");
    }
    US_RETURN_IF_ERROR(source_.OnlyMembers(
        value, path,
        {"images", "secrets", "accountId", "region", "strictReferences", "holdTimeout"}));
    std::vector<std::string> args;
    for (const char* name : {"images", "secrets"}) {
      auto it = value.find(name);
      if (it == value.end()) continue;
      std::string at = JoinPath(path, name);
      if (!it->is_string() || it->get<std::string>().empty()) {
        return source_.Error(at, Found(*it), "a file path relative to the scenario");
      }
      fs::path file = fs::path(source_.file()).parent_path() / it->get<std::string>();
      std::error_code ec;
      if (!fs::is_regular_file(file, ec)) {
        return source_.Error(at, Found(*it), "an existing file (" + file.string() + ")");
      }
      args.push_back(std::string("--") + name);
      args.push_back(fs::absolute(file, ec).string());
    }
    if (auto it = value.find("accountId"); it != value.end()) {
      if (!it->is_string() || !IsAccountId(it->get<std::string>())) {
        return source_.Error(JoinPath(path, "accountId"), Found(*it), "a 12-digit account id");
      }
      args.insert(args.end(), {"--account-id", it->get<std::string>()});
    }
    if (auto it = value.find("region"); it != value.end()) {
      if (!it->is_string() || !IsRegionName(it->get<std::string>())) {
        return source_.Error(JoinPath(path, "region"), Found(*it),
                             "a region name such as \"us-east-1\"");
      }
      args.insert(args.end(), {"--region", it->get<std::string>()});
    }
    if (auto it = value.find("strictReferences"); it != value.end()) {
      if (!it->is_boolean()) {
        return source_.Error(JoinPath(path, "strictReferences"), Found(*it), "true or false");
      }
      if (it->get<bool>()) args.push_back("--strict-references");
    }
    if (auto it = value.find("holdTimeout"); it != value.end()) {
      US_ASSIGN_OR_RETURN(Duration d, DurationAt(*it, JoinPath(path, "holdTimeout")));
      args.insert(args.end(), {"--hold-timeout", FormatDuration(d)});
    }
    return args;
  }

  Result<std::vector<Step>> Steps(const Json& list, const std::string& path) {
    if (!list.is_array()) return source_.Error(path, Found(list), "an array of steps");
    std::vector<Step> out;
    for (size_t i = 0; i < list.size(); ++i) {
      US_ASSIGN_OR_RETURN(Step step, ParseStep(list[i], JoinPath(path, i)));
      out.push_back(std::move(step));
    }
    return out;
  }

  Result<Step> ParseStep(const Json& value, const std::string& path) {
    static const char* kKinds =
        "a step object with one of \"call\", \"advance\", \"advanceTo\", \"waitFor\", "
        "\"expect\", \"metrics\", \"traffic\" or \"fault\"";
    if (!value.is_object()) return source_.Error(path, Found(value), kKinds);
    Step step;
    step.path = path;
    step.line = source_.Line(path);
    if (value.contains("call")) {
      step.kind = StepKind::kCall;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"call", "expect", "save", "name"}));
      US_ASSIGN_OR_RETURN(step.call, Call(value["call"], JoinPath(path, "call")));
      step.label = step.call.service + "." + step.call.operation;
      if (auto it = value.find("expect"); it != value.end()) {
        US_RETURN_IF_ERROR(CallExpectations(*it, JoinPath(path, "expect"), &step));
      }
    } else if (value.contains("metrics")) {
      // A metric override (docs/cloudwatch.md): {"cluster", "service", "value", ...}.
      step.kind = StepKind::kMetrics;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"metrics", "name"}));
      const Json& metrics = value["metrics"];
      if (!metrics.is_object() || metrics.empty()) {
        return source_.Error(JoinPath(path, "metrics"), Found(metrics),
                             "a metric override object such as {\"cluster\": \"web\", "
                             "\"service\": \"api\", \"value\": 85}");
      }
      step.metrics = metrics;
      step.label = "metric override";
    } else if (value.contains("traffic") && !value.contains("expect")) {
      // A traffic generator started in the background (docs/traffic.md).
      step.kind = StepKind::kTraffic;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"traffic", "name"}));
      std::string at = JoinPath(path, "traffic");
      const Json& spec = value["traffic"];
      auto parsed = traffic::ParseTrafficSpec(spec);
      if (auto* e = std::get_if<traffic::SpecError>(&parsed)) return SpecErrorAt(at, spec, *e);
      step.traffic = spec;
      traffic_names_.insert(std::get<traffic::TrafficSpec>(parsed).name);
      const auto& t = std::get<traffic::TrafficSpec>(parsed);
      char rate[32];
      std::snprintf(rate, sizeof rate, "%g", t.rate);
      step.label = t.name + " " + rate + "/s for " + FormatDuration(t.duration);
    } else if (value.contains("fault")) {
      // Fault injection (docs/chaos.md): one inline action or {"experiment": {...}}; the
      // emulator validates the experiment itself when the step runs.
      step.kind = StepKind::kFault;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"fault", "name"}));
      const Json& fault = value["fault"];
      std::string fpath = JoinPath(path, "fault");
      if (!fault.is_object() || (!fault.contains("action") && !fault.contains("experiment"))) {
        return source_.Error(fpath, Found(fault),
                             "{\"action\": \"aws:ecs:stop-task\", \"targets\": {...}} or "
                             "{\"experiment\": {...an experiment template...}}");
      }
      if (fault.contains("experiment")) {
        US_RETURN_IF_ERROR(source_.OnlyMembers(fault, fpath, {"experiment"}));
        if (!fault["experiment"].is_object() || !fault["experiment"].contains("actions")) {
          return source_.Error(JoinPath(fpath, "experiment"), Found(fault["experiment"]),
                               "an experiment template with \"actions\"");
        }
        step.label = "fault experiment";
      } else {
        US_RETURN_IF_ERROR(source_.OnlyMembers(
            fault, fpath, {"action", "targets", "parameters", "duration", "stopConditions"}));
        const Json& action = fault["action"];
        std::string id = action.is_string() ? action.get<std::string>() : "";
        if (std::count(id.begin(), id.end(), ':') != 2) {
          return source_.Error(JoinPath(fpath, "action"), Found(action),
                               "an action id such as \"aws:ecs:stop-task\"");
        }
        for (const char* member : {"targets", "parameters"}) {
          if (fault.contains(member) && !fault[member].is_object())
            return source_.Error(JoinPath(fpath, member), Found(fault[member]), "an object");
        }
        if (fault.contains("duration")) {
          US_RETURN_IF_ERROR(DurationAt(fault["duration"], JoinPath(fpath, "duration")).status());
        }
        step.label = action.get<std::string>();
      }
      step.fault = fault;
    } else if (value.contains("advance")) {
      step.kind = StepKind::kAdvance;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"advance", "name"}));
      US_ASSIGN_OR_RETURN(step.advance, DurationAt(value["advance"], JoinPath(path, "advance")));
      step.label = FormatDuration(step.advance);
    } else if (value.contains("advanceTo")) {
      step.kind = StepKind::kAdvanceTo;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"advanceTo", "name"}));
      const Json& to = value["advanceTo"];
      std::string to_path = JoinPath(path, "advanceTo");
      static const char* kExpected =
          "an ISO-8601 instant such as \"2026-11-23T09:00:00Z\" or \"+\" and a duration after "
          "the scenario's start, such as \"+1h\"";
      if (!to.is_string()) return source_.Error(to_path, Found(to), kExpected);
      std::string text = to.get<std::string>();
      if (!text.empty() && text[0] == '+') {
        auto d = ParseDuration(text.substr(1));
        if (!d.ok()) return source_.Error(to_path, Found(to), kExpected);
        step.advance_to_offset = *d;
      } else {
        auto t = ParseIso8601(text);
        if (!t.ok()) return source_.Error(to_path, Found(to), kExpected);
        step.advance_to = *t;
      }
      step.label = text;
    } else if (value.contains("waitFor")) {
      step.kind = StepKind::kWaitFor;
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"waitFor", "timeout", "name"}));
      const Json& until = value["waitFor"];
      std::string until_path = JoinPath(path, "waitFor");
      if (!until.is_object() || until.size() != 1 || !until.begin()->is_object()) {
        return source_.Error(until_path, Found(until),
                             "an object with one wait condition, e.g. {\"ecsService\": "
                             "{\"cluster\": \"web\", \"service\": \"api\"}}");
      }
      // The condition and its parameters as the emulator takes them: a misspelt one is
      // an error before anything runs.
      const std::string& condition = until.begin().key();
      const auto& known = api::WaitConditionParameters();
      auto accepted = known.find(condition);
      if (accepted == known.end()) {
        std::string names;
        for (const auto& [name, keys] : known) names += (names.empty() ? "" : ", ") + name;
        return source_.Error(until_path, "the condition \"" + condition + "\"", "one of " + names);
      }
      for (auto it = until.begin()->begin(); it != until.begin()->end(); ++it) {
        const auto& keys = accepted->second;
        if (std::find(keys.begin(), keys.end(), it.key()) != keys.end()) continue;
        std::string list;
        for (const auto& k : keys) list += (list.empty() ? "\"" : ", \"") + k + "\"";
        return source_.Error(JoinPath(JoinPath(until_path, condition), it.key()),
                             "an unknown parameter \"" + it.key() + "\"",
                             keys.empty() ? std::string("no parameters for ") + condition
                                          : "a parameter of " + condition + ": " + list);
      }
      step.wait_until = until;
      step.label = until.begin().key();
      if (auto it = value.find("timeout"); it != value.end()) {
        US_ASSIGN_OR_RETURN(step.timeout, DurationAt(*it, JoinPath(path, "timeout")));
      }
    } else if (value.contains("expect")) {
      step.kind = StepKind::kExpect;
      US_RETURN_IF_ERROR(ParseExpect(value, path, &step));
    } else {
      std::string found =
          value.empty() ? "an empty object" : "an object with members " + KeysOf(value);
      return source_.Error(path, found, kKinds);
    }
    if (auto it = value.find("name"); it != value.end()) {
      if (!it->is_string()) return source_.Error(JoinPath(path, "name"), Found(*it), "a string");
      step.label = it->get<std::string>();
    }
    // Variables used here must have been saved by an earlier step.
    US_RETURN_IF_ERROR(CheckReferences(value, path));
    if (auto it = value.find("save"); it != value.end()) {
      std::string save_path = JoinPath(path, "save");
      if (!it->is_object() || it->empty()) {
        return source_.Error(save_path, Found(*it),
                             "an object of names and paths into the output, e.g. {\"tgArn\": "
                             "\"TargetGroups[0].TargetGroupArn\"}");
      }
      for (auto s = it->begin(); s != it->end(); ++s) {
        std::string at = JoinPath(save_path, s.key());
        if (!IsVariableName(s.key())) {
          return source_.Error(at, "the name \"" + s.key() + "\"",
                               "a variable name of letters, digits and _ (not first a digit)");
        }
        auto parsed = s->is_string() ? ParsePath(s->get<std::string>())
                                     : Result<std::vector<PathStep>>(Status::InvalidArgument(
                                           "a path such as \"services[0].serviceArn\""));
        if (!parsed.ok()) return source_.Error(at, Found(*s), parsed.status().message());
        step.saves.push_back(Step::Save{s.key(), s->get<std::string>(), std::move(parsed).value()});
      }
      for (const auto& save : step.saves) saved_.insert(save.name);
    }
    return step;
  }

  // A traffic::SpecError as an error at the member it names under `at`.
  Status SpecErrorAt(const std::string& at, const Json& spec, const traffic::SpecError& e) {
    if (e.member.empty()) return source_.Error(at, e.found, e.expected);
    std::string member = at + "." + e.member;
    if (e.found.rfind("an unknown member", 0) == 0) {
      size_t dot = e.member.rfind('.');
      std::string parent = dot == std::string::npos ? at : at + "." + e.member.substr(0, dot);
      std::string name = dot == std::string::npos ? e.member : e.member.substr(dot + 1);
      return source_.UnknownMember(parent, name, e.expected);
    }
    (void)spec;
    return source_.Error(member, e.found, e.expected);
  }

  Result<TimePoint> InstantAt(const Json& value, const std::string& path, Duration* offset,
                              bool* is_offset) {
    static const char* kExpected =
        "an ISO-8601 instant such as \"2026-11-23T09:00:00Z\" or \"+\" and a duration after "
        "the scenario's start, such as \"+1h\"";
    if (!value.is_string()) return source_.Error(path, Found(value), kExpected);
    std::string text = value.get<std::string>();
    if (!text.empty() && text[0] == '+') {
      auto d = ParseDuration(text.substr(1));
      if (!d.ok()) return source_.Error(path, Found(value), kExpected);
      *offset = *d;
      *is_offset = true;
      return TimePoint{};
    }
    auto t = ParseIso8601(text);
    if (!t.ok()) return source_.Error(path, Found(value), kExpected);
    *is_offset = false;
    return *t;
  }

  // {"expect": {<source>: ..., "path": ..., <matcher>: ...}, "within"|"throughout"?,
  // "every"?, "at"|"after"?}.
  Status ParseExpect(const Json& value, const std::string& path, Step* step) {
    US_RETURN_IF_ERROR(source_.OnlyMembers(
        value, path, {"expect", "name", "within", "throughout", "every", "at", "after"}));
    if (value.contains("within") && value.contains("throughout")) {
      return source_.Error(JoinPath(path, "throughout"), "both \"within\" and \"throughout\"",
                           "one window: \"within\" (holds at some point) or \"throughout\" "
                           "(holds all along)");
    }
    if (value.contains("at") && value.contains("after")) {
      return source_.Error(JoinPath(path, "after"), "both \"at\" and \"after\"",
                           "one of them: \"at\" (an instant) or \"after\" (a duration from now)");
    }
    if (auto it = value.find("within"); it != value.end()) {
      US_ASSIGN_OR_RETURN(step->within, DurationAt(*it, JoinPath(path, "within")));
    }
    if (auto it = value.find("throughout"); it != value.end()) {
      US_ASSIGN_OR_RETURN(Duration d, DurationAt(*it, JoinPath(path, "throughout")));
      if (d.count() <= 0) {
        return source_.Error(JoinPath(path, "throughout"), Found(*it), "a duration longer than 0s");
      }
      step->throughout = d;
    }
    if (auto it = value.find("every"); it != value.end()) {
      if (!step->within && !step->throughout) {
        return source_.Error(JoinPath(path, "every"), Found(*it),
                             "\"every\" only with \"within\" or \"throughout\" (how often to "
                             "check in that window)");
      }
      US_ASSIGN_OR_RETURN(step->every, DurationAt(*it, JoinPath(path, "every")));
      if (step->every.count() <= 0) {
        return source_.Error(JoinPath(path, "every"), Found(*it), "a duration longer than 0s");
      }
    }
    if (auto it = value.find("after"); it != value.end()) {
      US_ASSIGN_OR_RETURN(step->after, DurationAt(*it, JoinPath(path, "after")));
    }
    if (auto it = value.find("at"); it != value.end()) {
      Duration offset{};
      bool is_offset = false;
      US_ASSIGN_OR_RETURN(TimePoint t, InstantAt(*it, JoinPath(path, "at"), &offset, &is_offset));
      if (is_offset) {
        step->at_offset = offset;
      } else {
        step->at = t;
      }
    }
    std::string expect_path = JoinPath(path, "expect");
    const Json& expect = value["expect"];
    static const char* kExpected =
        "{<what>: ..., \"path\": \"...\", <matcher>: <value>} where <what> is one of \"call\", "
        "\"traffic\", \"http\", \"emails\", \"logs\", \"events\", \"scalingActivities\", "
        "\"serviceEvents\"";
    if (!expect.is_object()) return source_.Error(expect_path, Found(expect), kExpected);
    static const std::vector<std::pair<const char*, ExpectSource>> kSources = {
        {"call", ExpectSource::kCall},
        {"traffic", ExpectSource::kTraffic},
        {"http", ExpectSource::kHttp},
        {"emails", ExpectSource::kEmails},
        {"logs", ExpectSource::kLogs},
        {"events", ExpectSource::kEvents},
        {"scalingActivities", ExpectSource::kScaling},
        {"serviceEvents", ExpectSource::kServiceEvents}};
    std::vector<std::string> present;
    for (const auto& [name, kind] : kSources) {
      if (expect.contains(name)) {
        present.push_back(name);
        step->source = kind;
      }
    }
    if (present.size() != 1) {
      return source_.Error(expect_path,
                           present.empty()
                               ? (expect.empty() ? std::string("an empty object")
                                                 : "an object with members " + KeysOf(expect))
                               : "both \"" + present[0] + "\" and \"" + present[1] + "\"",
                           kExpected);
    }
    const std::string& name = present[0];
    std::string at = JoinPath(expect_path, name);
    const Json& params = expect[name];
    bool counted = false;  // the answer is {"count", <list>}
    switch (step->source) {
      case ExpectSource::kCall: {
        US_ASSIGN_OR_RETURN(step->call, Call(params, at));
        step->label = step->call.service + "." + step->call.operation;
        break;
      }
      case ExpectSource::kTraffic:
        if (!params.is_string() || params.get<std::string>().empty()) {
          return source_.Error(at, Found(params),
                               "the name of a traffic generator started by a \"traffic\" step");
        }
        if (traffic_names_.count(params.get<std::string>()) == 0 &&
            params.get<std::string>().find("${") == std::string::npos) {
          std::string known;
          for (const auto& n : traffic_names_) known += (known.empty() ? "" : ", ") + n;
          return source_.Error(at, Found(params),
                               "the name of a traffic generator started by an earlier "
                               "\"traffic\" step (" +
                                   (known.empty() ? std::string("none is started before") : known) +
                                   ")");
        }
        step->label = "traffic " + params.get<std::string>();
        break;
      case ExpectSource::kHttp: {
        auto parsed = traffic::ParseRequestSpec(params);
        if (auto* e = std::get_if<traffic::SpecError>(&parsed)) return SpecErrorAt(at, params, *e);
        const auto& r = std::get<traffic::RequestSpec>(parsed);
        step->label =
            "http " + r.method + " " +
            (r.target.url.empty() ? r.target.load_balancer + ":" + std::to_string(r.target.port)
                                  : r.target.url) +
            r.path;
        break;
      }
      case ExpectSource::kEmails:
        US_RETURN_IF_ERROR(Filters(params, at,
                                   {"to", "from", "subject", "q", "mailbox", "tag",
                                    "configurationSet", "via", "bodyContains", "link"},
                                   {"link"}, {}));
        step->label = "emails";
        counted = true;
        break;
      case ExpectSource::kLogs:
        US_RETURN_IF_ERROR(Filters(params, at,
                                   {"group", "stream", "streamPrefix", "contains", "matches",
                                    "filterPattern", "region", "account"},
                                   {"matches"}, {"group"}));
        step->label = "logs " + params["group"].get<std::string>();
        counted = true;
        break;
      case ExpectSource::kEvents:
        US_RETURN_IF_ERROR(Filters(params, at, {"source", "outcome", "targetId"}, {}, {}));
        if (params.contains("outcome") && params["outcome"] != "SUCCEEDED" &&
            params["outcome"] != "FAILED") {
          return source_.Error(JoinPath(at, "outcome"), Found(params["outcome"]),
                               "\"SUCCEEDED\" or \"FAILED\"");
        }
        step->label = "event deliveries";
        counted = true;
        break;
      case ExpectSource::kScaling:
        US_RETURN_IF_ERROR(Filters(params, at,
                                   {"cluster", "service", "resourceId", "serviceNamespace",
                                    "statusCode", "region", "account"},
                                   {}, {}));
        if (!params.contains("resourceId") &&
            !(params.contains("cluster") && params.contains("service"))) {
          return source_.Error(at, Found(params),
                               "\"cluster\" and \"service\" (an ECS service), or \"resourceId\"");
        }
        step->label = "scaling activities";
        counted = true;
        break;
      case ExpectSource::kServiceEvents:
        US_RETURN_IF_ERROR(
            Filters(params, at, {"cluster", "service", "contains", "matches", "region", "account"},
                    {"matches"}, {"service"}));
        step->label = "service events " + params["service"].get<std::string>();
        counted = true;
        break;
    }
    step->source_params = params;
    step->subject = step->label;
    std::vector<std::string> allowed = {name};
    Json rest = expect;
    if (counted && expect.contains("count")) {
      const Json& count = expect["count"];
      if (!count.is_number_unsigned() && !count.is_object()) {
        return source_.Error(JoinPath(expect_path, "count"), Found(count),
                             "a whole number (how many there must be) or matchers such as "
                             "{\"gte\": 1}");
      }
      if (expect.contains("path")) {
        return source_.Error(JoinPath(expect_path, "path"), Found(expect["path"]),
                             "no \"path\" with \"count\" (count checks the number found)");
      }
      // "count": 2 is {"path": "count", "equals": 2}; "count": {"gte": 1} the same with
      // its matchers.
      rest = Json::object();
      rest[name] = params;
      rest["path"] = "count";
      if (count.is_object()) {
        for (auto it = count.begin(); it != count.end(); ++it) {
          if (!MatcherFromName(it.key())) {
            return source_.UnknownMember(JoinPath(expect_path, "count"), it.key(),
                                         "a matcher: equals, gte, lte");
          }
          rest[it.key()] = it.value();
        }
      } else {
        rest["equals"] = count;
      }
      for (auto it = expect.begin(); it != expect.end(); ++it) {
        if (it.key() != name && it.key() != "count" && MatcherFromName(it.key())) {
          return source_.Error(JoinPath(expect_path, it.key()), Found(it.value()),
                               "no other matcher with \"count\"");
        }
      }
    } else if (counted && !expect.contains("path")) {
      bool any = false;
      for (auto it = expect.begin(); it != expect.end(); ++it)
        any |= MatcherFromName(it.key()).has_value();
      if (!any) {  // at least one
        rest["path"] = "count";
        rest["gte"] = 1;
      }
    }
    US_ASSIGN_OR_RETURN(Check check, CheckAt(rest, expect_path, allowed));
    step->checks.push_back(std::move(check));
    return Status::Ok();
  }

  // An object of string filters among `allowed`; `regex` members must be valid
  // regular expressions; `required` must be present.
  Status Filters(const Json& value, const std::string& path,
                 const std::vector<std::string>& allowed, const std::vector<std::string>& regex,
                 const std::vector<std::string>& required) {
    if (!value.is_object()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return source_.Error(path, Found(value), "an object of filters: " + list);
    }
    US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, allowed));
    for (const auto& r : required) {
      if (!value.contains(r)) {
        return source_.Error(path, "no \"" + r + "\"", "a \"" + r + "\" string");
      }
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      std::string at = JoinPath(path, it.key());
      if (!it->is_string() || it->get<std::string>().empty()) {
        return source_.Error(at, Found(*it), "a non-empty string");
      }
      if (std::find(regex.begin(), regex.end(), it.key()) != regex.end()) {
        Status valid = ValidateMatcher(Matcher{MatcherKind::kMatches, *it});
        if (!valid.ok()) return source_.Error(at, Found(*it), valid.message());
      }
    }
    return Status::Ok();
  }

  Result<CallSpec> Call(const Json& value, const std::string& path) {
    if (!value.is_object()) {
      return source_.Error(
          path, Found(value),
          "{\"service\": \"ecs\", \"operation\": \"CreateCluster\", \"input\": {...}}");
    }
    US_RETURN_IF_ERROR(
        source_.OnlyMembers(value, path, {"service", "operation", "input", "region", "account"}));
    CallSpec call;
    for (const char* name : {"service", "operation"}) {
      auto it = value.find(name);
      if (it == value.end()) {
        return source_.Error(path, std::string("no \"") + name + "\"",
                             std::string("a \"") + name + "\" string");
      }
      if (!it->is_string() || it->get<std::string>().empty()) {
        return source_.Error(JoinPath(path, name), Found(*it),
                             std::string("a ") + name + " name string");
      }
    }
    call.service = value["service"].get<std::string>();
    call.operation = value["operation"].get<std::string>();
    if (check_operation_) {
      Status known = check_operation_(call.service, "");
      if (!known.ok()) {
        return source_.Error(JoinPath(path, "service"), Found(value["service"]), known.message());
      }
      known = check_operation_(call.service, call.operation);
      if (!known.ok()) {
        return source_.Error(JoinPath(path, "operation"), Found(value["operation"]),
                             known.message());
      }
    }
    for (const char* name : {"region", "account"}) {
      if (auto it = value.find(name); it != value.end()) {
        if (!it->is_string()) return source_.Error(JoinPath(path, name), Found(*it), "a string");
        (name == std::string("region") ? call.region : call.account) = it->get<std::string>();
      }
    }
    if (auto it = value.find("input"); it != value.end()) {
      call.input = *it;
      US_RETURN_IF_ERROR(Resolve(source_, call.input, JoinPath(path, "input"), 0));
      if (!call.input.is_object()) {
        return source_.Error(JoinPath(path, "input"), Found(call.input),
                             "the operation's input as an object (or {\"$file\": \"...\"})");
      }
    }
    return call;
  }

  // A call step's "expect": {"error": "Code"}, a check, or an array of checks.
  Status CallExpectations(const Json& value, const std::string& path, Step* step) {
    if (value.is_object() && value.contains("error")) {
      US_RETURN_IF_ERROR(source_.OnlyMembers(value, path, {"error"}));
      const Json& code = value["error"];
      if (!code.is_string() || code.get<std::string>().empty()) {
        return source_.Error(JoinPath(path, "error"), Found(code),
                             "an AWS error code string such as \"ClusterNotFoundException\"");
      }
      step->expect_error = code.get<std::string>();
      return Status::Ok();
    }
    if (value.is_object()) {
      US_ASSIGN_OR_RETURN(Check check, CheckAt(value, path, {}));
      step->checks.push_back(std::move(check));
      return Status::Ok();
    }
    if (value.is_array() && !value.empty()) {
      for (size_t i = 0; i < value.size(); ++i) {
        std::string at = JoinPath(path, i);
        if (!value[i].is_object()) {
          return source_.Error(at, Found(value[i]), "{\"path\": \"...\", <matcher>: <value>}");
        }
        US_ASSIGN_OR_RETURN(Check check, CheckAt(value[i], at, {}));
        step->checks.push_back(std::move(check));
      }
      return Status::Ok();
    }
    return source_.Error(path, Found(value),
                         "{\"error\": \"<code>\"}, {\"path\": \"...\", <matcher>: <value>} or an "
                         "array of such checks");
  }

  Result<Check> CheckAt(const Json& value, const std::string& path,
                        const std::vector<std::string>& also_allowed) {
    static const char* kMatchers = "equals, contains, matches, exists, gte or lte";
    Check check;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      std::string at = JoinPath(path, key);
      if (std::find(also_allowed.begin(), also_allowed.end(), key) != also_allowed.end()) continue;
      if (key == "path") {
        if (!it->is_string())
          return source_.Error(at, Found(*it), "a path such as \"services[0].runningCount\"");
        auto parsed = ParsePath(it->get<std::string>());
        if (!parsed.ok()) return source_.Error(at, Found(*it), parsed.status().message());
        check.path_text = it->get<std::string>();
        check.path = std::move(parsed).value();
        continue;
      }
      auto kind = MatcherFromName(key);
      if (!kind) {
        return source_.UnknownMember(path, key, std::string("\"path\" or a matcher: ") + kMatchers);
      }
      Matcher matcher{*kind, it.value()};
      Status valid = ValidateMatcher(matcher);
      if (!valid.ok()) return source_.Error(at, Found(*it), valid.message());
      check.matchers.push_back(std::move(matcher));
    }
    if (check.matchers.empty()) {
      return source_.Error(path, "no matcher", std::string("at least one of ") + kMatchers);
    }
    return check;
  }

  Result<Duration> DurationAt(const Json& value, const std::string& path) {
    auto d = value.is_string() ? ParseDuration(value.get<std::string>())
                               : Result<Duration>(Status::InvalidArgument(""));
    if (!d.ok()) {
      return source_.Error(path, Found(value),
                           "a duration string such as \"90s\", \"15m\" or \"1h30m\"");
    }
    return d;
  }

  // Every "${name}" in the strings of `value` names a saved variable.
  Status CheckReferences(const Json& value, const std::string& path) {
    if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      for (size_t at = text.find("${"); at != std::string::npos; at = text.find("${", at + 2)) {
        size_t end = text.find('}', at);
        std::string name = end == std::string::npos ? "" : text.substr(at + 2, end - at - 2);
        if (name.empty() || !IsVariableName(name)) {
          return source_.Error(path, Found(value),
                               "${name} with a variable name (letters, digits, _)");
        }
        if (saved_.count(name) == 0) {
          std::string known;
          for (const auto& n : saved_) known += (known.empty() ? "" : ", ") + n;
          return source_.Error(path, Found(value),
                               "a variable saved by an earlier step with \"save\" (" +
                                   (known.empty() ? std::string("none is saved before this step")
                                                  : "saved so far: " + known) +
                                   ")");
        }
      }
    } else if (value.is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (it.key() == "save") continue;
        US_RETURN_IF_ERROR(CheckReferences(it.value(), JoinPath(path, it.key())));
      }
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        US_RETURN_IF_ERROR(CheckReferences(value[i], JoinPath(path, i)));
      }
    }
    return Status::Ok();
  }

  const Source& source_;
  const OperationCheck& check_operation_;
  std::set<std::string> saved_;
  std::set<std::string> traffic_names_;  // started by earlier "traffic" steps
};

}  // namespace

Result<Json> SubstituteVariables(const Json& value, const std::map<std::string, Json>& vars) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.find("${") == std::string::npos) return value;
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t at = text.find("${", pos);
      if (at == std::string::npos) break;
      size_t end = text.find('}', at);
      if (end == std::string::npos) break;
      std::string name = text.substr(at + 2, end - at - 2);
      auto found = vars.find(name);
      if (found == vars.end()) {
        return Status::InvalidArgument("the variable '" + name + "' is not saved");
      }
      if (at == 0 && end + 1 == text.size()) return found->second;  // the value itself
      out += text.substr(pos, at - pos);
      out += found->second.is_string() ? found->second.get<std::string>() : found->second.dump();
      pos = end + 1;
    }
    out += text.substr(pos);
    return Json(out);
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      US_ASSIGN_OR_RETURN(out[it.key()], SubstituteVariables(it.value(), vars));
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& element : value) {
      US_ASSIGN_OR_RETURN(Json v, SubstituteVariables(element, vars));
      out.push_back(std::move(v));
    }
    return out;
  }
  return value;
}

const char* ExpectSourceName(ExpectSource source) {
  switch (source) {
    case ExpectSource::kCall:
      return "call";
    case ExpectSource::kTraffic:
      return "traffic";
    case ExpectSource::kHttp:
      return "http";
    case ExpectSource::kEmails:
      return "emails";
    case ExpectSource::kLogs:
      return "logs";
    case ExpectSource::kEvents:
      return "events";
    case ExpectSource::kScaling:
      return "scalingActivities";
    case ExpectSource::kServiceEvents:
      return "serviceEvents";
  }
  return "?";
}

const char* StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kCall:
      return "call";
    case StepKind::kAdvance:
      return "advance";
    case StepKind::kAdvanceTo:
      return "advanceTo";
    case StepKind::kWaitFor:
      return "waitFor";
    case StepKind::kExpect:
      return "expect";
    case StepKind::kMetrics:
      return "metrics";
    case StepKind::kTraffic:
      return "traffic";
    case StepKind::kFault:
      return "fault";
  }
  return "?";
}

Result<Scenario> ParseScenario(const std::string& file, std::string text,
                               const OperationCheck& check_operation) {
  US_ASSIGN_OR_RETURN(Source source, LoadSource(file, std::move(text)));
  return Parser(source, check_operation).Parse();
}

Result<Scenario> ParseScenario(const std::string& file, std::string text,
                               const OperationCheck& check_operation, ScenarioInputs* inputs) {
  t_inputs = inputs;
  std::error_code ec;
  t_inputs_base = fs::absolute(fs::path(file), ec).parent_path().lexically_normal().string();
  auto parsed = ParseScenario(file, std::move(text), check_operation);
  t_inputs = nullptr;
  return parsed;
}

Result<Scenario> LoadScenario(const std::string& file, const OperationCheck& check_operation) {
  US_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  return ParseScenario(file, std::move(text), check_operation);
}

Result<std::vector<std::string>> ExpandScenarioPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      fs::recursive_directory_iterator it(path, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (it->is_directory()) {
          if (name == "taskdefs" || name.rfind("_", 0) == 0 || name.rfind(".", 0) == 0) {
            it.disable_recursion_pending();
          }
          continue;
        }
        // The --images and --secrets files kept next to scenarios are not scenarios.
        if (name == "images.json" || name == "secrets.json" || name.rfind("_", 0) == 0 ||
            name.rfind(".", 0) == 0) {
          continue;
        }
        if (it->path().extension() == ".json") found.push_back(it->path().string());
      }
      if (ec) return Status::InvalidArgument(path + ": cannot list the directory: " + ec.message());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      out.push_back(path);
    } else {
      return Status::InvalidArgument(path + ": no such file or directory");
    }
  }
  return out;
}

}  // namespace understudy::scenario
