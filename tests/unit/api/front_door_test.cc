// FrontDoor: routing every protocol's requests to (service, operation, scope), and
// Handle() end to end — decode, validate, call the registered operation, encode —
// including the answers to malformed requests.
#include "api/front_door.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api_test_util.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/journal.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::api {
namespace {

using test::Cbor;
using test::CborInspector;
using test::MakeRequest;

constexpr char kXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>)";

std::string SigV4(const std::string& access_key, const std::string& region,
                  const std::string& service) {
  return "AWS4-HMAC-SHA256 Credential=" + access_key + "/20261123/" + region + "/" + service +
         "/aws4_request, SignedHeaders=host;x-amz-date, Signature=x";
}

HttpRequest JsonCall(const std::string& target, std::string body,
                     const char* type = "application/x-amz-json-1.1") {
  return MakeRequest("POST", "/", {{"Content-Type", type}, {"X-Amz-Target", target}},
                     std::move(body));
}

HttpRequest FormCall(std::string body, HeaderList extra = {}) {
  HeaderList headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return MakeRequest("POST", "/", std::move(headers), std::move(body));
}

HttpRequest CborCall(const std::string& operation, std::string body,
                     const std::string& service = "GraniteServiceVersion20100801") {
  return MakeRequest("POST", "/service/" + service + "/operation/" + operation,
                     {{"Content-Type", "application/cbor"}, {"smithy-protocol", "rpc-v2-cbor"}},
                     std::move(body));
}

class FrontDoorTest : public ::testing::Test {
 protected:
  FrontDoorTest() {
    ClockOptions options;
    options.mode = ClockMode::kVirtual;
    options.start = FromEpochSeconds(1795420800);
    clock_ = Clock::Create(loop_, options);
    auto store = Store::Open(":memory:");
    UNDERSTUDY_CHECK(store.ok());
    store_ = std::move(store).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    UNDERSTUDY_CHECK(journal_->Open().ok());
    front_door_ = std::make_unique<FrontDoor>(*clock_, *journal_, Random(7), test::Registry(),
                                              FrontDoorOptions{"000000000000", "us-east-1"});
  }

  // Runs Handle and returns the reply, which must come synchronously and exactly once.
  HttpResponse Call(HttpRequest request) {
    std::optional<HttpResponse> response;
    int replies = 0;
    front_door_->Handle(std::move(request), [&](HttpResponse r) {
      ++replies;
      response = std::move(r);
    });
    EXPECT_EQ(replies, 1);
    return response.value_or(HttpResponse{});
  }

  static std::string RequestId(const HttpResponse& response) {
    const std::string* id = response.Header("x-amzn-RequestId");
    return id == nullptr ? std::string() : *id;
  }

  // The route of a request that must route.
  Route RouteOf(const HttpRequest& request) {
    auto routed = front_door_->RouteRequest(request);
    if (auto* error = std::get_if<std::pair<Protocol, ApiError>>(&routed)) {
      ADD_FAILURE() << "not routed: " << error->second.code << ": " << error->second.message;
      return Route{};
    }
    return std::get<Route>(routed);
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<FrontDoor> front_door_;
};

// --- RouteRequest: requests that route ---

struct RouteCase {
  std::string name;
  HttpRequest request;
  std::string service;
  Protocol protocol;
  std::string operation;
  PathLabels labels;
  Scope scope;
};

void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.name; }

const Scope kDefaultScope{"000000000000", "us-east-1"};

