// Filters: EC2's Describe* filters (Filter.N.Name, Filter.N.Value.M). Pure; any thread.
//
// A resource matches when every filter matches; a filter matches when any of its
// values matches any of the resource's values for that name. Values may use EC2's
// wildcards: `*` (any run of characters) and `?` (any one character); `\` escapes
// them. `tag:<Key>` and `tag-key` are understood for every resource with a Tags list.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/json.h"

namespace understudy::ec2 {

struct Filter {
  std::string name;
  std::vector<std::string> values;
};

// The values a resource has for filter `name`, or nothing when the resource kind
// has no such filter.
using FilterFields = std::function<std::optional<std::vector<std::string>>(const std::string&)>;

class Filters {
 public:
  // From an input's "Filters" member (the model's FilterList); empty when absent.
  static Filters From(const Json& input);

  // InvalidParameterValue "The filter '<name>' is invalid" for the first filter
  // whose name is neither in `known` (the kind's filter names) nor a tag filter.
  std::optional<api::ApiError> Check(const std::set<std::string>& known) const;
  // True when the resource `fields` describes passes every filter; `tags` is its
  // Tags list ([{"Key", "Value"}]). REQUIRES: Check() passed.
  bool Matches(const FilterFields& fields, const Json& tags) const;
  bool empty() const { return filters_.empty(); }

 private:
  std::vector<Filter> filters_;
};

// EC2's wildcard match of `pattern` against `text`.
bool WildcardMatch(const std::string& pattern, const std::string& text);

// "true" / "false", as filter values spell booleans.
inline std::string BoolText(bool value) { return value ? "true" : "false"; }

}  // namespace understudy::ec2
