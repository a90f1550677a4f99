#include "ses/read_side.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <regex>

#include "core/time.h"
#include "ses/mime.h"

namespace understudy::ses {
namespace {

using api::ControlError;
using api::HttpReply;
using api::HttpRequest;
using api::HttpResponse;
using api::JsonResponse;

constexpr const char* kPrefix = "/_understudy/ses/";

std::string HtmlUnescape(std::string s) {
  static const std::pair<const char*, const char*> entities[] = {{"&amp;", "&"}, {"&lt;", "<"},
                                                                 {"&gt;", ">"},  {"&quot;", "\""},
                                                                 {"&#39;", "'"}, {"&nbsp;", " "}};
  for (const auto& [from, to] : entities) {
    size_t at = 0;
    while ((at = s.find(from, at)) != std::string::npos) {
      s.replace(at, std::strlen(from), to);
      at += std::strlen(to);
    }
  }
  return s;
}

std::string StripTags(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
      out += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out += c;
    }
  }
  return HtmlUnescape(out);
}

// A time filter: ISO-8601 or epoch milliseconds.
std::optional<int64_t> ParseTime(const std::string& text, std::string* error) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return std::stoll(text);
  }
  auto t = ParseIso8601(text);
  if (!t.ok()) {
    *error = "'" + text + "' is not a time (ISO-8601 or epoch milliseconds)";
    return std::nullopt;
  }
  return ToEpochMillis(*t);
}

// The query from request parameters (or a JSON object's members).
Result<MessageQuery> QueryFrom(const std::function<const std::string*(const char*)>& param,
                               const HttpRequest* request) {
  MessageQuery q;
  auto get = [&](const char* name) -> std::string {
    const std::string* v = param(name);
    return v ? *v : std::string();
  };
  q.to = get("to");
  q.from = get("from");
  q.subject = get("subject");
  q.text = get("q");
  if (q.text.empty()) q.text = get("text");
  q.tag = get("tag");
  q.configuration_set = get("configurationSet");
  q.via = get("via");
  q.id = get("id");
  q.mailbox = get("mailbox");
  if (q.mailbox.empty() && request != nullptr) {
    if (const std::string* h = request->Header("X-Understudy-Mailbox")) q.mailbox = *h;
  }
  std::string error;
  q.before_ms = ParseTime(get("before"), &error);
  if (!error.empty()) return Status::InvalidArgument("before: " + error);
  q.after_ms = ParseTime(get("after"), &error);
  if (!error.empty()) return Status::InvalidArgument("after: " + error);
  std::string limit = get("limit");
  if (!limit.empty()) {
    char* end = nullptr;
    q.limit = std::strtoll(limit.c_str(), &end, 10);
    if (*end != '\0' || q.limit < 0) return Status::InvalidArgument("limit must be a number >= 0");
  }
  std::string start = get("start");
  if (!start.empty()) q.start = std::strtoll(start.c_str(), nullptr, 10);
  std::string since = get("sinceSeq");
  if (!since.empty()) q.after_seq = std::strtoll(since.c_str(), nullptr, 10);
  return q;
}

Result<MessageQuery> QueryFromRequest(const HttpRequest& request) {
  return QueryFrom([&](const char* name) { return request.QueryParam(name); }, &request);
}

std::string Describe(const MessageQuery& q) {
  std::string out;
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) out += std::string(out.empty() ? "" : ", ") + name + "=" + v;
  };
  add("to", q.to);
  add("from", q.from);
  add("subject", q.subject);
  add("q", q.text);
  add("tag", q.tag);
  add("configurationSet", q.configuration_set);
  add("mailbox", q.mailbox);
  add("via", q.via);
  if (q.before_ms) add("before", FormatIso8601(TimePoint(std::chrono::milliseconds(*q.before_ms))));
  if (q.after_ms) add("after", FormatIso8601(TimePoint(std::chrono::milliseconds(*q.after_ms))));
  if (q.after_seq) add("sinceSeq", std::to_string(q.after_seq));
  return out.empty() ? "any message" : out;
}

std::string Iso(int64_t ms) { return FormatIso8601(TimePoint(std::chrono::milliseconds(ms))); }

