#include "api/front_door.h"

#include <algorithm>

#include "api/shape_values.h"
#include "core/check.h"

namespace understudy::api {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  if (!path.empty() && path[0] == '/') pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

// Matches a REST request URI template ("/v2/email/identities/{EmailIdentity}",
// maybe with "?literal" query requirements) against a raw path and query.
bool MatchTemplate(std::string_view uri, const HttpRequest& request, PathLabels* labels) {
  std::string_view path_template = uri;
  std::string_view query_template;
  if (size_t q = uri.find('?'); q != std::string_view::npos) {
    path_template = uri.substr(0, q);
    query_template = uri.substr(q + 1);
  }
  auto want = SplitPath(path_template);
  auto have = SplitPath(request.raw_path);
  PathLabels found;
  size_t matched = 0;  // segments of `have` consumed
  for (size_t i = 0; i < want.size(); ++i) {
    std::string_view segment = want[i];
    bool label = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
    if (!label) {
      if (matched >= have.size() || have[matched] != segment) return false;
      ++matched;
      continue;
    }
    std::string_view name = segment.substr(1, segment.size() - 2);
    bool greedy = !name.empty() && name.back() == '+';
    if (greedy) name.remove_suffix(1);
    if (matched >= have.size()) return false;
    std::string raw(have[matched++]);
    if (greedy) {  // a greedy label takes the rest of the path
      for (; matched < have.size(); ++matched) raw += "/" + std::string(have[matched]);
    }
    std::string decoded;
    if (raw.empty() || !PercentDecode(raw, false, &decoded)) return false;
    found.emplace(std::string(name), std::move(decoded));
  }
  if (matched != have.size()) return false;
  // Literal query requirements: "?tagging" or "?Action=X".
  while (!query_template.empty()) {
    size_t amp = query_template.find('&');
    std::string_view part = query_template.substr(0, amp);
    size_t eq = part.find('=');
    std::string key(part.substr(0, eq));
    const std::string* value = request.QueryParam(key);
    if (value == nullptr) return false;
    if (eq != std::string_view::npos && *value != part.substr(eq + 1)) return false;
    if (amp == std::string_view::npos) break;
    query_template.remove_prefix(amp + 1);
  }
  *labels = std::move(found);
  return true;
}

bool HasProtocol(const ServiceInfo& s, std::string_view p) {
  return std::find(s.protocols.begin(), s.protocols.end(), p) != s.protocols.end() ||
         s.protocol == p;
}

size_t LiteralLength(std::string_view uri) {
  size_t n = 0;
  bool in_label = false;
  for (char c : uri) {
    if (c == '{') in_label = true;
    if (!in_label) ++n;
    if (c == '}') in_label = false;
  }
  return n;
}

ApiError BodyTooLargeError(const HttpRequest& request) {
  return ApiError::Client("RequestEntityTooLargeException",
                          "the request body is larger than this endpoint accepts (" +
                              std::to_string(request.body_limit) + " bytes)",
                          413);
}

}  // namespace

