// Tests for ProcessRuntime with real processes (/bin/sh, /bin/sleep, ...): exit codes,
// signals to the whole group, output lines, the exact environment, exec errors, and
// that no process outlives its runtime or its parent. Waits run the loop until a
// condition holds, with a real-time deadline; nothing sleeps.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/task_runtime.h"
#include "support/status_matchers.h"
#include "unit/core/test_util.h"

namespace understudy::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::understudy::testing::IsOk;
using ::understudy::testing::RunLoopUntil;
using ::understudy::testing::StatusIs;

// What /proc says about one process.
struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// The contents of a small /proc file, or "" if the process is gone. Plain read(2):
// libstdc++'s streams throw when a process ends between open and read (ESRCH).
std::string ReadProcFile(pid_t pid, const char* name) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text;
  char buffer[4096];
  ssize_t got;
  while ((got = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, got);
  close(fd);
  return got < 0 ? "" : text;
}

// State, parent and process group of `pid` from /proc/<pid>/stat; nullopt if it is gone.
std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::string text = ReadProcFile(pid, "stat");
  size_t paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(paren + 1));
  ProcStat stat;
  rest >> stat.state >> stat.ppid >> stat.pgrp;
  if (!rest) return std::nullopt;
  return stat;
}

// Every process on the host with its /proc stat.
std::vector<std::pair<pid_t, ProcStat>> AllProcesses() {
  std::vector<std::pair<pid_t, ProcStat>> processes;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return processes;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto stat = ReadProcStat(static_cast<pid_t>(pid))) processes.emplace_back(pid, *stat);
  }
  closedir(dir);
  return processes;
}

// The processes whose parent is this test binary (zombies included).
std::set<pid_t> ChildrenOfThisProcess() {
  std::set<pid_t> children;
  for (const auto& [pid, stat] : AllProcesses()) {
    if (stat.ppid == getpid()) children.insert(pid);
  }
  return children;
}

// Members of process group `pgid` that have not ended (zombies excluded).
std::vector<pid_t> LiveGroupMembers(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& [pid, stat] : AllProcesses()) {
    if (stat.pgrp == pgid && stat.state != 'Z' && stat.state != 'X') members.push_back(pid);
  }
  return members;
}

// The command name of `pid` ("sleep"), or "" if it is gone.
std::string Command(pid_t pid) {
  std::string comm = ReadProcFile(pid, "comm");
  return comm.substr(0, comm.find('\n'));
}

// "pid state command; ..." for every member of group `pgid`, for failure messages.
std::string DescribeGroup(pid_t pgid) {
  std::string text;
  for (const auto& [pid, stat] : AllProcesses()) {
    if (stat.pgrp != pgid) continue;
    text += std::to_string(pid) + " " + stat.state + " " + Command(pid) + "; ";
  }
  return text;
}

// True when no process of group `pgid` runs: kill(-pgid, 0) fails with ESRCH, or only
// zombies are left. Orphaned members are reparented to init, and the init of some test
// machines never reaps them, so a killed group can linger as zombies.
bool GroupGone(pid_t pgid) {
  if (kill(-pgid, 0) != 0 && errno == ESRCH) return true;
  return LiveGroupMembers(pgid).empty();
}

// Records what a container reports.
struct Recorder {
  std::vector<std::string> out;
  std::vector<std::string> err;
  std::optional<ContainerExit> exit;
  int exits = 0;
  bool output_after_exit = false;

  ContainerCallbacks Callbacks() {
    return ContainerCallbacks{
        .output =
            [this](const std::string& line, bool is_stderr) {
              if (exit) output_after_exit = true;
              (is_stderr ? err : out).push_back(line);
            },
        .exited =
            [this](const ContainerExit& e) {
              exit = e;
              ++exits;
            },
    };
  }
};

