#include "traffic/http_client.h"

#include <map>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace understudy::traffic {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Executor = asio::io_context::executor_type;
using TcpStream = beast::basic_stream<tcp, Executor>;
constexpr asio::use_awaitable_t<Executor> use_awaitable;

// Idle connections kept per port.
constexpr size_t kMaxIdlePerPort = 64;

}  // namespace

struct HttpClient::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::map<uint16_t, std::vector<std::unique_ptr<TcpStream>>> idle;  // worker thread
  std::thread thread;

  Impl() {
    thread = std::thread([this] { io.run(); });
  }
  ~Impl() {
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }

  static HttpResult Failure(const error_code& ec, const char* during) {
    HttpResult r;
    if (ec == beast::error::timeout) {
      r.kind = HttpResult::Kind::kTimeout;
      r.error = std::string("timed out ") + during;
    } else if (std::string_view(during) == "connecting") {
      r.kind = HttpResult::Kind::kConnectError;
      r.error = "connection failed: " + ec.message();
    } else {
      r.kind = HttpResult::Kind::kOtherError;
      r.error = std::string(during) + ": " + ec.message();
    }
    return r;
  }

  asio::awaitable<void, Executor> Run(HttpRequest request, std::function<void(HttpResult)> done) {
    auto started = RealElapsedNow();
    auto finish = [&](HttpResult r) {
      r.latency = std::chrono::duration_cast<Duration>(RealElapsedNow() - started);
      done(std::move(r));
    };
    http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
    if (req.method() == http::verb::unknown) req.method_string(request.method);
    req.set(http::field::host, request.host_header.empty()
                                   ? request.host + ":" + std::to_string(request.port)
                                   : request.host_header);
    req.set(http::field::user_agent, "understudy-traffic");
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.body() = request.body;
    if (!request.body.empty() || req.method() == http::verb::post ||
        req.method() == http::verb::put || req.method() == http::verb::patch) {
      req.prepare_payload();
    }
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<TcpStream> stream;
      bool reused = false;
      auto& pool = idle[request.port];
      if (!pool.empty()) {
        stream = std::move(pool.back());
        pool.pop_back();
        reused = true;
      } else {
        stream = std::make_unique<TcpStream>(io.get_executor());
        stream->expires_after(timeout);
        error_code ec;
        tcp::endpoint endpoint(asio::ip::make_address(request.host, ec), request.port);
        if (ec) {
          finish(Failure(ec, "resolving the address"));
          co_return;
        }
        co_await stream->async_connect(endpoint, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          finish(Failure(ec, "connecting"));
          co_return;
        }
      }
      stream->expires_after(timeout);
      error_code ec;
      co_await http::async_write(*stream, req, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (reused && attempt == 0) continue;
        finish(Failure(ec, "sending the request"));
        co_return;
      }
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      parser.skip(req.method() == http::verb::head);
      co_await http::async_read(*stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        bool stale = reused && attempt == 0 && buffer.size() == 0 && !parser.got_some() &&
                     (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                      ec == asio::error::eof || ec == asio::error::broken_pipe);
        if (stale) continue;
        finish(Failure(ec, "reading the answer"));
        co_return;
      }
      auto& res = parser.get();
      HttpResult r;
      r.status = static_cast<int>(res.result_int());
      for (const auto& field : res) {
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      r.body = std::move(res.body());
      if (res.keep_alive() && pool.size() < kMaxIdlePerPort) {
        stream->expires_never();
        pool.push_back(std::move(stream));
      }
      finish(std::move(r));
      co_return;
    }
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

void HttpClient::Send(HttpRequest request, std::function<void(HttpResult)> done) {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, request = std::move(request), done = std::move(done)]() mutable {
    asio::co_spawn(impl->io.get_executor(), impl->Run(std::move(request), std::move(done)),
                   asio::detached);
  });
}

}  // namespace understudy::traffic
