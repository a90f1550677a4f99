#include "ses/smtp_server.h"

#include <array>
#include <map>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"

namespace understudy::ses {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server* server, tcp::socket socket, uint64_t id, const SmtpConfig& config)
      : server_(server), socket_(std::move(socket)), id_(id), session_(config) {}

  void Start(bool implicit_tls);
  void Close();

 private:
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // (Re)starts the idle timer.
  void ArmIdle();
  void DisarmIdle();
  void Write(std::string bytes, SmtpSession::Action then);
  void BeginTls(bool greet_after);

  Server* server_;
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  uint64_t id_;
  SmtpSession session_;
  std::array<char, 64 * 1024> buffer_;
  bool closed_ = false;
  uint64_t idle_timer_ = 0;
};

class Server final : public SmtpServer {
 public:
  Server(asio::io_context& io, SmtpServerOptions options)
      : io_(io),
        options_(std::move(options)),
        acceptor_(io),
        tls_context_(ssl::context::tls_server) {
    tls_context_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3);
  }

  Status Listen() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("--smtp-port: bad address '" + options_.host + "'");
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen for SMTP on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    options_.session.tls_available = static_cast<bool>(options_.certificate);
    Accept();
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }
  const std::string& host() const override { return options_.host; }
  size_t open_connections() const override { return connections_.size(); }

  void Stop() override {
    boost::system::error_code ec;
    acceptor_.close(ec);
    auto open = connections_;
    for (auto& [id, c] : open) {
      if (auto conn = c.lock()) conn->Close();
    }
    connections_.clear();
  }

  // The TLS context with the certificate loaded; an error when none can be made.
  Result<ssl::context*> TlsContext() {
    if (!certificate_loaded_) {
      if (!options_.certificate) return Status::Unavailable("no certificate for TLS");
      US_ASSIGN_OR_RETURN(auto pem, options_.certificate());
      boost::system::error_code ec;
      tls_context_.use_certificate_chain(asio::buffer(pem.first), ec);
      if (!ec) tls_context_.use_private_key(asio::buffer(pem.second), ssl::context::pem, ec);
      if (ec) return Status::Internal("SMTP TLS certificate: " + ec.message());
      certificate_loaded_ = true;
    }
    return &tls_context_;
  }

  void Forget(uint64_t id) { connections_.erase(id); }
  const SmtpServerOptions& options() const { return options_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        Accept();
        return;
      }
      boost::system::error_code ignored;
      if (connections_.size() >= options_.max_connections) {
        // SES's answer when a client opens too many connections at once.
        static const std::string kBusy = "421 Too many concurrent SMTP connections\r\n";
        asio::write(socket, asio::buffer(kBusy), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        Accept();
        return;
      }
      socket.set_option(tcp::no_delay(true), ignored);
      uint64_t id = next_id_++;
      auto connection = std::make_shared<Connection>(this, std::move(socket), id, options_.session);
      connections_[id] = connection;
      connection->Start(options_.implicit_tls);
      Accept();
    });
  }

  asio::io_context& io_;
  SmtpServerOptions options_;
  tcp::acceptor acceptor_;
  ssl::context tls_context_;
  bool certificate_loaded_ = false;
  uint16_t port_ = 0;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::weak_ptr<Connection>> connections_;
};

void Connection::ArmIdle() {
  const SmtpServerOptions& options = server_->options();
  if (options.idle_timeout.count() <= 0 || !options.schedule || closed_) return;
  DisarmIdle();
  std::weak_ptr<Connection> weak = shared_from_this();
  idle_timer_ = options.schedule(options.idle_timeout, [weak] {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    self->idle_timer_ = 0;
    // SES's reply to a client that went quiet; then the connection closes.
    self->Write("451 4.4.2 Timeout waiting for data from client\r\n", SmtpSession::Action::kClose);
  });
}

void Connection::DisarmIdle() {
  if (idle_timer_ != 0 && server_->options().cancel) server_->options().cancel(idle_timer_);
  idle_timer_ = 0;
}

void Connection::Start(bool implicit_tls) {
  ArmIdle();
  if (implicit_tls) {
    BeginTls(true);
    return;
  }
  Write(session_.Greeting(), SmtpSession::Action::kNone);
}

void Connection::Close() {
  if (closed_) return;
  DisarmIdle();
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  server_->Forget(id_);
}

void Connection::Read() {
  if (closed_) return;
  auto self = shared_from_this();
  auto handler = [self](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); };
  if (tls_) {
    tls_->async_read_some(asio::buffer(buffer_), handler);
  } else {
    socket_.async_read_some(asio::buffer(buffer_), handler);
  }
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (ec) {
    Close();
    return;
  }
  ArmIdle();
  std::string out;
  SmtpSession::Action action = session_.Feed(std::string_view(buffer_.data(), n), &out);
  if (out.empty() && action == SmtpSession::Action::kNone) {
    Read();
    return;
  }
  Write(std::move(out), action);
}

void Connection::Write(std::string bytes, SmtpSession::Action then) {
  if (closed_) return;
  auto self = shared_from_this();
  auto data = std::make_shared<std::string>(std::move(bytes));
  auto done = [self, data, then](const boost::system::error_code& ec, size_t) {
    if (ec) {
      self->Close();
      return;
    }
    switch (then) {
      case SmtpSession::Action::kClose:
        self->Close();
        return;
      case SmtpSession::Action::kStartTls:
        self->BeginTls(false);
        return;
      case SmtpSession::Action::kNone:
        self->Read();
        return;
    }
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(*data), done);
  } else {
    asio::async_write(socket_, asio::buffer(*data), done);
  }
}

void Connection::BeginTls(bool greet_after) {
  auto context = server_->TlsContext();
  if (!context.ok()) {
    Log(LogLevel::kWarn, "SMTP TLS: " + context.status().message());
    Close();
    return;
  }
  tls_.emplace(socket_, **context);
  auto self = shared_from_this();
  tls_->async_handshake(ssl::stream_base::server,
                        [self, greet_after](const boost::system::error_code& ec) {
                          if (ec) {
                            self->Close();
                            return;
                          }
                          self->session_.TlsStarted();
                          if (greet_after) {
                            self->Write(self->session_.Greeting(), SmtpSession::Action::kNone);
                          } else {
                            self->Read();
                          }
                        });
}

}  // namespace

Result<std::unique_ptr<SmtpServer>> SmtpServer::Start(boost::asio::io_context& io,
                                                      SmtpServerOptions options) {
  auto server = std::make_unique<Server>(io, std::move(options));
  US_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<SmtpServer>(std::move(server));
}

}  // namespace understudy::ses
