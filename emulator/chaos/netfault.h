// NetFault: added latency (with jitter) and packet loss for the packets of one network
// namespace, in user space. An iptables NFQUEUE rule in the namespace hands each packet
// a socket there sends to a netlink queue that this component reads from a socket it
// opened inside that namespace; each packet gets its verdict — accepted once its delay
// has passed, or dropped — with every random choice drawn from a seeded stream in the
// order packets come. It needs no netem in the kernel (only NFQUEUE) and no library.
// The delays are real time: they are felt by real sockets. One thread per fault.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/status.h"

namespace understudy::chaos {

struct NetFaultOptions {
  int netns_pid = 0;  // a process in the namespace
  uint16_t queue = 0;
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds jitter{0};  // each packet waits up to this much more
  double loss = 0;                      // the share of packets dropped, 0 to 1
  Random random{0};
  // Runs argv inside the namespace (the iptables rule's add and removal).
  std::function<Status(int pid, const std::vector<std::string>& argv)> run_in_netns;
};

class NetFault {
 public:
  // Opens the queue in the namespace, then adds the rule; on failure nothing is left.
  static Result<std::unique_ptr<NetFault>> Start(NetFaultOptions options);
  // Removes the rule, lets the held packets through and stops the thread.
  ~NetFault();

  uint64_t packets() const;  // seen so far
  uint64_t dropped() const;

  struct Impl;

 private:
  explicit NetFault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace understudy::chaos
