#include "api/http_server.h"

#include <unistd.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <map>

namespace understudy::api {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

HttpRequest ToRequest(const http::request_parser<http::string_body>& parser,
                      const std::string& remote) {
  const auto& msg = parser.get();
  HttpRequest request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  std::string_view target = request.target;
  size_t q = target.find('?');
  request.raw_path = std::string(target.substr(0, q));
  if (!PercentDecode(request.raw_path, false, &request.path)) request.path = request.raw_path;
  if (q != std::string_view::npos) {
    if (!ParseFormEncoded(target.substr(q + 1), &request.query)) request.query.clear();
  }
  for (const auto& field : msg) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = msg.body();
  request.remote_address = remote;
  return request;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const HttpServerOptions& options,
             const HttpServer::Handler& handler)
      : stream_(std::move(socket)), options_(options), handler_(handler) {
    boost::system::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }

  void Start() { ReadHeader(); }
  void Close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }
  bool closed() const { return !stream_.socket().is_open(); }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(options_.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::body_limit) return Oversized();  // Content-Length over the limit
    if (ec) return OnReadError(ec);
    auto& msg = parser_->get();
    auto length = parser_->content_length();
    if (length && *length > options_.max_body_bytes) return Oversized();
    if (beast::iequals(msg[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     msg.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) return self->Oversized();
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch(ToRequest(*self->parser_, self->remote_));
                     });
  }

  void Oversized() {
    HttpRequest request = ToRequest(*parser_, remote_);
    request.body.clear();
    request.body_too_large = true;
    request.body_limit = options_.max_body_bytes;
    keep_alive_override_ = false;
    Dispatch(std::move(request));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
        ec == boost::asio::error::connection_reset) {
      return Close();
    }
    // Malformed HTTP: answer 400 and close; nothing reaches the handler.
    HttpResponse response;
    response.status = ec == http::error::header_limit ? 431 : 400;
    response.SetHeader("Content-Type", "text/plain; charset=utf-8");
    response.body = (response.status == 431 ? "request header fields too large: "
                                            : "malformed HTTP request: ") +
                    ec.message() + "\n";
    keep_alive_override_ = false;
    Write(std::move(response), 11);
  }

  void Dispatch(HttpRequest request) {
    unsigned version = parser_->get().version();
    bool keep_alive = parser_->get().keep_alive();
    if (keep_alive_override_.has_value()) keep_alive = *keep_alive_override_;
    keep_alive_ = keep_alive;
    stream_.expires_never();
    handler_(std::move(request), [self = shared_from_this(), version](HttpResponse response) {
      self->Write(std::move(response), version);
    });
  }

  void Write(HttpResponse response, unsigned version) {
    if (closed()) return;
    auto msg = std::make_shared<http::response<http::string_body>>();
    msg->version(version);
    msg->result(static_cast<unsigned>(response.status));
    msg->set(http::field::server, "understudy");
    for (auto& [name, value] : response.headers) msg->insert(name, value);
    msg->body() = std::move(response.body);
    bool keep_alive = keep_alive_ && !keep_alive_override_.has_value();
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->ReadHeader();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpServerOptions& options_;
  const HttpServer::Handler& handler_;
  std::string remote_;
  bool keep_alive_ = true;
  std::optional<bool> keep_alive_override_;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(boost::asio::io_context& io, HttpServerOptions options, Handler handler)
      : acceptor_(io), options_(std::move(options)), handler_(std::move(handler)) {}

  Status Listen() {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(options_.host, ec);
    if (ec) {
      return Status::InvalidArgument("--host '" + options_.host + "' is not an IP address");
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(1024, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    return Status::Ok();
  }

  // HttpServer
  uint16_t port() const override { return port_; }
  Result<uint64_t> AddListener(int listening_fd) override {
    auto acceptor = std::make_shared<tcp::acceptor>(acceptor_.get_executor());
    boost::system::error_code ec;
    acceptor->assign(tcp::v4(), listening_fd, ec);
    if (ec) {
      ::close(listening_fd);
      return Status::Unavailable("cannot serve on a listening socket: " + ec.message());
    }
    uint64_t id = next_listener_++;
    extra_[id] = acceptor;
    AcceptOn(acceptor);
    return id;
  }

  void RemoveListener(uint64_t id) override {
    auto it = extra_.find(id);
    if (it == extra_.end()) return;
    boost::system::error_code ec;
    it->second->close(ec);
    extra_.erase(it);
  }

  void Stop() override {
    boost::system::error_code ec;
    for (auto& [id, acceptor] : extra_) acceptor->close(ec);
    extra_.clear();
    acceptor_.close(ec);
    for (auto& weak : connections_) {
      if (auto c = weak.lock()) c->Close();
    }
    connections_.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (!ec) {
        auto connection = std::make_shared<Connection>(std::move(socket), options_, handler_);
        connections_.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        connections_.push_back(connection);
        connection->Start();
      }
      if (acceptor_.is_open()) Accept();
    });
  }

  void AcceptOn(std::shared_ptr<tcp::acceptor> acceptor) {
    acceptor->async_accept([this, acceptor](boost::system::error_code ec, tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        auto connection = std::make_shared<Connection>(std::move(socket), options_, handler_);
        connections_.push_back(connection);
        connection->Start();
      }
      AcceptOn(acceptor);
    });
  }

  tcp::acceptor acceptor_;
  std::map<uint64_t, std::shared_ptr<tcp::acceptor>> extra_;
  uint64_t next_listener_ = 1;
  HttpServerOptions options_;
  Handler handler_;
  uint16_t port_ = 0;
  std::list<std::weak_ptr<Connection>> connections_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(boost::asio::io_context& io,
                                                      const HttpServerOptions& options,
                                                      Handler handler) {
  auto server = std::make_unique<BeastServer>(io, options, std::move(handler));
  US_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace understudy::api
