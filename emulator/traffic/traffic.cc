#include "traffic/traffic.h"

#include <algorithm>
#include <deque>
#include <map>

#include "api/http.h"
#include "traffic/http_client.h"
#include "traffic/spec.h"

namespace understudy::traffic {
namespace {

struct Resolved {
  uint16_t port = 0;
  std::string host_header;
  std::string base_path;  // a URL's path, put before every request's path
  Json describe;          // what the answers show as "target"
};

// An HTTP error answer of the control API, or a resolved target.
struct ResolveError {
  int status;
  std::string code;
  std::string message;
};

OutcomeKind KindOf(HttpResult::Kind kind) {
  switch (kind) {
    case HttpResult::Kind::kResponse:
      return OutcomeKind::kResponse;
    case HttpResult::Kind::kConnectError:
      return OutcomeKind::kConnectError;
    case HttpResult::Kind::kTimeout:
      return OutcomeKind::kTimeout;
    case HttpResult::Kind::kOtherError:
      return OutcomeKind::kOtherError;
  }
  return OutcomeKind::kOtherError;
}

const char* KindName(HttpResult::Kind kind) {
  switch (kind) {
    case HttpResult::Kind::kResponse:
      return "response";
    case HttpResult::Kind::kConnectError:
      return "connectionError";
    case HttpResult::Kind::kTimeout:
      return "timeout";
    case HttpResult::Kind::kOtherError:
      return "error";
  }
  return "error";
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

class TrafficImpl : public Traffic {
 public:
  TrafficImpl(EventLoop& loop, Clock& clock, Journal& journal, Waits& waits, Random random,
              TrafficOptions options)
      : loop_(loop),
        clock_(clock),
        journal_(journal),
        waits_(waits),
        random_(random),
        options_(std::move(options)) {}

  ~TrafficImpl() override {
    for (auto& [name, g] : generators_) {
      if (g->timer != 0) clock_.Cancel(g->timer);
    }
  }

  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    front_door.RegisterInternal("POST", "/_understudy/traffic",
                                [this](const api::HttpRequest& request, api::HttpReply reply) {
                                  Start(request, std::move(reply));
                                });
    front_door.RegisterInternal("GET", "/_understudy/traffic",
                                [this](const api::HttpRequest&, api::HttpReply reply) {
                                  Json list = Json::array();
                                  for (const auto& [name, g] : generators_) {
                                    list.push_back(Describe(*g, false));
                                  }
                                  reply(api::JsonResponse(200, Json{{"generators", list}}));
                                });
    front_door.RegisterInternalPrefix(
        "GET", "/_understudy/traffic/",
        [this](const api::HttpRequest& request, api::HttpReply reply) {
          std::string name = request.path.substr(std::string("/_understudy/traffic/").size());
          auto it = generators_.find(name);
          if (it == generators_.end()) {
            reply(NotFound(name));
            return;
          }
          reply(api::JsonResponse(200, Describe(*it->second, true)));
        });
    front_door.RegisterInternalPrefix(
        "POST", "/_understudy/traffic/",
        [this](const api::HttpRequest& request, api::HttpReply reply) {
          std::string rest = request.path.substr(std::string("/_understudy/traffic/").size());
          const std::string suffix = "/stop";
          if (rest.size() <= suffix.size() ||
              rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0) {
            reply(api::ControlError(404, "NotFound",
                                    "expected POST /_understudy/traffic/<name>/stop"));
            return;
          }
          std::string name = rest.substr(0, rest.size() - suffix.size());
          auto it = generators_.find(name);
          if (it == generators_.end()) {
            reply(NotFound(name));
            return;
          }
          journal_.Input("understudy.traffic", Json{{"stop", name}});
          Stop(it->second);
          reply(api::JsonResponse(200, Describe(*it->second, false)));
        });
    front_door.RegisterInternal("POST", "/_understudy/http",
                                [this](const api::HttpRequest& request, api::HttpReply reply) {
                                  SendOne(request, std::move(reply));
                                });
    control.AddCondition(
        "trafficDone", [this](const Scope&, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || !params.contains("name") || !params["name"].is_string() ||
              params.size() != 1) {
            return Status::InvalidArgument(
                "expected {\"name\": \"<traffic generator name>\"}, found " + params.dump());
          }
          std::string name = params["name"].get<std::string>();
          if (generators_.count(name) == 0) {
            return Status::InvalidArgument("no traffic generator is named '" + name +
                                           "' (running or finished: " + Names() + ")");
          }
          return api::WaitCondition{
              [this, name] {
                auto it = generators_.find(name);
                return it != generators_.end() &&
                       (it->second->state == "done" || it->second->state == "stopped");
              },
              [this, name] {
                auto it = generators_.find(name);
                return it == generators_.end() ? Json{{"name", name}, {"state", "gone"}}
                                               : Describe(*it->second, false);
              }};
        });
    control.AddResetHook([this] { return Reset(); });
  }

