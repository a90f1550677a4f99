// ControlApi: the emulator's own endpoints under /_understudy/ (and /moto-api/reset).
//
// health, reset, clock (read and move), wait (block until a condition holds,
// moving a virtual clock as brief §5 says), call (any registered operation with its
// input as JSON, whatever protocol the service speaks) and journal. Services add reset
// hooks and wait conditions as they land. Answers are JSON; errors are
// {"error": <code>, "message": <text>} with a 4xx status. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/journal.h"
#include "core/waits.h"

namespace understudy::api {

// A condition a client can wait on: `holds` is checked on the loop thread after
// each change; `observe` describes the state for the answer (and the timeout report).
struct WaitCondition {
  std::function<bool()> holds;
  std::function<Json()> observe;
};
// Builds a condition from its parameters in the wait request; InvalidArgument
// names the parameter that is missing or wrong.
using ConditionFactory =
    std::function<Result<WaitCondition>(const Scope& scope, const Json& params)>;

struct ControlInfo {
  std::string version;
  std::string endpoint;
  std::string state_dir;
  bool state_dir_is_temporary = true;
  uint64_t seed = 0;
  std::string account_id;
};

class ControlApi {
 public:
  ControlApi(FrontDoor& front_door, Clock& clock, Waits& waits, Journal& journal, ControlInfo info,
             std::string default_region);

  // Registers the endpoints with the front door.
  void Install();
  // `hook` drops a service's state on reset. Hooks run in registration order.
  void AddResetHook(std::function<Status()> hook) { reset_hooks_.push_back(std::move(hook)); }
  // Makes `{"until": {"<name>": {...}}}` available to POST /_understudy/wait. Members
  // of the parameters that api/wait_conditions.h does not list for `name` are refused
  // before `factory` sees them.
  void AddCondition(const std::string& name, ConditionFactory factory);
  void set_endpoint(std::string endpoint) { info_.endpoint = std::move(endpoint); }
  // Adds `key` to GET /_understudy/health, its value computed on each request.
  void AddHealthField(std::string key, std::function<Json()> value) {
    health_fields_[std::move(key)] = std::move(value);
  }
  // Serves GET /_understudy/bus?after=N (the bus's recent events) and clears them on reset.
  void SetEventBus(EventBus* bus) { bus_ = bus; }

  // The JSON of GET /_understudy/clock.
  Json ClockState() const;

 private:
  void Health(HttpReply reply);
  void Reset(HttpReply reply);
  void PostClock(const HttpRequest& request, HttpReply reply);
  void Wait(const HttpRequest& request, HttpReply reply);
  void Call(const HttpRequest& request, HttpReply reply);
  void JournalEntries(const HttpRequest& request, HttpReply reply);
  void BusEvents(const HttpRequest& request, HttpReply reply);

  FrontDoor& front_door_;
  Clock& clock_;
  Waits& waits_;
  Journal& journal_;
  ControlInfo info_;
  std::string default_region_;
  std::vector<std::function<Status()>> reset_hooks_;
  std::map<std::string, ConditionFactory> conditions_;
  EventBus* bus_ = nullptr;
  std::map<std::string, std::function<Json()>> health_fields_;
};

// A JSON answer with `status`.
HttpResponse JsonResponse(int status, const Json& body);
// {"error": code, "message": message} with `status`.
HttpResponse ControlError(int status, const std::string& code, const std::string& message);

}  // namespace understudy::api
