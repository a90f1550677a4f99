#include "ses/ses.h"

#include "ses/ses_internal.h"

namespace understudy::ses {
namespace internal {

std::vector<std::string> Strings(const Json& input, const char* key) {
  std::vector<std::string> out;
  if (input.contains(key) && input[key].is_array()) {
    for (const auto& v : input[key]) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string BinaryString(const Json& value) {
  if (value.is_binary()) {
    const auto& b = value.get_binary();
    return std::string(b.begin(), b.end());
  }
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Builds objects member by member: nlohmann's initializer lists copy every value.
Json AddressesJson(const std::vector<MailAddress>& list) {
  Json out = Json::array();
  for (const auto& a : list) {
    Json& entry = out.emplace_back(Json::object());
    entry["name"] = a.name;
    entry["address"] = a.address;
  }
  return out;
}

// The parsed view stored for the read side.
Json ParsedJson(const ParsedMessage& p) {
  Json out = Json::object();
  Json& headers = out["headers"] = Json::array();
  for (const auto& [k, v] : p.headers) {
    Json& h = headers.emplace_back(Json::object());
    h["name"] = k;
    h["value"] = v;
  }
  auto parts = [](const std::vector<MimePart>& list) {
    Json items = Json::array();
    for (const auto& part : list) {
      Json& e = items.emplace_back(Json::object());
      e["partId"] = part.part_id;
      e["contentType"] = part.content_type;
      e["fileName"] = part.filename;
      e["contentId"] = part.content_id;
      e["disposition"] = part.disposition;
      e["size"] = part.body.size();
    }
    return items;
  };
  out["subject"] = p.subject;
  out["messageId"] = p.message_id;
  out["date"] = p.date;
  out["from"] = AddressesJson(p.from);
  out["to"] = AddressesJson(p.to);
  out["cc"] = AddressesJson(p.cc);
  out["bcc"] = AddressesJson(p.bcc);
  out["replyTo"] = AddressesJson(p.reply_to);
  out["returnPath"] = p.return_path;
  out["text"] = p.text;
  out["html"] = p.html;
  out["attachments"] = parts(p.attachments);
  out["inlines"] = parts(p.inlines);
  return out;
}

// SES event types: v1 names (send, delivery...) and v2 names (SEND, DELIVERY...) to one key.
std::string EventKey(std::string type) {
  type = Lower(type);
  type.erase(std::remove(type.begin(), type.end(), '_'), type.end());
  return type;  // "send", "delivery", "bounce", "complaint", "renderingfailure", ...
}

const std::map<std::string, std::string>& DetailTypes() {
  static const std::map<std::string, std::string> types = {
      {"Send", "Email Sent"},
      {"Delivery", "Email Delivered"},
      {"Bounce", "Email Bounced"},
      {"Complaint", "Email Complaint Received"},
      {"Rendering Failure", "Email Rendering Failed"},
      {"Reject", "Email Rejected"},
      {"DeliveryDelay", "Email Delivery Delayed"}};
  return types;
}

std::string V2Status(const std::string& status) {
  if (status == "Success") return "SUCCESS";
  if (status == "Pending") return "PENDING";
  if (status == "Failed") return "FAILED";
  if (status == "TemporaryFailure") return "TEMPORARY_FAILURE";
  return "NOT_STARTED";
}

Json TemplateFrom(const Json& t, int64_t now_ms) {
  return Json{{"subject", t.value("SubjectPart", "")},
              {"text", t.value("TextPart", "")},
              {"html", t.value("HtmlPart", "")},
              {"created", now_ms}};
}

Json V2TemplateFrom(const Json& c, int64_t now_ms) {
  return Json{{"subject", c.value("Subject", "")},
              {"text", c.value("Text", "")},
              {"html", c.value("Html", "")},
              {"created", now_ms}};
}

// The problem with a template's parts, or nothing.
std::optional<std::string> TemplateProblem(const Json& t) {
  for (const char* part : {"subject", "text", "html"}) {
    Status s = CheckTemplateSyntax(t.value(part, ""));
    if (!s.ok()) return s.message();
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// Submit: the one path every message takes.

std::variant<std::string, SubmitError> SesImpl::Submit(Submission& s) {
  // Recipients: at least one, at most 50, each a valid address.
  if (s.recipients.empty()) {
    return SubmitError{Failure::kInvalidParameter, "Missing required header 'To'."};
  }
  if (s.recipients.size() > kMaxRecipients) {
    return SubmitError{Failure::kInvalidParameter, "Recipient count exceeds 50."};
  }
  if (auto e = CheckAddresses(s.recipients)) return *e;
  if (!s.config_set.empty() && !Find(s.scope, "configset", s.config_set)) {
    return SubmitError{Failure::kConfigSetMissing,
                       "Configuration set <" + s.config_set + "> does not exist."};
  }
  if (auto e = ValidateTags(s.tags)) return *e;
  Json account = Account(s.scope);
  if (!account["sendingEnabled"].get<bool>()) {
    return SubmitError{Failure::kPaused,
                       "Email sending is disabled for your entire Amazon SES account."};
  }
  if (!s.config_set.empty()) {
    const Json* cs = Find(s.scope, "configset", s.config_set);
    if (cs && !cs->value("sendingEnabled", true)) {
      return SubmitError{Failure::kPaused,
                         "Email sending is disabled for configuration set " + s.config_set + "."};
    }
  }
  bool sandbox = account["sandbox"].get<bool>();
  auto failed = FailedIdentities(s.senders, s.recipients, sandbox,
                                 [&](const std::string& id) { return Verified(s.scope, id); });
  if (!failed.empty()) {
    return SubmitError{Failure::kRejected, NotVerifiedMessage(failed, s.scope.region)};
  }
  int counted = 0;
  for (const auto& r : s.recipients) {
    if (!SimulatorMailbox(r)) ++counted;
  }
  int64_t now = NowMs();
  SendQuota& quota = ConfiguredQuota(s.scope);
  switch (quota.Check(now, counted, static_cast<int>(s.recipients.size()))) {
    case SendQuota::Verdict::kRateExceeded:
      return SubmitError{Failure::kRate, "Maximum sending rate exceeded."};
    case SendQuota::Verdict::kDailyExceeded:
      return SubmitError{Failure::kDaily, "Daily message quota exceeded."};
    case SendQuota::Verdict::kOk:
      break;
  }
  quota.Record(now, counted, static_cast<int>(s.recipients.size()));

  if (s.rendering_failure) {
    // Accepted, never sent: a Rendering Failure event tells why (§5.3).
    StoredMessage unsent;
    unsent.id = s.message_id;
    unsent.account = s.scope.account;
    unsent.region = s.scope.region;
    unsent.received_ms = NowMs();
    unsent.source = BareAddress(s.source);
    for (const auto& r : s.recipients) unsent.destinations.push_back(BareAddress(r));
    unsent.configuration_set = s.config_set;
    unsent.tags = s.tags;
    Json mail = EventMail(unsent);
    Emit(s, "Rendering Failure", "failure",
         Json{{"errorMessage", *s.rendering_failure}, {"templateName", s.template_name}}, mail,
         mail.dump(-1, ' ', false, Json::error_handler_t::replace));
    journal_.Transition("ses." + s.message_id, Json{{"renderingFailure", *s.rendering_failure}});
    return s.message_id;
  }

  // Who receives it: the simulator's bounces and the suppression list do not.
  std::map<std::string, std::string> outcome;
  StoredMessage m;
  for (const auto& r : s.recipients) {
    std::string bare = BareAddress(r);
    auto sim = SimulatorMailbox(bare);
    std::string result = "delivered";
    if (sim && (*sim == "bounce" || *sim == "suppressionlist")) {
      result = *sim == "bounce" ? "bounce" : "suppressed-global";
    } else if (Find(s.scope, "suppressed", Lower(bare))) {
      result = "suppressed";
    } else if (sim && *sim == "complaint") {
      result = "complaint";
    } else if (sim && *sim == "ooto") {
      result = "ooto";
    }
    outcome[bare] = result;
    if (result == "delivered" || result == "complaint" || result == "ooto") {
      m.delivered.push_back(bare);
    }
  }
  m.id = s.message_id;
  m.account = s.scope.account;
  m.region = s.scope.region;
  m.mailbox = s.mailbox;
  m.received_ms = now;
  m.via = s.via;
  m.source = BareAddress(s.source);
  for (const auto& r : s.recipients) m.destinations.push_back(BareAddress(r));
  m.configuration_set = s.config_set;
  m.tags = s.tags;
  m.template_name = s.template_name;
  m.template_data = s.template_data;
  m.parsed = ParsedJson(*s.parsed);
  m.raw = s.raw;
  // The message and its events are written together (one transaction per loop turn).
  Status stored = messages_->Insert(m);
  if (stored.ok()) RecordEvents(s, m, outcome);
  if (!stored.ok()) {
    return SubmitError{Failure::kInvalidParameter,
                       "the message could not be stored: " + stored.message()};
  }
  // Retention, checked at most once a minute of clock time.
  if (options_.retention.count() > 0 && now - last_prune_ms_ > 60000) {
    last_prune_ms_ = now;
    (void)messages_->DropBefore(now - options_.retention.count() / 1000);
  }
  return s.message_id;
}

void SesImpl::Emit(const Submission& s, const std::string& type, const char* key, const Json& part,
                   const Json& mail, const std::string& mail_text) {
  // Configuration-set event destinations that take this type.
  Json published = Json::array();
  if (!s.config_set.empty()) {
    if (const Json* cs = Find(s.scope, "configset", s.config_set)) {
      std::string event_key = EventKey(type);
      for (const auto& dest : cs->value("destinations", Json::array())) {
        if (!dest.value("enabled", false)) continue;
        bool matches = false;
        for (const auto& t : dest.value("types", Json::array())) {
          if (EventKey(t.get<std::string>()) == event_key) matches = true;
        }
        if (!matches) continue;
        published.push_back(
            Json{{"name", dest.value("name", "")}, {"kind", dest.value("kind", "")}});
        if (dest.value("kind", "") == "eventBridge") {
          auto detail_type = DetailTypes().find(type);
          Json envelope{
              {"version", "0"},
              {"id", random_.Uuid()},
              {"detail-type", detail_type == DetailTypes().end() ? type : detail_type->second},
              {"source", "aws.ses"},
              {"account", s.scope.account},
              {"time", FormatIso8601(clock_.Now()).substr(0, 19) + "Z"},
              {"region", s.scope.region},
              {"resources",
               Json::array({MakeArn("ses", s.scope, "configuration-set/" + s.config_set)})},
              {"detail", Json{{"eventType", type}, {"mail", mail}, {key, part}}}};
          bus_.Publish(envelope);
        }
      }
    }
  }
  // The mail object is left out when empty: the read side makes it from the message.
  std::string record = "{\"eventType\":" + Json(type).dump() +
                       (mail_text.empty() ? "" : ",\"mail\":" + mail_text) + ",\"" + key +
                       "\":" + part.dump(-1, ' ', false, Json::error_handler_t::replace) + "}";
  (void)messages_->AddEvent(s.message_id, s.mailbox, type, NowMs(), record, published);
}

void SesImpl::RecordEvents(const Submission& s, const StoredMessage& m,
                           const std::map<std::string, std::string>& outcome) {
  // The mail object is made now only when a destination may publish the events.
  Json mail;
  std::string mail_text;
  if (!s.config_set.empty()) {
    mail = EventMail(m);
    mail_text = mail.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  std::string now = FormatIso8601(clock_.Now());
  Emit(s, "Send", "send", Json::object(), mail, mail_text);
  std::vector<std::string> delivered, bounced, complained;
  Json bounce_list = Json::array();
  std::string bounce_subtype = "General";
  for (const auto& r : m.destinations) {
    auto it = outcome.find(r);
    std::string result = it == outcome.end() ? "delivered" : it->second;
    if (result == "delivered" || result == "complaint" || result == "ooto") delivered.push_back(r);
    if (result == "complaint") complained.push_back(r);
    if (result == "bounce" || result == "suppressed" || result == "suppressed-global") {
      Json b{{"emailAddress", r}, {"action", "failed"}, {"status", "5.1.1"}};
      if (result == "bounce") {
        b["diagnosticCode"] = "smtp; 550 5.1.1 user unknown";
      } else {
        b["diagnosticCode"] =
            "Amazon SES did not send the message to this address because it is on the suppression "
            "list for your account.";
        bounce_subtype = result == "suppressed" ? "OnAccountSuppressionList" : "Suppressed";
      }
      bounce_list.push_back(b);
    }
  }
  if (!delivered.empty()) {
    Emit(s, "Delivery", "delivery",
         Json{{"timestamp", now},
              {"processingTimeMillis", 0},
              {"recipients", delivered},
              {"smtpResponse", "250 2.6.0 Message received"},
              {"reportingMTA", "a8-70.smtp-out.amazonses.com"}},
         mail, mail_text);
  }
  if (!bounce_list.empty()) {
    Emit(s, "Bounce", "bounce",
         Json{{"bounceType", "Permanent"},
              {"bounceSubType", bounce_subtype},
              {"bouncedRecipients", bounce_list},
              {"timestamp", now},
              {"feedbackId", NewMessageId()},
              {"reportingMTA", "dsn; a8-70.smtp-out.amazonses.com"}},
         mail, mail_text);
  }
  if (!complained.empty()) {
    Json recipients = Json::array();
    for (const auto& r : complained) recipients.push_back(Json{{"emailAddress", r}});
    Emit(s, "Complaint", "complaint",
         Json{{"complainedRecipients", recipients},
              {"timestamp", now},
              {"feedbackId", NewMessageId()},
              {"userAgent", "Amazon SES Mailbox Simulator"},
              {"complaintFeedbackType", "abuse"},
              {"arrivalDate", now}},
         mail, mail_text);
  }
  // ooto@: an automatic out-of-office reply to the sender (RFC 3834).
  for (const auto& [address, result] : outcome) {
    if (result != "ooto") continue;
    std::string subject = s.parsed ? s.parsed->subject : "";
    SimpleMessage reply;
    reply.from = address;
    reply.to = {BareAddress(s.source)};
    reply.subject = "Out of the office: " + subject;
    reply.text = "I am out of the office and will reply when I return.\n";
    std::string id = NewMessageId();
    reply.message_id = "<" + id + "@email.amazonses.com>";
    reply.date = FormatRfc5322Date(NowMs() / 1000);
    reply.extra_headers = {{"Auto-Submitted", "auto-replied"},
                           {"In-Reply-To", "<" + s.message_id + "@email.amazonses.com>"}};
    StoredMessage auto_reply;
    auto_reply.id = id;
    auto_reply.account = s.scope.account;
    auto_reply.region = s.scope.region;
    auto_reply.mailbox = s.mailbox;
    auto_reply.received_ms = NowMs();
    auto_reply.via = "simulator";
    auto_reply.source = address;
    auto_reply.destinations = reply.to;
    auto_reply.delivered = reply.to;
    auto_reply.raw = BuildMessage(reply);
    auto parsed = ParseMessage(auto_reply.raw);
    if (parsed.ok()) auto_reply.parsed = ParsedJson(*parsed);
    (void)messages_->Insert(auto_reply);
  }
}

std::optional<SubmitError> SesImpl::PrepareRaw(Submission& s, const std::string& raw,
                                               const std::string& source,
                                               std::vector<std::string> destinations,
                                               size_t limit) {
  if (raw.size() > limit) {
    return SubmitError{Failure::kInvalidParameter, "Message length is more than " +
                                                       std::to_string(limit) + " bytes long: '" +
                                                       std::to_string(raw.size()) + "'."};
  }
  auto parsed = ParseMessage(raw);
  if (!parsed.ok()) return SubmitError{Failure::kInvalidParameter, parsed.status().message()};
  s.raw = raw;
  s.parsed = std::move(parsed).value();
  std::string from;
  if (!s.parsed->from.empty()) from = s.parsed->from.front().address;
  s.source = source.empty() ? from : source;
  if (s.source.empty()) {
    return SubmitError{Failure::kInvalidParameter, "Missing required header 'From'."};
  }
  if (auto problem = AddressProblem(s.source)) {
    return SubmitError{Failure::kInvalidParameter, *problem};
  }
  s.senders = {BareAddress(s.source)};
  for (const auto& f : s.parsed->from) {
    if (auto problem = AddressProblem(f.address)) {
      return SubmitError{Failure::kInvalidParameter, *problem};
    }
    s.senders.push_back(f.address);
  }
  if (const std::string* sender = s.parsed->Header("Sender"))
    s.senders.push_back(BareAddress(*sender));
  if (destinations.empty()) {
    for (const auto* list : {&s.parsed->to, &s.parsed->cc, &s.parsed->bcc}) {
      for (const auto& a : *list) destinations.push_back(a.address);
    }
  }
  s.recipients = std::move(destinations);
  if (const std::string* mailbox = s.parsed->Header("X-Understudy-Mailbox")) s.mailbox = *mailbox;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// SMTP

std::string SesImpl::DeliverSmtp(const SmtpEnvelope& envelope, std::string data) {
  Submission s;
  s.scope = Scope{options_.account, options_.region};
  s.via = "smtp";
  s.message_id = NewMessageId();
  // SMTP messages come from outside like API calls: the journal records each one.
  journal_.Input("ses.smtp", Json{{"mailFrom", envelope.mail_from},
                                  {"recipients", envelope.recipients},
                                  {"user", envelope.username},
                                  {"tls", envelope.tls},
                                  {"size", data.size()}});
  if (auto e = PrepareRaw(s, data, envelope.mail_from, envelope.recipients, kV2MaxBytes)) {
    if (e->message.rfind("Message length", 0) == 0) return "552 5.3.4 Message is too long.";
    return "554 Transaction failed: " + e->message;
  }
  if (const std::string* cs = s.parsed->Header("X-SES-CONFIGURATION-SET")) s.config_set = *cs;
  if (const std::string* tags = s.parsed->Header("X-SES-MESSAGE-TAGS")) {
    // "name1=value1, name2=value2"
    std::string list = *tags;
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      std::string item =
          list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      size_t eq = item.find('=');
      auto trim = [](std::string v) {
        size_t a = v.find_first_not_of(" \t"), b = v.find_last_not_of(" \t");
        return a == std::string::npos ? std::string() : v.substr(a, b - a + 1);
      };
      if (eq != std::string::npos) s.tags[trim(item.substr(0, eq))] = trim(item.substr(eq + 1));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  auto result = Submit(s);
  if (auto* e = std::get_if<SubmitError>(&result)) {
    switch (e->kind) {
      case Failure::kRejected:
        return "554 Message rejected: " + e->message;
      case Failure::kRate:
        return "454 Throttling failure: Maximum sending rate exceeded.";
      case Failure::kDaily:
        return "454 Throttling failure: Daily message quota exceeded.";
      case Failure::kPaused:
        return "554 Account sending paused.";
      case Failure::kConfigSetMissing:
        return "554 Transaction failed: " + e->message;
      default:
        return "554 Transaction failed: " + e->message;
    }
  }
  return "250 Ok " + std::get<std::string>(result);
}

Json SesImpl::Info() {
  MessageQuery all;
  auto count = messages_->Count(all);
  Scope scope{options_.account, options_.region};
  Json account = Account(scope);
  return Json{
      {"messages", count.ok() ? *count : -1},
      {"retention", options_.retention.count() > 0 ? Json(FormatDuration(options_.retention))
                                                   : Json("unlimited")},
      {"smtp", smtp_},
      {"sandbox", account["sandbox"]},
      {"sendingEnabled", account["sendingEnabled"]},
      {"max24HourSend", account["max24HourSend"]},
      {"maxSendRate", account["maxSendRate"]},
      {"sentLast24Hours", Quota(scope).SentLast24Hours(NowMs())},
      {"verification", options_.pending_verification ? "pending" : "instant"}};
}

Status SesImpl::SetAccount(const Scope& scope, const Json& body, Json* out) {
  const Json* a = Find(scope, "account", "account");
  Json account = a ? *a : Json::object();
  for (const char* key : {"sandbox", "sendingEnabled"}) {
    if (body.contains(key)) {
      if (!body[key].is_boolean())
        return Status::InvalidArgument(std::string(key) + " must be a boolean");
      account[key] = body[key];
    }
  }
  for (const char* key : {"max24HourSend", "maxSendRate"}) {
    if (body.contains(key)) {
      if (!body[key].is_number())
        return Status::InvalidArgument(std::string(key) + " must be a number");
      account[key] = body[key];
    }
  }
  // Leaving or entering the sandbox resets quotas to the mode's defaults unless given.
  if (body.contains("sandbox")) {
    if (!body.contains("max24HourSend")) account.erase("max24HourSend");
    if (!body.contains("maxSendRate")) account.erase("maxSendRate");
  }
  US_RETURN_IF_ERROR(Put(scope, "account", "account", account));
  *out = Account(scope);
  out->erase("_seq");
  return Status::Ok();
}

Status SesImpl::SetIdentityStatus(const Scope& scope, const std::string& identity,
                                  const std::string& status) {
  const Json* found = Find(scope, "identity", identity);
  if (found == nullptr) return Status::NotFound("identity '" + identity + "' does not exist");
  static const std::set<std::string> statuses = {"Success", "Pending", "Failed", "TemporaryFailure",
                                                 "NotStarted"};
  if (!statuses.count(status)) {
    return Status::InvalidArgument(
        "status must be one of Success, Pending, Failed, "
        "TemporaryFailure, NotStarted");
  }
  Json updated = *found;
  updated["status"] = status;
  return Put(scope, "identity", identity, updated);
}

void SesImpl::Install(api::FrontDoor& fd, api::ControlApi& control) {
  InstallV1(fd);
  InstallV2(fd);
  InstallReadSide(fd, *messages_, clock_, waits_,
                  ReadSideHooks{[this] { return Info(); },
                                [this](const Scope& scope, const Json& body, Json* out) {
                                  return SetAccount(scope, body, out);
                                },
                                [this](const Scope& scope, const std::string& identity,
                                       const std::string& status) {
                                  return SetIdentityStatus(scope, identity, status);
                                },
                                options_.account, options_.region});
  control.AddResetHook([this] { return Reset(); });
  control.AddCondition("sesMessages", [this](const Scope&, const Json& params) {
    return MessagesCondition(*messages_, params);
  });
}

}  // namespace internal

Result<std::unique_ptr<Ses>> Ses::Open(EventLoop& loop, Store& store, Journal& journal,
                                       Clock& clock, Waits& waits, EventBus& bus, Random random,
                                       SesOptions options) {
  auto ses = std::make_unique<internal::SesImpl>(loop, store, journal, clock, waits, bus,
                                                 std::move(random), std::move(options));
  US_RETURN_IF_ERROR(ses->Open());
  return std::unique_ptr<Ses>(std::move(ses));
}

}  // namespace understudy::ses
