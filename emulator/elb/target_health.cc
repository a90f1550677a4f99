#include "elb/target_health.h"

#include <algorithm>
#include <charconv>
#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "core/log.h"
#include "runtime/task_runtime.h"

namespace understudy::elb {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kRegistrationInProgress = "Elb.RegistrationInProgress";
constexpr const char* kInitialHealthChecking = "Elb.InitialHealthChecking";
// Slow start raises a target's share in this many steps over the duration.
constexpr int kSlowStartSteps = 20;

// The TLS settings of HTTPS health checks: any certificate is accepted.
asio::ssl::context& ClientTlsContext() {
  static asio::ssl::context context = [] {
    asio::ssl::context c(asio::ssl::context::tls_client);
    c.set_verify_mode(asio::ssl::verify_none);
    return c;
  }();
  return context;
}

std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

TargetHealthReport Unhealthy(const ProbeResult& result) {
  switch (result.outcome) {
    case ProbeResult::Outcome::kCodeMismatch:
      return {
          Target::Health::kUnhealthy, "Target.ResponseCodeMismatch",
          "Health checks failed with these codes: [" + std::to_string(result.status_code) + "]"};
    case ProbeResult::Outcome::kTimeout:
      return {Target::Health::kUnhealthy, "Target.Timeout", "Request timed out"};
    default:
      return {Target::Health::kUnhealthy, "Target.FailedHealthChecks", "Health checks failed"};
  }
}

}  // namespace

bool MatcherAccepts(const std::string& matcher, int status) {
  std::string_view rest = matcher;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (ParseInt(item) == status) return true;
      continue;
    }
    auto low = ParseInt(item.substr(0, dash));
    auto high = ParseInt(item.substr(dash + 1));
    if (low && high && *low <= status && status <= *high) return true;
  }
  return false;
}

TargetHealthReport NextHealth(const TargetHealthReport& before, HealthCounters& counters,
                              const ProbeResult& result, const HealthCheckSettings& settings) {
  bool passed = result.outcome == ProbeResult::Outcome::kPassed;
  counters.probed = true;
  if (passed) {
    ++counters.successes;
    counters.failures = 0;
  } else {
    ++counters.failures;
    counters.successes = 0;
  }
  switch (before.state) {
    case Target::Health::kInitial:
      // A new target must pass one check to be healthy (§1.6).
      if (passed) return {Target::Health::kHealthy, "", ""};
      if (counters.failures >= settings.unhealthy_threshold) return Unhealthy(result);
      return {Target::Health::kInitial, kInitialHealthChecking,
              "Initial health checks in progress"};
    case Target::Health::kHealthy:
      if (!passed && counters.failures >= settings.unhealthy_threshold) return Unhealthy(result);
      return before;
    case Target::Health::kUnhealthy:
      if (passed) {
        if (counters.successes >= settings.healthy_threshold) {
          return {Target::Health::kHealthy, "", ""};
        }
        return before;
      }
      return Unhealthy(result);
    default:
      return before;
  }
}

// One HTTP probe: a fresh connection, GET <path>, the status line read, closed.
class Probe : public std::enable_shared_from_this<Probe> {
 public:
  using Done = std::function<void(ProbeResult)>;
  Probe(asio::io_context& io, const CheckedTarget& target, Done done)
      : socket_(io), timer_(io), target_(target), done_(std::move(done)) {}

