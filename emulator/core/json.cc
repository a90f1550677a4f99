#include "core/json.h"

namespace understudy {
namespace {

Result<Json> Parse(std::string_view text, bool comments) {
  try {
    return Json::parse(text.begin(), text.end(), nullptr, true, comments);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    return Status::InvalidArgument(e.what());
  }
}

}  // namespace

Result<Json> ParseJson(std::string_view text) { return Parse(text, false); }
Result<Json> ParseJsonWithComments(std::string_view text) { return Parse(text, true); }

}  // namespace understudy
