#include "api/wait_conditions.h"

#include <algorithm>

namespace understudy::api {

const std::map<std::string, std::vector<std::string>>& WaitConditionParameters() {
  static const auto* table = new std::map<std::string, std::vector<std::string>>{
      {"chaosExperiment", {"id", "status"}},
      {"cloudwatchAlarm", {"alarm", "state"}},
      {"ecsCluster", {"cluster", "status"}},
      {"ecsService", {"service", "cluster", "steady", "status", "lifecycleStage"}},
      {"ecsTask", {"task", "cluster", "lastStatus", "healthStatus"}},
      {"elbTargetHealth", {"targetGroupArn", "id", "port", "state"}},
      {"eventsDelivered", {"source", "outcome", "count"}},
      {"idle", {}},
      {"sesMessages",
       {"count", "to", "from", "subject", "via", "configurationSet", "tag", "text", "q", "mailbox",
        "id", "after", "before"}},
      {"trafficDone", {"name"}},
  };
  return *table;
}

Status CheckWaitParameters(const std::string& condition, const Json& params) {
  auto known = WaitConditionParameters().find(condition);
  if (known == WaitConditionParameters().end() || !params.is_object()) return Status::Ok();
  const std::vector<std::string>& accepted = known->second;
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (std::find(accepted.begin(), accepted.end(), it.key()) != accepted.end()) continue;
    if (accepted.empty()) {
      return Status::InvalidArgument("unknown parameter \"" + it.key() + "\" for " + condition +
                                     "; it takes none");
    }
    std::string list;
    for (const auto& a : accepted) list += (list.empty() ? "\"" : ", \"") + a + "\"";
    return Status::InvalidArgument("unknown parameter \"" + it.key() + "\" for " + condition +
                                   "; expected " + list);
  }
  return Status::Ok();
}

}  // namespace understudy::api
