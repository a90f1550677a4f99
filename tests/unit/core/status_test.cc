// Status and Result, the JSON parse wrappers and the log level switch.
#include "core/status.h"

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/log.h"
#include "support/status_matchers.h"

namespace understudy {
namespace {

using ::understudy::testing::HasMessage;
using ::understudy::testing::IsOk;
using ::understudy::testing::IsOkAndHolds;
using ::understudy::testing::StatusIs;

// Proves OK is the default, and each factory sets its code and message and prints as
// "<Code>: <message>".
TEST(StatusTest, CodesAndToString) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_EQ(Status::InvalidArgument("m").ToString(), "InvalidArgument: m");
  EXPECT_EQ(Status::NotFound("m").ToString(), "NotFound: m");
  EXPECT_EQ(Status::AlreadyExists("m").ToString(), "AlreadyExists: m");
  EXPECT_EQ(Status::FailedPrecondition("m").ToString(), "FailedPrecondition: m");
  EXPECT_EQ(Status::DeadlineExceeded("m").ToString(), "DeadlineExceeded: m");
  EXPECT_EQ(Status::Unavailable("m").ToString(), "Unavailable: m");
  EXPECT_EQ(Status::Internal("m").ToString(), "Internal: m");
  EXPECT_EQ(Status::IoError("disk full").ToString(), "IoError: disk full");
  Status s = Status::NotFound("cluster web");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "cluster web");
}

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  US_ASSIGN_OR_RETURN(int half, Half(n));
  US_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int n) {
  US_RETURN_IF_ERROR(Half(n).status());
  return Status::Ok();
}

// Proves Result holds a value or an error, and the macros pass errors up unchanged.
TEST(StatusTest, ResultAndMacros) {
  EXPECT_THAT(Half(8), IsOkAndHolds(4));
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  Result<int> odd = Quarter(6);
  EXPECT_THAT(odd, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_THAT(CheckEven(4), IsOk());
  EXPECT_THAT(CheckEven(5), HasMessage("5 is odd"));

  Result<std::unique_ptr<int>> moved(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(moved).value();
  EXPECT_EQ(*p, 7);
}

// Proves ParseJson returns the value or InvalidArgument with the parser's position and reason.
TEST(JsonTest, ParseJson) {
  EXPECT_THAT(ParseJson(R"({"a": [1, 2]})"), IsOkAndHolds(Json{{"a", {1, 2}}}));
  auto bad = ParseJson("{\"a\": }");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(bad.status().message(),
            "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error while "
            "parsing value - unexpected '}'; expected '[', '{', or a literal");
  EXPECT_THAT(ParseJson("{} // note"), StatusIs(StatusCode::kInvalidArgument));
}

// Proves ParseJsonWithComments accepts // and /* */ comments.
TEST(JsonTest, ParseJsonWithComments) {
  EXPECT_THAT(ParseJsonWithComments("// scenario\n{\"seed\": /* fixed */ 42}\n"),
              IsOkAndHolds(Json{{"seed", 42}}));
}

// Proves log levels parse by name, unknown names are refused, and the level gates output.
TEST(LogTest, LevelsParseAndGate) {
  EXPECT_THAT(ParseLogLevel("error"), IsOkAndHolds(LogLevel::kError));
  EXPECT_THAT(ParseLogLevel("warn"), IsOkAndHolds(LogLevel::kWarn));
  EXPECT_THAT(ParseLogLevel("info"), IsOkAndHolds(LogLevel::kInfo));
  EXPECT_THAT(ParseLogLevel("debug"), IsOkAndHolds(LogLevel::kDebug));
  auto bad = ParseLogLevel("verbose");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(bad.status().message(),
            "unknown log level 'verbose'; expected error, warn, info or debug");

  SetLogLevel(LogLevel::kWarn);
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kWarn, "port 4566 in use");
  Log(LogLevel::kDebug, "hidden");
  std::string err = ::testing::internal::GetCapturedStderr();
  SetLogLevel(LogLevel::kInfo);
  EXPECT_EQ(err, "understudy: warn: port 4566 in use\n");
}

}  // namespace
}  // namespace understudy
