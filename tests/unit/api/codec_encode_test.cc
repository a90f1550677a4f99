// Encoding responses and errors: for each wire protocol, an operation's canonical
// output (or an ApiError) must become exactly the body, status and headers the
// AWS SDKs parse.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/codec.h"
#include "api_test_util.h"

namespace understudy::api {
namespace {

using test::Binary;
using test::CborInspector;

constexpr char kXml[] = R"(<?xml version="1.0" encoding="UTF-8"?>)";
constexpr double kInstant = 1795420800;  // 2026-11-23T08:00:00Z

struct EncodeCase {
  std::string name;
  std::string service;
  std::string operation;
  Protocol protocol;
  Json output;
  int status;
  std::string content_type;
  std::string body;
};

void PrintTo(const EncodeCase& c, std::ostream* os) { *os << c.name; }

std::vector<EncodeCase> EncodeCases() {
  std::vector<EncodeCase> cases;
  // --- awsJson: the output shape as JSON, keys sorted, timestamps as epoch numbers ---
  cases.push_back({"Json11EcsCreateCluster", "ecs", "CreateCluster", Protocol::kJson11,
                   Json::parse(R"({"cluster":{"clusterName":"web","status":"ACTIVE",
                     "clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/web",
                     "runningTasksCount":0,"tags":[{"key":"team","value":"payments"}]}})"),
                   200, "application/x-amz-json-1.1",
                   R"({"cluster":{"clusterArn":"arn:aws:ecs:us-east-1:000000000000:cluster/web",)"
                   R"("clusterName":"web","runningTasksCount":0,"status":"ACTIVE",)"
                   R"("tags":[{"key":"team","value":"payments"}]}})"});
  cases.push_back({"Json10CloudWatchTimestampsAreEpochNumbers", "cloudwatch", "GetMetricStatistics",
                   Protocol::kJson10,
                   Json{{"Label", "CPUUtilization"},
                        {"Datapoints", {{{"Timestamp", kInstant + 0.5}, {"Average", 12.5}}}}},
                   200, "application/x-amz-json-1.0",
                   R"({"Datapoints":[{"Average":12.5,"Timestamp":1795420800.5}],)"
                   R"("Label":"CPUUtilization"})"});

