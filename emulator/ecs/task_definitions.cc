#include "ecs/task_definitions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "api/shape_values.h"
#include "ecs/ecs_internal.h"

namespace understudy::ecs {
namespace {

using api::ApiError;
using api::ApiResult;

ApiError ClientError(std::string message) {
  return ApiError::Client("ClientException", std::move(message));
}

bool IsValidName(const std::string& name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "1 vCPU" -> 1024; "512" -> 512. "2 GB" -> 2048; "2048" -> 2048.
double ParseAmount(const std::string& text, const std::string& unit, double scale) {
  std::string lower = Lower(text);
  size_t pos = lower.find(unit);
  std::string number = pos == std::string::npos ? lower : lower.substr(0, pos);
  if (pos != std::string::npos &&
      lower.find_first_not_of(' ', pos + unit.size()) != std::string::npos) {
    return -1;
  }
  while (!number.empty() && number.back() == ' ') number.pop_back();
  if (number.empty()) return -1;
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || value < 0) return -1;
  return pos == std::string::npos ? value : value * scale;
}

// Sort key that orders revisions numerically inside a family.
std::string OrderKey(const std::string& family, int64_t revision) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(revision));
  return family + ":" + buf;
}

// Checks and completes one container definition; returns an error naming the container.
std::optional<ApiError> CheckContainer(Json& c, bool task_memory) {
  std::string name = c.value("name", "");
  if (name.empty()) return ClientError("Container.name should not be null or empty.");
  if (!IsValidName(name, 255)) {
    return ClientError(
        "Container name can only contain up to 255 letters (uppercase and "
        "lowercase), numbers, underscores, and hyphens.");
  }
  if (c.value("image", "").empty())
    return ClientError("Container.image should not be null or empty.");
  if (!task_memory && !c.contains("memory") && !c.contains("memoryReservation")) {
    return ClientError("Invalid setting for container '" + name +
                       "'. At least one of 'memory' or 'memoryReservation' must be specified.");
  }
  if (c.contains("memory") && c.contains("memoryReservation") &&
      c["memoryReservation"].get<int64_t>() > c["memory"].get<int64_t>()) {
    return ClientError("Invalid setting for container '" + name +
                       "'. The memoryReservation must be less than or equal to the memory.");
  }
  if (c.contains("stopTimeout") &&
      (c["stopTimeout"].get<int64_t>() < 0 || c["stopTimeout"].get<int64_t>() > 120)) {
    return ClientError("Invalid setting for container '" + name +
                       "'. stopTimeout must be between 0 and 120 seconds.");
  }
  if (c.contains("healthCheck")) {
    const Json& hc = c["healthCheck"];
    auto range = [&](const char* field, int64_t lo, int64_t hi) -> std::optional<ApiError> {
      if (!hc.contains(field)) return std::nullopt;
      int64_t v = hc[field].get<int64_t>();
      if (v < lo || v > hi) {
        return ClientError("Invalid setting for container '" + name + "'. healthCheck." + field +
                           " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                           ".");
      }
      return std::nullopt;
    };
    for (auto check : {range("interval", 5, 300), range("timeout", 2, 60), range("retries", 1, 10),
                       range("startPeriod", 0, 300)}) {
      if (check) return check;
    }
    if (!hc.contains("command") || hc["command"].empty()) {
      return ClientError("Invalid setting for container '" + name +
                         "'. healthCheck.command must not be empty.");
    }
  }
  // ECS's defaults, as DescribeTaskDefinition shows them.
  if (!c.contains("essential")) c["essential"] = true;
  if (!c.contains("cpu")) c["cpu"] = 0;
  for (const char* list : {"portMappings", "environment", "mountPoints", "volumesFrom"}) {
    if (!c.contains(list)) c[list] = Json::array();
  }
  return std::nullopt;
}

}  // namespace

bool IsFargateSize(int64_t cpu, int64_t memory) {
  auto range = [&](int64_t lo, int64_t hi, int64_t step) {
    return memory >= lo && memory <= hi && (memory - lo) % step == 0;
  };
  switch (cpu) {
    case 256:
      return memory == 512 || memory == 1024 || memory == 2048;
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return false;
  }
}

