// ProcessRuntime: the TaskRuntime that runs each container as a process group on
// this host.
//
// Start() forks and waits only until the child has exec'd (exec and chdir failures
// come back as a Status through a close-on-exec status pipe); stdout and stderr are
// pipes read on the loop, and the exit is learnt from a pidfd, so a running
// container never blocks the loop. Like Docker, a container is over when its main
// process ends: the rest of its process group is then SIGKILLed, what is already in
// the pipes is delivered, and `exited` follows (a process that left the group and
// keeps a pipe open does not hold the exit back; what it writes later is dropped).
// Loop thread only; callbacks run on the loop thread and never after the runtime is
// destroyed. The kernel's parent-death signal fires when the *thread* that forked
// ends, so Start belongs on the loop thread, which lives as long as the emulator.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/task_runtime.h"

namespace understudy::runtime {
namespace {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

// Longer lines are delivered in pieces of this size.
constexpr size_t kMaxLineBytes = 256 * 1024;
constexpr size_t kReadChunkBytes = 64 * 1024;
// After the main process exits, at most this much more is read from each pipe, so a
// process that escaped the group and keeps writing cannot hold the exit back.
constexpr size_t kMaxDrainBytes = 1024 * 1024;
constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// errno as Go and Docker print it: "no such file or directory".
std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// A file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Moves `fd` (close-on-exec) to a number above 2, so the child's dup2 onto 0, 1 and
// 2 never overwrites a source it still needs.
Status MoveAboveStdio(UniqueFd& fd) {
  if (fd.get() > 2) return Status::Ok();
  int moved = fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return Status::Unavailable("fcntl: " + ErrnoText(errno));
  fd.Reset(moved);
  return Status::Ok();
}

Status MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Unavailable("pipe: " + ErrnoText(errno));
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  US_RETURN_IF_ERROR(MoveAboveStdio(read_end));
  return MoveAboveStdio(write_end);
}

// What the child reports on the status pipe when it cannot exec.
enum class ChildStep : int {
  kSetpgid = 1,
  kPdeathsig,
  kSignals,
  kStdio,
  kChdir,
  kExec,          // execve failed with `error`
  kExecNotFound,  // no PATH entry held the file
  kCgroup,        // joining the memory cgroup failed
  kRlimit,        // setrlimit for a ulimit failed
  kUser,          // setgid/setgroups/setuid failed
  kNetns,         // creating or joining the network namespace failed
};

struct ChildFailure {
  ChildStep step;
  int error;
};

// Everything the child needs, built before fork: after fork the child may only make
// async-signal-safe calls, so it must not allocate.
struct ChildPlan {
  std::vector<char*> argv;            // null-terminated
  std::vector<char*> envp;            // null-terminated
  std::vector<std::string> programs;  // the paths to try, in order
  bool searched = false;              // `programs` came from PATH
  const char* working_directory = nullptr;
  pid_t parent = 0;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int status_fd = -1;
  int cgroup_fd = -1;      // the container cgroup's cgroup.procs, or -1
  int cpu_cgroup_fd = -1;  // the CPU cgroup's, when separate (cgroup v1)
  bool set_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<std::pair<int, rlimit>> rlimits;
  int max_fd = 0;  // for the close-on-exec fallback without close_range
  bool new_netns = false;
  int join_netns_fd = -1;
  int join_mntns_fd = -1;            // the mount namespace of the container whose network it joins
  const char* hosts_file = nullptr;  // host network: bound over /etc/hosts, privately
};

// In a fresh network namespace: loopback up, and 169.254.170.2 on it (where ECS
// serves the task metadata endpoint). Syscalls only: it runs between fork and exec.
bool BringUpLoopback() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  bool ok = ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  ifreq alias{};
  std::memcpy(alias.ifr_name, "lo:ecs", 7);
  auto* address = reinterpret_cast<sockaddr_in*>(&alias.ifr_addr);
  address->sin_family = AF_INET;
  address->sin_addr.s_addr = htonl((169u << 24) | (254u << 16) | (170u << 8) | 2u);
  ok = ok && ioctl(fd, SIOCSIFADDR, &alias) == 0;
  alias.ifr_flags = IFF_UP | IFF_RUNNING;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &alias) == 0;
  close(fd);
  return ok;
}

// Whether process `pid` is in this process's namespace of kind `kind` ("mnt", "net").
bool SameNamespace(int pid, const char* kind) {
  struct stat theirs {};
  struct stat ours {};
  if (stat(("/proc/" + std::to_string(pid) + "/ns/" + kind).c_str(), &theirs) != 0) return true;
  if (stat((std::string("/proc/self/ns/") + kind).c_str(), &ours) != 0) return true;
  return theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev;
}

[[noreturn]] void ChildFail(const ChildPlan& plan, ChildStep step, int error) {
  ChildFailure failure{step, error};
  while (write(plan.status_fd, &failure, sizeof(failure)) < 0 && errno == EINTR) {
  }
  _exit(127);
}

