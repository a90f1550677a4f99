#include "events/event_pattern.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy::events {
namespace {

using ::understudy::testing::IsOk;

struct MatchCase {
  const char* pattern;
  const char* event;
  bool expected;
};

void ExpectMatches(const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    auto pattern = EventPattern::Parse(c.pattern);
    ASSERT_THAT(pattern, IsOk()) << c.pattern;
    auto event = ParseJson(c.event);
    ASSERT_THAT(event, IsOk()) << c.event;
    EXPECT_EQ(pattern->Matches(*event), c.expected)
        << "pattern " << c.pattern << "\nevent   " << c.event;
  }
}

// Proves exact values (aws-semantics §4.3 "exact"): strings are case-sensitive,
// numbers compare numerically within the comparable range, true/false/null and ""
// match only themselves, and every named field must match.
TEST(EventPatternTest, ExactValues) {
  ExpectMatches({
      {R"({"source":["aws.ec2"]})", R"({"source":"aws.ec2"})", true},
      {R"({"source":["aws.ec2"]})", R"({"source":"aws.EC2"})", false},
      {R"({"source":["aws.ec2"]})", R"({"detail-type":"x"})", false},
      {R"({"source":["aws.ec2","aws.ecs"]})", R"({"source":"aws.ecs"})", true},
      {R"({"source":["aws.ec2"],"detail-type":["A"]})", R"({"source":"aws.ec2","detail-type":"A"})",
       true},
      {R"({"source":["aws.ec2"],"detail-type":["A"]})", R"({"source":"aws.ec2","detail-type":"B"})",
       false},
      {R"({"detail":{"n":[5]}})", R"({"detail":{"n":5}})", true},
      {R"({"detail":{"n":[5]}})", R"({"detail":{"n":5.0}})", true},
      {R"({"detail":{"n":[300]}})", R"({"detail":{"n":3.0e2}})", true},
      {R"({"detail":{"n":[5]}})", R"({"detail":{"n":"5"}})", false},
      {R"({"detail":{"n":["5"]}})", R"({"detail":{"n":5}})", false},
      {R"({"detail":{"n":[5]}})", R"({"detail":{"n":6}})", false},
      {R"({"detail":{"acct":[123456789012]}})", R"({"detail":{"acct":123456789012}})", true},
      {R"({"detail":{"big":[12345678901234567]}})", R"({"detail":{"big":12345678901234567}})",
       true},
      {R"({"detail":{"b":[true]}})", R"({"detail":{"b":true}})", true},
      {R"({"detail":{"b":[true]}})", R"({"detail":{"b":"true"}})", false},
      {R"({"detail":{"b":[false]}})", R"({"detail":{"b":true}})", false},
      {R"({"detail":{"z":[null]}})", R"({"detail":{"z":null}})", true},
      {R"({"detail":{"z":[null]}})", R"({"detail":{}})", false},
      {R"({"detail":{"z":[null]}})", R"({"detail":{"z":"null"}})", false},
      {R"({"detail":{"e":[""]}})", R"({"detail":{"e":""}})", true},
      {R"({"detail":{"e":[""]}})", R"({"detail":{"e":"x"}})", false},
      {R"({"detail":{"s":[{"exactly":"a*"}]}})", R"({"detail":{"s":"a*"}})", true},
      {R"({"detail":{"s":[{"exactly":"a*"}]}})", R"({"detail":{"s":"ab"}})", false},
      // Fields absent from the pattern are ignored; nested fields follow the event's shape.
      {R"({"detail":{"state":["running"]}})",
       R"({"source":"x","detail":{"state":"running","other":1}})", true},
      {R"({"detail":{"instance":{"state":["running"]}}})",
       R"({"detail":{"instance":{"state":"running"}}})", true},
      {R"({"detail":{"instance":{"state":["running"]}}})", R"({"detail":{"state":"running"}})",
       false},
      // An object-valued field is not a leaf value.
      {R"({"detail":["x"]})", R"({"detail":{"a":"x"}})", false},
      // An exact IP string matches the same address written another way.
      {R"({"detail":{"ip":["10.0.0.1"]}})", R"({"detail":{"ip":"10.0.0.1"}})", true},
      {R"({"detail":{"ip":["::1"]}})", R"({"detail":{"ip":"0:0:0:0:0:0:0:1"}})", true},
      {R"({"detail":{"ip":["10.0.0.1"]}})", R"({"detail":{"ip":"10.0.0.2"}})", false},
  });
}

