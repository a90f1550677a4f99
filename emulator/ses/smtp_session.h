// SmtpSession: one SMTP dialogue as SES's SMTP interface holds it (RFC 5321, §5.5).
//
// A pure state machine: bytes in, reply bytes out, plus what the connection must do
// next (start TLS, close). It knows EHLO/HELO, STARTTLS, AUTH PLAIN and LOGIN, MAIL
// (SIZE, BODY=8BITMIME, SMTPUTF8), RCPT, DATA with dot-unstuffing, RSET, NOOP, VRFY,
// HELP and QUIT, answers pipelined commands in order, and gives each misuse its reply
// code. The finished message goes to a delivery callback that returns the final reply
// ("250 Ok <id>" or a rejection). No I/O; one owner thread.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::ses {

struct SmtpEnvelope {
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string username;  // the authenticated user, "" without AUTH
  bool tls = false;
};

struct SmtpConfig {
  std::string hostname = "email-smtp.us-east-1.amazonaws.com";
  size_t max_message_bytes = 40u * 1024 * 1024;
  size_t max_recipients = 50;
  bool tls_available = false;  // STARTTLS advertised
  bool require_tls = false;    // AUTH and MAIL only after STARTTLS
  bool require_auth = false;   // MAIL only after AUTH
  // Whether a username and password are valid SMTP credentials.
  std::function<bool(const std::string& user, const std::string& password)> check_credentials;
  // Fault injection (docs/chaos.md): the reply to RCPT TO:<address> instead of accepting
  // the recipient ("450 4.2.0 ...", "550 5.1.1 ..."), or nothing to accept it.
  std::function<std::optional<std::string>(const std::string& address)> recipient_fault;
  // The reply to a complete message: "250 Ok <MessageId>" or "554 Message rejected: ...".
  std::function<std::string(const SmtpEnvelope& envelope, std::string data)> deliver;
};

class SmtpSession {
 public:
  explicit SmtpSession(const SmtpConfig& config) : config_(config) {}

  std::string Greeting() const;

  enum class Action { kNone, kStartTls, kClose };
  // Consumes `bytes`; appends replies to `out`. Returns what the connection must do after
  // writing `out`. On kStartTls, bytes after the STARTTLS command are discarded (RFC 3207).
  Action Feed(std::string_view bytes, std::string* out);
  // The connection finished the TLS handshake: the session starts over (RFC 3207 §4.2).
  void TlsStarted();
  bool tls() const { return envelope_.tls; }
  bool in_data() const { return state_ == State::kData; }

 private:
  enum class State { kCommand, kData, kAuthPlain, kAuthLoginUser, kAuthLoginPassword };
  Action Command(std::string_view line, std::string* out);
  void DataLine(std::string_view line, std::string* out);
  void Auth(std::string_view args, std::string* out);
  void FinishAuth(const std::string& user, const std::string& password, std::string* out);
  void ResetTransaction();

  const SmtpConfig& config_;
  State state_ = State::kCommand;
  std::string buffer_;  // bytes not yet forming a full line
  bool greeted_ = false;
  bool authenticated_ = false;
  bool in_transaction_ = false;
  SmtpEnvelope envelope_;
  std::string data_;
  bool data_too_large_ = false;
  std::string login_user_;
};

}  // namespace understudy::ses