// The child between fork and exec. Async-signal-safe calls only.
[[noreturn]] void RunChild(const ChildPlan& plan) {
  if (setpgid(0, 0) != 0) ChildFail(plan, ChildStep::kSetpgid, errno);
  if (plan.new_netns) {
    if (unshare(CLONE_NEWNET) != 0) ChildFail(plan, ChildStep::kNetns, errno);
    if (!BringUpLoopback()) ChildFail(plan, ChildStep::kNetns, errno);
    // A private mount namespace too, where the emulator may bind files (the task's
    // /etc/hosts) without touching the host's. Where it cannot be made, the task shares
    // the host's, and BindFileInMountNamespace refuses to bind into it.
    if (unshare(CLONE_NEWNS) == 0 &&
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ChildFail(plan, ChildStep::kNetns, errno);
    }
  } else if (plan.join_netns_fd >= 0) {
    if (setns(plan.join_netns_fd, CLONE_NEWNET) != 0) ChildFail(plan, ChildStep::kNetns, errno);
    if (plan.join_mntns_fd >= 0 && setns(plan.join_mntns_fd, CLONE_NEWNS) != 0) {
      ChildFail(plan, ChildStep::kNetns, errno);
    }
  } else if (plan.hosts_file != nullptr) {
    // On the host network: the emulator's names through a hosts file of the container's
    // own. Only once the new mount namespace is private, so nothing reaches the host's;
    // without the rights the container keeps the host's /etc/hosts.
    if (unshare(CLONE_NEWNS) == 0 &&
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
      (void)mount(plan.hosts_file, "/etc/hosts", nullptr, MS_BIND, nullptr);
    }
  }
  if (plan.cgroup_fd >= 0 || plan.cpu_cgroup_fd >= 0) {
    // Join the cgroups before exec, so the app never runs outside its limits.
    char digits[24];
    int n = 0;
    for (pid_t self = getpid(); self > 0; self /= 10)
      digits[n++] = static_cast<char>('0' + self % 10);
    char text[24];
    for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
    for (int fd : {plan.cgroup_fd, plan.cpu_cgroup_fd}) {
      if (fd >= 0 && write(fd, text, static_cast<size_t>(n)) != n) {
        ChildFail(plan, ChildStep::kCgroup, errno);
      }
    }
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(plan, ChildStep::kPdeathsig, errno);
  // The parent may have died before the death signal was armed; then it never comes.
  if (getppid() != plan.parent) _exit(127);

  // Default dispositions (ignored signals would survive exec), then an empty mask;
  // the parent blocked every signal around fork so no inherited handler runs here.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);  // KILL, STOP fail
  sigset_t empty;
  sigemptyset(&empty);
  if (sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) ChildFail(plan, ChildStep::kSignals, errno);

  if (dup2(plan.stdin_fd, STDIN_FILENO) < 0 || dup2(plan.stdout_fd, STDOUT_FILENO) < 0 ||
      dup2(plan.stderr_fd, STDERR_FILENO) < 0) {
    ChildFail(plan, ChildStep::kStdio, errno);
  }
  // Nothing but 0, 1 and 2 crosses exec: mark every other descriptor close-on-exec
  // (the status pipe already is, so it closes exactly when exec succeeds).
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < plan.max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }

  for (const auto& [resource, limit] : plan.rlimits) {
    if (setrlimit(resource, &limit) != 0) ChildFail(plan, ChildStep::kRlimit, errno);
  }
  if (plan.working_directory != nullptr && chdir(plan.working_directory) != 0) {
    ChildFail(plan, ChildStep::kChdir, errno);
  }
  if (plan.set_user) {
    if (setgroups(0, nullptr) != 0 || setgid(plan.gid) != 0 || setuid(plan.uid) != 0) {
      ChildFail(plan, ChildStep::kUser, errno);
    }
  }

  if (!plan.searched) {
    execve(plan.programs[0].c_str(), plan.argv.data(), plan.envp.data());
    ChildFail(plan, ChildStep::kExec, errno);
  }
  // PATH search as execvp does it, but with the child's PATH.
  bool denied = false;
  for (const std::string& program : plan.programs) {
    execve(program.c_str(), plan.argv.data(), plan.envp.data());
    int error = errno;
    if (error == EACCES) {
      denied = true;
    } else if (error != ENOENT && error != ENOTDIR && error != ELOOP && error != ENAMETOOLONG &&
               error != ESTALE) {
      ChildFail(plan, ChildStep::kExec, error);
    }
  }
  if (denied) ChildFail(plan, ChildStep::kExec, EACCES);
  ChildFail(plan, ChildStep::kExecNotFound, ENOENT);
}

