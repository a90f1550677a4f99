#include "events/delivery.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

#include "core/log.h"

namespace understudy::events {
namespace {

constexpr int64_t kDefaultRetries = 185;
constexpr int64_t kDefaultMaxAge = 86400;
const char* const kOverrideKeys[] = {"containerOverrides",
                                     "cpu",
                                     "memory",
                                     "taskRoleArn",
                                     "executionRoleArn",
                                     "ephemeralStorage",
                                     "inferenceAcceleratorOverrides"};

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;
};

std::optional<ParsedUrl> ParseHttpUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  ParsedUrl parsed;
  parsed.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!parsed.target.empty() && parsed.target[0] == '?') parsed.target = "/" + parsed.target;
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    parsed.host = authority.substr(0, colon);
    parsed.port = authority.substr(colon + 1);
  } else {
    parsed.host = authority;
    parsed.port = "80";
  }
  if (parsed.host.size() > 2 && parsed.host.front() == '[') {
    parsed.host = parsed.host.substr(1, parsed.host.size() - 2);
  }
  if (parsed.host.empty()) return std::nullopt;
  return parsed;
}

// One blocking HTTP exchange; {status, body} or the connection error. Worker thread.
Result<std::pair<int, std::string>> Exchange(const HttpCall& call) {
  namespace http = boost::beast::http;
  auto url = ParseHttpUrl(call.url);
  if (!url) return Status::InvalidArgument("only http:// endpoints can be called locally");
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(url->host, url->port));
    http::request<http::string_body> request;
    request.method(http::string_to_verb(call.method));
    request.target(url->target);
    request.version(11);
    request.set(http::field::host, url->host);
    request.set(http::field::content_type, "application/json; charset=utf-8");
    request.set(http::field::user_agent, "Amazon/EventBridge/ApiDestinations");
    for (const auto& [name, value] : call.headers) request.set(name, value);
    request.body() = call.body;
    request.prepare_payload();
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    boost::beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    return std::make_pair(static_cast<int>(response.result_int()), response.body());
  } catch (const std::exception& e) {
    return Status::Unavailable(e.what());
  }
}

std::string UrlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A target's HttpParameters: each `*` of the endpoint takes the next PathParameterValues
// entry; QueryStringParameters are appended; HeaderParameters added.
void ApplyHttpParameters(const Json& params, HttpCall& call) {
  size_t from = 0;
  for (const auto& value : params.value("PathParameterValues", Json::array())) {
    size_t star = call.url.find('*', from);
    if (star == std::string::npos) break;
    std::string text = value.get<std::string>();
    call.url.replace(star, 1, text);
    from = star + text.size();
  }
  const Json query = params.value("QueryStringParameters", Json::object());
  for (const auto& [key, value] : query.items()) {
    call.url += (call.url.find('?') == std::string::npos ? "?" : "&") + UrlEncode(key) + "=" +
                UrlEncode(value.get<std::string>());
  }
  const Json headers = params.value("HeaderParameters", Json::object());
  for (const auto& [key, value] : headers.items())
    call.headers.emplace_back(key, value.get<std::string>());
}

}  // namespace

Json LowerCamelKeys(const Json& value) {
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) out.push_back(LowerCamelKeys(item));
    return out;
  }
  if (!value.is_object()) return value;
  Json out = Json::object();
  for (const auto& [key, item] : value.items()) {
    std::string name = key;
    if (!name.empty())
      name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
    out[name] = LowerCamelKeys(item);
  }
  return out;
}

Json RunTaskRequest(const std::string& cluster_arn, const Json& ecs_parameters,
                    const std::optional<Json>& overrides, const std::string& started_by) {
  Json request = LowerCamelKeys(ecs_parameters);
  request.erase("taskDefinitionArn");
  request.erase("taskCount");
  request["cluster"] = cluster_arn;
  request["taskDefinition"] = ecs_parameters.value("TaskDefinitionArn", "");
  request["count"] = ecs_parameters.value("TaskCount", int64_t{1});
  if (!started_by.empty()) request["startedBy"] = started_by;
  if (overrides && overrides->is_object()) {
    Json kept = Json::object();
    for (const char* key : kOverrideKeys) {
      if (overrides->contains(key)) kept[key] = (*overrides)[key];
    }
    if (!kept.empty()) request["overrides"] = kept;
  }
  return request;
}

struct Delivery::Attempt {
  DeliveryRequest request;
  TimePoint first;
  int attempts = 0;
  Hold hold;
};

