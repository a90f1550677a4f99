// Result: what a harness call answers — a value, or an Error with AWS's code and message
// (or the control API's, or a transport failure). Errors are values; nothing throws.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace understudy {

struct Error {
  std::string code;     // "ClusterNotFoundException", "WaitTimeout", "Transport", ...
  std::string message;  // what was wrong
  int status = 0;       // the HTTP status AWS (or the control API) answered; 0: no answer
  std::string ToString() const {
    std::string text = code.empty() ? std::string("Error") : code;
    if (status != 0) text += " (" + std::to_string(status) + ")";
    if (!message.empty()) text += ": " + message;
    return text;
  }
};

inline std::ostream& operator<<(std::ostream& out, const Error& error) {
  return out << error.ToString();
}

// A value of T or an Error. value() on an error (or error() on a value) is a bug.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(data_); }
  T& value() & { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(data_); }
  // The error's text, or "ok".
  std::string ToString() const { return ok() ? std::string("ok") : error().ToString(); }

 private:
  std::variant<T, Error> data_;
};

// A Result with no value: Done{} or an Error.
struct Done {};

}  // namespace understudy
