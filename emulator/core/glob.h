// Glob: matching text against patterns whose only wildcard is `*` (any run of
// characters, possibly empty). Used for image patterns and log filter values. Any thread.
#pragma once

#include <string_view>

namespace understudy {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace understudy