Delivery::Delivery(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random,
                   DeliveryHooks hooks)
    : loop_(loop),
      store_(store),
      journal_(journal),
      clock_(clock),
      random_(random),
      hooks_(std::move(hooks)),
      alive_(std::make_shared<bool>(true)) {}

Delivery::~Delivery() {
  *alive_ = false;
  for (auto& [id, worker] : workers_) {
    if (worker.joinable()) worker.join();
  }
}

Status Delivery::Migrate() {
  US_RETURN_IF_ERROR(Open());
  // The counts waits check, kept in memory so a check costs no query.
  return store_.Query(
      "SELECT source, source_name, outcome, COUNT(*) FROM events_deliveries GROUP BY source, "
      "source_name, outcome",
      {}, [&](const SqlRow& row) {
        for (int64_t i = 0; i < row.Int(3); ++i) CountOne(row.Text(0), row.Text(1), row.Text(2));
      });
}

Status Delivery::Open() {
  return store_.Migrate(
      "events_deliveries",
      {"CREATE TABLE events_deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT "
       "NULL, account TEXT NOT NULL, region TEXT NOT NULL, source TEXT NOT NULL, source_name TEXT "
       "NOT NULL, outcome TEXT NOT NULL, doc TEXT NOT NULL);"});
}

Status Delivery::Reset() {
  counts_.clear();
  return store_.Run("DELETE FROM events_deliveries");
}

void Delivery::Deliver(DeliveryRequest request) {
  auto attempt = std::make_shared<Attempt>();
  attempt->request = std::move(request);
  attempt->first = clock_.Now();
  ++in_flight_;
  Try(attempt);
}

void Delivery::Try(std::shared_ptr<Attempt> attempt) {
  ++attempt->attempts;
  const DeliveryRequest& request = attempt->request;
  const Json& target = request.target;
  std::string arn = target.value("Arn", "");
  auto parsed = Arn::Parse(arn);
  std::string service = parsed ? parsed->service : "";
  std::string resource = parsed ? parsed->resource : "";
  if (fault_) {
    if (auto failure = fault_(request)) {
      if (failure->delay.count() > 0) {
        // Held back, then attempted as if it had just come (this attempt is not counted).
        --attempt->attempts;
        attempt->request.delayed = true;
        journal_.Transition("events.delivery", Json{{"source", request.source_arn},
                                                    {"targetArn", target.value("Arn", "")},
                                                    {"delayedBy", FormatDuration(failure->delay)}});
        clock_.ScheduleAfter(
            failure->delay, [this, attempt] { Try(attempt); },
            "events delayed delivery " + target.value("Arn", ""));
        return;
      }
      return Finish(attempt, true, failure->code, failure->message);
    }
  }

  if (request.universal_run_task || (service == "ecs" && resource.rfind("cluster/", 0) == 0)) {
    if (!hooks_.run_task) return Finish(attempt, false, "ServiceUnavailable", "ECS is not running");
    Json run_input;
    if (request.universal_run_task) {
      auto parsed_input = ParseJson(request.input);
      if (!parsed_input.ok() || !parsed_input->is_object()) {
        return Finish(attempt, false, "ValidationException", "Input is not a RunTask request.");
      }
      run_input = LowerCamelKeys(*parsed_input);
      if (!run_input.contains("startedBy")) run_input["startedBy"] = request.started_by;
    } else {
      std::optional<Json> overrides;
      bool shaped = target.contains("Input") || target.contains("InputPath") ||
                    target.contains("InputTransformer");
      if (shaped) {
        auto value = ParseJson(request.input);
        if (value.ok()) overrides = *value;
      }
      run_input = RunTaskRequest(arn, target.value("EcsParameters", Json::object()), overrides,
                                 request.started_by);
    }
    api::ApiResult result = hooks_.run_task(request.scope, run_input);
    if (!result.ok()) {
      const api::ApiError& error = result.error();
      return Finish(attempt, error.http_status >= 500 || error.code == "ThrottlingException",
                    error.code, error.message);
    }
    Json tasks = Json::array();
    for (const auto& task : result.output().value("tasks", Json::array())) {
      tasks.push_back(task.value("taskArn", ""));
    }
    const Json failures = result.output().value("failures", Json::array());
    if (tasks.empty() && !failures.empty()) {
      return Finish(attempt, true, "ECSTaskFailure", failures[0].value("reason", "RunTask failed"));
    }
    return Succeed(attempt, Json{{"taskArns", tasks}, {"runTask", run_input}});
  }
  if (service == "events" && resource.rfind("event-bus/", 0) == 0) {
    if (!hooks_.put_event) return Finish(attempt, false, "ServiceUnavailable", "no event bus");
    Json event = request.event;
    if (event.is_null()) {
      auto parsed_input = ParseJson(request.input);
      event = parsed_input.ok() ? *parsed_input : Json(request.input);
    }
    Status put = hooks_.put_event(arn, event);
    if (!put.ok()) return Finish(attempt, false, "ResourceNotFoundException", put.message());
    return Succeed(attempt, Json{{"eventBus", arn}});
  }
  if (service == "events" && resource.rfind("api-destination/", 0) == 0) {
    if (!hooks_.api_destination) {
      return Finish(attempt, false, "ServiceUnavailable", "no API destinations");
    }
    auto call = hooks_.api_destination(request.scope, arn, request.input);
    if (!call.ok())
      return Finish(attempt, false, "ResourceNotFoundException", call.status().message());
    ApplyHttpParameters(target.value("HttpParameters", Json::object()), *call);
    return StartHttp(attempt, std::move(call).value());
  }
  if (service == "logs" && resource.rfind("log-group:", 0) == 0) {
    if (hooks_.logs == nullptr) return Finish(attempt, false, "ServiceUnavailable", "no logs");
    std::string group = resource.substr(10);
    if (group.size() > 2 && group.compare(group.size() - 2, 2, ":*") == 0)
      group.resize(group.size() - 2);
    Scope scope{parsed->account, parsed->region};
    std::string stream = request.event.is_object() ? request.event.value("id", "") : "";
    if (stream.empty()) stream = random_.Uuid();
    Status opened = hooks_.logs->OpenStream(scope, group, stream, false);
    if (!opened.ok()) return Finish(attempt, false, "ResourceNotFoundException", opened.message());
    hooks_.logs->Append(scope, group, stream, request.input);
    return Succeed(attempt, Json{{"logGroup", group}, {"logStream", stream}});
  }
  Finish(attempt, false, "UnsupportedTarget",
         "Target " + arn +
             " is not a kind understudy delivers to (ECS clusters, event buses, API "
             "destinations and log groups are)");
}