ContainerSpec Spec(std::vector<std::string> argv,
                   std::vector<std::pair<std::string, std::string>> environment = {
                       {"PATH", "/usr/bin:/bin"}}) {
  ContainerSpec spec;
  spec.task_id = "task";
  spec.name = "app";
  spec.argv = std::move(argv);
  spec.environment = std::move(environment);
  return spec;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "runtime_test.XXXXXX").string();
    path_ = mkdtemp(pattern.data());
    path_ = std::filesystem::canonical(path_).string();
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ProcessRuntimeTest : public ::testing::Test {
 protected:
  // Runs the loop until `recorder` saw the exit.
  bool WaitForExit(const Recorder& recorder) {
    return RunLoopUntil(loop_, [&] { return recorder.exit.has_value(); });
  }
  // Starts `spec`, runs it to its exit and returns what it reported.
  Recorder RunToExit(const ContainerSpec& spec) {
    Recorder recorder;
    auto handle = runtime_->Start(spec, recorder.Callbacks());
    EXPECT_THAT(handle, IsOk());
    if (handle.ok()) {
      EXPECT_TRUE(WaitForExit(recorder));
    }
    return recorder;
  }
  // Runs a failing Start; checks it left no child process behind.
  Status StartFails(const ContainerSpec& spec) {
    std::set<pid_t> before = ChildrenOfThisProcess();
    Recorder recorder;
    auto handle = runtime_->Start(spec, recorder.Callbacks());
    EXPECT_FALSE(handle.ok());
    for (pid_t child : ChildrenOfThisProcess()) {
      auto stat = ReadProcStat(child);
      EXPECT_TRUE(before.contains(child))
          << "a failed start left child " << child << " (" << Command(child) << ", state "
          << (stat ? stat->state : '?') << ") behind";
    }
    loop_.RunUntilIdleForTest();
    EXPECT_EQ(recorder.exits, 0);
    return handle.ok() ? Status::Ok() : handle.status();
  }

  EventLoop loop_;
  std::unique_ptr<TaskRuntime> runtime_ = NewProcessRuntime(loop_);
};

// Proves exit statuses come back as the exit code, with no signal.
TEST_F(ProcessRuntimeTest, ExitCodes) {
  Recorder ok = RunToExit(Spec({"/bin/true"}));
  ASSERT_TRUE(ok.exit);
  EXPECT_EQ(ok.exit->exit_code, 0);
  EXPECT_EQ(ok.exit->signal, 0);

  Recorder failed = RunToExit(Spec({"/bin/false"}));
  ASSERT_TRUE(failed.exit);
  EXPECT_EQ(failed.exit->exit_code, 1);

  Recorder three = RunToExit(Spec({"/bin/sh", "-c", "exit 3"}));
  ASSERT_TRUE(three.exit);
  EXPECT_EQ(three.exit->exit_code, 3);
  EXPECT_EQ(three.exit->signal, 0);
  EXPECT_EQ(three.exits, 1);
}

// Proves a container ended by SIGTERM exits 143 and by SIGKILL 137, Docker's convention.
TEST_F(ProcessRuntimeTest, SignalledExitIs128PlusSignal) {
  for (int sig : {SIGTERM, SIGKILL}) {
    Recorder recorder;
    auto handle = runtime_->Start(Spec({"/bin/sleep", "100"}), recorder.Callbacks());
    ASSERT_THAT(handle, IsOk());
    EXPECT_EQ(getpgid(handle->pid), handle->pid);  // its own process group
    ASSERT_THAT(runtime_->Signal(*handle, sig), IsOk());
    ASSERT_TRUE(WaitForExit(recorder));
    EXPECT_EQ(recorder.exit->exit_code, 128 + sig);
    EXPECT_EQ(recorder.exit->signal, sig);
    // Signalling a container that already exited is fine.
    EXPECT_THAT(runtime_->Signal(*handle, SIGTERM), IsOk());
  }
}

// Proves a bad signal number is an InvalidArgument naming it.
TEST_F(ProcessRuntimeTest, InvalidSignalIsRejected) {
  Recorder recorder;
  auto handle = runtime_->Start(Spec({"/bin/sleep", "100"}), recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  Status status = runtime_->Signal(*handle, 1000);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "signal 1000: invalid argument; expected a signal number");
  ASSERT_THAT(runtime_->Signal(*handle, SIGKILL), IsOk());
  ASSERT_TRUE(WaitForExit(recorder));
}

