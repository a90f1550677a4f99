#include "ecs/ecs_internal.h"

#include "api/shape_values.h"
#include "core/json.h"

namespace understudy::ecs {

std::string EncodePageToken(const std::string& after) {
  return api::Base64Encode(Json{{"after", after}}.dump());
}

std::optional<std::string> DecodePageToken(const std::string& token) {
  std::string text;
  if (!api::Base64Decode(token, &text)) return std::nullopt;
  auto json = ParseJson(text);
  if (!json.ok() || !json->is_object() || !json->contains("after") ||
      !(*json)["after"].is_string()) {
    return std::nullopt;
  }
  return (*json)["after"].get<std::string>();
}

Json EcsEvent(Random& random, const Scope& scope, TimePoint now, const std::string& detail_type,
              const std::string& resource_arn, Json detail) {
  return Json{{"version", "0"},
              {"id", random.Uuid()},
              {"detail-type", detail_type},
              {"source", "aws.ecs"},
              {"account", scope.account},
              {"time", FormatIso8601(now).substr(0, 19) + "Z"},
              {"region", scope.region},
              {"resources", Json::array({resource_arn})},
              {"detail", std::move(detail)}};
}

}  // namespace understudy::ecs
