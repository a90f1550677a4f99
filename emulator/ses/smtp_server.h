// SmtpServer: SES's SMTP endpoint on a TCP port of the emulator's event loop.
//
// Accepts connections, runs an SmtpSession for each, and upgrades to TLS on STARTTLS
// (or at once on an implicit-TLS listener, like SES's 465/2465) with a certificate the
// caller issues (the emulator's local CA), made on first use. Messages go to the
// session's delivery callback on the loop thread, so they meet the same store and
// rules as the API. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>

#include "core/status.h"
#include "core/time.h"
#include "ses/smtp_session.h"

namespace understudy::ses {

struct SmtpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 2587;           // 0 picks a free port
  bool implicit_tls = false;      // TLS from the first byte (SMTPS)
  size_t max_connections = 1000;  // more are answered 421 and closed
  // A connection idle this long (clock time) hears 451 and is closed; 0: never.
  // `schedule(delay, fn)` and `cancel(id)` are the emulator's clock.
  Duration idle_timeout{0};
  std::function<uint64_t(Duration, std::function<void()>)> schedule;
  std::function<void(uint64_t)> cancel;
  SmtpConfig session;  // tls_available is set from `certificate`
  // The certificate and key PEM for TLS; unset: no STARTTLS.
  std::function<Result<std::pair<std::string, std::string>>()> certificate;
};

class SmtpServer {
 public:
  static Result<std::unique_ptr<SmtpServer>> Start(boost::asio::io_context& io,
                                                   SmtpServerOptions options);
  virtual ~SmtpServer() = default;
  virtual uint16_t port() const = 0;
  virtual const std::string& host() const = 0;
  // Stops accepting and closes open connections.
  virtual void Stop() = 0;
  virtual size_t open_connections() const = 0;
};

}  // namespace understudy::ses
