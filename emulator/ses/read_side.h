// ReadSide: what tests read of the mail SES took, under /_understudy/ses/ and /_aws/ses.
//
// List and search messages (to, from, subject, free text, before/after, tag,
// configuration set, mailbox), read one (parsed JSON with links and one-time codes,
// raw .eml, HTML, text, headers, an attachment; `latest` for the newest), delete by id
// or query, and wait until N messages match (woken when a message is stored; a
// timeout answers 408 listing what did arrive). /_aws/ses answers in LocalStack's
// shape. Also builds the `sesMessages` condition for POST /_understudy/wait.
// Loop thread only.
#pragma once

#include <functional>
#include <string>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/waits.h"
#include "ses/message_store.h"

namespace understudy::ses {

struct ReadSideHooks {
  std::function<Json()> info;
  std::function<Status(const Scope&, const Json& body, Json* out)> set_account;
  std::function<Status(const Scope&, const std::string& identity, const std::string& status)>
      set_identity_status;
  std::string account;
  std::string region;
};

void InstallReadSide(api::FrontDoor& front_door, MessageStore& messages, Clock& clock, Waits& waits,
                     ReadSideHooks hooks);

// {"to": ..., "count": N, ...filters} for POST /_understudy/wait.
Result<api::WaitCondition> MessagesCondition(MessageStore& messages, const Json& params);

// Links (http/https URLs, HTML hrefs) and one-time codes (4-8 digit numbers) in a body.
Json ExtractLinks(const std::string& text, const std::string& html);
Json ExtractCodes(const std::string& text, const std::string& html);

}  // namespace understudy::ses
