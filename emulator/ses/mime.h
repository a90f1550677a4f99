// MIME: reading and writing Internet messages (RFC 5322, MIME RFC 2045-2049).
//
// ParseMessage turns raw bytes into a parsed view: headers (RFC 2047 encoded words
// decoded), addresses, the text and HTML bodies converted to UTF-8 (quoted-printable
// and base64 undone, charsets converted with iconv), and the attachment and inline
// parts, walking nested multiparts. BuildMessage writes a message for SES's Simple
// content (text, HTML or both as multipart/alternative). Addresses are checked the
// way SES checks them. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace understudy::ses {

struct MailAddress {
  std::string name;     // display name, decoded to UTF-8 (may be empty)
  std::string address;  // local@domain, as written
};

// Why SES would refuse `address` (a bare addr-spec, or "Name <addr>"), in SES's words
// ("Missing final '@domain'"), or nothing when it is acceptable.
std::optional<std::string> AddressProblem(std::string_view address);
// The addr-spec inside "Name <addr>" or the text itself, trimmed.
std::string BareAddress(std::string_view address);
// Parses an address-list header value ("Ada <ada@x.org>, \"B, C\" <b@y.org>", groups too).
std::vector<MailAddress> ParseAddressList(std::string_view value);

// Unfolds a header value and decodes RFC 2047 encoded words to UTF-8.
std::string DecodeHeaderValue(std::string_view raw);
// `bytes` in `charset` converted to UTF-8 (invalid sequences become U+FFFD).
std::string ToUtf8(std::string_view bytes, std::string_view charset);
std::string DecodeQuotedPrintable(std::string_view text, bool header_mode);
std::string EncodeQuotedPrintable(std::string_view bytes);
// Base64 decoding that skips whitespace and stops at padding or junk, as mail readers do.
std::string DecodeBase64Lenient(std::string_view text);
// An RFC 2047 encoded word for `utf8` when it is not plain printable ASCII; else the text.
std::string EncodeHeaderWord(std::string_view utf8);
// Splits "text/plain; charset=\"utf-8\"; name=a.txt" into the value and its parameters
// (names lower-cased; RFC 2231 continuations and charsets decoded).
std::pair<std::string, std::vector<std::pair<std::string, std::string>>> ParseHeaderParams(
    std::string_view value);

struct MimePart {
  std::string part_id;  // "1.2": its position in the MIME tree
  std::string content_type;
  std::string charset;
  std::string filename;
  std::string content_id;
  std::string disposition;  // "attachment", "inline" or ""
  std::string body;         // decoded bytes
};

struct ParsedMessage {
  // Every header in order: name as written, value unfolded and decoded.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string subject;
  std::string message_id;
  std::string date;
  std::vector<MailAddress> from, to, cc, bcc, reply_to;
  std::string return_path;
  std::string text;  // UTF-8; the first text/plain part that is not an attachment
  std::string html;  // UTF-8; the first text/html part that is not an attachment
  std::vector<MimePart> attachments;
  std::vector<MimePart> inlines;  // parts with a Content-ID or inline images
  size_t header_bytes = 0;        // where the body starts in the raw bytes

  // The first header named `name` (case-insensitive), decoded.
  const std::string* Header(std::string_view name) const;
};

// Parses `raw`. InvalidArgument names what is wrong for messages no reader could take
// (a header line without a colon, a multipart without a boundary, no headers at all).
Result<ParsedMessage> ParseMessage(std::string_view raw);

// The Simple content of a send: what BuildMessage writes.
struct SimpleMessage {
  std::string from;
  std::vector<std::string> to, cc, reply_to;
  std::string subject;  // UTF-8
  std::optional<std::string> text, html;
  std::string message_id;  // "<id@email.amazonses.com>"
  std::string date;        // RFC 5322 date
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::string boundary;  // used when both bodies are present
};
std::string BuildMessage(const SimpleMessage& message);
// "Mon, 23 Nov 2026 08:00:00 +0000" for epoch seconds.
std::string FormatRfc5322Date(int64_t epoch_seconds);

}  // namespace understudy::ses
