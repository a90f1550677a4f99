// Tags on every ELBv2 resource, SSL policies, account limits, and the shared helpers
// (names, pagination, tag merging).
#include <algorithm>
#include <set>

#include "api/shape_values.h"
#include "elb/elbv2_internal.h"

namespace understudy::elb {

bool IsValidResourceName(const std::string& name) {
  if (name.empty() || name.size() > 32 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::variant<Page, ApiError> Paginate(const std::vector<std::string>& keys, const Json& input) {
  size_t size = input.value("PageSize", 400);
  auto start = keys.begin();
  if (input.contains("Marker")) {
    std::string text;
    auto parsed = api::Base64Decode(input["Marker"].get<std::string>(), &text)
                      ? ParseJson(text)
                      : Result<Json>(Status::InvalidArgument("marker"));
    if (!parsed.ok() || !parsed->is_object() || !parsed->contains("after")) {
      return ValidationError("The marker '" + input["Marker"].get<std::string>() +
                             "' is not valid");
    }
    start = std::upper_bound(keys.begin(), keys.end(), (*parsed)["after"].get<std::string>());
  }
  Page page;
  for (auto it = start; it != keys.end(); ++it) {
    if (page.keys.size() == size) {
      page.next_marker = api::Base64Encode(Json{{"after", page.keys.back()}}.dump());
      break;
    }
    page.keys.push_back(*it);
  }
  return page;
}

std::optional<ApiError> CheckTags(const Json& tags) {
  std::set<std::string> keys;
  for (const auto& t : tags) {
    std::string key = t.value("Key", "");
    if (!keys.insert(key).second) {
      return ElbError("DuplicateTagKeys", "Tag key '" + key + "' specified more than once");
    }
    if (key.rfind("aws:", 0) == 0) {
      return ValidationError("Tag keys starting with 'aws:' are reserved for internal use");
    }
  }
  return std::nullopt;
}

Json MergeTags(const Json& existing, const Json& added) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& t : existing) out.emplace_back(t.value("Key", ""), t.value("Value", ""));
  for (const auto& t : added) {
    std::string key = t.value("Key", ""), value = t.value("Value", "");
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == key; });
    if (it != out.end()) {
      it->second = value;
    } else {
      out.emplace_back(key, value);
    }
  }
  Json json = Json::array();
  for (const auto& [k, v] : out) json.push_back(Json{{"Key", k}, {"Value", v}});
  return json;
}

namespace {

// The tags of resource `arn` in `scope` and a way to save them, or the not-found error
// for its kind.
struct Tagged {
  Json* tags = nullptr;
  std::function<Status()> save;
};

std::variant<Tagged, ApiError> FindTagged(Service& s, const Scope& scope, const std::string& arn) {
  auto parsed = Arn::Parse(arn);
  std::string resource = parsed ? parsed->resource : "";
  if (resource.rfind("loadbalancer/", 0) == 0) {
    if (auto* lb = s.FindLoadBalancer(scope, arn))
      return Tagged{&lb->tags, [&s, lb] { return s.Save(*lb); }};
    return ElbError("LoadBalancerNotFound", "Load balancer '" + arn + "' not found");
  }
  if (resource.rfind("targetgroup/", 0) == 0) {
    if (auto* tg = s.FindTargetGroup(scope, arn))
      return Tagged{&tg->tags, [&s, tg] { return s.Save(*tg); }};
    return ElbError("TargetGroupNotFound", "Target group '" + arn + "' not found");
  }
  if (resource.rfind("listener/", 0) == 0) {
    if (auto* l = s.FindListener(scope, arn))
      return Tagged{&l->tags, [&s, l] { return s.Save(*l); }};
    return ElbError("ListenerNotFound", "Listener '" + arn + "' not found");
  }
  if (resource.rfind("listener-rule/", 0) == 0) {
    if (auto* r = s.FindRule(scope, arn)) return Tagged{&r->tags, [&s, r] { return s.Save(*r); }};
    return ElbError("RuleNotFound", "Rule '" + arn + "' not found");
  }
  return ValidationError("'" + arn +
                         "' is not a valid load balancer, target group, listener or "
                         "rule ARN");
}

}  // namespace

