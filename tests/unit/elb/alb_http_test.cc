// What the ALB itself says and adds: error pages, request checks, forwarded
// headers, trace ids, Host rewriting, access-log lines (aws-semantics §1.8–§1.9).
#include "elb/alb_http.h"

#include <gtest/gtest.h>

namespace understudy::elb {
namespace {

TEST(AlbHttpTest, ErrorBodiesNameTheStatus) {
  EXPECT_EQ(AlbErrorBody(503),
            "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
            "<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
            "</body>\r\n</html>\r\n");
  EXPECT_NE(AlbErrorBody(504).find("504 Gateway Time-out"), std::string::npos);
  EXPECT_NE(AlbErrorBody(502).find("502 Bad Gateway"), std::string::npos);
}

TEST(AlbHttpTest, RequestChecks) {
  RequestHead head{"GET", "/", 11, {}};
  EXPECT_EQ(RejectRequest(head), std::nullopt);
  head.method = "TRACE";
  EXPECT_EQ(RejectRequest(head), 405);
  head.method = "POST";
  head.headers = {{"Transfer-Encoding", "gzip, chunked"}};
  EXPECT_EQ(RejectRequest(head), 501);
  head.headers = {{"transfer-encoding", "chunked"}};
  EXPECT_EQ(RejectRequest(head), std::nullopt);
  std::string thirty_one = "1.1.1.1";
  for (int i = 0; i < 30; ++i) thirty_one += ",2.2.2.2";
  head.headers = {{"X-Forwarded-For", thirty_one}};
  EXPECT_EQ(RejectRequest(head), 463);
  std::string long_target(17000, 'a');
  head.headers.clear();
  head.target = long_target;
  EXPECT_EQ(RejectRequest(head), 414);
}

TEST(AlbHttpTest, ForwardedForModes) {
  EXPECT_EQ(ForwardedFor(std::nullopt, "10.0.0.1", 5555, "append", false), "10.0.0.1");
  EXPECT_EQ(ForwardedFor("1.2.3.4", "10.0.0.1", 5555, "append", false), "1.2.3.4, 10.0.0.1");
  EXPECT_EQ(ForwardedFor("1.2.3.4", "10.0.0.1", 5555, "append", true), "1.2.3.4, 10.0.0.1:5555");
  EXPECT_EQ(ForwardedFor(std::nullopt, "::1", 5555, "append", true), "[::1]:5555");
  EXPECT_EQ(ForwardedFor("1.2.3.4", "10.0.0.1", 5555, "preserve", false), "1.2.3.4");
  EXPECT_EQ(ForwardedFor("1.2.3.4", "10.0.0.1", 5555, "remove", false), std::nullopt);
}

TEST(AlbHttpTest, TraceHeaderRootSelfAndUnknownFields) {
  std::string id = TraceId(0x5759e988, "bd862e3fe1be46a994272793");
  EXPECT_EQ(id, "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(TraceHeader(std::nullopt, id), "Root=" + id);
  EXPECT_EQ(TraceHeader("Root=1-abc-def;CalledFrom=app", id),
            "Self=" + id + ";Root=1-abc-def;CalledFrom=app");
  EXPECT_EQ(TraceHeader("Self=1-old-old;Root=1-abc-def", id), "Self=" + id + ";Root=1-abc-def");
  EXPECT_EQ(TraceHeader("CalledFrom=app", id), "Root=" + id + ";CalledFrom=app");
}

TEST(AlbHttpTest, HostRewriting) {
  EXPECT_EQ(ForwardedHost("web.test:34567", 80), "web.test");
  EXPECT_EQ(ForwardedHost("web.test", 443), "web.test");
  EXPECT_EQ(ForwardedHost("web.test", 8080), "web.test:8080");
  EXPECT_EQ(ForwardedHost("web.test:9000", 8080), "web.test:9000");
  EXPECT_EQ(ForwardedHost("[::1]:9000", 80), "[::1]");
}

TEST(AlbHttpTest, AccessLogLineHasAwsFieldOrder) {
  AccessLogEntry entry;
  entry.time = "2026-11-23T10:00:00.000000Z";
  entry.elb = "app/web/0123456789abcdef";
  entry.client = "127.0.0.1:5000";
  entry.target = "127.0.0.1:9001";
  entry.request_processing_time = 0;
  entry.target_processing_time = 0.0015;
  entry.response_processing_time = 0;
  entry.elb_status_code = 200;
  entry.target_status_code = "200";
  entry.received_bytes = 10;
  entry.sent_bytes = 20;
  entry.request = "GET http://web:80/ HTTP/1.1";
  entry.user_agent = "curl/7.88.1";
  entry.target_group_arn = "arn:tg";
  entry.trace_id = "Root=1-x-y";
  entry.matched_rule_priority = 0;
  entry.request_creation_time = "2026-11-23T10:00:00.000000Z";
  entry.actions_executed = "forward";
  EXPECT_EQ(AccessLogLine(entry),
            "http 2026-11-23T10:00:00.000000Z app/web/0123456789abcdef 127.0.0.1:5000 "
            "127.0.0.1:9001 0.000 0.002 0.000 200 200 10 20 \"GET http://web:80/ HTTP/1.1\" "
            "\"curl/7.88.1\" - - arn:tg \"Root=1-x-y\" \"-\" \"-\" 0 2026-11-23T10:00:00.000000Z "
            "\"forward\" \"-\" \"-\" \"127.0.0.1:9001\" \"200\" \"-\" \"-\" -");
}

// Access-log times carry microseconds, as AWS's do, not the milliseconds of the API.
TEST(AlbHttpTest, AccessLogTimeHasMicroseconds) {
  TimePoint at = *ParseIso8601("2026-11-23T10:04:05Z") + std::chrono::microseconds(123456);
  EXPECT_EQ(AccessLogTime(at), "2026-11-23T10:04:05.123456Z");
  EXPECT_EQ(AccessLogTime(*ParseIso8601("2026-01-02T00:00:00Z")), "2026-01-02T00:00:00.000000Z");
}

// The request field names the listener's port after the Host, whatever port the Host had.
TEST(AlbHttpTest, AccessLogRequestUsesTheListenerPort) {
  EXPECT_EQ(AccessLogRequest("GET", "HTTP", "web.test", 80, "/a?b=1", 11),
            "GET http://web.test:80/a?b=1 HTTP/1.1");
  EXPECT_EQ(AccessLogRequest("GET", "HTTP", "127.0.0.1:41234", 80, "/", 11),
            "GET http://127.0.0.1:80/ HTTP/1.1");
  EXPECT_EQ(AccessLogRequest("POST", "HTTPS", "[::1]:8443", 443, "/x", 10),
            "POST https://[::1]:443/x HTTP/1.0");
  EXPECT_EQ(AccessLogRequest("GET", "HTTP", "", 8080, "/", 11), "GET http://-:8080/ HTTP/1.1");
}

}  // namespace
}  // namespace understudy::elb
