// Traffic specs and statistics: what a generator is asked to send, the errors for bad
// specs (member, found, expected), when each request is due, and the counting of
// answers (errors, status classes, nearest-rank latency percentiles, per-second buckets).
#include "traffic/spec.h"

#include <gtest/gtest.h>

namespace understudy::traffic {
namespace {

TrafficSpec Spec(const char* text) {
  auto parsed = ParseTrafficSpec(Json::parse(text));
  if (auto* e = std::get_if<SpecError>(&parsed)) {
    ADD_FAILURE() << e->Message();
    return {};
  }
  return std::get<TrafficSpec>(parsed);
}

std::string ErrorOf(const char* text) {
  auto parsed = ParseTrafficSpec(Json::parse(text));
  auto* e = std::get_if<SpecError>(&parsed);
  return e ? e->Message() : "no error";
}

TEST(TrafficSpecTest, ReadsEveryMember) {
  TrafficSpec s = Spec(R"({"name": "t1", "loadBalancer": "web", "port": 8080, "rate": 20,
      "duration": "10m", "paths": ["/a", "/b"], "method": "POST", "headers": {"X-A": "1"},
      "body": {"k": 1}, "concurrency": 4, "timeout": "2s", "region": "eu-west-1"})");
  EXPECT_EQ(s.name, "t1");
  EXPECT_EQ(s.target.load_balancer, "web");
  EXPECT_EQ(s.target.port, 8080);
  EXPECT_EQ(s.rate, 20);
  EXPECT_EQ(s.duration, std::chrono::minutes(10));
  ASSERT_EQ(s.paths.size(), 2u);
  EXPECT_FALSE(s.weighted);
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.body, R"({"k":1})");
  // A JSON body gets a JSON content type unless one is given.
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[1].first, "Content-Type");
  EXPECT_EQ(s.concurrency, 4);
  EXPECT_EQ(s.timeout, std::chrono::seconds(2));
  EXPECT_EQ(s.region, "eu-west-1");
  EXPECT_EQ(s.Planned(), 12000);
}

TEST(TrafficSpecTest, DefaultsAndTargets) {
  TrafficSpec s = Spec(R"({"name": "t", "target": {"loadBalancer": "web"}, "rate": 1,
                           "duration": "1m"})");
  EXPECT_EQ(s.target.port, 80);
  ASSERT_EQ(s.paths.size(), 1u);
  EXPECT_EQ(s.paths[0].path, "/");
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.concurrency, 8);
  EXPECT_EQ(s.timeout, std::chrono::seconds(10));
  TrafficSpec u = Spec(R"({"name": "u", "url": "http://127.0.0.1:9000/base", "rate": 2,
                           "duration": "1s", "paths": [{"path": "/x", "weight": 3},
                                                       {"path": "/y", "weight": 1}]})");
  EXPECT_EQ(u.target.url, "http://127.0.0.1:9000/base");
  EXPECT_TRUE(u.weighted);
  EXPECT_EQ(u.paths[0].weight, 3);
}

TEST(TrafficSpecTest, RequestsAreDueAtRateIntervals) {
  TrafficSpec s = Spec(R"({"name": "t", "url": "http://127.0.0.1:1", "rate": 3,
                           "duration": "10s"})");
  EXPECT_EQ(s.Planned(), 30);
  EXPECT_EQ(s.OffsetOf(0), Duration(0));
  EXPECT_EQ(s.OffsetOf(1), Duration(333333));
  EXPECT_EQ(s.OffsetOf(3), std::chrono::seconds(1));
  EXPECT_EQ(s.OffsetOf(29), Duration(9666667));
  // Fractional rates round down to whole requests.
  TrafficSpec f = Spec(R"({"name": "t", "url": "http://127.0.0.1:1", "rate": 0.5,
                           "duration": "5s"})");
  EXPECT_EQ(f.Planned(), 2);
  EXPECT_EQ(f.OffsetOf(1), std::chrono::seconds(2));
}