ApiResult Service::AddTags(const Scope& scope, const Json& input) {
  const Json& tags = input["Tags"];
  if (auto error = CheckTags(tags)) return *error;
  std::vector<Tagged> targets;
  for (const auto& arn : input["ResourceArns"]) {
    auto found = FindTagged(*this, scope, arn.get<std::string>());
    if (auto* error = std::get_if<ApiError>(&found)) return *error;
    Tagged tagged = std::get<Tagged>(found);
    if (MergeTags(*tagged.tags, tags).size() > 50) {
      return ElbError("TooManyTags",
                      "The quota for the number of tags that can be assigned to "
                      "a resource has been reached");
    }
    targets.push_back(tagged);
  }
  for (auto& t : targets) {
    *t.tags = MergeTags(*t.tags, tags);
    US_RETURN_IF_ERROR_API(t.save());
  }
  return Json::object();
}

ApiResult Service::RemoveTags(const Scope& scope, const Json& input) {
  const Json& keys = input["TagKeys"];
  std::vector<Tagged> targets;
  for (const auto& arn : input["ResourceArns"]) {
    auto found = FindTagged(*this, scope, arn.get<std::string>());
    if (auto* error = std::get_if<ApiError>(&found)) return *error;
    targets.push_back(std::get<Tagged>(found));
  }
  for (auto& t : targets) {
    Json kept = Json::array();
    for (const auto& tag : *t.tags) {
      if (std::find(keys.begin(), keys.end(), tag["Key"]) == keys.end()) kept.push_back(tag);
    }
    *t.tags = kept;
    US_RETURN_IF_ERROR_API(t.save());
  }
  return Json::object();
}

ApiResult Service::DescribeTags(const Scope& scope, const Json& input) {
  if (input["ResourceArns"].size() > 20) {
    return ValidationError("You can specify up to 20 resource ARNs");
  }
  Json out = Json::array();
  for (const auto& arn : input["ResourceArns"]) {
    auto found = FindTagged(*this, scope, arn.get<std::string>());
    if (auto* error = std::get_if<ApiError>(&found)) return *error;
    out.push_back(Json{{"ResourceArn", arn}, {"Tags", *std::get<Tagged>(found).tags}});
  }
  return Json{{"TagDescriptions", out}};
}

namespace {

const std::vector<std::string> kTls13Ciphers = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                                "TLS_CHACHA20_POLY1305_SHA256"};
const std::vector<std::string> kModernCiphers = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",       "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",     "ECDHE-RSA-AES256-SHA384"};
const std::vector<std::string> kLegacyCiphers = {"ECDHE-ECDSA-AES128-SHA",
                                                 "ECDHE-RSA-AES128-SHA",
                                                 "ECDHE-ECDSA-AES256-SHA",
                                                 "ECDHE-RSA-AES256-SHA",
                                                 "AES128-GCM-SHA256",
                                                 "AES128-SHA256",
                                                 "AES128-SHA",
                                                 "AES256-GCM-SHA384",
                                                 "AES256-SHA256",
                                                 "AES256-SHA"};
const std::vector<std::string> kStaticRsaCiphers = {"AES128-GCM-SHA256", "AES128-SHA256",
                                                    "AES256-GCM-SHA384", "AES256-SHA256"};

Json Policy(const std::string& name, const std::vector<std::string>& protocols,
            const std::vector<const std::vector<std::string>*>& cipher_sets) {
  Json ciphers = Json::array();
  int priority = 1;
  for (const auto* set : cipher_sets) {
    for (const auto& c : *set) ciphers.push_back(Json{{"Name", c}, {"Priority", priority++}});
  }
  return Json{{"Name", name},
              {"SslProtocols", protocols},
              {"Ciphers", ciphers},
              {"SupportedLoadBalancerTypes", Json::array({"application", "network"})}};
}

