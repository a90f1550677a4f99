// libFuzzer target: the awsJson1_0 / awsJson1_1 request decoder.
//
// Input: one byte choosing the operation (index into kTargets, modulo its size),
// then the request body. A decoded input must validate, encode in every protocol
// and survive a JSON round trip unchanged; a rejected one must be a
// SerializationException.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

namespace understudy::fuzz {
namespace {

constexpr Target kTargets[] = {
    {"ecs", "CreateCluster"},
    {"ecs", "RegisterTaskDefinition"},
    {"ecs", "CreateService"},
    {"ecs", "RunTask"},
    {"logs", "PutLogEvents"},
    {"logs", "CreateLogGroup"},
    {"events", "PutEvents"},
    {"events", "PutTargets"},
    {"application-autoscaling", "PutScalingPolicy"},
    {"servicediscovery", "RegisterInstance"},
    {"cloudwatch", "PutMetricData"},
    {"cloudwatch", "GetMetricData"},
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
  bool json10 = model.info().json_version == "1.0";
  api::Protocol protocol = json10 ? api::Protocol::kJson10 : api::Protocol::kJson11;

  api::HttpRequest request;
  request.method = "POST";
  SetTarget(request, "/");
  request.headers = {
      {"Content-Type", json10 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"},
      {"X-Amz-Target", model.info().target_prefix + "." + op.name}};
  request.body = std::string(input);

  api::ApiResult result = api::CodecFor(protocol).DecodeInput(model, op, request, {});
  if (!result.ok()) {
    CheckError(result.error());
    if (result.error().code != "SerializationException") Fail("code " + result.error().code);
    return 0;
  }
  Exercise(model, op, result.output());
  CheckRoundTrip(protocol, model, op, result.output(), request);
  return 0;
}
