// MetricsStore: CloudWatch's datapoints, in memory and written through to SQLite.
//
// A metric is (scope, namespace, name, dimensions); each keeps statistic sets
// (count, sum, min, max, unit) per second of time it received values for, so any
// period's SampleCount / Average / Sum / Minimum / Maximum can be computed.
// Datapoints older than 15 days are dropped, as CloudWatch ages out one-minute data.
// Loaded from the store at start. Loop thread only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/json.h"
#include "core/store.h"
#include "core/time.h"

namespace understudy::cloudwatch {

// Which metric: dimensions are kept sorted by name.
struct MetricId {
  std::string ns;
  std::string name;
  std::vector<std::pair<std::string, std::string>> dimensions;

  // [{"Name": ..., "Value": ...}] in the model's Dimension shape.
  Json DimensionsJson() const;
  static MetricId From(const std::string& ns, const std::string& name, const Json& dimensions);
  bool operator<(const MetricId& other) const;
  bool operator==(const MetricId& other) const = default;
};

struct StatSet {
  StatSet() = default;
  StatSet(double count_, double sum_, double min_, double max_)
      : count(count_), sum(sum_), min(min_), max(max_) {}
  double count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  std::string unit;  // the unit of the values ("" = None)
  void Add(const StatSet& other);
  // "SampleCount", "Average", "Sum", "Minimum", "Maximum"; nothing for others.
  std::optional<double> Get(const std::string& statistic) const;
};

class MetricsStore {
 public:
  explicit MetricsStore(Store& store) : store_(store) {}
  Status Open();
  Status Reset();

  // Adds `values` at `at` (seconds resolution) with `unit` ("" = None).
  Status Put(const Scope& scope, const MetricId& id, TimePoint at, const StatSet& values,
             const std::string& unit);
  // The aggregate of the metric's values in [from, to) (with `unit` when not empty),
  // or nothing when it has none there.
  std::optional<StatSet> Aggregate(const Scope& scope, const MetricId& id, TimePoint from,
                                   TimePoint to, const std::string& unit = "") const;
  // Metrics of `scope` with a value at or after `since` (all when nothing), sorted.
  std::vector<MetricId> List(const Scope& scope, std::optional<TimePoint> since) const;
  // Forgets values before `before`.
  void Prune(TimePoint before);

 private:
  struct Bucket {
    StatSet stats;
    std::string unit;
  };
  using Key = std::tuple<std::string, std::string, MetricId>;  // account, region, id
  Store& store_;
  std::map<Key, std::map<int64_t, Bucket>> series_;  // by epoch second
};

}  // namespace understudy::cloudwatch
