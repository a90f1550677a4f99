#include "app/options.h"

#include <charconv>
#include <functional>
#include <map>

#include "core/arn.h"

namespace understudy::app {

std::string UsageText() {
  return std::string("understudy ") + kVersion +
         " - a local stand-in for ALB, ECS, EventBridge, SES and CloudWatch Logs\n"
         "\n"
         "Usage:\n"
         "  understudy serve [flags]    run the emulator on one endpoint\n"
         "  understudy run PATH... [flags]\n"
         "                              run scenario files (and directories of them), each\n"
         "                              against its own emulator; exit 0 when every\n"
         "                              expectation held, 1 if one failed, 2 for bad input\n"
         "  understudy replay RECORD [--timeout D]\n"
         "                              run a recorded scenario again (see run --record) and\n"
         "                              compare journals: exit 0 when identical, 1 with the\n"
         "                              first divergence\n"
         "  understudy --help           show this help\n"
         "  understudy --version        print the version\n"
         "\n"
         "serve flags:\n"
         "  --host ADDR          address to listen on (default 127.0.0.1)\n"
         "  --port N             port to listen on (default 4566; 0 picks a free port)\n"
         "  --state-dir DIR      keep state in DIR across restarts (default: a fresh\n"
         "                       temporary directory, removed at exit)\n"
         "  --clock MODE         real, virtual or fast (default real)\n"
         "  --start INSTANT      virtual clock's first instant, ISO-8601 (default: now)\n"
         "  --seed N             seed for every random choice (default 0)\n"
         "  --account-id ID      12-digit account for requests whose access key is not\n"
         "                       one (default 000000000000)\n"
         "  --region NAME        region for requests without a credential scope\n"
         "                       (default us-east-1)\n"
         "  --hold-timeout D     real time one piece of in-flight work may hold a virtual\n"
         "                       clock (default 30s)\n"
         "  --log-level LEVEL    error, warn, info or debug (default info)\n"
         "  --images FILE        JSON mapping container images to the entry point, command,\n"
         "                       working dir and environment they would supply\n"
         "  --secrets FILE       JSON mapping secrets' valueFrom to their values\n"
         "  --measured FILE      use these recorded measurements (task CPU and memory,\n"
         "                       response times) instead of measuring; replays pass it\n"
         "  --runtime KIND       where ECS containers run: process (host processes,\n"
         "                       default), docker (the Docker Engine at DOCKER_HOST or\n"
         "                       /var/run/docker.sock; images used as is), or auto\n"
         "                       (docker when an engine answers, else process)\n"
         "  --task-forward PORT  make 127.0.0.1:PORT on this machine reachable at the same\n"
         "                       address inside awsvpc tasks (repeatable)\n"
         "  --strict-references  refuse unknown subnet, VPC and security group ids given to\n"
         "                       other services (default: accept them with a warning)\n"
         "  --smtp-port [ADDR:]PORT  SES's SMTP endpoint (default 127.0.0.1:2587; 0 picks a\n"
         "                       free port; off disables)\n"
         "  --smtps-port [ADDR:]PORT  SMTP with TLS from the first byte, like SES's 465\n"
         "  --smtp-require-auth  require STARTTLS and AUTH before MAIL, as SES does\n"
         "  --smtp-max-connections N  open SMTP connections before 421 (default 1000)\n"
         "  --smtp-idle-timeout D  clock time an idle SMTP connection lasts before 451\n"
         "                       (default 10m with the real clock, off with a virtual or\n"
         "                       fast one; 0s = never)\n"
         "  --smtp-credentials USER:PASS  SMTP credentials to accept (repeatable; default:\n"
         "                       any username and password)\n"
         "  --ses-production     start SES accounts out of the sandbox\n"
         "  --ses-verification MODE  instant (default) or pending: identities stay Pending\n"
         "                       until POST /_understudy/ses/identities/{id}/status\n"
         "  --ses-max-send-rate N  messages per second (default 1 in the sandbox, 14 out;\n"
         "                       0 = unlimited)\n"
         "  --ses-max-24h-send N   recipients per 24 hours (default 200 / 50000; -1 =\n"
         "                       unlimited)\n"
         "  --ses-retention D    drop stored SES messages older than D (default: keep all)\n"
         "\n"
         "run flags:\n"
         "  --junit FILE         also write a JUnit XML report to FILE\n"
         "  --seed N             seed every scenario with N (default: the file's seed, or 0)\n"
         "  --filter TEXT        run only scenarios whose name or path contains TEXT\n"
         "  --timeout D          real time one scenario may take (default 5m)\n"
         "  --record FILE        write the run's record (scenario, inputs, seed, journal)\n"
         "                       to FILE, for understudy replay (one scenario only)\n";
}

namespace {

Status Bad(const std::string& message) { return Status::InvalidArgument(message); }

Result<uint64_t> ParseUnsigned(const std::string& flag, const std::string& text, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > max) {
    return Bad(flag + " expects a whole number from 0 to " + std::to_string(max) + ", got '" +
               text + "'");
  }
  return value;
}

Result<ServeOptions> ParseServe(const std::vector<std::string>& args, size_t begin) {
  ServeOptions options;
  using Setter = std::function<Status(const std::string& flag, const std::string& value)>;
  std::map<std::string, Setter> flags = {
      {"--host",
       [&](const std::string&, const std::string& v) {
         if (v.empty()) return Bad("--host expects an IP address, got ''");
         options.host = v;
         return Status::Ok();
       }},
      {"--port",
       [&](const std::string& f, const std::string& v) -> Status {
         US_ASSIGN_OR_RETURN(uint64_t port, ParseUnsigned(f, v, 65535));
         options.port = static_cast<uint16_t>(port);
         return Status::Ok();
       }},
      {"--state-dir",
       [&](const std::string&, const std::string& v) {
         if (v.empty()) return Bad("--state-dir expects a directory path, got ''");
         options.state_dir = v;
         return Status::Ok();
       }},
      {"--clock",
       [&](const std::string&, const std::string& v) -> Status {
         auto mode = ParseClockMode(v);
         if (!mode.ok()) return Bad("--clock: " + mode.status().message());
         options.clock = *mode;
         return Status::Ok();
       }},
      {"--start",
       [&](const std::string&, const std::string& v) -> Status {
         auto t = ParseIso8601(v);
         if (!t.ok()) return Bad("--start: " + t.status().message());
         options.start = *t;
         return Status::Ok();
       }},
      {"--seed",
       [&](const std::string& f, const std::string& v) -> Status {
         US_ASSIGN_OR_RETURN(options.seed, ParseUnsigned(f, v, UINT64_MAX));
         return Status::Ok();
       }},
      {"--account-id",
       [&](const std::string&, const std::string& v) {
         if (!IsAccountId(v)) return Bad("--account-id expects 12 digits, got '" + v + "'");
         options.account_id = v;
         return Status::Ok();
       }},
      {"--region",
       [&](const std::string&, const std::string& v) {
         if (!IsRegionName(v))
           return Bad("--region expects a region name such as us-east-1, got '" + v + "'");
         options.region = v;
         return Status::Ok();
       }},
      {"--hold-timeout",
       [&](const std::string&, const std::string& v) -> Status {
         auto d = ParseDuration(v);
         if (!d.ok()) return Bad("--hold-timeout: " + d.status().message());
         if (d->count() == 0) return Bad("--hold-timeout must be longer than 0s");
         options.hold_timeout = *d;
         return Status::Ok();
       }},
      {"--images",
       [&](const std::string&, const std::string& v) {
         if (v.empty()) return Bad("--images expects a file path, got ''");
         options.images_file = v;
         return Status::Ok();
       }},
      {"--runtime",
       [&](const std::string&, const std::string& v) {
         if (v != "process" && v != "docker" && v != "auto")
           return Bad("--runtime expects process, docker or auto, got '" + v + "'");
         options.runtime = v;
         return Status::Ok();
       }},
      {"--measured",
       [&](const std::string&, const std::string& v) {
         if (v.empty()) return Bad("--measured expects a file path, got ''");
         options.measured_file = v;
         return Status::Ok();
       }},
      {"--secrets",
       [&](const std::string&, const std::string& v) {
         if (v.empty()) return Bad("--secrets expects a file path, got ''");
         options.secrets_file = v;
         return Status::Ok();
       }},
      {"--task-forward",
       [&](const std::string& f, const std::string& v) -> Status {
         US_ASSIGN_OR_RETURN(uint64_t port, ParseUnsigned(f, v, 65535));
         if (port == 0) return Bad("--task-forward expects a port from 1 to 65535, got '0'");
         options.task_forwards.push_back(static_cast<uint16_t>(port));
         return Status::Ok();
       }},
      {"--smtp-port",
       [&](const std::string& f, const std::string& v) -> Status {
         options.smtp_port_given = true;
         if (v == "off") {
           options.smtp_port = -1;
           return Status::Ok();
         }
         std::string port = v;
         if (size_t colon = v.rfind(':'); colon != std::string::npos) {
           options.smtp_host = v.substr(0, colon);
           if (options.smtp_host.size() > 2 && options.smtp_host.front() == '[') {
             options.smtp_host = options.smtp_host.substr(1, options.smtp_host.size() - 2);
           }
           port = v.substr(colon + 1);
         }
         US_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(f, port, 65535));
         options.smtp_port = static_cast<int>(n);
         return Status::Ok();
       }},
      {"--smtps-port",
       [&](const std::string& f, const std::string& v) -> Status {
         std::string port = v;
         if (size_t colon = v.rfind(':'); colon != std::string::npos) port = v.substr(colon + 1);
         US_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(f, port, 65535));
         options.smtps_port = static_cast<int>(n);
         return Status::Ok();
       }},
      {"--smtp-max-connections",
       [&](const std::string& f, const std::string& v) -> Status {
         US_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(f, v, 1000000));
         if (n == 0) return Bad("--smtp-max-connections expects a number from 1, got '0'");
         options.smtp_max_connections = static_cast<int>(n);
         return Status::Ok();
       }},
      {"--smtp-idle-timeout",
       [&](const std::string&, const std::string& v) -> Status {
         auto d = ParseDuration(v);
         if (!d.ok()) return Bad("--smtp-idle-timeout: " + d.status().message());
         options.smtp_idle_timeout = *d;
         return Status::Ok();
       }},
      {"--smtp-credentials",
       [&](const std::string&, const std::string& v) -> Status {
         size_t colon = v.find(':');
         if (colon == std::string::npos || colon == 0) {
           return Bad("--smtp-credentials expects USER:PASSWORD, got '" + v + "'");
         }
         options.smtp_credentials.emplace_back(v.substr(0, colon), v.substr(colon + 1));
         return Status::Ok();
       }},
      {"--ses-verification",
       [&](const std::string&, const std::string& v) -> Status {
         if (v != "instant" && v != "pending") {
           return Bad("--ses-verification expects instant or pending, got '" + v + "'");
         }
         options.ses_pending_verification = v == "pending";
         return Status::Ok();
       }},
      {"--ses-max-send-rate",
       [&](const std::string& f, const std::string& v) -> Status {
         US_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(f, v, 1000000000));
         options.ses_max_send_rate = static_cast<double>(n);
         return Status::Ok();
       }},
      {"--ses-max-24h-send",
       [&](const std::string& f, const std::string& v) -> Status {
         if (v == "-1") {
           options.ses_max_24h_send = -1;
           return Status::Ok();
         }
         US_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(f, v, 1000000000000));
         options.ses_max_24h_send = static_cast<double>(n);
         return Status::Ok();
       }},
      {"--ses-retention",
       [&](const std::string&, const std::string& v) -> Status {
         auto d = ParseDuration(v);
         if (!d.ok()) return Bad("--ses-retention: " + d.status().message());
         options.ses_retention = *d;
         return Status::Ok();
       }},
      {"--log-level",
       [&](const std::string&, const std::string& v) -> Status {
         auto level = ParseLogLevel(v);
         if (!level.ok()) return Bad("--log-level: " + level.status().message());
         options.log_level = *level;
         return Status::Ok();
       }},
  };
  // Switches: flags that take no value.
  std::map<std::string, std::function<void()>> switches = {
      {"--strict-references", [&] { options.strict_references = true; }},
      {"--smtp-require-auth", [&] { options.smtp_require_auth = true; }},
      {"--ses-production", [&] { options.ses_production = true; }},
  };
  for (size_t i = begin; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (auto it = switches.find(arg); it != switches.end()) {
      if (inline_value) return Bad(arg + " takes no value, got '" + value + "'");
      it->second();
      continue;
    }
    auto flag = flags.find(arg);
    if (flag == flags.end()) {
      if (arg.rfind("-", 0) == 0) return Bad("unknown flag '" + arg + "' for 'serve'");
      return Bad("unexpected argument '" + arg + "' for 'serve'");
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return Bad(arg + " needs a value");
      value = args[++i];
    }
    US_RETURN_IF_ERROR(flag->second(arg, value));
  }
  return options;
}

