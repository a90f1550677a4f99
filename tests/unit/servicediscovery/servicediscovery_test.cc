// Cloud Map: namespaces, services, instances, operations and the DNS names tasks
// resolve, called through the front door as the AWS CLI calls them (awsJson1_1,
// target prefix Route53AutoNaming_v20170314; aws-semantics §2.14, §7.3).
#include "servicediscovery/servicediscovery.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/store.h"
#include "core/waits.h"
#include "unit/api/api_test_util.h"

namespace understudy::servicediscovery {
namespace {

const Scope kScope{"000000000000", "us-east-1"};

class ServiceDiscoveryTest : public ::testing::Test {
 protected:
  ServiceDiscoveryTest() {
    ClockOptions options;
    options.mode = ClockMode::kVirtual;
    options.start = FromEpochSeconds(1795420800);
    clock_ = Clock::Create(loop_, options);
    store_ = std::move(Store::Open(":memory:")).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    UNDERSTUDY_CHECK(journal_->Open().ok());
    waits_ = std::make_unique<Waits>(loop_, *clock_);
    Reopen();
  }

  // (Re)opens the component on the same store, as a restart does.
  void Reopen() {
    sd_.reset();
    control_.reset();
    front_door_ =
        std::make_unique<api::FrontDoor>(*clock_, *journal_, Random(7), api::test::Registry(),
                                         api::FrontDoorOptions{"000000000000", "us-east-1"});
    control_ = std::make_unique<api::ControlApi>(*front_door_, *clock_, *waits_, *journal_,
                                                 api::ControlInfo{}, "us-east-1");
    auto opened = ServiceDiscovery::Open(*store_, *journal_, *clock_, Random(11));
    UNDERSTUDY_CHECK(opened.ok());
    sd_ = std::move(opened).value();
    sd_->Install(*front_door_, *control_);
    sd_->SetOnChange([this] { ++changes_; });
  }

  // Calls `op`; the JSON body of the answer and its status in `status`.
  Json Call(const std::string& op, const Json& input, int* status = nullptr) {
    std::optional<api::HttpResponse> response;
    front_door_->Handle(
        api::test::MakeRequest("POST", "/",
                               {{"Content-Type", "application/x-amz-json-1.1"},
                                {"X-Amz-Target", "Route53AutoNaming_v20170314." + op}},
                               input.dump()),
        [&](api::HttpResponse r) { response = std::move(r); });
    EXPECT_TRUE(response.has_value());
    if (status != nullptr) *status = response->status;
    auto body = ParseJson(response->body);
    return body.ok() ? *body : Json{{"raw", response->body}};
  }
  // Calls `op`, expecting the error `code`; returns its message.
  std::string Error(const std::string& op, const Json& input, const std::string& code) {
    int status = 0;
    Json body = Call(op, input, &status);
    EXPECT_EQ(status, 400) << body.dump();
    EXPECT_EQ(body.value("__type", ""), code) << body.dump();
    return body.value("message", body.value("Message", ""));
  }

  // A private DNS namespace "local" and an A-record service `name` in it.
  std::pair<std::string, std::string> NamespaceAndService(const std::string& name,
                                                          bool custom_health = false) {
    Json op = Call("CreatePrivateDnsNamespace", {{"Name", "local"}, {"Vpc", "vpc-1"}});
    Json ops = Call("ListNamespaces", {{"Filters", {{{"Name", "NAME"}, {"Values", {"local"}}}}}});
    std::string ns = ops["Namespaces"][0]["Id"];
    Json input{{"Name", name},
               {"NamespaceId", ns},
               {"DnsConfig", {{"DnsRecords", {{{"Type", "A"}, {"TTL", 10}}}}}}};
    if (custom_health) input["HealthCheckCustomConfig"] = Json::object();
    Json created = Call("CreateService", input);
    return {ns, created["Service"]["Id"]};
  }

