// Rule conditions (aws-semantics §1.3): checked, shown in AWS's Describe form, and
// turned into the routing form; and checked actions turned into routing actions.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

const std::map<std::string, std::string> kConfigOf = {
    {"host-header", "HostHeaderConfig"},   {"path-pattern", "PathPatternConfig"},
    {"http-header", "HttpHeaderConfig"},   {"http-request-method", "HttpRequestMethodConfig"},
    {"query-string", "QueryStringConfig"}, {"source-ip", "SourceIpConfig"},
};

int Wildcards(const std::string& v) {
  return static_cast<int>(std::count(v.begin(), v.end(), '*') +
                          std::count(v.begin(), v.end(), '?'));
}

bool AllOf(const std::string& v, const char* extra, bool letters, bool digits) {
  return std::all_of(v.begin(), v.end(), [&](char c) {
    if (letters && std::isalpha(static_cast<unsigned char>(c))) return true;
    if (digits && std::isdigit(static_cast<unsigned char>(c))) return true;
    return c != '\0' && std::strchr(extra, c) != nullptr;
  });
}

std::optional<Cidr> ParseCidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string address = text.substr(0, slash), bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !AllOf(bits, "", false, true)) return std::nullopt;
  Cidr cidr;
  cidr.prefix = std::stoi(bits);
  if (inet_pton(AF_INET, address.c_str(), cidr.address.data()) == 1) {
    if (cidr.prefix > 32) return std::nullopt;
    return cidr;
  }
  if (inet_pton(AF_INET6, address.c_str(), cidr.address.data()) == 1) {
    cidr.v6 = true;
    if (cidr.prefix > 128) return std::nullopt;
    return cidr;
  }
  return std::nullopt;
}

ApiError BadValue(const std::string& field, const std::string& value, const std::string& why) {
  return ValidationError("Condition value '" + value + "' for field '" + field +
                         "' is not valid: " + why);
}

}  // namespace

std::variant<Json, ApiError> CheckConditions(const Json& conditions) {
  Json out = Json::array();
  std::set<std::string> singles;
  int values_total = 0, wildcards_total = 0;
  for (const auto& c : conditions) {
    if (!c.contains("Field")) return ValidationError("A condition field must be specified");
    std::string field = c["Field"];
    auto config_name = kConfigOf.find(field);
    if (config_name == kConfigOf.end()) {
      return ValidationError("Condition field '" + field +
                             "' is not valid; use host-header, "
                             "path-pattern, http-header, http-request-method, query-string or "
                             "source-ip");
    }
    const std::string& cfg = config_name->second;
    bool legacy = c.contains("Values");
    if (legacy && c.contains(cfg)) {
      return ValidationError("You cannot specify both 'Values' and '" + cfg + "' for a condition");
    }
    if (legacy && field != "host-header" && field != "path-pattern") {
      return ValidationError(
          "The 'Values' field is only valid for 'host-header' and "
          "'path-pattern' conditions; use '" +
          cfg + "'");
    }
    if (field != "http-header" && field != "query-string" && !singles.insert(field).second) {
      return ValidationError("A rule can only have one '" + field + "' condition");
    }
    Json config = legacy ? Json{{"Values", c["Values"]}} : c.value(cfg, Json::object());
    Json shown{{"Field", field}};
    if (field == "query-string") {
      Json pairs = config.value("Values", Json::array());
      if (pairs.empty()) return ValidationError("A query-string condition must have a value");
      for (const auto& p : pairs) {
        if (!p.contains("Value") || p["Value"].get<std::string>().empty()) {
          return ValidationError("A query-string condition value must be specified");
        }
        wildcards_total += Wildcards(p.value("Key", "")) + Wildcards(p["Value"]);
        if (p.value("Key", "").size() > 128 || p["Value"].get<std::string>().size() > 128) {
          return ValidationError("Query string keys and values must be at most 128 characters");
        }
      }
      values_total += static_cast<int>(pairs.size());
      shown[cfg] = Json{{"Values", pairs}};
      out.push_back(shown);
      continue;
    }
    Json values = config.value("Values", Json::array());
    if (values.empty()) {
      return ValidationError("A '" + field + "' condition must have at least one value");
    }
    values_total += static_cast<int>(values.size());
    for (const auto& item : values) {
      std::string v = item;
      if (v.size() > 128) return BadValue(field, v, "it is longer than 128 characters");
      for (char ch : v) {
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
          return BadValue(field, v, "control characters are not allowed");
        }
      }
      if (field == "path-pattern") {
        if (!AllOf(v, "_-.$/~\"'@:+&*?", true, true)) {
          return BadValue(field, v, "allowed are A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?");
        }
        wildcards_total += Wildcards(v);
      } else if (field == "host-header") {
        if (!AllOf(v, "-.*?", true, true)) {
          return BadValue(field, v, "allowed are A-Z a-z 0-9 - . * ?");
        }
        wildcards_total += Wildcards(v);
      } else if (field == "http-header") {
        wildcards_total += Wildcards(v);
      } else if (field == "http-request-method") {
        if (v.size() > 40 || !std::all_of(v.begin(), v.end(), [](char ch) {
              return (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_';
            })) {
          return BadValue(field, v, "methods are up to 40 of A-Z, - and _");
        }
      } else if (field == "source-ip") {
        if (!ParseCidr(v)) return BadValue(field, v, "it is not a CIDR block");
        if (v == "255.255.255.255/32") return BadValue(field, v, "this block is not allowed");
      }
    }
    if (field == "http-header") {
      std::string name = config.value("HttpHeaderName", "");
      if (name.empty() || name.size() > 40 || !AllOf(name, "!#$%&'*+-.^_`|~", true, true)) {
        return ValidationError("HTTP header name '" + name +
                               "' is not valid: up to 40 token characters");
      }
      if (name == "Host" || name == "host" || name == "HOST") {
        return ValidationError("Use a 'host-header' condition to match the Host header");
      }
      shown[cfg] = Json{{"HttpHeaderName", name}, {"Values", values}};
    } else {
      shown[cfg] = Json{{"Values", values}};
    }
    if (field == "host-header" || field == "path-pattern") shown["Values"] = values;
    out.push_back(shown);
  }
  if (values_total > 5) {
    return ValidationError("A rule can have at most 5 condition values, found " +
                           std::to_string(values_total));
  }
  if (wildcards_total > 5) {
    return ValidationError("A rule can have at most 5 wildcards in its conditions, found " +
                           std::to_string(wildcards_total));
  }
  return out;
}

