// Command-line parsing for `understudy` and its subcommands.
//
// Parsing is pure: it returns the options or an error naming the flag and what
// was expected, and never exits; main() prints and picks the exit status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time.h"

namespace understudy::app {

inline constexpr const char* kVersion = "0.1.0";

struct ServeOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;   // 0 picks a free port
  std::string state_dir;  // empty: a fresh temporary directory removed at exit
  ClockMode clock = ClockMode::kReal;
  std::optional<TimePoint> start;  // virtual start; default: wall time at start
  uint64_t seed = 0;
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  LogLevel log_level = LogLevel::kInfo;
  Duration hold_timeout = std::chrono::seconds(30);
  std::string images_file;  // image -> command mapping for containers run as processes
  // Where ECS tasks' containers run: "process" (host processes), "docker" (a Docker or
  // Podman engine; start fails without one), "auto" (docker when an engine answers).
  std::string runtime = "process";
  std::string secrets_file;  // valueFrom -> secret value
  // Recorded measurements (task CPU and memory, response times) to use instead of
  // measuring: what `understudy replay` passes from the record (core/measured.h).
  std::string measured_file;
  // Host ports reachable from inside awsvpc tasks at 127.0.0.1:<port> (a database...).
  std::vector<uint16_t> task_forwards;
  // Unknown subnet, VPC and security group ids given to other services are refused
  // with EC2's error instead of accepted with a warning.
  bool strict_references = false;
  // SES's SMTP endpoint: --smtp-port [ADDR:]PORT (0 picks a free port; "off" disables).
  std::string smtp_host = "127.0.0.1";
  int smtp_port = 2587;  // -1: off
  bool smtp_port_given = false;
  int smtps_port = -1;  // implicit TLS (SES's 465/2465); -1: off
  bool smtp_require_auth = false;
  int smtp_max_connections = 1000;
  // Unset: 10m with the real clock, never with a virtual or fast one (whose jumps would
  // close connections a client is still using). 0: never.
  std::optional<Duration> smtp_idle_timeout;
  std::vector<std::pair<std::string, std::string>> smtp_credentials;
  bool ses_production = false;
  bool ses_pending_verification = false;
  double ses_max_send_rate = -2;  // -2: AWS's default for the mode
  double ses_max_24h_send = -2;
  Duration ses_retention{0};  // 0: keep every message
};

// `understudy run <file-or-dir>... [--junit FILE] [--seed N] [--filter S] [--timeout D]
// [--record FILE]`.
struct RunOptions {
  std::vector<std::string> paths;
  std::string junit_file;
  std::optional<uint64_t> seed;  // overrides each scenario's seed
  std::string filter;
  Duration timeout = std::chrono::minutes(5);  // real time per scenario
  std::string record_file;                     // --record: the run's record (one scenario)
};

// `understudy replay <record> [--timeout D]`.
struct ReplayOptions {
  std::string record_file;
  std::optional<Duration> timeout;
};

enum class Command { kServe, kRun, kReplay, kHelp, kVersion };

struct Invocation {
  Command command = Command::kHelp;
  ServeOptions serve;
  RunOptions run;
  ReplayOptions replay;
};

// Parses argv (without the program name). InvalidArgument messages are shown
// after "understudy: " and followed by the usage hint; the caller exits 2.
Result<Invocation> ParseCommandLine(const std::vector<std::string>& args);

// The text of `understudy --help`.
std::string UsageText();

}  // namespace understudy::app
