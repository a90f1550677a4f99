// Attribute defaults and validation for load balancers, target groups and listeners.
#include <algorithm>
#include <cctype>
#include <set>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

bool IsBool(const std::string& v) { return v == "true" || v == "false"; }

std::optional<int64_t> ParseInt(const std::string& v) {
  if (v.empty() || v.size() > 12) return std::nullopt;
  if (!std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(c); })) return std::nullopt;
  return std::stoll(v);
}

std::optional<ApiError> CheckBool(const std::string& key, const std::string& v) {
  if (IsBool(v)) return std::nullopt;
  return ValidationError("The value of '" + key + "' must be 'true' or 'false', found '" + v + "'");
}

std::optional<ApiError> CheckRange(const std::string& key, const std::string& v, int64_t lo,
                                   int64_t hi) {
  auto n = ParseInt(v);
  if (n && *n >= lo && *n <= hi) return std::nullopt;
  return ValidationError("The value of '" + key + "' must be an integer between " +
                         std::to_string(lo) + " and " + std::to_string(hi) + ", found '" + v + "'");
}

std::optional<ApiError> CheckOneOf(const std::string& key, const std::string& v,
                                   const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return std::nullopt;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
  return ValidationError("The value of '" + key + "' must be one of " + list + ", found '" + v +
                         "'");
}

// An S3 bucket name: 3-63 of [a-z0-9.-], starting and ending with a letter or digit.
bool IsBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(b.front())) ||
      !std::isalnum(static_cast<unsigned char>(b.back())))
    return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

// The changes as key -> value, later entries winning.
Attributes Changes(const Json& changes) {
  Attributes out;
  for (const auto& c : changes) out[c.value("Key", "")] = c.value("Value", "");
  return out;
}

}  // namespace

Attributes DefaultLoadBalancerAttributes() {
  return {
      {"access_logs.s3.enabled", "false"},
      {"access_logs.s3.bucket", ""},
      {"access_logs.s3.prefix", ""},
      {"client_keep_alive.seconds", "3600"},
      {"connection_logs.s3.enabled", "false"},
      {"connection_logs.s3.bucket", ""},
      {"connection_logs.s3.prefix", ""},
      {"deletion_protection.enabled", "false"},
      {"idle_timeout.timeout_seconds", "60"},
      {"load_balancing.cross_zone.enabled", "true"},
      {"routing.http.desync_mitigation_mode", "defensive"},
      {"routing.http.drop_invalid_header_fields.enabled", "false"},
      {"routing.http.preserve_host_header.enabled", "false"},
      {"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"},
      {"routing.http.xff_client_port.enabled", "false"},
      {"routing.http.xff_header_processing.mode", "append"},
      {"routing.http2.enabled", "true"},
      {"waf.fail_open.enabled", "false"},
      {"zonal_shift.config.enabled", "false"},
  };
}

