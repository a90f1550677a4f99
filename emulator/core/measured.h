// MeasuredInputs: values the emulator measures from the real world — a task's CPU and
// memory use, a target's response time — that feed its decisions (alarms, scaling).
// They follow the machine, not the seed, so each batch is journalled as an input
// ("understudy.measured/<source>"), and a replay (`serve --measured FILE`, written by
// `understudy replay` from the record) takes the recorded batches instead of what it
// measures: the same scenario and seed then decide the same way. Loop thread only.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "core/journal.h"
#include "core/json.h"
#include "core/status.h"
#include "core/time.h"

namespace understudy {

class MeasuredInputs {
 public:
  explicit MeasuredInputs(Journal& journal) : journal_(journal) {}

  // Reads recorded batches: a JSON array of the journal entries' details. After this,
  // Take answers with them.
  Status LoadRecorded(const std::string& path);
  bool replaying() const { return replaying_; }

  // The batch `source` measured for the period starting at `period` (an array of
  // values, any shape the source publishes from): the recorded one when replaying and
  // there is one, else `measured`. Journalled either way (nothing when empty).
  Json Take(const std::string& source, TimePoint period, Json measured);

  // The details of the measured inputs among a journal's entries, in order: what
  // LoadRecorded reads.
  static Json RecordedIn(const Json& journal_entries);

 private:
  Journal& journal_;
  bool replaying_ = false;
  std::map<std::pair<std::string, std::string>, Json> recorded_;  // (source, period) -> values
};

}  // namespace understudy