std::optional<CredentialScope> ParseCredentialScope(const HttpRequest& request) {
  std::string credential;
  if (const std::string* auth = request.Header("Authorization")) {
    size_t pos = auth->find("Credential=");
    if (pos == std::string::npos) return std::nullopt;
    pos += 11;
    size_t end = auth->find_first_of(", ", pos);
    credential = auth->substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  } else if (const std::string* q = request.QueryParam("X-Amz-Credential")) {
    credential = *q;
  } else {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= credential.size()) {
    size_t slash = credential.find('/', pos);
    if (slash == std::string::npos) slash = credential.size();
    parts.push_back(credential.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request") return std::nullopt;
  return CredentialScope{parts[0], parts[1], parts[2], parts[3]};
}

FrontDoor::FrontDoor(Clock& clock, Journal& journal, Random random, ModelRegistry& models,
                     FrontDoorOptions options)
    : clock_(clock),
      journal_(journal),
      random_(std::move(random)),
      models_(models),
      options_(std::move(options)) {}

void FrontDoor::Register(const std::string& service, const std::string& operation,
                         OperationHandler handler) {
  RegisterAsync(service, operation,
                [handler = std::move(handler)](const RequestContext& ctx, const Json& input,
                                               Reply reply) { reply(handler(ctx, input)); });
}

void FrontDoor::RegisterAsync(const std::string& service, const std::string& operation,
                              AsyncOperationHandler handler) {
  const ServiceInfo* info = models_.FindService(service);
  UNDERSTUDY_CHECK(info != nullptr && info->operation_names.count(operation) == 1);
  static const char* kReadOnlyPrefixes[] = {"Describe", "List",   "Get",
                                            "BatchGet", "Filter", "Test"};
  bool read_only = false;
  for (const char* prefix : kReadOnlyPrefixes) {
    read_only = read_only || operation.rfind(prefix, 0) == 0;
  }
  operations_[{service, operation}] = Registered{
      std::move(handler), read_only, service + "." + operation, "api " + service + "." + operation};
}

void FrontDoor::RegisterInternalPrefix(const std::string& method, const std::string& prefix,
                                       InternalHandler handler) {
  internal_prefixes_.emplace_back(method, prefix, std::move(handler));
}

void FrontDoor::RegisterInternal(const std::string& method, const std::string& path,
                                 InternalHandler handler) {
  internal_[{method, path}] = std::move(handler);
}

std::vector<std::string> FrontDoor::ImplementedServices() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : operations_) {
    if (out.empty() || out.back() != key.first) out.push_back(key.first);
  }
  return out;
}

Scope FrontDoor::ScopeFrom(const std::optional<std::string>& region,
                           const std::string& access_key) const {
  Scope scope;
  scope.account = AccountFor(access_key, options_.default_account);
  scope.region = region && IsRegionName(*region) ? *region : options_.default_region;
  return scope;
}

