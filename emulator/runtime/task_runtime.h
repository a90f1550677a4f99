// TaskRuntime: runs a task's containers for real; the seam between ECS and the OS.
//
// ECS asks the runtime to start each container (a process group on the host for
// ProcessRuntime, a container for DockerRuntime), to signal it, and is told on
// the loop thread when one exits and what it printed. The runtime knows nothing
// of ECS: no task definitions, states or ARNs. Loop thread only; callbacks are
// delivered on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/status.h"

namespace understudy::runtime {

// What to run for one container.
struct ContainerSpec {
  std::string task_id;            // groups a task's containers (labels, cleanup)
  std::string name;               // container name, unique within the task
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> environment;  // the whole environment
  std::string working_directory;                                 // empty: the emulator's
  // Hard memory limit in bytes (0: none), enforced with a cgroup where one is writable.
  uint64_t memory_limit_bytes = 0;
  // Hard CPU cap in vCPUs (0: none), enforced with a cgroup CFS quota where writable.
  double cpu_limit_vcpus = 0;
  // Relative CPU weight in ECS/Docker cpu units (1024 = one vCPU's share; 0: the
  // default), as cgroup v1 cpu.shares or the matching v2 cpu.weight where writable.
  uint32_t cpu_shares = 0;
  // Docker's `user`: "name", "uid", "name:group" or "uid:gid"; empty runs as the emulator.
  std::string user;
  struct Ulimit {
    std::string name;  // nofile, nproc, core, stack, ... (Docker's names)
    uint64_t soft = 0;
    uint64_t hard = 0;
  };
  std::vector<Ulimit> ulimits;
  // The network namespace (awsvpc): kHost shares the emulator's; kNew gives the
  // container a fresh one (loopback up, 169.254.170.2 on it) and a private mount
  // namespace; kJoin enters both of the running container whose main process is
  // `network_of`.
  enum class Network { kHost, kNew, kJoin };
  Network network = Network::kHost;
  int network_of = 0;
  // A file bound over /etc/hosts. kHost: in a private mount namespace of the container
  // (where this process may make one). kJoin: the task's own hosts file, for runtimes
  // whose containers have a root filesystem of their own (ProcessRuntime's share the
  // mount namespace that already has it). Empty: the host's (or the image's) /etc/hosts.
  std::string hosts_file;

  // --- For runtimes that run images (RunsImages(); ignored by ProcessRuntime) ---
  // The image, used as is from the engine's local images (never pulled); argv is then
  // unused and entry_point / command (empty: the image's) are what runs.
  std::string image;
  std::vector<std::string> entry_point;
  std::vector<std::string> command;
  // Labels put on the container besides the runtime's own (cluster, task ARN...).
  std::vector<std::pair<std::string, std::string>> labels;
  // kHost of a `bridge` task: the container gets the engine's bridge network, and
  // each mapping is published on 127.0.0.1:host_port. Without it kHost is the host's.
  bool bridge = false;
  struct PortMapping {
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    std::string protocol = "tcp";
  };
  std::vector<PortMapping> port_mappings;
  // The signal that stops the container (Signal(SIGTERM) sends it; 0: the image's).
  int stop_signal = 0;
  // Non-empty: run argv inside this running container (ContainerHandle::id) instead
  // of starting a new one, as a container health check does.
  std::string exec_in;
};

// How a container ended.
struct ContainerExit {
  int exit_code = 0;        // Docker's convention: the status, or 128 + signal number
  int signal = 0;           // the signal that ended it, or 0
  bool oom_killed = false;  // the kernel killed it for going over its memory limit
  // Non-empty when the runtime lost track of the container (its engine stopped
  // answering): what happened, in ECS's words ("CannotInspectContainerError: ...").
  std::string reason;
};

struct ContainerCallbacks {
  // One line the container wrote (without the newline); `stderr` tells the stream.
  std::function<void(const std::string& line, bool stderr)> output;
  // The container's main process ended; called once, after the last output line.
  std::function<void(const ContainerExit& exit)> exited;
};

// Resource use of a running container, for the task metadata endpoint's stats.
struct ContainerStats {
  uint64_t cpu_user_ns = 0;    // CPU time in user mode
  uint64_t cpu_kernel_ns = 0;  // CPU time in kernel mode
  uint64_t memory_bytes = 0;   // resident memory
  uint64_t pids = 0;           // processes (threads) in the container
  uint64_t system_cpu_ns = 0;  // the host's total CPU time, for utilisation ratios
  int online_cpus = 1;
};

// A started container.
struct ContainerHandle {
  int pid = 0;               // main process; also its process group id
  uint64_t start_ticks = 0;  // the process's start time (clock ticks since boot), 0 if unknown
  std::string id;            // the engine's container (or exec) id; empty for processes
};

class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;