Json Summary(const StoredMessage& m) {
  const Json& p = m.parsed;
  Json bcc = Json::array();
  // Envelope recipients not named in To or Cc: the Bcc.
  for (const auto& d : m.destinations) {
    bool named = false;
    for (const char* field : {"to", "cc"}) {
      for (const auto& a : p.value(field, Json::array())) {
        if (api::EqualsIgnoreCase(a.value("address", ""), d)) named = true;
      }
    }
    if (!named) bcc.push_back(d);
  }
  std::string text = p.value("text", "");
  if (text.empty()) text = StripTags(p.value("html", ""));
  std::string snippet = text.substr(0, std::min<size_t>(text.size(), 200));
  while (!snippet.empty() && (static_cast<unsigned char>(snippet.back()) & 0xC0) == 0x80)
    snippet.pop_back();
  if (!snippet.empty() && static_cast<unsigned char>(snippet.back()) >= 0xC0) snippet.pop_back();
  return Json{{"id", m.id},
              {"seq", m.seq},
              {"messageId", p.value("messageId", "")},
              {"receivedAt", Iso(m.received_ms)},
              {"via", m.via},
              {"region", m.region},
              {"source", m.source},
              {"from", p.value("from", Json::array())},
              {"to", p.value("to", Json::array())},
              {"cc", p.value("cc", Json::array())},
              {"bcc", bcc},
              {"replyTo", p.value("replyTo", Json::array())},
              {"destinations", m.destinations},
              {"deliveredTo", m.delivered},
              {"subject", p.value("subject", "")},
              {"size", m.size},
              {"configurationSet", m.configuration_set},
              {"tags", m.tags},
              {"mailbox", m.mailbox},
              {"attachments", p.value("attachments", Json::array()).size()},
              {"snippet", snippet}};
}

Json Full(const StoredMessage& m) {
  Json out = Summary(m);
  const Json& p = m.parsed;
  out["text"] = p.value("text", "");
  out["html"] = p.value("html", "");
  out["headers"] = p.value("headers", Json::array());
  out["attachments"] = p.value("attachments", Json::array());
  out["inlines"] = p.value("inlines", Json::array());
  out["date"] = p.value("date", "");
  out["links"] = ExtractLinks(out["text"], out["html"]);
  out["codes"] = ExtractCodes(out["text"], out["html"]);
  if (!m.template_name.empty() || !m.template_data.empty()) {
    out["template"] = Json{{"name", m.template_name}, {"data", m.template_data}};
  }
  return out;
}

HttpResponse Bytes(int status, const std::string& type, std::string body) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", type);
  response.body = std::move(body);
  return response;
}

// LocalStack's /_aws/ses message shape.
Json LocalStackShape(const StoredMessage& m) {
  const Json& p = m.parsed;
  auto addresses = [&](const char* field) {
    Json out = Json::array();
    for (const auto& a : p.value(field, Json::array())) out.push_back(a.value("address", ""));
    return out;
  };
  Json message{{"Id", m.id},
               {"Region", m.region},
               {"Source", m.source},
               {"Timestamp", Iso(m.received_ms)},
               {"Destination",
                {{"ToAddresses", addresses("to")},
                 {"CcAddresses", addresses("cc")},
                 {"BccAddresses", Summary(m)["bcc"]}}},
               {"Subject", p.value("subject", "")},
               {"Body",
                {{"text_part", p.value("text", "").empty() ? Json() : Json(p.value("text", ""))},
                 {"html_part", p.value("html", "").empty() ? Json() : Json(p.value("html", ""))}}}};
  if (m.via == "ses.SendRawEmail" || m.via == "smtp" || !m.raw.empty()) message["RawData"] = m.raw;
  if (!m.template_name.empty()) {
    message["Template"] = m.template_name;
    message["TemplateData"] = m.template_data;
  }
  return message;
}

class Handlers : public std::enable_shared_from_this<Handlers> {
 public:
  Handlers(MessageStore& messages, Clock& clock, Waits& waits, ReadSideHooks hooks)
      : messages_(messages), clock_(clock), waits_(waits), hooks_(std::move(hooks)) {}

