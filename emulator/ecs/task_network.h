// Task networks: the checks of an awsvpc task's networkConfiguration against EC2.
// Internal to ecs/. Loop thread only (the lookups touch EC2's state).
//
// ECS refuses an id EC2 refuses with InvalidParameterException, quoting EC2's error
// as ECS does: "Error retrieving subnet information for [subnet-1]: The subnet ID
// 'subnet-1' does not exist (ErrorCode: InvalidSubnetID.NotFound)".
#pragma once

#include <optional>
#include <string>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/json.h"
#include "ecs/ecs.h"

namespace understudy::ecs {

// Checks `network_configuration` (RunTask's networkConfiguration member): at least one
// subnet, and every subnet and security group known to `lookup`. Sets `zone` to the
// first subnet's availability zone. The error ECS answers with, or nothing.
std::optional<api::ApiError> CheckTaskNetwork(const NetworkLookup& lookup, const Scope& scope,
                                              const Json& network_configuration, std::string* zone);

}  // namespace understudy::ecs