int64_t ParseCpuUnits(const std::string& text) {
  double v = ParseAmount(text, "vcpu", 1024);
  return v < 0 || std::floor(v) != v ? -1 : static_cast<int64_t>(v);
}

int64_t ParseMemoryMib(const std::string& text) {
  double v = ParseAmount(text, "gb", 1024);
  return v < 0 || std::floor(v) != v ? -1 : static_cast<int64_t>(v);
}

TaskDefinitions::TaskDefinitions(Store& store, Journal& journal, Clock& clock)
    : store_(store), journal_(journal), clock_(clock) {}

Status TaskDefinitions::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "ecs_task_definitions",
      {"CREATE TABLE ecs_task_definitions (account TEXT NOT NULL, region TEXT NOT NULL, family "
       "TEXT NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL, tags TEXT NOT NULL, PRIMARY "
       "KEY (account, region, family, revision))"}));
  Status status = Status::Ok();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT account, region, family, revision, doc, tags FROM ecs_task_definitions", {},
      [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(4));
        auto tags = ParseJson(row.Text(5));
        if (!doc.ok() || !tags.ok()) {
          status = Status::IoError("ecs_task_definitions row " + row.Text(2) + " is not JSON");
          return;
        }
        Key key{row.Text(0), row.Text(1), row.Text(2), row.Int(3)};
        revisions_[key] = std::move(doc).value();
        tags_[key] = std::move(tags).value();
      }));
  return status;
}

Status TaskDefinitions::Reset() {
  revisions_.clear();
  tags_.clear();
  return store_.Run("DELETE FROM ecs_task_definitions");
}

Json TaskDefinitions::TagsOf(const Scope& scope, const std::string& ref) const {
  const Json* def = Resolve(scope, ref);
  if (def == nullptr) return Json::array();
  Key key{scope.account, scope.region, (*def)["family"].get<std::string>(),
          (*def)["revision"].get<int64_t>()};
  auto it = tags_.find(key);
  return it == tags_.end() ? Json::array() : it->second;
}

Status TaskDefinitions::Save(const Scope& scope, const Json& definition) {
  std::string family = definition["family"].get<std::string>();
  int64_t revision = definition["revision"].get<int64_t>();
  Key key{scope.account, scope.region, family, revision};
  Json tags = tags_.count(key) ? tags_[key] : Json::array();
  return store_.Run(
      "INSERT INTO ecs_task_definitions(account, region, family, revision, doc, tags) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account, region, family, revision) "
      "DO UPDATE SET doc = excluded.doc, tags = excluded.tags",
      {scope.account, scope.region, family, revision, definition.dump(), tags.dump()});
}

const Json* TaskDefinitions::Resolve(const Scope& scope, const std::string& ref) const {
  std::string family = ref;
  int64_t revision = 0;
  if (ref.rfind("arn:", 0) == 0) {
    auto arn = Arn::Parse(ref);
    if (!arn || arn->service != "ecs" || arn->account != scope.account ||
        arn->region != scope.region || arn->resource.rfind("task-definition/", 0) != 0) {
      return nullptr;
    }
    family = arn->resource.substr(16);
    if (family.find(':') == std::string::npos) return nullptr;  // an ARN names a revision
  }
  if (size_t colon = family.find(':'); colon != std::string::npos) {
    std::string number = family.substr(colon + 1);
    family = family.substr(0, colon);
    if (number.empty() || number.size() > 9 ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return nullptr;
    }
    revision = std::stoll(number);
    auto it = revisions_.find(Key{scope.account, scope.region, family, revision});
    if (it == revisions_.end() || it->second["status"] == "DELETE_IN_PROGRESS") return nullptr;
    return &it->second;
  }
  const Json* latest = nullptr;
  auto it = revisions_.lower_bound(Key{scope.account, scope.region, family, 0});
  for (; it != revisions_.end() && std::get<0>(it->first) == scope.account &&
         std::get<1>(it->first) == scope.region && std::get<2>(it->first) == family;
       ++it) {
    if (it->second["status"] == "ACTIVE") latest = &it->second;
  }
  return latest;
}

