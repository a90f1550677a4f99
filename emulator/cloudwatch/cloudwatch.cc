#include "cloudwatch/cloudwatch.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "api/shape_values.h"
#include "cloudwatch/alarm_eval.h"

namespace understudy::cloudwatch {
namespace {

using api::ApiError;
using api::ApiResult;

constexpr int64_t kMinute = 60;
constexpr auto kRetention = std::chrono::hours(24 * 15);

ApiError InvalidValue(std::string message) {
  return ApiError::Client("InvalidParameterValue", std::move(message));
}
ApiError Validation(std::string message) {
  return ApiError::Client("ValidationError", std::move(message));
}

int64_t Secs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint FromSecs(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

std::string Iso(TimePoint t) { return FormatIso8601(t).substr(0, 19) + ".000+0000"; }

std::string PageToken(size_t offset) { return api::Base64Encode(std::to_string(offset)); }
std::optional<size_t> FromPageToken(const std::string& token) {
  std::string text;
  if (!api::Base64Decode(token, &text) || text.empty() ||
      !std::all_of(text.begin(), text.end(), ::isdigit)) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoull(text));
}

// An override: the value a metric takes from an instant on (nothing: measured again).
struct Override {
  Scope scope;
  MetricId id;
  std::string unit;
  std::vector<std::pair<TimePoint, std::optional<double>>> series;  // sorted by time
  Json spec;
  // The value at `t`, when the override gives one.
  std::optional<double> At(TimePoint t) const {
    std::optional<double> value;
    bool any = false;
    for (const auto& [from, v] : series) {
      if (from > t) break;
      value = v;
      any = true;
    }
    return any ? value : std::nullopt;
  }
};

class CloudWatchImpl final : public CloudWatch {
 public:
  CloudWatchImpl(Store& store, Journal& journal, Clock& clock, Random random, EventBus& bus)
      : store_(store),
        journal_(journal),
        clock_(clock),
        random_(std::move(random)),
        bus_(bus),
        metrics_(store) {}
  ~CloudWatchImpl() override {
    if (timer_) clock_.Cancel(timer_);
  }

  Status Open() {
    US_RETURN_IF_ERROR(metrics_.Open());
    US_RETURN_IF_ERROR(store_.Migrate(
        "cloudwatch_alarms",
        {"CREATE TABLE cw_alarms (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT "
         "NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, name));"
         "CREATE TABLE cw_alarm_history (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT "
         "NULL, region TEXT NOT NULL, name TEXT NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL, "
         "summary TEXT NOT NULL, data TEXT NOT NULL);"}));
    Status status = Status::Ok();
    US_RETURN_IF_ERROR(store_.Query("SELECT account, region, name, doc FROM cw_alarms", {},
                                    [&](const SqlRow& row) {
                                      auto doc = ParseJson(row.Text(3));
                                      if (!doc.ok()) {
                                        status = Status::IoError("cw_alarms row is not JSON");
                                        return;
                                      }
                                      alarms_[Key{row.Text(0), row.Text(1), row.Text(2)}] = *doc;
                                    }));
    US_RETURN_IF_ERROR(status);
    ScheduleMinute();
    return Status::Ok();
  }

  // CloudWatch
  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    auto add = [&](const char* op, ApiResult (CloudWatchImpl::*method)(const Scope&, const Json&)) {
      front_door.Register("cloudwatch", op,
                          [this, method](const api::RequestContext& ctx, const Json& input) {
                            return (this->*method)(ctx.scope, input);
                          });
    };
    add("PutMetricData", &CloudWatchImpl::PutMetricData);
    add("GetMetricStatistics", &CloudWatchImpl::GetMetricStatistics);
    add("GetMetricData", &CloudWatchImpl::GetMetricData);
    add("ListMetrics", &CloudWatchImpl::ListMetrics);
    add("PutMetricAlarm", &CloudWatchImpl::PutMetricAlarm);
    add("DescribeAlarms", &CloudWatchImpl::DescribeAlarms);
    add("DescribeAlarmsForMetric", &CloudWatchImpl::DescribeAlarmsForMetric);
    add("DeleteAlarms", &CloudWatchImpl::DeleteAlarms);
    add("SetAlarmState", &CloudWatchImpl::SetAlarmState);
    add("DescribeAlarmHistory", &CloudWatchImpl::DescribeAlarmHistory);
    add("EnableAlarmActions", &CloudWatchImpl::EnableAlarmActions);
    add("DisableAlarmActions", &CloudWatchImpl::DisableAlarmActions);
    add("TagResource", &CloudWatchImpl::TagResource);
    add("UntagResource", &CloudWatchImpl::UntagResource);
    add("ListTagsForResource", &CloudWatchImpl::ListTagsForResource);
    control.AddResetHook([this] { return Reset(); });
    front_door.RegisterInternal("POST", "/_understudy/metrics",
                                [this](const api::HttpRequest& request, api::HttpReply reply) {
                                  reply(PostOverride(request));
                                });
    front_door.RegisterInternal("GET", "/_understudy/metrics",
                                [this](const api::HttpRequest&, api::HttpReply reply) {
                                  Json list = Json::array();
                                  for (const auto& [key, o] : overrides_) list.push_back(o.spec);
                                  reply(api::JsonResponse(200, Json{{"overrides", list}}));
                                });
    front_door.RegisterInternal("DELETE", "/_understudy/metrics",
                                [this](const api::HttpRequest&, api::HttpReply reply) {
                                  size_t n = overrides_.size();
                                  overrides_.clear();
                                  journal_.Input("cloudwatch.overrides", Json{{"cleared", n}});
                                  reply(api::JsonResponse(200, Json{{"cleared", n}}));
                                });
    control.AddCondition(
        "cloudwatchAlarm",
        [this](const Scope& scope, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || !params.contains("alarm") || !params["alarm"].is_string() ||
              !params.contains("state") || !params["state"].is_string()) {
            return Status::InvalidArgument(
                "expected {\"alarm\": \"<name>\", \"state\": \"OK\" | \"ALARM\" | "
                "\"INSUFFICIENT_DATA\"}");
          }
          std::string name = params["alarm"].get<std::string>();
          std::string want = params["state"].get<std::string>();
          auto current = [this, scope, name] {
            return AlarmState(scope, name).value_or("MISSING");
          };
          return api::WaitCondition{[current, want] { return current() == want; },
                                    [current, name] {
                                      return Json{{"alarm", name}, {"state", current()}};
                                    }};
        });
  }