Result<RunOptions> ParseRun(const std::vector<std::string>& args, size_t begin) {
  RunOptions options;
  for (size_t i = begin; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      options.paths.push_back(arg);
      continue;
    }
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--junit" || arg == "--seed" || arg == "--filter" || arg == "--timeout" ||
               arg == "--record") {
      if (i + 1 >= args.size()) return Bad(arg + " needs a value");
      value = args[++i];
    } else {
      return Bad("unknown flag '" + arg + "' for 'run'");
    }
    if (arg == "--junit") {
      if (value.empty()) return Bad("--junit expects a file path, got ''");
      options.junit_file = value;
    } else if (arg == "--seed") {
      US_ASSIGN_OR_RETURN(uint64_t seed, ParseUnsigned(arg, value, UINT64_MAX));
      options.seed = seed;
    } else if (arg == "--filter") {
      options.filter = value;
    } else if (arg == "--timeout") {
      auto d = ParseDuration(value);
      if (!d.ok()) return Bad("--timeout: " + d.status().message());
      if (d->count() <= 0) return Bad("--timeout must be longer than 0s");
      options.timeout = *d;
    } else if (arg == "--record") {
      if (value.empty()) return Bad("--record expects a file path, got ''");
      options.record_file = value;
    } else {
      return Bad("unknown flag '" + arg + "' for 'run'");
    }
  }
  if (options.paths.empty()) {
    return Bad(
        "'run' needs at least one scenario file or directory, e.g. understudy run "
        "scenarios/");
  }
  return options;
}