  // Starts the container. Unavailable / InvalidArgument name what failed in
  // ECS's words' spirit ("exec: \"web\": executable file not found in $PATH"),
  // so ECS can put it in CannotStartContainerError. Nothing is left behind on error.
  virtual Result<ContainerHandle> Start(const ContainerSpec& spec,
                                        ContainerCallbacks callbacks) = 0;
  // Sends `signal` to the container's whole process group. OK if it already exited.
  virtual Status Signal(const ContainerHandle& handle, int signal) = 0;
  // Kills every container still running (SIGKILL to each process group). At shutdown.
  virtual void KillAll() = 0;
  // Current resource use; NotFound once the container has exited.
  virtual Result<ContainerStats> Stats(const ContainerHandle& handle) = 0;
  // Whether memory limits are enforced (by a cgroup, else by watching /proc).
  virtual bool EnforcesMemoryLimits() const = 0;
  // Whether containers run images (ContainerSpec::image) in their own root filesystem
  // and network (DockerRuntime), rather than host commands (ProcessRuntime).
  virtual bool RunsImages() const { return false; }
  // "process" or "docker", for messages. A runtime that sets ContainerHandle::id sweeps
  // what a previous emulator left itself; ECS's pid bookkeeping is for the others.
  virtual const char* Name() const { return "process"; }
};

// Opens a TCP listening socket on `address`:`port` inside the network namespace of
// process `pid` (a container started with Network::kNew). The socket stays bound in
// that namespace and can be accepted on from any thread. Any thread.
Result<int> ListenInNetworkNamespace(int pid, const std::string& address, uint16_t port);
// An unconnected, non-blocking TCP (IPv4) socket created inside the network namespace of
// `pid`, for connecting to an app that listens there (the ALB's upstream). Any thread.
Result<int> TcpSocketInNetworkNamespace(int pid);
// Binds file `source` over `target` inside the mount namespace of process `pid` (a
// container started with Network::kNew has a private one; its Network::kJoin containers
// share it). FailedPrecondition when `pid` shares this process's mount namespace, so
// the host's files are never covered. Any thread.
Status BindFileInMountNamespace(int pid, const std::string& source, const std::string& target);
// Adds IPv4 `address`/32 to the loopback of the network namespace of `pid` as alias
// `label` ("lo:" and at most 12 more characters); RemoveLoopbackAddress takes it away.
// Any thread.
Status AddLoopbackAddress(int pid, const std::string& label, const std::string& address);
Status RemoveLoopbackAddress(int pid, const std::string& label);
// Kills what is left of the process group of a container a previous emulator started:
// the group is killed when its leader is still the process that emulator started (same
// pid and start time) or is gone; a pid reused by another program is left alone.
// Returns whether it killed anything. Any thread.
bool KillLeftover(int pid, uint64_t start_ticks);

// Resource use of process `pid` from /proc (its children are not summed); NotFound
// once it has exited. Any thread.
Result<ContainerStats> ProcessStats(int pid);

// Whether this process may create network namespaces (root, or an unprivileged userns).
bool NetworkNamespacesAvailable();

// Runs containers as process groups on this host: fork, setpgid, a parent-death
// signal (SIGKILL) so no process outlives the emulator, pipes for stdout and
// stderr read on the loop, and a pidfd to learn of the exit.
std::unique_ptr<TaskRuntime> NewProcessRuntime(EventLoop& loop);
// The same, watching memory limits from /proc as on a machine with no writable cgroup.
std::unique_ptr<TaskRuntime> NewProcessRuntimeWithoutCgroupsForTest(EventLoop& loop);

struct DockerRuntimeOptions {
  std::string socket;  // the engine's unix socket (DockerSocketFromEnvironment())
  // Names this emulator's state directory in labels: containers a previous emulator
  // with the same state directory left behind are swept at start.
  std::string state_key;
};
// Runs containers in a Docker Engine (or Podman's compatible API): images used as is,
// output followed and exits awaited on worker threads and delivered on the loop.
// Unavailable when no engine answers on the socket. Sweeps containers labelled by an
// earlier emulator that is gone (or had the same state directory).
Result<std::unique_ptr<TaskRuntime>> NewDockerRuntime(EventLoop& loop,
                                                      const DockerRuntimeOptions& options);

}  // namespace understudy::runtime
