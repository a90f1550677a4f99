#include "ses/smtp_session.h"

#include <algorithm>
#include <cctype>

#include "ses/mime.h"

namespace understudy::ses {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Base64(std::string_view bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += a[v >> 18];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
    out += a[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += a[v >> 18];
    out += a[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? a[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Strict base64 for AUTH: only the alphabet and padding.
bool DecodeAuth(std::string_view text, std::string* out) {
  text = Trim(text);
  if (text.size() % 4 != 0) return false;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return false;
    }
  }
  *out = DecodeBase64Lenient(text);
  return true;
}

// Parses "FROM:<addr> PARAMS" (prefix already checked); false on bad syntax.
bool ParsePath(std::string_view rest, std::string* address, std::string* params) {
  rest = Trim(rest);
  if (rest.empty() || rest.front() != '<') {
    // Lenient: a bare address without angle brackets.
    size_t space = rest.find(' ');
    *address = std::string(rest.substr(0, space));
    *params = space == std::string_view::npos ? "" : std::string(Trim(rest.substr(space)));
    return !address->empty();
  }
  size_t close = rest.find('>');
  if (close == std::string_view::npos) return false;
  *address = std::string(rest.substr(1, close - 1));
  // Source routes "@a,@b:user@host" keep only the mailbox.
  if (!address->empty() && (*address)[0] == '@') {
    size_t colon = address->find(':');
    if (colon != std::string::npos) *address = address->substr(colon + 1);
  }
  *params = std::string(Trim(rest.substr(close + 1)));
  return true;
}

}  // namespace

std::string SmtpSession::Greeting() const {
  return "220 " + config_.hostname + " ESMTP SimpleEmailService-understudy\r\n";
}

void SmtpSession::ResetTransaction() {
  in_transaction_ = false;
  envelope_.mail_from.clear();
  envelope_.recipients.clear();
  data_.clear();
  data_too_large_ = false;
}

void SmtpSession::TlsStarted() {
  envelope_.tls = true;
  greeted_ = false;
  authenticated_ = false;
  envelope_.username.clear();
  ResetTransaction();
  buffer_.clear();
  state_ = State::kCommand;
}

SmtpSession::Action SmtpSession::Feed(std::string_view bytes, std::string* out) {
  buffer_.append(bytes);
  size_t pos = 0;
  Action action = Action::kNone;
  while (true) {
    size_t nl = buffer_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (state_ == State::kData) {
      DataLine(line, out);
      continue;
    }
    if (state_ == State::kAuthPlain || state_ == State::kAuthLoginUser ||
        state_ == State::kAuthLoginPassword) {
      std::string decoded;
      if (line == "*") {
        state_ = State::kCommand;
        *out += "501 5.0.0 Authentication cancelled\r\n";
        continue;
      }
      if (!DecodeAuth(line, &decoded)) {
        state_ = State::kCommand;
        *out += "501 5.5.2 Cannot decode response\r\n";
        continue;
      }
      if (state_ == State::kAuthLoginUser) {
        login_user_ = decoded;
        state_ = State::kAuthLoginPassword;
        *out += "334 " + Base64("Password:") + "\r\n";
        continue;
      }
      if (state_ == State::kAuthLoginPassword) {
        state_ = State::kCommand;
        FinishAuth(login_user_, decoded, out);
        continue;
      }
      state_ = State::kCommand;
      Auth("PLAIN " + std::string(line), out);
      continue;
    }
    action = Command(line, out);
    if (action != Action::kNone) {
      buffer_.clear();  // nothing after STARTTLS or QUIT is read in this state
      return action;
    }
  }
  buffer_.erase(0, pos);
  // A command line may not grow without end (RFC 5321 §4.5.3.1.4: 512 octets; be generous).
  if (state_ != State::kData && buffer_.size() > 64 * 1024) {
    buffer_.clear();
    *out += "500 5.5.6 Line too long\r\n";
  }
  if (state_ == State::kData && buffer_.size() > config_.max_message_bytes + 1024) {
    // One endless line: count it against the size limit and drop it.
    data_too_large_ = true;
    buffer_.clear();
  }
  return action;
}

void SmtpSession::DataLine(std::string_view line, std::string* out) {
  if (line == ".") {
    state_ = State::kCommand;
    if (data_too_large_) {
      *out += "552 5.3.4 Message is too long.\r\n";
    } else {
      std::string reply = config_.deliver(envelope_, std::move(data_));
      *out += reply + "\r\n";
    }
    ResetTransaction();
    return;
  }
  if (data_too_large_) return;
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // dot-unstuffing
  if (data_.size() + line.size() + 2 > config_.max_message_bytes) {
    data_too_large_ = true;
    data_.clear();
    data_.shrink_to_fit();
    return;
  }
  data_.append(line);
  data_.append("\r\n");
}

SmtpSession::Action SmtpSession::Command(std::string_view line, std::string* out) {
  size_t space = line.find(' ');
  std::string verb = Upper(line.substr(0, space));
  std::string_view args = space == std::string_view::npos ? "" : Trim(line.substr(space + 1));
  if (verb == "EHLO" || verb == "HELO") {
    if (args.empty()) {
      *out += "501 5.5.4 Syntax: " + verb + " hostname\r\n";
      return Action::kNone;
    }
    greeted_ = true;
    ResetTransaction();
    if (verb == "HELO") {
      *out += "250 " + config_.hostname + "\r\n";
      return Action::kNone;
    }
    std::vector<std::string> lines = {config_.hostname, "8BITMIME", "PIPELINING", "SMTPUTF8",
                                      "SIZE " + std::to_string(config_.max_message_bytes)};
    if (config_.tls_available && !envelope_.tls) lines.push_back("STARTTLS");
    if (envelope_.tls || !config_.require_tls) lines.push_back("AUTH PLAIN LOGIN");
    lines.push_back("Ok");
    for (size_t i = 0; i < lines.size(); ++i) {
      *out += "250" + std::string(i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
    }
    return Action::kNone;
  }
  if (verb == "QUIT") {
    *out += "221 Bye\r\n";
    return Action::kClose;
  }
  if (verb == "NOOP") {
    *out += "250 Ok\r\n";
    return Action::kNone;
  }
  if (verb == "RSET") {
    ResetTransaction();
    *out += "250 Ok\r\n";
    return Action::kNone;
  }
  if (verb == "VRFY") {
    *out += "252 2.5.2 Cannot VRFY user\r\n";
    return Action::kNone;
  }
  if (verb == "HELP") {
    *out += "214 2.0.0 See RFC 5321\r\n";
    return Action::kNone;
  }
  if (verb == "STARTTLS") {
    if (!args.empty()) {
      *out += "501 5.5.4 Syntax: STARTTLS\r\n";
      return Action::kNone;
    }
    if (envelope_.tls) {
      *out += "503 5.5.1 TLS already active\r\n";
      return Action::kNone;
    }
    if (!config_.tls_available) {
      *out += "454 4.7.0 TLS not available\r\n";
      return Action::kNone;
    }
    *out += "220 Ready to start TLS\r\n";
    return Action::kStartTls;
  }
  if (verb == "AUTH") {
    if (!greeted_) {
      *out += "503 5.5.1 Error: send HELO/EHLO first\r\n";
    } else if (config_.require_tls && !envelope_.tls) {
      *out += "530 Must issue a STARTTLS command first\r\n";
    } else if (authenticated_) {
      *out += "503 5.5.1 Error: already authenticated\r\n";
    } else if (in_transaction_) {
      *out += "503 5.5.1 Error: AUTH not allowed during a mail transaction\r\n";
    } else {
      Auth(args, out);
    }
    return Action::kNone;
  }
  if (verb == "MAIL") {
    if (!greeted_) {
      *out += "503 5.5.1 Error: send HELO/EHLO first\r\n";
      return Action::kNone;
    }
    if (config_.require_tls && !envelope_.tls) {
      *out += "530 Must issue a STARTTLS command first\r\n";
      return Action::kNone;
    }
    if (config_.require_auth && !authenticated_) {
      *out += "530 Authentication required\r\n";
      return Action::kNone;
    }
    if (in_transaction_) {
      *out += "503 5.5.1 Error: nested MAIL command\r\n";
      return Action::kNone;
    }
    if (Upper(args.substr(0, 5)) != "FROM:") {
      *out += "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
      return Action::kNone;
    }
    std::string address, params;
    if (!ParsePath(args.substr(5), &address, &params)) {
      *out += "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
      return Action::kNone;
    }
    bool utf8 = false;
    std::string rest = params;
    while (!rest.empty()) {
      size_t sp = rest.find(' ');
      std::string param = Upper(rest.substr(0, sp));
      rest = sp == std::string::npos ? "" : std::string(Trim(rest.substr(sp + 1)));
      if (param.rfind("SIZE=", 0) == 0) {
        char* end = nullptr;
        unsigned long long size = std::strtoull(param.c_str() + 5, &end, 10);
        if (end == param.c_str() + 5 || *end != '\0') {
          *out += "501 5.5.4 Syntax: SIZE=<number>\r\n";
          return Action::kNone;
        }
        if (size > config_.max_message_bytes) {
          *out += "552 5.3.4 Message is too long.\r\n";
          return Action::kNone;
        }
      } else if (param == "BODY=8BITMIME" || param == "BODY=7BIT") {
      } else if (param == "SMTPUTF8") {
        utf8 = true;
      } else if (!param.empty()) {
        *out += "555 5.5.4 Unsupported option: " + param + "\r\n";
        return Action::kNone;
      }
    }
    // The null reverse-path "<>" is allowed (bounces); anything else must be an address.
    if (!address.empty()) {
      bool eight_bit = std::any_of(address.begin(), address.end(),
                                   [](char c) { return static_cast<unsigned char>(c) >= 128; });
      if ((eight_bit && !utf8) || (!eight_bit && AddressProblem(address))) {
        *out += "553 5.1.7 <" + address + "> Invalid email address.\r\n";
        return Action::kNone;
      }
    }
    in_transaction_ = true;
    envelope_.mail_from = address;
    envelope_.recipients.clear();
    *out += "250 Ok\r\n";
    return Action::kNone;
  }
  if (verb == "RCPT") {
    if (!in_transaction_) {
      *out += "503 5.5.1 Error: need MAIL command\r\n";
      return Action::kNone;
    }
    if (Upper(args.substr(0, 3)) != "TO:") {
      *out += "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
      return Action::kNone;
    }
    std::string address, params;
    if (!ParsePath(args.substr(3), &address, &params) || address.empty()) {
      *out += "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
      return Action::kNone;
    }
    if (AddressProblem(address)) {
      *out += "553 5.1.3 <" + address + "> address unknown\r\n";
      return Action::kNone;
    }
    if (envelope_.recipients.size() >= config_.max_recipients) {
      *out += "452 4.5.3 Too many recipients\r\n";
      return Action::kNone;
    }
    if (config_.recipient_fault) {
      if (auto reply = config_.recipient_fault(address)) {
        *out += *reply + "\r\n";
        return Action::kNone;
      }
    }
    envelope_.recipients.push_back(address);
    *out += "250 Ok\r\n";
    return Action::kNone;
  }
  if (verb == "DATA") {
    if (!args.empty()) {
      *out += "501 5.5.4 Syntax: DATA\r\n";
      return Action::kNone;
    }
    if (!in_transaction_) {
      *out += "503 5.5.1 Error: need MAIL command\r\n";
      return Action::kNone;
    }
    if (envelope_.recipients.empty()) {
      *out += "503 5.5.1 Error: need RCPT command\r\n";
      return Action::kNone;
    }
    state_ = State::kData;
    data_.clear();
    data_too_large_ = false;
    *out += "354 End data with <CR><LF>.<CR><LF>\r\n";
    return Action::kNone;
  }
  if (verb.empty()) {
    *out += "500 5.5.2 Error: bad syntax\r\n";
    return Action::kNone;
  }
  *out += "502 5.5.2 Error: command not recognized\r\n";
  return Action::kNone;
}

void SmtpSession::Auth(std::string_view args, std::string* out) {
  size_t space = args.find(' ');
  std::string mechanism = Upper(args.substr(0, space));
  std::string_view initial = space == std::string_view::npos ? "" : Trim(args.substr(space + 1));
  if (mechanism == "PLAIN") {
    if (initial.empty()) {
      state_ = State::kAuthPlain;
      *out += "334 \r\n";
      return;
    }
    std::string decoded;
    if (!DecodeAuth(initial, &decoded)) {
      *out += "501 5.5.2 Cannot decode response\r\n";
      return;
    }
    // authzid \0 authcid \0 password
    size_t first = decoded.find('\0');
    size_t second = first == std::string::npos ? first : decoded.find('\0', first + 1);
    if (second == std::string::npos) {
      *out += "535 Authentication Credentials Invalid\r\n";
      return;
    }
    FinishAuth(decoded.substr(first + 1, second - first - 1), decoded.substr(second + 1), out);
    return;
  }
  if (mechanism == "LOGIN") {
    if (!initial.empty()) {
      std::string decoded;
      if (!DecodeAuth(initial, &decoded)) {
        *out += "501 5.5.2 Cannot decode response\r\n";
        return;
      }
      login_user_ = decoded;
      state_ = State::kAuthLoginPassword;
      *out += "334 " + Base64("Password:") + "\r\n";
      return;
    }
    state_ = State::kAuthLoginUser;
    *out += "334 " + Base64("Username:") + "\r\n";
    return;
  }
  if (mechanism.empty()) {
    *out += "501 5.5.4 Syntax: AUTH mechanism\r\n";
    return;
  }
  *out += "504 5.5.4 Unrecognized authentication type\r\n";
}

void SmtpSession::FinishAuth(const std::string& user, const std::string& password,
                             std::string* out) {
  bool ok =
      !user.empty() && (!config_.check_credentials || config_.check_credentials(user, password));
  if (!ok) {
    *out += "535 Authentication Credentials Invalid\r\n";
    return;
  }
  authenticated_ = true;
  envelope_.username = user;
  *out += "235 Authentication successful.\r\n";
}

}  // namespace understudy::ses
