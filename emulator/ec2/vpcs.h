// Vpcs: VPCs, every scope's default VPC, and the account attributes that name it.
// Internal to ec2/.
//
// The first time a scope is used (any EC2 call, or a reference from another service)
// it gets AWS's defaults: a default VPC 172.31.0.0/16, one default subnet per zone
// (172.31.0.0/20, 172.31.16.0/20, 172.31.32.0/20) and the VPC's `default` security
// group, with ids from the scope's own stream (ResourceStore::DefaultsStream), so
// they are the same for the same seed whenever the scope is first used. They are
// not journaled: to a client they have existed all along. Loop thread only.
#pragma once

#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/journal.h"
#include "ec2/documents.h"
#include "ec2/resource_store.h"

namespace understudy::ec2 {

class Vpcs {
 public:
  Vpcs(ResourceStore& resources, Journal& journal);

  // Makes the scope's defaults unless they were made before (and maybe deleted since).
  Status EnsureDefaults(const Scope& scope);
  // The scope's default VPC, or nullptr when it was deleted.
  const Json* DefaultVpc(const Scope& scope) const;

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);
  api::ApiResult CreateDefault(const Scope& scope, const Json& input);
  api::ApiResult DescribeAccountAttributes(const Scope& scope, const Json& input);

 private:
  // A default VPC with its subnets and group, ids drawn from `ids`; sets `vpc_id`.
  std::vector<Change> DefaultVpcChanges(const Scope& scope, const IdSource& ids,
                                        std::string* vpc_id) const;
  IdSource NewIds();

  ResourceStore& resources_;
  Journal& journal_;
};

}  // namespace understudy::ec2