// Proves lines arrive in order per stream, empty lines and an unterminated last line
// included, and that every line comes before the exit.
TEST_F(ProcessRuntimeTest, OutputLinesInOrderBeforeExit) {
  Recorder recorder = RunToExit(Spec(
      {"/bin/sh", "-c",
       "echo one; echo two >&2; printf 'three\\n\\nfive\\n'; printf err-tail >&2; printf six"}));
  ASSERT_TRUE(recorder.exit);
  EXPECT_EQ(recorder.exit->exit_code, 0);
  EXPECT_THAT(recorder.out, ElementsAre("one", "three", "", "five", "six"));
  EXPECT_THAT(recorder.err, ElementsAre("two", "err-tail"));
  EXPECT_FALSE(recorder.output_after_exit);
}

// Proves 10,000 lines on each stream all arrive, in order, before the exit.
TEST_F(ProcessRuntimeTest, ManyLinesAreNotLost) {
  Recorder recorder = RunToExit(Spec(
      {"/bin/sh", "-c",
       "i=0; while [ $i -lt 10000 ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done"}));
  ASSERT_TRUE(recorder.exit);
  ASSERT_EQ(recorder.out.size(), 10000u);
  ASSERT_EQ(recorder.err.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(recorder.out[i], "out " + std::to_string(i));
    ASSERT_EQ(recorder.err[i], "err " + std::to_string(i));
  }
  EXPECT_FALSE(recorder.output_after_exit);
}

// Proves a line longer than 256 KiB is delivered in 256 KiB pieces, nothing lost.
TEST_F(ProcessRuntimeTest, LongLineIsSplitAt256KiB) {
  Recorder recorder =
      RunToExit(Spec({"/bin/sh", "-c", "head -c 600000 /dev/zero | tr '\\0' x; echo; echo next"}));
  ASSERT_TRUE(recorder.exit);
  ASSERT_EQ(recorder.out.size(), 4u);
  EXPECT_EQ(recorder.out[0], std::string(262144, 'x'));
  EXPECT_EQ(recorder.out[1], std::string(262144, 'x'));
  EXPECT_EQ(recorder.out[2], std::string(600000 - 2 * 262144, 'x'));
  EXPECT_EQ(recorder.out[3], "next");
}

// Proves a line of exactly 256 KiB stays one line (no empty line after it).
TEST_F(ProcessRuntimeTest, LineOfExactlyTheMaximumIsOneLine) {
  Recorder recorder =
      RunToExit(Spec({"/bin/sh", "-c", "head -c 262144 /dev/zero | tr '\\0' y; echo; echo next"}));
  ASSERT_TRUE(recorder.exit);
  ASSERT_EQ(recorder.out.size(), 2u);
  EXPECT_EQ(recorder.out[0], std::string(262144, 'y'));
  EXPECT_EQ(recorder.out[1], "next");
}

// Proves the child's environment is exactly the spec's: nothing of ours leaks in.
TEST_F(ProcessRuntimeTest, EnvironmentIsExactlyTheSpecs) {
  ASSERT_EQ(setenv("UNDERSTUDY_RUNTIME_TEST_LEAK", "leaked", 1), 0);
  Recorder recorder =
      RunToExit(Spec({"env"}, {{"GREETING", "hello world"}, {"PATH", "/usr/bin:/bin"}}));
  unsetenv("UNDERSTUDY_RUNTIME_TEST_LEAK");
  ASSERT_TRUE(recorder.exit);
  EXPECT_EQ(recorder.exit->exit_code, 0);
  EXPECT_THAT(recorder.out, ElementsAre("GREETING=hello world", "PATH=/usr/bin:/bin"));
}

