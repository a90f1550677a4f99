// The embedded service models: the index agrees with the full models, and the
// parsed structures carry what the codecs and routing need.
#include "api/model.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api_test_util.h"

namespace understudy::api {
namespace {

// Proves: every service the design names is embedded, with its protocol and signing name.
TEST(ModelRegistryTest, IndexListsServices) {
  struct Expected {
    std::string id, protocol, signing_name, api_version, target_prefix;
  };
  std::vector<Expected> expected = {
      {"application-autoscaling", "json", "application-autoscaling", "2016-02-06",
       "AnyScaleFrontendService"},
      {"cloudwatch", "smithy-rpc-v2-cbor", "monitoring", "2010-08-01",
       "GraniteServiceVersion20100801"},
      {"ec2", "ec2", "ec2", "2016-11-15", ""},
      {"ecs", "json", "ecs", "2014-11-13", "AmazonEC2ContainerServiceV20141113"},
      {"elbv2", "query", "elasticloadbalancing", "2015-12-01", ""},
      {"events", "json", "events", "2015-10-07", "AWSEvents"},
      {"fis", "rest-json", "fis", "2020-12-01", ""},
      {"logs", "json", "logs", "2014-03-28", "Logs_20140328"},
      {"scheduler", "rest-json", "scheduler", "2021-06-30", ""},
      {"servicediscovery", "json", "servicediscovery", "2017-03-14", "Route53AutoNaming_v20170314"},
      {"ses", "query", "ses", "2010-12-01", ""},
      {"sesv2", "rest-json", "ses", "2019-09-27", ""},
  };
  ASSERT_EQ(test::Registry().services().size(), expected.size());
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.id);
    const ServiceInfo* info = test::Registry().FindService(e.id);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->protocol, e.protocol);
    EXPECT_EQ(info->signing_name, e.signing_name);
    EXPECT_EQ(info->api_version, e.api_version);
    EXPECT_EQ(info->target_prefix, e.target_prefix);
  }
  EXPECT_EQ(test::Registry().FindService("s3"), nullptr);
  EXPECT_EQ(test::Registry().Model("s3"), nullptr);
}

// Proves: every model parses, and the routing index matches its operations and HTTP bindings.
TEST(ModelRegistryTest, IndexMatchesEveryModel) {
  for (const ServiceInfo& info : test::Registry().services()) {
    SCOPED_TRACE(info.id);
    const ServiceModel* model = test::Registry().Model(info.id);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->operations().size(), info.operation_names.size());
    for (const auto& binding : info.rest_bindings) {
      const Operation* op = model->FindOperation(binding.operation);
      ASSERT_NE(op, nullptr) << binding.operation;
      EXPECT_EQ(op->http_method, binding.method) << binding.operation;
      EXPECT_EQ(op->request_uri, binding.uri) << binding.operation;
    }
    EXPECT_EQ(test::Registry().Model(info.id), model);  // parsed once, then cached
  }
}

// Proves: query error shapes keep their wire code and status, found by code or shape name.
TEST(ServiceModelTest, ErrorCodesFromModel) {
  const ServiceModel& elbv2 = test::ModelOf("elbv2");
  const Shape* by_code = elbv2.FindError("TargetGroupNotFound");
  ASSERT_NE(by_code, nullptr);
  EXPECT_EQ(by_code->name, "TargetGroupNotFoundException");
  EXPECT_EQ(by_code->error_code, "TargetGroupNotFound");
  EXPECT_EQ(by_code->http_status, 400);
  EXPECT_TRUE(by_code->sender_fault);
  EXPECT_EQ(elbv2.FindError("TargetGroupNotFoundException"), by_code);
  EXPECT_EQ(elbv2.FindError("NoSuchThing"), nullptr);

  const Shape* fault = test::ModelOf("cloudwatch").FindError("InternalServiceError");
  ASSERT_NE(fault, nullptr);
  EXPECT_EQ(fault->http_status, 500);
  EXPECT_FALSE(fault->sender_fault);

  const Shape* not_found = test::ModelOf("sesv2").FindError("NotFoundException");
  ASSERT_NE(not_found, nullptr);
  EXPECT_EQ(not_found->http_status, 404);
}

// Proves: operations carry HTTP binding, result wrapper and shapes; members are found by name.
TEST(ServiceModelTest, OperationsAndMembers) {
  const Operation& get = test::OperationOf("scheduler", "GetSchedule");
  EXPECT_EQ(get.http_method, "GET");
  EXPECT_EQ(get.request_uri, "/schedules/{Name}");
  const Member* group = get.input->FindMember("GroupName");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->location, Location::kQuery);
  EXPECT_EQ(group->XmlName(), "groupName");
  EXPECT_EQ(get.input->FindMember("Name")->location, Location::kUri);
  EXPECT_EQ(get.input->FindMember("Nope"), nullptr);

  const Operation& create = test::OperationOf("elbv2", "CreateTargetGroup");
  EXPECT_EQ(create.result_wrapper, "CreateTargetGroupResult");
  EXPECT_EQ(create.input->required, (std::set<std::string>{"Name"}));
  const Shape* port = create.input->FindMember("Port")->shape;
  EXPECT_EQ(port->type, ShapeType::kInteger);
  EXPECT_EQ(port->min, 1);
  EXPECT_EQ(port->max, 65535);

  const Member* filters = test::OperationOf("ec2", "DescribeVpcs").input->FindMember("Filters");
  ASSERT_NE(filters, nullptr);
  EXPECT_EQ(filters->location_name, "Filter");
  EXPECT_EQ(filters->shape->type, ShapeType::kList);
  EXPECT_EQ(filters->shape->member.XmlName(), "Filter");
}

// Proves: a model with a dangling shape reference is an Internal error, not a crash.
TEST(ServiceModelTest, DanglingReferenceIsInternal) {
  ServiceInfo info;
  info.id = "broken";
  auto parsed = ServiceModel::Parse(
      info,
      R"({"operations":{},"shapes":{"A":{"type":"structure","members":{"b":{"shape":"B"}}}}})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInternal);
  EXPECT_EQ(parsed.status().message(), "dangling shape B");
}

}  // namespace
}  // namespace understudy::api
