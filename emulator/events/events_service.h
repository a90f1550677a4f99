// EventsService: EventBridge, EventBridge Scheduler and their target deliveries as one
// component the app opens and installs.
//
// Owns the Delivery (shared by rules and schedules), EventBridge and Scheduler, and
// serves the introspection endpoints:
//   GET  /_understudy/events/schedule          every rule and schedule, next fire times
//   POST /_understudy/events/fire/<name|arn>   fires a rule or schedule now
//   GET  /_understudy/events/deliveries?after=N&source=<name|arn>&limit=N
// and the wait condition "eventsDelivered": {"source"?, "outcome"?, "count"?}.
// Loop thread only.
#pragma once

#include <functional>
#include <memory>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "events/delivery.h"
#include "logs/logs.h"

namespace understudy::events {

struct EventsOptions {
  // ECS RunTask for rule and schedule targets (the app wires it to ecs::Ecs::RunTaskFor);
  // unset: ECS targets fail with a recorded reason.
  std::function<api::ApiResult(const Scope&, const Json& run_task_input)> run_task;
};

class EventsService {
 public:
  // `bus` brings other services' events; `logs` receives log-group targets' events.
  static Result<std::unique_ptr<EventsService>> Open(EventLoop& loop, Store& store,
                                                     Journal& journal, Clock& clock, Random random,
                                                     EventBus& bus, logs::LogSink& logs,
                                                     EventsOptions options);
  virtual ~EventsService() = default;
  // Registers the `events` and `scheduler` operations, the introspection endpoints, the
  // reset hook and the wait condition.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  virtual Status Reset() = 0;
  // Fault injection (docs/chaos.md): consulted before every target invocation attempt.
  virtual void SetDeliveryFault(DeliveryFault fault) = 0;
};

}  // namespace understudy::events
