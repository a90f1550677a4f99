#include "events/event_pattern.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>

namespace understudy::events {

namespace {

// ---------------------------------------------------------------------------
// Numbers. Patterns compare numbers as decimals with at most six digits after the
// point, between -5.0e9 and 5.0e9 (aws-semantics §4.3): such a number is held as
// value * 10^6 in an int64. Others compare by their text only.

struct NumberError {
  std::string message;
};

constexpr int64_t kFiveBillionMicro = 5'000'000'000LL * 1'000'000LL;

// Parses JSON number text into value * 10^6, or says why it cannot be compared.
std::variant<int64_t, NumberError> ComparableNumber(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  std::string digits;
  int64_t exponent = 0;
  bool any = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    digits.push_back(text[i]);
    any = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      digits.push_back(text[i]);
      --exponent;
      any = true;
    }
  }
  if (!any) return NumberError{"Cannot compare number : " + std::string(text)};
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
      eneg = text[i] == '-';
      ++i;
    }
    int64_t e = 0;
    bool edigits = false;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (e < 100000) e = e * 10 + (text[i] - '0');
      edigits = true;
    }
    if (!edigits) return NumberError{"Cannot compare number : " + std::string(text)};
    exponent += eneg ? -e : e;
  }
  if (i != text.size()) return NumberError{"Cannot compare number : " + std::string(text)};
  // Strip leading zeros, then trailing zeros into the exponent.
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return int64_t{0};
  digits.erase(0, first);
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  if (-exponent > 6) return NumberError{"Only values upto 6 decimals are supported"};
  const NumberError range{"Value must be between -5.0E9 and 5.0E9, inclusive"};
  int64_t shift = exponent + 6;  // >= 0
  if (static_cast<int64_t>(digits.size()) + shift > 17) return range;
  __int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  for (int64_t k = 0; k < shift; ++k) v *= 10;
  if (v > kFiveBillionMicro) return range;
  return static_cast<int64_t>(negative ? -v : v);
}

std::optional<int64_t> TryComparable(std::string_view text) {
  auto r = ComparableNumber(text);
  if (auto* v = std::get_if<int64_t>(&r)) return *v;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// IP addresses (event-ruler's CIDR rules): dotted quads and colon forms.

using IpBytes = std::vector<uint8_t>;

bool LooksLikeIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.') return false;
    ++i;
  }
  return parts == 4;
}

bool LooksLikeIpv6(std::string_view s) {
  bool colon = false;
  for (char c : s) {
    if (c == ':') {
      colon = true;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return colon;
}

bool LooksLikeIp(std::string_view s) { return LooksLikeIpv4(s) || LooksLikeIpv6(s); }

std::optional<IpBytes> ParseIp(std::string_view s) {
  if (LooksLikeIpv4(s)) {
    IpBytes out;
    size_t i = 0;
    while (i <= s.size()) {
      size_t dot = s.find('.', i);
      if (dot == std::string_view::npos) dot = s.size();
      std::string_view part = s.substr(i, dot - i);
      if (part.size() > 3) return std::nullopt;
      int v = 0;
      for (char c : part) v = v * 10 + (c - '0');
      if (v > 255) return std::nullopt;
      out.push_back(static_cast<uint8_t>(v));
      i = dot + 1;
    }
    return out;
  }
  if (LooksLikeIpv6(s)) {
    std::string z(s);
    std::array<uint8_t, 16> buf{};
    if (inet_pton(AF_INET6, z.c_str(), buf.data()) != 1) return std::nullopt;
    return IpBytes(buf.begin(), buf.end());
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Case folding for the ignore-case matchers: one-to-one lower-casing of ASCII,
// Latin-1, Latin Extended-A, Greek and Cyrillic letters, compared code point by
// code point (bytes that are not UTF-8 compare as themselves).

uint32_t LowerCodePoint(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;  // Latin-1
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F) {  // Latin Extended-A: upper/lower pairs
    if (c == 0x130) return 'i';
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek
  if (c == 0x386) return 0x3AC;                               // Greek with tonos
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;  // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// Decodes the code point at s[*i] and advances; a byte that does not start a valid
// sequence is returned as itself (offset past the code point range) and skipped.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const unsigned char b = static_cast<unsigned char>(s[*i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return 0x110000u + b;
  }
  uint32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) {
    const unsigned char n = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((n & 0xC0) != 0x80) {
      ++*i;
      return 0x110000u + b;
    }
    c = (c << 6) | (n & 0x3F);
  }
  *i += static_cast<size_t>(len);
  return c;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp >= 0x110000u) {
    out->push_back(static_cast<char>(cp - 0x110000u));
  } else if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) AppendUtf8(&out, LowerCodePoint(NextCodePoint(s, &i)));
  return out;
}

// The code points of `s`, lower-cased (for suffix comparisons).
std::vector<uint32_t> FoldedCodePoints(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) out.push_back(LowerCodePoint(NextCodePoint(s, &i)));
  return out;
}

// ---------------------------------------------------------------------------
// Wildcards: `*` any run, `\*` a star, `\\` a backslash.

struct WildcardToken {
  bool star = false;
  char c = 0;
};

// Parses wildcard text; on error the message counts byte positions from the opening
// quote event-ruler puts before the value.
std::variant<std::vector<WildcardToken>, std::string> ParseWildcard(std::string_view text) {
  std::vector<WildcardToken> out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*') {
        return "Consecutive wildcard characters at pos " + std::to_string(i + 1);
      }
      out.push_back({true, 0});
    } else if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '\\')) {
        out.push_back({false, text[i + 1]});
        ++i;
        continue;
      }
      return "Invalid escape character at pos " + std::to_string(i + 1);
    } else {
      out.push_back({false, c});
    }
  }
  return out;
}

bool WildcardMatch(const std::vector<WildcardToken>& p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && !p[pi].star && p[pi].c == s[si]) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi].star) {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi].star) ++pi;
  return pi == p.size();
}

// ---------------------------------------------------------------------------
// Leaves of an event: every scalar reached by a dotted path (arrays are
// transparent). A leaf is looked at where it lies in the event; nothing is copied.

enum class LeafKind { kString, kNumber, kTrue, kFalse, kNull };

struct LeafValue {
  LeafKind kind = LeafKind::kNull;
  std::string_view text;  // the string, or the number's text
  std::optional<int64_t> number;
  char buffer[40];  // a number's text

