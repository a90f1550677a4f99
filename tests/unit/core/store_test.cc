#include "core/store.h"

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy {
namespace {

using ::testing::ElementsAre;
using ::understudy::testing::IsOk;
using ::understudy::testing::StatusIs;

// A fresh directory under the system temp dir, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "core_store_test.XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  auto store = Store::Open(path);
  EXPECT_THAT(store, IsOk());
  return store.ok() ? std::move(store).value() : nullptr;
}

// One-column text query, for checks.
std::vector<std::string> Strings(Store& store, const std::string& sql,
                                 const std::vector<SqlValue>& params = {}) {
  std::vector<std::string> out;
  EXPECT_THAT(store.Query(sql, params, [&](const SqlRow& row) { out.push_back(row.Text(0)); }),
              IsOk());
  return out;
}

int64_t Count(Store& store, const std::string& table) {
  int64_t n = -1;
  EXPECT_THAT(
      store.Query("SELECT COUNT(*) FROM " + table, {}, [&](const SqlRow& row) { n = row.Int(0); }),
      IsOk());
  return n;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(":memory:");
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> store_;
};

// Proves an in-memory store opens, knows its path and has foreign keys enforced.
TEST_F(StoreTest, OpensInMemoryWithForeignKeys) {
  EXPECT_EQ(store_->path(), ":memory:");
  EXPECT_THAT(Strings(*store_, "PRAGMA foreign_keys"), ElementsAre("1"));
  ASSERT_THAT(store_->Run("CREATE TABLE parent (id INTEGER PRIMARY KEY)"), IsOk());
  ASSERT_THAT(store_->Run("CREATE TABLE child (parent INTEGER REFERENCES parent(id))"), IsOk());
  Status status = store_->Run("INSERT INTO child(parent) VALUES(?1)", {int64_t{7}});
  EXPECT_THAT(status, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(status.message(),
            "'INSERT INTO child(parent) VALUES(?1)' failed: FOREIGN KEY constraint failed");
}

// Proves a store in a file uses WAL mode and keeps its data across reopening.
TEST(StoreFileTest, FileStoreUsesWalAndPersists) {
  TempDir dir;
  std::string path = dir.path() + "/state.db";
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->path(), path);
    EXPECT_THAT(Strings(*store, "PRAGMA journal_mode"), ElementsAre("wal"));
    ASSERT_THAT(store->Migrate("things", {"CREATE TABLE things (name TEXT)"}), IsOk());
    ASSERT_THAT(store->Run("INSERT INTO things(name) VALUES(?1)", {std::string("kept")}), IsOk());
    EXPECT_TRUE(std::filesystem::exists(path));
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  }
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_THAT(Strings(*reopened, "PRAGMA journal_mode"), ElementsAre("wal"));
  EXPECT_THAT(Strings(*reopened, "SELECT name FROM things"), ElementsAre("kept"));
  EXPECT_EQ(reopened->SchemaVersion("things"), 1);
}

