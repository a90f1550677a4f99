#include "ec2/ec2_internal.h"

#include <charconv>
#include <map>

namespace understudy::ec2 {
namespace {

// EC2's answer for an id that is not even of the right form. The exact text is not
// confirmed against AWS for every kind; it follows the form EC2 uses for groups.
api::ApiError Malformed(const std::string& code, const std::string& id, const std::string& prefix) {
  return Ec2Error(code, "Invalid id: \"" + id + "\" (expecting \"" + prefix + "-...\")");
}

bool HasPrefix(const std::string& id, const std::string& prefix) {
  return id.rfind(prefix + "-", 0) == 0;
}

}  // namespace

api::ApiError VpcNotFound(const std::string& id) {
  if (!HasPrefix(id, "vpc")) return Malformed("InvalidVpcID.Malformed", id, "vpc");
  return Ec2Error("InvalidVpcID.NotFound", "The vpc ID '" + id + "' does not exist");
}

api::ApiError SubnetNotFound(const std::string& id) {
  if (!HasPrefix(id, "subnet")) return Malformed("InvalidSubnetID.Malformed", id, "subnet");
  return Ec2Error("InvalidSubnetID.NotFound", "The subnet ID '" + id + "' does not exist");
}

api::ApiError GroupNotFound(const std::string& id) {
  if (!HasPrefix(id, "sg")) return Malformed("InvalidGroupId.Malformed", id, "sg");
  return Ec2Error("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
}

api::ApiError InvalidCidr(const std::string& text) {
  return InvalidParameterValue("Value (" + text +
                               ") for parameter cidrBlock is invalid. This is not a valid CIDR "
                               "block.");
}

Json View(const Json& doc) {
  Json view = Json::object();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key().rfind('_', 0) == 0) continue;
    if (it.key() == "Tags" && it.value().empty()) continue;
    view[it.key()] = it.value();
  }
  return view;
}

std::vector<std::string> Strings(const Json& input, const char* name) {
  std::vector<std::string> out;
  for (const auto& v : input.value(name, Json::array())) out.push_back(v.get<std::string>());
  return out;
}

std::optional<api::ApiError> Page(const Json& input, std::vector<Json>* items,
                                  std::string* next_token) {
  size_t start = 0;
  if (input.contains("NextToken")) {
    std::string token = input["NextToken"].get<std::string>();
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), start);
    if (ec != std::errc() || end != token.data() + token.size() || start > items->size()) {
      // Not confirmed against AWS, which words it per operation.
      return InvalidParameterValue("Invalid value '" + token + "' for NextToken");
    }
  }
  size_t max = items->size();
  if (input.contains("MaxResults")) {
    int64_t asked = input["MaxResults"].get<int64_t>();
    // The model bounds most MaxResults to 5..1000; DescribeTags' is unbounded there.
    // Not confirmed against AWS word for word.
    if (asked < 1) {
      return InvalidParameterValue("Value (" + std::to_string(asked) +
                                   ") for parameter maxResults is invalid. Expecting a value "
                                   "greater than 0.");
    }
    max = static_cast<size_t>(asked);
  }
  std::vector<Json> page;
  for (size_t i = start; i < items->size() && page.size() < max; ++i) {
    page.push_back(std::move((*items)[i]));
  }
  size_t after = start + page.size();
  next_token->clear();
  if (after < items->size()) *next_token = std::to_string(after);
  *items = std::move(page);
  return std::nullopt;
}

std::optional<api::ApiError> CheckTagKeys(const Json& tags) {
  for (const auto& tag : tags) {
    std::string key = tag.value("Key", "");
    if (key.empty()) return InvalidParameterValue("Tag key must not be empty");  // not confirmed
    if (key.rfind("aws:", 0) == 0) {
      return InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use");
    }
  }
  return std::nullopt;
}

std::optional<api::ApiError> TagsFor(const Json& input, const std::string& type, Json* tags) {
  *tags = Json::array();
  for (const auto& spec : input.value("TagSpecifications", Json::array())) {
    std::string resource_type = spec.value("ResourceType", "");
    if (resource_type != type) {
      // Not confirmed against AWS word for word.
      return InvalidParameterValue("'" + resource_type +
                                   "' is not a valid taggable resource type for this operation.");
    }
    Json added = spec.value("Tags", Json::array());
    if (auto error = CheckTagKeys(added)) return error;
    *tags = MergeTags(*tags, added);
  }
  return std::nullopt;
}

Json MergeTags(const Json& existing, const Json& added) {
  std::map<std::string, std::string> by_key;
  for (const auto& t : existing) by_key[t.value("Key", "")] = t.value("Value", "");
  for (const auto& t : added) by_key[t.value("Key", "")] = t.value("Value", "");
  Json out = Json::array();
  for (const auto& [k, v] : by_key) out.push_back(Json{{"Key", k}, {"Value", v}});
  return out;
}

}  // namespace understudy::ec2
