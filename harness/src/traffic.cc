#include "understudy/traffic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "http.h"
#include "real_time.h"

namespace understudy {
namespace {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

std::string Millis(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fms", ms);
  return text;
}

}  // namespace

int TrafficReport::Failed() const {
  int failed = errors;
  for (const auto& [code, count] : status) {
    if (code < 200 || code >= 400) failed += count;
  }
  return failed;
}

std::string TrafficReport::Summary() const {
  std::string text = std::to_string(total) + " requests:";
  bool first = true;
  for (const auto& [code, count] : status) {
    text += (first ? " " : ", ") + std::to_string(code) + " x" + std::to_string(count);
    first = false;
  }
  text += "; " + std::to_string(errors) + " errors";
  for (const auto& e : error_samples) text += " [" + e + "]";
  text += "; p50 " + Millis(p50_ms) + " p90 " + Millis(p90_ms) + " p99 " + Millis(p99_ms) +
          " max " + Millis(max_ms);
  return text;
}

TrafficReport SendTraffic(const TrafficOptions& options) {
  TrafficReport report;
  if (options.requests <= 0 || options.paths.empty()) return report;
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto worker = [&] {
    harness_internal::HttpClient http;
    while (true) {
      int i = next.fetch_add(1);
      if (i >= options.requests) break;
      const std::string& path = options.paths[static_cast<size_t>(i) % options.paths.size()];
      auto started = harness_internal::RealNow();
      auto response =
          http.Request("GET", options.base_url + path, "", options.headers, options.timeout_ms);
      double ms =
          std::chrono::duration<double, std::milli>(harness_internal::RealNow() - started).count();
      std::lock_guard<std::mutex> lock(mu);
      ++report.total;
      latencies.push_back(ms);
      if (response.status == 0) {
        ++report.errors;
        if (report.error_samples.size() < 3) report.error_samples.push_back(response.transport);
      } else {
        ++report.status[response.status];
      }
    }
  };
  int threads = std::clamp(options.concurrency, 1, options.requests);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::sort(latencies.begin(), latencies.end());
  report.p50_ms = Percentile(latencies, 0.50);
  report.p90_ms = Percentile(latencies, 0.90);
  report.p99_ms = Percentile(latencies, 0.99);
  report.max_ms = latencies.empty() ? 0 : latencies.back();
  return report;
}

}  // namespace understudy