  Status Reset() override {
    for (auto& [name, g] : generators_) {
      if (g->timer != 0) clock_.Cancel(g->timer);
      g->timer = 0;
    }
    // In-flight requests find their generator gone and only release their holds.
    generators_.clear();
    return Status::Ok();
  }

 private:
  struct Queued {
    int64_t index;
    std::string path;
  };
  struct Generator {
    TrafficSpec spec;
    Resolved target;
    Random random{0};
    TimePoint started{};
    std::optional<TimePoint> finished;
    std::string state = "running";  // running, stopping, done, stopped
    int64_t planned = 0;
    int64_t next = 0;    // the next request index to come due
    bool ended = false;  // the clock reached the end of the duration
    int64_t in_flight = 0;
    int64_t not_sent = 0;
    std::deque<Queued> queued;  // due while `concurrency` requests were in flight
    TimerId timer = 0;
    TrafficStats stats;
    std::map<uint64_t, Hold> holds;  // by request id, while in flight
    uint64_t next_request = 1;
  };

  api::HttpResponse NotFound(const std::string& name) const {
    return api::ControlError(
        404, "TrafficNotFound",
        "no traffic generator is named '" + name + "' (running or finished: " + Names() + ")");
  }

  std::string Names() const {
    std::string out;
    for (const auto& [name, g] : generators_) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "none" : out;
  }

  std::variant<Resolved, ResolveError> Resolve(const Target& target, const std::string& account,
                                               const std::string& region) const {
    Resolved out;
    if (!target.url.empty()) {
      std::string rest = target.url.substr(7);  // after http://
      size_t slash = rest.find('/');
      std::string authority = rest.substr(0, slash);
      out.base_path = slash == std::string::npos ? "" : rest.substr(slash);
      while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
      size_t colon = authority.rfind(':');
      std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
      int port = 80;
      if (colon != std::string::npos) {
        try {
          port = std::stoi(authority.substr(colon + 1));
        } catch (...) {
          port = -1;
        }
      }
      if (host != "127.0.0.1" && host != "localhost") {
        return ResolveError{
            400, "InvalidTrafficRequest",
            "url: found \"" + target.url + "\"; expected a loopback URL (http://127.0.0.1:<port>)"};
      }
      if (port < 1 || port > 65535) {
        return ResolveError{400, "InvalidTrafficRequest",
                            "url: found \"" + target.url + "\"; expected a port from 1 to 65535"};
      }
      out.port = static_cast<uint16_t>(port);
      out.host_header = authority;
      out.describe = Json{{"url", target.url}};
      return out;
    }
    std::string want_account = account.empty() ? options_.default_account : account;
    std::string want_region = region.empty() ? options_.default_region : region;
    Json all = options_.load_balancers ? options_.load_balancers() : Json::object();
    std::string names;
    for (const auto& lb : all.value("loadBalancers", Json::array())) {
      if (lb.value("account", "") != want_account || lb.value("region", "") != want_region)
        continue;
      names += (names.empty() ? "" : ", ") + lb.value("name", "");
      if (lb.value("name", "") != target.load_balancer) continue;
      std::string ports;
      for (const auto& l : lb.value("listeners", Json::array())) {
        ports += (ports.empty() ? "" : ", ") + l.value("port", Json(0)).dump();
        if (l.value("port", 0) != target.port) continue;
        if (l.value("protocol", "") != "HTTP") {
          return ResolveError{400, "UnsupportedListener",
                              "the listener on port " + std::to_string(target.port) + " of " +
                                  target.load_balancer + " speaks " + l.value("protocol", "") +
                                  "; traffic is sent to HTTP listeners only"};
        }
        int local = l.value("localPort", 0);
        if (local == 0) {
          return ResolveError{409, "ListenerNotOpen",
                              "the listener on port " + std::to_string(target.port) + " of " +
                                  target.load_balancer + " has no local port open"};
        }
        out.port = static_cast<uint16_t>(local);
        std::string dns = lb.value("dnsName", "");
        out.host_header = target.port == 80 ? dns : dns + ":" + std::to_string(target.port);
        out.describe = Json{{"loadBalancer", target.load_balancer},
                            {"port", target.port},
                            {"url", "http://127.0.0.1:" + std::to_string(local)},
                            {"host", out.host_header}};
        return out;
      }
      return ResolveError{404, "ListenerNotFound",
                          "load balancer " + target.load_balancer + " has no listener on port " +
                              std::to_string(target.port) +
                              " (its listeners: " + (ports.empty() ? "none" : ports) + ")"};
    }
    return ResolveError{404, "LoadBalancerNotFound",
                        "no load balancer is named " + target.load_balancer + " in account " +
                            want_account + ", region " + want_region +
                            " (load balancers: " + (names.empty() ? "none" : names) + ")"};
  }

