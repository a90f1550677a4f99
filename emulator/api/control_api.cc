#include "api/control_api.h"

#include <algorithm>

#include "api/codecs_internal.h"
#include "api/wait_conditions.h"
#include "core/arn.h"
#include "core/random.h"

namespace understudy::api {

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  return response;
}

HttpResponse ControlError(int status, const std::string& code, const std::string& message) {
  return JsonResponse(status, Json{{"error", code}, {"message", message}});
}

ControlApi::ControlApi(FrontDoor& front_door, Clock& clock, Waits& waits, Journal& journal,
                       ControlInfo info, std::string default_region)
    : front_door_(front_door),
      clock_(clock),
      waits_(waits),
      journal_(journal),
      info_(std::move(info)),
      default_region_(std::move(default_region)) {
  // The emulator's own condition: nothing in flight and nothing due now.
  AddCondition("idle", [this](const Scope&, const Json& params) -> Result<WaitCondition> {
    if (!params.is_object() || !params.empty()) {
      return Status::InvalidArgument("'idle' takes no parameters: use {\"idle\": {}}");
    }
    return WaitCondition{[this] {
                           auto next = clock_.NextTimerAt();
                           return clock_.active_holds() == 0 && (!next || *next > clock_.Now());
                         },
                         [this] {
                           return Json{{"holds", ClockState()["holds"]}};
                         }};
  });
}

void ControlApi::Install() {
  front_door_.RegisterInternal(
      "GET", "/_understudy/health",
      [this](const HttpRequest&, HttpReply reply) { Health(std::move(reply)); });
  auto reset = [this](const HttpRequest&, HttpReply reply) { Reset(std::move(reply)); };
  front_door_.RegisterInternal("POST", "/_understudy/reset", reset);
  front_door_.RegisterInternal("POST", "/moto-api/reset", reset);
  front_door_.RegisterInternal(
      "GET", "/_understudy/clock",
      [this](const HttpRequest&, HttpReply reply) { reply(JsonResponse(200, ClockState())); });
  front_door_.RegisterInternal(
      "POST", "/_understudy/clock",
      [this](const HttpRequest& r, HttpReply reply) { PostClock(r, std::move(reply)); });
  front_door_.RegisterInternal(
      "POST", "/_understudy/wait",
      [this](const HttpRequest& r, HttpReply reply) { Wait(r, std::move(reply)); });
  front_door_.RegisterInternal(
      "POST", "/_understudy/call",
      [this](const HttpRequest& r, HttpReply reply) { Call(r, std::move(reply)); });
  front_door_.RegisterInternal(
      "GET", "/_understudy/bus",
      [this](const HttpRequest& r, HttpReply reply) { BusEvents(r, std::move(reply)); });
  front_door_.RegisterInternal(
      "GET", "/_understudy/journal",
      [this](const HttpRequest& r, HttpReply reply) { JournalEntries(r, std::move(reply)); });
  // Draws per random stream so far: a replay draws as often from each.
  front_door_.RegisterInternal(
      "GET", "/_understudy/random", [this](const HttpRequest&, HttpReply reply) {
        Json streams = Json::object();
        for (const auto& [name, n] : Random::DrawCounts()) {
          streams[name] = n;
        }
        reply(JsonResponse(200, Json{{"seed", info_.seed}, {"streams", streams}}));
      });
}

Json ControlApi::ClockState() const {
  Json holds = Json::array();
  for (const auto& h : clock_.Holds()) {
    holds.push_back(Json{{"id", h.id},
                         {"what", h.what},
                         {"since", FormatIso8601(h.since)},
                         {"heldFor", FormatDuration(h.real_age)},
                         {"limit", FormatDuration(h.real_limit)},
                         {"expired", h.expired}});
  }
  Json state{{"mode", ClockModeName(clock_.mode())},
             {"now", FormatIso8601(clock_.Now())},
             {"pendingTimers", clock_.pending_timers()},
             {"pulls", clock_.active_pulls()},
             {"holds", holds}};
  if (auto next = clock_.NextTimerAt()) state["nextTimer"] = FormatIso8601(*next);
  return state;
}

void ControlApi::Health(HttpReply reply) {
  Json services = front_door_.ImplementedServices();
  std::string botocore;
  if (!front_door_.models().services().empty()) {
    botocore = front_door_.models().services().front().botocore_version;
  }
  Json health{
      {"status", "ok"},
      {"version", info_.version},
      {"endpoint", info_.endpoint},
      {"services", services},
      {"clock", {{"mode", ClockModeName(clock_.mode())}, {"now", FormatIso8601(clock_.Now())}}},
      {"seed", info_.seed},
      {"accountId", info_.account_id},
      {"stateDir", info_.state_dir},
      {"stateDirTemporary", info_.state_dir_is_temporary},
      {"models", {{"botocore", botocore}}}};
  for (const auto& [key, value] : health_fields_) health[key] = value();
  reply(JsonResponse(200, health));
}

