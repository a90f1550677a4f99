#include "chaos/api_faults.h"

#include <algorithm>

namespace understudy::chaos {

uint64_t ApiFaults::Add(ApiFaultRule rule, Random random) {
  uint64_t id = next_id_++;
  rules_.push_back(Entry{id, std::move(rule), std::move(random), 0, 0});
  return id;
}

void ApiFaults::Remove(uint64_t id) {
  rules_.erase(
      std::remove_if(rules_.begin(), rules_.end(), [id](const Entry& e) { return e.id == id; }),
      rules_.end());
}

int64_t ApiFaults::matched(uint64_t id) const {
  for (const auto& e : rules_) {
    if (e.id == id) return e.matched;
  }
  return 0;
}

int64_t ApiFaults::applied(uint64_t id) const {
  for (const auto& e : rules_) {
    if (e.id == id) return e.applied;
  }
  return 0;
}

std::optional<api::InjectedFault> ApiFaults::Decide(const api::RequestContext& ctx,
                                                    const Json& input) {
  if (rules_.empty()) return std::nullopt;
  std::string cluster = input.is_object() ? input.value("cluster", "default") : "default";
  cluster = cluster.substr(cluster.rfind('/') + 1);
  api::InjectedFault fault;
  bool touched = false;
  bool decided = false;
  for (auto& e : rules_) {
    const ApiFaultRule& r = e.rule;
    if (!r.service.empty() && r.service != ctx.service) continue;
    if (!r.operation.empty() && r.operation != ctx.operation) continue;
    if (r.kind == ApiFaultRule::Kind::kLatency) {
      ++e.matched;
      ++e.applied;
      Duration extra{0};
      if (r.jitter > Duration(0))
        extra = Duration(static_cast<int64_t>(e.random.Below(r.jitter.count() + 1)));
      fault.latency += r.latency + extra;
      touched = true;
      if (on_fault_) on_fault_(e.id, ctx, "latency " + FormatDuration(r.latency + extra));
      continue;
    }
    if (decided) continue;
    if (r.kind == ApiFaultRule::Kind::kPlacementFailure) {
      if (ctx.service != "ecs" || ctx.operation != "RunTask") continue;
      if (!r.cluster.empty() && r.cluster != cluster) continue;
    }
    int64_t n = ++e.matched;
    bool fail = true;
    if (r.fail_first > 0 && n > r.fail_first) fail = false;
    if (fail && r.every > 0 && n % r.every != 0) fail = false;
    if (fail && r.probability < 1.0) fail = e.random.Unit() < r.probability;
    if (!fail) continue;
    ++e.applied;
    decided = true;
    touched = true;
    if (r.kind == ApiFaultRule::Kind::kPlacementFailure) {
      fault.output = Json{
          {"tasks", Json::array()},
          {"failures", Json::array({Json{{"arn", "arn:aws:ecs:" + ctx.scope.region + ":" +
                                                     ctx.scope.account + ":cluster/" + cluster},
                                         {"reason", r.reason}}})}};
      if (on_fault_) on_fault_(e.id, ctx, "placement failure " + r.reason);
    } else {
      fault.error = api::ApiError{r.error_code, r.message, r.http_status, r.http_status < 500};
      if (on_fault_) on_fault_(e.id, ctx, "error " + r.error_code);
    }
  }
  if (!touched) return std::nullopt;
  return fault;
}

}  // namespace understudy::chaos