  explicit LeafValue(const Json& v) {
    switch (v.type()) {
      case Json::value_t::string:
        kind = LeafKind::kString;
        text = v.get_ref<const std::string&>();
        return;
      case Json::value_t::boolean:
        kind = v.get<bool>() ? LeafKind::kTrue : LeafKind::kFalse;
        return;
      case Json::value_t::number_integer: {
        kind = LeafKind::kNumber;
        const int64_t i = v.get<int64_t>();
        text = Print(i);
        if (i >= -5'000'000'000LL && i <= 5'000'000'000LL) number = i * 1'000'000;
        return;
      }
      case Json::value_t::number_unsigned: {
        kind = LeafKind::kNumber;
        const uint64_t u = v.get<uint64_t>();
        text = Print(u);
        if (u <= 5'000'000'000ULL) number = static_cast<int64_t>(u) * 1'000'000;
        return;
      }
      case Json::value_t::number_float: {
        kind = LeafKind::kNumber;
        std::string d = v.dump();  // the shortest text that reads back the same
        size_t n = std::min(d.size(), sizeof buffer);
        std::memcpy(buffer, d.data(), n);
        text = std::string_view(buffer, n);
        number = TryComparable(text);
        return;
      }
      default:
        kind = LeafKind::kNull;
        return;
    }
  }

 private:
  template <typename T>
  std::string_view Print(T v) {
    auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string_view(buffer, static_cast<size_t>(r.ptr - buffer));
  }
};

// Whether `s` lower-cased starts with (or, `whole`, equals) `folded`.
bool StartsFolded(std::string_view s, std::string_view folded, bool whole) {
  size_t i = 0, j = 0;
  while (j < folded.size()) {
    if (i >= s.size()) return false;
    if (LowerCodePoint(NextCodePoint(s, &i)) != NextCodePoint(folded, &j)) return false;
  }
  return !whole || i == s.size();
}

bool EqualsFolded(std::string_view s, std::string_view folded) {
  if (s.size() == folded.size()) {  // fast path: ASCII-only equal lengths
    bool ascii = true;
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char a = static_cast<unsigned char>(s[i]);
      if (a >= 0x80 || static_cast<unsigned char>(folded[i]) >= 0x80) {
        ascii = false;
        break;
      }
      if (static_cast<char>(std::tolower(a)) != folded[i]) return false;
    }
    if (ascii) return true;
  }
  return StartsFolded(s, folded, true);
}

// Whether `s` lower-cased ends with the code points `folded`.
bool EndsFolded(std::string_view s, const std::vector<uint32_t>& folded) {
  std::vector<uint32_t> cps = FoldedCodePoints(s);
  if (cps.size() < folded.size()) return false;
  return std::equal(folded.begin(), folded.end(),
                    cps.end() - static_cast<std::ptrdiff_t>(folded.size()));
}

// One array element passed on the way to a leaf.
struct ArrayStep {
  const Json* array;
  size_t index;
};

// ---------------------------------------------------------------------------
// A JSON reader that keeps Jackson's notion of position, so validation errors name
// the same line and column AWS does.

enum class Tok {
  kStartObject,
  kEndObject,
  kStartArray,
  kEndArray,
  kFieldName,
  kString,
  kInt,
  kFloat,
  kTrue,
  kFalse,
  kNull,
  kEnd,
};

struct SyntaxError {
  std::string reason;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  // The next token; throws SyntaxError on malformed JSON.
  Tok Next() {
    if (pending_) {
      Tok t = *pending_;
      pending_.reset();
      if (t == Tok::kStartArray) ctx_.push_back({false, false});
      if (t == Tok::kStartObject) ctx_.push_back({true, false});
      current_ = t;
      return t;
    }
    if (incomplete_) FinishString();
    int c = SkipSpace();
    if (c < 0) {
      if (!ctx_.empty()) {
        Fail(std::string("Unexpected end-of-input: expected close marker for ") +
             (ctx_.back().object ? "Object" : "Array"));
      }
      current_ = Tok::kEnd;
      return Tok::kEnd;
    }
    if (c == ']' || c == '}') {
      ++pos_;
      if (ctx_.empty() || ctx_.back().object != (c == '}')) {
        Fail(std::string("Unexpected close marker '") + static_cast<char>(c) + "'");
      }
      ctx_.pop_back();
      if (!ctx_.empty()) ctx_.back().has_items = true;
      current_ = c == ']' ? Tok::kEndArray : Tok::kEndObject;
      return current_;
    }
    if (!ctx_.empty() && ctx_.back().has_items) {
      ++pos_;
      if (c != ',') {
        Fail(Unexpected(c) + ": was expecting comma to separate " +
             (ctx_.back().object ? "Object" : "Array") + " entries");
      }
      c = SkipSpace();
      if (c < 0) Fail("Unexpected end-of-input within/between entries");
    }
    if (!ctx_.empty()) ctx_.back().has_items = true;
    if (!ctx_.empty() && ctx_.back().object) {
      ++pos_;
      if (c != '"') Fail(Unexpected(c) + ": was expecting double-quote to start field name");
      name_ = ReadStringBody();
      c = SkipSpace();
      ++pos_;
      if (c != ':') {
        Fail(Unexpected(c) + ": was expecting a colon to separate field name and value");
      }
      c = SkipSpace();
      pending_ = BeginValue(c);
      current_ = Tok::kFieldName;
      return current_;
    }
    Tok t = BeginValue(c);
    if (t == Tok::kStartArray) ctx_.push_back({false, false});
    if (t == Tok::kStartObject) ctx_.push_back({true, false});
    current_ = t;
    return t;
  }

  // The text of the current token (finishing a string token first).
  std::string Text() {
    switch (current_) {
      case Tok::kFieldName:
        return name_;
      case Tok::kString:
        if (incomplete_) FinishString();
        return text_;
      case Tok::kInt:
      case Tok::kFloat:
        return text_;
      case Tok::kTrue:
        return "true";
      case Tok::kFalse:
        return "false";
      case Tok::kNull:
        return "null";
      case Tok::kStartObject:
        return "{";
      case Tok::kEndObject:
        return "}";
      case Tok::kStartArray:
        return "[";
      case Tok::kEndArray:
        return "]";
      case Tok::kEnd:
        return "";
    }
    return "";
  }

  const std::string& CurrentName() const { return name_; }

