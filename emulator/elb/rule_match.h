// Rule evaluation as an ALB does it (aws-semantics §1.2–§1.4): the first rule in
// priority order whose conditions all match, else the listener's default action;
// and the Location a redirect action answers with. Pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "elb/routing.h"

namespace understudy::elb {

// What rules look at in a request.
struct RequestView {
  std::string_view method;
  std::string_view target;  // request-target as sent: "/path?query"
  std::string_view host;    // the first Host header, port included if sent
  // Every header in order, names as sent.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  bool peer_v6 = false;
  std::array<uint8_t, 16> peer{};  // the TCP peer address (IPv4 in the first 4 bytes)
  std::string_view listener_protocol = "HTTP";
  uint16_t listener_port = 80;
};

// `*` any run (possibly empty), `?` exactly one character; `\*` and `\?` are literal
// when `escapes` is set (query-string conditions).
bool WildcardMatch(std::string_view pattern, std::string_view text, bool case_sensitive,
                   bool escapes = false);
bool CidrContains(const Cidr& cidr, bool v6, const std::array<uint8_t, 16>& address);
// Parses "10.0.0.0/8" or "2001:db8::/32"; false when malformed.
bool ParseCidr(std::string_view text, Cidr& out);
// Decodes %xx and '+' (as a space) in a query-string key or value.
std::string PercentDecode(std::string_view text, bool plus_is_space);

bool ConditionMatches(const Condition& condition, const RequestView& request);
struct RuleChoice {
  const Action* action = nullptr;
  int priority = 0;  // 0: the default rule
};
// The first matching rule, else the listener's default rule.
RuleChoice SelectRule(const Listener& listener, const RequestView& request);

// The Location of a redirect action for `request`, keywords substituted.
std::string RedirectLocation(const Action& action, const RequestView& request);

}  // namespace understudy::elb
