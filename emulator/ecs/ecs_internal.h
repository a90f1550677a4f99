// Helpers the ECS resources share: ECS's common errors and opaque page tokens.
// Internal to ecs/. Any thread.
#pragma once

#include <optional>
#include <string>

#include "api/api_error.h"

namespace understudy::ecs {

inline api::ApiError InvalidParameter(std::string message) {
  return api::ApiError::Client("InvalidParameterException", std::move(message));
}

// An opaque nextToken that resumes a listing after the item with sort key `after`.
std::string EncodePageToken(const std::string& after);
// The sort key a token resumes after; nothing when the token was not made here.
std::optional<std::string> DecodePageToken(const std::string& token);

}  // namespace understudy::ecs