  // Jackson's "[Source: (String)"..."; line: L, column: C]" for the current position.
  std::string Location() const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        line_start = i + 1;
      } else if (s_[i] == '\r') {
        if (i + 1 < s_.size() && s_[i + 1] == '\n') ++i;
        ++line;
        line_start = i + 1;
      }
    }
    int column = 1;
    for (size_t i = line_start; i < pos_ && i < s_.size(); ++i) {
      unsigned char b = static_cast<unsigned char>(s_[i]);
      if ((b & 0xC0) == 0x80) continue;  // continuation byte
      column += (b >= 0xF0) ? 2 : 1;     // Java counts UTF-16 units
    }
    std::string source;
    constexpr size_t kMaxSource = 500;
    size_t units = 0;
    size_t cut = s_.size();
    for (size_t i = 0; i < s_.size(); ++i) {
      unsigned char b = static_cast<unsigned char>(s_[i]);
      if ((b & 0xC0) == 0x80) continue;
      if (units >= kMaxSource) {
        cut = i;
        break;
      }
      units += (b >= 0xF0) ? 2 : 1;
    }
    source = "(String)\"" + std::string(s_.substr(0, cut)) + "\"";
    if (cut < s_.size()) {
      size_t rest = 0;
      for (size_t i = cut; i < s_.size(); ++i) {
        unsigned char b = static_cast<unsigned char>(s_[i]);
        if ((b & 0xC0) != 0x80) rest += (b >= 0xF0) ? 2 : 1;
      }
      source += "[truncated " + std::to_string(rest) + " chars]";
    }
    return "[Source: " + source + "; line: " + std::to_string(line) +
           ", column: " + std::to_string(column) + "]";
  }

  [[noreturn]] void Fail(const std::string& reason) const { throw SyntaxError{reason}; }

 private:
  struct Context {
    bool object;
    bool has_items;
  };

  static std::string Unexpected(int c) {
    if (c < 32) return "Unexpected character ((CTRL-CHAR, code " + std::to_string(c) + "))";
    return "Unexpected character ('" + std::string(1, static_cast<char>(c)) + "' (code " +
           std::to_string(c) + "))";
  }

  // Skips whitespace; the next character (not consumed) or -1 at the end.
  int SkipSpace() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
        continue;
      }
      return static_cast<unsigned char>(c);
    }
    return -1;
  }

  // Consumes the first character of a value (all of a number or literal).
  Tok BeginValue(int c) {
    if (c < 0) Fail("Unexpected end-of-input: expected a value");
    switch (c) {
      case '"':
        ++pos_;
        incomplete_ = true;
        return Tok::kString;
      case '[':
        ++pos_;
        return Tok::kStartArray;
      case '{':
        ++pos_;
        return Tok::kStartObject;
      case 't':
        return Literal("true", Tok::kTrue);
      case 'f':
        return Literal("false", Tok::kFalse);
      case 'n':
        return Literal("null", Tok::kNull);
      default:
        break;
    }
    if (c == '-' || std::isdigit(c)) return ReadNumber();
    ++pos_;
    Fail(Unexpected(c) +
         ": expected a valid value (JSON String, Number, Array, Object or token 'null', "
         "'true' or 'false')");
  }

  Tok Literal(std::string_view word, Tok tok) {
    size_t start = pos_;
    size_t end = start;
    while (end < s_.size() && std::isalnum(static_cast<unsigned char>(s_[end]))) ++end;
    if (s_.substr(start, end - start) != word) {
      pos_ = end;
      Fail("Unrecognized token '" + std::string(s_.substr(start, end - start)) +
           "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
           "'false')");
    }
    pos_ = end;
    return tok;
  }

  Tok ReadNumber() {
    size_t start = pos_;
    bool is_float = false;
    if (s_[pos_] == '-') ++pos_;
    size_t int_start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == int_start) {
      Fail(
          "Unexpected character: expected digit (0-9) to follow minus sign, for valid numeric "
          "value");
    }
    if (pos_ - int_start > 1 && s_[int_start] == '0') {
      Fail("Invalid numeric value: Leading zeroes not allowed");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      size_t f = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == f) Fail("Unexpected character: Decimal point not followed by a digit");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      size_t e = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == e) Fail("Unexpected character: Exponent indicator not followed by a digit");
    }
    text_ = std::string(s_.substr(start, pos_ - start));
    return is_float ? Tok::kFloat : Tok::kInt;
  }

  void FinishString() {
    text_ = ReadStringBody();
    incomplete_ = false;
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  uint32_t Hex4() {
    if (pos_ + 4 > s_.size()) Fail("Unexpected end-of-input in character escape sequence");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        v |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        v |= h - 'A' + 10;
      } else {
        Fail("Unexpected character: expected a hex-digit for character escape sequence");
      }
    }
    return v;
  }

  // Reads a string's body after its opening quote, through the closing quote.
  std::string ReadStringBody() {
    std::string out;
    while (true) {
      if (pos_ >= s_.size())
        Fail("Unexpected end-of-input: was expecting closing quote for a string value");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 32) {
        Fail("Illegal unquoted character ((CTRL-CHAR, code " + std::to_string(static_cast<int>(c)) +
             ")): has to be escaped using backslash to be included in string value");
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) Fail("Unexpected end-of-input in character escape sequence");
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 <= s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            pos_ += 2;
            uint32_t lo = Hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(&out, cp);
          break;
        }
        default:
          Fail("Unrecognized character escape '" + std::string(1, e) + "' (code " +
               std::to_string(static_cast<int>(e)) + ")");
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::vector<Context> ctx_;
  std::optional<Tok> pending_;
  bool incomplete_ = false;
  Tok current_ = Tok::kEnd;
  std::string name_;
  std::string text_;
};

bool IsNumeric(Tok t) { return t == Tok::kInt || t == Tok::kFloat; }

}  // namespace

// ---------------------------------------------------------------------------
// The compiled pattern: a list of alternatives (one per `$or` branch), each a map
// from dotted path to the matchers of that field.

namespace {

enum class MatchKind {
  kExactString,
  kExactNumber,
  kTrue,
  kFalse,
  kNull,
  kIpRange,  // an exact IP string or a cidr
  kPrefix,
  kPrefixIgnoreCase,
  kSuffix,
  kSuffixIgnoreCase,
  kEqualsIgnoreCase,
  kWildcard,
  kNumericRange,
  kExists,
  kAbsent,
  kAnythingButStrings,
  kAnythingButNumbers,
  kAnythingButPrefix,
  kAnythingButSuffix,
  kAnythingButIgnoreCase,
  kAnythingButWildcard,
};

struct Matcher {
  MatchKind kind = MatchKind::kExactString;
  std::string text;                   // exact/prefix/suffix/equals-ignore-case (folded)
  std::vector<uint32_t> code_points;  // suffix-ignore-case: `text` as code points
  std::optional<int64_t> number;      // kExactNumber when comparable
  std::vector<std::string> values;    // anything-but strings (folded for ignore-case)
  std::vector<int64_t> numbers;       // anything-but numbers
  std::vector<std::vector<WildcardToken>> wildcards;  // wildcard / anything-but wildcard
  // numeric range
  bool has_low = false, low_open = false, has_high = false, high_open = false;
  int64_t low = 0, high = 0;
  // ip range
  IpBytes ip_low, ip_high;

