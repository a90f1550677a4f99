// Emails: the messages SES stored (`/_understudy/ses/...`), for assertions on what a
// team's app sent: list by filters, read one parsed (text, html, links, codes), wait
// until some arrive. Filters are the read side's: to, from, subject, q, tag, mailbox,
// configurationSet, via, before, after (docs/ses.md).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "understudy/emulator.h"
#include "understudy/result.h"

namespace understudy {

using EmailFilter = std::map<std::string, std::string>;

// The summaries of matching messages, newest first.
Result<nlohmann::json> ListEmails(const Emulator& emulator, const EmailFilter& filter = {});
// The newest matching message, parsed: summary plus text, html, headers, links, codes.
Result<nlohmann::json> LatestEmail(const Emulator& emulator, const EmailFilter& filter = {});
// One message by id, parsed.
Result<nlohmann::json> GetEmail(const Emulator& emulator, const std::string& id);
// How many stored messages match.
Result<int> CountEmails(const Emulator& emulator, const EmailFilter& filter = {});
// Waits (clock time) until at least `count` messages match; the failure lists the
// most recent messages the emulator had.
::testing::AssertionResult WaitForEmails(const Emulator& emulator, const EmailFilter& filter,
                                         int count = 1, const std::string& timeout = "5m");

}  // namespace understudy
