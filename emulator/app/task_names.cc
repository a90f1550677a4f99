#include "app/task_names.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "runtime/task_runtime.h"

namespace understudy::app {
namespace {

// Rewrites `path` in place (same inode, so the bind mount keeps showing it). The new
// text is written over the old from the start and the file is cut to its length only
// then, never truncated first: an app resolving a name meanwhile (getaddrinfo reads
// /etc/hosts on every lookup) never finds the file empty. Entries are only appended
// to the same base, so such a reader sees the names it saw before.
Status WriteInPlace(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      return Status::IoError("write " + path + ": " + std::strerror(error));
    }
    done += static_cast<size_t>(n);
  }
  if (ftruncate(fd, static_cast<off_t>(text.size())) != 0) {
    int error = errno;
    close(fd);
    return Status::IoError("truncate " + path + ": " + std::strerror(error));
  }
  close(fd);
  return Status::Ok();
}

bool IsLoopback(const std::string& address) { return address.rfind("127.", 0) == 0; }

}  // namespace

TaskNames::TaskNames(EventLoop& loop, std::string dir,
                     std::function<std::vector<NameTarget>()> targets,
                     std::function<std::optional<int>(const std::string& address)> namespace_of,
                     std::function<std::vector<int>(int pid)> own_ports)
    : loop_(loop),
      dir_(std::move(dir)),
      targets_(std::move(targets)),
      namespace_of_(std::move(namespace_of)),
      own_ports_(std::move(own_ports)) {
  // Files a previous run left (its tasks are gone).
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::ifstream in("/etc/hosts");
  std::stringstream text;
  text << in.rdbuf();
  base_hosts_ = text.str();
  if (base_hosts_.find("localhost") == std::string::npos) {
    base_hosts_ = "127.0.0.1\tlocalhost\n" + base_hosts_;
  }
  if (!base_hosts_.empty() && base_hosts_.back() != '\n') base_hosts_ += '\n';
}

TaskNames::~TaskNames() {
  for (auto& [pid, task] : tasks_) {
    for (auto& [key, relay] : task.relays) relay.second->Stop();
  }
}

std::string TaskNames::HostsText(const std::string& base, const std::vector<NameTarget>& targets) {
  std::string text = base + "# understudy: service discovery and load balancer names\n";
  for (const auto& t : targets) {
    if (t.listed) text += t.address + "\t" + t.name + "\n";
  }
  return text;
}

Status TaskNames::Open(int pid, bool bind) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::IoError("cannot create " + dir_ + ": " + ec.message());
  Task task;
  task.hosts_path = dir_ + "/hosts-" + std::to_string(pid);
  task.hosts_text = HostsText(base_hosts_, {});
  US_RETURN_IF_ERROR(WriteInPlace(task.hosts_path, task.hosts_text));
  Status bound =
      bind ? runtime::BindFileInMountNamespace(pid, task.hosts_path, "/etc/hosts") : Status::Ok();
  if (!bound.ok()) {
    std::filesystem::remove(task.hosts_path, ec);
    return bound;
  }
  tasks_[pid] = std::move(task);
  // Every task, not only the new one: load balancers made since the last change of
  // names reach the tasks already running too.
  Apply();
  return Status::Ok();
}

void TaskNames::Close(int pid) {
  auto it = tasks_.find(pid);
  if (it == tasks_.end()) return;
  for (auto& [key, relay] : it->second.relays) relay.second->Stop();
  std::error_code ec;
  std::filesystem::remove(it->second.hosts_path, ec);
  tasks_.erase(it);
}

std::string TaskNames::HostsPath(int pid) const {
  auto it = tasks_.find(pid);
  return it == tasks_.end() ? "" : it->second.hosts_path;
}

void TaskNames::Changed() {
  // At once, not on a later loop turn: whatever a client can observe next (a wait that
  // holds, DiscoverInstances) already shows in every task's hosts file.
  Apply();
}