  bool Accepts(const LeafValue& leaf) const;
};

bool Matcher::Accepts(const LeafValue& leaf) const {
  const bool is_string = leaf.kind == LeafKind::kString;
  const std::string_view v = leaf.text;
  auto starts = [&](std::string_view p) {
    return v.size() >= p.size() && v.substr(0, p.size()) == p;
  };
  auto ends = [&](std::string_view p) {
    return v.size() >= p.size() && v.substr(v.size() - p.size()) == p;
  };
  switch (kind) {
    case MatchKind::kExactString:
      return is_string && v == text;
    case MatchKind::kExactNumber:
      if (leaf.kind != LeafKind::kNumber) return false;
      if (number && leaf.number) return *number == *leaf.number;
      return v == text;
    case MatchKind::kTrue:
      return leaf.kind == LeafKind::kTrue;
    case MatchKind::kFalse:
      return leaf.kind == LeafKind::kFalse;
    case MatchKind::kNull:
      return leaf.kind == LeafKind::kNull;
    case MatchKind::kIpRange: {
      if (!is_string || !LooksLikeIp(v)) return false;
      std::optional<IpBytes> ip = ParseIp(v);
      if (!ip || ip->size() != ip_low.size()) return false;
      return *ip >= ip_low && *ip <= ip_high;
    }
    case MatchKind::kPrefix:
      return is_string && starts(text);
    case MatchKind::kPrefixIgnoreCase:
      return is_string && StartsFolded(v, text, false);
    case MatchKind::kSuffix:
      return is_string && ends(text);
    case MatchKind::kSuffixIgnoreCase:
      return is_string && EndsFolded(v, code_points);
    case MatchKind::kEqualsIgnoreCase:
      return is_string && EqualsFolded(v, text);
    case MatchKind::kWildcard:
      return is_string && WildcardMatch(wildcards[0], v);
    case MatchKind::kNumericRange: {
      if (leaf.kind != LeafKind::kNumber || !leaf.number) return false;
      const int64_t n = *leaf.number;
      if (has_low && (low_open ? n <= low : n < low)) return false;
      if (has_high && (high_open ? n >= high : n > high)) return false;
      return true;
    }
    case MatchKind::kExists:
      return true;
    case MatchKind::kAbsent:
      return false;  // handled by the field
    case MatchKind::kAnythingButStrings:
      if (!is_string) return true;
      return std::find(values.begin(), values.end(), v) == values.end();
    case MatchKind::kAnythingButNumbers:
      if (leaf.kind != LeafKind::kNumber || !leaf.number) return true;
      return std::find(numbers.begin(), numbers.end(), *leaf.number) == numbers.end();
    case MatchKind::kAnythingButPrefix:
      if (!is_string) return true;
      for (const std::string& p : values) {
        if (starts(p)) return false;
      }
      return true;
    case MatchKind::kAnythingButSuffix:
      if (!is_string) return true;
      for (const std::string& p : values) {
        if (ends(p)) return false;
      }
      return true;
    case MatchKind::kAnythingButIgnoreCase:
      if (!is_string) return true;
      for (const std::string& p : values) {
        if (EqualsFolded(v, p)) return false;
      }
      return true;
    case MatchKind::kAnythingButWildcard:
      if (!is_string) return true;
      for (const auto& w : wildcards) {
        if (WildcardMatch(w, v)) return false;
      }
      return true;
  }
  return false;
}

using MatcherList = std::vector<Matcher>;

// A small number per distinct field path, shared by all patterns (process-wide).
int InternPath(const std::string& path) {
  static std::mutex mu;
  static std::unordered_map<std::string, int> ids;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = ids.emplace(path, static_cast<int>(ids.size()) + 1);
  return it->second;
}

struct Field {
  std::string path;                // dotted, as event-ruler names it
  int path_id = 0;                 // the same for every field with this path
  std::vector<std::string> steps;  // the path split at every dot
  // joins[i][k]: steps i..i+k joined with dots (a key may itself contain dots)
  std::vector<std::vector<std::string>> joins;
  std::shared_ptr<const MatcherList> matchers;
  bool allows_absent = false;

  bool Accepts(const LeafValue& leaf) const {
    for (const Matcher& m : *matchers) {
      if (m.Accepts(leaf)) return true;
    }
    return false;
  }
};

using Alternative = std::map<std::string, std::shared_ptr<const MatcherList>>;

// Thrown by the compiler: the reason and whether Jackson's location follows it.
struct PatternError {
  std::string reason;
  bool with_location = true;
};

constexpr const char* kReservedInOr[] = {
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
};

// Mirrors event-ruler's JsonRuleCompiler token by token, so that errors arise in
// the same order and at the same positions.
class Compiler {
 public:
  explicit Compiler(Reader* r) : r_(*r) {}

  std::vector<Alternative> Compile() {
    std::vector<Alternative> rules;
    if (r_.Next() != Tok::kStartObject) Barf("Filter is not an object");
    ParseObject(&rules, "", false);
    return rules;
  }

 private:
  [[noreturn]] void Barf(const std::string& reason) { throw PatternError{reason, true}; }

  static std::string Extend(const std::string& path, const std::string& step) {
    return path.empty() ? step : path + "." + step;
  }

  void ParseObject(std::vector<Alternative>* rules, const std::string& path, bool in_or) {
    bool fields = false;
    while (r_.Next() != Tok::kEndObject) {
      fields = true;
      const std::string step = r_.CurrentName();
      if (step == "$or") {
        ParseOr(rules, path);
        continue;
      }
      if (in_or) {
        for (const char* reserved : kReservedInOr) {
          if (step == reserved) {
            Barf(step + " is Ruler reserved fieldName which cannot be used inside $or.");
          }
        }
      }
      switch (r_.Next()) {
        case Tok::kStartObject:
          ParseObject(rules, Extend(path, step), in_or);
          break;
        case Tok::kStartArray:
          WriteRules(rules, Extend(path, step));
          break;
        default:
          Barf("\"" + step + "\" must be an object or an array");
      }
    }
    if (!fields) Barf("Empty objects are not allowed");
  }

  void ParseOr(std::vector<Alternative>* rules, const std::string& path) {
    const std::vector<Alternative> current = *rules;
    rules->clear();
    if (r_.Next() != Tok::kStartArray) Barf("It must be an Array followed with $or.");
    int count = 0;
    Tok t;
    while ((t = r_.Next()) != Tok::kEndArray) {
      ++count;
      if (t != Tok::kStartObject) Barf("Only JSON object is allowed in array of $or relationship.");
      std::vector<Alternative> fresh = current;
      if (fresh.empty()) fresh.emplace_back();
      ParseObject(&fresh, path, true);
      rules->insert(rules->end(), fresh.begin(), fresh.end());
    }
    if (count < 2) Barf("There must have at least 2 Objects in $or relationship.");
  }