void Delivery::StartHttp(std::shared_ptr<Attempt> attempt, HttpCall call) {
  attempt->hold = clock_.Acquire("events delivery " + call.method + " " + call.url);
  std::weak_ptr<bool> alive = alive_;
  uint64_t id = next_worker_++;
  workers_[id] = std::thread([this, id, attempt, call = std::move(call), alive]() {
    auto result = Exchange(call);
    loop_.Post([this, id, attempt, result = std::move(result), call, alive]() mutable {
      auto still = alive.lock();
      if (!still || !*still) return;
      auto worker = workers_.find(id);
      if (worker != workers_.end()) {
        worker->second.join();  // it has posted this and is ending
        workers_.erase(worker);
      }
      attempt->hold.Release();
      if (!result.ok()) {
        // An endpoint understudy cannot call (https) will not become callable on a retry.
        bool retriable = result.status().code() != StatusCode::kInvalidArgument;
        return Finish(attempt, retriable, "ConnectionError", result.status().message());
      }
      auto [status, body] = *result;
      if (status >= 200 && status < 300) {
        return Succeed(attempt, Json{{"httpStatus", status}, {"url", call.url}, {"body", body}});
      }
      bool retriable = status >= 500 || status == 429 || status == 409;
      Finish(attempt, retriable, std::to_string(status),
             "The API destination answered HTTP " + std::to_string(status));
    });
  });
}

void Delivery::Succeed(std::shared_ptr<Attempt> attempt, Json result) {
  --in_flight_;
  Record(*attempt, "SUCCEEDED", Json{{"result", std::move(result)}});
}

