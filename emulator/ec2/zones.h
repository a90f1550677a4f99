// Zones: the regions and availability zones EC2 describes. Internal to ec2/. Pure; any thread.
//
// Every region has three zones, <region>a, b and c. AWS maps zone names to zone ids
// differently per account; understudy uses one fixed mapping for every account:
// <region>a is <code>-az1, b is -az2, c is -az3, where <code> is AWS's short form of the
// region ("use1" for us-east-1, "euc1" for eu-central-1, "apne1" for ap-northeast-1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/json.h"

namespace understudy::ec2 {

struct Zone {
  std::string name;  // "us-east-1a"
  std::string id;    // "use1-az1"
};

// The zones of `region`, in name order.
std::vector<Zone> ZonesOf(const std::string& region);
// The zone of `region` named `name_or_id` (a zone name or a zone id), if any.
std::optional<Zone> FindZone(const std::string& region, const std::string& name_or_id);
// AWS's short form of a region name: "us-east-1" -> "use1", "us-gov-west-1" -> "usgw1".
std::string RegionCode(const std::string& region);

// DescribeAvailabilityZones for the scope's region (ZoneNames, ZoneIds, Filters).
api::ApiResult DescribeAvailabilityZones(const Scope& scope, const Json& input);
// DescribeRegions: the commercial regions that need no opt-in, plus the scope's own.
api::ApiResult DescribeRegions(const Scope& scope, const Json& input);

}  // namespace understudy::ec2