std::vector<Condition> ToRoutingConditions(const Json& conditions) {
  std::vector<Condition> out;
  for (const auto& c : conditions) {
    Condition cond;
    std::string field = c["Field"];
    const Json& cfg = c[kConfigOf.at(field)];
    if (field == "host-header") cond.field = Condition::Field::kHostHeader;
    if (field == "path-pattern") cond.field = Condition::Field::kPathPattern;
    if (field == "http-header") cond.field = Condition::Field::kHttpHeader;
    if (field == "http-request-method") cond.field = Condition::Field::kHttpRequestMethod;
    if (field == "query-string") cond.field = Condition::Field::kQueryString;
    if (field == "source-ip") cond.field = Condition::Field::kSourceIp;
    if (field == "query-string") {
      for (const auto& p : cfg["Values"]) {
        Condition::QueryPair pair;
        if (p.contains("Key")) pair.key = p["Key"].get<std::string>();
        pair.value = p["Value"];
        cond.query.push_back(pair);
      }
    } else if (field == "source-ip") {
      for (const auto& v : cfg["Values"]) {
        if (auto cidr = ParseCidr(v)) cond.cidrs.push_back(*cidr);
      }
    } else {
      for (const auto& v : cfg["Values"]) cond.values.push_back(v);
      if (field == "http-header") cond.header_name = cfg["HttpHeaderName"];
    }
    out.push_back(std::move(cond));
  }
  return out;
}

Action ToRoutingAction(const Json& actions) {
  Action out;
  // The terminal action is the one with the highest order (checked to be last).
  const Json* last = nullptr;
  for (const auto& a : actions) {
    if (last == nullptr || a.value("Order", 0) >= last->value("Order", 0)) last = &a;
  }
  if (last == nullptr) return out;
  const Json& a = *last;
  std::string type = a["Type"];
  if (type == "forward") {
    out.type = Action::Type::kForward;
    if (a.contains("ForwardConfig")) {
      for (const auto& g : a["ForwardConfig"].value("TargetGroups", Json::array())) {
        out.groups.push_back(Action::WeightedGroup{g["TargetGroupArn"],
                                                   static_cast<uint32_t>(g.value("Weight", 1))});
      }
      const Json sticky = a["ForwardConfig"].value("TargetGroupStickinessConfig", Json::object());
      out.group_stickiness = sticky.value("Enabled", false);
      out.group_stickiness_seconds = sticky.value("DurationSeconds", 0);
    } else if (a.contains("TargetGroupArn")) {
      out.groups.push_back(Action::WeightedGroup{a["TargetGroupArn"], 1});
    }
  } else if (type == "redirect") {
    out.type = Action::Type::kRedirect;
    const Json& r = a["RedirectConfig"];
    out.redirect_protocol = r.value("Protocol", "#{protocol}");
    out.redirect_host = r.value("Host", "#{host}");
    out.redirect_port = r.value("Port", "#{port}");
    out.redirect_path = r.value("Path", "/#{path}");
    out.redirect_query = r.value("Query", "#{query}");
    out.redirect_status = r.value("StatusCode", "HTTP_301") == "HTTP_302" ? 302 : 301;
  } else if (type == "fixed-response") {
    out.type = Action::Type::kFixedResponse;
    const Json& f = a["FixedResponseConfig"];
    out.fixed_status = std::stoi(f.value("StatusCode", "200"));
    out.fixed_content_type = f.value("ContentType", "");
    out.fixed_body = f.value("MessageBody", "");
  }
  return out;
}

}  // namespace understudy::elb
