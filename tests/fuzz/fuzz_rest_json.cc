// libFuzzer target: restJson1 routing (path templates, labels) and the restJson1
// request decoder (labels, query, headers, JSON or payload bodies).
//
// Input: a whole request in the text format of fuzz_support.h ("GET /schedules/x
// ?groupName=g\nHeader: v\n\nbody"). When it routes to a restJson1 operation, the
// decoded input must validate and encode in every protocol; a rejected one must
// be a ValidationException or SerializationException.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace understudy;
  using namespace understudy::fuzz;
  static World* world = new World();
  api::HttpRequest request =
      ParseRequestText(std::string_view(reinterpret_cast<const char*>(data), size));
  auto routed = world->front_door().RouteRequest(request);
  auto* route = std::get_if<api::Route>(&routed);
  if (route == nullptr) {
    CheckError(std::get<std::pair<api::Protocol, api::ApiError>>(routed).second);
    return 0;
  }
  if (route->protocol != api::Protocol::kRestJson) return 0;
  if (route->service == nullptr) Fail("route without a service");
  const api::ServiceModel* model = Registry().Model(route->service->id);
  if (model == nullptr) Fail("no model for " + route->service->id);
  const api::Operation* op = model->FindOperation(route->operation);
  if (op == nullptr) Fail("routed to unknown operation " + route->operation);

  api::ApiResult result =
      api::CodecFor(api::Protocol::kRestJson).DecodeInput(*model, *op, request, route->labels);
  if (!result.ok()) {
    CheckError(result.error());
    if (result.error().code != "ValidationException" &&
        result.error().code != "SerializationException") {
      Fail("code " + result.error().code);
    }
    return 0;
  }
  Exercise(*model, *op, result.output());
  return 0;
}
