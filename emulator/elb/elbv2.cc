// Elbv2: the component object, its operations on the front door, its control endpoints.
#include "elb/elbv2.h"

#include "elb/elbv2_internal.h"

namespace understudy::elb {
namespace {

Status AsStatus(const ApiResult& result) {
  if (result.ok()) return Status::Ok();
  return Status::InvalidArgument(result.error().code + ": " + result.error().message);
}

class Elbv2Impl final : public Elbv2 {
 public:
  Elbv2Impl(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
            DataPlane& data_plane, TargetHealthSource& health, Elbv2Options options)
      : service_(loop, store, journal, clock, std::move(random), data_plane, health,
                 std::move(options)),
        data_plane_(data_plane) {}

  Status Open() { return service_.Open(); }

  // Elbv2
  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    using Method = ApiResult (Service::*)(const Scope&, const Json&);
    const std::vector<std::pair<const char*, Method>> operations = {
        {"CreateLoadBalancer", &Service::CreateLoadBalancer},
        {"DescribeLoadBalancers", &Service::DescribeLoadBalancers},
        {"DeleteLoadBalancer", &Service::DeleteLoadBalancer},
        {"DescribeLoadBalancerAttributes", &Service::DescribeLoadBalancerAttributes},
        {"ModifyLoadBalancerAttributes", &Service::ModifyLoadBalancerAttributes},
        {"SetSecurityGroups", &Service::SetSecurityGroups},
        {"SetSubnets", &Service::SetSubnets},
        {"SetIpAddressType", &Service::SetIpAddressType},
        {"CreateTargetGroup", &Service::CreateTargetGroup},
        {"DescribeTargetGroups", &Service::DescribeTargetGroups},
        {"ModifyTargetGroup", &Service::ModifyTargetGroup},
        {"DeleteTargetGroup", &Service::DeleteTargetGroup},
        {"DescribeTargetGroupAttributes", &Service::DescribeTargetGroupAttributes},
        {"ModifyTargetGroupAttributes", &Service::ModifyTargetGroupAttributes},
        {"RegisterTargets", &Service::RegisterTargets},
        {"DeregisterTargets", &Service::DeregisterTargets},
        {"DescribeTargetHealth", &Service::DescribeTargetHealth},
        {"CreateListener", &Service::CreateListener},
        {"DescribeListeners", &Service::DescribeListeners},
        {"ModifyListener", &Service::ModifyListener},
        {"DeleteListener", &Service::DeleteListener},
        {"DescribeListenerAttributes", &Service::DescribeListenerAttributes},
        {"ModifyListenerAttributes", &Service::ModifyListenerAttributes},
        {"AddListenerCertificates", &Service::AddListenerCertificates},
        {"DescribeListenerCertificates", &Service::DescribeListenerCertificates},
        {"RemoveListenerCertificates", &Service::RemoveListenerCertificates},
        {"CreateRule", &Service::CreateRule},
        {"DescribeRules", &Service::DescribeRules},
        {"ModifyRule", &Service::ModifyRule},
        {"DeleteRule", &Service::DeleteRule},
        {"SetRulePriorities", &Service::SetRulePriorities},
        {"AddTags", &Service::AddTags},
        {"RemoveTags", &Service::RemoveTags},
        {"DescribeTags", &Service::DescribeTags},
        {"DescribeSSLPolicies", &Service::DescribeSslPolicies},
        {"DescribeAccountLimits", &Service::DescribeAccountLimits},
    };
    for (const auto& [op, method] : operations) {
      front_door.Register(
          "elbv2", op, [this, method = method](const api::RequestContext& ctx, const Json& input) {
            return (service_.*method)(ctx.scope, input);
          });
    }
    front_door.RegisterInternal("GET", "/_understudy/elb",
                                [this](const api::HttpRequest&, api::HttpReply reply) {
                                  reply(api::JsonResponse(200, service_.Describe()));
                                });
    control.AddResetHook([this] { return Reset(); });
    control.AddCondition(
        "elbTargetHealth",
        [this](const Scope& scope, const Json& params) -> Result<api::WaitCondition> {
          auto text = [&](const char* key) {
            return params.is_object() && params.contains(key) && params[key].is_string();
          };
          if (!text("targetGroupArn") || !text("id") || !text("state") ||
              (params.contains("port") && !params["port"].is_number_integer())) {
            return Status::InvalidArgument(
                "expected {\"targetGroupArn\": \"<ARN>\", \"id\": \"<target id>\", \"port\": "
                "<port, default the target group's>, \"state\": \"healthy\" | \"unhealthy\" | "
                "\"initial\" | \"draining\" | \"unused\" | \"unavailable\"}");
          }
          std::string arn = params["targetGroupArn"], id = params["id"], want = params["state"];
          std::optional<int> port;
          if (params.contains("port")) port = params["port"].get<int>();
          auto current = [this, scope, arn, id, port]() -> Json {
            const TargetGroupRecord* tg = service_.FindTargetGroup(scope, arn);
            if (tg == nullptr)
              return Json{{"targetGroupArn", arn}, {"id", id}, {"state", "MISSING"}};
            uint16_t p = static_cast<uint16_t>(port.value_or(tg->doc.value("Port", 0)));
            Json health = service_.TargetHealthOf(*tg, id, p);
            Json out{{"targetGroupArn", arn}, {"id", id}, {"port", p}, {"state", health["State"]}};
            if (health.contains("Reason")) out["reason"] = health["Reason"];
            return out;
          };
          return api::WaitCondition{[current, want] { return current()["state"] == want; },
                                    current};
        });
  }

