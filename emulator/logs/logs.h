// Logs: CloudWatch Logs on the front door, and the sink containers' output goes to.
//
// Log groups, streams and events live in the store (`logs_groups`, `logs_streams`,
// `logs_events`); every query reads SQLite, so nothing is capped in memory.
// Retention hides events older than the group's retention from reads. ECS writes
// container output through LogSink (one event per line, clock time). Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/store.h"

namespace understudy::logs {

// Where ECS sends container output (the awslogs driver).
class LogSink {
 public:
  virtual ~LogSink() = default;
  // Makes sure the stream exists; creates the group too when `create_group`
  // (awslogs-create-group). NotFound names the missing group otherwise.
  virtual Status OpenStream(const Scope& scope, const std::string& group, const std::string& stream,
                            bool create_group) = 0;
  // Appends one event stamped with the clock's now.
  virtual void Append(const Scope& scope, const std::string& group, const std::string& stream,
                      const std::string& message) = 0;
};

class Logs : public LogSink {
 public:
  static Result<std::unique_ptr<Logs>> Open(Store& store, Journal& journal, Clock& clock);
  // Registers the CloudWatch Logs operations and the reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  virtual Status Reset() = 0;
};

}  // namespace understudy::logs
