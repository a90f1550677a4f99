#include "runtime/tcp_forwarder.h"

#include <unistd.h>

#include <array>
#include <list>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace understudy::runtime {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One relayed connection: bytes both ways until either side closes.
class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(tcp::socket client, asio::io_context& io) : client_(std::move(client)), upstream_(io) {}

  void Start(uint16_t port, const std::function<Result<int>()>& upstream_socket) {
    auto self = shared_from_this();
    if (upstream_socket) {
      auto fd = upstream_socket();
      boost::system::error_code ec;
      if (!fd.ok()) return Close();
      upstream_.assign(tcp::v4(), *fd, ec);
      if (ec) {
        ::close(*fd);
        return Close();
      }
    }
    upstream_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                            [self](const boost::system::error_code& ec) {
                              if (ec) return self->Close();
                              self->Pump(self->client_, self->upstream_, self->to_upstream_);
                              self->Pump(self->upstream_, self->client_, self->to_client_);
                            });
  }

  void Close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  using Buffer = std::array<char, 16384>;

  void Pump(tcp::socket& from, tcp::socket& to, Buffer& buffer) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buffer), [self, &from, &to, &buffer](
                                                   const boost::system::error_code& ec, size_t n) {
      if (ec) return self->Close();
      asio::async_write(to, asio::buffer(buffer.data(), n),
                        [self, &from, &to, &buffer](const boost::system::error_code& ec, size_t) {
                          if (ec) return self->Close();
                          self->Pump(from, to, buffer);
                        });
    });
  }

  tcp::socket client_;
  tcp::socket upstream_;
  Buffer to_upstream_;
  Buffer to_client_;
};

class Forwarder final : public TcpForwarder {
 public:
  Forwarder(asio::io_context& io, uint16_t port, std::function<Result<int>()> upstream_socket)
      : io_(io), acceptor_(io), port_(port), upstream_socket_(std::move(upstream_socket)) {}

  Status Adopt(int fd) {
    boost::system::error_code ec;
    acceptor_.assign(tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return Status::Unavailable("cannot forward from a listening socket: " + ec.message());
    }
    Accept();
    return Status::Ok();
  }

  // TcpForwarder
  void Stop() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : relays_) {
      if (auto relay = weak.lock()) relay->Close();
    }
    relays_.clear();
  }
  ~Forwarder() override { Stop(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        auto relay = std::make_shared<Relay>(std::move(socket), io_);
        relays_.remove_if([](const std::weak_ptr<Relay>& w) { return w.expired(); });
        relays_.push_back(relay);
        relay->Start(port_, upstream_socket_);
      }
      Accept();
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  uint16_t port_;
  std::function<Result<int>()> upstream_socket_;
  std::list<std::weak_ptr<Relay>> relays_;
};

}  // namespace

Result<std::unique_ptr<TcpForwarder>> TcpForwarder::Start(asio::io_context& io, int listening_fd,
                                                          uint16_t target_port) {
  return Start(io, listening_fd, target_port, nullptr);
}

Result<std::unique_ptr<TcpForwarder>> TcpForwarder::Start(
    asio::io_context& io, int listening_fd, uint16_t target_port,
    std::function<Result<int>()> upstream_socket) {
  auto forwarder = std::make_unique<Forwarder>(io, target_port, std::move(upstream_socket));
  US_RETURN_IF_ERROR(forwarder->Adopt(listening_fd));
  return std::unique_ptr<TcpForwarder>(std::move(forwarder));
}

}  // namespace understudy::runtime