  static std::optional<Json> BodyJson(const api::HttpRequest& request, api::HttpReply& reply) {
    auto body = ParseJson(request.body.empty() ? "{}" : request.body);
    if (!body.ok()) {
      reply(api::ControlError(400, "InvalidTrafficRequest",
                              "the body is not JSON: " + body.status().message()));
      return std::nullopt;
    }
    return std::move(body).value();
  }

  void Start(const api::HttpRequest& request, api::HttpReply reply) {
    auto body = BodyJson(request, reply);
    if (!body) return;
    auto parsed = ParseTrafficSpec(*body);
    if (auto* e = std::get_if<SpecError>(&parsed)) {
      reply(api::ControlError(400, "InvalidTrafficRequest", e->Message()));
      return;
    }
    TrafficSpec spec = std::get<TrafficSpec>(std::move(parsed));
    auto existing = generators_.find(spec.name);
    if (existing != generators_.end() &&
        (existing->second->state == "running" || existing->second->state == "stopping")) {
      reply(api::ControlError(409, "TrafficAlreadyRunning",
                              "the traffic generator '" + spec.name +
                                  "' is still running; stop it or use another name"));
      return;
    }
    auto resolved = Resolve(spec.target, spec.account, spec.region);
    if (auto* e = std::get_if<ResolveError>(&resolved)) {
      reply(api::ControlError(e->status, e->code, e->message));
      return;
    }
    journal_.Input("understudy.traffic", Json{{"start", *body}});
    auto g = std::make_shared<Generator>();
    g->spec = std::move(spec);
    g->target = std::get<Resolved>(std::move(resolved));
    g->random = random_.Fork(g->spec.name);
    g->started = clock_.Now();
    g->planned = g->spec.Planned();
    generators_[g->spec.name] = g;
    ScheduleNext(g);
    reply(api::JsonResponse(200, Describe(*g, false)));
  }

  void ScheduleNext(const std::shared_ptr<Generator>& g) {
    std::weak_ptr<Generator> weak = g;
    if (g->next >= g->planned) {
      // The generator ends when its duration is over and every answer is in.
      g->timer = clock_.Schedule(
          g->started + g->spec.duration,
          [weak, this] {
            auto g = weak.lock();
            if (!g) return;
            g->timer = 0;
            g->ended = true;
            MaybeFinish(*g);
          },
          "traffic " + g->spec.name + " ends");
      return;
    }
    g->timer = clock_.Schedule(
        g->started + g->spec.OffsetOf(g->next),
        [this, weak] {
          auto g = weak.lock();
          if (!g) return;
          g->timer = 0;
          Tick(g);
        },
        "traffic " + g->spec.name);
  }