  void Register(const std::string& service, const std::string& id, const std::string& ip) {
    Json out = Call("RegisterInstance",
                    {{"ServiceId", service},
                     {"InstanceId", id},
                     {"Attributes", {{"AWS_INSTANCE_IPV4", ip}, {"AWS_INSTANCE_PORT", "8080"}}}});
    ASSERT_TRUE(out.contains("OperationId")) << out.dump();
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Waits> waits_;
  std::unique_ptr<api::FrontDoor> front_door_;
  std::unique_ptr<api::ControlApi> control_;
  std::unique_ptr<ServiceDiscovery> sd_;
  int changes_ = 0;
};

// Proves: a namespace is made at once, its operation reads SUCCESS with the namespace as
// target, GetNamespace shows it with DNS and HTTP properties, and a second namespace of
// the same name in the same VPC is refused with NamespaceAlreadyExists.
TEST_F(ServiceDiscoveryTest, CreateNamespaceOperationSucceeds) {
  Json created = Call("CreatePrivateDnsNamespace",
                      {{"Name", "local"}, {"Vpc", "vpc-1"}, {"Description", "internal"}});
  ASSERT_TRUE(created.contains("OperationId")) << created.dump();
  Json op = Call("GetOperation", {{"OperationId", created["OperationId"]}});
  EXPECT_EQ(op["Operation"]["Status"], "SUCCESS");
  EXPECT_EQ(op["Operation"]["Type"], "CREATE_NAMESPACE");
  std::string id = op["Operation"]["Targets"]["NAMESPACE"];
  EXPECT_EQ(id.rfind("ns-", 0), 0u);
  Json ns = Call("GetNamespace", {{"Id", id}})["Namespace"];
  EXPECT_EQ(ns["Name"], "local");
  EXPECT_EQ(ns["Type"], "DNS_PRIVATE");
  EXPECT_EQ(ns["Description"], "internal");
  EXPECT_EQ(ns["ServiceCount"], 0);
  EXPECT_EQ(ns["Arn"], "arn:aws:servicediscovery:us-east-1:000000000000:namespace/" + id);
  EXPECT_EQ(ns["Properties"]["HttpProperties"]["HttpName"], "local");
  EXPECT_EQ(ns["Properties"]["DnsProperties"]["HostedZoneId"].get<std::string>()[0], 'Z');
  EXPECT_EQ(Error("CreatePrivateDnsNamespace", {{"Name", "local"}, {"Vpc", "vpc-1"}},
                  "NamespaceAlreadyExists"),
            "Namespace with name local already exists.");
  EXPECT_EQ(Error("GetNamespace", {{"Id", "ns-nope"}}, "NamespaceNotFound"), "Namespace not found");
  EXPECT_EQ(Error("GetOperation", {{"OperationId", "nope"}}, "OperationNotFound"),
            "Operation not found");
}

// Proves: ListNamespaces filters by TYPE (EQ, IN) and NAME (BEGINS_WITH), refuses a
// condition a filter does not take, and pages with NextToken.
TEST_F(ServiceDiscoveryTest, ListNamespacesFiltersAndPages) {
  Call("CreatePrivateDnsNamespace", {{"Name", "a.local"}, {"Vpc", "vpc-1"}});
  Call("CreatePublicDnsNamespace", {{"Name", "example.com"}});
  Call("CreateHttpNamespace", {{"Name", "apps"}});
  Json all = Call("ListNamespaces", Json::object());
  ASSERT_EQ(all["Namespaces"].size(), 3u);
  Json http = Call("ListNamespaces", {{"Filters", {{{"Name", "TYPE"}, {"Values", {"HTTP"}}}}}});
  ASSERT_EQ(http["Namespaces"].size(), 1u);
  EXPECT_EQ(http["Namespaces"][0]["Name"], "apps");
  Json dns = Call(
      "ListNamespaces",
      {{"Filters",
        {{{"Name", "TYPE"}, {"Condition", "IN"}, {"Values", {"DNS_PRIVATE", "DNS_PUBLIC"}}}}}});
  EXPECT_EQ(dns["Namespaces"].size(), 2u);
  Json prefix =
      Call("ListNamespaces",
           {{"Filters", {{{"Name", "NAME"}, {"Condition", "BEGINS_WITH"}, {"Values", {"a."}}}}}});
  ASSERT_EQ(prefix["Namespaces"].size(), 1u);
  EXPECT_EQ(prefix["Namespaces"][0]["Name"], "a.local");
  Error("ListNamespaces",
        {{"Filters", {{{"Name", "TYPE"}, {"Condition", "BEGINS_WITH"}, {"Values", {"H"}}}}}},
        "InvalidInput");
  Json first = Call("ListNamespaces", {{"MaxResults", 2}});
  ASSERT_EQ(first["Namespaces"].size(), 2u);
  ASSERT_TRUE(first.contains("NextToken"));
  Json second = Call("ListNamespaces", {{"MaxResults", 2}, {"NextToken", first["NextToken"]}});
  ASSERT_EQ(second["Namespaces"].size(), 1u);
  EXPECT_FALSE(second.contains("NextToken"));
}

// Proves: an instance registered in an A-record service is found by DiscoverInstances
// (through the namespace's HTTP name) and resolves as <service>.<namespace>; the
// revision moves on every change; deregistering removes it.
TEST_F(ServiceDiscoveryTest, RegisterDiscoverDeregister) {
  auto [ns, srv] = NamespaceAndService("api");
  int before = changes_;
  Register(srv, "task-1", "10.0.0.4");
  EXPECT_GT(changes_, before);
  Json found = Call("DiscoverInstances", {{"NamespaceName", "local"}, {"ServiceName", "api"}});
  ASSERT_EQ(found["Instances"].size(), 1u) << found.dump();
  EXPECT_EQ(found["Instances"][0]["InstanceId"], "task-1");
  EXPECT_EQ(found["Instances"][0]["Attributes"]["AWS_INSTANCE_IPV4"], "10.0.0.4");
  EXPECT_EQ(found["Instances"][0]["HealthStatus"], "UNKNOWN");
  int64_t revision = found["InstancesRevision"];
  auto names = sd_->DnsNames();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].name, "api.local");
  ASSERT_EQ(names[0].addresses.size(), 1u);
  EXPECT_EQ(names[0].addresses[0].ipv4, "10.0.0.4");
  EXPECT_EQ(names[0].addresses[0].port, 8080);
  EXPECT_EQ(Call("GetService", {{"Id", srv}})["Service"]["InstanceCount"], 1);

