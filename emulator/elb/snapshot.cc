// From control-plane state to what the data plane and the health checker run on:
// the RoutingSnapshot, the probed targets, and GET /_understudy/elb.
#include <algorithm>

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

int IntAttribute(const Attributes& a, const std::string& key, int fallback) {
  auto it = a.find(key);
  if (it == a.end() || it->second.empty()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (...) {
    return fallback;
  }
}

bool BoolAttribute(const Attributes& a, const std::string& key) {
  auto it = a.find(key);
  return it != a.end() && it->second == "true";
}

std::string TextAttribute(const Attributes& a, const std::string& key,
                          const std::string& fallback) {
  auto it = a.find(key);
  return it == a.end() ? fallback : it->second;
}

// Whether the data plane proxies to this kind of target group.
bool Routable(const TargetGroupRecord& tg) {
  std::string type = tg.doc.value("TargetType", "instance");
  return type == "instance" || type == "ip";
}

HealthCheckSettings SettingsOf(const TargetGroupRecord& tg) {
  HealthCheckSettings s;
  const Json& d = tg.doc;
  s.enabled = d.value("HealthCheckEnabled", true);
  s.protocol = d.value("HealthCheckProtocol", "HTTP");
  s.port = d.value("HealthCheckPort", "traffic-port");
  s.path = d.value("HealthCheckPath", "/");
  s.interval_seconds = d.value("HealthCheckIntervalSeconds", 30);
  s.timeout_seconds = d.value("HealthCheckTimeoutSeconds", 5);
  s.healthy_threshold = d.value("HealthyThresholdCount", 5);
  s.unhealthy_threshold = d.value("UnhealthyThresholdCount", 2);
  const Json matcher = d.value("Matcher", Json::object());
  s.matcher = matcher.value("HttpCode", matcher.value("GrpcCode", "200"));
  return s;
}

}  // namespace

void Service::Publish(bool targets_changed) {
  if (targets_changed) health_.SetTargets(CheckedTargets());
  RoutingSnapshot snapshot = BuildSnapshot();
  snapshot.version = ++version_;
  // Journal every change of a target's health, so waits see it and runs can be compared.
  std::map<TargetKey, std::string> now;
  for (const auto& [arn, tg] : snapshot.target_groups) {
    for (const auto& t : tg.targets) {
      now[TargetKey{arn, t.id, t.port}] = HealthStateName(t.health);
    }
  }
  for (const auto& [key, state] : now) {
    auto it = last_health_.find(key);
    if (it != last_health_.end() && it->second == state) continue;
    journal_.Transition(
        key.target_group_arn,
        Json{{"target", key.id + ":" + std::to_string(key.port)}, {"health", state}});
  }
  last_health_ = std::move(now);
  data_plane_.Publish(std::move(snapshot));
}