  void Get(const HttpRequest& request, HttpReply reply) {
    std::string rest = request.path.substr(std::strlen(kPrefix));
    if (rest == "messages") return List(request, std::move(reply));
    if (rest == "latest") return One(request, "latest", "", std::move(reply));
    if (rest == "wait") return Wait(request, std::move(reply));
    if (rest == "events") return Events(request, std::move(reply));
    if (rest.rfind("messages/", 0) == 0) {
      std::string tail = rest.substr(9);
      size_t slash = tail.find('/');
      std::string id = tail.substr(0, slash);
      std::string view = slash == std::string::npos ? "" : tail.substr(slash + 1);
      // Mailpit-style "{id}.html" / "{id}.txt" / "{id}.eml" too.
      for (const char* ext : {".html", ".txt", ".eml"}) {
        size_t n = std::strlen(ext);
        if (view.empty() && id.size() > n && id.compare(id.size() - n, n, ext) == 0) {
          view = std::string(ext + 1) == "eml" ? "raw" : ext + 1;
          id = id.substr(0, id.size() - n);
        }
      }
      return One(request, id, view, std::move(reply));
    }
    reply(ControlError(404, "NotFound", "no SES read-side route " + request.path));
  }

  void Info(HttpReply reply) { reply(JsonResponse(200, hooks_.info())); }

  void List(const HttpRequest& request, HttpReply reply) {
    auto q = QueryFromRequest(request);
    if (!q.ok()) return reply(ControlError(400, "InvalidQuery", q.status().message()));
    auto total = messages_.Count(*q);
    auto found = messages_.Find(*q);
    if (!found.ok() || !total.ok()) {
      return reply(ControlError(500, "StoreFailure",
                                found.ok() ? total.status().message() : found.status().message()));
    }
    Json list = Json::array();
    bool full = request.QueryParam("full") != nullptr;
    for (const auto& m : *found) list.push_back(full ? Full(m) : Summary(m));
    reply(JsonResponse(
        200,
        Json{{"total", *total}, {"count", list.size()}, {"start", q->start}, {"messages", list}}));
  }

