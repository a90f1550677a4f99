// Metrics store: statistics over periods, units, listing and persistence.
#include "cloudwatch/metrics_store.h"

#include <gtest/gtest.h>

namespace understudy::cloudwatch {
namespace {

using std::chrono::seconds;

TEST(MetricsStoreTest, StatisticsOverAPeriodAndReload) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  Scope scope{"000000000000", "us-east-1"};
  MetricId id = MetricId::From("App", "Latency", Json{{"Service", "api"}});
  TimePoint t0 = TimePoint(seconds(1'800'000'000));
  {
    MetricsStore metrics(**store);
    ASSERT_TRUE(metrics.Open().ok());
    ASSERT_TRUE(metrics.Put(scope, id, t0, StatSet{1, 10, 10, 10}, "Milliseconds").ok());
    ASSERT_TRUE(
        metrics.Put(scope, id, t0 + seconds(30), StatSet{1, 30, 30, 30}, "Milliseconds").ok());
    ASSERT_TRUE(
        metrics.Put(scope, id, t0 + seconds(60), StatSet{2, 100, 40, 60}, "Milliseconds").ok());
    auto first = metrics.Aggregate(scope, id, t0, t0 + seconds(60));
    ASSERT_TRUE(first);
    EXPECT_EQ(*first->Get("SampleCount"), 2);
    EXPECT_EQ(*first->Get("Average"), 20);
    EXPECT_EQ(*first->Get("Sum"), 40);
    EXPECT_EQ(*first->Get("Minimum"), 10);
    EXPECT_EQ(*first->Get("Maximum"), 30);
    EXPECT_FALSE(metrics.Aggregate(scope, id, t0, t0 + seconds(60), "Seconds"));
    EXPECT_FALSE(metrics.Aggregate(Scope{"111111111111", "us-east-1"}, id, t0, t0 + seconds(60)));
  }
  MetricsStore reloaded(**store);
  ASSERT_TRUE(reloaded.Open().ok());
  auto all = reloaded.Aggregate(scope, id, t0, t0 + seconds(120));
  ASSERT_TRUE(all);
  EXPECT_EQ(*all->Get("SampleCount"), 4);
  EXPECT_EQ(*all->Get("Maximum"), 60);
  ASSERT_EQ(reloaded.List(scope, std::nullopt).size(), 1u);
  EXPECT_TRUE(reloaded.List(scope, t0 + seconds(61)).empty());
  reloaded.Prune(t0 + seconds(60));
  EXPECT_FALSE(reloaded.Aggregate(scope, id, t0, t0 + seconds(60)));
}

}  // namespace
}  // namespace understudy::cloudwatch
