#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace understudy {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
const char* kNames[] = {"error", "warn", "info", "debug"};
}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (text == kNames[i]) return static_cast<LogLevel>(i);
  }
  return Status::InvalidArgument("unknown log level '" + std::string(text) +
                                 "'; expected error, warn, info or debug");
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void Log(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  std::string line = "understudy: " + std::string(kNames[static_cast<int>(level)]) + ": " +
                     std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace understudy
