// Service models: the official AWS models, trimmed and embedded, as C++ structures.
//
// tools/gen_models.py writes emulator/api/models/<service>.json from botocore;
// the build embeds them. The index (metadata and each operation's HTTP binding)
// is read at start for routing; a service's full model is parsed the first
// time a request reaches it. Loop thread only (the lazy cache is not locked).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace understudy::api {

enum class ShapeType {
  kStructure,
  kList,
  kMap,
  kString,
  kInteger,
  kLong,
  kFloat,
  kDouble,
  kBoolean,
  kTimestamp,
  kBlob,
  kDocument,
  kUnion,
};

// Where a member travels in restJson1 (and header-bound members elsewhere).
enum class Location { kBody, kUri, kQuery, kHeader, kHeaders, kStatusCode };

struct Shape;

struct Member {
  std::string name;
  const Shape* shape = nullptr;
  Location location = Location::kBody;
  std::string location_name;  // wire name (header, query key, URI label, XML element)
  std::string query_name;     // EC2 dialect
  bool flattened = false;
  bool xml_attribute = false;
  bool idempotency_token = false;
  bool json_value = false;  // a header carrying base64 JSON
  std::string timestamp_format;
  // The element name used by query/XML protocols.
  const std::string& XmlName() const { return location_name.empty() ? name : location_name; }
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;
  std::vector<Member> members;  // structure/union, sorted by name
  std::set<std::string> required;
  std::vector<std::string> enum_values;
  std::optional<double> min;
  std::optional<double> max;
  Member member;  // list element
  Member key;     // map key
  Member value;   // map value
  bool flattened = false;
  std::string timestamp_format;
  // Error shapes.
  bool is_error = false;
  std::string error_code;  // wire code (query protocols), defaults to the shape name
  int http_status = 0;     // 0 = protocol default
  bool sender_fault = true;
  std::string payload;  // restJson1: the member that is the whole body

  const Member* FindMember(std::string_view name) const;
};

struct Operation {
  std::string name;
  std::string http_method = "POST";
  std::string request_uri = "/";
  int response_code = 200;
  const Shape* input = nullptr;
  const Shape* output = nullptr;
  std::string result_wrapper;  // query protocols
  std::vector<const Shape*> errors;
};

// What routing needs about a service, from the index.
struct ServiceInfo {
  std::string id;            // botocore's folder name: "ecs", "elbv2", "sesv2"
  std::string service_id;    // "ECS", "Elastic Load Balancing v2"
  std::string signing_name;  // SigV4 credential scope service
  std::string api_version;
  std::string protocol;  // the model's primary protocol
  std::vector<std::string> protocols;
  std::string target_prefix;  // X-Amz-Target prefix for JSON protocols
  std::string json_version;
  std::string xml_namespace;
  std::string botocore_version;
  struct RestBinding {
    std::string operation;
    std::string method;
    std::string uri;  // "/v2/email/identities/{EmailIdentity}" (may include "?query")
  };
  std::vector<RestBinding> rest_bindings;  // every operation's HTTP binding
  std::set<std::string> operation_names;
};

class ServiceModel {
 public:
  static Result<std::unique_ptr<ServiceModel>> Parse(const ServiceInfo& info,
                                                     std::string_view text);

  const ServiceInfo& info() const { return info_; }
  const Operation* FindOperation(std::string_view name) const;
  const Shape* FindShape(std::string_view name) const;
  // The error shape whose wire code is `code` (for codecs that need its status).
  const Shape* FindError(std::string_view code) const;
  const std::map<std::string, Operation, std::less<>>& operations() const { return operations_; }

 private:
  ServiceInfo info_;
  std::map<std::string, std::unique_ptr<Shape>, std::less<>> shapes_;
  std::map<std::string, Operation, std::less<>> operations_;
};

// Every embedded service model. Loop thread only.
class ModelRegistry {
 public:
  // Reads the embedded index. Internal when the embedded data is broken (a build bug).
  static Result<std::unique_ptr<ModelRegistry>> LoadEmbedded();

  const std::vector<ServiceInfo>& services() const { return services_; }
  const ServiceInfo* FindService(std::string_view id) const;
  // Parses the service's model on first use.
  const ServiceModel* Model(std::string_view id);

 private:
  std::vector<ServiceInfo> services_;
  std::map<std::string, std::unique_ptr<ServiceModel>, std::less<>> models_;
};

// The embedded JSON text of a model ("ecs") or of the index ("index"); empty if unknown.
std::string_view EmbeddedModelText(std::string_view name);

}  // namespace understudy::api
