// TaskNames: the names an awsvpc task resolves from inside its own namespaces.
//
// Each task in a network namespace of its own gets a hosts file (under the state dir)
// bound over /etc/hosts in its private mount namespace; it lists the names the
// emulator serves (Cloud Map's `<service>.<namespace>`, load balancers' DNS names)
// with their addresses, and is rewritten in place when they change. The addresses are
// put on the task's loopback, and the emulator listens on each address:port there and
// relays connections to the task behind it (inside that task's namespace) or to the
// host's loopback. A task reaches itself on its own address directly. A port the task
// itself listens on cannot be relayed (both would need it); it is skipped and logged.
// See docs/service-discovery.md. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/event_loop.h"
#include "core/status.h"
#include "runtime/tcp_forwarder.h"

namespace understudy::app {

// One name and where connections to it go.
struct NameTarget {
  std::string name;     // "api.local"
  std::string address;  // what it resolves to inside the task
  struct Port {
    int port = 0;     // the port connected to inside the task
    int to_port = 0;  // where it goes: the same port of the task behind `address`, or a
                      // port on the host's loopback when `to_host`
  };
  std::vector<Port> ports;
  bool to_host = false;
  bool listed = true;  // in the hosts file; false: only relayed (reachable by address)
};

class TaskNames {
 public:
  // `dir` holds the hosts files. `targets` gives the names to serve now; `namespace_of`
  // the pid holding the network namespace of the task with a private address;
  // `own_ports` the ports the task whose namespace a pid holds listens on (never relayed
  // there, even before its app has bound them).
  TaskNames(EventLoop& loop, std::string dir, std::function<std::vector<NameTarget>()> targets,
            std::function<std::optional<int>(const std::string& address)> namespace_of,
            std::function<std::vector<int>(int pid)> own_ports);
  ~TaskNames();

  // Gives the task whose namespaces process `pid` holds its hosts file and relays. With
  // `bind`, the file is bound over /etc/hosts in that process's mount namespace (the
  // task's processes share it); without, the runtime binds HostsPath(pid) into each
  // container it creates (containers with root filesystems of their own).
  Status Open(int pid, bool bind);
  // Forgets the task (its namespaces are going away).
  void Close(int pid);
  // The hosts file of the task Open(pid) was given, kept up to date in place (a container
  // with a mount namespace of its own binds it over its /etc/hosts); "" when none.
  std::string HostsPath(int pid) const;
  // The names may have changed: applied to every open task before it returns.
  void Changed();
  // The hosts file of containers on the host network (bridge, host), brought up to date:
  // the names whose addresses are on the host's loopback, and those relayed to the
  // host's listeners (load balancers, SES's SMTP endpoint) as 127.0.0.1. Its path; ""
  // when it cannot be written.
  std::string HostNetworkHosts();

  // The hosts file text for `targets` (the base /etc/hosts, then one line per address).
  static std::string HostsText(const std::string& base, const std::vector<NameTarget>& targets);

 private:
  void Apply();
  struct Task {
    std::string hosts_path;
    std::string hosts_text;                      // what the file holds now
    std::map<std::string, std::string> aliases;  // address -> loopback label
    int next_label = 0;
    // (address, port) -> (target pid or 0 for the host, forwarder)
    std::map<std::pair<std::string, int>, std::pair<int, std::unique_ptr<runtime::TcpForwarder>>>
        relays;
    std::set<std::tuple<std::string, int, int>> refused;  // (address, port, target) not relayable
  };
  void ApplyTo(int pid, Task& task, const std::vector<NameTarget>& targets);

  EventLoop& loop_;
  std::string dir_;
  std::function<std::vector<NameTarget>()> targets_;
  std::function<std::optional<int>(const std::string&)> namespace_of_;
  std::function<std::vector<int>(int)> own_ports_;
  std::string base_hosts_;
  std::map<int, Task> tasks_;
  bool host_network_used_ = false;  // HostNetworkHosts() made the file: keep it current
};

}  // namespace understudy::app
