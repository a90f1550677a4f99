// Validate() against real model constraints, and the scalar conversions the codecs
// share (ScalarFromText, ScalarToText, NormalizeTree, base64).
#include "api/shape_values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "api_test_util.h"
#include "support/status_matchers.h"

namespace understudy::api {
namespace {

using ::understudy::testing::IsOk;
using ::understudy::testing::IsOkAndHolds;
using ::understudy::testing::StatusIs;

// --- Validate ---

struct ValidateCase {
  std::string name;
  std::string service;
  std::string operation;
  Json input;
  std::optional<std::string> message;  // nullopt: valid
};

void PrintTo(const ValidateCase& c, std::ostream* os) { *os << c.name; }

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<ValidateCase> ValidateCases() {
  const std::string prefix = "failed to satisfy constraint: ";
  std::vector<ValidateCase> cases;
  cases.push_back({"ValidInput", "ecs", "CreateCluster",
                   Json::parse(R"({"clusterName":"web","tags":[{"key":"a","value":""}],
                     "settings":[{"name":"containerInsights","value":"enabled"}]})"),
                   std::nullopt});
  cases.push_back({"RequiredMissing", "ecs", "DeleteCluster", Json::object(),
                   "1 validation error detected: Value null at 'cluster' failed to satisfy "
                   "constraint: Member must not be null"});
  cases.push_back({"RequiredMissingLogs", "logs", "CreateLogGroup", Json::object(),
                   "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
                   "constraint: Member must not be null"});
  cases.push_back({"RequiredInListElement", "elbv2", "RegisterTargets",
                   Json::parse(R"({"TargetGroupArn":"tg","Targets":[{"Id":"a"},{"Port":80}]})"),
                   "1 validation error detected: Value null at 'Targets.2.member.Id' failed to "
                   "satisfy constraint: Member must not be null"});
  cases.push_back({"StringTooShort", "logs", "CreateLogGroup", Json{{"logGroupName", ""}},
                   "1 validation error detected: Value '' at 'logGroupName' " + prefix +
                       "Member must have length greater than or equal to 1"});
  cases.push_back(
      {"StringTooLong", "logs", "CreateLogGroup", Json{{"logGroupName", std::string(513, 'a')}},
       "1 validation error detected: Value '" + std::string(513, 'a') + "' at 'logGroupName' " +
           prefix + "Member must have length less than or equal to 512"});
  // Length counts characters, not bytes: 512 two-byte characters fit in max 512.
  cases.push_back({"LengthCountsCharactersNotBytes", "logs", "CreateLogGroup",
                   Json{{"logGroupName", Repeat("\xC3\xA9", 512)}}, std::nullopt});
  // ...and characters outside the BMP count twice (UTF-16 units), as Java services count.
  cases.push_back({"AstralCharactersCountTwice", "ecs", "CreateCluster",
                   Json{{"tags", {{{"key", Repeat("\xF0\x9F\x98\x80", 65)}}}}},
                   "1 validation error detected: Value '" + Repeat("\xF0\x9F\x98\x80", 65) +
                       "' at 'tags.1.member.key' " + prefix +
                       "Member must have length less than or equal to 128"});
  cases.push_back({"EnumValue", "ecs", "CreateCluster",
                   Json::parse(R"({"settings":[{"name":"insights","value":"on"}]})"),
                   "1 validation error detected: Value 'insights' at 'settings.1.member.name' " +
                       prefix + "Member must satisfy enum value set: [containerInsights]"});
  cases.push_back({"EnumWithManyValues", "logs", "CreateLogGroup",
                   Json{{"logGroupName", "g"}, {"logGroupClass", "COLD"}},
                   "1 validation error detected: Value 'COLD' at 'logGroupClass' " + prefix +
                       "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, "
                       "DELIVERY]"});
  cases.push_back({"NumberBelowMin", "elbv2", "CreateTargetGroup",
                   Json{{"Name", "web"}, {"Port", 0}},
                   "1 validation error detected: Value '0' at 'Port' " + prefix +
                       "Member must have value greater than or equal to 1"});
  cases.push_back({"NumberAboveMax", "elbv2", "CreateTargetGroup",
                   Json{{"Name", "web"}, {"HealthCheckIntervalSeconds", 301}},
                   "1 validation error detected: Value '301' at 'HealthCheckIntervalSeconds' " +
                       prefix + "Member must have value less than or equal to 300"});
  cases.push_back({"NegativeLongBelowMin", "logs", "PutLogEvents",
                   Json::parse(R"({"logGroupName":"g","logStreamName":"s",
                     "logEvents":[{"timestamp":-1,"message":"m"}]})"),
                   "1 validation error detected: Value '-1' at 'logEvents.1.member.timestamp' " +
                       prefix + "Member must have value greater than or equal to 0"});
  cases.push_back({"ListTooShort", "cloudwatch", "GetMetricStatistics",
                   Json::parse(R"({"Namespace":"n","MetricName":"m","StartTime":0,"EndTime":60,
                     "Period":60,"Statistics":[]})"),
                   "1 validation error detected: Value '[]' at 'Statistics' " + prefix +
                       "Member must have length greater than or equal to 1"});
  cases.push_back({"ListTooLong", "cloudwatch", "GetMetricStatistics",
                   Json::parse(R"({"Namespace":"n","MetricName":"m","StartTime":0,"EndTime":60,
                     "Period":60,"Statistics":["Sum","Sum","Sum","Sum","Sum","Sum"]})"),
                   "1 validation error detected: Value "
                   R"('["Sum","Sum","Sum","Sum","Sum","Sum"]')"
                   " at 'Statistics' " +
                       prefix + "Member must have length less than or equal to 5"});
  cases.push_back({"MapTooSmall", "logs", "CreateLogGroup",
                   Json{{"logGroupName", "g"}, {"tags", Json::object()}},
                   "1 validation error detected: Value '{}' at 'tags' " + prefix +
                       "Member must have length greater than or equal to 1"});
  cases.push_back({"MapKeyConstraint", "logs", "CreateLogGroup",
                   Json{{"logGroupName", "g"}, {"tags", {{"", "v"}}}},
                   "1 validation error detected: Value '' at 'tags.key' " + prefix +
                       "Member must have length greater than or equal to 1"});
  cases.push_back({"MultipleErrorsJoinedWithSemicolons", "logs", "PutLogEvents", Json::object(),
                   "3 validation errors detected: "
                   "Value null at 'logEvents' failed to satisfy constraint: Member must not be "
                   "null; "
                   "Value null at 'logGroupName' failed to satisfy constraint: Member must not be "
                   "null; "
                   "Value null at 'logStreamName' failed to satisfy constraint: Member must not "
                   "be null"});
  cases.push_back({"MixedErrorKinds", "elbv2", "CreateTargetGroup",
                   Json{{"Port", 70000}, {"Protocol", "FTP"}},
                   "3 validation errors detected: "
                   "Value null at 'Name' failed to satisfy constraint: Member must not be null; "
                   "Value '70000' at 'Port' failed to satisfy constraint: Member must have value "
                   "less than or equal to 65535; "
                   "Value 'FTP' at 'Protocol' failed to satisfy constraint: Member must satisfy "
                   "enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, "
                   "TCP_QUIC]"});
  return cases;
}

