// Store: the SQLite database that holds every resource, so nothing is lost.
//
// One file under --state-dir (WAL mode), or ":memory:" for unit tests. Each
// component owns its tables and creates them through Migrate() with its own
// schema version; components never read each other's tables. Prepared
// statements are cached per SQL text. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace understudy {

// A bound parameter or a column value.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// One result row; valid only inside the Query callback.
class SqlRow {
 public:
  explicit SqlRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  int64_t Int(int column) const;
  double Real(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

class Store {
 public:
  // Opens (creating if needed) the database at `path`, in WAL mode with foreign
  // keys on. IoError names the path and SQLite's reason.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs one statement with `params` bound to ?1, ?2, ...
  Status Run(std::string_view sql, const std::vector<SqlValue>& params = {});
  // Runs one query, calling `row` for each result row.
  Status Query(std::string_view sql, const std::vector<SqlValue>& params,
               const std::function<void(const SqlRow&)>& row);
  // Runs `body` in a transaction: committed when it returns OK, rolled back
  // otherwise (and its Status returned). Transactions do not nest.
  Status Transaction(const std::function<Status()>& body);

  // Brings `component`'s tables to the latest version: applies steps[v..] where v
  // is the stored version, each step in its own transaction with the version
  // bump. A stored version newer than the steps known is FailedPrecondition (a
  // state dir written by a newer understudy).
  Status Migrate(std::string_view component, const std::vector<std::string>& steps);
  // The stored schema version of `component` (0 when it has none).
  int SchemaVersion(std::string_view component);

  const std::string& path() const { return path_; }
  int64_t changes() const;

 private:
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
  Status Exec(const char* sql);
  Status Error(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  bool in_transaction_ = false;
};

}  // namespace understudy
