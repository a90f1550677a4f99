// The wait conditions of POST /_understudy/wait and scenario `waitFor` steps, with the
// parameters each accepts: one table that the control API checks requests against and
// the scenario parser checks files against (so a misspelt parameter is an error before
// anything runs, not a wait on nothing). Each service registers the condition itself
// (ControlApi::AddCondition); a name here without a registration is refused as unknown.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace understudy::api {

// Condition name -> the members its parameter object may have.
const std::map<std::string, std::vector<std::string>>& WaitConditionParameters();

// Ok, or InvalidArgument naming the first member of `params` that `condition` does not
// take and the ones it does. Ok for a condition the table does not list.
Status CheckWaitParameters(const std::string& condition, const Json& params);

}  // namespace understudy::api
