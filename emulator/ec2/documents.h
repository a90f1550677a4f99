// Documents: VPCs, subnets, security groups and their rules as EC2 describes them.
// Internal to ec2/. Pure; any thread.
//
// Each builder returns the resource in its Describe* output shape. A security group
// keeps its rules in `_rules` (SecurityGroupRule documents, each with its sgr- id);
// SecurityGroupView() folds them into IpPermissions and IpPermissionsEgress.
#pragma once

#include <functional>
#include <string>

#include "core/arn.h"
#include "core/json.h"
#include "ec2/cidr.h"
#include "ec2/zones.h"

namespace understudy::ec2 {

// Draws a new id with the given prefix ("sgr", "vpc-cidr-assoc"...).
using IdSource = std::function<std::string(const std::string& prefix)>;

// A VPC in state available with one associated IPv4 block.
Json VpcDoc(const Scope& scope, const IdSource& ids, const std::string& vpc_id, const Cidr& cidr,
            bool is_default, const std::string& tenancy, const Json& tags);
// A subnet in state available. Default subnets map public IPs on launch.
Json SubnetDoc(const Scope& scope, const std::string& subnet_id, const std::string& vpc_id,
               const Cidr& cidr, const Zone& zone, bool default_for_az, const Json& tags);
// A security group with EC2's initial rules: all traffic out to 0.0.0.0/0 and, for a
// VPC's `default` group, all traffic in from the group itself.
Json SecurityGroupDoc(const Scope& scope, const IdSource& ids, const std::string& group_id,
                      const std::string& name, const std::string& description,
                      const std::string& vpc_id, bool vpc_default, const Json& tags);

// One rule's source: exactly one of its members is set.
struct RuleSource {
  std::string cidr_ipv4;
  std::string cidr_ipv6;
  std::string prefix_list_id;
  std::string group_id;  // a referenced security group
  std::string description;
};
// A SecurityGroupRule document. `protocol` is EC2's canonical form ("tcp", "udp",
// "icmp", "icmpv6", "-1" or a number); ports are -1 when they do not apply.
Json RuleDoc(const Scope& scope, const std::string& rule_id, const std::string& group_id,
             bool egress, const std::string& protocol, int64_t from_port, int64_t to_port,
             const RuleSource& source, const Json& tags);

// The security group as DescribeSecurityGroups shows it.
Json SecurityGroupView(const Json& doc);
// A rule's permission as IpPermission documents list it (for unknownIpPermissionSet).
Json PermissionOf(const Json& rule);

}  // namespace understudy::ec2
