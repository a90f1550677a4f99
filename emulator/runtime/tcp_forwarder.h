// TcpForwarder: relays connections accepted on one listening socket to a TCP port on
// the host's loopback — how a task in its own network namespace reaches host services
// (`serve --task-forward 5432`). Runs on the loop's io_context; loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "core/status.h"

namespace understudy::runtime {

class TcpForwarder {
 public:
  // Takes ownership of `listening_fd` (bound and listening, e.g. inside a namespace)
  // and relays each connection to 127.0.0.1:`target_port`. A refused target closes
  // the accepted connection.
  static Result<std::unique_ptr<TcpForwarder>> Start(boost::asio::io_context& io, int listening_fd,
                                                     uint16_t target_port);
  // The same, connecting from sockets `upstream_socket` makes (an unconnected TCP socket,
  // e.g. one made inside another task's network namespace, so 127.0.0.1 is that
  // namespace's loopback). A socket that cannot be made closes the accepted connection.
  static Result<std::unique_ptr<TcpForwarder>> Start(boost::asio::io_context& io, int listening_fd,
                                                     uint16_t target_port,
                                                     std::function<Result<int>()> upstream_socket);
  virtual ~TcpForwarder() = default;
  // Stops accepting and closes every relayed connection.
  virtual void Stop() = 0;
};

}  // namespace understudy::runtime
