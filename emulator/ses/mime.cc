#include "ses/mime.h"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <tuple>

namespace understudy::ses {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Replaces invalid UTF-8 sequences with U+FFFD.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    // RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
    if (ok && len == 2 && c < 0xC2) ok = false;
    if (ok && len >= 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) ok = false;
      if (c == 0xED && c1 > 0x9F) ok = false;
      if (c == 0xF0 && c1 < 0x90) ok = false;
      if (c == 0xF4 && c1 > 0x8F) ok = false;
      if (c > 0xF4) ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Splits raw header text into (name, raw value) pairs; false on a line no header can be.
bool SplitHeaders(std::string_view block, std::vector<std::pair<std::string, std::string>>* out) {
  size_t pos = 0;
  while (pos < block.size()) {
    size_t end = block.find('\n', pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (out->empty()) return false;
      out->back().second += "\r\n";
      out->back().second += line;
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (c <= 32 || c >= 127) return false;
    }
    out->emplace_back(std::string(name), std::string(line.substr(colon + 1)));
  }
  return true;
}

// Finds the end of the header block: the offset of the body and the header text.
void SplitHeaderBody(std::string_view raw, std::string_view* headers, std::string_view* body,
                     size_t* body_offset) {
  size_t at = 0;
  while (true) {
    size_t nl = raw.find('\n', at);
    if (nl == std::string_view::npos) {
      *headers = raw;
      *body = {};
      *body_offset = raw.size();
      return;
    }
    std::string_view line = raw.substr(at, nl - at);
    if (line.empty() || line == "\r") {
      *headers = raw.substr(0, at);
      *body = raw.substr(nl + 1);
      *body_offset = nl + 1;
      return;
    }
    at = nl + 1;
  }
}

std::string Unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (value[i] == '\n') continue;
    out += value[i];
  }
  return std::string(Trim(out));
}

std::string DecodeTransfer(std::string_view body, std::string_view encoding) {
  std::string enc = Lower(Trim(encoding));
  if (enc == "base64") return DecodeBase64Lenient(body);
  if (enc == "quoted-printable") return DecodeQuotedPrintable(body, false);
  return std::string(body);
}

struct Walk {
  ParsedMessage* message;
  int depth = 0;
};

Status WalkPart(std::string_view headers_text, std::string_view body, const std::string& part_id,
                Walk& walk);

