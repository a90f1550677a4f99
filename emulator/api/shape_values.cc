#include "api/shape_values.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <vector>

#include "api/http.h"
#include "core/time.h"

namespace understudy::api {

const char* ShapeTypeName(ShapeType type) {
  switch (type) {
    case ShapeType::kStructure:
      return "structure";
    case ShapeType::kList:
      return "list";
    case ShapeType::kMap:
      return "map";
    case ShapeType::kString:
      return "string";
    case ShapeType::kInteger:
      return "integer";
    case ShapeType::kLong:
      return "long";
    case ShapeType::kFloat:
      return "float";
    case ShapeType::kDouble:
      return "double";
    case ShapeType::kBoolean:
      return "boolean";
    case ShapeType::kTimestamp:
      return "timestamp";
    case ShapeType::kBlob:
      return "blob";
    case ShapeType::kDocument:
      return "document";
    case ShapeType::kUnion:
      return "union";
  }
  return "value";
}

std::string Base64Encode(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  out->clear();
  uint32_t buffer = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      ++padding;
      continue;
    } else if (c == '\n' || c == '\r')
      continue;
    else
      return false;
    if (padding > 0) return false;  // data after padding
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return padding <= 2;
}

namespace {

Status TypeError(const std::string& path, const char* expected, const Json& found) {
  std::string what = found.type_name();
  if (!found.is_null()) {
    // Only scalars are quoted: a container may be large (and callers bound its depth).
    what += found.is_primitive() ? " " + found.dump(-1, ' ', false, Json::error_handler_t::replace)
                                 : "";
  }
  return Status::InvalidArgument("expected " + std::string(expected) + " at '" + path +
                                 "', found " + what);
}

// Timestamps the emulator represents and prints: years 1 to 9999 (anything wider
// overflows the microsecond clock and the ISO-8601 formatter).
constexpr double kMinTimestamp = -62135596800.0;  // 0001-01-01T00:00:00Z
constexpr double kEndTimestamp = 253402300800.0;  // 10000-01-01T00:00:00Z, excluded

bool TimestampInRange(double seconds) {
  return seconds >= kMinTimestamp && seconds < kEndTimestamp;  // false for NaN
}

Status TimestampRangeError(const std::string& path) {
  return Status::InvalidArgument("expected a timestamp between 0001-01-01 and 9999-12-31 at '" +
                                 path + "'");
}

// The range of an integer shape: 32 bits for "integer" (and byte, short), 64 for "long".
bool IntegerInRange(ShapeType type, int64_t n) {
  if (type == ShapeType::kLong) return true;
  return n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max();
}

std::string Child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// "Tue, 29 Apr 2014 18:30:38 GMT"
std::optional<TimePoint> ParseHttpDate(std::string_view text) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char month[4] = {0};
  int day, year, hour, minute, second;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%*3s, %d %3s %d %d:%d:%d GMT", &day, month, &year, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  if (year < 1 || year > 9999 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 60 || day < 1) {
    return std::nullopt;
  }
  for (unsigned m = 0; m < 12; ++m) {
    if (std::strcmp(month, kMonths[m]) == 0) {
      std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{m + 1},
                                      std::chrono::day{unsigned(day)}};
      if (!ymd.ok()) return std::nullopt;
      return TimePoint(std::chrono::sys_days{ymd}) + std::chrono::hours(hour) +
             std::chrono::minutes(minute) + std::chrono::seconds(second);
    }
  }
  return std::nullopt;
}

std::optional<double> ParseNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

