#include "logs/logs.h"

#include <algorithm>
#include <set>

#include "api/shape_values.h"
#include "logs/filter_pattern.h"

namespace understudy::logs {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr int64_t kDay = 24LL * 3600 * 1000;
const std::set<int64_t> kRetentionDays = {1,    3,    5,    7,    14,   30,  60,  90,
                                          120,  150,  180,  365,  400,  545, 731, 1096,
                                          1827, 2192, 2557, 2922, 3288, 3653};

ApiError NotFound(const std::string& what) {
  return ApiError::Client("ResourceNotFoundException",
                          "The specified " + what + " does not exist.");
}
ApiError InvalidParameter(std::string message) {
  return ApiError::Client("InvalidParameterException", std::move(message));
}

bool ValidGroupName(const std::string& name) {
  return !name.empty() && name.size() <= 512 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == '/' || c == '#';
  });
}

std::string Token(const Json& value) { return api::Base64Encode(value.dump()); }
std::optional<Json> FromToken(const std::string& token) {
  std::string text;
  if (!api::Base64Decode(token, &text)) return std::nullopt;
  auto json = ParseJson(text);
  if (!json.ok() || !json->is_object()) return std::nullopt;
  return *json;
}

std::string EventToken(char direction, int64_t id) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c/%036lld", direction, static_cast<long long>(id));
  return buf;
}

class LogsImpl final : public Logs {
 public:
  LogsImpl(Store& store, Journal& journal, Clock& clock)
      : store_(store), journal_(journal), clock_(clock) {}

  Status Migrate() {
    return store_.Migrate(
        "logs",
        {"CREATE TABLE logs_groups (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT "
         "NULL, "
         "created INTEGER NOT NULL, retention INTEGER, tags TEXT NOT NULL, PRIMARY KEY (account, "
         "region, name));"
         "CREATE TABLE logs_streams (account TEXT NOT NULL, region TEXT NOT NULL, grp TEXT NOT "
         "NULL, "
         "name TEXT NOT NULL, created INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER, "
         "last_ingest "
         "INTEGER, PRIMARY KEY (account, region, grp, name));"
         "CREATE TABLE logs_events (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, "
         "region "
         "TEXT NOT NULL, grp TEXT NOT NULL, stream TEXT NOT NULL, ts INTEGER NOT NULL, ingest "
         "INTEGER "
         "NOT NULL, message TEXT NOT NULL);"
         "CREATE INDEX logs_events_by_stream ON logs_events (account, region, grp, stream, id);"
         "CREATE INDEX logs_events_by_time ON logs_events (account, region, grp, ts, id);"});
  }

