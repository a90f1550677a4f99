#include "traffic/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace understudy::traffic {
namespace {

const char* kTargetExpected =
    "a target: \"loadBalancer\" (a load balancer name) with \"port\" (its listener's port), "
    "or \"url\" (\"http://127.0.0.1:8080\")";

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

bool IsToken(const std::string& text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c <= 32 || c >= 127 || std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string::npos)
      return false;
  }
  return true;
}

std::optional<SpecError> OnlyMembers(const Json& value, const std::string& at,
                                     const std::vector<std::string>& allowed) {
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return SpecError{Join(at, it.key()), "an unknown member \"" + it.key() + "\"",
                       "only " + list};
    }
  }
  return std::nullopt;
}

std::optional<SpecError> ParseTarget(const Json& value, Target* out) {
  // Either flat members or "target": {...}.
  const Json* holder = &value;
  std::string at;
  if (auto it = value.find("target"); it != value.end()) {
    if (value.contains("loadBalancer") || value.contains("url") || value.contains("port")) {
      return SpecError{"target", "\"target\" next to loadBalancer, port or url",
                       "the target either in \"target\" or as members, not both"};
    }
    if (!it->is_object()) return SpecError{"target", FoundText(*it), kTargetExpected};
    if (auto e = OnlyMembers(*it, "target", {"loadBalancer", "port", "url"})) return e;
    holder = &*it;
    at = "target";
  }
  auto lb = holder->find("loadBalancer");
  auto url = holder->find("url");
  if ((lb == holder->end()) == (url == holder->end())) {
    return SpecError{
        at, lb == holder->end() ? "neither loadBalancer nor url" : "both loadBalancer and url",
        kTargetExpected};
  }
  if (url != holder->end()) {
    if (!url->is_string()) return SpecError{Join(at, "url"), FoundText(*url), "an http:// URL"};
    std::string text = url->get<std::string>();
    if (text.rfind("http://", 0) != 0 || text.size() <= 7) {
      return SpecError{Join(at, "url"), FoundText(*url),
                       "an http:// URL such as \"http://127.0.0.1:8080\" (https is not supported)"};
    }
    if (holder->contains("port")) {
      return SpecError{Join(at, "port"), FoundText((*holder)["port"]),
                       "no port with url (the URL carries it)"};
    }
    out->url = text;
    return std::nullopt;
  }
  if (!lb->is_string() || lb->get<std::string>().empty()) {
    return SpecError{Join(at, "loadBalancer"), FoundText(*lb), "a load balancer name"};
  }
  out->load_balancer = lb->get<std::string>();
  auto port = holder->find("port");
  if (port == holder->end()) {
    out->port = 80;
  } else if (!port->is_number_integer() || port->get<int64_t>() < 1 ||
             port->get<int64_t>() > 65535) {
    return SpecError{Join(at, "port"), FoundText(*port), "a listener port from 1 to 65535"};
  } else {
    out->port = port->get<int>();
  }
  return std::nullopt;
}

