// The ELBv2 control plane's state and operations. Internal to elb/.
//
// Resources are kept in memory as model-shaped JSON plus what the API does not
// show (attributes, tags, targets, local ports) and written through to the
// `elbv2_resources` table on every change. The operations are split by resource
// over load_balancers.cc, target_groups.cc, targets.cc, listeners.cc, rules.cc and
// tags.cc; snapshot.cc turns the state into a RoutingSnapshot. Loop thread only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/json.h"
#include "core/random.h"
#include "core/store.h"
#include "elb/data_plane.h"
#include "elb/elbv2.h"

namespace understudy::elb {

using api::ApiError;
using api::ApiResult;

// ELBv2's errors, by query code.
inline ApiError ElbError(std::string code, std::string message) {
  return ApiError::Client(std::move(code), std::move(message));
}
inline ApiError ValidationError(std::string message) {
  return ElbError("ValidationError", std::move(message));
}
inline ApiError InvalidConfiguration(std::string message) {
  return ElbError("InvalidConfigurationRequest", std::move(message));
}

inline ApiError InvalidLoadBalancerAction(std::string message) {
  return ElbError("InvalidLoadBalancerAction", std::move(message));
}

// "app/<name>/<id>" from a load balancer ARN; listener and rule ARNs continue it.
inline std::string ResourcePath(const std::string& arn, const std::string& kind) {
  size_t at = arn.find(":" + kind + "/");
  return at == std::string::npos ? "" : arn.substr(at + kind.size() + 2);
}

using Attributes = std::map<std::string, std::string>;

struct LoadBalancerRecord {
  Scope scope;
  Json doc;  // the LoadBalancer shape
  Attributes attributes;
  Json tags = Json::array();
};

struct TargetRecord {
  std::string id;
  uint16_t port = 0;  // the registered port, or the target group's
  std::string availability_zone;
  bool draining = false;
  TimePoint drain_until{};
  TimerId drain_timer = 0;
};

struct TargetGroupRecord {
  Scope scope;
  Json doc;  // the TargetGroup shape, LoadBalancerArns left out (derived)
  Attributes attributes;
  Json tags = Json::array();
  std::vector<TargetRecord> targets;
};

struct ListenerRecord {
  Scope scope;
  Json doc;  // the Listener shape
  Attributes attributes;
  Json tags = Json::array();
  Json certificates = Json::array();  // non-default certificates (AddListenerCertificates)
  uint16_t local_port = 0;            // bound on 127.0.0.1; 0 when it could not be opened
};

struct RuleRecord {
  Scope scope;
  std::string listener_arn;
  Json doc;  // the Rule shape
  Json tags = Json::array();
};

class Service {
 public:
  Service(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
          DataPlane& data_plane, TargetHealthSource& health, Elbv2Options options);
  ~Service();

  // persistence.cc
  Status Open();
  Status Reset();

  // load_balancers.cc
  ApiResult CreateLoadBalancer(const Scope& scope, const Json& input);
  ApiResult DescribeLoadBalancers(const Scope& scope, const Json& input);
  ApiResult DeleteLoadBalancer(const Scope& scope, const Json& input);
  ApiResult DescribeLoadBalancerAttributes(const Scope& scope, const Json& input);
  ApiResult ModifyLoadBalancerAttributes(const Scope& scope, const Json& input);
  ApiResult SetSecurityGroups(const Scope& scope, const Json& input);
  ApiResult SetSubnets(const Scope& scope, const Json& input);
  ApiResult SetIpAddressType(const Scope& scope, const Json& input);

  // target_groups.cc
  ApiResult CreateTargetGroup(const Scope& scope, const Json& input);
  ApiResult DescribeTargetGroups(const Scope& scope, const Json& input);
  ApiResult ModifyTargetGroup(const Scope& scope, const Json& input);
  ApiResult DeleteTargetGroup(const Scope& scope, const Json& input);
  ApiResult DescribeTargetGroupAttributes(const Scope& scope, const Json& input);
  ApiResult ModifyTargetGroupAttributes(const Scope& scope, const Json& input);

