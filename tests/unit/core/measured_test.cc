#include "core/measured.h"

#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/store.h"
#include "support/status_matchers.h"
#include "unit/core/test_util.h"

namespace understudy {
namespace {

using ::understudy::testing::IsOk;
using ::understudy::testing::TestStart;

class MeasuredInputsTest : public ::testing::Test {
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

  // The journal's entries as the record holds them.
  Json Entries() {
    Json out = Json::array();
    auto entries = journal_->Read(0, 100);
    EXPECT_THAT(entries, IsOk());
    for (const auto& e : *entries) {
      out.push_back(Json{{"kind", e.kind == JournalKind::kInput ? "input" : "other"},
                         {"subject", e.subject},
                         {"detail", e.detail}});
    }
    return out;
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
};

// Proves a measured batch is journalled as an input and used as measured; an empty one
// leaves no entry.
TEST_F(MeasuredInputsTest, MeasuredBatchesAreJournalledInputs) {
  MeasuredInputs measured(*journal_);
  Json batch = Json::array({Json{{"metric", "CPUUtilization"}, {"value", 66.5}}});
  EXPECT_EQ(measured.Take("ecs", TestStart(), batch), batch);
  EXPECT_EQ(measured.Take("alb", TestStart(), Json::array()), Json::array());
  Json entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["subject"], "understudy.measured/ecs");
  EXPECT_EQ(entries[0]["detail"]["values"], batch);
  EXPECT_EQ(entries[0]["detail"]["period"], FormatIso8601(TestStart()));
}

// Proves a replay takes the recorded batch for the same source and period instead of what
// it measures, and journals it, so the two journals agree; a period without a recorded
// batch uses what was measured.
TEST_F(MeasuredInputsTest, ReplayTakesTheRecordedBatch) {
  Json recorded_entries = Json::array(
      {Json{{"kind", "input"}, {"subject", "understudy.clock"}, {"detail", Json::object()}},
       Json{{"kind", "input"},
            {"subject", "understudy.measured/ecs"},
            {"detail",
             {{"source", "ecs"},
              {"period", FormatIso8601(TestStart())},
              {"values", Json::array({Json{{"value", 0.0}}})}}}}});
  Json batches = MeasuredInputs::RecordedIn(recorded_entries);
  ASSERT_EQ(batches.size(), 1u);
  std::string path = ::testing::TempDir() + "/measured.json";
  std::ofstream(path) << batches.dump();

  MeasuredInputs measured(*journal_);
  ASSERT_THAT(measured.LoadRecorded(path), IsOk());
  EXPECT_TRUE(measured.replaying());
  EXPECT_EQ(measured.Take("ecs", TestStart(), Json::array({Json{{"value", 66.7}}})),
            Json::array({Json{{"value", 0.0}}}));
  TimePoint later = TestStart() + std::chrono::minutes(1);
  EXPECT_EQ(measured.Take("ecs", later, Json::array({Json{{"value", 5.0}}})),
            Json::array({Json{{"value", 5.0}}}));
  EXPECT_EQ(Entries()[0]["detail"], batches[0]);
}

// Proves a file that is not an array of batches is refused with what was expected.
TEST_F(MeasuredInputsTest, BadFileIsInvalidArgument) {
  std::string path = ::testing::TempDir() + "/bad-measured.json";
  std::ofstream(path) << "[{\"source\": \"ecs\"}]";
  MeasuredInputs measured(*journal_);
  Status status = measured.LoadRecorded(path);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("each batch must be"));
  EXPECT_FALSE(measured.replaying());
  EXPECT_EQ(measured.LoadRecorded(path + ".missing").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace understudy
