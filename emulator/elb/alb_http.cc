#include "elb/alb_http.h"

#include <cctype>
#include <chrono>
#include <cstdio>

namespace understudy::elb {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string Seconds(double value) {
  if (value < 0) return "-1";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  return buffer;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view AlbReasonPhrase(int status) {
  switch (status) {
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Time-out";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Large";
    case 460:
      return "Client Closed Request";
    case 463:
      return "Bad Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Temporarily Unavailable";
    case 504:
      return "Gateway Time-out";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string AlbErrorBody(int status) {
  std::string title = std::to_string(status) + " " + std::string(AlbReasonPhrase(status));
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n</body>\r\n</html>\r\n";
}

bool IsValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  }
  return true;
}

std::optional<int> RejectRequest(const RequestHead& head) {
  if (head.method.size() + head.target.size() + 10 > kMaxRequestLine) return 414;
  size_t forwarded_for = 0;
  for (const auto& [name, value] : head.headers) {
    if (name.size() + value.size() + 2 > kMaxHeaderLine) return 400;
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      // Only chunked and identity codings are understood (§1.8: 501 otherwise).
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view coding = Trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (!coding.empty() && !EqualsIgnoreCase(coding, "chunked") &&
            !EqualsIgnoreCase(coding, "identity")) {
          return 501;
        }
      }
    }
    if (EqualsIgnoreCase(name, "X-Forwarded-For")) {
      forwarded_for += 1;
      for (char c : value) forwarded_for += c == ',';
    }
  }
  if (forwarded_for > static_cast<size_t>(kMaxForwardedForAddresses)) return 463;
  if (head.method == "TRACE") return 405;
  return std::nullopt;
}

std::optional<std::string> ForwardedFor(std::optional<std::string_view> existing,
                                        std::string_view client_ip, uint16_t client_port,
                                        std::string_view mode, bool with_port) {
  if (mode == "remove") return std::nullopt;
  if (mode == "preserve") {
    if (existing) return std::string(*existing);
    return std::nullopt;
  }
  std::string client(client_ip);
  if (with_port) {
    client = client_ip.find(':') != std::string_view::npos
                 ? "[" + client + "]:" + std::to_string(client_port)
                 : client + ":" + std::to_string(client_port);
  }
  if (existing && !Trim(*existing).empty()) return std::string(Trim(*existing)) + ", " + client;
  return client;
}

std::string TraceId(int64_t epoch_seconds, std::string_view hex24) {
  std::string id;
  AppendTraceId(epoch_seconds, hex24, id);
  return id;
}

void AppendTraceId(int64_t epoch_seconds, std::string_view hex24, std::string& out) {
  static const char kDigits[] = "0123456789abcdef";
  uint32_t epoch = static_cast<uint32_t>(static_cast<uint64_t>(epoch_seconds) & 0xffffffffULL);
  char text[11] = {'1', '-'};
  for (int i = 0; i < 8; ++i) text[2 + i] = kDigits[(epoch >> (28 - 4 * i)) & 0xf];
  text[10] = '-';
  out.append(text, sizeof text);
  out += hex24;
}

std::string TraceHeader(std::optional<std::string_view> existing, const std::string& id) {
  if (!existing || Trim(*existing).empty()) return "Root=" + id;
  std::vector<std::string> fields;
  bool has_root = false, has_self = false;
  std::string_view rest = *existing;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string field(Trim(rest.substr(0, semi)));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (field.empty()) continue;
    std::string_view key = std::string_view(field).substr(0, field.find('='));
    if (EqualsIgnoreCase(key, "Self")) {
      has_self = true;
      field = "Self=" + id;
    } else if (EqualsIgnoreCase(key, "Root")) {
      has_root = true;
    }
    fields.push_back(std::move(field));
  }
  if (!has_self) fields.insert(fields.begin(), (has_root ? "Self=" : "Root=") + id);
  std::string out;
  for (const auto& field : fields) {
    if (!out.empty()) out += ";";
    out += field;
  }
  return out;
}

std::string ForwardedHost(std::string_view host, uint16_t listener_port) {
  std::string_view name = host;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) {
      name = host.substr(0, close + 1);
      has_port = close + 1 < host.size() && host[close + 1] == ':';
    }
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    has_port = true;
  }
  if (listener_port == 80 || listener_port == 443) return std::string(name);
  if (has_port) return std::string(host);
  return std::string(host) + ":" + std::to_string(listener_port);
}

std::string AccessLogLine(const AccessLogEntry& e) {
  std::string line;
  line.reserve(512);
  auto field = [&line](const std::string& value) {
    if (!line.empty()) line += ' ';
    line += value;
  };
  field(e.type);
  field(e.time);
  field(e.elb);
  field(e.client);
  field(e.target);
  field(Seconds(e.request_processing_time));
  field(Seconds(e.target_processing_time));
  field(Seconds(e.response_processing_time));
  field(std::to_string(e.elb_status_code));
  field(e.target_status_code);
  field(std::to_string(e.received_bytes));
  field(std::to_string(e.sent_bytes));
  field(Quoted(e.request));
  field(Quoted(e.user_agent));
  field("-");  // ssl_cipher
  field("-");  // ssl_protocol
  field(e.target_group_arn);
  field(Quoted(e.trace_id));
  field(Quoted(e.domain_name));
  field(Quoted("-"));  // chosen_cert_arn
  field(e.matched_rule_priority < 0 ? "-" : std::to_string(e.matched_rule_priority));
  field(e.request_creation_time);
  field(Quoted(e.actions_executed));
  field(Quoted(e.redirect_url));
  field(Quoted(e.error_reason));
  field(Quoted(e.target == "-" ? "-" : e.target));
  field(Quoted(e.target_status_code));
  field(Quoted("-"));  // classification
  field(Quoted("-"));  // classification_reason
  field("-");          // conn_trace_id
  return line;
}

std::string AccessLogTime(TimePoint at) {
  auto day = std::chrono::floor<std::chrono::days>(at);
  std::chrono::year_month_day ymd{day};
  int64_t us = (at - day).count();
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(us / 3'600'000'000),
                static_cast<long long>(us / 60'000'000 % 60),
                static_cast<long long>(us / 1'000'000 % 60),
                static_cast<long long>(us % 1'000'000));
  return buffer;
}

std::string AccessLogRequest(std::string_view method, std::string_view protocol,
                             std::string_view host, uint16_t listener_port, std::string_view target,
                             unsigned version) {
  std::string name = "-";
  if (!host.empty()) {
    // ForwardedHost on port 80 drops any port, brackets of an IPv6 address kept.
    name = ForwardedHost(host, 80);
  }
  std::string line(method);
  line += ' ';
  line += protocol == "HTTPS" ? "https" : "http";
  line += "://" + name + ":" + std::to_string(listener_port);
  line += target;
  line += version == 10 ? " HTTP/1.0" : " HTTP/1.1";
  return line;
}

}  // namespace understudy::elb
