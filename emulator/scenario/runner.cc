#include "scenario/runner.h"

#include <unistd.h>

#include <httplib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>

#include "api/model.h"
#include "scenario/emulator_process.h"
#include "scenario/record.h"

namespace understudy::scenario {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(RealElapsedNow() - start).count();
}

std::string SelfBinary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("understudy") : path.string();
}

struct Answer {
  int status = 0;  // 0: no answer (transport error, timeout)
  Json body;
  std::string transport_error;
};

class Client {
 public:
  Client(const std::string& host, int port) : http_(host, port) {
    http_.set_connection_timeout(10, 0);
  }
  Answer Request(const std::string& method, const std::string& path, const Json& body,
                 double timeout_seconds) {
    auto secs = static_cast<time_t>(timeout_seconds);
    auto usecs = static_cast<time_t>((timeout_seconds - static_cast<double>(secs)) * 1e6);
    http_.set_read_timeout(std::max<time_t>(secs, 0), std::max<time_t>(usecs, 0));
    httplib::Result result = method == "GET"
                                 ? http_.Get(path.c_str())
                                 : http_.Post(path.c_str(), body.dump(), "application/json");
    Answer answer;
    if (!result) {
      answer.transport_error = httplib::to_string(result.error());
      return answer;
    }
    answer.status = result->status;
    auto parsed = ParseJson(result->body);
    answer.body = parsed.ok() ? std::move(parsed).value() : Json(result->body);
    return answer;
  }

 private:
  httplib::Client http_;
};