  void Start() {
    const HealthCheckSettings& settings = target_.settings;
    uint16_t port = target_.key.port;
    if (settings.port != "traffic-port")
      port = static_cast<uint16_t>(ParseInt(settings.port).value_or(port));
    boost::system::error_code ec;
    auto address = asio::ip::make_address(target_.connect_address, ec);
    if (ec) return Finish({ProbeResult::Outcome::kFailed, 0});
    if (target_.netns_pid > 0) {
      auto fd = runtime::TcpSocketInNetworkNamespace(target_.netns_pid);
      if (!fd.ok()) return Finish({ProbeResult::Outcome::kFailed, 0});
      socket_.assign(tcp::v4(), *fd, ec);
      if (ec) return Finish({ProbeResult::Outcome::kFailed, 0});
    }
    std::string host = target_.key.id;
    asio::ip::make_address(host, ec);
    if (ec) host = target_.connect_address;  // an instance id
    request_.method(http::verb::get);
    request_.target(settings.path);
    request_.version(11);
    request_.set(http::field::host, host + ":" + std::to_string(port));
    request_.set(http::field::user_agent, "ELB-HealthChecker/2.0");
    request_.set(http::field::connection, "close");
    request_.set(http::field::accept_encoding, "gzip, compressed");
    parser_.body_limit(64 * 1024);
    timer_.expires_after(std::chrono::seconds(settings.timeout_seconds));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    socket_.async_connect(
        tcp::endpoint(address, port), [self = shared_from_this()](boost::system::error_code error) {
          if (error) return self->Fail();
          if (self->target_.settings.protocol != "HTTPS") {
            return self->Exchange(self->socket_);
          }
          // HTTPS checks: TLS without verifying the target's
          // certificate, as an ALB does.
          self->tls_ =
              std::make_unique<asio::ssl::stream<tcp::socket&>>(self->socket_, ClientTlsContext());
          self->tls_->async_handshake(asio::ssl::stream_base::client,
                                      [self](boost::system::error_code error) {
                                        if (error) return self->Fail();
                                        self->Exchange(*self->tls_);
                                      });
        });
  }

  // Sends the check and reads the status line over `stream` (plain or TLS).
  template <class Stream>
  void Exchange(Stream& stream) {
    http::async_write(
        stream, request_,
        [self = shared_from_this(), &stream](boost::system::error_code error, size_t) {
          if (error) return self->Fail();
          http::async_read_header(stream, self->buffer_, self->parser_,
                                  [self](boost::system::error_code error, size_t) {
                                    if (error) return self->Fail();
                                    int status = static_cast<int>(self->parser_.get().result_int());
                                    bool ok =
                                        MatcherAccepts(self->target_.settings.matcher, status);
                                    self->Finish({ok ? ProbeResult::Outcome::kPassed
                                                     : ProbeResult::Outcome::kCodeMismatch,
                                                  status});
                                  });
        });
  }

  void Cancel() {
    done_ = nullptr;
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void Fail() {
    Finish({timed_out_ ? ProbeResult::Outcome::kTimeout : ProbeResult::Outcome::kFailed, 0});
  }
  void Finish(ProbeResult result) {
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (!done_) return;
    Done done = std::move(done_);
    done_ = nullptr;
    done(result);
  }

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;  // HTTPS checks
  asio::steady_timer timer_;
  CheckedTarget target_;
  Done done_;
  bool timed_out_ = false;
  http::request<http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
};

struct HealthChecker::State {
  struct Entry {
    CheckedTarget target;
    TargetHealthReport report{Target::Health::kInitial, kRegistrationInProgress,
                              "Target registration is in progress"};
    HealthCounters counters;
    std::optional<TimerId> next_probe;
    std::shared_ptr<Probe> probe;
    Hold hold;
    std::optional<TimePoint> slow_start_begin;
    std::optional<TimerId> slow_start_step;
    uint64_t generation = 0;
  };

  State(EventLoop& loop, Clock& clock) : loop(loop), clock(clock) {}

  void Changed() {
    if (on_change) on_change();
  }

  void StopEntry(Entry& entry) {
    if (entry.next_probe) clock.Cancel(*entry.next_probe);
    if (entry.slow_start_step) clock.Cancel(*entry.slow_start_step);
    entry.next_probe.reset();
    entry.slow_start_step.reset();
    if (entry.probe) entry.probe->Cancel();
    entry.probe.reset();
    entry.hold.Release();
  }

  void ScheduleProbe(const TargetKey& key, TimePoint at) {
    Entry& entry = entries.at(key);
    if (entry.next_probe) clock.Cancel(*entry.next_probe);
    uint64_t generation = entry.generation;
    entry.next_probe = clock.Schedule(
        at, [this, key, generation] { RunProbe(key, generation); },
        "health check " + key.id + ":" + std::to_string(key.port));
  }

