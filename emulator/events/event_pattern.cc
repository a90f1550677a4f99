#include "events/event_pattern.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
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
// Case folding for the ignore-case matchers (ASCII and Latin-1 letters).

std::string Fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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
// transparent), with the array elements passed on the way.

enum class LeafKind { kString, kNumber, kTrue, kFalse, kNull };

struct ArrayStep {
  int array_id;
  int index;
};

struct Leaf {
  LeafKind kind = LeafKind::kNull;
  std::string text;  // the string (decoded) or the number's text
  std::optional<int64_t> number;
  std::vector<ArrayStep> trail;
  mutable int ip_state = 0;  // 0 unknown, 1 parsed, 2 not an IP
  mutable IpBytes ip;

  const IpBytes* Ip() const {
    if (kind != LeafKind::kString) return nullptr;
    if (ip_state == 0) {
      auto parsed = LooksLikeIp(text) ? ParseIp(text) : std::nullopt;
      ip_state = parsed ? 1 : 2;
      if (parsed) ip = std::move(*parsed);
    }
    return ip_state == 1 ? &ip : nullptr;
  }
};

std::string NumberText(const Json& v) {
  if (v.is_number_integer()) {
    return v.is_number_unsigned() ? std::to_string(v.get<uint64_t>())
                                  : std::to_string(v.get<int64_t>());
  }
  return v.dump();
}

class FlatEvent {
 public:
  explicit FlatEvent(const Json& event) {
    if (event.is_object()) Walk(event, "", {});
  }
  const std::vector<Leaf>* Find(const std::string& path) const {
    auto it = leaves_.find(path);
    return it == leaves_.end() ? nullptr : &it->second;
  }

 private:
  void Walk(const Json& node, const std::string& path, const std::vector<ArrayStep>& trail) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        Walk(it.value(), path.empty() ? it.key() : path + "." + it.key(), trail);
      }
      return;
    }
    if (node.is_array()) {
      int id = next_array_id_++;
      int index = 0;
      for (const Json& element : node) {
        std::vector<ArrayStep> t = trail;
        t.push_back({id, index++});
        Walk(element, path, t);
      }
      return;
    }
    Leaf leaf;
    leaf.trail = trail;
    if (node.is_string()) {
      leaf.kind = LeafKind::kString;
      leaf.text = node.get<std::string>();
    } else if (node.is_number()) {
      leaf.kind = LeafKind::kNumber;
      leaf.text = NumberText(node);
      leaf.number = TryComparable(leaf.text);
    } else if (node.is_boolean()) {
      leaf.kind = node.get<bool>() ? LeafKind::kTrue : LeafKind::kFalse;
    } else {
      leaf.kind = LeafKind::kNull;
    }
    leaves_[path].push_back(std::move(leaf));
  }

  std::unordered_map<std::string, std::vector<Leaf>> leaves_;
  int next_array_id_ = 0;
};

bool Consistent(const std::vector<ArrayStep>& a, const std::vector<ArrayStep>& b) {
  for (const ArrayStep& x : a) {
    for (const ArrayStep& y : b) {
      if (x.array_id == y.array_id && x.index != y.index) return false;
    }
  }
  return true;
}

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
  std::string text;                 // exact/prefix/suffix/equals-ignore-case (folded)
  std::optional<int64_t> number;    // kExactNumber when comparable
  std::vector<std::string> values;  // anything-but strings (folded for ignore-case)
  std::vector<int64_t> numbers;     // anything-but numbers
  std::vector<std::vector<WildcardToken>> wildcards;  // wildcard / anything-but wildcard
  // numeric range
  bool has_low = false, low_open = false, has_high = false, high_open = false;
  int64_t low = 0, high = 0;
  // ip range
  IpBytes ip_low, ip_high;

  bool Accepts(const Leaf& leaf) const;
};