  // targets.cc
  ApiResult RegisterTargets(const Scope& scope, const Json& input);
  ApiResult DeregisterTargets(const Scope& scope, const Json& input);
  ApiResult DescribeTargetHealth(const Scope& scope, const Json& input);
  // The TargetHealth shape DescribeTargetHealth shows for target (id, port) of `tg`,
  // registered or not.
  Json TargetHealthOf(const TargetGroupRecord& tg, const std::string& id, uint16_t port) const;

  // listeners.cc
  ApiResult CreateListener(const Scope& scope, const Json& input);
  ApiResult DescribeListeners(const Scope& scope, const Json& input);
  ApiResult ModifyListener(const Scope& scope, const Json& input);
  ApiResult DeleteListener(const Scope& scope, const Json& input);
  ApiResult DescribeListenerAttributes(const Scope& scope, const Json& input);
  ApiResult ModifyListenerAttributes(const Scope& scope, const Json& input);
  ApiResult AddListenerCertificates(const Scope& scope, const Json& input);
  ApiResult DescribeListenerCertificates(const Scope& scope, const Json& input);
  ApiResult RemoveListenerCertificates(const Scope& scope, const Json& input);

  // rules.cc
  ApiResult CreateRule(const Scope& scope, const Json& input);
  ApiResult DescribeRules(const Scope& scope, const Json& input);
  ApiResult ModifyRule(const Scope& scope, const Json& input);
  ApiResult DeleteRule(const Scope& scope, const Json& input);
  ApiResult SetRulePriorities(const Scope& scope, const Json& input);

  // tags.cc
  ApiResult AddTags(const Scope& scope, const Json& input);
  ApiResult RemoveTags(const Scope& scope, const Json& input);
  ApiResult DescribeTags(const Scope& scope, const Json& input);
  ApiResult DescribeSslPolicies(const Scope& scope, const Json& input);
  ApiResult DescribeAccountLimits(const Scope& scope, const Json& input);

  // snapshot.cc
  // Rebuilds the routing snapshot and hands it to the data plane; with
  // `targets_changed`, first tells the health checker which targets to probe.
  // Journals every change of a target's health.
  void Publish(bool targets_changed = true);
  // The snapshot the state gives now (version not yet set).
  RoutingSnapshot BuildSnapshot() const;
  // Targets the health checker should probe now.
  std::vector<CheckedTarget> CheckedTargets() const;
  // GET /_understudy/elb.
  Json Describe() const;

  // Lookups in `scope`; nullptr when absent.
  LoadBalancerRecord* FindLoadBalancer(const Scope& scope, const std::string& arn);
  TargetGroupRecord* FindTargetGroup(const Scope& scope, const std::string& arn);
  ListenerRecord* FindListener(const Scope& scope, const std::string& arn);
  RuleRecord* FindRule(const Scope& scope, const std::string& arn);
  const TargetGroupRecord* FindTargetGroup(const Scope& scope, const std::string& arn) const;
  const RuleRecord* FindRule(const Scope& scope, const std::string& arn) const;

  // The target groups forwarded to by a listener's default actions or a rule's actions.
  static std::vector<std::string> ForwardedGroups(const Json& actions);
  // The load balancers whose listeners or rules forward to target group `arn`.
  std::vector<std::string> LoadBalancersUsing(const std::string& tg_arn) const;
  bool InUse(const std::string& tg_arn) const { return !LoadBalancersUsing(tg_arn).empty(); }
  // Rules of a listener, the default rule included.
  std::vector<RuleRecord*> RulesOf(const std::string& listener_arn);

  // Checks `actions` for a listener of `protocol` on load balancer `lb_arn`
  // (aws-semantics §1.4) and returns them in the form Describe* shows.
  std::variant<Json, ApiError> CheckActions(const Scope& scope, const Json& actions,
                                            const std::string& protocol,
                                            const std::string& lb_arn) const;