  void WriteRules(std::vector<Alternative>* rules, const std::string& name) {
    auto values = std::make_shared<MatcherList>();
    Tok t;
    while ((t = r_.Next()) != Tok::kEndArray) {
      switch (t) {
        case Tok::kStartObject:
          values->push_back(MatchExpression());
          break;
        case Tok::kString: {
          std::string s = r_.Text();
          Matcher m;
          std::optional<IpBytes> ip = LooksLikeIp(s) ? ParseIp(s) : std::nullopt;
          if (ip) {
            m.kind = MatchKind::kIpRange;
            m.ip_low = m.ip_high = *ip;
          } else {
            m.kind = MatchKind::kExactString;
            m.text = s;
          }
          values->push_back(std::move(m));
          break;
        }
        case Tok::kInt:
        case Tok::kFloat: {
          Matcher m;
          m.kind = MatchKind::kExactNumber;
          m.text = r_.Text();
          m.number = TryComparable(m.text);
          values->push_back(std::move(m));
          break;
        }
        case Tok::kNull:
        case Tok::kTrue:
        case Tok::kFalse: {
          Matcher m;
          m.kind = t == Tok::kNull ? MatchKind::kNull
                                   : (t == Tok::kTrue ? MatchKind::kTrue : MatchKind::kFalse);
          values->push_back(std::move(m));
          break;
        }
        default:
          Barf("Match value must be String, number, true, false, or null");
      }
    }
    if (values->empty()) Barf("Empty arrays are not allowed");
    if (rules->empty()) rules->emplace_back();
    for (Alternative& rule : *rules) rule[name] = values;  // a repeated path: the last wins
  }

  void ExpectEndObject() {
    if (r_.Next() != Tok::kEndObject) Barf("Only one key allowed in match expression");
  }

  Matcher StringMatcher(MatchKind kind, const std::string& error) {
    if (r_.Next() != Tok::kString) Barf(error);
    Matcher m;
    m.kind = kind;
    m.text = r_.Text();
    return m;
  }

  Matcher MatchExpression() {
    if (r_.Next() != Tok::kFieldName) Barf("Match expression name not found");
    const std::string type = r_.CurrentName();
    if (type == "exactly") {
      Matcher m = StringMatcher(MatchKind::kExactString, "exact match pattern must be a string");
      ExpectEndObject();
      return m;
    }
    if (type == "prefix" || type == "suffix") {
      const bool prefix = type == "prefix";
      Tok t = r_.Next();
      if (t == Tok::kStartObject) return IgnoreCaseAffix(prefix);
      if (t != Tok::kString) Barf(type + " match pattern must be a string");
      Matcher m;
      m.kind = prefix ? MatchKind::kPrefix : MatchKind::kSuffix;
      m.text = r_.Text();
      ExpectEndObject();
      return m;
    }
    if (type == "numeric") {
      if (r_.Next() != Tok::kStartArray) Barf("Value of numeric must be an array.");
      Matcher m = Numeric();
      if (r_.Next() != Tok::kEndObject) Barf("Too many elements in numeric expression");
      return m;
    }
    if (type == "anything-but") return AnythingBut();
    if (type == "exists") {
      Tok t = r_.Next();
      Matcher m;
      if (t == Tok::kTrue) {
        m.kind = MatchKind::kExists;
      } else if (t == Tok::kFalse) {
        m.kind = MatchKind::kAbsent;
      } else {
        Barf("exists match pattern must be either true or false.");
      }
      ExpectEndObject();
      return m;
    }
    if (type == "cidr") {
      if (r_.Next() != Tok::kString) Barf("prefix match pattern must be a string");
      Matcher m = Cidr(r_.Text());
      ExpectEndObject();
      return m;
    }
    if (type == "equals-ignore-case") {
      Matcher m = StringMatcher(MatchKind::kEqualsIgnoreCase,
                                "equals-ignore-case match pattern must be a string");
      m.text = Fold(m.text);
      ExpectEndObject();
      return m;
    }
    if (type == "wildcard") {
      if (r_.Next() != Tok::kString) Barf("wildcard match pattern must be a string");
      Matcher m;
      m.kind = MatchKind::kWildcard;
      m.wildcards.push_back(Wildcard(r_.Text()));
      ExpectEndObject();
      return m;
    }
    Barf("Unrecognized match type " + type);
  }

  std::vector<WildcardToken> Wildcard(const std::string& text) {
    auto parsed = ParseWildcard(text);
    if (auto* e = std::get_if<std::string>(&parsed)) Barf(*e);
    return std::get<std::vector<WildcardToken>>(std::move(parsed));
  }

  Matcher IgnoreCaseAffix(bool prefix) {
    if (r_.Next() != Tok::kFieldName) {
      Barf(prefix ? "Prefix expression name not found" : "Suffix expression name not found");
    }
    const std::string op = r_.CurrentName();
    if (op != "equals-ignore-case") {
      Barf((prefix ? "Unsupported prefix pattern: " : "Unsupported suffix pattern: ") + op);
    }
    if (r_.Next() != Tok::kString) Barf("equals-ignore-case match pattern must be a string");
    Matcher m;
    m.kind = prefix ? MatchKind::kPrefixIgnoreCase : MatchKind::kSuffixIgnoreCase;
    m.text = Fold(r_.Text());
    m.code_points = FoldedCodePoints(m.text);
    ExpectEndObject();
    ExpectEndObject();
    return m;
  }

  int64_t NumberOrBarf(const std::string& text) {
    auto n = ComparableNumber(text);
    if (auto* e = std::get_if<NumberError>(&n)) Barf(e->message);
    return std::get<int64_t>(n);
  }

  Matcher Numeric() {
    Tok t = r_.Next();
    if (t != Tok::kString) Barf("Invalid member in numeric match: " + r_.Text());
    const std::string op = r_.Text();
    t = r_.Next();
    Matcher m;
    m.kind = MatchKind::kNumericRange;
    if (op == "=") {
      if (!IsNumeric(t)) Barf("Value of equals must be numeric");
      const std::string v = r_.Text();
      if (r_.Next() != Tok::kEndArray) Barf("Too many elements in numeric expression");
      m.has_low = m.has_high = true;
      m.low = m.high = NumberOrBarf(v);
      return m;
    }
    if (op == ">=" || op == ">") {
      if (!IsNumeric(t)) Barf("Value of " + op + " must be numeric");
      const std::string low = r_.Text();
      t = r_.Next();
      m.has_low = true;
      m.low_open = op == ">";
      if (t == Tok::kEndArray) {
        m.low = NumberOrBarf(low);
        return m;
      }
      if (t != Tok::kString) Barf("Bad value in numeric range: " + r_.Text());
      const std::string top_op = r_.Text();
      if (top_op != "<" && top_op != "<=") Barf("Bad numeric range operator: " + top_op);
      if (!IsNumeric(r_.Next())) Barf("Value of " + top_op + " must be numeric");
      const std::string high = r_.Text();
      if (r_.Next() != Tok::kEndArray) Barf("Too many terms in numeric range expression");
      m.low = NumberOrBarf(low);
      m.has_high = true;
      m.high_open = top_op == "<";
      m.high = NumberOrBarf(high);
      if (m.low >= m.high) Barf("Bottom must be less than top");
      return m;
    }
    if (op == "<=" || op == "<") {
      if (!IsNumeric(t)) Barf("Value of " + op + " must be numeric");
      const std::string high = r_.Text();
      if (r_.Next() != Tok::kEndArray) Barf("Too many elements in numeric expression");
      m.has_high = true;
      m.high_open = op == "<";
      m.high = NumberOrBarf(high);
      return m;
    }
    Barf("Unrecognized numeric range operator: " + op);
  }

