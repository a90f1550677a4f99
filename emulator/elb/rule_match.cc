#include "elb/rule_match.h"

#include "elb/alb_http.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

namespace understudy::elb {
namespace {

char Fold(char c, bool case_sensitive) {
  return case_sensitive ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string_view StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {  // [v6]:port
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(':') == colon) return host.substr(0, colon);
  return host;
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view QueryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

bool QueryMatches(const Condition& condition, std::string_view query) {
  // Every key/value pair of the request is tried against every configured pair.
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = PercentDecode(item.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(item.substr(eq + 1), true);
    pairs.emplace_back(std::move(key), std::move(value));
  }
  for (const auto& wanted : condition.query) {
    for (const auto& [key, value] : pairs) {
      if (wanted.key && !WildcardMatch(*wanted.key, key, false, true)) continue;
      if (WildcardMatch(wanted.value, value, false, true)) return true;
    }
  }
  return false;
}

void Replace(std::string& text, std::string_view keyword, std::string_view value) {
  size_t at = 0;
  while ((at = text.find(keyword, at)) != std::string::npos) {
    text.replace(at, keyword.size(), value);
    at += value.size();
  }
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool case_sensitive,
                   bool escapes) {
  // Iterative matching with one backtrack point for the last `*`.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char c = pattern[p];
      if (escapes && c == '\\' && p + 1 < pattern.size() &&
          (pattern[p + 1] == '*' || pattern[p + 1] == '?')) {
        if (pattern[p + 1] == text[t]) {
          p += 2;
          ++t;
          continue;
        }
      } else if (c == '*') {
        star = p++;
        star_text = t;
        continue;
      } else if (c == '?' || Fold(c, case_sensitive) == Fold(text[t], case_sensitive)) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ParseCidr(std::string_view text, Cidr& out) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string address(text.substr(0, slash));
  std::string_view prefix = text.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3) return false;
  int bits = 0;
  for (char c : prefix) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    bits = bits * 10 + (c - '0');
  }
  Cidr cidr;
  cidr.v6 = address.find(':') != std::string::npos;
  if (inet_pton(cidr.v6 ? AF_INET6 : AF_INET, address.c_str(), cidr.address.data()) != 1) {
    return false;
  }
  if (bits > (cidr.v6 ? 128 : 32)) return false;
  cidr.prefix = bits;
  out = cidr;
  return true;
}

bool CidrContains(const Cidr& cidr, bool v6, const std::array<uint8_t, 16>& address) {
  if (cidr.v6 != v6) return false;
  int full = cidr.prefix / 8, rest = cidr.prefix % 8;
  if (std::memcmp(cidr.address.data(), address.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (cidr.address[full] & mask) == (address[full] & mask);
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hex(text[i + 1]), low = hex(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

bool ConditionMatches(const Condition& condition, const RequestView& request) {
  switch (condition.field) {
    case Condition::Field::kPathPattern: {
      std::string_view path = PathOf(request.target);
      for (const auto& value : condition.values) {
        if (WildcardMatch(value, path, true)) return true;
      }
      return false;
    }
    case Condition::Field::kHostHeader: {
      std::string_view host = StripPort(request.host);
      for (const auto& value : condition.values) {
        if (WildcardMatch(value, host, false)) return true;
      }
      return false;
    }
    case Condition::Field::kHttpHeader:
      // A repeated header: each occurrence is tried in order.
      for (const auto& [name, value] : request.headers) {
        if (!EqualsIgnoreCase(name, condition.header_name)) continue;
        for (const auto& wanted : condition.values) {
          if (WildcardMatch(wanted, value, false)) return true;
        }
      }
      return false;
    case Condition::Field::kHttpRequestMethod:
      for (const auto& value : condition.values) {
        if (value == request.method) return true;
      }
      return false;
    case Condition::Field::kQueryString:
      return QueryMatches(condition, QueryOf(request.target));
    case Condition::Field::kSourceIp:
      for (const auto& cidr : condition.cidrs) {
        if (CidrContains(cidr, request.peer_v6, request.peer)) return true;
      }
      return false;
  }
  return false;
}

RuleChoice SelectRule(const Listener& listener, const RequestView& request) {
  for (const Rule& rule : listener.rules) {
    bool all = true;
    for (const Condition& condition : rule.conditions) {
      if (!ConditionMatches(condition, request)) {
        all = false;
        break;
      }
    }
    if (all) return {&rule.action, rule.priority};
  }
  return {&listener.default_action, 0};
}

std::string RedirectLocation(const Action& action, const RequestView& request) {
  std::string protocol = request.listener_protocol == "HTTPS" ? "https" : "http";
  std::string host(StripPort(request.host));
  std::string port = std::to_string(request.listener_port);
  std::string path(PathOf(request.target));
  if (!path.empty() && path.front() == '/') path.erase(0, 1);  // #{path} has no leading slash
  std::string query(QueryOf(request.target));
  auto substitute = [&](std::string text) {
    Replace(text, "#{protocol}", protocol);
    Replace(text, "#{host}", host);
    Replace(text, "#{port}", port);
    Replace(text, "#{path}", path);
    Replace(text, "#{query}", query);
    return text;
  };
  std::string out_protocol = substitute(action.redirect_protocol);
  for (char& c : out_protocol) c = Fold(c, false);
  std::string out_host = substitute(action.redirect_host);
  std::string out_port = substitute(action.redirect_port);
  std::string out_path = substitute(action.redirect_path);
  std::string out_query = substitute(action.redirect_query);
  std::string location = out_protocol + "://" + out_host;
  bool default_port = (out_protocol == "http" && out_port == "80") ||
                      (out_protocol == "https" && out_port == "443");
  if (!default_port && !out_port.empty()) location += ":" + out_port;
  if (out_path.empty() || out_path.front() != '/') out_path.insert(0, "/");
  location += out_path;
  if (!out_query.empty()) location += "?" + out_query;
  return location;
}

}  // namespace understudy::elb
