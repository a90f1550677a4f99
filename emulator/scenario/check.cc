#include "scenario/check.h"

#include <cctype>
#include <regex>

namespace understudy::scenario {
namespace {

std::string Short(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 300) text = text.substr(0, 297) + "...";
  return text;
}

bool Contains(const Json& have, const Json& want) {
  if (have.is_string() && want.is_string()) {
    return have.get<std::string>().find(want.get<std::string>()) != std::string::npos;
  }
  if (have.is_array()) {
    for (const auto& element : have) {
      if (element == want) return true;
      if (element.is_object() && want.is_object() && Contains(element, want)) return true;
    }
    return false;
  }
  if (have.is_object() && want.is_object()) {  // every member of `want`, recursively
    for (auto it = want.begin(); it != want.end(); ++it) {
      auto found = have.find(it.key());
      if (found == have.end()) return false;
      if (*found != it.value() && !(found->is_structured() && Contains(*found, it.value()))) {
        return false;
      }
    }
    return true;
  }
  return false;
}

std::string PathUpTo(const std::vector<PathStep>& path, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (path[i].index) {
      out += "[" + std::to_string(*path[i].index) + "]";
    } else {
      out += (out.empty() ? "" : ".") + path[i].member;
    }
  }
  return out.empty() ? "the answer" : out;
}

// Why Lookup found nothing: the first step that is missing.
std::string WhyMissing(const Json& doc, const std::vector<PathStep>& path) {
  const Json* at = &doc;
  for (size_t i = 0; i < path.size(); ++i) {
    const PathStep& step = path[i];
    std::string parent = PathUpTo(path, i);
    if (step.index) {
      if (!at->is_array()) return parent + " is " + at->type_name() + ", not an array";
      int64_t n = static_cast<int64_t>(at->size());
      int64_t index = *step.index < 0 ? n + *step.index : *step.index;
      if (index < 0 || index >= n) {
        return PathUpTo(path, i + 1) + " is missing (" + parent + " has " + std::to_string(n) +
               " elements)";
      }
      at = &(*at)[static_cast<size_t>(index)];
      continue;
    }
    if (!at->is_object()) return parent + " is " + at->type_name() + ", not an object";
    auto found = at->find(step.member);
    if (found == at->end()) {
      std::string members;
      for (auto it = at->begin(); it != at->end() && members.size() < 200; ++it) {
        members += (members.empty() ? "" : ", ") + it.key();
      }
      return PathUpTo(path, i + 1) + " is missing (" + parent +
             " has: " + (members.empty() ? "no members" : members) + ")";
    }
    at = &*found;
  }
  return "missing";
}

}  // namespace

Result<std::vector<PathStep>> ParsePath(std::string_view path) {
  std::vector<PathStep> out;
  size_t pos = 0;
  auto bad = [&](const std::string& expected) {
    return Status::InvalidArgument("path '" + std::string(path) + "' at character " +
                                   std::to_string(pos + 1) + ": expected " + expected);
  };
  while (pos < path.size()) {
    char c = path[pos];
    if (c == '[') {
      ++pos;
      if (pos < path.size() && path[pos] == '"') {
        size_t end = path.find('"', pos + 1);
        if (end == std::string_view::npos || end + 1 >= path.size() || path[end + 1] != ']') {
          return bad("a quoted member name closed by \"]");
        }
        out.push_back(PathStep{std::string(path.substr(pos + 1, end - pos - 1)), std::nullopt});
        pos = end + 2;
      } else {
        size_t start = pos;
        if (pos < path.size() && path[pos] == '-') ++pos;
        while (pos < path.size() && std::isdigit(static_cast<unsigned char>(path[pos]))) ++pos;
        if (pos == start || (pos == start + 1 && path[start] == '-') || pos >= path.size() ||
            path[pos] != ']') {
          pos = start;
          return bad("an index such as [0] or [-1]");
        }
        out.push_back(PathStep{"", std::stoll(std::string(path.substr(start, pos - start)))});
        ++pos;
      }
    } else {
      if (c == '.') {
        if (out.empty()) return bad("a member name");
        ++pos;
      } else if (!out.empty()) {
        return bad("'.' or '[' between steps");
      }
      size_t start = pos;
      while (pos < path.size() && path[pos] != '.' && path[pos] != '[') ++pos;
      if (pos == start) return bad("a member name");
      out.push_back(PathStep{std::string(path.substr(start, pos - start)), std::nullopt});
    }
  }
  return out;
}