Status NormalizeTree(const Shape& shape, Json& value, BlobEncoding blobs, const std::string& path) {
  switch (shape.type) {
    case ShapeType::kStructure:
    case ShapeType::kUnion: {
      if (!value.is_object()) return TypeError(path, "an object", value);
      for (auto it = value.begin(); it != value.end();) {
        const Member* member = shape.FindMember(it.key());
        if (it->is_null()) {
          it = value.erase(it);
          continue;
        }
        if (member != nullptr) {
          US_RETURN_IF_ERROR(
              NormalizeTree(*member->shape, it.value(), blobs, Child(path, it.key())));
        }
        ++it;  // unknown members are ignored, as AWS's JSON services do
      }
      return Status::Ok();
    }
    case ShapeType::kList: {
      if (!value.is_array()) return TypeError(path, "a list", value);
      for (size_t i = 0; i < value.size(); ++i) {
        if (value[i].is_null())
          return TypeError(Child(path, std::to_string(i + 1) + ".member"), "a value", value[i]);
        US_RETURN_IF_ERROR(NormalizeTree(*shape.member.shape, value[i], blobs,
                                         Child(path, std::to_string(i + 1) + ".member")));
      }
      return Status::Ok();
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return TypeError(path, "a map", value);
      for (auto it = value.begin(); it != value.end(); ++it) {
        US_RETURN_IF_ERROR(
            NormalizeTree(*shape.value.shape, it.value(), blobs, Child(path, it.key())));
      }
      return Status::Ok();
    }
    case ShapeType::kString:
      if (!value.is_string()) return TypeError(path, "a string", value);
      return Status::Ok();
    case ShapeType::kInteger:
    case ShapeType::kLong:
      if (value.is_number_unsigned()) {
        uint64_t n = value.get<uint64_t>();
        if (n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) &&
            IntegerInRange(shape.type, static_cast<int64_t>(n))) {
          return Status::Ok();
        }
      } else if (value.is_number_integer()) {
        if (IntegerInRange(shape.type, value.get<int64_t>())) return Status::Ok();
      } else if (value.is_number_float()) {
        // [-2^63, 2^63) holds every double that converts to int64_t without overflow.
        double d = value.get<double>();
        if (std::floor(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
            IntegerInRange(shape.type, static_cast<int64_t>(d))) {
          value = static_cast<int64_t>(d);
          return Status::Ok();
        }
      }
      return TypeError(path, "an integer", value);
    case ShapeType::kFloat:
    case ShapeType::kDouble:
      if (value.is_number()) return Status::Ok();
      if (value.is_string()) {  // "NaN", "Infinity" travel as strings
        std::string s = value.get<std::string>();
        if (s == "NaN" || s == "Infinity" || s == "-Infinity") return Status::Ok();
      }
      return TypeError(path, "a number", value);
    case ShapeType::kBoolean:
      if (!value.is_boolean()) return TypeError(path, "a boolean", value);
      return Status::Ok();
    case ShapeType::kTimestamp: {
      if (value.is_number()) {
        double seconds = value.get<double>();
        if (!TimestampInRange(seconds)) return TimestampRangeError(path);  // and NaN from CBOR
        value = seconds;
        return Status::Ok();
      }
      if (value.is_string()) {
        auto parsed = ScalarFromText(shape, value.get<std::string>(), path);
        if (!parsed.ok()) return parsed.status();
        value = *parsed;
        return Status::Ok();
      }
      return TypeError(path, "a timestamp", value);
    }
    case ShapeType::kBlob: {
      if (value.is_binary()) return Status::Ok();
      if (value.is_string() && blobs == BlobEncoding::kBase64Text) {
        std::string bytes;
        if (!Base64Decode(value.get<std::string>(), &bytes)) {
          return Status::InvalidArgument("expected base64 data at '" + path + "'");
        }
        value = Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
        return Status::Ok();
      }
      if (value.is_string()) {  // CBOR peers may send text for blobs
        std::string s = value.get<std::string>();
        value = Json::binary(std::vector<uint8_t>(s.begin(), s.end()));
        return Status::Ok();
      }
      return TypeError(path, "a blob", value);
    }
    case ShapeType::kDocument:
      return Status::Ok();
  }
  return Status::Ok();
}

