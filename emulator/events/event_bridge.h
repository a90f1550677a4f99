// EventBridge: event buses, rules, targets, PutEvents, connections and API
// destinations (model `events`, awsJson1_1; aws-semantics §4.1-§4.4).
//
// Rules with an event pattern match every event put on their bus: PutEvents, events
// other services publish on the internal EventBus (ECS task/service/deployment state
// changes, SES...), which land on the default bus of their account and region, and
// events forwarded from another bus. Rules with a schedule expression fire on the
// clock at their minute, once: the last fire time is stored before the targets run,
// so a restart neither repeats nor skips a firing. Everything lives in the store
// (`events_docs`) and is reloaded at start. Loop thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "events/delivery.h"

namespace understudy::events {

class EventBridge {
 public:
  // Creates or migrates the tables, loads rules and arms their schedules; subscribes
  // to `bus` for other services' events.
  static Result<std::unique_ptr<EventBridge>> Open(Store& store, Journal& journal, Clock& clock,
                                                   Random random, EventBus& bus,
                                                   Delivery& delivery);
  virtual ~EventBridge() = default;

  virtual void Install(api::FrontDoor& front_door) = 0;
  virtual Status Reset() = 0;

  // Puts `event` (a full envelope) on the bus named by `bus_arn` and runs the rules
  // that match it. NotFound when the bus does not exist.
  virtual Status PutEventOnBus(const std::string& bus_arn, const Json& event) = 0;
  // The HTTP call API destination `arn` makes with `body` (auth and parameters applied).
  virtual Result<HttpCall> ApiDestinationCall(const Scope& scope, const std::string& arn,
                                              const std::string& body) = 0;

  // Every rule of every scope: name, bus, ARN, state, schedule and next fire time.
  virtual Json ScheduleState() const = 0;
  // Fires rule `name` now (any bus, any scope; `arn` may be given instead): its targets
  // get a Scheduled Event, and its schedule is untouched. NotFound if none.
  virtual Status FireNow(const std::string& name_or_arn) = 0;
  // When the next scheduled rule fires, if any does.
  virtual std::optional<TimePoint> NextFireTime() const = 0;
};

// The envelope's `time`: ISO-8601 UTC to the second ("2026-11-23T03:00:00Z").
std::string EventTime(TimePoint t);

}  // namespace understudy::events
