// MessageStore: every message SES accepted, in SQLite, raw and parsed, searchable.
//
// Table `ses_messages` keeps the raw bytes exactly as sent next to the parsed view
// (headers, addresses, UTF-8 text and HTML, the attachment list) and the envelope
// (source, recipients, who it was delivered to). `ses_events` keeps the SES event
// records (Send, Delivery, Bounce, ...) for the read side. Queries filter in SQL, so
// nothing is capped in memory; retention, when set, drops messages older than it.
// Writes are batched: Insert and AddEvent queue rows that one transaction writes on the
// next loop turn (or before any read, so reads always see them). An observer hears of
// each stored message (waits re-check on it). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "core/store.h"

namespace understudy::ses {

struct StoredMessage {
  int64_t seq = 0;
  std::string id;  // the SES MessageId
  std::string account, region;
  std::string mailbox;  // the namespace a test scoped it to ("" = none)
  int64_t received_ms = 0;
  std::string via;  // "ses.SendEmail", "sesv2.SendEmail", "smtp", "simulator"
  std::string source;
  std::vector<std::string> destinations;  // every envelope recipient
  std::vector<std::string> delivered;     // those it was delivered to
  std::string configuration_set;
  Json tags = Json::object();  // name -> value
  std::string template_name;
  std::string template_data;
  Json parsed = Json::object();  // subject, from, to, cc, bcc, replyTo, headers, text, html,
                                 // attachments, inlines, messageId, date
  std::string raw;               // filled only when asked for
  int64_t size = 0;
};

struct MessageQuery {
  std::string mailbox;  // "" = every mailbox
  std::string id;
  std::string to;  // a recipient it was delivered to (case-insensitive)
  std::string from;
  std::string subject;  // substring, case-insensitive
  std::string text;     // substring of subject, text or HTML, case-insensitive
  std::optional<int64_t> before_ms, after_ms;
  std::string tag;  // "name" or "name=value"
  std::string configuration_set;
  std::string via;
  int64_t after_seq = 0;
  int64_t limit = 50;  // <= 0: no limit
  int64_t start = 0;
  bool newest_first = true;
};

// The `mail` object of SES event records (source, destination, headers, common headers,
// tags) for a stored message.
Json EventMail(const StoredMessage& message);

class MessageStore {
 public:
  // `post` runs a function on a later loop turn (EventLoop::Post); without it every write
  // goes to SQLite at once.
  static Result<std::unique_ptr<MessageStore>> Open(
      Store& store, std::function<void(std::function<void()>)> post = nullptr);
  // Writes the queued rows now.
  Status Flush();

  Status Insert(StoredMessage& message);  // sets seq
  Result<std::vector<StoredMessage>> Find(const MessageQuery& query, bool with_raw = false);
  Result<int64_t> Count(const MessageQuery& query);
  Result<int64_t> Delete(const MessageQuery& query);
  // Drops messages received before `cutoff_ms`; returns how many.
  Result<int64_t> DropBefore(int64_t cutoff_ms);
  Status Reset();
  int64_t last_seq() const { return last_seq_; }

  // Event records.
  Status AddEvent(const std::string& message_id, const std::string& mailbox,
                  const std::string& type, int64_t time_ms, const std::string& record_json,
                  const Json& destinations);
  Result<Json> Events(const std::string& message_id, const std::string& type,
                      const std::string& mailbox, int64_t limit);
  // Event counts per `bucket_ms` bucket since `since_ms`: [{"bucket", "type", "count"}].
  Result<Json> EventCounts(int64_t since_ms, int64_t bucket_ms);

  // Called after each stored message.
  void SetObserver(std::function<void(const StoredMessage&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  explicit MessageStore(Store& store) : store_(store) {}
  std::string Where(const MessageQuery& query, std::vector<SqlValue>* params) const;
  Status Queue(std::string_view sql, std::vector<SqlValue> params);
  Store& store_;
  std::function<void(std::function<void()>)> post_;
  std::vector<std::pair<std::string_view, std::vector<SqlValue>>> pending_;
  bool flush_posted_ = false;
  int64_t last_seq_ = 0;
  std::function<void(const StoredMessage&)> observer_;
};

}  // namespace understudy::ses