  Json dereg = Call("DeregisterInstance", {{"ServiceId", srv}, {"InstanceId", "task-1"}});
  Json op = Call("GetOperation", {{"OperationId", dereg["OperationId"]}})["Operation"];
  EXPECT_EQ(op["Type"], "DEREGISTER_INSTANCE");
  EXPECT_EQ(op["Targets"]["INSTANCE"], "task-1");
  Json after =
      Call("DiscoverInstancesRevision", {{"NamespaceName", "local"}, {"ServiceName", "api"}});
  EXPECT_GT(after["InstancesRevision"].get<int64_t>(), revision);
  EXPECT_TRUE(sd_->DnsNames()[0].addresses.empty());
  Error("DeregisterInstance", {{"ServiceId", srv}, {"InstanceId", "task-1"}}, "InstanceNotFound");
  Error("DiscoverInstances", {{"NamespaceName", "nope"}, {"ServiceName", "api"}},
        "NamespaceNotFound");
  Error("DiscoverInstances", {{"NamespaceName", "local"}, {"ServiceName", "nope"}},
        "ServiceNotFound");
}

// Proves: an A-record service needs AWS_INSTANCE_IPV4, and a malformed address or port is
// refused with InvalidInput, leaving no instance behind.
TEST_F(ServiceDiscoveryTest, RegisterChecksAttributes) {
  auto [ns, srv] = NamespaceAndService("api");
  Error("RegisterInstance",
        {{"ServiceId", srv}, {"InstanceId", "i"}, {"Attributes", {{"AWS_INSTANCE_PORT", "80"}}}},
        "InvalidInput");
  Error(
      "RegisterInstance",
      {{"ServiceId", srv}, {"InstanceId", "i"}, {"Attributes", {{"AWS_INSTANCE_IPV4", "10.0.0"}}}},
      "InvalidInput");
  Error("RegisterInstance",
        {{"ServiceId", srv},
         {"InstanceId", "i"},
         {"Attributes", {{"AWS_INSTANCE_IPV4", "10.0.0.1"}, {"AWS_INSTANCE_PORT", "70000"}}}},
        "InvalidInput");
  EXPECT_TRUE(Call("ListInstances", {{"ServiceId", srv}})["Instances"].empty());
  Error("RegisterInstance",
        {{"ServiceId", "srv-nope"}, {"InstanceId", "i"}, {"Attributes", Json::object()}},
        "ServiceNotFound");
}

// Proves (§2.14): DNS answers hold at most 8 healthy addresses; unhealthy instances
// (custom health) are left out while a healthy one exists, and up to 8 unhealthy ones are
// given when none is healthy. DiscoverInstances filters by HealthStatus the same way.
TEST_F(ServiceDiscoveryTest, DnsHoldsEightHealthyElseUnhealthy) {
  auto [ns, srv] = NamespaceAndService("api", /*custom_health=*/true);
  for (int i = 0; i < 10; ++i)
    Register(srv, "t" + std::to_string(i), "10.0.0." + std::to_string(i + 4));
  EXPECT_EQ(sd_->DnsNames()[0].addresses.size(), 8u);
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(sd_->SetCustomHealth(kScope, srv, "t" + std::to_string(i), false).ok());
  }
  auto names = sd_->DnsNames();
  ASSERT_EQ(names[0].addresses.size(), 1u);
  EXPECT_EQ(names[0].addresses[0].ipv4, "10.0.0.13");
  Json healthy = Call("DiscoverInstances", {{"NamespaceName", "local"}, {"ServiceName", "api"}});
  EXPECT_EQ(healthy["Instances"].size(), 1u);
  Json unhealthy =
      Call("DiscoverInstances",
           {{"NamespaceName", "local"}, {"ServiceName", "api"}, {"HealthStatus", "UNHEALTHY"}});
  EXPECT_EQ(unhealthy["Instances"].size(), 9u);
  Call("UpdateInstanceCustomHealthStatus",
       {{"ServiceId", srv}, {"InstanceId", "t9"}, {"Status", "UNHEALTHY"}});
  EXPECT_EQ(sd_->DnsNames()[0].addresses.size(), 8u);
  Json else_all = Call("DiscoverInstances", {{"NamespaceName", "local"},
                                             {"ServiceName", "api"},
                                             {"HealthStatus", "HEALTHY_OR_ELSE_ALL"}});
  EXPECT_EQ(else_all["Instances"].size(), 10u);
  Json status = Call("GetInstancesHealthStatus", {{"ServiceId", srv}, {"Instances", {"t9", "t1"}}});
  EXPECT_EQ(status["Status"]["t9"], "UNHEALTHY");
}