  // --- awsQuery: <Op>Response / <Op>Result / ResponseMetadata, lists as <member> ---
  cases.push_back(
      {"QueryElbv2CreateTargetGroupListAsMember", "elbv2", "CreateTargetGroup", Protocol::kQuery,
       Json::parse(R"({"TargetGroups":[{"TargetGroupName":"web","Port":8080,"Protocol":"HTTP",
         "HealthCheckEnabled":true,"Matcher":{"HttpCode":"200"},
         "LoadBalancerArns":["arn:lb/1","arn:lb/2"],"TargetType":"ip"}]})"),
       200, "text/xml",
       std::string(kXml) +
           R"(<CreateTargetGroupResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">)"
           "<CreateTargetGroupResult><TargetGroups><member>"
           "<HealthCheckEnabled>true</HealthCheckEnabled>"
           "<LoadBalancerArns><member>arn:lb/1</member><member>arn:lb/2</member></LoadBalancerArns>"
           "<Matcher><HttpCode>200</HttpCode></Matcher><Port>8080</Port><Protocol>HTTP</Protocol>"
           "<TargetGroupName>web</TargetGroupName><TargetType>ip</TargetType>"
           "</member></TargetGroups></CreateTargetGroupResult>"
           "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
           "</CreateTargetGroupResponse>"});
  cases.push_back(
      {"QueryElbv2DescribeTargetHealthNested", "elbv2", "DescribeTargetHealth", Protocol::kQuery,
       Json::parse(R"({"TargetHealthDescriptions":[{"Target":{"Id":"10.0.1.5","Port":8080},
         "HealthCheckPort":"8080","TargetHealth":{"State":"healthy"}}]})"),
       200, "text/xml",
       std::string(kXml) +
           R"(<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">)"
           "<DescribeTargetHealthResult><TargetHealthDescriptions><member>"
           "<HealthCheckPort>8080</HealthCheckPort><Target><Id>10.0.1.5</Id><Port>8080</Port>"
           "</Target><TargetHealth><State>healthy</State></TargetHealth>"
           "</member></TargetHealthDescriptions></DescribeTargetHealthResult>"
           "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
           "</DescribeTargetHealthResponse>"});
  cases.push_back(
      {"QuerySesMapAsEntryKeyValue", "ses", "GetIdentityVerificationAttributes", Protocol::kQuery,
       Json::parse(R"({"VerificationAttributes":{"a@example.com":{"VerificationStatus":"Success"},
         "example.com":{"VerificationStatus":"Pending","VerificationToken":"tok"}}})"),
       200, "text/xml",
       std::string(kXml) +
           R"(<GetIdentityVerificationAttributesResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">)"
           "<GetIdentityVerificationAttributesResult><VerificationAttributes>"
           "<entry><key>a@example.com</key><value><VerificationStatus>Success</VerificationStatus>"
           "</value></entry>"
           "<entry><key>example.com</key><value><VerificationStatus>Pending</VerificationStatus>"
           "<VerificationToken>tok</VerificationToken></value></entry>"
           "</VerificationAttributes></GetIdentityVerificationAttributesResult>"
           "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
           "</GetIdentityVerificationAttributesResponse>"});
  // An operation without an output shape has no <Result> element at all.
  cases.push_back(
      {"QuerySesNoOutputHasNoResult", "ses", "VerifyEmailAddress", Protocol::kQuery, Json::object(),
       200, "text/xml",
       std::string(kXml) +
           R"(<VerifyEmailAddressResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">)"
           "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
           "</VerifyEmailAddressResponse>"});
  // Text is XML-escaped.
  cases.push_back({"QuerySesSendEmailEscapesText", "ses", "SendEmail", Protocol::kQuery,
                   Json{{"MessageId", "<id>&'\"x\""}}, 200, "text/xml",
                   std::string(kXml) +
                       R"(<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">)"
                       "<SendEmailResult><MessageId>&lt;id&gt;&amp;&apos;&quot;x&quot;</MessageId>"
                       "</SendEmailResult>"
                       "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                       "</SendEmailResponse>"});
  // Timestamps are ISO-8601 with milliseconds; doubles keep their fraction.
  cases.push_back(
      {"QueryCloudWatchTimestampIso8601", "cloudwatch", "GetMetricStatistics", Protocol::kQuery,
       Json{{"Label", "CPUUtilization"},
            {"Datapoints",
             {{{"Timestamp", kInstant + 0.5}, {"Average", 12.5}, {"Unit", "Percent"}}}}},
       200, "text/xml",
       std::string(kXml) +
           R"(<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">)"
           "<GetMetricStatisticsResult><Datapoints><member><Average>12.5</Average>"
           "<Timestamp>2026-11-23T08:00:00.500Z</Timestamp><Unit>Percent</Unit></member>"
           "</Datapoints><Label>CPUUtilization</Label></GetMetricStatisticsResult>"
           "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
           "</GetMetricStatisticsResponse>"});

  // --- EC2: no <Result>, <requestId>, lowercase locationNames, lists as <item> ---
  cases.push_back(
      {"Ec2DescribeVpcsItemsAndRequestId", "ec2", "DescribeVpcs", Protocol::kEc2,
       Json::parse(R"({"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16","State":"available",
         "IsDefault":false,"Tags":[{"Key":"Name","Value":"main"}]}],"NextToken":"n1"})"),
       200, "text/xml",
       std::string(kXml) +
           R"(<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
           "<requestId>req-1</requestId><nextToken>n1</nextToken><vpcSet><item>"
           "<cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault><state>available</state>"
           "<tagSet><item><key>Name</key><value>main</value></item></tagSet><vpcId>vpc-1</vpcId>"
           "</item></vpcSet></DescribeVpcsResponse>"});
  cases.push_back({"Ec2CreateVpcStructureMember", "ec2", "CreateVpc", Protocol::kEc2,
                   Json::parse(R"({"Vpc":{"VpcId":"vpc-9","InstanceTenancy":"default"}})"), 200,
                   "text/xml",
                   std::string(kXml) +
                       R"(<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
                       "<requestId>req-1</requestId><vpc><instanceTenancy>default</instanceTenancy>"
                       "<vpcId>vpc-9</vpcId></vpc></CreateVpcResponse>"});

  // --- restJson1: JSON body with the operation's status ---
  cases.push_back({"RestJsonSchedulerGetSchedule", "scheduler", "GetSchedule", Protocol::kRestJson,
                   Json{{"Name", "nightly"},
                        {"GroupName", "default"},
                        {"State", "ENABLED"},
                        {"CreationDate", kInstant},
                        {"Target", {{"Arn", "arn:t"}, {"RoleArn", "arn:r"}}}},
                   200, "application/json",
                   R"({"CreationDate":1795420800.0,"GroupName":"default","Name":"nightly",)"
                   R"("State":"ENABLED","Target":{"Arn":"arn:t","RoleArn":"arn:r"}})"});
  cases.push_back({"RestJsonEmptyOutputIsEmptyObject", "sesv2", "DeleteEmailIdentity",
                   Protocol::kRestJson, Json::object(), 200, "application/json", "{}"});
  return cases;
}