const std::vector<Json>& SslPolicies() {
  static const std::vector<Json> policies = {
      Policy("ELBSecurityPolicy-2016-08", {"TLSv1", "TLSv1.1", "TLSv1.2"},
             {&kModernCiphers, &kLegacyCiphers}),
      Policy("ELBSecurityPolicy-TLS13-1-2-2021-06", {"TLSv1.2", "TLSv1.3"},
             {&kTls13Ciphers, &kModernCiphers, &kStaticRsaCiphers}),
      Policy("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", {"TLSv1.2", "TLSv1.3"},
             {&kTls13Ciphers, &kModernCiphers}),
      Policy("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", {"TLSv1.2", "TLSv1.3"},
             {&kTls13Ciphers, &kModernCiphers, &kLegacyCiphers}),
      Policy("ELBSecurityPolicy-TLS13-1-3-2021-06", {"TLSv1.3"}, {&kTls13Ciphers}),
      Policy("ELBSecurityPolicy-TLS13-1-0-2021-06", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"},
             {&kTls13Ciphers, &kModernCiphers, &kLegacyCiphers}),
      Policy("ELBSecurityPolicy-TLS-1-2-2017-01", {"TLSv1.2"},
             {&kModernCiphers, &kStaticRsaCiphers}),
      Policy("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", {"TLSv1.2"},
             {&kModernCiphers, &kLegacyCiphers}),
      Policy("ELBSecurityPolicy-TLS-1-1-2017-01", {"TLSv1.1", "TLSv1.2"},
             {&kModernCiphers, &kLegacyCiphers}),
      Policy("ELBSecurityPolicy-FS-1-2-Res-2020-10", {"TLSv1.2"}, {&kModernCiphers}),
      Policy("ELBSecurityPolicy-2015-05", {"TLSv1", "TLSv1.1", "TLSv1.2"},
             {&kModernCiphers, &kLegacyCiphers}),
  };
  return policies;
}

}  // namespace

bool IsSslPolicy(const std::string& name) {
  for (const auto& p : SslPolicies()) {
    if (p["Name"] == name) return true;
  }
  return false;
}

ApiResult Service::DescribeSslPolicies(const Scope&, const Json& input) {
  Json names = input.value("Names", Json::array());
  Json out = Json::array();
  for (const auto& n : names) {
    if (!IsSslPolicy(n.get<std::string>())) {
      return ElbError("SSLPolicyNotFound", "One or more SSL policies not found");
    }
  }
  for (const auto& p : SslPolicies()) {
    if (!names.empty() && std::find(names.begin(), names.end(), p["Name"]) == names.end()) {
      continue;
    }
    out.push_back(p);
  }
  return Json{{"SslPolicies", out}};
}

ApiResult Service::DescribeAccountLimits(const Scope&, const Json&) {
  const std::vector<std::pair<const char*, int>> limits = {
      {"application-load-balancers", 50},
      {"target-groups", 3000},
      {"targets-per-application-load-balancer", 1000},
      {"listeners-per-application-load-balancer", 50},
      {"rules-per-application-load-balancer", 100},
      {"target-groups-per-application-load-balancer", 100},
      {"target-groups-per-action-on-application-load-balancer", 5},
      {"targets-per-target-group", 1000},
      {"certificates-per-application-load-balancer", 25},
      {"condition-values-per-alb-rule", 5},
      {"condition-wildcards-per-alb-rule", 5},
      {"network-load-balancers", 50},
      {"listeners-per-network-load-balancer", 50},
      {"targets-per-network-load-balancer", 3000},
      {"gateway-load-balancers", 100},
  };
  Json out = Json::array();
  for (const auto& [name, max] : limits) {
    out.push_back(Json{{"Name", name}, {"Max", std::to_string(max)}});
  }
  return Json{{"Limits", out}};
}

}  // namespace understudy::elb
