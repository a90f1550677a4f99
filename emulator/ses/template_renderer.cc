#include "ses/template_renderer.h"

#include <memory>
#include <variant>
#include <vector>

namespace understudy::ses {
namespace {

struct Node {
  enum class Type { kText, kVar, kIf, kUnless, kEach, kWith };
  Type type = Type::kText;
  std::string text;  // literal text, or the path of a variable or block
  std::vector<Node> children;
  std::vector<Node> else_children;
};

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status Parse(std::vector<Node>* out) {
    std::string closing;
    US_RETURN_IF_ERROR(ParseBlock(out, nullptr, "", &closing));
    if (!closing.empty())
      return Status::InvalidArgument("Unexpected closing tag: {{/" + closing + "}}");
    return Status::Ok();
  }

 private:
  // Parses until {{/name}} (when `open` is set) or the end.
  Status ParseBlock(std::vector<Node>* out, std::vector<Node>* else_out, const std::string& open,
                    std::string* closed_with) {
    std::vector<Node>* target = out;
    while (pos_ < text_.size()) {
      size_t start = text_.find("{{", pos_);
      if (start == std::string_view::npos) {
        Append(target, text_.substr(pos_));
        pos_ = text_.size();
        break;
      }
      Append(target, text_.substr(pos_, start - pos_));
      bool triple = text_.compare(start, 3, "{{{") == 0;
      size_t end = text_.find(triple ? "}}}" : "}}", start);
      if (end == std::string_view::npos) {
        return Status::InvalidArgument("Unclosed tag starting at '" +
                                       std::string(text_.substr(start, 20)) + "'");
      }
      std::string tag =
          Trim(text_.substr(start + (triple ? 3 : 2), end - start - (triple ? 3 : 2)));
      pos_ = end + (triple ? 3 : 2);
      if (!tag.empty() && tag.front() == '~') tag = Trim(tag.substr(1));
      if (!tag.empty() && tag.back() == '~') tag = Trim(tag.substr(0, tag.size() - 1));
      if (tag.empty()) return Status::InvalidArgument("Empty tag {{}}");
      if (tag[0] == '!') continue;
      if (tag[0] == '#') {
        std::string body = Trim(tag.substr(1));
        size_t space = body.find(' ');
        std::string helper = body.substr(0, space);
        std::string arg = space == std::string::npos ? "" : Trim(body.substr(space + 1));
        Node node;
        if (helper == "if")
          node.type = Node::Type::kIf;
        else if (helper == "unless")
          node.type = Node::Type::kUnless;
        else if (helper == "each")
          node.type = Node::Type::kEach;
        else if (helper == "with")
          node.type = Node::Type::kWith;
        else
          return Status::InvalidArgument("Unsupported block helper: {{#" + helper + "}}");
        if (arg.empty()) return Status::InvalidArgument("{{#" + helper + "}} needs an argument");
        node.text = arg;
        std::string closed;
        US_RETURN_IF_ERROR(ParseBlock(&node.children, &node.else_children, helper, &closed));
        if (closed != helper) {
          return Status::InvalidArgument("Unclosed block: {{#" + helper + " " + arg + "}}");
        }
        target->push_back(std::move(node));
        continue;
      }
      if (tag[0] == '/') {
        std::string name = Trim(tag.substr(1));
        if (open.empty() || name != open) {
          if (open.empty())
            return Status::InvalidArgument("Unexpected closing tag: {{/" + name + "}}");
          return Status::InvalidArgument("{{#" + open + "}} closed by {{/" + name + "}}");
        }
        *closed_with = name;
        return Status::Ok();
      }
      if (tag == "else" || tag == "^") {
        if (else_out == nullptr || target == else_out) {
          return Status::InvalidArgument("{{else}} outside a block");
        }
        target = else_out;
        continue;
      }
      if (tag[0] == '>')
        return Status::InvalidArgument("Partials are not supported: {{" + tag + "}}");
      Node node;
      node.type = Node::Type::kVar;
      node.text = tag;
      if (node.text.find(' ') != std::string::npos) {
        return Status::InvalidArgument("Unsupported helper: {{" + tag + "}}");
      }
      target->push_back(std::move(node));
    }
    if (!open.empty()) *closed_with = "";
    return Status::Ok();
  }