const std::string* FindParam(const std::vector<std::pair<std::string, std::string>>& params,
                             std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

// The body parts between boundaries (preamble and epilogue dropped).
std::vector<std::string_view> SplitMultipart(std::string_view body, const std::string& boundary) {
  std::vector<std::string_view> parts;
  std::string delimiter = "--" + boundary;
  size_t pos = 0;
  bool started = false;
  size_t part_start = 0;
  while (pos <= body.size()) {
    size_t nl = body.find('\n', pos);
    size_t line_end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t'))
      trimmed.remove_suffix(1);
    if (trimmed.size() >= delimiter.size() && trimmed.substr(0, delimiter.size()) == delimiter) {
      std::string_view rest = trimmed.substr(delimiter.size());
      if (rest.empty() || rest == "--") {
        if (started) {
          // The CRLF before the delimiter belongs to the delimiter.
          size_t end = pos;
          if (end > part_start && body[end - 1] == '\n') --end;
          if (end > part_start && body[end - 1] == '\r') --end;
          parts.push_back(body.substr(part_start, end - part_start));
        }
        if (rest == "--") return parts;
        started = true;
        part_start = nl == std::string_view::npos ? body.size() : nl + 1;
      }
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (started && part_start < body.size()) parts.push_back(body.substr(part_start));
  return parts;
}

Status WalkPart(std::string_view headers_text, std::string_view body, const std::string& part_id,
                Walk& walk) {
  if (++walk.depth > 50) return Status::InvalidArgument("MIME parts nested too deeply");
  std::vector<std::pair<std::string, std::string>> headers;
  if (!SplitHeaders(headers_text, &headers)) {
    return Status::InvalidArgument("malformed header line in part " +
                                   (part_id.empty() ? std::string("1") : part_id));
  }
  auto find = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : headers) {
      if (IEquals(k, name)) return Unfold(v);
    }
    return {};
  };
  std::string content_type_header = find("Content-Type");
  auto [type, params] = ParseHeaderParams(content_type_header);
  if (type.empty() || type.find('/') == std::string::npos) type = "text/plain";
  std::string charset;
  if (const std::string* c = FindParam(params, "charset")) charset = *c;
  auto [disposition, disposition_params] = ParseHeaderParams(find("Content-Disposition"));
  std::string filename;
  if (const std::string* f = FindParam(disposition_params, "filename")) filename = *f;
  if (filename.empty()) {
    if (const std::string* n = FindParam(params, "name")) filename = *n;
  }
  filename = DecodeHeaderValue(filename);
  std::string content_id = find("Content-ID");
  if (content_id.size() >= 2 && content_id.front() == '<' && content_id.back() == '>') {
    content_id = content_id.substr(1, content_id.size() - 2);
  }

  if (type.rfind("multipart/", 0) == 0) {
    const std::string* boundary = FindParam(params, "boundary");
    if (boundary == nullptr || boundary->empty()) {
      return Status::InvalidArgument(type + " without a boundary parameter");
    }
    auto parts = SplitMultipart(body, *boundary);
    int index = 0;
    for (std::string_view part : parts) {
      ++index;
      std::string id =
          part_id.empty() ? std::to_string(index) : part_id + "." + std::to_string(index);
      std::string_view h, b;
      size_t offset = 0;
      // A part may start with its blank line directly (no headers).
      if (part.substr(0, 2) == "\r\n" || part.substr(0, 1) == "\n") {
        h = {};
        b = part.substr(part[0] == '\r' ? 2 : 1);
      } else {
        SplitHeaderBody(part, &h, &b, &offset);
      }
      US_RETURN_IF_ERROR(WalkPart(h, b, id, walk));
    }
    --walk.depth;
    return Status::Ok();
  }
  if (type == "message/rfc822" && disposition != "attachment") {
    // An attached message: its parts are read too, as mail readers show them.
    MimePart part;
    part.part_id = part_id.empty() ? "1" : part_id;
    part.content_type = type;
    part.filename = filename.empty() ? "message.eml" : filename;
    part.disposition = "attachment";
    part.body = DecodeTransfer(body, find("Content-Transfer-Encoding"));
    walk.message->attachments.push_back(std::move(part));
    --walk.depth;
    return Status::Ok();
  }
  std::string decoded = DecodeTransfer(body, find("Content-Transfer-Encoding"));
  bool is_attachment =
      disposition == "attachment" || (!filename.empty() && disposition != "inline");
  bool is_text = type == "text/plain" || type == "text/html";
  if (is_text && !is_attachment && filename.empty()) {
    std::string& target = type == "text/plain" ? walk.message->text : walk.message->html;
    if (target.empty()) {
      // The parsed view has LF line ends, as mail readers show them; raw keeps CRLF.
      target = ToUtf8(decoded, charset.empty() ? "us-ascii" : charset);
      size_t at = 0;
      while ((at = target.find("\r\n", at)) != std::string::npos) target.erase(at, 1);
      --walk.depth;
      return Status::Ok();
    }
  }
  MimePart part;
  part.part_id = part_id.empty() ? "1" : part_id;
  part.content_type = type;
  part.charset = charset;
  part.filename = filename;
  part.content_id = content_id;
  part.disposition = disposition;
  part.body = std::move(decoded);
  bool inline_part = !is_attachment && (!content_id.empty() || disposition == "inline");
  if (inline_part) {
    walk.message->inlines.push_back(std::move(part));
  } else {
    walk.message->attachments.push_back(std::move(part));
  }
  --walk.depth;
  return Status::Ok();
}

// Reads one quoted string or token at `i` for the parameter parser.
std::string ReadParamValue(std::string_view s, size_t& i) {
  std::string out;
  if (i < s.size() && s[i] == '"') {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out += s[i++];
    }
    if (i < s.size()) ++i;
    return out;
  }
  while (i < s.size() && s[i] != ';') out += s[i++];
  return std::string(Trim(out));
}