std::variant<Route, std::pair<Protocol, ApiError>> FrontDoor::RouteRequest(
    const HttpRequest& request) const {
  auto credential = ParseCredentialScope(request);
  std::optional<std::string> region;
  std::string access_key;
  std::string signing;
  if (credential) {
    region = credential->region;
    access_key = credential->access_key_id;
    signing = credential->service;
  }
  Route route;
  route.scope = ScopeFrom(region, access_key);
  route.access_key_id = access_key;
  const auto& services = models_.services();

  // 1. Smithy RPC v2 CBOR: /service/<Service>/operation/<Operation>
  const std::string* smithy = request.Header("smithy-protocol");
  if (request.path.rfind("/service/", 0) == 0) {
    auto parts = SplitPath(request.path);
    if (parts.size() == 4 && parts[2] == "operation") {
      if (smithy == nullptr || *smithy != "rpc-v2-cbor") {
        return std::pair(Protocol::kRpcV2Cbor,
                         ApiError::Client("SerializationException",
                                          "requests to /service/.../operation/... must carry the "
                                          "header smithy-protocol: rpc-v2-cbor"));
      }
      for (const auto& s : services) {
        if (s.target_prefix == parts[1] && HasProtocol(s, "smithy-rpc-v2-cbor")) {
          route.service = &s;
          route.protocol = Protocol::kRpcV2Cbor;
          route.operation = std::string(parts[3]);
          return route;
        }
      }
      return std::pair(Protocol::kRpcV2Cbor,
                       ApiError::Client("UnknownOperationException",
                                        "no service named " + std::string(parts[1]) +
                                            " speaks Smithy RPC v2 CBOR here"));
    }
  }

  // 2. JSON protocols: X-Amz-Target: <prefix>.<Operation>
  if (const std::string* target = request.Header("X-Amz-Target")) {
    const std::string* type = request.Header("Content-Type");
    bool json10 = type != nullptr && type->find("x-amz-json-1.0") != std::string::npos;
    size_t dot = target->rfind('.');
    std::string prefix = dot == std::string::npos ? *target : target->substr(0, dot);
    for (const auto& s : services) {
      if (!s.target_prefix.empty() && s.target_prefix == prefix &&
          (HasProtocol(s, "json") || HasProtocol(s, "smithy-rpc-v2-cbor"))) {
        route.service = &s;
        // The Content-Type says which JSON version the request speaks; else the model's.
        bool json11 = type != nullptr && type->find("x-amz-json-1.1") != std::string::npos;
        bool speaks10 = json10 || (!json11 && s.json_version == "1.0");
        route.protocol = speaks10 ? Protocol::kJson10 : Protocol::kJson11;
        route.operation = dot == std::string::npos ? "" : target->substr(dot + 1);
        return route;
      }
    }
    return std::pair(
        json10 ? Protocol::kJson10 : Protocol::kJson11,
        ApiError::Client("UnknownOperationException",
                         "no service answers to X-Amz-Target prefix '" + prefix + "'"));
  }

  // 3. Query protocols: Action (+ Version) in the form body or the query string.
  std::vector<std::pair<std::string, std::string>> form;
  const std::string* type = request.Header("Content-Type");
  bool is_form =
      type != nullptr && type->find("application/x-www-form-urlencoded") != std::string::npos;
  if (is_form && !ParseFormEncoded(request.body, &form)) {
    return std::pair(
        Protocol::kQuery,
        ApiError::Client("MalformedQueryString", "the form body has a malformed percent-escape"));
  }
  auto find_param = [&](std::string_view name) -> const std::string* {
    for (const auto& [k, v] : form) {
      if (k == name) return &v;
    }
    return request.QueryParam(name);
  };
  if (const std::string* action = find_param("Action")) {
    const std::string* version = find_param("Version");
    const ServiceInfo* match = nullptr;
    for (const auto& s : services) {
      if (!HasProtocol(s, "query") && !HasProtocol(s, "ec2")) continue;
      if (!signing.empty() && s.signing_name != signing) continue;
      if (version != nullptr && s.api_version != *version) continue;
      if (match != nullptr) {  // ambiguous without a version
        match = nullptr;
        break;
      }
      match = &s;
      if (version != nullptr) break;
    }
    if (match == nullptr) {
      std::string why = version == nullptr ? "the request has no Version parameter and its "
                                             "credential scope does not name one service"
                                           : "no service here speaks API version " + *version +
                                                 (signing.empty() ? "" : " for " + signing);
      return std::pair(Protocol::kQuery,
                       ApiError::Client("InvalidAction",
                                        "The action " + *action +
                                            " is not valid for this web service: " + why + "."));
    }
    route.service = match;
    route.protocol = HasProtocol(*match, "ec2") ? Protocol::kEc2 : Protocol::kQuery;
    route.operation = *action;
    return route;
  }

  // 4. REST protocols: the operation's HTTP binding; the scope picks among services.
  const ServiceInfo* best_service = nullptr;
  const ServiceInfo::RestBinding* best = nullptr;
  PathLabels best_labels;
  size_t best_literal = 0;
  for (const auto& s : services) {
    if (!HasProtocol(s, "rest-json")) continue;
    if (!signing.empty() && s.signing_name != signing) continue;
    for (const auto& binding : s.rest_bindings) {
      if (binding.method != request.method) continue;
      PathLabels labels;
      if (!MatchTemplate(binding.uri, request, &labels)) continue;
      size_t literal = LiteralLength(binding.uri);
      if (best == nullptr || literal > best_literal) {
        best = &binding;
        best_service = &s;
        best_labels = std::move(labels);
        best_literal = literal;
      }
    }
  }
  if (best != nullptr) {
    route.service = best_service;
    route.protocol = Protocol::kRestJson;
    route.operation = best->operation;
    route.labels = std::move(best_labels);
    return route;
  }
  ApiError error = ApiError::Client(
      "UnknownOperationException",
      "understudy cannot tell which AWS operation " + request.method + " " + request.path +
          " is: send X-Amz-Target (JSON protocols), Action and Version (query protocols), or a "
          "path of a REST service",
      404);
  return std::pair(Protocol::kRestJson, error);
}

HttpResponse FrontDoor::ErrorResponse(const ServiceInfo* service, Protocol protocol, ApiError error,
                                      const std::string& request_id) const {
  static const ServiceInfo kNoService;
  return CodecFor(protocol).EncodeError(service ? *service : kNoService, error, request_id);
}

