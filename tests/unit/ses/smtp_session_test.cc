// The SMTP dialogue: replies for each command and misuse, pipelining, dot-unstuffing,
// size limits, STARTTLS and AUTH (aws-semantics §5.5).
#include "ses/smtp_session.h"

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

class SmtpSessionTest : public ::testing::Test {
 protected:
  SmtpSessionTest() {
    config_.hostname = "email-smtp.us-east-1.amazonaws.com";
    config_.max_message_bytes = 1000;
    config_.max_recipients = 2;
    config_.deliver = [this](const SmtpEnvelope& e, std::string data) {
      envelopes_.push_back(e);
      messages_.push_back(std::move(data));
      return std::string("250 Ok 0100-id");
    };
  }
  std::string Say(SmtpSession& s, const std::string& bytes, SmtpSession::Action* action = nullptr) {
    std::string out;
    auto a = s.Feed(bytes, &out);
    if (action) *action = a;
    return out;
  }
  SmtpConfig config_;
  std::vector<SmtpEnvelope> envelopes_;
  std::vector<std::string> messages_;
};

// A whole transaction; dot-stuffed lines come back unstuffed.
TEST_F(SmtpSessionTest, DeliversAMessage) {
  SmtpSession s(config_);
  EXPECT_EQ(s.Greeting(),
            "220 email-smtp.us-east-1.amazonaws.com ESMTP SimpleEmailService-understudy\r\n");
  EXPECT_EQ(Say(s, "EHLO client\r\n"),
            "250-email-smtp.us-east-1.amazonaws.com\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
            "250-SMTPUTF8\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 Ok\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\n"), "250 Ok\r\n");
  EXPECT_EQ(Say(s, "RCPT TO:<b@example.org>\r\n"), "250 Ok\r\n");
  EXPECT_EQ(Say(s, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(Say(s, "Subject: x\r\n\r\n..leading dot\r\n"), "");
  EXPECT_EQ(Say(s, "last\r\n.\r\n"), "250 Ok 0100-id\r\n");
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_EQ(messages_[0], "Subject: x\r\n\r\n.leading dot\r\nlast\r\n");
  EXPECT_EQ(envelopes_[0].mail_from, "a@example.org");
  EXPECT_EQ(envelopes_[0].recipients, std::vector<std::string>{"b@example.org"});
  SmtpSession::Action action;
  EXPECT_EQ(Say(s, "QUIT\r\n", &action), "221 Bye\r\n");
  EXPECT_EQ(action, SmtpSession::Action::kClose);
}

// Pipelined commands in one packet get their replies in order.
TEST_F(SmtpSessionTest, Pipelining) {
  SmtpSession s(config_);
  EXPECT_EQ(Say(s,
                "HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
                "hi\r\n.\r\nQUIT\r\n"),
            "250 email-smtp.us-east-1.amazonaws.com\r\n250 Ok\r\n250 Ok\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n250 Ok 0100-id\r\n221 Bye\r\n");
}

// Commands out of order, bad syntax, bad addresses, too many recipients.
TEST_F(SmtpSessionTest, Misuse) {
  SmtpSession s(config_);
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  EXPECT_EQ(Say(s, "EHLO\r\n"), "501 5.5.4 Syntax: EHLO hostname\r\n");
  Say(s, "EHLO c\r\n");
  EXPECT_EQ(Say(s, "RCPT TO:<b@example.org>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(Say(s, "DATA\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(Say(s, "MAIL TO:<a@example.org>\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<not-an-address>\r\n"),
            "553 5.1.7 <not-an-address> Invalid email address.\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org> SIZE=5000\r\n"),
            "552 5.3.4 Message is too long.\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org> FOO=1\r\n"),
            "555 5.5.4 Unsupported option: FOO=1\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "250 Ok\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "503 5.5.1 Error: nested MAIL command\r\n");
  EXPECT_EQ(Say(s, "DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
  EXPECT_EQ(Say(s, "RCPT TO:<bad>\r\n"), "553 5.1.3 <bad> address unknown\r\n");
  EXPECT_EQ(
      Say(s, "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nRCPT TO:<d@example.org>\r\n"),
      "250 Ok\r\n250 Ok\r\n452 4.5.3 Too many recipients\r\n");
  EXPECT_EQ(Say(s, "RSET\r\n"), "250 Ok\r\n");
  EXPECT_EQ(Say(s, "BDAT 10 LAST\r\n"), "502 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(Say(s, "STARTTLS\r\n"), "454 4.7.0 TLS not available\r\n");
  EXPECT_EQ(Say(s, "\r\n"), "500 5.5.2 Error: bad syntax\r\n");
  EXPECT_TRUE(messages_.empty());
}

// A message over the size limit is read to its end and refused; nothing is delivered.
TEST_F(SmtpSessionTest, OversizeMessage) {
  SmtpSession s(config_);
  Say(s, "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  std::string line(100, 'x');
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Say(s, line + "\r\n"), "");
  EXPECT_EQ(Say(s, ".\r\n"), "552 5.3.4 Message is too long.\r\n");
  EXPECT_TRUE(messages_.empty());
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "250 Ok\r\n");
}

// SES's strict mode: STARTTLS first, then AUTH, then MAIL; the session restarts after TLS.
TEST_F(SmtpSessionTest, RequireTlsAndAuth) {
  config_.tls_available = true;
  config_.require_tls = config_.require_auth = true;
  config_.check_credentials = [](const std::string& u, const std::string& p) {
    return u == "AKIAEXAMPLE" && p == "secret";
  };
  SmtpSession s(config_);
  EXPECT_EQ(Say(s, "EHLO c\r\n"),
            "250-email-smtp.us-east-1.amazonaws.com\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
            "250-SMTPUTF8\r\n250-SIZE 1000\r\n250-STARTTLS\r\n250 Ok\r\n");
  EXPECT_EQ(Say(s, "AUTH PLAIN AEFLSUFFWEFNUExFAHNlY3JldA==\r\n"),
            "530 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "530 Must issue a STARTTLS command first\r\n");
  SmtpSession::Action action;
  EXPECT_EQ(Say(s, "STARTTLS\r\nEHLO sneaky\r\n", &action), "220 Ready to start TLS\r\n");
  EXPECT_EQ(action, SmtpSession::Action::kStartTls);
  s.TlsStarted();
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  EXPECT_EQ(Say(s, "EHLO c\r\n"),
            "250-email-smtp.us-east-1.amazonaws.com\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
            "250-SMTPUTF8\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 Ok\r\n");
  EXPECT_EQ(Say(s, "STARTTLS\r\n"), "503 5.5.1 TLS already active\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "530 Authentication required\r\n");
  // "\0AKIAEXAMPLE\0wrong"
  EXPECT_EQ(Say(s, "AUTH PLAIN AEFLSUFFWEFNUExFAHdyb25n\r\n"),
            "535 Authentication Credentials Invalid\r\n");
  EXPECT_EQ(Say(s, "AUTH PLAIN not*base64\r\n"), "501 5.5.2 Cannot decode response\r\n");
  EXPECT_EQ(Say(s, "AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  // LOGIN: username and password prompts in base64.
  EXPECT_EQ(Say(s, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Say(s, "QUtJQUVYQU1QTEU=\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(Say(s, "c2VjcmV0\r\n"), "235 Authentication successful.\r\n");
  EXPECT_EQ(Say(s, "AUTH LOGIN\r\n"), "503 5.5.1 Error: already authenticated\r\n");
  EXPECT_EQ(Say(s, "MAIL FROM:<a@example.org>\r\n"), "250 Ok\r\n");
}

// AUTH PLAIN with the response on its own line, and "*" cancelling.
TEST_F(SmtpSessionTest, AuthPlainContinuation) {
  SmtpSession s(config_);
  Say(s, "EHLO c\r\n");
  EXPECT_EQ(Say(s, "AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(Say(s, "*\r\n"), "501 5.0.0 Authentication cancelled\r\n");
  EXPECT_EQ(Say(s, "AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(Say(s, "AHVzZXIAcGFzcw==\r\n"), "235 Authentication successful.\r\n");
}

}  // namespace
}  // namespace understudy::ses