std::optional<SpecError> ParseCommon(const Json& value, std::string* method,
                                     std::vector<std::pair<std::string, std::string>>* headers,
                                     std::string* body, Duration* timeout, std::string* account,
                                     std::string* region) {
  if (auto it = value.find("method"); it != value.end()) {
    if (!it->is_string() || !IsToken(it->get<std::string>())) {
      return SpecError{"method", FoundText(*it), "an HTTP method such as \"GET\" or \"POST\""};
    }
    *method = it->get<std::string>();
  }
  if (auto it = value.find("headers"); it != value.end()) {
    if (!it->is_object()) {
      return SpecError{"headers", FoundText(*it), "an object of header names and string values"};
    }
    for (auto h = it->begin(); h != it->end(); ++h) {
      if (!IsToken(h.key())) {
        return SpecError{"headers", "the header name \"" + h.key() + "\"", "a header name token"};
      }
      if (!h->is_string() || h->get<std::string>().find_first_of("\r\n") != std::string::npos) {
        return SpecError{"headers." + h.key(), FoundText(*h), "a header value string on one line"};
      }
      headers->emplace_back(h.key(), h->get<std::string>());
    }
  }
  if (auto it = value.find("body"); it != value.end()) {
    if (it->is_string()) {
      *body = it->get<std::string>();
    } else if (it->is_structured()) {
      *body = it->dump();
      bool typed = false;
      for (const auto& [name, v] : *headers) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        typed |= lower == "content-type";
      }
      if (!typed) headers->emplace_back("Content-Type", "application/json");
    } else {
      return SpecError{"body", FoundText(*it), "a string, or a JSON object or array sent as JSON"};
    }
  }
  if (auto it = value.find("timeout"); it != value.end()) {
    auto d = it->is_string() ? ParseDuration(it->get<std::string>())
                             : Result<Duration>(Status::InvalidArgument(""));
    if (!d.ok() || d->count() <= 0 || *d > std::chrono::minutes(10)) {
      return SpecError{"timeout", FoundText(*it),
                       "a real-time duration from 1ms to 10m such as \"10s\""};
    }
    *timeout = *d;
  }
  for (auto [name, out] : {std::pair<const char*, std::string*>{"account", account},
                           std::pair<const char*, std::string*>{"region", region}}) {
    if (auto it = value.find(name); it != value.end()) {
      if (!it->is_string()) return SpecError{name, FoundText(*it), "a string"};
      *out = it->get<std::string>();
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SpecError::Message() const {
  return (member.empty() ? std::string("the request") : member) + ": found " + found +
         "; expected " + expected;
}

std::string FoundText(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return value.empty() ? "an empty object" : "an object";
    case Json::value_t::array:
      return value.empty() ? "an empty array" : "an array";
    case Json::value_t::string: {
      std::string text = value.dump();
      return text.size() > 60 ? text.substr(0, 57) + "...\"" : text;
    }
    case Json::value_t::null:
      return "null";
    default:
      return value.dump() + " (" + value.type_name() + ")";
  }
}

const std::vector<std::string>& TrafficSpecMembers() {
  static const std::vector<std::string> members = {
      "name",   "target",  "loadBalancer", "port",        "url",     "rate",    "duration", "paths",
      "method", "headers", "body",         "concurrency", "timeout", "account", "region"};
  return members;
}

const std::vector<std::string>& RequestSpecMembers() {
  static const std::vector<std::string> members = {"target",  "loadBalancer", "port",    "url",
                                                   "path",    "method",       "headers", "body",
                                                   "timeout", "account",      "region"};
  return members;
}

int64_t TrafficSpec::Planned() const {
  double seconds = std::chrono::duration<double>(duration).count();
  return static_cast<int64_t>(std::floor(rate * seconds + 1e-9));
}

Duration TrafficSpec::OffsetOf(int64_t i) const {
  return Duration(static_cast<int64_t>(std::llround(static_cast<double>(i) * 1e6 / rate)));
}

std::variant<TrafficSpec, SpecError> ParseTrafficSpec(const Json& value) {
  if (!value.is_object()) {
    return SpecError{"", FoundText(value),
                     "a traffic object such as {\"name\": \"t1\", \"loadBalancer\": \"web\", "
                     "\"port\": 80, \"rate\": 20, \"duration\": \"10m\", \"paths\": [\"/\"]}"};
  }
  if (auto e = OnlyMembers(value, "", TrafficSpecMembers())) return *e;
  TrafficSpec spec;
  auto name = value.find("name");
  if (name == value.end()) return SpecError{"", "no \"name\"", "a \"name\" for the generator"};
  if (!name->is_string() || name->get<std::string>().empty() ||
      name->get<std::string>().size() > 64 ||
      name->get<std::string>().find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos) {
    return SpecError{"name", FoundText(*name),
                     "a name of 1 to 64 letters, digits, '-', '_' or '.'"};
  }
  spec.name = name->get<std::string>();
  if (auto e = ParseTarget(value, &spec.target)) return *e;
  auto rate = value.find("rate");
  if (rate == value.end()) return SpecError{"", "no \"rate\"", "a \"rate\" in requests per second"};
  if (!rate->is_number() || rate->get<double>() <= 0 || rate->get<double>() > 10000) {
    return SpecError{"rate", FoundText(*rate),
                     "a number of requests per second above 0 and at most 10000"};
  }
  spec.rate = rate->get<double>();
  auto duration = value.find("duration");
  if (duration == value.end()) {
    return SpecError{"", "no \"duration\"", "a \"duration\" such as \"10m\""};
  }
  auto d = duration->is_string() ? ParseDuration(duration->get<std::string>())
                                 : Result<Duration>(Status::InvalidArgument(""));
  if (!d.ok() || d->count() <= 0) {
    return SpecError{"duration", FoundText(*duration),
                     "a duration longer than 0s such as \"90s\", \"10m\" or \"1h\""};
  }
  spec.duration = *d;
  if (spec.Planned() < 1) {
    return SpecError{"duration", FoundText(*duration),
                     "a duration long enough for one request at the rate given"};
  }
  if (spec.Planned() > 10'000'000) {
    return SpecError{"duration", FoundText(*duration),
                     "at most 10000000 requests in all (rate × duration)"};
  }
  if (auto it = value.find("paths"); it != value.end()) {
    static const char* kPaths =
        "a non-empty array of paths (\"/api/users\") or of {\"path\", \"weight\"} objects";
    if (!it->is_array() || it->empty()) return SpecError{"paths", FoundText(*it), kPaths};
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& p = (*it)[i];
      std::string at = "paths[" + std::to_string(i) + "]";
      WeightedPath wp;
      const Json* text = &p;
      if (p.is_object()) {
        if (i > 0 && !spec.weighted) return SpecError{at, "an object among strings", kPaths};
        spec.weighted = true;
        if (auto e = OnlyMembers(p, at, {"path", "weight"})) return *e;
        if (!p.contains("path")) return SpecError{at, "no \"path\"", "a \"path\" string"};
        text = &p["path"];
        at += ".path";
        auto w = p.find("weight");
        if (w == p.end() || !w->is_number() || w->get<double>() <= 0) {
          return SpecError{"paths[" + std::to_string(i) + "].weight",
                           w == p.end() ? "no \"weight\"" : FoundText(*w),
                           "a weight above 0 (the share of requests relative to the others)"};
        }
        wp.weight = w->get<double>();
      } else if (spec.weighted) {
        return SpecError{at, FoundText(p), "a {\"path\", \"weight\"} object like the others"};
      }
      if (!text->is_string() || text->get<std::string>().empty() ||
          text->get<std::string>()[0] != '/' ||
          text->get<std::string>().find_first_of(" \r\n\t") != std::string::npos) {
        return SpecError{at, FoundText(*text),
                         "a path starting with '/' without spaces, such as \"/api/users?id=1\""};
      }
      wp.path = text->get<std::string>();
      spec.paths.push_back(std::move(wp));
    }
  } else {
    spec.paths.push_back(WeightedPath{"/", 1});
  }
  if (auto it = value.find("concurrency"); it != value.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1024) {
      return SpecError{"concurrency", FoundText(*it),
                       "a whole number of requests in flight from 1 to 1024"};
    }
    spec.concurrency = it->get<int>();
  }
  if (auto e = ParseCommon(value, &spec.method, &spec.headers, &spec.body, &spec.timeout,
                           &spec.account, &spec.region)) {
    return *e;
  }
  return spec;
}