// Proves: a namespace with services and a service with instances cannot be deleted
// (ResourceInUse), and both can once emptied.
TEST_F(ServiceDiscoveryTest, DeleteNeedsEmpty) {
  auto [ns, srv] = NamespaceAndService("api");
  Register(srv, "t1", "10.0.0.4");
  EXPECT_EQ(Error("DeleteService", {{"Id", srv}}, "ResourceInUse"),
            "Service contains registered instances; delete the instances before deleting the "
            "service");
  Error("DeleteNamespace", {{"Id", ns}}, "ResourceInUse");
  Call("DeregisterInstance", {{"ServiceId", srv}, {"InstanceId", "t1"}});
  EXPECT_TRUE(Call("DeleteService", {{"Id", srv}}).empty());
  Json deleted = Call("DeleteNamespace", {{"Id", ns}});
  EXPECT_TRUE(deleted.contains("OperationId"));
  Error("GetNamespace", {{"Id", ns}}, "NamespaceNotFound");
}

// Proves: services of an HTTP namespace take no DnsConfig, a duplicate name is
// ServiceAlreadyExists, and an unknown namespace is NamespaceNotFound.
TEST_F(ServiceDiscoveryTest, CreateServiceChecks) {
  Call("CreateHttpNamespace", {{"Name", "apps"}});
  std::string http = Call("ListNamespaces", Json::object())["Namespaces"][0]["Id"];
  Error("CreateService",
        {{"Name", "api"},
         {"NamespaceId", http},
         {"DnsConfig", {{"DnsRecords", {{{"Type", "A"}, {"TTL", 10}}}}}}},
        "InvalidInput");
  Json created = Call("CreateService", {{"Name", "api"}, {"NamespaceId", http}});
  EXPECT_EQ(created["Service"]["Type"], "HTTP");
  Error("CreateService", {{"Name", "api"}, {"NamespaceId", http}}, "ServiceAlreadyExists");
  Error("CreateService", {{"Name", "api"}, {"NamespaceId", "ns-nope"}}, "NamespaceNotFound");
  Json listed =
      Call("ListServices", {{"Filters", {{{"Name", "NAMESPACE_ID"}, {"Values", {http}}}}}});
  ASSERT_EQ(listed["Services"].size(), 1u);
  EXPECT_EQ(listed["Services"][0]["Name"], "api");
}