// Docker's ulimit names.
std::optional<int> UlimitResource(const std::string& name) {
  static const std::map<std::string, int> kResources = {
      {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
      {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
      {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
      {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
      {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK}};
  auto it = kResources.find(name);
  if (it == kResources.end()) return std::nullopt;
  return it->second;
}

// Docker's `user` forms to ids, with Docker's error text for unknown names.
Result<std::pair<uid_t, gid_t>> ResolveUser(const std::string& user) {
  std::string name = user.substr(0, user.find(':'));
  std::string group = user.find(':') == std::string::npos ? "" : user.substr(user.find(':') + 1);
  auto numeric = [](const std::string& text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  };
  uid_t uid;
  gid_t gid;
  if (numeric(name)) {
    uid = static_cast<uid_t>(std::stoul(name));
    passwd* entry = getpwuid(uid);
    gid = entry != nullptr ? entry->pw_gid : static_cast<gid_t>(uid);
  } else {
    passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr) {
      return Status::InvalidArgument("unable to find user " + name +
                                     ": no matching entries in passwd file");
    }
    uid = entry->pw_uid;
    gid = entry->pw_gid;
  }
  if (!group.empty()) {
    if (numeric(group)) {
      gid = static_cast<gid_t>(std::stoul(group));
    } else {
      struct group* entry = getgrnam(group.c_str());
      if (entry == nullptr) {
        return Status::InvalidArgument("unable to find group " + group +
                                       ": no matching entries in group file");
      }
      gid = entry->gr_gid;
    }
  }
  return std::pair<uid_t, gid_t>(uid, gid);
}

// The whole of a small file (/proc, /sys); empty when it cannot be read.
std::string ReadWholeFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

// The fields of /proc/<pid>/stat after the command name: [0] is field 3 (state),
// [2] the process group, [11]/[12] user/system ticks, [17] threads, [19] the start
// time, [21] resident pages. Empty when the process is gone.
std::vector<std::string> StatFields(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  std::vector<std::string> fields;
  if (paren == std::string::npos) return fields;
  std::istringstream rest(stat.substr(paren + 1));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

// When the process started, in clock ticks since boot (0 when it is gone).
uint64_t ProcessStartTicks(pid_t pid) {
  auto fields = StatFields(pid);
  return fields.size() > 19 ? std::strtoull(fields[19].c_str(), nullptr, 10) : 0;
}

Status ChildFailureStatus(const ChildFailure& failure, const ContainerSpec& spec) {
  const std::string error = ErrnoText(failure.error);
  const std::string quoted = "\"" + spec.argv[0] + "\"";
  switch (failure.step) {
    case ChildStep::kExecNotFound:
      return Status::InvalidArgument("exec: " + quoted + ": executable file not found in $PATH");
    case ChildStep::kExec:
      return Status::InvalidArgument("exec: " + quoted + ": " + error);
    case ChildStep::kChdir:
      return Status::InvalidArgument("chdir: " + spec.working_directory + ": " + error);
    case ChildStep::kSetpgid:
      return Status::Internal("setpgid: " + error);
    case ChildStep::kPdeathsig:
      return Status::Internal("prctl(PR_SET_PDEATHSIG): " + error);
    case ChildStep::kSignals:
      return Status::Internal("sigprocmask: " + error);
    case ChildStep::kStdio:
      return Status::Internal("dup2: " + error);
    case ChildStep::kCgroup:
      return Status::Unavailable("joining the memory cgroup: " + error);
    case ChildStep::kNetns:
      return Status::Unavailable("network namespace: " + error);
    case ChildStep::kRlimit:
      return Status::InvalidArgument("setrlimit: " + error);
    case ChildStep::kUser:
      return Status::InvalidArgument("setuid to user " + spec.user + ": " + error);
  }
  return Status::Internal("child failed before exec: " + error);
}

ContainerExit DecodeWaitStatus(int status) {
  ContainerExit exit;
  if (WIFEXITED(status)) {
    exit.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
    exit.exit_code = 128 + exit.signal;
  }
  return exit;
}

// Reaps `pid`, blocking; returns its exit, or exit code -1 when someone else reaped it.
ContainerExit Reap(pid_t pid) {
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != pid) return ContainerExit{-1, 0, false, ""};
  return DecodeWaitStatus(status);
}

// One of a container's output pipes.
struct Stream {
  Stream(asio::io_context& io, bool is_stderr) : descriptor(io), is_stderr(is_stderr) {}

  stream_descriptor descriptor;
  const bool is_stderr;
  bool open = true;
  std::string partial;  // the current line so far
  std::array<char, kReadChunkBytes> buffer;
};

// One started container.
struct Process {
  Process(asio::io_context& io, uint64_t id, pid_t pid, ContainerCallbacks callbacks)
      : id(id),
        pid(pid),
        callbacks(std::move(callbacks)),
        pidfd(io),
        out(io, /*is_stderr=*/false),
        err(io, /*is_stderr=*/true) {}

  const uint64_t id;
  const pid_t pid;  // also the process group id
  ContainerCallbacks callbacks;
  stream_descriptor pidfd;
  Stream out;
  Stream err;
  bool reaped = false;      // waitpid done; `exit` holds the result
  bool main_ended = false;  // the exit has been seen on the loop; draining the pipes
  ContainerExit exit;
  bool closed = false;         // exit delivered or runtime destroyed: no more callbacks
  std::string cgroup;          // the container's memory cgroup directory, or empty
  std::string cpu_cgroup;      // its CPU cgroup directory when separate, or empty
  uint64_t watched_limit = 0;  // /proc watching: the memory limit in bytes, or 0
  bool watch_killed = false;   // the watcher killed it for going over the limit
  std::unique_ptr<asio::steady_timer> watch_timer;
};

// The memory controller understudy can create cgroups under: cgroup v1's memory
// hierarchy or a v2 hierarchy with the memory controller; none when not writable.
class MemoryCgroups {
 public:
  MemoryCgroups() {
    SweepLeftovers("/sys/fs/cgroup");
    SweepLeftovers("/sys/fs/cgroup/memory");
    SweepLeftovers("/sys/fs/cgroup/cpu");
    std::string cpu_base = "/sys/fs/cgroup/cpu/understudy-" + std::to_string(getpid());
    if (access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0 &&
        (mkdir(cpu_base.c_str(), 0755) == 0 || errno == EEXIST)) {
      cpu_root_ = cpu_base;
    }
    std::string base = "/sys/fs/cgroup/understudy-" + std::to_string(getpid());
    if (ReadFile("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos &&
        WriteFile("/sys/fs/cgroup/cgroup.subtree_control", "+memory") &&
        mkdir(base.c_str(), 0755) == 0) {
      if (WriteFile(base + "/cgroup.subtree_control", "+memory")) {
        root_ = base;
        v2_ = true;
        // CPU in the same directories, where the cpu controller can be enabled too.
        if (WriteFile("/sys/fs/cgroup/cgroup.subtree_control", "+cpu") &&
            WriteFile(base + "/cgroup.subtree_control", "+cpu")) {
          cpu_root_ = base;
        }
        return;
      }
      rmdir(base.c_str());
    }
    base = "/sys/fs/cgroup/memory/understudy-" + std::to_string(getpid());
    if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 &&
        (mkdir(base.c_str(), 0755) == 0 || errno == EEXIST)) {
      root_ = base;
    }
  }
  ~MemoryCgroups() {
    for (const std::string& dir : created_) rmdir(dir.c_str());
    if (!root_.empty()) rmdir(root_.c_str());
    if (!cpu_root_.empty() && cpu_root_ != root_) rmdir(cpu_root_.c_str());
  }
  bool cpu_available() const { return !cpu_root_.empty(); }

  // Caps `name` at `vcpus` of CPU time (CFS quota over a 100 ms period) and weighs it
  // with `shares` (cpu.shares; cpu.weight on v2), either may be 0 for none; returns the
  // directory to join, or empty when it cannot (or, on cgroup v2, when `memory_dir`
  // already carries the settings).
  std::string CreateCpu(const std::string& name, double vcpus, uint32_t shares,
                        const std::string& memory_dir) {
    if (cpu_root_.empty() || (vcpus <= 0 && shares == 0)) return {};
    int64_t quota = static_cast<int64_t>(vcpus * 100000);
    if (v2_) {
      std::string dir = memory_dir;
      if (dir.empty()) {
        dir = root_ + "/" + name;
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return {};
        created_.insert(dir);
      }
      if (vcpus > 0 && !WriteFile(dir + "/cpu.max", std::to_string(quota) + " 100000")) return {};
      // Docker's mapping of shares (2..262144) onto weights (1..10000).
      uint64_t clamped = std::clamp<uint64_t>(shares, 2, 262144);
      if (shares > 0 &&
          !WriteFile(dir + "/cpu.weight", std::to_string(1 + ((clamped - 2) * 9999) / 262142))) {
        return {};
      }
      return dir == memory_dir ? std::string() : dir;
    }
    std::string dir = cpu_root_ + "/" + name;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return {};
    bool written = true;
    if (vcpus > 0) {
      written = WriteFile(dir + "/cpu.cfs_period_us", "100000") &&
                WriteFile(dir + "/cpu.cfs_quota_us", std::to_string(quota));
    }
    if (written && shares > 0) {
      written = WriteFile(dir + "/cpu.shares", std::to_string(std::max<uint32_t>(shares, 2)));
    }
    if (!written) {
      rmdir(dir.c_str());
      return {};
    }
    created_.insert(dir);
    return dir;
  }
  bool available() const { return !root_.empty(); }

  // Makes `name` with `limit` bytes; returns its directory, or empty when it cannot.
  std::string Create(const std::string& name, uint64_t limit) {
    if (root_.empty()) return {};
    std::string dir = root_ + "/" + name;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return {};
    std::string bytes = std::to_string(limit);
    bool ok = v2_ ? WriteFile(dir + "/memory.max", bytes)
                  : WriteFile(dir + "/memory.limit_in_bytes", bytes);
    if (v2_) {
      WriteFile(dir + "/memory.swap.max", "0");
    } else {
      WriteFile(dir + "/memory.memsw.limit_in_bytes", bytes);  // no swapping past the limit
    }
    if (!ok) {
      rmdir(dir.c_str());
      return {};
    }
    created_.insert(dir);
    return dir;
  }
  // True when the kernel's OOM killer acted in `dir`.
  bool OomKilled(const std::string& dir) const {
    std::string text = ReadFile(dir + (v2_ ? "/memory.events" : "/memory.oom_control"));
    size_t at = text.find("oom_kill ");
    return at != std::string::npos && std::atoll(text.c_str() + at + 9) > 0;
  }
  void Remove(const std::string& dir) {
    if (rmdir(dir.c_str()) == 0) created_.erase(dir);
  }

 private:
  static std::string ReadFile(const std::string& path) { return ReadWholeFile(path); }
  static bool WriteFile(const std::string& path, const std::string& value) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    close(fd);
    return ok;
  }

  // Cgroups of an understudy that is gone (it was SIGKILLed): kill what is still in
  // them, then remove them. The parent-death signal covers main processes; this
  // catches whatever they left behind.
  static void SweepLeftovers(const std::string& parent) {
    DIR* dir = opendir(parent.c_str());
    if (dir == nullptr) return;
    std::vector<std::string> stale;
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.rfind("understudy-", 0) != 0) continue;
      std::string pid = name.substr(11);
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (access(("/proc/" + pid).c_str(), F_OK) == 0) continue;  // that understudy still runs
      stale.push_back(parent + "/" + name);
    }
    closedir(dir);
    for (const std::string& root : stale) {
      DIR* inner = opendir(root.c_str());
      if (inner == nullptr) continue;
      std::vector<std::string> children;
      while (dirent* entry = readdir(inner)) {
        std::string name = entry->d_name;
        if (name != "." && name != ".." && entry->d_type == DT_DIR)
          children.push_back(root + "/" + name);
      }
      closedir(inner);
      for (const std::string& child : children) {
        std::string procs = ReadFile(child + "/cgroup.procs");
        size_t pos = 0;
        while (pos < procs.size()) {
          size_t end = procs.find('\n', pos);
          if (end == std::string::npos) end = procs.size();
          pid_t pid = static_cast<pid_t>(std::atol(procs.substr(pos, end - pos).c_str()));
          if (pid > 0) kill(pid, SIGKILL);
          pos = end + 1;
        }
        rmdir(child.c_str());
      }
      rmdir(root.c_str());
    }
  }

  std::string root_;
  std::string cpu_root_;
  bool v2_ = false;
  std::set<std::string> created_;
};

