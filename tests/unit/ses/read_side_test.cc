// Links and one-time codes pulled out of message bodies for tests.
#include "ses/read_side.h"

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

// hrefs (entities decoded) first, then text URLs; mailto and anchors skipped; no repeats.
TEST(ReadSideTest, ExtractsLinks) {
  Json links = ExtractLinks("Verify at https://example.org/v?t=1. Or https://example.org/v?t=1",
                            "<a href=\"https://example.org/a?x=1&amp;y=2\">a</a>"
                            "<a href='mailto:x@y.org'>m</a><a href=\"#top\">t</a>");
  EXPECT_EQ(links, Json({"https://example.org/a?x=1&y=2", "https://example.org/v?t=1"}));
}

// 4-8 digit numbers outside URLs; the HTML's text when there is no text part.
TEST(ReadSideTest, ExtractsCodes) {
  EXPECT_EQ(ExtractCodes("Your code is 482910. Ref https://x.org/123456 and 12 or 123456789", ""),
            Json({"482910"}));
  EXPECT_EQ(ExtractCodes("", "<p>Code: <b>7731</b></p>"), Json({"7731"}));
}

}  // namespace
}  // namespace understudy::ses
