#include "ses/ses.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <variant>

#include "api/shape_values.h"
#include "core/log.h"
#include "ses/message_store.h"
#include "ses/mime.h"
#include "ses/read_side.h"
#include "ses/sending_rules.h"
#include "ses/template_renderer.h"

namespace understudy::ses {
namespace {

using api::ApiError;
using api::ApiResult;
using api::RequestContext;

constexpr size_t kV1MaxBytes = 10u * 1024 * 1024;
constexpr size_t kV2MaxBytes = 40u * 1024 * 1024;
constexpr size_t kMaxRecipients = 50;

// Which flavour of errors a send answers with.
enum class Dialect { kV1, kV2, kSmtp };

enum class Failure {
  kInvalidParameter,
  kRejected,
  kRate,
  kDaily,
  kPaused,
  kConfigSetMissing,
  kTemplateMissing,
  kBadTemplateData,
};

struct SubmitError {
  Failure kind;
  std::string message;
};

struct Submission {
  Scope scope;
  std::string via;
  std::string source;                   // the envelope sender as given (may carry a display name)
  std::vector<std::string> senders;     // every identity that must be verified
  std::vector<std::string> recipients;  // every envelope recipient
  std::string raw;
  std::optional<ParsedMessage> parsed;
  std::string config_set;
  Json tags = Json::object();
  std::string template_name, template_data;
  std::string mailbox;
  std::optional<std::string> rendering_failure;
  std::string message_id;
};

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

class SesImpl final : public Ses {
 public:
  SesImpl(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Waits& waits,
          EventBus& bus, Random random, SesOptions options)
      : loop_(loop),
        store_(store),
        journal_(journal),
        clock_(clock),
        waits_(waits),
        bus_(bus),
        random_(std::move(random)),
        options_(std::move(options)) {}

  ~SesImpl() override {
    if (messages_) (void)messages_->Flush();
  }

  Status Open() {
    US_ASSIGN_OR_RETURN(messages_, MessageStore::Open(store_, [this](std::function<void()> fn) {
                          loop_.Post(std::move(fn));
                        }));
    US_RETURN_IF_ERROR(store_.Migrate(
        "ses_state",
        {"CREATE TABLE ses_state (account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT "
         "NULL, name TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY "
         "(account, region, kind, name));"}));
    US_RETURN_IF_ERROR(
        store_.Query("SELECT account, region, kind, name, value, seq FROM ses_state ORDER BY seq",
                     {}, [&](const SqlRow& row) {
                       auto value = ParseJson(row.Text(4));
                       if (!value.ok()) return;
                       state_[{row.Text(0), row.Text(1), row.Text(2)}][row.Text(3)] = *value;
                       next_state_seq_ = std::max(next_state_seq_, row.Int(5) + 1);
                     }));
    messages_->SetObserver([this](const StoredMessage&) { waits_.NotifyChanged(); });
    // The 24-hour quota survives a restart: count what the last day sent.
    int64_t now = NowMs();
    MessageQuery recent;
    recent.after_ms = now - 24LL * 3600 * 1000;
    recent.limit = 0;
    recent.newest_first = false;
    auto sent = messages_->Find(recent);
    if (sent.ok()) {
      for (const auto& m : *sent) {
        if (m.via == "simulator") continue;
        int counted = 0;
        for (const auto& r : m.destinations) {
          if (!SimulatorMailbox(r)) ++counted;
        }
        Quota({m.account, m.region}).Record(m.received_ms, counted, 0);
      }
    }
    return Status::Ok();
  }

  void Install(api::FrontDoor& front_door, api::ControlApi& control) override;
  std::string DeliverSmtp(const SmtpEnvelope& envelope, std::string data) override;
  void SetSmtpEndpoint(const std::string& host, uint16_t port) override {
    smtp_ = Json{{"host", host}, {"port", port}};
  }
  Status Reset() override {
    US_RETURN_IF_ERROR(messages_->Reset());
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM ses_state"));
    state_.clear();
    quotas_.clear();
    return Status::Ok();
  }

  // Read side access.
  MessageStore& messages() { return *messages_; }
  Json Info();
  int64_t NowMs() const { return ToEpochMillis(clock_.Now()); }
  Clock& clock() { return clock_; }
  Waits& waits() { return waits_; }
  Status SetAccount(const Scope& scope, const Json& body, Json* out);
  Status SetIdentityStatus(const Scope& scope, const std::string& identity,
                           const std::string& status);

 private:
  // ---- state (identities, templates, configuration sets, suppression, account) ----
  using Kind = std::tuple<std::string, std::string, std::string>;
  std::map<std::string, Json>& Table(const Scope& scope, const std::string& kind) {
    return state_[{scope.account, scope.region, kind}];
  }
  const Json* Find(const Scope& scope, const std::string& kind, const std::string& name) {
    auto& table = Table(scope, kind);
    auto it = table.find(name);
    return it == table.end() ? nullptr : &it->second;
  }
  Status Put(const Scope& scope, const std::string& kind, const std::string& name, Json value) {
    int64_t seq = next_state_seq_++;
    auto& table = Table(scope, kind);
    auto existing = table.find(name);
    if (existing != table.end() && existing->second.contains("_seq")) {
      seq = existing->second["_seq"].get<int64_t>();
    }
    value["_seq"] = seq;
    US_RETURN_IF_ERROR(store_.Run(
        "INSERT OR REPLACE INTO ses_state (account, region, kind, name, value, seq) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6)",
        {scope.account, scope.region, kind, name, value.dump(), seq}));
    table[name] = std::move(value);
    return Status::Ok();
  }
  Status Erase(const Scope& scope, const std::string& kind, const std::string& name) {
    US_RETURN_IF_ERROR(store_.Run(
        "DELETE FROM ses_state WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4",
        {scope.account, scope.region, kind, name}));
    Table(scope, kind).erase(name);
    return Status::Ok();
  }
  // Entries of a table in creation order.
  std::vector<std::pair<std::string, const Json*>> Ordered(const Scope& scope,
                                                           const std::string& kind) {
    std::vector<std::pair<std::string, const Json*>> out;
    for (const auto& [k, v] : Table(scope, kind)) out.emplace_back(k, &v);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second->value("_seq", 0) < b.second->value("_seq", 0);
    });
    return out;
  }

  Json Account(const Scope& scope) {
    const Json* a = Find(scope, "account", "account");
    Json account = a ? *a : Json::object();
    if (!account.contains("sandbox")) account["sandbox"] = options_.sandbox;
    if (!account.contains("sendingEnabled")) account["sendingEnabled"] = true;
    bool sandbox = account["sandbox"].get<bool>();
    if (!account.contains("max24HourSend")) {
      account["max24HourSend"] =
          options_.max_24h > -2 ? options_.max_24h : (sandbox ? 200.0 : 50000.0);
    }
    if (!account.contains("maxSendRate")) {
      account["maxSendRate"] = options_.max_rate > -2 ? options_.max_rate : (sandbox ? 1.0 : 14.0);
    }
    return account;
  }
  SendQuota& Quota(const Scope& scope) {
    SendQuota& quota = quotas_[{scope.account, scope.region}];
    return quota;
  }
  SendQuota& ConfiguredQuota(const Scope& scope) {
    Json account = Account(scope);
    SendQuota& quota = Quota(scope);
    quota.Configure(account["max24HourSend"].get<double>(), account["maxSendRate"].get<double>());
    return quota;
  }

  bool Verified(const Scope& scope, const std::string& identity) {
    const Json* id = Find(scope, "identity", identity);
    if (id == nullptr) {
      // Domains are case-insensitive.
      std::string lower = Lower(identity);
      if (identity.find('@') == std::string::npos && lower != identity) {
        id = Find(scope, "identity", lower);
      }
    }
    return id != nullptr && id->value("status", "") == "Success";
  }

  std::string NewMessageId() {
    // SES's shape: 16 hex, a UUID, and "-000000".
    char head[32];
    std::snprintf(head, sizeof head, "0100%012llx",
                  static_cast<unsigned long long>(NowMs()) & 0xFFFFFFFFFFFFULL);
    return std::string(head) + "-" + random_.Uuid() + "-000000";
  }