// Proves argv[0] is looked up in the child's PATH, with the default PATH when it has none.
TEST_F(ProcessRuntimeTest, PathLookupUsesTheChildsPath) {
  Recorder defaulted = RunToExit(Spec({"true"}, {}));
  ASSERT_TRUE(defaulted.exit);
  EXPECT_EQ(defaulted.exit->exit_code, 0);

  // Our own PATH has `true`; the child's does not.
  Status status = StartFails(Spec({"true"}, {{"PATH", "/nonexistent-dir"}}));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "exec: \"true\": executable file not found in $PATH");
}

// Proves the working directory is honoured.
TEST_F(ProcessRuntimeTest, WorkingDirectory) {
  TempDir dir;
  ContainerSpec spec = Spec({"/bin/pwd"});
  spec.working_directory = dir.path();
  Recorder recorder = RunToExit(spec);
  ASSERT_TRUE(recorder.exit);
  EXPECT_THAT(recorder.out, ElementsAre(dir.path()));
}

// Proves the child starts clean: default dispositions, no blocked signal, stdin from
// /dev/null, and no descriptor of ours but 0, 1 and 2 (ls's own directory is 3).
TEST_F(ProcessRuntimeTest, ChildStartsClean) {
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &previous), 0);
  struct sigaction ignore {
  }, previous_int{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGINT, &ignore, &previous_int), 0);
  int leaked = open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(leaked, 0);

  Recorder status = RunToExit(Spec({"/bin/cat", "/proc/self/status"}));
  Recorder stdin_target = RunToExit(Spec({"/usr/bin/readlink", "/proc/self/fd/0"}));
  Recorder fds = RunToExit(Spec({"/bin/ls", "/proc/self/fd"}));

  close(leaked);
  sigaction(SIGINT, &previous_int, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  std::vector<std::string> masks;
  for (const std::string& line : status.out) {
    if (line.starts_with("SigBlk:") || line.starts_with("SigIgn:")) masks.push_back(line);
  }
  EXPECT_THAT(masks, ElementsAre("SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"));
  EXPECT_THAT(stdin_target.out, ElementsAre("/dev/null"));
  EXPECT_THAT(fds.out, ElementsAre("0", "1", "2", "3"));
}

// Proves an argv[0] missing from PATH fails Start with Go's message and leaves no child.
TEST_F(ProcessRuntimeTest, ExecNotFoundInPath) {
  Status status = StartFails(Spec({"nosuchbinary", "arg"}));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "exec: \"nosuchbinary\": executable file not found in $PATH");
}

// Proves a missing absolute path fails Start with the errno text and leaves no child.
TEST_F(ProcessRuntimeTest, ExecMissingAbsolutePath) {
  Status status = StartFails(Spec({"/nonexistent-dir/app"}));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "exec: \"/nonexistent-dir/app\": no such file or directory");
}

// Proves a file without execute permission fails Start with "permission denied".
TEST_F(ProcessRuntimeTest, ExecPermissionDenied) {
  TempDir dir;
  std::string script = dir.path() + "/x";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  ASSERT_EQ(chmod(script.c_str(), 0644), 0);
  Status status = StartFails(Spec({script}));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "exec: \"" + script + "\": permission denied");
}

// Proves a missing working directory fails Start with chdir's error and leaves no child.
TEST_F(ProcessRuntimeTest, ChdirFailure) {
  TempDir dir;
  ContainerSpec spec = Spec({"/bin/true"});
  spec.working_directory = dir.path() + "/nope";
  Status status = StartFails(spec);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "chdir: " + dir.path() + "/nope: no such file or directory");
}

// Proves an empty argv is rejected before anything is started.
TEST_F(ProcessRuntimeTest, EmptyArgvIsInvalid) {
  Status status = StartFails(Spec({}));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "argv is empty; expected a command");
}