// Proves opening a database where no file can be created is IoError naming the path and reason.
TEST(StoreFileTest, OpenUnwritablePathIsIoError) {
  TempDir dir;
  std::string path = dir.path() + "/missing/dir/state.db";
  auto store = Store::Open(path);
  EXPECT_THAT(store, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(store.status().message(),
            "cannot open state database " + path + ": unable to open database file");
}

// Proves Migrate applies every step once, in order, and records the version.
TEST_F(StoreTest, MigrateAppliesStepsOnceAndRecordsVersion) {
  EXPECT_EQ(store_->SchemaVersion("ecs"), 0);
  std::vector<std::string> steps = {
      "CREATE TABLE clusters (name TEXT PRIMARY KEY)",
      "INSERT INTO clusters(name) VALUES('default')",
  };
  ASSERT_THAT(store_->Migrate("ecs", steps), IsOk());
  EXPECT_EQ(store_->SchemaVersion("ecs"), 2);
  EXPECT_THAT(Strings(*store_, "SELECT name FROM clusters"), ElementsAre("default"));

  // Re-running is a no-op: the INSERT step would otherwise fail on the primary key.
  ASSERT_THAT(store_->Migrate("ecs", steps), IsOk());
  EXPECT_EQ(store_->SchemaVersion("ecs"), 2);
  EXPECT_EQ(Count(*store_, "clusters"), 1);
}

// Proves adding a step to a migrated component applies only the new step.
TEST_F(StoreTest, MigrateAppliesOnlyNewSteps) {
  std::vector<std::string> steps = {"CREATE TABLE t (id INTEGER PRIMARY KEY)",
                                    "INSERT INTO t(id) VALUES(1)"};
  ASSERT_THAT(store_->Migrate("c", steps), IsOk());
  steps.push_back("INSERT INTO t(id) VALUES(2)");
  ASSERT_THAT(store_->Migrate("c", steps), IsOk());
  EXPECT_EQ(store_->SchemaVersion("c"), 3);
  EXPECT_THAT(Strings(*store_, "SELECT id FROM t ORDER BY id"), ElementsAre("1", "2"));
}

// Proves components are versioned independently.
TEST_F(StoreTest, ComponentsHaveIndependentVersions) {
  ASSERT_THAT(store_->Migrate("a", {"CREATE TABLE a1 (x)", "CREATE TABLE a2 (x)"}), IsOk());
  ASSERT_THAT(store_->Migrate("b", {"CREATE TABLE b1 (x)"}), IsOk());
  EXPECT_EQ(store_->SchemaVersion("a"), 2);
  EXPECT_EQ(store_->SchemaVersion("b"), 1);
  EXPECT_EQ(store_->SchemaVersion("c"), 0);
}

// Proves a stored version newer than the steps known is FailedPrecondition with its exact text.
TEST_F(StoreTest, NewerStoredVersionIsFailedPrecondition) {
  ASSERT_THAT(
      store_->Migrate("ecs", {"CREATE TABLE t1 (x)", "CREATE TABLE t2 (x)", "CREATE TABLE t3 (x)"}),
      IsOk());
  Status status = store_->Migrate("ecs", {"CREATE TABLE t1 (x)", "CREATE TABLE t2 (x)"});
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(status.message(),
            "the state dir's ecs schema is version 3, newer than this understudy knows (2); use a "
            "newer understudy or a fresh --state-dir");
  EXPECT_EQ(store_->SchemaVersion("ecs"), 3);
}

// Proves a failing step is IoError naming the component and step, is rolled back with its version
// bump, and leaves earlier steps applied.
TEST_F(StoreTest, FailingMigrationStepRollsBack) {
  std::vector<std::string> steps = {
      "CREATE TABLE a (x)",
      "CREATE TABLE b (x); INSERT INTO nowhere VALUES(1)",
  };
  Status status = store_->Migrate("m", steps);
  EXPECT_THAT(status, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(status.message(), "m migration 2 failed: no such table: nowhere");
  EXPECT_EQ(store_->SchemaVersion("m"), 1);
  EXPECT_THAT(Strings(*store_,
                      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                      "('a', 'b') ORDER BY name"),
              ElementsAre("a"));

  steps[1] = "CREATE TABLE b (x)";
  ASSERT_THAT(store_->Migrate("m", steps), IsOk());
  EXPECT_EQ(store_->SchemaVersion("m"), 2);
}

// Proves a transaction is committed when its body returns OK.
TEST_F(StoreTest, TransactionCommitsOnOk) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (x INTEGER)"), IsOk());
  ASSERT_THAT(store_->Transaction([&] {
    US_RETURN_IF_ERROR(store_->Run("INSERT INTO t VALUES(1)"));
    return store_->Run("INSERT INTO t VALUES(2)");
  }),
              IsOk());
  EXPECT_EQ(Count(*store_, "t"), 2);
}

// Proves a transaction is rolled back when its body fails, and the body's Status is returned as
// is.
TEST_F(StoreTest, TransactionRollsBackOnError) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (x INTEGER)"), IsOk());
  Status status = store_->Transaction([&] {
    EXPECT_THAT(store_->Run("INSERT INTO t VALUES(1)"), IsOk());
    return Status::NotFound("cluster web not found");
  });
  EXPECT_THAT(status, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(status.message(), "cluster web not found");
  EXPECT_EQ(Count(*store_, "t"), 0);

  // The store is usable afterwards and a new transaction works.
  ASSERT_THAT(store_->Transaction([&] { return store_->Run("INSERT INTO t VALUES(3)"); }), IsOk());
  EXPECT_EQ(Count(*store_, "t"), 1);
}

// Proves a transaction started inside another joins it: an inner failure passed up rolls back
// everything.
TEST_F(StoreTest, NestedTransactionJoinsOuter) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (x INTEGER)"), IsOk());
  Status status = store_->Transaction([&] {
    US_RETURN_IF_ERROR(store_->Run("INSERT INTO t VALUES(1)"));
    return store_->Transaction([&] {
      EXPECT_THAT(store_->Run("INSERT INTO t VALUES(2)"), IsOk());
      return Status::Internal("inner failed");
    });
  });
  EXPECT_THAT(status, StatusIs(StatusCode::kInternal));
  EXPECT_EQ(Count(*store_, "t"), 0);
}

