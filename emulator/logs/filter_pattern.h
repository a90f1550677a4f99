// FilterPattern: CloudWatch Logs filter patterns, parsed once and matched per event.
//
// Supported: terms (all must occur), "quoted phrases", ?term (any of these),
// -term (none of these), and JSON patterns { $.a.b = value } with =, !=, <, <=,
// >, >=, `*` wildcards in string values, IS NULL / NOT EXISTS, && and ||
// (|| binds looser), and parentheses. Terms match case-sensitively anywhere in
// the message. Any thread; a pattern is immutable once parsed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace understudy::logs {

class FilterPattern {
 public:
  // InvalidArgument says where the pattern is malformed ("Invalid filter pattern").
  static Result<FilterPattern> Parse(std::string_view text);
  bool Matches(std::string_view message) const;

  struct Node;  // JSON condition tree

 private:
  std::vector<std::string> all_;   // plain terms and phrases
  std::vector<std::string> any_;   // ?terms
  std::vector<std::string> none_;  // -terms
  std::shared_ptr<const Node> json_;
};

}  // namespace understudy::logs
