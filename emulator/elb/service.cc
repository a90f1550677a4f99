// The ELBv2 state: loading and saving records, lookups, listeners' local ports.
#include <algorithm>
#include <set>

#include "core/log.h"
#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

Json AttributesJson(const Attributes& attributes) {
  Json out = Json::object();
  for (const auto& [k, v] : attributes) out[k] = v;
  return out;
}

Attributes AttributesFrom(const Json& json, Attributes defaults) {
  if (json.is_object()) {
    for (auto it = json.begin(); it != json.end(); ++it) defaults[it.key()] = it.value();
  }
  return defaults;
}

}  // namespace

Service::Service(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
                 DataPlane& data_plane, TargetHealthSource& health, Elbv2Options options)
    : loop_(loop),
      store_(store),
      journal_(journal),
      clock_(clock),
      random_(std::move(random)),
      data_plane_(data_plane),
      health_(health),
      options_(std::move(options)) {}

Service::~Service() {
  health_.SetOnChange(nullptr);
  for (auto& [arn, tg] : target_groups_) {
    for (auto& t : tg.targets) {
      if (t.drain_timer != 0) clock_.Cancel(t.drain_timer);
    }
  }
}

Status Service::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "elbv2", {"CREATE TABLE elbv2_resources (arn TEXT PRIMARY KEY, kind TEXT NOT NULL, account "
                "TEXT NOT NULL, region TEXT NOT NULL, doc TEXT NOT NULL)"}));
  Status status = Status::Ok();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT arn, kind, account, region, doc FROM elbv2_resources", {}, [&](const SqlRow& row) {
        auto parsed = ParseJson(row.Text(4));
        if (!parsed.ok() || !parsed->is_object()) {
          status = Status::IoError("elbv2_resources row " + row.Text(0) + " is not JSON");
          return;
        }
        const Json& d = *parsed;
        std::string arn = row.Text(0), kind = row.Text(1);
        Scope scope{row.Text(2), row.Text(3)};
        if (kind == "loadbalancer") {
          load_balancers_[arn] = LoadBalancerRecord{
              scope, d["doc"], AttributesFrom(d["attributes"], DefaultLoadBalancerAttributes()),
              d.value("tags", Json::array())};
        } else if (kind == "targetgroup") {
          TargetGroupRecord tg{
              scope,
              d["doc"],
              AttributesFrom(d["attributes"], DefaultTargetGroupAttributes(
                                                  d["doc"].value("TargetType", "instance"))),
              d.value("tags", Json::array()),
              {}};
          for (const auto& t : d.value("targets", Json::array())) {
            TargetRecord target;
            target.id = t.value("id", "");
            target.port = t.value("port", 0);
            target.availability_zone = t.value("az", "");
            target.draining = t.value("draining", false);
            target.drain_until = TimePoint(Duration(t.value("drainUntil", int64_t{0})));
            tg.targets.push_back(target);
          }
          target_groups_[arn] = std::move(tg);
        } else if (kind == "listener") {
          listeners_[arn] =
              ListenerRecord{scope,
                             d["doc"],
                             AttributesFrom(d["attributes"], DefaultListenerAttributes()),
                             d.value("tags", Json::array()),
                             d.value("certificates", Json::array()),
                             static_cast<uint16_t>(d.value("localPort", 0))};
        } else if (kind == "rule") {
          rules_[arn] = RuleRecord{scope, d.value("listenerArn", ""), d["doc"],
                                   d.value("tags", Json::array())};
        }
      }));
  US_RETURN_IF_ERROR(status);
  health_.SetOnChange([this] { Publish(/*targets_changed=*/false); });
  for (auto& [arn, listener] : listeners_) OpenLocal(listener);
  for (auto& [arn, tg] : target_groups_) {
    for (auto& t : tg.targets) {
      if (t.draining) t.drain_timer = ScheduleDrainEnd(arn, t);
    }
  }
  Publish();
  return Status::Ok();
}

Status Service::Reset() {
  for (auto& [arn, listener] : listeners_) data_plane_.CloseListener(arn);
  for (auto& [arn, tg] : target_groups_) {
    for (auto& t : tg.targets) {
      if (t.drain_timer != 0) clock_.Cancel(t.drain_timer);
    }
  }
  load_balancers_.clear();
  target_groups_.clear();
  listeners_.clear();
  rules_.clear();
  last_health_.clear();
  health_.Clear();
  Publish();
  return store_.Run("DELETE FROM elbv2_resources");
}

namespace {

Status Upsert(Store& store, const std::string& arn, const char* kind, const Scope& scope,
              const Json& doc) {
  return store.Run(
      "INSERT INTO elbv2_resources(arn, kind, account, region, doc) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
      {arn, std::string(kind), scope.account, scope.region, doc.dump()});
}

}  // namespace

Status Service::Save(const LoadBalancerRecord& lb) {
  return Upsert(
      store_, lb.doc["LoadBalancerArn"], "loadbalancer", lb.scope,
      Json{{"doc", lb.doc}, {"attributes", AttributesJson(lb.attributes)}, {"tags", lb.tags}});
}

Status Service::Save(const TargetGroupRecord& tg) {
  Json targets = Json::array();
  for (const auto& t : tg.targets) {
    targets.push_back(Json{{"id", t.id},
                           {"port", t.port},
                           {"az", t.availability_zone},
                           {"draining", t.draining},
                           {"drainUntil", t.drain_until.time_since_epoch().count()}});
  }
  return Upsert(store_, tg.doc["TargetGroupArn"], "targetgroup", tg.scope,
                Json{{"doc", tg.doc},
                     {"attributes", AttributesJson(tg.attributes)},
                     {"tags", tg.tags},
                     {"targets", targets}});
}

