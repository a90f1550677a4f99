// Collectors: the AWS/ECS and AWS/ApplicationELB metrics CloudWatch publishes each
// minute from what the emulator measures.
//
// EcsCollector turns cumulative CPU time of running service tasks into
// CPUUtilization (CPU used over the minute's real time, divided by the CPU the tasks
// reserve, as a percentage; more than 100 when tasks use more than they reserve) and
// resident memory into MemoryUtilization (of the memory they reserve), per service
// (ClusterName, ServiceName) and per cluster (ClusterName). A task's first reading
// only starts its CPU accounting. AlbCollector turns the data plane's per-target
// counters into RequestCount, RequestCountPerTarget (requests over the healthy
// targets), TargetResponseTime (average seconds), HTTPCode_Target_4XX_Count,
// HTTPCode_Target_5XX_Count, HealthyHostCount and UnHealthyHostCount per target group
// (TargetGroup, LoadBalancer) and RequestCount per load balancer. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cloudwatch/cloudwatch.h"
#include "core/measured.h"

namespace understudy::cloudwatch {

struct TaskReading {
  Scope scope;
  std::string cluster;
  std::string service;
  std::string task_id;
  uint64_t cpu_ns = 0;         // cumulative CPU time of the task
  uint64_t system_cpu_ns = 0;  // the host's cumulative CPU time, all CPUs
  int online_cpus = 1;
  uint64_t memory_bytes = 0;
  double reserved_vcpus = 1;
  double reserved_memory_mib = 0;
};

class EcsCollector {
 public:
  EcsCollector(CloudWatch& cloudwatch, std::function<std::vector<TaskReading>()> read)
      : cloudwatch_(cloudwatch), read_(std::move(read)) {}
  // Utilisation goes through `measured` (journalled; recorded values on a replay).
  void SetMeasuredInputs(MeasuredInputs* measured) { measured_ = measured; }
  // Publishes the minute starting at `period_start` (a minute source).
  void Collect(TimePoint period_start);

 private:
  struct Previous {
    uint64_t cpu_ns = 0;
    uint64_t system_cpu_ns = 0;
  };
  CloudWatch& cloudwatch_;
  std::function<std::vector<TaskReading>()> read_;
  MeasuredInputs* measured_ = nullptr;
  std::map<std::pair<std::string, std::string>, Previous> previous_;  // (account, task id)
};

struct TargetReading {
  std::string key;  // "<tg arn>|<id>|<port>"
  bool healthy = false;
  bool unhealthy = false;
  uint64_t requests = 0;  // cumulative
  uint64_t responses = 0;
  uint64_t response_time_us = 0;
  uint64_t target_4xx = 0;
  uint64_t target_5xx = 0;
};
struct TargetGroupReading {
  Scope scope;
  std::string target_group;                 // "targetgroup/<name>/<id>"
  std::vector<std::string> load_balancers;  // "app/<name>/<id>"
  std::vector<TargetReading> targets;
};

class AlbCollector {
 public:
  AlbCollector(CloudWatch& cloudwatch, std::function<std::vector<TargetGroupReading>()> read)
      : cloudwatch_(cloudwatch), read_(std::move(read)) {}
  // TargetResponseTime goes through `measured` (journalled; recorded values on a replay).
  void SetMeasuredInputs(MeasuredInputs* measured) { measured_ = measured; }
  void Collect(TimePoint period_start);

 private:
  CloudWatch& cloudwatch_;
  std::function<std::vector<TargetGroupReading>()> read_;
  MeasuredInputs* measured_ = nullptr;
  std::map<std::string, TargetReading> previous_;  // by key
};

}  // namespace understudy::cloudwatch
