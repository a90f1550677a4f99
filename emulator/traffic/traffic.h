// Traffic: load generators that send real HTTP requests to ALB listeners (or any
// loopback URL) at a rate in clock time, and count every answer.
//
// POST /_understudy/traffic starts a generator; requests are issued from Clock
// timers (request i at start + i/rate), each holding the clock while it is in
// flight, so that under a virtual clock a run sends exactly rate × duration
// requests and virtual time never runs ahead of the real I/O. The HTTP client runs
// on a worker thread; outcomes are posted back to the loop. GET
// /_understudy/traffic[/<name>] answers the counts, POST .../<name>/stop stops one,
// the wait condition "trafficDone" holds when a generator has finished, and POST
// /_understudy/http sends one request and answers what came back. Start, stop and
// totals are journaled; single requests are not. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/waits.h"

namespace understudy::traffic {

struct TrafficOptions {
  // Every load balancer and its listeners, as GET /_understudy/elb answers
  // ({"loadBalancers": [{"name", "dnsName", "account", "region", "listeners":
  // [{"port", "protocol", "localPort"}]}]}).
  std::function<Json()> load_balancers;
  std::string default_account;
  std::string default_region;
};

class Traffic {
 public:
  static std::unique_ptr<Traffic> Create(EventLoop& loop, Clock& clock, Journal& journal,
                                         Waits& waits, Random random, TrafficOptions options);
  virtual ~Traffic() = default;

  // Registers the endpoints, the wait condition and the reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // Stops and forgets every generator.
  virtual Status Reset() = 0;
};

}  // namespace understudy::traffic
