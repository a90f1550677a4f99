// XmlWriter: builds the XML documents of the query protocols (escaped, no pretty-printing).
// Any thread; one writer per document.
#pragma once

#include <string>
#include <string_view>

namespace understudy::api {

class XmlWriter {
 public:
  XmlWriter() { out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"; }
  // <name> or <name xmlns="ns">
  void Open(std::string_view name, std::string_view xmlns = {});
  void Close(std::string_view name);
  // <name>escaped text</name>
  void Element(std::string_view name, std::string_view text);
  void Text(std::string_view text);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// Escapes &, <, >, " and ', and drops characters XML 1.0 cannot carry.
std::string XmlEscape(std::string_view text);

}  // namespace understudy::api
