#include "ecs/task_network.h"

#include "ecs/ecs_internal.h"

namespace understudy::ecs {
namespace {

api::ApiError Retrieving(const std::string& what, const std::string& id,
                         const api::ApiError& error) {
  return InvalidParameter("Error retrieving " + what + " information for [" + id +
                          "]: " + error.message + " (ErrorCode: " + error.code + ")");
}

}  // namespace

std::optional<api::ApiError> CheckTaskNetwork(const NetworkLookup& lookup, const Scope& scope,
                                              const Json& network_configuration,
                                              std::string* zone) {
  const Json config = network_configuration.value("awsvpcConfiguration", Json::object());
  const Json subnets = config.value("subnets", Json::array());
  if (subnets.empty()) return InvalidParameter("subnets can not be empty.");
  bool first = true;
  for (const auto& s : subnets) {
    std::string id = s.get<std::string>();
    if (!lookup.subnet_zone) break;
    auto found = lookup.subnet_zone(scope, id);
    if (auto* error = std::get_if<api::ApiError>(&found)) return Retrieving("subnet", id, *error);
    if (first) *zone = std::get<std::string>(found);
    first = false;
  }
  for (const auto& g : config.value("securityGroups", Json::array())) {
    std::string id = g.get<std::string>();
    if (!lookup.security_group) break;
    if (auto error = lookup.security_group(scope, id)) {
      return Retrieving("security group", id, *error);
    }
  }
  return std::nullopt;
}

}  // namespace understudy::ecs
