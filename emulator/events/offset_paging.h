// OffsetPage: how EventBridge and Scheduler page their lists here — NextToken is the
// offset of the next item, its page size the request's Limit or MaxResults (100 by
// default). Internal to events/. Any thread.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

#include "api/api_error.h"
#include "core/json.h"

namespace understudy::events {

// `all` paged into {member: [...], NextToken?}, or `invalid_token` (a ValidationException)
// when the request's NextToken was not made here.
inline api::ApiResult OffsetPage(const Json& all, const Json& input, const char* member,
                                 const char* limit_field, api::ApiError invalid_token) {
  size_t offset = 0;
  if (input.contains("NextToken")) {
    std::string token = input["NextToken"].get<std::string>();
    if (token.empty() || !std::all_of(token.begin(), token.end(), ::isdigit)) {
      return invalid_token;
    }
    offset = std::stoul(token);
  }
  size_t limit = input.contains(limit_field) ? input[limit_field].get<size_t>() : 100;
  Json page = Json::array();
  for (size_t i = offset; i < all.size() && page.size() < limit; ++i) page.push_back(all[i]);
  Json out{{member, page}};
  if (offset + page.size() < all.size()) out["NextToken"] = std::to_string(offset + page.size());
  return out;
}

}  // namespace understudy::events
