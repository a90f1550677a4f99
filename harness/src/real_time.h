// RealNow: the harness's one reading of the machine's clock. The harness is a client of
// the emulator over HTTP and never sees its Clock; it needs real time only for real-world
// limits and measurements — how long the binary may take to print its ready line, and
// how long a request through the ALB really took. Scenario time is the emulator's.
#pragma once

#include <chrono>

namespace understudy::harness_internal {

inline std::chrono::steady_clock::time_point RealNow() { return std::chrono::steady_clock::now(); }

}  // namespace understudy::harness_internal
