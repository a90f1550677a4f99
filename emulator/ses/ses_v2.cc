// SES v2 (restJson1, /v2/email/...): the send operations and the rest of the API
// (email identities, templates, configuration sets, the suppression list, the account).
#include "ses/ses_internal.h"

namespace understudy::ses::internal {

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
}  // namespace understudy::ses::internal
