#include "core/journal.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/store.h"
#include "support/status_matchers.h"
#include "unit/core/test_util.h"

namespace understudy {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::understudy::testing::IsOk;
using ::understudy::testing::TestStart;

// One stored journal row, read straight from the table.
struct Row {
  int64_t seq;
  int64_t time_us;
  std::string kind;
  std::string subject;
  std::string detail;
  bool operator==(const Row&) const = default;
};

void PrintTo(const Row& r, std::ostream* os) {
  *os << "{" << r.seq << ", " << r.time_us << ", " << r.kind << ", " << r.subject << ", "
      << r.detail << "}";
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClockOptions options;
    options.mode = ClockMode::kVirtual;
    options.start = TestStart();
    clock_ = Clock::Create(loop_, options);
    auto store = Store::Open(":memory:");
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_THAT(journal_->Open(), IsOk());
  }

  // Rows in the journal table, straight from the store.
  std::vector<Row> StoredRows() {
    std::vector<Row> rows;
    EXPECT_THAT(
        store_->Query("SELECT seq, time_us, kind, subject, detail FROM journal ORDER BY seq", {},
                      [&](const SqlRow& r) {
                        rows.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4)});
                      }),
        IsOk());
    return rows;
  }

  void AdvanceBy(Duration d) {
    bool done = false;
    ASSERT_THAT(clock_->AdvanceTo(clock_->Now() + d, [&] { done = true; }), IsOk());
    loop_.RunUntilIdleForTest();
    ASSERT_TRUE(done);
  }

  static int64_t Micros(TimePoint t) { return t.time_since_epoch().count(); }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
};

// Proves the kind names are the ones stored in the table.
TEST(JournalKindTest, Names) {
  EXPECT_STREQ(JournalKindName(JournalKind::kInput), "input");
  EXPECT_STREQ(JournalKindName(JournalKind::kTransition), "transition");
  EXPECT_STREQ(JournalKindName(JournalKind::kNote), "note");
}

// Proves a fresh journal has no entries and numbering starts at 1.
TEST_F(JournalTest, StartsEmpty) {
  EXPECT_EQ(journal_->last_seq(), 0);
  auto entries = journal_->Read(0, 100);
  ASSERT_THAT(entries, IsOk());
  EXPECT_THAT(*entries, IsEmpty());
  EXPECT_EQ(store_->SchemaVersion("journal"), 1);
}

// Proves entries are numbered in order and stamped with the clock's time when recorded.
TEST_F(JournalTest, EntriesNumberedAndStampedWithClockTime) {
  journal_->Input("ecs.CreateCluster", Json{{"clusterName", "web"}});
  AdvanceBy(seconds(90));
  journal_->Transition("cluster/web", Json{{"status", "ACTIVE"}});
  journal_->Record(JournalKind::kNote, "clock", Json{{"advancedTo", "x"}});
  EXPECT_EQ(journal_->last_seq(), 3);

  auto entries = journal_->Read(0, 100);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 3u);
  const auto& e = *entries;
  EXPECT_EQ(e[0].seq, 1);
  EXPECT_EQ(e[0].time, TestStart());
  EXPECT_EQ(e[0].kind, JournalKind::kInput);
  EXPECT_EQ(e[0].subject, "ecs.CreateCluster");
  EXPECT_EQ(e[0].detail, (Json{{"clusterName", "web"}}));
  EXPECT_EQ(e[1].seq, 2);
  EXPECT_EQ(e[1].time, TestStart() + seconds(90));
  EXPECT_EQ(e[1].kind, JournalKind::kTransition);
  EXPECT_EQ(e[1].subject, "cluster/web");
  EXPECT_EQ(e[1].detail, (Json{{"status", "ACTIVE"}}));
  EXPECT_EQ(e[2].seq, 3);
  EXPECT_EQ(e[2].kind, JournalKind::kNote);
  EXPECT_EQ(e[2].subject, "clock");
}

// Proves Flush writes pending entries to the table, with kind names and JSON text.
TEST_F(JournalTest, FlushWritesEntries) {
  journal_->Input("ecs.RunTask", Json{{"count", 2}});
  journal_->Transition("task/abc", Json{{"lastStatus", "PENDING"}});
  EXPECT_THAT(StoredRows(), IsEmpty());  // batched, not yet written
  ASSERT_THAT(journal_->Flush(), IsOk());
  EXPECT_THAT(StoredRows(),
              ElementsAre(Row{1, Micros(TestStart()), "input", "ecs.RunTask", R"({"count":2})"},
                          Row{2, Micros(TestStart()), "transition", "task/abc",
                              R"({"lastStatus":"PENDING"})"}));
  ASSERT_THAT(journal_->Flush(), IsOk());  // nothing pending: no-op
  EXPECT_EQ(StoredRows().size(), 2u);
}

