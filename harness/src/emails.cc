#include "understudy/emails.h"

#include "http.h"

namespace understudy {
namespace {

using harness_internal::UrlEncode;
using nlohmann::json;

std::string Query(const EmailFilter& filter) {
  std::string query;
  for (const auto& [name, value] : filter) {
    query += (query.empty() ? "?" : "&") + UrlEncode(name) + "=" + UrlEncode(value);
  }
  return query;
}

}  // namespace

Result<json> ListEmails(const Emulator& emulator, const EmailFilter& filter) {
  EmailFilter all = filter;
  if (all.find("limit") == all.end()) all["limit"] = "1000";
  auto page = emulator.Control("GET", "/_understudy/ses/messages" + Query(all));
  if (!page.ok()) return page.error();
  return page->value("messages", json::array());
}

Result<json> LatestEmail(const Emulator& emulator, const EmailFilter& filter) {
  return emulator.Control("GET", "/_understudy/ses/messages/latest" + Query(filter));
}

Result<json> GetEmail(const Emulator& emulator, const std::string& id) {
  return emulator.Control("GET", "/_understudy/ses/messages/" + UrlEncode(id));
}

Result<int> CountEmails(const Emulator& emulator, const EmailFilter& filter) {
  EmailFilter one = filter;
  one["limit"] = "1";
  auto page = emulator.Control("GET", "/_understudy/ses/messages" + Query(one));
  if (!page.ok()) return page.error();
  return page->value("total", 0);
}

::testing::AssertionResult WaitForEmails(const Emulator& emulator, const EmailFilter& filter,
                                         int count, const std::string& timeout) {
  EmailFilter query = filter;
  query["count"] = std::to_string(count);
  query["timeout"] = timeout;
  auto answer = emulator.Raw("GET", "/_understudy/ses/wait" + Query(query));
  json shown(filter);
  if (!answer.ok()) {
    return ::testing::AssertionFailure()
           << "waiting for emails " << shown.dump() << ": " << answer.error().ToString();
  }
  const json& body = answer->body;
  if (answer->status == 200) {
    return ::testing::AssertionSuccess() << count << " email(s) matching " << shown.dump();
  }
  auto failure = ::testing::AssertionFailure();
  failure << "no " << count << " email(s) matching " << shown.dump() << " within " << timeout;
  if (body.is_object()) {
    failure << ": " << body.value("message", "");
    json recent = body.value("recent", json::array());
    failure << "\n  most recent messages (" << recent.size() << "):";
    for (const auto& m : recent) failure << "\n    " << m.dump();
  } else {
    failure << ": HTTP " << answer->status << " " << body.dump();
  }
  return failure;
}

}  // namespace understudy