  // Logs
  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op, ApiResult (LogsImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("logs", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("CreateLogGroup", &LogsImpl::CreateLogGroup);
    add("DeleteLogGroup", &LogsImpl::DeleteLogGroup);
    add("DescribeLogGroups", &LogsImpl::DescribeLogGroups);
    add("CreateLogStream", &LogsImpl::CreateLogStream);
    add("DeleteLogStream", &LogsImpl::DeleteLogStream);
    add("DescribeLogStreams", &LogsImpl::DescribeLogStreams);
    add("PutLogEvents", &LogsImpl::PutLogEvents);
    add("GetLogEvents", &LogsImpl::GetLogEvents);
    add("FilterLogEvents", &LogsImpl::FilterLogEvents);
    add("PutRetentionPolicy", &LogsImpl::PutRetentionPolicy);
    add("DeleteRetentionPolicy", &LogsImpl::DeleteRetentionPolicy);
    add("ListTagsLogGroup", &LogsImpl::ListTagsLogGroup);
    add("TagLogGroup", &LogsImpl::TagLogGroup);
    add("UntagLogGroup", &LogsImpl::UntagLogGroup);
    control.AddResetHook([this] { return Reset(); });
  }

  Status Reset() override {
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM logs_events"));
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM logs_streams"));
    return store_.Run("DELETE FROM logs_groups");
  }

  // LogSink
  Status OpenStream(const Scope& scope, const std::string& group, const std::string& stream,
                    bool create_group) override {
    if (!GroupExists(scope, group)) {
      if (!create_group) return Status::NotFound("log group '" + group + "' does not exist");
      ApiResult created = CreateLogGroup(scope, Json{{"logGroupName", group}});
      if (!created.ok()) return Status::InvalidArgument(created.error().message);
    }
    if (StreamExists(scope, group, stream)) return Status::Ok();
    ApiResult created =
        CreateLogStream(scope, Json{{"logGroupName", group}, {"logStreamName", stream}});
    if (!created.ok()) return Status::InvalidArgument(created.error().message);
    return Status::Ok();
  }

  void Append(const Scope& scope, const std::string& group, const std::string& stream,
              const std::string& message) override {
    int64_t now = ToEpochMillis(clock_.Now());
    (void)Insert(scope, group, stream, now, now, message);
  }

 private:
  Status Insert(const Scope& scope, const std::string& group, const std::string& stream, int64_t ts,
                int64_t ingest, const std::string& message) {
    US_RETURN_IF_ERROR(
        store_.Run("INSERT INTO logs_events(account, region, grp, stream, ts, ingest, message) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   {scope.account, scope.region, group, stream, ts, ingest, message}));
    return store_.Run(
        "UPDATE logs_streams SET first_ts = COALESCE(MIN(first_ts, ?5), ?5), last_ts = "
        "MAX(COALESCE(last_ts, ?5), ?5), "
        "last_ingest = ?6 WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
        {scope.account, scope.region, group, stream, ts, ingest});
  }

  bool GroupExists(const Scope& scope, const std::string& group) {
    bool found = false;
    (void)store_.Query("SELECT 1 FROM logs_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
                       {scope.account, scope.region, group}, [&](const SqlRow&) { found = true; });
    return found;
  }

  bool StreamExists(const Scope& scope, const std::string& group, const std::string& stream) {
    bool found = false;
    (void)store_.Query(
        "SELECT 1 FROM logs_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
        {scope.account, scope.region, group, stream}, [&](const SqlRow&) { found = true; });
    return found;
  }

  // The group name from logGroupName or logGroupIdentifier (a name or an ARN).
  std::optional<std::string> GroupFrom(const Json& input) {
    if (input.contains("logGroupName")) return input["logGroupName"].get<std::string>();
    if (input.contains("logGroupIdentifier")) {
      std::string id = input["logGroupIdentifier"].get<std::string>();
      if (id.rfind("arn:", 0) == 0) {
        size_t at = id.find(":log-group:");
        if (at == std::string::npos) return std::nullopt;
        id = id.substr(at + 11);
        if (id.size() > 2 && id.compare(id.size() - 2, 2, ":*") == 0) id.resize(id.size() - 2);
      }
      return id;
    }
    return std::nullopt;
  }

  // Events older than this are past the group's retention (0: keep all).
  int64_t RetentionFloor(const Scope& scope, const std::string& group) {
    int64_t floor = 0;
    (void)store_.Query(
        "SELECT retention FROM logs_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group}, [&](const SqlRow& row) {
          if (!row.IsNull(0)) floor = ToEpochMillis(clock_.Now()) - row.Int(0) * kDay;
        });
    return floor;
  }

  std::string GroupArn(const Scope& scope, const std::string& group) {
    return MakeArn("logs", scope, "log-group:" + group);
  }

  ApiResult CreateLogGroup(const Scope& scope, const Json& input) {
    std::string name = input["logGroupName"].get<std::string>();
    if (!ValidGroupName(name)) {
      return InvalidParameter(
          "1 validation error detected: Value '" + name +
          "' at 'logGroupName' failed to satisfy constraint: Member must satisfy "
          "regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
    }
    if (GroupExists(scope, name)) {
      return ApiError::Client("ResourceAlreadyExistsException",
                              "The specified log group already exists");
    }
    US_RETURN_IF_ERROR_API(
        store_.Run("INSERT INTO logs_groups(account, region, name, created, retention, tags) "
                   "VALUES(?1, ?2, ?3, ?4, NULL, ?5)",
                   {scope.account, scope.region, name, ToEpochMillis(clock_.Now()),
                    input.value("tags", Json::object()).dump()}));
    journal_.Transition(GroupArn(scope, name), Json{{"created", true}});
    return Json::object();
  }

  ApiResult DeleteLogGroup(const Scope& scope, const Json& input) {
    std::string name = input["logGroupName"].get<std::string>();
    if (!GroupExists(scope, name)) return NotFound("log group");
    US_RETURN_IF_ERROR_API(store_.Transaction([&]() -> Status {
      std::vector<SqlValue> key{scope.account, scope.region, name};
      US_RETURN_IF_ERROR(store_.Run(
          "DELETE FROM logs_events WHERE account = ?1 AND region = ?2 AND grp = ?3", key));
      US_RETURN_IF_ERROR(store_.Run(
          "DELETE FROM logs_streams WHERE account = ?1 AND region = ?2 AND grp = ?3", key));
      return store_.Run("DELETE FROM logs_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
                        key);
    }));
    journal_.Transition(GroupArn(scope, name), Json{{"deleted", true}});
    return Json::object();
  }

  ApiResult DescribeLogGroups(const Scope& scope, const Json& input) {
    int64_t limit = input.value("limit", int64_t{50});
    std::string prefix = input.value("logGroupNamePrefix", "");
    std::string pattern = input.value("logGroupNamePattern", "");
    if (!prefix.empty() && !pattern.empty()) {
      return InvalidParameter("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive.");
    }
    std::string after;
    if (input.contains("nextToken")) {
      auto token = FromToken(input["nextToken"].get<std::string>());
      if (!token || !(*token)["after"].is_string())
        return InvalidParameter("The specified nextToken is invalid.");
      after = (*token)["after"].get<std::string>();
    }
    Json groups = Json::array();
    std::string next;
    Status status = store_.Query(
        "SELECT name, created, retention FROM logs_groups WHERE account = ?1 AND region = ?2 AND "
        "name > ?3 "
        "ORDER BY name",
        {scope.account, scope.region, after}, [&](const SqlRow& row) {
          std::string name = row.Text(0);
          if (!next.empty()) return;
          if (!prefix.empty() && name.rfind(prefix, 0) != 0) return;
          if (!pattern.empty() && name.find(pattern) == std::string::npos) return;
          if (static_cast<int64_t>(groups.size()) == limit) {
            next = groups.back()["logGroupName"].get<std::string>();
            return;
          }
          Json g{{"logGroupName", name},
                 {"creationTime", row.Int(1)},
                 {"metricFilterCount", 0},
                 {"arn", GroupArn(scope, name) + ":*"},
                 {"logGroupArn", GroupArn(scope, name)},
                 {"storedBytes", 0},
                 {"logGroupClass", "STANDARD"}};
          if (!row.IsNull(2)) g["retentionInDays"] = row.Int(2);
          groups.push_back(g);
        });
    US_RETURN_IF_ERROR_API(status);
    Json out{{"logGroups", groups}};
    if (!next.empty()) out["nextToken"] = Token(Json{{"after", next}});
    return out;
  }

  ApiResult CreateLogStream(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    std::string name = input["logStreamName"].get<std::string>();
    if (name.find_first_of(":*") != std::string::npos) {
      return InvalidParameter(
          "1 validation error detected: Value '" + name +
          "' at 'logStreamName' failed to satisfy constraint: Member must satisfy "
          "regular expression pattern: [^:*]*");
    }
    if (!GroupExists(scope, group)) return NotFound("log group");
    if (StreamExists(scope, group, name)) {
      return ApiError::Client("ResourceAlreadyExistsException",
                              "The specified log stream already exists");
    }
    US_RETURN_IF_ERROR_API(store_.Run(
        "INSERT INTO logs_streams(account, region, grp, name, created) VALUES(?1, ?2, ?3, ?4, ?5)",
        {scope.account, scope.region, group, name, ToEpochMillis(clock_.Now())}));
    return Json::object();
  }

  ApiResult DeleteLogStream(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    std::string name = input["logStreamName"].get<std::string>();
    if (!GroupExists(scope, group)) return NotFound("log group");
    if (!StreamExists(scope, group, name)) return NotFound("log stream");
    std::vector<SqlValue> key{scope.account, scope.region, group, name};
    US_RETURN_IF_ERROR_API(store_.Run(
        "DELETE FROM logs_events WHERE account = ?1 AND region = ?2 AND grp = ?3 AND stream = ?4",
        key));
    US_RETURN_IF_ERROR_API(store_.Run(
        "DELETE FROM logs_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
        key));
    return Json::object();
  }

  ApiResult DescribeLogStreams(const Scope& scope, const Json& input) {
    auto group = GroupFrom(input);
    if (!group)
      return InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.");
    if (!GroupExists(scope, *group)) return NotFound("log group");
    std::string order = input.value("orderBy", "LogStreamName");
    std::string prefix = input.value("logStreamNamePrefix", "");
    if (order == "LastEventTime" && !prefix.empty()) {
      return InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
    }
    bool descending = input.value("descending", false);
    int64_t limit = input.value("limit", int64_t{50});
    int64_t offset = 0;
    if (input.contains("nextToken")) {
      auto token = FromToken(input["nextToken"].get<std::string>());
      if (!token || !(*token)["offset"].is_number_integer())
        return InvalidParameter("The specified nextToken is invalid.");
      offset = (*token)["offset"].get<int64_t>();
    }
    std::string sql =
        std::string(
            "SELECT name, created, first_ts, last_ts, last_ingest FROM logs_streams WHERE ") +
        "account = ?1 AND region = ?2 AND grp = ?3 AND substr(name, 1, length(?4)) = ?4 ORDER BY " +
        (order == "LastEventTime" ? "COALESCE(last_ts, 0)" : "name") +
        (descending ? " DESC" : " ASC") + ", name LIMIT ?5 OFFSET ?6";
    Json streams = Json::array();
    US_RETURN_IF_ERROR_API(
        store_.Query(sql, {scope.account, scope.region, *group, prefix, limit + 1, offset},
                     [&](const SqlRow& row) {
                       Json s{{"logStreamName", row.Text(0)},
                              {"creationTime", row.Int(1)},
                              {"arn", GroupArn(scope, *group) + ":log-stream:" + row.Text(0)},
                              {"storedBytes", 0}};
                       if (!row.IsNull(2)) s["firstEventTimestamp"] = row.Int(2);
                       if (!row.IsNull(3)) s["lastEventTimestamp"] = row.Int(3);
                       if (!row.IsNull(4)) s["lastIngestionTime"] = row.Int(4);
                       streams.push_back(s);
                     }));
    Json out = Json::object();
    if (static_cast<int64_t>(streams.size()) > limit) {
      streams.erase(streams.end() - 1);
      out["nextToken"] = Token(Json{{"offset", offset + limit}});
    }
    out["logStreams"] = streams;
    return out;
  }

  ApiResult PutLogEvents(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    std::string stream = input["logStreamName"].get<std::string>();
    const Json& events = input["logEvents"];
    if (!GroupExists(scope, group)) return NotFound("log group");
    if (!StreamExists(scope, group, stream)) return NotFound("log stream");
    size_t bytes = 0;
    int64_t previous = INT64_MIN;
    for (const auto& e : events) {
      bytes += e["message"].get_ref<const std::string&>().size() + 26;
      int64_t ts = e["timestamp"].get<int64_t>();
      if (ts < previous) {
        return InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.");
      }
      previous = ts;
    }
    if (bytes > 1048576)
      return InvalidParameter("Upload too large: " + std::to_string(bytes) +
                              " bytes exceeds limit of 1048576");
    if (!events.empty() &&
        events.back()["timestamp"].get<int64_t>() - events.front()["timestamp"].get<int64_t>() >
            kDay) {
      return InvalidParameter(
          "The batch of log events in a single PutLogEvents request cannot span more than 24 "
          "hours.");
    }
    int64_t now = ToEpochMillis(clock_.Now());
    int64_t floor = RetentionFloor(scope, group);
    Json rejected = Json::object();
    US_RETURN_IF_ERROR_API(store_.Transaction([&]() -> Status {
      for (size_t i = 0; i < events.size(); ++i) {
        int64_t ts = events[i]["timestamp"].get<int64_t>();
        if (ts > now + 2 * 3600 * 1000) {
          if (!rejected.contains("tooNewLogEventStartIndex"))
            rejected["tooNewLogEventStartIndex"] = i;
          continue;
        }
        if (ts < now - 14 * kDay) {
          rejected["tooOldLogEventEndIndex"] = i;
          continue;
        }
        if (floor > 0 && ts < floor) {
          rejected["expiredLogEventEndIndex"] = i;
          continue;
        }
        US_RETURN_IF_ERROR(
            Insert(scope, group, stream, ts, now, events[i]["message"].get<std::string>()));
      }
      return Status::Ok();
    }));
    Json out{{"nextSequenceToken", std::to_string(now) + std::to_string(events.size())}};
    if (!rejected.empty()) out["rejectedLogEventsInfo"] = rejected;
    return out;
  }

  ApiResult GetLogEvents(const Scope& scope, const Json& input) {
    auto group = GroupFrom(input);
    if (!group)
      return InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.");
    std::string stream = input["logStreamName"].get<std::string>();
    if (!GroupExists(scope, *group)) return NotFound("log group");
    if (!StreamExists(scope, *group, stream)) return NotFound("log stream");
    int64_t limit = input.value("limit", int64_t{10000});
    int64_t start = std::max(input.value("startTime", int64_t{0}), RetentionFloor(scope, *group));
    int64_t end = input.value("endTime", INT64_MAX);
    bool from_head = input.value("startFromHead", false);
    std::string token = input.value("nextToken", "");
    char direction = from_head ? 'f' : 'b';
    int64_t boundary = from_head ? 0 : INT64_MAX;
    if (!token.empty()) {
      if (token.size() < 3 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/') {
        return InvalidParameter("The specified nextToken is invalid.");
      }
      direction = token[0];
      boundary = std::strtoll(token.c_str() + 2, nullptr, 10);
    }
    bool forward = direction == 'f';
    std::string sql =
        std::string(
            "SELECT id, ts, ingest, message FROM logs_events WHERE account = ?1 AND region = ?2 ") +
        "AND grp = ?3 AND stream = ?4 AND ts >= ?5 AND ts < ?6 AND id " + (forward ? ">" : "<") +
        " ?7 ORDER BY id " + (forward ? "ASC" : "DESC") + " LIMIT ?8";
    std::vector<std::pair<int64_t, Json>> rows;
    US_RETURN_IF_ERROR_API(store_.Query(
        sql, {scope.account, scope.region, *group, stream, start, end, boundary, limit},
        [&](const SqlRow& row) {
          rows.emplace_back(row.Int(0), Json{{"timestamp", row.Int(1)},
                                             {"ingestionTime", row.Int(2)},
                                             {"message", row.Text(3)}});
        }));
    if (!forward) std::reverse(rows.begin(), rows.end());
    Json events = Json::array();
    for (auto& [id, e] : rows) events.push_back(std::move(e));
    // At either end the same token comes back, so clients stop when it repeats.
    std::string next_forward =
        rows.empty() ? (forward ? EventToken('f', boundary)
                                : EventToken('f', boundary == INT64_MAX ? 0 : boundary - 1))
                     : EventToken('f', rows.back().first);
    std::string next_backward = rows.empty() ? EventToken('b', forward ? boundary + 1 : boundary)
                                             : EventToken('b', rows.front().first);
    if (!token.empty() && rows.empty()) {
      if (forward)
        next_forward = token;
      else
        next_backward = token;
    }
    return Json{{"events", events},
                {"nextForwardToken", next_forward},
                {"nextBackwardToken", next_backward}};
  }

  ApiResult FilterLogEvents(const Scope& scope, const Json& input) {
    auto group = GroupFrom(input);
    if (!group)
      return InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.");
    if (!GroupExists(scope, *group)) return NotFound("log group");
    if (input.contains("logStreamNames") && input.contains("logStreamNamePrefix")) {
      return InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive.");
    }
    auto pattern = FilterPattern::Parse(input.value("filterPattern", ""));
    if (!pattern.ok()) return InvalidParameter(pattern.status().message());
    int64_t limit = input.value("limit", int64_t{10000});
    int64_t start = std::max(input.value("startTime", int64_t{0}), RetentionFloor(scope, *group));
    int64_t end = input.value("endTime", INT64_MAX);
    std::set<std::string> names;
    for (const auto& n : input.value("logStreamNames", Json::array()))
      names.insert(n.get<std::string>());
    std::string prefix = input.value("logStreamNamePrefix", "");
    int64_t after_ts = INT64_MIN, after_id = 0;
    if (input.contains("nextToken")) {
      auto token = FromToken(input["nextToken"].get<std::string>());
      if (!token || !(*token)["ts"].is_number_integer() || !(*token)["id"].is_number_integer()) {
        return InvalidParameter("The specified nextToken is invalid.");
      }
      after_ts = (*token)["ts"].get<int64_t>();
      after_id = (*token)["id"].get<int64_t>();
    }
    Json events = Json::array();
    int64_t last_ts = 0, last_id = 0;
    bool more = false;
    US_RETURN_IF_ERROR_API(store_.Query(
        "SELECT id, stream, ts, ingest, message FROM logs_events WHERE account = ?1 AND region = "
        "?2 AND grp = ?3 "
        "AND ts >= ?4 AND ts < ?5 AND (ts > ?6 OR (ts = ?6 AND id > ?7)) ORDER BY ts, id",
        {scope.account, scope.region, *group, start, end, after_ts, after_id},
        [&](const SqlRow& row) {
          if (more) return;
          std::string stream = row.Text(1);
          if (!names.empty() && !names.count(stream)) return;
          if (!prefix.empty() && stream.rfind(prefix, 0) != 0) return;
          std::string message = row.Text(4);
          if (!pattern->Matches(message)) return;
          if (static_cast<int64_t>(events.size()) == limit) {
            more = true;
            return;
          }
          last_ts = row.Int(2);
          last_id = row.Int(0);
          events.push_back(Json{{"logStreamName", stream},
                                {"timestamp", last_ts},
                                {"message", message},
                                {"ingestionTime", row.Int(3)},
                                {"eventId", std::to_string(last_id)}});
        }));
    Json out{{"events", events}, {"searchedLogStreams", Json::array()}};
    if (more) out["nextToken"] = Token(Json{{"ts", last_ts}, {"id", last_id}});
    return out;
  }

  ApiResult PutRetentionPolicy(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    int64_t days = input["retentionInDays"].get<int64_t>();
    if (!kRetentionDays.count(days)) {
      return InvalidParameter(
          "1 validation error detected: Value '" + std::to_string(days) +
          "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum "
          "value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
          "1827, 2192, 2557, 2922, 3288, 3653]");
    }
    if (!GroupExists(scope, group)) return NotFound("log group");
    US_RETURN_IF_ERROR_API(store_.Run(
        "UPDATE logs_groups SET retention = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group, days}));
    journal_.Transition(GroupArn(scope, group), Json{{"retentionInDays", days}});
    return Json::object();
  }

  ApiResult DeleteRetentionPolicy(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    if (!GroupExists(scope, group)) return NotFound("log group");
    US_RETURN_IF_ERROR_API(store_.Run(
        "UPDATE logs_groups SET retention = NULL WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group}));
    return Json::object();
  }

  Result<Json> Tags(const Scope& scope, const std::string& group) {
    Json tags;
    bool found = false;
    US_RETURN_IF_ERROR(store_.Query(
        "SELECT tags FROM logs_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group}, [&](const SqlRow& row) {
          found = true;
          auto parsed = ParseJson(row.Text(0));
          tags = parsed.ok() ? *parsed : Json::object();
        }));
    if (!found) return Status::NotFound("group");
    return tags;
  }

  ApiResult ListTagsLogGroup(const Scope& scope, const Json& input) {
    auto tags = Tags(scope, input["logGroupName"].get<std::string>());
    if (!tags.ok()) return NotFound("log group");
    return Json{{"tags", *tags}};
  }

  ApiResult TagLogGroup(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    auto tags = Tags(scope, group);
    if (!tags.ok()) return NotFound("log group");
    for (auto it = input["tags"].begin(); it != input["tags"].end(); ++it)
      (*tags)[it.key()] = it.value();
    US_RETURN_IF_ERROR_API(store_.Run(
        "UPDATE logs_groups SET tags = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group, tags->dump()}));
    return Json::object();
  }

  ApiResult UntagLogGroup(const Scope& scope, const Json& input) {
    std::string group = input["logGroupName"].get<std::string>();
    auto tags = Tags(scope, group);
    if (!tags.ok()) return NotFound("log group");
    for (const auto& key : input["tags"]) tags->erase(key.get<std::string>());
    US_RETURN_IF_ERROR_API(store_.Run(
        "UPDATE logs_groups SET tags = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
        {scope.account, scope.region, group, tags->dump()}));
    return Json::object();
  }

  Store& store_;
  Journal& journal_;
  Clock& clock_;
};

}  // namespace

Result<std::unique_ptr<Logs>> Logs::Open(Store& store, Journal& journal, Clock& clock) {
  auto logs = std::make_unique<LogsImpl>(store, journal, clock);
  US_RETURN_IF_ERROR(logs->Migrate());
  return std::unique_ptr<Logs>(std::move(logs));
}

}  // namespace understudy::logs
