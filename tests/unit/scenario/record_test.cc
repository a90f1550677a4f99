// Records and replays: the journal comparison (first divergence, both sides, what is
// ignored), random draw counts, the record file's round trip, and scenario inputs
// ($file, $env) captured at record time and served back on replay.
#include "scenario/record.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace understudy::scenario {
namespace {

Json Entry(int seq, const std::string& subject, Json detail,
           const std::string& time = "2026-11-23T08:00:00.000Z") {
  return Json{{"seq", seq},
              {"time", time},
              {"kind", "transition"},
              {"subject", subject},
              {"detail", std::move(detail)}};
}

Json Journal() {
  return Json::array(
      {Entry(1, "understudy.serve", {{"seed", 7}}),
       Entry(2, "ecs.CreateCluster", {{"input", {{"clusterName", "web"}}}}),
       Entry(3, "task/1", {{"lastStatus", "RUNNING"}, {"pid", 4242}}, "2026-11-23T08:00:05.000Z")});
}

TEST(RecordTest, IdenticalJournalsDoNotDiverge) {
  EXPECT_FALSE(CompareJournals(Journal(), Journal()).has_value());
  EXPECT_FALSE(CompareJournals(Json::array(), Json::array()).has_value());
}

TEST(RecordTest, TheFirstDifferingEntryIsReportedWithBothSides) {
  Json replayed = Journal();
  replayed[1]["detail"]["input"]["clusterName"] = "api";
  replayed[2]["detail"]["lastStatus"] = "STOPPED";
  auto d = CompareJournals(Journal(), replayed);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 1u);
  EXPECT_EQ(d->recorded["detail"]["input"]["clusterName"], "web");
  EXPECT_EQ(d->replayed["detail"]["input"]["clusterName"], "api");
  std::string text = FormatDivergence(*d);
  EXPECT_NE(text.find("first divergence at journal index 1"), std::string::npos) << text;
  EXPECT_NE(text.find("recorded: seq 2, virtual 2026-11-23T08:00:00.000Z"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\"clusterName\":\"web\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"clusterName\":\"api\""), std::string::npos) << text;
}

TEST(RecordTest, VirtualTimesAndOrderMatter) {
  Json later = Journal();
  later[2]["time"] = "2026-11-23T08:00:06.000Z";
  auto d = CompareJournals(Journal(), later);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 2u);

  Json swapped = Journal();
  std::swap(swapped[1], swapped[2]);
  d = CompareJournals(Journal(), swapped);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 1u);
}

TEST(RecordTest, MachineMembersAreIgnored) {
  Json replayed = Journal();
  replayed[2]["detail"]["pid"] = 9999;  // another process id on another run
  EXPECT_FALSE(CompareJournals(Journal(), replayed).has_value());
  replayed[2]["detail"]["nested"] = {{"localPort", 1234}};
  Json recorded = Journal();
  recorded[2]["detail"]["nested"] = {{"localPort", 5678}};
  EXPECT_FALSE(CompareJournals(recorded, replayed).has_value());
}

// Apps' inputs (AWS calls from the wire, SMTP mail) are left out on both sides;
// scenario calls (via /_understudy/call) and the runner's clock moves are not.
TEST(RecordTest, AppInputsAreLeftOut) {
  Json app_call{{"seq", 9},
                {"time", "2026-11-23T08:00:07.000Z"},
                {"kind", "input"},
                {"subject", "sesv2.SendEmail"},
                {"detail", {{"account", "000000000000"}, {"input", {{"x", 1}}}}}};
  Json smtp = app_call;
  smtp["subject"] = "ses.smtp";
  smtp["detail"] = {{"mailFrom", "a@b"}};
  EXPECT_TRUE(IsAppInput(app_call));
  EXPECT_TRUE(IsAppInput(smtp));
  Json scenario_call = app_call;
  scenario_call["detail"]["via"] = "call";
  EXPECT_FALSE(IsAppInput(scenario_call));
  EXPECT_FALSE(IsAppInput(Entry(1, "understudy.clock", {{"from", "a"}})));
  EXPECT_FALSE(IsAppInput(Entry(2, "task/1", {{"input", 1}})));  // a transition

  Json with_app = Journal();
  with_app.insert(with_app.begin() + 2, app_call);
  with_app.push_back(smtp);
  with_app[3]["seq"] = 4;  // numbering counts the app's call
  EXPECT_FALSE(CompareJournals(Journal(), with_app).has_value());
  EXPECT_FALSE(CompareJournals(with_app, Journal()).has_value());

  Json with_call = Journal();
  with_call.push_back(scenario_call);
  auto d = CompareJournals(Journal(), with_call);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 3u);
  EXPECT_EQ(d->what, "the replay has more entries (4 against 3 recorded)");
}

