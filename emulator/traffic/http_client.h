// HttpClient: plain HTTP/1.1 requests to loopback listeners, on a worker thread of
// its own (Boost.Beast), for the traffic generator and one-off requests.
//
// Connections are kept alive and reused per port (a request on a reused connection
// the server had closed is retried once on a new one). Each request has a real-time
// timeout. Callbacks run on the worker thread: post them to the loop. Send: any
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/time.h"

namespace understudy::traffic {

struct HttpRequest {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string method = "GET";
  std::string target = "/";  // path and query
  std::string host_header;   // empty: host:port
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(10);
};

struct HttpResult {
  enum class Kind { kResponse, kConnectError, kTimeout, kOtherError };
  Kind kind = Kind::kResponse;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;   // for failures: what went wrong
  Duration latency{};  // real time
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();  // drops requests in flight without calling their callbacks
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void Send(HttpRequest request, std::function<void(HttpResult)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace understudy::traffic
