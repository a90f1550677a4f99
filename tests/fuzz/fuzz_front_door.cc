// libFuzzer target: FrontDoor::Handle end to end — routing by every dispatch key,
// decoding, validation, the registered operation, encoding — with an echo
// operation registered for every operation of every embedded service.
//
// Input: a whole request in the text format of fuzz_support.h. Whatever it is,
// Handle must reply exactly once, synchronously, with a status and a request id,
// and the journal must be able to serialise what it recorded.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

namespace understudy::fuzz {
namespace {

World& Setup() {
  static World* world = [] {
    auto* w = new World();
    for (const api::ServiceInfo& info : Registry().services()) {
      const api::ServiceModel& model = ModelOf(info.id.c_str());
      for (const std::string& name : info.operation_names) {
        const api::Operation* op = model.FindOperation(name);
        std::string error = op != nullptr && !op->errors.empty() ? op->errors[0]->name : "";
        w->front_door().Register(
            info.id, name, [error](const api::RequestContext& ctx, const Json& input) {
              if (ctx.request_id.empty()) Fail("operation called without a request id");
              // Some inputs fail with the operation's first modeled error (by shape name, so
              // the front door maps it to the wire code), the rest echo their input.
              if (!error.empty() && input.size() % 3 == 1) {
                return api::ApiResult(api::ApiError::Client(error, "fuzz says no"));
              }
              return api::ApiResult(input);
            });
      }
    }
    w->front_door().RegisterInternal(
        "GET", "/_understudy/health",
        [](const api::HttpRequest&, api::HttpReply reply) { reply(api::HttpResponse{}); });
    return w;
  }();
  return *world;
}

}  // namespace
}  // namespace understudy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace understudy;
  using namespace understudy::fuzz;
  World& world = Setup();
  api::HttpRequest request =
      ParseRequestText(std::string_view(reinterpret_cast<const char*>(data), size));
  bool internal = request.method == "GET" && request.path == "/_understudy/health";
  int replies = 0;
  world.front_door().Handle(std::move(request), [&](api::HttpResponse response) {
    ++replies;
    if (response.status < 100 || response.status > 599) {
      Fail("status " + std::to_string(response.status));
    }
    if (!internal && response.Header("x-amzn-RequestId") == nullptr) {
      Fail("response without x-amzn-RequestId");
    }
    if (!internal && response.Header("Content-Type") == nullptr) {
      Fail("response without Content-Type");
    }
  });
  if (replies != 1) Fail("Handle replied " + std::to_string(replies) + " times");
  if (world.clock().active_holds() != 0) Fail("a hold outlived its call");
  world.Settle();
  return 0;
}
