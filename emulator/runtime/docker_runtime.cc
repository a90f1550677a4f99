// DockerRuntime: runs a task's containers in a Docker Engine through its API.
//
// Start() creates, starts and inspects the container on the loop thread (short
// calls on the local socket); a worker thread per container then follows its
// logs (the multiplexed stream, split into lines), waits for its exit, reads
// whether the kernel OOM-killed it, removes it, and posts each line and the exit
// to the loop. Every container carries understudy's labels, so one the emulator
// could not remove (it was SIGKILLed) is swept when the next one starts.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "core/log.h"
#include "runtime/docker_client.h"
#include "runtime/task_runtime.h"

namespace understudy::runtime {
namespace {

constexpr const char* kManaged = "understudy.managed";
constexpr const char* kState = "understudy.state";
constexpr const char* kOwner = "understudy.owner";
// Where the pause container finds the host's static busybox.
constexpr const char* kPauseBinary =
    "/.understudy/busybox";  // busybox picks the applet from argv[1]

uint64_t StartTicksOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  if (text[close + 2] == 'Z' || text[close + 2] == 'X') return 0;  // dead, not yet reaped
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  // Fields after the name start at 3 (state); starttime is field 22.
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

std::string OwnerLabel() {
  int pid = static_cast<int>(getpid());
  return std::to_string(pid) + ":" + std::to_string(StartTicksOf(pid));
}

// Whether the emulator named by an owner label ("pid:start ticks") is still running.
bool OwnerAlive(const std::string& owner) {
  size_t colon = owner.find(':');
  if (colon == std::string::npos) return false;
  int pid = std::atoi(owner.substr(0, colon).c_str());
  uint64_t ticks = std::strtoull(owner.c_str() + colon + 1, nullptr, 10);
  return pid > 0 && ticks != 0 && StartTicksOf(pid) == ticks;
}

// Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
std::string NamePart(const std::string& text) {
  std::string out;
  for (char c : text)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') ? c : '-';
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
  return out.empty() ? "c" : out;
}

bool StaticHostBusybox() {
  // ELF, and no PT_INTERP: a quick look without `file`.
  std::ifstream in("/bin/busybox", std::ios::binary);
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.rfind(
             "\x7f"
             "ELF",
             0) == 0 &&
         text.find("/lib64/ld-linux") == std::string::npos &&
         text.find("/lib/ld-linux") == std::string::npos;
}

struct Container {
  std::string id;
  int pid = 0;
  bool exec = false;                // an exec inside another container (health check)
  std::string stop_signal;          // what Signal(SIGTERM) sends; empty: SIGTERM
  std::atomic<bool> stop{false};    // the worker gives up (the runtime is going away)
  std::atomic<bool> killed{false};  // KillAll removed it
  std::atomic<int> exec_pid{0};
  bool done = false;  // exited was delivered (loop thread)
  ContainerCallbacks callbacks;
  std::thread worker;
};

class DockerRuntime : public TaskRuntime {
 public:
  DockerRuntime(EventLoop& loop, std::shared_ptr<DockerClient> client, std::string state_key)
      : loop_(loop),
        client_(std::move(client)),
        state_key_(std::move(state_key)),
        owner_(OwnerLabel()),
        pause_busybox_(StaticHostBusybox()) {}
  ~DockerRuntime() override;

  Result<ContainerHandle> Start(const ContainerSpec& spec, ContainerCallbacks callbacks) override;
  Status Signal(const ContainerHandle& handle, int signal) override;
  void KillAll() override;
  Result<ContainerStats> Stats(const ContainerHandle& handle) override;
  bool EnforcesMemoryLimits() const override { return true; }
  bool RunsImages() const override { return true; }
  const char* Name() const override { return "docker"; }

  // Removes containers earlier emulators left: ours by state directory, or whose
  // emulator process is gone. Returns how many.
  Result<int> Sweep();

 private:
  Result<ContainerHandle> StartExec(const ContainerSpec& spec, ContainerCallbacks callbacks);
  Result<std::string> Create(const std::string& name, const Json& body, const std::string& image);
  void Remove(const std::string& id) const;
  void Follow(const std::shared_ptr<Container>& c);
  void FollowExec(const std::shared_ptr<Container>& c, const std::string& target);
  void Deliver(const std::shared_ptr<Container>& c, const ContainerExit& exit);
  void Output(const std::shared_ptr<Container>& c, std::vector<std::pair<std::string, bool>> lines);