Result<ReplayOptions> ParseReplay(const std::vector<std::string>& args, size_t begin) {
  ReplayOptions options;
  for (size_t i = begin; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (!options.record_file.empty()) {
        return Bad("'replay' takes one record file; got '" + options.record_file + "' and '" + arg +
                   "'");
      }
      options.record_file = arg;
      continue;
    }
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--timeout") {
      if (i + 1 >= args.size()) return Bad(arg + " needs a value");
      value = args[++i];
    }
    if (arg != "--timeout") return Bad("unknown flag '" + arg + "' for 'replay'");
    auto d = ParseDuration(value);
    if (!d.ok()) return Bad("--timeout: " + d.status().message());
    if (d->count() <= 0) return Bad("--timeout must be longer than 0s");
    options.timeout = *d;
  }
  if (options.record_file.empty()) {
    return Bad("'replay' needs a record file, e.g. understudy replay run.journal");
  }
  return options;
}

}  // namespace

Result<Invocation> ParseCommandLine(const std::vector<std::string>& args) {
  Invocation invocation;
  if (args.empty()) return Bad("no command given; try 'understudy serve'");
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    invocation.command = Command::kHelp;
    return invocation;
  }
  if (command == "--version" || command == "version") {
    invocation.command = Command::kVersion;
    return invocation;
  }
  if (command == "serve") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        invocation.command = Command::kHelp;
        return invocation;
      }
    }
    US_ASSIGN_OR_RETURN(invocation.serve, ParseServe(args, 1));
    invocation.command = Command::kServe;
    return invocation;
  }
  if (command == "run") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        invocation.command = Command::kHelp;
        return invocation;
      }
    }
    US_ASSIGN_OR_RETURN(invocation.run, ParseRun(args, 1));
    invocation.command = Command::kRun;
    return invocation;
  }
  if (command == "replay") {
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        invocation.command = Command::kHelp;
        return invocation;
      }
    }
    US_ASSIGN_OR_RETURN(invocation.replay, ParseReplay(args, 1));
    invocation.command = Command::kReplay;
    return invocation;
  }
  if (command.rfind("-", 0) == 0) return Bad("unknown flag '" + command + "'");
  return Bad("unknown command '" + command + "'");
}

}  // namespace understudy::app
