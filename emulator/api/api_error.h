// ApiError and ApiResult: what an operation returns, in AWS's terms.
//
// An ApiError carries the wire error code (what botocore reads, e.g.
// "ClusterNotFoundException", "TargetGroupNotFound"), the message and the HTTP
// status; codecs render it in their protocol's error shape. Any thread.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "core/json.h"

namespace understudy::api {

struct ApiError {
  std::string code;
  std::string message;
  int http_status = 400;
  bool sender_fault = true;  // "Sender" vs "Receiver" in query error documents

  static ApiError Client(std::string code, std::string message, int status = 400) {
    return ApiError{std::move(code), std::move(message), status, true};
  }
  static ApiError Server(std::string code, std::string message, int status = 500) {
    return ApiError{std::move(code), std::move(message), status, false};
  }
};

// An operation's output (JSON in the output shape's canonical form) or an error.
class ApiResult {
 public:
  ApiResult(Json output) : value_(std::move(output)) {}    // NOLINT: implicit by design
  ApiResult(ApiError error) : value_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<Json>(value_); }
  const Json& output() const { return std::get<Json>(value_); }
  Json& output() { return std::get<Json>(value_); }
  const ApiError& error() const { return std::get<ApiError>(value_); }

 private:
  std::variant<Json, ApiError> value_;
};

}  // namespace understudy::api

// Returns a ServerException ApiError from the enclosing function when a Status
// (a store failure, say) is not OK.
#define US_RETURN_IF_ERROR_API(expr)                                                       \
  do {                                                                                     \
    ::understudy::Status us_status_ = (expr);                                              \
    if (!us_status_.ok()) {                                                                \
      return ::understudy::api::ApiError::Server("ServerException", us_status_.message()); \
    }                                                                                      \
  } while (0)
