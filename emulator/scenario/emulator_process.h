// EmulatorProcess: one `understudy serve` child for one scenario — started on port 0
// with a fresh state directory, its endpoint read from the ready line, stopped with
// SIGTERM (SIGKILL if it lingers) and reaped. Only the pid it started is signalled.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace understudy::scenario {

class EmulatorProcess {
 public:
  EmulatorProcess() = default;
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  // Runs `binary serve --port 0 --state-dir <fresh> <extra_args...>` and waits up to
  // `ready_within` (real time) for "understudy <version> listening on <endpoint>".
  Status Start(const std::string& binary, const std::vector<std::string>& extra_args,
               Duration ready_within);
  // SIGTERM, then SIGKILL after 10 s; reaps the child and removes the work directory.
  // Returns the exit status (-1 when it was killed or never started).
  int Stop();

  const std::string& endpoint() const { return endpoint_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // The last lines of the emulator's stderr (for reports when it misbehaves).
  std::string StderrTail(size_t max_bytes = 2000) const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::thread drain_;
  std::shared_ptr<std::atomic<bool>> stop_draining_ = std::make_shared<std::atomic<bool>>(false);
  std::string work_dir_;
  std::string endpoint_;
  std::string host_;
  int port_ = 0;
};

}  // namespace understudy::scenario