TEST(RecordTest, ShorterAndLongerReplays) {
  Json shorter = Journal();
  shorter.erase(2);
  auto d = CompareJournals(Journal(), shorter);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 2u);
  EXPECT_EQ(d->what, "the replay has fewer entries (2 against 3 recorded)");
  EXPECT_TRUE(d->replayed.is_null());
  EXPECT_NE(FormatDivergence(*d).find("replayed: (none)"), std::string::npos);

  d = CompareJournals(shorter, Journal());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->what, "the replay has more entries (3 against 2 recorded)");
  EXPECT_TRUE(d->recorded.is_null());
}

TEST(RecordTest, RandomDraws) {
  Json a{{"ecs", 40}, {"request-ids", 12}};
  EXPECT_FALSE(CompareDraws(a, a).has_value());
  Json b{{"ecs", 41}, {"request-ids", 12}};
  EXPECT_EQ(CompareDraws(a, b).value_or(""), "random stream 'ecs': 40 draws recorded, 41 replayed");
  Json c{{"ecs", 40}, {"request-ids", 12}, {"ses", 3}};
  EXPECT_EQ(CompareDraws(a, c).value_or(""), "random stream 'ses': 0 draws recorded, 3 replayed");
  // Worker threads' streams are compared as their sum.
  Json workers{{"alb-worker-0", 5}, {"alb-worker-1", 3}, {"ecs", 1}};
  Json shuffled{{"alb-worker-0", 2}, {"alb-worker-1", 6}, {"ecs", 1}};
  EXPECT_FALSE(CompareDraws(workers, shuffled).has_value());
  Json more{{"alb-worker-0", 2}, {"alb-worker-1", 7}, {"ecs", 1}};
  EXPECT_EQ(CompareDraws(workers, more).value_or(""),
            "random stream 'alb-worker-*': 8 draws recorded, 9 replayed");
}

TEST(RecordTest, InputsAreCapturedAndServedBack) {
  auto dir = std::filesystem::temp_directory_path() / "record_test_inputs";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "taskdefs");
  std::ofstream(dir / "taskdefs" / "web.json")
      << R"({"family": "web", "command": [{"$env": "RECORD_TEST_APP"}]})";
  ::setenv("RECORD_TEST_APP", "/opt/app", 1);
  std::string file = (dir / "s.json").string();
  std::ofstream(file) << R"({"seed": 3, "steps": [{"call": {"service": "ecs",
    "operation": "RegisterTaskDefinition", "input": {"$file": "taskdefs/web.json"}}}]})";

  RecordSource source;
  auto recorded = LoadForRecord(file, nullptr, &source);
  ASSERT_TRUE(recorded.ok()) << recorded.status().message();
  EXPECT_EQ(source.inputs.files.count("taskdefs/web.json"), 1u);
  EXPECT_EQ(source.inputs.env.at("RECORD_TEST_APP"), "/opt/app");

  ScenarioResult result;
  result.name = recorded->name;
  result.seed = 3;
  result.virtual_start = "2026-11-23T08:00:00.000Z";
  result.journal = Journal();
  result.random_draws = Json{{"ecs", 5}};
  std::string record = (dir / "run.journal").string();
  ASSERT_TRUE(WriteRecord(record, source, RunnerOptions{}, result).ok());

  // Neither the files nor the environment are needed any more.
  std::filesystem::remove_all(dir / "taskdefs");
  std::filesystem::remove(file);
  ::setenv("RECORD_TEST_APP", "/somewhere/else", 1);
  auto read = ReadRecord(record);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->seed, 3u);
  ASSERT_TRUE(read->start.has_value());
  EXPECT_EQ(FormatIso8601(*read->start), "2026-11-23T08:00:00.000Z");
  EXPECT_EQ(read->journal, Journal());
  EXPECT_EQ(read->random_draws, (Json{{"ecs", 5}}));
  auto replayed =
      ParseScenario(read->source.file, read->source.text, nullptr, &read->source.inputs);
  ASSERT_TRUE(replayed.ok()) << replayed.status().message();
  EXPECT_EQ(replayed->steps[0].call.input, recorded->steps[0].call.input);
  EXPECT_EQ(replayed->steps[0].call.input["command"][0], "/opt/app");

  // One journal entry per line.
  std::ifstream in(record);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 3 + Journal().size());  // header, "journal": [, entries, ]}
  ::unsetenv("RECORD_TEST_APP");
  std::filesystem::remove_all(dir);
}

TEST(RecordTest, BadRecordsSayWhatIsWrong) {
  auto dir = std::filesystem::temp_directory_path() / "record_test_bad";
  std::filesystem::create_directories(dir);
  std::string file = (dir / "x.journal").string();
  std::ofstream(file) << "{\"format\": \"something-else\"}";
  auto read = ReadRecord(file);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("not a record"), std::string::npos);
  std::ofstream(file, std::ios::trunc) << "not json";
  EXPECT_FALSE(ReadRecord(file).ok());
  EXPECT_FALSE(ReadRecord((dir / "none.journal").string()).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace understudy::scenario