TEST(TrafficSpecTest, ErrorsNameTheMember) {
  EXPECT_EQ(ErrorOf(R"([])"),
            "the request: found an empty array; expected a traffic object such as {\"name\": "
            "\"t1\", \"loadBalancer\": \"web\", \"port\": 80, \"rate\": 20, \"duration\": \"10m\", "
            "\"paths\": [\"/\"]}");
  EXPECT_EQ(ErrorOf(R"({"loadBalancer": "web", "rate": 1, "duration": "1m"})"),
            "the request: found no \"name\"; expected a \"name\" for the generator");
  EXPECT_EQ(ErrorOf(R"({"name": "a b", "loadBalancer": "web", "rate": 1, "duration": "1m"})"),
            "name: found \"a b\"; expected a name of 1 to 64 letters, digits, '-', '_' or '.'");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "url": "http://x", "rate": 1,
                        "duration": "1m"})"),
            "the request: found both loadBalancer and url; expected a target: \"loadBalancer\" "
            "(a load balancer name) with \"port\" (its listener's port), or \"url\" "
            "(\"http://127.0.0.1:8080\")");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "url": "https://127.0.0.1:1", "rate": 1, "duration": "1m"})"),
            "url: found \"https://127.0.0.1:1\"; expected an http:// URL such as "
            "\"http://127.0.0.1:8080\" (https is not supported)");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "port": 0, "rate": 1,
                        "duration": "1m"})"),
            "port: found 0 (number); expected a listener port from 1 to 65535");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": "fast", "duration": "1m"})"),
            "rate: found \"fast\"; expected a number of requests per second above 0 and at most "
            "10000");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "500ms"})"),
            "duration: found \"500ms\"; expected a duration long enough for one request at the "
            "rate given");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "paths": ["api"]})"),
            "paths[0]: found \"api\"; expected a path starting with '/' without spaces, such as "
            "\"/api/users?id=1\"");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "paths": ["/a", {"path": "/b", "weight": 1}]})"),
            "paths[1]: found an object among strings; expected a non-empty array of paths "
            "(\"/api/users\") or of {\"path\", \"weight\"} objects");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "concurrency": 0})"),
            "concurrency: found 0 (number); expected a whole number of requests in flight from 1 "
            "to 1024");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "headers": {"X-A": 1}})"),
            "headers.X-A: found 1 (number); expected a header value string on one line");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "method": "GE T"})"),
            "method: found \"GE T\"; expected an HTTP method such as \"GET\" or \"POST\"");
  EXPECT_EQ(ErrorOf(R"({"name": "t", "loadBalancer": "web", "rate": 1, "duration": "1m",
                        "target": {"url": "http://127.0.0.1:1"}})"),
            "target: found \"target\" next to loadBalancer, port or url; expected the target "
            "either in \"target\" or as members, not both");
}