class ValidateTest : public ::testing::TestWithParam<ValidateCase> {};

// Proves: Validate enforces required/length/enum/range and words every error exactly as AWS.
TEST_P(ValidateTest, MatchesAwsMessage) {
  const ValidateCase& c = GetParam();
  const Operation& op = test::OperationOf(c.service, c.operation);
  ASSERT_NE(op.input, nullptr);
  EXPECT_EQ(Validate(*op.input, c.input), c.message);
}

INSTANTIATE_TEST_SUITE_P(Models, ValidateTest, ::testing::ValuesIn(ValidateCases()),
                         [](const ::testing::TestParamInfo<ValidateCase>& info) {
                           return info.param.name;
                         });

// --- ScalarFromText ---

Shape ShapeOf(ShapeType type) {
  Shape shape;
  shape.name = ShapeTypeName(type);
  shape.type = type;
  return shape;
}

struct TextCase {
  std::string name;
  ShapeType type;
  std::string text;
  std::optional<Json> value;  // nullopt: rejected
  std::string message;        // when rejected
};

void PrintTo(const TextCase& c, std::ostream* os) { *os << c.name; }

std::vector<TextCase> TextCases() {
  return {
      {"String", ShapeType::kString, "a b", Json("a b"), ""},
      {"StringNotUtf8", ShapeType::kString, "a\xFF", std::nullopt, "expected UTF-8 text at 'p'"},
      {"Integer", ShapeType::kInteger, "-42", Json(-42), ""},
      {"IntegerFraction", ShapeType::kInteger, "4.0", std::nullopt,
       "expected an integer at 'p', found '4.0'"},
      {"IntegerExponent", ShapeType::kInteger, "1e3", std::nullopt,
       "expected an integer at 'p', found '1e3'"},
      {"IntegerHex", ShapeType::kInteger, "0x10", std::nullopt,
       "expected an integer at 'p', found '0x10'"},
      {"IntegerEmpty", ShapeType::kInteger, "", std::nullopt,
       "expected an integer at 'p', found ''"},
      {"IntegerLeadingSpace", ShapeType::kInteger, " 5", std::nullopt,
       "expected an integer at 'p', found ' 5'"},
      {"IntegerAbove32Bits", ShapeType::kInteger, "2147483648", std::nullopt,
       "expected an integer at 'p', found '2147483648'"},
      {"IntegerMin32Bits", ShapeType::kInteger, "-2147483648", Json(-2147483648LL), ""},
      {"LongMax", ShapeType::kLong, "9223372036854775807", Json(INT64_MAX), ""},
      {"LongOverflow", ShapeType::kLong, "9223372036854775808", std::nullopt,
       "expected an integer at 'p', found '9223372036854775808'"},
      {"Double", ShapeType::kDouble, "1.5", Json(1.5), ""},
      {"DoubleNaNText", ShapeType::kDouble, "NaN", Json("NaN"), ""},
      {"DoubleInfinityText", ShapeType::kFloat, "-Infinity", Json("-Infinity"), ""},
      {"DoubleGarbage", ShapeType::kDouble, "1.5x", std::nullopt,
       "expected a number at 'p', found '1.5x'"},
      {"DoubleLowercaseInf", ShapeType::kDouble, "inf", std::nullopt,
       "expected a number at 'p', found 'inf'"},
      {"BooleanTrue", ShapeType::kBoolean, "true", Json(true), ""},
      {"BooleanFalse", ShapeType::kBoolean, "false", Json(false), ""},
      {"BooleanUppercase", ShapeType::kBoolean, "TRUE", std::nullopt,
       "expected true or false at 'p', found 'TRUE'"},
      {"TimestampIso", ShapeType::kTimestamp, "2026-11-23T08:00:00Z", Json(1795420800.0), ""},
      {"TimestampIsoOffset", ShapeType::kTimestamp, "2026-11-23T10:00:00.250+02:00",
       Json(1795420800.25), ""},
      {"TimestampEpoch", ShapeType::kTimestamp, "1795420800.5", Json(1795420800.5), ""},
      {"TimestampHttpDate", ShapeType::kTimestamp, "Mon, 23 Nov 2026 08:00:00 GMT",
       Json(1795420800.0), ""},
      {"TimestampEpochOutOfRange", ShapeType::kTimestamp, "1e300", std::nullopt,
       "expected a timestamp between 0001-01-01 and 9999-12-31 at 'p'"},
      {"TimestampHttpDateBadHour", ShapeType::kTimestamp, "Mon, 23 Nov 2026 99:00:00 GMT",
       std::nullopt,
       "expected a timestamp (ISO-8601 or epoch seconds) at 'p', found 'Mon, 23 Nov 2026 "
       "99:00:00 GMT'"},
      {"TimestampGarbage", ShapeType::kTimestamp, "soon", std::nullopt,
       "expected a timestamp (ISO-8601 or epoch seconds) at 'p', found 'soon'"},
      {"Blob", ShapeType::kBlob, "aGk=", test::Binary("hi"), ""},
      {"BlobBad", ShapeType::kBlob, "a*b", std::nullopt,
       "expected base64 data at 'p', found 'a*b'"},
      {"StructureIsNotText", ShapeType::kStructure, "x", std::nullopt,
       "expected structure at 'p', found 'x'"},
  };
}