std::vector<RouteCase> RouteCases() {
  std::vector<RouteCase> cases;
  cases.push_back({"TargetEcsJson11",
                   JsonCall("AmazonEC2ContainerServiceV20141113.CreateCluster", "{}"),
                   "ecs",
                   Protocol::kJson11,
                   "CreateCluster",
                   {},
                   kDefaultScope});
  cases.push_back({"TargetLogsJson11",
                   JsonCall("Logs_20140328.PutLogEvents", "{}"),
                   "logs",
                   Protocol::kJson11,
                   "PutLogEvents",
                   {},
                   kDefaultScope});
  cases.push_back(
      {"TargetCloudWatchJson10",
       JsonCall("GraniteServiceVersion20100801.ListMetrics", "{}", "application/x-amz-json-1.0"),
       "cloudwatch",
       Protocol::kJson10,
       "ListMetrics",
       {},
       kDefaultScope});
  // CloudWatch's JSON protocol is 1.0, also when the client sends no Content-Type.
  cases.push_back(
      {"TargetCloudWatchWithoutContentType",
       MakeRequest("POST", "/", {{"X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics"}}),
       "cloudwatch",
       Protocol::kJson10,
       "ListMetrics",
       {},
       kDefaultScope});
  // Region from the credential scope; a non-numeric access key keeps the default account.
  cases.push_back(
      {"ActionVersionAndScopeElbv2",
       FormCall("Action=CreateTargetGroup&Version=2015-12-01&Name=web",
                {{"Authorization", SigV4("AKIDEXAMPLE", "eu-west-1", "elasticloadbalancing")}}),
       "elbv2",
       Protocol::kQuery,
       "CreateTargetGroup",
       {},
       Scope{"000000000000", "eu-west-1"}});
  // The credential scope alone picks the service when there is no Version.
  cases.push_back(
      {"ActionScopeWithoutVersion",
       FormCall("Action=DescribeTargetHealth&TargetGroupArn=tg",
                {{"Authorization", SigV4("AKID", "us-west-2", "elasticloadbalancing")}}),
       "elbv2",
       Protocol::kQuery,
       "DescribeTargetHealth",
       {},
       Scope{"000000000000", "us-west-2"}});
  // A 12-digit access key id is the account.
  cases.push_back({"ActionVersionSesAccountFromKey",
                   FormCall("Action=SendEmail&Version=2010-12-01",
                            {{"Authorization", SigV4("123456789012", "eu-central-1", "ses")}}),
                   "ses",
                   Protocol::kQuery,
                   "SendEmail",
                   {},
                   Scope{"123456789012", "eu-central-1"}});
  cases.push_back({"ActionVersionEc2Dialect",
                   FormCall("Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1"),
                   "ec2",
                   Protocol::kEc2,
                   "DescribeVpcs",
                   {},
                   kDefaultScope});
  cases.push_back({"ActionVersionCloudWatchQuery",
                   FormCall("Action=ListMetrics&Version=2010-08-01"),
                   "cloudwatch",
                   Protocol::kQuery,
                   "ListMetrics",
                   {},
                   kDefaultScope});
  // Presigned GET: Action in the query string, scope from X-Amz-Credential.
  cases.push_back({"PresignedQueryCredential",
                   MakeRequest("GET",
                               "/?Action=VerifyEmailAddress&Version=2010-12-01&EmailAddress=a%40b.c"
                               "&X-Amz-Credential=123456789012%2F20261123%2Fap-south-1%2Fses%2F"
                               "aws4_request&X-Amz-Signature=x"),
                   "ses",
                   Protocol::kQuery,
                   "VerifyEmailAddress",
                   {},
                   Scope{"123456789012", "ap-south-1"}});
  // Scope "ses" is shared by SES v1 and v2: the /v2/email path picks v2.
  cases.push_back({"RestSesv2PathLabel",
                   MakeRequest("GET", "/v2/email/identities/sender%40example.com",
                               {{"Authorization", SigV4("AKID", "eu-west-1", "ses")}}),
                   "sesv2",
                   Protocol::kRestJson,
                   "GetEmailIdentity",
                   {{"EmailIdentity", "sender@example.com"}},
                   Scope{"000000000000", "eu-west-1"}});
  cases.push_back({"RestSchedulerGetSchedule",
                   MakeRequest("GET", "/schedules/nightly?groupName=jobs",
                               {{"Authorization", SigV4("AKID", "us-east-2", "scheduler")}}),
                   "scheduler",
                   Protocol::kRestJson,
                   "GetSchedule",
                   {{"Name", "nightly"}},
                   Scope{"000000000000", "us-east-2"}});
  cases.push_back({"RestSchedulerListSchedules",
                   MakeRequest("GET", "/schedules?ScheduleGroup=jobs"),
                   "scheduler",
                   Protocol::kRestJson,
                   "ListSchedules",
                   {},
                   kDefaultScope});
  // The method picks among operations bound to the same path.
  cases.push_back({"RestSchedulerMethodPicksOperation",
                   MakeRequest("DELETE", "/schedules/nightly"),
                   "scheduler",
                   Protocol::kRestJson,
                   "DeleteSchedule",
                   {{"Name", "nightly"}},
                   kDefaultScope});
  // An ARN label arrives percent-encoded and is decoded as one segment; /tags/{arn} exists in
  // both scheduler and fis, and the credential scope picks the service.
  cases.push_back(
      {"RestLabelIsDecodedArnScopePicksScheduler",
       MakeRequest("GET",
                   "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A000000000000%3A"
                   "schedule-group%2Fjobs",
                   {{"Authorization", SigV4("AKID", "us-east-1", "scheduler")}}),
       "scheduler",
       Protocol::kRestJson,
       "ListTagsForResource",
       {{"ResourceArn", "arn:aws:scheduler:us-east-1:000000000000:schedule-group/jobs"}},
       kDefaultScope});
  cases.push_back({"RestSamePathScopePicksFis",
                   MakeRequest("GET", "/tags/arn%3Aaws%3Afis%3Aus-east-1%3A000000000000%3Ax",
                               {{"Authorization", SigV4("AKID", "us-east-1", "fis")}}),
                   "fis",
                   Protocol::kRestJson,
                   "ListTagsForResource",
                   {{"resourceArn", "arn:aws:fis:us-east-1:000000000000:x"}},
                   kDefaultScope});
  // The longest literal template wins: /v2/email/outbound-emails is SendEmail.
  cases.push_back({"RestSesv2SendEmail",
                   MakeRequest("POST", "/v2/email/outbound-emails"),
                   "sesv2",
                   Protocol::kRestJson,
                   "SendEmail",
                   {},
                   kDefaultScope});
  cases.push_back({"SmithyRpcV2CborPath",
                   CborCall("GetMetricStatistics", ""),
                   "cloudwatch",
                   Protocol::kRpcV2Cbor,
                   "GetMetricStatistics",
                   {},
                   kDefaultScope});
  // A region that is not a region name falls back to the default.
  cases.push_back({"InvalidRegionFallsBack",
                   JsonCall("AmazonEC2ContainerServiceV20141113.ListClusters", "{}"),
                   "ecs",
                   Protocol::kJson11,
                   "ListClusters",
                   {},
                   kDefaultScope});
  cases.back().request.headers.emplace_back("Authorization", SigV4("123456789012", "Mars", "ecs"));
  cases.back().scope = Scope{"123456789012", "us-east-1"};
  return cases;
}