  Status Reset() override {
    alarms_.clear();
    overrides_.clear();
    US_RETURN_IF_ERROR(metrics_.Reset());
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM cw_alarm_history"));
    return store_.Run("DELETE FROM cw_alarms");
  }

  void Publish(const Scope& scope, const MetricId& id, TimePoint period_start, double value,
               const std::string& unit) override {
    OverrideKey key{scope.account, scope.region, id};
    auto o = overrides_.find(key);
    if (o != overrides_.end()) {
      if (auto v = o->second.At(period_start)) {
        value = *v;
        published_.insert(key);
      }
    }
    (void)metrics_.Put(scope, id, period_start, StatSet{1, value, value, value}, unit);
  }

  void AddMinuteSource(std::function<void(TimePoint)> source) override {
    sources_.push_back(std::move(source));
  }
  void SetActionHandler(const std::string& arn_prefix, ActionHandler handler) override {
    handlers_[arn_prefix] = std::move(handler);
  }

  ApiResult PutAlarm(const Scope& scope, const Json& input) override {
    return PutMetricAlarm(scope, input);
  }
  void DeleteAlarm(const Scope& scope, const std::string& name) override {
    (void)DeleteAlarms(scope, Json{{"AlarmNames", Json::array({name})}});
  }
  std::optional<std::string> AlarmState(const Scope& scope,
                                        const std::string& name) const override {
    auto it = alarms_.find(Key{scope.account, scope.region, name});
    if (it == alarms_.end()) return std::nullopt;
    return it->second["StateValue"].get<std::string>();
  }

