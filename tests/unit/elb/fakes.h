// Test doubles for the ELBv2 control plane: a DataPlane that records what it is
// asked (listeners opened, snapshots, cut targets) and a scripted target health.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "elb/data_plane.h"
#include "elb/elbv2.h"

namespace understudy::elb {

class FakeDataPlane : public DataPlane {
 public:
  // DataPlane
  Result<uint16_t> OpenListener(const std::string& arn,
                                const std::vector<uint16_t>& preferred) override {
    opened.push_back({arn, preferred});
    for (uint16_t p : preferred) {
      if (!taken.count(p)) {
        taken.insert(p);
        open[arn] = p;
        return p;
      }
    }
    uint16_t p = next_port++;
    open[arn] = p;
    return p;
  }
  void CloseListener(const std::string& arn) override {
    auto it = open.find(arn);
    if (it == open.end()) return;
    taken.erase(it->second);
    open.erase(it);
  }
  void Publish(RoutingSnapshot snapshot) override { snapshots.push_back(std::move(snapshot)); }
  void CutTarget(const std::string& tg, const std::string& id, uint16_t port) override {
    cut.push_back(tg + " " + id + ":" + std::to_string(port));
  }
  TargetCounters Counters(const std::string&, const std::string&, uint16_t) const override {
    return {};
  }
  void SetTrafficFaults(std::vector<TrafficFault> faults) override {
    traffic_faults = std::move(faults);
  }
  void Stop() override {}

  const RoutingSnapshot& last() const { return snapshots.back(); }

  std::vector<std::pair<std::string, std::vector<uint16_t>>> opened;
  std::map<std::string, uint16_t> open;  // listener ARN -> bound port
  std::vector<TrafficFault> traffic_faults;
  std::set<uint16_t> taken;  // ports "in use" on the machine
  uint16_t next_port = 40000;
  std::vector<RoutingSnapshot> snapshots;
  std::vector<std::string> cut;
};

class FakeHealth : public TargetHealthSource {
 public:
  // TargetHealthSource
  void SetOnChange(std::function<void()> fn) override { on_change = std::move(fn); }
  void SetTargets(std::vector<CheckedTarget> t) override { targets = std::move(t); }
  TargetHealthReport Health(const TargetKey& key) const override {
    auto it = reports.find(key);
    if (it != reports.end()) return it->second;
    return {Target::Health::kInitial, "Elb.RegistrationInProgress",
            "Target registration is in progress"};
  }
  double SlowStartFactor(const TargetKey&) const override { return factor; }
  void Clear() override { targets.clear(); }

  // Sets a target's health and reports the change, as the checker would.
  void Set(const TargetKey& key, TargetHealthReport report) {
    reports[key] = std::move(report);
    if (on_change) on_change();
  }

  std::function<void()> on_change;
  std::vector<CheckedTarget> targets;
  std::map<TargetKey, TargetHealthReport> reports;
  double factor = 1.0;
};

}  // namespace understudy::elb