class EncodeTest : public ::testing::TestWithParam<EncodeCase> {};

// Proves: each protocol renders the output shape in the exact wire form the SDK parsers expect.
TEST_P(EncodeTest, EncodesOutput) {
  const EncodeCase& c = GetParam();
  const ServiceModel& model = test::ModelOf(c.service);
  const Operation& op = test::OperationOf(c.service, c.operation);
  HttpResponse response = CodecFor(c.protocol).EncodeOutput(model, op, c.output, "req-1");
  EXPECT_EQ(response.status, c.status);
  EXPECT_EQ(response.body, c.body);
  ASSERT_NE(response.Header("Content-Type"), nullptr);
  EXPECT_EQ(*response.Header("Content-Type"), c.content_type);
  ASSERT_NE(response.Header("x-amzn-RequestId"), nullptr);
  EXPECT_EQ(*response.Header("x-amzn-RequestId"), "req-1");
}

INSTANTIATE_TEST_SUITE_P(Wire, EncodeTest, ::testing::ValuesIn(EncodeCases()),
                         [](const ::testing::TestParamInfo<EncodeCase>& info) {
                           return info.param.name;
                         });

// Proves: CBOR output timestamps carry tag 1, and the response names the RPC v2 protocol.
TEST(CborEncodeTest, OutputTimestampsCarryTag1) {
  const Operation& op = test::OperationOf("cloudwatch", "GetMetricStatistics");
  Json output = {
      {"Label", "CPUUtilization"},
      {"Datapoints", {{{"Timestamp", kInstant + 0.5}, {"SampleCount", 3}, {"Unit", "Percent"}}}}};
  HttpResponse response =
      CodecFor(Protocol::kRpcV2Cbor).EncodeOutput(test::ModelOf("cloudwatch"), op, output, "req-1");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(CborInspector::Decode(response.body),
            Json::parse(R"({"Label":"CPUUtilization","Datapoints":[{
              "Timestamp":{"tag":1,"value":1795420800.5},"SampleCount":3,"Unit":"Percent"}]})"));
  EXPECT_EQ(*response.Header("Content-Type"), "application/cbor");
  EXPECT_EQ(*response.Header("smithy-protocol"), "rpc-v2-cbor");
  EXPECT_EQ(*response.Header("x-amzn-RequestId"), "req-1");
}

// Proves: a timestamp the CBOR encoder wrote decodes back to the same epoch seconds.
TEST(CborEncodeTest, TimestampRoundTripsThroughDecoder) {
  const ServiceModel& model = test::ModelOf("cloudwatch");
  // GetMetricStatistics' input has StartTime/EndTime timestamps; reuse its encoder via the shape.
  const Operation& op = test::OperationOf("cloudwatch", "GetMetricStatistics");
  Operation echo = op;
  echo.output = op.input;  // encode an input-shaped value to check the timestamp tags
  Json input = {{"Namespace", "AWS/ECS"}, {"MetricName", "CPUUtilization"},
                {"StartTime", kInstant},  {"EndTime", kInstant + 60.25},
                {"Period", 60},           {"Statistics", {"Average"}}};
  HttpResponse encoded = CodecFor(Protocol::kRpcV2Cbor).EncodeOutput(model, echo, input, "r");
  HttpRequest request = test::MakeRequest(
      "POST", "/service/GraniteServiceVersion20100801/operation/GetMetricStatistics",
      {{"Content-Type", "application/cbor"}, {"smithy-protocol", "rpc-v2-cbor"}}, encoded.body);
  ApiResult decoded = CodecFor(Protocol::kRpcV2Cbor).DecodeInput(model, op, request, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded.output(), input);
}