  EventLoop& loop_;
  std::shared_ptr<DockerClient> client_;
  std::string state_key_;
  std::string owner_;
  bool pause_busybox_;
  std::map<std::string, std::shared_ptr<Container>> containers_;  // by engine id
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

DockerRuntime::~DockerRuntime() {
  KillAll();
  *alive_ = false;
  for (auto& [id, c] : containers_) c->stop = true;
  for (auto& [id, c] : containers_) {
    if (c->worker.joinable()) c->worker.join();
  }
}

Result<int> DockerRuntime::Sweep() {
  std::string filter = UrlEncode(std::string("{\"label\":[\"") + kManaged + "=true\"]}");
  US_ASSIGN_OR_RETURN(auto listed,
                      client_->Request("GET", "/containers/json?all=1&filters=" + filter));
  if (listed.status != 200) {
    return Status::Unavailable("listing containers: " + listed.Message());
  }
  US_ASSIGN_OR_RETURN(Json list, listed.JsonBody());
  int swept = 0;
  for (const auto& item : list) {
    Json labels = item.value("Labels", Json::object());
    std::string state = labels.value(kState, "");
    std::string owner = labels.value(kOwner, "");
    if (state != state_key_ && OwnerAlive(owner)) continue;  // another live emulator's
    Remove(item.value("Id", ""));
    ++swept;
  }
  return swept;
}

void DockerRuntime::Remove(const std::string& id) const {
  if (id.empty()) return;
  (void)client_->Request("DELETE", "/containers/" + id + "?force=1&v=1");
}

Result<std::string> DockerRuntime::Create(const std::string& name, const Json& body,
                                          const std::string& image) {
  std::string path = "/containers/create?name=" + UrlEncode(name);
  for (int attempt = 0; attempt < 2; ++attempt) {
    US_ASSIGN_OR_RETURN(auto created, client_->Request("POST", path, body.dump()));
    if (created.status == 201) {
      US_ASSIGN_OR_RETURN(Json doc, created.JsonBody());
      return doc.value("Id", "");
    }
    if (created.status == 404) {
      return Status::NotFound(
          "pull image manifest has been retried 1 time(s): failed to resolve ref " + image +
          ": not found among the container engine's local images (understudy never pulls; "
          "build or load the image locally)");
    }
    if (created.status == 409 && attempt == 0) {
      // The name is taken: ours from an earlier run goes; anyone else's is left alone.
      auto existing = client_->Request("GET", "/containers/" + UrlEncode(name) + "/json");
      if (existing.ok() && existing->status == 200) {
        auto doc = existing->JsonBody();
        Json labels = doc.ok() ? (*doc)["Config"].value("Labels", Json::object()) : Json::object();
        if (labels.is_object() && labels.value(kManaged, "") == "true" &&
            (labels.value(kState, "") == state_key_ || !OwnerAlive(labels.value(kOwner, "")))) {
          Remove(doc->value("Id", ""));
          continue;
        }
      }
      return Status::FailedPrecondition("the container name \"" + name +
                                        "\" is already in use by a container understudy did "
                                        "not start; remove or rename that container");
    }
    return Status::InvalidArgument(created.Message());
  }
  return Status::FailedPrecondition("the container name \"" + name + "\" stays in use");
}

Result<ContainerHandle> DockerRuntime::Start(const ContainerSpec& spec,
                                             ContainerCallbacks callbacks) {
  if (!spec.exec_in.empty()) return StartExec(spec, std::move(callbacks));
  if (spec.image.empty()) {
    return Status::InvalidArgument("container " + spec.name + " has no image");
  }
  Json body = Json::object();
  body["Image"] = spec.image;
  Json env = Json::array();
  for (const auto& [k, v] : spec.environment) env.push_back(k + "=" + v);
  body["Env"] = env;
  Json labels = Json::object();
  labels[kManaged] = "true";
  labels[kState] = state_key_;
  labels[kOwner] = owner_;
  labels["understudy.task"] = spec.task_id;
  labels["understudy.container"] = spec.name;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  body["Labels"] = labels;
  body["Tty"] = false;
  body["OpenStdin"] = false;
  if (!spec.entry_point.empty()) body["Entrypoint"] = spec.entry_point;
  if (!spec.command.empty()) body["Cmd"] = spec.command;
  if (!spec.working_directory.empty()) body["WorkingDir"] = spec.working_directory;
  if (!spec.user.empty()) body["User"] = spec.user;
  if (spec.stop_signal != 0) body["StopSignal"] = DockerSignalName(spec.stop_signal);
  Json host = Json::object();
  Json binds = Json::array();
  if (spec.memory_limit_bytes > 0) {
    host["Memory"] = spec.memory_limit_bytes;
    host["MemorySwap"] = spec.memory_limit_bytes;  // no swap on top, as on ECS
  }
  if (spec.cpu_limit_vcpus > 0) host["NanoCpus"] = static_cast<int64_t>(spec.cpu_limit_vcpus * 1e9);
  if (spec.cpu_shares > 0) host["CpuShares"] = spec.cpu_shares;
  if (!spec.ulimits.empty()) {
    Json ulimits = Json::array();
    for (const auto& u : spec.ulimits)
      ulimits.push_back(Json{{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
    host["Ulimits"] = ulimits;
  }
  switch (spec.network) {
    case ContainerSpec::Network::kNew:
      // The task's namespace holder (Fargate's pause container): its own network
      // namespace with only a loopback; the task's containers join it.
      host["NetworkMode"] = "none";
      if (spec.entry_point.empty() && spec.command.empty() && !spec.argv.empty()) {
        if (pause_busybox_) {
          binds.push_back(std::string("/bin/busybox:") + kPauseBinary + ":ro");
          Json entry = Json::array({kPauseBinary});
          for (const auto& a : spec.argv) entry.push_back(a);
          body["Entrypoint"] = entry;
        } else {
          body["Entrypoint"] = spec.argv;
        }
      }
      break;
    case ContainerSpec::Network::kJoin: {
      std::string joined;
      for (const auto& [id, c] : containers_) {
        if (!c->exec && c->pid == spec.network_of && !c->done) joined = id;
      }
      if (joined.empty()) {
        return Status::FailedPrecondition("the task's network container (pid " +
                                          std::to_string(spec.network_of) + ") is not running");
      }
      host["NetworkMode"] = "container:" + joined;
      // The task's names (service discovery, load balancers): its hosts file, which the
      // emulator rewrites in place, over the engine's own.
      if (!spec.hosts_file.empty()) binds.push_back(spec.hosts_file + ":/etc/hosts:ro");
      break;
    }
    case ContainerSpec::Network::kHost:
      if (spec.bridge) {
        host["NetworkMode"] = "bridge";
        Json exposed = Json::object(), bindings = Json::object();
        for (const auto& pm : spec.port_mappings) {
          std::string key = std::to_string(pm.container_port) + "/" + pm.protocol;
          exposed[key] = Json::object();
          bindings[key].push_back(
              Json{{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(pm.host_port)}});
        }
        body["ExposedPorts"] = exposed;
        host["PortBindings"] = bindings;
      } else {
        host["NetworkMode"] = "host";
        if (!spec.hosts_file.empty()) binds.push_back(spec.hosts_file + ":/etc/hosts:ro");
      }
      break;
  }
  if (!binds.empty()) host["Binds"] = binds;
  body["HostConfig"] = host;

  std::string name =
      "understudy-" + NamePart(spec.name) + "-" + spec.task_id + "-" + std::to_string(getpid());
  US_ASSIGN_OR_RETURN(std::string id, Create(name, body, spec.image));
  auto fail = [&](Status status) -> Result<ContainerHandle> {
    Remove(id);
    return status;
  };
  auto started = client_->Request("POST", "/containers/" + id + "/start");
  if (!started.ok()) return fail(started.status());
  if (started->status != 204 && started->status != 304) {
    return fail(Status::InvalidArgument(started->Message()));
  }
  auto inspected = client_->Request("GET", "/containers/" + id + "/json");
  if (!inspected.ok()) return fail(inspected.status());
  auto doc = inspected->JsonBody();
  if (!doc.ok()) return fail(doc.status());
  auto c = std::make_shared<Container>();
  c->id = id;
  c->pid = (*doc)["State"].value("Pid", 0);
  c->callbacks = std::move(callbacks);
  if ((*doc)["Config"].contains("StopSignal") && (*doc)["Config"]["StopSignal"].is_string())
    c->stop_signal = (*doc)["Config"]["StopSignal"].get<std::string>();
  if (c->pid <= 0) {
    // It ran and ended already: the worker still reports its output and exit.
    c->pid = 0;
  } else if (spec.network == ContainerSpec::Network::kNew || spec.bridge) {
    // Where ECS's task metadata endpoint listens, as on the task's ENI.
    Status added = AddLoopbackAddress(c->pid, "lo:ecs", "169.254.170.2");
    if (!added.ok()) {
      Log(LogLevel::kWarn, "container " + spec.name +
                               ": 169.254.170.2 not added to its loopback: " + added.message());
    }
  }
  containers_[id] = c;
  c->worker = std::thread([this, c] { Follow(c); });
  ContainerHandle handle;
  handle.pid = c->pid;
  handle.id = id;
  return handle;
}

Result<ContainerHandle> DockerRuntime::StartExec(const ContainerSpec& spec,
                                                 ContainerCallbacks callbacks) {
  auto target = containers_.find(spec.exec_in);
  if (target == containers_.end() || target->second->done) {
    return Status::FailedPrecondition("container " + spec.exec_in + " is not running");
  }
  Json body{{"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false}, {"Cmd", spec.argv}};
  US_ASSIGN_OR_RETURN(
      auto created, client_->Request("POST", "/containers/" + spec.exec_in + "/exec", body.dump()));
  if (created.status != 201) return Status::InvalidArgument(created.Message());
  US_ASSIGN_OR_RETURN(Json doc, created.JsonBody());
  auto c = std::make_shared<Container>();
  c->id = doc.value("Id", "");
  c->exec = true;
  c->callbacks = std::move(callbacks);
  containers_[c->id] = c;
  std::string in = spec.exec_in;
  c->worker = std::thread([this, c, in] { FollowExec(c, in); });
  ContainerHandle handle;
  handle.id = c->id;
  handle.pid = 0;
  return handle;
}

void DockerRuntime::Output(const std::shared_ptr<Container>& c,
                           std::vector<std::pair<std::string, bool>> lines) {
  if (lines.empty()) return;
  loop_.Post([alive = std::weak_ptr<bool>(alive_), c, lines = std::move(lines)] {
    auto held = alive.lock();
    if (!held || !*held || !c->callbacks.output) return;
    for (const auto& [line, err] : lines) c->callbacks.output(line, err);
  });
}

void DockerRuntime::Deliver(const std::shared_ptr<Container>& c, const ContainerExit& exit) {
  loop_.Post([this, alive = std::weak_ptr<bool>(alive_), c, exit] {
    auto held = alive.lock();
    if (!held || !*held) return;
    c->done = true;
    if (c->worker.joinable()) c->worker.join();
    containers_.erase(c->id);
    if (c->callbacks.exited) c->callbacks.exited(exit);
  });
}

void DockerRuntime::Follow(const std::shared_ptr<Container>& c) {
  FrameDemuxer demux;
  LineSplitter out, err;
  auto on_data = [&](std::string_view data) {
    std::vector<std::pair<std::string, bool>> lines;
    demux.Feed(data, [&](int stream, std::string_view payload) {
      (stream == 2 ? err : out).Feed(payload, [&](const std::string& line) {
        lines.emplace_back(line, stream == 2);
      });
    });
    Output(c, std::move(lines));
    return true;
  };
  auto logs = client_->Stream("GET", "/containers/" + c->id + "/logs?follow=1&stdout=1&stderr=1",
                              on_data, &c->stop);
  std::vector<std::pair<std::string, bool>> rest;
  out.Flush([&](const std::string& line) { rest.emplace_back(line, false); });
  err.Flush([&](const std::string& line) { rest.emplace_back(line, true); });
  Output(c, std::move(rest));
  if (c->stop) return;

  ContainerExit exit;
  std::string waited_body;
  auto waited = client_->Stream(
      "POST", "/containers/" + c->id + "/wait",
      [&](std::string_view data) {
        waited_body.append(data);
        return true;
      },
      &c->stop);
  if (c->stop) return;
  bool known = false;
  if (waited.ok() && *waited == 200) {
    auto doc = ParseJson(waited_body);
    if (doc.ok() && doc->contains("StatusCode")) {
      exit.exit_code = (*doc)["StatusCode"].get<int>();
      known = true;
    }
  }
  auto inspected = client_->Request("GET", "/containers/" + c->id + "/json");
  if (inspected.ok() && inspected->status == 200) {
    auto doc = inspected->JsonBody();
    if (doc.ok()) {
      const Json& state = (*doc)["State"];
      exit.oom_killed = state.value("OOMKilled", false);
      exit.exit_code = state.value("ExitCode", exit.exit_code);
      known = true;
    }
  }
  if (c->killed) {
    exit.exit_code = 128 + SIGKILL;
    known = true;
  }
  if (!known) {
    // The engine went away (or lost the container): the container is gone with it.
    exit.exit_code = 128 + SIGKILL;
    std::string why = !logs.ok()     ? logs.status().message()
                      : !waited.ok() ? waited.status().message()
                      : !inspected.ok()
                          ? inspected.status().message()
                          : "the container engine no longer knows container " + c->id.substr(0, 12);
    exit.reason = "CannotInspectContainerError: " + why;
  }
  if (exit.oom_killed) exit.exit_code = 128 + SIGKILL;
  if (exit.exit_code > 128 && exit.exit_code < 128 + 65) exit.signal = exit.exit_code - 128;
  Remove(c->id);
  Deliver(c, exit);
}

void DockerRuntime::FollowExec(const std::shared_ptr<Container>& c, const std::string& target) {
  FrameDemuxer demux;
  LineSplitter out, err;
  ContainerExit exit;
  std::string body = Json{{"Detach", false}, {"Tty", false}}.dump();
  // The engine answers with the multiplexed stream until the command ends; a health
  // check's output is small, so it is read whole.
  auto started = client_->Request("POST", "/exec/" + c->id + "/start", body, 0);
  if (started.ok()) {
    std::vector<std::pair<std::string, bool>> lines;
    demux.Feed(started->body, [&](int stream, std::string_view payload) {
      (stream == 2 ? err : out).Feed(payload, [&](const std::string& line) {
        lines.emplace_back(line, stream == 2);
      });
    });
    out.Flush([&](const std::string& line) { lines.emplace_back(line, false); });
    err.Flush([&](const std::string& line) { lines.emplace_back(line, true); });
    Output(c, std::move(lines));
  }
  if (c->stop) return;
  auto inspected = client_->Request("GET", "/exec/" + c->id + "/json");
  if (started.ok() && started->status == 200 && inspected.ok() && inspected->status == 200) {
    auto doc = inspected->JsonBody();
    if (doc.ok() && (*doc)["ExitCode"].is_number()) {
      exit.exit_code = (*doc)["ExitCode"].get<int>();
    } else {
      exit.exit_code = 128 + SIGKILL;
    }
  } else {
    exit.exit_code = 126;
    exit.reason = "exec in container " + target.substr(0, 12) + " failed: " +
                  (!started.ok()            ? started.status().message()
                   : started->status != 200 ? started->Message()
                   : !inspected.ok()        ? inspected.status().message()
                                            : inspected->Message());
  }
  Deliver(c, exit);
}

Status DockerRuntime::Signal(const ContainerHandle& handle, int signal) {
  auto found = containers_.find(handle.id);
  if (found == containers_.end() || found->second->done) return Status::Ok();
  auto& c = found->second;
  if (c->exec) {
    // An exec has no kill endpoint: signal its process on this host.
    auto inspected = client_->Request("GET", "/exec/" + c->id + "/json");
    if (inspected.ok() && inspected->status == 200) {
      auto doc = inspected->JsonBody();
      int pid = doc.ok() ? doc->value("Pid", 0) : 0;
      if (pid > 0) ::kill(pid, signal);
    }
    return Status::Ok();
  }
  std::string name =
      signal == SIGTERM && !c->stop_signal.empty() ? c->stop_signal : DockerSignalName(signal);
  US_ASSIGN_OR_RETURN(auto killed, client_->Request("POST", "/containers/" + c->id +
                                                                "/kill?signal=" + UrlEncode(name)));
  if (killed.status == 204 || killed.status == 409 || killed.status == 404) return Status::Ok();
  return Status::InvalidArgument("kill " + name + ": " + killed.Message());
}

void DockerRuntime::KillAll() {
  for (auto& [id, c] : containers_) {
    if (c->done || c->exec) continue;
    c->killed = true;
    Remove(id);
  }
}

Result<ContainerStats> DockerRuntime::Stats(const ContainerHandle& handle) {
  auto found = containers_.find(handle.id);
  if (found == containers_.end() || found->second->done || handle.pid <= 0) {
    return Status::NotFound("container " + handle.id.substr(0, 12) + " has exited");
  }
  return ProcessStats(handle.pid);
}

}  // namespace

Result<std::unique_ptr<TaskRuntime>> NewDockerRuntime(EventLoop& loop,
                                                      const DockerRuntimeOptions& options) {
  auto client = std::make_shared<DockerClient>(options.socket);
  if (!client->Ping()) {
    return Status::Unavailable("no container engine answers on " + options.socket +
                               " (start dockerd, e.g. scripts/start-dockerd.sh, or set "
                               "DOCKER_HOST=unix://<socket> for Podman)");
  }
  auto runtime = std::make_unique<DockerRuntime>(loop, client, options.state_key);
  auto swept = runtime->Sweep();
  if (!swept.ok()) return swept.status();
  if (*swept > 0) {
    Log(LogLevel::kInfo, "docker runtime: removed " + std::to_string(*swept) +
                             " container(s) an earlier understudy left behind");
  }
  return std::unique_ptr<TaskRuntime>(std::move(runtime));
}

}  // namespace understudy::runtime
