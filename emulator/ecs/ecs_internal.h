// Helpers the ECS resources share: ECS's common errors and opaque page tokens.
// Internal to ecs/. Any thread.
#pragma once

#include <optional>
#include <string>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/json.h"
#include "core/random.h"
#include "core/time.h"

namespace understudy::ecs {

inline api::ApiError InvalidParameter(std::string message) {
  return api::ApiError::Client("InvalidParameterException", std::move(message));
}

// An opaque nextToken that resumes a listing after the item with sort key `after`.
std::string EncodePageToken(const std::string& after);
// The sort key a token resumes after; nothing when the token was not made here.
std::optional<std::string> DecodePageToken(const std::string& token);

// An ECS event as EventBridge carries it (source aws.ecs): the envelope around `detail`.
Json EcsEvent(Random& random, const Scope& scope, TimePoint now, const std::string& detail_type,
              const std::string& resource_arn, Json detail);

}  // namespace understudy::ecs
