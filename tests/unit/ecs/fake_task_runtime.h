// FakeTaskRuntime: a TaskRuntime that records what it was asked and lets the test
// decide when containers exit or fail to start.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/task_runtime.h"

namespace understudy::ecs {

class FakeTaskRuntime : public runtime::TaskRuntime {
 public:
  struct Started {
    runtime::ContainerSpec spec;
    runtime::ContainerCallbacks callbacks;
    int pid;
    bool exited = false;
  };

  // TaskRuntime
  Result<runtime::ContainerHandle> Start(const runtime::ContainerSpec& spec,
                                         runtime::ContainerCallbacks callbacks) override {
    if (fail_names.count(spec.name)) return Status::Unavailable(fail_names[spec.name]);
    int pid = next_pid_++;
    started.push_back(Started{spec, std::move(callbacks), pid});
    return runtime::ContainerHandle{pid, 0, ""};
  }
  Status Signal(const runtime::ContainerHandle& handle, int signal) override {
    signals.emplace_back(handle.pid, signal);
    return Status::Ok();
  }
  void KillAll() override {}
  bool EnforcesMemoryLimits() const override { return true; }
  Result<runtime::ContainerStats> Stats(const runtime::ContainerHandle&) override {
    return runtime::ContainerStats{2000000, 1000000, 5 * 1024 * 1024, 3, 100000000000, 2};
  }

  // Ends the container named `name` of the task whose id starts the spec's task_id.
  bool Exit(const std::string& name, int exit_code, int signal = 0) {
    for (auto& s : started) {
      if (s.spec.name == name && !s.exited) {
        s.exited = true;
        s.callbacks.exited(runtime::ContainerExit{exit_code, signal, false, ""});
        return true;
      }
    }
    return false;
  }
  // Signals sent to `pid`, in order.
  std::vector<int> SignalsTo(int pid) const {
    std::vector<int> out;
    for (auto& [p, s] : signals) {
      if (p == pid) out.push_back(s);
    }
    return out;
  }

  std::vector<Started> started;
  std::vector<std::pair<int, int>> signals;
  std::map<std::string, std::string> fail_names;  // container name -> Start error

 private:
  int next_pid_ = 1000;
};

}  // namespace understudy::ecs