  void One(const HttpRequest& request, const std::string& id, const std::string& view,
           HttpReply reply) {
    MessageQuery q;
    if (id == "latest") {
      auto parsed = QueryFromRequest(request);
      if (!parsed.ok()) return reply(ControlError(400, "InvalidQuery", parsed.status().message()));
      q = *parsed;
    } else {
      q.id = id;
    }
    q.limit = 1;
    q.start = 0;
    bool raw = view == "raw" || view.rfind("attachments/", 0) == 0 || view.rfind("part/", 0) == 0;
    auto found = messages_.Find(q, raw);
    if (!found.ok()) return reply(ControlError(500, "StoreFailure", found.status().message()));
    if (found->empty()) {
      return reply(ControlError(
          404, "MessageNotFound",
          id == "latest" ? "no message matches " + Describe(q) : "no message with id " + id));
    }
    const StoredMessage& m = found->front();
    if (view.empty()) return reply(JsonResponse(200, Full(m)));
    if (view == "raw") {
      HttpResponse response = Bytes(200, "message/rfc822", m.raw);
      response.SetHeader("Content-Disposition", "attachment; filename=\"" + m.id + ".eml\"");
      return reply(std::move(response));
    }
    if (view == "html") {
      std::string html = m.parsed.value("html", "");
      if (html.empty())
        return reply(ControlError(404, "NoHtmlPart", "message " + m.id + " has no HTML part"));
      return reply(Bytes(200, "text/html; charset=utf-8", html));
    }
    if (view == "txt" || view == "text") {
      return reply(Bytes(200, "text/plain; charset=utf-8", m.parsed.value("text", "")));
    }
    if (view == "headers")
      return reply(JsonResponse(200, m.parsed.value("headers", Json::array())));
    if (view == "events") {
      auto events = messages_.Events(m.id, "", "", 0);
      if (!events.ok()) return reply(ControlError(500, "StoreFailure", events.status().message()));
      return reply(JsonResponse(200, Json{{"events", *events}}));
    }
    if (view.rfind("attachments/", 0) == 0 || view.rfind("part/", 0) == 0) {
      std::string which = view.substr(view.find('/') + 1);
      auto parsed = ParseMessage(m.raw);
      if (!parsed.ok()) return reply(ControlError(500, "ParseFailure", parsed.status().message()));
      std::vector<const MimePart*> parts;
      for (const auto& a : parsed->attachments) parts.push_back(&a);
      for (const auto& a : parsed->inlines) parts.push_back(&a);
      const MimePart* match = nullptr;
      for (const MimePart* p : parts) {
        if (p->part_id == which || p->filename == which || p->content_id == which) {
          match = p;
          break;
        }
      }
      if (match == nullptr && !which.empty() && std::all_of(which.begin(), which.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          })) {
        size_t index = std::stoul(which);
        if (index < parsed->attachments.size()) match = &parsed->attachments[index];
      }
      if (match == nullptr) {
        return reply(ControlError(404, "AttachmentNotFound",
                                  "message " + m.id + " has no attachment " + which));
      }
      HttpResponse response = Bytes(200, match->content_type, match->body);
      if (!match->filename.empty()) {
        response.SetHeader("Content-Disposition",
                           "attachment; filename=\"" + match->filename + "\"");
      }
      return reply(std::move(response));
    }
    reply(ControlError(404, "NotFound", "unknown view '" + view + "'"));
  }

  void Delete(const HttpRequest& request, HttpReply reply) {
    std::string rest = request.path.substr(std::strlen(kPrefix));
    MessageQuery q;
    if (rest == "messages") {
      auto parsed = QueryFromRequest(request);
      if (!parsed.ok()) return reply(ControlError(400, "InvalidQuery", parsed.status().message()));
      q = *parsed;
    } else if (rest.rfind("messages/", 0) == 0) {
      q.id = rest.substr(9);
    } else {
      return reply(ControlError(404, "NotFound", "no SES read-side route " + request.path));
    }
    auto deleted = messages_.Delete(q);
    if (!deleted.ok()) return reply(ControlError(500, "StoreFailure", deleted.status().message()));
    if (!q.id.empty() && *deleted == 0) {
      return reply(ControlError(404, "MessageNotFound", "no message with id " + q.id));
    }
    reply(JsonResponse(200, Json{{"deleted", *deleted}}));
  }

  void Wait(const HttpRequest& request, HttpReply reply) {
    auto parsed = QueryFromRequest(request);
    if (!parsed.ok())
      return reply(ControlError(400, "InvalidWaitRequest", parsed.status().message()));
    MessageQuery q = *parsed;
    int64_t count = 1;
    if (const std::string* c = request.QueryParam("count")) {
      char* end = nullptr;
      count = std::strtoll(c->c_str(), &end, 10);
      if (*end != '\0' || count < 1) {
        return reply(ControlError(400, "InvalidWaitRequest", "count must be a number >= 1"));
      }
    }
    Duration timeout = std::chrono::seconds(10);
    if (const std::string* t = request.QueryParam("timeout")) {
      auto d = ParseDuration(*t);
      if (!d.ok())
        return reply(ControlError(400, "InvalidWaitRequest", "timeout: " + d.status().message()));
      timeout = *d;
    }
    if (const std::string* since = request.QueryParam("since"); since && *since == "now") {
      q.after_seq = messages_.last_seq();
    }
    TimePoint started = clock_.Now();
    auto self = shared_from_this();
    MessageQuery counted = q;
    counted.limit = 0;
    waits_.WaitUntil(
        "ses messages " + Describe(q),
        [self, counted, count] {
          auto n = self->messages_.Count(counted);
          return n.ok() && *n >= count;
        },
        timeout,
        [self, q, count, timeout, started, reply](bool met) {
          MessageQuery found_q = q;
          found_q.limit = std::max<int64_t>(count, 1);
          found_q.newest_first = false;
          auto found = self->messages_.Find(found_q);
          Json list = Json::array();
          if (found.ok()) {
            for (const auto& m : *found) list.push_back(Full(m));
          }
          std::string waited = FormatDuration(self->clock_.Now() - started);
          if (met) {
            return reply(JsonResponse(200, Json{{"met", true},
                                                {"count", list.size()},
                                                {"waited", waited},
                                                {"messages", list}}));
          }
          // What did arrive: the newest messages whatever they match.
          MessageQuery recent;
          recent.mailbox = q.mailbox;
          recent.limit = 10;
          auto latest = self->messages_.Find(recent);
          Json arrived = Json::array();
          std::string seen;
          if (latest.ok()) {
            for (const auto& m : *latest) {
              Json s = Summary(m);
              arrived.push_back(s);
              std::string to;
              for (const auto& d : m.delivered) to += (to.empty() ? "" : ",") + d;
              seen += "\n  " + s["receivedAt"].get<std::string>() + " to=" + to +
                      " from=" + m.source +
                      " subject=" + json_quote(s["subject"].get<std::string>());
            }
          }
          std::string message = "expected " + std::to_string(count) + " message(s) matching " +
                                Describe(q) + " within " + FormatDuration(timeout) + "; " +
                                std::to_string(list.size()) + " matched. ";
          message += arrived.empty() ? std::string("No messages are stored.")
                                     : "Most recent messages stored:" + seen;
          reply(JsonResponse(408, Json{{"met", false},
                                       {"error", "WaitTimeout"},
                                       {"message", message},
                                       {"count", list.size()},
                                       {"messages", list},
                                       {"recent", arrived}}));
        });
  }

  void Events(const HttpRequest& request, HttpReply reply) {
    auto param = [&](const char* name) {
      const std::string* v = request.QueryParam(name);
      return v ? *v : std::string();
    };
    std::string mailbox = param("mailbox");
    if (mailbox.empty()) {
      if (const std::string* h = request.Header("X-Understudy-Mailbox")) mailbox = *h;
    }
    auto events = messages_.Events(param("messageId"), param("type"), mailbox, 0);
    if (!events.ok()) return reply(ControlError(500, "StoreFailure", events.status().message()));
    reply(JsonResponse(200, Json{{"events", *events}}));
  }

  void PostAccount(const HttpRequest& request, HttpReply reply) {
    auto body = ParseJson(request.body.empty() ? "{}" : request.body);
    if (!body.ok() || !body->is_object()) {
      return reply(ControlError(400, "InvalidRequest", "the body must be a JSON object"));
    }
    Scope scope{body->value("account", hooks_.account), body->value("region", hooks_.region)};
    Json out;
    Status s = hooks_.set_account(scope, *body, &out);
    if (!s.ok()) return reply(ControlError(400, "InvalidRequest", s.message()));
    reply(JsonResponse(200, out));
  }

  void PostIdentity(const HttpRequest& request, HttpReply reply) {
    // /_understudy/ses/identities/{identity}/status
    std::string rest = request.path.substr(std::strlen("/_understudy/ses/identities/"));
    size_t slash = rest.rfind('/');
    if (slash == std::string::npos || rest.substr(slash) != "/status") {
      return reply(
          ControlError(404, "NotFound", "expected /_understudy/ses/identities/{identity}/status"));
    }
    std::string identity = rest.substr(0, slash);
    auto body = ParseJson(request.body.empty() ? "{}" : request.body);
    if (!body.ok() || !body->is_object()) {
      return reply(ControlError(400, "InvalidRequest", "the body must be a JSON object"));
    }
    Scope scope{body->value("account", hooks_.account), body->value("region", hooks_.region)};
    Status s = hooks_.set_identity_status(scope, identity, body->value("status", "Success"));
    if (!s.ok()) {
      return reply(ControlError(s.code() == StatusCode::kNotFound ? 404 : 400, "InvalidRequest",
                                s.message()));
    }
    reply(JsonResponse(200,
                       Json{{"identity", identity}, {"status", body->value("status", "Success")}}));
  }

  void LocalStackGet(const HttpRequest& request, HttpReply reply) {
    MessageQuery q;
    q.limit = 0;
    q.newest_first = false;
    if (const std::string* id = request.QueryParam("id")) q.id = *id;
    if (const std::string* email = request.QueryParam("email")) q.from = *email;
    auto found = messages_.Find(q, true);
    if (!found.ok()) return reply(ControlError(500, "StoreFailure", found.status().message()));
    Json list = Json::array();
    for (const auto& m : *found) list.push_back(LocalStackShape(m));
    reply(JsonResponse(200, Json{{"messages", list}}));
  }

  void LocalStackDelete(const HttpRequest& request, HttpReply reply) {
    MessageQuery q;
    if (const std::string* id = request.QueryParam("id")) q.id = *id;
    auto deleted = messages_.Delete(q);
    if (!deleted.ok()) return reply(ControlError(500, "StoreFailure", deleted.status().message()));
    HttpResponse response;
    response.status = 204;
    reply(std::move(response));
  }

 private:
  static std::string json_quote(const std::string& s) { return Json(s).dump(); }

  MessageStore& messages_;
  Clock& clock_;
  Waits& waits_;
  ReadSideHooks hooks_;
};

}  // namespace

