#include "cloudwatch/metrics_store.h"

#include <algorithm>

namespace understudy::cloudwatch {

Json MetricId::DimensionsJson() const {
  Json out = Json::array();
  for (const auto& [k, v] : dimensions) out.push_back(Json{{"Name", k}, {"Value", v}});
  return out;
}

MetricId MetricId::From(const std::string& ns, const std::string& name, const Json& dimensions) {
  MetricId id{ns, name, {}};
  if (dimensions.is_array()) {
    for (const auto& d : dimensions) {
      id.dimensions.emplace_back(d.value("Name", ""), d.value("Value", ""));
    }
  } else if (dimensions.is_object()) {
    for (const auto& [k, v] : dimensions.items()) {
      id.dimensions.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  std::sort(id.dimensions.begin(), id.dimensions.end());
  return id;
}

bool MetricId::operator<(const MetricId& other) const {
  return std::tie(ns, name, dimensions) < std::tie(other.ns, other.name, other.dimensions);
}

void StatSet::Add(const StatSet& other) {
  if (other.count <= 0) return;
  if (unit.empty()) unit = other.unit;
  if (count <= 0) {
    count = other.count;
    sum = other.sum;
    min = other.min;
    max = other.max;
    return;
  }
  count += other.count;
  sum += other.sum;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
}

std::optional<double> StatSet::Get(const std::string& statistic) const {
  if (count <= 0) return std::nullopt;
  if (statistic == "SampleCount") return count;
  if (statistic == "Average") return sum / count;
  if (statistic == "Sum") return sum;
  if (statistic == "Minimum") return min;
  if (statistic == "Maximum") return max;
  return std::nullopt;
}

Status MetricsStore::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "cloudwatch_metrics",
      {"CREATE TABLE cw_datapoints (account TEXT NOT NULL, region TEXT NOT NULL, ns TEXT NOT "
       "NULL, name TEXT NOT NULL, dims TEXT NOT NULL, ts INTEGER NOT NULL, count REAL NOT NULL, "
       "sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, unit TEXT NOT NULL)"}));
  return store_.Query(
      "SELECT account, region, ns, name, dims, ts, count, sum, min, max, unit FROM cw_datapoints",
      {}, [&](const SqlRow& row) {
        auto dims = ParseJson(row.Text(4));
        MetricId id = MetricId::From(row.Text(2), row.Text(3), dims.ok() ? *dims : Json::array());
        Bucket& b = series_[Key{row.Text(0), row.Text(1), id}][row.Int(5)];
        b.stats.Add(StatSet{row.Real(6), row.Real(7), row.Real(8), row.Real(9)});
        b.unit = row.Text(10);
      });
}

Status MetricsStore::Reset() {
  series_.clear();
  return store_.Run("DELETE FROM cw_datapoints");
}

Status MetricsStore::Put(const Scope& scope, const MetricId& id, TimePoint at,
                         const StatSet& values, const std::string& unit) {
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  Bucket& b = series_[Key{scope.account, scope.region, id}][second];
  b.stats.Add(values);
  if (!unit.empty()) b.unit = unit;
  return store_.Run(
      "INSERT INTO cw_datapoints(account, region, ns, name, dims, ts, count, sum, min, max, unit) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      {scope.account, scope.region, id.ns, id.name, id.DimensionsJson().dump(), second,
       values.count, values.sum, values.min, values.max, unit});
}

std::optional<StatSet> MetricsStore::Aggregate(const Scope& scope, const MetricId& id,
                                               TimePoint from, TimePoint to,
                                               const std::string& unit) const {
  auto it = series_.find(Key{scope.account, scope.region, id});
  if (it == series_.end()) return std::nullopt;
  auto secs = [](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  StatSet total;
  for (auto b = it->second.lower_bound(secs(from)); b != it->second.end() && b->first < secs(to);
       ++b) {
    if (!unit.empty() && b->second.unit != unit && !(unit == "None" && b->second.unit.empty()))
      continue;
    StatSet stats = b->second.stats;
    stats.unit = b->second.unit;
    total.Add(stats);
  }
  if (total.count <= 0) return std::nullopt;
  return total;
}

std::vector<MetricId> MetricsStore::List(const Scope& scope, std::optional<TimePoint> since) const {
  std::vector<MetricId> out;
  int64_t floor =
      since ? std::chrono::duration_cast<std::chrono::seconds>(since->time_since_epoch()).count()
            : INT64_MIN;
  for (const auto& [key, buckets] : series_) {
    if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
    if (buckets.empty() || buckets.rbegin()->first < floor) continue;
    out.push_back(std::get<2>(key));
  }
  return out;
}

void MetricsStore::Prune(TimePoint before) {
  int64_t floor =
      std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
  bool any = false;
  for (auto& [key, buckets] : series_) {
    while (!buckets.empty() && buckets.begin()->first < floor) {
      buckets.erase(buckets.begin());
      any = true;
    }
  }
  if (any) (void)store_.Run("DELETE FROM cw_datapoints WHERE ts < ?1", {floor});
}

}  // namespace understudy::cloudwatch
