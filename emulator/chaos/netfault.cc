#include "chaos/netfault.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <thread>

#include "core/time.h"

namespace understudy::chaos {

namespace {

using RealTime = std::chrono::steady_clock::time_point;

std::string ErrnoText(int error) { return std::strerror(error); }

// One nfnetlink_queue message being built: header, nfgenmsg, then attributes.
class Message {
 public:
  Message(uint16_t type, uint16_t queue, uint16_t flags) {
    auto* header = reinterpret_cast<nlmsghdr*>(buffer_);
    header->nlmsg_len = NLMSG_LENGTH(sizeof(nfgenmsg));
    header->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_QUEUE << 8) | type);
    header->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    auto* gen = static_cast<nfgenmsg*>(NLMSG_DATA(header));
    gen->nfgen_family = AF_UNSPEC;
    gen->version = NFNETLINK_V0;
    gen->res_id = htons(queue);
  }
  void Add(uint16_t type, const void* data, size_t size) {
    auto* header = reinterpret_cast<nlmsghdr*>(buffer_);
    auto* attr = reinterpret_cast<nlattr*>(buffer_ + NLMSG_ALIGN(header->nlmsg_len));
    attr->nla_type = type;
    attr->nla_len = static_cast<uint16_t>(NLA_HDRLEN + size);
    std::memcpy(reinterpret_cast<char*>(attr) + NLA_HDRLEN, data, size);
    header->nlmsg_len = NLMSG_ALIGN(header->nlmsg_len) + NLA_ALIGN(attr->nla_len);
  }
  const char* data() const { return buffer_; }
  size_t size() const { return reinterpret_cast<const nlmsghdr*>(buffer_)->nlmsg_len; }

 private:
  alignas(nlmsghdr) char buffer_[128] = {};
};

}  // namespace

struct NetFault::Impl {
  NetFaultOptions options;
  int socket = -1;
  int wake = -1;  // eventfd: stop
  std::thread thread;
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> dropped{0};
  std::vector<std::string> rule;
  struct Held {
    RealTime due;
    uint32_t id;
  };
  std::deque<Held> held;  // by due time (jitter may reorder them)

  ~Impl() {
    if (socket >= 0) close(socket);
    if (wake >= 0) close(wake);
  }

  Status Send(const Message& m) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(socket, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
      return Status::IoError("netlink send: " + ErrnoText(errno));
    }
    return Status::Ok();
  }

  // Sends a configuration message and reads the kernel's acknowledgement.
  Status Configure(const Message& m, const char* what) {
    US_RETURN_IF_ERROR(Send(m));
    char reply[1024];
    ssize_t n = recv(socket, reply, sizeof(reply), 0);
    if (n < 0) return Status::IoError(std::string(what) + ": " + ErrnoText(errno));
    auto* header = reinterpret_cast<nlmsghdr*>(reply);
    if (NLMSG_OK(header, static_cast<unsigned>(n)) && header->nlmsg_type == NLMSG_ERROR) {
      auto* error = static_cast<nlmsgerr*>(NLMSG_DATA(header));
      if (error->error != 0)
        return Status::Unavailable(std::string(what) + ": " + ErrnoText(-error->error));
    }
    return Status::Ok();
  }

  Status Open() {
    socket = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (socket < 0) return Status::Unavailable("netlink socket: " + ErrnoText(errno));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (bind(socket, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
      return Status::Unavailable("netlink bind: " + ErrnoText(errno));
    Message bind_queue(NFQNL_MSG_CONFIG, options.queue, NLM_F_ACK);
    nfqnl_msg_config_cmd command{};
    command.command = NFQNL_CFG_CMD_BIND;
    command.pf = htons(AF_INET);
    bind_queue.Add(NFQA_CFG_CMD, &command, sizeof(command));
    US_RETURN_IF_ERROR(Configure(bind_queue, "binding the netfilter queue"));
    Message params(NFQNL_MSG_CONFIG, options.queue, NLM_F_ACK);
    nfqnl_msg_config_params copy{};
    copy.copy_range = htonl(0);
    copy.copy_mode = NFQNL_COPY_META;  // the verdict needs only the packet's id
    params.Add(NFQA_CFG_PARAMS, &copy, sizeof(copy));
    return Configure(params, "setting the queue's copy mode");
  }

  void Verdict(uint32_t id, uint32_t verdict) {
    Message m(NFQNL_MSG_VERDICT, options.queue, 0);
    nfqnl_msg_verdict_hdr header{};
    header.verdict = htonl(verdict);
    header.id = htonl(id);
    m.Add(NFQA_VERDICT_HDR, &header, sizeof(header));
    (void)Send(m);
  }

  void OnPacket(uint32_t id) {
    packets.fetch_add(1, std::memory_order_relaxed);
    if (options.loss > 0 && options.random.Unit() < options.loss) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return Verdict(id, NF_DROP);
    }
    auto wait = options.delay;
    if (options.jitter.count() > 0)
      wait += std::chrono::milliseconds(options.random.Below(options.jitter.count() + 1));
    if (wait.count() == 0) return Verdict(id, NF_ACCEPT);
    Held h{RealElapsedNow() + wait, id};
    auto at = held.end();
    while (at != held.begin() && std::prev(at)->due > h.due) --at;
    held.insert(at, h);
  }

  void Read() {
    alignas(nlmsghdr) char buffer[8192];
    for (;;) {
      ssize_t n = recv(socket, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) return;
      unsigned left = static_cast<unsigned>(n);
      for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, left);
           header = NLMSG_NEXT(header, left)) {
        if ((header->nlmsg_type & 0xff) != NFQNL_MSG_PACKET) continue;
        size_t offset = NLMSG_LENGTH(sizeof(nfgenmsg));
        while (offset + NLA_HDRLEN <= header->nlmsg_len) {
          auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(header) + offset);
          if (attr->nla_len < NLA_HDRLEN) break;
          if ((attr->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
            nfqnl_msg_packet_hdr packet{};
            std::memcpy(&packet, reinterpret_cast<char*>(attr) + NLA_HDRLEN, sizeof(packet));
            OnPacket(ntohl(packet.packet_id));
            break;
          }
          offset += NLA_ALIGN(attr->nla_len);
        }
      }
    }
  }

  void Run() {
    for (;;) {
      int timeout = -1;
      if (!held.empty()) {
        auto left =
            std::chrono::ceil<std::chrono::milliseconds>(held.front().due - RealElapsedNow());
        timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      pollfd fds[2] = {{socket, POLLIN, 0}, {wake, POLLIN, 0}};
      poll(fds, 2, timeout);
      if (fds[1].revents & POLLIN) break;
      if (fds[0].revents & POLLIN) Read();
      RealTime now = RealElapsedNow();
      while (!held.empty() && held.front().due <= now) {
        Verdict(held.front().id, NF_ACCEPT);
        held.pop_front();
      }
    }
    // Stopping: what is still held goes through now.
    for (const Held& h : held) Verdict(h.id, NF_ACCEPT);
    held.clear();
  }
};

