#include "servicediscovery/servicediscovery.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace understudy::servicediscovery {
namespace {

using api::ApiError;
using api::ApiResult;

// Error texts: "Namespace not found" is what Cloud Map answers [O]; the others follow
// its wording [I].
ApiError InvalidInput(std::string message) {
  return ApiError::Client("InvalidInput", std::move(message));
}
ApiError NamespaceNotFound() {
  return ApiError::Client("NamespaceNotFound", "Namespace not found");
}
ApiError ServiceNotFound() { return ApiError::Client("ServiceNotFound", "Service not found"); }
ApiError InstanceNotFound() { return ApiError::Client("InstanceNotFound", "Instance not found"); }

constexpr size_t kMaxDnsAddresses = 8;  // a DNS answer holds at most 8 records (§2.14)

// Resource docs are JSON in the API's shape; members starting with '_' are internal.
Json Shown(const Json& doc) {
  Json out = Json::object();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key().rfind('_', 0) != 0) out[it.key()] = it.value();
  }
  return out;
}

// The id in an id or an ARN ("arn:aws:servicediscovery:...:service/srv-1" -> "srv-1").
std::string IdFrom(const std::string& id_or_arn) {
  if (id_or_arn.rfind("arn:", 0) != 0) return id_or_arn;
  return id_or_arn.substr(id_or_arn.rfind('/') + 1);
}

