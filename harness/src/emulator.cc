#include "understudy/emulator.h"

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

#include "http.h"
#include "real_time.h"

extern char** environ;

namespace understudy {
namespace {

namespace fs = std::filesystem;
using harness_internal::HttpClient;

constexpr const char* kDirPrefix = "understudy-harness-";

// Removes the directories of harness runs whose process is gone (a crashed test).
void SweepStaleDirs(const fs::path& temp) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(temp, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    std::string rest = name.substr(std::strlen(kDirPrefix));
    size_t dash = rest.find('-');
    if (dash == std::string::npos) continue;
    pid_t owner = static_cast<pid_t>(std::strtol(rest.substr(0, dash).c_str(), nullptr, 10));
    if (owner <= 0 || (::kill(owner, 0) != 0 && errno == ESRCH)) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return name;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return name;
}

bool ReapWithin(pid_t pid, int ms, int* status) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, ms);
    ::close(pidfd);
  }
  return ::waitpid(pid, status, WNOHANG) == pid;
}

std::string FormatMillis(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

Emulator::Emulator(EmulatorOptions options)
    : options_(std::move(options)), stop_draining_(std::make_shared<std::atomic<bool>>(false)) {}

Emulator::~Emulator() { Stop(); }

Result<Done> Emulator::Start() {
  if (pid_ > 0) return Error{"AlreadyStarted", "the emulator is already running", 0};
  std::string binary = options_.binary;
  if (const char* env = std::getenv("UNDERSTUDY_BINARY"); env != nullptr && *env != '\0') {
    binary = env;
  }
  if (binary.empty()) binary = FindOnPath("understudy");

  fs::path temp = fs::temp_directory_path();
  SweepStaleDirs(temp);
  std::string tmpl = (temp / (kDirPrefix + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error{"IoError",
                 std::string("cannot create a temporary directory: ") + std::strerror(errno)};
  }
  work_dir_ = tmpl;
  state_dir_ = work_dir_ + "/state";
  std::string log_file = work_dir_ + "/stderr.log";

  std::vector<std::string> args = {binary,    "serve",        "--port",      "0",
                                   "--clock", options_.clock, "--state-dir", state_dir_};
  if (options_.seed) {
    args.push_back("--seed");
    args.push_back(std::to_string(*options_.seed));
  }
  if (!options_.start.empty()) {
    args.push_back("--start");
    args.push_back(options_.start);
  }
  if (!options_.region.empty()) {
    args.push_back("--region");
    args.push_back(options_.region);
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  bool has_fixture_app = false;
  for (char** e = environ; *e != nullptr; ++e) {
    env_strings.emplace_back(*e);
    if (env_strings.back().rfind("UNDERSTUDY_FIXTURE_APP=", 0) == 0) has_fixture_app = true;
  }
  if (!has_fixture_app && !options_.fixture_app.empty()) {
    env_strings.push_back("UNDERSTUDY_FIXTURE_APP=" + options_.fixture_app);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Error{"IoError", std::string("pipe: ") + std::strerror(errno)};
  }
  int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only. SIGTERM when the test process dies.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(pipe_fds[1]);
  if (log_fd >= 0) ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return Error{"IoError", "cannot start " + binary + ": " + std::strerror(fork_errno)};
  }
  pid_ = pid;
  stdout_fd_ = pipe_fds[0];

  auto deadline = harness_internal::RealNow() + options_.ready_within;
  std::string buffer;
  static const std::regex kReady(R"(^understudy \S+ listening on (http://[^:/]+:(\d+))\s*$)");
  while (true) {
    size_t newline = buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      std::smatch m;
      if (!std::regex_match(line, m, kReady)) {
        std::string tail = StderrTail();
        Stop();
        return Error{"StartFailed",
                     "unexpected first line from " + binary + ": '" + line + "'; stderr: " + tail};
      }
      endpoint_ = m[1];
      port_ = std::stoi(m[2]);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      harness_internal::RealNow())
                    .count();
    if (left <= 0) {
      std::string tail = StderrTail();
      Stop();
      return Error{"StartFailed", binary + " printed no ready line within " +
                                      FormatMillis(options_.ready_within) + "; stderr: " + tail};
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
    char chunk[4096];
    ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n == 0) {
      std::string tail = StderrTail();
      Stop();
      return Error{"StartFailed", binary + " exited before its ready line (is the path right? " +
                                      "set UNDERSTUDY_BINARY); stderr: " + tail};
    }
    if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
  }
  // Keep draining stdout so that the emulator never blocks on a full pipe; task
  // processes may inherit the pipe, so the loop also ends when told to.
  drain_ = std::thread([fd = stdout_fd_, stop = stop_draining_] {
    char chunk[4096];
    while (!stop->load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(fd, chunk, sizeof chunk) <= 0) break;
    }
  });
  return Done{};
}

