#include "core/measured.h"

#include <fstream>
#include <sstream>

namespace understudy {

namespace {
constexpr char kSubjectPrefix[] = "understudy.measured/";
}  // namespace

Status MeasuredInputs::LoadRecorded(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("--measured: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  Json batches = Json::parse(text.str(), nullptr, false);
  if (!batches.is_array()) {
    return Status::InvalidArgument("--measured: " + path +
                                   " is not a JSON array of measured batches");
  }
  for (const Json& b : batches) {
    if (!b.is_object() || !b.contains("source") || !b["source"].is_string() ||
        !b.contains("period") || !b["period"].is_string() || !b.contains("values") ||
        !b["values"].is_array()) {
      return Status::InvalidArgument(
          "--measured: " + path +
          ": each batch must be {\"source\": ..., \"period\": ..., \"values\": [...]}, found " +
          b.dump());
    }
    recorded_[{b["source"].get<std::string>(), b["period"].get<std::string>()}] = b["values"];
  }
  replaying_ = true;
  return Status::Ok();
}

Json MeasuredInputs::Take(const std::string& source, TimePoint period, Json measured) {
  std::string at = FormatIso8601(period);
  Json values = std::move(measured);
  if (replaying_) {
    auto it = recorded_.find({source, at});
    if (it != recorded_.end()) values = it->second;
  }
  if (!values.empty()) {
    journal_.Input(kSubjectPrefix + source,
                   Json{{"source", source}, {"period", at}, {"values", values}});
  }
  return values;
}

Json MeasuredInputs::RecordedIn(const Json& journal_entries) {
  Json out = Json::array();
  if (!journal_entries.is_array()) return out;
  for (const Json& e : journal_entries) {
    if (!e.is_object() || e.value("kind", "") != "input") continue;
    if (e.value("subject", "").rfind(kSubjectPrefix, 0) != 0) continue;
    if (e.contains("detail")) out.push_back(e["detail"]);
  }
  return out;
}

}  // namespace understudy
