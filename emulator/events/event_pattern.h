// EventPattern: EventBridge event patterns with event-ruler's semantics
// (aws-semantics §4.3), and PatternMatcher, which matches one event against many
// patterns at once.
//
// A pattern is a JSON object mirroring the event; each leaf is an array of matchers
// (any may match) and all named fields must match. Matchers: exact values (string,
// number, true/false, null), prefix, suffix, equals-ignore-case, wildcard,
// anything-but (values, lists, prefix, suffix, equals-ignore-case, wildcard),
// numeric ranges, exists, cidr, and `$or` at any level. An array in the event
// matches when any element matches; matchers on fields inside different elements
// of one event array never combine.
//
// Parse validates with AWS's wording: the error is InvalidArgument whose message is
// the full InvalidEventPatternException message, "Event pattern is not valid.
// Reason: ...". Patterns are immutable values; Matches is const and thread-safe.
// PatternMatcher is not synchronised: one writer, or readers only.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace understudy::events {

class EventPattern {
 public:
  struct Node;  // internal: the compiled pattern tree

  // Parses and validates pattern text (as given to PutRule / TestEventPattern).
  static Result<EventPattern> Parse(std::string_view text);
  // Same, from an already parsed JSON value (the text form is kept as its dump).
  static Result<EventPattern> FromJson(const Json& pattern);

  // Whether `event` (a JSON object) matches.
  bool Matches(const Json& event) const;
  // Parses `event_text` and matches; InvalidArgument if it is not JSON.
  Result<bool> MatchesText(std::string_view event_text) const;

  const std::string& text() const { return text_; }

  // The exact string values this pattern requires at `path` in every match
  // ("source", "detail-type"), or empty when the field is unconstrained or
  // constrained otherwise. Used by PatternMatcher's index.
  std::vector<std::string> RequiredExactStrings(std::string_view path) const;

 private:
  friend class PatternMatcher;
  EventPattern() = default;
  std::string text_;
  std::shared_ptr<const Node> root_;
};

// Many patterns, matched together. Patterns whose every match requires particular
// `source` (or else `detail-type`) strings are indexed by them, so an event only
// evaluates candidate patterns.
class PatternMatcher {
 public:
  PatternMatcher();
  ~PatternMatcher();
  PatternMatcher(PatternMatcher&&) noexcept;
  PatternMatcher& operator=(PatternMatcher&&) noexcept;

  // Adds `pattern` under `id`, replacing any pattern already under `id`.
  void Add(const std::string& id, EventPattern pattern);
  // Removes `id`; false if it was not there.
  bool Remove(const std::string& id);
  void Clear();
  std::size_t size() const;

  // The ids whose patterns match `event`, in ascending id order.
  std::vector<std::string> Match(const Json& event) const;

 private:
  struct Index;
  std::unique_ptr<Index> index_;
};

}  // namespace understudy::events