std::string Short(const Json& value, size_t max = 400) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  return text.size() > max ? text.substr(0, max - 3) + "..." : text;
}

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunnerOptions& options, std::ostream& out)
      : scenario_(scenario), options_(options), out_(out) {}

  ScenarioResult Run() {
    result_.name = scenario_.name;
    result_.file = scenario_.file;
    result_.seed = options_.seed ? *options_.seed : scenario_.seed.value_or(0);
    started_ = RealElapsedNow();
    deadline_ = started_ + options_.timeout;
    out_ << "== " << scenario_.name << " (" << scenario_.file << "), seed " << result_.seed << "\n";
    // A free SMTP port too: with the default one, scenarios run in parallel (ctest -j)
    // would find it taken and run without SMTP.
    std::vector<std::string> args = {
        "--clock", "virtual", "--seed", std::to_string(result_.seed), "--smtp-port", "0"};
    if (options_.start || scenario_.start) {
      args.push_back("--start");
      args.push_back(FormatIso8601(options_.start ? *options_.start : *scenario_.start));
    }
    if (!options_.measured_file.empty()) {
      args.push_back("--measured");
      args.push_back(options_.measured_file);
    }
    args.insert(args.end(), scenario_.emulator_args.begin(), scenario_.emulator_args.end());
    std::string binary = options_.binary.empty() ? SelfBinary() : options_.binary;
    Status started = emulator_.Start(binary, args, std::chrono::seconds(30));
    if (!started.ok()) {
      Fail("", 0, "start the emulator", started.message());
    } else {
      client_.emplace(emulator_.host(), emulator_.port());
      result_.virtual_start = Now();
      bool ok = RunSteps(scenario_.setup) && RunSteps(scenario_.steps);
      (void)ok;
      result_.virtual_end = Now();
      FingerprintJournal();
    }
    int code = emulator_.Stop();
    if (client_ && code != 0 && code != -1) {
      Fail("", 0, "the emulator stops cleanly", "it exited with status " + std::to_string(code));
    }
    result_.wall_seconds = SecondsSince(started_);
    Report();
    return result_;
  }

 private:
  double SecondsLeft() const {
    return std::chrono::duration<double>(deadline_ - RealElapsedNow()).count();
  }

  Answer Send(const std::string& method, const std::string& path, const Json& body = {}) {
    return client_->Request(method, path, body, std::max(SecondsLeft(), 0.001));
  }

  std::string Now() {
    Answer clock = Send("GET", "/_understudy/clock");
    if (clock.status == 200 && clock.body.is_object()) return clock.body.value("now", "?");
    return "?";
  }

  void Record(const Step& step, const std::string& what, bool passed, const std::string& evidence) {
    result_.expectations.push_back(ExpectationResult{step.path, step.line, what, passed, evidence});
    if (!passed && result_.passed) {
      result_.passed = false;
      result_.failure = scenario_.file + ":" + std::to_string(step.line) + ": " + step.path + ": " +
                        what + ": " + evidence;
    }
  }
  void Fail(const std::string& where, size_t line, const std::string& what,
            const std::string& evidence) {
    result_.expectations.push_back(ExpectationResult{where, line, what, false, evidence});
    if (result_.passed) {
      result_.passed = false;
      result_.failure =
          (where.empty() ? scenario_.file
                         : scenario_.file + ":" + std::to_string(line) + ": " + where) +
          ": " + what + ": " + evidence;
    }
  }

  // The answer's failure when the transport or the deadline failed; empty otherwise.
  std::string TransportProblem(const Answer& answer) {
    if (answer.status != 0) return "";
    if (SecondsLeft() <= 0) {
      return "the scenario ran out of its --timeout of " + FormatDuration(options_.timeout) +
             " (real time) during this step";
    }
    return "no answer from the emulator (" + answer.transport_error +
           "); its stderr ends: " + emulator_.StderrTail(600);
  }

  // `value` with the saved variables in place; records the failure and returns nothing
  // when one is missing (a save that failed).
  std::optional<Json> Substituted(const Step& step, const Json& value) {
    auto out = SubstituteVariables(value, vars_);
    if (!out.ok()) {
      Record(step, "its variables are saved", false, out.status().message());
      return std::nullopt;
    }
    return std::move(out).value();
  }
  Check Substituted(const Check& check) {
    Check out = check;
    for (auto& m : out.matchers) {
      auto v = SubstituteVariables(m.value, vars_);
      if (v.ok()) m.value = std::move(v).value();
    }
    return out;
  }

  Json CallBody(const CallSpec& call) {
    Json body{{"service", call.service}, {"operation", call.operation}, {"input", call.input}};
    if (!call.region.empty()) body["region"] = call.region;
    if (!call.account.empty()) body["account"] = call.account;
    return body;
  }

  // Runs `steps`; false when one failed in a way later steps cannot recover from.
  bool RunSteps(const std::vector<Step>& steps) {
    for (const Step& step : steps) {
      if (SecondsLeft() <= 0) {
        Record(step, "start before the --timeout of " + FormatDuration(options_.timeout), false,
               "the scenario ran out of its --timeout (real time) before this step");
        out_ << "  stopping: out of time before " << step.path << "\n";
        return false;
      }
      auto step_start = RealElapsedNow();
      std::string outcome;
      bool keep_going = RunStep(step, &outcome);
      auto ms = static_cast<long>(SecondsSince(step_start) * 1000);
      std::string label = step.path + " " + StepKindName(step.kind) + " " + step.label;
      out_ << "  " << label;
      for (size_t i = label.size(); i < 48; ++i) out_ << ' ';
      out_ << " @" << (client_ ? Now() : "?") << "  " << ms << " ms  " << outcome << "\n";
      out_.flush();
      if (!keep_going) {
        out_ << "  stopping: the steps after " << step.path << " depend on it\n";
        return false;
      }
    }
    return true;
  }

  bool RunStep(const Step& step, std::string* outcome) {
    switch (step.kind) {
      case StepKind::kCall:
        return RunCall(step, outcome);
      case StepKind::kExpect:
        return RunExpect(step, outcome);
      case StepKind::kMetrics: {
        auto body = SubstituteVariables(step.metrics, vars_);
        Answer a = body.ok() ? Send("POST", "/_understudy/metrics", *body) : Answer{};
        std::string problem = body.ok() ? TransportProblem(a) : body.status().message();
        if (!problem.empty() || a.status != 200) {
          Record(step, "set a metric override", false, problem.empty() ? Short(a.body) : problem);
          *outcome = "FAILED";
          return false;
        }
        *outcome = "ok";
        return true;
      }
      case StepKind::kTraffic: {
        auto body = Substituted(step, step.traffic);
        if (!body) {
          *outcome = "FAILED";
          return false;
        }
        Answer a = Send("POST", "/_understudy/traffic", *body);
        if (std::string problem = TransportProblem(a); !problem.empty() || a.status != 200) {
          Record(step, "start traffic " + step.label, false,
                 problem.empty() ? a.body.value("error", std::string("error")) + ": " +
                                       a.body.value("message", Short(a.body))
                                 : problem);
          *outcome = "FAILED";
          return false;
        }
        *outcome = "started (" + std::to_string(a.body.value("planned", int64_t{0})) +
                   " requests until " + a.body.value("endsAt", std::string("?")) + ")";
        return true;
      }
      case StepKind::kFault: {
        auto body = SubstituteVariables(step.fault, vars_);
        Answer a = body.ok() ? Send("POST", "/_understudy/chaos/experiments", *body) : Answer{};
        std::string problem = body.ok() ? TransportProblem(a) : body.status().message();
        std::string state =
            a.body.is_object() ? a.body.value("state", Json::object()).value("status", "") : "";
        if (!problem.empty() || a.status != 201 || state == "failed") {
          std::string why = !problem.empty()    ? problem
                            : state == "failed" ? a.body["state"].value("reason", "")
                                                : Short(a.body);
          Record(step, "start fault " + step.label, false, why);
          *outcome = "FAILED";
          return false;
        }
        std::string targets;
        Json resolved = a.body.value("resolvedTargets", Json::object());
        for (const auto& [name, arns] : resolved.items()) {
          for (const auto& arn : arns) {
            targets += (targets.empty() ? "" : " ") + arn.get<std::string>();
          }
        }
        std::string id = a.body.value("id", "");
        result_.faults.emplace_back(step.path, id + " [" + targets + "]");
        *outcome = "ok (" + id + (targets.empty() ? "" : ": " + targets) + ")";
        return true;
      }
      case StepKind::kAdvance: {
        Answer a =
            Send("POST", "/_understudy/clock", Json{{"advance", FormatDuration(step.advance)}});
        if (std::string problem = TransportProblem(a); !problem.empty() || a.status != 200) {
          Record(step, "advance the clock by " + step.label, false,
                 problem.empty() ? Short(a.body) : problem);
          *outcome = "FAILED";
          return false;
        }
        *outcome = "ok";
        return true;
      }
      case StepKind::kAdvanceTo: {
        TimePoint target{};
        if (step.advance_to) {
          target = *step.advance_to;
        } else {
          auto start = ParseIso8601(result_.virtual_start);
          if (!start.ok()) {
            Record(step, "advance the clock to " + step.label, false,
                   "the scenario's start instant is unknown");
            *outcome = "FAILED";
            return false;
          }
          target = *start + step.advance_to_offset;
        }
        Answer a = Send("POST", "/_understudy/clock", Json{{"to", FormatIso8601(target)}});
        if (std::string problem = TransportProblem(a); !problem.empty() || a.status != 200) {
          Record(step, "advance the clock to " + FormatIso8601(target), false,
                 problem.empty() ? a.body.value("message", Short(a.body)) : problem);
          *outcome = "FAILED";
          return false;
        }
        *outcome = "ok";
        return true;
      }
      case StepKind::kWaitFor: {
        auto until = Substituted(step, step.wait_until);
        if (!until) {
          *outcome = "FAILED";
          return false;
        }
        Json body{{"until", *until}, {"timeout", FormatDuration(step.timeout)}};
        Answer a = Send("POST", "/_understudy/wait", body);
        std::string what =
            "waitFor " + Short(step.wait_until, 200) + " within " + FormatDuration(step.timeout);
        if (std::string problem = TransportProblem(a); !problem.empty()) {
          Record(step, what, false, problem);
          *outcome = "FAILED";
          return false;
        }
        if (a.status == 200) {
          Record(step, what, true, "met after " + a.body.value("waited", std::string("?")));
          *outcome = "met after " + a.body.value("waited", std::string("?"));
          return true;
        }
        if (a.status == 408) {
          Record(
              step, what, false,
              "not met; last observed: " + Short(a.body.value("observed", Json::object()), 1500));
        } else {
          Record(step, what, false,
                 a.body.value("error", std::string("error")) + ": " +
                     a.body.value("message", Short(a.body)));
        }
        *outcome = "FAILED";
        return false;
      }
    }
    return false;
  }

  bool RunCall(const Step& step, std::string* outcome) {
    auto input = Substituted(step, step.call.input);
    if (!input) {
      *outcome = "FAILED";
      return false;
    }
    CallSpec call = step.call;
    call.input = std::move(*input);
    Answer a = Send("POST", "/_understudy/call", CallBody(call));
    std::string what = step.call.service + "." + step.call.operation;
    if (std::string problem = TransportProblem(a); !problem.empty() || a.status != 200) {
      Record(step, what + " is answered", false,
             problem.empty() ? std::to_string(a.status) + " " + Short(a.body) : problem);
      *outcome = "FAILED";
      return false;
    }
    if (a.body.contains("error")) {
      const Json& e = a.body["error"];
      std::string code = e.value("code", "");
      std::string got = code + ": " + e.value("message", "");
      if (step.expect_error) {
        bool passed = code == *step.expect_error;
        Record(step, what + " fails with " + *step.expect_error, passed, "got " + got);
        *outcome = passed ? "failed as expected (" + code + ")" : "FAILED";
        return true;
      }
      Record(step, what + " succeeds", false, "it failed with " + got);
      *outcome = "FAILED";
      return false;
    }
    const Json& output = a.body["output"];
    if (step.expect_error) {
      Record(step, what + " fails with " + *step.expect_error, false,
             "it succeeded: " + Short(output));
      *outcome = "FAILED";
      return true;
    }
    bool all = true;
    for (const Check& written : step.checks) {
      Check check = Substituted(written);
      CheckOutcome o = Evaluate(check, output);
      Record(step, what + ": " + Describe(check), o.passed, o.evidence);
      all = all && o.passed;
    }
    for (const auto& save : step.saves) {
      const Json* value = Lookup(output, save.path);
      if (value == nullptr) {
        Check exists{save.path_text, save.path, {Matcher{MatcherKind::kExists, true}}};
        Record(step, what + ": save " + save.name + " from " + save.path_text, false,
               Evaluate(exists, output).evidence);
        *outcome = "FAILED";
        return false;
      }
      vars_[save.name] = *value;
    }
    *outcome = all ? "ok" : "FAILED";
    return true;
  }

  // What an expectation's source answered: the document to check, or why there is
  // none (`unavailable`, a failed check), or a transport problem that ends the run.
  struct Fetched {
    std::optional<Json> doc;
    std::string unavailable;
    std::string fatal;
  };

  static std::string UrlEncode(const std::string& text) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  // An operation's output through /_understudy/call.
  Fetched CallOutput(const CallSpec& call) {
    Fetched f;
    Answer a = Send("POST", "/_understudy/call", CallBody(call));
    if (std::string problem = TransportProblem(a); !problem.empty()) {
      f.fatal = problem;
    } else if (a.status != 200) {
      f.unavailable = std::to_string(a.status) + " " + Short(a.body);
    } else if (a.body.contains("error")) {
      const Json& e = a.body["error"];
      f.unavailable = "the call failed with " + e.value("code", "") + ": " + e.value("message", "");
    } else {
      f.doc = a.body["output"];
    }
    return f;
  }

  // A control API answer as the document, or its error as why there is none.
  Fetched Control(const std::string& method, const std::string& path, const Json& body = {}) {
    Fetched f;
    Answer a = Send(method, path, body);
    if (std::string problem = TransportProblem(a); !problem.empty()) {
      f.fatal = problem;
    } else if (a.status != 200) {
      f.unavailable = a.body.is_object() ? a.body.value("error", std::string("error")) + ": " +
                                               a.body.value("message", Short(a.body))
                                         : std::to_string(a.status) + " " + Short(a.body);
    } else {
      f.doc = a.body;
    }
    return f;
  }

  static bool Matches(const std::string& text, const Json& params, const char* contains,
                      const char* matches) {
    if (params.contains(contains) &&
        text.find(params[contains].get<std::string>()) == std::string::npos) {
      return false;
    }
    if (params.contains(matches) &&
        !std::regex_search(text, std::regex(params[matches].get<std::string>()))) {
      return false;
    }
    return true;
  }

  Fetched Fetch(const Step& step, const CallSpec& call, const Json& params) {
    switch (step.source) {
      case ExpectSource::kCall:
        return CallOutput(call);
      case ExpectSource::kTraffic:
        return Control("GET", "/_understudy/traffic/" + UrlEncode(params.get<std::string>()));
      case ExpectSource::kHttp:
        return Control("POST", "/_understudy/http", params);
      case ExpectSource::kEmails: {
        std::string query = "limit=1000&full";
        for (auto it = params.begin(); it != params.end(); ++it) {
          if (it.key() == "bodyContains" || it.key() == "link") continue;
          query += "&" + it.key() + "=" + UrlEncode(it->get<std::string>());
        }
        Fetched f = Control("GET", "/_understudy/ses/messages?" + query);
        if (!f.doc) return f;
        Json kept = Json::array();
        for (const Json& m : f.doc->value("messages", Json::array())) {
          if (params.contains("bodyContains")) {
            std::string want = params["bodyContains"].get<std::string>();
            if (m.value("text", "").find(want) == std::string::npos &&
                m.value("html", "").find(want) == std::string::npos) {
              continue;
            }
          }
          if (params.contains("link")) {
            std::regex re(params["link"].get<std::string>());
            bool any = false;
            for (const Json& link : m.value("links", Json::array())) {
              any |= link.is_string() && std::regex_search(link.get<std::string>(), re);
            }
            if (!any) continue;
          }
          kept.push_back(m);
        }
        f.doc = Json{{"count", kept.size()}, {"messages", kept}};
        return f;
      }
      case ExpectSource::kLogs: {
        CallSpec logs{"logs", "FilterLogEvents", Json::object(), params.value("region", ""),
                      params.value("account", "")};
        logs.input["logGroupName"] = params["group"];
        if (params.contains("stream"))
          logs.input["logStreamNames"] = Json::array({params["stream"]});
        if (params.contains("streamPrefix")) {
          logs.input["logStreamNamePrefix"] = params["streamPrefix"];
        }
        if (params.contains("filterPattern")) logs.input["filterPattern"] = params["filterPattern"];
        Json kept = Json::array();
        Json recent = Json::array();  // the last lines read, whatever they say
        int64_t count = 0;
        int64_t scanned = 0;
        for (int page = 0; page < 100; ++page) {
          Fetched f = CallOutput(logs);
          if (!f.doc) return f;
          for (const Json& e : f.doc->value("events", Json::array())) {
            ++scanned;
            recent.push_back(e.value("message", ""));
            if (recent.size() > 3) recent.erase(recent.begin());
            if (!Matches(e.value("message", ""), params, "contains", "matches")) continue;
            ++count;
            if (kept.size() < 200) kept.push_back(e);
          }
          std::string token = f.doc->value("nextToken", "");
          if (token.empty()) break;
          logs.input["nextToken"] = token;
        }
        Fetched out;
        out.doc =
            Json{{"count", count}, {"events", kept}, {"scanned", scanned}, {"recent", recent}};
        return out;
      }
      case ExpectSource::kEvents: {
        std::string query = "limit=10000";
        if (params.contains("source")) {
          query += "&source=" + UrlEncode(params["source"].get<std::string>());
        }
        Fetched f = Control("GET", "/_understudy/events/deliveries?" + query);
        if (!f.doc) return f;
        Json kept = Json::array();
        for (const Json& d : f.doc->value("deliveries", Json::array())) {
          if (params.contains("outcome") && d.value("outcome", "") != params["outcome"]) continue;
          if (params.contains("targetId") && d.value("targetId", "") != params["targetId"]) {
            continue;
          }
          kept.push_back(d);
        }
        f.doc = Json{{"count", kept.size()}, {"deliveries", kept}};
        return f;
      }
      case ExpectSource::kScaling: {
        CallSpec scaling{"application-autoscaling", "DescribeScalingActivities", Json::object(),
                         params.value("region", ""), params.value("account", "")};
        scaling.input["ServiceNamespace"] = params.value("serviceNamespace", "ecs");
        scaling.input["ResourceId"] = params.contains("resourceId")
                                          ? params["resourceId"].get<std::string>()
                                          : "service/" + params["cluster"].get<std::string>() +
                                                "/" + params["service"].get<std::string>();
        Json kept = Json::array();
        for (int page = 0; page < 100; ++page) {
          Fetched f = CallOutput(scaling);
          if (!f.doc) return f;
          for (const Json& a : f.doc->value("ScalingActivities", Json::array())) {
            if (params.contains("statusCode") &&
                a.value("StatusCode", "") != params["statusCode"]) {
              continue;
            }
            kept.push_back(a);
          }
          std::string token = f.doc->value("NextToken", "");
          if (token.empty()) break;
          scaling.input["NextToken"] = token;
        }
        Fetched out;
        out.doc = Json{{"count", kept.size()}, {"activities", kept}};
        return out;
      }
      case ExpectSource::kServiceEvents: {
        CallSpec ecs{"ecs", "DescribeServices", Json::object(), params.value("region", ""),
                     params.value("account", "")};
        ecs.input["cluster"] = params.value("cluster", "default");
        ecs.input["services"] = Json::array({params["service"]});
        Fetched f = CallOutput(ecs);
        if (!f.doc) return f;
        const Json& services = f.doc->value("services", Json::array());
        if (services.empty()) {
          std::string failures = Short(f.doc->value("failures", Json::array()));
          f.doc.reset();
          f.unavailable = "no service " + params["service"].get<std::string>() + " in cluster " +
                          ecs.input["cluster"].get<std::string>() + ": " + failures;
          return f;
        }
        Json kept = Json::array();
        for (const Json& e : services[0].value("events", Json::array())) {
          if (Matches(e.value("message", ""), params, "contains", "matches")) kept.push_back(e);
        }
        f.doc = Json{{"count", kept.size()}, {"events", kept}};
        return f;
      }
    }
    return Fetched{std::nullopt, "unknown source", ""};
  }

  // For a failed emails check: what the store holds, newest first.
  std::string MailboxSummary() {
    Answer a = Send("GET", "/_understudy/ses/messages?limit=3");
    if (a.status != 200 || !a.body.is_object()) return "";
    Json newest = Json::array();
    for (const Json& m : a.body.value("messages", Json::array())) {
      newest.push_back(Json{{"from", m.value("from", Json())},
                            {"to", m.value("deliveredTo", m.value("to", Json()))},
                            {"subject", m.value("subject", Json())}});
    }
    return " (the store holds " + a.body.value("total", Json(0)).dump() + " messages" +
           (newest.empty() ? std::string("") : "; newest: " + Short(newest, 400)) + ")";
  }

  // Moves the clock by `d` (advance) or to `to`; the failure text when it could not.
  std::string MoveClock(const Json& body) {
    Answer moved = Send("POST", "/_understudy/clock", body);
    if (std::string problem = TransportProblem(moved); !problem.empty()) return problem;
    if (moved.status != 200) return moved.body.value("message", Short(moved.body));
    return "";
  }

  bool RunExpect(const Step& step, std::string* outcome) {
    CallSpec call = step.call;
    if (step.source == ExpectSource::kCall) {
      auto input = Substituted(step, step.call.input);
      if (!input) {
        *outcome = "FAILED";
        return false;
      }
      call.input = std::move(*input);
    }
    auto params = Substituted(step, step.source_params);
    if (!params) {
      *outcome = "FAILED";
      return false;
    }
    Check check = Substituted(step.checks.front());
    std::string what = step.subject + ": " + Describe(check);
    if (step.within) what += " within " + FormatDuration(*step.within);
    if (step.throughout) what += " throughout " + FormatDuration(*step.throughout);
    // "at" / "after": the clock moves first.
    if (step.after || step.at || step.at_offset) {
      Json body;
      if (step.after) {
        body = Json{{"advance", FormatDuration(*step.after)}};
        what += " after " + FormatDuration(*step.after);
      } else {
        TimePoint target{};
        if (step.at) {
          target = *step.at;
        } else {
          auto start = ParseIso8601(result_.virtual_start);
          target = (start.ok() ? *start : TimePoint{}) + *step.at_offset;
        }
        body = Json{{"to", FormatIso8601(target)}};
        what += " at " + FormatIso8601(target);
      }
      if (std::string problem = MoveClock(body); !problem.empty()) {
        Record(step, what, false, "the clock could not move: " + problem);
        *outcome = "FAILED";
        return false;
      }
    }
    // "within": the first look comes once the real work of this instant is done (an
    // advance by nothing completes after it): whether an app's log line or email is
    // already in must not depend on how fast the app really ran.
    if (step.within && !(step.after || step.at || step.at_offset)) {
      if (std::string problem = MoveClock(Json{{"advance", "0s"}}); !problem.empty()) {
        Record(step, what, false, "the clock could not move: " + problem);
        *outcome = "FAILED";
        return false;
      }
    }
    Duration waited{};
    while (true) {
      Fetched f = Fetch(step, call, *params);
      if (!f.fatal.empty()) {
        Record(step, what, false, f.fatal);
        *outcome = "FAILED";
        return false;
      }
      CheckOutcome o;
      if (f.doc) {
        o = Evaluate(check, *f.doc);
        // A failed traffic check says what went wrong with the requests.
        if (!o.passed && step.source == ExpectSource::kTraffic && f.doc->is_object()) {
          o.evidence += " (total " + f.doc->value("total", Json(0)).dump() + ", status " +
                        Short(f.doc->value("status", Json::object())) + ", errors " +
                        f.doc->value("errors", Json(0)).dump();
          const Json& first = f.doc->value("firstError", Json());
          if (first.is_object()) o.evidence += ", first error " + Short(first, 300);
          o.evidence += ")";
        }
        if (!o.passed && step.source == ExpectSource::kEmails) o.evidence += MailboxSummary();
        if (!o.passed && step.source == ExpectSource::kLogs) {
          o.evidence += " (" + f.doc->value("scanned", Json(0)).dump() +
                        " events read; the last: " + Short(f.doc->value("recent", Json()), 300) +
                        ")";
        }
        if (!o.passed && step.source == ExpectSource::kHttp && f.doc->contains("error")) {
          o.evidence += " (no answer: " + (*f.doc)["error"].value("kind", "") + ": " +
                        (*f.doc)["error"].value("message", "") + ")";
        }
      } else {
        o.evidence = f.unavailable;
      }
      if (step.throughout) {
        bool last = waited >= *step.throughout;
        if (!o.passed || last) {
          if (!o.passed) {
            o.evidence = "did not hold at " + Now() + " (" + FormatDuration(waited) + " into the " +
                         FormatDuration(*step.throughout) + " window): " + o.evidence;
          } else {
            o.evidence = "held at every check (every " + FormatDuration(step.every) + ") for " +
                         FormatDuration(*step.throughout) + "; last: " + o.evidence;
          }
          Record(step, what, o.passed, o.evidence);
          *outcome = o.passed ? "ok" : "FAILED";
          return true;
        }
        Duration next = std::min(step.every, *step.throughout - waited);
        if (std::string problem = MoveClock(Json{{"advance", FormatDuration(next)}});
            !problem.empty()) {
          Record(step, what, false, "the clock could not move: " + problem);
          *outcome = "FAILED";
          return false;
        }
        waited += next;
        continue;
      }
      bool can_retry = step.within && waited + step.every <= *step.within;
      if (o.passed || !can_retry) {
        if (step.within) {
          o.evidence = o.passed ? o.evidence + " after " + FormatDuration(waited)
                                : "did not hold within " + FormatDuration(*step.within) +
                                      "; last: " + o.evidence;
        }
        Record(step, what, o.passed, o.evidence);
        *outcome = o.passed ? "ok" : "FAILED";
        return true;
      }
      if (std::string problem = MoveClock(Json{{"advance", FormatDuration(step.every)}});
          !problem.empty()) {
        Record(step, what, false, "the clock could not move: " + problem);
        *outcome = "FAILED";
        return false;
      }
      waited += step.every;
    }
  }

  // Reads the whole journal and folds it into result_'s fingerprint.
  void FingerprintJournal() {
    uint64_t hash = 1469598103934665603ull;  // FNV-1a 64
    int64_t after = 0;
    while (SecondsLeft() > 0) {
      Answer a = Send("GET", "/_understudy/journal?after=" + std::to_string(after) + "&limit=5000");
      if (a.status != 200 || !a.body.contains("entries")) return;
      const Json& entries = a.body["entries"];
      if (entries.empty()) break;
      for (const Json& entry : entries) {
        // Folded as replays compare entries: apps' inputs and machine details left out.
        if (!IsAppInput(entry)) {
          for (unsigned char c : ComparableEntry(entry).dump()) {
            hash ^= c;
            hash *= 1099511628211ull;
          }
        }
        after = entry.value("seq", after);
        ++result_.journal_entries;
        result_.journal.push_back(entry);
      }
    }
    Answer draws = Send("GET", "/_understudy/random");
    if (draws.status == 200 && draws.body.is_object()) {
      result_.random_draws = draws.body.value("streams", Json::object());
    }
    char text[19];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    result_.journal_fingerprint = text;
  }

  void Report() {
    size_t failed = 0;
    out_ << "Expectations of " << scenario_.name << ":\n";
    if (result_.expectations.empty()) out_ << "  (none)\n";
    for (const auto& e : result_.expectations) {
      if (!e.passed) ++failed;
      out_ << "  " << (e.passed ? "PASS" : "FAIL") << "  ";
      if (!e.step.empty()) out_ << e.step << " (line " << e.line << ") ";
      out_ << e.what << " -- " << e.evidence << "\n";
    }
    out_ << "Scenario " << scenario_.name << ": " << (result_.passed ? "PASSED" : "FAILED") << " ("
         << result_.expectations.size() - failed << " of " << result_.expectations.size()
         << " expectations held), seed " << result_.seed << ", virtual time "
         << result_.virtual_start << " .. " << result_.virtual_end << ", "
         << static_cast<long>(result_.wall_seconds * 1000) << " ms wall\n";
    out_ << "Journal: " << result_.journal_entries << " entries, fingerprint "
         << (result_.journal_fingerprint.empty() ? "unavailable" : result_.journal_fingerprint)
         << "\n\n";
    out_.flush();
  }

  const Scenario& scenario_;
  const RunnerOptions& options_;
  std::ostream& out_;
  ScenarioResult result_;
  EmulatorProcess emulator_;
  std::optional<Client> client_;
  std::map<std::string, Json> vars_;  // saved by "save"
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_;
};

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "&#10;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

