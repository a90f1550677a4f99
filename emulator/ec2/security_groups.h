// SecurityGroups: security groups and their rules. Internal to ec2/.
//
// Each rule is one protocol, port range and source (an IPv4 or IPv6 block, a prefix
// list or another group) with an sgr- id; DescribeSecurityGroups folds rules into
// IpPermissions as EC2 does. Authorize refuses a rule that exists
// (InvalidPermission.Duplicate); Revoke of a rule that does not exist is refused in a
// VPC of the user's and reported in UnknownIpPermissions in the default VPC, as EC2
// documents. A group referenced by another group's rule, and a VPC's `default`
// group, cannot be deleted. Loop thread only.
#pragma once

#include "api/api_error.h"
#include "core/journal.h"
#include "ec2/resource_store.h"

namespace understudy::ec2 {

class SecurityGroups {
 public:
  SecurityGroups(ResourceStore& resources, Journal& journal);

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);
  api::ApiResult Authorize(const Scope& scope, const Json& input, bool egress);
  api::ApiResult Revoke(const Scope& scope, const Json& input, bool egress);
  api::ApiResult DescribeRules(const Scope& scope, const Json& input);

 private:
  // The group input's GroupId names, or (when `by_name`) its GroupName in the default
  // VPC; sets `error` when there is none.
  const Json* GroupFor(const Scope& scope, const Json& input, bool by_name,
                       std::optional<api::ApiError>* error) const;
  // The group named `name` in the scope's default VPC, or nullptr.
  const Json* ByNameInDefaultVpc(const Scope& scope, const std::string& name) const;
  std::string DefaultVpcId(const Scope& scope) const;

  ResourceStore& resources_;
  Journal& journal_;
};

}  // namespace understudy::ec2