// Proves: an empty output is the empty CBOR map (0xA0), not an empty body.
TEST(CborEncodeTest, EmptyOutputIsEmptyMap) {
  const Operation& op = test::OperationOf("cloudwatch", "PutMetricData");
  HttpResponse response =
      CodecFor(Protocol::kRpcV2Cbor).EncodeOutput(test::ModelOf("cloudwatch"), op, Json(), "req-1");
  EXPECT_EQ(response.body, "\xA0");
}

// --- Errors ---

struct ErrorCase {
  std::string name;
  std::string service;
  Protocol protocol;
  ApiError error;
  int status;
  std::string content_type;
  std::string body;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

std::vector<ErrorCase> ErrorCases() {
  std::vector<ErrorCase> cases;
  cases.push_back({"Json11TypeAndMessage", "ecs", Protocol::kJson11,
                   ApiError::Client("ClusterNotFoundException", "Cluster not found."), 400,
                   "application/x-amz-json-1.1",
                   R"({"__type":"ClusterNotFoundException","message":"Cluster not found."})"});
  cases.push_back({"Json10ServerFault", "cloudwatch", Protocol::kJson10,
                   ApiError::Server("InternalServiceError", "it broke"), 500,
                   "application/x-amz-json-1.0",
                   R"({"__type":"InternalServiceError","message":"it broke"})"});
  cases.push_back(
      {"QuerySenderError", "elbv2", Protocol::kQuery,
       ApiError::Client("TargetGroupNotFound", "One or more target groups not found"), 400,
       "text/xml",
       std::string(kXml) +
           R"(<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">)"
           "<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>"
           "<Message>One or more target groups not found</Message></Error>"
           "<RequestId>req-1</RequestId></ErrorResponse>"});
  cases.push_back({"QueryReceiverErrorEscaped", "ses", Protocol::kQuery,
                   ApiError::Server("InternalFailure", "a < b & \"c\""), 500, "text/xml",
                   std::string(kXml) +
                       R"(<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">)"
                       "<Error><Type>Receiver</Type><Code>InternalFailure</Code>"
                       "<Message>a &lt; b &amp; &quot;c&quot;</Message></Error>"
                       "<RequestId>req-1</RequestId></ErrorResponse>"});
  cases.push_back({"Ec2ResponseErrors", "ec2", Protocol::kEc2,
                   ApiError::Client("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist"),
                   400, "text/xml",
                   std::string(kXml) +
                       "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>"
                       "<Message>The vpc ID &apos;vpc-1&apos; does not exist</Message></Error>"
                       "</Errors><RequestID>req-1</RequestID></Response>"});
  cases.push_back(
      {"RestJsonStatusAndErrorTypeHeader", "sesv2", Protocol::kRestJson,
       ApiError::Client("NotFoundException", "Email identity a@b.c does not exist.", 404), 404,
       "application/json",
       R"({"__type":"NotFoundException","message":"Email identity a@b.c does not exist."})"});
  return cases;
}

class ErrorEncodeTest : public ::testing::TestWithParam<ErrorCase> {};