// Proves arrays in events match when any element matches, and that matchers on
// fields of different elements of one event array never combine.
TEST(EventPatternTest, ArraysInEvents) {
  ExpectMatches({
      {R"({"resources":["arn:a"]})", R"({"resources":["arn:b","arn:a"]})", true},
      {R"({"resources":["arn:a"]})", R"({"resources":["arn:b","arn:c"]})", false},
      {R"({"resources":["arn:a"]})", R"({"resources":[]})", false},
      {R"({"d":{"n":[1]}})", R"({"d":{"n":[[0],[1]]}})", true},
      {R"({"d":{"items":{"name":["a"],"size":[1]}}})",
       R"({"d":{"items":[{"name":"a","size":1},{"name":"b","size":2}]}})", true},
      {R"({"d":{"items":{"name":["a"],"size":[2]}}})",
       R"({"d":{"items":[{"name":"a","size":1},{"name":"b","size":2}]}})", false},
      {R"({"d":{"items":{"name":["b"],"size":[2]}}})",
       R"({"d":{"items":[{"name":"a","size":1},{"name":"b","size":2}]}})", true},
      // Different arrays combine freely.
      {R"({"d":{"a":{"x":[1]},"b":{"y":[2]}}})", R"({"d":{"a":[{"x":1}],"b":[{"y":3},{"y":2}]}})",
       true},
      {R"({"d":{"tags":[{"anything-but":"a"}]}})", R"({"d":{"tags":["a","b"]}})", true},
      {R"({"d":{"tags":[{"anything-but":"a"}]}})", R"({"d":{"tags":["a"]}})", false},
  });
}

// Proves prefix, suffix, equals-ignore-case and their ignore-case forms match strings only.
TEST(EventPatternTest, PrefixSuffixIgnoreCase) {
  ExpectMatches({
      {R"({"r":[{"prefix":"us-"}]})", R"({"r":"us-east-1"})", true},
      {R"({"r":[{"prefix":"us-"}]})", R"({"r":"eu-west-1"})", false},
      {R"({"r":[{"prefix":"us-"}]})", R"({"r":"US-east-1"})", false},
      {R"({"r":[{"prefix":""}]})", R"({"r":"anything"})", true},
      {R"({"r":[{"prefix":"1"}]})", R"({"r":123})", false},
      {R"({"r":[{"prefix":{"equals-ignore-case":"EventB"}}]})", R"({"r":"eventbridge"})", true},
      {R"({"r":[{"prefix":{"equals-ignore-case":"EventB"}}]})", R"({"r":"event"})", false},
      {R"({"f":[{"suffix":".png"}]})", R"({"f":"cat.png"})", true},
      {R"({"f":[{"suffix":".png"}]})", R"({"f":"cat.PNG"})", false},
      {R"({"f":[{"suffix":".png"}]})", R"({"f":"cat.jpg"})", false},
      {R"({"f":[{"suffix":{"equals-ignore-case":".PNG"}}]})", R"({"f":"cat.png"})", true},
      {R"({"f":[{"suffix":{"equals-ignore-case":".PNG"}}]})", R"({"f":"png"})", false},
      {R"({"n":[{"equals-ignore-case":"alice"}]})", R"({"n":"ALICE"})", true},
      {R"({"n":[{"equals-ignore-case":"alice"}]})", R"({"n":"alicia"})", false},
      {R"({"n":[{"equals-ignore-case":"alice"}]})", R"({"n":["bob","AlIcE"]})", true},
      // Letters beyond ASCII fold too.
      {R"({"n":[{"equals-ignore-case":"müller"}]})", R"({"n":"MÜLLER"})", true},
      {R"({"n":[{"equals-ignore-case":"ΑΘΉΝΑ"}]})", R"({"n":"αθήνα"})", true},
      // Letter by letter, as event-ruler: a final sigma is not the capital sigma's
      // lower case.
      {R"({"n":[{"equals-ignore-case":"ΣΩΚΡΑΤΗΣ"}]})", R"({"n":"σωκρατησ"})", true},
      {R"({"n":[{"equals-ignore-case":"ΣΩΚΡΑΤΗΣ"}]})", R"({"n":"σωκρατης"})", false},
      {R"({"n":[{"equals-ignore-case":"Москва"}]})", R"({"n":"МОСКВА"})", true},
      {R"({"n":[{"equals-ignore-case":"Łódź"}]})", R"({"n":"łÓdŹ"})", true},
      {R"({"n":[{"equals-ignore-case":"müller"}]})", R"({"n":"MULLER"})", false},
      {R"({"r":[{"prefix":{"equals-ignore-case":"ÉCOLE"}}]})", R"({"r":"école-42"})", true},
      {R"({"f":[{"suffix":{"equals-ignore-case":"ÄRGER"}}]})", R"({"f":"großer ärger"})", true},
      {R"({"f":[{"suffix":{"equals-ignore-case":"ÄRGER"}}]})", R"({"f":"arger"})", false},
      {R"({"u":[{"anything-but":{"equals-ignore-case":["JOSÉ"]}}]})", R"({"u":"josé"})", false},
  });
}

