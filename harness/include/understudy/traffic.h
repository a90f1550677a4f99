// Traffic: a small client-side load generator for tests — N requests spread over a
// list of paths, sent by `concurrency` keep-alive connections to a listener's URL,
// every answer counted by status, transport errors counted, latencies (real time)
// summarised as percentiles. For rate-shaped traffic inside the emulator's clock,
// use the emulator's own traffic generator instead.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace understudy {

struct TrafficOptions {
  std::string base_url;                    // "http://127.0.0.1:41234"
  std::vector<std::string> paths = {"/"};  // request i goes to paths[i % size]
  int requests = 100;
  int concurrency = 4;
  std::map<std::string, std::string> headers;  // e.g. {"Host", "api.example.com"}
  long timeout_ms = 10000;                     // per request
};

struct TrafficReport {
  int total = 0;              // requests sent
  int errors = 0;             // no HTTP answer (refused, reset, timed out)
  std::map<int, int> status;  // HTTP status -> count
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  std::vector<std::string> error_samples;  // the first few transport errors

  int Count(int http_status) const {
    auto it = status.find(http_status);
    return it == status.end() ? 0 : it->second;
  }
  // Answers with a status outside 200-399, plus transport errors.
  int Failed() const;
  // "100 requests: 200 x98, 503 x2; 0 errors; p50 1.2ms p90 3.4ms p99 9.9ms max 12ms"
  std::string Summary() const;
};

TrafficReport SendTraffic(const TrafficOptions& options);

}  // namespace understudy