Result<Json> ScalarFromText(const Shape& shape, std::string_view text, const std::string& path) {
  auto bad = [&](const char* expected) {
    return Status::InvalidArgument("expected " + std::string(expected) + " at '" + path +
                                   "', found '" + std::string(text) + "'");
  };
  switch (shape.type) {
    case ShapeType::kString:
      // Canonical strings are UTF-8 (the journal and the store serialise them as JSON).
      if (!IsValidUtf8(text)) {
        return Status::InvalidArgument("expected UTF-8 text at '" + path + "'");
      }
      return Json(std::string(text));
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      // Digits only (with a sign): from_chars refuses fractions, exponents, hex and
      // values beyond 64 bits instead of rounding them.
      int64_t n = 0;
      const char* end = text.data() + text.size();
      auto parsed = std::from_chars(text.data(), end, n);
      if (text.empty() || parsed.ec != std::errc() || parsed.ptr != end ||
          !IntegerInRange(shape.type, n)) {
        return bad("an integer");
      }
      return Json(n);
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      if (text == "NaN" || text == "Infinity" || text == "-Infinity")
        return Json(std::string(text));
      auto n = ParseNumber(text);
      if (!n) return bad("a number");
      return Json(*n);
    }
    case ShapeType::kBoolean:
      if (text == "true") return Json(true);
      if (text == "false") return Json(false);
      return bad("true or false");
    case ShapeType::kTimestamp: {
      std::optional<double> seconds = ParseNumber(text);
      if (!seconds) {
        if (auto t = ParseIso8601(text); t.ok()) {
          seconds = ToEpochSeconds(*t);
        } else if (auto t = ParseHttpDate(text)) {
          seconds = ToEpochSeconds(*t);
        } else {
          return bad("a timestamp (ISO-8601 or epoch seconds)");
        }
      }
      if (!TimestampInRange(*seconds)) return TimestampRangeError(path);
      return Json(*seconds);
    }
    case ShapeType::kBlob: {
      std::string bytes;
      if (!Base64Decode(text, &bytes)) return bad("base64 data");
      return Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
    }
    default:
      return bad(ShapeTypeName(shape.type));
  }
}

std::string ScalarToText(const Shape& shape, const Json& value, std::string_view timestamp_format) {
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  switch (shape.type) {
    case ShapeType::kString:
      return value.is_string() ? value.get<std::string>() : dump(value);
    case ShapeType::kBoolean:
      return value.is_boolean() ? (value.get<bool>() ? "true" : "false") : dump(value);
    case ShapeType::kTimestamp: {
      if (!value.is_number()) return value.is_string() ? value.get<std::string>() : dump(value);
      double seconds = value.get<double>();
      TimePoint t = FromEpochSeconds(seconds);
      if (timestamp_format == "unixTimestamp") {
        Json n =
            std::floor(seconds) == seconds ? Json(static_cast<int64_t>(seconds)) : Json(seconds);
        return n.dump();
      }
      if (timestamp_format == "rfc822") {
        std::time_t tt = static_cast<std::time_t>(std::floor(seconds));
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        return buf;
      }
      return FormatIso8601(t);
    }
    case ShapeType::kBlob:
      if (value.is_binary()) {
        const auto& bytes = value.get_binary();
        return Base64Encode(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      }
      return value.is_string() ? Base64Encode(value.get<std::string>()) : std::string();
    default:
      if (value.is_string()) return value.get<std::string>();
      return dump(value);
  }
}

namespace {

std::string FormatLimit(double limit) {
  if (std::floor(limit) == limit && std::fabs(limit) < 1e15) {
    return std::to_string(static_cast<int64_t>(limit));
  }
  Json j = limit;
  return j.dump();
}

std::string RenderValue(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_string()) return "'" + value.get<std::string>() + "'";
  if (value.is_binary()) return "'<binary>'";
  return "'" + value.dump(-1, ' ', false, Json::error_handler_t::replace) + "'";
}

size_t Utf16Length(const std::string& s) {
  // AWS measures string length in characters; count code points (astral ones as two units).
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) n += (c >= 0xF0) ? 2 : 1;
  }
  return n;
}

