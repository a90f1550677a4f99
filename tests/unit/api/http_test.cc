// HTTP value helpers (percent-coding, forms, UTF-8, headers), XML escaping and SigV4
// credential-scope parsing.
#include "api/http.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "api/front_door.h"
#include "api/xml_writer.h"
#include "api_test_util.h"

namespace understudy::api {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Proves: percent-decoding handles escapes in either case and "+" only in forms.
TEST(PercentDecodeTest, DecodesEscapes) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%20b+c%2fd%2F", true, &out));
  EXPECT_EQ(out, "a b c/d/");
  EXPECT_TRUE(PercentDecode("a+b", false, &out));
  EXPECT_EQ(out, "a+b");
  EXPECT_TRUE(PercentDecode("%00", false, &out));
  EXPECT_EQ(out, std::string(1, '\0'));
}

// Proves: truncated or non-hex escapes are refused rather than passed through.
TEST(PercentDecodeTest, RejectsBadEscapes) {
  std::string out;
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("ab%2", false, &out));
  EXPECT_FALSE(PercentDecode("%zz", false, &out));
  EXPECT_FALSE(PercentDecode("%g0", false, &out));
}

// Proves: encoding leaves only RFC 3986 unreserved characters bare, with upper-case hex.
TEST(PercentEncodeTest, EncodesReserved) {
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode("a b/c@d+"), "a%20b%2Fc%40d%2B");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
}

// Proves: forms split on & and the first =, keep empty values and skip empty pairs.
TEST(ParseFormEncodedTest, SplitsPairs) {
  Pairs pairs;
  ASSERT_TRUE(ParseFormEncoded("a=1&b=&c&&d=x%3Dy=z&e+f=g+h", &pairs));
  EXPECT_EQ(pairs, (Pairs{{"a", "1"}, {"b", ""}, {"c", ""}, {"d", "x=y=z"}, {"e f", "g h"}}));
}

// Proves: one bad escape makes the whole form malformed.
TEST(ParseFormEncodedTest, RejectsBadEscape) {
  Pairs pairs;
  EXPECT_FALSE(ParseFormEncoded("a=1&b=%4", &pairs));
  EXPECT_FALSE(ParseFormEncoded("a%zz=1", &pairs));
}

// Proves: UTF-8 validation refuses overlongs, surrogates, > U+10FFFF, stray and cut sequences.
TEST(IsValidUtf8Test, Classifies) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

// Proves: header lookup ignores case and SetHeader replaces rather than duplicates.
TEST(HttpHeadersTest, CaseInsensitive) {
  HttpRequest request;
  request.headers = {{"Content-Type", "a"}, {"content-type", "b"}};
  ASSERT_NE(request.Header("CONTENT-TYPE"), nullptr);
  EXPECT_EQ(*request.Header("CONTENT-TYPE"), "a");
  EXPECT_EQ(request.Header("X-Missing"), nullptr);
  HttpResponse response;
  response.SetHeader("X-Amzn-RequestId", "1");
  response.SetHeader("x-amzn-requestid", "2");
  EXPECT_EQ(response.headers, (HeaderList{{"X-Amzn-RequestId", "2"}}));
}

// Proves: query parameters are matched case-sensitively, first one wins.
TEST(HttpHeadersTest, QueryParamIsCaseSensitive) {
  HttpRequest request = test::MakeRequest("GET", "/?Action=A&action=b&Action=C");
  ASSERT_NE(request.QueryParam("Action"), nullptr);
  EXPECT_EQ(*request.QueryParam("Action"), "A");
  EXPECT_EQ(*request.QueryParam("action"), "b");
}

// Proves: XML text escaping covers markup characters and drops what XML 1.0 cannot carry.
TEST(XmlWriterTest, EscapesAndDropsControlCharacters) {
  EXPECT_EQ(XmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  EXPECT_EQ(XmlEscape(std::string("a\x01\x1F\tb\nc\rd", 10)), "a\tb\nc&#xD;d");
}

// Proves: the writer nests elements and escapes the namespace attribute.
TEST(XmlWriterTest, BuildsDocument) {
  XmlWriter xml;
  xml.Open("Root", "urn:a&b");
  xml.Element("Child", "1 < 2");
  xml.Close("Root");
  EXPECT_EQ(xml.str(),
            R"(<?xml version="1.0" encoding="UTF-8"?><Root xmlns="urn:a&amp;b"><Child>1 &lt; 2)"
            "</Child></Root>");
}

// Proves: the credential scope is read from the Authorization header.
TEST(CredentialScopeTest, FromAuthorizationHeader) {
  HttpRequest request = test::MakeRequest(
      "POST", "/",
      {{"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-1/elasticloadbalancing/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"}});
  auto scope = ParseCredentialScope(request);
  ASSERT_TRUE(scope.has_value());
  EXPECT_EQ(scope->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(scope->date, "20261123");
  EXPECT_EQ(scope->region, "eu-west-1");
  EXPECT_EQ(scope->service, "elasticloadbalancing");
}

// Proves: presigned URLs carry the scope in X-Amz-Credential.
TEST(CredentialScopeTest, FromPresignedQuery) {
  HttpRequest request = test::MakeRequest(
      "GET", "/?X-Amz-Credential=123456789012%2F20261123%2Fap-south-1%2Fses%2Faws4_request");
  auto scope = ParseCredentialScope(request);
  ASSERT_TRUE(scope.has_value());
  EXPECT_EQ(scope->access_key_id, "123456789012");
  EXPECT_EQ(scope->region, "ap-south-1");
  EXPECT_EQ(scope->service, "ses");
}

// Proves: malformed credentials give no scope rather than a half-parsed one.
TEST(CredentialScopeTest, MalformedGivesNothing) {
  EXPECT_FALSE(ParseCredentialScope(test::MakeRequest("POST", "/")).has_value());
  EXPECT_FALSE(
      ParseCredentialScope(test::MakeRequest("POST", "/", {{"Authorization", "Bearer token"}}))
          .has_value());
  EXPECT_FALSE(ParseCredentialScope(
                   test::MakeRequest("POST", "/",
                                     {{"Authorization",
                                       "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecs, "
                                       "SignedHeaders=host, Signature=x"}}))
                   .has_value());
  EXPECT_FALSE(ParseCredentialScope(
                   test::MakeRequest("POST", "/",
                                     {{"Authorization",
                                       "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ecs/"
                                       "aws4_request/extra"}}))
                   .has_value());
}

}  // namespace
}  // namespace understudy::api