Json ExtractLinks(const std::string& text, const std::string& html) {
  static const std::regex url(R"((https?://[^\s<>"'\)\]]+))", std::regex::icase);
  static const std::regex href(R"(href\s*=\s*["']([^"']+)["'])", std::regex::icase);
  Json out = Json::array();
  auto add = [&](std::string link) {
    link = HtmlUnescape(link);
    while (!link.empty() && (link.back() == '.' || link.back() == ',' || link.back() == ';'))
      link.pop_back();
    if (link.empty() || link.rfind("mailto:", 0) == 0 || link[0] == '#') return;
    if (std::find(out.begin(), out.end(), Json(link)) == out.end()) out.push_back(link);
  };
  for (std::sregex_iterator it(html.begin(), html.end(), href), end; it != end; ++it) add((*it)[1]);
  for (std::sregex_iterator it(text.begin(), text.end(), url), end; it != end; ++it) add((*it)[1]);
  std::string stripped = StripTags(html);
  for (std::sregex_iterator it(stripped.begin(), stripped.end(), url), end; it != end; ++it) {
    add((*it)[1]);
  }
  return out;
}

Json ExtractCodes(const std::string& text, const std::string& html) {
  static const std::regex url(R"(https?://[^\s<>"']+)", std::regex::icase);
  static const std::regex code(R"((^|[^0-9A-Za-z])([0-9]{4,8})(?![0-9A-Za-z]))");
  std::string body = text.empty() ? StripTags(html) : text;
  body = std::regex_replace(body, url, " ");
  Json out = Json::array();
  for (std::sregex_iterator it(body.begin(), body.end(), code), end; it != end; ++it) {
    std::string c = (*it)[2];
    if (std::find(out.begin(), out.end(), Json(c)) == out.end()) out.push_back(c);
  }
  return out;
}

Result<api::WaitCondition> MessagesCondition(MessageStore& messages, const Json& params) {
  if (!params.is_object()) return Status::InvalidArgument("expected an object of filters");
  std::map<std::string, std::string> values;
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (it.key() == "count") continue;
    values[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  auto q = QueryFrom(
      [&](const char* name) -> const std::string* {
        auto it = values.find(name);
        return it == values.end() ? nullptr : &it->second;
      },
      nullptr);
  if (!q.ok()) return q.status();
  int64_t count = params.value("count", 1);
  MessageQuery query = *q;
  query.limit = 0;
  api::WaitCondition condition;
  condition.holds = [&messages, query, count] {
    auto n = messages.Count(query);
    return n.ok() && *n >= count;
  };
  condition.observe = [&messages, query] {
    auto n = messages.Count(query);
    return Json{{"matching", n.ok() ? *n : -1}, {"query", Describe(query)}};
  };
  return condition;
}

void InstallReadSide(api::FrontDoor& fd, MessageStore& messages, Clock& clock, Waits& waits,
                     ReadSideHooks hooks) {
  auto h = std::make_shared<Handlers>(messages, clock, waits, std::move(hooks));
  fd.RegisterInternal("GET", "/_understudy/ses",
                      [h](const HttpRequest&, HttpReply reply) { h->Info(std::move(reply)); });
  fd.RegisterInternal(
      "POST", "/_understudy/ses/account",
      [h](const HttpRequest& r, HttpReply reply) { h->PostAccount(r, std::move(reply)); });
  fd.RegisterInternalPrefix(
      "POST", "/_understudy/ses/identities/",
      [h](const HttpRequest& r, HttpReply reply) { h->PostIdentity(r, std::move(reply)); });
  fd.RegisterInternalPrefix(
      "GET", kPrefix, [h](const HttpRequest& r, HttpReply reply) { h->Get(r, std::move(reply)); });
  fd.RegisterInternalPrefix("DELETE", kPrefix, [h](const HttpRequest& r, HttpReply reply) {
    h->Delete(r, std::move(reply));
  });
  fd.RegisterInternal("GET", "/_aws/ses", [h](const HttpRequest& r, HttpReply reply) {
    h->LocalStackGet(r, std::move(reply));
  });
  fd.RegisterInternal("DELETE", "/_aws/ses", [h](const HttpRequest& r, HttpReply reply) {
    h->LocalStackDelete(r, std::move(reply));
  });
}

}  // namespace understudy::ses
