#include "understudy/waits.h"

namespace understudy {

using nlohmann::json;

namespace until {

Condition ServiceSteady(const std::string& cluster, const std::string& service) {
  return {"ecsService", {{"cluster", cluster}, {"service", service}, {"steady", true}}};
}

Condition TaskStatus(const std::string& cluster, const std::string& task,
                     const std::string& last_status) {
  return {"ecsTask", {{"cluster", cluster}, {"task", task}, {"lastStatus", last_status}}};
}

Condition ClusterActive(const std::string& cluster) {
  return {"ecsCluster", {{"cluster", cluster}, {"status", "ACTIVE"}}};
}

Condition TargetHealth(const std::string& target_group_arn, const std::string& id, int port,
                       const std::string& state) {
  json params{{"targetGroupArn", target_group_arn}, {"id", id}, {"state", state}};
  if (port != 0) params["port"] = port;
  return {"elbTargetHealth", params};
}

Condition Emails(const json& filters, int count) {
  json params = filters.is_object() ? filters : json::object();
  params["count"] = count;
  return {"sesMessages", params};
}

Condition EventsDelivered(const std::string& source, int count, const std::string& outcome) {
  json params{{"count", count}};
  if (!source.empty()) params["source"] = source;
  if (!outcome.empty()) params["outcome"] = outcome;
  return {"eventsDelivered", params};
}

Condition AlarmState(const std::string& alarm, const std::string& state) {
  return {"cloudwatchAlarm", {{"alarm", alarm}, {"state", state}}};
}

Condition Idle() { return {"idle", json::object()}; }

}  // namespace until

::testing::AssertionResult WaitFor(const Emulator& emulator, const Condition& condition,
                                   const std::string& timeout) {
  json request{{"until", {{condition.name, condition.params}}}, {"timeout", timeout}};
  auto answer = emulator.Raw("POST", "/_understudy/wait", request);
  if (!answer.ok()) {
    return ::testing::AssertionFailure()
           << "waiting for " << condition.Describe() << ": " << answer.error().ToString();
  }
  const json& body = answer->body;
  if (answer->status == 200 && body.is_object() && body.value("met", false)) {
    return ::testing::AssertionSuccess()
           << condition.Describe() << " held at " << body.value("now", "?") << " after "
           << body.value("waited", "?");
  }
  if (answer->status == 408 && body.is_object()) {
    return ::testing::AssertionFailure()
           << condition.Describe() << " did not hold within " << timeout << " (clock now "
           << body.value("now", "?")
           << ")\n  last observed: " << body.value("observed", json::object()).dump();
  }
  return ::testing::AssertionFailure() << "waiting for " << condition.Describe() << ": HTTP "
                                       << answer->status << " " << body.dump();
}

}  // namespace understudy