class ProcessRuntime : public TaskRuntime {
 public:
  ProcessRuntime(EventLoop& loop, bool use_cgroups) : loop_(loop), use_cgroups_(use_cgroups) {}
  // With no cgroup, memory limits are watched from /proc instead (see WatchMemory).
  bool EnforcesMemoryLimits() const override { return true; }
  ~ProcessRuntime() override;

  Result<ContainerHandle> Start(const ContainerSpec& spec, ContainerCallbacks callbacks) override;
  Status Signal(const ContainerHandle& handle, int signal) override;
  void KillAll() override;
  Result<ContainerStats> Stats(const ContainerHandle& handle) override;

 private:
  void WatchMemory(const std::shared_ptr<Process>& process);

  void WaitForExit(const std::shared_ptr<Process>& process);
  void OnMainExited(const std::shared_ptr<Process>& process);
  void ReadMore(const std::shared_ptr<Process>& process, Stream& stream);
  void OnRead(const std::shared_ptr<Process>& process, Stream& stream,
              const boost::system::error_code& error, size_t bytes);
  void Drain(const std::shared_ptr<Process>& process, Stream& stream);
  void CloseStream(const std::shared_ptr<Process>& process, Stream& stream);
  void FinishIfDone(const std::shared_ptr<Process>& process);
  // Splits `size` bytes into lines and delivers them. Stops early if `process` closed.
  static void Feed(Process& process, Stream& stream, const char* data, size_t size);
  static void Emit(Process& process, Stream& stream);