ApiResult TaskDefinitions::Register(const Scope& scope, const Json& input) {
  std::string family = input["family"].get<std::string>();
  if (!IsValidName(family, 255)) {
    return ClientError(
        "Family contains invalid characters or is too long. Up to 255 letters "
        "(uppercase and lowercase), numbers, hyphens, and underscores are allowed.");
  }
  Json containers = input["containerDefinitions"];
  if (containers.empty()) return ClientError("Container list cannot be empty.");
  if (containers.size() > 10)
    return ClientError("Too many containers. A task definition can have at most 10 containers.");
  Json compat = input.value("requiresCompatibilities", Json::array());
  bool fargate = std::find(compat.begin(), compat.end(), "FARGATE") != compat.end();
  std::string network_mode = input.value("networkMode", fargate ? "" : "bridge");
  if (fargate && network_mode != "awsvpc") {
    return ClientError("Fargate only supports network mode 'awsvpc'.");
  }
  int64_t cpu = -1, memory = -1;
  if (input.contains("cpu")) {
    cpu = ParseCpuUnits(input["cpu"].get<std::string>());
    if (cpu < 0)
      return ClientError("Invalid 'cpu' setting for task: '" + input["cpu"].get<std::string>() +
                         "'.");
  }
  if (input.contains("memory")) {
    memory = ParseMemoryMib(input["memory"].get<std::string>());
    if (memory < 0) {
      return ClientError("Invalid 'memory' setting for task: '" +
                         input["memory"].get<std::string>() + "'.");
    }
  }
  if (fargate) {
    if (cpu < 0) return ClientError("Fargate requires task definition to have a cpu value.");
    if (memory < 0) return ClientError("Fargate requires task definition to have a memory value.");
    if (!IsFargateSize(cpu, memory)) {
      return ClientError("No Fargate configuration exists for given values: " +
                         std::to_string(cpu) + " CPU, " + std::to_string(memory) +
                         " memory. See the Amazon ECS documentation for the valid values.");
    }
  }
  std::set<std::string> names;
  std::map<std::string, bool> essential;
  for (auto& c : containers) {
    if (auto error = CheckContainer(c, memory > 0)) return *error;
    std::string name = c["name"].get<std::string>();
    if (!names.insert(name).second) {
      return ClientError("Container names must be unique within a task definition: '" + name +
                         "' appears more than once.");
    }
    essential[name] = c["essential"].get<bool>();
    if (network_mode == "awsvpc" || network_mode == "host") {
      for (auto& port : c["portMappings"]) {
        if (!port.contains("containerPort")) continue;
        if (port.contains("hostPort") && port["hostPort"] != port["containerPort"]) {
          return ClientError("When networkMode=" + network_mode +
                             ", the host ports and container ports in port mappings must match.");
        }
        port["hostPort"] = port["containerPort"];
      }
    }
    for (auto& port : c["portMappings"]) {
      if (!port.contains("protocol")) port["protocol"] = "tcp";
    }
  }
  if (std::none_of(essential.begin(), essential.end(), [](const auto& e) { return e.second; })) {
    return ClientError("A task definition must have at least one essential container.");
  }
  for (const auto& c : containers) {
    for (const auto& dep : c.value("dependsOn", Json::array())) {
      std::string target = dep.value("containerName", "");
      std::string condition = dep.value("condition", "");
      if (!essential.count(target)) {
        return ClientError("Container '" + c["name"].get<std::string>() +
                           "' depends on container '" + target +
                           "', which is not defined in the task definition.");
      }
      if ((condition == "SUCCESS" || condition == "COMPLETE") && essential[target]) {
        return ClientError(
            "A dependency container with SUCCESS or COMPLETE condition cannot be an "
            "essential container");
      }
      if (condition == "HEALTHY") {
        for (const auto& other : containers) {
          if (other["name"] == target && !other.contains("healthCheck")) {
            return ClientError("Container '" + target + "' has no healthCheck, so container '" +
                               c["name"].get<std::string>() +
                               "' cannot depend on it being HEALTHY.");
          }
        }
      }
    }
  }
  Json tags = input.value("tags", Json::array());
  for (const auto& tag : tags) {
    if (tag.value("key", "").rfind("aws:", 0) == 0) {
      return InvalidParameter("Tag keys beginning with 'aws:' are reserved for use by AWS.");
    }
  }

  int64_t revision = 1;
  auto it = revisions_.lower_bound(Key{scope.account, scope.region, family, 0});
  for (; it != revisions_.end() && std::get<0>(it->first) == scope.account &&
         std::get<1>(it->first) == scope.region && std::get<2>(it->first) == family;
       ++it) {
    revision = std::get<3>(it->first) + 1;
  }
  Json def = Json::object();
  for (const char* field :
       {"taskRoleArn", "executionRoleArn", "pidMode", "ipcMode", "proxyConfiguration",
        "inferenceAccelerators", "ephemeralStorage", "runtimePlatform", "enableFaultInjection"}) {
    if (input.contains(field)) def[field] = input[field];
  }
  def["taskDefinitionArn"] =
      MakeArn("ecs", scope, "task-definition/" + family + ":" + std::to_string(revision));
  def["family"] = family;
  def["revision"] = revision;
  def["containerDefinitions"] = containers;
  def["volumes"] = input.value("volumes", Json::array());
  def["placementConstraints"] = input.value("placementConstraints", Json::array());
  def["status"] = "ACTIVE";
  def["requiresAttributes"] = Json::array();
  def["compatibilities"] =
      network_mode == "awsvpc" ? Json::array({"EC2", "FARGATE"}) : Json::array({"EC2"});
  def["requiresCompatibilities"] = compat;
  if (!network_mode.empty()) def["networkMode"] = network_mode;
  if (input.contains("cpu")) def["cpu"] = std::to_string(cpu);
  if (input.contains("memory")) def["memory"] = std::to_string(memory);
  def["registeredAt"] = ToEpochSeconds(clock_.Now());
  def["registeredBy"] = "arn:aws:iam::" + scope.account + ":root";

  Key key{scope.account, scope.region, family, revision};
  tags_[key] = tags;
  Status saved = Save(scope, def);
  if (!saved.ok()) {
    tags_.erase(key);
    return ApiError::Server("ServerException", saved.message());
  }
  revisions_[key] = def;
  journal_.Transition(def["taskDefinitionArn"].get<std::string>(), Json{{"status", "ACTIVE"}});
  Json out{{"taskDefinition", def}};
  if (!tags.empty()) out["tags"] = tags;
  return out;
}

