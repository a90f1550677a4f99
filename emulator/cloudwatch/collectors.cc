#include "cloudwatch/collectors.h"

#include <tuple>

namespace understudy::cloudwatch {

void EcsCollector::Collect(TimePoint period_start) {
  struct Sum {
    double used_vcpus = 0;
    double cpu_reserved = 0;  // of the tasks with a CPU reading
    double memory_bytes = 0;
    double memory_reserved_bytes = 0;
    bool cpu = false;
  };
  // (account, region, cluster, service); service "" for the cluster.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Sum> sums;
  std::map<std::pair<std::string, std::string>, Previous> seen;
  for (const auto& r : read_()) {
    auto key = std::make_pair(r.scope.account, r.task_id);
    seen[key] = Previous{r.cpu_ns, r.system_cpu_ns};
    for (const std::string& service : {r.service, std::string()}) {
      Sum& s = sums[{r.scope.account, r.scope.region, r.cluster, service}];
      if (r.reserved_memory_mib > 0) {
        s.memory_bytes += static_cast<double>(r.memory_bytes);
        s.memory_reserved_bytes += r.reserved_memory_mib * 1024 * 1024;
      }
      auto before = previous_.find(key);
      if (before == previous_.end() || r.system_cpu_ns <= before->second.system_cpu_ns ||
          r.cpu_ns < before->second.cpu_ns)
        continue;
      double wall_ns = static_cast<double>(r.system_cpu_ns - before->second.system_cpu_ns) /
                       std::max(1, r.online_cpus);
      s.used_vcpus += static_cast<double>(r.cpu_ns - before->second.cpu_ns) / wall_ns;
      s.cpu_reserved += r.reserved_vcpus;
      s.cpu = true;
    }
  }
  previous_ = std::move(seen);
  Json batch = Json::array();
  for (const auto& [key, s] : sums) {
    const auto& [account, region, cluster, service] = key;
    Json dims = service.empty() ? Json{{"ClusterName", cluster}}
                                : Json{{"ClusterName", cluster}, {"ServiceName", service}};
    auto add = [&](const char* metric, double value) {
      batch.push_back(Json{{"account", account},
                           {"region", region},
                           {"metric", metric},
                           {"dimensions", dims},
                           {"value", value}});
    };
    if (s.cpu && s.cpu_reserved > 0) add("CPUUtilization", 100.0 * s.used_vcpus / s.cpu_reserved);
    if (s.memory_reserved_bytes > 0)
      add("MemoryUtilization", 100.0 * s.memory_bytes / s.memory_reserved_bytes);
  }
  if (measured_ != nullptr) batch = measured_->Take("ecs", period_start, std::move(batch));
  for (const Json& v : batch) {
    Scope scope{v["account"].get<std::string>(), v["region"].get<std::string>()};
    cloudwatch_.Publish(scope,
                        MetricId::From("AWS/ECS", v["metric"].get<std::string>(), v["dimensions"]),
                        period_start, v["value"].get<double>(), "Percent");
  }
}

void AlbCollector::Collect(TimePoint period_start) {
  std::map<std::string, TargetReading> seen;
  std::map<std::pair<std::string, std::string>, std::pair<Scope, double>> per_lb;
  Json response_times = Json::array();  // measured: published after the counts
  for (const auto& g : read_()) {
    double requests = 0, responses = 0, time_us = 0, c4 = 0, c5 = 0;
    int healthy = 0, unhealthy = 0;
    for (const auto& t : g.targets) {
      seen[t.key] = t;
      healthy += t.healthy ? 1 : 0;
      unhealthy += t.unhealthy ? 1 : 0;
      TargetReading before;
      auto it = previous_.find(t.key);
      if (it != previous_.end()) before = it->second;
      auto delta = [](uint64_t now, uint64_t then) {
        return now >= then ? static_cast<double>(now - then) : static_cast<double>(now);
      };
      requests += delta(t.requests, before.requests);
      responses += delta(t.responses, before.responses);
      time_us += delta(t.response_time_us, before.response_time_us);
      c4 += delta(t.target_4xx, before.target_4xx);
      c5 += delta(t.target_5xx, before.target_5xx);
    }
    auto publish = [&](const char* metric, double value, const char* unit, bool with_lb) {
      if (with_lb) {
        for (const auto& lb : g.load_balancers) {
          cloudwatch_.Publish(
              g.scope,
              MetricId::From("AWS/ApplicationELB", metric,
                             Json{{"TargetGroup", g.target_group}, {"LoadBalancer", lb}}),
              period_start, value, unit);
        }
      } else {
        cloudwatch_.Publish(
            g.scope,
            MetricId::From("AWS/ApplicationELB", metric, Json{{"TargetGroup", g.target_group}}),
            period_start, value, unit);
      }
    };
    if (g.load_balancers.empty()) continue;  // CloudWatch reports only attached groups
    publish("HealthyHostCount", healthy, "Count", true);
    publish("UnHealthyHostCount", unhealthy, "Count", true);
    if (requests > 0) {
      publish("RequestCount", requests, "Count", true);
      double per_target = requests / std::max(1, healthy);
      publish("RequestCountPerTarget", per_target, "Count", true);
      publish("RequestCountPerTarget", per_target, "Count", false);
      for (const auto& lb : g.load_balancers) {
        auto& [scope, total] = per_lb[{g.scope.account + "|" + g.scope.region, lb}];
        scope = g.scope;
        total += requests;
      }
    }
    if (responses > 0) {
      response_times.push_back(Json{{"account", g.scope.account},
                                    {"region", g.scope.region},
                                    {"targetGroup", g.target_group},
                                    {"loadBalancers", g.load_balancers},
                                    {"value", time_us / responses / 1e6}});
    }
    if (c4 > 0) publish("HTTPCode_Target_4XX_Count", c4, "Count", true);
    if (c5 > 0) publish("HTTPCode_Target_5XX_Count", c5, "Count", true);
  }
  if (measured_ != nullptr)
    response_times = measured_->Take("alb", period_start, std::move(response_times));
  for (const Json& v : response_times) {
    Scope scope{v["account"].get<std::string>(), v["region"].get<std::string>()};
    for (const Json& lb : v["loadBalancers"]) {
      cloudwatch_.Publish(
          scope,
          MetricId::From("AWS/ApplicationELB", "TargetResponseTime",
                         Json{{"TargetGroup", v["targetGroup"]}, {"LoadBalancer", lb}}),
          period_start, v["value"].get<double>(), "Seconds");
    }
  }
  for (const auto& [key, value] : per_lb) {
    cloudwatch_.Publish(
        value.first,
        MetricId::From("AWS/ApplicationELB", "RequestCount", Json{{"LoadBalancer", key.second}}),
        period_start, value.second, "Count");
  }
  previous_ = std::move(seen);
}

}  // namespace understudy::cloudwatch
