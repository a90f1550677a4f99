// libFuzzer target: the awsQuery request decoder (form-encoded parameters).
//
// Input: one byte choosing the operation (index into kTargets, modulo its size),
// then the form body ("Action=...&Name.member.1=..."). A decoded input must
// validate and encode in every protocol; a rejected one must be
// MalformedQueryString or ValidationError.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

namespace understudy::fuzz {
namespace {

constexpr Target kTargets[] = {
    {"elbv2", "CreateTargetGroup"},
    {"elbv2", "RegisterTargets"},
    {"elbv2", "CreateListener"},
    {"elbv2", "CreateRule"},
    {"elbv2", "CreateLoadBalancer"},
    {"elbv2", "ModifyTargetGroupAttributes"},
    {"elbv2", "DescribeTargetHealth"},
    {"ses", "SendEmail"},
    {"ses", "SendRawEmail"},
    {"ses", "SendBulkTemplatedEmail"},
    {"ses", "CreateReceiptRule"},
    {"cloudwatch", "PutMetricData"},
    {"cloudwatch", "GetMetricStatistics"},
    {"cloudwatch", "PutMetricAlarm"},
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
  SetTarget(request, "/");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = std::string(input);

  api::ApiResult result = api::CodecFor(api::Protocol::kQuery).DecodeInput(model, op, request, {});
  if (!result.ok()) {
    CheckError(result.error());
    if (result.error().code != "MalformedQueryString" && result.error().code != "ValidationError") {
      Fail("code " + result.error().code);
    }
    return 0;
  }
  Exercise(model, op, result.output());
  return 0;
}
