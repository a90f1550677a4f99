// SES v1 (awsQuery, API version 2010-12-01): the send operations and the rest of the
// API (identities, templates, quotas, configuration sets).
#include "ses/ses_internal.h"

namespace understudy::ses::internal {

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

}  // namespace understudy::ses::internal