// Proves: each protocol renders an ApiError in the error shape botocore reads the code from.
TEST_P(ErrorEncodeTest, EncodesError) {
  const ErrorCase& c = GetParam();
  const ServiceInfo* info = test::Registry().FindService(c.service);
  ASSERT_NE(info, nullptr);
  HttpResponse response = CodecFor(c.protocol).EncodeError(*info, c.error, "req-1");
  EXPECT_EQ(response.status, c.status);
  EXPECT_EQ(response.body, c.body);
  EXPECT_EQ(*response.Header("Content-Type"), c.content_type);
  EXPECT_EQ(*response.Header("x-amzn-RequestId"), "req-1");
  if (c.protocol == Protocol::kRestJson) {
    ASSERT_NE(response.Header("X-Amzn-ErrorType"), nullptr);
    EXPECT_EQ(*response.Header("X-Amzn-ErrorType"), c.error.code);
  } else {
    EXPECT_EQ(response.Header("X-Amzn-ErrorType"), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(Wire, ErrorEncodeTest, ::testing::ValuesIn(ErrorCases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return info.param.name;
                         });

// Proves: a CBOR error is a CBOR map with __type and message, with the RPC v2 headers.
TEST(CborErrorTest, TypeAndMessageInCborMap) {
  const ServiceInfo* info = test::Registry().FindService("cloudwatch");
  HttpResponse response =
      CodecFor(Protocol::kRpcV2Cbor)
          .EncodeError(*info,
                       ApiError::Client("ResourceNotFound", "dashboard x does not exist", 404),
                       "req-1");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(CborInspector::Decode(response.body),
            Json::parse(R"({"__type":"ResourceNotFound","message":"dashboard x does not exist"})"));
  EXPECT_EQ(*response.Header("Content-Type"), "application/cbor");
  EXPECT_EQ(*response.Header("smithy-protocol"), "rpc-v2-cbor");
}

// --- restJson1 HTTP bindings beyond the body, on a small model of our own ---

constexpr char kToyModel[] = R"({
  "metadata": {"protocol": "rest-json", "serviceId": "Toy"},
  "operations": {
    "GetThing": {"name": "GetThing", "http": {"method": "GET", "requestUri": "/things/{Id}"},
                 "input": {"shape": "GetThingRequest"}, "output": {"shape": "GetThingResponse"}},
    "PutBlob": {"name": "PutBlob",
                "http": {"method": "PUT", "requestUri": "/blobs/{Key+}", "responseCode": 201},
                "input": {"shape": "PutBlobRequest"}, "output": {"shape": "PutBlobResponse"}}
  },
  "shapes": {
    "GetThingRequest": {"type": "structure", "required": ["Id"], "members": {
      "Id": {"shape": "String", "location": "uri", "locationName": "Id"},
      "Tags": {"shape": "StringList", "location": "querystring", "locationName": "tag"},
      "Limit": {"shape": "Integer", "location": "querystring", "locationName": "limit"},
      "Extra": {"shape": "StringMap", "location": "querystring"},
      "Since": {"shape": "Timestamp", "location": "header", "locationName": "If-Modified-Since"},
      "Trace": {"shape": "Boolean", "location": "header", "locationName": "X-Trace"},
      "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
      "Context": {"shape": "String", "location": "header", "locationName": "X-Context",
                  "jsonvalue": true}}},
    "GetThingResponse": {"type": "structure", "members": {
      "ETag": {"shape": "String", "location": "header", "locationName": "ETag"},
      "Modified": {"shape": "Timestamp", "location": "header", "locationName": "Last-Modified"},
      "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
      "Code": {"shape": "Integer", "location": "statusCode"},
      "Name": {"shape": "String"},
      "Data": {"shape": "Blob"}}},
    "PutBlobRequest": {"type": "structure", "payload": "Body", "members": {
      "Key": {"shape": "String", "location": "uri", "locationName": "Key"},
      "Body": {"shape": "Blob"}}},
    "PutBlobResponse": {"type": "structure", "payload": "Body", "members": {
      "Body": {"shape": "Blob"}}},
    "String": {"type": "string"},
    "Integer": {"type": "integer"},
    "Boolean": {"type": "boolean"},
    "Timestamp": {"type": "timestamp"},
    "Blob": {"type": "blob"},
    "StringList": {"type": "list", "member": {"shape": "String"}},
    "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}}
  }
})";

class RestJsonBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceInfo info;
    info.id = "toy";
    info.service_id = "Toy";
    info.protocol = "rest-json";
    auto parsed = ServiceModel::Parse(info, kToyModel);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    model_ = std::move(parsed).value();
  }
  const Codec& codec() const { return CodecFor(Protocol::kRestJson); }
  std::unique_ptr<ServiceModel> model_;
};