std::string TaskNames::HostNetworkHosts() {
  std::vector<NameTarget> host_view;
  for (NameTarget t : targets_()) {
    if (!t.listed) continue;
    if (t.address.rfind("127.", 0) != 0) {
      if (!t.to_host) continue;  // a task's own address: not on the host's network
      t.address = "127.0.0.1";
    }
    host_view.push_back(std::move(t));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::string path = dir_ + "/host-network";
  if (!WriteInPlace(path, HostsText(base_hosts_, host_view)).ok()) return "";
  host_network_used_ = true;
  return path;
}

void TaskNames::Apply() {
  if (host_network_used_) (void)HostNetworkHosts();
  if (tasks_.empty()) return;
  std::vector<NameTarget> targets = targets_();
  for (auto& [pid, task] : tasks_) ApplyTo(pid, task, targets);
}

void TaskNames::ApplyTo(int pid, Task& task, const std::vector<NameTarget>& targets) {
  // The relays this task needs: (address, port) -> (target pid or 0 for the host, to_port).
  std::map<std::pair<std::string, int>, std::pair<int, int>> wanted;
  std::set<std::string> addresses;
  std::set<int> own;
  for (int port : own_ports_(pid)) own.insert(port);
  std::vector<NameTarget> listed;
  for (const auto& t : targets) {
    listed.push_back(t);  // resolves as DNS would answer, reachable or not
    std::optional<int> behind;
    if (!t.to_host) {
      behind = namespace_of_(t.address);
      if (!behind) continue;  // no task of ours holds that address: nothing to relay to
    }
    if (behind && *behind == pid) {  // itself: its own address on its loopback answers
      addresses.insert(t.address);
      continue;
    }
    for (const auto& p : t.ports) {
      if (p.port <= 0) continue;
      if (own.count(p.port)) {
        // The task's own app listens on all its addresses there: a relay would take the
        // port from it. Connections to that port reach the task itself.
        if (task.refused.insert({t.address, p.port, -1}).second) {
          Log(LogLevel::kWarn,
              "task names: " + t.name + " (" + t.address + ":" + std::to_string(p.port) +
                  ") is not relayed in the task of process " + std::to_string(pid) +
                  ", which listens on port " + std::to_string(p.port) + " itself");
        }
        continue;
      }
      wanted[{t.address, p.port}] = {behind.value_or(0), p.to_port};
      // The address goes on the loopback only with a relay behind it, so a port that is
      // not relayed fails to connect rather than reaching the task itself.
      if (!IsLoopback(t.address)) addresses.insert(t.address);
    }
  }
  // Only when the names changed: most changes (a task starting elsewhere) leave them.
  std::string text = HostsText(base_hosts_, listed);
  if (text != task.hosts_text) {
    Status written = WriteInPlace(task.hosts_path, text);
    if (written.ok()) {
      task.hosts_text = std::move(text);
    } else {
      Log(LogLevel::kWarn, "task names: " + written.message());
    }
  }

  for (auto it = task.relays.begin(); it != task.relays.end();) {
    auto want = wanted.find(it->first);
    if (want == wanted.end() || want->second.first != it->second.first) {
      it->second.second->Stop();
      it = task.relays.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = task.aliases.begin(); it != task.aliases.end();) {
    if (addresses.count(it->first)) {
      ++it;
      continue;
    }
    (void)runtime::RemoveLoopbackAddress(pid, it->second);
    it = task.aliases.erase(it);
  }
  for (const auto& address : addresses) {
    if (task.aliases.count(address)) continue;
    std::string label = "lo:n" + std::to_string(task.next_label++);
    Status added = runtime::AddLoopbackAddress(pid, label, address);
    if (!added.ok()) {
      Log(LogLevel::kWarn, "task names: " + added.message());
      continue;
    }
    task.aliases[address] = label;
  }
  for (const auto& [key, target] : wanted) {
    if (task.relays.count(key)) continue;
    const auto& [address, port] = key;
    auto [behind, to_port] = target;
    if (task.refused.count({address, port, behind})) continue;
    auto fd = runtime::ListenInNetworkNamespace(pid, address, static_cast<uint16_t>(port));
    if (!fd.ok()) {
      task.refused.insert({address, port, behind});
      Log(LogLevel::kWarn, "task names: connections to " + address + ":" + std::to_string(port) +
                               " cannot be relayed in the task of process " + std::to_string(pid) +
                               " (" + fd.status().message() +
                               "); is the task itself listening on port " + std::to_string(port) +
                               "?");
      continue;
    }
    std::function<Result<int>()> upstream;
    if (behind != 0) {
      upstream = [behind = behind] { return runtime::TcpSocketInNetworkNamespace(behind); };
    }
    auto forwarder = runtime::TcpForwarder::Start(loop_.io(), *fd, static_cast<uint16_t>(to_port),
                                                  std::move(upstream));
    if (!forwarder.ok()) {
      Log(LogLevel::kWarn, "task names: " + forwarder.status().message());
      continue;
    }
    task.relays[key] = {behind, std::move(forwarder).value()};
  }
}

}  // namespace understudy::app
