// Delivery: invokes rule and schedule targets and records every outcome.
//
// A delivery is one event (or scheduled invocation) sent to one target: an ECS
// cluster (RunTask), an event bus, an API destination (an HTTP call made off the loop
// thread while holding the clock), a CloudWatch Logs group. Failures a retry can cure
// (5xx, throttling, connection errors) are retried with exponential back-off in clock
// time within the target's RetryPolicy; the rest, and exhausted retries, are recorded
// as FAILED with the DeadLetterConfig the message would go to (aws-semantics §4.4).
// Outcomes are kept in the store (`events_deliveries`), journaled as
// `events.delivery` transitions, and served at GET /_understudy/events/deliveries.
// Loop thread only, except the HTTP workers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "logs/logs.h"

namespace understudy::events {

// Where an API destination sends its request.
struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// How targets in other services are reached (the app wires them; unset hooks make
// deliveries to those targets fail with a recorded reason).
struct DeliveryHooks {
  // ECS RunTask with a RunTask request (startedBy set by the caller).
  std::function<api::ApiResult(const Scope&, const Json& run_task_input)> run_task;
  // Puts `event` on the bus `bus_arn` (EventBridge targets of rules and schedules).
  std::function<Status(const std::string& bus_arn, const Json& event)> put_event;
  // The HTTP call for API destination `arn` with `body`, or the reason there is none.
  std::function<Result<HttpCall>(const Scope&, const std::string& arn, const std::string& body)>
      api_destination;
  logs::LogSink* logs = nullptr;
};

// One delivery to make.
struct DeliveryRequest {
  Scope scope;
  std::string source_kind;  // "rule" or "schedule"
  std::string source_arn;   // the rule's or schedule's ARN
  std::string source_name;  // the rule's or schedule's name
  Json target;              // the target as stored (Id?, Arn, EcsParameters, RetryPolicy...)
  std::string input;        // the text the target receives
  Json event;               // the event (for bus targets; null for schedules)
  std::string started_by;   // ECS startedBy: "events-rule/<rule>", "chronos-schedule/<name>"
  bool universal_run_task = false;  // Scheduler's aws-sdk:ecs:runTask: input is the request
  bool delayed = false;             // an injected delay already held this delivery back once
};

// An injected target fault (docs/chaos.md): the error code and message an attempt
// fails with, as a failure a retry can cure; or, with `delay`, the attempt is made that
// much clock time later instead (once; the delayed attempt is marked `delayed`).
// nullopt leaves the attempt alone.
struct InjectedFailure {
  std::string code;
  std::string message;
  Duration delay{0};
};
using DeliveryFault = std::function<std::optional<InjectedFailure>(const DeliveryRequest&)>;

class Delivery {
 public:
  Delivery(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
           DeliveryHooks hooks);
  ~Delivery();
  // Creates its table (`events_deliveries`) and counts what it holds.
  Status Migrate();
  Status Reset();
  void set_hooks(DeliveryHooks hooks) { hooks_ = std::move(hooks); }
  // Consulted before every attempt (fault injection); unset: no attempt is touched.
  void set_fault(DeliveryFault fault) { fault_ = std::move(fault); }

  // Starts delivering; the outcome is recorded when known (maybe before this returns).
  void Deliver(DeliveryRequest request);

  // Recorded outcomes with seq > after, oldest first, at most `limit`; `source`, when
  // not empty, keeps those of that rule or schedule (name or ARN).
  Json List(int64_t after, size_t limit, const std::string& source) const;
  // How many recorded outcomes match `source` (any when empty) and `outcome` (any when empty).
  int64_t Count(const std::string& source, const std::string& outcome) const;
  // Deliveries started whose outcome is not yet known (HTTP in flight, retries due).
  size_t in_flight() const { return in_flight_; }

 private:
  struct Attempt;
  void Try(std::shared_ptr<Attempt> attempt);
  void Finish(std::shared_ptr<Attempt> attempt, bool retriable, const std::string& code,
              const std::string& message);
  void Succeed(std::shared_ptr<Attempt> attempt, Json result);
  void Record(const Attempt& attempt, const std::string& outcome, Json detail);
  void StartHttp(std::shared_ptr<Attempt> attempt, HttpCall call);
  Status Open();
  void CountOne(const std::string& source_arn, const std::string& source_name,
                const std::string& outcome);

  EventLoop& loop_;
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  DeliveryHooks hooks_;
  DeliveryFault fault_;
  size_t in_flight_ = 0;
  // Recorded outcomes by source ARN, by source name and in all (""): {succeeded, failed}.
  std::map<std::string, std::pair<int64_t, int64_t>> counts_;
  std::map<uint64_t, std::thread> workers_;
  uint64_t next_worker_ = 1;
  std::shared_ptr<bool> alive_;
};

// The RunTask request for an EventBridge or Scheduler ECS target: EcsParameters in
// RunTask's names, the cluster from `cluster_arn`, and `overrides` when given.
Json RunTaskRequest(const std::string& cluster_arn, const Json& ecs_parameters,
                    const std::optional<Json>& overrides, const std::string& started_by);
// `value` with the first letter of every object key in lower case (SDK-style
// "Cluster" to API-style "cluster").
Json LowerCamelKeys(const Json& value);

}  // namespace understudy::events