OperationCheck ModelCheck(api::ModelRegistry* models) {
  return [models](const std::string& service, const std::string& operation) -> Status {
    const api::ServiceInfo* info = models->FindService(service);
    if (info == nullptr) {
      std::string names;
      for (const auto& s : models->services()) names += (names.empty() ? "" : ", ") + s.id;
      return Status::InvalidArgument("a service with a model in understudy: " + names);
    }
    if (operation.empty() || info->operation_names.count(operation) == 1) return Status::Ok();
    for (const auto& name : info->operation_names) {
      if (strcasecmp(name.c_str(), operation.c_str()) == 0) {
        return Status::InvalidArgument("an operation of " + service + " (did you mean " + name +
                                       "?)");
      }
    }
    return Status::InvalidArgument("an operation of " + service + " as its API reference names it");
  };
}

}  // namespace

ScenarioResult RunScenario(const Scenario& scenario, const RunnerOptions& options,
                           std::ostream& out) {
  return ScenarioRun(scenario, options, out).Run();
}

std::string JUnitXml(const std::vector<ScenarioResult>& results) {
  size_t failures = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.passed ? 0 : 1;
    total += r.wall_seconds;
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"understudy\" tests=\"" + std::to_string(results.size()) +
         "\" failures=\"" + std::to_string(failures) + "\" time=\"" + std::to_string(total) +
         "\">\n";
  for (const auto& r : results) {
    std::string time = std::to_string(r.wall_seconds);
    xml += "  <testsuite name=\"" + XmlEscape(r.name) + "\" tests=\"1\" failures=\"" +
           (r.passed ? "0" : "1") + "\" errors=\"0\" time=\"" + time + "\">\n";
    xml += "    <properties>\n      <property name=\"seed\" value=\"" + std::to_string(r.seed) +
           "\"/>\n      <property name=\"file\" value=\"" + XmlEscape(r.file) + "\"/>\n";
    xml += "      <property name=\"virtualStart\" value=\"" + XmlEscape(r.virtual_start) +
           "\"/>\n      <property name=\"virtualEnd\" value=\"" + XmlEscape(r.virtual_end) +
           "\"/>\n      <property name=\"journalFingerprint\" value=\"" +
           XmlEscape(r.journal_fingerprint) + "\"/>\n";
    for (const auto& [step, fault] : r.faults) {
      xml += "      <property name=\"fault." + XmlEscape(step) + "\" value=\"" + XmlEscape(fault) +
             "\"/>\n";
    }
    xml += "    </properties>\n";
    xml += "    <testcase name=\"" + XmlEscape(r.name) + "\" classname=\"" + XmlEscape(r.file) +
           "\" time=\"" + time + "\">\n";
    if (!r.passed) {
      std::string body;
      for (const auto& e : r.expectations) {
        body += std::string(e.passed ? "PASS  " : "FAIL  ") +
                (e.step.empty() ? "" : e.step + " (line " + std::to_string(e.line) + ") ") +
                e.what + " -- " + e.evidence + "\n";
      }
      xml += "      <failure message=\"" + XmlEscape(r.failure) + "\" type=\"ExpectationFailed\">";
      std::string text = r.failure + "\n\n" + body;
      // CDATA cannot hold "]]>": split it.
      std::string cdata;
      for (size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 3, "]]>") == 0) {
          cdata += "]]]]><![CDATA[>";
          i += 2;
        } else {
          cdata += text[i];
        }
      }
      xml += "<![CDATA[" + cdata + "]]></failure>\n";
    }
    xml += "    </testcase>\n  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