// Proves recording schedules a flush on the loop, so entries reach the table without Flush().
TEST_F(JournalTest, RecordFlushesOnNextLoopTurn) {
  journal_->Input("a", Json::object());
  journal_->Input("b", Json::object());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(StoredRows().size(), 2u);
  journal_->Input("c", Json::object());
  loop_.RunUntilIdleForTest();
  EXPECT_EQ(StoredRows().size(), 3u);
}

// Proves Read returns entries after a sequence number, oldest first, at most `limit`, including
// ones not yet flushed.
TEST_F(JournalTest, ReadReturnsInOrderAfterAndLimit) {
  for (int i = 1; i <= 5; ++i) {
    journal_->Input("call", Json{{"i", i}});
    AdvanceBy(seconds(1));
  }
  auto page = journal_->Read(2, 2);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[0].detail, (Json{{"i", 3}}));
  EXPECT_EQ((*page)[0].time, TestStart() + seconds(2));
  EXPECT_EQ((*page)[1].seq, 4);

  auto rest = journal_->Read(4, 100);
  ASSERT_THAT(rest, IsOk());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].seq, 5);

  auto none = journal_->Read(5, 100);
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(*none, IsEmpty());
}

// Proves a detail that is not an object (string, array, null) survives the round trip.
TEST_F(JournalTest, DetailRoundTripsAnyJson) {
  journal_->Input("s", Json("plain text"));
  journal_->Input("a", Json::array({1, "two", nullptr}));
  journal_->Input("n", Json());
  auto entries = journal_->Read(0, 10);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].detail, Json("plain text"));
  EXPECT_EQ((*entries)[1].detail, Json::array({1, "two", nullptr}));
  EXPECT_EQ((*entries)[2].detail, Json());
}

// Proves a journal reopened on the same store continues numbering after what it holds, and the
// old entries stay readable.
TEST_F(JournalTest, ReopenContinuesNumbering) {
  journal_->Input("one", Json::object());
  journal_->Input("two", Json::object());
  journal_->Input("three", Json::object());
  journal_.reset();  // flushes in its destructor

  Journal reopened(loop_, *clock_, *store_);
  ASSERT_THAT(reopened.Open(), IsOk());
  EXPECT_EQ(reopened.last_seq(), 3);
  reopened.Input("four", Json::object());
  auto entries = reopened.Read(0, 10);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].subject, "one");
  EXPECT_EQ((*entries)[3].seq, 4);
  EXPECT_EQ((*entries)[3].subject, "four");
}

// Proves the observer sees each entry, numbered and stamped, as it is recorded.
TEST_F(JournalTest, ObserverCalledForEachEntry) {
  std::vector<JournalEntry> seen;
  journal_->SetObserver([&](const JournalEntry& e) { seen.push_back(e); });
  journal_->Input("ecs.CreateService", Json{{"serviceName", "api"}});
  ASSERT_EQ(seen.size(), 1u);  // synchronously, not on a later loop turn
  AdvanceBy(seconds(5));
  journal_->Transition("service/api", Json{{"status", "ACTIVE"}});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].seq, 1);
  EXPECT_EQ(seen[0].kind, JournalKind::kInput);
  EXPECT_EQ(seen[0].subject, "ecs.CreateService");
  EXPECT_EQ(seen[0].detail, (Json{{"serviceName", "api"}}));
  EXPECT_EQ(seen[0].time, TestStart());
  EXPECT_EQ(seen[1].seq, 2);
  EXPECT_EQ(seen[1].kind, JournalKind::kTransition);
  EXPECT_EQ(seen[1].time, TestStart() + seconds(5));
}

// Proves Clear forgets stored and still-pending entries.
TEST_F(JournalTest, ClearForgetsEntries) {
  journal_->Input("flushed", Json::object());
  ASSERT_THAT(journal_->Flush(), IsOk());
  journal_->Input("pending", Json::object());
  ASSERT_THAT(journal_->Clear(), IsOk());
  loop_.RunUntilIdleForTest();
  EXPECT_THAT(StoredRows(), IsEmpty());
  auto entries = journal_->Read(0, 10);
  ASSERT_THAT(entries, IsOk());
  EXPECT_THAT(*entries, IsEmpty());
}

}  // namespace
}  // namespace understudy
