// ImageMap: what a container image would supply when its containers run as host
// processes — entry point, default command, working directory, environment —
// read from the --images file. Also the local stand-ins for secrets (--secrets).
// Internal to ecs/. Immutable after loading; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace understudy::ecs {

struct ImageConfig {
  std::vector<std::string> entry_point;  // the image's ENTRYPOINT
  std::vector<std::string> command;      // the image's CMD
  std::string working_directory;
  std::vector<std::pair<std::string, std::string>> environment;
};

class ImageMap {
 public:
  // Parses the mapping document:
  //   {"images": {"myorg/web:*": {"entryPoint": ["python3", "app.py"], "command": [...],
  //                               "workingDirectory": "...", "environment": {"K": "V"}}}}
  // Patterns use `*` (any run of characters); the first pattern in file order that
  // matches wins. InvalidArgument names `source`, the JSON path and what was expected.
  static Result<ImageMap> Parse(const std::string& source, std::string_view text);
  static Result<ImageMap> Load(const std::string& path);

  // The configuration for `image`, if a pattern matches it.
  std::optional<ImageConfig> Find(const std::string& image) const;
  bool empty() const { return images_.empty(); }

 private:
  std::vector<std::pair<std::string, ImageConfig>> images_;
};

// The argv a container runs, by Docker's rules: the container's entryPoint
// replaces the image's (and then the image's command is dropped), the
// container's command replaces the image's.
std::vector<std::string> ContainerArgv(const std::vector<std::string>& entry_point,
                                       const std::vector<std::string>& command,
                                       const std::optional<ImageConfig>& image);

// Secrets resolved locally: a JSON object mapping a secret's valueFrom (ARN or
// name) to its value, from the --secrets file.
class SecretStore {
 public:
  static Result<SecretStore> Load(const std::string& path);
  static Result<SecretStore> Parse(const std::string& source, std::string_view text);
  std::optional<std::string> Find(const std::string& value_from) const;

 private:
  std::map<std::string, std::string> values_;
};

// Reads an environment file (KEY=VALUE lines; blank lines and # comments
// skipped). IoError names the file; InvalidArgument names the line.
Result<std::vector<std::pair<std::string, std::string>>> ReadEnvironmentFile(
    const std::string& path);

}  // namespace understudy::ecs