// Proves: labels, query lists/scalars/maps, headers and base64-JSON headers reach their members.
TEST_F(RestJsonBindingTest, DecodesEveryLocation) {
  HttpRequest request = test::MakeRequest("GET", "/things/t-1?tag=a&tag=b&limit=5&other=x&more=y",
                                          {{"If-Modified-Since", "Mon, 23 Nov 2026 08:00:00 GMT"},
                                           {"X-Trace", "true"},
                                           {"X-Meta-Owner", "me"},
                                           {"x-meta-team", "pay"},
                                           {"X-Context", "eyJhIjoxfQ=="}});
  ApiResult result =
      codec().DecodeInput(*model_, *model_->FindOperation("GetThing"), request, {{"Id", "t-1"}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.output(), Json::parse(R"({"Id":"t-1","Tags":["a","b"],"Limit":5,
    "Extra":{"other":"x","more":"y"},"Since":1795420800.0,"Trace":true,
    "Meta":{"owner":"me","team":"pay"},"Context":{"a":1}})"));
}

// Proves: a header that is not base64 JSON is a ValidationException naming the header.
TEST_F(RestJsonBindingTest, RejectsBadJsonValueHeader) {
  HttpRequest request = test::MakeRequest("GET", "/things/t-1", {{"X-Context", "{not base64"}});
  ApiResult result =
      codec().DecodeInput(*model_, *model_->FindOperation("GetThing"), request, {{"Id", "t-1"}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "ValidationException");
  EXPECT_EQ(result.error().message, "header X-Context is not base64-encoded JSON");
}

// Proves: text bound from the query string or headers into maps must be UTF-8 too.
TEST_F(RestJsonBindingTest, RejectsNonUtf8InQueryAndHeaderMaps) {
  const Operation& op = *model_->FindOperation("GetThing");
  ApiResult query =
      codec().DecodeInput(*model_, op, test::MakeRequest("GET", "/things/t?x=%FF"), {{"Id", "t"}});
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, "ValidationException");
  EXPECT_EQ(query.error().message, "a query parameter of 'Extra' is not valid UTF-8");
  ApiResult header = codec().DecodeInput(
      *model_, op, test::MakeRequest("GET", "/things/t", {{"x-meta-a", "\xC3"}}), {{"Id", "t"}});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error().message, "a header of 'Meta' is not valid UTF-8");
}

// Proves: a blob payload member takes the raw body, not JSON.
TEST_F(RestJsonBindingTest, BlobPayloadIsRawBody) {
  HttpRequest request = test::MakeRequest(
      "PUT", "/blobs/a/b.txt", {{"Content-Type", "application/octet-stream"}}, "\x01raw{");
  ApiResult result = codec().DecodeInput(*model_, *model_->FindOperation("PutBlob"), request,
                                         {{"Key", "a/b.txt"}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.output(), (Json{{"Key", "a/b.txt"}, {"Body", Binary("\x01raw{")}}));
}

// Proves: header/statusCode members leave the body; header timestamps are RFC 822; blobs base64.
TEST_F(RestJsonBindingTest, EncodesHeadersStatusAndBody) {
  Json output = {{"ETag", "\"v1\""}, {"Modified", kInstant}, {"Meta", {{"owner", "me"}}},
                 {"Code", 203},      {"Name", "thing"},      {"Data", Binary("hi")}};
  HttpResponse response =
      codec().EncodeOutput(*model_, *model_->FindOperation("GetThing"), output, "req-1");
  EXPECT_EQ(response.status, 203);
  EXPECT_EQ(response.body, R"({"Data":"aGk=","Name":"thing"})");
  EXPECT_EQ(*response.Header("ETag"), "\"v1\"");
  EXPECT_EQ(*response.Header("Last-Modified"), "Mon, 23 Nov 2026 08:00:00 GMT");
  EXPECT_EQ(*response.Header("x-meta-owner"), "me");
  EXPECT_EQ(*response.Header("Content-Type"), "application/json");
}

// Proves: a blob payload is sent raw as application/octet-stream with the modeled response code.
TEST_F(RestJsonBindingTest, EncodesBlobPayloadRaw) {
  HttpResponse response =
      codec().EncodeOutput(*model_, *model_->FindOperation("PutBlob"),
                           Json{{"Body", Binary(std::string_view("\x00\x01", 2))}}, "req-1");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, std::string("\x00\x01", 2));
  EXPECT_EQ(*response.Header("Content-Type"), "application/octet-stream");
}

// Proves: ProtocolName gives the names used in logs and the control API.
TEST(ProtocolNameTest, NamesEveryProtocol) {
  EXPECT_STREQ(ProtocolName(Protocol::kJson10), "json1.0");
  EXPECT_STREQ(ProtocolName(Protocol::kJson11), "json1.1");
  EXPECT_STREQ(ProtocolName(Protocol::kQuery), "query");
  EXPECT_STREQ(ProtocolName(Protocol::kEc2), "ec2");
  EXPECT_STREQ(ProtocolName(Protocol::kRestJson), "rest-json");
  EXPECT_STREQ(ProtocolName(Protocol::kRpcV2Cbor), "rpc-v2-cbor");
}

}  // namespace
}  // namespace understudy::api
