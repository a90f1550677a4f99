// GoogleTest matchers for Status and Result<T>: IsOk(), IsOkAndHolds(v),
// StatusIs(code), HasMessage(substring).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status.h"

namespace understudy::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  static const Status kOk;
  return r.ok() ? kOk : r.status();
}

MATCHER(IsOk, "is OK") {
  const Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(IsOkAndHolds, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(::testing::Eq(expected), arg.value(), result_listener);
}

MATCHER_P(StatusIs, code, std::string("has code ") + StatusCodeName(code)) {
  const Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P(HasMessage, substring, "has a message containing \"" + std::string(substring) + "\"") {
  const Status& s = GetStatus(arg);
  *result_listener << "message is \"" << s.message() << "\"";
  return s.message().find(substring) != std::string::npos;
}

}  // namespace understudy::testing