class ScalarFromTextTest : public ::testing::TestWithParam<TextCase> {};

// Proves: text values (query, labels, headers) are parsed strictly by the target shape's type.
TEST_P(ScalarFromTextTest, ParsesOrRejects) {
  const TextCase& c = GetParam();
  Result<Json> result = ScalarFromText(ShapeOf(c.type), c.text, "p");
  if (c.value) {
    EXPECT_THAT(result, IsOkAndHolds(*c.value));
  } else {
    EXPECT_THAT(result, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_EQ(result.status().message(), c.message);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ScalarFromTextTest, ::testing::ValuesIn(TextCases()),
                         [](const ::testing::TestParamInfo<TextCase>& info) {
                           return info.param.name;
                         });

// --- ScalarToText ---

// Proves: timestamps render as ISO-8601 (ms, Z), epoch seconds or RFC 822 on request.
TEST(ScalarToTextTest, TimestampFormats) {
  Shape ts = ShapeOf(ShapeType::kTimestamp);
  EXPECT_EQ(ScalarToText(ts, Json(1795420800.5)), "2026-11-23T08:00:00.500Z");
  EXPECT_EQ(ScalarToText(ts, Json(1795420800.0), "unixTimestamp"), "1795420800");
  EXPECT_EQ(ScalarToText(ts, Json(1795420800.5), "unixTimestamp"), "1795420800.5");
  EXPECT_EQ(ScalarToText(ts, Json(1795420800.9), "rfc822"), "Mon, 23 Nov 2026 08:00:00 GMT");
}

// Proves: other scalars render as the text the query protocols carry.
TEST(ScalarToTextTest, OtherScalars) {
  EXPECT_EQ(ScalarToText(ShapeOf(ShapeType::kString), Json("x<y")), "x<y");
  EXPECT_EQ(ScalarToText(ShapeOf(ShapeType::kBoolean), Json(false)), "false");
  EXPECT_EQ(ScalarToText(ShapeOf(ShapeType::kInteger), Json(-5)), "-5");
  EXPECT_EQ(ScalarToText(ShapeOf(ShapeType::kDouble), Json(0.25)), "0.25");
  EXPECT_EQ(ScalarToText(ShapeOf(ShapeType::kBlob), test::Binary("hi")), "aGk=");
}

// --- NormalizeTree ---

// Proves: integers beyond the shape's width (32-bit integer, 64-bit long) are refused.
TEST(NormalizeTreeTest, IntegerRanges) {
  Shape integer = ShapeOf(ShapeType::kInteger);
  Shape long_shape = ShapeOf(ShapeType::kLong);
  Json value = Json::parse("2147483647");
  EXPECT_THAT(NormalizeTree(integer, value, BlobEncoding::kBase64Text, "n"), IsOk());
  value = Json::parse("2147483648");
  EXPECT_EQ(NormalizeTree(integer, value, BlobEncoding::kBase64Text, "n").message(),
            "expected an integer at 'n', found number 2147483648");
  value = Json::parse("9223372036854775807");
  EXPECT_THAT(NormalizeTree(long_shape, value, BlobEncoding::kBase64Text, "n"), IsOk());
  value = Json::parse("18446744073709551615");
  EXPECT_EQ(NormalizeTree(long_shape, value, BlobEncoding::kBase64Text, "n").message(),
            "expected an integer at 'n', found number 18446744073709551615");
  value = Json::parse("1e300");
  EXPECT_EQ(NormalizeTree(long_shape, value, BlobEncoding::kBase64Text, "n").message(),
            "expected an integer at 'n', found number 1e+300");
  value = Json::parse("-3.0");
  EXPECT_THAT(NormalizeTree(long_shape, value, BlobEncoding::kBase64Text, "n"), IsOk());
  EXPECT_TRUE(value.is_number_integer());
  EXPECT_EQ(value, Json(-3));
}

// Proves: timestamps must be finite and in years 1-9999 (wider ones overflowed the formatter).
TEST(NormalizeTreeTest, TimestampRange) {
  Shape ts = ShapeOf(ShapeType::kTimestamp);
  const std::string message = "expected a timestamp between 0001-01-01 and 9999-12-31 at 't'";
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), 1e300, -4e128,
                     253402300800.0, -62135596801.0}) {
    Json value = bad;
    EXPECT_EQ(NormalizeTree(ts, value, BlobEncoding::kBinary, "t").message(), message) << bad;
  }
  for (double good : {-62135596800.0, 0.0, 253402300799.999}) {
    Json value = good;
    EXPECT_THAT(NormalizeTree(ts, value, BlobEncoding::kBinary, "t"), IsOk()) << good;
  }
  Json text = "10000-01-01T00:00:00Z";  // not ISO-8601 (5-digit year): rejected as text
  EXPECT_EQ(NormalizeTree(ts, text, BlobEncoding::kBase64Text, "t").message(),
            "expected a timestamp (ISO-8601 or epoch seconds) at 't', found "
            "'10000-01-01T00:00:00Z'");
}

