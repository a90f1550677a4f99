// The JSON value type used across understudy (nlohmann::json, keys sorted, so
// dumps are deterministic), and a parse that returns a Result instead of throwing.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace understudy {

using Json = nlohmann::json;

// Parses `text`; InvalidArgument carries the parser's position and reason.
Result<Json> ParseJson(std::string_view text);
// Parses JSON with // and /* */ comments allowed (scenario and config files).
Result<Json> ParseJsonWithComments(std::string_view text);

}  // namespace understudy