bool Matcher::Accepts(const Leaf& leaf) const {
  const bool is_string = leaf.kind == LeafKind::kString;
  switch (kind) {
    case MatchKind::kExactString:
      return is_string && leaf.text == text;
    case MatchKind::kExactNumber:
      if (leaf.kind != LeafKind::kNumber) return false;
      if (number && leaf.number) return *number == *leaf.number;
      return leaf.text == text;
    case MatchKind::kTrue:
      return leaf.kind == LeafKind::kTrue;
    case MatchKind::kFalse:
      return leaf.kind == LeafKind::kFalse;
    case MatchKind::kNull:
      return leaf.kind == LeafKind::kNull;
    case MatchKind::kIpRange: {
      const IpBytes* ip = leaf.Ip();
      if (ip == nullptr || ip->size() != ip_low.size()) return false;
      return *ip >= ip_low && *ip <= ip_high;
    }
    case MatchKind::kPrefix:
      return is_string && leaf.text.compare(0, text.size(), text) == 0 &&
             leaf.text.size() >= text.size();
    case MatchKind::kPrefixIgnoreCase:
      return is_string && leaf.text.size() >= text.size() &&
             Fold(std::string_view(leaf.text).substr(0, text.size())) == text;
    case MatchKind::kSuffix:
      return is_string && leaf.text.size() >= text.size() &&
             leaf.text.compare(leaf.text.size() - text.size(), text.size(), text) == 0;
    case MatchKind::kSuffixIgnoreCase:
      return is_string && leaf.text.size() >= text.size() &&
             Fold(std::string_view(leaf.text).substr(leaf.text.size() - text.size())) == text;
    case MatchKind::kEqualsIgnoreCase:
      return is_string && leaf.text.size() == text.size() && Fold(leaf.text) == text;
    case MatchKind::kWildcard:
      return is_string && WildcardMatch(wildcards[0], leaf.text);
    case MatchKind::kNumericRange: {
      if (leaf.kind != LeafKind::kNumber || !leaf.number) return false;
      int64_t v = *leaf.number;
      if (has_low && (low_open ? v <= low : v < low)) return false;
      if (has_high && (high_open ? v >= high : v > high)) return false;
      return true;
    }
    case MatchKind::kExists:
      return true;
    case MatchKind::kAbsent:
      return false;  // handled by the field
    case MatchKind::kAnythingButStrings:
      if (!is_string) return true;
      return std::find(values.begin(), values.end(), leaf.text) == values.end();
    case MatchKind::kAnythingButNumbers:
      if (leaf.kind != LeafKind::kNumber || !leaf.number) return true;
      return std::find(numbers.begin(), numbers.end(), *leaf.number) == numbers.end();
    case MatchKind::kAnythingButPrefix:
      if (!is_string) return true;
      for (const std::string& p : values) {
        if (leaf.text.size() >= p.size() && leaf.text.compare(0, p.size(), p) == 0) return false;
      }
      return true;
    case MatchKind::kAnythingButSuffix:
      if (!is_string) return true;
      for (const std::string& p : values) {
        if (leaf.text.size() >= p.size() &&
            leaf.text.compare(leaf.text.size() - p.size(), p.size(), p) == 0) {
          return false;
        }
      }
      return true;
    case MatchKind::kAnythingButIgnoreCase: {
      if (!is_string) return true;
      std::string folded = Fold(leaf.text);
      return std::find(values.begin(), values.end(), folded) == values.end();
    }
    case MatchKind::kAnythingButWildcard:
      if (!is_string) return true;
      for (const auto& w : wildcards) {
        if (WildcardMatch(w, leaf.text)) return false;
      }
      return true;
  }
  return false;
}

using MatcherList = std::vector<Matcher>;