  Matcher Cidr(const std::string& text) {
    // event-ruler raises these outside the JSON parser, so they carry no location.
    auto fail = [](const std::string& reason) { throw PatternError{reason, false}; };
    size_t slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos ||
        slash + 1 == text.size()) {
      fail("Malformed CIDR, one '/' required");
    }
    const std::string bits_text = text.substr(slash + 1);
    int bits = 0;
    {
      size_t i = 0;
      bool negative = false;
      if (bits_text[0] == '-' || bits_text[0] == '+') {
        negative = bits_text[0] == '-';
        i = 1;
      }
      if (i == bits_text.size()) fail("Malformed CIDR, mask bits must be an integer");
      long long v = 0;
      for (; i < bits_text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(bits_text[i])) || v > 1'000'000'000) {
          fail("Malformed CIDR, mask bits must be an integer");
        }
        v = v * 10 + (bits_text[i] - '0');
      }
      if (negative && v > 0) fail("Malformed CIDR, mask bits must not be negative");
      bits = static_cast<int>(v);
    }
    const std::string ip_text = text.substr(0, slash);
    std::optional<IpBytes> ip;
    if (LooksLikeIp(ip_text)) {
      ip = ParseIp(ip_text);
      if (!ip) fail("Invalid IP address: " + ip_text);
    } else {
      fail("Nonstandard IP address: " + ip_text);
    }
    if (ip->size() == 4 && bits > 31) fail("IPv4 mask bits must be < 32");
    if (ip->size() == 16 && bits > 127) fail("IPv6 mask bits must be < 128");
    Matcher m;
    m.kind = MatchKind::kIpRange;
    m.ip_low = m.ip_high = *ip;
    for (size_t b = 0; b < ip->size() * 8; ++b) {
      if (static_cast<int>(b) < bits) continue;
      const uint8_t bit = static_cast<uint8_t>(0x80 >> (b % 8));
      m.ip_low[b / 8] &= static_cast<uint8_t>(~bit);
      m.ip_high[b / 8] |= bit;
    }
    return m;
  }

  Matcher AnythingBut() {
    enum class Form { kValues, kIgnoreCase, kPrefix, kSuffix, kWildcard } form = Form::kValues;
    Tok t = r_.Next();
    if (t == Tok::kStartObject) {
      if (r_.Next() != Tok::kFieldName) Barf("Anything-But expression name not found");
      const std::string op = r_.CurrentName();
      if (op == "equals-ignore-case") {
        form = Form::kIgnoreCase;
      } else if (op == "prefix") {
        form = Form::kPrefix;
      } else if (op == "suffix") {
        form = Form::kSuffix;
      } else if (op == "wildcard") {
        form = Form::kWildcard;
      } else {
        Barf("Unsupported anything-but pattern: " + op);
      }
      t = r_.Next();
    }
    if (t != Tok::kStartArray && t != Tok::kString && !IsNumeric(t)) {
      Barf("Value of anything-but must be an array or single string/number value.");
    }
    Matcher m;
    if (form == Form::kValues) {
      bool has_number = false, has_string = false;
      auto add = [&](Tok tok, const char* bad) {
        if (tok == Tok::kString) {
          std::string v = r_.Text();
          if (std::find(m.values.begin(), m.values.end(), v) == m.values.end()) {
            m.values.push_back(std::move(v));
          }
          has_string = true;
        } else if (IsNumeric(tok)) {
          auto n = ComparableNumber(r_.Text());
          if (auto* e = std::get_if<NumberError>(&n)) {
            // A single number's error escapes event-ruler's parser: no location.
            throw PatternError{e->message, t == Tok::kStartArray};
          }
          m.numbers.push_back(std::get<int64_t>(n));
          has_number = true;
        } else {
          Barf(bad);
        }
      };
      if (t == Tok::kStartArray) {
        Tok e;
        while ((e = r_.Next()) != Tok::kEndArray) {
          add(e, "Inside anything but list, start|null|boolean is not supported.");
        }
        if (has_number == has_string) {
          Barf(
              "Inside anything but list, either all values are number or string, mixed type "
              "is not supported");
        }
      } else {
        add(t, "Inside anything-but list, start|null|boolean is not supported.");
      }
      m.kind = has_number ? MatchKind::kAnythingButNumbers : MatchKind::kAnythingButStrings;
    } else {
      const char* bad = form == Form::kIgnoreCase
                            ? "Inside anything-but/equals-ignore-case list, "
                              "number|start|null|boolean is not supported."
                            : (form == Form::kWildcard ? "wildcard match pattern must be a string"
                                                       : "prefix/suffix match pattern must be a "
                                                         "string");
      std::vector<std::string> texts;
      auto add = [&](Tok tok) {
        if (tok != Tok::kString) Barf(bad);
        std::string v = r_.Text();
        if ((form == Form::kPrefix || form == Form::kSuffix) && v.empty()) {
          Barf("Null prefix/suffix not allowed");
        }
        texts.push_back(std::move(v));
      };
      if (t == Tok::kStartArray) {
        Tok e;
        while ((e = r_.Next()) != Tok::kEndArray) add(e);
      } else {
        add(t);
      }
      switch (form) {
        case Form::kIgnoreCase:
          m.kind = MatchKind::kAnythingButIgnoreCase;
          for (const auto& v : texts) m.values.push_back(Fold(v));
          break;
        case Form::kPrefix:
          m.kind = MatchKind::kAnythingButPrefix;
          m.values = texts;
          break;
        case Form::kSuffix:
          m.kind = MatchKind::kAnythingButSuffix;
          m.values = texts;
          break;
        case Form::kWildcard:
          m.kind = MatchKind::kAnythingButWildcard;
          for (const auto& v : texts) m.wildcards.push_back(Wildcard(v));
          break;
        case Form::kValues:
          break;
      }
    }
    if (r_.Next() != Tok::kEndObject) Barf("Too many elements in numeric expression");
    if (form != Form::kValues && r_.Next() != Tok::kEndObject) {
      Barf("Too many elements in numeric expression");
    }
    return m;
  }

  Reader& r_;
};

}  // namespace

struct EventPattern::Node {
  struct CompiledAlternative {
    std::vector<Field> fields;
  };
  std::vector<CompiledAlternative> alternatives;
};

