#include "ec2/ec2.h"

#include <set>
#include <tuple>

#include "core/log.h"
#include "ec2/ec2_internal.h"
#include "ec2/resource_store.h"
#include "ec2/security_groups.h"
#include "ec2/subnets.h"
#include "ec2/tags.h"
#include "ec2/vpcs.h"
#include "ec2/zones.h"

namespace understudy::ec2 {
namespace {

using Handler = std::function<api::ApiResult(const Scope&, const Json&)>;

class Ec2Impl final : public Ec2 {
 public:
  Ec2Impl(Store& store, Journal& journal, Random random, const Ec2Options& options)
      : options_(options),
        resources_(store, std::move(random)),
        vpcs_(resources_, journal),
        subnets_(resources_, journal),
        groups_(resources_, journal),
        tags_(resources_, journal) {}

  Status Open() { return resources_.Open(); }

  // Ec2
  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op, Handler handler) {
      front_door.Register("ec2", op,
                          [this, handler](const api::RequestContext& ctx, const Json& input) {
                            return Call(ctx.scope, input, handler);
                          });
    };
    using std::placeholders::_1;
    using std::placeholders::_2;
    add("CreateVpc", std::bind(&Vpcs::Create, &vpcs_, _1, _2));
    add("DescribeVpcs", std::bind(&Vpcs::Describe, &vpcs_, _1, _2));
    add("DeleteVpc", std::bind(&Vpcs::Delete, &vpcs_, _1, _2));
    add("CreateDefaultVpc", std::bind(&Vpcs::CreateDefault, &vpcs_, _1, _2));
    add("DescribeAccountAttributes", std::bind(&Vpcs::DescribeAccountAttributes, &vpcs_, _1, _2));
    add("CreateSubnet", std::bind(&Subnets::Create, &subnets_, _1, _2));
    add("DescribeSubnets", std::bind(&Subnets::Describe, &subnets_, _1, _2));
    add("DeleteSubnet", std::bind(&Subnets::Delete, &subnets_, _1, _2));
    add("CreateSecurityGroup", std::bind(&SecurityGroups::Create, &groups_, _1, _2));
    add("DescribeSecurityGroups", std::bind(&SecurityGroups::Describe, &groups_, _1, _2));
    add("DeleteSecurityGroup", std::bind(&SecurityGroups::Delete, &groups_, _1, _2));
    add("AuthorizeSecurityGroupIngress",
        std::bind(&SecurityGroups::Authorize, &groups_, _1, _2, false));
    add("AuthorizeSecurityGroupEgress",
        std::bind(&SecurityGroups::Authorize, &groups_, _1, _2, true));
    add("RevokeSecurityGroupIngress", std::bind(&SecurityGroups::Revoke, &groups_, _1, _2, false));
    add("RevokeSecurityGroupEgress", std::bind(&SecurityGroups::Revoke, &groups_, _1, _2, true));
    add("DescribeSecurityGroupRules", std::bind(&SecurityGroups::DescribeRules, &groups_, _1, _2));
    add("CreateTags", std::bind(&Tags::Create, &tags_, _1, _2));
    add("DeleteTags", std::bind(&Tags::Delete, &tags_, _1, _2));
    add("DescribeTags", std::bind(&Tags::Describe, &tags_, _1, _2));
    add("DescribeAvailabilityZones", &DescribeAvailabilityZones);
    add("DescribeRegions", &DescribeRegions);
    control.AddResetHook([this] { return Reset(); });
  }

  Status Reset() override {
    warned_.clear();
    return resources_.Reset();
  }

  Reference<VpcInfo> FindVpc(const Scope& scope, const std::string& vpc_id) override {
    if (auto error = Defaults(scope)) return *error;
    const Json* vpc = resources_.Find(scope, Kind::kVpc, vpc_id);
    if (vpc == nullptr) return VpcNotFound(vpc_id);
    return InfoOf(*vpc);
  }

  Reference<SubnetInfo> FindSubnet(const Scope& scope, const std::string& subnet_id) override {
    if (auto error = Defaults(scope)) return *error;
    const Json* s = resources_.Find(scope, Kind::kSubnet, subnet_id);
    if (s == nullptr) return SubnetNotFound(subnet_id);
    return SubnetInfo{subnet_id, (*s)["VpcId"], (*s)["AvailabilityZone"],
                      (*s)["AvailabilityZoneId"], (*s)["CidrBlock"]};
  }

