// Http: the harness's one HTTP client (libcurl), used for the control API, AWS calls
// through it, and traffic. One HttpClient per thread; it keeps its connection alive.
#pragma once

#include <map>
#include <string>

namespace understudy::harness_internal {

struct HttpResponse {
  int status = 0;         // 0: no response
  std::string transport;  // why there was no response (curl's text)
  std::string body;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `method` GET, POST or DELETE; `url` absolute; `timeout_ms` 0: none.
  HttpResponse Request(const std::string& method, const std::string& url,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {}, long timeout_ms = 0);

 private:
  void* curl_;
};

// "a b&c" -> "a%20b%26c".
std::string UrlEncode(const std::string& text);

}  // namespace understudy::harness_internal
