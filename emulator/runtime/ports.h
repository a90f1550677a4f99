// Loopback ports for tasks' port mappings: a free one for a dynamic host port, and a
// check that a fixed one is free. Any thread. A port found free can still be taken by
// someone else before the app binds it; the app then fails to start, as it would on a host.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace understudy::runtime {

// A port on 127.0.0.1 nothing listens on now (the kernel's ephemeral choice).
Result<uint16_t> PickFreeLoopbackPort();
// True when a TCP socket can bind 127.0.0.1:`port` now.
bool IsLoopbackPortFree(uint16_t port);

}  // namespace understudy::runtime
