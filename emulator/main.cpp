// understudy: the command-line entry point. Parses the command line, runs the
// command and maps errors to exit statuses (2 for usage errors, 1 otherwise).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/server.h"
#include "scenario/record.h"
#include "scenario/runner.h"

int main(int argc, char** argv) {
  using namespace understudy;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto invocation = app::ParseCommandLine(args);
  if (!invocation.ok()) {
    std::fprintf(stderr, "understudy: %s\nRun 'understudy --help' for usage.\n",
                 invocation.status().message().c_str());
    return 2;
  }
  switch (invocation->command) {
    case app::Command::kHelp:
      std::fputs(app::UsageText().c_str(), stdout);
      return 0;
    case app::Command::kVersion:
      std::printf("understudy %s\n", app::kVersion);
      return 0;
    case app::Command::kServe: {
      Status status = app::Serve(invocation->serve);
      if (!status.ok()) {
        std::fprintf(stderr, "understudy: %s\n", status.message().c_str());
        return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
      }
      return 0;
    }
    case app::Command::kRun: {
      scenario::RunnerOptions options;
      options.paths = invocation->run.paths;
      options.junit_file = invocation->run.junit_file;
      options.seed = invocation->run.seed;
      options.filter = invocation->run.filter;
      options.timeout = invocation->run.timeout;
      options.record_file = invocation->run.record_file;
      return scenario::RunCommand(options, std::cout, std::cerr);
    }
    case app::Command::kReplay: {
      scenario::ReplayOptions options;
      options.record_file = invocation->replay.record_file;
      options.timeout = invocation->replay.timeout;
      return scenario::ReplayCommand(options, std::cout, std::cerr);
    }
  }
  return 1;
}
