// The message store: raw bytes kept exactly, filters, deletion, events (SQLite in memory).
#include "ses/message_store.h"

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

StoredMessage Message(const std::string& id, int64_t at, const std::string& to,
                      const std::string& subject) {
  StoredMessage m;
  m.id = id;
  m.account = "000000000000";
  m.region = "us-east-1";
  m.received_ms = at;
  m.via = "smtp";
  m.source = "noreply@example.org";
  m.destinations = {to};
  m.delivered = {to};
  m.parsed = Json{{"subject", subject},
                  {"text", "Your code is 1234"},
                  {"html", ""},
                  {"from", {{{"name", ""}, {"address", "noreply@example.org"}}}}};
  m.raw = "Subject: " + subject + "\r\n\r\n" + std::string("\x00\xff\r\n", 4);
  return m;
}

// Filters combine; raw bytes come back byte for byte; the observer hears each insert.
TEST(MessageStoreTest, InsertFindDelete) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  auto messages = MessageStore::Open(**store);
  ASSERT_TRUE(messages.ok()) << messages.status().message();
  int seen = 0;
  (*messages)->SetObserver([&](const StoredMessage&) { ++seen; });
  auto a = Message("a", 1000, "Ada@Example.org", "Welcome");
  auto b = Message("b", 2000, "bob@example.org", "Reset your password");
  b.tags = Json{{"campaign", "reset"}};
  b.mailbox = "test-1";
  ASSERT_TRUE((*messages)->Insert(a).ok());
  ASSERT_TRUE((*messages)->Insert(b).ok());
  EXPECT_EQ(seen, 2);
  MessageQuery q;
  q.to = "ada@example.org";
  auto found = (*messages)->Find(q, true);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().raw, a.raw);
  MessageQuery text;
  text.text = "PASSWORD";
  EXPECT_EQ((*messages)->Count(text).value(), 1);
  MessageQuery tag;
  tag.tag = "campaign=reset";
  EXPECT_EQ((*messages)->Count(tag).value(), 1);
  tag.tag = "campaign=other";
  EXPECT_EQ((*messages)->Count(tag).value(), 0);
  MessageQuery mailbox;
  mailbox.mailbox = "test-1";
  EXPECT_EQ((*messages)->Count(mailbox).value(), 1);
  MessageQuery after;
  after.after_ms = 1500;
  EXPECT_EQ((*messages)->Count(after).value(), 1);
  MessageQuery all;
  auto newest = (*messages)->Find(all);
  EXPECT_EQ(newest->front().id, "b");
  MessageQuery del;
  del.from = "noreply@example.org";
  del.subject = "welcome";
  EXPECT_EQ((*messages)->Delete(del).value(), 1);
  EXPECT_EQ((*messages)->Count(all).value(), 1);
  EXPECT_EQ((*messages)->DropBefore(3000).value(), 1);
  EXPECT_EQ((*messages)->Count(all).value(), 0);
}

}  // namespace
}  // namespace understudy::ses

namespace understudy::ses {
namespace {

// Writes are queued for the next loop turn, but every read sees them first.
TEST(MessageStoreTest, BatchedWritesAreVisibleToReads) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  std::vector<std::function<void()>> posted;
  auto messages =
      MessageStore::Open(**store, [&](std::function<void()> fn) { posted.push_back(fn); });
  ASSERT_TRUE(messages.ok());
  auto a = Message("a", 1000, "ada@example.org", "One");
  auto b = Message("b", 1001, "ada@example.org", "Two");
  ASSERT_TRUE((*messages)->Insert(a).ok());
  ASSERT_TRUE((*messages)->Insert(b).ok());
  EXPECT_EQ(a.seq, 1);
  EXPECT_EQ(b.seq, 2);
  EXPECT_EQ(posted.size(), 1u);  // one flush for the batch
  int64_t rows = -1;
  ASSERT_TRUE((*store)
                  ->Query("SELECT COUNT(*) FROM ses_messages", {},
                          [&](const SqlRow& r) { rows = r.Int(0); })
                  .ok());
  EXPECT_EQ(rows, 0);  // not written yet
  MessageQuery q;
  EXPECT_EQ((*messages)->Count(q).value(), 2);  // the read flushed
  posted[0]();                                  // the posted flush finds nothing left
  EXPECT_EQ((*messages)->Count(q).value(), 2);
  EXPECT_EQ((*messages)->last_seq(), 2);
}

}  // namespace
}  // namespace understudy::ses
