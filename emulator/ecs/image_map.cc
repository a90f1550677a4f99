#include "ecs/image_map.h"

#include "core/glob.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace understudy::ecs {
namespace {

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + std::string(what) + " file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Status Bad(const std::string& source, const std::string& path, const std::string& what) {
  return Status::InvalidArgument(source + ": " + path + ": " + what);
}

Result<std::vector<std::string>> StringList(const std::string& source, const std::string& path,
                                            const Json& value) {
  if (!value.is_array()) {
    return Bad(source, path, std::string("expected a list of strings, found ") + value.type_name());
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      return Bad(source, path + "[" + std::to_string(i) + "]",
                 std::string("expected a string, found ") + value[i].type_name());
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

}  // namespace

Result<ImageMap> ImageMap::Parse(const std::string& source, std::string_view text) {
  auto doc = ParseJsonWithComments(text);
  if (!doc.ok()) return Status::InvalidArgument(source + ": " + doc.status().message());
  if (!doc->is_object() || !doc->contains("images") || !(*doc)["images"].is_object()) {
    return Bad(source, "$", "expected {\"images\": {\"<image pattern>\": {...}}}");
  }
  ImageMap map;
  // nlohmann keeps object keys sorted; file order is recovered from the raw text.
  std::vector<std::pair<size_t, std::string>> ordered;
  for (auto it = (*doc)["images"].begin(); it != (*doc)["images"].end(); ++it) {
    size_t at = text.find("\"" + it.key() + "\"");
    ordered.emplace_back(at == std::string_view::npos ? text.size() : at, it.key());
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [at, pattern] : ordered) {
    const Json& entry = (*doc)["images"][pattern];
    std::string path = "$.images[\"" + pattern + "\"]";
    if (!entry.is_object())
      return Bad(source, path, std::string("expected an object, found ") + entry.type_name());
    ImageConfig config;
    for (auto field = entry.begin(); field != entry.end(); ++field) {
      const std::string& key = field.key();
      if (key == "entryPoint") {
        US_ASSIGN_OR_RETURN(config.entry_point,
                            StringList(source, path + ".entryPoint", field.value()));
      } else if (key == "command") {
        US_ASSIGN_OR_RETURN(config.command, StringList(source, path + ".command", field.value()));
      } else if (key == "workingDirectory") {
        if (!field->is_string())
          return Bad(source, path + ".workingDirectory", "expected a string");
        config.working_directory = field->get<std::string>();
      } else if (key == "environment") {
        if (!field->is_object())
          return Bad(source, path + ".environment", "expected an object of strings");
        for (auto e = field->begin(); e != field->end(); ++e) {
          if (!e->is_string())
            return Bad(source, path + ".environment." + e.key(), "expected a string");
          config.environment.emplace_back(e.key(), e->get<std::string>());
        }
      } else {
        return Bad(source, path + "." + key,
                   "unknown field; expected entryPoint, command, workingDirectory or environment");
      }
    }
    map.images_.emplace_back(pattern, std::move(config));
  }
  return map;
}

Result<ImageMap> ImageMap::Load(const std::string& path) {
  US_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "--images"));
  US_ASSIGN_OR_RETURN(ImageMap map, Parse(path, text));
  // A relative workingDirectory is relative to the file, so a mapping kept next to
  // the app it runs works from any directory.
  std::error_code error;
  std::filesystem::path base =
      std::filesystem::absolute(std::filesystem::path(path), error).parent_path();
  for (auto& [pattern, config] : map.images_) {
    if (!config.working_directory.empty() && config.working_directory.front() != '/') {
      config.working_directory = (base / config.working_directory).lexically_normal().string();
    }
  }
  return map;
}

std::optional<ImageConfig> ImageMap::Find(const std::string& image) const {
  for (const auto& [pattern, config] : images_) {
    if (GlobMatch(pattern, image)) return config;
  }
  return std::nullopt;
}

std::vector<std::string> ContainerArgv(const std::vector<std::string>& entry_point,
                                       const std::vector<std::string>& command,
                                       const std::optional<ImageConfig>& image) {
  std::vector<std::string> argv;
  if (!entry_point.empty()) {
    argv = entry_point;
  } else if (image) {
    argv = image->entry_point;
  }
  if (!command.empty()) {
    argv.insert(argv.end(), command.begin(), command.end());
  } else if (entry_point.empty() && image) {
    argv.insert(argv.end(), image->command.begin(), image->command.end());
  }
  return argv;
}

Result<SecretStore> SecretStore::Parse(const std::string& source, std::string_view text) {
  auto doc = ParseJsonWithComments(text);
  if (!doc.ok()) return Status::InvalidArgument(source + ": " + doc.status().message());
  if (!doc->is_object())
    return Bad(source, "$", "expected an object mapping valueFrom to the secret's value");
  SecretStore store;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    if (!it->is_string()) return Bad(source, "$[\"" + it.key() + "\"]", "expected a string");
    store.values_[it.key()] = it->get<std::string>();
  }
  return store;
}

Result<SecretStore> SecretStore::Load(const std::string& path) {
  US_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "--secrets"));
  return Parse(path, text);
}

std::optional<std::string> SecretStore::Find(const std::string& value_from) const {
  auto it = values_.find(value_from);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadEnvironmentFile(
    const std::string& path) {
  US_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "environment"));
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == start) {
      return Status::InvalidArgument(path + ":" + std::to_string(number) +
                                     ": expected VARIABLE=VALUE, found '" + line + "'");
    }
    out.emplace_back(line.substr(start, eq - start), line.substr(eq + 1));
  }
  return out;
}

}  // namespace understudy::ecs