std::string PercentDecodeRfc2231(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::pair<std::string, std::vector<std::pair<std::string, std::string>>> ParseHeaderParams(
    std::string_view value) {
  std::string unfolded = Unfold(value);
  std::string_view s = unfolded;
  size_t semi = s.find(';');
  std::string main = Lower(Trim(s.substr(0, semi)));
  std::vector<std::pair<std::string, std::string>> params;
  // name*N[*] continuations gathered here, then joined.
  std::vector<std::tuple<std::string, int, bool, std::string>> pieces;
  size_t i = semi == std::string_view::npos ? s.size() : semi + 1;
  while (i < s.size()) {
    while (i < s.size() && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == ';')) ++i;
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = Lower(Trim(s.substr(i, eq - i)));
    i = eq + 1;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string val = ReadParamValue(s, i);
    while (i < s.size() && s[i] != ';') ++i;
    bool extended = !name.empty() && name.back() == '*';
    if (extended) name.pop_back();
    int index = -1;
    size_t star = name.find('*');
    if (star != std::string::npos) {
      index = std::atoi(name.c_str() + star + 1);
      name = name.substr(0, star);
    }
    pieces.emplace_back(name, index, extended, val);
  }
  std::vector<std::string> order;
  std::vector<std::vector<std::tuple<int, bool, std::string>>> grouped;
  for (auto& [name, index, extended, val] : pieces) {
    auto it = std::find(order.begin(), order.end(), name);
    if (it == order.end()) {
      order.push_back(name);
      grouped.emplace_back();
      it = order.end() - 1;
    }
    grouped[it - order.begin()].emplace_back(index, extended, val);
  }
  for (size_t g = 0; g < order.size(); ++g) {
    auto& list = grouped[g];
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    std::string charset;
    std::string joined;
    bool any_extended = false;
    for (size_t k = 0; k < list.size(); ++k) {
      auto& [index, extended, val] = list[k];
      std::string piece = val;
      if (extended) {
        any_extended = true;
        if (k == 0) {
          size_t q1 = piece.find('\'');
          size_t q2 = q1 == std::string::npos ? q1 : piece.find('\'', q1 + 1);
          if (q2 != std::string::npos) {
            charset = piece.substr(0, q1);
            piece = piece.substr(q2 + 1);
          }
        }
        piece = PercentDecodeRfc2231(piece);
      }
      joined += piece;
    }
    if (any_extended && !charset.empty()) joined = ToUtf8(joined, charset);
    params.emplace_back(order[g], joined);
  }
  return {main, params};
}

std::string DecodeQuotedPrintable(std::string_view text, bool header_mode) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (header_mode && c == '_') {
      out += ' ';
    } else if (c == '=') {
      if (i + 2 < text.size() + 1 && i + 1 < text.size() && text[i + 1] == '\n') {
        i += 1;  // soft line break (LF)
      } else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
        i += 2;  // soft line break
      } else if (i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
        out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
        i += 2;
      } else {
        // "=" followed by trailing whitespace then a line break is a soft break too.
        size_t j = i + 1;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
        if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) {
          i = text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n' ? j + 1 : j;
        } else {
          out += c;
        }
      }
    } else {
      out += c;
    }
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view bytes) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  size_t line = 0;
  auto put = [&](std::string_view piece) {
    if (line + piece.size() > 75) {
      out += "=\r\n";
      line = 0;
    }
    out += piece;
    line += piece.size();
  };
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;
    if (c == '\n') {
      // Trailing whitespace before a line break is encoded.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        char last = out.back();
        out.pop_back();
        out += '=';
        out += kHex[static_cast<unsigned char>(last) >> 4];
        out += kHex[static_cast<unsigned char>(last) & 15];
      }
      out += "\r\n";
      line = 0;
      continue;
    }
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      char s[2] = {static_cast<char>(c), 0};
      put(s);
    } else {
      char s[4] = {'=', kHex[c >> 4], kHex[c & 15], 0};
      put(s);
    }
  }
  return out;
}

