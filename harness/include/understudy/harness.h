// understudy's test harness: everything a GoogleTest suite needs to test an app against
// a running emulator — Emulator (process and clock), AwsClient, WaitFor, emails,
// traffic and the EmulatorTest fixture. Talks to the emulator over HTTP only.
#pragma once

#include "understudy/aws_client.h"  // IWYU pragma: export
#include "understudy/emails.h"      // IWYU pragma: export
#include "understudy/emulator.h"    // IWYU pragma: export
#include "understudy/result.h"      // IWYU pragma: export
#include "understudy/testing.h"     // IWYU pragma: export
#include "understudy/traffic.h"     // IWYU pragma: export
#include "understudy/waits.h"       // IWYU pragma: export
