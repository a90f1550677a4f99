// libFuzzer target: SES's pure parsers — the MIME parser, the SMTP dialogue and the
// template renderer.
//
// Input: one byte choosing the part (modulo 3), then its input. A parsed message's
// decoded text must be valid UTF-8 (it is stored as JSON); every SMTP reply line must
// start with a three-digit code and end with CRLF; rendering must not crash.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/json.h"
#include "ses/mime.h"
#include "ses/smtp_session.h"
#include "ses/template_renderer.h"

namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void CheckUtf8(const std::string& text) {
  try {
    (void)understudy::Json(text).dump();  // throws on invalid UTF-8
  } catch (...) {
    Fail("decoded text is not valid UTF-8");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace understudy;
  using namespace understudy::ses;
  if (size == 0) return 0;
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto parsed = ParseMessage(input);
      if (!parsed.ok()) return 0;
      CheckUtf8(parsed->subject);
      CheckUtf8(parsed->text);
      CheckUtf8(parsed->html);
      for (const auto& [k, v] : parsed->headers) CheckUtf8(v);
      for (const auto& a : parsed->from) CheckUtf8(a.name);
      for (const auto& p : parsed->attachments) CheckUtf8(p.filename);
      break;
    }
    case 1: {
      SmtpConfig config;
      config.max_message_bytes = 4096;
      config.tls_available = true;
      config.deliver = [](const SmtpEnvelope&, std::string) { return std::string("250 Ok id"); };
      SmtpSession session(config);
      std::string out;
      // Feed in chunks of varying size, as TCP would.
      size_t at = 0, step = 1;
      while (at < input.size()) {
        size_t n = std::min(step, input.size() - at);
        auto action = session.Feed(std::string_view(input).substr(at, n), &out);
        at += n;
        step = step * 3 % 17 + 1;
        if (action == SmtpSession::Action::kClose) break;
        if (action == SmtpSession::Action::kStartTls) session.TlsStarted();
      }
      size_t line = 0;
      while (line < out.size()) {
        size_t end = out.find("\r\n", line);
        if (end == std::string::npos) Fail("reply without CRLF");
        if (end - line < 3 || !std::isdigit(static_cast<unsigned char>(out[line])) ||
            !std::isdigit(static_cast<unsigned char>(out[line + 1])) ||
            !std::isdigit(static_cast<unsigned char>(out[line + 2]))) {
          Fail("reply line without a three-digit code");
        }
        line = end + 2;
      }
      break;
    }
    case 2: {
      Json data_json = {{"name", "Ada"}, {"items", {1, 2, 3}}, {"user", {{"vip", true}}}};
      auto rendered = RenderTemplate(input, data_json);
      (void)rendered;
      break;
    }
  }
  return 0;
}
