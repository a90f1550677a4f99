#include "events/input_transformer.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace understudy::events {
namespace {

bool IsPlaceholderChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool IsJsonTemplate(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[' || c == '"';
  }
  return false;
}

// Calls `fn(name, begin, end, in_string)` for each placeholder `<name>` of `text`.
template <typename Fn>
void ForEachPlaceholder(std::string_view text, Fn fn) {
  bool json = IsJsonTemplate(text);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (json && in_string && c == '\\') {
      ++i;
      continue;
    }
    if (json && c == '"') {
      in_string = !in_string;
      continue;
    }
    if (c != '<') continue;
    size_t j = i + 1;
    while (j < text.size() && IsPlaceholderChar(text[j])) ++j;
    if (j == i + 1 || j >= text.size() || text[j] != '>') continue;
    fn(std::string(text.substr(i + 1, j - i - 1)), i, j + 1, in_string);
    i = j;
  }
}

std::string RawText(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

bool StartsWithAws(const std::string& key) {
  return key.size() >= 3 && std::toupper(static_cast<unsigned char>(key[0])) == 'A' &&
         std::toupper(static_cast<unsigned char>(key[1])) == 'W' &&
         std::toupper(static_cast<unsigned char>(key[2])) == 'S';
}

}  // namespace

bool IsValidInputPath(std::string_view path) {
  if (path.empty() || path[0] != '$') return false;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1) return false;
      i = j;
    } else if (path[i] == '[') {
      size_t j = i + 1;
      while (j < path.size() && std::isdigit(static_cast<unsigned char>(path[j]))) ++j;
      if (j == i + 1 || j >= path.size() || path[j] != ']') return false;
      i = j + 1;
    } else {
      return false;
    }
  }
  return true;
}

std::optional<Json> EvaluateInputPath(const Json& doc, std::string_view path) {
  const Json* at = &doc;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      std::string key(path.substr(i + 1, j - i - 1));
      if (!at->is_object() || !at->contains(key)) return std::nullopt;
      at = &(*at)[key];
      i = j;
    } else {
      size_t j = path.find(']', i);
      size_t index = std::stoul(std::string(path.substr(i + 1, j - i - 1)));
      if (!at->is_array() || index >= at->size()) return std::nullopt;
      at = &(*at)[index];
      i = j + 1;
    }
  }
  return *at;
}

std::vector<std::string> TemplatePlaceholders(std::string_view template_text) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  ForEachPlaceholder(template_text, [&](const std::string& name, size_t, size_t, bool) {
    if (seen.insert(name).second) names.push_back(name);
  });
  return names;
}

std::string RenderTemplate(std::string_view template_text,
                           const std::map<std::string, std::optional<Json>>& values) {
  std::string out;
  size_t copied = 0;
  ForEachPlaceholder(template_text,
                     [&](const std::string& name, size_t begin, size_t end, bool in_string) {
                       auto it = values.find(name);
                       if (it == values.end()) return;
                       out.append(template_text.substr(copied, begin - copied));
                       copied = end;
                       if (!it->second) {
                         if (!in_string && IsJsonTemplate(template_text)) out += "null";
                         return;
                       }
                       const Json& value = *it->second;
                       if (in_string || !IsJsonTemplate(template_text)) {
                         out += RawText(value);
                       } else {
                         out += value.dump();
                       }
                     });
  out.append(template_text.substr(copied));
  return out;
}

std::map<std::string, Json> RulePredefinedValues(const Json& event, const std::string& rule_arn,
                                                 const std::string& rule_name,
                                                 const std::string& ingestion_time) {
  Json without_detail = event;
  if (without_detail.is_object()) without_detail.erase("detail");
  return {{"aws.events.rule-arn", rule_arn},
          {"aws.events.rule-name", rule_name},
          {"aws.events.event.ingestion-time", ingestion_time},
          {"aws.events.event", without_detail},
          {"aws.events.event.json", event}};
}

std::optional<std::string> ValidateTargetInput(const Json& target) {
  std::string id = target.value("Id", "");
  int given = static_cast<int>(target.contains("Input")) +
              static_cast<int>(target.contains("InputPath")) +
              static_cast<int>(target.contains("InputTransformer"));
  if (given > 1) {
    return "Only one of Input, InputPath, or InputTransformer must be provided for target " + id +
           ".";
  }
  if (target.contains("Input")) {
    if (!ParseJson(target["Input"].get<std::string>()).ok()) {
      return "Input for target " + id + " is not a valid JSON text.";
    }
  }
  if (target.contains("InputPath")) {
    if (!IsValidInputPath(target["InputPath"].get<std::string>())) {
      return "InputPath for target " + id + " is not a valid JSON path.";
    }
  }
  if (target.contains("InputTransformer")) {
    const Json& transformer = target["InputTransformer"];
    std::set<std::string> defined;
    const Json paths = transformer.value("InputPathsMap", Json::object());
    for (const auto& [key, path] : paths.items()) {
      bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
      if (!key_ok || StartsWithAws(key)) {
        return "InputPathsMap for target " + id + " contains invalid key " + key + ".";
      }
      if (!path.is_string() || !IsValidInputPath(path.get<std::string>())) {
        return "InputPathsMap for target " + id + " contains invalid path for key " + key + ".";
      }
      defined.insert(key);
    }
    std::string text = transformer.value("InputTemplate", "");
    std::map<std::string, std::optional<Json>> dummy;
    for (const std::string& name : TemplatePlaceholders(text)) {
      if (!defined.count(name) && name.rfind("aws.events.", 0) != 0) {
        return "InputTemplate for target " + id + " contains invalid placeholder " + name + ".";
      }
      if (name.rfind("aws.events.", 0) == 0 &&
          !RulePredefinedValues(Json::object(), "", "", "").count(name)) {
        return "InputTemplate for target " + id + " contains invalid placeholder " + name + ".";
      }
      dummy[name] = std::nullopt;
    }
    if (IsJsonTemplate(text) && !ParseJson(RenderTemplate(text, dummy)).ok()) {
      return "InputTemplate for target " + id + " is not a valid JSON text.";
    }
  }
  return std::nullopt;
}

std::string TargetInputFor(const Json& target, const Json& event,
                           const std::map<std::string, Json>& predefined) {
  if (target.contains("Input")) return target["Input"].get<std::string>();
  if (target.contains("InputPath")) {
    auto value = EvaluateInputPath(event, target["InputPath"].get<std::string>());
    return value ? value->dump() : "null";
  }
  if (target.contains("InputTransformer")) {
    const Json& transformer = target["InputTransformer"];
    std::map<std::string, std::optional<Json>> values;
    for (const auto& [name, value] : predefined) values[name] = value;
    const Json paths = transformer.value("InputPathsMap", Json::object());
    for (const auto& [key, path] : paths.items()) {
      values[key] = EvaluateInputPath(event, path.get<std::string>());
    }
    return RenderTemplate(transformer.value("InputTemplate", ""), values);
  }
  return event.dump();
}

}  // namespace understudy::events
