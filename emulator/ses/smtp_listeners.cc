#include "ses/smtp_listeners.h"

#include <algorithm>

#include "core/log.h"

namespace understudy::ses {

Result<SmtpListeners> StartSmtpListeners(boost::asio::io_context& io, Ses& ses,
                                         const SmtpListenOptions& options) {
  SmtpListeners listeners;
  for (bool implicit_tls : {false, true}) {
    int port = implicit_tls ? options.tls_port : options.port;
    if (port < 0) continue;
    SmtpServerOptions smtp;
    smtp.host = options.host;
    smtp.port = static_cast<uint16_t>(port);
    smtp.implicit_tls = implicit_tls;
    smtp.max_connections = options.max_connections;
    smtp.idle_timeout = options.idle_timeout;
    smtp.schedule = options.schedule;
    smtp.cancel = options.cancel;
    smtp.session.hostname = "email-smtp." + options.region + ".amazonaws.com";
    smtp.session.require_tls = smtp.session.require_auth = options.require_auth;
    if (!options.credentials.empty()) {
      smtp.session.check_credentials = [creds = options.credentials](const std::string& user,
                                                                     const std::string& pass) {
        return std::find(creds.begin(), creds.end(), std::make_pair(user, pass)) != creds.end();
      };
    }
    smtp.session.recipient_fault = options.recipient_fault;
    smtp.session.deliver = [&ses](const SmtpEnvelope& envelope, std::string data) {
      return ses.DeliverSmtp(envelope, std::move(data));
    };
    if (options.certificate) {
      smtp.certificate = [certificate = options.certificate, name = smtp.session.hostname] {
        return certificate(name);
      };
    }
    auto started = SmtpServer::Start(io, std::move(smtp));
    if (!started.ok()) {
      if (implicit_tls || options.port_given) return started.status();
      Log(LogLevel::kWarn,
          started.status().message() + "; SMTP is off (pass --smtp-port 0 for a free port)");
      continue;
    }
    uint16_t bound = (*started)->port();
    if (!implicit_tls) ses.SetSmtpEndpoint(options.host, bound);
    listeners.health[implicit_tls ? "smtps" : "smtp"] =
        Json{{"host", options.host}, {"port", bound}};
    listeners.ready_lines += std::string("understudy SES ") + (implicit_tls ? "SMTPS" : "SMTP") +
                             " listening on " + options.host + ":" + std::to_string(bound) + "\n";
    listeners.servers.push_back(std::move(started).value());
  }
  return listeners;
}

}  // namespace understudy::ses
