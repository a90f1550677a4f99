// ECS services in Cloud Map (aws-semantics §2.14, §2.2): serviceRegistries checked at
// CreateService, each task registered when RUNNING with ECS's attributes, its container
// health reported to a registry with a custom health check, deregistered when it stops;
// ListServicesByNamespace. Cloud Map is a recording stand-in behind EcsOptions' hooks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "unit/ecs/ecs_fixture.h"

namespace understudy::ecs {
namespace {

const std::string kRegistry = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-1";
const std::string kNamespace = "arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-1";

class ServiceRegistriesTest : public EcsFixture {
 protected:
  void SetUp() override {
    hold_limit_ = std::chrono::milliseconds(1);
    options_.load_balancing.port_accepts = [](std::optional<int>, const std::string&, int) {
      return true;
    };
    options_.service_discovery.registry =
        [](const Scope&, const std::string& arn) -> std::optional<ServiceRegistryInfo> {
      if (arn != kRegistry) return std::nullopt;
      return ServiceRegistryInfo{kNamespace, true, false};
    };
    options_.service_discovery.namespace_arn =
        [](const Scope&, const std::string& name) -> std::optional<std::string> {
      if (name == "local" || name == kNamespace) return kNamespace;
      return std::nullopt;
    };
    options_.service_discovery.register_instance =
        [this](const Scope&, const std::string& arn, const std::string& id,
               const std::map<std::string, std::string>& attributes) {
          instances_[id] = attributes;
          log_.push_back("register " + arn.substr(arn.rfind('/') + 1) + " " + id);
          return Status::Ok();
        };
    options_.service_discovery.deregister_instance = [this](const Scope&, const std::string&,
                                                            const std::string& id) {
      if (!instances_.erase(id)) return Status::NotFound("Instance not found");
      log_.push_back("deregister " + id);
      return Status::Ok();
    };
    options_.service_discovery.set_health = [this](const Scope&, const std::string&,
                                                   const std::string& id, bool healthy) {
      log_.push_back(std::string(healthy ? "healthy " : "unhealthy ") + id);
      return Status::Ok();
    };
    options_.service_discovery.instances = [this](const Scope&, const std::string&) {
      std::vector<std::pair<std::string, std::map<std::string, std::string>>> out;
      for (const auto& [id, attributes] : instances_) out.emplace_back(id, attributes);
      return out;
    };
    EcsFixture::SetUp();
    ASSERT_EQ(Call("CreateCluster", {{"clusterName", "web"}}).first, 200);
    Json c{
        {"name", "api"},
        {"image", "api:1"},
        {"memory", 64},
        {"command", {"/bin/api"}},
        {"portMappings", {{{"containerPort", 8080}}}},
        {"healthCheck",
         {{"command", {"CMD-SHELL", "true"}}, {"interval", 10}, {"retries", 1}, {"timeout", 5}}}};
    ASSERT_EQ(Call("RegisterTaskDefinition",
                   {{"family", "api"}, {"networkMode", "bridge"}, {"containerDefinitions", {c}}})
                  .first,
              200);
  }