namespace {

// Calls visit(leaf) for each leaf at steps[i..] under `node`, with the array
// elements passed on the way pushed on `trail`; stops at the first visit that
// returns true.
template <typename Visit>
bool WalkLeaves(const Json& node, const Field& f, size_t i, bool dotted,
                std::vector<ArrayStep>* trail, Visit& visit) {
  if (node.is_array()) {
    for (size_t k = 0; k < node.size(); ++k) {
      trail->push_back({&node, k});
      const bool done = WalkLeaves(node[k], f, i, dotted, trail, visit);
      trail->pop_back();
      if (done) return true;
    }
    return false;
  }
  if (i == f.steps.size()) return !node.is_object() && visit(node);
  if (!node.is_object()) return false;
  // Keys with dots collide with nesting (event-ruler names both "a.b"): when the
  // event has such keys, steps i..i+k may be one key.
  const auto& joins = f.joins[i];
  const size_t count = dotted ? joins.size() : 1;
  for (size_t k = 0; k < count; ++k) {
    auto it = node.find(joins[k]);
    if (it != node.end() && WalkLeaves(*it, f, i + k + 1, dotted, trail, visit)) return true;
  }
  return false;
}

// Whether any object key in `v` contains a dot.
bool HasDottedKey(const Json& v);

// A chosen leaf's array steps: EventView::trails()[begin, end).
struct Chosen {
  uint32_t begin, end;
};

// One event as the matchers see it: the leaves of each field path, found once per
// event and shared by every pattern that names the path.
class EventView {
 public:
  struct CachedLeaf {
    const Json* value;
    uint32_t trail_begin, trail_end;  // its array steps in trails()
  };
  // Leaves [begin, end) of leaf(); indices, as finding other paths' leaves may
  // move them.
  struct Span {
    uint32_t begin, end;
  };

  explicit EventView(const Json& event) : event_(event), dotted_(HasDottedKey(event)) {}

  const Json& event() const { return event_; }
  const std::vector<ArrayStep>& trails() const { return trails_; }
  const CachedLeaf& leaf(uint32_t i) const { return leaves_[i]; }
  // Reused by each match against this event (the leaves chosen so far).
  std::vector<Chosen>& scratch() { return scratch_; }

  Span Leaves(const Field& f) {
    for (const Cached& c : cache_) {
      if (c.path_id == f.path_id) return {c.begin, c.end};
    }
    const uint32_t begin = static_cast<uint32_t>(leaves_.size());
    std::vector<ArrayStep> trail;
    auto collect = [&](const Json& leaf) {
      const uint32_t t0 = static_cast<uint32_t>(trails_.size());
      trails_.insert(trails_.end(), trail.begin(), trail.end());
      leaves_.push_back({&leaf, t0, static_cast<uint32_t>(trails_.size())});
      return false;
    };
    WalkLeaves(event_, f, 0, dotted_, &trail, collect);
    const uint32_t end = static_cast<uint32_t>(leaves_.size());
    cache_.push_back({f.path_id, begin, end});
    return {begin, end};
  }

 private:
  struct Cached {
    int path_id;
    uint32_t begin, end;
  };
  const Json& event_;
  const bool dotted_;
  std::vector<Cached> cache_;
  std::vector<CachedLeaf> leaves_;
  std::vector<ArrayStep> trails_;
  std::vector<Chosen> scratch_;
};

// Whether a leaf's array steps agree with those of the leaves already chosen:
// never two elements of one array.
bool Consistent(const std::vector<ArrayStep>& trails, const EventView::CachedLeaf& leaf,
                const std::vector<Chosen>& chosen) {
  for (uint32_t i = leaf.trail_begin; i < leaf.trail_end; ++i) {
    for (const Chosen& c : chosen) {
      for (uint32_t j = c.begin; j < c.end; ++j) {
        if (trails[i].array == trails[j].array && trails[i].index != trails[j].index) {
          return false;
        }
      }
    }
  }
  return true;
}

// Whether some choice of one leaf per field (or none, for a field that allows
// absence) satisfies every field with array-consistent leaves.
bool MatchFields(const std::vector<Field>& fields, size_t i, EventView* view,
                 std::vector<Chosen>* chosen, int known_path) {
  if (i == fields.size()) return true;
  const Field& f = fields[i];
  if (f.path_id == known_path) return MatchFields(fields, i + 1, view, chosen, known_path);
  const EventView::Span leaves = view->Leaves(f);
  if (leaves.begin == leaves.end) {
    return f.allows_absent && MatchFields(fields, i + 1, view, chosen, known_path);
  }
  for (uint32_t k = leaves.begin; k != leaves.end; ++k) {
    const EventView::CachedLeaf leaf = view->leaf(k);
    if (!f.Accepts(LeafValue(*leaf.value))) continue;
    if (leaf.trail_begin != leaf.trail_end && !Consistent(view->trails(), leaf, *chosen)) {
      continue;
    }
    chosen->push_back({leaf.trail_begin, leaf.trail_end});
    const bool ok = MatchFields(fields, i + 1, view, chosen, known_path);
    chosen->pop_back();
    if (ok) return true;
  }
  return false;
}

// `known_path`: a field already known to match (PatternMatcher's index key), or 0.
bool MatchNode(const EventPattern::Node& node, EventView* view, int known_path = 0) {
  if (!view->event().is_object()) return false;
  std::vector<Chosen>& chosen = view->scratch();
  for (const auto& alternative : node.alternatives) {
    chosen.clear();
    if (MatchFields(alternative.fields, 0, view, &chosen, known_path)) return true;
  }
  return false;
}

// Whether any object key in `v` contains a dot.
bool HasDottedKey(const Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key().find('.') != std::string::npos || HasDottedKey(it.value())) return true;
    }
  } else if (v.is_array()) {
    for (const Json& e : v) {
      if (HasDottedKey(e)) return true;
    }
  }
  return false;
}

}  // namespace

