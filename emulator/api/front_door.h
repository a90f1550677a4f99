// FrontDoor: the one HTTP endpoint every AWS service answers on.
//
// It finds the service and operation from the request (Smithy RPC v2 path,
// X-Amz-Target, query Action + Version, or the REST binding; the SigV4
// credential scope disambiguates and gives account and region), decodes the
// input with the protocol's codec, validates it against the service model,
// calls the operation registered for it and encodes the answer in the
// protocol the request spoke. Requests to /_understudy/ and /moto-api/ go to
// registered internal handlers. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "api/codec.h"
#include "api/http.h"
#include "api/model.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/random.h"

namespace understudy::api {

// What an operation knows about the request that called it.
struct RequestContext {
  Scope scope;             // account and region the call acts in
  std::string request_id;  // also sent as x-amzn-RequestId
  std::string service;     // model id: "ecs"
  std::string operation;   // "CreateCluster"
  Protocol protocol = Protocol::kJson11;
  std::string access_key_id;
  bool control_call = false;  // came through POST /_understudy/call, not the wire
};

using OperationHandler = std::function<ApiResult(const RequestContext&, const Json& input)>;
using Reply = std::function<void(ApiResult)>;
using AsyncOperationHandler =
    std::function<void(const RequestContext&, const Json& input, Reply reply)>;
using HttpReply = std::function<void(HttpResponse)>;
using InternalHandler = std::function<void(const HttpRequest&, HttpReply reply)>;

// What a fault rule (docs/chaos.md) does to one call: answer `error`, or answer
// `output` without running the operation, or run it; in each case after `latency` of
// clock time.
struct InjectedFault {
  std::optional<ApiError> error;
  std::optional<Json> output;
  Duration latency{0};
};
// Consulted for every call before it runs; nothing leaves the call alone.
using FaultHook =
    std::function<std::optional<InjectedFault>(const RequestContext&, const Json& input)>;

struct FrontDoorOptions {
  std::string default_account = "000000000000";  // --account-id
  std::string default_region = "us-east-1";
};

// The outcome of routing: which service, protocol and operation a request is for.
struct Route {
  const ServiceInfo* service = nullptr;
  Protocol protocol = Protocol::kJson11;
  std::string operation;
  PathLabels labels;
  Scope scope;
  std::string access_key_id;
};

class FrontDoor {
 public:
  FrontDoor(Clock& clock, Journal& journal, Random random, ModelRegistry& models,
            FrontDoorOptions options);

  // Registers the handler for `service` (a model id such as "ecs") and `operation`.
  // REQUIRES: the model has the operation (a typo is a bug, checked at start).
  void Register(const std::string& service, const std::string& operation, OperationHandler handler);
  void RegisterAsync(const std::string& service, const std::string& operation,
                     AsyncOperationHandler handler);
  // Routes `method` requests whose path is `path` (exact) to an internal handler.
  // Routes `method` requests whose path starts with `prefix` to an internal handler
  // (exact paths win over prefixes).
  void RegisterInternalPrefix(const std::string& method, const std::string& prefix,
                              InternalHandler handler);
  void RegisterInternal(const std::string& method, const std::string& path,
                        InternalHandler handler);

  // Answers one HTTP request; `reply` runs exactly once, maybe before Handle returns.
  void Handle(HttpRequest request, HttpReply reply);

  // Finds service, protocol and operation, or the error to answer with (and the
  // codec to answer it in).
  std::variant<Route, std::pair<Protocol, ApiError>> RouteRequest(const HttpRequest& request) const;

  // Calls `operation` of `service` (a model id) with `input` in the canonical JSON form
  // the JSON protocols carry (timestamps as epoch seconds or ISO-8601, blobs as
  // base64), as an HTTP request would: validated against the model, journaled, the
  // clock held while it runs. `reply` gets the output or the API's error; a service or
  // operation the model lacks is an UnknownOperationException.
  void Call(const std::string& service, const std::string& operation, const Scope& scope,
            Json input, Reply reply);

  // Installs the fault hook (one; a second replaces it). Unset: no call is touched.
  void SetFaultHook(FaultHook hook) { fault_hook_ = std::move(hook); }

  // Model ids of services with at least one registered operation, sorted.
  std::vector<std::string> ImplementedServices() const;
  ModelRegistry& models() { return models_; }

 private:
  struct Registered {
    AsyncOperationHandler handler;
    bool read_only = false;  // Describe*, List*, Get*...: not journaled
    std::string subject;     // "ecs.CreateCluster"
    std::string hold_label;  // "api ecs.CreateCluster"
  };
  void Dispatch(const Route& route, const HttpRequest& request, const std::string& request_id,
                HttpReply reply);
  // Validates canonical `input`, then runs the registered handler; `reply` gets the
  // result with the error code and status the model gives it.
  void Invoke(const ServiceModel& model, const Operation& op, Protocol protocol, RequestContext ctx,
              Json input, Reply reply);
  HttpResponse ErrorResponse(const ServiceInfo* service, Protocol protocol, ApiError error,
                             const std::string& request_id) const;
  Scope ScopeFrom(const std::optional<std::string>& region, const std::string& access_key) const;

  // Runs the registered handler (after any injected fault's latency).
  void RunRegistered(const ServiceModel& model, const Registered& registered,
                     const RequestContext& ctx, const Json& input, Reply reply);

  Clock& clock_;
  Journal& journal_;
  Random random_;
  ModelRegistry& models_;
  FaultHook fault_hook_;
  FrontDoorOptions options_;
  std::map<std::pair<std::string, std::string>, Registered> operations_;
  std::map<std::pair<std::string, std::string>, InternalHandler> internal_;
  std::vector<std::tuple<std::string, std::string, InternalHandler>> internal_prefixes_;
};

// The parts of a SigV4 credential ("AKID/20261123/us-east-1/ecs/aws4_request").
struct CredentialScope {
  std::string access_key_id;
  std::string date;
  std::string region;
  std::string service;
};
// From the Authorization header or the X-Amz-Credential query parameter.
std::optional<CredentialScope> ParseCredentialScope(const HttpRequest& request);

}  // namespace understudy::api