// Proves Query binds null, integer, real and text parameters (text with an embedded NUL) and
// reads each back with its type.
TEST_F(StoreTest, QueryBindsEveryValueKind) {
  ASSERT_THAT(store_->Run("CREATE TABLE v (n, i, r, s)"), IsOk());
  const int64_t big = std::numeric_limits<int64_t>::max();
  const std::string text("a\0b'\"é", 7);
  ASSERT_THAT(store_->Run("INSERT INTO v VALUES(?1, ?2, ?3, ?4)", {nullptr, big, 2.5, text}),
              IsOk());
  int rows = 0;
  ASSERT_THAT(store_->Query("SELECT n, i, r, s, typeof(n), typeof(i), typeof(r), typeof(s) FROM v "
                            "WHERE i = ?1 AND r = ?2 AND s = ?3 AND n IS ?4",
                            {big, 2.5, text, nullptr},
                            [&](const SqlRow& row) {
                              ++rows;
                              EXPECT_TRUE(row.IsNull(0));
                              EXPECT_EQ(row.Text(0), "");
                              EXPECT_FALSE(row.IsNull(1));
                              EXPECT_EQ(row.Int(1), big);
                              EXPECT_DOUBLE_EQ(row.Real(2), 2.5);
                              EXPECT_EQ(row.Text(3), text);
                              EXPECT_EQ(row.Text(4), "null");
                              EXPECT_EQ(row.Text(5), "integer");
                              EXPECT_EQ(row.Text(6), "real");
                              EXPECT_EQ(row.Text(7), "text");
                            }),
              IsOk());
  EXPECT_EQ(rows, 1);
}

// Proves a cached statement is reset between uses: rows are re-read and bindings from the
// previous call do not leak into the next.
TEST_F(StoreTest, CachedStatementsStartFresh) {
  std::vector<std::string> first =
      Strings(*store_, "SELECT coalesce(?1, 'unset') || coalesce(?2, 'unset')",
              {std::string("a"), std::string("b")});
  EXPECT_THAT(first, ElementsAre("ab"));
  std::vector<std::string> second =
      Strings(*store_, "SELECT coalesce(?1, 'unset') || coalesce(?2, 'unset')", {std::string("c")});
  EXPECT_THAT(second, ElementsAre("cunset"));
}

// Proves a query with no rows succeeds without calling the row callback.
TEST_F(StoreTest, QueryWithNoRows) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (x)"), IsOk());
  bool called = false;
  EXPECT_THAT(store_->Query("SELECT x FROM t", {}, [&](const SqlRow&) { called = true; }), IsOk());
  EXPECT_FALSE(called);
}

// Proves invalid SQL is IoError quoting the statement and SQLite's reason.
TEST_F(StoreTest, InvalidSqlIsIoError) {
  Status status = store_->Run("SELEC 1");
  EXPECT_THAT(status, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(status.message(), "cannot prepare 'SELEC 1': near \"SELEC\": syntax error");
}

// Proves a failing step is IoError quoting the statement and SQLite's reason, and the statement
// stays usable afterwards.
TEST_F(StoreTest, ConstraintViolationIsIoError) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (id INTEGER PRIMARY KEY)"), IsOk());
  const std::string insert = "INSERT INTO t(id) VALUES(?1)";
  ASSERT_THAT(store_->Run(insert, {int64_t{1}}), IsOk());
  Status status = store_->Run(insert, {int64_t{1}});
  EXPECT_THAT(status, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(status.message(),
            "'INSERT INTO t(id) VALUES(?1)' failed: UNIQUE constraint failed: t.id");
  EXPECT_THAT(store_->Run(insert, {int64_t{2}}), IsOk());
  EXPECT_EQ(Count(*store_, "t"), 2);
}

// Proves changes() reports the rows the last statement changed.
TEST_F(StoreTest, ChangesCountsRows) {
  ASSERT_THAT(store_->Run("CREATE TABLE t (x INTEGER)"), IsOk());
  ASSERT_THAT(store_->Run("INSERT INTO t VALUES(1), (2), (3)"), IsOk());
  EXPECT_EQ(store_->changes(), 3);
  ASSERT_THAT(store_->Run("UPDATE t SET x = x + 10 WHERE x >= ?1", {int64_t{2}}), IsOk());
  EXPECT_EQ(store_->changes(), 2);
}

}  // namespace
}  // namespace understudy