std::string DecodeBase64Lenient(std::string_view text) {
  static int8_t table[256];
  static bool init = [] {
    std::fill(std::begin(table), std::end(table), static_cast<int8_t>(-1));
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(a[i])] = static_cast<int8_t>(i);
    table[static_cast<unsigned char>('-')] = 62;  // URL-safe alphabet too
    table[static_cast<unsigned char>('_')] = 63;
    return true;
  }();
  (void)init;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '=') break;
    int8_t v = table[static_cast<unsigned char>(ch)];
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string ToUtf8(std::string_view bytes, std::string_view charset_in) {
  std::string charset = Lower(Trim(charset_in));
  if (charset.empty() || charset == "utf-8" || charset == "utf8" || charset == "us-ascii" ||
      charset == "ascii") {
    return SanitizeUtf8(bytes);
  }
  if (charset == "latin1" || charset == "latin-1") charset = "iso-8859-1";
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return SanitizeUtf8(bytes);
  std::string out;
  out.resize(bytes.size() * 4 + 16);
  std::string input(bytes);
  char* in = input.data();
  size_t in_left = input.size();
  char* dst = out.data();
  size_t out_left = out.size();
  while (in_left > 0) {
    size_t r = iconv(cd, &in, &in_left, &dst, &out_left);
    if (r != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      dst = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    // An invalid or truncated sequence: substitute and skip one byte.
    if (out_left < 3) {
      size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      dst = out.data() + used;
      out_left = out.size() - used;
    }
    std::memcpy(dst, "\xEF\xBF\xBD", 3);
    dst += 3;
    out_left -= 3;
    ++in;
    --in_left;
  }
  out.resize(out.size() - out_left);
  iconv_close(cd);
  return SanitizeUtf8(out);
}

std::string DecodeHeaderValue(std::string_view raw) {
  std::string value = Unfold(raw);
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  std::string pending_space;
  while (i < value.size()) {
    if (value.compare(i, 2, "=?") == 0) {
      size_t q1 = value.find('?', i + 2);
      size_t q2 = q1 == std::string::npos ? q1 : value.find('?', q1 + 1);
      size_t end = q2 == std::string::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string::npos && q2 == q1 + 2) {
        std::string charset = value.substr(i + 2, q1 - i - 2);
        size_t star = charset.find('*');  // RFC 2231 language suffix
        if (star != std::string::npos) charset.resize(star);
        char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
        std::string_view text = std::string_view(value).substr(q2 + 1, end - q2 - 1);
        if (enc == 'B' || enc == 'Q') {
          std::string bytes =
              enc == 'B' ? DecodeBase64Lenient(text) : DecodeQuotedPrintable(text, true);
          if (!last_was_word) out += pending_space;
          pending_space.clear();
          out += ToUtf8(bytes, charset);
          last_was_word = true;
          i = end + 2;
          continue;
        }
      }
    }
    char c = value[i];
    if (c == ' ' || c == '\t') {
      pending_space += c;
      ++i;
      continue;
    }
    out += pending_space;
    pending_space.clear();
    last_was_word = false;
    // Raw 8-bit header bytes are taken as UTF-8 (RFC 6532).
    out += c;
    ++i;
  }
  out += pending_space;
  return SanitizeUtf8(out);
}

std::string EncodeHeaderWord(std::string_view utf8) {
  bool plain = std::all_of(utf8.begin(), utf8.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u >= 32 && u < 127;
  });
  if (plain && utf8.find("=?") == std::string_view::npos) return std::string(utf8);
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Words of at most 45 input bytes, split on UTF-8 character boundaries.
  std::string out;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t n = std::min<size_t>(45, utf8.size() - i);
    while (i + n < utf8.size() && n > 0 && (static_cast<unsigned char>(utf8[i + n]) & 0xC0) == 0x80)
      --n;
    std::string_view chunk = utf8.substr(i, n);
    std::string b64;
    size_t k = 0;
    for (; k + 2 < chunk.size(); k += 3) {
      uint32_t v = (static_cast<unsigned char>(chunk[k]) << 16) |
                   (static_cast<unsigned char>(chunk[k + 1]) << 8) |
                   static_cast<unsigned char>(chunk[k + 2]);
      b64 += a[v >> 18];
      b64 += a[(v >> 12) & 63];
      b64 += a[(v >> 6) & 63];
      b64 += a[v & 63];
    }
    if (k < chunk.size()) {
      uint32_t v = static_cast<unsigned char>(chunk[k]) << 16;
      if (k + 1 < chunk.size()) v |= static_cast<unsigned char>(chunk[k + 1]) << 8;
      b64 += a[v >> 18];
      b64 += a[(v >> 12) & 63];
      b64 += k + 1 < chunk.size() ? a[(v >> 6) & 63] : '=';
      b64 += '=';
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + b64 + "?=";
    i += n;
  }
  return out;
}

std::string BareAddress(std::string_view address) {
  std::string_view s = Trim(address);
  size_t lt = s.rfind('<');
  size_t gt = s.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt) {
    return std::string(Trim(s.substr(lt + 1, gt - lt - 1)));
  }
  return std::string(s);
}