std::variant<RequestSpec, SpecError> ParseRequestSpec(const Json& value) {
  if (!value.is_object()) {
    return SpecError{"", FoundText(value),
                     "a request object such as {\"loadBalancer\": \"web\", \"port\": 80, "
                     "\"path\": \"/\"}"};
  }
  if (auto e = OnlyMembers(value, "", RequestSpecMembers())) return *e;
  RequestSpec spec;
  if (auto e = ParseTarget(value, &spec.target)) return *e;
  if (auto it = value.find("path"); it != value.end()) {
    if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>()[0] != '/' ||
        it->get<std::string>().find_first_of(" \r\n\t") != std::string::npos) {
      return SpecError{"path", FoundText(*it), "a path starting with '/' without spaces"};
    }
    spec.path = it->get<std::string>();
  }
  if (auto e = ParseCommon(value, &spec.method, &spec.headers, &spec.body, &spec.timeout,
                           &spec.account, &spec.region)) {
    return *e;
  }
  return spec;
}

void TrafficStats::Record(const Outcome& o) {
  ++total_;
  bool failed = true;
  switch (o.kind) {
    case OutcomeKind::kResponse:
      ++responses_;
      ++by_status_[o.status];
      latencies_us_.push_back(o.latency.count());
      failed = o.status >= 500;
      break;
    case OutcomeKind::kConnectError:
      ++connection_errors_;
      break;
    case OutcomeKind::kTimeout:
      ++timeouts_;
      break;
    case OutcomeKind::kOtherError:
      ++other_errors_;
      break;
  }
  auto& bucket = per_second_[o.second];
  ++bucket.first;
  if (failed) {
    ++errors_;
    ++bucket.second;
    if (!first_error_) first_error_ = o;
    last_error_ = o;
  }
}