  void RunProbe(const TargetKey& key, uint64_t generation) {
    auto it = entries.find(key);
    if (it == entries.end() || it->second.generation != generation) return;
    Entry& entry = it->second;
    entry.next_probe.reset();
    entry.hold = clock.Acquire("health check " + key.id + ":" + std::to_string(key.port));
    TimePoint started = clock.Now();
    entry.probe = std::make_shared<Probe>(loop.io(), entry.target,
                                          [this, key, generation, started](ProbeResult result) {
                                            OnResult(key, generation, started, result);
                                          });
    entry.probe->Start();
  }

  // Under a virtual clock, probes in flight together all started at this instant (their
  // holds keep the clock there); their results are applied once the last is in, in the
  // order of the targets, so that the same seed gives the same health history whatever
  // order the real answers came in.
  void OnResult(const TargetKey& key, uint64_t generation, TimePoint started,
                const ProbeResult& result) {
    if (!clock.is_virtual()) return Apply(key, generation, started, result);
    auto it = entries.find(key);
    if (it == entries.end() || it->second.generation != generation) return;
    it->second.probe.reset();
    answered[key] = Answered{generation, started, result};
    FlushAnswered();
  }

  // Applies the waiting results once no probe is in flight.
  void FlushAnswered() {
    if (answered.empty()) return;
    for (const auto& [k, e] : entries) {
      if (e.probe) return;  // another probe of this instant is still out
    }
    auto ready = std::move(answered);
    answered.clear();
    for (const auto& [k, a] : ready) Apply(k, a.generation, a.started, a.result);
  }

  void Apply(const TargetKey& key, uint64_t generation, TimePoint started,
             const ProbeResult& result) {
    auto it = entries.find(key);
    if (it == entries.end() || it->second.generation != generation) return;
    Entry& entry = it->second;
    entry.probe.reset();
    TargetHealthReport before = entry.report;
    entry.report = NextHealth(before, entry.counters, result, entry.target.settings);
    bool became_healthy =
        before.state != Target::Health::kHealthy && entry.report.state == Target::Health::kHealthy;
    if (became_healthy) MaybeStartSlowStart(key);
    if (entry.report.state != Target::Health::kHealthy) EndSlowStart(entry);
    // Report first: waits re-check their conditions on a loop turn this queues, and
    // they must see this result before the clock moves on to the next check.
    if (before.state != entry.report.state || before.reason != entry.report.reason ||
        before.description != entry.report.description) {
      Changed();
    }
    auto it_after = entries.find(key);
    if (it_after == entries.end() || it_after->second.generation != generation) return;
    Entry& current = it_after->second;
    // Checks run at a fixed interval, whatever the response time (§1.5).
    ScheduleProbe(key, started + std::chrono::seconds(current.target.settings.interval_seconds));
    // For the same reason the hold ends on a later turn, after those re-checks: a step
    // of the clock queued before now (another probe's) must still find it held.
    releasing->push_back(std::move(current.hold));
    loop.Post([weak = std::weak_ptr(releasing)] {
      if (auto pending = weak.lock(); pending && !pending->empty()) pending->pop_front();
    });
  }

  // A target that becomes healthy ramps up over slow_start_seconds, unless no other
  // healthy target out of slow start is there to carry the load (§1.7).
  void MaybeStartSlowStart(const TargetKey& key) {
    Entry& entry = entries.at(key);
    if (entry.target.slow_start_seconds <= 0) return;
    bool other_serving = false;
    for (const auto& [other_key, other] : entries) {
      if (other_key.target_group_arn != key.target_group_arn || other_key == key) continue;
      if (other.report.state == Target::Health::kHealthy && !other.slow_start_begin) {
        other_serving = true;
        break;
      }
    }
    if (!other_serving) return;
    entry.slow_start_begin = clock.Now();
    ScheduleSlowStartStep(key);
  }

  void ScheduleSlowStartStep(const TargetKey& key) {
    Entry& entry = entries.at(key);
    Duration step = std::chrono::seconds(entry.target.slow_start_seconds) / kSlowStartSteps;
    uint64_t generation = entry.generation;
    entry.slow_start_step = clock.ScheduleAfter(
        step,
        [this, key, generation] {
          auto it = entries.find(key);
          if (it == entries.end() || it->second.generation != generation) return;
          Entry& entry = it->second;
          entry.slow_start_step.reset();
          if (!entry.slow_start_begin) return;
          if (clock.Now() - *entry.slow_start_begin >=
              std::chrono::seconds(entry.target.slow_start_seconds)) {
            entry.slow_start_begin.reset();
          } else {
            ScheduleSlowStartStep(key);
          }
          Changed();
        },
        "slow start " + key.id + ":" + std::to_string(key.port));
  }