std::optional<std::string> AddressProblem(std::string_view address) {
  std::string bare = BareAddress(address);
  for (char c : address) {
    if (static_cast<unsigned char>(c) >= 128) {
      // Display names must be MIME encoded-words; the addr-spec must be 7-bit.
      return std::string("Local address contains control or whitespace");
    }
  }
  size_t at = bare.rfind('@');
  if (at == std::string::npos) return std::string("Missing final '@domain'");
  std::string_view local = std::string_view(bare).substr(0, at);
  std::string_view domain = std::string_view(bare).substr(at + 1);
  if (local.empty()) return std::string("Missing local name");
  if (domain.empty()) return std::string("Missing domain");
  for (char c : local) {
    if (c <= 32 || c == 127) return std::string("Local address contains control or whitespace");
  }
  for (char c : domain) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return std::string("Domain contains illegal character");
    }
  }
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return std::string("Domain contains dot-dot");
  }
  return std::nullopt;
}

std::vector<MailAddress> ParseAddressList(std::string_view value_in) {
  std::string value = Unfold(value_in);
  std::vector<MailAddress> out;
  std::string current;
  bool quoted = false;
  int angle = 0;
  int comment = 0;
  auto flush = [&] {
    std::string_view item = Trim(current);
    // Group syntax "name: a, b;" keeps only the addresses.
    if (!quoted && angle == 0) {
      size_t colon = item.find(':');
      if (colon != std::string_view::npos && item.find('<') == std::string_view::npos &&
          item.find('@') != std::string_view::npos && colon < item.find('@')) {
        item = Trim(item.substr(colon + 1));
      }
      while (!item.empty() && item.back() == ';') item = Trim(item.substr(0, item.size() - 1));
    }
    if (!item.empty()) {
      MailAddress address;
      size_t lt = item.rfind('<');
      if (lt != std::string_view::npos) {
        std::string name(Trim(item.substr(0, lt)));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
          std::string unq;
          for (size_t i = 1; i + 1 < name.size(); ++i) {
            if (name[i] == '\\' && i + 2 < name.size()) ++i;
            unq += name[i];
          }
          name = unq;
        }
        address.name = DecodeHeaderValue(name);
        address.address = BareAddress(item);
      } else {
        std::string bare(item);
        // "addr (Comment Name)"
        size_t paren = bare.find('(');
        if (paren != std::string::npos) {
          size_t close = bare.rfind(')');
          if (close != std::string::npos && close > paren) {
            address.name = DecodeHeaderValue(bare.substr(paren + 1, close - paren - 1));
          }
          bare = std::string(Trim(bare.substr(0, paren)));
        }
        address.address = bare;
      }
      if (!address.address.empty()) out.push_back(std::move(address));
    }
    current.clear();
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && quoted && i + 1 < value.size()) {
      current += c;
      current += value[++i];
      continue;
    }
    if (c == '"' && comment == 0) quoted = !quoted;
    if (!quoted) {
      if (c == '(') ++comment;
      if (c == ')' && comment > 0) --comment;
      if (c == '<') ++angle;
      if (c == '>' && angle > 0) --angle;
      if (c == ',' && angle == 0 && comment == 0) {
        flush();
        continue;
      }
    }
    current += c;
  }
  flush();
  return out;
}

const std::string* ParsedMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return &v;
  }
  return nullptr;
}

