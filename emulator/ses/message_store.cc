#include "ses/message_store.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/arn.h"
#include "core/time.h"
#include "ses/sending_rules.h"

namespace understudy::ses {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ",a@x.org,b@y.org," so one address matches with instr(list, ',addr,').
std::string AddressKey(const std::vector<std::string>& list) {
  std::string out = ",";
  for (const auto& a : list) out += Lower(a) + ",";
  return out;
}

std::vector<std::string> ToList(const Json& json) {
  std::vector<std::string> out;
  if (json.is_array()) {
    for (const auto& v : json) out.push_back(v.get<std::string>());
  }
  return out;
}

Json SafeParse(const std::string& text, Json fallback) {
  auto parsed = ParseJson(text);
  return parsed.ok() ? *parsed : fallback;
}

constexpr const char* kColumns =
    "seq, id, account, region, mailbox, received, via, source, destinations, delivered, "
    "config_set, tags, template, template_data, parsed, size";

}  // namespace

Json EventMail(const StoredMessage& m) {
  const Json& p = m.parsed;
  Json headers = Json::array();
  for (const auto& h : p.value("headers", Json::array())) headers.push_back(h);
  auto list = [&](const char* field) {
    Json out = Json::array();
    for (const auto& a : p.value(field, Json::array())) {
      std::string name = a.value("name", ""), address = a.value("address", "");
      out.push_back(name.empty() ? address : name + " <" + address + ">");
    }
    return out;
  };
  Json common = Json::object();
  if (p.contains("subject")) {
    common = Json{{"from", list("from")},
                  {"to", list("to")},
                  {"messageId", m.id},
                  {"subject", p.value("subject", "")}};
    if (!p.value("cc", Json::array()).empty()) common["cc"] = list("cc");
    if (!p.value("date", "").empty()) common["date"] = p["date"];
  }
  Json tags = Json::object();
  for (auto it = m.tags.begin(); it != m.tags.end(); ++it) tags[it.key()] = Json::array({*it});
  if (!m.configuration_set.empty())
    tags["ses:configuration-set"] = Json::array({m.configuration_set});
  tags["ses:source-ip"] = Json::array({"127.0.0.1"});
  std::string domain = DomainOf(m.source);
  tags["ses:from-domain"] = Json::array({domain});
  tags["ses:caller-identity"] = Json::array({"root"});
  return Json{{"timestamp", FormatIso8601(TimePoint(std::chrono::milliseconds(m.received_ms)))},
              {"source", m.source},
              {"sourceArn", MakeArn("ses", Scope{m.account, m.region}, "identity/" + domain)},
              {"sendingAccountId", m.account},
              {"messageId", m.id},
              {"destination", m.destinations},
              {"headersTruncated", false},
              {"headers", headers},
              {"commonHeaders", common},
              {"tags", tags}};
}

Result<std::unique_ptr<MessageStore>> MessageStore::Open(
    Store& store, std::function<void(std::function<void()>)> post) {
  auto self = std::unique_ptr<MessageStore>(new MessageStore(store));
  self->post_ = std::move(post);
  US_RETURN_IF_ERROR(store.Migrate(
      "ses_messages",
      {"CREATE TABLE ses_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
       "account TEXT NOT NULL, region TEXT NOT NULL, mailbox TEXT NOT NULL, received INTEGER NOT "
       "NULL, via TEXT NOT NULL, source TEXT NOT NULL, destinations TEXT NOT NULL, delivered TEXT "
       "NOT NULL, delivered_key TEXT NOT NULL, from_key TEXT NOT NULL, subject_lc TEXT NOT NULL, "
       "body_lc TEXT NOT NULL, config_set TEXT NOT NULL, tags TEXT NOT NULL, template TEXT NOT "
       "NULL, template_data TEXT NOT NULL, parsed TEXT NOT NULL, size INTEGER NOT NULL, raw BLOB "
       "NOT NULL);"
       "CREATE INDEX ses_messages_by_mailbox ON ses_messages (mailbox, seq);"
       "CREATE INDEX ses_messages_by_time ON ses_messages (received);"
       "CREATE TABLE ses_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, "
       "mailbox TEXT NOT NULL, type TEXT NOT NULL, time INTEGER NOT NULL, record TEXT NOT NULL, "
       "destinations TEXT NOT NULL);"
       "CREATE INDEX ses_events_by_message ON ses_events (message_id);"}));
  US_RETURN_IF_ERROR(store.Query("SELECT COALESCE(MAX(seq), 0) FROM ses_messages", {},
                                 [&](const SqlRow& row) { self->last_seq_ = row.Int(0); }));
  return self;
}