  void EndSlowStart(Entry& entry) {
    entry.slow_start_begin.reset();
    if (entry.slow_start_step) clock.Cancel(*entry.slow_start_step);
    entry.slow_start_step.reset();
  }

  EventLoop& loop;
  Clock& clock;
  // Holds of finished probes, released one per loop turn posted after their result
  // (oldest first); released at once when the checker goes.
  std::shared_ptr<std::deque<Hold>> releasing = std::make_shared<std::deque<Hold>>();
  std::function<void()> on_change;
  std::map<TargetKey, Entry> entries;
  uint64_t next_generation = 1;
  // Virtual clock: results waiting for the other probes of the same instant.
  struct Answered {
    uint64_t generation;
    TimePoint started;
    ProbeResult result;
  };
  std::map<TargetKey, Answered> answered;
};

HealthChecker::HealthChecker(EventLoop& loop, Clock& clock)
    : state_(std::make_unique<State>(loop, clock)) {}

HealthChecker::~HealthChecker() { Clear(); }

void HealthChecker::SetOnChange(std::function<void()> on_change) {
  state_->on_change = std::move(on_change);
}

void HealthChecker::SetTargets(std::vector<CheckedTarget> targets) {
  std::map<TargetKey, CheckedTarget> wanted;
  for (auto& target : targets) wanted[target.key] = std::move(target);
  for (auto it = state_->entries.begin(); it != state_->entries.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    state_->StopEntry(it->second);
    it = state_->entries.erase(it);
  }
  for (auto& [key, target] : wanted) {
    auto it = state_->entries.find(key);
    if (it == state_->entries.end()) {
      State::Entry& entry = state_->entries[key];
      entry.target = std::move(target);
      entry.generation = state_->next_generation++;
      state_->ScheduleProbe(key, state_->clock.Now());
      continue;
    }
    State::Entry& entry = it->second;
    const HealthCheckSettings& old_settings = entry.target.settings;
    const HealthCheckSettings& new_settings = target.settings;
    bool changed = old_settings.path != new_settings.path ||
                   old_settings.port != new_settings.port ||
                   old_settings.protocol != new_settings.protocol ||
                   old_settings.interval_seconds != new_settings.interval_seconds ||
                   old_settings.timeout_seconds != new_settings.timeout_seconds ||
                   old_settings.matcher != new_settings.matcher ||
                   entry.target.connect_address != target.connect_address ||
                   entry.target.netns_pid != target.netns_pid;
    entry.target = std::move(target);
    // New settings take effect from the next check, which is due one new interval on.
    if (changed && entry.next_probe) {
      state_->ScheduleProbe(
          key, state_->clock.Now() + std::chrono::seconds(entry.target.settings.interval_seconds));
    }
  }
  // A target that went away may have been the last probe the others waited for.
  state_->FlushAnswered();
}

TargetHealthReport HealthChecker::Health(const TargetKey& key) const {
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) {
    return {Target::Health::kInitial, kRegistrationInProgress,
            "Target registration is in progress"};
  }
  return it->second.report;
}

double HealthChecker::SlowStartFactor(const TargetKey& key) const {
  auto it = state_->entries.find(key);
  if (it == state_->entries.end() || !it->second.slow_start_begin) return 1.0;
  const auto& entry = it->second;
  double total =
      std::chrono::duration<double>(std::chrono::seconds(entry.target.slow_start_seconds)).count();
  double elapsed =
      std::chrono::duration<double>(state_->clock.Now() - *entry.slow_start_begin).count();
  // The first step already carries traffic, so a target in slow start is never at zero.
  return std::clamp(elapsed / total, 1.0 / kSlowStartSteps, 1.0);
}

void HealthChecker::Clear() {
  for (auto& [key, entry] : state_->entries) state_->StopEntry(entry);
  state_->entries.clear();
  state_->answered.clear();
}

}  // namespace understudy::elb
