// Journal: the append-only record of every input and state transition, with its clock time.
//
// Inputs are what came from outside (API calls, scenario steps, faults, clock
// moves); transitions are state changes components make. Entries are numbered,
// kept in the store's `journal` table (written in batches on the loop thread),
// and announced to an observer so waits can re-check. Same scenario and seed ⇒
// same journal. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/json.h"
#include "core/store.h"

namespace understudy {

enum class JournalKind { kInput, kTransition, kNote };
const char* JournalKindName(JournalKind kind);  // "input", "transition", "note"

struct JournalEntry {
  int64_t seq = 0;
  TimePoint time;
  JournalKind kind = JournalKind::kNote;
  std::string subject;  // "ecs.CreateCluster", "cluster/web", "clock"
  Json detail;
};

class Journal {
 public:
  Journal(EventLoop& loop, Clock& clock, Store& store);
  ~Journal();
  // Creates the journal table and continues numbering after what it holds.
  Status Open();

  // Appends an entry stamped with the clock's now; written to the store soon.
  void Record(JournalKind kind, std::string subject, Json detail);
  void Input(std::string subject, Json detail) {
    Record(JournalKind::kInput, std::move(subject), std::move(detail));
  }
  void Transition(std::string subject, Json detail) {
    Record(JournalKind::kTransition, std::move(subject), std::move(detail));
  }

  // Writes pending entries now (called at shutdown and before reads).
  Status Flush();
  // Entries with seq > after, oldest first, at most `limit`.
  Result<std::vector<JournalEntry>> Read(int64_t after, size_t limit);
  // Forgets every entry (reset).
  Status Clear();
  int64_t last_seq() const { return next_seq_ - 1; }

  void SetObserver(std::function<void(const JournalEntry&)> fn) { observer_ = std::move(fn); }

 private:
  EventLoop& loop_;
  Clock& clock_;
  Store& store_;
  int64_t next_seq_ = 1;
  std::vector<JournalEntry> pending_;
  bool flush_posted_ = false;
  std::function<void(const JournalEntry&)> observer_;
};

}  // namespace understudy