  std::string PickPath(Generator& g, int64_t index) {
    const auto& paths = g.spec.paths;
    if (!g.spec.weighted) return paths[static_cast<size_t>(index) % paths.size()].path;
    double total = 0;
    for (const auto& p : paths) total += p.weight;
    double draw = g.random.Unit() * total;
    for (const auto& p : paths) {
      if (draw < p.weight) return p.path;
      draw -= p.weight;
    }
    return paths.back().path;
  }

  void Tick(const std::shared_ptr<Generator>& g) {
    if (g->state != "running") return;
    int64_t index = g->next++;
    std::string path = PickPath(*g, index);
    if (g->in_flight >= g->spec.concurrency) {
      g->queued.push_back(Queued{index, std::move(path)});
    } else {
      Issue(g, path);
    }
    ScheduleNext(g);
    MaybeFinish(*g);
  }

  void Issue(const std::shared_ptr<Generator>& g, const std::string& path) {
    uint64_t id = g->next_request++;
    g->holds.emplace(id,
                     clock_.Acquire("traffic " + g->spec.name + " " + g->spec.method + " " + path));
    ++g->in_flight;
    HttpRequest request;
    request.port = g->target.port;
    request.method = g->spec.method;
    request.target = g->target.base_path + path;
    request.host_header = g->target.host_header;
    request.headers = g->spec.headers;
    request.body = g->spec.body;
    request.timeout = g->spec.timeout;
    TimePoint sent_at = clock_.Now();
    int64_t second = std::chrono::duration_cast<std::chrono::seconds>(sent_at - g->started).count();
    std::weak_ptr<Generator> weak = g;
    std::weak_ptr<bool> alive = alive_;
    EventLoop* loop = &loop_;
    client_.Send(std::move(request), [this, loop, alive, weak, id, path, sent_at,
                                      second](HttpResult result) {
      loop->Post([this, alive, weak, id, path, sent_at, second, result = std::move(result)] {
        if (alive.expired()) return;
        auto g = weak.lock();
        if (!g) return;
        Outcome o{KindOf(result.kind),
                  result.status,
                  result.latency,
                  result.error,
                  path,
                  sent_at,
                  second};
        Complete(g, id, o);
      });
    });
  }

  void Complete(const std::shared_ptr<Generator>& g, uint64_t id, const Outcome& outcome) {
    g->stats.Record(outcome);
    --g->in_flight;
    while (g->state == "running" && g->in_flight < g->spec.concurrency && !g->queued.empty()) {
      Queued next = std::move(g->queued.front());
      g->queued.pop_front();
      Issue(g, next.path);
    }
    MaybeFinish(*g);
    g->holds.erase(id);  // lets the clock move on, now that the answer is counted
    waits_.NotifyChanged();
  }

  void MaybeFinish(Generator& g) {
    bool done = g.state == "running" && g.ended && g.queued.empty() && g.in_flight == 0;
    bool stopped = g.state == "stopping" && g.in_flight == 0;
    if (!done && !stopped) return;
    g.state = done ? "done" : "stopped";
    g.finished = clock_.Now();
    Json detail = g.stats.Totals();
    detail["name"] = g.spec.name;
    detail["state"] = g.state;
    detail["planned"] = g.planned;
    detail["notSent"] = g.not_sent;
    journal_.Transition("traffic", detail);
    waits_.NotifyChanged();
  }

  void Stop(const std::shared_ptr<Generator>& g) {
    if (g->state != "running") return;
    if (g->timer != 0) clock_.Cancel(g->timer);
    g->timer = 0;
    g->not_sent = g->planned - g->next + static_cast<int64_t>(g->queued.size());
    g->queued.clear();
    g->state = "stopping";
    MaybeFinish(*g);
  }

  Json Describe(const Generator& g, bool per_second) const {
    Json out{{"name", g.spec.name},
             {"state", g.state},
             {"target", g.target.describe},
             {"rate", g.spec.rate},
             {"duration", FormatDuration(g.spec.duration)},
             {"method", g.spec.method},
             {"concurrency", g.spec.concurrency},
             {"planned", g.planned},
             {"sent", g.next - static_cast<int64_t>(g.queued.size())},
             {"inFlight", g.in_flight},
             {"queued", g.queued.size()},
             {"notSent", g.not_sent},
             {"startedAt", FormatIso8601(g.started)},
             {"endsAt", FormatIso8601(g.started + g.spec.duration)},
             {"finishedAt", g.finished ? Json(FormatIso8601(*g.finished)) : Json(nullptr)}};
    Json stats = g.stats.ToJson(per_second);
    for (auto it = stats.begin(); it != stats.end(); ++it) out[it.key()] = it.value();
    return out;
  }

