// SmtpListeners: SES's SMTP endpoints as `serve` opens them — STARTTLS on --smtp-port and,
// when asked, implicit TLS on --smtps-port — delivering into a Ses.
//
// A default port that is taken (another instance) leaves SMTP off with a warning; an
// explicit one is an error. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/json.h"
#include "core/status.h"
#include "core/time.h"
#include "ses/ses.h"
#include "ses/smtp_server.h"

namespace understudy::ses {

struct SmtpListenOptions {
  std::string host = "127.0.0.1";
  int port = 2587;  // -1: off
  bool port_given = false;
  int tls_port = -1;  // implicit TLS; -1: off
  bool require_auth = false;
  std::vector<std::pair<std::string, std::string>> credentials;  // empty: any
  size_t max_connections = 1000;
  std::string region = "us-east-1";
  // The certificate and key PEM for `name` (the emulator's local CA).
  std::function<Result<std::pair<std::string, std::string>>(const std::string& name)> certificate;
  Duration idle_timeout{0};  // on the clock; 0: never
  std::function<uint64_t(Duration, std::function<void()>)> schedule;
  std::function<void(uint64_t)> cancel;
  // Fault injection: replies to RCPT TO for matching recipients (SmtpConfig).
  std::function<std::optional<std::string>(const std::string& address)> recipient_fault;
};

struct SmtpListeners {
  std::vector<std::unique_ptr<SmtpServer>> servers;
  Json health = nullptr;  // {"smtp": {"host", "port"}, "smtps": {...}}
  // "understudy SES SMTP listening on 127.0.0.1:2587\n" per listener.
  std::string ready_lines;
  void Stop() {
    for (auto& s : servers) s->Stop();
  }
};

Result<SmtpListeners> StartSmtpListeners(boost::asio::io_context& io, Ses& ses,
                                         const SmtpListenOptions& options);

}  // namespace understudy::ses
