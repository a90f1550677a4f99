#include "ec2/tags.h"

#include <map>
#include <set>

#include "ec2/ec2_internal.h"
#include "ec2/filters.h"

namespace understudy::ec2 {
namespace {

const std::set<std::string> kTagFilters = {"key", "value", "resource-id", "resource-type"};

// A tag's resource type as DescribeTags names it, from the id's prefix.
std::string ResourceTypeOf(const std::string& id) {
  if (id.rfind("vpc-", 0) == 0) return "vpc";
  if (id.rfind("subnet-", 0) == 0) return "subnet";
  if (id.rfind("sgr-", 0) == 0) return "security-group-rule";
  if (id.rfind("sg-", 0) == 0) return "security-group";
  return "";
}

api::ApiError NotFound(const std::string& id) {
  std::string type = ResourceTypeOf(id);
  if (type == "vpc") return VpcNotFound(id);
  if (type == "subnet") return SubnetNotFound(id);
  if (type == "security-group") return GroupNotFound(id);
  if (type == "security-group-rule") {
    // Not confirmed against AWS word for word.
    return Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                    "The security group rule ID '" + id + "' does not exist");
  }
  return Ec2Error("InvalidID", "The ID '" + id + "' is not valid");
}

}  // namespace

Tags::Tags(ResourceStore& resources, Journal& journal) : resources_(resources), journal_(journal) {}

api::ApiResult Tags::Edit(const Scope& scope, const Json& input,
                          const std::function<Json(const Json& tags)>& edit) {
  // The documents to rewrite, by owning resource id (a rule lives in its group).
  std::map<std::string, std::pair<Kind, Json>> updated;
  std::vector<std::string> order;
  for (const auto& id : Strings(input, "Resources")) {
    Kind kind;
    if (ResourceTypeOf(id) == "security-group-rule") {
      bool found = false;
      for (const Json* group : resources_.List(scope, Kind::kSecurityGroup)) {
        std::string group_id = (*group)["GroupId"];
        for (size_t i = 0; i < (*group)["_rules"].size() && !found; ++i) {
          if ((*group)["_rules"][i]["SecurityGroupRuleId"] != id) continue;
          if (!updated.count(group_id)) {
            updated[group_id] = {Kind::kSecurityGroup, *group};
            order.push_back(group_id);
          }
          Json& rule = updated[group_id].second["_rules"][i];
          rule["Tags"] = edit(rule["Tags"]);
          found = true;
        }
      }
      if (!found) return NotFound(id);
      continue;
    }
    const Json* doc = ResourceTypeOf(id).empty() ? nullptr : resources_.FindAny(scope, id, &kind);
    if (doc == nullptr) return NotFound(id);
    if (!updated.count(id)) {
      updated[id] = {kind, *doc};
      order.push_back(id);
    }
    Json& target = updated[id].second;
    target["Tags"] = edit(target.value("Tags", Json::array()));
  }
  std::vector<Change> changes;
  for (const auto& id : order) changes.push_back(Change{updated[id].first, id, updated[id].second});
  US_RETURN_IF_ERROR_API(resources_.Commit(scope, changes));
  for (const auto& id : order) journal_.Transition(id, Json{{"tagsChanged", true}});
  return Json::object();
}

api::ApiResult Tags::Create(const Scope& scope, const Json& input) {
  Json added = input["Tags"];
  if (auto error = CheckTagKeys(added)) return *error;
  return Edit(scope, input, [&](const Json& tags) {
    Json merged = MergeTags(tags, added);
    return merged;
  });
}

api::ApiResult Tags::Delete(const Scope& scope, const Json& input) {
  bool all = !input.contains("Tags");
  Json removed = input.value("Tags", Json::array());
  return Edit(scope, input, [&](const Json& tags) {
    Json kept = Json::array();
    if (all) return kept;
    for (const auto& tag : tags) {
      bool drop = false;
      for (const auto& r : removed) {
        if (r.value("Key", "") != tag["Key"]) continue;
        if (!r.contains("Value") || r["Value"] == tag["Value"]) drop = true;
      }
      if (!drop) kept.push_back(tag);
    }
    return kept;
  });
}

api::ApiResult Tags::Describe(const Scope& scope, const Json& input) {
  Filters filters = Filters::From(input);
  if (auto error = filters.Check(kTagFilters)) return *error;
  std::vector<Json> items;
  auto add = [&](const std::string& id, const Json& tags) {
    std::string type = ResourceTypeOf(id);
    for (const auto& tag : tags) {
      auto fields = [&](const std::string& name) -> std::optional<std::vector<std::string>> {
        if (name == "key") return std::vector<std::string>{tag["Key"]};
        if (name == "value") return std::vector<std::string>{tag["Value"]};
        if (name == "resource-id") return std::vector<std::string>{id};
        if (name == "resource-type") return std::vector<std::string>{type};
        return std::nullopt;
      };
      if (!filters.Matches(fields, tags)) continue;
      items.push_back(Json{{"ResourceId", id},
                           {"ResourceType", type},
                           {"Key", tag["Key"]},
                           {"Value", tag["Value"]}});
    }
  };
  for (Kind kind : {Kind::kVpc, Kind::kSubnet, Kind::kSecurityGroup}) {
    for (const Json* doc : resources_.List(scope, kind)) {
      std::string id = kind == Kind::kVpc      ? (*doc)["VpcId"]
                       : kind == Kind::kSubnet ? (*doc)["SubnetId"]
                                               : (*doc)["GroupId"];
      add(id, doc->value("Tags", Json::array()));
      if (kind == Kind::kSecurityGroup) {
        for (const auto& rule : (*doc)["_rules"]) add(rule["SecurityGroupRuleId"], rule["Tags"]);
      }
    }
  }
  std::string next;
  if (auto error = Page(input, &items, &next)) return *error;
  Json out{{"Tags", items}};
  if (!next.empty()) out["NextToken"] = next;
  return out;
}

}  // namespace understudy::ec2
