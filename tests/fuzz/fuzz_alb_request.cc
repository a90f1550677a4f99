// libFuzzer target: bytes from a client as the ALB's listeners parse and route them.
//
// The input is what arrives on a listener connection. It goes through the same
// Beast parser with the ALB's limits, the request checks (400/405/414/463/501),
// rule evaluation over a listener with one rule of every condition type, the
// redirect Location, cookie lookup, and the X-Forwarded-For / X-Amzn-Trace-Id /
// Host rewriting. Invariants: nothing crashes, a rejected request never reaches rule
// evaluation, and the headers built for a target hold no CR or LF.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "elb/alb_http.h"
#include "elb/rule_match.h"
#include "elb/target_choice.h"

namespace {

namespace http = boost::beast::http;
using namespace understudy::elb;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

void NoLineBreaks(const std::string& text, const char* what) {
  if (text.find_first_of("\r\n") != std::string::npos) Fail(std::string(what) + " holds CR/LF");
}

Listener MakeListener() {
  Listener listener;
  listener.port = 8080;
  auto rule = [](int priority, Condition condition) {
    Rule r;
    r.priority = priority;
    r.conditions = {std::move(condition)};
    r.action.type = Action::Type::kRedirect;
    r.action.redirect_host = "#{host}.new";
    r.action.redirect_path = "/x/#{path}";
    r.action.redirect_query = "#{query}&p=#{port}";
    return r;
  };
  Condition path{Condition::Field::kPathPattern, "", {"/api/*", "/r?d*"}, {}, {}};
  Condition host{Condition::Field::kHostHeader, "", {"*.example.com"}, {}, {}};
  Condition header{Condition::Field::kHttpHeader, "X-Channel", {"beta*", "?x"}, {}, {}};
  Condition method{Condition::Field::kHttpRequestMethod, "", {"POST", "PUT"}, {}, {}};
  Condition query{
      Condition::Field::kQueryString, "", {}, {{std::string("q"), "a*"}, {{}, "b\\*"}}, {}};
  Condition source{Condition::Field::kSourceIp, "", {}, {}, {}};
  Cidr cidr;
  ParseCidr("127.0.0.0/8", cidr);
  source.cidrs = {cidr};
  listener.rules = {rule(1, path),   rule(2, host),  rule(3, header),
                    rule(4, method), rule(5, query), rule(6, source)};
  return listener;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Listener listener = MakeListener();
  http::request_parser<http::string_body> parser;
  ApplyRequestLimits(parser);
  boost::beast::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& request = parser.get();

  RequestHead head;
  head.method = std::string_view(request.method_string().data(), request.method_string().size());
  head.target = std::string_view(request.target().data(), request.target().size());
  RequestView view;
  view.method = head.method;
  view.target = head.target;
  view.peer = {127, 0, 0, 1};
  for (const auto& field : request) {
    std::string_view name(field.name_string().data(), field.name_string().size());
    std::string_view value(field.value().data(), field.value().size());
    head.headers.emplace_back(name, value);
    if (view.host.empty() && field.name() == http::field::host) view.host = value;
  }
  view.headers = head.headers;
  if (RejectRequest(head)) return 0;

  RuleChoice choice = SelectRule(listener, view);
  if (choice.action == nullptr) Fail("no action chosen");
  if (choice.action->type == Action::Type::kRedirect) {
    std::string location = RedirectLocation(*choice.action, view);
    if (location.rfind("http://", 0) != 0) Fail("redirect without a scheme: " + location);
  }
  std::optional<std::string_view> forwarded_for, trace;
  for (const auto& [name, value] : head.headers) {
    boost::beast::string_view header(name.data(), name.size());
    if (!forwarded_for && boost::beast::iequals(header, "X-Forwarded-For")) forwarded_for = value;
    if (!trace && boost::beast::iequals(header, "X-Amzn-Trace-Id")) trace = value;
  }
  auto xff = ForwardedFor(forwarded_for, "127.0.0.1", 40000, "append", true);
  if (!xff) Fail("append mode dropped X-Forwarded-For");
  NoLineBreaks(*xff, "X-Forwarded-For");
  std::string trace_header = TraceHeader(trace, TraceId(1795000000, "0123456789abcdef01234567"));
  NoLineBreaks(trace_header, "X-Amzn-Trace-Id");
  if (trace_header.find("1-6afd86c0-0123456789abcdef01234567") == std::string::npos) {
    Fail("trace header lost its new id: " + trace_header);
  }
  NoLineBreaks(ForwardedHost(view.host, listener.port), "Host");
  (void)FindCookie(head.headers, "AWSALB");
  return 0;
}
