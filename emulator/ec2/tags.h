// Tags: CreateTags, DeleteTags and DescribeTags over VPCs, subnets, security groups
// and security group rules. Internal to ec2/.
//
// Every resource id must exist before any tag changes, so a request naming one
// unknown id changes nothing. DeleteTags without Tags removes every tag; a tag with
// a Value removes the key only when the value matches. Loop thread only.
#pragma once

#include "api/api_error.h"
#include "core/journal.h"
#include "ec2/resource_store.h"

namespace understudy::ec2 {

class Tags {
 public:
  Tags(ResourceStore& resources, Journal& journal);

  api::ApiResult Create(const Scope& scope, const Json& input);
  api::ApiResult Delete(const Scope& scope, const Json& input);
  api::ApiResult Describe(const Scope& scope, const Json& input);

 private:
  // Applies `edit` to the tags of every resource in input's Resources; the first
  // unknown id's error, or the store's failure, changes nothing.
  api::ApiResult Edit(const Scope& scope, const Json& input,
                      const std::function<Json(const Json& tags)>& edit);

  ResourceStore& resources_;
  Journal& journal_;
};

}  // namespace understudy::ec2
