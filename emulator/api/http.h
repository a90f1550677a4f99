// HTTP request and response values exchanged between the server and the front door.
//
// Plain data with case-insensitive header lookup and the query string already
// split and percent-decoded. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace understudy::api {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;    // "GET", "POST", ...
  std::string target;    // as received: path and query
  std::string path;      // percent-decoded path
  std::string raw_path;  // path as received (labels are decoded one by one)
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderList headers;
  std::string body;
  std::string remote_address;
  // Set by the server when the body was over its limit; `body` is then empty.
  bool body_too_large = false;
  size_t body_limit = 0;

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The first query parameter named `name` (case-sensitive), or nullptr.
  const std::string* QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;

  void SetHeader(std::string name, std::string value);
  const std::string* Header(std::string_view name) const;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Percent-decodes `text` ("+" as space when `plus_is_space`); false on a bad escape.
bool PercentDecode(std::string_view text, bool plus_is_space, std::string* out);
// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view text);
// Splits "a=1&b=2" into decoded pairs; false on a bad escape.
bool ParseFormEncoded(std::string_view text, std::vector<std::pair<std::string, std::string>>* out);
// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace understudy::api