int Emulator::Stop() {
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
    fs::remove_all(work_dir_, ec);
    work_dir_.clear();
  }
  endpoint_.clear();
  port_ = 0;
  return code;
}

std::string Emulator::StderrTail(size_t max_bytes) const {
  std::ifstream in(work_dir_ + "/stderr.log", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

Result<Emulator::Answer> Emulator::Raw(const std::string& method, const std::string& path,
                                       const nlohmann::json& body, long timeout_ms) const {
  if (endpoint_.empty()) return Error{"NotStarted", "the emulator is not running", 0};
  HttpClient http;
  auto response = http.Request(method, endpoint_ + path,
                               body.is_null() ? std::string() : body.dump(), {}, timeout_ms);
  if (response.status == 0) {
    return Error{"Transport", method + " " + path + ": " + response.transport, 0};
  }
  Answer answer;
  answer.status = response.status;
  answer.body = nlohmann::json::parse(response.body, nullptr, false);
  if (answer.body.is_discarded()) answer.body = response.body;
  return answer;
}

Result<nlohmann::json> Emulator::Control(const std::string& method, const std::string& path,
                                         const nlohmann::json& body, long timeout_ms) const {
  auto answer = Raw(method, path, body, timeout_ms);
  if (!answer.ok()) return answer.error();
  if (answer->status >= 200 && answer->status < 300) return std::move(answer->body);
  Error error{"HttpError", "", answer->status};
  const auto& b = answer->body;
  if (b.is_object() && b.contains("error") && b["error"].is_string()) {
    error.code = b["error"].get<std::string>();
    error.message = b.value("message", b.dump());
  } else {
    error.message = b.is_string() ? b.get<std::string>() : b.dump();
  }
  return error;
}

Result<std::string> Emulator::Now() const {
  auto clock = Control("GET", "/_understudy/clock");
  if (!clock.ok()) return clock.error();
  return clock->value("now", "");
}

Result<std::string> Emulator::Advance(const std::string& duration) const {
  auto clock = Control("POST", "/_understudy/clock", {{"advance", duration}});
  if (!clock.ok()) return clock.error();
  return clock->value("now", "");
}

Result<std::string> Emulator::Advance(std::chrono::milliseconds duration) const {
  return Advance(FormatMillis(duration));
}

Result<std::string> Emulator::AdvanceTo(const std::string& instant) const {
  auto clock = Control("POST", "/_understudy/clock", {{"to", instant}});
  if (!clock.ok()) return clock.error();
  return clock->value("now", "");
}

Result<nlohmann::json> Emulator::Journal() const {
  nlohmann::json entries = nlohmann::json::array();
  int64_t after = 0;
  while (true) {
    auto page =
        Control("GET", "/_understudy/journal?after=" + std::to_string(after) + "&limit=5000");
    if (!page.ok()) return page.error();
    const auto& list = (*page)["entries"];
    if (!list.is_array() || list.empty()) break;
    for (const auto& e : list) {
      after = e.value("seq", after);
      entries.push_back(e);
    }
  }
  return entries;
}

}  // namespace understudy