Attributes DefaultTargetGroupAttributes(const std::string& target_type) {
  Attributes common = {
      {"load_balancing.cross_zone.enabled", "use_load_balancer_configuration"},
      {"target_group_health.dns_failover.minimum_healthy_targets.count", "1"},
      {"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off"},
      {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"},
      {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off"},
  };
  if (target_type == "lambda") {
    common["lambda.multi_value_headers.enabled"] = "false";
    return common;
  }
  common.insert({
      {"deregistration_delay.timeout_seconds", "300"},
      {"load_balancing.algorithm.anomaly_mitigation", "off"},
      {"load_balancing.algorithm.type", "round_robin"},
      {"slow_start.duration_seconds", "0"},
      {"stickiness.app_cookie.cookie_name", ""},
      {"stickiness.app_cookie.duration_seconds", "86400"},
      {"stickiness.enabled", "false"},
      {"stickiness.lb_cookie.duration_seconds", "86400"},
      {"stickiness.type", "lb_cookie"},
  });
  return common;
}

Attributes DefaultListenerAttributes() {
  Attributes out = {{"routing.http.response.server.enabled", "true"}};
  for (const char* header :
       {"strict_transport_security", "access_control_allow_origin", "access_control_allow_methods",
        "access_control_allow_headers", "access_control_allow_credentials",
        "access_control_expose_headers", "access_control_max_age", "content_security_policy",
        "x_content_type_options", "x_frame_options"}) {
    out[std::string("routing.http.response.") + header + ".header_value"] = "";
  }
  return out;
}

Json AttributeList(const Attributes& attributes) {
  Json out = Json::array();
  for (const auto& [k, v] : attributes) out.push_back(Json{{"Key", k}, {"Value", v}});
  return out;
}

std::optional<ApiError> ApplyLoadBalancerAttributes(Attributes& attributes, const Json& changes) {
  Attributes next = attributes;
  for (const auto& [key, value] : Changes(changes)) {
    if (!next.count(key)) {
      return ValidationError("Load balancer attribute key '" + key + "' is not recognized");
    }
    std::optional<ApiError> error;
    if (key.size() > 8 && key.compare(key.size() - 8, 8, ".enabled") == 0) {
      error = CheckBool(key, value);
      if (!error && key == "load_balancing.cross_zone.enabled" && value != "true") {
        error = InvalidConfiguration(
            "Cross-zone load balancing cannot be disabled for load balancers of type "
            "'application'");
      }
    } else if (key == "idle_timeout.timeout_seconds") {
      error = CheckRange(key, value, 1, 4000);
    } else if (key == "client_keep_alive.seconds") {
      error = CheckRange(key, value, 60, 604800);
    } else if (key == "routing.http.desync_mitigation_mode") {
      error = CheckOneOf(key, value, {"monitor", "defensive", "strictest"});
    } else if (key == "routing.http.xff_header_processing.mode") {
      error = CheckOneOf(key, value, {"append", "preserve", "remove"});
    } else if (key == "access_logs.s3.bucket" || key == "connection_logs.s3.bucket") {
      if (!value.empty() && !IsBucketName(value)) {
        error = InvalidConfiguration("The value of '" + key + "' is not a valid S3 bucket name: '" +
                                     value + "'");
      }
    } else if (key == "access_logs.s3.prefix" || key == "connection_logs.s3.prefix") {
      if (value.find("AWSLogs") != std::string::npos) {
        error = InvalidConfiguration("The value of '" + key +
                                     "' cannot contain 'AWSLogs', which is reserved");
      }
    }
    if (error) return error;
    next[key] = value;
  }
  for (const char* kind : {"access_logs", "connection_logs"}) {
    std::string prefix = kind;
    if (next[prefix + ".s3.enabled"] == "true" && next[prefix + ".s3.bucket"].empty()) {
      return InvalidConfiguration("The value of '" + prefix + ".s3.bucket' cannot be empty when " +
                                  prefix + ".s3.enabled is 'true'");
    }
  }
  attributes = std::move(next);
  return std::nullopt;
}

std::optional<ApiError> ApplyTargetGroupAttributes(Attributes& attributes, const Json& changes,
                                                   const std::string& target_type) {
  Attributes next = attributes;
  for (const auto& [key, value] : Changes(changes)) {
    if (!next.count(key)) {
      return InvalidConfiguration("The provided target group attribute is not supported");
    }
    std::optional<ApiError> error;
    if (key.size() > 8 && key.compare(key.size() - 8, 8, ".enabled") == 0 &&
        key != "load_balancing.cross_zone.enabled") {
      error = CheckBool(key, value);
    } else if (key == "load_balancing.cross_zone.enabled") {
      error = CheckOneOf(key, value, {"true", "false", "use_load_balancer_configuration"});
    } else if (key == "deregistration_delay.timeout_seconds") {
      error = CheckRange(key, value, 0, 3600);
    } else if (key == "slow_start.duration_seconds") {
      error = CheckRange(key, value, 0, 900);
      if (!error && value != "0" && *ParseInt(value) < 30) {
        error = ValidationError(
            "The value of 'slow_start.duration_seconds' must be 0 (off) or between 30 and 900, "
            "found '" +
            value + "'");
      }
    } else if (key == "stickiness.type") {
      error = CheckOneOf(key, value, {"lb_cookie", "app_cookie"});
    } else if (key == "stickiness.lb_cookie.duration_seconds" ||
               key == "stickiness.app_cookie.duration_seconds") {
      error = CheckRange(key, value, 1, 604800);
    } else if (key == "stickiness.app_cookie.cookie_name") {
      if (value.rfind("AWSALB", 0) == 0) {
        error = ValidationError(
            "The value of 'stickiness.app_cookie.cookie_name' cannot start with 'AWSALB', "
            "'AWSALBAPP' or 'AWSALBTG'; those names are reserved for the load balancer");
      } else if (value.size() > 256) {
        error = ValidationError(
            "The value of 'stickiness.app_cookie.cookie_name' must be at most 256 characters");
      }
    } else if (key == "load_balancing.algorithm.type") {
      error =
          CheckOneOf(key, value, {"round_robin", "least_outstanding_requests", "weighted_random"});
    } else if (key == "load_balancing.algorithm.anomaly_mitigation") {
      error = CheckOneOf(key, value, {"on", "off"});
    } else if (key.size() > 6 && key.compare(key.size() - 6, 6, ".count") == 0) {
      error = CheckRange(key, value, 1, 1000000);
    } else if (key.size() > 11 && key.compare(key.size() - 11, 11, ".percentage") == 0) {
      if (value != "off") error = CheckRange(key, value, 1, 100);
    }
    if (error) return error;
    next[key] = value;
  }
  if (target_type != "lambda") {
    if (next["stickiness.enabled"] == "true" && next["stickiness.type"] == "app_cookie" &&
        next["stickiness.app_cookie.cookie_name"].empty()) {
      return InvalidConfiguration(
          "You must set an application cookie name to enable stickiness of type 'app_cookie'");
    }
    std::string algorithm = next["load_balancing.algorithm.type"];
    if (next["slow_start.duration_seconds"] != "0" && algorithm != "round_robin") {
      return InvalidConfiguration("Slow start mode is not supported with the '" + algorithm +
                                  "' load balancing algorithm");
    }
    if (next["load_balancing.algorithm.anomaly_mitigation"] == "on" &&
        algorithm != "weighted_random") {
      return InvalidConfiguration(
          "Anomaly mitigation is only supported with the 'weighted_random' load balancing "
          "algorithm");
    }
  }
  attributes = std::move(next);
  return std::nullopt;
}

std::optional<ApiError> ApplyListenerAttributes(Attributes& attributes, const Json& changes) {
  Attributes next = attributes;
  for (const auto& [key, value] : Changes(changes)) {
    if (!next.count(key)) {
      return ValidationError("Listener attribute key '" + key + "' is not recognized");
    }
    if (key == "routing.http.response.server.enabled") {
      if (auto error = CheckBool(key, value)) return error;
    }
    next[key] = value;
  }
  attributes = std::move(next);
  return std::nullopt;
}

}  // namespace understudy::elb
