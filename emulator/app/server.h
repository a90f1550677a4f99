// Serve: wires the house together and runs it until SIGINT or SIGTERM.
//
// Builds the loop, clock, store, journal, front door and every service, binds
// the endpoint, prints exactly one ready line on stdout
// ("understudy 0.1.0 listening on http://127.0.0.1:4566") and runs the loop.
// A temporary state dir is removed at exit; a named one is locked while in use.
#pragma once

#include "app/options.h"
#include "core/status.h"

namespace understudy::app {

// Returns when the server stops; a Status error means it could not start.
Status Serve(const ServeOptions& options);

}  // namespace understudy::app