class RouteTest : public FrontDoorTest, public ::testing::WithParamInterface<RouteCase> {};

// Proves: each §7.2 dispatch key yields the right service, protocol, operation, labels and scope.
TEST_P(RouteTest, Routes) {
  const RouteCase& c = GetParam();
  Route route = RouteOf(c.request);
  ASSERT_NE(route.service, nullptr);
  EXPECT_EQ(route.service->id, c.service);
  EXPECT_EQ(route.protocol, c.protocol) << ProtocolName(route.protocol);
  EXPECT_EQ(route.operation, c.operation);
  EXPECT_EQ(route.labels, c.labels);
  EXPECT_EQ(route.scope, c.scope);
}

INSTANTIATE_TEST_SUITE_P(Keys, RouteTest, ::testing::ValuesIn(RouteCases()),
                         [](const ::testing::TestParamInfo<RouteCase>& info) {
                           return info.param.name;
                         });

// --- RouteRequest: requests that do not route ---

struct NoRouteCase {
  std::string name;
  HttpRequest request;
  Protocol protocol;
  std::string code;
  std::string message;
  int status;
};

void PrintTo(const NoRouteCase& c, std::ostream* os) { *os << c.name; }

std::vector<NoRouteCase> NoRouteCases() {
  const std::string unknown_tail =
      " is: send X-Amz-Target (JSON protocols), Action and Version (query protocols), or a path "
      "of a REST service";
  std::vector<NoRouteCase> cases;
  cases.push_back({"UnknownTargetPrefix", JsonCall("Foo_20200101.Bar", "{}"), Protocol::kJson11,
                   "UnknownOperationException",
                   "no service answers to X-Amz-Target prefix 'Foo_20200101'", 400});
  cases.push_back({"UnknownTargetPrefixJson10",
                   JsonCall("Foo.Bar", "{}", "application/x-amz-json-1.0"), Protocol::kJson10,
                   "UnknownOperationException", "no service answers to X-Amz-Target prefix 'Foo'",
                   400});
  cases.push_back({"ActionWithoutVersionOrScope", FormCall("Action=DescribeVpcs"), Protocol::kQuery,
                   "InvalidAction",
                   "The action DescribeVpcs is not valid for this web service: the request has no "
                   "Version parameter and its credential scope does not name one service.",
                   400});
  // ELB classic shares the elasticloadbalancing scope but is not emulated.
  cases.push_back(
      {"ActionWithUnknownVersion",
       FormCall("Action=DescribeLoadBalancers&Version=2012-06-01",
                {{"Authorization", SigV4("AKID", "us-east-1", "elasticloadbalancing")}}),
       Protocol::kQuery, "InvalidAction",
       "The action DescribeLoadBalancers is not valid for this web service: no "
       "service here speaks API version 2012-06-01 for elasticloadbalancing.",
       400});
  cases.push_back({"MalformedFormEscape", FormCall("Action=ListMetrics&Version=%G1"),
                   Protocol::kQuery, "MalformedQueryString",
                   "the form body has a malformed percent-escape", 400});
  cases.push_back({"UnknownPath", MakeRequest("GET", "/nothing/here"), Protocol::kRestJson,
                   "UnknownOperationException",
                   "understudy cannot tell which AWS operation GET /nothing/here" + unknown_tail,
                   404});
  // A bare POST / with a JSON body but no X-Amz-Target cannot be routed.
  cases.push_back({"JsonBodyWithoutTarget",
                   MakeRequest("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}}, "{}"),
                   Protocol::kRestJson, "UnknownOperationException",
                   "understudy cannot tell which AWS operation POST /" + unknown_tail, 404});
  // The scope restricts REST matching: a sesv2 path signed for scheduler matches nothing.
  cases.push_back(
      {"RestPathOfAnotherScope",
       MakeRequest("GET", "/v2/email/identities/a",
                   {{"Authorization", SigV4("AKID", "us-east-1", "scheduler")}}),
       Protocol::kRestJson, "UnknownOperationException",
       "understudy cannot tell which AWS operation GET /v2/email/identities/a" + unknown_tail,
       404});
  cases.push_back(
      {"SmithyPathWithoutProtocolHeader",
       MakeRequest("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                   {{"Content-Type", "application/cbor"}}),
       Protocol::kRpcV2Cbor, "SerializationException",
       "requests to /service/.../operation/... must carry the header "
       "smithy-protocol: rpc-v2-cbor",
       400});
  cases.push_back({"SmithyUnknownService", CborCall("ListMetrics", "", "Nope"),
                   Protocol::kRpcV2Cbor, "UnknownOperationException",
                   "no service named Nope speaks Smithy RPC v2 CBOR here", 400});
  // ECS answers X-Amz-Target, not the Smithy RPC v2 path.
  cases.push_back({"SmithyPathOfJsonOnlyService",
                   CborCall("ListClusters", "", "AmazonEC2ContainerServiceV20141113"),
                   Protocol::kRpcV2Cbor, "UnknownOperationException",
                   "no service named AmazonEC2ContainerServiceV20141113 speaks Smithy RPC v2 CBOR "
                   "here",
                   400});
  return cases;
}

class NoRouteTest : public FrontDoorTest, public ::testing::WithParamInterface<NoRouteCase> {};

// Proves: an unroutable request is answered in its likely protocol, with exactly that error.
TEST_P(NoRouteTest, AnswersInLikelyProtocol) {
  const NoRouteCase& c = GetParam();
  auto routed = front_door_->RouteRequest(c.request);
  auto* error = std::get_if<std::pair<Protocol, ApiError>>(&routed);
  ASSERT_NE(error, nullptr) << "routed to " << std::get<Route>(routed).operation;
  EXPECT_EQ(error->first, c.protocol) << ProtocolName(error->first);
  EXPECT_EQ(error->second.code, c.code);
  EXPECT_EQ(error->second.message, c.message);
  EXPECT_EQ(error->second.http_status, c.status);

  HttpResponse response = Call(c.request);
  EXPECT_EQ(response.status, c.status);
  HttpResponse expected =
      CodecFor(c.protocol).EncodeError(ServiceInfo{}, error->second, RequestId(response));
  EXPECT_EQ(response.body, expected.body);
}

INSTANTIATE_TEST_SUITE_P(Keys, NoRouteTest, ::testing::ValuesIn(NoRouteCases()),
                         [](const ::testing::TestParamInfo<NoRouteCase>& info) {
                           return info.param.name;
                         });

// --- Handle: end to end through registered operations ---

class HandleTest : public FrontDoorTest {
 protected:
  void SetUp() override {
    front_door_->Register(
        "ecs", "CreateCluster", [this](const RequestContext& ctx, const Json& in) {
          last_ = ctx;
          std::string name = in.value("clusterName", "default");
          return ApiResult(Json{{"cluster",
                                 {{"clusterName", name},
                                  {"clusterArn", MakeArn("ecs", ctx.scope, "cluster/" + name)},
                                  {"status", "ACTIVE"}}}});
        });
    front_door_->Register("ecs", "DescribeClusters", [](const RequestContext&, const Json&) {
      return ApiResult(ApiError::Client("ClusterNotFoundException", "Cluster not found."));
    });
    front_door_->Register(
        "cloudwatch", "GetMetricStatistics", [this](const RequestContext& ctx, const Json& in) {
          last_ = ctx;
          return ApiResult(
              Json{{"Label", in["MetricName"]},
                   {"Datapoints", {{{"Timestamp", in["StartTime"]}, {"Average", 12.5}}}}});
        });
    front_door_->Register(
        "elbv2", "DescribeTargetHealth", [this](const RequestContext& ctx, const Json& in) {
          last_ = ctx;
          Json out = Json::array();
          for (const Json& t : in.value("Targets", Json::array())) {
            out.push_back({{"Target", t}, {"TargetHealth", {{"State", "healthy"}}}});
          }
          return ApiResult(Json{{"TargetHealthDescriptions", out}});
        });
    front_door_->Register("elbv2", "DeleteTargetGroup", [](const RequestContext&, const Json&) {
      return ApiResult(ApiError::Client("TargetGroupNotFoundException",
                                        "One or more target "
                                        "groups not found"));
    });
    front_door_->Register("ec2", "DescribeVpcs", [this](const RequestContext& ctx, const Json& in) {
      last_ = ctx;
      Json vpcs = Json::array();
      for (const Json& id : in.value("VpcIds", Json::array())) {
        vpcs.push_back({{"VpcId", id}, {"State", "available"}});
      }
      return ApiResult(Json{{"Vpcs", vpcs}});
    });
    front_door_->Register("scheduler", "GetSchedule",
                          [this](const RequestContext& ctx, const Json& in) {
                            last_ = ctx;
                            return ApiResult(Json{{"Name", in["Name"]},
                                                  {"GroupName", in.value("GroupName", "default")},
                                                  {"State", "ENABLED"}});
                          });
    front_door_->Register("sesv2", "GetEmailIdentity", [](const RequestContext&, const Json& in) {
      return ApiResult(ApiError::Client(
          "NotFoundException",
          "Email identity " + in["EmailIdentity"].get<std::string>() + " does not exist."));
    });
  }

  std::optional<RequestContext> last_;
};

// Proves: awsJson1_1 end to end: input reaches the operation with its scope; output is JSON.
TEST_F(HandleTest, Json11RoundTrip) {
  HttpRequest request =
      JsonCall("AmazonEC2ContainerServiceV20141113.CreateCluster", R"({"clusterName":"web"})");
  request.headers.emplace_back("Authorization", SigV4("123456789012", "eu-west-1", "ecs"));
  HttpResponse response = Call(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            R"({"cluster":{"clusterArn":"arn:aws:ecs:eu-west-1:123456789012:cluster/web",)"
            R"("clusterName":"web","status":"ACTIVE"}})");
  EXPECT_EQ(*response.Header("Content-Type"), "application/x-amz-json-1.1");
  ASSERT_TRUE(last_.has_value());
  EXPECT_EQ(last_->service, "ecs");
  EXPECT_EQ(last_->operation, "CreateCluster");
  EXPECT_EQ(last_->protocol, Protocol::kJson11);
  EXPECT_EQ(last_->scope, (Scope{"123456789012", "eu-west-1"}));
  EXPECT_EQ(last_->access_key_id, "123456789012");
  EXPECT_EQ(last_->request_id, RequestId(response));
  EXPECT_EQ(RequestId(response).size(), 36u);
}

// Proves: a write call is journaled with scope and input, and its clock hold is released.
TEST_F(HandleTest, JournalsInputAndReleasesHold) {
  Call(JsonCall("AmazonEC2ContainerServiceV20141113.CreateCluster", R"({"clusterName":"j"})"));
  EXPECT_EQ(clock_->active_holds(), 0u);
  ASSERT_TRUE(journal_->Flush().ok());
  auto entries = journal_->Read(0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].kind, JournalKind::kInput);
  EXPECT_EQ((*entries)[0].subject, "ecs.CreateCluster");
  EXPECT_EQ((*entries)[0].detail, Json::parse(R"({"account":"000000000000","region":"us-east-1",
              "input":{"clusterName":"j"}})"));
}

// Proves: read-only calls (Get*, Describe*, List*...) are answered but not journaled as inputs.
TEST_F(HandleTest, ReadsAreNotJournaled) {
  EXPECT_EQ(Call(MakeRequest("GET", "/schedules/nightly")).status, 200);
  ASSERT_TRUE(journal_->Flush().ok());
  auto entries = journal_->Read(0, 10);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

// Proves: an operation's ApiError is sent as the JSON protocol's error document.
TEST_F(HandleTest, Json11OperationError) {
  HttpResponse response =
      Call(JsonCall("AmazonEC2ContainerServiceV20141113.DescribeClusters", "{}"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            R"({"__type":"ClusterNotFoundException","message":"Cluster not found."})");
}

// Proves: awsJson1_0 end to end (CloudWatch), with ISO text timestamps accepted in JSON.
TEST_F(HandleTest, Json10RoundTrip) {
  HttpResponse response = Call(
      JsonCall("GraniteServiceVersion20100801.GetMetricStatistics",
               R"({"Namespace":"AWS/ECS","MetricName":"CPUUtilization","StartTime":1795420800,)"
               R"("EndTime":"2026-11-23T09:00:00Z","Period":60,"Statistics":["Average"]})",
               "application/x-amz-json-1.0"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(
      response.body,
      R"({"Datapoints":[{"Average":12.5,"Timestamp":1795420800.0}],"Label":"CPUUtilization"})");
  EXPECT_EQ(*response.Header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(last_->protocol, Protocol::kJson10);
}

// Proves: Smithy RPC v2 CBOR end to end — a tag-1 timestamp in, a tag-1 timestamp out.
TEST_F(HandleTest, CborRoundTrip) {
  std::string body = "\xA6" + Cbor("Namespace") + Cbor("AWS/ECS") + Cbor("MetricName") +
                     Cbor("CPUUtilization") + Cbor("StartTime") + "\xC1" +
                     Cbor(Json(1795420800.5)) + Cbor("EndTime") + "\xC1" + Cbor(Json(1795424400)) +
                     Cbor("Period") + Cbor(60) + Cbor("Statistics") +
                     Cbor(Json::array({"Average"}));
  HttpResponse response = Call(CborCall("GetMetricStatistics", body));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(CborInspector::Decode(response.body),
            Json::parse(R"({"Label":"CPUUtilization","Datapoints":[
              {"Average":12.5,"Timestamp":{"tag":1,"value":1795420800.5}}]})"));
  EXPECT_EQ(*response.Header("smithy-protocol"), "rpc-v2-cbor");
  EXPECT_EQ(last_->protocol, Protocol::kRpcV2Cbor);
}

// Proves: awsQuery end to end — form in, <Op>Response/<Op>Result XML with the request id out.
TEST_F(HandleTest, QueryRoundTrip) {
  HttpResponse response =
      Call(FormCall("Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=tg"
                    "&Targets.member.1.Id=10.0.1.5&Targets.member.1.Port=8080"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(
      response.body,
      std::string(kXml) +
          R"(<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">)"
          "<DescribeTargetHealthResult><TargetHealthDescriptions><member><Target>"
          "<Id>10.0.1.5</Id><Port>8080</Port></Target><TargetHealth><State>healthy</State>"
          "</TargetHealth></member></TargetHealthDescriptions></DescribeTargetHealthResult>"
          "<ResponseMetadata><RequestId>" +
          RequestId(response) + "</RequestId></ResponseMetadata></DescribeTargetHealthResponse>");
  EXPECT_EQ(*response.Header("Content-Type"), "text/xml");
}

// Proves: query errors use the model's wire code (TargetGroupNotFound), as botocore expects.
TEST_F(HandleTest, QueryErrorUsesModelCode) {
  HttpResponse response =
      Call(FormCall("Action=DeleteTargetGroup&Version=2015-12-01&TargetGroupArn=tg"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(
      response.body,
      std::string(kXml) +
          R"(<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">)"
          "<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>"
          "<Message>One or more target groups not found</Message></Error><RequestId>" +
          RequestId(response) + "</RequestId></ErrorResponse>");
}

// Runs FrontDoor::Call and returns the result, which must come synchronously and once.
ApiResult CallOperation(FrontDoor& door, const std::string& service, const std::string& operation,
                        Json input, Scope scope = Scope{"000000000000", "us-east-1"}) {
  std::optional<ApiResult> result;
  int replies = 0;
  door.Call(service, operation, scope, std::move(input), [&](ApiResult r) {
    ++replies;
    result = std::move(r);
  });
  EXPECT_EQ(replies, 1);
  return result.value_or(ApiResult(ApiError::Client("NoReply", "")));
}

// Proves: Call runs a registered operation with JSON input in the model's shape, whatever
// the service's wire protocol, with the scope given, journaled like a request.
TEST_F(HandleTest, CallRunsOperationsWithJsonInput) {
  ApiResult created = CallOperation(*front_door_, "ecs", "CreateCluster", {{"clusterName", "c"}},
                                    Scope{"123456789012", "eu-west-1"});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.output()["cluster"]["clusterArn"],
            "arn:aws:ecs:eu-west-1:123456789012:cluster/c");
  ASSERT_TRUE(last_.has_value());
  EXPECT_EQ(last_->protocol, Protocol::kJson11);
  EXPECT_EQ(last_->request_id.size(), 36u);
  EXPECT_EQ(clock_->active_holds(), 0u);
  ASSERT_TRUE(journal_->Flush().ok());
  auto entries = journal_->Read(0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].subject, "ecs.CreateCluster");
  EXPECT_EQ((*entries)[0].detail["region"], "eu-west-1");

  // A query-protocol service takes the same JSON (member names of the model).
  ApiResult health = CallOperation(*front_door_, "elbv2", "DescribeTargetHealth",
                                   {{"TargetGroupArn", "tg"}, {"Targets", {{{"Id", "i-1"}}}}});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health.output()["TargetHealthDescriptions"][0]["Target"]["Id"], "i-1");
  EXPECT_EQ(last_->protocol, Protocol::kQuery);
}

// Proves: Call gives errors as the API would: model validation with the protocol's code,
// the operation's error with the model's code and status, unknown services and operations.
TEST_F(HandleTest, CallErrors) {
  ApiResult invalid = CallOperation(*front_door_, "elbv2", "DescribeTargetHealth", Json::object());
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "ValidationError");
  EXPECT_NE(invalid.error().message.find("TargetGroupArn"), std::string::npos);
  ApiResult missing =
      CallOperation(*front_door_, "elbv2", "DeleteTargetGroup", {{"TargetGroupArn", "tg"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "TargetGroupNotFound");
  ApiResult wrong_type =
      CallOperation(*front_door_, "ecs", "CreateCluster", {{"clusterName", Json::array()}});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, "SerializationException");
  ApiResult unknown_op = CallOperation(*front_door_, "ecs", "CreateClusterz", Json::object());
  ASSERT_FALSE(unknown_op.ok());
  EXPECT_EQ(unknown_op.error().code, "UnknownOperationException");
  EXPECT_EQ(unknown_op.error().message, "The operation CreateClusterz is not valid for ECS.");
  ApiResult unknown_service = CallOperation(*front_door_, "nope", "X", Json::object());
  ASSERT_FALSE(unknown_service.ok());
  EXPECT_EQ(unknown_service.error().code, "UnknownOperationException");
  ApiResult not_object = CallOperation(*front_door_, "ecs", "CreateCluster", Json::array());
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().code, "SerializationException");
  EXPECT_EQ(clock_->active_holds(), 0u);
}

// Proves: the EC2 dialect end to end — VpcId.N in, <requestId> and <item> out.
TEST_F(HandleTest, Ec2RoundTrip) {
  HttpResponse response =
      Call(FormCall("Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            std::string(kXml) +
                R"(<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
                "<requestId>" +
                RequestId(response) +
                "</requestId><vpcSet><item><state>available</state><vpcId>vpc-1</vpcId></item>"
                "<item><state>available</state><vpcId>vpc-2</vpcId></item></vpcSet>"
                "</DescribeVpcsResponse>");
  EXPECT_EQ(last_->protocol, Protocol::kEc2);
}

// Proves: restJson1 end to end — path label and query member in, JSON out.
TEST_F(HandleTest, RestJsonRoundTrip) {
  HttpResponse response = Call(MakeRequest("GET", "/schedules/nightly?groupName=jobs"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"GroupName":"jobs","Name":"nightly","State":"ENABLED"})");
  EXPECT_EQ(*response.Header("Content-Type"), "application/json");
  EXPECT_EQ(last_->protocol, Protocol::kRestJson);
}

// Proves: a restJson1 error takes its status from the model and names itself in X-Amzn-ErrorType.
TEST_F(HandleTest, RestJsonErrorStatusFromModel) {
  HttpResponse response = Call(MakeRequest("GET", "/v2/email/identities/a%40b.c"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(*response.Header("X-Amzn-ErrorType"), "NotFoundException");
  EXPECT_EQ(response.body,
            R"({"__type":"NotFoundException","message":"Email identity a@b.c does not exist."})");
}

// Proves: an async operation may answer later; the clock is held until it does.
TEST_F(HandleTest, AsyncOperationHoldsClockUntilReply) {
  Reply pending;
  front_door_->RegisterAsync(
      "ecs", "ListClusters",
      [&](const RequestContext&, const Json&, Reply reply) { pending = std::move(reply); });
  std::optional<HttpResponse> response;
  front_door_->Handle(JsonCall("AmazonEC2ContainerServiceV20141113.ListClusters", "{}"),
                      [&](HttpResponse r) { response = std::move(r); });
  EXPECT_FALSE(response.has_value());
  EXPECT_EQ(clock_->active_holds(), 1u);
  ASSERT_TRUE(pending);
  pending(Json{{"clusterArns", Json::array()}});
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, R"({"clusterArns":[]})");
  EXPECT_EQ(clock_->active_holds(), 0u);
}

// Proves: internal endpoints are answered by their handler before any AWS routing.
TEST_F(HandleTest, InternalHandlerFirst) {
  front_door_->RegisterInternal("GET", "/_understudy/health",
                                [](const HttpRequest&, HttpReply reply) {
                                  HttpResponse response;
                                  response.body = "ok";
                                  reply(response);
                                });
  EXPECT_EQ(Call(MakeRequest("GET", "/_understudy/health")).body, "ok");
  EXPECT_EQ(Call(MakeRequest("POST", "/_understudy/health")).status, 404);
}

// Proves: the services with registered operations are listed once each, sorted.
TEST_F(HandleTest, ImplementedServices) {
  EXPECT_EQ(front_door_->ImplementedServices(),
            (std::vector<std::string>{"cloudwatch", "ec2", "ecs", "elbv2", "scheduler", "sesv2"}));
}

// --- Handle: requests that fail before or instead of the operation ---

struct FailureCase {
  std::string name;
  HttpRequest request;
  int status;
  std::string code;
  std::string message;
};

void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

HttpRequest TooLarge(HttpRequest request) {
  request.body.clear();
  request.body_too_large = true;
  request.body_limit = 1048576;
  return request;
}

std::vector<FailureCase> FailureCases() {
  const std::string create = "AmazonEC2ContainerServiceV20141113.CreateCluster";
  std::vector<FailureCase> cases;
  cases.push_back({"Json11BadJson", JsonCall(create, "{\"clusterName\":}"), 400,
                   "SerializationException",
                   "the request body is not valid JSON: [json.exception.parse_error.101] parse "
                   "error at line 1, column 16: syntax error while parsing value - unexpected "
                   "'}'; expected '[', '{', or a literal"});
  cases.push_back({"Json11WrongContentType", JsonCall(create, "{}", "text/plain"), 400,
                   "SerializationException",
                   "Content-Type 'text/plain' is not supported; expected "
                   "application/x-amz-json-1.1"});
  cases.push_back({"Json11InvalidUtf8", JsonCall(create, "{\"clusterName\":\"\xFF\"}"), 400,
                   "SerializationException", "the request body is not valid UTF-8"});
  cases.push_back(
      {"Json11TooDeep",
       JsonCall(create, "{\"x\":" + std::string(200, '[') + std::string(200, ']') + "}"), 400,
       "SerializationException", "the request body nests deeper than 100 levels"});
  cases.push_back({"Json11ValidationError",
                   JsonCall("AmazonEC2ContainerServiceV20141113.DeleteCluster", "{}"), 400,
                   "ValidationException",
                   "1 validation error detected: Value null at 'cluster' failed to satisfy "
                   "constraint: Member must not be null"});
  cases.push_back(
      {"Json11UnknownOperation", JsonCall("AmazonEC2ContainerServiceV20141113.LaunchRocket", "{}"),
       400, "UnknownOperationException", "The operation LaunchRocket is not valid for ECS."});
  cases.push_back(
      {"Json11NotImplemented",
       JsonCall("AmazonEC2ContainerServiceV20141113.DeleteCluster", R"({"cluster":"web"})"), 400,
       "UnknownOperationException", "understudy does not implement ECS DeleteCluster yet"});
  cases.push_back({"Json11BodyTooLarge", TooLarge(JsonCall(create, "{}")), 413,
                   "RequestEntityTooLargeException",
                   "the request body is larger than this endpoint accepts (1048576 bytes)"});
  cases.push_back({"QueryMalformedEscape",
                   FormCall("Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=%x"),
                   400, "MalformedQueryString", "the form body has a malformed percent-escape"});
  cases.push_back({"QueryInvalidUtf8",
                   FormCall("Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=%C3"),
                   400, "MalformedQueryString",
                   "the parameter 'TargetGroupArn' is not valid UTF-8"});
  cases.push_back({"QueryValidationError",
                   FormCall("Action=DescribeTargetHealth&Version=2015-12-01"), 400,
                   "ValidationError",
                   "1 validation error detected: Value null at 'TargetGroupArn' failed to satisfy "
                   "constraint: Member must not be null"});
  cases.push_back({"QueryUnknownAction", FormCall("Action=LaunchRocket&Version=2015-12-01"), 400,
                   "InvalidAction", "The action LaunchRocket is not valid for this web service."});
  cases.push_back(
      {"QueryNotImplemented", FormCall("Action=CreateTargetGroup&Version=2015-12-01&Name=web"), 400,
       "InvalidAction",
       "understudy does not implement Elastic Load Balancing v2 CreateTargetGroup yet"});
  // The server dropped the over-limit form body, so Action is unknown: still a 413.
  cases.push_back({"QueryBodyTooLarge",
                   TooLarge(FormCall("Action=DescribeTargetHealth&Version=2015-12-01")), 413,
                   "RequestEntityTooLargeException",
                   "the request body is larger than this endpoint accepts (1048576 bytes)"});
  cases.push_back({"Ec2ValidationError",
                   FormCall("Action=DescribeVpcs&Version=2016-11-15&MaxResults=1"), 400,
                   "InvalidParameterValue",
                   "1 validation error detected: Value '1' at 'MaxResults' failed to satisfy "
                   "constraint: Member must have value greater than or equal to 5"});
  cases.push_back({"RestJsonBadQueryValue", MakeRequest("GET", "/schedules/x?groupName="), 400,
                   "ValidationException",
                   "1 validation error detected: Value '' at 'GroupName' failed to satisfy "
                   "constraint: Member must have length greater than or equal to 1"});
  // Canonical strings must be UTF-8: the journal and the store serialise them as JSON.
  cases.push_back({"RestJsonLabelNotUtf8", MakeRequest("GET", "/schedules/%FF%FE"), 400,
                   "ValidationException", "expected UTF-8 text at 'Name'"});
  cases.push_back({"RestJsonQueryNotUtf8", MakeRequest("GET", "/schedules/x?groupName=%C3"), 400,
                   "ValidationException", "expected UTF-8 text at 'GroupName'"});
  cases.push_back({"Sesv2ValidationIsBadRequest",
                   MakeRequest("POST", "/v2/email/outbound-emails",
                               {{"Content-Type", "application/json"}}, "{}"),
                   400, "BadRequestException",
                   "1 validation error detected: Value null at 'Content' failed to satisfy "
                   "constraint: Member must not be null"});
  cases.push_back({"CborNonMap", CborCall("GetMetricStatistics", Cbor(Json::array({1}))), 400,
                   "SerializationException", "the request body must be a CBOR map, found array"});
  cases.push_back(
      {"CborTooDeep",
       CborCall("GetMetricStatistics", "\xA1" + Cbor("x") + std::string(150, '\x81') + "\x01"), 400,
       "SerializationException",
       "the request body is not valid CBOR: the CBOR value nests deeper than 100 "
       "levels at byte 103"});
  cases.push_back({"CborBodyTooLarge", TooLarge(CborCall("GetMetricStatistics", "")), 413,
                   "RequestEntityTooLargeException",
                   "the request body is larger than this endpoint accepts (1048576 bytes)"});
  return cases;
}

class FailureTest : public HandleTest, public ::testing::WithParamInterface<FailureCase> {};

// Proves: bad/unknown/unimplemented/oversized requests get the exact error; no operation runs.
TEST_P(FailureTest, AnswersWithError) {
  const FailureCase& c = GetParam();
  auto routed = front_door_->RouteRequest(c.request);
  Protocol protocol = std::holds_alternative<Route>(routed)
                          ? std::get<Route>(routed).protocol
                          : std::get<std::pair<Protocol, ApiError>>(routed).first;
  if (c.request.body_too_large && c.request.Header("Content-Type") != nullptr &&
      c.request.Header("Content-Type")->find("form") != std::string::npos) {
    protocol = Protocol::kQuery;
  }
  HttpResponse response = Call(c.request);
  EXPECT_FALSE(last_.has_value()) << "the operation ran";
  EXPECT_EQ(response.status, c.status);
  ApiError error = ApiError::Client(c.code, c.message, c.status);
  const ServiceInfo* info =
      std::holds_alternative<Route>(routed) ? std::get<Route>(routed).service : nullptr;
  HttpResponse expected =
      CodecFor(protocol).EncodeError(info ? *info : ServiceInfo{}, error, RequestId(response));
  EXPECT_EQ(response.body, expected.body) << ProtocolName(protocol);
}

INSTANTIATE_TEST_SUITE_P(Requests, FailureTest, ::testing::ValuesIn(FailureCases()),
                         [](const ::testing::TestParamInfo<FailureCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace understudy::api