// Proves Signal reaches every process of the group: SIGSTOP stops the shell and both of
// its sleeps, and after SIGKILL none of the group is left.
TEST_F(ProcessRuntimeTest, SignalReachesTheWholeProcessGroup) {
  Recorder recorder;
  auto handle =
      runtime_->Start(Spec({"/bin/sh", "-c", "sleep 100 & sleep 100; wait"}), recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  const pid_t pgid = handle->pid;
  // Wait for both sleeps to be exec'd: dash may vfork, and a parent waiting for a vforked
  // child that has not exec'd yet cannot stop.
  ASSERT_TRUE(RunLoopUntil(loop_, [&] {
    std::vector<pid_t> members = LiveGroupMembers(pgid);
    int sleeps = 0;
    for (pid_t pid : members) sleeps += Command(pid) == "sleep";
    return members.size() == 3 && sleeps == 2;
  })) << DescribeGroup(pgid);

  ASSERT_THAT(runtime_->Signal(*handle, SIGSTOP), IsOk());
  EXPECT_TRUE(RunLoopUntil(loop_,
                           [&] {
                             std::vector<pid_t> members = LiveGroupMembers(pgid);
                             for (pid_t pid : members) {
                               auto stat = ReadProcStat(pid);
                               if (!stat || stat->state != 'T') return false;
                             }
                             return members.size() == 3;
                           }))
      << "not every member of the group stopped: " << DescribeGroup(pgid);

  ASSERT_THAT(runtime_->Signal(*handle, SIGKILL), IsOk());
  ASSERT_TRUE(WaitForExit(recorder));
  EXPECT_EQ(recorder.exit->exit_code, 137);
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return GroupGone(pgid); }));
}

// Proves the container ends with its main process, like Docker: a background child
// still running in the group is killed.
TEST_F(ProcessRuntimeTest, GroupIsKilledWhenTheMainProcessExits) {
  Recorder recorder;
  auto handle =
      runtime_->Start(Spec({"/bin/sh", "-c", "sleep 100 & echo started"}), recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  ASSERT_TRUE(WaitForExit(recorder));
  EXPECT_EQ(recorder.exit->exit_code, 0);
  EXPECT_THAT(recorder.out, ElementsAre("started"));
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return GroupGone(handle->pid); }));
}

// Proves the exit is not held back by a process that left the group (setsid) and keeps
// the output pipe open: what was written comes first, then the exit.
TEST_F(ProcessRuntimeTest, EscapedGrandchildHoldingThePipeDoesNotDelayTheExit) {
  if (access("/usr/bin/setsid", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/setsid";
  TempDir dir;
  const std::string pid_file = dir.path() + "/escaped.pid";
  Recorder recorder;
  auto handle = runtime_->Start(
      Spec({"/bin/sh", "-c",
            "/usr/bin/setsid /bin/sh -c 'echo $$ > " + pid_file + ".tmp; mv " + pid_file + ".tmp " +
                pid_file + "; exec sleep 100' & while [ ! -s " + pid_file +
                " ]; do :; done; echo started"}),
      recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  EXPECT_TRUE(WaitForExit(recorder));

  pid_t escaped = 0;
  std::ifstream(pid_file) >> escaped;
  ASSERT_GT(escaped, 0);
  auto stat = ReadProcStat(escaped);
  EXPECT_TRUE(stat && stat->state != 'Z') << "the escaped process should still be running";
  kill(escaped, SIGKILL);  // ours to clean up: it left the group on purpose

  ASSERT_TRUE(recorder.exit);
  EXPECT_EQ(recorder.exit->exit_code, 0);
  EXPECT_THAT(recorder.out, ElementsAre("started"));
  EXPECT_FALSE(recorder.output_after_exit);
}

// Proves KillAll SIGKILLs every running container, whose exits (137) are then delivered.
TEST_F(ProcessRuntimeTest, KillAllKillsEveryContainer) {
  Recorder first, second;
  auto a = runtime_->Start(Spec({"/bin/sleep", "100"}), first.Callbacks());
  auto b = runtime_->Start(Spec({"/bin/sh", "-c", "sleep 100 & wait"}), second.Callbacks());
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  runtime_->KillAll();
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return first.exit && second.exit; }));
  EXPECT_EQ(first.exit->exit_code, 137);
  EXPECT_EQ(second.exit->exit_code, 137);
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return GroupGone(a->pid) && GroupGone(b->pid); }));
}

