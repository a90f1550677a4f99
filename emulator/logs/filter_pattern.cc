#include "logs/filter_pattern.h"

#include <cctype>
#include <cmath>

#include "core/glob.h"
#include "core/json.h"

namespace understudy::logs {

struct FilterPattern::Node {
  enum Kind { kCompare, kAnd, kOr } kind = kCompare;
  std::shared_ptr<const Node> left, right;
  std::vector<std::string> path;  // $.a.b -> {"a", "b"}; "[0]" elements as numbers in text
  std::string op;                 // =, !=, <, <=, >, >=, NULL, NOT EXISTS
  bool numeric = false;
  double number = 0;
  std::string text;
};

namespace {

Status Invalid(std::string_view pattern, const std::string& why) {
  return Status::InvalidArgument("Invalid filter pattern '" + std::string(pattern) + "': " + why);
}

class JsonParser {
 public:
  JsonParser(std::string_view text) : text_(text) {}

  Result<std::shared_ptr<const FilterPattern::Node>> Parse() {
    Skip();
    if (!Eat('{')) return Invalid(text_, "expected '{'");
    US_ASSIGN_OR_RETURN(auto node, Or());
    Skip();
    if (!Eat('}')) return Invalid(text_, "expected '}' at position " + std::to_string(pos_ + 1));
    Skip();
    if (pos_ != text_.size()) return Invalid(text_, "unexpected text after '}'");
    return node;
  }

 private:
  using NodePtr = std::shared_ptr<const FilterPattern::Node>;

