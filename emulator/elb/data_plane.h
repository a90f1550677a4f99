// DataPlane: the ALB's listeners, real HTTP servers on 127.0.0.1 that proxy to
// targets (aws-semantics §1.2–§1.9).
//
// It runs on threads of its own (Boost.Asio, Beast for HTTP parsing) and reads
// routing from the latest RoutingSnapshot, which Publish swaps in atomically;
// nothing on the request path takes a lock shared with the control plane.
// Public methods: any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "elb/routing.h"

namespace understudy::elb {

struct DataPlaneOptions {
  int threads = 2;
  // The emulator's clock (trace ids, access-log times, cookie expiry). Any thread. Required.
  std::function<TimePoint()> now;
  uint64_t seed = 0;  // weighted choices and trace ids
};

// Requests answered per target, for metrics (RequestCountPerTarget...).
struct TargetCounters {
  uint64_t requests = 0;
  uint64_t in_flight = 0;
  uint64_t responses = 0;         // answers from the target
  uint64_t response_time_us = 0;  // their total time to first byte and body
  uint64_t target_4xx = 0;
  uint64_t target_5xx = 0;
};

// A traffic fault (docs/chaos.md), Toxiproxy-style, on the requests a listener, a
// target group or one target gets. Empty strings and a zero port match anything.
struct TrafficFault {
  enum class Kind { kLatency, kErrorStatus, kReset, kTimeout, kBandwidth, kSlowClose };
  Kind kind = Kind::kLatency;
  std::string listener_arn;
  std::string target_group_arn;
  std::string target_id;
  uint16_t port = 0;
  double probability = 1.0;                  // of each matching request, drawn per worker stream
  std::chrono::milliseconds latency{0};      // kLatency: added before forwarding
  std::chrono::milliseconds jitter{0};       // kLatency: up to this much more
  int status = 503;                          // kErrorStatus: the ALB answers this itself
  std::chrono::milliseconds timeout{0};      // kTimeout: no answer, closed after this
  uint64_t bytes_per_second = 0;             // kBandwidth: the answer reaches the client no faster
  std::chrono::milliseconds close_delay{0};  // kSlowClose: the ALB's close waits this long
};

class DataPlane {
 public:
  static Result<std::unique_ptr<DataPlane>> Start(DataPlaneOptions options);
  virtual ~DataPlane() = default;

  // Binds 127.0.0.1 for listener `arn`: the first of `preferred` ports that can be
  // bound, else one the kernel picks. Returns the bound port.
  virtual Result<uint16_t> OpenListener(const std::string& arn,
                                        const std::vector<uint16_t>& preferred) = 0;
  // Stops accepting on the listener (its port is closed when this returns) and closes
  // its connections. Not from a data-plane thread.
  virtual void CloseListener(const std::string& arn) = 0;
  // Swaps in the routing every new request uses.
  virtual void Publish(RoutingSnapshot snapshot) = 0;
  // Ends the in-flight requests to a target whose deregistration delay elapsed
  // (their clients get 502).
  virtual void CutTarget(const std::string& target_group_arn, const std::string& id,
                         uint16_t port) = 0;
  virtual TargetCounters Counters(const std::string& target_group_arn, const std::string& id,
                                  uint16_t port) const = 0;
  // Replaces the traffic faults every new request consults (empty: none, and the
  // request path pays one relaxed atomic load).
  virtual void SetTrafficFaults(std::vector<TrafficFault> faults) = 0;
  // Stops every listener and joins the threads.
  virtual void Stop() = 0;
};

}  // namespace understudy::elb