  void SendOne(const api::HttpRequest& http, api::HttpReply reply) {
    auto body = BodyJson(http, reply);
    if (!body) return;
    auto parsed = ParseRequestSpec(*body);
    if (auto* e = std::get_if<SpecError>(&parsed)) {
      reply(api::ControlError(400, "InvalidHttpRequest", e->Message()));
      return;
    }
    RequestSpec spec = std::get<RequestSpec>(std::move(parsed));
    auto resolved = Resolve(spec.target, spec.account, spec.region);
    if (auto* e = std::get_if<ResolveError>(&resolved)) {
      reply(api::ControlError(e->status, e->code, e->message));
      return;
    }
    Resolved target = std::get<Resolved>(std::move(resolved));
    HttpRequest request;
    request.port = target.port;
    request.method = spec.method;
    request.target = target.base_path + spec.path;
    request.host_header = target.host_header;
    request.headers = spec.headers;
    request.body = spec.body;
    request.timeout = spec.timeout;
    uint64_t id = next_one_shot_++;
    one_shot_holds_.emplace(
        id, clock_.Acquire("http " + spec.method + " " + target.host_header + spec.path));
    std::weak_ptr<bool> alive = alive_;
    EventLoop* loop = &loop_;
    Json describe = target.describe;
    std::string path = spec.path;
    auto shared_reply = std::make_shared<api::HttpReply>(std::move(reply));
    client_.Send(std::move(request), [this, loop, alive, id, describe, path,
                                      shared_reply](HttpResult result) {
      loop->Post([this, alive, id, describe, path, shared_reply, result = std::move(result)] {
        if (alive.expired()) return;
        (*shared_reply)(api::JsonResponse(200, OneShotAnswer(describe, path, result)));
        one_shot_holds_.erase(id);
      });
    });
  }

  static Json OneShotAnswer(const Json& describe, const std::string& path,
                            const HttpResult& result) {
    Json out{{"target", describe}, {"path", path}, {"status", result.status}};
    out["latencyMs"] = static_cast<double>(result.latency.count() / 10) / 100.0;  // real time
    if (result.kind != HttpResult::Kind::kResponse) {
      out["error"] = Json{{"kind", KindName(result.kind)}, {"message", result.error}};
      return out;
    }
    Json headers = Json::object();
    for (const auto& [name, value] : result.headers) {
      std::string key = Lower(name);
      if (headers.contains(key)) {
        headers[key] = headers[key].get<std::string>() + ", " + value;
      } else {
        headers[key] = value;
      }
    }
    out["headers"] = headers;
    if (api::IsValidUtf8(result.body)) {
      out["body"] = result.body;
    } else {  // invalid bytes become U+FFFD
      out["body"] =
          Json::parse(Json(result.body).dump(-1, ' ', false, Json::error_handler_t::replace));
    }
    auto parsed = ParseJson(result.body);
    if (parsed.ok() && (parsed->is_object() || parsed->is_array())) {
      out["json"] = std::move(parsed).value();
    }
    return out;
  }

  EventLoop& loop_;
  Clock& clock_;
  Journal& journal_;
  Waits& waits_;
  Random random_;
  TrafficOptions options_;
  std::map<std::string, std::shared_ptr<Generator>> generators_;
  std::map<uint64_t, Hold> one_shot_holds_;  // POST /_understudy/http requests in flight
  uint64_t next_one_shot_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  HttpClient client_;  // last: stopped first, before the generators' holds go
};

}  // namespace

std::unique_ptr<Traffic> Traffic::Create(EventLoop& loop, Clock& clock, Journal& journal,
                                         Waits& waits, Random random, TrafficOptions options) {
  return std::make_unique<TrafficImpl>(loop, clock, journal, waits, std::move(random),
                                       std::move(options));
}

}  // namespace understudy::traffic
