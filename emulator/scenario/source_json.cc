#include "scenario/source_json.h"

#include <cctype>

namespace understudy::scenario {
namespace {

bool IsIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Reader {
 public:
  Reader(std::string_view text, std::map<std::string, size_t>* offsets)
      : text_(text), offsets_(offsets) {}

  Result<Json> Document() {
    US_RETURN_IF_ERROR(SkipBlank());
    if (pos_ >= text_.size()) return Error("the end of the file", "a JSON value");
    US_ASSIGN_OR_RETURN(Json value, Value("", 0));
    US_RETURN_IF_ERROR(SkipBlank());
    if (pos_ < text_.size()) return Error(Found(), "the end of the file after the top-level value");
    return value;
  }

 private:
  Status Error(const std::string& found, const std::string& expected) const {
    LineColumn at = LineColumnAt(text_, pos_);
    return Status::InvalidArgument("line " + std::to_string(at.line) + ", column " +
                                   std::to_string(at.column) + ": found " + found + "; expected " +
                                   expected);
  }

  std::string Found() const {
    if (pos_ >= text_.size()) return "the end of the file";
    char c = text_[pos_];
    if (IsIdentifierChar(c)) {
      size_t end = pos_;
      while (end < text_.size() && IsIdentifierChar(text_[end]) && end - pos_ < 20) ++end;
      return "'" + std::string(text_.substr(pos_, end - pos_)) + "'";
    }
    return std::string("'") + c + "'";
  }

  Status SkipBlank() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Error("a comment that is never closed", "'*/'");
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Result<Json> Value(const std::string& path, int depth) {
    if (depth > 200) return Error("values nested more than 200 deep", "a flatter document");
    (*offsets_)[path] = pos_;
    char c = text_[pos_];
    if (c == '{') return Object(path, depth);
    if (c == '[') return Array(path, depth);
    if (c == '"') return String();
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return Number();
    for (auto [word, value] :
         {std::pair<std::string_view, Json>{"true", true}, {"false", false}, {"null", nullptr}}) {
      if (text_.substr(pos_, word.size()) == word &&
          (pos_ + word.size() >= text_.size() || !IsIdentifierChar(text_[pos_ + word.size()]))) {
        pos_ += word.size();
        return value;
      }
    }
    return Error(Found(), "a JSON value (object, array, string, number, true, false or null)");
  }

  Result<Json> Object(const std::string& path, int depth) {
    Json out = Json::object();
    ++pos_;  // '{'
    US_RETURN_IF_ERROR(SkipBlank());
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return out;
    }
    while (true) {
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Error(Found(), "a member name in double quotes");
      }
      size_t key_at = pos_;
      US_ASSIGN_OR_RETURN(Json key, String());
      std::string name = key.get<std::string>();
      if (out.contains(name)) {
        pos_ = key_at;
        return Error("a second member named \"" + name + "\"", "each member name once");
      }
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ >= text_.size() || text_[pos_] != ':')
        return Error(Found(), "':' after a member name");
      ++pos_;
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ >= text_.size()) return Error("the end of the file", "a JSON value");
      std::string member_path = JoinPath(path, name);
      (*offsets_)[member_path + "#key"] = key_at;
      US_ASSIGN_OR_RETURN(Json value, Value(member_path, depth + 1));
      out[name] = std::move(value);
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return out;
      }
      return Error(Found(), "',' or '}' after an object member");
    }
  }

  Result<Json> Array(const std::string& path, int depth) {
    Json out = Json::array();
    ++pos_;  // '['
    US_RETURN_IF_ERROR(SkipBlank());
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return out;
    }
    while (true) {
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ >= text_.size()) return Error("the end of the file", "a JSON value");
      US_ASSIGN_OR_RETURN(Json value, Value(JoinPath(path, out.size()), depth + 1));
      out.push_back(std::move(value));
      US_RETURN_IF_ERROR(SkipBlank());
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return out;
      }
      return Error(Found(), "',' or ']' after an array element");
    }
  }

  Result<Json> Number() {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' || text_[pos_] == '+' || text_[pos_] == '-')) {
      ++pos_;
    }
    auto parsed = ParseJson(text_.substr(start, pos_ - start));
    if (!parsed.ok() || !parsed->is_number()) {
      pos_ = start;
      return Error(
          "'" + std::string(text_.substr(start, std::min<size_t>(20, pos_ - start + 20))) + "'",
          "a number");
    }
    return parsed;
  }

  Result<Json> String() {
    size_t start = pos_;
    ++pos_;  // '"'
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\n') return Error("a line break inside a string", "'\"' to close it");
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    }
    if (pos_ >= text_.size()) {
      pos_ = start;
      return Error("a string that is never closed", "'\"' to close it");
    }
    ++pos_;
    // The escapes are nlohmann's to decode.
    auto parsed = ParseJson(text_.substr(start, pos_ - start));
    if (!parsed.ok()) {
      pos_ = start;
      return Error("a string with a bad escape or control character", "a valid JSON string");
    }
    return parsed;
  }

  std::string_view text_;
  std::map<std::string, size_t>* offsets_;
  size_t pos_ = 0;
};

}  // namespace

LineColumn LineColumnAt(std::string_view text, size_t offset) {
  LineColumn at;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

LineColumn SourceJson::PositionOf(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = offsets.find(p);
    if (it != offsets.end()) return LineColumnAt(text, it->second);
    if (p.empty()) return LineColumn{};
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
}

Result<SourceJson> ParseSourceJson(std::string text) {
  SourceJson out;
  out.text = std::move(text);
  Reader reader(out.text, &out.offsets);
  US_ASSIGN_OR_RETURN(out.value, reader.Document());
  return out;
}

std::string JoinPath(const std::string& path, const std::string& member) {
  bool plain = !member.empty();
  for (char c : member) plain = plain && (IsIdentifierChar(c) || c == '-' || c == '$');
  if (!plain) return path + "[" + Json(member).dump() + "]";
  return path.empty() ? member : path + "." + member;
}

std::string JoinPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

}  // namespace understudy::scenario
