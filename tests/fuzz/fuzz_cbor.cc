// libFuzzer target: the Smithy RPC v2 CBOR request decoder.
//
// Input: one byte choosing the CloudWatch operation (index into kTargets, modulo
// its size), then the CBOR body. A decoded input must validate, encode in every
// protocol and survive a CBOR round trip unchanged; a rejected one must be a
// SerializationException.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

namespace understudy::fuzz {
namespace {

constexpr Target kTargets[] = {
    {"cloudwatch", "ListMetrics"},    {"cloudwatch", "PutMetricData"},
    {"cloudwatch", "GetMetricData"},  {"cloudwatch", "GetMetricStatistics"},
    {"cloudwatch", "PutMetricAlarm"}, {"cloudwatch", "DescribeAlarms"},
    {"cloudwatch", "PutDashboard"},   {"cloudwatch", "PutCompositeAlarm"},
};

}  // namespace
}  // namespace understudy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace understudy;
  using namespace understudy::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Target& target = PickTarget(kTargets, &input);
  const api::ServiceModel& model = ModelOf(target.service);
  const api::Operation& op = OperationOf(target);

  api::HttpRequest request;
  request.method = "POST";
  SetTarget(request, "/service/GraniteServiceVersion20100801/operation/" + op.name);
  request.headers = {{"Content-Type", "application/cbor"}, {"smithy-protocol", "rpc-v2-cbor"}};
  request.body = std::string(input);

  api::ApiResult result =
      api::CodecFor(api::Protocol::kRpcV2Cbor).DecodeInput(model, op, request, {});
  if (!result.ok()) {
    CheckError(result.error());
    if (result.error().code != "SerializationException") Fail("code " + result.error().code);
    return 0;
  }
  Exercise(model, op, result.output());
  CheckRoundTrip(api::Protocol::kRpcV2Cbor, model, op, result.output(), request);
  return 0;
}
