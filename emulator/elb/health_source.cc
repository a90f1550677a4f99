// HealthChecker as the control plane's TargetHealthSource.
#include "elb/elbv2.h"

namespace understudy::elb {
namespace {

class CheckerSource final : public TargetHealthSource {
 public:
  explicit CheckerSource(HealthChecker& checker) : checker_(checker) {}
  // TargetHealthSource
  void SetOnChange(std::function<void()> on_change) override {
    checker_.SetOnChange(std::move(on_change));
  }
  void SetTargets(std::vector<CheckedTarget> targets) override {
    checker_.SetTargets(std::move(targets));
  }
  TargetHealthReport Health(const TargetKey& key) const override { return checker_.Health(key); }
  double SlowStartFactor(const TargetKey& key) const override {
    return checker_.SlowStartFactor(key);
  }
  void Clear() override { checker_.Clear(); }

 private:
  HealthChecker& checker_;
};

}  // namespace

std::unique_ptr<TargetHealthSource> HealthCheckerSource(HealthChecker& checker) {
  return std::make_unique<CheckerSource>(checker);
}

}  // namespace understudy::elb