void Check(const Shape& shape, const Json& value, const std::string& path,
           std::vector<std::string>& errors) {
  auto fail = [&](const std::string& constraint) {
    errors.push_back("Value " + RenderValue(value) + " at '" + path +
                     "' failed to satisfy constraint: " + constraint);
  };
  switch (shape.type) {
    case ShapeType::kStructure:
    case ShapeType::kUnion: {
      if (!value.is_object()) return;
      for (const std::string& name : shape.required) {
        if (!value.contains(name)) {
          errors.push_back("Value null at '" + Child(path, name) +
                           "' failed to satisfy constraint: Member must not be null");
        }
      }
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (const Member* m = shape.FindMember(it.key()))
          Check(*m->shape, it.value(), Child(path, it.key()), errors);
      }
      return;
    }
    case ShapeType::kList: {
      if (!value.is_array()) return;
      if (shape.min && value.size() < *shape.min)
        fail("Member must have length greater than or equal to " + FormatLimit(*shape.min));
      if (shape.max && value.size() > *shape.max)
        fail("Member must have length less than or equal to " + FormatLimit(*shape.max));
      for (size_t i = 0; i < value.size(); ++i) {
        Check(*shape.member.shape, value[i], Child(path, std::to_string(i + 1) + ".member"),
              errors);
      }
      return;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return;
      if (shape.min && value.size() < *shape.min)
        fail("Member must have length greater than or equal to " + FormatLimit(*shape.min));
      if (shape.max && value.size() > *shape.max)
        fail("Member must have length less than or equal to " + FormatLimit(*shape.max));
      for (auto it = value.begin(); it != value.end(); ++it) {
        Check(*shape.key.shape, Json(it.key()), Child(path, "key"), errors);
        Check(*shape.value.shape, it.value(), Child(path, it.key()), errors);
      }
      return;
    }
    case ShapeType::kString: {
      if (!value.is_string()) return;
      const std::string& s = value.get_ref<const std::string&>();
      size_t length = Utf16Length(s);
      if (shape.min && length < *shape.min)
        fail("Member must have length greater than or equal to " + FormatLimit(*shape.min));
      if (shape.max && length > *shape.max)
        fail("Member must have length less than or equal to " + FormatLimit(*shape.max));
      if (!shape.enum_values.empty()) {
        bool found = false;
        for (const auto& e : shape.enum_values) found = found || e == s;
        if (!found) {
          std::string set;
          for (const auto& e : shape.enum_values) set += (set.empty() ? "" : ", ") + e;
          fail("Member must satisfy enum value set: [" + set + "]");
        }
      }
      return;
    }
    case ShapeType::kInteger:
    case ShapeType::kLong:
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      if (!value.is_number()) return;
      double n = value.get<double>();
      if (shape.min && n < *shape.min)
        fail("Member must have value greater than or equal to " + FormatLimit(*shape.min));
      if (shape.max && n > *shape.max)
        fail("Member must have value less than or equal to " + FormatLimit(*shape.max));
      return;
    }
    case ShapeType::kBlob: {
      if (!value.is_binary()) return;
      double size = static_cast<double>(value.get_binary().size());
      if (shape.min && size < *shape.min)
        fail("Member must have length greater than or equal to " + FormatLimit(*shape.min));
      if (shape.max && size > *shape.max)
        fail("Member must have length less than or equal to " + FormatLimit(*shape.max));
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::optional<std::string> Validate(const Shape& shape, const Json& input, std::string* missing) {
  std::vector<std::string> errors;
  Check(shape, input, "", errors);
  if (errors.empty()) return std::nullopt;
  if (missing != nullptr && errors.size() == 1 && input.is_object()) {
    for (const std::string& name : shape.required) {
      if (!input.contains(name)) *missing = name;
    }
  }
  std::string message =
      std::to_string(errors.size()) +
      (errors.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
  return message;
}

}  // namespace understudy::api
