#include "elb/target_choice.h"

#include "elb/alb_http.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace understudy::elb {
namespace {

uint64_t Fnv1a(uint64_t hash, std::string_view text) {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

std::string StickyToken(uint64_t seed, std::string_view target_group_arn, std::string_view id,
                        uint16_t port) {
  uint64_t hash = 14695981039346656037ULL ^ seed;
  hash = Fnv1a(hash, target_group_arn);
  hash = Fnv1a(hash, "|");
  hash = Fnv1a(hash, id);
  hash = Fnv1a(hash, ":" + std::to_string(port));
  uint64_t second = Fnv1a(hash ^ 0x9e3779b97f4a7c15ULL, id);
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(hash),
                static_cast<unsigned long long>(second));
  return text;
}

std::optional<size_t> ChooseTarget(const RoutableGroup& group, std::optional<size_t> sticky,
                                   Random& random) {
  const std::vector<size_t>& candidates = group.Candidates();
  if (candidates.empty()) return std::nullopt;
  if (sticky) return sticky;
  const auto& targets = group.group->targets;
  if (group.has_slow_start) {
    // Targets in slow start get a share that grows with their factor.
    double total = 0;
    for (size_t i : candidates) total += targets[i].slow_start_factor;
    double pick = random.Unit() * total;
    for (size_t i : candidates) {
      pick -= targets[i].slow_start_factor;
      if (pick < 0) return i;
    }
    return candidates.back();
  }
  const std::string& algorithm = group.group->algorithm;
  if (algorithm == "least_outstanding_requests") {
    // Fewest in flight; ties go round robin so equal targets share the load.
    uint64_t start = group.runtime->next.fetch_add(1, std::memory_order_relaxed);
    size_t best = candidates[start % candidates.size()];
    uint64_t best_load = group.runtimes[best]->in_flight.load(std::memory_order_relaxed);
    for (size_t n = 1; n < candidates.size(); ++n) {
      size_t i = candidates[(start + n) % candidates.size()];
      uint64_t load = group.runtimes[i]->in_flight.load(std::memory_order_relaxed);
      if (load < best_load) {
        best = i;
        best_load = load;
      }
    }
    return best;
  }
  if (algorithm == "weighted_random") return candidates[random.Below(candidates.size())];
  uint64_t n = group.runtime->next.fetch_add(1, std::memory_order_relaxed);
  return candidates[n % candidates.size()];
}

std::optional<size_t> ChooseWeightedGroup(const std::vector<Action::WeightedGroup>& groups,
                                          Random& random) {
  uint64_t total = 0;
  for (const auto& group : groups) total += group.weight;
  if (total == 0) return std::nullopt;
  uint64_t pick = random.Below(total);
  for (size_t i = 0; i < groups.size(); ++i) {
    if (pick < groups[i].weight) return i;
    pick -= groups[i].weight;
  }
  return std::nullopt;
}

std::optional<std::string_view> FindCookie(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (!EqualsIgnoreCase(header, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view item = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      if (item.substr(0, eq) == name) return item.substr(eq + 1);
    }
  }
  return std::nullopt;
}

std::string HttpDate(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return text;
}

}  // namespace understudy::elb