NetFault::NetFault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<NetFault>> NetFault::Start(NetFaultOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->wake = eventfd(0, EFD_CLOEXEC);
  if (impl->wake < 0) return Status::IoError("eventfd: " + ErrnoText(errno));
  // The queue's socket belongs to the namespace it is made in: a thread enters the
  // namespace, opens it, and reads it there for the fault's life.
  std::promise<Status> opened;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw, &opened] {
    std::string path = "/proc/" + std::to_string(raw->options.netns_pid) + "/ns/net";
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      opened.set_value(Status::Unavailable("open " + path + ": " + ErrnoText(errno)));
      return;
    }
    int entered = setns(ns, CLONE_NEWNET);
    int error = errno;
    close(ns);
    if (entered != 0) {
      opened.set_value(Status::Unavailable("setns " + path + ": " + ErrnoText(error)));
      return;
    }
    Status status = raw->Open();
    bool ok = status.ok();
    opened.set_value(std::move(status));
    if (ok) raw->Run();
  });
  Status status = opened.get_future().get();
  if (status.ok()) {
    impl->rule = {
        "OUTPUT",        "-j", "NFQUEUE", "--queue-num", std::to_string(impl->options.queue),
        "--queue-bypass"};
    std::vector<std::string> add = {"iptables", "-I"};
    add.insert(add.end(), impl->rule.begin(), impl->rule.end());
    status = impl->options.run_in_netns(impl->options.netns_pid, add);
    if (!status.ok()) impl->rule.clear();
  }
  auto fault = std::unique_ptr<NetFault>(new NetFault(std::move(impl)));
  if (!status.ok()) return status;  // the destructor stops the thread
  return fault;
}

NetFault::~NetFault() {
  if (!impl_->rule.empty()) {
    std::vector<std::string> remove = {"iptables", "-D"};
    remove.insert(remove.end(), impl_->rule.begin(), impl_->rule.end());
    (void)impl_->options.run_in_netns(impl_->options.netns_pid, remove);
  }
  uint64_t one = 1;
  if (impl_->wake >= 0) (void)!write(impl_->wake, &one, sizeof(one));
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint64_t NetFault::packets() const { return impl_->packets.load(); }
uint64_t NetFault::dropped() const { return impl_->dropped.load(); }

}  // namespace understudy::chaos