  void Skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Eat(char c) {
    Skip();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool EatWord(std::string_view word) {
    Skip();
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  Result<NodePtr> Or() {
    US_ASSIGN_OR_RETURN(NodePtr left, And());
    while (EatWord("||")) {
      US_ASSIGN_OR_RETURN(NodePtr right, And());
      auto node = std::make_shared<FilterPattern::Node>();
      node->kind = FilterPattern::Node::kOr;
      node->left = left;
      node->right = right;
      left = node;
    }
    return left;
  }

  Result<NodePtr> And() {
    US_ASSIGN_OR_RETURN(NodePtr left, Primary());
    while (EatWord("&&")) {
      US_ASSIGN_OR_RETURN(NodePtr right, Primary());
      auto node = std::make_shared<FilterPattern::Node>();
      node->kind = FilterPattern::Node::kAnd;
      node->left = left;
      node->right = right;
      left = node;
    }
    return left;
  }

  Result<NodePtr> Primary() {
    if (Eat('(')) {
      US_ASSIGN_OR_RETURN(NodePtr inner, Or());
      if (!Eat(')')) return Invalid(text_, "expected ')' at position " + std::to_string(pos_ + 1));
      return inner;
    }
    Skip();
    if (!EatWord("$."))
      return Invalid(text_,
                     "expected a selector such as $.field at position " + std::to_string(pos_ + 1));
    auto node = std::make_shared<FilterPattern::Node>();
    std::string part;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '@') {
        part += c;
        ++pos_;
      } else if (c == '.') {
        node->path.push_back(part);
        part.clear();
        ++pos_;
      } else if (c == '[') {
        if (!part.empty()) node->path.push_back(part);
        part.clear();
        size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return Invalid(text_, "unclosed '['");
        node->path.push_back(std::string(text_.substr(pos_ + 1, close - pos_ - 1)));
        pos_ = close + 1;
      } else {
        break;
      }
    }
    if (!part.empty()) node->path.push_back(part);
    if (node->path.empty()) return Invalid(text_, "empty selector");
    Skip();
    if (EatWord("IS NULL")) {
      node->op = "NULL";
      return NodePtr(node);
    }
    if (EatWord("NOT EXISTS")) {
      node->op = "NOT EXISTS";
      return NodePtr(node);
    }
    for (const char* op : {"!=", "<=", ">=", "=", "<", ">"}) {
      if (EatWord(op)) {
        node->op = op;
        break;
      }
    }
    if (node->op.empty())
      return Invalid(text_,
                     "expected a comparison operator at position " + std::to_string(pos_ + 1));
    Skip();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) return Invalid(text_, "unclosed quote");
      node->text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
    } else {
      size_t start = pos_;
      while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
             text_[pos_] != '}' && text_[pos_] != ')' && text_[pos_] != '&' && text_[pos_] != '|') {
        ++pos_;
      }
      node->text = std::string(text_.substr(start, pos_ - start));
      if (node->text.empty()) return Invalid(text_, "expected a value after '" + node->op + "'");
      char* end = nullptr;
      double n = std::strtod(node->text.c_str(), &end);
      if (end == node->text.c_str() + node->text.size()) {
        node->numeric = true;
        node->number = n;
      }
    }
    if (!node->numeric && node->op != "=" && node->op != "!=") {
      return Invalid(text_, "'" + node->op + "' compares numbers only");
    }
    return NodePtr(node);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

const Json* Select(const Json& root, const std::vector<std::string>& path) {
  const Json* at = &root;
  for (const auto& part : path) {
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      char* end = nullptr;
      long index = std::strtol(part.c_str(), &end, 10);
      if (end != part.c_str() + part.size() || index < 0 ||
          static_cast<size_t>(index) >= at->size())
        return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

bool Evaluate(const FilterPattern::Node& node, const Json& doc) {
  using Node = FilterPattern::Node;
  if (node.kind == Node::kAnd) return Evaluate(*node.left, doc) && Evaluate(*node.right, doc);
  if (node.kind == Node::kOr) return Evaluate(*node.left, doc) || Evaluate(*node.right, doc);
  const Json* value = Select(doc, node.path);
  if (node.op == "NOT EXISTS") return value == nullptr;
  if (node.op == "NULL") return value != nullptr && value->is_null();
  if (value == nullptr) return false;
  if (node.numeric && value->is_number()) {
    double v = value->get<double>();
    if (node.op == "=") return v == node.number;
    if (node.op == "!=") return v != node.number;
    if (node.op == "<") return v < node.number;
    if (node.op == "<=") return v <= node.number;
    if (node.op == ">") return v > node.number;
    if (node.op == ">=") return v >= node.number;
  }
  std::string text = value->is_string() ? value->get<std::string>() : value->dump();
  bool equal = GlobMatch(node.text, text);
  if (node.op == "=") return equal;
  if (node.op == "!=") return !equal;
  return false;
}

}  // namespace

Result<FilterPattern> FilterPattern::Parse(std::string_view text) {
  FilterPattern pattern;
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return pattern;  // empty: matches everything
  if (text[first] == '{') {
    JsonParser parser(text);
    US_ASSIGN_OR_RETURN(auto node, parser.Parse());
    pattern.json_ = std::move(node);
    return pattern;
  }
  size_t pos = first;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos >= text.size()) break;
    std::vector<std::string>* list = &pattern.all_;
    if (text[pos] == '?') {
      list = &pattern.any_;
      ++pos;
    } else if (text[pos] == '-' && pos + 1 < text.size() &&
               !std::isspace(static_cast<unsigned char>(text[pos + 1]))) {
      list = &pattern.none_;
      ++pos;
    }
    std::string term;
    if (pos < text.size() && text[pos] == '"') {
      size_t close = text.find('"', pos + 1);
      if (close == std::string_view::npos) return Invalid(text, "unclosed quote");
      term = std::string(text.substr(pos + 1, close - pos - 1));
      pos = close + 1;
    } else {
      size_t start = pos;
      while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
      term = std::string(text.substr(start, pos - start));
    }
    if (term.empty()) return Invalid(text, "empty term");
    list->push_back(std::move(term));
  }
  return pattern;
}

bool FilterPattern::Matches(std::string_view message) const {
  if (json_) {
    auto doc = ParseJson(message);
    return doc.ok() && Evaluate(*json_, *doc);
  }
  for (const auto& t : all_) {
    if (message.find(t) == std::string_view::npos) return false;
  }
  for (const auto& t : none_) {
    if (message.find(t) != std::string_view::npos) return false;
  }
  if (!any_.empty()) {
    bool found = false;
    for (const auto& t : any_) found = found || message.find(t) != std::string_view::npos;
    if (!found) return false;
  }
  return true;
}

}  // namespace understudy::logs
