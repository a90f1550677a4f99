// Event pattern matching benchmark: 1 000 rules against 100 000 events through
// PatternMatcher (rules indexed by their source / detail-type values), beside the
// plain loop that matches every event against every pattern one at a time. Both
// runs must agree on every match; the figures are printed, not judged.
//
//   ninja -C build bench_event_patterns
//   build/tests/bench/bench_event_patterns_bin [--rules N] [--events N] [--naive-events N]
//       [--profile-passes N]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "events/event_pattern.h"

namespace {

using understudy::Json;
using understudy::events::EventPattern;
using understudy::events::PatternMatcher;

// A small deterministic generator (the benchmark needs no run seed).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed) {}
  uint32_t Next() {
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s_ >> 33);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint32_t>(n)); }

 private:
  uint64_t s_;
};

constexpr int kSources = 60;
constexpr int kDetailTypes = 25;
const char* const kStates[] = {"PENDING", "RUNNING", "STOPPED", "DEPROVISIONING", "PROVISIONING"};
const char* const kRegions[] = {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
                                "ap-south-1"};

std::string Source(int i) { return "com.example.service" + std::to_string(i); }
std::string DetailType(int i) { return "Order State Change " + std::to_string(i); }

// Rules of the shapes real users write: a source (or detail-type) and one or two
// detail conditions with the common operators; a few match on detail fields only.
std::string MakeRule(Lcg& g) {
  std::string detail;
  switch (g.Below(8)) {
    case 0:
      detail = R"("state":[")" + std::string(kStates[g.Below(5)]) + R"("])";
      break;
    case 1:
      detail = R"("region":[{"prefix":"us-"}])";
      break;
    case 2:
      detail = R"("count":[{"numeric":[">",)" + std::to_string(g.Below(50)) + R"(,"<=",100]}])";
      break;
    case 3:
      detail = R"("state":[{"anything-but":["STOPPED","DEPROVISIONING"]}])";
      break;
    case 4:
      detail = R"("ip":[{"cidr":"10.)" + std::to_string(g.Below(4)) + R"(.0.0/16"}])";
      break;
    case 5:
      detail =
          R"("error":[{"exists":false}],"tags":["team-)" + std::to_string(g.Below(10)) + R"("])";
      break;
    case 6:
      detail = R"("path":[{"wildcard":"/orders/*/items/*"}])";
      break;
    default:
      detail =
          R"("$or":[{"count":[{"numeric":["<",10]}]},{"region":[{"equals-ignore-case":"EU-WEST-1"}]}])";
      break;
  }
  const int shape = g.Below(100);
  if (shape < 90) {
    return R"({"source":[")" + Source(g.Below(kSources)) + R"("],"detail":{)" + detail + "}}";
  }
  if (shape < 97) {
    return R"({"detail-type":[")" + DetailType(g.Below(kDetailTypes)) + R"("],"detail":{)" +
           detail + "}}";
  }
  return R"({"detail":{)" + detail + "}}";
}

Json MakeEvent(Lcg& g, int n) {
  Json detail = {
      {"state", kStates[g.Below(5)]},
      {"region", kRegions[g.Below(5)]},
      {"count", g.Below(120)},
      {"ip", "10." + std::to_string(g.Below(6)) + "." + std::to_string(g.Below(256)) + "." +
                 std::to_string(g.Below(256))},
      {"path", "/orders/" + std::to_string(g.Below(1000)) + "/items/" + std::to_string(g.Below(9))},
      {"tags", Json::array({"team-" + std::to_string(g.Below(10)), "env-prod"})},
  };
  if (g.Below(4) == 0) detail["error"] = "Timeout";
  return Json{
      {"version", "0"},
      {"id", "e-" + std::to_string(n)},
      {"detail-type", DetailType(g.Below(kDetailTypes))},
      {"source", Source(g.Below(kSources + 10))},  // some sources no rule names
      {"account", "000000000000"},
      {"time", "2026-11-23T08:00:00Z"},
      {"region", "us-east-1"},
      {"resources",
       Json::array({"arn:aws:ecs:us-east-1:000000000000:task/web/" + std::to_string(n)})},
      {"detail", detail},
  };
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rules = 1000, events = 100000, naive_events = 2000, profile_passes = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rules") == 0) rules = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--events") == 0) events = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--naive-events") == 0) naive_events = std::atoi(argv[i + 1]);
    // Extra indexed passes after the measured one, for profilers.
    if (std::strcmp(argv[i], "--profile-passes") == 0) profile_passes = std::atoi(argv[i + 1]);
  }
  if (naive_events > events) naive_events = events;

  Lcg g(20261123);
  std::vector<std::pair<std::string, EventPattern>> patterns;
  PatternMatcher matcher;
  for (int i = 0; i < rules; ++i) {
    std::string text = MakeRule(g);
    auto p = EventPattern::Parse(text);
    if (!p.ok()) {
      std::fprintf(stderr, "bad rule %s: %s\n", text.c_str(), p.status().message().c_str());
      return 1;
    }
    char id[16];
    std::snprintf(id, sizeof id, "rule-%04d", i);
    matcher.Add(id, *p);
    patterns.emplace_back(id, *p);
  }
  std::vector<Json> evs;
  evs.reserve(static_cast<size_t>(events));
  for (int i = 0; i < events; ++i) evs.push_back(MakeEvent(g, i));

  // Indexed matcher over every event.
  size_t matched = 0;
  std::vector<std::vector<std::string>> indexed_results;
  indexed_results.reserve(static_cast<size_t>(naive_events));
  const std::clock_t c0 = std::clock();
  auto t0 = understudy::RealElapsedNow();
  for (int i = 0; i < events; ++i) {
    auto ids = matcher.Match(evs[static_cast<size_t>(i)]);
    matched += ids.size();
    if (i < naive_events) indexed_results.push_back(std::move(ids));
  }
  const double indexed = Seconds(understudy::RealElapsedNow() - t0);
  const double indexed_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;

  for (int pass = 0; pass < profile_passes; ++pass) {
    for (const Json& e : evs) matched += matcher.Match(e).size() > 0 ? 0 : 0;
  }

  // The naive loop: every pattern against every event, on a prefix of the events.
  size_t naive_matched = 0;
  const std::clock_t c1 = std::clock();
  auto t1 = understudy::RealElapsedNow();
  for (int i = 0; i < naive_events; ++i) {
    std::vector<std::string> ids;
    for (const auto& [id, p] : patterns) {
      if (p.Matches(evs[static_cast<size_t>(i)])) ids.push_back(id);
    }
    naive_matched += ids.size();
    if (ids != indexed_results[static_cast<size_t>(i)]) {
      std::fprintf(stderr, "mismatch on event %d\n", i);
      return 1;
    }
  }
  const double naive = Seconds(understudy::RealElapsedNow() - t1);
  const double naive_cpu = static_cast<double>(std::clock() - c1) / CLOCKS_PER_SEC;
  const double naive_full = naive * events / naive_events;

  std::printf("event patterns: %d rules x %d events\n", rules, events);
  std::printf(
      "  PatternMatcher (indexed)   %8.3f s wall  %8.3f s CPU  %8.2f us/event  %zu matches  "
      "target < 1 s\n",
      indexed, indexed_cpu, indexed * 1e6 / events, matched);
  std::printf(
      "  naive one-at-a-time loop   %8.3f s wall  %8.3f s CPU  %8.2f us/event  (measured on %d "
      "events, %zu matches, agree; scaled to %d)\n",
      naive_full, naive_cpu * events / naive_events, naive * 1e6 / naive_events, naive_events,
      naive_matched, events);
  std::printf("  speed-up                   %8.1fx\n", naive_full / indexed);
  return 0;
}
