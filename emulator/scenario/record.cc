#include "scenario/record.h"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

#include "core/measured.h"

namespace understudy::scenario {
namespace {

constexpr const char* kFormat = "understudy-record";
constexpr int kVersion = 1;

// Members of a journal entry's detail that follow the wall clock or the machine (real
// ports, process ids), not the scenario: left out of comparisons, at any depth.
const char* const kMachineMembers[] = {"pid", "runtimeId", "localPort", "url", "hostPort"};

void DropMachineMembers(Json& value) {
  if (value.is_object()) {
    for (const char* name : kMachineMembers) value.erase(name);
    for (auto& [key, member] : value.items()) DropMachineMembers(member);
  } else if (value.is_array()) {
    for (auto& element : value) DropMachineMembers(element);
  }
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<Scenario> LoadForRecord(const std::string& file, const OperationCheck& check,
                               RecordSource* source) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::InvalidArgument(file + ": cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  source->file = file;
  source->text = buffer.str();
  source->inputs = ScenarioInputs{};
  return ParseScenario(file, source->text, check, &source->inputs);
}

Status WriteRecord(const std::string& path, const RecordSource& source,
                   const RunnerOptions& options, const ScenarioResult& result) {
  Json header{{"format", kFormat},
              {"version", kVersion},
              {"scenario",
               {{"file", source.file},
                {"name", result.name},
                {"text", source.text},
                {"files", source.inputs.files},
                {"env", source.inputs.env}}},
              {"seed", result.seed},
              {"start", result.virtual_start},
              {"end", result.virtual_end},
              {"options", {{"timeout", FormatDuration(options.timeout)}}},
              {"result", {{"passed", result.passed}, {"failure", result.failure}}},
              {"random", result.random_draws.is_object() ? result.random_draws : Json::object()},
              {"fingerprint", result.journal_fingerprint}};
  std::string text = Dump(header);
  text.pop_back();  // the closing brace: the journal follows, one entry per line
  text += ",\n\"journal\": [";
  for (size_t i = 0; i < result.journal.size(); ++i) {
    text += (i == 0 ? "\n" : ",\n") + Dump(result.journal[i]);
  }
  text += "\n]}\n";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write the record " + path);
  return Status::Ok();
}

Result<Recording> ReadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(path + ": cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = ParseJson(buffer.str());
  if (!parsed.ok()) {
    return Status::InvalidArgument(
        path + ": not a record (invalid JSON: " + parsed.status().message() + ")");
  }
  const Json& doc = *parsed;
  if (!doc.is_object() || doc.value("format", "") != kFormat) {
    return Status::InvalidArgument(path + ": not a record (expected \"format\": \"" + kFormat +
                                   "\", written by understudy run --record)");
  }
  if (doc.value("version", 0) != kVersion) {
    return Status::InvalidArgument(path + ": record version " + Dump(doc.value("version", Json())) +
                                   "; this understudy reads version " + std::to_string(kVersion));
  }
  Recording r;
  try {
    const Json& scenario = doc.at("scenario");
    r.source.file = scenario.at("file").get<std::string>();
    r.source.text = scenario.at("text").get<std::string>();
    r.source.inputs.files =
        scenario.value("files", Json::object()).get<std::map<std::string, std::string>>();
    r.source.inputs.env =
        scenario.value("env", Json::object()).get<std::map<std::string, std::string>>();
    r.source.inputs.replay = true;
    r.seed = doc.at("seed").get<uint64_t>();
    r.journal = doc.at("journal");
    if (!r.journal.is_array()) throw std::runtime_error("\"journal\" is not an array");
    r.random_draws = doc.value("random", Json::object());
    if (doc.contains("result")) {
      r.passed = doc["result"].value("passed", false);
      r.failure = doc["result"].value("failure", "");
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": a damaged record: " + e.what());
  }
  if (auto start = doc.value("start", ""); !start.empty()) {
    auto t = ParseIso8601(start);
    if (!t.ok()) return Status::InvalidArgument(path + ": \"start\": " + t.status().message());
    r.start = *t;
  }
  if (doc.contains("options") && doc["options"].contains("timeout")) {
    auto d = ParseDuration(doc["options"].value("timeout", "5m"));
    if (d.ok()) r.timeout = *d;
  }
  return r;
}

Json ComparableEntry(const Json& entry) {
  Json out = entry;
  if (!out.is_object()) return out;
  // Order is compared as the sequence itself; seq numbers also count the apps' inputs.
  out.erase("seq");
  if (out.contains("detail")) DropMachineMembers(out["detail"]);
  return out;
}

bool IsAppInput(const Json& entry) {
  if (!entry.is_object() || entry.value("kind", "") != "input") return false;
  std::string subject = entry.value("subject", "");
  if (subject == "ses.smtp") return true;  // mail an app sent over SMTP
  // What the apps' processes measured (CPU, memory, response times): their output too.
  // A replay feeds the recorded values back, so what they decided is still compared.
  if (subject.rfind("understudy.measured/", 0) == 0) return true;
  if (subject.rfind("understudy.", 0) == 0) return false;
  // An AWS operation from the wire (an app's SDK), not through /_understudy/call.
  auto detail = entry.find("detail");
  return detail != entry.end() && detail->is_object() && detail->contains("input") &&
         detail->value("via", "") != "call";
}

namespace {

// The entries that take part in comparisons, each with its index in `journal`.
std::vector<std::pair<size_t, Json>> Compared(const Json& journal) {
  std::vector<std::pair<size_t, Json>> out;
  for (size_t i = 0; i < journal.size(); ++i) {
    if (!IsAppInput(journal[i])) out.emplace_back(i, ComparableEntry(journal[i]));
  }
  return out;
}

}  // namespace

std::optional<Divergence> CompareJournals(const Json& recorded_journal,
                                          const Json& replayed_journal) {
  auto recorded = Compared(recorded_journal);
  auto replayed = Compared(replayed_journal);
  size_t n = std::min(recorded.size(), replayed.size());
  for (size_t i = 0; i < n; ++i) {
    if (recorded[i].second != replayed[i].second) {
      size_t index = recorded[i].first;
      return Divergence{index, "entry " + std::to_string(index) + " differs",
                        recorded_journal[index], replayed_journal[replayed[i].first]};
    }
  }
  if (recorded.size() == replayed.size()) return std::nullopt;
  bool shorter = replayed.size() < recorded.size();
  size_t index = shorter ? recorded[n].first : replayed[n].first;
  return Divergence{index,
                    std::string("the replay has ") + (shorter ? "fewer" : "more") + " entries (" +
                        std::to_string(replayed.size()) + " against " +
                        std::to_string(recorded.size()) + " recorded)",
                    shorter ? recorded_journal[index] : Json(),
                    shorter ? Json() : replayed_journal[index]};
}

// Streams of numbered worker threads ("alb-worker-3") count as one ("alb-worker-*"):
// which worker serves a connection is up to the kernel, not the scenario.
static std::string StreamGroup(const std::string& name) {
  size_t dash = name.find_last_of('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return name;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  }
  return name.substr(0, dash + 1) + "*";
}

std::optional<std::string> CompareDraws(const Json& recorded, const Json& replayed) {
  Json a = recorded.is_object() ? recorded : Json::object();
  Json b = replayed.is_object() ? replayed : Json::object();
  std::map<std::string, std::pair<uint64_t, uint64_t>> streams;
  for (auto& [name, n] : a.items()) streams[StreamGroup(name)].first += n.get<uint64_t>();
  for (auto& [name, n] : b.items()) streams[StreamGroup(name)].second += n.get<uint64_t>();
  for (const auto& [name, counts] : streams) {
    if (counts.first != counts.second) {
      return "random stream '" + name + "': " + std::to_string(counts.first) + " draws recorded, " +
             std::to_string(counts.second) + " replayed";
    }
  }
  return std::nullopt;
}

std::string FormatDivergence(const Divergence& d) {
  auto side = [](const Json& entry) -> std::string {
    if (entry.is_null()) return "(none)";
    return "seq " + Dump(entry.value("seq", Json())) + ", virtual " +
           entry.value("time", std::string("?")) + ": " + Dump(entry);
  };
  return "first divergence at journal index " + std::to_string(d.index) + ": " + d.what +
         "\n  recorded: " + side(d.recorded) + "\n  replayed: " + side(d.replayed) + "\n";
}

int ReplayCommand(const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  auto recording = ReadRecord(options.record_file);
  if (!recording.ok()) {
    err << "understudy replay: " << recording.status().message() << "\n";
    return 2;
  }
  auto scenario = ParseScenario(recording->source.file, recording->source.text, nullptr,
                                &recording->source.inputs);
  if (!scenario.ok()) {
    err << "understudy replay: the recorded scenario does not parse: "
        << scenario.status().message() << "\n";
    return 2;
  }
  RunnerOptions run;
  // What the recorded run measured (task CPU, response times) is fed back, not measured
  // again: the replay's decisions follow the record, not this machine's speed.
  Json measured = MeasuredInputs::RecordedIn(recording->journal);
  std::string measured_file;
  if (!measured.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "understudy-measured-XXXXXX").string();
    int fd = mkstemp(pattern.data());
    if (fd < 0) {
      err << "understudy replay: cannot create a temporary file for the recorded measurements\n";
      return 2;
    }
    close(fd);
    measured_file = pattern;
    std::ofstream(measured_file) << measured.dump();
    run.measured_file = measured_file;
  }
  struct RemoveAtExit {
    std::string path;
    ~RemoveAtExit() {
      if (!path.empty()) std::filesystem::remove(path);
    }
  } remove_measured{measured_file};
  run.seed = recording->seed;
  run.start = recording->start;
  run.timeout = options.timeout ? *options.timeout : recording->timeout;
  run.binary = options.binary;
  out << "Replaying " << options.record_file << ": " << scenario->name << " ("
      << recording->source.file << "), seed " << recording->seed << ", "
      << recording->journal.size() << " recorded journal entries\n";
  ScenarioResult result = RunScenario(*scenario, run, out);
  if (result.passed != recording->passed) {
    out << "Note: the recorded run " << (recording->passed ? "passed" : "failed") << "; the replay "
        << (result.passed ? "passed" : "failed") << "\n";
  }
  if (auto divergence = CompareJournals(recording->journal, result.journal)) {
    out << "understudy replay: " << FormatDivergence(*divergence);
    return 1;
  }
  if (auto draws = CompareDraws(recording->random_draws, result.random_draws)) {
    out << "understudy replay: the journals agree but the random draws differ: " << *draws << "\n";
    return 1;
  }
  out << "replayed " << result.journal.size() << " entries, identical\n";
  return 0;
}

}  // namespace understudy::scenario
