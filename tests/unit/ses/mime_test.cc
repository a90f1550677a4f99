// MIME parsing and building: encoded words, charsets, transfer encodings, nested
// multiparts, attachments, and the SES address checks (aws-semantics §5.2).
#include "ses/mime.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

std::string ReadCorpus(const std::string& name) {
  std::ifstream in(std::string(SES_CORPUS_DIR) + "/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// RFC 2047's own example: adjacent encoded words join without the space, charsets convert.
TEST(MimeTest, DecodesEncodedWordsAcrossCharsets) {
  auto m = ParseMessage(ReadCorpus("rfc2047_latin1.eml"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->subject, "If you can read this you understand the example.");
  ASSERT_EQ(m->from.size(), 1u);
  EXPECT_EQ(m->from[0].name, "Andr\xC3\xA9 Pirard");
  EXPECT_EQ(m->from[0].address, "PIRARD@vm1.ulg.ac.be");
  EXPECT_EQ(m->to[0].name, "Keith Moore");
  EXPECT_EQ(m->text, "Caf\xC3\xA9 cr\xC3\xA8me, softbreak here.\n");
}

// multipart/mixed > related > alternative: text, HTML, an inline image and an attachment
// with an RFC 2231 UTF-8 file name; the preamble and epilogue are not parts.
TEST(MimeTest, WalksNestedMultiparts) {
  auto m = ParseMessage(ReadCorpus("nested_multipart.eml"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->text, "Hello, w\xC3\xB6rld! Your code is 482910.");
  EXPECT_EQ(m->html,
            "<p>Hello, <a href=\"https://example.org/verify?t=abc&amp;u=1\">verify</a></p><img "
            "src=\"cid:logo@x\">");
  ASSERT_EQ(m->inlines.size(), 1u);
  EXPECT_EQ(m->inlines[0].content_id, "logo@x");
  EXPECT_EQ(m->inlines[0].content_type, "image/png");
  EXPECT_EQ(m->inlines[0].part_id, "1.2");
  EXPECT_EQ(m->inlines[0].body, std::string("\x89PNG\r\n\x1a\n", 8));
  ASSERT_EQ(m->attachments.size(), 1u);
  EXPECT_EQ(m->attachments[0].filename, "r\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(m->attachments[0].body, "%PDF-1.4\n");
  EXPECT_EQ(m->attachments[0].part_id, "2");
  ASSERT_EQ(m->to.size(), 2u);
  EXPECT_EQ(m->to[1].name, "Smith, Carol");
  EXPECT_EQ(m->to[1].address, "carol@example.org");
}

// Bare LF line ends and an 8-bit KOI8-R body convert to UTF-8.
TEST(MimeTest, ConvertsKoi8rWithBareLineFeeds) {
  auto m = ParseMessage(ReadCorpus("koi8r_lf_only.eml"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->subject, "Привет");
  EXPECT_EQ(m->text, "Привет, мир!\n");
}

// A Shift_JIS HTML-only message.
TEST(MimeTest, ConvertsShiftJis) {
  auto m = ParseMessage(ReadCorpus("shift_jis_html.eml"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->html, "<p>こんにちは</p>\n");
  EXPECT_EQ(m->text, "");
}

// Emoji in Q-encoded words; a forwarded message and a text attachment stay attachments.
TEST(MimeTest, KeepsForwardedMessagesAndTextAttachmentsAsAttachments) {
  auto m = ParseMessage(ReadCorpus("emoji_subject_forward.eml"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->subject, "📧 Mail ✓");
  EXPECT_EQ(m->text, "See attached.");
  ASSERT_EQ(m->attachments.size(), 2u);
  EXPECT_EQ(m->attachments[0].filename, "fwd.eml");
  EXPECT_EQ(m->attachments[0].content_type, "message/rfc822");
  EXPECT_EQ(m->attachments[1].filename, "notes.txt");
  EXPECT_EQ(m->attachments[1].body, "attachment text");
}

// Messages no reader could take are refused with the reason.
TEST(MimeTest, RefusesBrokenMessages) {
  auto no_colon = ParseMessage("From: a@b.org\r\nThis is not a header\r\n\r\nbody");
  EXPECT_EQ(no_colon.status().message(), "Illegal header line: 'This is not a header'");
  auto no_boundary = ParseMessage("From: a@b.org\r\nContent-Type: multipart/mixed\r\n\r\nx");
  EXPECT_EQ(no_boundary.status().message(), "multipart/mixed without a boundary parameter");
  auto empty = ParseMessage("\r\nbody only");
  EXPECT_EQ(empty.status().message(), "the message has no headers");
}

// BuildMessage writes multipart/alternative with encoded headers; parsing gives it back.
TEST(MimeTest, BuildRoundTrips) {
  SimpleMessage s;
  s.from = "Zoë <noreply@example.org>";
  s.to = {"ada@example.org", "Smith, Bob <bob@example.org>"};
  s.subject = "Grüße – 你好";
  s.text = "Line one\nline two with ünïcödé and a very long line " + std::string(200, 'x');
  s.html = "<p>Hi</p>";
  s.message_id = "<id@email.amazonses.com>";
  s.date = FormatRfc5322Date(1795420800);
  s.boundary = "b0undary";
  std::string raw = BuildMessage(s);
  EXPECT_NE(raw.find("Date: Mon, 23 Nov 2026 08:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Content-Type: multipart/alternative;"), std::string::npos);
  EXPECT_NE(raw.find("To: ada@example.org, \"Smith, Bob\" <bob@example.org>\r\n"),
            std::string::npos);
  for (size_t at = 0, nl; (nl = raw.find("\r\n", at)) != std::string::npos; at = nl + 2) {
    EXPECT_LE(nl - at, 998u) << "line too long";
  }
  auto m = ParseMessage(raw);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->subject, "Grüße – 你好");
  EXPECT_EQ(m->from[0].name, "Zoë");
  EXPECT_EQ(m->text,
            "Line one\nline two with ünïcödé and a very long line " + std::string(200, 'x'));
  EXPECT_EQ(m->html, "<p>Hi</p>");
  EXPECT_EQ(m->to[1].name, "Smith, Bob");
  EXPECT_EQ(m->message_id, "<id@email.amazonses.com>");
}

// Quoted-printable both ways, including trailing spaces and "=" itself.
TEST(MimeTest, QuotedPrintable) {
  std::string text = "a = b \nc\t\nd";
  std::string encoded = EncodeQuotedPrintable(text);
  EXPECT_EQ(encoded, "a =3D b=20\r\nc=09\r\nd");
  EXPECT_EQ(DecodeQuotedPrintable(encoded, false), "a = b \r\nc\t\r\nd");
  EXPECT_EQ(DecodeQuotedPrintable("x=\r\ny=41", false), "xyA");
  EXPECT_EQ(DecodeQuotedPrintable("a_b=5F", true), "a b_");
}

// SES's address checks, worded as SES words them.
TEST(MimeTest, AddressProblems) {
  EXPECT_EQ(AddressProblem("ada@example.org"), std::nullopt);
  EXPECT_EQ(AddressProblem("Ada Lovelace <ada@example.org>"), std::nullopt);
  EXPECT_EQ(AddressProblem("ada"), "Missing final '@domain'");
  EXPECT_EQ(AddressProblem("ada@"), "Missing domain");
  EXPECT_EQ(AddressProblem("@example.org"), "Missing local name");
  EXPECT_EQ(AddressProblem("a da@example.org"), "Local address contains control or whitespace");
  EXPECT_EQ(AddressProblem("ada@exa_mple.org"), "Domain contains illegal character");
  EXPECT_EQ(AddressProblem("ada@localhost"), "Domain contains dot-dot");
  EXPECT_EQ(AddressProblem("Zoë <z@example.org>"), "Local address contains control or whitespace");
}

}  // namespace
}  // namespace understudy::ses

namespace understudy::ses {
namespace {

// Invalid UTF-8 in decoded words and bodies becomes U+FFFD (found by fuzz_ses_mime).
TEST(MimeTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(DecodeHeaderValue("=?UTF-8?Q?=F5=9F=93=A7_x?="),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD x");
  EXPECT_EQ(ToUtf8("a\xED\xA0\x80z", "utf-8"), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(ToUtf8("\xE0\x80\xAF", "utf-8"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToUtf8("ok \xF0\x9F\x93\xA7", "utf-8"), "ok \xF0\x9F\x93\xA7");
}

}  // namespace
}  // namespace understudy::ses
