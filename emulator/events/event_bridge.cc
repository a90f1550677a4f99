#include "events/event_bridge.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "api/shape_values.h"
#include "core/log.h"
#include "core/time_zone.h"
#include "events/event_pattern.h"
#include "events/input_transformer.h"
#include "events/offset_paging.h"
#include "events/schedule_expression.h"

namespace understudy::events {

std::string EventTime(TimePoint t) {
  std::string text = FormatIso8601(t);  // 2026-11-23T03:00:00.000Z
  size_t dot = text.find('.');
  return dot == std::string::npos ? text : text.substr(0, dot) + "Z";
}

namespace {

using api::ApiError;
using api::ApiResult;

constexpr size_t kMaxTargets = 5;
constexpr size_t kMaxPutEventsBytes = 256 * 1024;
constexpr int kMaxBusHops = 5;

ApiError Validation(std::string message) {
  return ApiError::Client("ValidationException", std::move(message));
}
ApiError NotFound(std::string message) {
  return ApiError::Client("ResourceNotFoundException", std::move(message));
}
ApiError PatternError(std::string message) {
  return ApiError::Client("InvalidEventPatternException", std::move(message));
}

bool MatchesCharset(const std::string& text, const char* extra) {
  return std::all_of(text.begin(), text.end(), [extra](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(extra, c) != nullptr;
  });
}

std::optional<ApiError> CheckName(const std::string& value, const std::string& member,
                                  const char* extra, const std::string& pattern) {
  if (MatchesCharset(value, extra)) return std::nullopt;
  return Validation("1 validation error detected: Value '" + value + "' at '" + member +
                    "' failed to satisfy constraint: Member must satisfy regular expression "
                    "pattern: " +
                    pattern);
}

// "name" from a bus name or ARN ("arn:aws:events:r:a:event-bus/name").
std::string BusName(const Json& input, const char* member = "EventBusName") {
  std::string value = input.value(member, "default");
  size_t at = value.find(":event-bus/");
  if (value.rfind("arn:", 0) == 0 && at != std::string::npos) return value.substr(at + 11);
  return value;
}

using BusKey = std::tuple<std::string, std::string, std::string>;  // acct, region, bus
using RuleKey = std::tuple<std::string, std::string, std::string, std::string>;  // + rule
using NamedKey = std::tuple<std::string, std::string, std::string>;  // acct, region, name

struct Rule {
  Json doc;  // API fields + Targets + Tags; the firing state in _anchor / _lastFired (micros)
  std::optional<EventPattern> pattern;
  std::optional<ScheduleExpression> schedule;
  TimerId timer = 0;
  std::optional<TimePoint> next;
};

int64_t Micros(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMicros(int64_t m) { return TimePoint(Duration(m)); }

class EventBridgeImpl final : public EventBridge {
 public:
  EventBridgeImpl(Store& store, Journal& journal, Clock& clock, Random random, EventBus& bus,
                  Delivery& delivery)
      : store_(store),
        journal_(journal),
        clock_(clock),
        random_(random),
        bus_(bus),
        delivery_(delivery) {}
  ~EventBridgeImpl() override {
    bus_.Unsubscribe(subscription_);
    for (auto& [key, rule] : rules_) {
      if (rule.timer) clock_.Cancel(rule.timer);
    }
  }

  Status Open() {
    US_RETURN_IF_ERROR(store_.Migrate(
        "events",
        {"CREATE TABLE events_docs (kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT "
         "NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, account, region, "
         "key));"}));
    Status loaded = Status::Ok();
    US_RETURN_IF_ERROR(store_.Query(
        "SELECT kind, account, region, key, doc FROM events_docs ORDER BY kind, account, region, "
        "key",
        {}, [&](const SqlRow& row) {
          auto doc = ParseJson(row.Text(4));
          if (!doc.ok()) {
            loaded = doc.status();
            return;
          }
          std::string kind = row.Text(0);
          std::string account = row.Text(1), region = row.Text(2), key = row.Text(3);
          if (kind == "bus") {
            buses_[{account, region, key}] = *doc;
          } else if (kind == "connection") {
            connections_[{account, region, key}] = *doc;
          } else if (kind == "api-destination") {
            destinations_[{account, region, key}] = *doc;
          } else if (kind == "rule") {
            Rule rule;
            rule.doc = *doc;
            Compile(rule);
            rules_[{account, region, (*doc)["EventBusName"].get<std::string>(),
                    (*doc)["Name"].get<std::string>()}] = std::move(rule);
          }
        }));
    US_RETURN_IF_ERROR(loaded);
    for (auto& [key, rule] : rules_) {
      Index(key);
      Arm(key);
    }
    subscription_ = bus_.Subscribe([this](const Json& event) { OnServiceEvent(event); });
    return Status::Ok();
  }

  void Install(api::FrontDoor& front_door) override {
    auto add = [&](const char* op,
                   ApiResult (EventBridgeImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("events", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("CreateEventBus", &EventBridgeImpl::CreateEventBus);
    add("DescribeEventBus", &EventBridgeImpl::DescribeEventBus);
    add("ListEventBuses", &EventBridgeImpl::ListEventBuses);
    add("DeleteEventBus", &EventBridgeImpl::DeleteEventBus);
    add("PutRule", &EventBridgeImpl::PutRule);
    add("DescribeRule", &EventBridgeImpl::DescribeRule);
    add("ListRules", &EventBridgeImpl::ListRules);
    add("EnableRule", &EventBridgeImpl::EnableRule);
    add("DisableRule", &EventBridgeImpl::DisableRule);
    add("DeleteRule", &EventBridgeImpl::DeleteRule);
    add("PutTargets", &EventBridgeImpl::PutTargets);
    add("RemoveTargets", &EventBridgeImpl::RemoveTargets);
    add("ListTargetsByRule", &EventBridgeImpl::ListTargetsByRule);
    add("ListRuleNamesByTarget", &EventBridgeImpl::ListRuleNamesByTarget);
    add("PutEvents", &EventBridgeImpl::PutEvents);
    add("TestEventPattern", &EventBridgeImpl::TestEventPattern);
    add("TagResource", &EventBridgeImpl::TagResource);
    add("UntagResource", &EventBridgeImpl::UntagResource);
    add("ListTagsForResource", &EventBridgeImpl::ListTagsForResource);
    add("CreateConnection", &EventBridgeImpl::CreateConnection);
    add("DescribeConnection", &EventBridgeImpl::DescribeConnection);
    add("ListConnections", &EventBridgeImpl::ListConnections);
    add("DeleteConnection", &EventBridgeImpl::DeleteConnection);
    add("CreateApiDestination", &EventBridgeImpl::CreateApiDestination);
    add("DescribeApiDestination", &EventBridgeImpl::DescribeApiDestination);
    add("ListApiDestinations", &EventBridgeImpl::ListApiDestinations);
    add("DeleteApiDestination", &EventBridgeImpl::DeleteApiDestination);
  }

  Status Reset() override {
    for (auto& [key, rule] : rules_) {
      if (rule.timer) clock_.Cancel(rule.timer);
    }
    rules_.clear();
    matchers_.clear();
    buses_.clear();
    connections_.clear();
    destinations_.clear();
    return store_.Run("DELETE FROM events_docs");
  }

  Status PutEventOnBus(const std::string& bus_arn, const Json& event) override {
    auto arn = Arn::Parse(bus_arn);
    if (!arn || arn->service != "events" || arn->resource.rfind("event-bus/", 0) != 0) {
      return Status::InvalidArgument("not an event bus ARN: " + bus_arn);
    }
    Scope scope{arn->account, arn->region};
    std::string bus = arn->resource.substr(10);
    if (!BusExists(scope, bus)) return Status::NotFound("Event bus " + bus + " does not exist.");
    if (!event.is_object()) return Status::InvalidArgument("an event is a JSON object");
    Ingest(scope, bus, event, hops_ + 1);
    return Status::Ok();
  }

  Result<HttpCall> ApiDestinationCall(const Scope& scope, const std::string& arn,
                                      const std::string& body) override {
    auto parsed = Arn::Parse(arn);
    if (!parsed) return Status::NotFound("API destination " + arn + " does not exist.");
    std::string rest = parsed->resource.substr(16);  // after "api-destination/"
    std::string name = rest.substr(0, rest.find('/'));
    auto it = destinations_.find({parsed->account, parsed->region, name});
    if (it == destinations_.end())
      return Status::NotFound("API destination " + name + " does not exist.");
    const Json& destination = it->second;
    HttpCall call;
    call.method = destination.value("HttpMethod", "POST");
    call.url = destination.value("InvocationEndpoint", "");
    call.body = body;
    auto connection_arn = Arn::Parse(destination.value("ConnectionArn", ""));
    if (connection_arn) {
      std::string crest = connection_arn->resource.substr(11);  // after "connection/"
      auto c = connections_.find(
          {connection_arn->account, connection_arn->region, crest.substr(0, crest.find('/'))});
      if (c != connections_.end()) {
        const Json& auth = c->second.value("AuthParameters", Json::object());
        if (auth.contains("ApiKeyAuthParameters")) {
          call.headers.emplace_back(auth["ApiKeyAuthParameters"].value("ApiKeyName", ""),
                                    auth["ApiKeyAuthParameters"].value("ApiKeyValue", ""));
        }
        if (auth.contains("BasicAuthParameters")) {
          const Json& basic = auth["BasicAuthParameters"];
          call.headers.emplace_back("Authorization",
                                    "Basic " + api::Base64Encode(basic.value("Username", "") + ":" +
                                                                 basic.value("Password", "")));
        }
        const Json params = auth.value("InvocationHttpParameters", Json::object());
        for (const auto& header : params.value("HeaderParameters", Json::array())) {
          call.headers.emplace_back(header.value("Key", ""), header.value("Value", ""));
        }
      }
    }
    (void)scope;
    return call;
  }

  Json ScheduleState() const override {
    Json out = Json::array();
    for (const auto& [key, rule] : rules_) {
      const Json& d = rule.doc;
      Json entry{{"kind", "rule"},
                 {"name", d["Name"]},
                 {"arn", d["Arn"]},
                 {"eventBusName", d["EventBusName"]},
                 {"account", std::get<0>(key)},
                 {"region", std::get<1>(key)},
                 {"state", d["State"]},
                 {"targets", d.value("Targets", Json::array()).size()}};
      if (d.contains("ScheduleExpression")) entry["scheduleExpression"] = d["ScheduleExpression"];
      if (d.contains("EventPattern")) entry["eventPattern"] = d["EventPattern"];
      if (rule.next) {
        Json times = Json::array();
        TimePoint at = *rule.next;
        TimePoint anchor = FromMicros(d.value("_anchor", int64_t{0}));
        for (int i = 0; i < 5; ++i) {
          times.push_back(FormatIso8601(at));
          auto next = rule.schedule->NextFire(at, anchor, TimeZone::Utc());
          if (!next) break;
          at = *next;
        }
        entry["nextFireTimes"] = times;
      }
      if (d.contains("_lastFired")) entry["lastFired"] = FormatIso8601(FromMicros(d["_lastFired"]));
      out.push_back(entry);
    }
    return out;
  }

  Status FireNow(const std::string& name_or_arn) override {
    for (auto& [key, rule] : rules_) {
      if (rule.doc["Name"] == name_or_arn || rule.doc["Arn"] == name_or_arn) {
        Scope scope{std::get<0>(key), std::get<1>(key)};
        Json event = ScheduledEvent(scope, rule, clock_.Now());
        journal_.Transition("events." + rule.doc["Arn"].get<std::string>(),
                            Json{{"firedNow", EventTime(clock_.Now())}});
        DeliverToTargets(scope, rule, event);
        return Status::Ok();
      }
    }
    return Status::NotFound("no rule named " + name_or_arn);
  }

  std::optional<TimePoint> NextFireTime() const override {
    std::optional<TimePoint> best;
    for (const auto& [key, rule] : rules_) {
      if (rule.next && (!best || *rule.next < *best)) best = rule.next;
    }
    return best;
  }

 private:
  // ---- storage ----
  Status Save(const std::string& kind, const Scope& scope, const std::string& key,
              const Json& doc) {
    return store_.Run(
        "INSERT OR REPLACE INTO events_docs(kind, account, region, key, doc) VALUES(?1, ?2, ?3, "
        "?4, ?5)",
        {kind, scope.account, scope.region, key, doc.dump()});
  }
  Status Drop(const std::string& kind, const Scope& scope, const std::string& key) {
    return store_.Run(
        "DELETE FROM events_docs WHERE kind = ?1 AND account = ?2 AND region = ?3 AND key = ?4",
        {kind, scope.account, scope.region, key});
  }
  static std::string RuleStoreKey(const std::string& bus, const std::string& name) {
    return bus + "|" + name;
  }
  Status SaveRule(const Scope& scope, const Rule& rule) {
    return Save("rule", scope, RuleStoreKey(rule.doc["EventBusName"], rule.doc["Name"]), rule.doc);
  }

  // ---- buses ----
  bool BusExists(const Scope& scope, const std::string& bus) const {
    return bus == "default" || buses_.count({scope.account, scope.region, bus}) > 0;
  }
  std::string BusArn(const Scope& scope, const std::string& bus) const {
    return MakeArn("events", scope, "event-bus/" + bus);
  }
  std::string RuleArn(const Scope& scope, const std::string& bus, const std::string& name) const {
    return MakeArn("events", scope, bus == "default" ? "rule/" + name : "rule/" + bus + "/" + name);
  }
  ApiError BusNotFound(const std::string& bus) const {
    return NotFound("Event bus " + bus + " does not exist.");
  }
  ApiError RuleNotFound(const std::string& rule, const std::string& bus) const {
    return NotFound("Rule " + rule + " does not exist on EventBus " + bus + ".");
  }

  ApiResult CreateEventBus(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (auto bad = CheckName(name, "name", "/._-", "[/\\.\\-_A-Za-z0-9]+")) return *bad;
    if (BusExists(scope, name)) {
      return ApiError::Client("ResourceAlreadyExistsException",
                              "Event bus " + name + " already exists.");
    }
    double now = ToEpochSeconds(clock_.Now());
    Json doc{{"Name", name},
             {"Arn", BusArn(scope, name)},
             {"CreationTime", now},
             {"LastModifiedTime", now},
             {"Tags", input.value("Tags", Json::array())}};
    if (input.contains("Description")) doc["Description"] = input["Description"];
    US_RETURN_IF_ERROR_API(Save("bus", scope, name, doc));
    buses_[{scope.account, scope.region, name}] = doc;
    return Json{{"EventBusArn", doc["Arn"]}};
  }

  Json BusView(const Scope& scope, const std::string& name) const {
    auto it = buses_.find({scope.account, scope.region, name});
    if (it == buses_.end()) return Json{{"Name", name}, {"Arn", BusArn(scope, name)}};
    Json view = it->second;
    view.erase("Tags");
    return view;
  }

  ApiResult DescribeEventBus(const Scope& scope, const Json& input) {
    std::string name = BusName(input, "Name");
    if (!BusExists(scope, name)) return BusNotFound(name);
    return BusView(scope, name);
  }

  ApiResult ListEventBuses(const Scope& scope, const Json& input) {
    std::string prefix = input.value("NamePrefix", "");
    std::vector<std::string> names = {"default"};
    for (const auto& [key, doc] : buses_) {
      if (std::get<0>(key) == scope.account && std::get<1>(key) == scope.region) {
        names.push_back(std::get<2>(key));
      }
    }
    std::sort(names.begin(), names.end());
    Json all = Json::array();
    for (const auto& name : names) {
      if (name.rfind(prefix, 0) == 0) all.push_back(BusView(scope, name));
    }
    return Page(all, input, "EventBuses");
  }

  ApiResult DeleteEventBus(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (name == "default") return Validation("Cannot delete event bus default.");
    if (!BusExists(scope, name)) return Json::object();
    for (auto it = rules_.begin(); it != rules_.end();) {
      const auto& [account, region, bus, rule] = it->first;
      if (account == scope.account && region == scope.region && bus == name) {
        US_RETURN_IF_ERROR_API(Drop("rule", scope, RuleStoreKey(bus, rule)));
        if (it->second.timer) clock_.Cancel(it->second.timer);
        it = rules_.erase(it);
      } else {
        ++it;
      }
    }
    matchers_.erase({scope.account, scope.region, name});
    US_RETURN_IF_ERROR_API(Drop("bus", scope, name));
    buses_.erase({scope.account, scope.region, name});
    return Json::object();
  }

  // ---- rules ----
  // Parses the rule's pattern and schedule (stored ones were valid when put).
  void Compile(Rule& rule) {
    rule.pattern.reset();
    rule.schedule.reset();
    if (rule.doc.contains("EventPattern")) {
      auto pattern = EventPattern::Parse(rule.doc["EventPattern"].get<std::string>());
      if (pattern.ok()) rule.pattern = std::move(pattern).value();
    }
    if (rule.doc.contains("ScheduleExpression")) {
      auto schedule = ScheduleExpression::Parse(rule.doc["ScheduleExpression"].get<std::string>(),
                                                ScheduleFlavor::kRule);
      if (schedule.ok()) rule.schedule = std::move(schedule).value();
    }
  }

  // Keeps the bus's matcher in step with the rule (enabled pattern rules only).
  void Index(const RuleKey& key) {
    const auto& [account, region, bus, name] = key;
    auto& matcher = matchers_[{account, region, bus}];
    auto it = rules_.find(key);
    if (it == rules_.end() || !it->second.pattern || it->second.doc["State"] != "ENABLED") {
      matcher.Remove(name);
      return;
    }
    matcher.Add(name, *it->second.pattern);
  }

  // Sets the rule's timer for its next firing (none when disabled or unscheduled).
  void Arm(const RuleKey& key) {
    Rule& rule = rules_.at(key);
    if (rule.timer) clock_.Cancel(rule.timer);
    rule.timer = 0;
    rule.next.reset();
    if (!rule.schedule || rule.doc["State"] != "ENABLED") return;
    TimePoint anchor = FromMicros(rule.doc.value("_anchor", int64_t{0}));
    TimePoint after = rule.doc.contains("_lastFired") ? FromMicros(rule.doc["_lastFired"]) : anchor;
    // Firings missed while the emulator was down still run; those a rule missed while
    // disabled (or before it was put again) do not.
    if (rule.doc.contains("_skipUntil")) {
      after = std::max(after, FromMicros(rule.doc["_skipUntil"].get<int64_t>()));
    }
    auto next = rule.schedule->NextFire(after, anchor, TimeZone::Utc());
    if (!next) return;
    rule.next = next;
    rule.timer = clock_.Schedule(
        *next, [this, key, at = *next] { Fire(key, at); },
        "events rule " + rule.doc["Arn"].get<std::string>());
  }

  void Fire(const RuleKey& key, TimePoint at) {
    // One transaction for the firing and its deliveries' writes: one commit, not one each.
    Status done = store_.Transaction([&] {
      FireInTransaction(key, at);
      return Status::Ok();
    });
    if (!done.ok()) Log(LogLevel::kError, "events: " + done.message());
  }

  void FireInTransaction(const RuleKey& key, TimePoint at) {
    auto it = rules_.find(key);
    if (it == rules_.end()) return;
    Rule& rule = it->second;
    rule.timer = 0;
    Scope scope{std::get<0>(key), std::get<1>(key)};
    // Stored before the targets run: a restart after this point does not fire it again.
    rule.doc["_lastFired"] = Micros(at);
    Status saved = SaveRule(scope, rule);
    if (!saved.ok()) Log(LogLevel::kError, "events: cannot store a firing: " + saved.message());
    journal_.Transition("events." + rule.doc["Arn"].get<std::string>(),
                        Json{{"fired", EventTime(at)}});
    Json event = ScheduledEvent(scope, rule, at);
    DeliverToTargets(scope, rule, event);
    if (rules_.count(key)) Arm(key);
  }

  Json Envelope(const Scope& scope, const std::string& source, const std::string& detail_type,
                Json detail, Json resources, TimePoint at) {
    return Json{{"version", "0"},
                {"id", NewEventId()},
                {"detail-type", detail_type},
                {"source", source},
                {"account", scope.account},
                {"time", EventTime(at)},
                {"region", scope.region},
                {"resources", resources.is_array() ? resources : Json::array()},
                {"detail", std::move(detail)}};
  }

  // A v4 UUID from the run's seed, distinct across restarts: the stream is named by the
  // journal's position (which continues after a restart) and a counter.
  std::string NewEventId() {
    return random_
        .Fork("event " + std::to_string(journal_.last_seq()) + " " +
              std::to_string(++event_counter_))
        .Uuid();
  }

  Json ScheduledEvent(const Scope& scope, const Rule& rule, TimePoint at) {
    return Envelope(scope, "aws.events", "Scheduled Event", Json::object(),
                    Json::array({rule.doc["Arn"]}), at);
  }

  void DeliverToTargets(const Scope& scope, const Rule& rule, const Json& event) {
    std::string rule_arn = rule.doc["Arn"];
    std::string rule_name = rule.doc["Name"];
    auto predefined = RulePredefinedValues(event, rule_arn, rule_name, EventTime(clock_.Now()));
    for (const auto& target : rule.doc.value("Targets", Json::array())) {
      DeliveryRequest request;
      request.scope = scope;
      request.source_kind = "rule";
      request.source_arn = rule_arn;
      request.source_name = rule_name;
      request.target = target;
      request.input = TargetInputFor(target, event, predefined);
      request.event = event;
      request.started_by = "events-rule/" + rule_name;
      delivery_.Deliver(std::move(request));
    }
  }

  // Runs the rules of `bus` whose patterns match `event`.
  void Ingest(const Scope& scope, const std::string& bus, const Json& event, int hops) {
    if (hops > kMaxBusHops) {
      Log(LogLevel::kWarn, "events: an event went round more than " + std::to_string(kMaxBusHops) +
                               " buses; dropped");
      return;
    }
    auto matcher = matchers_.find({scope.account, scope.region, bus});
    if (matcher == matchers_.end() || matcher->second.size() == 0) return;
    int saved_hops = hops_;
    hops_ = hops;
    for (const std::string& name : matcher->second.Match(event)) {
      auto it = rules_.find({scope.account, scope.region, bus, name});
      if (it == rules_.end()) continue;
      DeliverToTargets(scope, it->second, event);
    }
    hops_ = saved_hops;
  }

  void OnServiceEvent(const Json& event) {
    if (!event.is_object()) return;
    Scope scope{event.value("account", std::string(kDefaultAccountId)),
                event.value("region", std::string(kDefaultRegion))};
    Json clean = event;
    clean.erase("seq");
    Ingest(scope, "default", clean, 0);
  }

  Rule* FindRule(const Scope& scope, const std::string& bus, const std::string& name) {
    auto it = rules_.find({scope.account, scope.region, bus, name});
    return it == rules_.end() ? nullptr : &it->second;
  }

  ApiResult PutRule(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (auto bad = CheckName(name, "name", "._-", "[\\.\\-_A-Za-z0-9]+")) return *bad;
    std::string bus = BusName(input);
    if (!BusExists(scope, bus)) return BusNotFound(bus);
    if (!input.contains("EventPattern") && !input.contains("ScheduleExpression")) {
      return Validation("Parameter(s) EventPattern or ScheduleExpression must be specified.");
    }
    Rule rule;
    if (input.contains("EventPattern")) {
      auto pattern = EventPattern::Parse(input["EventPattern"].get<std::string>());
      if (!pattern.ok()) return PatternError(pattern.status().message());
      rule.pattern = std::move(pattern).value();
    }
    if (input.contains("ScheduleExpression")) {
      std::string text = input["ScheduleExpression"].get<std::string>();
      auto schedule = ScheduleExpression::Parse(text, ScheduleFlavor::kRule);
      if (!schedule.ok()) return Validation(schedule.status().message());
      if (bus != "default") {
        return Validation("ScheduleExpression is supported only on the default event bus.");
      }
      rule.schedule = std::move(schedule).value();
    }
    std::string state = input.value("State", "ENABLED");
    if (state != "ENABLED" && state != "DISABLED") {
      return Validation("1 validation error detected: Value '" + state +
                        "' at 'state' failed to satisfy constraint: Member must satisfy enum "
                        "value set: [ENABLED, DISABLED]");
    }
    RuleKey key{scope.account, scope.region, bus, name};
    Rule* existing = FindRule(scope, bus, name);
    // PutRule replaces the rule: omitted fields are gone; targets and tags stay.
    Json doc{{"Name", name},
             {"Arn", RuleArn(scope, bus, name)},
             {"EventBusName", bus},
             {"State", state},
             {"CreatedBy", scope.account}};
    for (const char* field : {"EventPattern", "ScheduleExpression", "Description", "RoleArn"}) {
      if (input.contains(field)) doc[field] = input[field];
    }
    doc["Targets"] = existing ? existing->doc.value("Targets", Json::array()) : Json::array();
    Json tags = existing ? existing->doc.value("Tags", Json::array()) : Json::array();
    MergeTags(tags, input.value("Tags", Json::array()));
    doc["Tags"] = tags;
    // A rate keeps its anchor while the expression stays the same, as does the last firing.
    bool same_schedule = existing && existing->doc.value("ScheduleExpression", "") ==
                                         doc.value("ScheduleExpression", "");
    doc["_anchor"] =
        same_schedule ? existing->doc.value("_anchor", Micros(clock_.Now())) : Micros(clock_.Now());
    if (same_schedule && existing->doc.contains("_lastFired")) {
      doc["_lastFired"] = existing->doc["_lastFired"];
    }
    if (existing) doc["_skipUntil"] = Micros(clock_.Now());
    rule.doc = doc;
    US_RETURN_IF_ERROR_API(SaveRule(scope, rule));
    if (existing && existing->timer) clock_.Cancel(existing->timer);
    rules_[key] = std::move(rule);
    Index(key);
    Arm(key);
    return Json{{"RuleArn", doc["Arn"]}};
  }

  static Json PublicRule(const Json& doc) {
    Json out = Json::object();
    for (const char* field : {"Name", "Arn", "EventPattern", "ScheduleExpression", "State",
                              "Description", "RoleArn", "EventBusName"}) {
      if (doc.contains(field)) out[field] = doc[field];
    }
    return out;
  }

  ApiResult DescribeRule(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string name = input["Name"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return RuleNotFound(name, bus);
    Json out = PublicRule(rule->doc);
    out["CreatedBy"] = rule->doc.value("CreatedBy", scope.account);
    return out;
  }

  ApiResult ListRules(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    if (!BusExists(scope, bus)) return BusNotFound(bus);
    std::string prefix = input.value("NamePrefix", "");
    Json all = Json::array();
    for (const auto& [key, rule] : rules_) {
      const auto& [account, region, rule_bus, name] = key;
      if (account == scope.account && region == scope.region && rule_bus == bus &&
          name.rfind(prefix, 0) == 0) {
        all.push_back(PublicRule(rule.doc));
      }
    }
    return Page(all, input, "Rules");
  }

  ApiResult SetState(const Scope& scope, const Json& input, const char* state) {
    std::string bus = BusName(input);
    std::string name = input["Name"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return RuleNotFound(name, bus);
    if (rule->doc["State"] != state) rule->doc["_skipUntil"] = Micros(clock_.Now());
    rule->doc["State"] = state;
    US_RETURN_IF_ERROR_API(SaveRule(scope, *rule));
    RuleKey key{scope.account, scope.region, bus, name};
    Index(key);
    Arm(key);
    return Json::object();
  }
  ApiResult EnableRule(const Scope& scope, const Json& input) {
    return SetState(scope, input, "ENABLED");
  }
  ApiResult DisableRule(const Scope& scope, const Json& input) {
    return SetState(scope, input, "DISABLED");
  }

  ApiResult DeleteRule(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string name = input["Name"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return Json::object();
    if (!rule->doc.value("Targets", Json::array()).empty()) {
      return Validation("Rule can't be deleted since it has targets.");
    }
    US_RETURN_IF_ERROR_API(Drop("rule", scope, RuleStoreKey(bus, name)));
    if (rule->timer) clock_.Cancel(rule->timer);
    RuleKey key{scope.account, scope.region, bus, name};
    rules_.erase(key);
    Index(key);
    return Json::object();
  }

  // Target checks PutTargets reports per entry (nothing for a target that is fine).
  std::optional<std::string> TargetProblem(const Json& target) const {
    std::string id = target["Id"].get<std::string>();
    std::string arn = target.value("Arn", "");
    auto parsed = Arn::Parse(arn);
    if (!parsed)
      return "Parameter " + arn + " is not valid. Reason: Provided Arn is not in correct format.";
    if (parsed->service == "ecs") {
      if (parsed->resource.rfind("cluster/", 0) != 0) {
        return "Parameter " + arn + " is not valid. Reason: Provided Arn is not in correct format.";
      }
      if (!target.contains("RoleArn")) {
        return "Parameter(s) RoleArn must be specified for target: " + id + ".";
      }
      if (!target.contains("EcsParameters")) {
        return "Parameter(s) EcsParameters must be specified for target: " + id + ".";
      }
      const Json& ecs = target["EcsParameters"];
      if (ecs.value("LaunchType", "") == "FARGATE" && !ecs.contains("NetworkConfiguration")) {
        return "Parameter(s) NetworkConfiguration must be specified for target: " + id + ".";
      }
      if (ecs.value("TaskCount", int64_t{1}) > 10) {
        return "Parameter TaskCount is not valid. Reason: TaskCount must be between 1 and 10.";
      }
    }
    return std::nullopt;
  }

  ApiResult PutTargets(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string name = input["Rule"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return RuleNotFound(name, bus);
    const Json& targets = input["Targets"];
    for (const auto& target : targets) {
      std::string id = target["Id"].get<std::string>();
      if (auto bad = CheckName(id, "targets.member.id", "._-", "[\\.\\-_A-Za-z0-9]+")) return *bad;
      if (auto problem = ValidateTargetInput(target)) return Validation(*problem);
    }
    Json current = rule->doc.value("Targets", Json::array());
    Json failed = Json::array();
    std::vector<Json> accepted;
    for (const auto& target : targets) {
      if (auto problem = TargetProblem(target)) {
        failed.push_back(Json{{"TargetId", target["Id"]},
                              {"ErrorCode", "ValidationException"},
                              {"ErrorMessage", *problem}});
        continue;
      }
      accepted.push_back(target);
    }
    Json updated = current;
    for (const Json& target : accepted) {
      auto same = std::find_if(updated.begin(), updated.end(),
                               [&](const Json& t) { return t["Id"] == target["Id"]; });
      if (same != updated.end()) {
        *same = target;
      } else {
        updated.push_back(target);
      }
    }
    if (updated.size() > kMaxTargets) {
      return ApiError::Client("LimitExceededException",
                              "The requested resource exceeds the maximum number allowed.");
    }
    rule->doc["Targets"] = updated;
    Status saved = SaveRule(scope, *rule);
    if (!saved.ok()) {
      rule->doc["Targets"] = current;
      return ApiError::Server("InternalException", saved.message());
    }
    return Json{{"FailedEntryCount", failed.size()}, {"FailedEntries", failed}};
  }

  ApiResult RemoveTargets(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string name = input["Rule"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return RuleNotFound(name, bus);
    std::set<std::string> ids;
    for (const auto& id : input["Ids"]) ids.insert(id.get<std::string>());
    Json current = rule->doc.value("Targets", Json::array());
    Json kept = Json::array();
    for (const auto& target : current) {
      if (!ids.count(target["Id"].get<std::string>())) kept.push_back(target);
    }
    rule->doc["Targets"] = kept;
    Status saved = SaveRule(scope, *rule);
    if (!saved.ok()) {
      rule->doc["Targets"] = current;
      return ApiError::Server("InternalException", saved.message());
    }
    return Json{{"FailedEntryCount", 0}, {"FailedEntries", Json::array()}};
  }

  ApiResult ListTargetsByRule(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string name = input["Rule"].get<std::string>();
    Rule* rule = FindRule(scope, bus, name);
    if (rule == nullptr) return RuleNotFound(name, bus);
    return Page(rule->doc.value("Targets", Json::array()), input, "Targets");
  }

  ApiResult ListRuleNamesByTarget(const Scope& scope, const Json& input) {
    std::string bus = BusName(input);
    std::string arn = input["TargetArn"].get<std::string>();
    Json names = Json::array();
    for (const auto& [key, rule] : rules_) {
      const auto& [account, region, rule_bus, name] = key;
      if (account != scope.account || region != scope.region || rule_bus != bus) continue;
      for (const auto& target : rule.doc.value("Targets", Json::array())) {
        if (target.value("Arn", "") == arn) {
          names.push_back(name);
          break;
        }
      }
    }
    return Page(names, input, "RuleNames");
  }

  static ApiResult Page(const Json& all, const Json& input, const char* member) {
    return OffsetPage(all, input, member, "Limit",
                      Validation("The nextToken provided is invalid."));
  }

  // ---- events ----
  ApiResult PutEvents(const Scope& scope, const Json& input) {
    const Json& entries = input["Entries"];
    size_t total = 0;
    for (const auto& entry : entries) {
      if (entry.contains("Time")) total += 14;
      total += entry.value("Source", "").size() + entry.value("DetailType", "").size() +
               entry.value("Detail", "").size();
      for (const auto& resource : entry.value("Resources", Json::array())) {
        total += resource.get<std::string>().size();
      }
    }
    if (total > kMaxPutEventsBytes) {
      return Validation("Total size of the entries in the request is over the limit.");
    }
    Json results = Json::array();
    int failed = 0;
    std::vector<std::pair<std::string, Json>> accepted;
    for (const auto& entry : entries) {
      auto fail = [&](const std::string& code, const std::string& message) {
        results.push_back(Json{{"ErrorCode", code}, {"ErrorMessage", message}});
        ++failed;
      };
      if (!entry.contains("Source")) {
        fail("InvalidArgument",
             "Parameter Source is not valid. Reason: Source is a required argument.");
        continue;
      }
      if (!entry.contains("DetailType")) {
        fail("InvalidArgument",
             "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
        continue;
      }
      if (!entry.contains("Detail")) {
        fail("InvalidArgument",
             "Parameter Detail is not valid. Reason: Detail is a required argument.");
        continue;
      }
      auto detail = ParseJson(entry["Detail"].get<std::string>());
      if (!detail.ok() || !detail->is_object()) {
        fail("MalformedDetail", "Detail is malformed.");
        continue;
      }
      std::string source = entry["Source"].get<std::string>();
      if (source.rfind("aws.", 0) == 0) {
        fail("NotAuthorizedForSourceException", "Not authorized for the source.");
        continue;
      }
      std::string bus = BusName(entry);
      if (!BusExists(scope, bus)) {
        fail("ResourceNotFoundException", "Event bus " + bus + " does not exist.");
        continue;
      }
      TimePoint at =
          entry.contains("Time") ? FromEpochSeconds(entry["Time"].get<double>()) : clock_.Now();
      Json event = Envelope(scope, source, entry["DetailType"].get<std::string>(), *detail,
                            entry.value("Resources", Json::array()), at);
      results.push_back(Json{{"EventId", event["id"]}});
      accepted.emplace_back(bus, std::move(event));
    }
    for (const auto& [bus, event] : accepted) Ingest(scope, bus, event, 0);
    return Json{{"FailedEntryCount", failed}, {"Entries", results}};
  }

  ApiResult TestEventPattern(const Scope&, const Json& input) {
    auto pattern = EventPattern::Parse(input["EventPattern"].get<std::string>());
    if (!pattern.ok()) return PatternError(pattern.status().message());
    auto event = ParseJson(input["Event"].get<std::string>());
    if (!event.ok() || !event->is_object()) return Validation("Parameter Event is not valid.");
    for (const char* field : {"id", "account", "source", "time", "region", "detail-type"}) {
      if (!event->contains(field)) return Validation("Parameter Event is not valid.");
    }
    return Json{{"Result", pattern->Matches(*event)}};
  }

  // ---- tags ----
  static void MergeTags(Json& tags, const Json& added) {
    for (const auto& tag : added) {
      auto same = std::find_if(tags.begin(), tags.end(),
                               [&](const Json& t) { return t["Key"] == tag["Key"]; });
      if (same != tags.end()) {
        (*same)["Value"] = tag["Value"];
      } else {
        tags.push_back(tag);
      }
    }
  }

  // The stored document an ARN names (a rule or a bus), and how to save it.
  Result<std::pair<Json*, std::function<Status()>>> Tagged(const Scope& scope,
                                                           const std::string& arn_text) {
    auto arn = Arn::Parse(arn_text);
    if (!arn || arn->service != "events")
      return Status::NotFound("Resource " + arn_text + " not found.");
    Scope owner{arn->account, arn->region};
    (void)scope;
    if (arn->resource.rfind("rule/", 0) == 0) {
      std::string rest = arn->resource.substr(5);
      size_t slash = rest.find('/');
      std::string bus = slash == std::string::npos ? "default" : rest.substr(0, slash);
      std::string name = slash == std::string::npos ? rest : rest.substr(slash + 1);
      Rule* rule = FindRule(owner, bus, name);
      if (rule == nullptr) {
        return Status::NotFound("Rule " + name + " does not exist on EventBus " + bus + ".");
      }
      return std::make_pair(&rule->doc, std::function<Status()>([this, owner, rule] {
        return SaveRule(owner, *rule);
      }));
    }
    if (arn->resource.rfind("event-bus/", 0) == 0) {
      std::string name = arn->resource.substr(10);
      auto it = buses_.find({owner.account, owner.region, name});
      if (it == buses_.end()) return Status::NotFound("Event bus " + name + " does not exist.");
      Json* doc = &it->second;
      return std::make_pair(doc, std::function<Status()>([this, owner, name, doc] {
                              return Save("bus", owner, name, *doc);
                            }));
    }
    return Status::NotFound("Resource " + arn_text + " not found.");
  }

  ApiResult TagResource(const Scope& scope, const Json& input) {
    auto found = Tagged(scope, input["ResourceARN"].get<std::string>());
    if (!found.ok()) return NotFound(found.status().message());
    auto [doc, save] = *found;
    Json before = doc->value("Tags", Json::array());
    Json tags = before;
    MergeTags(tags, input["Tags"]);
    (*doc)["Tags"] = tags;
    Status saved = save();
    if (!saved.ok()) {
      (*doc)["Tags"] = before;
      return ApiError::Server("InternalException", saved.message());
    }
    return Json::object();
  }

  ApiResult UntagResource(const Scope& scope, const Json& input) {
    auto found = Tagged(scope, input["ResourceARN"].get<std::string>());
    if (!found.ok()) return NotFound(found.status().message());
    auto [doc, save] = *found;
    std::set<std::string> keys;
    for (const auto& key : input["TagKeys"]) keys.insert(key.get<std::string>());
    Json before = doc->value("Tags", Json::array());
    Json tags = Json::array();
    for (const auto& tag : before) {
      if (!keys.count(tag["Key"].get<std::string>())) tags.push_back(tag);
    }
    (*doc)["Tags"] = tags;
    Status saved = save();
    if (!saved.ok()) {
      (*doc)["Tags"] = before;
      return ApiError::Server("InternalException", saved.message());
    }
    return Json::object();
  }

  ApiResult ListTagsForResource(const Scope& scope, const Json& input) {
    auto found = Tagged(scope, input["ResourceARN"].get<std::string>());
    if (!found.ok()) return NotFound(found.status().message());
    return Json{{"Tags", found->first->value("Tags", Json::array())}};
  }

  // ---- connections and API destinations ----
  ApiError ConnectionNotFound(const std::string& name) const {
    return NotFound("Failed to describe the connection(s). Connection '" + name +
                    "' does not exist.");
  }

  ApiResult CreateConnection(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (auto bad = CheckName(name, "name", "._-", "[\\.\\-_A-Za-z0-9]+")) return *bad;
    if (connections_.count({scope.account, scope.region, name})) {
      return ApiError::Client("ResourceAlreadyExistsException",
                              "Connection " + name + " already exists.");
    }
    std::string type = input["AuthorizationType"].get<std::string>();
    const Json& auth = input["AuthParameters"];
    const char* needed = type == "API_KEY" ? "ApiKeyAuthParameters"
                         : type == "BASIC" ? "BasicAuthParameters"
                                           : "OAuthParameters";
    if (!auth.contains(needed)) {
      return Validation("The request failed because " + type +
                        " authorization parameters are missing.");
    }
    double now = ToEpochSeconds(clock_.Now());
    std::string uuid = random_.Uuid();
    Json doc{{"Name", name},
             {"ConnectionArn", MakeArn("events", scope, "connection/" + name + "/" + uuid)},
             {"ConnectionState", "AUTHORIZED"},
             {"AuthorizationType", type},
             {"AuthParameters", auth},
             {"SecretArn",
              MakeArn("secretsmanager", scope, "secret:events!connection/" + name + "/" + uuid)},
             {"CreationTime", now},
             {"LastModifiedTime", now},
             {"LastAuthorizedTime", now}};
    if (input.contains("Description")) doc["Description"] = input["Description"];
    US_RETURN_IF_ERROR_API(Save("connection", scope, name, doc));
    connections_[{scope.account, scope.region, name}] = doc;
    return Json{{"ConnectionArn", doc["ConnectionArn"]},
                {"ConnectionState", "AUTHORIZED"},
                {"CreationTime", now},
                {"LastModifiedTime", now}};
  }

  // A connection as Describe shows it: secrets left out.
  static Json ConnectionView(const Json& doc) {
    Json view = doc;
    Json& auth = view["AuthParameters"];
    if (auth.contains("ApiKeyAuthParameters")) auth["ApiKeyAuthParameters"].erase("ApiKeyValue");
    if (auth.contains("BasicAuthParameters")) auth["BasicAuthParameters"].erase("Password");
    if (auth.contains("OAuthParameters") && auth["OAuthParameters"].contains("ClientParameters")) {
      auth["OAuthParameters"]["ClientParameters"].erase("ClientSecret");
    }
    return view;
  }

  ApiResult DescribeConnection(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    auto it = connections_.find({scope.account, scope.region, name});
    if (it == connections_.end()) return ConnectionNotFound(name);
    return ConnectionView(it->second);
  }

  ApiResult ListConnections(const Scope& scope, const Json& input) {
    std::string prefix = input.value("NamePrefix", "");
    Json all = Json::array();
    for (const auto& [key, doc] : connections_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      if (std::get<2>(key).rfind(prefix, 0) != 0) continue;
      Json view = ConnectionView(doc);
      view.erase("AuthParameters");
      view.erase("SecretArn");
      all.push_back(view);
    }
    return Page(all, input, "Connections");
  }

  ApiResult DeleteConnection(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    auto it = connections_.find({scope.account, scope.region, name});
    if (it == connections_.end()) return ConnectionNotFound(name);
    Json doc = it->second;
    US_RETURN_IF_ERROR_API(Drop("connection", scope, name));
    connections_.erase(it);
    return Json{{"ConnectionArn", doc["ConnectionArn"]},
                {"ConnectionState", "DELETING"},
                {"CreationTime", doc["CreationTime"]},
                {"LastModifiedTime", doc["LastModifiedTime"]},
                {"LastAuthorizedTime", doc["LastAuthorizedTime"]}};
  }

  ApiError DestinationNotFound(const std::string& name) const {
    return NotFound("Failed to describe the api-destination(s). An api-destination '" + name +
                    "' does not exist.");
  }

  ApiResult CreateApiDestination(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (auto bad = CheckName(name, "name", "._-", "[\\.\\-_A-Za-z0-9]+")) return *bad;
    if (destinations_.count({scope.account, scope.region, name})) {
      return ApiError::Client("ResourceAlreadyExistsException",
                              "An api-destination " + name + " already exists.");
    }
    std::string connection_arn = input["ConnectionArn"].get<std::string>();
    bool connection_found = false;
    for (const auto& [key, doc] : connections_) {
      if (doc["ConnectionArn"] == connection_arn) connection_found = true;
    }
    if (!connection_found) {
      return NotFound("Connection '" + connection_arn + "' does not exist.");
    }
    std::string endpoint = input["InvocationEndpoint"].get<std::string>();
    if (endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0) {
      return Validation("1 validation error detected: Value '" + endpoint +
                        "' at 'invocationEndpoint' failed to satisfy constraint: Member must "
                        "satisfy regular expression pattern: "
                        "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$");
    }
    double now = ToEpochSeconds(clock_.Now());
    Json doc{{"Name", name},
             {"ApiDestinationArn",
              MakeArn("events", scope, "api-destination/" + name + "/" + random_.Uuid())},
             {"ApiDestinationState", "ACTIVE"},
             {"ConnectionArn", connection_arn},
             {"InvocationEndpoint", endpoint},
             {"HttpMethod", input["HttpMethod"]},
             {"InvocationRateLimitPerSecond", input.value("InvocationRateLimitPerSecond", 300)},
             {"CreationTime", now},
             {"LastModifiedTime", now}};
    if (input.contains("Description")) doc["Description"] = input["Description"];
    US_RETURN_IF_ERROR_API(Save("api-destination", scope, name, doc));
    destinations_[{scope.account, scope.region, name}] = doc;
    return Json{{"ApiDestinationArn", doc["ApiDestinationArn"]},
                {"ApiDestinationState", "ACTIVE"},
                {"CreationTime", now},
                {"LastModifiedTime", now}};
  }

  ApiResult DescribeApiDestination(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    auto it = destinations_.find({scope.account, scope.region, name});
    if (it == destinations_.end()) return DestinationNotFound(name);
    return it->second;
  }

  ApiResult ListApiDestinations(const Scope& scope, const Json& input) {
    std::string prefix = input.value("NamePrefix", "");
    Json all = Json::array();
    for (const auto& [key, doc] : destinations_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      if (std::get<2>(key).rfind(prefix, 0) != 0) continue;
      all.push_back(doc);
    }
    return Page(all, input, "ApiDestinations");
  }

  ApiResult DeleteApiDestination(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    auto it = destinations_.find({scope.account, scope.region, name});
    if (it == destinations_.end()) return DestinationNotFound(name);
    US_RETURN_IF_ERROR_API(Drop("api-destination", scope, name));
    destinations_.erase(it);
    return Json::object();
  }

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  EventBus& bus_;
  Delivery& delivery_;
  uint64_t subscription_ = 0;
  int hops_ = 0;  // buses the event being delivered has crossed
  uint64_t event_counter_ = 0;
  std::map<RuleKey, Rule> rules_;
  std::map<BusKey, PatternMatcher> matchers_;
  std::map<NamedKey, Json> buses_;
  std::map<NamedKey, Json> connections_;
  std::map<NamedKey, Json> destinations_;
};

}  // namespace

Result<std::unique_ptr<EventBridge>> EventBridge::Open(Store& store, Journal& journal, Clock& clock,
                                                       Random random, EventBus& bus,
                                                       Delivery& delivery) {
  auto service = std::make_unique<EventBridgeImpl>(store, journal, clock, random, bus, delivery);
  US_RETURN_IF_ERROR(service->Open());
  return std::unique_ptr<EventBridge>(std::move(service));
}

}  // namespace understudy::events
