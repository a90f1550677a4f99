#include "scenario/emulator_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

extern char** environ;

namespace understudy::scenario {
namespace {

int64_t MillisLeft(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - RealElapsedNow()).count();
}

// Waits for `pid` to exit within `ms`; true when it was reaped.
bool ReapWithin(pid_t pid, int64_t ms, int* status) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(ms));
    ::close(pidfd);
    return ::waitpid(pid, status, WNOHANG) == pid;
  }
  // No pidfd: the child is either gone or about to be killed anyway.
  return ::waitpid(pid, status, WNOHANG) == pid;
}

}  // namespace

EmulatorProcess::~EmulatorProcess() { Stop(); }

Status EmulatorProcess::Start(const std::string& binary, const std::vector<std::string>& extra,
                              Duration ready_within) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "understudy-run-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IoError(std::string("cannot create a temporary directory: ") +
                           std::strerror(errno));
  }
  work_dir_ = tmpl;
  std::string state_dir = work_dir_ + "/state";
  std::string log_file = work_dir_ + "/stderr.log";
  std::vector<std::string> args = {binary, "serve", "--port", "0", "--state-dir", state_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Status::IoError(std::string("pipe: ") + std::strerror(errno));
  }
  int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec. It gets SIGTERM when the
    // runner dies, so a killed runner leaves no emulator (and no tasks) behind.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execve(binary.c_str(), argv.data(), environ);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(pipe_fds[1]);
  if (log_fd >= 0) ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid_ < 0) {
    ::close(pipe_fds[0]);
    pid_ = -1;
    return Status::IoError("cannot start " + binary + ": " + std::strerror(fork_errno));
  }
  stdout_fd_ = pipe_fds[0];

  // Read the ready line.
  auto deadline = RealElapsedNow() + ready_within;
  std::string buffer;
  static const std::regex kReady(R"(^understudy \S+ listening on (http://([^:/]+):(\d+))\s*$)");
  while (true) {
    size_t newline = buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      std::smatch m;
      if (!std::regex_match(line, m, kReady)) {
        return Status::Internal("unexpected first line from the emulator: '" + line + "'");
      }
      endpoint_ = m[1];
      host_ = m[2];
      port_ = std::stoi(m[3]);
      break;
    }
    int64_t left = MillisLeft(deadline);
    if (left <= 0) {
      return Status::DeadlineExceeded("the emulator printed no ready line within " +
                                      FormatDuration(ready_within) + "; stderr: " + StderrTail());
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
    char chunk[4096];
    ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n == 0) {
      return Status::Internal("the emulator exited before its ready line; stderr: " + StderrTail());
    }
    if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
  }
  // Keep draining stdout so that the child never blocks on a full pipe.
  // (Task processes may inherit the pipe, so the loop also ends when told to.)
  drain_ = std::thread([fd = stdout_fd_, stop = stop_draining_] {
    char chunk[4096];
    while (!stop->load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(fd, chunk, sizeof chunk) <= 0) break;
    }
  });
  return Status::Ok();
}

int EmulatorProcess::Stop() {
  int code = -1;
  if (pid_ > 0) {
    int status = 0;
    ::kill(pid_, SIGTERM);
    if (!ReapWithin(pid_, 10000, &status)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    if (WIFEXITED(status)) code = WEXITSTATUS(status);
    pid_ = -1;
  }
  stop_draining_->store(true);
  if (drain_.joinable()) drain_.join();
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  if (!work_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
    work_dir_.clear();
  }
  return code;
}

std::string EmulatorProcess::StderrTail(size_t max_bytes) const {
  std::ifstream in(work_dir_ + "/stderr.log", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

}  // namespace understudy::scenario