  EventLoop& loop_;
  uint64_t next_id_ = 1;
  MemoryCgroups cgroups_;
  bool use_cgroups_ = true;
  // Keyed by a sequence number rather than the pid: a reaped pid can be reused by
  // the next Start while the old container is still draining its pipes.
  std::map<uint64_t, std::shared_ptr<Process>> processes_;
};

ProcessRuntime::~ProcessRuntime() {
  KillAll();
  for (auto& [id, process] : processes_) {
    process->closed = true;
    boost::system::error_code ignored;
    process->pidfd.close(ignored);
    process->out.descriptor.close(ignored);
    process->err.descriptor.close(ignored);
  }
  // Pending handlers hold only weak references; they find their Process gone.
  processes_.clear();
}

Result<ContainerHandle> ProcessRuntime::Start(const ContainerSpec& spec,
                                              ContainerCallbacks callbacks) {
  if (spec.argv.empty()) return Status::InvalidArgument("argv is empty; expected a command");
  const std::string& file = spec.argv[0];

  // Everything the child touches is built here, before fork.
  ChildPlan plan;
  std::vector<std::string> env_entries;
  const std::string* path = nullptr;
  for (const auto& [name, value] : spec.environment) {
    env_entries.push_back(name + "=" + value);
    if (name == "PATH" && path == nullptr) path = &value;
  }
  for (const std::string& arg : spec.argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
  plan.argv.push_back(nullptr);
  for (std::string& entry : env_entries) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  if (file.find('/') != std::string::npos) {
    plan.programs.push_back(file);
  } else if (!file.empty()) {
    plan.searched = true;
    std::string dirs = path != nullptr ? *path : kDefaultPath;
    size_t begin = 0;
    for (;;) {
      size_t end = dirs.find(':', begin);
      std::string dir = dirs.substr(begin, end == std::string::npos ? end : end - begin);
      plan.programs.push_back((dir.empty() ? "." : dir) + "/" + file);
      if (end == std::string::npos) break;
      begin = end + 1;
    }
  }
  if (plan.programs.empty()) {
    return Status::InvalidArgument("exec: \"\": executable file not found in $PATH");
  }
  if (!spec.working_directory.empty()) plan.working_directory = spec.working_directory.c_str();
  struct rlimit nofile {};
  plan.max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < (1u << 20)
                    ? static_cast<int>(nofile.rlim_cur)
                    : 1 << 20;

  UniqueFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) return Status::Unavailable("open /dev/null: " + ErrnoText(errno));
  US_RETURN_IF_ERROR(MoveAboveStdio(dev_null));
  UniqueFd out_read, out_write, err_read, err_write, status_read, status_write;
  US_RETURN_IF_ERROR(MakePipe(out_read, out_write));
  US_RETURN_IF_ERROR(MakePipe(err_read, err_write));
  US_RETURN_IF_ERROR(MakePipe(status_read, status_write));
  plan.stdin_fd = dev_null.get();
  plan.stdout_fd = out_write.get();
  plan.stderr_fd = err_write.get();
  plan.status_fd = status_write.get();
  plan.parent = getpid();
  if (!spec.user.empty()) {
    auto ids = ResolveUser(spec.user);
    if (!ids.ok()) return ids.status();
    plan.set_user = true;
    plan.uid = ids->first;
    plan.gid = ids->second;
  }
  UniqueFd netns;
  UniqueFd mntns;
  if (spec.network == ContainerSpec::Network::kHost && !spec.hosts_file.empty()) {
    plan.hosts_file = spec.hosts_file.c_str();
  }
  if (spec.network == ContainerSpec::Network::kNew) {
    plan.new_netns = true;
  } else if (spec.network == ContainerSpec::Network::kJoin) {
    netns = UniqueFd(open(("/proc/" + std::to_string(spec.network_of) + "/ns/net").c_str(),
                          O_RDONLY | O_CLOEXEC));
    if (netns.get() < 0) {
      return Status::Unavailable("the task's network namespace is gone (process " +
                                 std::to_string(spec.network_of) + ")");
    }
    plan.join_netns_fd = netns.get();
    mntns = UniqueFd(open(("/proc/" + std::to_string(spec.network_of) + "/ns/mnt").c_str(),
                          O_RDONLY | O_CLOEXEC));
    if (mntns.get() >= 0 && !SameNamespace(spec.network_of, "mnt")) {
      plan.join_mntns_fd = mntns.get();
    }
  }
  for (const auto& ulimit : spec.ulimits) {
    auto resource = UlimitResource(ulimit.name);
    if (!resource) return Status::InvalidArgument("unknown ulimit '" + ulimit.name + "'");
    rlimit limit{static_cast<rlim_t>(ulimit.soft), static_cast<rlim_t>(ulimit.hard)};
    plan.rlimits.emplace_back(*resource, limit);
  }
  std::string cgroup;
  UniqueFd cgroup_procs;
  if (spec.memory_limit_bytes > 0 && use_cgroups_) {
    cgroup = cgroups_.Create(spec.task_id + "-" + spec.name + "-" + std::to_string(next_id_),
                             spec.memory_limit_bytes);
    if (!cgroup.empty()) {
      cgroup_procs = UniqueFd(open((cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
      plan.cgroup_fd = cgroup_procs.get();
    }
  }
  std::string cpu_cgroup;
  UniqueFd cpu_cgroup_procs;
  if ((spec.cpu_limit_vcpus > 0 || spec.cpu_shares > 0) && use_cgroups_) {
    cpu_cgroup = cgroups_.CreateCpu(spec.task_id + "-" + spec.name + "-" + std::to_string(next_id_),
                                    spec.cpu_limit_vcpus, spec.cpu_shares, cgroup);
    if (!cpu_cgroup.empty()) {
      cpu_cgroup_procs =
          UniqueFd(open((cpu_cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
      plan.cpu_cgroup_fd = cpu_cgroup_procs.get();
    }
  }

  // Block every signal around fork so no handler of ours runs in the child before
  // it resets dispositions; the child then clears its mask.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = fork();
  if (pid == 0) RunChild(plan);
  int fork_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return Status::Unavailable("fork: " + ErrnoText(fork_error));

  dev_null.Reset();
  out_write.Reset();
  err_write.Reset();
  status_write.Reset();

  // EOF: exec succeeded (the status pipe is close-on-exec). A record: it failed.
  ChildFailure failure{};
  ssize_t got;
  do {
    got = read(status_read.get(), &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    Reap(pid);  // it is exiting
    if (!cgroup.empty()) cgroups_.Remove(cgroup);
    if (!cpu_cgroup.empty()) cgroups_.Remove(cpu_cgroup);
    return ChildFailureStatus(failure, spec);
  }
  if (got != 0) {
    Status status = Status::Internal("reading the exec status of " + file + ": " +
                                     (got < 0 ? ErrnoText(errno) : std::string("short read")));
    kill(-pid, SIGKILL);  // it may have exec'd after all
    Reap(pid);
    return status;
  }

  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    Status status = Status::Unavailable("pidfd_open: " + ErrnoText(errno));
    kill(-pid, SIGKILL);
    Reap(pid);
    return status;
  }

  auto process = std::make_shared<Process>(loop_.io(), next_id_++, pid, std::move(callbacks));
  process->cgroup = cgroup;
  process->cpu_cgroup = cpu_cgroup;
  boost::system::error_code error;
  process->pidfd.assign(pidfd.get(), error);
  if (!error) {
    pidfd.Release();
    process->out.descriptor.assign(out_read.get(), error);
  }
  if (!error) {
    out_read.Release();
    process->err.descriptor.assign(err_read.get(), error);
  }
  if (error) {
    kill(-pid, SIGKILL);
    Reap(pid);
    return Status::Internal("registering " + file +
                            "'s descriptors with the loop: " + error.message());
  }
  err_read.Release();
  processes_.emplace(process->id, process);

  WaitForExit(process);
  ReadMore(process, process->out);
  ReadMore(process, process->err);
  if (spec.memory_limit_bytes > 0 && cgroup.empty()) {
    process->watched_limit = spec.memory_limit_bytes;
    WatchMemory(process);
  }
  return ContainerHandle{pid, ProcessStartTicks(pid), ""};
}

// Without a cgroup, the container's resident memory (its whole process group) is read
// from /proc every 100 ms of real time, and the group is killed past the limit, as the
// kernel's OOM killer would.
void ProcessRuntime::WatchMemory(const std::shared_ptr<Process>& process) {
  if (!process->watch_timer)
    process->watch_timer = std::make_unique<asio::steady_timer>(loop_.io());
  process->watch_timer->expires_after(std::chrono::milliseconds(100));
  std::weak_ptr<Process> weak = process;
  process->watch_timer->async_wait([this, weak](const boost::system::error_code& ec) {
    auto p = weak.lock();
    if (ec || !p || p->reaped || p->closed) return;
    uint64_t total = 0;
    uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    if (DIR* dir = opendir("/proc")) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        auto fields = StatFields(static_cast<pid_t>(std::atol(entry->d_name)));
        if (fields.size() < 22) continue;
        long pgrp = std::atol(fields[2].c_str());
        long rss = std::atol(fields[21].c_str());
        if (pgrp == p->pid && rss > 0) total += static_cast<uint64_t>(rss) * page;
      }
      closedir(dir);
    }
    if (total > p->watched_limit) {
      p->watch_killed = true;
      kill(-p->pid, SIGKILL);
      return;
    }
    WatchMemory(p);
  });
}

Status ProcessRuntime::Signal(const ContainerHandle& handle, int signal) {
  if (handle.pid <= 0) {
    return Status::InvalidArgument("pid " + std::to_string(handle.pid) +
                                   " is not a container; expected a pid from Start");
  }
  for (const auto& [id, process] : processes_) {
    // A reaped main process means the group was killed and its id may be reused:
    // the container has exited, and signalling it is a no-op.
    if (process->pid != handle.pid || process->reaped) continue;
    if (kill(-process->pid, signal) != 0 && errno != ESRCH) {
      if (errno == EINVAL) {
        return Status::InvalidArgument("signal " + std::to_string(signal) +
                                       ": invalid argument; expected a signal number");
      }
      return Status::Internal("kill -" + std::to_string(signal) + " -" +
                              std::to_string(process->pid) + ": " + ErrnoText(errno));
    }
    return Status::Ok();
  }
  return Status::Ok();  // already exited (and delivered)
}

void ProcessRuntime::KillAll() {
  for (const auto& [id, process] : processes_) {
    if (!process->reaped) kill(-process->pid, SIGKILL);
  }
  // SIGKILL ends them promptly. The pidfd waits still fire and deliver `exited`.
  for (const auto& [id, process] : processes_) {
    if (process->reaped) continue;
    process->exit = Reap(process->pid);
    process->reaped = true;
  }
}

void ProcessRuntime::WaitForExit(const std::shared_ptr<Process>& process) {
  // The pidfd was registered with the reactor just before this wait, so its
  // readiness (it becomes readable once, when the process ends) is not missed.
  process->pidfd.async_wait(
      stream_descriptor::wait_read,
      [this, weak = std::weak_ptr<Process>(process)](const boost::system::error_code& error) {
        std::shared_ptr<Process> process = weak.lock();
        if (!process || process->closed) return;  // the runtime is gone
        if (error == asio::error::operation_aborted) return;
        OnMainExited(process);
      });
}

void ProcessRuntime::OnMainExited(const std::shared_ptr<Process>& process) {
  if (!process->reaped) {
    // Peek first: until the zombie is reaped its pid, hence the group id, cannot be reused.
    siginfo_t info{};
    int peeked = waitid(P_PID, process->pid, &info, WEXITED | WNOHANG | WNOWAIT);
    if (peeked == 0 && info.si_pid == 0) {
      WaitForExit(process);  // not ended after all
      return;
    }
    // Docker's behaviour: the container ends with its main process; nothing is left running.
    if (peeked == 0) kill(-process->pid, SIGKILL);
    process->exit = Reap(process->pid);
    process->reaped = true;
  }
  process->main_ended = true;
  boost::system::error_code ignored;
  process->pidfd.close(ignored);
  // Everything the main process wrote is in the pipes now. Reads still pending are
  // cancelled; their handlers drain what is readable and close the pipe, so a
  // process that left the group and holds the pipe open cannot delay the exit.
  for (Stream* stream : {&process->out, &process->err}) {
    if (stream->open) stream->descriptor.cancel(ignored);
  }
  FinishIfDone(process);
}

void ProcessRuntime::ReadMore(const std::shared_ptr<Process>& process, Stream& stream) {
  stream.descriptor.async_read_some(asio::buffer(stream.buffer),
                                    [this, weak = std::weak_ptr<Process>(process), &stream](
                                        const boost::system::error_code& error, size_t bytes) {
                                      std::shared_ptr<Process> process = weak.lock();
                                      if (!process || process->closed)
                                        return;  // the runtime is gone
                                      OnRead(process, stream, error, bytes);
                                    });
}

void ProcessRuntime::OnRead(const std::shared_ptr<Process>& process, Stream& stream,
                            const boost::system::error_code& error, size_t bytes) {
  Feed(*process, stream, stream.buffer.data(), bytes);
  if (process->closed) return;  // a callback destroyed the runtime
  if (!error && !process->main_ended) {
    ReadMore(process, stream);
    return;
  }
  if (process->main_ended && error != asio::error::eof) {
    Drain(process, stream);
    if (process->closed) return;
  }
  CloseStream(process, stream);
  if (process->closed) return;
  FinishIfDone(process);
}

void ProcessRuntime::Drain(const std::shared_ptr<Process>& process, Stream& stream) {
  boost::system::error_code error;
  stream.descriptor.non_blocking(true, error);
  size_t drained = 0;
  while (!error && drained < kMaxDrainBytes) {
    size_t bytes = stream.descriptor.read_some(asio::buffer(stream.buffer), error);
    Feed(*process, stream, stream.buffer.data(), bytes);
    if (process->closed) return;
    drained += bytes;
  }
}

void ProcessRuntime::CloseStream(const std::shared_ptr<Process>& process, Stream& stream) {
  if (!stream.open) return;
  stream.open = false;
  boost::system::error_code ignored;
  stream.descriptor.close(ignored);
  if (!stream.partial.empty()) Emit(*process, stream);  // a last line without a newline
}

void ProcessRuntime::FinishIfDone(const std::shared_ptr<Process>& process) {
  if (!process->main_ended || process->out.open || process->err.open || process->closed) return;
  process->closed = true;
  auto exited = std::move(process->callbacks.exited);
  ContainerExit exit = process->exit;
  if (!process->cgroup.empty()) {
    exit.oom_killed = exit.signal == SIGKILL && cgroups_.OomKilled(process->cgroup);
    cgroups_.Remove(process->cgroup);
  }
  if (!process->cpu_cgroup.empty()) cgroups_.Remove(process->cpu_cgroup);
  if (process->watch_killed && exit.signal == SIGKILL) exit.oom_killed = true;
  if (process->watch_timer) process->watch_timer->cancel();
  processes_.erase(process->id);
  if (exited) exited(exit);  // last: it may destroy the runtime
}

void ProcessRuntime::Feed(Process& process, Stream& stream, const char* data, size_t size) {
  const char* next = data;
  const char* end = data + size;
  while (next < end && !process.closed) {
    size_t room = kMaxLineBytes - stream.partial.size();
    size_t available = static_cast<size_t>(end - next);
    // A newline right after `room` bytes still ends a line of exactly the maximum.
    const char* newline =
        static_cast<const char*>(std::memchr(next, '\n', std::min(available, room + 1)));
    if (newline != nullptr) {
      stream.partial.append(next, newline);
      next = newline + 1;
      Emit(process, stream);
    } else if (available > room) {
      stream.partial.append(next, room);
      next += room;
      Emit(process, stream);
    } else {
      stream.partial.append(next, end);
      next = end;
    }
  }
}

void ProcessRuntime::Emit(Process& process, Stream& stream) {
  std::string line = std::move(stream.partial);
  stream.partial.clear();
  if (process.callbacks.output && !process.closed) process.callbacks.output(line, stream.is_stderr);
}

Result<ContainerStats> ProcessRuntime::Stats(const ContainerHandle& handle) {
  return ProcessStats(handle.pid);
}

}  // namespace

namespace {

// A TCP socket made inside the network namespace of `pid` (a socket belongs to the
// namespace it was created in, whichever thread uses it later), then given to `setup`
// (bind, listen...) on that thread; the socket, or the errno that failed.
Result<int> SocketInNetworkNamespace(int pid, const std::string& what,
                                     const std::function<bool(int fd)>& setup) {
  UniqueFd netns(open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (netns.get() < 0)
    return Status::Unavailable("open the network namespace of " + std::to_string(pid) + ": " +
                               ErrnoText(errno));
  // setns changes only the calling thread; a short-lived thread keeps the caller's untouched.
  int result = -1;
  int error = 0;
  std::thread worker([&] {
    errno = 0;
    int fd = -1;
    if (setns(netns.get(), CLONE_NEWNET) == 0) {
      fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd >= 0 && !setup(fd)) {
      error = errno == 0 ? EINVAL : errno;
      close(fd);
      return;
    }
    if (fd < 0) error = errno;
    result = fd;
  });
  worker.join();
  if (result < 0) {
    return Status::Unavailable(what + " in the network namespace of " + std::to_string(pid) + ": " +
                               ErrnoText(error));
  }
  return result;
}

}  // namespace

Result<int> ListenInNetworkNamespace(int pid, const std::string& address, uint16_t port) {
  return SocketInNetworkNamespace(
      pid, "listen on " + address + ":" + std::to_string(port), [&](int fd) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        return inet_pton(AF_INET, address.c_str(), &addr.sin_addr) == 1 &&
               bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
               listen(fd, 128) == 0;
      });
}

Result<int> TcpSocketInNetworkNamespace(int pid) {
  return SocketInNetworkNamespace(pid, "a socket", [](int) { return true; });
}

namespace {

// Runs `work` on a short-lived thread that entered the namespace `kind` of `pid` (setns
// changes only the calling thread); the errno it failed with, or 0.
int InNamespaceOf(int pid, const char* kind, int nstype, const std::function<bool()>& work) {
  UniqueFd ns(open(("/proc/" + std::to_string(pid) + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) return errno;
  int error = 0;
  std::thread worker([&] {
    errno = 0;
    // A thread shares its filesystem context (root, cwd) with the process; it needs its
    // own before it may enter another mount namespace.
    if (nstype == CLONE_NEWNS && unshare(CLONE_FS) != 0) {
      error = errno;
      return;
    }
    if (setns(ns.get(), nstype) != 0 || !work()) error = errno == 0 ? EINVAL : errno;
  });
  worker.join();
  return error;
}

// ioctl on the loopback alias `label` with an IPv4 `address` (or none).
bool LoopbackAlias(const std::string& label, const std::string& address, bool up) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::strncpy(request.ifr_name, label.c_str(), IFNAMSIZ - 1);
  bool ok = true;
  if (up) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&request.ifr_addr);
    sa->sin_family = AF_INET;
    ok = inet_pton(AF_INET, address.c_str(), &sa->sin_addr) == 1 &&
         ioctl(fd, SIOCSIFADDR, &request) == 0;
    auto* mask = reinterpret_cast<sockaddr_in*>(&request.ifr_netmask);
    mask->sin_family = AF_INET;
    mask->sin_addr.s_addr = 0xffffffffu;
    ok = ok && ioctl(fd, SIOCSIFNETMASK, &request) == 0;
  }
  request.ifr_flags = up ? static_cast<short>(IFF_UP | IFF_RUNNING) : 0;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

}  // namespace

Status BindFileInMountNamespace(int pid, const std::string& source, const std::string& target) {
  if (SameNamespace(pid, "mnt")) {
    return Status::FailedPrecondition("process " + std::to_string(pid) +
                                      " has no mount namespace of its own");
  }
  int error = InNamespaceOf(pid, "mnt", CLONE_NEWNS, [&] {
    return mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0;
  });
  if (error != 0) {
    return Status::Unavailable("bind " + source + " over " + target +
                               " in the mount namespace of " + std::to_string(pid) + ": " +
                               ErrnoText(error));
  }
  return Status::Ok();
}

Status AddLoopbackAddress(int pid, const std::string& label, const std::string& address) {
  int error =
      InNamespaceOf(pid, "net", CLONE_NEWNET, [&] { return LoopbackAlias(label, address, true); });
  if (error != 0) {
    return Status::Unavailable("add " + address + " to the loopback of " + std::to_string(pid) +
                               ": " + ErrnoText(error));
  }
  return Status::Ok();
}

Status RemoveLoopbackAddress(int pid, const std::string& label) {
  int error =
      InNamespaceOf(pid, "net", CLONE_NEWNET, [&] { return LoopbackAlias(label, "", false); });
  if (error != 0) {
    return Status::Unavailable("remove " + label + " in the network namespace of " +
                               std::to_string(pid) + ": " + ErrnoText(error));
  }
  return Status::Ok();
}

bool KillLeftover(int pid, uint64_t start_ticks) {
  if (pid <= 0 || start_ticks == 0) return false;
  uint64_t now = ProcessStartTicks(pid);
  // A live leader with another start time: the pid went to another program.
  if (now != 0 && now != start_ticks) return false;
  // The leader is ours, or gone (its parent-death signal took it); while any member of
  // its process group lives, the kernel does not hand that id to anyone else.
  return kill(-pid, SIGKILL) == 0;
}

Result<ContainerStats> ProcessStats(int pid_number) {
  // Figures of the container's main process from /proc (its children are not summed).
  std::string pid = std::to_string(pid_number);
  std::vector<std::string> fields = StatFields(pid_number);
  if (fields.size() < 22 || fields[0] == "Z") {
    return Status::NotFound("container process " + pid + " has exited");
  }
  uint64_t tick_ns = 1000000000ULL / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  ContainerStats stats;
  stats.cpu_user_ns = std::stoull(fields[11]) * tick_ns;
  stats.cpu_kernel_ns = std::stoull(fields[12]) * tick_ns;
  stats.pids = std::stoull(fields[17]);
  stats.memory_bytes = std::stoull(fields[21]) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::string host = ReadWholeFile("/proc/stat");
  if (host.rfind("cpu ", 0) == 0) {
    std::istringstream line(host.substr(4, host.find('\n') - 4));
    uint64_t value, total = 0;
    while (line >> value) total += value;
    stats.system_cpu_ns = total * tick_ns;
  }
  stats.online_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  return stats;
}

bool NetworkNamespacesAvailable() {
  // Try it in a child, so this process's namespaces stay as they are.
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
  if (pid < 0) return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::unique_ptr<TaskRuntime> NewProcessRuntime(EventLoop& loop) {
  return std::make_unique<ProcessRuntime>(loop, true);
}

std::unique_ptr<TaskRuntime> NewProcessRuntimeWithoutCgroupsForTest(EventLoop& loop) {
  return std::make_unique<ProcessRuntime>(loop, false);
}

}  // namespace understudy::runtime