void ControlApi::Reset(HttpReply reply) {
  for (auto& hook : reset_hooks_) {
    Status status = hook();
    if (!status.ok()) return reply(ControlError(500, "ResetFailed", status.message()));
  }
  if (bus_ != nullptr) bus_->ClearRecent();
  journal_.Input("understudy.reset", Json::object());
  waits_.NotifyChanged();
  reply(JsonResponse(200, Json{{"reset", true}}));
}

namespace {

Result<Json> ParseBody(const HttpRequest& request) {
  if (request.body.empty()) return Json::object();
  if (!JsonNestingWithinLimit(request.body)) {
    return Status::InvalidArgument("the body nests deeper than " +
                                   std::to_string(kMaxNestingDepth) + " levels");
  }
  auto body = ParseRequestJson(request.body);
  if (!body.ok())
    return Status::InvalidArgument("the body is not valid JSON: " + body.status().message());
  if (!body->is_object()) return Status::InvalidArgument("the body must be a JSON object");
  return body;
}

}  // namespace

void ControlApi::AddCondition(const std::string& name, ConditionFactory factory) {
  conditions_[name] = [name, factory = std::move(factory)](
                          const Scope& scope, const Json& params) -> Result<WaitCondition> {
    US_RETURN_IF_ERROR(CheckWaitParameters(name, params));
    return factory(scope, params);
  };
}

void ControlApi::PostClock(const HttpRequest& request, HttpReply reply) {
  auto body = ParseBody(request);
  if (!body.ok()) return reply(ControlError(400, "InvalidClockRequest", body.status().message()));
  bool has_advance = body->contains("advance");
  bool has_to = body->contains("to");
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (it.key() != "advance" && it.key() != "to") {
      return reply(
          ControlError(400, "InvalidClockRequest",
                       "unknown field '" + it.key() + "'; expected \"advance\" or \"to\""));
    }
  }
  if (has_advance == has_to) {
    return reply(ControlError(400, "InvalidClockRequest",
                              "give exactly one of {\"advance\": \"90s\"} or {\"to\": "
                              "\"<ISO-8601 instant>\"}"));
  }
  TimePoint target;
  const Json& value = has_advance ? (*body)["advance"] : (*body)["to"];
  if (!value.is_string()) {
    return reply(ControlError(400, "InvalidClockRequest",
                              std::string("\"") + (has_advance ? "advance" : "to") +
                                  "\" must be a string, found " + value.type_name()));
  }
  if (has_advance) {
    auto d = ParseDuration(value.get<std::string>());
    if (!d.ok()) return reply(ControlError(400, "InvalidClockRequest", d.status().message()));
    target = clock_.Now() + *d;
  } else {
    auto t = ParseIso8601(value.get<std::string>());
    if (!t.ok()) return reply(ControlError(400, "InvalidClockRequest", t.status().message()));
    target = *t;
  }
  TimePoint from = clock_.Now();
  Status status = clock_.AdvanceTo(target, [this, reply, from] {
    journal_.Input("understudy.clock",
                   Json{{"from", FormatIso8601(from)}, {"to", FormatIso8601(clock_.Now())}});
    reply(JsonResponse(200, ClockState()));
  });
  if (!status.ok()) {
    int code = status.code() == StatusCode::kFailedPrecondition ? 409 : 400;
    return reply(ControlError(code, code == 409 ? "ClockNotVirtual" : "InvalidClockRequest",
                              status.message()));
  }
}

void ControlApi::Wait(const HttpRequest& request, HttpReply reply) {
  auto body = ParseBody(request);
  if (!body.ok()) return reply(ControlError(400, "InvalidWaitRequest", body.status().message()));
  auto until = body->find("until");
  if (until == body->end() || !until->is_object() || until->size() != 1) {
    std::string names;
    for (const auto& [name, f] : conditions_) names += (names.empty() ? "" : ", ") + name;
    return reply(ControlError(400, "InvalidWaitRequest",
                              "\"until\" must be an object with one condition, e.g. {\"until\": "
                              "{\"idle\": {}}, \"timeout\": \"15m\"}; conditions: " +
                                  names));
  }
  std::string name = until->begin().key();
  auto factory = conditions_.find(name);
  if (factory == conditions_.end()) {
    std::string names;
    for (const auto& [n, f] : conditions_) names += (names.empty() ? "" : ", ") + n;
    return reply(ControlError(400, "InvalidWaitRequest",
                              "unknown condition '" + name + "'; expected one of: " + names));
  }
  Duration timeout = std::chrono::minutes(15);
  if (auto t = body->find("timeout"); t != body->end()) {
    auto d = t->is_string() ? ParseDuration(t->get<std::string>())
                            : Result<Duration>(Status::InvalidArgument(
                                  "\"timeout\" must be a string such as \"15m\""));
    if (!d.ok()) return reply(ControlError(400, "InvalidWaitRequest", d.status().message()));
    timeout = *d;
  }
  Scope scope{body->value("account", info_.account_id), body->value("region", default_region_)};
  auto condition = factory->second(scope, until->begin().value());
  if (!condition.ok()) {
    return reply(ControlError(400, "InvalidWaitRequest",
                              "condition '" + name + "': " + condition.status().message()));
  }
  TimePoint started = clock_.Now();
  WaitCondition cond = std::move(condition).value();
  waits_.WaitUntil(
      name, cond.holds, timeout, [this, reply, cond, name, started, timeout](bool met) {
        Json state = cond.observe ? cond.observe() : Json::object();
        Json answer{{"condition", name},
                    {"met", met},
                    {"now", FormatIso8601(clock_.Now())},
                    {"waited", FormatDuration(clock_.Now() - started)},
                    {"observed", state}};
        if (met) return reply(JsonResponse(200, answer));
        answer["error"] = "WaitTimeout";
        answer["message"] = "condition '" + name + "' did not hold within " +
                            FormatDuration(timeout) + "; last observed: " + state.dump();
        reply(JsonResponse(408, answer));
      });
}

