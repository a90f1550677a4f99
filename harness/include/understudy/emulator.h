// Emulator: one running `understudy serve` for a test — the real binary, started on a
// free port with a fresh temporary state directory, stopped (and the directory
// removed) when the object goes away. The child gets SIGTERM if the test process dies
// (PR_SET_PDEATHSIG), and directories left by crashed tests are swept at the next start.
// It also moves and reads the emulator's clock and calls its control API.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "understudy/result.h"

// Paths of the package the test was built against, set by the understudy::harness
// target (the build tree's binaries, or the install prefix's).
#ifndef UNDERSTUDY_BINARY_PATH
#define UNDERSTUDY_BINARY_PATH ""
#endif
#ifndef UNDERSTUDY_FIXTURE_APP_PATH
#define UNDERSTUDY_FIXTURE_APP_PATH ""
#endif

namespace understudy {

struct EmulatorOptions {
  // The understudy binary: $UNDERSTUDY_BINARY when set, else this (the package's
  // binary), else `understudy` on PATH.
  std::string binary = UNDERSTUDY_BINARY_PATH;
  // "virtual" (the clock moves only when told or pulled by a wait), "fast" or "real".
  std::string clock = "virtual";
  std::optional<uint64_t> seed;         // --seed; the emulator's default when unset
  std::string start;                    // --start, an ISO-8601 instant; empty: the default
  std::string region;                   // --region; empty: the default (us-east-1)
  std::vector<std::string> extra_args;  // more `serve` flags, e.g. {"--ses-production"}
  // Given to the emulator as UNDERSTUDY_FIXTURE_APP unless the environment has it.
  std::string fixture_app = UNDERSTUDY_FIXTURE_APP_PATH;
  std::chrono::milliseconds ready_within{30000};  // real time for the ready line
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options);
  ~Emulator();  // Stop()
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Starts `binary serve --port 0 --clock <clock> --state-dir <tmp> ...` and reads its
  // ready line. The error names what failed and ends with the emulator's stderr.
  Result<Done> Start();
  // SIGTERM (SIGKILL after 10 s), reaps the child, removes the temporary directory.
  // Returns the exit status, or -1 when it was killed or never started.
  int Stop();
  bool running() const { return pid_ > 0; }

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:41234"
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& state_dir() const { return state_dir_; }
  const EmulatorOptions& options() const { return options_; }
  // The last `max_bytes` of the emulator's stderr.
  std::string StderrTail(size_t max_bytes = 4000) const;

  // Clock control. Instants are ISO-8601 text as the emulator writes them.
  Result<std::string> Now() const;
  // Moves the clock by `duration` ("90s", "1h30m"), running every timer on the way;
  // answers the new time.
  Result<std::string> Advance(const std::string& duration) const;
  Result<std::string> Advance(std::chrono::milliseconds duration) const;
  Result<std::string> AdvanceTo(const std::string& instant) const;

  // The control API: GET/POST/DELETE `path` ("/_understudy/...") with a JSON body.
  // A 2xx answer gives its JSON; anything else an Error with the answer's
  // `error`/`message` (the whole body is kept in the message when it has none).
  Result<nlohmann::json> Control(const std::string& method, const std::string& path,
                                 const nlohmann::json& body = nullptr, long timeout_ms = 0) const;
  // Like Control, but any HTTP answer is a value: {status, body}. Errors are transport only.
  struct Answer {
    int status = 0;
    nlohmann::json body;
  };
  Result<Answer> Raw(const std::string& method, const std::string& path,
                     const nlohmann::json& body = nullptr, long timeout_ms = 0) const;

  // Every journal entry (seq, time, kind, subject, detail), oldest first.
  Result<nlohmann::json> Journal() const;

 private:
  EmulatorOptions options_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::thread drain_;
  std::shared_ptr<std::atomic<bool>> stop_draining_;
  std::string work_dir_;
  std::string state_dir_;
  std::string endpoint_;
  int port_ = 0;
};

}  // namespace understudy