  // Writes a record through to the store; store failures become ServerException.
  Status Save(const LoadBalancerRecord& lb);
  Status Save(const TargetGroupRecord& tg);
  Status Save(const ListenerRecord& listener);
  Status Save(const RuleRecord& rule);
  Status Erase(const std::string& arn);

  // Opens the listener on 127.0.0.1 (its stored local port first, then its own port)
  // and logs the mapping.
  void OpenLocal(ListenerRecord& listener);
  // Deletes a listener and its rules (no checks).
  Status RemoveListener(const std::string& arn);
  // Puts target (tg, index) in draining, or removes it when the delay is 0.
  void StartDraining(TargetGroupRecord& tg, size_t index);
  // Schedules the end of a draining target's delay.
  TimerId ScheduleDrainEnd(const std::string& tg_arn, const TargetRecord& target);

  // Pieces shared by the operation files.
  std::string NewId() { return random_.Hex(16); }
  Random& random() { return random_; }
  // Where the data plane writes a load balancer's access log; empty when it is off.
  std::string AccessLogDirectory(const LoadBalancerRecord& lb) const;
  Clock& clock() { return clock_; }
  Journal& journal() { return journal_; }
  const Elbv2Options& options() const { return options_; }

  std::map<std::string, LoadBalancerRecord> load_balancers_;  // by ARN
  std::map<std::string, TargetGroupRecord> target_groups_;
  std::map<std::string, ListenerRecord> listeners_;
  std::map<std::string, RuleRecord> rules_;

 private:
  EventLoop& loop_;
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  DataPlane& data_plane_;
  TargetHealthSource& health_;
  Elbv2Options options_;
  uint64_t version_ = 0;
  std::map<TargetKey, std::string> last_health_;  // state last journaled per target
  // Certificates HTTPS listeners present, by load balancer DNS name: issued once a run
  // (a cache BuildSnapshot fills).
  mutable std::map<std::string, std::pair<std::string, std::string>> certificates_;
};

// attributes.cc: defaults and validation (aws-semantics §1.10).
Attributes DefaultLoadBalancerAttributes();
Attributes DefaultTargetGroupAttributes(const std::string& target_type);
Attributes DefaultListenerAttributes();
// Applies `changes` (a list of {Key, Value}) to `attributes`, or the error AWS gives.
std::optional<ApiError> ApplyLoadBalancerAttributes(Attributes& attributes, const Json& changes);
std::optional<ApiError> ApplyTargetGroupAttributes(Attributes& attributes, const Json& changes,
                                                   const std::string& target_type);
std::optional<ApiError> ApplyListenerAttributes(Attributes& attributes, const Json& changes);
// [{Key, Value}...] in key order.
Json AttributeList(const Attributes& attributes);

// conditions.cc: rule conditions (aws-semantics §1.3), checked and in Describe form.
std::variant<Json, ApiError> CheckConditions(const Json& conditions);
// The routing form of checked conditions and actions.
std::vector<Condition> ToRoutingConditions(const Json& conditions);
Action ToRoutingAction(const Json& actions);

// Pagination over ARN-ordered items: the page after `Marker` of at most `PageSize`.
struct Page {
  std::vector<std::string> keys;
  std::optional<std::string> next_marker;
};
std::variant<Page, ApiError> Paginate(const std::vector<std::string>& keys, const Json& input);

// Tags: checked and merged.
std::optional<ApiError> CheckTags(const Json& tags);
Json MergeTags(const Json& existing, const Json& added);

bool IsSslPolicy(const std::string& name);
// "initial", "healthy", ... as DescribeTargetHealth shows a state.
const char* HealthStateName(Target::Health health);

// Names of load balancers and target groups: ≤32 alnum or '-', no leading or trailing '-'.
bool IsValidResourceName(const std::string& name);

}  // namespace understudy::elb
