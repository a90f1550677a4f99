// What an ALB itself says and adds over HTTP (aws-semantics §1.8–§1.9): its error
// pages, the checks that turn a request away before any rule runs, the
// X-Forwarded-* / X-Amzn-Trace-Id / Host rewriting on the way to a target, and the
// access-log line. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace understudy::elb {

// ASCII case-insensitive equality (header names, cookie-free tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// "Service Temporarily Unavailable" for 503...; the phrase the ALB's page uses.
std::string_view AlbReasonPhrase(int status);
// The small HTML body of an ALB-generated response.
std::string AlbErrorBody(int status);

// Limits an ALB applies to requests (§1.8).
inline constexpr size_t kMaxRequestLine = 16 * 1024;
inline constexpr size_t kMaxHeaderLine = 16 * 1024;
inline constexpr size_t kMaxHeaderBlock = 64 * 1024;
inline constexpr size_t kMaxResponseHeaderBlock = 32 * 1024;
inline constexpr int kMaxForwardedForAddresses = 30;
// Request bodies are buffered whole before they go to a target; this bounds them.
inline constexpr uint64_t kMaxRequestBody = 64ull * 1024 * 1024;

// Gives a Beast request parser the ALB's limits.
template <class Parser>
void ApplyRequestLimits(Parser& parser) {
  parser.header_limit(kMaxHeaderBlock);
  parser.body_limit(kMaxRequestBody);
}

// A parsed request's head, as the checks see it.
struct RequestHead {
  std::string_view method;
  std::string_view target;
  unsigned version = 11;  // 10 or 11
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};
// The status the ALB answers with instead of routing the request (400, 405, 414,
// 463, 501), or nothing when the request may go on.
std::optional<int> RejectRequest(const RequestHead& head);

// Header names an ALB counts as valid: [-A-Za-z0-9]+.
bool IsValidHeaderName(std::string_view name);

// X-Forwarded-For for the target under `mode` (append | preserve | remove); nothing
// means "send no X-Forwarded-For". `with_port` adds ":port" ("[v6]:port").
std::optional<std::string> ForwardedFor(std::optional<std::string_view> existing,
                                        std::string_view client_ip, uint16_t client_port,
                                        std::string_view mode, bool with_port);

// X-Amzn-Trace-Id for the target: a new Root when there is none, else a new or
// updated Self; unknown fields are kept. `id` is "1-<8 hex epoch>-<24 hex>".
std::string TraceHeader(std::optional<std::string_view> existing, const std::string& id);
// "1-<8 hex of epoch_seconds>-<24 hex>"
std::string TraceId(int64_t epoch_seconds, std::string_view hex24);
// The same id appended to `out` (no allocation when `out` has room).
void AppendTraceId(int64_t epoch_seconds, std::string_view hex24, std::string& out);

// The Host a target sees when preserve_host_header is off: no port on listener port
// 80/443, ":<listener port>" added elsewhere when absent.
std::string ForwardedHost(std::string_view host, uint16_t listener_port);

// One line of the ALB access log (space-separated fields in AWS's order).
struct AccessLogEntry {
  std::string type = "http";  // http | https | ws | wss
  std::string time;           // ISO-8601 with microseconds, response sent
  std::string elb;            // app/<name>/<id>
  std::string client;         // ip:port
  std::string target = "-";   // ip:port or "-"
  double request_processing_time = 0;
  double target_processing_time = -1;  // -1 when no target answered
  double response_processing_time = -1;
  int elb_status_code = 0;
  std::string target_status_code = "-";
  uint64_t received_bytes = 0;
  uint64_t sent_bytes = 0;
  std::string request;     // "GET http://host:80/path HTTP/1.1"
  std::string user_agent;  // "-" when absent
  std::string target_group_arn = "-";
  std::string trace_id = "-";
  std::string domain_name = "-";
  int matched_rule_priority = -1;  // 0 default rule; -1 "-"
  std::string request_creation_time;
  std::string actions_executed = "-";  // "forward", "fixed-response", "redirect"
  std::string redirect_url = "-";
  std::string error_reason = "-";
};
std::string AccessLogLine(const AccessLogEntry& entry);
// An access-log time: ISO-8601 UTC with microseconds, "2026-11-23T10:00:00.000123Z".
std::string AccessLogTime(TimePoint at);
// The access log's request field, "GET http://web.test:80/path?q HTTP/1.1": the Host
// without any port it carries, then the listener's port ("-" for no Host).
std::string AccessLogRequest(std::string_view method, std::string_view protocol,
                             std::string_view host, uint16_t listener_port, std::string_view target,
                             unsigned version);

}  // namespace understudy::elb