void FrontDoor::Handle(HttpRequest request, HttpReply reply) {
  // Internal endpoints first: they never hold the clock.
  auto internal = internal_.find({request.method, request.path});
  if (internal != internal_.end()) {
    internal->second(request, std::move(reply));
    return;
  }
  for (const auto& [method, prefix, handler] : internal_prefixes_) {
    if (method == request.method && request.path.rfind(prefix, 0) == 0) {
      handler(request, std::move(reply));
      return;
    }
  }
  auto routed = RouteRequest(request);
  std::string request_id = random_.Uuid();
  if (auto* error = std::get_if<std::pair<Protocol, ApiError>>(&routed)) {
    if (request.body_too_large) {
      // The server dropped the body, so a form (query protocol) cannot be routed:
      // say the body was too large rather than that the operation is unknown.
      const std::string* type = request.Header("Content-Type");
      bool is_form =
          type != nullptr && type->find("application/x-www-form-urlencoded") != std::string::npos;
      reply(ErrorResponse(nullptr, is_form ? Protocol::kQuery : error->first,
                          BodyTooLargeError(request), request_id));
      return;
    }
    reply(ErrorResponse(nullptr, error->first, error->second, request_id));
    return;
  }
  Route route = std::get<Route>(std::move(routed));
  Dispatch(route, request, request_id, std::move(reply));
}

void FrontDoor::Dispatch(const Route& route, const HttpRequest& request,
                         const std::string& request_id, HttpReply reply) {
  const ServiceInfo& info = *route.service;
  const Codec& codec = CodecFor(route.protocol);
  bool query = route.protocol == Protocol::kQuery || route.protocol == Protocol::kEc2;
  auto fail = [&](ApiError error) {
    reply(ErrorResponse(&info, route.protocol, error, request_id));
  };

  if (request.body_too_large) return fail(BodyTooLargeError(request));
  if (info.operation_names.count(route.operation) == 0) {
    if (query) {
      return fail(ApiError::Client("InvalidAction", "The action " + route.operation +
                                                        " is not valid for this web service."));
    }
    return fail(ApiError::Client(
        "UnknownOperationException",
        "The operation " + route.operation + " is not valid for " + info.service_id + "."));
  }
  const ServiceModel* model = models_.Model(info.id);
  UNDERSTUDY_CHECK(model != nullptr);
  const Operation* op = model->FindOperation(route.operation);
  UNDERSTUDY_CHECK(op != nullptr);

  ApiResult decoded = codec.DecodeInput(*model, *op, request, route.labels);
  if (!decoded.ok()) return fail(decoded.error());
  RequestContext ctx{route.scope,     request_id,     info.id,
                     route.operation, route.protocol, route.access_key_id};
  Invoke(*model, *op, route.protocol, std::move(ctx), std::move(decoded.output()),
         [this, model, op, service = route.service, protocol = route.protocol, request_id,
          reply = std::move(reply)](ApiResult result) {
           if (result.ok()) {
             reply(CodecFor(protocol).EncodeOutput(*model, *op, result.output(), request_id));
           } else {
             reply(ErrorResponse(service, protocol, result.error(), request_id));
           }
         });
}

