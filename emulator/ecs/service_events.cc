// Services: service events as ECS words them (aws-semantics §2.9) and the
// "ECS Service Action" / "ECS Deployment State Change" events on the bus (§2.12).
#include "ecs/ecs_internal.h"
#include "ecs/services.h"

namespace understudy::ecs {
namespace {

constexpr size_t kMaxEvents = 100;

}  // namespace

void Services::AddEvent(Record& record, const std::string& text) {
  AddRawEvent(record, "(service " + record.doc["serviceName"].get<std::string>() + ") " + text);
}

void Services::AddRawEvent(Record& record, const std::string& message) {
  Json& events = record.doc["events"];
  Json event{
      {"id", random_.Uuid()}, {"createdAt", ToEpochSeconds(clock_.Now())}, {"message", message}};
  events.insert(events.begin(), event);  // newest first
  while (events.size() > kMaxEvents) events.erase(events.end() - 1);
  journal_.Transition(record.doc["serviceArn"].get<std::string>(), Json{{"event", message}});
}

void Services::PublishServiceAction(const Record& record, const std::string& event_type,
                                    const std::string& event_name) {
  bus_.Publish(EcsEvent(random_, record.scope, clock_.Now(), "ECS Service Action",
                        record.doc["serviceArn"],
                        Json{{"eventType", event_type},
                             {"eventName", event_name},
                             {"clusterArn", record.doc["clusterArn"]},
                             {"createdAt", FormatIso8601(clock_.Now())}}));
}

void Services::PublishDeploymentChange(const Record& record, const std::string& event_type,
                                       const std::string& event_name,
                                       const std::string& deployment_id,
                                       const std::string& reason) {
  bus_.Publish(EcsEvent(random_, record.scope, clock_.Now(), "ECS Deployment State Change",
                        record.doc["serviceArn"],
                        Json{{"eventType", event_type},
                             {"eventName", event_name},
                             {"deploymentId", deployment_id},
                             {"updatedAt", FormatIso8601(clock_.Now())},
                             {"reason", reason}}));
}

}  // namespace understudy::ecs
