#include "ecs/service_math.h"

#include <algorithm>

namespace understudy::ecs {

int64_t MaxTasks(int64_t desired, int64_t maximum_percent) {
  return desired * maximum_percent / 100;  // floor for non-negative operands
}

int64_t MinHealthy(int64_t desired, int64_t minimum_healthy_percent) {
  return (desired * minimum_healthy_percent + 99) / 100;
}

int64_t FailureThreshold(int64_t desired) { return std::clamp<int64_t>((desired + 1) / 2, 3, 200); }

Duration StartBackoff(int failures) {
  if (failures <= 0) return Duration{0};
  constexpr auto kMax = std::chrono::minutes(15);
  Duration delay = std::chrono::seconds(10);
  for (int i = 1; i < failures && delay < kMax; ++i) delay *= 2;
  return std::min<Duration>(delay, kMax);
}

std::string PickCapacityProvider(const Json& strategy,
                                 const std::map<std::string, int64_t>& counts) {
  auto count_of = [&](const std::string& name) {
    auto it = counts.find(name);
    return it == counts.end() ? int64_t{0} : it->second;
  };
  for (const auto& item : strategy) {
    std::string name = item.value("capacityProvider", "");
    if (count_of(name) < item.value("base", int64_t{0})) return name;
  }
  // Beyond the bases: the provider with the smallest (tasks beyond base + 1) / weight,
  // compared as cross products to stay in integers.
  std::string best;
  int64_t best_num = 0, best_den = 1;
  for (const auto& item : strategy) {
    int64_t weight = item.value("weight", int64_t{0});
    if (weight <= 0) continue;
    std::string name = item.value("capacityProvider", "");
    int64_t beyond = std::max<int64_t>(0, count_of(name) - item.value("base", int64_t{0}));
    int64_t num = beyond + 1;
    if (best.empty() || num * best_den < best_num * weight) {
      best = name;
      best_num = num;
      best_den = weight;
    }
  }
  return best;
}

bool IsDeploymentId(const std::string& id) {
  if (id.size() != 8 + 19 || id.rfind("ecs-svc/", 0) != 0) return false;
  return std::all_of(id.begin() + 8, id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace understudy::ecs