int64_t TrafficStats::Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

namespace {

double Ms(int64_t us) { return std::round(static_cast<double>(us) / 10.0) / 100.0; }

Json ErrorJson(const Outcome& o) {
  const char* kind = "status";
  switch (o.kind) {
    case OutcomeKind::kResponse:
      kind = "status";
      break;
    case OutcomeKind::kConnectError:
      kind = "connectionError";
      break;
    case OutcomeKind::kTimeout:
      kind = "timeout";
      break;
    case OutcomeKind::kOtherError:
      kind = "error";
      break;
  }
  Json out{{"at", FormatIso8601(o.sent_at)}, {"kind", kind}, {"path", o.path}};
  if (o.kind == OutcomeKind::kResponse) out["status"] = o.status;
  if (!o.message.empty()) out["message"] = o.message;
  return out;
}

}  // namespace

Json TrafficStats::Totals() const {
  Json status = Json::object();
  for (const auto& [code, n] : by_status_) status[std::to_string(code)] = n;
  return Json{{"total", total_},       {"responses", responses_},
              {"errors", errors_},     {"connectionErrors", connection_errors_},
              {"timeouts", timeouts_}, {"otherErrors", other_errors_},
              {"status", status}};
}

Json TrafficStats::ToJson(bool per_second) const {
  Json out = Totals();
  int64_t classes[6] = {0, 0, 0, 0, 0, 0};
  for (const auto& [code, n] : by_status_) {
    if (code >= 100 && code < 600) classes[code / 100] += n;
  }
  for (int c = 1; c <= 5; ++c) out[std::to_string(c) + "xx"] = classes[c];
  std::vector<int64_t> sorted = latencies_us_;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (int64_t v : sorted) mean += static_cast<double>(v);
  if (!sorted.empty()) mean /= static_cast<double>(sorted.size());
  out["latency"] = Json{{"count", sorted.size()},
                        {"p50Ms", Ms(Percentile(sorted, 50))},
                        {"p90Ms", Ms(Percentile(sorted, 90))},
                        {"p99Ms", Ms(Percentile(sorted, 99))},
                        {"maxMs", Ms(sorted.empty() ? 0 : sorted.back())},
                        {"meanMs", Ms(static_cast<int64_t>(mean))}};
  out["firstError"] = first_error_ ? ErrorJson(*first_error_) : Json(nullptr);
  out["lastError"] = last_error_ ? ErrorJson(*last_error_) : Json(nullptr);
  if (per_second) {
    Json seconds = Json::array();
    for (const auto& [s, counts] : per_second_) {
      seconds.push_back(Json{{"second", s}, {"total", counts.first}, {"errors", counts.second}});
    }
    out["perSecond"] = seconds;
  }
  return out;
}

}  // namespace understudy::traffic