  // ---- identities ----
  Status AddIdentity(const Scope& scope, const std::string& name, bool domain, Json* out) {
    const Json* existing = Find(scope, "identity", name);
    Json identity = existing ? *existing : Json::object();
    if (!existing) {
      identity["type"] = domain ? "DOMAIN" : "EMAIL_ADDRESS";
      identity["status"] = options_.pending_verification ? "Pending" : "Success";
      identity["token"] = api::Base64Encode(random_.Hex(32)).substr(0, 44);
      Json dkim = Json::array();
      for (int i = 0; i < 3; ++i) dkim.push_back(random_.Hex(32));
      identity["dkimTokens"] = dkim;
      identity["created"] = NowMs();
      identity["tags"] = Json::array();
    }
    if (out) *out = identity;
    return Put(scope, "identity", name, identity);
  }

  // ---- sending ----
  std::optional<SubmitError> CheckAddresses(const std::vector<std::string>& list) {
    for (const auto& a : list) {
      if (auto problem = AddressProblem(a))
        return SubmitError{Failure::kInvalidParameter, *problem};
    }
    return std::nullopt;
  }

  std::variant<std::string, SubmitError> Submit(Submission& s);
  void RecordEvents(const Submission& s, const StoredMessage& m,
                    const std::map<std::string, std::string>& outcome);
  // Records one event (and publishes it to matching destinations). `mail_text` is the
  // mail object already serialised, shared by a message's events.
  void Emit(const Submission& s, const std::string& type, const char* key, const Json& part,
            const Json& mail, const std::string& mail_text);

  ApiError ToApiError(const SubmitError& e, Dialect dialect, const Scope& scope) {
    (void)scope;
    bool v1 = dialect == Dialect::kV1;
    switch (e.kind) {
      case Failure::kInvalidParameter:
        return v1 ? ApiError::Client("InvalidParameterValue", e.message)
                  : ApiError::Client("BadRequestException", e.message);
      case Failure::kRejected:
        return ApiError::Client("MessageRejected", e.message);
      case Failure::kRate:
        return v1 ? ApiError::Client("Throttling", e.message)
                  : ApiError::Client("TooManyRequestsException", e.message, 429);
      case Failure::kDaily:
        return v1 ? ApiError::Client("Throttling", e.message)
                  : ApiError::Client("LimitExceededException", e.message);
      case Failure::kPaused:
        return v1 ? ApiError::Client("AccountSendingPausedException", e.message)
                  : ApiError::Client("SendingPausedException", e.message);
      case Failure::kConfigSetMissing:
        return v1 ? ApiError::Client("ConfigurationSetDoesNotExist", e.message)
                  : ApiError::Client("NotFoundException", e.message, 404);
      case Failure::kTemplateMissing:
        return v1 ? ApiError::Client("TemplateDoesNotExist", e.message)
                  : ApiError::Client("NotFoundException", e.message, 404);
      case Failure::kBadTemplateData:
        return v1 ? ApiError::Client("InvalidRenderingParameter", e.message)
                  : ApiError::Client("BadRequestException", e.message);
    }
    return ApiError::Client("InvalidParameterValue", e.message);
  }

  // Builds the Simple content's MIME message into `s.raw`.
  void BuildSimple(Submission& s, const std::string& from, const std::vector<std::string>& to,
                   const std::vector<std::string>& cc, const std::vector<std::string>& reply_to,
                   const std::string& subject, std::optional<std::string> text,
                   std::optional<std::string> html) {
    SimpleMessage m;
    m.from = from;
    m.to = to;
    m.cc = cc;
    m.reply_to = reply_to;
    m.subject = subject;
    m.text = std::move(text);
    m.html = std::move(html);
    m.message_id = "<" + s.message_id + "@email.amazonses.com>";
    m.date = FormatRfc5322Date(NowMs() / 1000);
    m.boundary =
        "----=_Part_" + random_.Digits(7) + "_" + random_.Digits(9) + "." + std::to_string(NowMs());
    s.raw = BuildMessage(m);
  }

  // Tags from [{Name, Value}] (v1 Tags, v2 EmailTags).
  static Json TagsFrom(const Json& input, const char* key, Json into = Json::object()) {
    if (input.contains(key)) {
      for (const auto& t : input[key]) into[t.value("Name", "")] = t.value("Value", "");
    }
    return into;
  }

  std::optional<SubmitError> ValidateTags(const Json& tags) {
    auto valid = [](const std::string& text, const char* extra) {
      if (text.empty() || text.size() > 256) return false;
      return std::all_of(text.begin(), text.end(), [extra](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
               std::strchr(extra, c) != nullptr;
      });
    };
    for (auto it = tags.begin(); it != tags.end(); ++it) {
      if (!valid(it.key(), "")) {
        return SubmitError{Failure::kInvalidParameter,
                           "Invalid tag name <" + it.key() +
                               ">: only alphanumeric ASCII characters, '_',  and '-' are allowed."};
      }
      std::string value = it->is_string() ? it->get<std::string>() : it->dump();
      if (!valid(value, ".@")) {
        return SubmitError{Failure::kInvalidParameter,
                           "Invalid tag value <" + value +
                               ">: only alphanumeric ASCII characters, '_', '-', '.', '@' are "
                               "allowed."};
      }
    }
    return std::nullopt;
  }

  // Renders a template into a Simple message; a missing attribute becomes a rendering
  // failure (the API still answers with a MessageId), bad JSON an error.
  std::optional<SubmitError> RenderInto(Submission& s, const Json& tmpl, const std::string& data,
                                        const std::string& from, const std::vector<std::string>& to,
                                        const std::vector<std::string>& cc,
                                        const std::vector<std::string>& reply_to) {
    auto parsed = ParseJson(data);
    if (!parsed.ok() || !parsed->is_object()) {
      return SubmitError{Failure::kBadTemplateData, "Template data is not valid JSON."};
    }
    std::string subject, text, html;
    for (auto [part, out] : {std::pair<const char*, std::string*>{"subject", &subject},
                             {"text", &text},
                             {"html", &html}}) {
      std::string source = tmpl.value(part, "");
      auto rendered = RenderTemplate(source, *parsed);
      if (auto* e = std::get_if<RenderError>(&rendered)) {
        s.rendering_failure = e->message;
        return std::nullopt;
      }
      *out = std::get<std::string>(rendered);
    }
    BuildSimple(s, from, to, cc, reply_to, subject,
                tmpl.value("text", "").empty() && !tmpl.value("html", "").empty()
                    ? std::nullopt
                    : std::optional<std::string>(text),
                tmpl.value("html", "").empty() ? std::nullopt : std::optional<std::string>(html));
    return std::nullopt;
  }

  // v1
  ApiResult V1SendEmail(const RequestContext& ctx, const Json& input);
  ApiResult V1SendRawEmail(const RequestContext& ctx, const Json& input);
  ApiResult V1SendTemplatedEmail(const RequestContext& ctx, const Json& input);
  ApiResult V1SendBulkTemplatedEmail(const RequestContext& ctx, const Json& input);
  // v2
  ApiResult V2SendEmail(const RequestContext& ctx, const Json& input);
  ApiResult V2SendBulkEmail(const RequestContext& ctx, const Json& input);

  std::optional<SubmitError> PrepareRaw(Submission& s, const std::string& raw,
                                        const std::string& source,
                                        std::vector<std::string> destinations, size_t limit);

  void InstallV1(api::FrontDoor& fd);
  void InstallV2(api::FrontDoor& fd);

  EventLoop& loop_;
  Store& store_;
  Journal& journal_;
  Clock& clock_;
  Waits& waits_;
  EventBus& bus_;
  Random random_;
  SesOptions options_;
  std::unique_ptr<MessageStore> messages_;
  std::map<Kind, std::map<std::string, Json>> state_;
  std::map<std::pair<std::string, std::string>, SendQuota> quotas_;
  int64_t next_state_seq_ = 1;
  int64_t last_prune_ms_ = 0;
  Json smtp_ = nullptr;
};

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
          if (dest.contains("eventBusArn")) envelope["eventBusArn"] = dest["eventBusArn"];
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
// SES v1