ApiResult TaskDefinitions::Describe(const Scope& scope, const Json& input) {
  const Json* def = Resolve(scope, input["taskDefinition"].get<std::string>());
  if (def == nullptr) return ClientError("Unable to describe task definition.");
  Json out{{"taskDefinition", *def}};
  Json include = input.value("include", Json::array());
  if (std::find(include.begin(), include.end(), "TAGS") != include.end()) {
    Key key{scope.account, scope.region, (*def)["family"].get<std::string>(),
            (*def)["revision"].get<int64_t>()};
    out["tags"] = tags_.count(key) ? tags_.at(key) : Json::array();
  }
  return out;
}

ApiResult TaskDefinitions::List(const Scope& scope, const Json& input) {
  std::string prefix = input.value("familyPrefix", "");
  std::string status = input.value("status", "ACTIVE");
  bool desc = input.value("sort", "ASC") == "DESC";
  int64_t max = input.value("maxResults", int64_t{100});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::vector<std::pair<std::string, std::string>> rows;  // order key, arn
  for (const auto& [key, def] : revisions_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    const std::string& family = std::get<2>(key);
    if (!prefix.empty() && family != prefix)
      continue;  // AWS: familyPrefix matches the whole family
    if (def["status"] != status) continue;
    rows.emplace_back(OrderKey(family, std::get<3>(key)),
                      def["taskDefinitionArn"].get<std::string>());
  }
  std::sort(rows.begin(), rows.end());
  if (desc) std::reverse(rows.begin(), rows.end());
  size_t start = 0;
  if (input.contains("nextToken")) {
    auto after = DecodePageToken(input["nextToken"].get<std::string>());
    if (!after) return InvalidParameter("Invalid nextToken.");
    while (start < rows.size() &&
           (desc ? rows[start].first >= *after : rows[start].first <= *after))
      ++start;
  }
  Json arns = Json::array();
  for (size_t i = start; i < rows.size(); ++i) {
    if (static_cast<int64_t>(arns.size()) == max) {
      return Json{{"taskDefinitionArns", arns}, {"nextToken", EncodePageToken(rows[i - 1].first)}};
    }
    arns.push_back(rows[i].second);
  }
  return Json{{"taskDefinitionArns", arns}};
}