  Reference<SecurityGroupInfo> FindSecurityGroup(const Scope& scope,
                                                 const std::string& group_id) override {
    if (auto error = Defaults(scope)) return *error;
    const Json* g = resources_.Find(scope, Kind::kSecurityGroup, group_id);
    if (g == nullptr) return GroupNotFound(group_id);
    return SecurityGroupInfo{group_id, (*g)["GroupName"], (*g)["VpcId"]};
  }

  Reference<VpcInfo> ResolveVpc(const Scope& scope, const std::string& vpc_id) override {
    auto found = FindVpc(scope, vpc_id);
    if (found.ok() || !Lenient(scope, "VPC", vpc_id, found.error())) return found;
    return Reference<VpcInfo>(VpcInfo{vpc_id, "", false}, true);
  }

  Reference<SubnetInfo> ResolveSubnet(const Scope& scope, const std::string& subnet_id) override {
    auto found = FindSubnet(scope, subnet_id);
    if (found.ok() || !Lenient(scope, "subnet", subnet_id, found.error())) return found;
    Zone zone = ZonesOf(scope.region).front();
    return Reference<SubnetInfo>(SubnetInfo{subnet_id, DefaultVpcId(scope), zone.name, zone.id, ""},
                                 true);
  }

  Reference<SecurityGroupInfo> ResolveSecurityGroup(const Scope& scope,
                                                    const std::string& group_id) override {
    auto found = FindSecurityGroup(scope, group_id);
    if (found.ok() || !Lenient(scope, "security group", group_id, found.error())) return found;
    return Reference<SecurityGroupInfo>(SecurityGroupInfo{group_id, "", DefaultVpcId(scope)}, true);
  }

  std::optional<VpcInfo> DefaultVpc(const Scope& scope) override {
    if (Defaults(scope)) return std::nullopt;
    const Json* vpc = vpcs_.DefaultVpc(scope);
    if (vpc == nullptr) return std::nullopt;
    return InfoOf(*vpc);
  }

  bool strict_references() const override { return options_.strict_references; }

 private:
  // Runs an operation: DryRun answered as EC2 does, the scope's defaults made first.
  api::ApiResult Call(const Scope& scope, const Json& input, const Handler& handler) {
    if (input.value("DryRun", false)) {
      return api::ApiError::Client("DryRunOperation",
                                   "Request would have succeeded, but DryRun flag is set.", 412);
    }
    if (auto error = Defaults(scope)) return *error;
    return handler(scope, input);
  }

  std::optional<api::ApiError> Defaults(const Scope& scope) {
    Status status = vpcs_.EnsureDefaults(scope);
    if (status.ok()) return std::nullopt;
    return api::ApiError::Server("InternalError", status.message());
  }

  static VpcInfo InfoOf(const Json& vpc) {
    return VpcInfo{vpc["VpcId"], vpc["CidrBlock"], vpc["IsDefault"].get<bool>()};
  }

  std::string DefaultVpcId(const Scope& scope) const {
    const Json* vpc = vpcs_.DefaultVpc(scope);
    return vpc == nullptr ? "" : (*vpc)["VpcId"].get<std::string>();
  }

  // Whether the lenient policy accepts the unknown id (warning once per id).
  bool Lenient(const Scope& scope, const std::string& what, const std::string& id,
               const api::ApiError& error) {
    if (options_.strict_references || error.http_status >= 500) return false;
    if (warned_.insert({scope.account, scope.region, id}).second) {
      Log(LogLevel::kWarn, "ec2: unknown " + what + " '" + id + "' in " + scope.account + "/" +
                               scope.region + " accepted (--strict-references refuses it with " +
                               error.code + ")");
    }
    return true;
  }

  Ec2Options options_;
  ResourceStore resources_;
  Vpcs vpcs_;
  Subnets subnets_;
  SecurityGroups groups_;
  Tags tags_;
  std::set<std::tuple<std::string, std::string, std::string>> warned_;
};

}  // namespace

Result<std::unique_ptr<Ec2>> Ec2::Open(Store& store, Journal& journal, Random random,
                                       const Ec2Options& options) {
  auto ec2 = std::make_unique<Ec2Impl>(store, journal, std::move(random), options);
  US_RETURN_IF_ERROR(ec2->Open());
  return std::unique_ptr<Ec2>(std::move(ec2));
}

}  // namespace understudy::ec2
