#include "events/scheduler.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/log.h"
#include "core/time_zone.h"
#include "events/event_bridge.h"
#include "events/input_transformer.h"
#include "events/offset_paging.h"
#include "events/schedule_expression.h"

namespace understudy::events {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr const char* kUniversalRunTask = "arn:aws:scheduler:::aws-sdk:ecs:runTask";

ApiError Validation(std::string message) {
  return ApiError::Client("ValidationException", std::move(message), 400);
}
ApiError NotFound(std::string message) {
  return ApiError::Client("ResourceNotFoundException", std::move(message), 404);
}
ApiError Conflict(std::string message) {
  return ApiError::Client("ConflictException", std::move(message), 409);
}

bool ValidName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

int64_t Micros(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMicros(int64_t m) { return TimePoint(Duration(m)); }

using GroupKey = std::tuple<std::string, std::string, std::string>;  // account, region, group
using ScheduleKey = std::tuple<std::string, std::string, std::string, std::string>;  // + name

struct Schedule {
  Json doc;  // API fields; firing state in _anchor and _lastScheduled (micros)
  std::optional<ScheduleExpression> expression;
  std::optional<TimeZone> zone;
  TimerId timer = 0;
  std::optional<TimePoint> next_scheduled;  // the scheduled minute
  std::optional<TimePoint> next_invoke;     // with the flexible window's offset
};

class SchedulerImpl final : public Scheduler {
 public:
  SchedulerImpl(Store& store, Journal& journal, Clock& clock, Random random, Delivery& delivery)
      : store_(store), journal_(journal), clock_(clock), random_(random), delivery_(delivery) {}
  ~SchedulerImpl() override {
    for (auto& [key, schedule] : schedules_) {
      if (schedule.timer) clock_.Cancel(schedule.timer);
    }
  }

  Status Open() {
    US_RETURN_IF_ERROR(store_.Migrate(
        "scheduler",
        {"CREATE TABLE scheduler_docs (kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT "
         "NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, account, region, "
         "key));"}));
    Status loaded = Status::Ok();
    US_RETURN_IF_ERROR(store_.Query(
        "SELECT kind, account, region, key, doc FROM scheduler_docs ORDER BY kind, account, "
        "region, key",
        {}, [&](const SqlRow& row) {
          auto doc = ParseJson(row.Text(4));
          if (!doc.ok()) {
            loaded = doc.status();
            return;
          }
          std::string account = row.Text(1), region = row.Text(2);
          if (row.Text(0) == "group") {
            groups_[{account, region, row.Text(3)}] = *doc;
          } else {
            Schedule schedule;
            schedule.doc = *doc;
            Compile(schedule);
            schedules_[{account, region, (*doc)["GroupName"].get<std::string>(),
                        (*doc)["Name"].get<std::string>()}] = std::move(schedule);
          }
        }));
    US_RETURN_IF_ERROR(loaded);
    std::vector<ScheduleKey> keys;
    for (const auto& [key, schedule] : schedules_) keys.push_back(key);
    for (const auto& key : keys) Arm(key);
    return Status::Ok();
  }

  void Install(api::FrontDoor& front_door) override {
    auto add = [&](const char* op, ApiResult (SchedulerImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("scheduler", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("CreateSchedule", &SchedulerImpl::CreateSchedule);
    add("UpdateSchedule", &SchedulerImpl::UpdateSchedule);
    add("GetSchedule", &SchedulerImpl::GetSchedule);
    add("DeleteSchedule", &SchedulerImpl::DeleteSchedule);
    add("ListSchedules", &SchedulerImpl::ListSchedules);
    add("CreateScheduleGroup", &SchedulerImpl::CreateScheduleGroup);
    add("GetScheduleGroup", &SchedulerImpl::GetScheduleGroup);
    add("DeleteScheduleGroup", &SchedulerImpl::DeleteScheduleGroup);
    add("ListScheduleGroups", &SchedulerImpl::ListScheduleGroups);
    add("TagResource", &SchedulerImpl::TagResource);
    add("UntagResource", &SchedulerImpl::UntagResource);
    add("ListTagsForResource", &SchedulerImpl::ListTagsForResource);
  }

  Status Reset() override {
    for (auto& [key, schedule] : schedules_) {
      if (schedule.timer) clock_.Cancel(schedule.timer);
    }
    schedules_.clear();
    groups_.clear();
    return store_.Run("DELETE FROM scheduler_docs");
  }

  Json ScheduleState() const override {
    Json out = Json::array();
    for (const auto& [key, schedule] : schedules_) {
      const Json& d = schedule.doc;
      Json entry{{"kind", "schedule"},
                 {"name", d["Name"]},
                 {"groupName", d["GroupName"]},
                 {"arn", d["Arn"]},
                 {"account", std::get<0>(key)},
                 {"region", std::get<1>(key)},
                 {"state", d["State"]},
                 {"scheduleExpression", d["ScheduleExpression"]},
                 {"scheduleExpressionTimezone", d.value("ScheduleExpressionTimezone", "UTC")},
                 {"targetArn", d["Target"].value("Arn", "")}};
      if (schedule.next_scheduled) {
        Json times = Json::array();
        std::optional<TimePoint> at = schedule.next_scheduled;
        for (int i = 0; i < 5 && at; ++i) {
          times.push_back(FormatIso8601(*at));
          at = NextScheduled(schedule, *at);
        }
        entry["nextFireTimes"] = times;
        entry["nextInvocation"] = FormatIso8601(*schedule.next_invoke);
      }
      if (d.contains("_lastScheduled")) {
        entry["lastFired"] = FormatIso8601(FromMicros(d["_lastScheduled"]));
      }
      out.push_back(entry);
    }
    return out;
  }

  Status FireNow(const std::string& name_or_arn) override {
    for (auto& [key, schedule] : schedules_) {
      if (schedule.doc["Name"] == name_or_arn || schedule.doc["Arn"] == name_or_arn) {
        journal_.Transition("scheduler." + schedule.doc["Arn"].get<std::string>(),
                            Json{{"firedNow", EventTime(clock_.Now())}});
        Invoke(key, schedule, clock_.Now());
        return Status::Ok();
      }
    }
    return Status::NotFound("no schedule named " + name_or_arn);
  }

 private:
  // ---- storage ----
  Status Save(const std::string& kind, const Scope& scope, const std::string& key,
              const Json& doc) {
    return store_.Run(
        "INSERT OR REPLACE INTO scheduler_docs(kind, account, region, key, doc) VALUES(?1, ?2, "
        "?3, ?4, ?5)",
        {kind, scope.account, scope.region, key, doc.dump()});
  }
  Status Drop(const std::string& kind, const Scope& scope, const std::string& key) {
    return store_.Run(
        "DELETE FROM scheduler_docs WHERE kind = ?1 AND account = ?2 AND region = ?3 AND key = ?4",
        {kind, scope.account, scope.region, key});
  }
  Status SaveSchedule(const Scope& scope, const Json& doc) {
    return Save("schedule", scope,
                doc["GroupName"].get<std::string>() + "|" + doc["Name"].get<std::string>(), doc);
  }

  // ---- groups ----
  bool GroupExists(const Scope& scope, const std::string& group) const {
    return group == "default" || groups_.count({scope.account, scope.region, group}) > 0;
  }
  Json GroupView(const Scope& scope, const std::string& name) const {
    auto it = groups_.find({scope.account, scope.region, name});
    if (it != groups_.end()) {
      Json view = it->second;
      view.erase("Tags");
      return view;
    }
    return Json{{"Name", name},
                {"Arn", MakeArn("scheduler", scope, "schedule-group/" + name)},
                {"State", "ACTIVE"},
                {"CreationDate", 0.0},
                {"LastModificationDate", 0.0}};
  }

  ApiResult CreateScheduleGroup(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (!ValidName(name)) {
      return Validation("1 validation error detected: Value '" + name +
                        "' at 'name' failed to satisfy constraint: Member must satisfy regular "
                        "expression pattern: ^[0-9a-zA-Z-_.]+$");
    }
    if (GroupExists(scope, name)) return Conflict("Schedule group " + name + " already exists.");
    double now = ToEpochSeconds(clock_.Now());
    Json doc{{"Name", name},
             {"Arn", MakeArn("scheduler", scope, "schedule-group/" + name)},
             {"State", "ACTIVE"},
             {"CreationDate", now},
             {"LastModificationDate", now},
             {"Tags", input.value("Tags", Json::array())}};
    US_RETURN_IF_ERROR_API(Save("group", scope, name, doc));
    groups_[{scope.account, scope.region, name}] = doc;
    return Json{{"ScheduleGroupArn", doc["Arn"]}};
  }

  ApiResult GetScheduleGroup(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (!GroupExists(scope, name)) return NotFound("Schedule group " + name + " does not exist.");
    return GroupView(scope, name);
  }

  ApiResult DeleteScheduleGroup(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    if (name == "default") return Validation("You cannot delete the default group.");
    if (!GroupExists(scope, name)) return NotFound("Schedule group " + name + " does not exist.");
    for (auto it = schedules_.begin(); it != schedules_.end();) {
      const auto& [account, region, group, schedule] = it->first;
      if (account == scope.account && region == scope.region && group == name) {
        US_RETURN_IF_ERROR_API(Drop("schedule", scope, group + "|" + schedule));
        if (it->second.timer) clock_.Cancel(it->second.timer);
        it = schedules_.erase(it);
      } else {
        ++it;
      }
    }
    US_RETURN_IF_ERROR_API(Drop("group", scope, name));
    groups_.erase({scope.account, scope.region, name});
    return Json::object();
  }

  ApiResult ListScheduleGroups(const Scope& scope, const Json& input) {
    std::string prefix = input.value("NamePrefix", "");
    std::vector<std::string> names = {"default"};
    for (const auto& [key, doc] : groups_) {
      if (std::get<0>(key) == scope.account && std::get<1>(key) == scope.region) {
        names.push_back(std::get<2>(key));
      }
    }
    std::sort(names.begin(), names.end());
    Json all = Json::array();
    for (const auto& name : names) {
      if (name.rfind(prefix, 0) == 0) all.push_back(GroupView(scope, name));
    }
    return Page(all, input, "ScheduleGroups");
  }

  static ApiResult Page(const Json& all, const Json& input, const char* member) {
    return OffsetPage(all, input, member, "MaxResults", Validation("Invalid NextToken."));
  }

  // ---- tags (schedule groups) ----
  Json* GroupByArn(const std::string& arn_text, Scope* owner) {
    auto arn = Arn::Parse(arn_text);
    if (!arn || arn->service != "scheduler" || arn->resource.rfind("schedule-group/", 0) != 0) {
      return nullptr;
    }
    *owner = Scope{arn->account, arn->region};
    auto it = groups_.find({arn->account, arn->region, arn->resource.substr(15)});
    return it == groups_.end() ? nullptr : &it->second;
  }

  ApiResult TagResource(const Scope&, const Json& input) {
    Scope owner;
    std::string arn = input["ResourceArn"].get<std::string>();
    Json* group = GroupByArn(arn, &owner);
    if (group == nullptr) return NotFound("Resource " + arn + " does not exist.");
    Json before = group->value("Tags", Json::array());
    Json tags = before;
    for (const auto& tag : input["Tags"]) {
      auto same = std::find_if(tags.begin(), tags.end(),
                               [&](const Json& t) { return t["Key"] == tag["Key"]; });
      if (same != tags.end()) {
        (*same)["Value"] = tag["Value"];
      } else {
        tags.push_back(tag);
      }
    }
    (*group)["Tags"] = tags;
    Status saved = Save("group", owner, (*group)["Name"], *group);
    if (!saved.ok()) {
      (*group)["Tags"] = before;
      return ApiError::Server("InternalServerException", saved.message());
    }
    return Json::object();
  }

  ApiResult UntagResource(const Scope&, const Json& input) {
    Scope owner;
    std::string arn = input["ResourceArn"].get<std::string>();
    Json* group = GroupByArn(arn, &owner);
    if (group == nullptr) return NotFound("Resource " + arn + " does not exist.");
    Json before = group->value("Tags", Json::array());
    Json tags = Json::array();
    for (const auto& tag : before) {
      bool drop = false;
      for (const auto& key : input.value("TagKeys", Json::array())) drop |= key == tag["Key"];
      if (!drop) tags.push_back(tag);
    }
    (*group)["Tags"] = tags;
    Status saved = Save("group", owner, (*group)["Name"], *group);
    if (!saved.ok()) {
      (*group)["Tags"] = before;
      return ApiError::Server("InternalServerException", saved.message());
    }
    return Json::object();
  }

  ApiResult ListTagsForResource(const Scope&, const Json& input) {
    Scope owner;
    std::string arn = input["ResourceArn"].get<std::string>();
    Json* group = GroupByArn(arn, &owner);
    if (group == nullptr) return NotFound("Resource " + arn + " does not exist.");
    return Json{{"Tags", group->value("Tags", Json::array())}};
  }

  // ---- schedules ----
  void Compile(Schedule& schedule) {
    schedule.expression.reset();
    schedule.zone.reset();
    auto expression = ScheduleExpression::Parse(
        schedule.doc["ScheduleExpression"].get<std::string>(), ScheduleFlavor::kScheduler);
    if (expression.ok()) schedule.expression = std::move(expression).value();
    auto zone = ParseScheduleTimezone(schedule.doc.value("ScheduleExpressionTimezone", ""));
    if (zone.ok()) schedule.zone = std::move(zone).value();
  }

  // Checks a Create/Update input and builds the stored document (nothing stored on error).
  Result<Json> BuildSchedule(const Scope& scope, const Json& input, const Json* existing,
                             std::string* error_kind) {
    *error_kind = "ValidationException";
    std::string name = input["Name"].get<std::string>();
    std::string group = input.value("GroupName", "default");
    if (!ValidName(name)) {
      return Status::InvalidArgument(
          "1 validation error detected: Value '" + name +
          "' at 'name' failed to satisfy constraint: Member must satisfy regular expression "
          "pattern: ^[0-9a-zA-Z-_.]+$");
    }
    std::string text = input["ScheduleExpression"].get<std::string>();
    auto expression = ScheduleExpression::Parse(text, ScheduleFlavor::kScheduler);
    if (!expression.ok()) return expression.status();
    std::string zone_name = input.value("ScheduleExpressionTimezone", "");
    auto zone = ParseScheduleTimezone(zone_name);
    if (!zone.ok()) return zone.status();
    const Json& window = input["FlexibleTimeWindow"];
    std::string mode = window.value("Mode", "");
    if (mode == "FLEXIBLE" && !window.contains("MaximumWindowInMinutes")) {
      return Status::InvalidArgument(
          "MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE.");
    }
    if (mode == "OFF" && window.contains("MaximumWindowInMinutes")) {
      return Status::InvalidArgument(
          "MaximumWindowInMinutes must not be provided when FlexibleTimeWindow Mode is OFF.");
    }
    if (input.contains("StartDate") && input.contains("EndDate") &&
        input["StartDate"].get<double>() >= input["EndDate"].get<double>()) {
      return Status::InvalidArgument("The StartDate must come before the EndDate.");
    }
    if (input.contains("EndDate") &&
        FromEpochSeconds(input["EndDate"].get<double>()) < clock_.Now()) {
      return Status::InvalidArgument(
          "The EndDate you specify cannot be earlier than the current time.");
    }
    const Json& target = input["Target"];
    std::string arn = target["Arn"].get<std::string>();
    auto parsed = Arn::Parse(arn);
    if (arn == kUniversalRunTask) {
      auto request = ParseJson(target.value("Input", ""));
      if (!request.ok() || !request->is_object()) {
        return Status::InvalidArgument(
            "Input must be a JSON object with the parameters of ecs:runTask for target " + arn +
            ".");
      }
    } else if (!parsed) {
      return Status::InvalidArgument("Invalid target arn: " + arn + ".");
    } else if (parsed->service == "ecs") {
      if (parsed->resource.rfind("cluster/", 0) != 0) {
        return Status::InvalidArgument("Invalid target arn: " + arn + ".");
      }
      if (!target.contains("EcsParameters")) {
        return Status::InvalidArgument("EcsParameters must be provided for an Amazon ECS target.");
      }
    } else if (parsed->service == "events" && parsed->resource.rfind("event-bus/", 0) == 0) {
      if (!target.contains("EventBridgeParameters")) {
        return Status::InvalidArgument(
            "EventBridgeParameters must be provided for an EventBridge target.");
      }
    }
    if (target.contains("Input") && arn != kUniversalRunTask &&
        !ParseJson(target["Input"].get<std::string>()).ok()) {
      // Input for templated targets is JSON (placeholders in value positions read as null).
      std::map<std::string, std::optional<Json>> values;
      for (const auto& placeholder : TemplatePlaceholders(target["Input"].get<std::string>())) {
        values[placeholder] = std::nullopt;
      }
      if (!ParseJson(RenderTemplate(target["Input"].get<std::string>(), values)).ok()) {
        return Status::InvalidArgument("Invalid Input for target " + arn + ".");
      }
    }
    if (!GroupExists(scope, group)) {
      *error_kind = "ResourceNotFoundException";
      return Status::NotFound("Schedule group " + group + " does not exist.");
    }
    double now = ToEpochSeconds(clock_.Now());
    Json doc{{"Name", name},
             {"GroupName", group},
             {"Arn", MakeArn("scheduler", scope, "schedule/" + group + "/" + name)},
             {"ScheduleExpression", text},
             {"ScheduleExpressionTimezone", zone_name.empty() ? "UTC" : zone_name},
             {"FlexibleTimeWindow", window},
             {"Target", target},
             {"State", input.value("State", "ENABLED")},
             {"ActionAfterCompletion", input.value("ActionAfterCompletion", "NONE")},
             {"CreationDate", existing ? (*existing)["CreationDate"] : Json(now)},
             {"LastModificationDate", now}};
    for (const char* field : {"Description", "StartDate", "EndDate", "KmsKeyArn"}) {
      if (input.contains(field)) doc[field] = input[field];
    }
    bool same_expression =
        existing && (*existing)["ScheduleExpression"] == doc["ScheduleExpression"] &&
        (*existing)["ScheduleExpressionTimezone"] == doc["ScheduleExpressionTimezone"];
    doc["_anchor"] = same_expression ? (*existing)["_anchor"] : Json(Micros(clock_.Now()));
    if (same_expression && existing->contains("_lastScheduled")) {
      doc["_lastScheduled"] = (*existing)["_lastScheduled"];
    }
    if (existing) doc["_skipUntil"] = Micros(clock_.Now());
    return doc;
  }

  ApiResult Put(const Scope& scope, const Json& input, bool create) {
    std::string name = input["Name"].get<std::string>();
    std::string group = input.value("GroupName", "default");
    ScheduleKey key{scope.account, scope.region, group, name};
    auto existing = schedules_.find(key);
    if (create && existing != schedules_.end()) {
      return Conflict("Schedule " + name + " already exists.");
    }
    if (!create && existing == schedules_.end()) {
      if (!GroupExists(scope, group))
        return NotFound("Schedule group " + group + " does not exist.");
      return NotFound("Schedule " + name + " does not exist.");
    }
    std::string kind;
    auto doc = BuildSchedule(scope, input, create ? nullptr : &existing->second.doc, &kind);
    if (!doc.ok()) {
      return kind == "ResourceNotFoundException" ? NotFound(doc.status().message())
                                                 : Validation(doc.status().message());
    }
    US_RETURN_IF_ERROR_API(SaveSchedule(scope, *doc));
    if (existing != schedules_.end() && existing->second.timer)
      clock_.Cancel(existing->second.timer);
    Schedule schedule;
    schedule.doc = *doc;
    Compile(schedule);
    schedules_[key] = std::move(schedule);
    Arm(key);
    return Json{{"ScheduleArn", (*doc)["Arn"]}};
  }

  ApiResult CreateSchedule(const Scope& scope, const Json& input) {
    return Put(scope, input, true);
  }
  ApiResult UpdateSchedule(const Scope& scope, const Json& input) {
    return Put(scope, input, false);
  }

  static Json PublicSchedule(const Json& doc) {
    Json out = doc;
    out.erase("_anchor");
    out.erase("_lastScheduled");
    out.erase("_skipUntil");
    return out;
  }

  ApiResult GetSchedule(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    std::string group = input.value("GroupName", "default");
    auto it = schedules_.find({scope.account, scope.region, group, name});
    if (it == schedules_.end()) {
      if (!GroupExists(scope, group))
        return NotFound("Schedule group " + group + " does not exist.");
      return NotFound("Schedule " + name + " does not exist.");
    }
    return PublicSchedule(it->second.doc);
  }

  ApiResult DeleteSchedule(const Scope& scope, const Json& input) {
    std::string name = input["Name"].get<std::string>();
    std::string group = input.value("GroupName", "default");
    auto it = schedules_.find({scope.account, scope.region, group, name});
    if (it == schedules_.end()) {
      if (!GroupExists(scope, group))
        return NotFound("Schedule group " + group + " does not exist.");
      return NotFound("Schedule " + name + " does not exist.");
    }
    US_RETURN_IF_ERROR_API(Drop("schedule", scope, group + "|" + name));
    if (it->second.timer) clock_.Cancel(it->second.timer);
    schedules_.erase(it);
    return Json::object();
  }

  ApiResult ListSchedules(const Scope& scope, const Json& input) {
    std::string prefix = input.value("NamePrefix", "");
    std::string state = input.value("State", "");
    std::string group_filter = input.value("GroupName", "");
    if (!group_filter.empty() && !GroupExists(scope, group_filter)) {
      return NotFound("Schedule group " + group_filter + " does not exist.");
    }
    Json all = Json::array();
    for (const auto& [key, schedule] : schedules_) {
      const auto& [account, region, group, name] = key;
      if (account != scope.account || region != scope.region) continue;
      if (!group_filter.empty() && group != group_filter) continue;
      if (name.rfind(prefix, 0) != 0) continue;
      const Json& d = schedule.doc;
      if (!state.empty() && d["State"] != state) continue;
      all.push_back(Json{{"Arn", d["Arn"]},
                         {"Name", d["Name"]},
                         {"GroupName", d["GroupName"]},
                         {"State", d["State"]},
                         {"CreationDate", d["CreationDate"]},
                         {"LastModificationDate", d["LastModificationDate"]},
                         {"Target", Json{{"Arn", d["Target"]["Arn"]}}}});
    }
    return Page(all, input, "Schedules");
  }

  // ---- firing ----
  // The scheduled minute after `after` within StartDate / EndDate, if any.
  std::optional<TimePoint> NextScheduled(const Schedule& schedule, TimePoint after) const {
    if (!schedule.expression || !schedule.zone) return std::nullopt;
    const Json& d = schedule.doc;
    const ScheduleExpression& e = *schedule.expression;
    TimePoint anchor = FromMicros(d.value("_anchor", int64_t{0}));
    std::optional<TimePoint> start, end;
    if (d.contains("StartDate")) start = FromEpochSeconds(d["StartDate"].get<double>());
    if (d.contains("EndDate")) end = FromEpochSeconds(d["EndDate"].get<double>());
    if (e.kind() == ScheduleExpression::Kind::kAt) {
      return e.NextFire(after, anchor, *schedule.zone);  // start and end do not bound at()
    }
    if (e.kind() == ScheduleExpression::Kind::kRate && start) anchor = *start;
    if (start && after < *start - Duration(1)) after = *start - Duration(1);
    auto next = e.NextFire(after, anchor, *schedule.zone);
    if (!next || (end && *next > *end)) return std::nullopt;
    return next;
  }

  void Arm(const ScheduleKey& key) {
    Schedule& schedule = schedules_.at(key);
    if (schedule.timer) clock_.Cancel(schedule.timer);
    schedule.timer = 0;
    schedule.next_scheduled.reset();
    schedule.next_invoke.reset();
    if (schedule.doc["State"] != "ENABLED") return;
    const Json& d = schedule.doc;
    TimePoint anchor = FromMicros(d.value("_anchor", int64_t{0}));
    // A rate starts invoking at once; cron and at from the creation on.
    TimePoint after =
        d.contains("_lastScheduled") ? FromMicros(d["_lastScheduled"])
        : schedule.expression && schedule.expression->kind() == ScheduleExpression::Kind::kRate
            ? anchor - Duration(1)
            : anchor;
    // Invocations missed while the emulator was down still run; those missed while the
    // schedule was disabled (or before an update) do not.
    if (d.contains("_skipUntil"))
      after = std::max(after, FromMicros(d["_skipUntil"].get<int64_t>()));
    auto next = NextScheduled(schedule, after);
    if (!next) {
      if (d.contains("_lastScheduled") && d.value("ActionAfterCompletion", "NONE") == "DELETE") {
        Complete(key);
      }
      return;
    }
    schedule.next_scheduled = next;
    TimePoint invoke = *next;
    const Json& window = d["FlexibleTimeWindow"];
    if (window.value("Mode", "OFF") == "FLEXIBLE") {
      int64_t seconds = window.value("MaximumWindowInMinutes", int64_t{1}) * 60;
      Random draw = random_.Fork("flexible-window " + d["Arn"].get<std::string>() + " " +
                                 FormatIso8601(*next));
      invoke += std::chrono::seconds(draw.Below(static_cast<uint64_t>(seconds)));
    }
    schedule.next_invoke = invoke;
    schedule.timer = clock_.Schedule(
        invoke, [this, key, at = *next] { Fire(key, at); },
        "scheduler " + d["Arn"].get<std::string>());
  }

  void Fire(const ScheduleKey& key, TimePoint scheduled) {
    // One transaction for the firing and its deliveries' writes: one commit, not one each.
    Status done = store_.Transaction([&] {
      FireInTransaction(key, scheduled);
      return Status::Ok();
    });
    if (!done.ok()) Log(LogLevel::kError, "scheduler: " + done.message());
  }

  void FireInTransaction(const ScheduleKey& key, TimePoint scheduled) {
    auto it = schedules_.find(key);
    if (it == schedules_.end()) return;
    Schedule& schedule = it->second;
    schedule.timer = 0;
    Scope scope{std::get<0>(key), std::get<1>(key)};
    // Stored before the target runs: a restart after this point does not invoke it again.
    schedule.doc["_lastScheduled"] = Micros(scheduled);
    Status saved = SaveSchedule(scope, schedule.doc);
    if (!saved.ok()) Log(LogLevel::kError, "scheduler: cannot store a firing: " + saved.message());
    journal_.Transition("scheduler." + schedule.doc["Arn"].get<std::string>(),
                        Json{{"fired", EventTime(scheduled)}});
    Invoke(key, schedule, scheduled);
    if (schedules_.count(key)) Arm(key);
  }

  // Deletes a finished schedule (ActionAfterCompletion DELETE).
  void Complete(const ScheduleKey& key) {
    auto it = schedules_.find(key);
    if (it == schedules_.end()) return;
    Scope scope{std::get<0>(key), std::get<1>(key)};
    const auto& [account, region, group, name] = key;
    Status dropped = Drop("schedule", scope, group + "|" + name);
    if (!dropped.ok()) Log(LogLevel::kError, "scheduler: " + dropped.message());
    journal_.Transition("scheduler." + it->second.doc["Arn"].get<std::string>(),
                        Json{{"deleted", "ActionAfterCompletion"}});
    if (it->second.timer) clock_.Cancel(it->second.timer);
    schedules_.erase(it);
  }

  void Invoke(const ScheduleKey& key, const Schedule& schedule, TimePoint scheduled) {
    Scope scope{std::get<0>(key), std::get<1>(key)};
    const Json& d = schedule.doc;
    const Json& target = d["Target"];
    std::string arn = d["Arn"];
    std::string execution =
        random_.Fork("execution " + arn + " " + FormatIso8601(scheduled)).Uuid();
    std::map<std::string, std::optional<Json>> context{
        {"aws.scheduler.schedule-arn", Json(arn)},
        {"aws.scheduler.scheduled-time", Json(EventTime(scheduled))},
        {"aws.scheduler.execution-id", Json(execution)},
        {"aws.scheduler.attempt-number", Json(1)}};
    DeliveryRequest request;
    request.scope = scope;
    request.source_kind = "schedule";
    request.source_arn = arn;
    request.source_name = d["Name"];
    request.target = target;
    request.input = target.contains("Input")
                        ? RenderTemplate(target["Input"].get<std::string>(), context)
                        : std::string();
    request.started_by = "chronos-schedule/" + d["Name"].get<std::string>();
    std::string target_arn = target.value("Arn", "");
    request.universal_run_task = target_arn == kUniversalRunTask;
    auto parsed = Arn::Parse(target_arn);
    if (parsed && parsed->service == "events" && parsed->resource.rfind("event-bus/", 0) == 0) {
      const Json params = target.value("EventBridgeParameters", Json::object());
      auto detail = ParseJson(request.input.empty() ? "{}" : request.input);
      request.event =
          Json{{"version", "0"},
               {"id", execution},
               {"detail-type", params.value("DetailType", "")},
               {"source", params.value("Source", "")},
               {"account", scope.account},
               {"time", EventTime(clock_.Now())},
               {"region", scope.region},
               {"resources", Json::array({arn})},
               {"detail", detail.ok() && detail->is_object() ? *detail : Json::object()}};
    }
    delivery_.Deliver(std::move(request));
  }

  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  Delivery& delivery_;
  std::map<GroupKey, Json> groups_;
  std::map<ScheduleKey, Schedule> schedules_;
};

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::Open(Store& store, Journal& journal, Clock& clock,
                                                   Random random, Delivery& delivery) {
  auto service = std::make_unique<SchedulerImpl>(store, journal, clock, random, delivery);
  US_RETURN_IF_ERROR(service->Open());
  return std::unique_ptr<Scheduler>(std::move(service));
}

}  // namespace understudy::events
