// Listener operations: create (with its default rule and local port), describe,
// modify, delete, attributes and certificates.
#include <algorithm>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

ApiError ListenerNotFound() {
  return ElbError("ListenerNotFound", "One or more listeners not found");
}

const char* kDefaultSslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";

// Checks protocol, port, certificates and SSL policy of a listener document.
std::optional<ApiError> CheckListenerShape(const Json& doc) {
  std::string protocol = doc["Protocol"];
  if (protocol != "HTTP" && protocol != "HTTPS") {
    return ElbError("UnsupportedProtocol", "Protocol '" + protocol +
                                               "' is not supported for load balancers of type "
                                               "'application'; use HTTP or HTTPS");
  }
  if (protocol == "HTTPS") {
    const Json certs = doc.value("Certificates", Json::array());
    if (certs.empty() || !certs[0].contains("CertificateArn")) {
      return ValidationError("A certificate must be specified for HTTPS listeners");
    }
    if (certs.size() > 1) {
      return ValidationError(
          "Only one default certificate can be specified; add others with "
          "AddListenerCertificates");
    }
    if (!IsSslPolicy(doc.value("SslPolicy", kDefaultSslPolicy))) {
      return ElbError("SSLPolicyNotFound",
                      "SSL policy '" + doc["SslPolicy"].get<std::string>() + "' not found");
    }
  } else if (doc.contains("Certificates") || doc.contains("SslPolicy")) {
    return ValidationError("Certificates and SSL policies are only valid for HTTPS listeners");
  }
  return std::nullopt;
}

}  // namespace

ApiResult Service::CreateListener(const Scope& scope, const Json& input) {
  std::string lb_arn = input["LoadBalancerArn"];
  LoadBalancerRecord* lb = FindLoadBalancer(scope, lb_arn);
  if (lb == nullptr) {
    return ElbError("LoadBalancerNotFound", "One or more load balancers not found");
  }
  std::string protocol = input.value("Protocol", "HTTP");
  int port = input.value("Port", protocol == "HTTPS" ? 443 : 80);
  Json doc{{"LoadBalancerArn", lb_arn}, {"Port", port}, {"Protocol", protocol}};
  if (input.contains("Certificates")) {
    Json certs = Json::array();
    for (const auto& c : input["Certificates"]) {
      certs.push_back(Json{{"CertificateArn", c.value("CertificateArn", "")}});
    }
    doc["Certificates"] = certs;
  }
  if (input.contains("SslPolicy")) doc["SslPolicy"] = input["SslPolicy"];
  if (auto error = CheckListenerShape(doc)) return *error;
  if (protocol == "HTTPS" && !doc.contains("SslPolicy")) doc["SslPolicy"] = kDefaultSslPolicy;
  if (input.contains("AlpnPolicy")) doc["AlpnPolicy"] = input["AlpnPolicy"];
  Json tags = input.value("Tags", Json::array());
  if (auto error = CheckTags(tags)) return *error;
  auto actions = CheckActions(scope, input["DefaultActions"], protocol, lb_arn);
  if (auto* error = std::get_if<ApiError>(&actions)) return *error;
  doc["DefaultActions"] = std::get<Json>(actions);

  int count = 0;
  for (auto& [arn, l] : listeners_) {
    if (l.doc["LoadBalancerArn"] != lb_arn) continue;
    ++count;
    if (l.doc["Port"] != port) continue;
    Json existing = l.doc;
    existing.erase("ListenerArn");
    if (existing == doc) return Json{{"Listeners", Json::array({l.doc})}};
    return ElbError(
        "DuplicateListener",
        "A listener already exists on this port for this load balancer '" + lb_arn + "'");
  }
  if (count >= 50) {
    return ElbError("TooManyListeners",
                    "The quota for the number of listeners per load balancer has been reached");
  }
  std::string path = ResourcePath(lb_arn, "loadbalancer");
  std::string listener_id = NewId();
  std::string arn = MakeArn("elasticloadbalancing", scope, "listener/" + path + "/" + listener_id);
  doc["ListenerArn"] = arn;
  ListenerRecord record{scope,         doc, DefaultListenerAttributes(), MergeTags({}, tags),
                        Json::array(), 0};
  std::string rule_arn = MakeArn("elasticloadbalancing", scope,
                                 "listener-rule/" + path + "/" + listener_id + "/" + NewId());
  RuleRecord rule{scope, arn,
                  Json{{"RuleArn", rule_arn},
                       {"Priority", "default"},
                       {"Conditions", Json::array()},
                       {"Actions", doc["DefaultActions"]},
                       {"IsDefault", true}},
                  Json::array()};
  US_RETURN_IF_ERROR_API(Save(record));
  US_RETURN_IF_ERROR_API(Save(rule));
  listeners_[arn] = record;
  rules_[rule_arn] = rule;
  OpenLocal(listeners_[arn]);
  journal().Transition(
      arn, Json{{"created", Json{{"port", port}, {"localPort", listeners_[arn].local_port}}}});
  Publish();
  return Json{{"Listeners", Json::array({doc})}};
}

