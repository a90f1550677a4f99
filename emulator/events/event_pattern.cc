#include "events/event_pattern.h"

namespace understudy::events {

struct EventPattern::Node {};

Result<EventPattern> EventPattern::Parse(std::string_view text) {
  US_ASSIGN_OR_RETURN(Json json, ParseJson(text));
  return FromJson(json);
}

Result<EventPattern> EventPattern::FromJson(const Json& pattern) {
  EventPattern p;
  p.text_ = pattern.dump();
  p.root_ = std::make_shared<Node>();
  return p;
}

bool EventPattern::Matches(const Json&) const { return false; }

Result<bool> EventPattern::MatchesText(std::string_view event_text) const {
  US_ASSIGN_OR_RETURN(Json json, ParseJson(event_text));
  return Matches(json);
}

std::vector<std::string> EventPattern::RequiredExactStrings(std::string_view) const { return {}; }

struct PatternMatcher::Index {
  std::map<std::string, EventPattern> patterns;
};

PatternMatcher::PatternMatcher() : index_(std::make_unique<Index>()) {}
PatternMatcher::~PatternMatcher() = default;
PatternMatcher::PatternMatcher(PatternMatcher&&) noexcept = default;
PatternMatcher& PatternMatcher::operator=(PatternMatcher&&) noexcept = default;

void PatternMatcher::Add(const std::string& id, EventPattern pattern) {
  index_->patterns.insert_or_assign(id, std::move(pattern));
}
bool PatternMatcher::Remove(const std::string& id) { return index_->patterns.erase(id) > 0; }
void PatternMatcher::Clear() { index_->patterns.clear(); }
std::size_t PatternMatcher::size() const { return index_->patterns.size(); }

std::vector<std::string> PatternMatcher::Match(const Json& event) const {
  std::vector<std::string> ids;
  for (const auto& [id, p] : index_->patterns) {
    if (p.Matches(event)) ids.push_back(id);
  }
  return ids;
}

}  // namespace understudy::events
