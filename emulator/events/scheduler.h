// Scheduler: EventBridge Scheduler (model `scheduler`, restJson1; aws-semantics §4.5).
//
// Schedule groups (`default` always exists) and schedules with at(), rate() and cron()
// expressions in their ScheduleExpressionTimezone, bounded by StartDate/EndDate. Each
// schedule fires on the clock at its scheduled minute — or, with a FLEXIBLE time
// window, at an offset within the window drawn from the run's seed for that schedule
// and minute, so a seed always gives the same times. The last scheduled time is stored
// before the target runs (no repeats or gaps across restarts); ActionAfterCompletion
// DELETE removes a schedule after its last invocation. Targets: ECS RunTask
// (startedBy `chronos-schedule/<name>`), the universal `aws-sdk:ecs:runTask`, and
// EventBridge PutEvents. Loop thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/front_door.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "events/delivery.h"

namespace understudy::events {

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Open(Store& store, Journal& journal, Clock& clock,
                                                 Random random, Delivery& delivery);
  virtual ~Scheduler() = default;

  virtual void Install(api::FrontDoor& front_door) = 0;
  virtual Status Reset() = 0;

  // Every schedule of every scope with its next fire times.
  virtual Json ScheduleState() const = 0;
  // Invokes schedule `name_or_arn` now (its state is untouched). NotFound if none.
  virtual Status FireNow(const std::string& name_or_arn) = 0;
};

}  // namespace understudy::events
