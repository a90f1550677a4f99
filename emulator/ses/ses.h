// Ses: Amazon SES as an email sink — SES v1 (awsQuery) and v2 (restJson1) on the front
// door, SMTP intake, the mailbox simulator, event records, and the read side tests use.
//
// Every send path (v1 SendEmail/SendRawEmail/SendTemplatedEmail/SendBulkTemplatedEmail,
// v2 SendEmail/SendBulkEmail, SMTP) ends in one Submit: address checks, verification
// and sandbox rules, quotas on the clock, then the message is stored (raw bytes plus
// parsed view) and its events (Send, Delivery, Bounce, Complaint, Rendering Failure)
// are recorded and published on the EventBus for configuration sets with an
// EventBridge destination. Identities, templates, configuration sets, the suppression
// list and account settings live in SQLite (`ses_state`); messages in `ses_messages`.
// The read side is under /_understudy/ses/ and /_aws/ses. Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/clock.h"
#include "core/event_bus.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"
#include "core/waits.h"
#include "ses/smtp_session.h"

namespace understudy::ses {

struct SesOptions {
  bool sandbox = true;                // new accounts start in the sandbox (§5.2)
  bool pending_verification = false;  // identities wait for POST .../verify
  double max_24h = -2;                // -2: AWS's default for the mode (200 / 50000)
  double max_rate = -2;               // -2: AWS's default for the mode (1 / 14)
  Duration retention{0};              // 0: keep every message
  std::string account = "000000000000";
  std::string region = "us-east-1";
};

class Ses {
 public:
  static Result<std::unique_ptr<Ses>> Open(EventLoop& loop, Store& store, Journal& journal,
                                           Clock& clock, Waits& waits, EventBus& bus, Random random,
                                           SesOptions options);
  virtual ~Ses() = default;
  // Registers the SES v1/v2 operations, the read side, wait conditions and the reset hook.
  virtual void Install(api::FrontDoor& front_door, api::ControlApi& control) = 0;
  // The final SMTP reply for a message received over SMTP ("250 Ok <id>" or a rejection).
  virtual std::string DeliverSmtp(const SmtpEnvelope& envelope, std::string data) = 0;
  // Where SMTP listens, for the read side's info ({"host", "port"}).
  virtual void SetSmtpEndpoint(const std::string& host, uint16_t port) = 0;
  virtual Status Reset() = 0;
};

}  // namespace understudy::ses