ApiResult SesImpl::V1SendEmail(const RequestContext& ctx, const Json& in) {
  Submission s;
  s.scope = ctx.scope;
  s.via = "ses.SendEmail";
  s.source = in["Source"].get<std::string>();
  const Json& dest = in["Destination"];
  auto to = Strings(dest, "ToAddresses"), cc = Strings(dest, "CcAddresses"),
       bcc = Strings(dest, "BccAddresses");
  auto reply_to = Strings(in, "ReplyToAddresses");
  if (auto problem = AddressProblem(s.source))
    return ApiError::Client("InvalidParameterValue", *problem);
  for (const auto* list : {&to, &cc, &bcc, &reply_to}) {
    if (auto e = CheckAddresses(*list)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  }
  s.senders = {BareAddress(s.source)};
  // A Return-Path (bounces go there) must be verified too (§5.2).
  if (in.contains("ReturnPath")) {
    std::string return_path = in["ReturnPath"];
    if (auto problem = AddressProblem(return_path)) {
      return ApiError::Client("InvalidParameterValue", *problem);
    }
    s.senders.push_back(BareAddress(return_path));
  }
  s.recipients = to;
  s.recipients.insert(s.recipients.end(), cc.begin(), cc.end());
  s.recipients.insert(s.recipients.end(), bcc.begin(), bcc.end());
  s.config_set = in.value("ConfigurationSetName", "");
  s.tags = TagsFrom(in, "Tags");
  if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  s.message_id = NewMessageId();
  const Json& message = in["Message"];
  std::optional<std::string> text, html;
  if (message["Body"].contains("Text")) text = message["Body"]["Text"].value("Data", "");
  if (message["Body"].contains("Html")) html = message["Body"]["Html"].value("Data", "");
  BuildSimple(s, s.source, to, cc, reply_to, message["Subject"].value("Data", ""), text, html);
  if (s.raw.size() > kV1MaxBytes) {
    return ApiError::Client(
        "InvalidParameterValue",
        "Message length is more than 10485760 bytes long: '" + std::to_string(s.raw.size()) + "'.");
  }
  auto parsed = ParseMessage(s.raw);
  if (parsed.ok()) s.parsed = std::move(parsed).value();
  auto result = Submit(s);
  if (auto* e = std::get_if<SubmitError>(&result)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  return Json{{"MessageId", std::get<std::string>(result)}};
}

ApiResult SesImpl::V1SendRawEmail(const RequestContext& ctx, const Json& in) {
  Submission s;
  s.scope = ctx.scope;
  s.via = "ses.SendRawEmail";
  s.message_id = NewMessageId();
  s.config_set = in.value("ConfigurationSetName", "");
  s.tags = TagsFrom(in, "Tags");
  if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  auto destinations = Strings(in, "Destinations");
  if (auto e = CheckAddresses(destinations)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  if (auto e = PrepareRaw(s, BinaryString(in["RawMessage"]["Data"]), in.value("Source", ""),
                          destinations, kV1MaxBytes)) {
    return ToApiError(*e, Dialect::kV1, ctx.scope);
  }
  if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  auto result = Submit(s);
  if (auto* e = std::get_if<SubmitError>(&result)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  return Json{{"MessageId", std::get<std::string>(result)}};
}

ApiResult SesImpl::V1SendTemplatedEmail(const RequestContext& ctx, const Json& in) {
  Submission s;
  s.scope = ctx.scope;
  s.via = "ses.SendTemplatedEmail";
  s.source = in["Source"].get<std::string>();
  if (auto problem = AddressProblem(s.source))
    return ApiError::Client("InvalidParameterValue", *problem);
  const Json& dest = in["Destination"];
  auto to = Strings(dest, "ToAddresses"), cc = Strings(dest, "CcAddresses"),
       bcc = Strings(dest, "BccAddresses");
  auto reply_to = Strings(in, "ReplyToAddresses");
  for (const auto* list : {&to, &cc, &bcc, &reply_to}) {
    if (auto e = CheckAddresses(*list)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  }
  s.template_name = in["Template"].get<std::string>();
  const Json* tmpl = Find(ctx.scope, "template", s.template_name);
  if (tmpl == nullptr) {
    return ApiError::Client("TemplateDoesNotExist",
                            "Template " + s.template_name + " does not exist.");
  }
  s.senders = {BareAddress(s.source)};
  // A Return-Path (bounces go there) must be verified too (§5.2).
  if (in.contains("ReturnPath")) {
    std::string return_path = in["ReturnPath"];
    if (auto problem = AddressProblem(return_path)) {
      return ApiError::Client("InvalidParameterValue", *problem);
    }
    s.senders.push_back(BareAddress(return_path));
  }
  s.recipients = to;
  s.recipients.insert(s.recipients.end(), cc.begin(), cc.end());
  s.recipients.insert(s.recipients.end(), bcc.begin(), bcc.end());
  s.config_set = in.value("ConfigurationSetName", "");
  s.tags = TagsFrom(in, "Tags");
  if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  s.message_id = NewMessageId();
  s.template_data = in["TemplateData"].get<std::string>();
  if (auto e = RenderInto(s, *tmpl, s.template_data, s.source, to, cc, reply_to)) {
    return ToApiError(*e, Dialect::kV1, ctx.scope);
  }
  if (!s.rendering_failure) {
    auto parsed = ParseMessage(s.raw);
    if (parsed.ok()) s.parsed = std::move(parsed).value();
  }
  auto result = Submit(s);
  if (auto* e = std::get_if<SubmitError>(&result)) return ToApiError(*e, Dialect::kV1, ctx.scope);
  return Json{{"MessageId", std::get<std::string>(result)}};
}

ApiResult SesImpl::V1SendBulkTemplatedEmail(const RequestContext& ctx, const Json& in) {
  std::string source = in["Source"].get<std::string>();
  if (auto problem = AddressProblem(source))
    return ApiError::Client("InvalidParameterValue", *problem);
  std::string name = in["Template"].get<std::string>();
  const Json* tmpl = Find(ctx.scope, "template", name);
  if (tmpl == nullptr) {
    return ApiError::Client("TemplateDoesNotExist", "Template " + name + " does not exist.");
  }
  const Json& destinations = in["Destinations"];
  if (destinations.size() > kMaxRecipients) {
    return ApiError::Client("InvalidParameterValue", "Recipient count exceeds 50.");
  }
  std::string config_set = in.value("ConfigurationSetName", "");
  if (!config_set.empty() && !Find(ctx.scope, "configset", config_set)) {
    return ApiError::Client("ConfigurationSetDoesNotExist",
                            "Configuration set <" + config_set + "> does not exist.");
  }
  auto reply_to = Strings(in, "ReplyToAddresses");
  std::string default_data = in["DefaultTemplateData"].get<std::string>();
  Json default_tags = TagsFrom(in, "DefaultTags");
  Json statuses = Json::array();
  for (const auto& d : destinations) {
    Submission s;
    s.scope = ctx.scope;
    s.via = "ses.SendBulkTemplatedEmail";
    s.source = source;
    s.senders = {BareAddress(source)};
    const Json& dest = d["Destination"];
    auto to = Strings(dest, "ToAddresses"), cc = Strings(dest, "CcAddresses"),
         bcc = Strings(dest, "BccAddresses");
    s.recipients = to;
    s.recipients.insert(s.recipients.end(), cc.begin(), cc.end());
    s.recipients.insert(s.recipients.end(), bcc.begin(), bcc.end());
    s.config_set = config_set;
    s.tags = TagsFrom(d, "ReplacementTags", default_tags);
    if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
    s.template_name = name;
    std::string data = d.value("ReplacementTemplateData", "");
    s.template_data = data.empty() ? default_data : data;
    s.message_id = NewMessageId();
    std::optional<SubmitError> error;
    if (auto e = CheckAddresses(s.recipients)) error = e;
    if (!error) error = RenderInto(s, *tmpl, s.template_data, source, to, cc, reply_to);
    if (!error && !s.rendering_failure) {
      auto parsed = ParseMessage(s.raw);
      if (parsed.ok()) s.parsed = std::move(parsed).value();
    }
    if (!error) {
      auto result = Submit(s);
      if (auto* e = std::get_if<SubmitError>(&result)) error = *e;
    }
    if (!error) {
      statuses.push_back(Json{{"Status", "Success"}, {"MessageId", s.message_id}});
      continue;
    }
    static const std::map<Failure, std::string> codes = {
        {Failure::kInvalidParameter, "InvalidParameterValue"},
        {Failure::kRejected, "MessageRejected"},
        {Failure::kRate, "TransientFailure"},
        {Failure::kDaily, "MailFromDomainNotVerified"},
        {Failure::kPaused, "AccountSendingPaused"},
        {Failure::kConfigSetMissing, "ConfigurationSetDoesNotExist"},
        {Failure::kTemplateMissing, "TemplateDoesNotExist"},
        {Failure::kBadTemplateData, "InvalidRenderingParameter"}};
    std::string code = codes.at(error->kind);
    if (error->kind == Failure::kDaily) code = "Failed";
    statuses.push_back(Json{{"Status", code}, {"Error", error->message}});
  }
  return Json{{"Status", statuses}};
}

// ---------------------------------------------------------------------------------
// SES v2

ApiResult SesImpl::V2SendEmail(const RequestContext& ctx, const Json& in) {
  Submission s;
  s.scope = ctx.scope;
  s.via = "sesv2.SendEmail";
  s.message_id = NewMessageId();
  s.config_set = in.value("ConfigurationSetName", "");
  s.tags = TagsFrom(in, "EmailTags");
  if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  Json dest = in.value("Destination", Json::object());
  auto to = Strings(dest, "ToAddresses"), cc = Strings(dest, "CcAddresses"),
       bcc = Strings(dest, "BccAddresses");
  auto reply_to = Strings(in, "ReplyToAddresses");
  for (const auto* list : {&to, &cc, &bcc, &reply_to}) {
    if (auto e = CheckAddresses(*list)) return ToApiError(*e, Dialect::kV2, ctx.scope);
  }
  std::string from = in.value("FromEmailAddress", "");
  const Json& content = in["Content"];
  int kinds = content.contains("Simple") + content.contains("Raw") + content.contains("Template");
  if (kinds != 1) {
    return ApiError::Client("BadRequestException",
                            "Exactly one of Simple, Raw or Template content must be given.");
  }
  if (content.contains("Raw")) {
    std::vector<std::string> destinations = to;
    destinations.insert(destinations.end(), cc.begin(), cc.end());
    destinations.insert(destinations.end(), bcc.begin(), bcc.end());
    if (auto e =
            PrepareRaw(s, BinaryString(content["Raw"]["Data"]), from, destinations, kV2MaxBytes)) {
      return ToApiError(*e, Dialect::kV2, ctx.scope);
    }
    if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
  } else {
    if (from.empty()) {
      return ApiError::Client("BadRequestException", "Missing required field FromEmailAddress.");
    }
    if (auto problem = AddressProblem(from))
      return ApiError::Client("BadRequestException", *problem);
    s.source = from;
    s.senders = {BareAddress(from)};
    s.recipients = to;
    s.recipients.insert(s.recipients.end(), cc.begin(), cc.end());
    s.recipients.insert(s.recipients.end(), bcc.begin(), bcc.end());
    if (content.contains("Simple")) {
      const Json& simple = content["Simple"];
      std::optional<std::string> text, html;
      const Json& body = simple["Body"];
      if (body.contains("Text")) text = body["Text"].value("Data", "");
      if (body.contains("Html")) html = body["Html"].value("Data", "");
      if (!text && !html) text = "";
      BuildSimple(s, from, to, cc, reply_to, simple["Subject"].value("Data", ""), text, html);
      if (simple.contains("Headers")) {
        // Custom headers go after Date, before MIME-Version.
        std::string extra;
        for (const auto& h : simple["Headers"]) {
          extra += h.value("Name", "") + ": " + h.value("Value", "") + "\r\n";
        }
        size_t at = s.raw.find("MIME-Version:");
        if (at != std::string::npos) s.raw.insert(at, extra);
      }
    } else {
      const Json& t = content["Template"];
      Json tmpl;
      if (t.contains("TemplateContent")) {
        const Json& c = t["TemplateContent"];
        tmpl = Json{{"subject", c.value("Subject", "")},
                    {"text", c.value("Text", "")},
                    {"html", c.value("Html", "")}};
        s.template_name = "";
      } else {
        std::string name = t.value("TemplateName", "");
        if (name.empty() && t.contains("TemplateArn")) {
          std::string arn = t["TemplateArn"];
          name = arn.substr(arn.rfind('/') + 1);
        }
        const Json* found = Find(ctx.scope, "template", name);
        if (found == nullptr) {
          return ApiError::Client("NotFoundException", "Template " + name + " does not exist.",
                                  404);
        }
        tmpl = *found;
        s.template_name = name;
      }
      s.template_data = t.value("TemplateData", "{}");
      if (auto e = RenderInto(s, tmpl, s.template_data, from, to, cc, reply_to)) {
        return ToApiError(*e, Dialect::kV2, ctx.scope);
      }
    }
    if (s.raw.size() > kV2MaxBytes) {
      return ApiError::Client("BadRequestException",
                              "Message length is more than 41943040 bytes long: '" +
                                  std::to_string(s.raw.size()) + "'.");
    }
    if (!s.rendering_failure) {
      auto parsed = ParseMessage(s.raw);
      if (parsed.ok()) s.parsed = std::move(parsed).value();
    }
  }
  auto result = Submit(s);
  if (auto* e = std::get_if<SubmitError>(&result)) return ToApiError(*e, Dialect::kV2, ctx.scope);
  return Json{{"MessageId", std::get<std::string>(result)}};
}

ApiResult SesImpl::V2SendBulkEmail(const RequestContext& ctx, const Json& in) {
  std::string from = in.value("FromEmailAddress", "");
  if (from.empty()) {
    return ApiError::Client("BadRequestException", "Missing required field FromEmailAddress.");
  }
  if (auto problem = AddressProblem(from)) return ApiError::Client("BadRequestException", *problem);
  const Json& t = in["DefaultContent"].value("Template", Json::object());
  Json tmpl;
  std::string name = t.value("TemplateName", "");
  if (t.contains("TemplateContent")) {
    const Json& c = t["TemplateContent"];
    tmpl = Json{{"subject", c.value("Subject", "")},
                {"text", c.value("Text", "")},
                {"html", c.value("Html", "")}};
  } else {
    const Json* found = Find(ctx.scope, "template", name);
    if (found == nullptr) {
      return ApiError::Client("NotFoundException", "Template " + name + " does not exist.", 404);
    }
    tmpl = *found;
  }
  std::string config_set = in.value("ConfigurationSetName", "");
  if (!config_set.empty() && !Find(ctx.scope, "configset", config_set)) {
    return ApiError::Client("NotFoundException",
                            "Configuration set <" + config_set + "> does not exist.", 404);
  }
  const Json& entries = in["BulkEmailEntries"];
  if (entries.size() > kMaxRecipients) {
    return ApiError::Client("BadRequestException", "Recipient count exceeds 50.");
  }
  auto reply_to = Strings(in, "ReplyToAddresses");
  std::string default_data = t.value("TemplateData", "{}");
  Json default_tags = TagsFrom(in, "DefaultEmailTags");
  Json results = Json::array();
  for (const auto& entry : entries) {
    Submission s;
    s.scope = ctx.scope;
    s.via = "sesv2.SendBulkEmail";
    s.source = from;
    s.senders = {BareAddress(from)};
    const Json& dest = entry["Destination"];
    auto to = Strings(dest, "ToAddresses"), cc = Strings(dest, "CcAddresses"),
         bcc = Strings(dest, "BccAddresses");
    s.recipients = to;
    s.recipients.insert(s.recipients.end(), cc.begin(), cc.end());
    s.recipients.insert(s.recipients.end(), bcc.begin(), bcc.end());
    s.config_set = config_set;
    s.tags = TagsFrom(entry, "ReplacementTags", default_tags);
    if (s.tags.contains("understudy-mailbox")) s.mailbox = s.tags["understudy-mailbox"];
    s.template_name = name;
    std::string data;
    if (entry.contains("ReplacementEmailContent")) {
      data = entry["ReplacementEmailContent"]
                 .value("ReplacementTemplate", Json::object())
                 .value("ReplacementTemplateData", "");
    }
    s.template_data = data.empty() ? default_data : data;
    s.message_id = NewMessageId();
    std::optional<SubmitError> error;
    if (auto e = CheckAddresses(s.recipients)) error = e;
    if (!error) error = RenderInto(s, tmpl, s.template_data, from, to, cc, reply_to);
    if (!error && !s.rendering_failure) {
      auto parsed = ParseMessage(s.raw);
      if (parsed.ok()) s.parsed = std::move(parsed).value();
    }
    if (!error) {
      auto result = Submit(s);
      if (auto* e = std::get_if<SubmitError>(&result)) error = *e;
    }
    if (!error) {
      results.push_back(Json{{"Status", "SUCCESS"}, {"MessageId", s.message_id}});
      continue;
    }
    static const std::map<Failure, std::string> codes = {
        {Failure::kInvalidParameter, "INVALID_PARAMETER"},
        {Failure::kRejected, "MESSAGE_REJECTED"},
        {Failure::kRate, "TRANSIENT_FAILURE"},
        {Failure::kDaily, "FAILED"},
        {Failure::kPaused, "ACCOUNT_SENDING_PAUSED"},
        {Failure::kConfigSetMissing, "CONFIGURATION_SET_NOT_FOUND"},
        {Failure::kTemplateMissing, "TEMPLATE_NOT_FOUND"},
        {Failure::kBadTemplateData, "INVALID_PARAMETER"}};
    results.push_back(Json{{"Status", codes.at(error->kind)}, {"Error", error->message}});
  }
  return Json{{"BulkEmailEntryResults", results}};
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

// ---------------------------------------------------------------------------------
// Operations on the front door.

namespace {

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

}  // namespace

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

void SesImpl::InstallV1(api::FrontDoor& fd) {
  auto add = [&](const char* op, std::function<ApiResult(const RequestContext&, const Json&)> f) {
    fd.Register("ses", op, std::move(f));
  };
  add("SendEmail", [this](const RequestContext& c, const Json& in) { return V1SendEmail(c, in); });
  add("SendRawEmail",
      [this](const RequestContext& c, const Json& in) { return V1SendRawEmail(c, in); });
  add("SendTemplatedEmail",
      [this](const RequestContext& c, const Json& in) { return V1SendTemplatedEmail(c, in); });
  add("SendBulkTemplatedEmail",
      [this](const RequestContext& c, const Json& in) { return V1SendBulkTemplatedEmail(c, in); });
  // Identities.
  auto verify_email = [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string address = in["EmailAddress"];
    if (auto problem = AddressProblem(address)) {
      return ApiError::Client("InvalidParameterValue", "Invalid email address<" + address + ">.");
    }
    US_RETURN_IF_ERROR_API(AddIdentity(c.scope, address, false, nullptr));
    return Json::object();
  };
  add("VerifyEmailIdentity", verify_email);
  add("VerifyEmailAddress", verify_email);
  add("VerifyDomainIdentity", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string domain = Lower(in["Domain"]);
    if (domain.empty() || domain.find('@') != std::string::npos ||
        domain.find('.') == std::string::npos) {
      return ApiError::Client("InvalidParameterValue", "Invalid domain name " + domain + ".");
    }
    Json identity;
    US_RETURN_IF_ERROR_API(AddIdentity(c.scope, domain, true, &identity));
    return Json{{"VerificationToken", identity["token"]}};
  });
  add("VerifyDomainDkim", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string domain = Lower(in["Domain"]);
    Json identity;
    US_RETURN_IF_ERROR_API(AddIdentity(c.scope, domain, true, &identity));
    return Json{{"DkimTokens", identity["dkimTokens"]}};
  });
  add("ListIdentities", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string type = in.value("IdentityType", "");
    Json out = Json::array();
    for (const auto& [name, id] : Ordered(c.scope, "identity")) {
      std::string t = id->value("type", "");
      if (type == "EmailAddress" && t != "EMAIL_ADDRESS") continue;
      if (type == "Domain" && t != "DOMAIN") continue;
      out.push_back(name);
    }
    return Json{{"Identities", out}};
  });
  add("ListVerifiedEmailAddresses", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, id] : Ordered(c.scope, "identity")) {
      if (id->value("type", "") == "EMAIL_ADDRESS" && id->value("status", "") == "Success") {
        out.push_back(name);
      }
    }
    return Json{{"VerifiedEmailAddresses", out}};
  });
  add("GetIdentityVerificationAttributes",
      [this](const RequestContext& c, const Json& in) -> ApiResult {
        Json out = Json::object();
        for (const auto& name : in["Identities"]) {
          const Json* id = Find(c.scope, "identity", name.get<std::string>());
          if (id == nullptr) continue;
          Json attrs{{"VerificationStatus", id->value("status", "")}};
          if (id->value("type", "") == "DOMAIN") attrs["VerificationToken"] = (*id)["token"];
          out[name.get<std::string>()] = attrs;
        }
        return Json{{"VerificationAttributes", out}};
      });
  add("GetIdentityDkimAttributes", [this](const RequestContext& c, const Json& in) -> ApiResult {
    Json out = Json::object();
    for (const auto& name : in["Identities"]) {
      const Json* id = Find(c.scope, "identity", name.get<std::string>());
      if (id == nullptr) continue;
      bool domain = id->value("type", "") == "DOMAIN";
      Json attrs{{"DkimEnabled", domain},
                 {"DkimVerificationStatus", domain ? id->value("status", "") : "NotStarted"}};
      if (domain) attrs["DkimTokens"] = (*id)["dkimTokens"];
      out[name.get<std::string>()] = attrs;
    }
    return Json{{"DkimAttributes", out}};
  });
  auto delete_identity = [this](const char* key) {
    return [this, key](const RequestContext& c, const Json& in) -> ApiResult {
      US_RETURN_IF_ERROR_API(Erase(c.scope, "identity", in[key].get<std::string>()));
      return Json::object();
    };
  };
  add("DeleteIdentity", delete_identity("Identity"));
  add("DeleteVerifiedEmailAddress", delete_identity("EmailAddress"));
  // Quota, statistics, account.
  add("GetSendQuota", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json account = Account(c.scope);
    return Json{{"Max24HourSend", account["max24HourSend"]},
                {"MaxSendRate", account["maxSendRate"]},
                {"SentLast24Hours", static_cast<double>(Quota(c.scope).SentLast24Hours(NowMs()))}};
  });
  add("GetSendStatistics", [this](const RequestContext&, const Json&) -> ApiResult {
    constexpr int64_t kBucket = 15 * 60 * 1000;
    auto counts = messages_->EventCounts(NowMs() - 14LL * 24 * 3600 * 1000, kBucket);
    if (!counts.ok()) return ApiError::Server("InternalFailure", counts.status().message());
    std::map<int64_t, Json> points;
    for (const auto& row : *counts) {
      int64_t bucket = row["bucket"];
      Json& p = points[bucket];
      if (p.is_null()) {
        p = Json{{"Timestamp", static_cast<double>(bucket) / 1000.0},
                 {"DeliveryAttempts", 0},
                 {"Bounces", 0},
                 {"Complaints", 0},
                 {"Rejects", 0}};
      }
      std::string type = row["type"];
      int64_t n = row["count"];
      if (type == "Send") p["DeliveryAttempts"] = p["DeliveryAttempts"].get<int64_t>() + n;
      if (type == "Bounce") p["Bounces"] = p["Bounces"].get<int64_t>() + n;
      if (type == "Complaint") p["Complaints"] = p["Complaints"].get<int64_t>() + n;
      if (type == "Reject") p["Rejects"] = p["Rejects"].get<int64_t>() + n;
    }
    Json out = Json::array();
    for (auto& [k, v] : points) out.push_back(v);
    return Json{{"SendDataPoints", out}};
  });
  add("GetAccountSendingEnabled", [this](const RequestContext& c, const Json&) -> ApiResult {
    return Json{{"Enabled", Account(c.scope)["sendingEnabled"]}};
  });
  add("UpdateAccountSendingEnabled", [this](const RequestContext& c, const Json& in) -> ApiResult {
    Json out;
    US_RETURN_IF_ERROR_API(
        SetAccount(c.scope, Json{{"sendingEnabled", in.value("Enabled", false)}}, &out));
    return Json::object();
  });
  // Templates.
  add("CreateTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    const Json& t = in["Template"];
    std::string name = t["TemplateName"];
    if (Find(c.scope, "template", name)) {
      return ApiError::Client("AlreadyExists", "Template " + name + " already exists.");
    }
    Json tmpl = TemplateFrom(t, NowMs());
    if (auto problem = TemplateProblem(tmpl)) {
      return ApiError::Client("InvalidTemplate", "Template " + name + " is invalid: " + *problem);
    }
    US_RETURN_IF_ERROR_API(Put(c.scope, "template", name, tmpl));
    return Json::object();
  });
  add("UpdateTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    const Json& t = in["Template"];
    std::string name = t["TemplateName"];
    const Json* existing = Find(c.scope, "template", name);
    if (!existing) {
      return ApiError::Client("TemplateDoesNotExist", "Template " + name + " does not exist.");
    }
    Json tmpl = TemplateFrom(t, existing->value("created", NowMs()));
    if (auto problem = TemplateProblem(tmpl)) {
      return ApiError::Client("InvalidTemplate", "Template " + name + " is invalid: " + *problem);
    }
    US_RETURN_IF_ERROR_API(Put(c.scope, "template", name, tmpl));
    return Json::object();
  });
  add("GetTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["TemplateName"];
    const Json* t = Find(c.scope, "template", name);
    if (!t)
      return ApiError::Client("TemplateDoesNotExist", "Template " + name + " does not exist.");
    Json out{{"TemplateName", name}, {"SubjectPart", t->value("subject", "")}};
    if (!t->value("text", "").empty()) out["TextPart"] = (*t)["text"];
    if (!t->value("html", "").empty()) out["HtmlPart"] = (*t)["html"];
    return Json{{"Template", out}};
  });
  add("DeleteTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    US_RETURN_IF_ERROR_API(Erase(c.scope, "template", in["TemplateName"].get<std::string>()));
    return Json::object();
  });
  add("ListTemplates", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, t] : Ordered(c.scope, "template")) {
      out.push_back(Json{{"Name", name},
                         {"CreatedTimestamp", static_cast<double>(t->value("created", 0)) / 1000}});
    }
    return Json{{"TemplatesMetadata", out}};
  });
  add("TestRenderTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["TemplateName"];
    const Json* t = Find(c.scope, "template", name);
    if (!t)
      return ApiError::Client("TemplateDoesNotExist", "Template " + name + " does not exist.");
    auto data = ParseJson(in["TemplateData"].get<std::string>());
    if (!data.ok() || !data->is_object()) {
      return ApiError::Client("InvalidRenderingParameter", "Template data is not valid JSON.");
    }
    Submission s;
    s.message_id = NewMessageId();
    std::string subject, text, html;
    for (auto [part, out] : {std::pair<const char*, std::string*>{"subject", &subject},
                             {"text", &text},
                             {"html", &html}}) {
      auto rendered = RenderTemplate(t->value(part, ""), *data);
      if (auto* e = std::get_if<RenderError>(&rendered)) {
        return ApiError::Client(e->kind == RenderError::Kind::kMissingAttribute
                                    ? "MissingRenderingAttribute"
                                    : "InvalidTemplate",
                                e->message);
      }
      *out = std::get<std::string>(rendered);
    }
    BuildSimple(s, "", {}, {}, {}, subject,
                t->value("text", "").empty() ? std::nullopt : std::optional<std::string>(text),
                t->value("html", "").empty() ? std::nullopt : std::optional<std::string>(html));
    // Only the content headers and body, as SES shows a rendered template.
    size_t at = s.raw.find("Subject:");
    std::string rendered = at == std::string::npos ? s.raw : s.raw.substr(at);
    return Json{{"RenderedTemplate", rendered}};
  });
  // Configuration sets.
  add("CreateConfigurationSet", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["ConfigurationSet"]["Name"];
    if (Find(c.scope, "configset", name)) {
      return ApiError::Client("ConfigurationSetAlreadyExists",
                              "Configuration set <" + name + "> already exists.");
    }
    US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name,
                               Json{{"destinations", Json::array()}, {"created", NowMs()}}));
    return Json::object();
  });
  add("DeleteConfigurationSet", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["ConfigurationSetName"];
    if (!Find(c.scope, "configset", name)) {
      return ApiError::Client("ConfigurationSetDoesNotExist",
                              "Configuration set <" + name + "> does not exist.");
    }
    US_RETURN_IF_ERROR_API(Erase(c.scope, "configset", name));
    return Json::object();
  });
  add("DescribeConfigurationSet", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["ConfigurationSetName"];
    const Json* cs = Find(c.scope, "configset", name);
    if (!cs) {
      return ApiError::Client("ConfigurationSetDoesNotExist",
                              "Configuration set <" + name + "> does not exist.");
    }
    Json out{{"ConfigurationSet", {{"Name", name}}}};
    Json dests = Json::array();
    for (const auto& d : cs->value("destinations", Json::array())) {
      Json v1 = d.value("v1", Json::object());
      v1["Name"] = d["name"];
      v1["Enabled"] = d["enabled"];
      Json types = Json::array();
      for (const auto& t : d["types"]) types.push_back(t);
      v1["MatchingEventTypes"] = types;
      dests.push_back(v1);
    }
    out["EventDestinations"] = dests;
    out["ReputationOptions"] = Json{{"SendingEnabled", cs->value("sendingEnabled", true)},
                                    {"ReputationMetricsEnabled", false}};
    return out;
  });
  add("ListConfigurationSets", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, cs] : Ordered(c.scope, "configset"))
      out.push_back(Json{{"Name", name}});
    return Json{{"ConfigurationSets", out}};
  });
  add("UpdateConfigurationSetSendingEnabled",
      [this](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) {
          return ApiError::Client("ConfigurationSetDoesNotExist",
                                  "Configuration set <" + name + "> does not exist.");
        }
        Json updated = *cs;
        updated["sendingEnabled"] = in.value("Enabled", true);
        US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
        return Json::object();
      });
  auto put_destination = [this](bool create) {
    return [this, create](const RequestContext& c, const Json& in) -> ApiResult {
      std::string name = in["ConfigurationSetName"];
      const Json* cs = Find(c.scope, "configset", name);
      if (!cs) {
        return ApiError::Client("ConfigurationSetDoesNotExist",
                                "Configuration set <" + name + "> does not exist.");
      }
      const Json& d = in["EventDestination"];
      std::string dest_name = d["Name"];
      Json updated = *cs;
      Json& list = updated["destinations"];
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const Json& e) { return e.value("name", "") == dest_name; });
      if (create && it != list.end()) {
        return ApiError::Client("EventDestinationAlreadyExists",
                                "Event destination " + dest_name + " already exists.");
      }
      if (!create && it == list.end()) {
        return ApiError::Client("EventDestinationDoesNotExist",
                                "Event destination " + dest_name + " does not exist.");
      }
      std::string kind = d.contains("SNSDestination")               ? "sns"
                         : d.contains("CloudWatchDestination")      ? "cloudWatch"
                         : d.contains("KinesisFirehoseDestination") ? "firehose"
                                                                    : "none";
      Json v1 = Json::object();
      for (const char* k :
           {"SNSDestination", "CloudWatchDestination", "KinesisFirehoseDestination"}) {
        if (d.contains(k)) v1[k] = d[k];
      }
      Json entry{{"name", dest_name},
                 {"enabled", d.value("Enabled", false)},
                 {"types", d["MatchingEventTypes"]},
                 {"kind", kind},
                 {"v1", v1}};
      if (it == list.end()) {
        list.push_back(entry);
      } else {
        *it = entry;
      }
      US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
      return Json::object();
    };
  };
  add("CreateConfigurationSetEventDestination", put_destination(true));
  add("UpdateConfigurationSetEventDestination", put_destination(false));
  add("DeleteConfigurationSetEventDestination",
      [this](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) {
          return ApiError::Client("ConfigurationSetDoesNotExist",
                                  "Configuration set <" + name + "> does not exist.");
        }
        std::string dest_name = in["EventDestinationName"];
        Json updated = *cs;
        Json kept = Json::array();
        bool found = false;
        for (const auto& e : updated["destinations"]) {
          if (e.value("name", "") == dest_name) {
            found = true;
          } else {
            kept.push_back(e);
          }
        }
        if (!found) {
          return ApiError::Client("EventDestinationDoesNotExist",
                                  "Event destination " + dest_name + " does not exist.");
        }
        updated["destinations"] = kept;
        US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
        return Json::object();
      });
}