std::vector<CheckedTarget> Service::CheckedTargets() const {
  std::vector<CheckedTarget> out;
  for (const auto& [arn, tg] : target_groups_) {
    if (!Routable(tg) || !tg.doc.value("HealthCheckEnabled", true) || !InUse(arn)) continue;
    HealthCheckSettings settings = SettingsOf(tg);
    int slow_start = IntAttribute(tg.attributes, "slow_start.duration_seconds", 0);
    bool ip = tg.doc.value("TargetType", "instance") == "ip";
    for (const auto& t : tg.targets) {
      if (t.draining) continue;
      CheckedTarget c;
      c.key = TargetKey{arn, t.id, t.port};
      c.settings = settings;
      c.slow_start_seconds = slow_start;
      if (ip && t.id.rfind("127.", 0) != 0 && t.id != "::1") {
        c.connect_address = t.id;
        if (options_.resolve_target_namespace) {
          if (auto pid = options_.resolve_target_namespace(t.id)) {
            c.connect_address = "127.0.0.1";
            c.netns_pid = *pid;
          }
        }
      } else if (ip) {
        c.connect_address = t.id;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

RoutingSnapshot Service::BuildSnapshot() const {
  RoutingSnapshot snap;
  for (const auto& [arn, lb] : load_balancers_) {
    LoadBalancerSettings s;
    s.arn = arn;
    s.name = lb.doc["LoadBalancerName"];
    std::string path = ResourcePath(arn, "loadbalancer");
    s.id = path.substr(path.rfind('/') + 1);
    const Attributes& a = lb.attributes;
    s.idle_timeout_seconds = IntAttribute(a, "idle_timeout.timeout_seconds", 60);
    s.client_keep_alive_seconds = IntAttribute(a, "client_keep_alive.seconds", 3600);
    s.xff_mode = TextAttribute(a, "routing.http.xff_header_processing.mode", "append");
    s.xff_client_port = BoolAttribute(a, "routing.http.xff_client_port.enabled");
    s.preserve_host_header = BoolAttribute(a, "routing.http.preserve_host_header.enabled");
    s.drop_invalid_header_fields =
        BoolAttribute(a, "routing.http.drop_invalid_header_fields.enabled");
    s.tls_version_and_cipher_headers =
        BoolAttribute(a, "routing.http.x_amzn_tls_version_and_cipher_suite.enabled");
    s.desync_mitigation_mode = TextAttribute(a, "routing.http.desync_mitigation_mode", "defensive");
    s.access_log_directory = AccessLogDirectory(lb);
    snap.load_balancers[arn] = s;
  }
  for (const auto& [arn, l] : listeners_) {
    Listener out;
    out.arn = arn;
    out.load_balancer_arn = l.doc["LoadBalancerArn"];
    out.protocol = l.doc["Protocol"];
    out.port = static_cast<uint16_t>(l.doc["Port"].get<int>());
    out.local_port = l.local_port;
    if (out.protocol == "HTTPS" && options_.issue_certificate) {
      auto lb = load_balancers_.find(out.load_balancer_arn);
      std::string dns = lb == load_balancers_.end() ? "" : lb->second.doc.value("DNSName", "");
      auto cached = certificates_.find(dns);
      if (cached == certificates_.end()) {
        auto issued = options_.issue_certificate({dns});
        if (issued.ok()) cached = certificates_.emplace(dns, *issued).first;
      }
      if (cached != certificates_.end()) {
        out.certificate_pem = cached->second.first;
        out.private_key_pem = cached->second.second;
      }
    }
    out.default_action = ToRoutingAction(l.doc["DefaultActions"]);
    for (const auto& [rule_arn, r] : rules_) {
      if (r.listener_arn != arn || r.doc.value("IsDefault", false)) continue;
      Rule rule;
      rule.arn = rule_arn;
      rule.priority = std::stoi(r.doc["Priority"].get<std::string>());
      rule.conditions = ToRoutingConditions(r.doc["Conditions"]);
      rule.action = ToRoutingAction(r.doc["Actions"]);
      out.rules.push_back(std::move(rule));
    }
    std::sort(out.rules.begin(), out.rules.end(),
              [](const Rule& a, const Rule& b) { return a.priority < b.priority; });
    snap.listeners.push_back(std::move(out));
  }
  std::map<std::string, std::string> addresses;  // probed targets' connect addresses
  std::map<std::string, int> namespaces;
  for (const auto& c : CheckedTargets()) {
    std::string k = c.key.target_group_arn + "|" + c.key.id + "|" + std::to_string(c.key.port);
    addresses[k] = c.connect_address;
    namespaces[k] = c.netns_pid;
  }
  for (const auto& [arn, tg] : target_groups_) {
    if (!Routable(tg)) continue;
    TargetGroup out;
    out.arn = arn;
    out.name = tg.doc["TargetGroupName"];
    out.protocol = tg.doc.value("Protocol", "HTTP");
    const Attributes& a = tg.attributes;
    out.algorithm = TextAttribute(a, "load_balancing.algorithm.type", "round_robin");
    out.stickiness = BoolAttribute(a, "stickiness.enabled");
    out.stickiness_type = TextAttribute(a, "stickiness.type", "lb_cookie");
    out.stickiness_seconds = static_cast<uint32_t>(
        IntAttribute(a,
                     out.stickiness_type == "app_cookie" ? "stickiness.app_cookie.duration_seconds"
                                                         : "stickiness.lb_cookie.duration_seconds",
                     86400));
    out.app_cookie_name = TextAttribute(a, "stickiness.app_cookie.cookie_name", "");
    bool in_use = InUse(arn);
    bool ip = tg.doc.value("TargetType", "instance") == "ip";
    for (const auto& t : tg.targets) {
      Target target;
      target.id = t.id;
      target.port = t.port;
      std::string k = arn + "|" + t.id + "|" + std::to_string(t.port);
      if (addresses.count(k)) {
        target.connect_address = addresses[k];
        target.netns_pid = namespaces[k];
      } else if (ip) {
        target.connect_address = t.id;
      }
      TargetKey key{arn, t.id, t.port};
      if (t.draining) {
        target.health = Target::Health::kDraining;
      } else if (!tg.doc.value("HealthCheckEnabled", true)) {
        target.health = Target::Health::kUnavailable;
      } else if (!in_use) {
        target.health = Target::Health::kUnused;
      } else {
        target.health = health_.Health(key).state;
        target.slow_start_factor = health_.SlowStartFactor(key);
      }
      out.targets.push_back(std::move(target));
    }
    snap.target_groups[arn] = std::move(out);
  }
  return snap;
}

Json Service::Describe() const {
  Json lbs = Json::array();
  for (const auto& [arn, lb] : load_balancers_) {
    Json listeners = Json::array();
    for (const auto& [larn, l] : listeners_) {
      if (l.doc["LoadBalancerArn"] != arn) continue;
      std::string scheme = l.doc["Protocol"] == "HTTPS" ? "https" : "http";
      Json entry{{"arn", larn},
                 {"protocol", l.doc["Protocol"]},
                 {"port", l.doc["Port"]},
                 {"localPort", l.local_port}};
      if (l.local_port != 0) {
        entry["url"] = scheme + "://127.0.0.1:" + std::to_string(l.local_port);
      }
      listeners.push_back(entry);
    }
    lbs.push_back(Json{{"arn", arn},
                       {"name", lb.doc["LoadBalancerName"]},
                       {"dnsName", lb.doc["DNSName"]},
                       {"account", lb.scope.account},
                       {"region", lb.scope.region},
                       {"listeners", listeners}});
  }
  return Json{{"loadBalancers", lbs}};
}

}  // namespace understudy::elb
