// Status and Result<T>: errors as values across component boundaries.
//
// A Status is either OK (cheap, no allocation) or a code with a message. A
// Result<T> holds a value or a non-OK Status. Exceptions from third-party
// libraries stop at the adapter that calls them and become a Status there.
// Any thread; values are not synchronised.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace understudy {

// A small, fixed set of codes. AWS error codes travel separately (api::ApiError);
// these classify failures inside the emulator.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller gave bad input; the message says what and what was expected
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the request is valid but the current state forbids it
  kDeadlineExceeded,
  kUnavailable,  // the OS or a peer could not do it now (port in use, engine down)
  kInternal,     // a bug or an unexpected OS failure
  kIoError,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK", or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error. REQUIRES: a Result is never built from an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace understudy

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define US_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::understudy::Status us_status_ = (expr); \
    if (!us_status_.ok()) return us_status_;  \
  } while (0)

#define US_CONCAT_INNER(a, b) a##b
#define US_CONCAT(a, b) US_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, or returns its Status from the enclosing function.
#define US_ASSIGN_OR_RETURN(lhs, expr) \
  US_ASSIGN_OR_RETURN_IMPL(US_CONCAT(us_result_, __LINE__), lhs, expr)
#define US_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