int RunCommand(const RunnerOptions& options, std::ostream& out, std::ostream& err) {
  auto files = ExpandScenarioPaths(options.paths);
  if (!files.ok()) {
    err << "understudy run: " << files.status().message() << "\n";
    return 2;
  }
  if (files->empty()) {
    err << "understudy run: no scenario files (*.json) found\n";
    return 2;
  }
  auto models = api::ModelRegistry::LoadEmbedded();
  if (!models.ok()) {
    err << "understudy run: " << models.status().message() << "\n";
    return 1;
  }
  OperationCheck check = ModelCheck(models->get());
  // The fixture app next to this binary, for scenarios that say {"$env": "UNDERSTUDY_FIXTURE_APP"}.
  if (std::getenv("UNDERSTUDY_FIXTURE_APP") == nullptr) {
    auto app = std::filesystem::path(SelfBinary()).parent_path() / "understudy-fixture-app";
    std::error_code ec;
    if (std::filesystem::exists(app, ec)) ::setenv("UNDERSTUDY_FIXTURE_APP", app.c_str(), 0);
  }
  std::vector<Scenario> scenarios;
  std::vector<RecordSource> sources;  // with --record: what each scenario read
  bool invalid = false;
  for (const auto& file : *files) {
    RecordSource source;
    auto scenario = options.record_file.empty() ? LoadScenario(file, check)
                                                : LoadForRecord(file, check, &source);
    if (!scenario.ok()) {
      err << scenario.status().message() << "\n";
      invalid = true;
      continue;
    }
    if (!options.filter.empty() && scenario->name.find(options.filter) == std::string::npos &&
        file.find(options.filter) == std::string::npos) {
      continue;
    }
    scenarios.push_back(std::move(scenario).value());
    sources.push_back(std::move(source));
  }
  if (invalid) {
    err << "understudy run: invalid scenario files; nothing was run\n";
    return 2;
  }
  if (scenarios.empty()) {
    err << "understudy run: no scenario matches --filter '" << options.filter << "'\n";
    return 2;
  }
  if (!options.record_file.empty() && scenarios.size() != 1) {
    err << "understudy run: --record records one scenario; " << scenarios.size()
        << " were selected (name one file, or narrow with --filter)\n";
    return 2;
  }
  std::vector<ScenarioResult> results;
  for (const auto& scenario : scenarios) {
    results.push_back(ScenarioRun(scenario, options, out).Run());
  }
  if (!options.record_file.empty()) {
    Status written = WriteRecord(options.record_file, sources[0], options, results[0]);
    if (!written.ok()) {
      err << "understudy run: " << written.message() << "\n";
      return 1;
    }
    out << "Recorded " << results[0].journal.size() << " journal entries to " << options.record_file
        << "\n";
  }
  size_t failed = 0;
  for (const auto& r : results) failed += r.passed ? 0 : 1;
  out << results.size() << " scenario" << (results.size() == 1 ? "" : "s") << ": "
      << results.size() - failed << " passed, " << failed << " failed\n";
  for (const auto& r : results) {
    if (!r.passed) out << "  FAILED " << r.name << ": " << r.failure << "\n";
  }
  if (!options.junit_file.empty()) {
    std::ofstream junit(options.junit_file, std::ios::binary | std::ios::trunc);
    junit << JUnitXml(results);
    if (!junit) {
      err << "understudy run: cannot write " << options.junit_file << "\n";
      return 1;
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace understudy::scenario
