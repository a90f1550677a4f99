// Shared pieces of the libFuzzer targets: the embedded models, a text format for
// whole HTTP requests, and the checks every decoded input goes through.
//
// Request text format (fuzz_front_door and fuzz_rest_json):
//   METHOD TARGET\n
//   Header-Name: value\n      (any number of lines)
//   \n
//   body...                   (the rest, raw bytes)
// A header "x-fuzz-body-too-large" marks the body as over the server's limit
// (HttpRequest::body_too_large), as HttpServer does; the body is then dropped.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/codec.h"
#include "api/codecs_internal.h"
#include "api/front_door.h"
#include "api/http.h"
#include "api/model.h"
#include "api/shape_values.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/json.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::fuzz {

// Stops the fuzzer with a message: a broken invariant is a finding, like a crash.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

inline api::ModelRegistry& Registry() {
  static api::ModelRegistry* registry = [] {
    auto loaded = api::ModelRegistry::LoadEmbedded();
    if (!loaded.ok()) Fail("embedded models: " + loaded.status().message());
    return std::move(loaded).value().release();
  }();
  return *registry;
}

struct Target {
  const char* service;
  const char* operation;
};

inline const api::ServiceModel& ModelOf(const char* service) {
  const api::ServiceModel* model = Registry().Model(service);
  if (model == nullptr) Fail(std::string("no model ") + service);
  return *model;
}

inline const api::Operation& OperationOf(const Target& target) {
  const api::Operation* op = ModelOf(target.service).FindOperation(target.operation);
  if (op == nullptr) Fail(std::string("no operation ") + target.operation);
  return *op;
}

// Picks a target with the first input byte and returns the rest of the input.
template <size_t N>
const Target& PickTarget(const Target (&targets)[N], std::string_view* data) {
  size_t index = data->empty() ? 0 : static_cast<unsigned char>((*data)[0]) % N;
  if (!data->empty()) data->remove_prefix(1);
  return targets[index];
}

// Splits "path?query" the way HttpServer does.
inline void SetTarget(api::HttpRequest& request, std::string target) {
  request.target = std::move(target);
  std::string_view view = request.target;
  size_t q = view.find('?');
  request.raw_path = std::string(view.substr(0, q));
  if (!api::PercentDecode(request.raw_path, false, &request.path)) request.path = request.raw_path;
  request.query.clear();
  if (q != std::string_view::npos && !api::ParseFormEncoded(view.substr(q + 1), &request.query)) {
    request.query.clear();
  }
}

// Parses the request text format above; anything goes, nothing is rejected.
inline api::HttpRequest ParseRequestText(std::string_view data) {
  api::HttpRequest request;
  size_t head_end = data.find("\n\n");
  std::string_view head = data.substr(0, head_end);
  if (head_end != std::string_view::npos) request.body = std::string(data.substr(head_end + 2));
  size_t line_end = head.find('\n');
  std::string_view first = head.substr(0, line_end);
  size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  SetTarget(request, space == std::string_view::npos ? "/" : std::string(first.substr(space + 1)));
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 1);
    line_end = head.find('\n');
    std::string_view line = head.substr(0, line_end);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  if (request.Header("x-fuzz-body-too-large") != nullptr) {
    request.body.clear();
    request.body_too_large = true;
    request.body_limit = 1024;
  }
  return request;
}

// What every successfully decoded input must survive: validation, and encoding it
// back (as if it were the output) in every protocol.
inline void Exercise(const api::ServiceModel& model, const api::Operation& op, const Json& input) {
  if (!input.is_object()) Fail("decoded input is not an object: " + input.dump());
  if (op.input != nullptr) {
    if (auto message = api::Validate(*op.input, input); message && message->empty()) {
      Fail("empty validation message");
    }
  }
  api::Operation echo = op;
  echo.output = op.input;
  for (api::Protocol protocol :
       {api::Protocol::kJson10, api::Protocol::kJson11, api::Protocol::kQuery, api::Protocol::kEc2,
        api::Protocol::kRestJson, api::Protocol::kRpcV2Cbor}) {
    const api::Codec& codec = api::CodecFor(protocol);
    api::HttpResponse response = codec.EncodeOutput(model, echo, input, "fuzz-request");
    if (response.Header("x-amzn-RequestId") == nullptr) Fail("response without a request id");
  }
}

// Checks that an ApiError from a codec is a well-formed client error.
inline void CheckError(const api::ApiError& error) {
  if (error.code.empty()) Fail("error without a code: " + error.message);
  if (error.message.empty()) Fail("error without a message: " + error.code);
  if (error.http_status < 400 || error.http_status > 599) {
    Fail("error " + error.code + " with status " + std::to_string(error.http_status));
  }
}

// Re-encodes `input` with `protocol` (JSON or CBOR) and decodes it again: the
// canonical form must come back unchanged (compared as JSON text, so NaN == NaN).
inline void CheckRoundTrip(api::Protocol protocol, const api::ServiceModel& model,
                           const api::Operation& op, const Json& input,
                           const api::HttpRequest& original) {
  api::Operation echo = op;
  echo.output = op.input;
  const api::Codec& codec = api::CodecFor(protocol);
  api::HttpResponse encoded = codec.EncodeOutput(model, echo, input, "fuzz-request");
  api::HttpRequest again = original;
  again.body = encoded.body;
  api::ApiResult decoded = codec.DecodeInput(model, op, again, {});
  if (!decoded.ok()) {
    Fail(std::string(api::ProtocolName(protocol)) +
         " output does not decode: " + decoded.error().message);
  }
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  if (dump(decoded.output()) != dump(input)) {
    Fail(std::string(api::ProtocolName(protocol)) + " round trip changed " + dump(input) +
         " into " + dump(decoded.output()));
  }
}

// A FrontDoor wired as app/server.cc wires it (virtual clock, in-memory store).
class World {
 public:
  World() {
    ClockOptions options;
    options.mode = ClockMode::kVirtual;
    options.start = FromEpochSeconds(1795420800);
    clock_ = Clock::Create(loop_, options);
    auto store = Store::Open(":memory:");
    if (!store.ok()) Fail("store: " + store.status().message());
    store_ = std::move(store).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    if (Status status = journal_->Open(); !status.ok()) Fail("journal: " + status.message());
    front_door_ = std::make_unique<api::FrontDoor>(*clock_, *journal_, Random(1), Registry(),
                                                   api::FrontDoorOptions{});
  }

  api::FrontDoor& front_door() { return *front_door_; }
  Clock& clock() { return *clock_; }

  // Runs what the calls posted (the journal's flush, which serialises every
  // journaled input) and forgets the journal now and then, so memory stays flat.
  void Settle() {
    loop_.RunUntilIdleForTest();
    if (++calls_ % 1024 == 0) {
      if (Status status = journal_->Clear(); !status.ok()) Fail("journal: " + status.message());
    }
  }

 private:
  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<api::FrontDoor> front_door_;
  uint64_t calls_ = 0;
};

}  // namespace understudy::fuzz
