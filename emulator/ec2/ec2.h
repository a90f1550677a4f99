// Ec2: the EC2 networking resources other services refer to — VPCs, subnets,
// security groups and their rules, tags, zones, regions and account attributes —
// spoken in EC2's query protocol on the front door. It stores and checks them; it
// builds no network.
//
// Every (account, region) scope has AWS's defaults from its first use: a default VPC
// (172.31.0.0/16), a default subnet per zone and `default` security groups
// (docs/ec2.md). Everything is persisted in the store and dropped by reset.
//
// Other components (ELB, ECS through the app's wiring) check the ids their callers
// give through the lookups below. Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "api/api_error.h"
#include "api/control_api.h"
#include "api/front_door.h"
#include "core/arn.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::ec2 {

struct Ec2Options {
  // --strict-references: an unknown id given to another service is refused with
  // EC2's error instead of accepted with a warning. Default false.
  bool strict_references = false;
};

struct VpcInfo {
  std::string vpc_id;
  std::string cidr;  // "172.31.0.0/16"; empty when synthesized
  bool is_default = false;
};

struct SubnetInfo {
  std::string subnet_id;
  std::string vpc_id;
  std::string availability_zone;     // "us-east-1a"
  std::string availability_zone_id;  // "use1-az1"
  std::string cidr;                  // empty when synthesized
};

struct SecurityGroupInfo {
  std::string group_id;
  std::string group_name;  // empty when synthesized
  std::string vpc_id;
};

// What a lookup of an id answers: the resource, or the EC2 error (code and message
// as EC2 words them, e.g. InvalidSubnetID.NotFound "The subnet ID 'subnet-1' does
// not exist") for the caller to answer with or to quote in its own service's error.
template <typename T>
class Reference {
 public:
  Reference(T value, bool synthesized = false)  // NOLINT: implicit by design
      : value_(std::move(value)), synthesized_(synthesized) {}
  Reference(api::ApiError error) : value_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }
  // REQUIRES: ok().
  const T& value() const { return std::get<T>(value_); }
  // REQUIRES: !ok().
  const api::ApiError& error() const { return std::get<api::ApiError>(value_); }
  // True when the id is unknown and the lenient policy stood in a made-up resource.
  bool synthesized() const { return synthesized_; }

 private:
  std::variant<T, api::ApiError> value_;
  bool synthesized_ = false;
};

class Ec2 {
 public:
  // Creates or migrates EC2's tables and loads what they hold. `random` is EC2's
  // own stream (resource ids; each scope's defaults fork their own from it).
  static Result<std::unique_ptr<Ec2>> Open(Store& store, Journal& journal, Random random,
                                           const Ec2Options& options = {});
  virtual ~Ec2() = default;

  // Registers EC2's operations and its reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // Drops every resource of every scope; each scope gets fresh defaults on next use.
  virtual Status Reset() = 0;

  // Exact lookups: the resource of `scope`, or EC2's NotFound (or Malformed) error.
  virtual Reference<VpcInfo> FindVpc(const Scope& scope, const std::string& vpc_id) = 0;
  virtual Reference<SubnetInfo> FindSubnet(const Scope& scope, const std::string& subnet_id) = 0;
  virtual Reference<SecurityGroupInfo> FindSecurityGroup(const Scope& scope,
                                                         const std::string& group_id) = 0;

  // Lookups under the references policy, for ids another service's caller gave.
  // A known id answers as the exact lookup does. An unknown one is refused with
  // EC2's error under --strict-references; otherwise it is accepted, logged once per
  // id as a warning, and answered with a synthesized resource (synthesized() true):
  // in the scope's default VPC, a subnet in zone <region>a.
  virtual Reference<VpcInfo> ResolveVpc(const Scope& scope, const std::string& vpc_id) = 0;
  virtual Reference<SubnetInfo> ResolveSubnet(const Scope& scope, const std::string& subnet_id) = 0;
  virtual Reference<SecurityGroupInfo> ResolveSecurityGroup(const Scope& scope,
                                                            const std::string& group_id) = 0;

  // The scope's default VPC (made on first use), or nothing when it was deleted.
  virtual std::optional<VpcInfo> DefaultVpc(const Scope& scope) = 0;
  virtual bool strict_references() const = 0;
};

}  // namespace understudy::ec2
