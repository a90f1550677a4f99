// Traffic specs and statistics: what a traffic generator is asked to send (parsed
// and validated from the JSON of POST /_understudy/traffic, or a scenario's
// "traffic" step) and what it counts of the answers. Pure; any thread.
//
// A spec's errors name the member, what was found and what was expected, so that
// the scenario reader can point at the line of a scenario file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/json.h"
#include "core/time.h"

namespace understudy::traffic {

// Where requests go: a load balancer's listener (by name and listener port, in the
// request's account and region), or a URL ("http://127.0.0.1:8080").
struct Target {
  std::string load_balancer;
  int port = 0;
  std::string url;
};

struct WeightedPath {
  std::string path;
  double weight = 1;
};

struct TrafficSpec {
  std::string name;
  Target target;
  double rate = 0;  // requests per clock second
  Duration duration{};
  std::vector<WeightedPath> paths;  // cycled in order unless `weighted`
  bool weighted = false;            // drawn by weight from the seed
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int concurrency = 8;                          // most requests in flight
  Duration timeout = std::chrono::seconds(10);  // real time per request
  std::string account;                          // empty: the emulator's default
  std::string region;
  // Requests the spec sends in full: rate × duration, rounded down.
  int64_t Planned() const;
  // When request `i` is due, after the start.
  Duration OffsetOf(int64_t i) const;
};

// One request, as POST /_understudy/http and the "http" expectation send it.
struct RequestSpec {
  Target target;
  std::string path = "/";
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(10);
  std::string account;
  std::string region;
};

// What was wrong: "rate", "found -1 (number)", "a number of requests per second above 0".
struct SpecError {
  std::string member;  // relative JSON path ("paths[1].weight"); empty: the whole spec
  std::string found;
  std::string expected;
  std::string Message() const;  // "rate: found ...; expected ..."
};

// The members a traffic spec may have, for validators.
const std::vector<std::string>& TrafficSpecMembers();
const std::vector<std::string>& RequestSpecMembers();

std::variant<TrafficSpec, SpecError> ParseTrafficSpec(const Json& value);
std::variant<RequestSpec, SpecError> ParseRequestSpec(const Json& value);

// A short description of `value` for "found ..." texts.
std::string FoundText(const Json& value);

// How a request ended.
enum class OutcomeKind { kResponse, kConnectError, kTimeout, kOtherError };

struct Outcome {
  OutcomeKind kind = OutcomeKind::kResponse;
  int status = 0;       // kResponse
  Duration latency{};   // real time from send to the full answer (or the failure)
  std::string message;  // the error, for failures
  std::string path;     // the request's path
  TimePoint sent_at{};  // clock time when it was sent
  int64_t second = 0;   // whole clock seconds from the generator's start to sent_at
};

// Counts of a generator's outcomes. A request failed (`errors`) when it got no
// answer (connection error, timeout, any other transport error) or a 5xx answer.
class TrafficStats {
 public:
  void Record(const Outcome& outcome);

  int64_t total() const { return total_; }
  int64_t errors() const { return errors_; }
  int64_t responses() const { return responses_; }
  const std::map<int, int64_t>& by_status() const { return by_status_; }

  // {"total", "responses", "errors", "connectionErrors", "timeouts", "otherErrors",
  //  "status": {"200": n}, "2xx".."5xx", "latency": {"p50Ms", "p90Ms", "p99Ms",
  //  "maxMs", "meanMs", "count"}, "firstError", "lastError"}; with `per_second`,
  // "perSecond": [{"second", "total", "errors"}] for each second with requests.
  Json ToJson(bool per_second) const;
  // The totals that do not depend on real time (no latencies), for the journal.
  Json Totals() const;

  // The nearest-rank percentile `p` (0 < p <= 100) of `sorted`; 0 when empty.
  static int64_t Percentile(const std::vector<int64_t>& sorted, double p);

 private:
  int64_t total_ = 0;
  int64_t responses_ = 0;
  int64_t errors_ = 0;
  int64_t connection_errors_ = 0;
  int64_t timeouts_ = 0;
  int64_t other_errors_ = 0;
  std::map<int, int64_t> by_status_;
  std::vector<int64_t> latencies_us_;  // of responses
  std::optional<Outcome> first_error_;
  std::optional<Outcome> last_error_;
  std::map<int64_t, std::pair<int64_t, int64_t>> per_second_;  // second -> total, errors
};

}  // namespace understudy::traffic