  void Advance(Duration by) {
    bool reached = false;
    ASSERT_TRUE(clock_->AdvanceTo(clock_->Now() + by, [&] { reached = true; }).ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reached && std::chrono::steady_clock::now() < deadline) {
      loop_.io().run_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(reached);
    loop_.RunUntilIdleForTest();
  }

  std::string Error(const Json& registries) {
    auto [status, body] = Call("CreateService", {{"cluster", "web"},
                                                 {"serviceName", "api"},
                                                 {"taskDefinition", "api"},
                                                 {"desiredCount", 1},
                                                 {"serviceRegistries", registries}});
    EXPECT_EQ(status, 400);
    EXPECT_EQ(body.value("__type", ""), "InvalidParameterException");
    return body.value("message", "");
  }

  std::map<std::string, std::map<std::string, std::string>> instances_;
  std::vector<std::string> log_;
};

// Proves: a malformed registry ARN, an unknown registry, `port` with a container, and a
// container the task definition lacks are refused with ECS's texts, creating nothing.
TEST_F(ServiceRegistriesTest, CreateServiceChecksRegistries) {
  EXPECT_EQ(Error({{{"registryArn", kNamespace}}}),
            "The format of the supplied service registry ARN is invalid: " + kNamespace + ".");
  std::string unknown = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-9";
  EXPECT_EQ(
      Error({{{"registryArn", unknown}}}),
      "The service registry " + unknown + " does not exist. Create it in AWS Cloud Map and retry.");
  EXPECT_EQ(Error({{{"registryArn", kRegistry},
                    {"port", 80},
                    {"containerName", "api"},
                    {"containerPort", 8080}}}),
            "Specify a value for either 'port' or the 'containerName' and 'containerPort' "
            "combination, but not both. Remove one and retry.");
  EXPECT_EQ(
      Error({{{"registryArn", kRegistry}, {"containerName", "web"}, {"containerPort", 8080}}}),
      "The container web does not exist in the task definition.");
  EXPECT_EQ(Error({{{"registryArn", kRegistry}}, {{"registryArn", kRegistry}}}),
            "Only one service registry can be specified for a service.");
  EXPECT_TRUE(Call("ListServices", {{"cluster", "web"}}).second["serviceArns"].empty());
}

// Proves: a RUNNING task is registered with ECS's attributes, its container health goes
// to the registry's custom health, and it is deregistered when it stops; the replacement
// is registered in its place. ListServicesByNamespace finds the service by name or ARN.
TEST_F(ServiceRegistriesTest, TasksRegisterReportHealthAndDeregister) {
  auto [status, body] =
      Call("CreateService", {{"cluster", "web"},
                             {"serviceName", "api"},
                             {"taskDefinition", "api"},
                             {"desiredCount", 1},
                             {"healthCheckGracePeriodSeconds", 600},
                             {"serviceRegistries", {{{"registryArn", kRegistry}}}}});
  ASSERT_EQ(status, 200) << body.dump();
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(instances_.size(), 1u);
  std::string first = instances_.begin()->first;
  const auto& attrs = instances_.begin()->second;
  EXPECT_EQ(attrs.at("AWS_INSTANCE_IPV4"), "127.0.0.1");  // bridge: the host's loopback
  EXPECT_EQ(attrs.at("ECS_SERVICE_NAME"), "api");
  EXPECT_EQ(attrs.at("ECS_CLUSTER_NAME"), "web");
  EXPECT_EQ(attrs.at("ECS_TASK_DEFINITION_FAMILY"), "api");
  EXPECT_EQ(attrs.at("AWS_INIT_HEALTH_STATUS"), "HEALTHY");
  EXPECT_EQ(attrs.count("AWS_INSTANCE_PORT"), 1u);
  EXPECT_EQ(attrs.count("AVAILABILITY_ZONE"), 1u);

  Advance(std::chrono::seconds(10));
  ASSERT_TRUE(runtime_.Exit("api-healthcheck", 0));
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(log_, ::testing::Contains("healthy " + first));
  Advance(std::chrono::seconds(10));
  ASSERT_TRUE(runtime_.Exit("api-healthcheck", 1));
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(log_, ::testing::Contains("unhealthy " + first));

  Json listed = Call("ListServicesByNamespace", {{"namespace", "local"}}).second;
  ASSERT_EQ(listed["serviceArns"].size(), 1u);
  EXPECT_EQ(Call("ListServicesByNamespace", {{"namespace", kNamespace}}).second, listed);
  auto [missing, error] = Call("ListServicesByNamespace", {{"namespace", "nope"}});
  EXPECT_EQ(missing, 400);
  EXPECT_EQ(error["__type"], "NamespaceNotFoundException");
  EXPECT_EQ(error["message"], "Failed to retrieve namespace for nope");

  ASSERT_TRUE(runtime_.Exit("api", 1));
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(log_, ::testing::Contains("deregister " + first));
  ASSERT_EQ(instances_.size(), 1u);
  EXPECT_NE(instances_.begin()->first, first);
}

// Proves: after a restart, the instance the previous run's task left is deregistered by
// the first reconcile and the replacement task registers; instances of other services in
// the same registry are left alone.
TEST_F(ServiceRegistriesTest, RestartDeregistersLeftovers) {
  ASSERT_EQ(Call("CreateService", {{"cluster", "web"},
                                   {"serviceName", "api"},
                                   {"taskDefinition", "api"},
                                   {"desiredCount", 1},
                                   {"serviceRegistries", {{{"registryArn", kRegistry}}}}})
                .first,
            200);
  loop_.RunUntilIdleForTest();
  ASSERT_EQ(instances_.size(), 1u);
  std::string before = instances_.begin()->first;
  instances_["other"] = {{"ECS_SERVICE_NAME", "web"}, {"ECS_CLUSTER_NAME", "web"}};
  Open();
  loop_.RunUntilIdleForTest();
  Advance(std::chrono::seconds(1));
  // The fixture's seed is the same on reopen, so the replacement may get the same id.
  ASSERT_EQ(log_.size(), 3u) << ::testing::PrintToString(log_);
  EXPECT_EQ(log_[1], "deregister " + before);
  EXPECT_EQ(log_[2].rfind("register srv-1 ", 0), 0u);
  EXPECT_EQ(instances_.count("other"), 1u);
  EXPECT_EQ(instances_.size(), 2u);  // "other" and the replacement
}

}  // namespace
}  // namespace understudy::ecs