void FrontDoor::Invoke(const ServiceModel& model, const Operation& op, Protocol protocol,
                       RequestContext ctx, Json input, Reply reply) {
  const ServiceInfo& info = model.info();
  bool query = protocol == Protocol::kQuery || protocol == Protocol::kEc2;
  if (op.input != nullptr) {
    std::string missing;
    if (auto message = Validate(*op.input, input, &missing)) {
      std::string code = protocol == Protocol::kEc2     ? "InvalidParameterValue"
                         : protocol == Protocol::kQuery ? "ValidationError"
                                                        : "ValidationException";
      if (info.id == "sesv2") code = "BadRequestException";
      if (protocol == Protocol::kEc2 && !missing.empty()) {  // EC2's own wording
        return reply(ApiError::Client("MissingParameter",
                                      "The request must contain the parameter " + missing));
      }
      return reply(ApiError::Client(code, *message));
    }
  }
  auto registered = operations_.find({info.id, ctx.operation});
  if (registered == operations_.end()) {
    std::string message =
        "understudy does not implement " + info.service_id + " " + ctx.operation + " yet";
    return reply(query ? ApiError::Client("InvalidAction", message)
                       : ApiError::Client("UnknownOperationException", message));
  }
  // Calls that change nothing are not inputs worth replaying; the rest are journaled.
  if (!registered->second.read_only) {
    Json detail{{"account", ctx.scope.account}, {"region", ctx.scope.region}, {"input", input}};
    if (ctx.control_call) detail["via"] = "call";  // a scenario's or a test's call
    journal_.Input(registered->second.subject, std::move(detail));
  }
  if (fault_hook_) {
    if (auto fault = fault_hook_(ctx, input)) {
      const Registered* reg = &registered->second;
      auto finish = [this, model = &model, reg, ctx, input, reply = std::move(reply),
                     fault = *fault]() mutable {
        if (fault.error) return reply(ApiResult(*fault.error));
        if (fault.output) return reply(ApiResult(*fault.output));
        RunRegistered(*model, *reg, ctx, input, std::move(reply));
      };
      if (fault->latency <= Duration(0)) return finish();
      // Latency is clock time: a virtual clock is pulled through it (docs/chaos.md).
      clock_.Pull(clock_.Now() + fault->latency, std::move(finish), "injected latency");
      return;
    }
  }
  RunRegistered(model, registered->second, ctx, input, std::move(reply));
}

void FrontDoor::RunRegistered(const ServiceModel& model, const Registered& registered,
                              const RequestContext& ctx, const Json& input, Reply reply) {
  auto hold = std::make_shared<Hold>(clock_.Acquire(registered.hold_label));
  registered.handler(ctx, input,
                     [model = &model, hold, reply = std::move(reply)](ApiResult result) mutable {
                       if (!result.ok()) {
                         ApiError error = result.error();
                         if (const Shape* shape = model->FindError(error.code)) {
                           if (shape->http_status > 0) error.http_status = shape->http_status;
                           if (!shape->error_code.empty()) error.code = shape->error_code;
                         }
                         result = ApiResult(std::move(error));
                       }
                       reply(std::move(result));
                       hold->Release();
                     });
}

void FrontDoor::Call(const std::string& service, const std::string& operation, const Scope& scope,
                     Json input, Reply reply) {
  const ServiceInfo* info = models_.FindService(service);
  if (info == nullptr) {
    return reply(ApiError::Client("UnknownOperationException",
                                  "there is no service '" + service + "' in understudy's models"));
  }
  if (info->operation_names.count(operation) == 0) {
    return reply(ApiError::Client(
        "UnknownOperationException",
        "The operation " + operation + " is not valid for " + info->service_id + "."));
  }
  const ServiceModel* model = models_.Model(info->id);
  UNDERSTUDY_CHECK(model != nullptr);
  const Operation* op = model->FindOperation(operation);
  UNDERSTUDY_CHECK(op != nullptr);
  Protocol protocol = HasProtocol(*info, "ec2")         ? Protocol::kEc2
                      : HasProtocol(*info, "query")     ? Protocol::kQuery
                      : HasProtocol(*info, "rest-json") ? Protocol::kRestJson
                      : info->json_version == "1.0"     ? Protocol::kJson10
                                                        : Protocol::kJson11;
  if (input.is_null()) input = Json::object();
  if (!input.is_object()) {
    return reply(ApiError::Client(
        "SerializationException",
        std::string("the input must be a JSON object, found ") + input.type_name()));
  }
  if (op->input != nullptr) {
    Status normalized = NormalizeTree(*op->input, input, BlobEncoding::kBase64Text, "");
    if (!normalized.ok()) {
      return reply(ApiError::Client("SerializationException", normalized.message()));
    }
  }
  RequestContext ctx{scope, random_.Uuid(), info->id, operation, protocol, ""};
  ctx.control_call = true;
  Invoke(*model, *op, protocol, std::move(ctx), std::move(input), std::move(reply));
}

}  // namespace understudy::api
