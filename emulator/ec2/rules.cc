#include "ec2/rules.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "ec2/cidr.h"
#include "ec2/ec2_internal.h"

namespace understudy::ec2 {
namespace {

using Specs = std::variant<std::vector<RuleSpec>, api::ApiError>;

api::ApiError Malformed(const std::string& cidr) {
  return InvalidParameterValue("CIDR block " + cidr + " is malformed");
}

// A loose check of an IPv6 block: hex digits and colons, then a prefix of 0..128.
bool LooksLikeIpv6Cidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || text.find(':') == std::string::npos) {
    return false;
  }
  for (size_t i = 0; i < slash; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(text[i])) && text[i] != ':') return false;
  }
  int prefix = -1;
  auto [end, ec] = std::from_chars(text.data() + slash + 1, text.data() + text.size(), prefix);
  return ec == std::errc() && end == text.data() + text.size() && prefix >= 0 && prefix <= 128;
}

// Protocol and ports of one permission, checked as EC2 checks them.
std::optional<api::ApiError> Ports(const Json& permission, RuleSpec* spec) {
  std::string text = permission.value("IpProtocol", "");
  auto protocol = CanonicalProtocol(text);
  if (!protocol) {
    return InvalidParameterValue("Invalid value '" + text + "' for IP protocol. Unknown protocol.");
  }
  spec->protocol = *protocol;
  bool has_from = permission.contains("FromPort"), has_to = permission.contains("ToPort");
  int64_t from = permission.value("FromPort", int64_t{-1});
  int64_t to = permission.value("ToPort", int64_t{-1});
  if (*protocol == "tcp" || *protocol == "udp") {
    if (!has_from || !has_to) {
      return InvalidParameterValue(
          "Invalid value for portRange. Must specify both from and to ports with TCP/UDP.");
    }
    if (from < 0 || to > 65535 || from > to) {
      // Not confirmed against AWS word for word.
      return InvalidParameterValue("Invalid TCP/UDP port range " + std::to_string(from) + "-" +
                                   std::to_string(to) + ".");
    }
    spec->from_port = from;
    spec->to_port = to;
  } else if (*protocol == "icmp" || *protocol == "icmpv6") {
    if (from < -1 || from > 255 || to < -1 || to > 255) {
      // Not confirmed against AWS word for word.
      return InvalidParameterValue("Invalid ICMP type " + std::to_string(from) + " or code " +
                                   std::to_string(to) + ".");
    }
    spec->from_port = from;
    spec->to_port = to;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CanonicalProtocol(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "tcp" || lower == "6") return "tcp";
  if (lower == "udp" || lower == "17") return "udp";
  if (lower == "icmp" || lower == "1") return "icmp";
  if (lower == "icmpv6" || lower == "58") return "icmpv6";
  if (lower == "-1" || lower == "all") return "-1";
  int number = -1;
  auto [end, ec] = std::from_chars(lower.data(), lower.data() + lower.size(), number);
  if (!lower.empty() && ec == std::errc() && end == lower.data() + lower.size() && number >= 0 &&
      number <= 255) {
    return std::to_string(number);
  }
  return std::nullopt;
}

Specs RuleSpecsFrom(const Json& input, const GroupResolver& groups) {
  Json permissions = input.value("IpPermissions", Json::array());
  if (!input.contains("IpPermissions")) {
    // The flat form: one permission from CidrIp, IpProtocol, ports and a source group.
    if (!input.contains("IpProtocol") && !input.contains("CidrIp") &&
        !input.contains("SourceSecurityGroupName")) {
      return MissingParameter("IpPermissions");
    }
    Json permission{{"IpProtocol", input.value("IpProtocol", "-1")}};
    if (input.contains("FromPort")) permission["FromPort"] = input["FromPort"];
    if (input.contains("ToPort")) permission["ToPort"] = input["ToPort"];
    if (input.contains("CidrIp")) {
      permission["IpRanges"] = Json::array({{{"CidrIp", input["CidrIp"]}}});
    }
    if (input.contains("SourceSecurityGroupName")) {
      permission["UserIdGroupPairs"] =
          Json::array({{{"GroupName", input["SourceSecurityGroupName"]}}});
    }
    permissions = Json::array({permission});
  }
  std::vector<RuleSpec> specs;
  for (const auto& permission : permissions) {
    RuleSpec base;
    if (auto error = Ports(permission, &base)) return *error;
    size_t before = specs.size();
    for (const auto& range : permission.value("IpRanges", Json::array())) {
      std::string cidr = range.value("CidrIp", "");
      if (!ParseCidr(cidr)) return Malformed(cidr);
      RuleSpec spec = base;
      spec.source.cidr_ipv4 = cidr;
      spec.source.description = range.value("Description", "");
      specs.push_back(spec);
    }
    for (const auto& range : permission.value("Ipv6Ranges", Json::array())) {
      std::string cidr = range.value("CidrIpv6", "");
      if (!LooksLikeIpv6Cidr(cidr)) return Malformed(cidr);
      RuleSpec spec = base;
      spec.source.cidr_ipv6 = cidr;
      spec.source.description = range.value("Description", "");
      specs.push_back(spec);
    }
    for (const auto& list : permission.value("PrefixListIds", Json::array())) {
      RuleSpec spec = base;
      spec.source.prefix_list_id = list.value("PrefixListId", "");
      spec.source.description = list.value("Description", "");
      specs.push_back(spec);
    }
    for (const auto& pair : permission.value("UserIdGroupPairs", Json::array())) {
      bool by_name = !pair.contains("GroupId");
      auto found = groups(pair.value(by_name ? "GroupName" : "GroupId", ""), by_name);
      if (auto* error = std::get_if<api::ApiError>(&found)) return *error;
      RuleSpec spec = base;
      spec.source.group_id = std::get<std::string>(found);
      spec.source.description = pair.value("Description", "");
      specs.push_back(spec);
    }
    if (specs.size() == before) {
      // A permission with no source at all; not confirmed against AWS word for word.
      return MissingParameter("IpPermissions.IpRanges or IpPermissions.UserIdGroupPairs");
    }
  }
  return specs;
}

bool SameRule(const RuleSpec& spec, const Json& rule) {
  auto text = [&](const char* member) { return rule.value(member, std::string()); };
  std::string group =
      rule.contains("ReferencedGroupInfo") ? rule["ReferencedGroupInfo"].value("GroupId", "") : "";
  return rule["IpProtocol"] == spec.protocol && rule["FromPort"] == spec.from_port &&
         rule["ToPort"] == spec.to_port && text("CidrIpv4") == spec.source.cidr_ipv4 &&
         text("CidrIpv6") == spec.source.cidr_ipv6 &&
         text("PrefixListId") == spec.source.prefix_list_id && group == spec.source.group_id;
}

std::string RuleText(const RuleSpec& spec) {
  const RuleSource& s = spec.source;
  std::string peer = !s.cidr_ipv4.empty()        ? s.cidr_ipv4
                     : !s.cidr_ipv6.empty()      ? s.cidr_ipv6
                     : !s.prefix_list_id.empty() ? s.prefix_list_id
                                                 : s.group_id;
  std::string text = "peer: " + peer + ", ";
  std::string upper = spec.protocol;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (spec.protocol == "-1") {
    text += "ALL";
  } else if (spec.protocol == "tcp" || spec.protocol == "udp") {
    text += upper + ", from port: " + std::to_string(spec.from_port) +
            ", to port: " + std::to_string(spec.to_port);
  } else if (spec.protocol == "icmp" || spec.protocol == "icmpv6") {
    // The ICMP form is not confirmed against AWS word for word.
    text += upper + ", type: " + std::to_string(spec.from_port) +
            ", code: " + std::to_string(spec.to_port);
  } else {
    text += upper;
  }
  return text + ", ALLOW";
}

Json PermissionOf(const RuleSpec& spec) {
  Scope none;
  return PermissionOf(RuleDoc(none, "", "", false, spec.protocol, spec.from_port, spec.to_port,
                              spec.source, Json::array()));
}

}  // namespace understudy::ec2