// Proves wildcard: `*` is any run, `\*` a literal star, `\\` a backslash.
TEST(EventPatternTest, Wildcard) {
  ExpectMatches({
      {R"({"k":[{"wildcard":"dir/*.png"}]})", R"({"k":"dir/a/b.png"})", true},
      {R"({"k":[{"wildcard":"dir/*.png"}]})", R"({"k":"dir/.png"})", true},
      {R"({"k":[{"wildcard":"dir/*.png"}]})", R"({"k":"dir/a.jpg"})", false},
      {R"({"k":[{"wildcard":"*"}]})", R"({"k":""})", true},
      {R"({"k":[{"wildcard":"*"}]})", R"({"k":5})", false},
      {R"({"k":[{"wildcard":"a*b*c"}]})", R"({"k":"aXbYbZc"})", true},
      {R"({"k":[{"wildcard":"a*b*c"}]})", R"({"k":"aXbYbZ"})", false},
      {R"({"k":[{"wildcard":"a\\*"}]})", R"({"k":"a*"})", true},
      {R"({"k":[{"wildcard":"a\\*"}]})", R"({"k":"ab"})", false},
      {R"({"k":[{"wildcard":"a\\\\*"}]})", R"({"k":"a\\bc"})", true},
      {R"({"k":[{"wildcard":"exact"}]})", R"({"k":"exact"})", true},
      {R"({"k":[{"wildcard":"exact"}]})", R"({"k":"exactly"})", false},
  });
}

// Proves every anything-but form; a present field is required, and values of
// another type than the list's always pass.
TEST(EventPatternTest, AnythingBut) {
  ExpectMatches({
      {R"({"s":[{"anything-but":"x"}]})", R"({"s":"y"})", true},
      {R"({"s":[{"anything-but":"x"}]})", R"({"s":"x"})", false},
      {R"({"s":[{"anything-but":"x"}]})", R"({"t":"y"})", false},
      {R"({"s":[{"anything-but":"x"}]})", R"({"s":5})", true},
      {R"({"s":[{"anything-but":["a","b"]}]})", R"({"s":"b"})", false},
      {R"({"s":[{"anything-but":["a","b"]}]})", R"({"s":"c"})", true},
      {R"({"n":[{"anything-but":123}]})", R"({"n":123})", false},
      {R"({"n":[{"anything-but":123}]})", R"({"n":123.0})", false},
      {R"({"n":[{"anything-but":123}]})", R"({"n":124})", true},
      {R"({"n":[{"anything-but":[1,2]}]})", R"({"n":2})", false},
      {R"({"n":[{"anything-but":[1,2]}]})", R"({"n":3})", true},
      {R"({"n":[{"anything-but":[1,2]}]})", R"({"n":"1"})", true},
      {R"({"s":[{"anything-but":{"prefix":"init"}}]})", R"({"s":"initializing"})", false},
      {R"({"s":[{"anything-but":{"prefix":"init"}}]})", R"({"s":"running"})", true},
      {R"({"s":[{"anything-but":{"prefix":["a","b"]}}]})", R"({"s":"bx"})", false},
      {R"({"s":[{"anything-but":{"prefix":["a","b"]}}]})", R"({"s":"cx"})", true},
      {R"({"f":[{"anything-but":{"suffix":".txt"}}]})", R"({"f":"a.txt"})", false},
      {R"({"f":[{"anything-but":{"suffix":".txt"}}]})", R"({"f":"a.png"})", true},
      {R"({"u":[{"anything-but":{"equals-ignore-case":["Bob","Eve"]}}]})", R"({"u":"BOB"})", false},
      {R"({"u":[{"anything-but":{"equals-ignore-case":["Bob","Eve"]}}]})", R"({"u":"al"})", true},
      {R"({"p":[{"anything-but":{"wildcard":"*/bin/*.jar"}}]})", R"({"p":"/usr/bin/x.jar"})",
       false},
      {R"({"p":[{"anything-but":{"wildcard":"*/bin/*.jar"}}]})", R"({"p":"/usr/lib/x.jar"})", true},
      {R"({"p":[{"anything-but":{"wildcard":["a*","b*"]}}]})", R"({"p":"bz"})", false},
  });
}

// Proves numeric comparisons, closed and open ranges, and that only JSON numbers match.
TEST(EventPatternTest, Numeric) {
  ExpectMatches({
      {R"({"c":[{"numeric":[">",0,"<=",5]}]})", R"({"c":5})", true},
      {R"({"c":[{"numeric":[">",0,"<=",5]}]})", R"({"c":0})", false},
      {R"({"c":[{"numeric":[">",0,"<=",5]}]})", R"({"c":0.000001})", true},
      {R"({"c":[{"numeric":[">",0,"<=",5]}]})", R"({"c":5.000001})", false},
      {R"({"c":[{"numeric":[">",0,"<=",5]}]})", R"({"c":"3"})", false},
      {R"({"c":[{"numeric":[">=",0,"<",5]}]})", R"({"c":0})", true},
      {R"({"c":[{"numeric":[">=",0,"<",5]}]})", R"({"c":5})", false},
      {R"({"d":[{"numeric":["<",10]}]})", R"({"d":-1e3})", true},
      {R"({"d":[{"numeric":["<",10]}]})", R"({"d":10})", false},
      {R"({"d":[{"numeric":["<=",10]}]})", R"({"d":10})", true},
      {R"({"d":[{"numeric":[">=",10]}]})", R"({"d":10})", true},
      {R"({"d":[{"numeric":[">",10]}]})", R"({"d":10})", false},
      {R"({"x":[{"numeric":["=",3.018e2]}]})", R"({"x":301.8})", true},
      {R"({"x":[{"numeric":["=",3.018e2]}]})", R"({"x":301.80})", true},
      {R"({"x":[{"numeric":["=",3.018e2]}]})", R"({"x":301.9})", false},
      {R"({"x":[{"numeric":[">",0]}]})", R"({"x":[-1,2]})", true},
      {R"({"x":[{"numeric":[">",0]}]})", R"({"x":[-1,-2]})", false},
      // Too precise or too large to compare: never in range.
      {R"({"x":[{"numeric":[">",0]}]})", R"({"x":0.0000001})", false},
      {R"({"x":[{"numeric":[">",0]}]})", R"({"x":6e9})", false},
  });
}

// Proves exists: true needs a leaf value (null counts, objects do not); false
// needs the field to be absent.
TEST(EventPatternTest, Exists) {
  ExpectMatches({
      {R"({"d":{"c":[{"exists":true}]}})", R"({"d":{"c":"x"}})", true},
      {R"({"d":{"c":[{"exists":true}]}})", R"({"d":{"c":null}})", true},
      {R"({"d":{"c":[{"exists":true}]}})", R"({"d":{"c":{"x":1}}})", false},
      {R"({"d":{"c":[{"exists":true}]}})", R"({"d":{}})", false},
      {R"({"d":{"c":[{"exists":true}]}})", R"({"d":{"c":[]}})", false},
      {R"({"d":{"c":[{"exists":false}]}})", R"({"d":{}})", true},
      {R"({"d":{"c":[{"exists":false}]}})", R"({"e":1})", true},
      {R"({"d":{"c":[{"exists":false}]}})", R"({"d":{"c":"x"}})", false},
      {R"({"d":{"c":[{"exists":false}]}})", R"({"d":{"c":{"x":1}}})", true},
      {R"({"d":{"c":[{"exists":false}],"k":["v"]}})", R"({"d":{"k":"v"}})", true},
      {R"({"d":{"c":["a",{"exists":false}]}})", R"({"d":{"c":"a"}})", true},
      {R"({"d":{"c":["a",{"exists":false}]}})", R"({"d":{"c":"b"}})", false},
  });
}

// Proves cidr on IPv4 and IPv6 string values.
TEST(EventPatternTest, Cidr) {
  ExpectMatches({
      {R"({"ip":[{"cidr":"10.0.0.0/24"}]})", R"({"ip":"10.0.0.255"})", true},
      {R"({"ip":[{"cidr":"10.0.0.0/24"}]})", R"({"ip":"10.0.1.0"})", false},
      {R"({"ip":[{"cidr":"10.0.0.0/8"}]})", R"({"ip":"10.200.3.4"})", true},
      {R"({"ip":[{"cidr":"10.0.0.0/8"}]})", R"({"ip":"not an ip"})", false},
      {R"({"ip":[{"cidr":"10.0.0.0/8"}]})", R"({"ip":"::a00:1"})", false},
      {R"({"ip":[{"cidr":"2001:db8::/32"}]})", R"({"ip":"2001:db8:1::7"})", true},
      {R"({"ip":[{"cidr":"2001:db8::/32"}]})", R"({"ip":"2001:db9::"})", false},
      {R"({"ip":[{"cidr":"0.0.0.0/0"}]})", R"({"ip":"1.2.3.4"})", true},
  });
}

// Proves $or at the top level and nested, combined with AND'ed fields.
TEST(EventPatternTest, Or) {
  const char* pattern = R"({
    "source": ["aws.cloudwatch"],
    "$or": [
      {"metricName": ["CPUUtilization", "ReadLatency"]},
      {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
      {"scope": ["Service"]}
    ]
  })";
  ExpectMatches({
      {pattern, R"({"source":"aws.cloudwatch","metricName":"ReadLatency"})", true},
      {pattern, R"({"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES"})",
       true},
      {pattern, R"({"source":"aws.cloudwatch","metricType":"MetricType"})", false},
      {pattern, R"({"source":"aws.cloudwatch","scope":"Service"})", true},
      {pattern, R"({"source":"aws.other","scope":"Service"})", false},
      {R"({"detail":{"$or":[{"c":[{"numeric":[">",0,"<=",5]}]},{"d":[{"numeric":["<",10]}]}]}})",
       R"({"detail":{"c":7,"d":3}})", true},
      {R"({"detail":{"$or":[{"c":[{"numeric":[">",0,"<=",5]}]},{"d":[{"numeric":["<",10]}]}]}})",
       R"({"detail":{"c":7,"d":30}})", false},
      {R"({"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":["3"]}]}]})", R"({"c":"3"})", true},
      {R"({"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":["3"]}]}]})", R"({"d":"3"})", false},
  });
}

// Proves a repeated key in a pattern is overridden by the last one.
TEST(EventPatternTest, DuplicateKeyLastWins) {
  ExpectMatches({
      {R"({"a":["1"],"a":["2"]})", R"({"a":"2"})", true},
      {R"({"a":["1"],"a":["2"]})", R"({"a":"1"})", false},
  });
}

std::string Invalid(const std::string& reason, const std::string& source, int line, int column) {
  return "Event pattern is not valid. Reason: " + reason + "\n at [Source: (String)\"" + source +
         "\"; line: " + std::to_string(line) + ", column: " + std::to_string(column) + "]";
}

struct InvalidCase {
  std::string pattern;
  std::string message;
};

// Proves validation errors carry event-ruler's reasons and Jackson's position, as
// AWS returns them in InvalidEventPatternException (aws-semantics §4.2, §4.3). The
// first two are real AWS messages.
TEST(EventPatternTest, ValidationErrors) {
  auto at = [](const std::string& p, const std::string& reason, int column) {
    return InvalidCase{p, Invalid(reason, p, 1, column)};
  };
  const std::string multiline =
      "{\n  \"detail-type\": [ \"Build Started\", \"Build Finished\" ],\n  \"detail\": {\n"
      "    \"pipeline\": {\n      \"slug\": \"some-pipeline\"\n    }\n  }\n}";
  std::vector<InvalidCase> cases = {
      at(R"({"source": ["aws.health"], "detail": {}})", "Empty objects are not allowed", 40),
      {multiline, Invalid("\"slug\" must be an object or an array", multiline, 5, 16)},
      at(R"(["a"])", "Filter is not an object", 2),
      at(R"({"source": "aws.ec2"})", "\"source\" must be an object or an array", 13),
      at(R"({"source": 5})", "\"source\" must be an object or an array", 13),
      at(R"({})", "Empty objects are not allowed", 3),
      at(R"({"a": []})", "Empty arrays are not allowed", 9),
      at(R"({"a": [["x"]]})", "Match value must be String, number, true, false, or null", 9),
      at(R"({"a": [{}]})", "Match expression name not found", 10),
      at(R"({"a": [{"foo": "x"}]})", "Unrecognized match type foo", 17),
      at(R"({"a": [{"prefix": 5}]})", "prefix match pattern must be a string", 20),
      at(R"({"a": [{"suffix": ["x"]}]})", "suffix match pattern must be a string", 20),
      at(R"({"a": [{"prefix": "x", "suffix": "y"}]})", "Only one key allowed in match expression",
         35),
      at(R"({"a": [{"prefix": {"foo": "x"}}]})", "Unsupported prefix pattern: foo", 28),
      at(R"({"a": [{"suffix": {"equals-ignore-case": 1}}]})",
         "equals-ignore-case match pattern must be a string", 43),
      at(R"({"a": [{"equals-ignore-case": 1}]})",
         "equals-ignore-case match pattern must be a string", 32),
      at(R"({"a": [{"exists": "yes"}]})", "exists match pattern must be either true or false.", 20),
      at(R"({"a": [{"numeric": 5}]})", "Value of numeric must be an array.", 21),
      at(R"({"a": [{"numeric": [5]}]})", "Invalid member in numeric match: 5", 22),
      at(R"({"a": [{"numeric": ["=", "5"]}]})", "Value of equals must be numeric", 27),
      at(R"({"a": [{"numeric": [">", "x"]}]})", "Value of > must be numeric", 27),
      at(R"({"a": [{"numeric": ["~", 1]}]})", "Unrecognized numeric range operator: ~", 27),
      at(R"({"a": [{"numeric": [">", 5, "<", 1]}]})", "Bottom must be less than top", 36),
      at(R"({"a": [{"numeric": [">", 5, "=", 9]}]})", "Bad numeric range operator: =", 32),
      at(R"({"a": [{"numeric": [">", 5, 6]}]})", "Bad value in numeric range: 6", 30),
      at(R"({"a": [{"numeric": ["<", 5, 6]}]})", "Too many elements in numeric expression", 30),
      at(R"({"a": [{"numeric": [">", 5, "<", 9, 1]}]})",
         "Too many terms in numeric range expression", 38),
      at(R"({"a": [{"numeric": [">", 6e9]}]})", "Value must be between -5.0E9 and 5.0E9, inclusive",
         30),
      at(R"({"a": [{"numeric": ["=", 0.0000001]}]})", "Only values upto 6 decimals are supported",
         36),
      at(R"({"a": [{"anything-but": null}]})",
         "Value of anything-but must be an array or single string/number value.", 29),
      at(R"({"a": [{"anything-but": ["x", 1]}]})",
         "Inside anything but list, either all values are number or string, mixed type is not "
         "supported",
         33),
      at(R"({"a": [{"anything-but": [true]}]})",
         "Inside anything but list, start|null|boolean is not supported.", 30),
      at(R"({"a": [{"anything-but": {"foo": "x"}}]})", "Unsupported anything-but pattern: foo", 34),
      at(R"({"a": [{"anything-but": {"prefix": ""}}]})", "Null prefix/suffix not allowed", 38),
      at(R"({"a": [{"anything-but": {"prefix": 1}}]})",
         "prefix/suffix match pattern must be a string", 37),
      at(R"({"a": [{"anything-but": {"equals-ignore-case": [1]}}]})",
         "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
         "supported.",
         50),
      at(R"({"a": [{"wildcard": "a**"}]})", "Consecutive wildcard characters at pos 2", 26),
      at(R"({"a": [{"wildcard": "a\\b"}]})", "Invalid escape character at pos 2", 27),
      at(R"({"a": [{"wildcard": 1}]})", "wildcard match pattern must be a string", 22),
      at(R"({"$or": {"a": ["1"]}})", "It must be an Array followed with $or.", 10),
      at(R"({"$or": [{"a": ["1"]}]})", "There must have at least 2 Objects in $or relationship.",
         23),
      at(R"({"$or": [{"a": ["1"]}, "b"]})",
         "Only JSON object is allowed in array of $or relationship.", 25),
      at(R"({"$or": [{"a": ["1"]}, {"prefix": ["b"]}]})",
         "prefix is Ruler reserved fieldName which cannot be used inside $or.", 36),
      // An unfinished string value is reported as the wrong kind before it is read.
      at(R"({"a": "b)", "\"a\" must be an object or an array", 8),
      at(R"({"a": ["b)", "Unexpected end-of-input: was expecting closing quote for a string value",
         10),
  };
  for (const InvalidCase& c : cases) {
    auto pattern = EventPattern::Parse(c.pattern);
    ASSERT_FALSE(pattern.ok()) << c.pattern;
    EXPECT_EQ(pattern.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(pattern.status().message(), c.message) << c.pattern;
  }
}

// Proves cidr errors carry event-ruler's reason without a position (they arise
// outside its JSON parser).
TEST(EventPatternTest, CidrErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"10.0.0.0", "Malformed CIDR, one '/' required"},
      {"10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"},
      {"10.0.0.0/-1", "Malformed CIDR, mask bits must not be negative"},
      {"10.0.0.0/32", "IPv4 mask bits must be < 32"},
      {"::/128", "IPv6 mask bits must be < 128"},
      {"host/8", "Nonstandard IP address: host"},
      {"300.0.0.0/8", "Invalid IP address: 300.0.0.0"},
  };
  for (const auto& [cidr, reason] : cases) {
    auto pattern = EventPattern::Parse(R"({"ip":[{"cidr":")" + cidr + R"("}]})");
    ASSERT_FALSE(pattern.ok()) << cidr;
    EXPECT_EQ(pattern.status().message(), "Event pattern is not valid. Reason: " + reason);
  }
}

// Proves a long pattern is cut to 500 characters in the error, as Jackson does.
TEST(EventPatternTest, LongSourceIsTruncated) {
  std::string p = R"({"a": [)" + std::string(600, ' ') + "]}";
  auto pattern = EventPattern::Parse(p);
  ASSERT_FALSE(pattern.ok());
  EXPECT_EQ(pattern.status().message(),
            "Event pattern is not valid. Reason: Empty arrays are not allowed\n at [Source: "
            "(String)\"" +
                p.substr(0, 500) + "\"[truncated 109 chars]; line: 1, column: 609]");
}

// Proves MatchesText reads event text and RequiredExactStrings reports the index keys.
TEST(EventPatternTest, TextAndIndexKeys) {
  auto p = EventPattern::Parse(R"({"source":["b","a"],"$or":[{"x":["1"]},{"y":["2"]}]})");
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(p->MatchesText(R"({"source":"a","y":"2"})"),
              ::understudy::testing::IsOkAndHolds(true));
  EXPECT_FALSE(p->MatchesText("{nope").ok());
  EXPECT_EQ(p->RequiredExactStrings("source"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(p->RequiredExactStrings("detail-type").empty());
  auto q = EventPattern::Parse(R"({"source":[{"prefix":"a"}]})");
  ASSERT_THAT(q, IsOk());
  EXPECT_TRUE(q->RequiredExactStrings("source").empty());
}

// Proves the many-pattern matcher agrees with matching one pattern at a time,
// returns ids in order, and honours Add (replace) and Remove.
TEST(PatternMatcherTest, AgreesWithSinglePatterns) {
  PatternMatcher m;
  auto add = [&](const std::string& id, const char* text) {
    auto p = EventPattern::Parse(text);
    ASSERT_THAT(p, IsOk()) << text;
    m.Add(id, *p);
  };
  add("r3", R"({"source":["a"]})");
  add("r1", R"({"source":["a","b"],"detail-type":["T"]})");
  add("r2", R"({"detail-type":["T"]})");
  add("r4", R"({"detail":{"x":[{"numeric":[">",1]}]}})");
  add("r5", R"({"source":[{"prefix":"a"}]})");
  EXPECT_EQ(m.size(), 5u);
  auto ev = [](const char* text) { return ParseJson(text).value(); };
  EXPECT_EQ(m.Match(ev(R"({"source":"a","detail-type":"T","detail":{"x":2}})")),
            (std::vector<std::string>{"r1", "r2", "r3", "r4", "r5"}));
  EXPECT_EQ(m.Match(ev(R"({"source":"b","detail-type":"U","detail":{}})")),
            (std::vector<std::string>{}));
  EXPECT_EQ(m.Match(ev(R"({"source":["z","b"],"detail-type":"T"})")),
            (std::vector<std::string>{"r1", "r2"}));
  add("r3", R"({"source":["b"]})");  // replaces
  EXPECT_EQ(m.Match(ev(R"({"source":"b"})")), (std::vector<std::string>{"r3"}));
  EXPECT_TRUE(m.Remove("r3"));
  EXPECT_FALSE(m.Remove("r3"));
  EXPECT_EQ(m.Match(ev(R"({"source":"b"})")), (std::vector<std::string>{}));
  EXPECT_EQ(m.size(), 4u);
  m.Clear();
  EXPECT_EQ(m.size(), 0u);
}

// Proves keys with dots collide with nesting, as event-ruler names both "a.b".
TEST(EventPatternTest, DottedKeysCollideWithNesting) {
  ExpectMatches({
      {R"({"a.b":["x"]})", R"({"a":{"b":"x"}})", true},
      {R"({"a":{"b":["x"]}})", R"({"a.b":"x"})", true},
      {R"({"a":{"b":{"c":["x"]}}})", R"({"a":{"b.c":"x"}})", true},
      {R"({"a":{"b":["x"]}})", R"({"a.b":"y"})", false},
  });
}

// Proves the many-pattern matcher returns exactly what matching each pattern alone
// returns, over patterns whose index key does not decide the match ($or with
// different sources, sources in arrays, absent fields, arrays of objects).
TEST(PatternMatcherTest, AgreesOnMixedShapes) {
  const std::vector<const char*> patterns = {
      R"({"source":["a"],"detail":{"n":[1]}})",
      R"({"$or":[{"source":["a"],"detail":{"n":[1]}},{"source":["b"]}]})",
      R"({"source":["a","b"],"detail":{"items":{"k":["x"],"v":[2]}}})",
      R"({"detail-type":["T"],"detail":{"gone":[{"exists":false}]}})",
      R"({"source":[{"anything-but":"a"}]})",
      R"({"detail":{"n":[{"numeric":[">=",1]}]}})",
      R"({"source":["10.0.0.1"]})",
  };
  const std::vector<const char*> events = {
      R"({"source":"a","detail":{"n":1}})",
      R"({"source":"a","detail":{"n":2}})",
      R"({"source":"b","detail":{"n":2}})",
      R"({"source":["a","b"],"detail":{"n":2}})",
      R"({"source":"b","detail":{"items":[{"k":"x","v":1},{"k":"y","v":2}]}})",
      R"({"source":"a","detail":{"items":[{"k":"x","v":2}]}})",
      R"({"detail-type":"T","detail":{}})",
      R"({"detail-type":"T","detail":{"gone":1}})",
      R"({"source":"10.0.0.1"})",
      R"({"source":"c"})",
      R"([1,2])",
  };
  PatternMatcher m;
  std::vector<EventPattern> parsed;
  for (size_t i = 0; i < patterns.size(); ++i) {
    auto p = EventPattern::Parse(patterns[i]);
    ASSERT_THAT(p, IsOk()) << patterns[i];
    m.Add("p" + std::to_string(i), *p);
    parsed.push_back(*p);
  }
  for (const char* text : events) {
    Json event = ParseJson(text).value();
    std::vector<std::string> expected;
    for (size_t i = 0; i < parsed.size(); ++i) {
      if (parsed[i].Matches(event)) expected.push_back("p" + std::to_string(i));
    }
    EXPECT_EQ(m.Match(event), expected) << text;
  }
  // Spot checks that the single-pattern answers are themselves right.
  EXPECT_EQ(m.Match(ParseJson(R"({"source":"b","detail":{"n":2}})").value()),
            (std::vector<std::string>{"p1", "p4", "p5"}));
  EXPECT_EQ(m.Match(ParseJson(R"({"source":"a","detail":{"n":2}})").value()),
            (std::vector<std::string>{"p5"}));
  EXPECT_EQ(m.Match(ParseJson(R"({"source":"10.0.0.1"})").value()),
            (std::vector<std::string>{"p4", "p6"}));
}

// Proves malformed input never crashes the parser or the matcher: every truncation
// and many byte changes of valid patterns either parse or fail with AWS's prefix.
TEST(EventPatternTest, SurvivesMutations) {
  const std::vector<std::string> seeds = {
      R"({"source":["a"],"detail":{"n":[{"numeric":[">",0,"<=",5]}],"s":[{"prefix":"x"}]}})",
      R"({"$or":[{"a":[{"anything-but":{"wildcard":["a*","b\\*"]}}]},{"b":[{"cidr":"10.0.0.0/8"}]}]})",
      R"({"a":[{"suffix":{"equals-ignore-case":"X"}},{"exists":false},null,true,1.5e3,"::1"]})",
  };
  const Json event =
      ParseJson(R"({"source":"a","a":"abc","b":"10.1.2.3","detail":{"n":3,"s":"xy"}})").value();
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  const std::string alphabet = "{}[]\":,.-+eE0123456789 \\/*?#$abcxyz\x01\xc3\xa9";
  int parsed = 0;
  for (const std::string& seed : seeds) {
    std::vector<std::string> inputs;
    for (size_t n = 0; n <= seed.size(); ++n) inputs.push_back(seed.substr(0, n));
    for (int k = 0; k < 3000; ++k) {
      std::string m = seed;
      const int edits = 1 + static_cast<int>(next() % 3);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        const size_t at = next() % m.size();
        const char c = alphabet[next() % alphabet.size()];
        switch (next() % 3) {
          case 0:
            m[at] = c;
            break;
          case 1:
            m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
          default:
            m.erase(at, 1);
            break;
        }
      }
      inputs.push_back(std::move(m));
    }
    for (const std::string& input : inputs) {
      auto p = EventPattern::Parse(input);
      if (p.ok()) {
        ++parsed;
        (void)p->Matches(event);
      } else {
        EXPECT_EQ(p.status().message().rfind("Event pattern is not valid. Reason: ", 0), 0u)
            << input;
      }
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace understudy::events
