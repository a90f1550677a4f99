#include "core/store.h"

#include <sqlite3.h>

namespace understudy {

int64_t SqlRow::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqlRow::Real(int column) const { return sqlite3_column_double(stmt_, column); }
bool SqlRow::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::string SqlRow::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IoError("cannot open state database " + path + ": " + reason);
  }
  std::unique_ptr<Store> store(new Store(db, path));
  sqlite3_busy_timeout(db, 5000);
  // A checkpoint (the one fsync of WAL mode with synchronous=NORMAL) every 8192 pages
  // rather than SQLite's 1000: a virtual month of schedule firings spent most of its
  // wall time in checkpoints. The WAL grows to about 32 MiB between them.
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
      "PRAGMA wal_autocheckpoint=8192;"
      "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER "
      "NOT NULL);";
  Status status = store->Exec(setup);
  if (!status.ok()) {
    return Status::IoError("cannot initialise state database " + path + ": " + status.message());
  }
  return store;
}

Store::~Store() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Store::Error(std::string_view what) const {
  return Status::IoError(std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Store::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return Status::IoError(message);
  }
  return Status::Ok();
}

Result<sqlite3_stmt*> Store::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, key.c_str(), static_cast<int>(key.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return Error("cannot prepare '" + key + "'");
  }
  statements_.emplace(std::move(key), stmt);
  return stmt;
}

namespace {

void Bind(sqlite3_stmt* stmt, const std::vector<SqlValue>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    const SqlValue& value = params[i];
    if (std::holds_alternative<std::nullptr_t>(value)) {
      sqlite3_bind_null(stmt, index);
    } else if (auto* n = std::get_if<int64_t>(&value)) {
      sqlite3_bind_int64(stmt, index, *n);
    } else if (auto* d = std::get_if<double>(&value)) {
      sqlite3_bind_double(stmt, index, *d);
    } else {
      const std::string& s = std::get<std::string>(value);
      sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  }
}

}  // namespace

Status Store::Run(std::string_view sql, const std::vector<SqlValue>& params) {
  return Query(sql, params, [](const SqlRow&) {});
}

Status Store::Query(std::string_view sql, const std::vector<SqlValue>& params,
                    const std::function<void(const SqlRow&)>& row) {
  US_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  Bind(stmt, params);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      row(SqlRow(stmt));
    } else if (rc == SQLITE_DONE) {
      break;
    } else {
      Status status = Error("'" + std::string(sql) + "' failed");
      sqlite3_reset(stmt);
      return status;
    }
  }
  sqlite3_reset(stmt);
  return Status::Ok();
}

Status Store::Transaction(const std::function<Status()>& body) {
  if (in_transaction_) return body();
  US_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  in_transaction_ = true;
  Status status = body();
  in_transaction_ = false;
  if (!status.ok()) {
    (void)Exec("ROLLBACK");
    return status;
  }
  Status commit = Exec("COMMIT");
  if (!commit.ok()) (void)Exec("ROLLBACK");
  return commit;
}

int Store::SchemaVersion(std::string_view component) {
  int version = 0;
  (void)Query("SELECT version FROM schema_versions WHERE component = ?1", {std::string(component)},
              [&](const SqlRow& r) { version = static_cast<int>(r.Int(0)); });
  return version;
}

Status Store::Migrate(std::string_view component, const std::vector<std::string>& steps) {
  int version = SchemaVersion(component);
  if (version > static_cast<int>(steps.size())) {
    return Status::FailedPrecondition(
        "the state dir's " + std::string(component) + " schema is version " +
        std::to_string(version) + ", newer than this understudy knows (" +
        std::to_string(steps.size()) + "); use a newer understudy or a fresh --state-dir");
  }
  for (size_t i = static_cast<size_t>(version); i < steps.size(); ++i) {
    US_RETURN_IF_ERROR(Transaction([&]() -> Status {
      Status step = Exec(steps[i].c_str());
      if (!step.ok()) {
        return Status::IoError(std::string(component) + " migration " + std::to_string(i + 1) +
                               " failed: " + step.message());
      }
      return Run(
          "INSERT INTO schema_versions(component, version) VALUES(?1, ?2) "
          "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
          {std::string(component), static_cast<int64_t>(i + 1)});
    }));
  }
  return Status::Ok();
}

int64_t Store::changes() const { return sqlite3_changes64(db_); }

}  // namespace understudy
