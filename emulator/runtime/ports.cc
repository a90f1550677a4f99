#include "runtime/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace understudy::runtime {
namespace {

// Binds a TCP socket to 127.0.0.1:`port`; returns the socket or -1 (errno set).
int BindLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

}  // namespace

Result<uint16_t> PickFreeLoopbackPort() {
  int fd = BindLoopback(0);
  if (fd < 0)
    return Status::Unavailable(std::string("cannot pick a loopback port: ") + strerror(errno));
  sockaddr_in addr{};
  socklen_t size = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  close(fd);
  return ntohs(addr.sin_port);
}

bool IsLoopbackPortFree(uint16_t port) {
  int fd = BindLoopback(port);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace understudy::runtime