// Proves: namespaces, services, instances, health, operations and tags survive a restart.
TEST_F(ServiceDiscoveryTest, SurvivesRestart) {
  auto [ns, srv] = NamespaceAndService("api", true);
  Register(srv, "t1", "10.0.0.4");
  ASSERT_TRUE(sd_->SetCustomHealth(kScope, srv, "t1", false).ok());
  std::string arn = Call("GetService", {{"Id", srv}})["Service"]["Arn"];
  Call("TagResource", {{"ResourceARN", arn}, {"Tags", {{{"Key", "team"}, {"Value", "web"}}}}});
  Reopen();
  EXPECT_EQ(Call("GetNamespace", {{"Id", ns}})["Namespace"]["ServiceCount"], 1);
  Json status = Call("GetInstancesHealthStatus", {{"ServiceId", srv}});
  EXPECT_EQ(status["Status"]["t1"], "UNHEALTHY");
  EXPECT_EQ(Call("ListTagsForResource", {{"ResourceARN", arn}})["Tags"][0]["Value"], "web");
  Json ops = Call("ListOperations",
                  {{"Filters", {{{"Name", "TYPE"}, {"Values", {"REGISTER_INSTANCE"}}}}}});
  EXPECT_EQ(ops["Operations"].size(), 1u);
  // New ids do not collide with reloaded ones' order.
  Register(srv, "t2", "10.0.0.5");
  auto instances = sd_->Instances(kScope, srv);
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[0].first, "t1");
}

// Proves: the reset hook drops everything.
TEST_F(ServiceDiscoveryTest, ResetForgetsEverything) {
  auto [ns, srv] = NamespaceAndService("api");
  Register(srv, "t1", "10.0.0.4");
  ASSERT_TRUE(sd_->Reset().ok());
  EXPECT_TRUE(Call("ListNamespaces", Json::object())["Namespaces"].empty());
  EXPECT_TRUE(sd_->DnsNames().empty());
  Reopen();
  EXPECT_TRUE(Call("ListNamespaces", Json::object())["Namespaces"].empty());
}

}  // namespace
}  // namespace understudy::servicediscovery