struct Field {
  std::string path;
  std::shared_ptr<const MatcherList> matchers;
  bool allows_absent = false;
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

// Whether some choice of one leaf per field (or none, for a field that allows
// absence) satisfies every field with array-consistent leaves.
bool MatchFields(const std::vector<Field>& fields, size_t i, const FlatEvent& event,
                 std::vector<const std::vector<ArrayStep>*>* chosen) {
  if (i == fields.size()) return true;
  const Field& f = fields[i];
  const std::vector<Leaf>* leaves = event.Find(f.path);
  if (leaves == nullptr || leaves->empty()) {
    return f.allows_absent && MatchFields(fields, i + 1, event, chosen);
  }
  for (const Leaf& leaf : *leaves) {
    bool accepted = false;
    for (const Matcher& m : *f.matchers) {
      if (m.Accepts(leaf)) {
        accepted = true;
        break;
      }
    }
    if (!accepted) continue;
    bool consistent = true;
    if (!leaf.trail.empty()) {
      for (const auto* other : *chosen) {
        if (!Consistent(leaf.trail, *other)) {
          consistent = false;
          break;
        }
      }
    }
    if (!consistent) continue;
    chosen->push_back(&leaf.trail);
    bool ok = MatchFields(fields, i + 1, event, chosen);
    chosen->pop_back();
    if (ok) return true;
  }
  return false;
}

bool MatchNode(const EventPattern::Node& node, const FlatEvent& event) {
  std::vector<const std::vector<ArrayStep>*> chosen;
  for (const auto& alternative : node.alternatives) {
    chosen.clear();
    if (MatchFields(alternative.fields, 0, event, &chosen)) return true;
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
  FlatEvent flat(event);
  return MatchNode(*root_, flat);
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
  struct Entry {
    EventPattern pattern;
    std::string key_path;  // "" when not indexed
    std::vector<std::string> keys;
  };
  std::map<std::string, Entry> patterns;
  // key path -> key value -> ids
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>> by_key;
  std::set<std::string> unindexed;

  void Unlink(const std::string& id, const Entry& e) {
    if (e.key_path.empty()) {
      unindexed.erase(id);
      return;
    }
    auto& table = by_key[e.key_path];
    for (const std::string& k : e.keys) {
      auto it = table.find(k);
      if (it == table.end()) continue;
      it->second.erase(id);
      if (it->second.empty()) table.erase(it);
    }
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
  Index::Entry e{std::move(pattern), "", {}};
  for (const char* path : kIndexPaths) {
    auto keys = e.pattern.RequiredExactStrings(path);
    if (!keys.empty()) {
      e.key_path = path;
      e.keys = std::move(keys);
      break;
    }
  }
  if (e.key_path.empty()) {
    index_->unindexed.insert(id);
  } else {
    auto& table = index_->by_key[e.key_path];
    for (const std::string& k : e.keys) table[k].insert(id);
  }
  index_->patterns.emplace(id, std::move(e));
}

bool PatternMatcher::Remove(const std::string& id) {
  auto it = index_->patterns.find(id);
  if (it == index_->patterns.end()) return false;
  index_->Unlink(id, it->second);
  index_->patterns.erase(it);
  return true;
}

void PatternMatcher::Clear() {
  index_->patterns.clear();
  index_->by_key.clear();
  index_->unindexed.clear();
}

std::size_t PatternMatcher::size() const { return index_->patterns.size(); }

std::vector<std::string> PatternMatcher::Match(const Json& event) const {
  std::vector<const std::string*> candidates;
  for (const std::string& id : index_->unindexed) candidates.push_back(&id);
  for (const auto& [path, table] : index_->by_key) {
    if (table.empty()) continue;
    // The key field's string values in the event (a top-level field; arrays flatten).
    auto it = event.find(path);
    if (it == event.end()) continue;
    auto add = [&](const Json& v, const auto& self) -> void {
      if (v.is_array()) {
        for (const Json& e : v) self(e, self);
        return;
      }
      if (!v.is_string()) return;
      auto hit = table.find(v.get_ref<const std::string&>());
      if (hit == table.end()) return;
      for (const std::string& id : hit->second) candidates.push_back(&id);
    };
    add(*it, add);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const std::string* a, const std::string* b) { return *a == *b; }),
                   candidates.end());
  std::vector<std::string> out;
  if (candidates.empty()) return out;
  FlatEvent flat(event);
  for (const std::string* id : candidates) {
    const auto& entry = index_->patterns.at(*id);
    if (MatchNode(*entry.pattern.root_, flat)) out.push_back(*id);
  }
  return out;
}

}  // namespace understudy::events