ApiResult TaskDefinitions::ListFamilies(const Scope& scope, const Json& input) {
  std::string prefix = input.value("familyPrefix", "");
  std::string status = input.value("status", "ACTIVE");
  int64_t max = input.value("maxResults", int64_t{100});
  if (max < 1 || max > 100) return InvalidParameter("maxResults must be between 1 and 100.");
  std::map<std::string, bool> active;  // family -> has an ACTIVE revision
  for (const auto& [key, def] : revisions_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    const std::string& family = std::get<2>(key);
    if (family.rfind(prefix, 0) != 0) continue;
    active[family] = active[family] || def["status"] == "ACTIVE";
  }
  std::string after;
  if (input.contains("nextToken")) {
    auto token = DecodePageToken(input["nextToken"].get<std::string>());
    if (!token) return InvalidParameter("Invalid nextToken.");
    after = *token;
  }
  Json families = Json::array();
  std::string last;
  for (const auto& [family, is_active] : active) {
    if (!after.empty() && family <= after) continue;
    if (status == "ACTIVE" && !is_active) continue;
    if (status == "INACTIVE" && is_active) continue;
    if (static_cast<int64_t>(families.size()) == max) {
      return Json{{"families", families}, {"nextToken", EncodePageToken(last)}};
    }
    families.push_back(family);
    last = family;
  }
  return Json{{"families", families}};
}

ApiResult TaskDefinitions::Deregister(const Scope& scope, const Json& input) {
  std::string ref = input["taskDefinition"].get<std::string>();
  bool has_revision = ref.find(':') != std::string::npos &&
                      (ref.rfind("arn:", 0) != 0 ||
                       ref.find(':', ref.find("task-definition/")) != std::string::npos);
  if (!has_revision) {
    return ClientError("Invalid revision number. Number: " + ref.substr(ref.find(':') + 1));
  }
  const Json* found = Resolve(scope, ref);
  if (found == nullptr) return ClientError("The specified task definition does not exist.");
  Json def = *found;
  if (def["status"] == "ACTIVE") {
    def["status"] = "INACTIVE";
    def["deregisteredAt"] = ToEpochSeconds(clock_.Now());
    US_RETURN_IF_ERROR_API(Save(scope, def));
    revisions_[Key{scope.account, scope.region, def["family"].get<std::string>(),
                   def["revision"].get<int64_t>()}] = def;
    journal_.Transition(def["taskDefinitionArn"].get<std::string>(), Json{{"status", "INACTIVE"}});
  }
  return Json{{"taskDefinition", def}};
}

ApiResult TaskDefinitions::Delete(const Scope& scope, const Json& input) {
  const Json& refs = input["taskDefinitions"];
  if (refs.size() > 10)
    return ClientError("You can specify up to 10 task definitions in a single request.");
  Json deleted = Json::array();
  Json failures = Json::array();
  for (const auto& r : refs) {
    std::string ref = r.get<std::string>();
    const Json* found = ref.find(':') == std::string::npos ? nullptr : Resolve(scope, ref);
    std::string arn =
        ref.rfind("arn:", 0) == 0 ? ref : MakeArn("ecs", scope, "task-definition/" + ref);
    if (found == nullptr) {
      failures.push_back(
          Json{{"arn", arn}, {"reason", "The specified task definition does not exist."}});
      continue;
    }
    if ((*found)["status"] != "INACTIVE") {
      failures.push_back(Json{{"arn", (*found)["taskDefinitionArn"]},
                              {"reason",
                               "The specified task definition is still in ACTIVE status. "
                               "Please deregister the target and try again."}});
      continue;
    }
    Json def = *found;
    def["status"] = "DELETE_IN_PROGRESS";
    def["deleteRequestedAt"] = ToEpochSeconds(clock_.Now());
    US_RETURN_IF_ERROR_API(Save(scope, def));
    revisions_[Key{scope.account, scope.region, def["family"].get<std::string>(),
                   def["revision"].get<int64_t>()}] = def;
    journal_.Transition(def["taskDefinitionArn"].get<std::string>(),
                        Json{{"status", "DELETE_IN_PROGRESS"}});
    deleted.push_back(def);
  }
  return Json{{"taskDefinitions", deleted}, {"failures", failures}};
}

}  // namespace understudy::ecs
