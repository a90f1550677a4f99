// SourceJson: JSON read from a file with the position of every value kept, so that
// errors in scenario files can name the line and column of what they are about.
//
// The reader accepts JSON with // and /* */ comments. Positions are keyed by the
// value's path in the syntax of path.h ("steps[2].call.service"; "" is the root).
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace understudy::scenario {

struct LineColumn {
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in bytes
};

struct SourceJson {
  Json value;
  std::map<std::string, size_t> offsets;  // path -> byte offset where the value starts
  std::string text;

  // The line and column of the value at `path`, or of its closest ancestor
  // that has a position (the root when none does).
  LineColumn PositionOf(const std::string& path) const;
};

// The line and column of byte `offset` in `text`.
LineColumn LineColumnAt(std::string_view text, size_t offset);

// Parses `text`. InvalidArgument reads "line L, column C: <what was found>; expected <what>".
Result<SourceJson> ParseSourceJson(std::string text);

// Appends a member name or an index to a path: ("steps", 2) -> "steps[2]".
std::string JoinPath(const std::string& path, const std::string& member);
std::string JoinPath(const std::string& path, size_t index);

}  // namespace understudy::scenario
