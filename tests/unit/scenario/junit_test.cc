// JUnit XML: one testsuite per scenario, the seed as a property, the failure text in
// both the message attribute and the body, XML special characters escaped.
#include <gtest/gtest.h>

#include "scenario/runner.h"

namespace understudy::scenario {
namespace {

TEST(JUnitTest, FailureInMessageAndBody) {
  ScenarioResult passed;
  passed.name = "ok";
  passed.file = "a.json";
  passed.seed = 1234;
  ScenarioResult failed;
  failed.name = "bad <one>";
  failed.file = "b.json";
  failed.seed = 1234;
  failed.passed = false;
  failed.failure = "b.json:7: steps[2]: x equals \"A\" & more: got ]]> here";
  failed.expectations.push_back(
      ExpectationResult{"steps[2]", 7, "x equals \"A\"", false, "got ]]> here"});
  std::string xml = JUnitXml({passed, failed});
  EXPECT_NE(xml.find("<testsuites name=\"understudy\" tests=\"2\" failures=\"1\""),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"bad &lt;one&gt;\" tests=\"1\" failures=\"1\""),
            std::string::npos);
  EXPECT_NE(xml.find("<property name=\"seed\" value=\"1234\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"b.json:7: steps[2]: x equals &quot;A&quot; &amp; more: "
                     "got ]]&gt; here\" type=\"ExpectationFailed\"><![CDATA[b.json:7: steps[2]: "
                     "x equals \"A\" & more: got ]]]]><![CDATA[> here"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("FAIL  steps[2] (line 7) x equals \"A\" -- got"), std::string::npos);
  // The passing scenario has no failure element.
  size_t ok_case = xml.find("<testcase name=\"ok\"");
  ASSERT_NE(ok_case, std::string::npos);
  EXPECT_EQ(xml.substr(ok_case, xml.find("</testcase>", ok_case) - ok_case).find("<failure"),
            std::string::npos);
}

}  // namespace
}  // namespace understudy::scenario
