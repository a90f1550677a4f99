// Listener and rule actions (aws-semantics §1.4): checked against the listener's
// protocol and load balancer, and shown in the form Describe* gives them.
#include <algorithm>
#include <set>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

bool IsTerminal(const std::string& type) {
  return type == "forward" || type == "redirect" || type == "fixed-response";
}

bool IsPortText(const std::string& p) {
  if (p == "#{port}") return true;
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
  int n = std::stoi(p);
  return n >= 1 && n <= 65535;
}

}  // namespace

std::variant<Json, ApiError> Service::CheckActions(const Scope& scope, const Json& actions,
                                                   const std::string& protocol,
                                                   const std::string& lb_arn) const {
  if (!actions.is_array() || actions.empty()) {
    return ValidationError("An action must be specified");
  }
  if (actions.size() > 1) {
    std::set<int> orders;
    for (const auto& a : actions) {
      if (!a.contains("Order")) {
        return ValidationError(
            "An action order must be specified when a rule has more than one "
            "action");
      }
      if (!orders.insert(a["Order"].get<int>()).second) {
        return ValidationError("Action orders must be unique");
      }
    }
  }
  // The actions in order; the terminal one must come last and be the only one.
  std::vector<Json> sorted(actions.begin(), actions.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Json& a, const Json& b) {
    return a.value("Order", 0) < b.value("Order", 0);
  });
  Json out = Json::array();
  for (size_t i = 0; i < sorted.size(); ++i) {
    Json a = sorted[i];
    std::string type = a["Type"];
    bool last = i + 1 == sorted.size();
    if (IsTerminal(type) != last) {
      return InvalidLoadBalancerAction(
          "The last action must be one forward, redirect or fixed-response action, and only the "
          "last");
    }
    if (!IsTerminal(type)) {
      if (protocol != "HTTPS") {
        return InvalidLoadBalancerAction("Action type '" + type +
                                         "' is only supported on HTTPS listeners");
      }
      out.push_back(a);  // stored as given; not emulated on the request path
      continue;
    }
    for (const char* cfg : {"ForwardConfig", "RedirectConfig", "FixedResponseConfig"}) {
      bool belongs = (type == "forward" && std::string(cfg) == "ForwardConfig") ||
                     (type == "redirect" && std::string(cfg) == "RedirectConfig") ||
                     (type == "fixed-response" && std::string(cfg) == "FixedResponseConfig");
      if (a.contains(cfg) && !belongs) {
        return ValidationError("'" + std::string(cfg) +
                               "' cannot be specified for an action of "
                               "type '" +
                               type + "'");
      }
    }
    if (type == "forward") {
      Json groups = Json::array();
      if (a.contains("ForwardConfig")) {
        groups = a["ForwardConfig"].value("TargetGroups", Json::array());
        if (a.contains("TargetGroupArn") &&
            (groups.size() != 1 || groups[0].value("TargetGroupArn", "") != a["TargetGroupArn"])) {
          return ValidationError(
              "You cannot specify a target group ARN and a forward config "
              "with different target groups");
        }
      } else if (a.contains("TargetGroupArn")) {
        groups.push_back(Json{{"TargetGroupArn", a["TargetGroupArn"]}});
      }
      if (groups.empty()) return ValidationError("A target group ARN must be specified");
      if (groups.size() > 5) {
        return ValidationError("A forward action can have at most 5 target groups");
      }
      std::set<std::string> seen;
      Json shown_groups = Json::array();
      for (auto g : groups) {
        std::string tg_arn = g.value("TargetGroupArn", "");
        if (!seen.insert(tg_arn).second) {
          return ValidationError("Target group '" + tg_arn +
                                 "' is given more than once in a forward action");
        }
        const TargetGroupRecord* tg = FindTargetGroup(scope, tg_arn);
        if (tg == nullptr) {
          return ElbError("TargetGroupNotFound", "Target groups '" + tg_arn + "' not found");
        }
        std::string tg_protocol = tg->doc.value("Protocol", "");
        if (tg->doc.value("TargetType", "") != "lambda" && tg_protocol != "HTTP" &&
            tg_protocol != "HTTPS") {
          return ElbError("IncompatibleProtocols",
                          "Listener protocol '" + protocol +
                              "' is not supported with a target group with the protocol '" +
                              tg_protocol + "'");
        }
        for (const auto& other : LoadBalancersUsing(tg_arn)) {
          if (other != lb_arn) {
            return ElbError("TargetGroupAssociationLimit",
                            "The following target groups cannot be associated with more than "
                            "one load balancer: " +
                                tg_arn);
          }
        }
        int weight = g.value("Weight", 1);
        if (weight < 0 || weight > 999) {
          return ValidationError("Target group weight " + std::to_string(weight) +
                                 " is not valid; weights are between 0 and 999");
        }
        shown_groups.push_back(Json{{"TargetGroupArn", tg_arn}, {"Weight", weight}});
      }
      Json sticky = Json{{"Enabled", false}};
      if (a.contains("ForwardConfig") &&
          a["ForwardConfig"].contains("TargetGroupStickinessConfig")) {
        sticky = a["ForwardConfig"]["TargetGroupStickinessConfig"];
        if (sticky.value("Enabled", false)) {
          int duration = sticky.value("DurationSeconds", 0);
          if (duration < 1 || duration > 604800) {
            return ValidationError(
                "Target group stickiness duration must be between 1 and "
                "604800 seconds");
          }
        }
      }
      a["ForwardConfig"] =
          Json{{"TargetGroups", shown_groups}, {"TargetGroupStickinessConfig", sticky}};
      if (shown_groups.size() == 1) a["TargetGroupArn"] = shown_groups[0]["TargetGroupArn"];
    } else if (type == "redirect") {
      if (!a.contains("RedirectConfig")) {
        return ValidationError("A redirect config must be specified for a redirect action");
      }
      Json r = a["RedirectConfig"];
      Json shown{{"Protocol", r.value("Protocol", "#{protocol}")},
                 {"Port", r.value("Port", "#{port}")},
                 {"Host", r.value("Host", "#{host}")},
                 {"Path", r.value("Path", "/#{path}")},
                 {"Query", r.value("Query", "#{query}")},
                 {"StatusCode", r["StatusCode"]}};
      if (!IsPortText(shown["Port"])) {
        return ValidationError("Redirect port '" + shown["Port"].get<std::string>() +
                               "' must be '#{port}' or between 1 and 65535");
      }
      if (shown["Path"].get<std::string>().front() != '/') {
        return ValidationError("Redirect path must begin with '/'");
      }
      if (!shown["Query"].get<std::string>().empty() &&
          shown["Query"].get<std::string>()[0] == '?') {
        return ValidationError("Redirect query must not begin with '?'");
      }
      if (shown["Protocol"] == "#{protocol}" && shown["Port"] == "#{port}" &&
          shown["Host"] == "#{host}" && shown["Path"] == "/#{path}") {
        return ValidationError(
            "A redirect must change at least one of protocol, port, host or "
            "path, or it would loop");
      }
      if (protocol == "HTTPS" && shown["Protocol"] == "HTTP") {
        return InvalidLoadBalancerAction("Redirects from HTTPS to HTTP are not allowed");
      }
      a["RedirectConfig"] = shown;
    } else {
      if (!a.contains("FixedResponseConfig")) {
        return ValidationError(
            "A fixed response config must be specified for a fixed-response "
            "action");
      }
      const Json& f = a["FixedResponseConfig"];
      static const std::set<std::string> kTypes = {"text/plain", "text/css", "text/html",
                                                   "application/javascript", "application/json"};
      if (f.contains("ContentType") && !kTypes.count(f["ContentType"])) {
        return ValidationError("Fixed response content type '" +
                               f["ContentType"].get<std::string>() +
                               "' is not valid; use text/plain, text/css, text/html, "
                               "application/javascript or application/json");
      }
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace understudy::elb