Result<ParsedMessage> ParseMessage(std::string_view raw) {
  ParsedMessage message;
  std::string_view headers_text, body;
  size_t offset = 0;
  SplitHeaderBody(raw, &headers_text, &body, &offset);
  message.header_bytes = offset;
  std::vector<std::pair<std::string, std::string>> headers;
  if (!SplitHeaders(headers_text, &headers)) {
    // Find the offending line for the message.
    std::string_view line = headers_text.substr(0, headers_text.find('\n'));
    size_t at = 0;
    std::vector<std::pair<std::string, std::string>> probe;
    while (at < headers_text.size()) {
      size_t nl = headers_text.find('\n', at);
      std::string_view l = headers_text.substr(at, nl == std::string_view::npos ? nl : nl - at);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (!l.empty() && l.front() != ' ' && l.front() != '\t' &&
          (l.find(':') == std::string_view::npos || l.find(':') == 0)) {
        line = l;
        break;
      }
      if (nl == std::string_view::npos) break;
      at = nl + 1;
    }
    return Status::InvalidArgument("Illegal header line: '" +
                                   std::string(line.substr(0, std::min<size_t>(line.size(), 80))) +
                                   "'");
  }
  if (headers.empty()) return Status::InvalidArgument("the message has no headers");
  for (const auto& [name, value] : headers) {
    message.headers.emplace_back(name, DecodeHeaderValue(value));
  }
  auto raw_header = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : headers) {
      if (IEquals(k, name)) return v;
    }
    return {};
  };
  if (const std::string* s = message.Header("Subject")) message.subject = *s;
  if (const std::string* s = message.Header("Message-ID")) message.message_id = *s;
  if (const std::string* s = message.Header("Date")) message.date = *s;
  if (const std::string* s = message.Header("Return-Path")) message.return_path = BareAddress(*s);
  message.from = ParseAddressList(raw_header("From"));
  message.to = ParseAddressList(raw_header("To"));
  message.cc = ParseAddressList(raw_header("Cc"));
  message.bcc = ParseAddressList(raw_header("Bcc"));
  message.reply_to = ParseAddressList(raw_header("Reply-To"));
  Walk walk{&message};
  US_RETURN_IF_ERROR(WalkPart(headers_text, body, "", walk));
  return message;
}

std::string FormatRfc5322Date(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

namespace {

// An address header value with display names encoded where needed.
std::string EncodeAddress(std::string_view address) {
  std::string_view s = Trim(address);
  size_t lt = s.rfind('<');
  if (lt == std::string_view::npos || lt == 0) return std::string(s);
  std::string name(Trim(s.substr(0, lt)));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  bool ascii = std::all_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 32 && static_cast<unsigned char>(c) < 127;
  });
  // ASCII names (encoded words included) are kept; others become encoded words.
  std::string encoded = ascii ? name : EncodeHeaderWord(name);
  if (ascii && name.find("=?") == std::string::npos) {
    bool special = name.find_first_of("()<>[]:;@\\,.\"") != std::string::npos;
    if (special) {
      std::string q = "\"";
      for (char c : name) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
      }
      encoded = q + "\"";
    }
  }
  return encoded + " " + std::string(s.substr(lt));
}

std::string JoinAddresses(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ", ") + EncodeAddress(a);
  return out;
}

bool NeedsQp(std::string_view text) {
  size_t line = 0;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 128 || (u < 32 && c != '\n' && c != '\r' && c != '\t')) return true;
    line = c == '\n' ? 0 : line + 1;
    if (line > 900) return true;
  }
  return false;
}

std::string Crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string TextPart(std::string_view type, std::string_view body) {
  std::string out = "Content-Type: " + std::string(type) + "; charset=UTF-8\r\n";
  if (NeedsQp(body)) {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += EncodeQuotedPrintable(body);
  } else {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    out += Crlf(body);
  }
  return out;
}

}  // namespace

std::string BuildMessage(const SimpleMessage& m) {
  std::string out;
  out += "From: " + EncodeAddress(m.from) + "\r\n";
  if (!m.reply_to.empty()) out += "Reply-To: " + JoinAddresses(m.reply_to) + "\r\n";
  if (!m.to.empty()) out += "To: " + JoinAddresses(m.to) + "\r\n";
  if (!m.cc.empty()) out += "Cc: " + JoinAddresses(m.cc) + "\r\n";
  out += "Subject: " + EncodeHeaderWord(m.subject) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "Date: " + m.date + "\r\n";
  for (const auto& [k, v] : m.extra_headers) out += k + ": " + v + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (m.text && m.html) {
    out += "Content-Type: multipart/alternative; \r\n\tboundary=\"" + m.boundary + "\"\r\n\r\n";
    out += "--" + m.boundary + "\r\n" + TextPart("text/plain", *m.text) + "\r\n";
    out += "--" + m.boundary + "\r\n" + TextPart("text/html", *m.html) + "\r\n";
    out += "--" + m.boundary + "--\r\n";
  } else if (m.html) {
    out += TextPart("text/html", *m.html);
  } else {
    out += TextPart("text/plain", m.text.value_or(""));
  }
  return out;
}

}  // namespace understudy::ses
