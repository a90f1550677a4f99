// Log: leveled diagnostics on stderr ("understudy: warn: ..."). Any thread.
#pragma once

#include <string_view>

#include "core/status.h"

namespace understudy {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

Result<LogLevel> ParseLogLevel(std::string_view text);  // error, warn, info, debug
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// Writes one line if `level` is enabled.
void Log(LogLevel level, std::string_view message);

}  // namespace understudy