Status Service::Save(const ListenerRecord& listener) {
  return Upsert(store_, listener.doc["ListenerArn"], "listener", listener.scope,
                Json{{"doc", listener.doc},
                     {"attributes", AttributesJson(listener.attributes)},
                     {"tags", listener.tags},
                     {"certificates", listener.certificates},
                     {"localPort", listener.local_port}});
}

Status Service::Save(const RuleRecord& rule) {
  return Upsert(store_, rule.doc["RuleArn"], "rule", rule.scope,
                Json{{"doc", rule.doc}, {"listenerArn", rule.listener_arn}, {"tags", rule.tags}});
}

Status Service::Erase(const std::string& arn) {
  return store_.Run("DELETE FROM elbv2_resources WHERE arn = ?1", {arn});
}

namespace {

template <typename Map>
auto* FindIn(Map& map, const Scope& scope, const std::string& arn) {
  auto it = map.find(arn);
  return it == map.end() || !(it->second.scope == scope) ? nullptr : &it->second;
}

}  // namespace

LoadBalancerRecord* Service::FindLoadBalancer(const Scope& scope, const std::string& arn) {
  return FindIn(load_balancers_, scope, arn);
}
TargetGroupRecord* Service::FindTargetGroup(const Scope& scope, const std::string& arn) {
  return FindIn(target_groups_, scope, arn);
}
const TargetGroupRecord* Service::FindTargetGroup(const Scope& scope,
                                                  const std::string& arn) const {
  return FindIn(target_groups_, scope, arn);
}
ListenerRecord* Service::FindListener(const Scope& scope, const std::string& arn) {
  return FindIn(listeners_, scope, arn);
}
RuleRecord* Service::FindRule(const Scope& scope, const std::string& arn) {
  return FindIn(rules_, scope, arn);
}

const RuleRecord* Service::FindRule(const Scope& scope, const std::string& arn) const {
  return FindIn(rules_, scope, arn);
}

std::vector<std::string> Service::ForwardedGroups(const Json& actions) {
  std::vector<std::string> out;
  if (!actions.is_array()) return out;
  for (const auto& a : actions) {
    if (a.value("Type", "") != "forward") continue;
    if (a.contains("TargetGroupArn")) out.push_back(a["TargetGroupArn"]);
    if (a.contains("ForwardConfig")) {
      for (const auto& g : a["ForwardConfig"].value("TargetGroups", Json::array())) {
        if (g.contains("TargetGroupArn")) out.push_back(g["TargetGroupArn"]);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> Service::LoadBalancersUsing(const std::string& tg_arn) const {
  std::set<std::string> lbs;
  auto uses = [&](const Json& actions) {
    auto groups = ForwardedGroups(actions);
    return std::find(groups.begin(), groups.end(), tg_arn) != groups.end();
  };
  for (const auto& [arn, listener] : listeners_) {
    if (uses(listener.doc["DefaultActions"])) lbs.insert(listener.doc["LoadBalancerArn"]);
  }
  for (const auto& [arn, rule] : rules_) {
    if (!uses(rule.doc["Actions"])) continue;
    auto it = listeners_.find(rule.listener_arn);
    if (it != listeners_.end()) lbs.insert(it->second.doc["LoadBalancerArn"]);
  }
  return {lbs.begin(), lbs.end()};
}

std::vector<RuleRecord*> Service::RulesOf(const std::string& listener_arn) {
  std::vector<RuleRecord*> out;
  for (auto& [arn, rule] : rules_) {
    if (rule.listener_arn == listener_arn) out.push_back(&rule);
  }
  return out;
}

void Service::OpenLocal(ListenerRecord& listener) {
  std::string arn = listener.doc["ListenerArn"];
  std::vector<uint16_t> preferred;
  if (listener.local_port != 0) preferred.push_back(listener.local_port);
  uint16_t port = listener.doc.value("Port", 80);
  if (std::find(preferred.begin(), preferred.end(), port) == preferred.end()) {
    preferred.push_back(port);
  }
  auto bound = data_plane_.OpenListener(arn, preferred);
  std::string lb_name;
  auto lb = load_balancers_.find(listener.doc["LoadBalancerArn"]);
  if (lb != load_balancers_.end()) lb_name = lb->second.doc["LoadBalancerName"];
  if (!bound.ok()) {
    Log(LogLevel::kWarn, "listener " + lb_name + ":" + std::to_string(port) +
                             " could not be opened: " + bound.status().message());
    return;
  }
  if (*bound != listener.local_port) {
    listener.local_port = *bound;
    Status saved = Save(listener);
    if (!saved.ok()) Log(LogLevel::kError, "elbv2: " + saved.message());
  }
  Log(LogLevel::kInfo, "listener " + lb_name + ":" + std::to_string(port) +
                           " on 127.0.0.1:" + std::to_string(listener.local_port));
}

Status Service::RemoveListener(const std::string& arn) {
  for (RuleRecord* rule : RulesOf(arn)) {
    std::string rule_arn = rule->doc["RuleArn"];
    US_RETURN_IF_ERROR(Erase(rule_arn));
    rules_.erase(rule_arn);
  }
  US_RETURN_IF_ERROR(Erase(arn));
  data_plane_.CloseListener(arn);
  listeners_.erase(arn);
  return Status::Ok();
}

}  // namespace understudy::elb