Status MessageStore::Insert(StoredMessage& m) {
  std::string from_key;
  if (m.parsed.contains("from")) {
    for (const auto& f : m.parsed["from"]) from_key += Lower(f.value("address", "")) + ",";
  }
  from_key = "," + Lower(m.source) + "," + from_key;
  std::string subject_lc = Lower(m.parsed.value("subject", ""));
  std::string body_lc =
      Lower(m.parsed.value("text", "")) + "\n" + Lower(m.parsed.value("html", ""));
  std::string raw = m.raw;
  m.seq = ++last_seq_;
  US_RETURN_IF_ERROR(Queue(
      "INSERT INTO ses_messages (seq, id, account, region, mailbox, received, via, source, "
      "destinations, delivered, delivered_key, from_key, subject_lc, body_lc, config_set, tags, "
      "template, template_data, parsed, size, raw) VALUES (?21, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, CAST(?20 AS BLOB))",
      {m.id,
       m.account,
       m.region,
       m.mailbox,
       m.received_ms,
       m.via,
       m.source,
       Json(m.destinations).dump(),
       Json(m.delivered).dump(),
       AddressKey(m.delivered),
       from_key,
       subject_lc,
       body_lc,
       m.configuration_set,
       m.tags.dump(),
       m.template_name,
       m.template_data,
       m.parsed.dump(-1, ' ', false, Json::error_handler_t::replace),
       static_cast<int64_t>(m.raw.size()),
       std::move(raw),
       m.seq}));
  if (observer_) observer_(m);
  return Status::Ok();
}

Status MessageStore::Queue(std::string_view sql, std::vector<SqlValue> params) {
  if (!post_) return store_.Run(sql, params);
  pending_.emplace_back(sql, std::move(params));
  if (!flush_posted_) {
    flush_posted_ = true;
    post_([this] { (void)Flush(); });
  }
  return Status::Ok();
}

Status MessageStore::Flush() {
  flush_posted_ = false;
  if (pending_.empty()) return Status::Ok();
  std::vector<std::pair<std::string_view, std::vector<SqlValue>>> batch;
  batch.swap(pending_);
  return store_.Transaction([&]() -> Status {
    for (const auto& [sql, params] : batch) US_RETURN_IF_ERROR(store_.Run(sql, params));
    return Status::Ok();
  });
}

std::string MessageStore::Where(const MessageQuery& q, std::vector<SqlValue>* params) const {
  std::string where = "1";
  auto add = [&](const std::string& clause, SqlValue value) {
    params->push_back(std::move(value));
    std::string n = "?" + std::to_string(params->size());
    std::string c = clause;
    size_t at;
    while ((at = c.find("?P")) != std::string::npos) c.replace(at, 2, n);
    where += " AND " + c;
  };
  if (!q.mailbox.empty()) add("mailbox = ?P", q.mailbox);
  if (!q.id.empty()) add("id = ?P", q.id);
  if (!q.to.empty()) add("instr(delivered_key, ?P) > 0", "," + Lower(q.to) + ",");
  if (!q.from.empty()) add("instr(from_key, ?P) > 0", "," + Lower(q.from) + ",");
  if (!q.subject.empty()) add("instr(subject_lc, ?P) > 0", Lower(q.subject));
  if (!q.text.empty()) {
    add("(instr(subject_lc, ?P) > 0 OR instr(body_lc, ?P) > 0)", Lower(q.text));
  }
  if (q.before_ms) add("received < ?P", *q.before_ms);
  if (q.after_ms) add("received > ?P", *q.after_ms);
  if (!q.configuration_set.empty()) add("config_set = ?P", q.configuration_set);
  if (!q.via.empty()) add("via = ?P", q.via);
  if (q.after_seq > 0) add("seq > ?P", q.after_seq);
  if (!q.tag.empty()) {
    size_t eq = q.tag.find('=');
    if (eq == std::string::npos) {
      add("json_extract(tags, ?P) IS NOT NULL", "$.\"" + q.tag + "\"");
    } else {
      params->push_back("$.\"" + q.tag.substr(0, eq) + "\"");
      std::string a = "?" + std::to_string(params->size());
      params->push_back(q.tag.substr(eq + 1));
      std::string b = "?" + std::to_string(params->size());
      where += " AND json_extract(tags, " + a + ") = " + b;
    }
  }
  return where;
}

Result<std::vector<StoredMessage>> MessageStore::Find(const MessageQuery& q, bool with_raw) {
  US_RETURN_IF_ERROR(Flush());
  std::vector<SqlValue> params;
  std::string sql = std::string("SELECT ") + kColumns + (with_raw ? ", raw" : ", NULL") +
                    " FROM ses_messages WHERE " + Where(q, &params) + " ORDER BY seq " +
                    (q.newest_first ? "DESC" : "ASC");
  if (q.limit > 0) {
    sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " +
           std::to_string(std::max<int64_t>(0, q.start));
  }
  std::vector<StoredMessage> out;
  US_RETURN_IF_ERROR(store_.Query(sql, params, [&](const SqlRow& row) {
    StoredMessage m;
    m.seq = row.Int(0);
    m.id = row.Text(1);
    m.account = row.Text(2);
    m.region = row.Text(3);
    m.mailbox = row.Text(4);
    m.received_ms = row.Int(5);
    m.via = row.Text(6);
    m.source = row.Text(7);
    m.destinations = ToList(SafeParse(row.Text(8), Json::array()));
    m.delivered = ToList(SafeParse(row.Text(9), Json::array()));
    m.configuration_set = row.Text(10);
    m.tags = SafeParse(row.Text(11), Json::object());
    m.template_name = row.Text(12);
    m.template_data = row.Text(13);
    m.parsed = SafeParse(row.Text(14), Json::object());
    m.size = row.Int(15);
    if (with_raw && !row.IsNull(16)) m.raw = row.Text(16);
    out.push_back(std::move(m));
  }));
  return out;
}

