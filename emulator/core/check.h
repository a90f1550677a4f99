// UNDERSTUDY_CHECK: stops the process when an internal invariant is broken.
//
// Only for conditions under our own control (see docs/error-handling.md); input
// from users, clients, child processes or the disk is handled as a Status instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define UNDERSTUDY_CHECK(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "understudy: internal check failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                                         \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)