void ControlApi::Call(const HttpRequest& request, HttpReply reply) {
  auto body = ParseBody(request);
  if (!body.ok()) return reply(ControlError(400, "InvalidCallRequest", body.status().message()));
  for (auto it = body->begin(); it != body->end(); ++it) {
    static const char* kFields[] = {"service", "operation", "input", "region", "account"};
    if (std::find(std::begin(kFields), std::end(kFields), it.key()) == std::end(kFields)) {
      return reply(ControlError(
          400, "InvalidCallRequest",
          "unknown field '" + it.key() + "'; expected service, operation, input, region, account"));
    }
  }
  for (const char* name : {"service", "operation"}) {
    auto field = body->find(name);
    if (field == body->end() || !field->is_string() || field->get<std::string>().empty()) {
      return reply(ControlError(
          400, "InvalidCallRequest",
          std::string("\"") + name +
              "\" must be a non-empty string, e.g. {\"service\": \"ecs\", \"operation\": "
              "\"CreateCluster\", \"input\": {\"clusterName\": \"web\"}}"));
    }
  }
  for (const char* name : {"region", "account"}) {
    auto field = body->find(name);
    if (field == body->end()) continue;
    bool region = std::string(name) == "region";
    if (!field->is_string() || (region ? !IsRegionName(field->get<std::string>())
                                       : !IsAccountId(field->get<std::string>()))) {
      return reply(ControlError(
          400, "InvalidCallRequest",
          std::string("\"") + name + "\" must be " +
              (region ? "a region name such as \"us-east-1\"" : "a 12-digit account id") +
              ", got " + field->dump()));
    }
  }
  Json input = body->value("input", Json::object());
  Scope scope{body->value("account", info_.account_id), body->value("region", default_region_)};
  front_door_.Call(
      (*body)["service"].get<std::string>(), (*body)["operation"].get<std::string>(), scope,
      std::move(input), [reply](ApiResult result) {
        if (result.ok()) {
          return reply(JsonResponse(200, Json{{"output", ToWireJson(result.output())}}));
        }
        const ApiError& error = result.error();
        reply(JsonResponse(200, Json{{"error", {{"code", error.code}, {"message", error.message}}},
                                     {"status", error.http_status}}));
      });
}

void ControlApi::JournalEntries(const HttpRequest& request, HttpReply reply) {
  int64_t after = 0;
  size_t limit = 1000;
  if (const std::string* a = request.QueryParam("after")) after = std::atoll(a->c_str());
  if (const std::string* l = request.QueryParam("limit"))
    limit = std::strtoul(l->c_str(), nullptr, 10);
  auto entries = journal_.Read(after, std::min<size_t>(limit, 10000));
  if (!entries.ok())
    return reply(ControlError(500, "JournalUnavailable", entries.status().message()));
  Json out = Json::array();
  for (const auto& e : *entries) {
    out.push_back(Json{{"seq", e.seq},
                       {"time", FormatIso8601(e.time)},
                       {"kind", JournalKindName(e.kind)},
                       {"subject", e.subject},
                       {"detail", e.detail}});
  }
  reply(JsonResponse(200, Json{{"entries", out}, {"last", journal_.last_seq()}}));
}

}  // namespace understudy::api

namespace understudy::api {

void ControlApi::BusEvents(const HttpRequest& request, HttpReply reply) {
  if (bus_ == nullptr)
    return reply(JsonResponse(200, Json{{"events", Json::array()}, {"last", 0}}));
  uint64_t after = 0;
  if (const std::string* a = request.QueryParam("after")) {
    char* end = nullptr;
    after = std::strtoull(a->c_str(), &end, 10);
    if (a->empty() || *end != '\0') {
      return reply(ControlError(400, "InvalidBusRequest",
                                "\"after\" must be a whole number, got '" + *a + "'"));
    }
  }
  Json events = Json::array();
  for (const auto& event : bus_->recent()) {
    if (event["seq"].get<uint64_t>() > after) events.push_back(event);
  }
  reply(JsonResponse(200, Json{{"events", events}, {"last", bus_->published()}}));
}

}  // namespace understudy::api
