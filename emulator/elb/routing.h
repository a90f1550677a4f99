// The routing snapshot: everything the ALB data plane needs to answer a request,
// as plain values.
//
// The control plane (Elbv2) builds a fresh snapshot after every change to load
// balancers, listeners, rules, target groups, targets or target health and hands it
// to the DataPlane, which swaps it in atomically; a snapshot is never modified after
// it is published. Values here are already validated and defaulted: the data plane
// trusts them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace understudy::elb {

// An IPv4 or IPv6 network from a source-ip condition ("10.0.0.0/8", "::1/128").
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> address{};  // network byte order; IPv4 uses the first 4
  int prefix = 0;
};

// One condition of a rule; values within it are OR'ed (aws-semantics §1.2–1.3).
struct Condition {
  enum class Field {
    kHostHeader,
    kPathPattern,
    kHttpHeader,
    kHttpRequestMethod,
    kQueryString,
    kSourceIp
  };
  struct QueryPair {
    std::optional<std::string> key;  // absent: any key
    std::string value;
  };
  Field field = Field::kPathPattern;
  std::string header_name;          // http-header only
  std::vector<std::string> values;  // host-header, path-pattern, http-header, http-request-method
  std::vector<QueryPair> query;     // query-string
  std::vector<Cidr> cidrs;          // source-ip
};

// What a matched rule does (the terminal action; authenticate-* are not emulated).
struct Action {
  enum class Type { kForward, kRedirect, kFixedResponse };
  struct WeightedGroup {
    std::string target_group_arn;
    uint32_t weight = 1;  // 0..999; share = weight / sum
  };
  Type type = Type::kForward;
  // forward
  std::vector<WeightedGroup> groups;
  bool group_stickiness = false;  // TargetGroupStickinessConfig (cookie AWSALBTG)
  uint32_t group_stickiness_seconds = 0;
  // redirect: components as configured, keywords (#{host}...) not yet substituted;
  // an omitted component holds its default ("#{protocol}", "#{host}", "#{port}",
  // "/#{path}", "#{query}").
  std::string redirect_protocol = "#{protocol}";
  std::string redirect_host = "#{host}";
  std::string redirect_port = "#{port}";
  std::string redirect_path = "/#{path}";
  std::string redirect_query = "#{query}";
  int redirect_status = 301;  // HTTP_301 | HTTP_302
  // fixed-response
  int fixed_status = 200;
  std::string fixed_content_type;  // empty: no Content-Type header
  std::string fixed_body;
};

struct Rule {
  std::string arn;
  int priority = 0;  // 1..50000, unique per listener
  std::vector<Condition> conditions;
  Action action;
};

// A load balancer's attributes that change how requests are handled (§1.9, §1.10).
struct LoadBalancerSettings {
  std::string arn;
  std::string name;
  std::string id;  // the 16 hex digits at the end of the ARN
  int idle_timeout_seconds = 60;
  int client_keep_alive_seconds = 3600;
  std::string xff_mode = "append";  // append | preserve | remove
  bool xff_client_port = false;
  bool preserve_host_header = false;
  bool drop_invalid_header_fields = false;
  bool tls_version_and_cipher_headers = false;
  std::string desync_mitigation_mode = "defensive";
  // Access log lines in the ALB format are appended to a file in this directory
  // when access_logs.s3.enabled is true; empty: no access log.
  std::string access_log_directory;
};

struct Listener {
  std::string arn;
  std::string load_balancer_arn;
  std::string protocol = "HTTP";  // HTTP | HTTPS
  uint16_t port = 80;             // the port AWS would listen on (X-Forwarded-Port, Host)
  uint16_t local_port = 0;        // the port bound on 127.0.0.1
  std::vector<Rule> rules;        // ascending priority
  Action default_action;
  // HTTPS: the PEM certificate chain and private key the listener presents.
  std::string certificate_pem;
  std::string private_key_pem;
};

// One registered target as the data plane sees it.
struct Target {
  enum class Health { kInitial, kHealthy, kUnhealthy, kDraining, kUnused, kUnavailable };
  std::string id;  // instance id or IP address as registered
  uint16_t port = 0;
  // Where to connect: an address on the host, or, when netns_pid is set, an address
  // inside that process's network namespace (awsvpc tasks).
  std::string connect_address = "127.0.0.1";
  int netns_pid = 0;
  Health health = Health::kInitial;
  // Slow start share in (0, 1]; 1 when not in slow start.
  double slow_start_factor = 1.0;
};

struct TargetGroup {
  std::string arn;
  std::string name;
  std::string protocol = "HTTP";  // HTTP | HTTPS (to the target)
  std::string algorithm =
      "round_robin";  // round_robin | least_outstanding_requests | weighted_random
  bool stickiness = false;
  std::string stickiness_type = "lb_cookie";  // lb_cookie | app_cookie
  uint32_t stickiness_seconds = 86400;
  std::string app_cookie_name;  // app_cookie only
  // Registered targets, draining ones included (they get no new requests; their
  // in-flight requests continue until the control plane cuts them).
  std::vector<Target> targets;
};

struct RoutingSnapshot {
  uint64_t version = 0;  // increases with every published snapshot
  std::map<std::string, LoadBalancerSettings> load_balancers;  // by ARN
  std::vector<Listener> listeners;
  std::map<std::string, TargetGroup> target_groups;  // by ARN
};

}  // namespace understudy::elb