// Proves: blobs are base64 text in JSON protocols but may be raw text in CBOR.
TEST(NormalizeTreeTest, BlobEncodings) {
  Shape blob = ShapeOf(ShapeType::kBlob);
  Json value = "aGk=";
  EXPECT_THAT(NormalizeTree(blob, value, BlobEncoding::kBase64Text, "b"), IsOk());
  EXPECT_EQ(value, test::Binary("hi"));
  value = "aGk=";
  EXPECT_THAT(NormalizeTree(blob, value, BlobEncoding::kBinary, "b"), IsOk());
  EXPECT_EQ(value, test::Binary("aGk="));
  value = 5;
  EXPECT_EQ(NormalizeTree(blob, value, BlobEncoding::kBinary, "b").message(),
            "expected a blob at 'b', found number 5");
}

// Proves: a container of the wrong kind is named by type only, never dumped into the message.
TEST(NormalizeTreeTest, ContainerTypeErrorsDoNotDumpTheValue) {
  Json value = Json::parse(R"({"clusterName":[[1,2],{"a":"b"}]})");
  const Operation& op = test::OperationOf("ecs", "CreateCluster");
  EXPECT_EQ(NormalizeTree(*op.input, value, BlobEncoding::kBase64Text, "").message(),
            "expected a string at 'clusterName', found array");
}

// --- Base64 ---

// Proves: base64 encoding follows RFC 4648's test vectors, with padding.
TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xFF\xFE", 2)), "//4=");
}

// Proves: base64 decoding takes both alphabets and line breaks, refusing junk and late data.
TEST(Base64Test, DecodesLeniently) {
  std::string out;
  EXPECT_TRUE(Base64Decode("Zm9vYmFy", &out));
  EXPECT_EQ(out, "foobar");
  EXPECT_TRUE(Base64Decode("Zm9v\r\nYg==", &out));
  EXPECT_EQ(out, "foob");
  EXPECT_TRUE(Base64Decode("_-4", &out));
  EXPECT_EQ(out, std::string("\xFF\xEE", 2));
  EXPECT_FALSE(Base64Decode("Zm9v!", &out));
  EXPECT_FALSE(Base64Decode("Zg==Zg", &out));
}

}  // namespace
}  // namespace understudy::api