const Json* Lookup(const Json& doc, const std::vector<PathStep>& path) {
  const Json* at = &doc;
  for (const auto& step : path) {
    if (step.index) {
      if (!at->is_array()) return nullptr;
      int64_t i = *step.index < 0 ? static_cast<int64_t>(at->size()) + *step.index : *step.index;
      if (i < 0 || i >= static_cast<int64_t>(at->size())) return nullptr;
      at = &(*at)[static_cast<size_t>(i)];
    } else {
      if (!at->is_object()) return nullptr;
      auto found = at->find(step.member);
      if (found == at->end()) return nullptr;
      at = &*found;
    }
  }
  return at;
}

const char* MatcherName(MatcherKind kind) {
  switch (kind) {
    case MatcherKind::kEquals:
      return "equals";
    case MatcherKind::kContains:
      return "contains";
    case MatcherKind::kMatches:
      return "matches";
    case MatcherKind::kExists:
      return "exists";
    case MatcherKind::kGte:
      return "gte";
    case MatcherKind::kLte:
      return "lte";
  }
  return "?";
}

std::optional<MatcherKind> MatcherFromName(std::string_view name) {
  for (MatcherKind kind : {MatcherKind::kEquals, MatcherKind::kContains, MatcherKind::kMatches,
                           MatcherKind::kExists, MatcherKind::kGte, MatcherKind::kLte}) {
    if (name == MatcherName(kind)) return kind;
  }
  return std::nullopt;
}

Status ValidateMatcher(const Matcher& matcher) {
  switch (matcher.kind) {
    case MatcherKind::kMatches:
      if (!matcher.value.is_string()) {
        return Status::InvalidArgument(std::string("a regular expression string, found ") +
                                       matcher.value.type_name());
      }
      try {
        std::regex re(matcher.value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Status::InvalidArgument("a valid regular expression, found '" +
                                       matcher.value.get<std::string>() + "' (" + e.what() + ")");
      }
      return Status::Ok();
    case MatcherKind::kExists:
      if (!matcher.value.is_boolean()) {
        return Status::InvalidArgument(std::string("true or false, found ") +
                                       matcher.value.type_name());
      }
      return Status::Ok();
    case MatcherKind::kGte:
    case MatcherKind::kLte:
      if (!matcher.value.is_number()) {
        return Status::InvalidArgument(std::string("a number, found ") + matcher.value.type_name());
      }
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

CheckOutcome Evaluate(const Check& check, const Json& doc) {
  const Json* value = Lookup(doc, check.path);
  std::string where = check.path_text.empty() ? "the answer" : check.path_text;
  for (const auto& m : check.matchers) {
    if (m.kind == MatcherKind::kExists) {
      bool want = m.value.get<bool>();
      if ((value != nullptr) != want) {
        return {false, value ? where + " exists: " + Short(*value) : WhyMissing(doc, check.path)};
      }
      continue;
    }
    if (value == nullptr) return {false, WhyMissing(doc, check.path)};
    bool ok = false;
    switch (m.kind) {
      case MatcherKind::kEquals:
        ok = *value == m.value;
        break;
      case MatcherKind::kContains:
        ok = Contains(*value, m.value);
        break;
      case MatcherKind::kMatches:
        ok = value->is_string() &&
             std::regex_search(value->get<std::string>(), std::regex(m.value.get<std::string>()));
        break;
      case MatcherKind::kGte:
        ok = value->is_number() && value->get<double>() >= m.value.get<double>();
        break;
      case MatcherKind::kLte:
        ok = value->is_number() && value->get<double>() <= m.value.get<double>();
        break;
      case MatcherKind::kExists:
        break;
    }
    if (!ok) return {false, "got " + Short(*value)};
  }
  return {true, value ? "got " + Short(*value) : where + " is absent"};
}

std::string Describe(const Check& check) {
  std::string out = check.path_text.empty() ? "the answer" : check.path_text;
  for (size_t i = 0; i < check.matchers.size(); ++i) {
    out += (i == 0 ? " " : " and ") + std::string(MatcherName(check.matchers[i].kind)) + " " +
           Short(check.matchers[i].value);
  }
  return out;
}

}  // namespace understudy::scenario