  static void Append(std::vector<Node>* target, std::string_view text) {
    if (text.empty()) return;
    if (!target->empty() && target->back().type == Node::Type::kText) {
      target->back().text += text;
      return;
    }
    Node node;
    node.text = std::string(text);
    target->push_back(std::move(node));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

struct Frame {
  const Json* value;
  Json locals;  // @index, @key, @first, @last
};

class Renderer {
 public:
  explicit Renderer(const Json& root) { stack_.push_back(Frame{&root, Json::object()}); }

  std::optional<RenderError> Render(const std::vector<Node>& nodes, std::string* out) {
    for (const Node& node : nodes) {
      switch (node.type) {
        case Node::Type::kText:
          *out += node.text;
          break;
        case Node::Type::kVar: {
          const Json* value = Lookup(node.text);
          if (value == nullptr) {
            return RenderError{
                RenderError::Kind::kMissingAttribute,
                "Attribute '" + node.text + "' is not present in the rendering data."};
          }
          *out += ToText(*value);
          break;
        }
        case Node::Type::kIf:
        case Node::Type::kUnless: {
          bool truth = Truthy(Lookup(node.text));
          if (node.type == Node::Type::kUnless) truth = !truth;
          if (auto e = Render(truth ? node.children : node.else_children, out)) return e;
          break;
        }
        case Node::Type::kWith: {
          const Json* value = Lookup(node.text);
          if (!Truthy(value)) {
            if (auto e = Render(node.else_children, out)) return e;
            break;
          }
          stack_.push_back(Frame{value, Json::object()});
          auto e = Render(node.children, out);
          stack_.pop_back();
          if (e) return e;
          break;
        }
        case Node::Type::kEach: {
          const Json* value = Lookup(node.text);
          if (value == nullptr || !(value->is_array() || value->is_object()) || value->empty()) {
            if (auto e = Render(node.else_children, out)) return e;
            break;
          }
          size_t n = value->size();
          size_t i = 0;
          for (auto it = value->begin(); it != value->end(); ++it, ++i) {
            Json locals{{"index", i}, {"first", i == 0}, {"last", i + 1 == n}};
            if (value->is_object()) locals["key"] = it.key();
            stack_.push_back(Frame{&*it, locals});
            auto e = Render(node.children, out);
            stack_.pop_back();
            if (e) return e;
          }
          break;
        }
      }
    }
    return std::nullopt;
  }

 private:
  static bool Truthy(const Json* v) {
    if (v == nullptr || v->is_null()) return false;
    if (v->is_boolean()) return v->get<bool>();
    if (v->is_number()) return v->get<double>() != 0;
    if (v->is_string()) return !v->get_ref<const std::string&>().empty();
    if (v->is_array()) return !v->empty();
    return true;
  }

  static std::string ToText(const Json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (d == static_cast<double>(static_cast<int64_t>(d)))
        return std::to_string(static_cast<int64_t>(d));
      return Json(d).dump();
    }
    if (v.is_array()) {
      std::string out;
      for (const auto& e : v) out += (out.empty() ? "" : ",") + ToText(e);
      return out;
    }
    return "[object Object]";
  }

  const Json* Lookup(const std::string& path_in) {
    std::string path = path_in;
    size_t depth = stack_.size() - 1;
    while (path.rfind("../", 0) == 0) {
      path = path.substr(3);
      if (depth > 0) --depth;
    }
    const Frame& frame = stack_[depth];
    if (!path.empty() && path[0] == '@') {
      auto it = frame.locals.find(path.substr(1));
      return it == frame.locals.end() ? nullptr : &*it;
    }
    if (path == "this" || path == ".") return frame.value;
    if (path.rfind("this.", 0) == 0) path = path.substr(5);
    const Json* current = frame.value;
    size_t start = 0;
    while (start <= path.size()) {
      size_t dot = path.find('.', start);
      std::string part =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (current == nullptr) return nullptr;
      if (current->is_object()) {
        auto it = current->find(part);
        current = it == current->end() ? nullptr : &*it;
      } else if (current->is_array() && !part.empty() &&
                 part.find_first_not_of("0123456789") == std::string::npos) {
        size_t index = std::stoul(part);
        current = index < current->size() ? &(*current)[index] : nullptr;
      } else {
        return nullptr;
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return current;
  }

  std::vector<Frame> stack_;
};

}  // namespace

Status CheckTemplateSyntax(std::string_view text) {
  std::vector<Node> nodes;
  return Parser(text).Parse(&nodes);
}

std::variant<std::string, RenderError> RenderTemplate(std::string_view text, const Json& data) {
  std::vector<Node> nodes;
  Status parsed = Parser(text).Parse(&nodes);
  if (!parsed.ok()) return RenderError{RenderError::Kind::kSyntax, parsed.message()};
  std::string out;
  Renderer renderer(data);
  if (auto error = renderer.Render(nodes, &out)) return *error;
  return out;
}

}  // namespace understudy::ses
