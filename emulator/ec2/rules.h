// Rules: security group rules as Authorize*/Revoke* requests spell them. Internal to
// ec2/. Pure; any thread.
//
// A request gives rules as IpPermissions (one permission may carry several sources)
// or, the older way, as flat CidrIp / IpProtocol / FromPort / ToPort /
// SourceSecurityGroupName members. Both become RuleSpecs: one protocol, one port
// range, one source. Protocols are canonical ("6" is "tcp", "all" is "-1").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/api_error.h"
#include "core/json.h"
#include "ec2/documents.h"

namespace understudy::ec2 {

struct RuleSpec {
  std::string protocol;  // "tcp", "udp", "icmp", "icmpv6", "-1" or a protocol number
  int64_t from_port = -1;
  int64_t to_port = -1;
  RuleSource source;
};

// Finds a referenced group by id (`by_name` false) or by name; its id, or the error.
using GroupResolver = std::function<std::variant<std::string, api::ApiError>(
    const std::string& id_or_name, bool by_name)>;

// The rules `input` asks for, or the first thing wrong with them.
std::variant<std::vector<RuleSpec>, api::ApiError> RuleSpecsFrom(const Json& input,
                                                                 const GroupResolver& groups);
// EC2's canonical protocol for `text`, or nothing when it names none.
std::optional<std::string> CanonicalProtocol(const std::string& text);
// True when `rule` (a SecurityGroupRule document) has the spec's protocol, ports and
// source (descriptions aside).
bool SameRule(const RuleSpec& spec, const Json& rule);
// How EC2 spells a rule in InvalidPermission.Duplicate:
// peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW
std::string RuleText(const RuleSpec& spec);
// The spec as one IpPermission document.
Json PermissionOf(const RuleSpec& spec);

}  // namespace understudy::ec2