TEST(TrafficSpecTest, OneRequest) {
  auto parsed = ParseRequestSpec(Json::parse(R"({"url": "http://127.0.0.1:1", "path": "/x"})"));
  ASSERT_TRUE(std::holds_alternative<RequestSpec>(parsed));
  EXPECT_EQ(std::get<RequestSpec>(parsed).path, "/x");
  auto bad = ParseRequestSpec(Json::parse(R"({"url": "http://127.0.0.1:1", "rate": 1})"));
  ASSERT_TRUE(std::holds_alternative<SpecError>(bad));
  EXPECT_EQ(std::get<SpecError>(bad).Message(),
            "rate: found an unknown member \"rate\"; expected only target, loadBalancer, port, "
            "url, path, method, headers, body, timeout, account, region");
}

Outcome Response(int status, int64_t latency_us, int64_t second = 0) {
  return Outcome{
      OutcomeKind::kResponse, status, Duration(latency_us), "", "/", TimePoint{}, second};
}

TEST(TrafficStatsTest, NearestRankPercentiles) {
  std::vector<int64_t> sorted;
  for (int i = 1; i <= 100; ++i) sorted.push_back(i);
  EXPECT_EQ(TrafficStats::Percentile(sorted, 50), 50);
  EXPECT_EQ(TrafficStats::Percentile(sorted, 90), 90);
  EXPECT_EQ(TrafficStats::Percentile(sorted, 99), 99);
  EXPECT_EQ(TrafficStats::Percentile(sorted, 100), 100);
  EXPECT_EQ(TrafficStats::Percentile({7}, 99), 7);
  EXPECT_EQ(TrafficStats::Percentile({}, 50), 0);
  // Ten values: p50 is the 5th, p90 the 9th, p99 the 10th.
  std::vector<int64_t> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(TrafficStats::Percentile(ten, 50), 5);
  EXPECT_EQ(TrafficStats::Percentile(ten, 90), 9);
  EXPECT_EQ(TrafficStats::Percentile(ten, 99), 10);
}

TEST(TrafficStatsTest, CountsErrorsAndClasses) {
  TrafficStats stats;
  for (int i = 0; i < 8; ++i) stats.Record(Response(200, 1000 * (i + 1), i / 4));
  stats.Record(Response(404, 500, 1));
  Outcome e503 = Response(503, 2000, 2);
  e503.sent_at = TimePoint(std::chrono::seconds(2));
  e503.path = "/x";
  stats.Record(e503);
  Outcome refused{
      OutcomeKind::kConnectError,         0, Duration(100), "connection failed: refused", "/y",
      TimePoint(std::chrono::seconds(3)), 3};
  stats.Record(refused);
  Outcome timeout{OutcomeKind::kTimeout,
                  0,
                  Duration(100),
                  "timed out",
                  "/z",
                  TimePoint(std::chrono::seconds(3)),
                  3};
  stats.Record(timeout);
  Json j = stats.ToJson(true);
  EXPECT_EQ(j["total"], 12);
  EXPECT_EQ(j["responses"], 10);
  // 5xx and answers that never came are errors; a 404 is not.
  EXPECT_EQ(j["errors"], 3);
  EXPECT_EQ(j["connectionErrors"], 1);
  EXPECT_EQ(j["timeouts"], 1);
  EXPECT_EQ(j["status"], Json::parse(R"({"200": 8, "404": 1, "503": 1})"));
  EXPECT_EQ(j["2xx"], 8);
  EXPECT_EQ(j["4xx"], 1);
  EXPECT_EQ(j["5xx"], 1);
  // Latencies of the 10 responses: 0.5, 1..8, 2 ms.
  EXPECT_EQ(j["latency"]["count"], 10);
  EXPECT_EQ(j["latency"]["p50Ms"], 3.0);
  EXPECT_EQ(j["latency"]["p90Ms"], 7.0);
  EXPECT_EQ(j["latency"]["p99Ms"], 8.0);
  EXPECT_EQ(j["latency"]["maxMs"], 8.0);
  EXPECT_EQ(j["latency"]["meanMs"], 3.85);
  EXPECT_EQ(j["firstError"], Json::parse(R"({"at": "1970-01-01T00:00:02.000Z", "kind": "status",
                                             "path": "/x", "status": 503})"));
  EXPECT_EQ(j["lastError"]["kind"], "timeout");
  EXPECT_EQ(j["lastError"]["message"], "timed out");
  EXPECT_EQ(j["perSecond"], Json::parse(R"([{"second": 0, "total": 4, "errors": 0},
                                            {"second": 1, "total": 5, "errors": 0},
                                            {"second": 2, "total": 1, "errors": 1},
                                            {"second": 3, "total": 2, "errors": 2}])"));
  // The journal's totals carry no latencies (they depend on real time).
  EXPECT_FALSE(stats.Totals().contains("latency"));
  EXPECT_FALSE(stats.ToJson(false).contains("perSecond"));
}

}  // namespace
}  // namespace understudy::traffic
