// ServiceDiscovery: AWS Cloud Map on the front door, and the names tasks resolve.
//
// Namespaces (private DNS, public DNS, HTTP), services, instances, operations and tags
// (awsJson1_1, target prefix Route53AutoNaming_v20170314), kept in memory and written
// through to the store (`sd_resources`), reloaded at start. Every Create*, Update*,
// Register* and Deregister* call finishes at once; the OperationId it returns reads
// SUCCESS. ECS registers its service tasks as instances through the methods below, and
// the DNS names of A-record services (`<service>.<namespace>`, at most 8 addresses,
// healthy ones first) are what tasks resolve (docs/service-discovery.md). Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::servicediscovery {

// What ECS needs to know of one Cloud Map service (a service registry).
struct RegistryInfo {
  std::string service_id;  // "srv-..."
  std::string service_arn;
  std::string service_name;  // "api"
  std::string namespace_id;  // "ns-..."
  std::string namespace_arn;
  std::string namespace_name;  // "local"
  bool custom_health = false;  // HealthCheckCustomConfig: the registrant reports health
  bool a_records = false;      // DnsConfig has an A record
  bool srv_records = false;    // DnsConfig has an SRV record
};

struct NamespaceInfo {
  std::string id;
  std::string arn;
  std::string name;
  std::string type;  // DNS_PRIVATE, DNS_PUBLIC, HTTP
};

// One address a DNS name resolves to: an instance's AWS_INSTANCE_IPV4, and its
// AWS_INSTANCE_PORT (0 when it has none).
struct DnsAddress {
  std::string ipv4;
  int port = 0;
};

// A name tasks resolve: "<service>.<namespace>" with the addresses a DNS query would
// return (at most 8: the healthy instances, or up to 8 unhealthy ones when none is).
struct DnsName {
  Scope scope;
  std::string name;
  std::vector<DnsAddress> addresses;
  // Every registered instance with an AWS_INSTANCE_IPV4, in the answer or not (an
  // unhealthy instance is still reachable at its address).
  std::vector<DnsAddress> instances;
};

class ServiceDiscovery {
 public:
  // Creates or migrates the table and loads what it holds. `random` makes the ids.
  static Result<std::unique_ptr<ServiceDiscovery>> Open(Store& store, Journal& journal,
                                                        Clock& clock, Random random);
  virtual ~ServiceDiscovery() = default;

  // Registers the Cloud Map operations and the reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  virtual Status Reset() = 0;

  // The service with id or ARN `id_or_arn` in `scope`, or nothing.
  virtual std::optional<RegistryInfo> FindService(const Scope& scope,
                                                  const std::string& id_or_arn) const = 0;
  // The namespace with name, id or ARN `name_or_arn` in `scope`, or nothing.
  virtual std::optional<NamespaceInfo> FindNamespace(const Scope& scope,
                                                     const std::string& name_or_arn) const = 0;
  // RegisterInstance / DeregisterInstance as the API does them (NotFound for an unknown
  // service or instance), for ECS.
  virtual Status RegisterInstance(const Scope& scope, const std::string& service,
                                  const std::string& instance_id,
                                  const std::map<std::string, std::string>& attributes) = 0;
  virtual Status DeregisterInstance(const Scope& scope, const std::string& service,
                                    const std::string& instance_id) = 0;
  // UpdateInstanceCustomHealthStatus for ECS; a no-op for services without
  // HealthCheckCustomConfig.
  virtual Status SetCustomHealth(const Scope& scope, const std::string& service,
                                 const std::string& instance_id, bool healthy) = 0;
  // The instances of `service` with their attributes.
  virtual std::vector<std::pair<std::string, std::map<std::string, std::string>>> Instances(
      const Scope& scope, const std::string& service) const = 0;

  // Every DNS name of every scope, sorted by scope and name.
  virtual std::vector<DnsName> DnsNames() const = 0;
  // Called (on the loop) after anything that may change DnsNames().
  virtual void SetOnChange(std::function<void()> on_change) = 0;
};

}  // namespace understudy::servicediscovery