// Proves destroying the runtime kills and reaps its containers and silences their callbacks.
TEST_F(ProcessRuntimeTest, DestructionKillsAndSilencesContainers) {
  Recorder recorder;
  auto handle =
      runtime_->Start(Spec({"/bin/sh", "-c", "echo hi; sleep 100 & wait"}), recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  runtime_.reset();
  EXPECT_FALSE(ChildrenOfThisProcess().contains(handle->pid)) << "not reaped";
  loop_.RunUntilIdleForTest();  // the cancelled handlers run now
  EXPECT_EQ(recorder.exits, 0);
  EXPECT_THAT(recorder.out, IsEmpty());
  EXPECT_THAT(recorder.err, IsEmpty());
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return GroupGone(handle->pid); }));
}

// Proves a callback may destroy the runtime: no further callback runs and nothing breaks.
TEST_F(ProcessRuntimeTest, CallbackMayDestroyTheRuntime) {
  int lines = 0;
  ContainerCallbacks callbacks{
      .output =
          [&](const std::string&, bool) {
            ++lines;
            runtime_.reset();
          },
      .exited = [&](const ContainerExit&) { ADD_FAILURE() << "exited after destruction"; },
  };
  auto handle =
      runtime_->Start(Spec({"/bin/sh", "-c", "echo 1; echo 2; echo 3; sleep 100"}), callbacks);
  ASSERT_THAT(handle, IsOk());
  ASSERT_TRUE(RunLoopUntil(loop_, [&] { return runtime_ == nullptr; }));
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(lines, 1);
  EXPECT_TRUE(RunLoopUntil(loop_, [&] { return GroupGone(handle->pid); }));
}

// Proves no container outlives the process that started it: when that process dies
// without cleaning up, the kernel's parent-death signal kills the container.
TEST(ProcessRuntimeParentDeathTest, ContainerDiesWithItsParent) {
  int to_test[2], to_helper[2];
  ASSERT_EQ(pipe2(to_test, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(to_helper, O_CLOEXEC), 0);
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    // The helper: start a container, report its pid, wait for the go, then die at once
    // (no destructor, no KillAll).
    EventLoop loop;
    std::unique_ptr<TaskRuntime> runtime = NewProcessRuntime(loop);
    auto handle = runtime->Start(Spec({"/bin/sleep", "100"}), {});
    pid_t pid = handle.ok() ? handle->pid : -1;
    if (write(to_test[1], &pid, sizeof(pid)) != sizeof(pid)) _exit(2);
    char go;
    if (read(to_helper[0], &go, 1) != 1) _exit(3);
    _exit(0);
  }
  close(to_test[1]);
  close(to_helper[0]);

  pid_t container = -1;
  ASSERT_EQ(read(to_test[0], &container, sizeof(container)),
            static_cast<ssize_t>(sizeof(container)));
  close(to_test[0]);
  ASSERT_GT(container, 0);
  // A pidfd names exactly this process (no pid reuse) and is readable once it ends.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, container, 0));
  ASSERT_GE(pidfd, 0);
  pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
  EXPECT_EQ(poll(&ended, 1, 0), 0) << "the container should run while its parent does";

  ASSERT_EQ(write(to_helper[1], "g", 1), 1);
  close(to_helper[1]);
  int status = 0;
  ASSERT_EQ(waitpid(helper, &status, 0), helper);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  EXPECT_EQ(poll(&ended, 1, /*timeout_ms=*/10000), 1) << "the container outlived its parent";
  close(pidfd);
}

}  // namespace
}  // namespace understudy::runtime