  Status Reset() override { return service_.Reset(); }
  Json Describe() const override { return service_.Describe(); }

  std::optional<TargetGroupView> FindTargetGroup(const Scope& scope,
                                                 const std::string& arn) const override {
    const TargetGroupRecord* tg = service_.FindTargetGroup(scope, arn);
    if (tg == nullptr) return std::nullopt;
    TargetGroupView view;
    view.target_type = tg->doc.value("TargetType", "instance");
    view.load_balancer_arns = service_.LoadBalancersUsing(arn);
    auto delay = tg->attributes.find("deregistration_delay.timeout_seconds");
    if (delay != tg->attributes.end())
      view.deregistration_delay_seconds = std::stoll(delay->second);
    return view;
  }
  Status RegisterTarget(const Scope& scope, const std::string& arn, const std::string& id,
                        int port) override {
    return AsStatus(service_.RegisterTargets(
        scope,
        Json{{"TargetGroupArn", arn}, {"Targets", Json::array({{{"Id", id}, {"Port", port}}})}}));
  }
  Status DeregisterTarget(const Scope& scope, const std::string& arn, const std::string& id,
                          int port) override {
    return AsStatus(service_.DeregisterTargets(
        scope,
        Json{{"TargetGroupArn", arn}, {"Targets", Json::array({{{"Id", id}, {"Port", port}}})}}));
  }
  Json TargetHealth(const Scope& scope, const std::string& arn, const std::string& id,
                    int port) const override {
    const TargetGroupRecord* tg = service_.FindTargetGroup(scope, arn);
    if (tg == nullptr) return Json{{"State", "unused"}, {"Reason", "Target.NotRegistered"}};
    return service_.TargetHealthOf(*tg, id, static_cast<uint16_t>(port));
  }
  std::optional<Json> FindRule(const Scope& scope, const std::string& rule_arn) const override {
    const RuleRecord* rule = service_.FindRule(scope, rule_arn);
    if (rule == nullptr) return std::nullopt;
    return rule->doc;
  }
  Status SetForwardWeights(const Scope& scope, const std::string& rule_arn,
                           const std::vector<std::pair<std::string, int>>& weights) override {
    const RuleRecord* rule = service_.FindRule(scope, rule_arn);
    if (rule == nullptr) return Status::NotFound("One or more rules not found");
    Json groups = Json::array();
    for (const auto& [arn, weight] : weights) {
      groups.push_back(Json{{"TargetGroupArn", arn}, {"Weight", weight}});
    }
    Json actions = Json::array();
    bool forwarded = false;
    for (Json action : rule->doc.value("Actions", Json::array())) {
      if (action.value("Type", "") == "forward" && !forwarded) {
        Json config = action.value("ForwardConfig", Json::object());
        config["TargetGroups"] = groups;
        action.erase("TargetGroupArn");
        action["ForwardConfig"] = config;
        forwarded = true;
      }
      actions.push_back(action);
    }
    if (!forwarded) {
      return Status::FailedPrecondition("rule " + rule_arn + " has no forward action");
    }
    return AsStatus(service_.ModifyRule(scope, Json{{"RuleArn", rule_arn}, {"Actions", actions}}));
  }

  std::vector<TargetGroupSample> SampleTargetGroups() const override {
    std::vector<TargetGroupSample> out;
    for (const auto& [arn, tg] : service_.target_groups_) {
      TargetGroupSample sample{tg.scope, arn, service_.LoadBalancersUsing(arn), {}};
      for (const auto& t : tg.targets) {
        Json health = service_.TargetHealthOf(tg, t.id, t.port);
        sample.targets.push_back(TargetSample{t.id, t.port, health.value("State", ""),
                                              data_plane_.Counters(arn, t.id, t.port)});
      }
      out.push_back(std::move(sample));
    }
    return out;
  }

 private:
  Service service_;
  DataPlane& data_plane_;
};

}  // namespace

Result<std::unique_ptr<Elbv2>> Elbv2::Open(EventLoop& loop, Store& store, Journal& journal,
                                           Clock& clock, Random random, DataPlane& data_plane,
                                           TargetHealthSource& health, Elbv2Options options) {
  auto elbv2 = std::make_unique<Elbv2Impl>(loop, store, journal, clock, std::move(random),
                                           data_plane, health, std::move(options));
  US_RETURN_IF_ERROR(elbv2->Open());
  return std::unique_ptr<Elbv2>(std::move(elbv2));
}

}  // namespace understudy::elb
