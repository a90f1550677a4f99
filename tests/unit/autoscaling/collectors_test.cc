// The AWS/ECS and AWS/ApplicationELB metrics the collectors publish each minute.
#include "cloudwatch/collectors.h"

#include <gtest/gtest.h>

namespace understudy::cloudwatch {
namespace {

// Records what the collectors publish.
class RecordingCloudWatch : public CloudWatch {
 public:
  void Install(api::FrontDoor&, api::ControlApi&) override {}
  Status Reset() override { return Status::Ok(); }
  void Publish(const Scope&, const MetricId& id, TimePoint, double value,
               const std::string& unit) override {
    std::string key = id.ns + " " + id.name;
    for (const auto& [k, v] : id.dimensions) key += " " + k + "=" + v;
    published[key] = {value, unit};
  }
  void AddMinuteSource(std::function<void(TimePoint)>) override {}
  void SetActionHandler(const std::string&, ActionHandler) override {}
  api::ApiResult PutAlarm(const Scope&, const Json&) override { return Json::object(); }
  void DeleteAlarm(const Scope&, const std::string&) override {}
  std::optional<std::string> AlarmState(const Scope&, const std::string&) const override {
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> AlarmsWithAction(
      const Scope&, const std::string&) const override {
    return {};
  }
  void RunMinute(TimePoint) override {}

  std::map<std::string, std::pair<double, std::string>> published;
};

const Scope kScope{"000000000000", "us-east-1"};
const TimePoint kMinute{std::chrono::seconds(1'800'000'000)};
constexpr uint64_t kSecond = 1'000'000'000;

TEST(EcsCollectorTest, CpuOverRealTimeAndReservationMemoryOverReservation) {
  RecordingCloudWatch cw;
  std::vector<TaskReading> readings;
  EcsCollector collector(cw, [&] { return readings; });
  // Two tasks of service web/api, 0.25 vCPU and 64 MiB each, on a 2-CPU host.
  auto reading = [](const std::string& id, uint64_t cpu_ns, uint64_t system_ns) {
    return TaskReading{kScope, "web", "api", id, cpu_ns, system_ns, 2, 32ull << 20, 0.25, 64};
  };
  readings = {reading("a", 0, 0), reading("b", 0, 0)};
  collector.Collect(kMinute);
  // A first reading only starts the CPU count; memory is known at once.
  EXPECT_EQ(cw.published.count("AWS/ECS CPUUtilization ClusterName=web ServiceName=api"), 0u);
  EXPECT_EQ(cw.published["AWS/ECS MemoryUtilization ClusterName=web ServiceName=api"].first, 50);
  // 60 s of real time pass (120 s of host CPU time on 2 CPUs): task a used 15 s of CPU
  // (a quarter of a vCPU: 100 % of its reservation), task b 45 s (300 %).
  readings = {reading("a", 15 * kSecond, 120 * kSecond), reading("b", 45 * kSecond, 120 * kSecond)};
  collector.Collect(kMinute + std::chrono::minutes(1));
  auto cpu = cw.published["AWS/ECS CPUUtilization ClusterName=web ServiceName=api"];
  EXPECT_DOUBLE_EQ(cpu.first, 200);  // (0.25 + 0.75) vCPU used of 0.5 reserved
  EXPECT_EQ(cpu.second, "Percent");
  EXPECT_DOUBLE_EQ(cw.published["AWS/ECS CPUUtilization ClusterName=web"].first, 200);
}

TEST(AlbCollectorTest, RequestsPerHealthyTarget) {
  RecordingCloudWatch cw;
  std::vector<TargetGroupReading> readings;
  AlbCollector collector(cw, [&] { return readings; });
  auto group = [](uint64_t a_requests, uint64_t b_requests, uint64_t b_5xx) {
    TargetGroupReading g{kScope, "targetgroup/api/1", {"app/web/2"}, {}};
    g.targets.push_back({"tg|a|80", true, false, a_requests, a_requests, a_requests * 2000, 0, 0});
    g.targets.push_back(
        {"tg|b|80", false, true, b_requests, b_requests, b_requests * 4000, 0, b_5xx});
    return std::vector<TargetGroupReading>{g};
  };
  readings = group(0, 0, 0);
  collector.Collect(kMinute);
  readings = group(30, 10, 4);
  collector.Collect(kMinute + std::chrono::minutes(1));
  const std::string both = " LoadBalancer=app/web/2 TargetGroup=targetgroup/api/1";
  EXPECT_EQ(cw.published["AWS/ApplicationELB RequestCount" + both].first, 40);
  EXPECT_EQ(
      cw.published["AWS/ApplicationELB RequestCountPerTarget TargetGroup=targetgroup/api/1"].first,
      40);  // one healthy target
  EXPECT_EQ(cw.published["AWS/ApplicationELB HealthyHostCount" + both].first, 1);
  EXPECT_EQ(cw.published["AWS/ApplicationELB UnHealthyHostCount" + both].first, 1);
  EXPECT_EQ(cw.published["AWS/ApplicationELB HTTPCode_Target_5XX_Count" + both].first, 4);
  EXPECT_DOUBLE_EQ(cw.published["AWS/ApplicationELB TargetResponseTime" + both].first,
                   (30 * 2000 + 10 * 4000) / 40.0 / 1e6);
  EXPECT_EQ(cw.published["AWS/ApplicationELB RequestCount LoadBalancer=app/web/2"].first, 40);
}

}  // namespace
}  // namespace understudy::cloudwatch
