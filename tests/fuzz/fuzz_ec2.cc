// libFuzzer target: the EC2 query-dialect request decoder (Name.N lists,
// capitalised locationNames).
//
// Input: one byte choosing the operation (index into kTargets, modulo its size),
// then the form body. The same form is also sent as the query string of a GET.
// A decoded input must validate and encode in every protocol; a rejected one
// must be MalformedQueryString or InvalidParameterValue.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"

namespace understudy::fuzz {
namespace {

constexpr Target kTargets[] = {
    {"ec2", "DescribeVpcs"},
    {"ec2", "CreateVpc"},
    {"ec2", "CreateSubnet"},
    {"ec2", "DescribeSubnets"},
    {"ec2", "CreateSecurityGroup"},
    {"ec2", "AuthorizeSecurityGroupIngress"},
    {"ec2", "DescribeSecurityGroups"},
    {"ec2", "CreateTags"},
    {"ec2", "DescribeSecurityGroupRules"},
};

void Check(const api::ServiceModel& model, const api::Operation& op,
           const api::HttpRequest& request) {
  api::ApiResult result = api::CodecFor(api::Protocol::kEc2).DecodeInput(model, op, request, {});
  if (!result.ok()) {
    CheckError(result.error());
    if (result.error().code != "MalformedQueryString" &&
        result.error().code != "InvalidParameterValue") {
      Fail("code " + result.error().code);
    }
    return;
  }
  Exercise(model, op, result.output());
}

}  // namespace
}  // namespace understudy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace understudy;
  using namespace understudy::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Target& target = PickTarget(kTargets, &input);
  const api::ServiceModel& model = ModelOf(target.service);
  const api::Operation& op = OperationOf(target);

  api::HttpRequest post;
  post.method = "POST";
  SetTarget(post, "/");
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  post.body = std::string(input);
  Check(model, op, post);

  api::HttpRequest get;
  get.method = "GET";
  SetTarget(get, "/?" + std::string(input));
  Check(model, op, get);
  return 0;
}