void Delivery::Finish(std::shared_ptr<Attempt> attempt, bool retriable, const std::string& code,
                      const std::string& message) {
  const Json policy = attempt->request.target.value("RetryPolicy", Json::object());
  int64_t max_retries = policy.value("MaximumRetryAttempts", kDefaultRetries);
  int64_t max_age = policy.value("MaximumEventAgeInSeconds", kDefaultMaxAge);
  std::string exhausted;
  if (retriable) {
    int retries = attempt->attempts - 1;
    // Exponential back-off with jitter: 1 s, 2 s, 4 s... capped at 5 minutes.
    int64_t base = int64_t{1} << std::min(retries, 8);
    int64_t delay_ms = std::min<int64_t>(base * 1000, 300000);
    delay_ms += static_cast<int64_t>(random_.Below(static_cast<uint64_t>(delay_ms / 2 + 1)));
    Duration delay = std::chrono::milliseconds(delay_ms);
    if (retries >= max_retries) {
      exhausted = "MaximumRetryAttempts";
    } else if (clock_.Now() + delay - attempt->first > std::chrono::seconds(max_age)) {
      exhausted = "MaximumEventAgeInSeconds";
    } else {
      journal_.Transition("events.delivery",
                          Json{{"source", attempt->request.source_arn},
                               {"targetArn", attempt->request.target.value("Arn", "")},
                               {"attempt", attempt->attempts},
                               {"errorCode", code},
                               {"retryIn", FormatDuration(delay)}});
      clock_.ScheduleAfter(
          delay, [this, attempt] { Try(attempt); },
          "events retry " + attempt->request.target.value("Arn", ""));
      return;
    }
  }
  --in_flight_;
  Json detail{{"errorCode", code}, {"errorMessage", message}, {"retriable", retriable}};
  if (!exhausted.empty()) detail["exhaustedRetryCondition"] = exhausted;
  const Json dlq = attempt->request.target.value("DeadLetterConfig", Json::object());
  if (dlq.contains("Arn")) {
    Json attributes{{"ERROR_CODE", code},
                    {"ERROR_MESSAGE", message},
                    {"TARGET_ARN", attempt->request.target.value("Arn", "")},
                    {"RETRY_ATTEMPTS", std::to_string(attempt->attempts - 1)}};
    attributes[attempt->request.source_kind == "rule" ? "RULE_ARN" : "SCHEDULE_ARN"] =
        attempt->request.source_arn;
    if (!exhausted.empty()) attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted;
    detail["deadLetter"] = Json{{"arn", dlq["Arn"]}, {"messageAttributes", attributes}};
  }
  Record(*attempt, "FAILED", std::move(detail));
}

void Delivery::Record(const Attempt& attempt, const std::string& outcome, Json detail) {
  const DeliveryRequest& request = attempt.request;
  Json doc = std::move(detail);
  doc["time"] = FormatIso8601(clock_.Now());
  doc["account"] = request.scope.account;
  doc["region"] = request.scope.region;
  doc["sourceKind"] = request.source_kind;
  doc["source"] = request.source_arn;
  doc["sourceName"] = request.source_name;
  if (request.target.contains("Id")) doc["targetId"] = request.target["Id"];
  doc["targetArn"] = request.target.value("Arn", "");
  doc["input"] = request.input;
  doc["outcome"] = outcome;
  doc["attempts"] = attempt.attempts;
  if (!request.event.is_null()) doc["eventId"] = request.event.value("id", "");
  Status saved = store_.Run(
      "INSERT INTO events_deliveries(time, account, region, source, source_name, outcome, doc) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      {ToEpochMillis(clock_.Now()), request.scope.account, request.scope.region, request.source_arn,
       request.source_name, outcome, doc.dump()});
  if (!saved.ok()) Log(LogLevel::kError, "events: cannot record a delivery: " + saved.message());
  CountOne(request.source_arn, request.source_name, outcome);
  Json journaled = doc;
  if (journaled.value("input", "").size() > 4096)
    journaled["input"] = "(" + std::to_string(request.input.size()) + " bytes)";
  journal_.Transition("events.delivery", journaled);
}

Json Delivery::List(int64_t after, size_t limit, const std::string& source) const {
  Json out = Json::array();
  auto& store = const_cast<Store&>(store_);
  (void)store.Query(
      "SELECT seq, doc FROM events_deliveries WHERE seq > ?1 AND (?2 = '' OR source = ?2 OR "
      "source_name = ?2) ORDER BY seq LIMIT ?3",
      {after, source, static_cast<int64_t>(limit)}, [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(1));
        if (!doc.ok()) return;
        Json entry = *doc;
        entry["seq"] = row.Int(0);
        out.push_back(entry);
      });
  return out;
}

int64_t Delivery::Count(const std::string& source, const std::string& outcome) const {
  auto it = counts_.find(source);
  if (it == counts_.end()) return 0;
  if (outcome.empty()) return it->second.first + it->second.second;
  return outcome == "SUCCEEDED" ? it->second.first : outcome == "FAILED" ? it->second.second : 0;
}

void Delivery::CountOne(const std::string& source_arn, const std::string& source_name,
                        const std::string& outcome) {
  for (const std::string& key : {std::string(), source_arn, source_name}) {
    auto& [succeeded, failed] = counts_[key];
    (outcome == "SUCCEEDED" ? succeeded : failed) += 1;
  }
}

}  // namespace understudy::events
