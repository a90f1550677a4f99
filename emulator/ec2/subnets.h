// Subnets: CreateSubnet, DescribeSubnets and DeleteSubnet. Internal to ec2/.
//
// A subnet's block must lie inside its VPC's block, be /16 to /28, and not overlap
// another subnet of the VPC. Without a zone, CreateSubnet picks the zone with the
// fewest subnets of the VPC (the first on a tie), so the choice is deterministic.
// Loop thread only.
#pragma once

#include "api/api_error.h"
#include "core/journal.h"
#include "ec2/resource_store.h"

namespace understudy::ec2 {

class Subnets {
 public:
  Subnets(ResourceStore& resources, Journal& journal);

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);

 private:
  ResourceStore& resources_;
  Journal& journal_;
};

}  // namespace understudy::ec2
