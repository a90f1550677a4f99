// HttpServer: the event-driven HTTP/1.1 server the front door answers on.
//
// Boost.Beast on the loop's io_context: connections, parsing and the handler
// all run on the loop thread, so a request reaches state with no thread hop.
// Keep-alive, Expect: 100-continue, TCP_NODELAY, header and body limits (an
// oversized body is reported to the handler, which answers in the request's
// protocol), malformed requests answered 400 and closed, idle connections closed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/http.h"
#include "core/status.h"
#include "core/time.h"

namespace understudy::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;  // 0 picks a free port
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 48 * 1024 * 1024;  // SES v2 and SMTP accept 40 MB messages
  Duration idle_timeout = std::chrono::seconds(120);
};

class HttpServer {
 public:
  using Handler = std::function<void(HttpRequest, std::function<void(HttpResponse)>)>;

  // Binds and starts accepting. Unavailable names the address when it is in use.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                   const HttpServerOptions& options,
                                                   Handler handler);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  // Stops accepting and closes open connections. Loop thread.
  virtual void Stop() = 0;
  // Also serves on `listening_fd`, a socket already bound and listening (for example
  // inside a task's network namespace); the server owns it. Returns an id for
  // RemoveListener. Loop thread.
  virtual Result<uint64_t> AddListener(int listening_fd) = 0;
  // Closes that listener (its open connections finish as they are). Loop thread.
  virtual void RemoveListener(uint64_t id) = 0;
};

}  // namespace understudy::api
