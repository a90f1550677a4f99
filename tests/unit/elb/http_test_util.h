// Real HTTP on loopback for the ALB's unit tests: a small target server whose
// answers a test scripts (and which records what it received), and a blocking
// keep-alive client. Thread per connection; test scale only.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace understudy::elb::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using TestRequest = http::request<http::string_body>;
using TestResponse = http::response<http::string_body>;

// A target: answers every request with `handler` (default: 200 "ok from <name>"),
// echoes WebSocket messages, and keeps the requests it saw.
class TestTarget {
 public:
  explicit TestTarget(std::string name) : name_(std::move(name)), acceptor_(io_) {
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestTarget() { Stop(); }

  void Stop() {
    if (stopped_.exchange(true)) return;
    boost::system::error_code ec;
    // Closing does not wake a blocked accept(); shutting the socket down does.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (auto* socket : open_) socket->shutdown(tcp::socket::shutdown_both, ec);
    }
    if (thread_.joinable()) thread_.join();
    acceptor_.close(ec);
    for (auto& t : connections_) t.join();
  }

  uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  void SetHandler(std::function<TestResponse(const TestRequest&)> handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  std::vector<TestRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  size_t connection_count() const { return connection_count_.load(); }
  // Blocks until `n` requests have arrived; false when `timeout` passed first.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void AcceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      ++connection_count_;
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(tcp::socket socket) {
    {
      std::lock_guard lock(mu_);
      open_.push_back(&socket);
    }
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    for (;;) {
      TestRequest request;
      http::read(socket, buffer, request, ec);
      if (ec) break;
      if (beast::websocket::is_upgrade(request)) {
        beast::websocket::stream<tcp::socket&> ws(socket);
        ws.accept(request, ec);
        while (!ec) {
          beast::flat_buffer message;
          ws.read(message, ec);
          if (ec) break;
          ws.text(ws.got_text());
          ws.write(message.data(), ec);
        }
        break;
      }
      std::function<TestResponse(const TestRequest&)> handler;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
        handler = handler_;
        arrived_.notify_all();
      }
      TestResponse response{http::status::ok, request.version()};
      if (handler) {
        response = handler(request);
      } else {
        response.body() = "ok from " + name_;
      }
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !request.keep_alive()) break;
    }
    std::lock_guard lock(mu_);
    std::erase(open_, &socket);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  std::string name_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::thread> connections_;
  std::vector<tcp::socket*> open_;
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::function<TestResponse(const TestRequest&)> handler_;
  std::vector<TestRequest> requests_;
  std::atomic<size_t> connection_count_{0};
  std::atomic<bool> stopped_{false};
};

// A blocking keep-alive client for one connection to 127.0.0.1:port.
class TestClient {
 public:
  explicit TestClient(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  // Sends one request; the response, or status 0 when the connection failed.
  TestResponse Send(TestRequest request) {
    boost::system::error_code ec;
    if (request.find(http::field::host) == request.end())
      request.set(http::field::host, "web.test");
    request.prepare_payload();
    http::write(socket_, request, ec);
    TestResponse response;
    if (ec) return response;
    http::read(socket_, buffer_, response, ec);
    if (ec) return TestResponse{};
    return response;
  }
  TestResponse Get(const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    TestRequest request{http::verb::get, target, 11};
    for (const auto& [name, value] : headers) request.insert(name, value);
    return Send(std::move(request));
  }
  // Writes raw bytes and reads one response (or status 0 on a closed connection).
  TestResponse Raw(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    TestResponse response;
    http::read(socket_, buffer_, response, ec);
    if (ec) return TestResponse{};
    return response;
  }
  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// A one-way gate a target's handler waits at until the test opens it: a target that
// stays silent for exactly as long as the test needs, with no sleep.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // True once open; false when `timeout` passed first (a test that forgot to open it).
  bool Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace understudy::elb::testing