bool IsIpv4(const std::string& text) {
  in_addr addr{};
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

// A filter's values matched with its condition (EQ by default): the error, or nothing.
std::optional<ApiError> CheckCondition(const Json& filter, const std::set<std::string>& allowed) {
  std::string condition = filter.value("Condition", "EQ");
  if (!allowed.count(condition)) {
    return InvalidInput("The condition " + condition + " is not supported for the filter " +
                        filter.value("Name", "") + ".");
  }
  if (filter["Values"].empty()) {
    return InvalidInput("The filter " + filter.value("Name", "") + " needs at least one value.");
  }
  if (condition == "EQ" && filter["Values"].size() != 1) {
    return InvalidInput("The EQ condition of the filter " + filter.value("Name", "") +
                        " takes exactly one value.");
  }
  return std::nullopt;
}

bool Matches(const Json& filter, const std::string& value) {
  std::string condition = filter.value("Condition", "EQ");
  for (const auto& v : filter["Values"]) {
    std::string want = v.get<std::string>();
    if (condition == "BEGINS_WITH" ? value.rfind(want, 0) == 0 : value == want) return true;
  }
  return false;
}

class ServiceDiscoveryImpl final : public ServiceDiscovery {
 public:
  ServiceDiscoveryImpl(Store& store, Journal& journal, Clock& clock, Random random)
      : store_(store), journal_(journal), clock_(clock), random_(std::move(random)) {}

  Status Open() {
    US_RETURN_IF_ERROR(store_.Migrate(
        "servicediscovery",
        {"CREATE TABLE sd_resources (account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT "
         "NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, kind, id))"}));
    Status status = Status::Ok();
    US_RETURN_IF_ERROR(store_.Query(
        "SELECT account, region, kind, id, doc FROM sd_resources", {}, [&](const SqlRow& row) {
          auto doc = ParseJson(row.Text(4));
          if (!doc.ok()) {
            status = Status::IoError("sd_resources row " + row.Text(3) + " is not JSON");
            return;
          }
          Key key{row.Text(0), row.Text(1), row.Text(3)};
          std::string kind = row.Text(2);
          seq_ = std::max(seq_, doc->value("_seq", int64_t{0}));
          if (kind == "ns") {
            namespaces_[key] = std::move(doc).value();
          } else if (kind == "srv") {
            services_[key] = std::move(doc).value();
          } else if (kind == "inst") {
            instances_[key] = std::move(doc).value();
          } else if (kind == "op") {
            operations_[key] = std::move(doc).value();
          }
        }));
    return status;
  }

  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op,
                   ApiResult (ServiceDiscoveryImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("servicediscovery", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("CreatePrivateDnsNamespace", &ServiceDiscoveryImpl::CreatePrivateDnsNamespace);
    add("CreatePublicDnsNamespace", &ServiceDiscoveryImpl::CreatePublicDnsNamespace);
    add("CreateHttpNamespace", &ServiceDiscoveryImpl::CreateHttpNamespace);
    add("GetNamespace", &ServiceDiscoveryImpl::GetNamespace);
    add("ListNamespaces", &ServiceDiscoveryImpl::ListNamespaces);
    add("DeleteNamespace", &ServiceDiscoveryImpl::DeleteNamespace);
    add("UpdatePrivateDnsNamespace", &ServiceDiscoveryImpl::UpdateNamespace);
    add("UpdatePublicDnsNamespace", &ServiceDiscoveryImpl::UpdateNamespace);
    add("UpdateHttpNamespace", &ServiceDiscoveryImpl::UpdateNamespace);
    add("CreateService", &ServiceDiscoveryImpl::CreateService);
    add("GetService", &ServiceDiscoveryImpl::GetService);
    add("ListServices", &ServiceDiscoveryImpl::ListServices);
    add("UpdateService", &ServiceDiscoveryImpl::UpdateService);
    add("DeleteService", &ServiceDiscoveryImpl::DeleteService);
    add("RegisterInstance", &ServiceDiscoveryImpl::RegisterInstanceApi);
    add("DeregisterInstance", &ServiceDiscoveryImpl::DeregisterInstanceApi);
    add("GetInstance", &ServiceDiscoveryImpl::GetInstance);
    add("ListInstances", &ServiceDiscoveryImpl::ListInstances);
    add("GetInstancesHealthStatus", &ServiceDiscoveryImpl::GetInstancesHealthStatus);
    add("UpdateInstanceCustomHealthStatus", &ServiceDiscoveryImpl::UpdateCustomHealth);
    add("DiscoverInstances", &ServiceDiscoveryImpl::DiscoverInstances);
    add("DiscoverInstancesRevision", &ServiceDiscoveryImpl::DiscoverInstancesRevision);
    add("GetOperation", &ServiceDiscoveryImpl::GetOperation);
    add("ListOperations", &ServiceDiscoveryImpl::ListOperations);
    add("TagResource", &ServiceDiscoveryImpl::TagResource);
    add("UntagResource", &ServiceDiscoveryImpl::UntagResource);
    add("ListTagsForResource", &ServiceDiscoveryImpl::ListTagsForResource);
    control.AddResetHook([this] { return Reset(); });
  }

  Status Reset() override {
    namespaces_.clear();
    services_.clear();
    instances_.clear();
    operations_.clear();
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM sd_resources"));
    Changed();
    return Status::Ok();
  }

  std::optional<RegistryInfo> FindService(const Scope& scope,
                                          const std::string& id_or_arn) const override {
    const Json* s = Find(services_, scope, IdFrom(id_or_arn));
    if (s == nullptr) return std::nullopt;
    if (id_or_arn.rfind("arn:", 0) == 0 && (*s)["Arn"] != id_or_arn) return std::nullopt;
    const Json* ns = Find(namespaces_, scope, (*s)["NamespaceId"].get<std::string>());
    RegistryInfo info;
    info.service_id = (*s)["Id"];
    info.service_arn = (*s)["Arn"];
    info.service_name = (*s)["Name"];
    info.namespace_id = (*s)["NamespaceId"];
    if (ns != nullptr) {
      info.namespace_arn = (*ns)["Arn"];
      info.namespace_name = (*ns)["Name"];
    }
    info.custom_health = s->contains("HealthCheckCustomConfig");
    for (const auto& r : s->value("DnsConfig", Json::object()).value("DnsRecords", Json::array())) {
      info.a_records |= r.value("Type", "") == "A";
      info.srv_records |= r.value("Type", "") == "SRV";
    }
    return info;
  }

  std::optional<NamespaceInfo> FindNamespace(const Scope& scope,
                                             const std::string& name_or_arn) const override {
    for (const auto& [key, ns] : namespaces_) {
      if (!InScope(key, scope)) continue;
      if (ns["Id"] == name_or_arn || ns["Arn"] == name_or_arn || ns["Name"] == name_or_arn) {
        return NamespaceInfo{ns["Id"], ns["Arn"], ns["Name"], ns["Type"]};
      }
    }
    return std::nullopt;
  }

  Status RegisterInstance(const Scope& scope, const std::string& service,
                          const std::string& instance_id,
                          const std::map<std::string, std::string>& attributes) override {
    Json attrs = Json::object();
    for (const auto& [k, v] : attributes) attrs[k] = v;
    ApiResult result = RegisterInstanceApi(
        scope, Json{{"ServiceId", service}, {"InstanceId", instance_id}, {"Attributes", attrs}});
    if (!result.ok()) return Status::NotFound(result.error().message);
    return Status::Ok();
  }

  Status DeregisterInstance(const Scope& scope, const std::string& service,
                            const std::string& instance_id) override {
    ApiResult result =
        DeregisterInstanceApi(scope, Json{{"ServiceId", service}, {"InstanceId", instance_id}});
    if (!result.ok()) return Status::NotFound(result.error().message);
    return Status::Ok();
  }

  Status SetCustomHealth(const Scope& scope, const std::string& service,
                         const std::string& instance_id, bool healthy) override {
    const Json* s = Find(services_, scope, IdFrom(service));
    if (s == nullptr || !s->contains("HealthCheckCustomConfig")) return Status::Ok();
    ApiResult result =
        UpdateCustomHealth(scope, Json{{"ServiceId", service},
                                       {"InstanceId", instance_id},
                                       {"Status", healthy ? "HEALTHY" : "UNHEALTHY"}});
    if (!result.ok()) return Status::NotFound(result.error().message);
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::map<std::string, std::string>>> Instances(
      const Scope& scope, const std::string& service) const override {
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> out;
    for (const Json* i : InstancesOf(scope, IdFrom(service))) {
      std::map<std::string, std::string> attrs;
      for (auto it = (*i)["Attributes"].begin(); it != (*i)["Attributes"].end(); ++it) {
        attrs[it.key()] = it.value().get<std::string>();
      }
      out.emplace_back((*i)["Id"].get<std::string>(), std::move(attrs));
    }
    return out;
  }

  std::vector<DnsName> DnsNames() const override {
    std::vector<DnsName> names;
    for (const auto& [key, s] : services_) {
      bool a = false;
      for (const auto& r :
           s.value("DnsConfig", Json::object()).value("DnsRecords", Json::array())) {
        a |= r.value("Type", "") == "A";
      }
      if (!a) continue;
      Scope scope{std::get<0>(key), std::get<1>(key)};
      const Json* ns = Find(namespaces_, scope, s["NamespaceId"].get<std::string>());
      if (ns == nullptr || (*ns)["Type"] == "HTTP") continue;
      DnsName name{
          scope, s["Name"].get<std::string>() + "." + (*ns)["Name"].get<std::string>(), {}, {}};
      std::vector<DnsAddress> healthy, unhealthy;
      for (const Json* i : InstancesOf(scope, s["Id"].get<std::string>())) {
        const Json& attrs = (*i)["Attributes"];
        std::string ip = attrs.value("AWS_INSTANCE_IPV4", "");
        if (ip.empty()) continue;
        int port = 0;
        try {
          port = std::stoi(attrs.value("AWS_INSTANCE_PORT", "0"));
        } catch (...) {
          port = 0;
        }
        ((*i).value("_health", "UNKNOWN") == "UNHEALTHY" ? unhealthy : healthy)
            .push_back(DnsAddress{ip, port});
        name.instances.push_back(DnsAddress{ip, port});
      }
      std::vector<DnsAddress>& chosen = healthy.empty() ? unhealthy : healthy;
      if (chosen.size() > kMaxDnsAddresses) chosen.resize(kMaxDnsAddresses);
      name.addresses = chosen;
      names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end(), [](const DnsName& a, const DnsName& b) {
      return std::tie(a.scope.account, a.scope.region, a.name) <
             std::tie(b.scope.account, b.scope.region, b.name);
    });
    return names;
  }

  void SetOnChange(std::function<void()> on_change) override { on_change_ = std::move(on_change); }

 private:
  // account, region, id (instances: "<service id>/<instance id>")
  using Key = std::tuple<std::string, std::string, std::string>;
  using Table = std::map<Key, Json>;

  static bool InScope(const Key& key, const Scope& scope) {
    return std::get<0>(key) == scope.account && std::get<1>(key) == scope.region;
  }
  static Key KeyOf(const Scope& scope, const std::string& id) {
    return Key{scope.account, scope.region, id};
  }
  static const Json* Find(const Table& table, const Scope& scope, const std::string& id) {
    auto it = table.find(KeyOf(scope, id));
    return it == table.end() ? nullptr : &it->second;
  }
  static Json* Find(Table& table, const Scope& scope, const std::string& id) {
    auto it = table.find(KeyOf(scope, id));
    return it == table.end() ? nullptr : &it->second;
  }

  // The docs of `table` in `scope`, oldest first.
  static std::vector<const Json*> InScopeOrdered(const Table& table, const Scope& scope) {
    std::vector<const Json*> out;
    for (const auto& [key, doc] : table) {
      if (InScope(key, scope)) out.push_back(&doc);
    }
    std::sort(out.begin(), out.end(), [](const Json* a, const Json* b) {
      return a->value("_seq", int64_t{0}) < b->value("_seq", int64_t{0});
    });
    return out;
  }

  std::vector<const Json*> InstancesOf(const Scope& scope, const std::string& service_id) const {
    std::vector<const Json*> out;
    std::string prefix = service_id + "/";
    for (auto it = instances_.lower_bound(KeyOf(scope, prefix));
         it != instances_.end() && InScope(it->first, scope) &&
         std::get<2>(it->first).rfind(prefix, 0) == 0;
         ++it) {
      out.push_back(&it->second);
    }
    std::sort(out.begin(), out.end(), [](const Json* a, const Json* b) {
      return a->value("_seq", int64_t{0}) < b->value("_seq", int64_t{0});
    });
    return out;
  }

  Status Save(const char* kind, const Scope& scope, const std::string& id, const Json& doc) {
    return store_.Run(
        "INSERT OR REPLACE INTO sd_resources(account, region, kind, id, doc) VALUES(?1, ?2, ?3, "
        "?4, ?5)",
        {scope.account, scope.region, std::string(kind), id, doc.dump()});
  }
  Status Erase(const char* kind, const Scope& scope, const std::string& id) {
    return store_.Run(
        "DELETE FROM sd_resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND id = ?4",
        {scope.account, scope.region, std::string(kind), id});
  }

  void Changed() {
    if (on_change_) on_change_();
  }

  double Now() const { return ToEpochSeconds(clock_.Now()); }

  // Records an operation that has already succeeded; returns its id.
  Result<std::string> Operation(const Scope& scope, const std::string& type, const Json& targets) {
    std::string id = random_.Hex(32) + "-" + random_.Hex(8);
    double now = Now();
    Json op{{"Id", id},          {"Type", type},       {"Status", "SUCCESS"}, {"CreateDate", now},
            {"UpdateDate", now}, {"Targets", targets}, {"_seq", ++seq_}};
    US_RETURN_IF_ERROR(Save("op", scope, id, op));
    operations_[KeyOf(scope, id)] = op;
    journal_.Transition("servicediscovery/operation/" + id,
                        Json{{"type", type}, {"targets", targets}});
    return id;
  }

  // --- namespaces ---

  ApiResult CreateNamespace(const Scope& scope, const Json& input, const std::string& type) {
    std::string name = input["Name"].get<std::string>();
    std::string creator = input.value("CreatorRequestId", "");
    for (const Json* ns : InScopeOrdered(namespaces_, scope)) {
      if (!creator.empty() && ns->value("CreatorRequestId", "") == creator &&
          (*ns)["Name"] == name) {
        // A retried request: the operation that created it.
        return Json{{"OperationId", (*ns)["_operation"]}};
      }
      bool clash = (*ns)["Name"] == name &&
                   (type == "HTTP" || (*ns)["Type"] == "HTTP" || (*ns)["Type"] == type) &&
                   (type != "DNS_PRIVATE" || ns->value("_vpc", "") == input.value("Vpc", ""));
      if (clash) {
        return ApiError::Client("NamespaceAlreadyExists",
                                "Namespace with name " + name + " already exists.");
      }
    }
    if (type != "HTTP" &&
        (name.empty() || name.back() == '.' || name.find("..") != std::string::npos)) {
      return InvalidInput("Namespace name " + name + " is not a valid domain name.");
    }
    std::string id = "ns-" + random_.Hex(16);
    Json doc{{"Id", id},
             {"Arn", MakeArn("servicediscovery", scope, "namespace/" + id)},
             {"Name", name},
             {"Type", type},
             {"CreateDate", Now()},
             {"_seq", ++seq_},
             {"_tags", input.value("Tags", Json::array())}};
    if (!creator.empty()) doc["CreatorRequestId"] = creator;
    if (input.contains("Description")) doc["Description"] = input["Description"];
    Json props{{"HttpProperties", Json{{"HttpName", name}}}};
    if (type != "HTTP") {
      std::string zone = "Z";
      for (char c : random_.Hex(20)) zone += static_cast<char>(std::toupper(c));
      Json dns{{"HostedZoneId", zone}};
      int64_t ttl = 15;
      const Json& given = input.value("Properties", Json::object());
      if (given.contains("DnsProperties") && given["DnsProperties"].contains("SOA")) {
        ttl = given["DnsProperties"]["SOA"].value("TTL", ttl);
      }
      dns["SOA"] = Json{{"TTL", ttl}};
      props["DnsProperties"] = dns;
    } else {
      props["DnsProperties"] = Json::object();
    }
    doc["Properties"] = props;
    if (type == "DNS_PRIVATE") doc["_vpc"] = input.value("Vpc", "");
    auto op = Operation(scope, "CREATE_NAMESPACE", Json{{"NAMESPACE", id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    doc["_operation"] = *op;
    US_RETURN_IF_ERROR_API(Save("ns", scope, id, doc));
    namespaces_[KeyOf(scope, id)] = doc;
    journal_.Transition(doc["Arn"].get<std::string>(), Json{{"created", name}, {"type", type}});
    return Json{{"OperationId", *op}};
  }
  ApiResult CreatePrivateDnsNamespace(const Scope& scope, const Json& input) {
    return CreateNamespace(scope, input, "DNS_PRIVATE");
  }
  ApiResult CreatePublicDnsNamespace(const Scope& scope, const Json& input) {
    return CreateNamespace(scope, input, "DNS_PUBLIC");
  }
  ApiResult CreateHttpNamespace(const Scope& scope, const Json& input) {
    return CreateNamespace(scope, input, "HTTP");
  }

  Json NamespaceView(const Scope& scope, const Json& ns) const {
    Json out = Shown(ns);
    int64_t count = 0;
    for (const Json* s : InScopeOrdered(services_, scope)) count += (*s)["NamespaceId"] == ns["Id"];
    out["ServiceCount"] = count;
    return out;
  }

  ApiResult GetNamespace(const Scope& scope, const Json& input) {
    const Json* ns = Find(namespaces_, scope, IdFrom(input["Id"].get<std::string>()));
    if (ns == nullptr) return NamespaceNotFound();
    return Json{{"Namespace", NamespaceView(scope, *ns)}};
  }

  // A page of `items` from NextToken (an offset), at most MaxResults (default 100).
  static ApiResult Page(const std::vector<Json>& items, const Json& input, const char* member) {
    size_t start = 0;
    if (input.contains("NextToken")) {
      std::string token = input["NextToken"].get<std::string>();
      if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos ||
          token.size() > 9) {
        return InvalidInput("The NextToken is not valid.");
      }
      start = std::stoul(token);
    }
    size_t max = static_cast<size_t>(input.value("MaxResults", 100));
    Json out{{member, Json::array()}};
    for (size_t i = start; i < items.size() && i < start + max; ++i)
      out[member].push_back(items[i]);
    if (start + max < items.size()) out["NextToken"] = std::to_string(start + max);
    return out;
  }

  ApiResult ListNamespaces(const Scope& scope, const Json& input) {
    const Json filters = input.value("Filters", Json::array());
    for (const auto& f : filters) {
      std::string name = f["Name"].get<std::string>();
      std::set<std::string> allowed = {"EQ", "IN"};
      if (name == "NAME" || name == "HTTP_NAME") allowed = {"EQ", "BEGINS_WITH"};
      if (name == "RESOURCE_OWNER") allowed = {"EQ"};
      if (auto error = CheckCondition(f, allowed)) return *error;
    }
    std::vector<Json> items;
    for (const Json* ns : InScopeOrdered(namespaces_, scope)) {
      bool keep = true;
      for (const auto& f : filters) {
        std::string name = f["Name"].get<std::string>();
        if (name == "TYPE") keep &= Matches(f, (*ns)["Type"]);
        if (name == "NAME") keep &= Matches(f, (*ns)["Name"]);
        if (name == "HTTP_NAME")
          keep &= Matches(f, (*ns)["Properties"]["HttpProperties"]["HttpName"]);
        if (name == "RESOURCE_OWNER") keep &= Matches(f, "SELF");
      }
      if (!keep) continue;
      Json view = NamespaceView(scope, *ns);
      view.erase("CreatorRequestId");
      items.push_back(view);
    }
    return Page(items, input, "Namespaces");
  }

  ApiResult DeleteNamespace(const Scope& scope, const Json& input) {
    std::string id = IdFrom(input["Id"].get<std::string>());
    const Json* ns = Find(namespaces_, scope, id);
    if (ns == nullptr) return NamespaceNotFound();
    for (const Json* s : InScopeOrdered(services_, scope)) {
      if ((*s)["NamespaceId"] == id) {
        return ApiError::Client("ResourceInUse", "Namespace " + id +
                                                     " has associated services; delete the "
                                                     "services before deleting the namespace.");
      }
    }
    auto op = Operation(scope, "DELETE_NAMESPACE", Json{{"NAMESPACE", id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    US_RETURN_IF_ERROR_API(Erase("ns", scope, id));
    journal_.Transition((*ns)["Arn"].get<std::string>(), Json{{"deleted", true}});
    namespaces_.erase(KeyOf(scope, id));
    Changed();
    return Json{{"OperationId", *op}};
  }

  // UpdatePrivateDnsNamespace, UpdatePublicDnsNamespace, UpdateHttpNamespace.
  ApiResult UpdateNamespace(const Scope& scope, const Json& input) {
    std::string id = IdFrom(input["Id"].get<std::string>());
    Json* ns = Find(namespaces_, scope, id);
    if (ns == nullptr) return NamespaceNotFound();
    Json updated = *ns;
    const Json& change = input["Namespace"];
    if (change.contains("Description")) updated["Description"] = change["Description"];
    const Json& props = change.value("Properties", Json::object());
    if (props.contains("DnsProperties") && props["DnsProperties"].contains("SOA")) {
      if (updated["Type"] == "HTTP") return InvalidInput("HTTP namespaces have no DNS properties.");
      updated["Properties"]["DnsProperties"]["SOA"] = props["DnsProperties"]["SOA"];
    }
    auto op = Operation(scope, "UPDATE_NAMESPACE", Json{{"NAMESPACE", id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    US_RETURN_IF_ERROR_API(Save("ns", scope, id, updated));
    *ns = updated;
    return Json{{"OperationId", *op}};
  }

  // --- services ---

  ApiResult CreateService(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    Json dns = input.value("DnsConfig", Json::object());
    std::string ns_id = input.value("NamespaceId", dns.value("NamespaceId", ""));
    if (ns_id.empty()) return InvalidInput("NamespaceId is required.");
    ns_id = IdFrom(ns_id);
    const Json* ns = Find(namespaces_, scope, ns_id);
    if (ns == nullptr) return NamespaceNotFound();
    std::string creator = input.value("CreatorRequestId", "");
    for (const Json* s : InScopeOrdered(services_, scope)) {
      if ((*s)["NamespaceId"] != ns_id || (*s)["Name"] != name) continue;
      if (!creator.empty() && s->value("CreatorRequestId", "") == creator) {
        return Json{{"Service", ServiceView(scope, *s)}};
      }
      return ApiError::Client(
          "ServiceAlreadyExists",
          "Service with name " + name + " already exists in namespace " + ns_id + ".");
    }
    if (input.contains("HealthCheckConfig") && input.contains("HealthCheckCustomConfig")) {
      return InvalidInput(
          "HealthCheckConfig and HealthCheckCustomConfig cannot both be specified.");
    }
    if (input.contains("HealthCheckConfig") && (*ns)["Type"] == "DNS_PRIVATE") {
      return InvalidInput(
          "HealthCheckConfig is not supported for services in a private DNS namespace.");
    }
    std::string type = "HTTP";
    if (input.contains("DnsConfig")) {
      if ((*ns)["Type"] == "HTTP") {
        return InvalidInput("DnsConfig is not supported for services in an HTTP namespace.");
      }
      if (input.value("Type", "") == "HTTP") {
        return InvalidInput("DnsConfig cannot be specified for a service of type HTTP.");
      }
      if (dns["DnsRecords"].empty()) return InvalidInput("DnsRecords must not be empty.");
      std::set<std::string> seen;
      for (const auto& r : dns["DnsRecords"]) {
        std::string t = r["Type"].get<std::string>();
        if (!seen.insert(t).second) {
          return InvalidInput("DnsRecords has more than one record of type " + t + ".");
        }
      }
      if (seen.count("CNAME") && seen.size() > 1) {
        return InvalidInput("A CNAME record cannot be combined with other records.");
      }
      type = "DNS_HTTP";
      dns["NamespaceId"] = ns_id;
      if (!dns.contains("RoutingPolicy")) dns["RoutingPolicy"] = "MULTIVALUE";
    }
    std::string id = "srv-" + random_.Hex(16);
    Json doc{{"Id", id},
             {"Arn", MakeArn("servicediscovery", scope, "service/" + id)},
             {"Name", name},
             {"NamespaceId", ns_id},
             {"Type", type},
             {"CreateDate", Now()},
             {"CreatedByAccount", scope.account},
             {"_seq", ++seq_},
             {"_revision", 0},
             {"_tags", input.value("Tags", Json::array())}};
    if (!creator.empty()) doc["CreatorRequestId"] = creator;
    if (input.contains("Description")) doc["Description"] = input["Description"];
    if (input.contains("DnsConfig")) doc["DnsConfig"] = dns;
    if (input.contains("HealthCheckConfig")) {
      Json hc = input["HealthCheckConfig"];
      if (!hc.contains("FailureThreshold")) hc["FailureThreshold"] = 1;
      doc["HealthCheckConfig"] = hc;
    }
    if (input.contains("HealthCheckCustomConfig")) {
      Json hc = input["HealthCheckCustomConfig"];
      if (!hc.contains("FailureThreshold")) hc["FailureThreshold"] = 1;
      doc["HealthCheckCustomConfig"] = hc;
    }
    US_RETURN_IF_ERROR_API(Save("srv", scope, id, doc));
    services_[KeyOf(scope, id)] = doc;
    journal_.Transition(doc["Arn"].get<std::string>(),
                        Json{{"created", name}, {"namespace", ns_id}});
    Changed();
    return Json{{"Service", ServiceView(scope, doc)}};
  }

  Json ServiceView(const Scope& scope, const Json& s) const {
    Json out = Shown(s);
    out["InstanceCount"] = static_cast<int64_t>(InstancesOf(scope, s["Id"]).size());
    return out;
  }

  ApiResult GetService(const Scope& scope, const Json& input) {
    const Json* s = Find(services_, scope, IdFrom(input["Id"].get<std::string>()));
    if (s == nullptr) return ServiceNotFound();
    return Json{{"Service", ServiceView(scope, *s)}};
  }

  ApiResult ListServices(const Scope& scope, const Json& input) {
    const Json filters = input.value("Filters", Json::array());
    for (const auto& f : filters) {
      std::string name = f["Name"].get<std::string>();
      if (auto error =
              CheckCondition(f, name == "RESOURCE_OWNER" ? std::set<std::string>{"EQ"}
                                                         : std::set<std::string>{"EQ", "IN"}))
        return *error;
    }
    std::vector<Json> items;
    for (const Json* s : InScopeOrdered(services_, scope)) {
      bool keep = true;
      for (const auto& f : filters) {
        std::string name = f["Name"].get<std::string>();
        if (name == "NAMESPACE_ID") keep &= Matches(f, (*s)["NamespaceId"]);
        if (name == "RESOURCE_OWNER") keep &= Matches(f, "SELF");
      }
      if (!keep) continue;
      Json view = ServiceView(scope, *s);
      view.erase("NamespaceId");
      view.erase("CreatorRequestId");
      items.push_back(view);
    }
    return Page(items, input, "Services");
  }

  ApiResult UpdateService(const Scope& scope, const Json& input) {
    std::string id = IdFrom(input["Id"].get<std::string>());
    Json* s = Find(services_, scope, id);
    if (s == nullptr) return ServiceNotFound();
    Json updated = *s;
    const Json& change = input["Service"];
    if (change.contains("Description")) updated["Description"] = change["Description"];
    if (change.contains("DnsConfig")) {
      if (!updated.contains("DnsConfig")) {
        return InvalidInput("The service has no DnsConfig to update.");
      }
      updated["DnsConfig"]["DnsRecords"] = change["DnsConfig"]["DnsRecords"];
    }
    if (change.contains("HealthCheckConfig")) {
      if (updated.contains("HealthCheckCustomConfig")) {
        return InvalidInput("The service uses a custom health check.");
      }
      updated["HealthCheckConfig"] = change["HealthCheckConfig"];
    }
    auto op = Operation(scope, "UPDATE_SERVICE", Json{{"SERVICE", id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    US_RETURN_IF_ERROR_API(Save("srv", scope, id, updated));
    *s = updated;
    Changed();
    return Json{{"OperationId", *op}};
  }

  ApiResult DeleteService(const Scope& scope, const Json& input) {
    std::string id = IdFrom(input["Id"].get<std::string>());
    const Json* s = Find(services_, scope, id);
    if (s == nullptr) return ServiceNotFound();
    if (!InstancesOf(scope, id).empty()) {
      return ApiError::Client("ResourceInUse",
                              "Service contains registered instances; delete the instances "
                              "before deleting the service");
    }
    US_RETURN_IF_ERROR_API(Erase("srv", scope, id));
    journal_.Transition((*s)["Arn"].get<std::string>(), Json{{"deleted", true}});
    services_.erase(KeyOf(scope, id));
    Changed();
    return Json::object();
  }

  // --- instances ---

  void Bump(const Scope& scope, const std::string& service_id) {
    Json* s = Find(services_, scope, service_id);
    if (s == nullptr) return;
    (*s)["_revision"] = s->value("_revision", int64_t{0}) + 1;
    (void)Save("srv", scope, service_id, *s);
  }

  ApiResult RegisterInstanceApi(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    const Json* s = Find(services_, scope, service_id);
    if (s == nullptr) return ServiceNotFound();
    std::string instance_id = input["InstanceId"].get<std::string>();
    const Json& attrs = input["Attributes"];
    bool a = false, srv = false;
    for (const auto& r : s->value("DnsConfig", Json::object()).value("DnsRecords", Json::array())) {
      a |= r.value("Type", "") == "A";
      srv |= r.value("Type", "") == "SRV";
    }
    std::string ip = attrs.value("AWS_INSTANCE_IPV4", "");
    if (!ip.empty() && !IsIpv4(ip)) {
      return InvalidInput("AWS_INSTANCE_IPV4 " + ip + " is not a valid IPv4 address.");
    }
    if (a && ip.empty() && !attrs.contains("AWS_ALIAS_DNS_NAME")) {
      return InvalidInput(
          "AWS_INSTANCE_IPV4 is required for a service with an A record in its DnsConfig.");
    }
    if (srv && !attrs.contains("AWS_INSTANCE_PORT")) {
      return InvalidInput(
          "AWS_INSTANCE_PORT is required for a service with an SRV record in its DnsConfig.");
    }
    if (attrs.contains("AWS_INSTANCE_PORT")) {
      std::string port = attrs["AWS_INSTANCE_PORT"].get<std::string>();
      bool ok = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) >= 1 &&
                std::stoi(port) <= 65535;
      if (!ok) return InvalidInput("AWS_INSTANCE_PORT " + port + " is not a valid port.");
    }
    std::string health = "UNKNOWN";
    if (s->contains("HealthCheckCustomConfig")) {
      health = attrs.value("AWS_INIT_HEALTH_STATUS", "HEALTHY");
      if (health != "HEALTHY" && health != "UNHEALTHY") {
        return InvalidInput("AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY.");
      }
    } else if (s->contains("HealthCheckConfig")) {
      health = "HEALTHY";
    }
    std::string key_id = service_id + "/" + instance_id;
    Json doc{{"Id", instance_id},
             {"Attributes", attrs},
             {"CreatedByAccount", scope.account},
             {"_health", health},
             {"_seq", ++seq_}};
    if (input.contains("CreatorRequestId")) doc["CreatorRequestId"] = input["CreatorRequestId"];
    if (Json* existing = Find(instances_, scope, key_id)) {
      doc["_seq"] = (*existing)["_seq"];  // re-registering updates the instance in place
      if (!s->contains("HealthCheckCustomConfig")) doc["_health"] = (*existing)["_health"];
    }
    auto op = Operation(scope, "REGISTER_INSTANCE",
                        Json{{"SERVICE", service_id}, {"INSTANCE", instance_id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    US_RETURN_IF_ERROR_API(Save("inst", scope, key_id, doc));
    instances_[KeyOf(scope, key_id)] = doc;
    Bump(scope, service_id);
    journal_.Transition((*s)["Arn"].get<std::string>(),
                        Json{{"registered", instance_id}, {"attributes", attrs}});
    Changed();
    return Json{{"OperationId", *op}};
  }

  ApiResult DeregisterInstanceApi(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    const Json* s = Find(services_, scope, service_id);
    if (s == nullptr) return ServiceNotFound();
    std::string instance_id = input["InstanceId"].get<std::string>();
    std::string key_id = service_id + "/" + instance_id;
    if (Find(instances_, scope, key_id) == nullptr) return InstanceNotFound();
    auto op = Operation(scope, "DEREGISTER_INSTANCE",
                        Json{{"SERVICE", service_id}, {"INSTANCE", instance_id}});
    if (!op.ok()) return ApiError::Server("InternalFailure", op.status().message());
    US_RETURN_IF_ERROR_API(Erase("inst", scope, key_id));
    instances_.erase(KeyOf(scope, key_id));
    Bump(scope, service_id);
    journal_.Transition((*s)["Arn"].get<std::string>(), Json{{"deregistered", instance_id}});
    Changed();
    return Json{{"OperationId", *op}};
  }

  ApiResult GetInstance(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    if (Find(services_, scope, service_id) == nullptr) return ServiceNotFound();
    const Json* i =
        Find(instances_, scope, service_id + "/" + input["InstanceId"].get<std::string>());
    if (i == nullptr) return InstanceNotFound();
    return Json{{"ResourceOwner", scope.account}, {"Instance", Shown(*i)}};
  }

  ApiResult ListInstances(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    if (Find(services_, scope, service_id) == nullptr) return ServiceNotFound();
    std::vector<Json> items;
    for (const Json* i : InstancesOf(scope, service_id)) {
      Json view = Shown(*i);
      view.erase("CreatorRequestId");
      items.push_back(view);
    }
    ApiResult page = Page(items, input, "Instances");
    if (page.ok()) page.output()["ResourceOwner"] = scope.account;
    return page;
  }

  ApiResult GetInstancesHealthStatus(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    if (Find(services_, scope, service_id) == nullptr) return ServiceNotFound();
    std::vector<std::pair<std::string, std::string>> statuses;
    if (input.contains("Instances")) {
      for (const auto& id : input["Instances"]) {
        const Json* i = Find(instances_, scope, service_id + "/" + id.get<std::string>());
        if (i == nullptr) return InstanceNotFound();
        statuses.emplace_back(id.get<std::string>(), i->value("_health", "UNKNOWN"));
      }
    } else {
      for (const Json* i : InstancesOf(scope, service_id)) {
        statuses.emplace_back((*i)["Id"].get<std::string>(), i->value("_health", "UNKNOWN"));
      }
    }
    size_t start = 0;
    if (input.contains("NextToken")) {
      std::string token = input["NextToken"].get<std::string>();
      if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos ||
          token.size() > 9) {
        return InvalidInput("The NextToken is not valid.");
      }
      start = std::stoul(token);
    }
    size_t max = static_cast<size_t>(input.value("MaxResults", 100));
    Json out{{"Status", Json::object()}};
    for (size_t n = start; n < statuses.size() && n < start + max; ++n) {
      out["Status"][statuses[n].first] = statuses[n].second;
    }
    if (start + max < statuses.size()) out["NextToken"] = std::to_string(start + max);
    return out;
  }

  ApiResult UpdateCustomHealth(const Scope& scope, const Json& input) {
    std::string service_id = IdFrom(input["ServiceId"].get<std::string>());
    Json* s = Find(services_, scope, service_id);
    if (s == nullptr) return ServiceNotFound();
    std::string instance_id = input["InstanceId"].get<std::string>();
    Json* i = Find(instances_, scope, service_id + "/" + instance_id);
    if (i == nullptr) return InstanceNotFound();
    if (!s->contains("HealthCheckCustomConfig")) {
      return ApiError::Client("CustomHealthNotFound",
                              "The service " + service_id + " has no custom health check.");
    }
    std::string status = input["Status"].get<std::string>();
    if ((*i)["_health"] == status) return Json::object();
    (*i)["_health"] = status;
    US_RETURN_IF_ERROR_API(Save("inst", scope, service_id + "/" + instance_id, *i));
    Bump(scope, service_id);
    journal_.Transition((*s)["Arn"].get<std::string>(),
                        Json{{"instance", instance_id}, {"health", status}});
    Changed();
    return Json::object();
  }

  // The service `service_name` of the namespace whose HTTP name is `namespace_name`.
  std::variant<const Json*, ApiError> Discovered(const Scope& scope, const Json& input) const {
    std::string ns_name = input["NamespaceName"].get<std::string>();
    std::string service_name = input["ServiceName"].get<std::string>();
    const Json* ns = nullptr;
    for (const Json* candidate : InScopeOrdered(namespaces_, scope)) {
      if ((*candidate)["Properties"]["HttpProperties"].value("HttpName", "") == ns_name) {
        ns = candidate;
      }
    }
    if (ns == nullptr) return NamespaceNotFound();
    for (const Json* s : InScopeOrdered(services_, scope)) {
      if ((*s)["NamespaceId"] == (*ns)["Id"] && (*s)["Name"] == service_name) return s;
    }
    return ServiceNotFound();
  }

  ApiResult DiscoverInstances(const Scope& scope, const Json& input) {
    auto found = Discovered(scope, input);
    if (auto* error = std::get_if<ApiError>(&found)) return *error;
    const Json& s = *std::get<const Json*>(found);
    std::string ns_name = input["NamespaceName"].get<std::string>();
    std::string filter = input.value("HealthStatus", "HEALTHY");
    bool checked = s.contains("HealthCheckConfig") || s.contains("HealthCheckCustomConfig");
    const Json query = input.value("QueryParameters", Json::object());
    const Json optional = input.value("OptionalParameters", Json::object());
    auto has_all = [](const Json& attrs, const Json& wanted) {
      for (auto it = wanted.begin(); it != wanted.end(); ++it) {
        if (!attrs.contains(it.key()) || attrs[it.key()] != it.value()) return false;
      }
      return true;
    };
    std::vector<const Json*> all, healthy;
    for (const Json* i : InstancesOf(scope, s["Id"].get<std::string>())) {
      if (!has_all((*i)["Attributes"], query)) continue;
      all.push_back(i);
      if (!checked || (*i)["_health"] != "UNHEALTHY") healthy.push_back(i);
    }
    std::vector<const Json*> chosen;
    if (!checked || filter == "ALL") {
      chosen = all;
    } else if (filter == "HEALTHY") {
      chosen = healthy;
    } else if (filter == "UNHEALTHY") {
      for (const Json* i : all) {
        if ((*i)["_health"] == "UNHEALTHY") chosen.push_back(i);
      }
    } else {  // HEALTHY_OR_ELSE_ALL
      chosen = healthy.empty() ? all : healthy;
    }
    if (!optional.empty()) {
      std::vector<const Json*> narrowed;
      for (const Json* i : chosen) {
        if (has_all((*i)["Attributes"], optional)) narrowed.push_back(i);
      }
      if (!narrowed.empty()) chosen = narrowed;
    }
    size_t max = static_cast<size_t>(input.value("MaxResults", 100));
    Json out{{"Instances", Json::array()}, {"InstancesRevision", s.value("_revision", int64_t{0})}};
    for (size_t n = 0; n < chosen.size() && n < max; ++n) {
      const Json& i = *chosen[n];
      out["Instances"].push_back(Json{{"InstanceId", i["Id"]},
                                      {"NamespaceName", ns_name},
                                      {"ServiceName", s["Name"]},
                                      {"HealthStatus", i.value("_health", "UNKNOWN")},
                                      {"Attributes", i["Attributes"]}});
    }
    return out;
  }

  ApiResult DiscoverInstancesRevision(const Scope& scope, const Json& input) {
    auto found = Discovered(scope, input);
    if (auto* error = std::get_if<ApiError>(&found)) return *error;
    return Json{
        {"InstancesRevision", std::get<const Json*>(found)->value("_revision", int64_t{0})}};
  }

  // --- operations ---

  ApiResult GetOperation(const Scope& scope, const Json& input) {
    const Json* op = Find(operations_, scope, input["OperationId"].get<std::string>());
    if (op == nullptr) return ApiError::Client("OperationNotFound", "Operation not found");
    return Json{{"Operation", Shown(*op)}};
  }

  ApiResult ListOperations(const Scope& scope, const Json& input) {
    const Json filters = input.value("Filters", Json::array());
    for (const auto& f : filters) {
      std::string name = f["Name"].get<std::string>();
      std::set<std::string> allowed = {"EQ"};
      if (name == "STATUS" || name == "TYPE") allowed = {"EQ", "IN"};
      if (name == "UPDATE_DATE") allowed = {"BETWEEN"};
      if (auto error = CheckCondition(f, allowed)) return *error;
      if (name == "UPDATE_DATE" && f["Values"].size() != 2) {
        return InvalidInput("The BETWEEN condition takes exactly two values.");
      }
    }
    std::vector<Json> items;
    for (const Json* op : InScopeOrdered(operations_, scope)) {
      bool keep = true;
      for (const auto& f : filters) {
        std::string name = f["Name"].get<std::string>();
        const Json& targets = (*op)["Targets"];
        if (name == "NAMESPACE_ID") keep &= Matches(f, targets.value("NAMESPACE", ""));
        if (name == "SERVICE_ID") keep &= Matches(f, targets.value("SERVICE", ""));
        if (name == "STATUS") keep &= Matches(f, (*op)["Status"]);
        if (name == "TYPE") keep &= Matches(f, (*op)["Type"]);
        if (name == "UPDATE_DATE") {
          double at = (*op)["UpdateDate"].get<double>();
          try {
            keep &= at >= std::stod(f["Values"][0].get<std::string>()) &&
                    at <= std::stod(f["Values"][1].get<std::string>());
          } catch (...) {
            return InvalidInput("UPDATE_DATE values must be timestamps in epoch seconds.");
          }
        }
      }
      if (keep) items.push_back(Json{{"Id", (*op)["Id"]}, {"Status", (*op)["Status"]}});
    }
    return Page(items, input, "Operations");
  }

  // --- tags ---

  Json* Tagged(const Scope& scope, const std::string& arn) {
    for (Table* table : {&namespaces_, &services_}) {
      for (auto& [key, doc] : *table) {
        if (InScope(key, scope) && doc["Arn"] == arn) return &doc;
      }
    }
    return nullptr;
  }
  ApiError ResourceNotFound(const std::string& arn) {
    return ApiError::Client("ResourceNotFoundException",
                            "The resource " + arn + " can't be found.");
  }
  Status SaveTagged(const Scope& scope, const Json& doc) {
    const char* kind = doc["Id"].get<std::string>().rfind("ns-", 0) == 0 ? "ns" : "srv";
    return Save(kind, scope, doc["Id"].get<std::string>(), doc);
  }

  ApiResult TagResource(const Scope& scope, const Json& input) {
    std::string arn = input["ResourceARN"].get<std::string>();
    Json* doc = Tagged(scope, arn);
    if (doc == nullptr) return ResourceNotFound(arn);
    Json tags = doc->value("_tags", Json::array());
    for (const auto& tag : input["Tags"]) {
      bool replaced = false;
      for (auto& t : tags) {
        if (t["Key"] == tag["Key"]) {
          t["Value"] = tag["Value"];
          replaced = true;
        }
      }
      if (!replaced) tags.push_back(tag);
    }
    if (tags.size() > 200) {
      return ApiError::Client("TooManyTagsException", "The resource can have at most 200 tags.");
    }
    Json updated = *doc;
    updated["_tags"] = tags;
    US_RETURN_IF_ERROR_API(SaveTagged(scope, updated));
    *doc = updated;
    return Json::object();
  }

  ApiResult UntagResource(const Scope& scope, const Json& input) {
    std::string arn = input["ResourceARN"].get<std::string>();
    Json* doc = Tagged(scope, arn);
    if (doc == nullptr) return ResourceNotFound(arn);
    std::set<std::string> drop;
    for (const auto& k : input["TagKeys"]) drop.insert(k.get<std::string>());
    Json kept = Json::array();
    for (const auto& t : doc->value("_tags", Json::array())) {
      if (!drop.count(t["Key"].get<std::string>())) kept.push_back(t);
    }
    Json updated = *doc;
    updated["_tags"] = kept;
    US_RETURN_IF_ERROR_API(SaveTagged(scope, updated));
    *doc = updated;
    return Json::object();
  }

  ApiResult ListTagsForResource(const Scope& scope, const Json& input) {
    std::string arn = input["ResourceARN"].get<std::string>();
    Json* doc = Tagged(scope, arn);
    if (doc == nullptr) return ResourceNotFound(arn);
    return Json{{"Tags", doc->value("_tags", Json::array())}};
  }

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  Table namespaces_;
  Table services_;
  Table instances_;
  Table operations_;
  int64_t seq_ = 0;
  std::function<void()> on_change_;
};

}  // namespace

Result<std::unique_ptr<ServiceDiscovery>> ServiceDiscovery::Open(Store& store, Journal& journal,
                                                                 Clock& clock, Random random) {
  auto impl = std::make_unique<ServiceDiscoveryImpl>(store, journal, clock, std::move(random));
  US_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<ServiceDiscovery>(std::move(impl));
}

}  // namespace understudy::servicediscovery