  std::vector<std::pair<std::string, std::string>> AlarmsWithAction(
      const Scope& scope, const std::string& action_arn) const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, alarm] : alarms_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      bool has = false;
      for (const char* list : {"OKActions", "AlarmActions", "InsufficientDataActions"}) {
        for (const auto& a : alarm[list]) has |= a == action_arn;
      }
      if (has) out.emplace_back(std::get<2>(key), alarm["AlarmArn"].get<std::string>());
    }
    return out;
  }

  void RunMinute(TimePoint now) override {
    TimePoint period_start = now - std::chrono::seconds(kMinute);
    published_.clear();
    for (auto& source : sources_) source(period_start);
    for (const auto& [key, o] : overrides_) {
      if (published_.count(key)) continue;
      if (auto v = o.At(period_start)) {
        (void)metrics_.Put(o.scope, o.id, period_start, StatSet{1, *v, *v, *v}, o.unit);
      }
    }
    std::vector<std::tuple<Scope, std::string, AlarmFiring>> firings;
    for (auto& [key, alarm] : alarms_) EvaluateAlarm(key, alarm, now, firings);
    for (auto& [scope, arn, firing] : firings) RunAction(scope, arn, firing);
    if (Secs(now) % 3600 == 0) metrics_.Prune(now - kRetention);
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // account, region, name
  using OverrideKey = std::tuple<std::string, std::string, MetricId>;

  void ScheduleMinute() {
    int64_t now = Secs(clock_.Now());
    int64_t next = (now / kMinute + 1) * kMinute;
    timer_ = clock_.Schedule(
        FromSecs(next),
        [this, next] {
          timer_ = 0;
          RunMinute(FromSecs(next));
          ScheduleMinute();
        },
        "cloudwatch minute");
  }

  // --- metrics -------------------------------------------------------------------

  ApiResult PutMetricData(const Scope& scope, const Json& input) {
    std::string ns = input["Namespace"].get<std::string>();
    if (ns.rfind("AWS/", 0) == 0) {
      return InvalidValue("The value " + ns + " for parameter Namespace is invalid.");
    }
    const Json& data = input.value("MetricData", Json::array());
    if (data.empty()) {
      return ApiError::Client("MissingParameter", "The parameter MetricData is required.");
    }
    std::vector<std::tuple<MetricId, TimePoint, StatSet, std::string>> points;
    for (size_t i = 0; i < data.size(); ++i) {
      const Json& d = data[i];
      std::string where = "MetricData.member." + std::to_string(i + 1);
      MetricId id = MetricId::From(ns, d["MetricName"].get<std::string>(),
                                   d.value("Dimensions", Json::array()));
      TimePoint at =
          d.contains("Timestamp") ? FromEpochSeconds(d["Timestamp"].get<double>()) : clock_.Now();
      std::string unit = d.value("Unit", "");
      int kinds = d.contains("Value") + d.contains("StatisticValues") + d.contains("Values");
      if (kinds > 1) {
        return ApiError::Client("InvalidParameterCombination",
                                "The parameters " + where + ".Value and " + where +
                                    ".StatisticValues are mutually exclusive and you have "
                                    "specified both.");
      }
      if (d.contains("Value")) {
        double v = d["Value"].get<double>();
        points.emplace_back(id, at, StatSet{1, v, v, v}, unit);
      } else if (d.contains("StatisticValues")) {
        const Json& s = d["StatisticValues"];
        points.emplace_back(id, at,
                            StatSet{s["SampleCount"].get<double>(), s["Sum"].get<double>(),
                                    s["Minimum"].get<double>(), s["Maximum"].get<double>()},
                            unit);
      } else if (d.contains("Values")) {
        const Json& values = d["Values"];
        Json counts = d.value("Counts", Json::array());
        if (!counts.empty() && counts.size() != values.size()) {
          return InvalidValue("The parameters " + where + ".Values and " + where +
                              ".Counts must be of the same size.");
        }
        for (size_t j = 0; j < values.size(); ++j) {
          double v = values[j].get<double>();
          double c = counts.empty() ? 1.0 : counts[j].get<double>();
          points.emplace_back(id, at, StatSet{c, v * c, v, v}, unit);
        }
      } else {
        return ApiError::Client("MissingParameter",
                                "The parameter " + where + ".Value is required.");
      }
    }
    for (auto& [id, at, stats, unit] : points) {
      US_RETURN_IF_ERROR_API(metrics_.Put(scope, id, at, stats, unit));
    }
    return Json::object();
  }

  static bool ValidPeriod(int64_t period) {
    return period == 1 || period == 5 || period == 10 || period == 20 || period == 30 ||
           (period > 0 && period % 60 == 0);
  }

  ApiResult GetMetricStatistics(const Scope& scope, const Json& input) {
    MetricId id = MetricId::From(input["Namespace"].get<std::string>(),
                                 input["MetricName"].get<std::string>(),
                                 input.value("Dimensions", Json::array()));
    int64_t period = input["Period"].get<int64_t>();
    if (!ValidPeriod(period)) {
      return InvalidValue("The parameter Period must be a multiple of 60.");
    }
    int64_t start = static_cast<int64_t>(std::floor(input["StartTime"].get<double>()));
    int64_t end = static_cast<int64_t>(std::ceil(input["EndTime"].get<double>()));
    if (start >= end) {
      return InvalidValue("The parameter StartTime must be less than the parameter EndTime.");
    }
    Json stats = input.value("Statistics", Json::array());
    if (stats.empty() && input.value("ExtendedStatistics", Json::array()).empty()) {
      return ApiError::Client(
          "MissingParameter",
          "Must specify either Statistics or ExtendedStatistics, but not both.");
    }
    if ((end - start) / period > 1440) {
      return InvalidValue(
          "You have requested up to " + std::to_string((end - start) / period) +
          " datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested "
          "by increasing Period, or decreasing the time range.");
    }
    std::string unit = input.value("Unit", "");
    Json points = Json::array();
    for (int64_t t = start - ((start % period) + period) % period; t < end; t += period) {
      auto s = metrics_.Aggregate(scope, id, FromSecs(t), FromSecs(t + period), unit);
      if (!s) continue;
      Json point{{"Timestamp", static_cast<double>(t)},
                 {"Unit", !unit.empty()     ? unit
                          : s->unit.empty() ? "None"
                                            : s->unit}};
      for (const auto& stat : stats) {
        std::string name = stat.get<std::string>();
        if (auto v = s->Get(name)) point[name] = *v;
      }
      points.push_back(point);
    }
    return Json{{"Label", id.name}, {"Datapoints", points}};
  }

  ApiResult GetMetricData(const Scope& scope, const Json& input) {
    int64_t start = static_cast<int64_t>(std::floor(input["StartTime"].get<double>()));
    int64_t end = static_cast<int64_t>(std::ceil(input["EndTime"].get<double>()));
    if (start >= end) {
      return Validation("The parameter StartTime must be less than the parameter EndTime.");
    }
    bool descending = input.value("ScanBy", "TimestampDescending") == "TimestampDescending";
    Json results = Json::array();
    for (const auto& q : input["MetricDataQueries"]) {
      std::string qid = q["Id"].get<std::string>();
      if (!q.contains("MetricStat")) {
        return Validation("understudy does not support metric math expressions (query " + qid +
                          ") yet; use MetricStat.");
      }
      if (!q.value("ReturnData", true)) continue;
      const Json& ms = q["MetricStat"];
      const Json& m = ms["Metric"];
      MetricId id = MetricId::From(m.value("Namespace", ""), m.value("MetricName", ""),
                                   m.value("Dimensions", Json::array()));
      int64_t period = ms["Period"].get<int64_t>();
      if (!ValidPeriod(period)) {
        return Validation("The value " + std::to_string(period) + " for parameter " +
                          "MetricDataQueries.member.Period is invalid.");
      }
      std::string stat = ms["Stat"].get<std::string>();
      std::string unit = ms.value("Unit", "");
      Json timestamps = Json::array(), values = Json::array();
      std::vector<std::pair<int64_t, double>> found;
      for (int64_t t = start - ((start % period) + period) % period; t < end; t += period) {
        auto s = metrics_.Aggregate(scope, id, FromSecs(t), FromSecs(t + period), unit);
        if (!s) continue;
        if (auto v = s->Get(stat)) found.emplace_back(t, *v);
      }
      if (descending) std::reverse(found.begin(), found.end());
      for (auto& [t, v] : found) {
        timestamps.push_back(static_cast<double>(t));
        values.push_back(v);
      }
      results.push_back(Json{{"Id", qid},
                             {"Label", q.value("Label", id.name)},
                             {"Timestamps", timestamps},
                             {"Values", values},
                             {"StatusCode", "Complete"}});
    }
    return Json{{"MetricDataResults", results}, {"Messages", Json::array()}};
  }

  ApiResult ListMetrics(const Scope& scope, const Json& input) {
    std::optional<TimePoint> since;
    if (input.value("RecentlyActive", "") == "PT3H") since = clock_.Now() - std::chrono::hours(3);
    Json out = Json::array();
    for (const auto& id : metrics_.List(scope, since)) {
      if (input.contains("Namespace") && input["Namespace"] != id.ns) continue;
      if (input.contains("MetricName") && input["MetricName"] != id.name) continue;
      bool match = true;
      for (const auto& f : input.value("Dimensions", Json::array())) {
        std::string name = f.value("Name", "");
        bool has = false;
        for (const auto& [k, v] : id.dimensions) {
          if (k == name && (!f.contains("Value") || f["Value"] == v)) has = true;
        }
        match &= has;
      }
      if (!match) continue;
      out.push_back(
          Json{{"Namespace", id.ns}, {"MetricName", id.name}, {"Dimensions", id.DimensionsJson()}});
    }
    return Json{{"Metrics", out}};
  }

  // --- alarms --------------------------------------------------------------------

  ApiResult PutMetricAlarm(const Scope& scope, const Json& input) {
    std::string name = input["AlarmName"].get<std::string>();
    Json doc = Json::object();
    for (const char* field :
         {"AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
          "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
          "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
          "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId"}) {
      if (input.contains(field)) doc[field] = input[field];
    }
    doc["AlarmName"] = name;
    doc["ActionsEnabled"] = input.value("ActionsEnabled", true);
    for (const char* list : {"OKActions", "AlarmActions", "InsufficientDataActions"}) {
      if (!doc.contains(list)) doc[list] = Json::array();
    }
    if (!doc.contains("Dimensions") && !doc.contains("Metrics")) doc["Dimensions"] = Json::array();
    // One metric from Metrics[] (a lone MetricStat) stands for MetricName & co.
    if (doc.contains("Metrics")) {
      if (doc.contains("MetricName")) {
        return ApiError::Client("InvalidParameterCombination",
                                "The parameters MetricName and Metrics are mutually exclusive "
                                "and you have specified both.");
      }
      const Json& metrics = doc["Metrics"];
      if (metrics.size() != 1 || !metrics[0].contains("MetricStat")) {
        return Validation(
            "understudy evaluates alarms on one MetricStat; metric math in Metrics is not "
            "supported yet.");
      }
    } else {
      if (!doc.contains("MetricName") || !doc.contains("Namespace")) {
        return Validation("Metrics list must not be empty when MetricName is not specified.");
      }
      if (!doc.contains("Period")) {
        return Validation("Period must not be null.");
      }
      if (doc.contains("Statistic") == doc.contains("ExtendedStatistic")) {
        return ApiError::Client(
            "InvalidParameterCombination",
            "Exactly one element of the parameters Statistic and ExtendedStatistic must be "
            "specified.");
      }
      if (doc.contains("ExtendedStatistic")) {
        return Validation(
            "understudy does not evaluate ExtendedStatistic (percentile) alarms yet.");
      }
    }
    int64_t period = Period(doc);
    if (period < 10 || !ValidPeriod(period)) {
      return Validation("Period must be 10, 20, 30 or a multiple of 60.");
    }
    if (!doc.contains("Threshold") && !doc.contains("ThresholdMetricId")) {
      return Validation("Threshold must not be null.");
    }
    if (!doc.contains("ComparisonOperator")) {
      return Validation("ComparisonOperator must not be null.");
    }
    std::string op = doc["ComparisonOperator"].get<std::string>();
    if (op != "GreaterThanOrEqualToThreshold" && op != "GreaterThanThreshold" &&
        op != "LessThanThreshold" && op != "LessThanOrEqualToThreshold") {
      return Validation("understudy does not evaluate " + op + " (anomaly detection) alarms yet.");
    }
    if (!doc.contains("EvaluationPeriods")) {
      return Validation("EvaluationPeriods must not be null.");
    }
    int64_t n = doc["EvaluationPeriods"].get<int64_t>();
    int64_t m = doc.value("DatapointsToAlarm", n);
    if (m > n) {
      return Validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods.");
    }
    if (period * n > 86400 * 7) {
      return Validation(
          "The product of EvaluationPeriods and Period must not exceed 604800 (7 days).");
    }
    if (doc.contains("TreatMissingData")) {
      std::string t = doc["TreatMissingData"].get<std::string>();
      if (t != "missing" && t != "ignore" && t != "breaching" && t != "notBreaching") {
        return Validation("Invalid value for TreatMissingData: " + t +
                          ". Valid values are breaching, notBreaching, ignore, missing.");
      }
    }
    Key key{scope.account, scope.region, name};
    double now = ToEpochSeconds(clock_.Now());
    doc["AlarmArn"] = MakeArn("cloudwatch", scope, "alarm:" + name);
    doc["AlarmConfigurationUpdatedTimestamp"] = now;
    auto existing = alarms_.find(key);
    bool created = existing == alarms_.end();
    if (created) {
      doc["_tags"] = input.value("Tags", Json::array());  // ignored on update, as on AWS
      doc["StateValue"] = "INSUFFICIENT_DATA";
      doc["StateReason"] = "Unchecked: Initial alarm creation";
      doc["StateUpdatedTimestamp"] = now;
      doc["StateTransitionedTimestamp"] = now;
    } else {
      for (const char* kept : {"StateValue", "StateReason", "StateReasonData",
                               "StateUpdatedTimestamp", "StateTransitionedTimestamp", "_tags"}) {
        if (existing->second.contains(kept)) doc[kept] = existing->second[kept];
      }
    }
    alarms_[key] = doc;
    US_RETURN_IF_ERROR_API(SaveAlarm(key));
    AddHistory(key, "ConfigurationUpdate",
               "Alarm \"" + name + "\" " + (created ? "created" : "updated"),
               Json{{"version", "1.0"}, {"type", created ? "Create" : "Update"}});
    journal_.Transition(doc["AlarmArn"].get<std::string>(),
                        Json{{created ? "created" : "updated", name}});
    return Json::object();
  }

  static int64_t Period(const Json& doc) {
    if (doc.contains("Period")) return doc["Period"].get<int64_t>();
    if (doc.contains("Metrics")) return doc["Metrics"][0]["MetricStat"].value("Period", 60);
    return 60;
  }

  ApiResult DescribeAlarms(const Scope& scope, const Json& input) {
    Json types = input.value("AlarmTypes", Json::array());
    bool metric =
        types.empty() || std::find(types.begin(), types.end(), "MetricAlarm") != types.end();
    std::vector<const Json*> matched;
    if (metric) {
      std::set<std::string> names;
      for (const auto& n : input.value("AlarmNames", Json::array()))
        names.insert(n.get<std::string>());
      std::string prefix = input.value("AlarmNamePrefix", "");
      std::string state = input.value("StateValue", "");
      std::string action_prefix = input.value("ActionPrefix", "");
      for (const auto& [key, alarm] : alarms_) {
        if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
        const std::string& name = std::get<2>(key);
        if (!names.empty() && !names.count(name)) continue;
        if (name.rfind(prefix, 0) != 0) continue;
        if (!state.empty() && alarm["StateValue"] != state) continue;
        if (!action_prefix.empty()) {
          bool any = false;
          for (const char* list : {"OKActions", "AlarmActions", "InsufficientDataActions"}) {
            for (const auto& a : alarm[list])
              any |= a.get<std::string>().rfind(action_prefix, 0) == 0;
          }
          if (!any) continue;
        }
        matched.push_back(&alarm);
      }
    }
    size_t offset = 0;
    if (input.contains("NextToken")) {
      auto o = FromPageToken(input["NextToken"].get<std::string>());
      if (!o)
        return ApiError::Client("InvalidNextToken", "The service cannot find the next token.");
      offset = *o;
    }
    size_t max = input.value("MaxRecords", int64_t{100});
    Json out = Json::array();
    for (size_t i = offset; i < matched.size() && out.size() < max; ++i) {
      out.push_back(Shown(*matched[i]));
    }
    Json result{{"MetricAlarms", out}, {"CompositeAlarms", Json::array()}};
    if (offset + out.size() < matched.size()) result["NextToken"] = PageToken(offset + out.size());
    return result;
  }

  ApiResult DescribeAlarmsForMetric(const Scope& scope, const Json& input) {
    MetricId want = MetricId::From(input["Namespace"].get<std::string>(),
                                   input["MetricName"].get<std::string>(),
                                   input.value("Dimensions", Json::array()));
    Json out = Json::array();
    for (const auto& [key, alarm] : alarms_) {
      if (std::get<0>(key) != scope.account || std::get<1>(key) != scope.region) continue;
      auto [id, stat] = MetricOf(alarm);
      if (id.ns != want.ns || id.name != want.name) continue;
      if (input.contains("Dimensions") && id.dimensions != want.dimensions) continue;
      if (input.contains("Statistic") && input["Statistic"] != stat) continue;
      if (input.contains("Period") && input["Period"].get<int64_t>() != Period(alarm)) continue;
      out.push_back(Shown(alarm));
    }
    return Json{{"MetricAlarms", out}};
  }

  ApiResult DeleteAlarms(const Scope& scope, const Json& input) {
    std::vector<std::string> missing;
    for (const auto& n : input["AlarmNames"]) {
      if (!alarms_.count(Key{scope.account, scope.region, n.get<std::string>()}))
        missing.push_back(n.get<std::string>());
    }
    if (!missing.empty()) {
      return ApiError::Client("ResourceNotFound",
                              "1 validation error detected: the following alarms could not be "
                              "found: [" +
                                  missing[0] + "]",
                              404);
    }
    for (const auto& n : input["AlarmNames"]) {
      Key key{scope.account, scope.region, n.get<std::string>()};
      journal_.Transition(alarms_[key]["AlarmArn"].get<std::string>(), Json{{"deleted", true}});
      alarms_.erase(key);
      US_RETURN_IF_ERROR_API(
          store_.Run("DELETE FROM cw_alarms WHERE account = ?1 AND region = ?2 AND name = ?3",
                     {scope.account, scope.region, std::get<2>(key)}));
    }
    return Json::object();
  }

  ApiResult SetAlarmState(const Scope& scope, const Json& input) {
    Key key{scope.account, scope.region, input["AlarmName"].get<std::string>()};
    auto it = alarms_.find(key);
    if (it == alarms_.end()) {
      return ApiError::Client("ResourceNotFound", "Alarm " + std::get<2>(key) + " not found", 404);
    }
    Json reason_data;
    if (input.contains("StateReasonData")) {
      auto parsed = ParseJson(input["StateReasonData"].get<std::string>());
      if (!parsed.ok()) {
        return ApiError::Client("InvalidFormat", "StateReasonData is not valid JSON.");
      }
      reason_data = *parsed;
    }
    std::vector<std::tuple<Scope, std::string, AlarmFiring>> firings;
    Transition(key, it->second, input["StateValue"].get<std::string>(),
               input["StateReason"].get<std::string>(), reason_data, std::nullopt, firings);
    for (auto& [s, arn, firing] : firings) RunAction(s, arn, firing);
    return Json::object();
  }

  ApiResult DescribeAlarmHistory(const Scope& scope, const Json& input) {
    auto text = [&](const char* field) -> SqlValue {
      if (!input.contains(field)) return nullptr;
      return input[field].get<std::string>();
    };
    auto number = [&](const char* field) -> SqlValue {
      if (!input.contains(field)) return nullptr;
      return input[field].get<double>();
    };
    std::string sql =
        "SELECT name, ts, type, summary, data FROM cw_alarm_history WHERE account = ?1 AND "
        "region = ?2 AND (?3 IS NULL OR name = ?3) AND (?4 IS NULL OR type = ?4) AND (?5 IS NULL "
        "OR ts >= ?5) AND (?6 IS NULL OR ts <= ?6)";
    std::vector<SqlValue> params{scope.account,           scope.region,        text("AlarmName"),
                                 text("HistoryItemType"), number("StartDate"), number("EndDate")};
    bool ascending = input.value("ScanBy", "TimestampDescending") == "TimestampAscending";
    sql += ascending ? " ORDER BY id ASC" : " ORDER BY id DESC";
    Json items = Json::array();
    US_RETURN_IF_ERROR_API(store_.Query(sql, params, [&](const SqlRow& row) {
      items.push_back(Json{{"AlarmName", row.Text(0)},
                           {"AlarmType", "MetricAlarm"},
                           {"Timestamp", row.Real(1)},
                           {"HistoryItemType", row.Text(2)},
                           {"HistorySummary", row.Text(3)},
                           {"HistoryData", row.Text(4)}});
    }));
    size_t offset = 0;
    if (input.contains("NextToken")) {
      auto o = FromPageToken(input["NextToken"].get<std::string>());
      if (!o)
        return ApiError::Client("InvalidNextToken", "The service cannot find the next token.");
      offset = *o;
    }
    size_t max = input.value("MaxRecords", int64_t{100});
    Json page = Json::array();
    for (size_t i = offset; i < items.size() && page.size() < max; ++i) page.push_back(items[i]);
    Json result{{"AlarmHistoryItems", page}};
    if (offset + page.size() < items.size()) result["NextToken"] = PageToken(offset + page.size());
    return result;
  }

  ApiResult EnableAlarmActions(const Scope& scope, const Json& input) {
    return SetActionsEnabled(scope, input, true);
  }
  ApiResult DisableAlarmActions(const Scope& scope, const Json& input) {
    return SetActionsEnabled(scope, input, false);
  }
  ApiResult SetActionsEnabled(const Scope& scope, const Json& input, bool enabled) {
    for (const auto& n : input["AlarmNames"]) {
      Key key{scope.account, scope.region, n.get<std::string>()};
      auto it = alarms_.find(key);
      if (it == alarms_.end()) continue;
      it->second["ActionsEnabled"] = enabled;
      US_RETURN_IF_ERROR_API(SaveAlarm(key));
    }
    return Json::object();
  }

  // --- tags ----------------------------------------------------------------------

  // The alarm without what the API does not show (fields starting with '_').
  static Json Shown(const Json& alarm) {
    Json out = alarm;
    out.erase("_tags");
    return out;
  }

  Json* AlarmByArn(const Scope& scope, const std::string& arn, Key* key) {
    for (auto& [k, alarm] : alarms_) {
      if (std::get<0>(k) == scope.account && std::get<1>(k) == scope.region &&
          alarm["AlarmArn"] == arn) {
        *key = k;
        return &alarm;
      }
    }
    return nullptr;
  }
  static ApiError TagTargetNotFound(const std::string& arn) {
    return ApiError::Client("ResourceNotFoundException",
                            "The specified resource " + arn + " does not exist.", 404);
  }

  ApiResult TagResource(const Scope& scope, const Json& input) {
    Key key;
    Json* alarm = AlarmByArn(scope, input["ResourceARN"], &key);
    if (alarm == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    Json tags = alarm->value("_tags", Json::array());
    for (const auto& t : input["Tags"]) {
      bool replaced = false;
      for (auto& existing : tags) {
        if (existing["Key"] == t["Key"]) {
          existing["Value"] = t["Value"];
          replaced = true;
        }
      }
      if (!replaced) tags.push_back(t);
    }
    (*alarm)["_tags"] = tags;
    US_RETURN_IF_ERROR_API(SaveAlarm(key));
    return Json::object();
  }

  ApiResult UntagResource(const Scope& scope, const Json& input) {
    Key key;
    Json* alarm = AlarmByArn(scope, input["ResourceARN"], &key);
    if (alarm == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    Json kept = Json::array();
    const Json& keys = input["TagKeys"];
    for (const auto& t : alarm->value("_tags", Json::array())) {
      if (std::find(keys.begin(), keys.end(), t["Key"]) == keys.end()) kept.push_back(t);
    }
    (*alarm)["_tags"] = kept;
    US_RETURN_IF_ERROR_API(SaveAlarm(key));
    return Json::object();
  }

  ApiResult ListTagsForResource(const Scope& scope, const Json& input) {
    Key key;
    Json* alarm = AlarmByArn(scope, input["ResourceARN"], &key);
    if (alarm == nullptr) return TagTargetNotFound(input["ResourceARN"]);
    return Json{{"Tags", alarm->value("_tags", Json::array())}};
  }

  // --- evaluation ----------------------------------------------------------------

  // The alarm's metric and statistic.
  static std::pair<MetricId, std::string> MetricOf(const Json& alarm) {
    if (alarm.contains("Metrics")) {
      const Json& ms = alarm["Metrics"][0]["MetricStat"];
      const Json& m = ms["Metric"];
      return {MetricId::From(m.value("Namespace", ""), m.value("MetricName", ""),
                             m.value("Dimensions", Json::array())),
              ms.value("Stat", "Average")};
    }
    return {MetricId::From(alarm.value("Namespace", ""), alarm.value("MetricName", ""),
                           alarm.value("Dimensions", Json::array())),
            alarm.value("Statistic", "Average")};
  }

  void EvaluateAlarm(const Key& key, Json& alarm, TimePoint now,
                     std::vector<std::tuple<Scope, std::string, AlarmFiring>>& firings) {
    int64_t period = Period(alarm);
    if (period <= 0 || Secs(now) % std::max<int64_t>(period, kMinute) != 0) return;
    Scope scope{std::get<0>(key), std::get<1>(key)};
    auto [id, stat] = MetricOf(alarm);
    std::string unit = alarm.contains("Metrics")
                           ? alarm["Metrics"][0]["MetricStat"].value("Unit", "")
                           : alarm.value("Unit", "");
    AlarmRule rule;
    rule.comparison = alarm["ComparisonOperator"].get<std::string>();
    rule.threshold = alarm.value("Threshold", 0.0);
    rule.evaluation_periods = static_cast<int>(alarm["EvaluationPeriods"].get<int64_t>());
    rule.datapoints_to_alarm =
        static_cast<int>(alarm.value("DatapointsToAlarm", int64_t{rule.evaluation_periods}));
    rule.treat_missing = alarm.value("TreatMissingData", "missing");
    std::vector<PeriodValue> periods;
    int range = EvaluationRange(rule.evaluation_periods);
    for (int k = 1; k <= range; ++k) {
      TimePoint start = now - std::chrono::seconds(period * k);
      auto s = metrics_.Aggregate(scope, id, start, start + std::chrono::seconds(period), unit);
      periods.push_back(PeriodValue{start, s ? s->Get(stat) : std::nullopt});
    }
    std::string current = alarm["StateValue"].get<std::string>();
    Evaluation e = Evaluate(rule, periods, current);
    std::optional<double> newest;
    if (!e.evaluated.empty()) newest = e.evaluated.front().value;
    if (!e.kept) {
      Json data{{"version", "1.0"},
                {"queryDate", Iso(now)},
                {"statistic", stat},
                {"period", period},
                {"threshold", rule.threshold}};
      Json recent = Json::array(), evaluated = Json::array();
      for (auto it = e.evaluated.rbegin(); it != e.evaluated.rend(); ++it) {
        recent.push_back(*it->value);
        evaluated.push_back(Json{{"timestamp", Iso(it->start)}, {"value", *it->value}});
      }
      if (!e.evaluated.empty()) data["startDate"] = Iso(e.evaluated.back().start);
      data["recentDatapoints"] = recent;
      if (!evaluated.empty()) data["evaluatedDatapoints"] = evaluated;
      Transition(key, alarm, e.state, e.reason, data, newest, firings);
    } else if (current == "ALARM" && alarm.value("ActionsEnabled", true)) {
      // Auto Scaling policies are invoked again at each evaluation while in ALARM.
      for (const auto& a : alarm["AlarmActions"]) {
        std::string arn = a.get<std::string>();
        if (arn.rfind("arn:aws:autoscaling:", 0) != 0) continue;
        firings.emplace_back(
            scope, arn,
            AlarmFiring{std::get<2>(key), alarm["AlarmArn"], "ALARM", newest, rule.threshold});
      }
    }
  }

  void Transition(const Key& key, Json& alarm, const std::string& state, const std::string& reason,
                  const Json& reason_data, std::optional<double> newest,
                  std::vector<std::tuple<Scope, std::string, AlarmFiring>>& firings) {
    Scope scope{std::get<0>(key), std::get<1>(key)};
    std::string old_state = alarm["StateValue"].get<std::string>();
    std::string old_reason = alarm.value("StateReason", "");
    double now = ToEpochSeconds(clock_.Now());
    alarm["StateValue"] = state;
    alarm["StateReason"] = reason;
    if (!reason_data.is_null()) {
      alarm["StateReasonData"] = reason_data.dump();
    } else {
      alarm.erase("StateReasonData");
    }
    alarm["StateUpdatedTimestamp"] = now;
    if (old_state != state) alarm["StateTransitionedTimestamp"] = now;
    (void)SaveAlarm(key);
    const std::string& name = std::get<2>(key);
    Json old_json{{"stateValue", old_state}, {"stateReason", old_reason}};
    Json new_json{{"stateValue", state}, {"stateReason", reason}};
    if (!reason_data.is_null()) new_json["stateReasonData"] = reason_data;
    AddHistory(key, "StateUpdate", "Alarm updated from " + old_state + " to " + state,
               Json{{"version", "1.0"}, {"oldState", old_json}, {"newState", new_json}});
    journal_.Transition(alarm["AlarmArn"].get<std::string>(),
                        Json{{"state", state}, {"from", old_state}, {"reason", reason}});
    auto [id, stat] = MetricOf(alarm);
    Json dims = Json::object();
    for (const auto& [k, v] : id.dimensions) dims[k] = v;
    Json config{{"metrics",
                 Json::array({Json{
                     {"id", "m1"},
                     {"metricStat",
                      {{"metric", {{"namespace", id.ns}, {"name", id.name}, {"dimensions", dims}}},
                       {"period", Period(alarm)},
                       {"stat", stat}}},
                     {"returnData", true}}})}};
    if (alarm.contains("AlarmDescription")) config["description"] = alarm["AlarmDescription"];
    Json state_json{{"value", state}, {"reason", reason}, {"timestamp", Iso(clock_.Now())}};
    if (!reason_data.is_null()) state_json["reasonData"] = reason_data.dump();
    bus_.Publish(Json{{"version", "0"},
                      {"id", random_.Uuid()},
                      {"detail-type", "CloudWatch Alarm State Change"},
                      {"source", "aws.cloudwatch"},
                      {"account", scope.account},
                      {"time", FormatIso8601(clock_.Now()).substr(0, 19) + "Z"},
                      {"region", scope.region},
                      {"resources", Json::array({alarm["AlarmArn"]})},
                      {"detail",
                       {{"alarmName", name},
                        {"state", state_json},
                        {"previousState", {{"value", old_state}, {"reason", old_reason}}},
                        {"configuration", config}}}});
    if (old_state == state || !alarm.value("ActionsEnabled", true)) return;
    const char* list = state == "ALARM" ? "AlarmActions"
                       : state == "OK"  ? "OKActions"
                                        : "InsufficientDataActions";
    for (const auto& a : alarm[list]) {
      std::string arn = a.get<std::string>();
      firings.emplace_back(
          scope, arn,
          AlarmFiring{name, alarm["AlarmArn"], state, newest, alarm.value("Threshold", 0.0)});
      AddHistory(key, "Action", "Successfully executed action " + arn,
                 Json{{"actionState", "Succeeded"}, {"notificationResource", arn}});
    }
  }

  void RunAction(const Scope& scope, const std::string& arn, const AlarmFiring& firing) {
    for (const auto& [prefix, handler] : handlers_) {
      if (arn.rfind(prefix, 0) == 0) {
        handler(scope, arn, firing);
        return;
      }
    }
  }

  Status SaveAlarm(const Key& key) {
    return store_.Run(
        "INSERT INTO cw_alarms(account, region, name, doc) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(account, region, name) DO UPDATE SET doc = excluded.doc",
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), alarms_.at(key).dump()});
  }

  void AddHistory(const Key& key, const std::string& type, const std::string& summary,
                  const Json& data) {
    (void)store_.Run(
        "INSERT INTO cw_alarm_history(account, region, name, ts, type, summary, data) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), ToEpochSeconds(clock_.Now()), type,
         summary, data.dump()});
  }

  // --- overrides -----------------------------------------------------------------

  api::HttpResponse PostOverride(const api::HttpRequest& request) {
    auto bad = [](const std::string& message) {
      return api::ControlError(400, "InvalidMetricOverride", message);
    };
    auto body = ParseJson(request.body);
    if (!body.ok() || !body->is_object()) return bad("the body must be a JSON object");
    const Json& b = *body;
    for (const char* field : {"account", "region", "cluster", "service", "metric", "unit",
                              "targetGroup", "loadBalancer", "namespace"}) {
      if (b.contains(field) && !b[field].is_string()) {
        return bad(std::string("\"") + field + "\" must be a string");
      }
    }
    if (b.contains("dimensions") && !b["dimensions"].is_object()) {
      return bad("\"dimensions\" must be an object of name to value");
    }
    Scope scope{b.value("account", default_scope_.account),
                b.value("region", default_scope_.region)};
    if (scope.account.empty()) scope.account = std::string(kDefaultAccountId);
    if (scope.region.empty()) scope.region = std::string(kDefaultRegion);
    MetricId id;
    std::string unit = b.value("unit", "");
    if (b.contains("service")) {
      // {"cluster": "web", "service": "api", "metric": "CPUUtilization"}
      std::string service = b["service"].is_string() ? b["service"].get<std::string>() : "";
      std::string cluster = b.value("cluster", "default");
      if (service.rfind("service/", 0) == 0) {
        size_t slash = service.find('/', 8);
        if (slash == std::string::npos) return bad("expected service/<cluster>/<service>");
        cluster = service.substr(8, slash - 8);
        service = service.substr(slash + 1);
      }
      std::string metric = b.value("metric", "CPUUtilization");
      if (metric != "CPUUtilization" && metric != "MemoryUtilization") {
        return bad("a service's metric is CPUUtilization or MemoryUtilization, not '" + metric +
                   "'");
      }
      id = MetricId::From("AWS/ECS", metric,
                          Json{{"ClusterName", cluster}, {"ServiceName", service}});
      if (unit.empty()) unit = "Percent";
    } else if (b.contains("targetGroup")) {
      // {"targetGroup": "<arn or targetgroup/name/id>", "loadBalancer"?: ..., "metric": ...}
      std::string tg = b["targetGroup"].is_string() ? b["targetGroup"].get<std::string>() : "";
      size_t at = tg.find("targetgroup/");
      if (at == std::string::npos)
        return bad("targetGroup must be an ARN or targetgroup/<name>/<id>");
      std::string metric = b.value("metric", "RequestCountPerTarget");
      Json dims{{"TargetGroup", tg.substr(at)}};
      if (b.contains("loadBalancer")) {
        std::string lb = b["loadBalancer"].get<std::string>();
        size_t a = lb.find("app/");
        dims["LoadBalancer"] = a == std::string::npos ? lb : lb.substr(a);
      }
      id = MetricId::From("AWS/ApplicationELB", metric, dims);
      if (unit.empty()) unit = metric == "TargetResponseTime" ? "Seconds" : "Count";
    } else if (b.contains("namespace") && b.contains("metric")) {
      id = MetricId::From(b["namespace"].get<std::string>(), b["metric"].get<std::string>(),
                          b.value("dimensions", Json::object()));
    } else {
      return bad(
          "name what to override: {\"cluster\", \"service\", \"metric\"}, {\"targetGroup\", "
          "\"metric\"} or {\"namespace\", \"metric\", \"dimensions\"}");
    }
    TimePoint now = clock_.Now();
    Override o{scope, id, unit, {}, Json::object()};
    auto offset = [&](const Json& v, const char* what) -> Result<TimePoint> {
      if (!v.is_string()) return Status::InvalidArgument(std::string(what) + " must be a duration");
      US_ASSIGN_OR_RETURN(auto d, ParseDuration(v.get<std::string>()));
      return now + d;
    };
    auto number = [](const Json& v) -> std::optional<double> {
      if (v.is_number()) return v.get<double>();
      return std::nullopt;
    };
    if (b.contains("series")) {
      if (!b["series"].is_array()) return bad("series must be a list of {\"after\", \"value\"}");
      for (const auto& s : b["series"]) {
        if (!s.is_object() || !s.contains("value") ||
            !(s["value"].is_number() || s["value"].is_null())) {
          return bad(
              "each series entry is {\"after\": \"<duration>\", \"value\": <number or null>}");
        }
        auto from = offset(s.value("after", Json("0s")), "after");
        if (!from.ok()) return bad(from.status().message());
        o.series.emplace_back(*from, number(s["value"]));
      }
      std::stable_sort(o.series.begin(), o.series.end(),
                       [](const auto& a, const auto& c) { return a.first < c.first; });
    } else if (b.contains("value")) {
      auto v = number(b["value"]);
      if (!v) return bad("value must be a number");
      auto from = offset(b.value("from", Json("0s")), "from");
      if (!from.ok()) return bad(from.status().message());
      o.series.emplace_back(*from, v);
      if (b.contains("until")) {
        auto until = offset(b["until"], "until");
        if (!until.ok()) return bad(until.status().message());
        if (*until <= *from) return bad("until must come after from");
        o.series.emplace_back(*until, std::nullopt);
      }
    } else {
      return bad("give a \"value\" (with optional \"from\" and \"until\") or a \"series\"");
    }
    Json series = Json::array();
    for (const auto& [from, v] : o.series) {
      series.push_back(Json{{"from", FormatIso8601(from)}, {"value", v ? Json(*v) : Json()}});
    }
    o.spec = Json{
        {"namespace", id.ns},       {"metric", id.name},      {"dimensions", id.DimensionsJson()},
        {"account", scope.account}, {"region", scope.region}, {"series", series}};
    journal_.Input("cloudwatch.override", o.spec);
    Json spec = o.spec;
    overrides_[OverrideKey{scope.account, scope.region, id}] = std::move(o);
    return api::JsonResponse(200, Json{{"override", spec}});
  }

 public:
  void set_default_scope(Scope scope) { default_scope_ = std::move(scope); }

 private:
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Random random_;
  EventBus& bus_;
  MetricsStore metrics_;
  std::map<Key, Json> alarms_;
  std::map<OverrideKey, Override> overrides_;
  std::set<OverrideKey> published_;
  std::vector<std::function<void(TimePoint)>> sources_;
  std::map<std::string, ActionHandler> handlers_;
  TimerId timer_ = 0;
  Scope default_scope_;
};

}  // namespace

Result<std::unique_ptr<CloudWatch>> CloudWatch::Open(Store& store, Journal& journal, Clock& clock,
                                                     Random random, EventBus& bus,
                                                     Scope default_scope) {
  auto cw = std::make_unique<CloudWatchImpl>(store, journal, clock, std::move(random), bus);
  cw->set_default_scope(std::move(default_scope));
  US_RETURN_IF_ERROR(cw->Open());
  return std::unique_ptr<CloudWatch>(std::move(cw));
}

}  // namespace understudy::cloudwatch
