// Elbv2: the Application Load Balancer's control plane (ELBv2 API on the front door).
//
// Load balancers, target groups and their targets, listeners, rules, attributes,
// certificates and tags, persisted in the store and reloaded at start. After every
// change it publishes a fresh RoutingSnapshot to the DataPlane and tells the health
// checker which targets to probe; listeners are opened on 127.0.0.1 through the
// DataPlane, each on a local port that stays the same for a state dir.
// Every resource belongs to one (account, region) scope. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "elb/data_plane.h"
#include "elb/target_health.h"

namespace understudy::elb {

// Where a subnet is: what CreateLoadBalancer and SetSubnets show for it.
struct SubnetInfo {
  std::string vpc_id;
  std::string availability_zone;
};

struct Elbv2Options {
  // The state dir; access logs go to <state_dir>/alb-access-logs/<bucket>/<prefix>.
  std::string state_dir;
  // Resolves a subnet id; nullopt: the subnet does not exist (SubnetNotFound); an
  // empty zone: unknown but accepted, placed like the i-th subnet below.
  // Unset: every subnet exists, in VPC "vpc-local", the i-th distinct subnet of a
  // request in availability zone <region> + 'a' + i.
  std::function<std::optional<SubnetInfo>(const Scope&, const std::string& subnet_id)>
      resolve_subnet;
  // The pid whose network namespace an `ip` target lives in (an awsvpc task), or
  // nullopt when it is an address on the host. Unset: every address is on the host.
  std::function<std::optional<int>(const std::string& ip)> resolve_target_namespace;
  // Issues the certificate HTTPS listeners present for a load balancer's DNS names
  // (certificate chain PEM, private key PEM). Unset: HTTPS listeners cannot
  // complete a handshake.
  std::function<Result<std::pair<std::string, std::string>>(const std::vector<std::string>&)>
      issue_certificate;
};

// What the control plane needs from target health checking. HealthChecker provides
// it in the server (HealthCheckerSource); unit tests script it. Loop thread only.
class TargetHealthSource {
 public:
  virtual ~TargetHealthSource() = default;
  virtual void SetOnChange(std::function<void()> on_change) = 0;
  virtual void SetTargets(std::vector<CheckedTarget> targets) = 0;
  virtual TargetHealthReport Health(const TargetKey& key) const = 0;
  virtual double SlowStartFactor(const TargetKey& key) const = 0;
  virtual void Clear() = 0;
};

// `checker` as a TargetHealthSource; it must outlive the result.
std::unique_ptr<TargetHealthSource> HealthCheckerSource(HealthChecker& checker);

class Elbv2 {
 public:
  // Creates or migrates ELBv2's tables, loads what they hold, reopens every listener
  // (on its earlier local port when it can) and publishes the first snapshot.
  // `random` is ELBv2's own stream (ids, DNS names). `data_plane` and `health` must
  // outlive the Elbv2.
  static Result<std::unique_ptr<Elbv2>> Open(EventLoop& loop, Store& store, Journal& journal,
                                             Clock& clock, Random random, DataPlane& data_plane,
                                             TargetHealthSource& health, Elbv2Options options);
  virtual ~Elbv2() = default;

  // Registers the ELBv2 operations, the reset hook, GET /_understudy/elb and the wait
  // condition "elbTargetHealth": {"targetGroupArn", "id", "port"?, "state"}.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // Drops every ELBv2 resource in every scope and closes every listener.
  virtual Status Reset() = 0;
  // Every load balancer with its listeners and their local ports, as GET
  // /_understudy/elb answers.
  virtual Json Describe() const = 0;

  // For other components (ECS services register their tasks): the target operations
  // by scope and target group ARN, without the query protocol.
  struct TargetGroupView {
    std::string target_type;                      // "ip", "instance", "lambda", "alb"
    std::vector<std::string> load_balancer_arns;  // load balancers forwarding to it
    int64_t deregistration_delay_seconds = 300;   // deregistration_delay.timeout_seconds
  };
  // Target group `arn` of `scope`, or nothing when it does not exist.
  virtual std::optional<TargetGroupView> FindTargetGroup(const Scope& scope,
                                                         const std::string& arn) const = 0;
  // RegisterTargets / DeregisterTargets of one target; the error's message on failure.
  virtual Status RegisterTarget(const Scope& scope, const std::string& arn, const std::string& id,
                                int port) = 0;
  virtual Status DeregisterTarget(const Scope& scope, const std::string& arn, const std::string& id,
                                  int port) = 0;
  // For CloudWatch's AWS/ApplicationELB metrics: every target group with the load
  // balancers forwarding to it, its targets' states and their data-plane counters.
  struct TargetSample {
    std::string id;
    uint16_t port = 0;
    std::string state;  // DescribeTargetHealth's State
    TargetCounters counters;
  };
  struct TargetGroupSample {
    Scope scope;
    std::string arn;
    std::vector<std::string> load_balancer_arns;
    std::vector<TargetSample> targets;
  };
  virtual std::vector<TargetGroupSample> SampleTargetGroups() const = 0;
  // The TargetHealth shape ({State, Reason?, Description?}) DescribeTargetHealth shows
  // for the target; State "unused" when the group does not exist.
  virtual Json TargetHealth(const Scope& scope, const std::string& arn, const std::string& id,
                            int port) const = 0;
  // The Rule shape of listener rule `rule_arn` (default rules too), or nothing.
  virtual std::optional<Json> FindRule(const Scope& scope, const std::string& rule_arn) const = 0;
  // Makes rule `rule_arn` forward to `weights` (target group ARN, weight), as ECS
  // blue/green deployments shift traffic (ModifyRule with a weighted forward action;
  // the rule's other actions and its stickiness are kept). The error's message on failure.
  virtual Status SetForwardWeights(const Scope& scope, const std::string& rule_arn,
                                   const std::vector<std::pair<std::string, int>>& weights) = 0;
};

}  // namespace understudy::elb
