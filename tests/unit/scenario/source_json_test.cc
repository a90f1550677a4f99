// SourceJson: positions of values and syntax errors with line and column.
#include "scenario/source_json.h"

#include <gtest/gtest.h>

namespace understudy::scenario {
namespace {

TEST(SourceJsonTest, KeepsPositionsOfValues) {
  auto parsed = ParseSourceJson(
      "{\n  // a comment\n  \"steps\": [\n    {\"advance\": \"90s\"},\n    /* two */ {\"a b\": "
      "1}\n  ]\n}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->value["steps"][0]["advance"], "90s");
  LineColumn at = parsed->PositionOf("steps[0].advance");
  EXPECT_EQ(at.line, 4u);
  EXPECT_EQ(at.column, 17u);
  EXPECT_EQ(parsed->PositionOf("steps[1][\"a b\"]").line, 5u);
  EXPECT_EQ(parsed->PositionOf("steps[1]").column, 15u);
  // A path without a value falls back to its closest ancestor.
  EXPECT_EQ(parsed->PositionOf("steps[0].nothing.here").line, 4u);
  EXPECT_EQ(parsed->PositionOf("").line, 1u);
}

TEST(SourceJsonTest, SyntaxErrorsNameLineAndColumn) {
  auto missing_comma = ParseSourceJson("{\n  \"a\": 1\n  \"b\": 2\n}");
  ASSERT_FALSE(missing_comma.ok());
  EXPECT_EQ(missing_comma.status().message(),
            "line 3, column 3: found '\"'; expected ',' or '}' after an object member");
  auto bare = ParseSourceJson("[1, 2,\n oops]");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().message(),
            "line 2, column 2: found 'oops'; expected a JSON value (object, array, string, "
            "number, true, false or null)");
  auto open_comment = ParseSourceJson("{} /* never closed");
  ASSERT_FALSE(open_comment.ok());
  EXPECT_EQ(open_comment.status().message(),
            "line 1, column 4: found a comment that is never closed; expected '*/'");
  auto duplicate = ParseSourceJson("{\"a\": 1,\n \"a\": 2}");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().message(),
            "line 2, column 2: found a second member named \"a\"; expected each member name once");
  EXPECT_FALSE(ParseSourceJson("").ok());
  EXPECT_FALSE(ParseSourceJson("{} {}").ok());
  EXPECT_FALSE(ParseSourceJson("\"unterminated").ok());
}

TEST(SourceJsonTest, DecodesStringsAndNumbers) {
  auto parsed = ParseSourceJson(
      R"({"s": "a\"b\u00e9\n", "n": -1.5e2, "i": 18446744073709551615, "t": true, "z": null})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->value["s"], "a\"b\xc3\xa9\n");
  EXPECT_EQ(parsed->value["n"], -150.0);
  EXPECT_TRUE(parsed->value["i"].is_number_unsigned());
  EXPECT_EQ(parsed->value["t"], true);
  EXPECT_TRUE(parsed->value["z"].is_null());
}

TEST(SourceJsonTest, JoinPath) {
  EXPECT_EQ(JoinPath("", "steps"), "steps");
  EXPECT_EQ(JoinPath("steps", 2), "steps[2]");
  EXPECT_EQ(JoinPath("steps[2]", "call"), "steps[2].call");
  EXPECT_EQ(JoinPath("input", "a b"), "input[\"a b\"]");
}

}  // namespace
}  // namespace understudy::scenario
