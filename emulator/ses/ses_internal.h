// SesImpl: the SES service behind ses.h, shared by its translation units.
//
// ses.cc holds the send path every message takes (Submit: rules, storage, events), SMTP
// delivery, the account and the wiring; ses_v1.cc the SES v1 (awsQuery) operations;
// ses_v2.cc the SES v2 (restJson1) operations. Internal to the ses component. Loop
// thread only.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "api/shape_values.h"
#include "core/log.h"
#include "ses/message_store.h"
#include "ses/mime.h"
#include "ses/read_side.h"
#include "ses/sending_rules.h"
#include "ses/ses.h"
#include "ses/template_renderer.h"

namespace understudy::ses::internal {

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

std::vector<std::string> Strings(const Json& input, const char* key);
std::string BinaryString(const Json& value);
std::string Lower(std::string s);
Json AddressesJson(const std::vector<MailAddress>& list);
// The parsed view stored for the read side.
Json ParsedJson(const ParsedMessage& p);
// SES event types: v1 names (send, delivery...) and v2 names (SEND, DELIVERY...) to one key:
// "send", "delivery", "bounce", "complaint", "renderingfailure", ...
std::string EventKey(std::string type);
// SES event type -> EventBridge detail-type ("Send" -> "Email Sent").
const std::map<std::string, std::string>& DetailTypes();
std::string V2Status(const std::string& status);
Json TemplateFrom(const Json& t, int64_t now_ms);
Json V2TemplateFrom(const Json& c, int64_t now_ms);
// The problem with a template's parts, or nothing.
std::optional<std::string> TemplateProblem(const Json& t);

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

}  // namespace understudy::ses::internal