Result<EventPattern> EventPattern::Parse(std::string_view text) {
  Reader reader(text);
  std::vector<Alternative> rules;
  try {
    Compiler compiler(&reader);
    rules = compiler.Compile();
  } catch (const PatternError& e) {
    std::string message = "Event pattern is not valid. Reason: " + e.reason;
    if (e.with_location) message += "\n at " + reader.Location();
    return Status::InvalidArgument(message);
  } catch (const SyntaxError& e) {
    return Status::InvalidArgument("Event pattern is not valid. Reason: " + e.reason + "\n at " +
                                   reader.Location());
  }
  auto node = std::make_shared<Node>();
  for (const Alternative& rule : rules) {
    Node::CompiledAlternative alt;
    for (const auto& [path, matchers] : rule) {
      Field f;
      f.path = path;
      f.path_id = InternPath(path);
      size_t start = 0;
      while (true) {
        size_t dot = path.find('.', start);
        f.steps.push_back(path.substr(start, dot == std::string::npos ? dot : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      for (size_t i = 0; i < f.steps.size(); ++i) {
        std::vector<std::string> joins;
        std::string joined;
        for (size_t k = i; k < f.steps.size(); ++k) {
          if (k > i) joined += '.';
          joined += f.steps[k];
          joins.push_back(joined);
        }
        f.joins.push_back(std::move(joins));
      }
      f.matchers = matchers;
      for (const Matcher& m : *matchers) {
        if (m.kind == MatchKind::kAbsent) f.allows_absent = true;
      }
      alt.fields.push_back(std::move(f));
    }
    node->alternatives.push_back(std::move(alt));
  }
  EventPattern p;
  p.text_ = std::string(text);
  p.root_ = std::move(node);
  return p;
}

Result<EventPattern> EventPattern::FromJson(const Json& pattern) { return Parse(pattern.dump()); }

bool EventPattern::Matches(const Json& event) const {
  EventView view(event);
  return MatchNode(*root_, &view);
}

Result<bool> EventPattern::MatchesText(std::string_view event_text) const {
  US_ASSIGN_OR_RETURN(Json json, ParseJson(event_text));
  return Matches(json);
}

std::vector<std::string> EventPattern::RequiredExactStrings(std::string_view path) const {
  std::set<std::string> out;
  if (root_->alternatives.empty()) return {};
  for (const auto& alt : root_->alternatives) {
    const Field* field = nullptr;
    for (const Field& f : alt.fields) {
      if (f.path == path) field = &f;
    }
    if (field == nullptr) return {};
    for (const Matcher& m : *field->matchers) {
      if (m.kind != MatchKind::kExactString) return {};
      out.insert(m.text);
    }
  }
  return {out.begin(), out.end()};
}

// ---------------------------------------------------------------------------

struct PatternMatcher::Index {
  struct Slot {
    std::string id;
    std::optional<EventPattern> pattern;  // empty once removed
    std::string key_path;                 // "" when not indexed
    int key_path_id = 0;
    bool single_alternative = false;  // then a key hit satisfies the key field
    uint32_t rank = 0;                // position of `id` in id order
    std::vector<std::string> keys;
  };
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::map<std::string, uint32_t> by_id;  // in id order
  // key path -> key value -> slots
  struct KeyTable {
    int path_id = 0;
    std::unordered_map<std::string, std::vector<uint32_t>> slots;  // key value -> slots
  };
  std::map<std::string, KeyTable> by_key;
  std::vector<uint32_t> unindexed;

  // Numbers the slots in id order, so matches come out sorted without comparing ids.
  void Rerank() {
    uint32_t rank = 0;
    for (const auto& [id, slot] : by_id) slots[slot].rank = rank++;
  }

  static void Erase(std::vector<uint32_t>* v, uint32_t slot) {
    v->erase(std::remove(v->begin(), v->end(), slot), v->end());
  }
};

PatternMatcher::PatternMatcher() : index_(std::make_unique<Index>()) {}
PatternMatcher::~PatternMatcher() = default;
PatternMatcher::PatternMatcher(PatternMatcher&&) noexcept = default;
PatternMatcher& PatternMatcher::operator=(PatternMatcher&&) noexcept = default;

namespace {
constexpr const char* kIndexPaths[] = {"source", "detail-type"};
}

void PatternMatcher::Add(const std::string& id, EventPattern pattern) {
  Remove(id);
  Index& x = *index_;
  uint32_t slot;
  if (!x.free_slots.empty()) {
    slot = x.free_slots.back();
    x.free_slots.pop_back();
  } else {
    slot = static_cast<uint32_t>(x.slots.size());
    x.slots.emplace_back();
  }
  Index::Slot& s = x.slots[slot];
  s.id = id;
  s.key_path.clear();
  s.keys.clear();
  for (const char* path : kIndexPaths) {
    auto keys = pattern.RequiredExactStrings(path);
    if (!keys.empty()) {
      s.key_path = path;
      s.key_path_id = InternPath(path);
      s.keys = std::move(keys);
      break;
    }
  }
  s.single_alternative = pattern.root_->alternatives.size() == 1;
  s.pattern = std::move(pattern);
  if (s.key_path.empty()) {
    x.unindexed.push_back(slot);
  } else {
    auto& table = x.by_key[s.key_path];
    table.path_id = s.key_path_id;
    for (const std::string& k : s.keys) table.slots[k].push_back(slot);
  }
  x.by_id.emplace(id, slot);
  x.Rerank();
}

bool PatternMatcher::Remove(const std::string& id) {
  Index& x = *index_;
  auto it = x.by_id.find(id);
  if (it == x.by_id.end()) return false;
  const uint32_t slot = it->second;
  Index::Slot& s = x.slots[slot];
  if (s.key_path.empty()) {
    Index::Erase(&x.unindexed, slot);
  } else {
    auto& table = x.by_key[s.key_path].slots;
    for (const std::string& k : s.keys) {
      auto hit = table.find(k);
      if (hit == table.end()) continue;
      Index::Erase(&hit->second, slot);
      if (hit->second.empty()) table.erase(hit);
    }
  }
  s.pattern.reset();
  s.id.clear();
  x.free_slots.push_back(slot);
  x.by_id.erase(it);
  x.Rerank();
  return true;
}

void PatternMatcher::Clear() { *index_ = Index(); }

std::size_t PatternMatcher::size() const { return index_->by_id.size(); }

std::vector<std::string> PatternMatcher::Match(const Json& event) const {
  const Index& x = *index_;
  std::vector<uint32_t> candidates(x.unindexed.begin(), x.unindexed.end());
  // Key paths whose event value is one plain string: a hit there satisfies the field.
  std::vector<int> plain_paths;
  for (const auto& [path, key_table] : x.by_key) {
    const auto& table = key_table.slots;
    if (table.empty()) continue;
    // The key field's string values in the event (a top-level field; arrays flatten).
    auto it = event.find(path);
    if (it == event.end()) continue;
    if (it->is_string()) plain_paths.push_back(key_table.path_id);
    auto add = [&](const Json& v, const auto& self) -> void {
      if (v.is_array()) {
        for (const Json& e : v) self(e, self);
        return;
      }
      if (!v.is_string()) return;
      auto hit = table.find(v.get_ref<const std::string&>());
      if (hit == table.end()) return;
      candidates.insert(candidates.end(), hit->second.begin(), hit->second.end());
    };
    add(*it, add);
  }
  std::vector<std::string> out;
  if (candidates.empty()) return out;
  // In id order; a pattern reached twice (an event's key array) is tried once.
  std::sort(candidates.begin(), candidates.end(),
            [&](uint32_t a, uint32_t b) { return x.slots[a].rank < x.slots[b].rank; });
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  EventView view(event);
  for (uint32_t slot : candidates) {
    const Index::Slot& s = x.slots[slot];
    int known = 0;
    if (s.single_alternative && s.key_path_id != 0 &&
        std::find(plain_paths.begin(), plain_paths.end(), s.key_path_id) != plain_paths.end()) {
      known = s.key_path_id;
    }
    if (MatchNode(*s.pattern->root_, &view, known)) out.push_back(s.id);
  }
  return out;
}

}  // namespace understudy::events