namespace understudy::runtime {
namespace {

// Proves that without a cgroup the memory limit is still enforced, by watching /proc:
// a process group that grows past it is killed (137) and reported as an OOM kill.
TEST_F(ProcessRuntimeTest, MemoryLimitWatchedFromProcWithoutCgroups) {
  runtime_ = NewProcessRuntimeWithoutCgroupsForTest(loop_);
  ContainerSpec spec =
      Spec({"/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 100"});
  spec.memory_limit_bytes = 32ull << 20;
  Recorder recorder;
  auto handle = runtime_->Start(spec, recorder.Callbacks());
  ASSERT_THAT(handle, IsOk());
  ASSERT_TRUE(RunLoopUntil(
      loop_, [&] { return recorder.exit.has_value(); }, std::chrono::seconds(30)));
  EXPECT_EQ(recorder.exit->exit_code, 137);
  EXPECT_TRUE(recorder.exit->oom_killed);
}

// Proves a process under its limit is left alone by the watcher.
TEST_F(ProcessRuntimeTest, MemoryWatcherLeavesSmallProcessesAlone) {
  runtime_ = NewProcessRuntimeWithoutCgroupsForTest(loop_);
  ContainerSpec spec = Spec({"/bin/sh", "-c", "sleep 0.5; exit 4"});
  spec.memory_limit_bytes = 64ull << 20;
  Recorder recorder = RunToExit(spec);
  ASSERT_TRUE(recorder.exit);
  EXPECT_EQ(recorder.exit->exit_code, 4);
  EXPECT_FALSE(recorder.exit->oom_killed);
}

}  // namespace
}  // namespace understudy::runtime

namespace understudy::runtime {
namespace {

std::string WholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Proves: a container in a new network namespace gets a private mount namespace, which
// the task's other containers join: a file bound over /etc/hosts there is what they read,
// rewritten in place they read the new text, and the host's /etc/hosts is untouched.
// Binding into a process that shares this process's mount namespace is refused. An
// address put on the namespace's loopback can be listened on there until it is removed.
TEST_F(ProcessRuntimeTest, PrivateMountNamespaceAndLoopbackAddresses) {
  if (!NetworkNamespacesAvailable()) GTEST_SKIP() << "needs network namespaces (root)";
  TempDir dir;
  std::string hosts = dir.path() + "/hosts";
  std::ofstream(hosts) << "10.0.0.9\tapi.local\n";
  std::string host_before = WholeFile("/etc/hosts");

  ContainerSpec holder = Spec({"sleep", "60"});
  holder.name = "pause";
  holder.network = ContainerSpec::Network::kNew;
  Recorder pause;
  auto held = runtime_->Start(holder, pause.Callbacks());
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(BindFileInMountNamespace(held->pid, hosts, "/etc/hosts"), IsOk());
  ContainerSpec reader = Spec({"cat", "/etc/hosts"});
  reader.network = ContainerSpec::Network::kJoin;
  reader.network_of = held->pid;
  EXPECT_THAT(RunToExit(reader).out, ::testing::ElementsAre("10.0.0.9\tapi.local"));
  {
    std::ofstream rewrite(hosts, std::ios::trunc);  // same inode, as TaskNames writes it
    rewrite << "10.0.0.10\tapi.local\n";
  }
  EXPECT_THAT(RunToExit(reader).out, ::testing::ElementsAre("10.0.0.10\tapi.local"));
  EXPECT_EQ(WholeFile("/etc/hosts"), host_before);
  EXPECT_FALSE(BindFileInMountNamespace(getpid(), hosts, "/etc/hosts").ok());

  EXPECT_FALSE(ListenInNetworkNamespace(held->pid, "10.0.0.9", 8080).ok());
  EXPECT_THAT(AddLoopbackAddress(held->pid, "lo:t1", "10.0.0.9"), IsOk());
  auto fd = ListenInNetworkNamespace(held->pid, "10.0.0.9", 8080);
  ASSERT_THAT(fd, IsOk());
  close(*fd);
  EXPECT_THAT(RemoveLoopbackAddress(held->pid, "lo:t1"), IsOk());
  EXPECT_FALSE(ListenInNetworkNamespace(held->pid, "10.0.0.9", 8080).ok());

  ASSERT_THAT(runtime_->Signal(*held, SIGKILL), IsOk());
  EXPECT_TRUE(WaitForExit(pause));
}

}  // namespace
}  // namespace understudy::runtime
