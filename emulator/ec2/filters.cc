#include "ec2/filters.h"

namespace understudy::ec2 {
namespace {

bool IsTagFilter(const std::string& name) {
  return name.rfind("tag:", 0) == 0 || name == "tag-key" || name == "tag-value";
}

// Values of a tag filter for a resource with `tags`.
std::vector<std::string> TagValues(const std::string& name, const Json& tags) {
  std::vector<std::string> out;
  for (const auto& tag : tags) {
    std::string key = tag.value("Key", "");
    std::string value = tag.value("Value", "");
    if (name == "tag-key") {
      out.push_back(key);
    } else if (name == "tag-value") {
      out.push_back(value);
    } else if (key == name.substr(4)) {
      out.push_back(value);
    }
  }
  return out;
}

// A pattern as tokens: a literal character, `?` (kOne) or `*` (kRun).
struct Token {
  enum Kind { kLiteral, kOne, kRun } kind;
  char c;
};

std::vector<Token> Tokenize(const std::string& pattern) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      tokens.push_back({Token::kLiteral, pattern[++i]});
    } else if (c == '*') {
      tokens.push_back({Token::kRun, c});
    } else if (c == '?') {
      tokens.push_back({Token::kOne, c});
    } else {
      tokens.push_back({Token::kLiteral, c});
    }
  }
  return tokens;
}

}  // namespace

bool WildcardMatch(const std::string& pattern, const std::string& text) {
  std::vector<Token> tokens = Tokenize(pattern);
  size_t p = 0, t = 0;
  size_t star = std::string::npos, resume = 0;  // the last `*` seen, and where it resumes
  while (t < text.size()) {
    if (p < tokens.size() && tokens[p].kind == Token::kRun) {
      star = p++;
      resume = t;
    } else if (p < tokens.size() && (tokens[p].kind == Token::kOne || tokens[p].c == text[t])) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < tokens.size() && tokens[p].kind == Token::kRun) ++p;
  return p == tokens.size();
}

Filters Filters::From(const Json& input) {
  Filters filters;
  for (const auto& f : input.value("Filters", Json::array())) {
    Filter filter;
    filter.name = f.value("Name", "");
    for (const auto& v : f.value("Values", Json::array())) {
      filter.values.push_back(v.get<std::string>());
    }
    filters.filters_.push_back(std::move(filter));
  }
  return filters;
}

std::optional<api::ApiError> Filters::Check(const std::set<std::string>& known) const {
  for (const auto& filter : filters_) {
    if (IsTagFilter(filter.name) && filter.name != "tag:") continue;
    if (!known.count(filter.name)) {
      return api::ApiError::Client("InvalidParameterValue",
                                   "The filter '" + filter.name + "' is invalid");
    }
  }
  return std::nullopt;
}

bool Filters::Matches(const FilterFields& fields, const Json& tags) const {
  for (const auto& filter : filters_) {
    std::vector<std::string> have;
    if (IsTagFilter(filter.name)) {
      have = TagValues(filter.name, tags);
    } else if (auto values = fields(filter.name)) {
      have = std::move(*values);
    }
    bool any = false;
    for (const auto& pattern : filter.values) {
      for (const auto& value : have) {
        if (WildcardMatch(pattern, value)) {
          any = true;
          break;
        }
      }
      if (any) break;
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace understudy::ec2