Result<int64_t> MessageStore::Count(const MessageQuery& q) {
  US_RETURN_IF_ERROR(Flush());
  std::vector<SqlValue> params;
  int64_t n = 0;
  US_RETURN_IF_ERROR(store_.Query("SELECT COUNT(*) FROM ses_messages WHERE " + Where(q, &params),
                                  params, [&](const SqlRow& row) { n = row.Int(0); }));
  return n;
}

Result<int64_t> MessageStore::Delete(const MessageQuery& q) {
  US_RETURN_IF_ERROR(Flush());
  std::vector<SqlValue> params;
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ses_messages WHERE " + Where(q, &params), params));
  return store_.changes();
}

Result<int64_t> MessageStore::DropBefore(int64_t cutoff_ms) {
  US_RETURN_IF_ERROR(Flush());
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ses_messages WHERE received < ?1", {cutoff_ms}));
  int64_t n = store_.changes();
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ses_events WHERE time < ?1", {cutoff_ms}));
  return n;
}

Status MessageStore::Reset() {
  pending_.clear();
  US_RETURN_IF_ERROR(store_.Run("DELETE FROM ses_messages"));
  return store_.Run("DELETE FROM ses_events");
}

Status MessageStore::AddEvent(const std::string& message_id, const std::string& mailbox,
                              const std::string& type, int64_t time_ms,
                              const std::string& record_json, const Json& destinations) {
  return Queue(
      "INSERT INTO ses_events (message_id, mailbox, type, time, record, destinations) VALUES "
      "(?1, ?2, ?3, ?4, ?5, ?6)",
      {message_id, mailbox, type, time_ms, record_json, destinations.dump()});
}

Result<Json> MessageStore::Events(const std::string& message_id, const std::string& type,
                                  const std::string& mailbox, int64_t limit) {
  US_RETURN_IF_ERROR(Flush());
  std::string sql =
      "SELECT seq, message_id, type, time, record, destinations FROM ses_events WHERE 1";
  std::vector<SqlValue> params;
  if (!message_id.empty()) {
    params.push_back(message_id);
    sql += " AND message_id = ?" + std::to_string(params.size());
  }
  if (!type.empty()) {
    params.push_back(type);
    sql += " AND type = ?" + std::to_string(params.size());
  }
  if (!mailbox.empty()) {
    params.push_back(mailbox);
    sql += " AND mailbox = ?" + std::to_string(params.size());
  }
  sql += " ORDER BY seq";
  if (limit > 0) sql += " LIMIT " + std::to_string(limit);
  Json out = Json::array();
  US_RETURN_IF_ERROR(store_.Query(sql, params, [&](const SqlRow& row) {
    out.push_back(Json{{"seq", row.Int(0)},
                       {"messageId", row.Text(1)},
                       {"eventType", row.Text(2)},
                       {"timeMillis", row.Int(3)},
                       {"record", SafeParse(row.Text(4), Json::object())},
                       {"publishedTo", SafeParse(row.Text(5), Json::array())}});
  }));
  // Records of stored messages are kept without their `mail` object: it is made from
  // the message when read.
  std::map<std::string, Json> mails;
  for (auto& e : out) {
    Json& record = e["record"];
    if (record.contains("mail")) continue;
    std::string id = e["messageId"];
    auto it = mails.find(id);
    if (it == mails.end()) {
      MessageQuery q;
      q.id = id;
      q.limit = 1;
      auto found = Find(q);
      Json mail = found.ok() && !found->empty() ? EventMail(found->front()) : Json::object();
      it = mails.emplace(id, std::move(mail)).first;
    }
    record["mail"] = it->second;
  }
  return out;
}

Result<Json> MessageStore::EventCounts(int64_t since_ms, int64_t bucket_ms) {
  US_RETURN_IF_ERROR(Flush());
  Json out = Json::array();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT (time / ?2) * ?2 AS bucket, type, COUNT(*) FROM ses_events WHERE time >= ?1 GROUP BY "
      "bucket, type ORDER BY bucket",
      {since_ms, bucket_ms}, [&](const SqlRow& row) {
        out.push_back(Json{{"bucket", row.Int(0)}, {"type", row.Text(1)}, {"count", row.Int(2)}});
      }));
  return out;
}

}  // namespace understudy::ses
