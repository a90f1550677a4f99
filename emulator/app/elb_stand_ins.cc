#include "app/elb_stand_ins.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace understudy::app {
namespace {

class BoundOnlyDataPlane final : public elb::DataPlane {
 public:
  ~BoundOnlyDataPlane() override { Stop(); }
  // DataPlane
  Result<uint16_t> OpenListener(const std::string& arn,
                                const std::vector<uint16_t>& preferred) override {
    CloseListener(arn);
    std::vector<uint16_t> tries = preferred;
    tries.push_back(0);
    for (uint16_t port : tries) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return Status::Unavailable(std::string("socket: ") + strerror(errno));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
        close(fd);
        continue;
      }
      socklen_t len = sizeof addr;
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      fds_[arn] = fd;
      return ntohs(addr.sin_port);
    }
    return Status::Unavailable("no port could be bound for listener " + arn);
  }
  void CloseListener(const std::string& arn) override {
    auto it = fds_.find(arn);
    if (it == fds_.end()) return;
    close(it->second);
    fds_.erase(it);
  }
  void Publish(elb::RoutingSnapshot) override {}
  void CutTarget(const std::string&, const std::string&, uint16_t) override {}
  elb::TargetCounters Counters(const std::string&, const std::string&, uint16_t) const override {
    return {};
  }
  void Stop() override {
    for (auto& [arn, fd] : fds_) close(fd);
    fds_.clear();
  }

 private:
  std::map<std::string, int> fds_;
};

class InitialHealth final : public elb::TargetHealthSource {
 public:
  // TargetHealthSource
  void SetOnChange(std::function<void()>) override {}
  void SetTargets(std::vector<elb::CheckedTarget>) override {}
  elb::TargetHealthReport Health(const elb::TargetKey&) const override {
    return {elb::Target::Health::kInitial, "Elb.RegistrationInProgress",
            "Target registration is in progress"};
  }
  double SlowStartFactor(const elb::TargetKey&) const override { return 1.0; }
  void Clear() override {}
};

}  // namespace

std::unique_ptr<elb::DataPlane> NewBoundOnlyDataPlane() {
  return std::make_unique<BoundOnlyDataPlane>();
}
std::unique_ptr<elb::TargetHealthSource> NewInitialHealth() {
  return std::make_unique<InitialHealth>();
}

}  // namespace understudy::app
