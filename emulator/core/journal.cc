#include "core/journal.h"

#include <cstdio>

namespace understudy {

const char* JournalKindName(JournalKind kind) {
  switch (kind) {
    case JournalKind::kInput:
      return "input";
    case JournalKind::kTransition:
      return "transition";
    case JournalKind::kNote:
      return "note";
  }
  return "note";
}

namespace {

JournalKind KindFromName(const std::string& name) {
  if (name == "input") return JournalKind::kInput;
  if (name == "transition") return JournalKind::kTransition;
  return JournalKind::kNote;
}

}  // namespace

Journal::Journal(EventLoop& loop, Clock& clock, Store& store)
    : loop_(loop), clock_(clock), store_(store) {}

Journal::~Journal() {
  Status status = Flush();
  if (!status.ok()) std::fprintf(stderr, "understudy: journal: %s\n", status.ToString().c_str());
}

Status Journal::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "journal", {"CREATE TABLE journal (seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, "
                  "kind TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL)"}));
  return store_.Query("SELECT COALESCE(MAX(seq), 0) FROM journal", {},
                      [&](const SqlRow& row) { next_seq_ = row.Int(0) + 1; });
}

void Journal::Record(JournalKind kind, std::string subject, Json detail) {
  JournalEntry entry{next_seq_++, clock_.Now(), kind, std::move(subject), std::move(detail)};
  if (observer_) observer_(entry);
  pending_.push_back(std::move(entry));
  if (!flush_posted_) {
    flush_posted_ = true;
    loop_.Post([this] {
      Status status = Flush();
      if (!status.ok())
        std::fprintf(stderr, "understudy: journal: %s\n", status.ToString().c_str());
    });
  }
}

Status Journal::Flush() {
  flush_posted_ = false;
  if (pending_.empty()) return Status::Ok();
  std::vector<JournalEntry> batch;
  batch.swap(pending_);
  return store_.Transaction([&]() -> Status {
    for (const auto& e : batch) {
      US_RETURN_IF_ERROR(store_.Run(
          "INSERT INTO journal(seq, time_us, kind, subject, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
          {e.seq, static_cast<int64_t>(e.time.time_since_epoch().count()),
           std::string(JournalKindName(e.kind)), e.subject,
           e.detail.dump(-1, ' ', false, Json::error_handler_t::replace)}));
    }
    return Status::Ok();
  });
}

Result<std::vector<JournalEntry>> Journal::Read(int64_t after, size_t limit) {
  US_RETURN_IF_ERROR(Flush());
  std::vector<JournalEntry> out;
  Status status = store_.Query(
      "SELECT seq, time_us, kind, subject, detail FROM journal WHERE seq > ?1 ORDER BY seq LIMIT "
      "?2",
      {after, static_cast<int64_t>(limit)}, [&](const SqlRow& row) {
        auto detail = ParseJson(row.Text(4));
        out.push_back(JournalEntry{row.Int(0), TimePoint(Duration(row.Int(1))),
                                   KindFromName(row.Text(2)), row.Text(3),
                                   detail.ok() ? *detail : Json(row.Text(4))});
      });
  if (!status.ok()) return status;
  return out;
}

Status Journal::Clear() {
  pending_.clear();
  return store_.Run("DELETE FROM journal");
}

}  // namespace understudy