ApiResult Service::DescribeListeners(const Scope& scope, const Json& input) {
  std::vector<std::string> keys;
  if (input.contains("ListenerArns")) {
    if (input.contains("LoadBalancerArn")) {
      return ValidationError(
          "Listener ARNs and a load balancer ARN cannot be specified at the "
          "same time");
    }
    for (const auto& a : input["ListenerArns"]) {
      if (!FindListener(scope, a)) return ListenerNotFound();
      keys.push_back(a);
    }
  } else if (input.contains("LoadBalancerArn")) {
    std::string lb = input["LoadBalancerArn"];
    if (!FindLoadBalancer(scope, lb)) {
      return ElbError("LoadBalancerNotFound", "One or more load balancers not found");
    }
    for (const auto& [arn, l] : listeners_) {
      if (l.doc["LoadBalancerArn"] == lb) keys.push_back(arn);
    }
  } else {
    return ValidationError("You must specify either listener ARNs or a load balancer ARN");
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto paged = Paginate(keys, input);
  if (auto* error = std::get_if<ApiError>(&paged)) return *error;
  const Page& page = std::get<Page>(paged);
  Json out = Json::array();
  for (const auto& arn : page.keys) out.push_back(listeners_[arn].doc);
  Json result{{"Listeners", out}};
  if (page.next_marker) result["NextMarker"] = *page.next_marker;
  return result;
}

ApiResult Service::ModifyListener(const Scope& scope, const Json& input) {
  std::string arn = input["ListenerArn"];
  ListenerRecord* listener = FindListener(scope, arn);
  if (listener == nullptr) return ListenerNotFound();
  Json doc = listener->doc;
  std::string lb_arn = doc["LoadBalancerArn"];
  if (input.contains("Protocol")) doc["Protocol"] = input["Protocol"];
  if (input.contains("Port")) doc["Port"] = input["Port"];
  if (input.contains("Certificates")) {
    Json certs = Json::array();
    for (const auto& c : input["Certificates"]) {
      certs.push_back(Json{{"CertificateArn", c.value("CertificateArn", "")}});
    }
    doc["Certificates"] = certs;
  }
  if (input.contains("SslPolicy")) doc["SslPolicy"] = input["SslPolicy"];
  if (input.contains("AlpnPolicy")) doc["AlpnPolicy"] = input["AlpnPolicy"];
  if (doc["Protocol"] == "HTTP" && !input.contains("Certificates") &&
      !input.contains("SslPolicy")) {
    doc.erase("Certificates");  // HTTPS → HTTP drops what only HTTPS uses
    doc.erase("SslPolicy");
    doc.erase("AlpnPolicy");
  }
  if (auto error = CheckListenerShape(doc)) return *error;
  if (doc["Protocol"] == "HTTPS" && !doc.contains("SslPolicy"))
    doc["SslPolicy"] = kDefaultSslPolicy;
  if (input.contains("DefaultActions") || input.contains("Protocol")) {
    auto actions = CheckActions(scope, input.value("DefaultActions", doc["DefaultActions"]),
                                doc["Protocol"], lb_arn);
    if (auto* error = std::get_if<ApiError>(&actions)) return *error;
    doc["DefaultActions"] = std::get<Json>(actions);
  }
  for (const auto& [other_arn, l] : listeners_) {
    if (other_arn != arn && l.doc["LoadBalancerArn"] == lb_arn && l.doc["Port"] == doc["Port"]) {
      return ElbError(
          "DuplicateListener",
          "A listener already exists on this port for this load balancer '" + lb_arn + "'");
    }
  }
  bool port_changed = doc["Port"] != listener->doc["Port"];
  ListenerRecord updated = *listener;
  updated.doc = doc;
  US_RETURN_IF_ERROR_API(Save(updated));
  for (RuleRecord* rule : RulesOf(arn)) {
    if (!rule->doc.value("IsDefault", false)) continue;
    RuleRecord rule_updated = *rule;
    rule_updated.doc["Actions"] = doc["DefaultActions"];
    US_RETURN_IF_ERROR_API(Save(rule_updated));
    *rule = rule_updated;
  }
  *listener = updated;
  if (port_changed) {
    // Reopened on its local port when it can, so its address stays the same.
    data_plane_.CloseListener(arn);
    OpenLocal(*listener);
  }
  Publish();
  return Json{{"Listeners", Json::array({doc})}};
}

ApiResult Service::DeleteListener(const Scope& scope, const Json& input) {
  std::string arn = input["ListenerArn"];
  if (FindListener(scope, arn) == nullptr) return ListenerNotFound();
  US_RETURN_IF_ERROR_API(RemoveListener(arn));
  journal().Transition(arn, Json{{"deleted", true}});
  Publish();
  return Json::object();
}

ApiResult Service::DescribeListenerAttributes(const Scope& scope, const Json& input) {
  ListenerRecord* listener = FindListener(scope, input["ListenerArn"]);
  if (listener == nullptr) return ListenerNotFound();
  return Json{{"Attributes", AttributeList(listener->attributes)}};
}

ApiResult Service::ModifyListenerAttributes(const Scope& scope, const Json& input) {
  ListenerRecord* listener = FindListener(scope, input["ListenerArn"]);
  if (listener == nullptr) return ListenerNotFound();
  ListenerRecord updated = *listener;
  if (auto error = ApplyListenerAttributes(updated.attributes, input["Attributes"])) {
    return *error;
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  *listener = updated;
  return Json{{"Attributes", AttributeList(listener->attributes)}};
}

ApiResult Service::AddListenerCertificates(const Scope& scope, const Json& input) {
  ListenerRecord* listener = FindListener(scope, input["ListenerArn"]);
  if (listener == nullptr) return ListenerNotFound();
  if (listener->doc["Protocol"] != "HTTPS") {
    return ValidationError("Certificates can only be added to HTTPS listeners");
  }
  ListenerRecord updated = *listener;
  for (const auto& c : input["Certificates"]) {
    std::string cert = c.value("CertificateArn", "");
    bool known = std::any_of(updated.certificates.begin(), updated.certificates.end(),
                             [&](const Json& e) { return e["CertificateArn"] == cert; });
    if (!known)
      updated.certificates.push_back(Json{{"CertificateArn", cert}, {"IsDefault", false}});
  }
  if (updated.certificates.size() > 25) {
    return ElbError("TooManyCertificates",
                    "The quota for the number of certificates per listener has been reached");
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  *listener = updated;
  return Json{{"Certificates", listener->certificates}};
}

ApiResult Service::DescribeListenerCertificates(const Scope& scope, const Json& input) {
  ListenerRecord* listener = FindListener(scope, input["ListenerArn"]);
  if (listener == nullptr) return ListenerNotFound();
  Json out = Json::array();
  for (const auto& c : listener->doc.value("Certificates", Json::array())) {
    out.push_back(Json{{"CertificateArn", c["CertificateArn"]}, {"IsDefault", true}});
  }
  for (const auto& c : listener->certificates) out.push_back(c);
  return Json{{"Certificates", out}};
}

ApiResult Service::RemoveListenerCertificates(const Scope& scope, const Json& input) {
  ListenerRecord* listener = FindListener(scope, input["ListenerArn"]);
  if (listener == nullptr) return ListenerNotFound();
  ListenerRecord updated = *listener;
  for (const auto& c : input["Certificates"]) {
    std::string cert = c.value("CertificateArn", "");
    for (const auto& d : listener->doc.value("Certificates", Json::array())) {
      if (d["CertificateArn"] == cert) {
        return ElbError("OperationNotPermitted",
                        "The default certificate of a listener cannot be removed");
      }
    }
    Json kept = Json::array();
    for (const auto& e : updated.certificates) {
      if (e["CertificateArn"] != cert) kept.push_back(e);
    }
    updated.certificates = kept;
  }
  US_RETURN_IF_ERROR_API(Save(updated));
  *listener = updated;
  return Json::object();
}

}  // namespace understudy::elb