void SesImpl::InstallV2(api::FrontDoor& fd) {
  auto add = [&](const char* op, std::function<ApiResult(const RequestContext&, const Json&)> f) {
    fd.Register("sesv2", op, std::move(f));
  };
  add("SendEmail", [this](const RequestContext& c, const Json& in) { return V2SendEmail(c, in); });
  add("SendBulkEmail",
      [this](const RequestContext& c, const Json& in) { return V2SendBulkEmail(c, in); });
  auto not_found = [](const std::string& message) {
    return ApiError::Client("NotFoundException", message, 404);
  };
  auto identity_json = [](const std::string& name, const Json& id) {
    bool domain = id.value("type", "") == "DOMAIN";
    std::string status = V2Status(id.value("status", ""));
    Json dkim{{"SigningEnabled", domain},
              {"Status", domain ? status : "NOT_STARTED"},
              {"Tokens", domain ? id["dkimTokens"] : Json::array()},
              {"SigningAttributesOrigin", "AWS_SES"},
              {"NextSigningKeyLength", "RSA_2048_BIT"},
              {"CurrentSigningKeyLength", "RSA_2048_BIT"},
              {"LastKeyGenerationTimestamp", static_cast<double>(id.value("created", 0)) / 1000}};
    (void)name;
    return Json{{"IdentityType", id.value("type", "")},
                {"VerifiedForSendingStatus", id.value("status", "") == "Success"},
                {"DkimAttributes", dkim}};
  };
  add("CreateEmailIdentity",
      [this, identity_json](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["EmailIdentity"];
        bool email = name.find('@') != std::string::npos;
        if (email) {
          if (auto problem = AddressProblem(name)) {
            return ApiError::Client("BadRequestException", "Invalid email address <" + name + ">.");
          }
        } else {
          name = Lower(name);
          if (name.find('.') == std::string::npos) {
            return ApiError::Client("BadRequestException", "Invalid domain name <" + name + ">.");
          }
        }
        if (Find(c.scope, "identity", name)) {
          return ApiError::Client("AlreadyExistsException",
                                  "Email identity <" + name + "> already exist.");
        }
        Json identity;
        US_RETURN_IF_ERROR_API(AddIdentity(c.scope, name, !email, &identity));
        if (in.contains("Tags") || in.contains("ConfigurationSetName")) {
          identity["tags"] = in.value("Tags", Json::array());
          if (in.contains("ConfigurationSetName"))
            identity["configSet"] = in["ConfigurationSetName"];
          US_RETURN_IF_ERROR_API(Put(c.scope, "identity", name, identity));
        }
        return identity_json(name, identity);
      });
  add("GetEmailIdentity",
      [this, identity_json, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["EmailIdentity"];
        const Json* id = Find(c.scope, "identity", name);
        if (!id) id = Find(c.scope, "identity", Lower(name));
        if (!id) return not_found("Email identity <" + name + "> does not exist.");
        Json out = identity_json(name, *id);
        out["VerificationStatus"] = V2Status(id->value("status", ""));
        out["FeedbackForwardingStatus"] = true;
        out["Policies"] = Json::object();
        out["Tags"] = id->value("tags", Json::array());
        out["MailFromAttributes"] = Json{{"BehaviorOnMxFailure", "USE_DEFAULT_VALUE"},
                                         {"MailFromDomain", ""},
                                         {"MailFromDomainStatus", "NOT_STARTED"}};
        if (id->contains("configSet")) out["ConfigurationSetName"] = (*id)["configSet"];
        return out;
      });
  add("ListEmailIdentities", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, id] : Ordered(c.scope, "identity")) {
      out.push_back(Json{{"IdentityType", id->value("type", "")},
                         {"IdentityName", name},
                         {"SendingEnabled", id->value("status", "") == "Success"},
                         {"VerificationStatus", V2Status(id->value("status", ""))}});
    }
    return Json{{"EmailIdentities", out}};
  });
  add("DeleteEmailIdentity",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["EmailIdentity"];
        if (!Find(c.scope, "identity", name)) {
          if (Find(c.scope, "identity", Lower(name))) {
            name = Lower(name);
          } else {
            return not_found("Email identity <" + name + "> does not exist.");
          }
        }
        US_RETURN_IF_ERROR_API(Erase(c.scope, "identity", name));
        return Json::object();
      });
  // Templates.
  add("CreateEmailTemplate", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["TemplateName"];
    if (Find(c.scope, "template", name)) {
      return ApiError::Client("AlreadyExistsException", "Template " + name + " already exists.");
    }
    Json tmpl = V2TemplateFrom(in["TemplateContent"], NowMs());
    if (auto problem = TemplateProblem(tmpl)) {
      return ApiError::Client("BadRequestException",
                              "Template " + name + " is invalid: " + *problem);
    }
    US_RETURN_IF_ERROR_API(Put(c.scope, "template", name, tmpl));
    return Json::object();
  });
  add("UpdateEmailTemplate",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["TemplateName"];
        const Json* existing = Find(c.scope, "template", name);
        if (!existing) return not_found("Template " + name + " does not exist.");
        Json tmpl = V2TemplateFrom(in["TemplateContent"], existing->value("created", NowMs()));
        if (auto problem = TemplateProblem(tmpl)) {
          return ApiError::Client("BadRequestException",
                                  "Template " + name + " is invalid: " + *problem);
        }
        US_RETURN_IF_ERROR_API(Put(c.scope, "template", name, tmpl));
        return Json::object();
      });
  add("GetEmailTemplate", [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["TemplateName"];
    const Json* t = Find(c.scope, "template", name);
    if (!t) return not_found("Template " + name + " does not exist.");
    Json content{{"Subject", t->value("subject", "")}};
    if (!t->value("text", "").empty()) content["Text"] = (*t)["text"];
    if (!t->value("html", "").empty()) content["Html"] = (*t)["html"];
    return Json{{"TemplateName", name}, {"TemplateContent", content}, {"Tags", Json::array()}};
  });
  add("DeleteEmailTemplate",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["TemplateName"];
        if (!Find(c.scope, "template", name))
          return not_found("Template " + name + " does not exist.");
        US_RETURN_IF_ERROR_API(Erase(c.scope, "template", name));
        return Json::object();
      });
  add("ListEmailTemplates", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, t] : Ordered(c.scope, "template")) {
      out.push_back(Json{{"TemplateName", name},
                         {"CreatedTimestamp", static_cast<double>(t->value("created", 0)) / 1000}});
    }
    return Json{{"TemplatesMetadata", out}};
  });
  add("TestRenderEmailTemplate",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["TemplateName"];
        const Json* t = Find(c.scope, "template", name);
        if (!t) return not_found("Template " + name + " does not exist.");
        auto data = ParseJson(in["TemplateData"].get<std::string>());
        if (!data.ok() || !data->is_object()) {
          return ApiError::Client("BadRequestException", "Template data is not valid JSON.");
        }
        Submission s;
        s.message_id = NewMessageId();
        std::string subject, text, html;
        for (auto [part, out] : {std::pair<const char*, std::string*>{"subject", &subject},
                                 {"text", &text},
                                 {"html", &html}}) {
          auto rendered = RenderTemplate(t->value(part, ""), *data);
          if (auto* e = std::get_if<RenderError>(&rendered)) {
            return ApiError::Client("BadRequestException", e->message);
          }
          *out = std::get<std::string>(rendered);
        }
        BuildSimple(s, "", {}, {}, {}, subject,
                    t->value("text", "").empty() ? std::nullopt : std::optional<std::string>(text),
                    t->value("html", "").empty() ? std::nullopt : std::optional<std::string>(html));
        size_t at = s.raw.find("Subject:");
        return Json{{"RenderedTemplate", at == std::string::npos ? s.raw : s.raw.substr(at)}};
      });
  // Configuration sets.
  add("CreateConfigurationSet", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string name = in["ConfigurationSetName"];
    if (Find(c.scope, "configset", name)) {
      return ApiError::Client("AlreadyExistsException",
                              "Configuration set <" + name + "> already exists.");
    }
    bool sending = in.value("SendingOptions", Json::object()).value("SendingEnabled", true);
    US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name,
                               Json{{"destinations", Json::array()},
                                    {"created", NowMs()},
                                    {"sendingEnabled", sending},
                                    {"tags", in.value("Tags", Json::array())}}));
    return Json::object();
  });
  add("GetConfigurationSet",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) return not_found("Configuration set <" + name + "> does not exist.");
        return Json{{"ConfigurationSetName", name},
                    {"SendingOptions", {{"SendingEnabled", cs->value("sendingEnabled", true)}}},
                    {"ReputationOptions", {{"ReputationMetricsEnabled", false}}},
                    {"Tags", cs->value("tags", Json::array())}};
      });
  add("DeleteConfigurationSet",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        if (!Find(c.scope, "configset", name)) {
          return not_found("Configuration set <" + name + "> does not exist.");
        }
        US_RETURN_IF_ERROR_API(Erase(c.scope, "configset", name));
        return Json::object();
      });
  add("ListConfigurationSets", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json out = Json::array();
    for (const auto& [name, cs] : Ordered(c.scope, "configset")) out.push_back(name);
    return Json{{"ConfigurationSets", out}};
  });
  add("PutConfigurationSetSendingOptions",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) return not_found("Configuration set <" + name + "> does not exist.");
        Json updated = *cs;
        updated["sendingEnabled"] = in.value("SendingEnabled", true);
        US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
        return Json::object();
      });
  auto put_destination = [this, not_found](bool create) {
    return [this, create, not_found](const RequestContext& c, const Json& in) -> ApiResult {
      std::string name = in["ConfigurationSetName"];
      const Json* cs = Find(c.scope, "configset", name);
      if (!cs) return not_found("Configuration set <" + name + "> does not exist.");
      std::string dest_name = in["EventDestinationName"];
      const Json& d = in["EventDestination"];
      Json updated = *cs;
      Json& list = updated["destinations"];
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const Json& e) { return e.value("name", "") == dest_name; });
      if (create && it != list.end()) {
        return ApiError::Client("AlreadyExistsException",
                                "Event destination " + dest_name + " already exists.");
      }
      if (!create && it == list.end()) {
        return not_found("Event destination " + dest_name + " does not exist.");
      }
      std::string kind = d.contains("EventBridgeDestination")       ? "eventBridge"
                         : d.contains("SnsDestination")             ? "sns"
                         : d.contains("CloudWatchDestination")      ? "cloudWatch"
                         : d.contains("KinesisFirehoseDestination") ? "firehose"
                         : d.contains("PinpointDestination")        ? "pinpoint"
                                                                    : "none";
      Json entry{{"name", dest_name},
                 {"enabled", d.value("Enabled", false)},
                 {"types", d.value("MatchingEventTypes", Json::array())},
                 {"kind", kind},
                 {"v2", d}};
      if (kind == "eventBridge") {
        entry["eventBusArn"] = d["EventBridgeDestination"].value("EventBusArn", "");
      }
      if (it == list.end()) {
        list.push_back(entry);
      } else {
        *it = entry;
      }
      US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
      return Json::object();
    };
  };
  add("CreateConfigurationSetEventDestination", put_destination(true));
  add("UpdateConfigurationSetEventDestination", put_destination(false));
  add("GetConfigurationSetEventDestinations",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) return not_found("Configuration set <" + name + "> does not exist.");
        Json out = Json::array();
        for (const auto& d : cs->value("destinations", Json::array())) {
          Json e = d.value("v2", Json::object());
          e.erase("MatchingEventTypes");
          e["Name"] = d["name"];
          e["Enabled"] = d["enabled"];
          Json types = Json::array();
          for (const auto& t : d["types"]) {
            std::string key = EventKey(t.get<std::string>());
            static const std::map<std::string, std::string> upper = {
                {"send", "SEND"},
                {"reject", "REJECT"},
                {"bounce", "BOUNCE"},
                {"complaint", "COMPLAINT"},
                {"delivery", "DELIVERY"},
                {"open", "OPEN"},
                {"click", "CLICK"},
                {"renderingfailure", "RENDERING_FAILURE"},
                {"deliverydelay", "DELIVERY_DELAY"},
                {"subscription", "SUBSCRIPTION"}};
            auto u = upper.find(key);
            types.push_back(u == upper.end() ? t : Json(u->second));
          }
          e["MatchingEventTypes"] = types;
          out.push_back(e);
        }
        return Json{{"EventDestinations", out}};
      });
  add("DeleteConfigurationSetEventDestination",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string name = in["ConfigurationSetName"];
        const Json* cs = Find(c.scope, "configset", name);
        if (!cs) return not_found("Configuration set <" + name + "> does not exist.");
        std::string dest_name = in["EventDestinationName"];
        Json updated = *cs;
        Json kept = Json::array();
        bool found = false;
        for (const auto& e : updated["destinations"]) {
          if (e.value("name", "") == dest_name) {
            found = true;
          } else {
            kept.push_back(e);
          }
        }
        if (!found) return not_found("Event destination " + dest_name + " does not exist.");
        updated["destinations"] = kept;
        US_RETURN_IF_ERROR_API(Put(c.scope, "configset", name, updated));
        return Json::object();
      });
  // The account-level suppression list.
  add("PutSuppressedDestination", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::string address = in["EmailAddress"];
    if (auto problem = AddressProblem(address)) {
      return ApiError::Client("BadRequestException", "Invalid email address <" + address + ">.");
    }
    US_RETURN_IF_ERROR_API(
        Put(c.scope, "suppressed", Lower(address),
            Json{{"address", address}, {"reason", in["Reason"]}, {"updated", NowMs()}}));
    return Json::object();
  });
  add("GetSuppressedDestination",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string address = in["EmailAddress"];
        const Json* s = Find(c.scope, "suppressed", Lower(address));
        if (!s)
          return not_found("Email address " + address +
                           " does not exist on your suppression list.");
        return Json{{"SuppressedDestination",
                     {{"EmailAddress", (*s)["address"]},
                      {"Reason", (*s)["reason"]},
                      {"LastUpdateTime", static_cast<double>(s->value("updated", 0)) / 1000},
                      {"Attributes", Json::object()}}}};
      });
  add("DeleteSuppressedDestination",
      [this, not_found](const RequestContext& c, const Json& in) -> ApiResult {
        std::string address = in["EmailAddress"];
        if (!Find(c.scope, "suppressed", Lower(address))) {
          return not_found("Email address " + address +
                           " does not exist on your suppression list.");
        }
        US_RETURN_IF_ERROR_API(Erase(c.scope, "suppressed", Lower(address)));
        return Json::object();
      });
  add("ListSuppressedDestinations", [this](const RequestContext& c, const Json& in) -> ApiResult {
    std::set<std::string> reasons;
    for (const auto& r : in.value("Reasons", Json::array())) reasons.insert(r.get<std::string>());
    Json out = Json::array();
    for (const auto& [name, s] : Ordered(c.scope, "suppressed")) {
      if (!reasons.empty() && !reasons.count(s->value("reason", ""))) continue;
      out.push_back(Json{{"EmailAddress", (*s)["address"]},
                         {"Reason", (*s)["reason"]},
                         {"LastUpdateTime", static_cast<double>(s->value("updated", 0)) / 1000}});
    }
    return Json{{"SuppressedDestinationSummaries", out}};
  });
  // The account.
  add("GetAccount", [this](const RequestContext& c, const Json&) -> ApiResult {
    Json account = Account(c.scope);
    return Json{
        {"ProductionAccessEnabled", !account["sandbox"].get<bool>()},
        {"SendingEnabled", account["sendingEnabled"]},
        {"EnforcementStatus", "HEALTHY"},
        {"DedicatedIpAutoWarmupEnabled", false},
        {"SendQuota",
         {{"Max24HourSend", account["max24HourSend"]},
          {"MaxSendRate", account["maxSendRate"]},
          {"SentLast24Hours", static_cast<double>(Quota(c.scope).SentLast24Hours(NowMs()))}}},
        {"SuppressionAttributes", {{"SuppressedReasons", Json::array()}}}};
  });
  add("PutAccountSendingAttributes", [this](const RequestContext& c, const Json& in) -> ApiResult {
    Json out;
    US_RETURN_IF_ERROR_API(
        SetAccount(c.scope, Json{{"sendingEnabled", in.value("SendingEnabled", false)}}, &out));
    return Json::object();
  });
  // The emulator grants production access at once (AWS reviews the request).
  add("PutAccountDetails", [this](const RequestContext& c, const Json& in) -> ApiResult {
    if (in.value("ProductionAccessEnabled", false)) {
      Json out;
      US_RETURN_IF_ERROR_API(SetAccount(c.scope, Json{{"sandbox", false}}, &out));
    }
    return Json::object();
  });
}

}  // namespace

Result<std::unique_ptr<Ses>> Ses::Open(EventLoop& loop, Store& store, Journal& journal,
                                       Clock& clock, Waits& waits, EventBus& bus, Random random,
                                       SesOptions options) {
  auto ses = std::make_unique<SesImpl>(loop, store, journal, clock, waits, bus, std::move(random),
                                       std::move(options));
  US_RETURN_IF_ERROR(ses->Open());
  return std::unique_ptr<Ses>(std::move(ses));
}

}  // namespace understudy::ses
