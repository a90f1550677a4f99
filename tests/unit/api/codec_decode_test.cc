// Decoding requests: for each wire protocol, a request exactly as an AWS SDK
// sends it must become the same canonical JSON input of the operation's model
// shape (timestamps as epoch seconds, blobs as binary, numbers typed).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/codec.h"
#include "api_test_util.h"

namespace understudy::api {
namespace {

using test::Binary;
using test::Cbor;
using test::ContentTypeOf;
using test::MakeRequest;

// 2026-11-23T08:00:00Z in epoch seconds.
constexpr double kInstant = 1795420800;

HttpRequest JsonPost(Protocol protocol, const std::string& target, std::string body) {
  return MakeRequest("POST", "/",
                     {{"Content-Type", ContentTypeOf(protocol)}, {"X-Amz-Target", target}},
                     std::move(body));
}

HttpRequest FormPost(std::string body) {
  return MakeRequest("POST", "/", {{"Content-Type", ContentTypeOf(Protocol::kQuery)}},
                     std::move(body));
}

HttpRequest RestCall(std::string method, std::string target, std::string body = {}) {
  HeaderList headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  return MakeRequest(std::move(method), std::move(target), std::move(headers), std::move(body));
}

HttpRequest CborPost(const std::string& operation, std::string body) {
  return MakeRequest("POST", "/service/GraniteServiceVersion20100801/operation/" + operation,
                     {{"Content-Type", "application/cbor"},
                      {"Accept", "application/cbor"},
                      {"smithy-protocol", "rpc-v2-cbor"}},
                     std::move(body));
}

// CBOR pieces for bodies nlohmann::json::to_cbor cannot express (tag 1 timestamps).
std::string CborMap(size_t entries) { return std::string(1, static_cast<char>(0xA0 + entries)); }
std::string CborArray(size_t items) { return std::string(1, static_cast<char>(0x80 + items)); }
std::string CborEpoch(double seconds) { return "\xC1" + Cbor(Json(seconds)); }

struct DecodeCase {
  std::string name;
  std::string service;
  std::string operation;
  Protocol protocol;
  HttpRequest request;
  PathLabels labels;  // what routing matched (restJson1 only)
  Json expected;
};

void PrintTo(const DecodeCase& c, std::ostream* os) { *os << c.name; }

std::vector<DecodeCase> DecodeCases() {
  std::vector<DecodeCase> cases;
  // --- awsJson1_1 ---
  cases.push_back({"Json11EcsCreateClusterWithTagsAndSettings",
                   "ecs",
                   "CreateCluster",
                   Protocol::kJson11,
                   JsonPost(Protocol::kJson11, "AmazonEC2ContainerServiceV20141113.CreateCluster",
                            R"({"clusterName":"web","tags":[{"key":"team","value":"payments"}],)"
                            R"("settings":[{"name":"containerInsights","value":"enabled"}],)"
                            R"("capacityProviders":["FARGATE"],)"
                            R"("defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE",)"
                            R"("weight":1,"base":0}]})"),
                   {},
                   Json::parse(R"({"clusterName":"web","tags":[{"key":"team","value":"payments"}],
                     "settings":[{"name":"containerInsights","value":"enabled"}],
                     "capacityProviders":["FARGATE"],
                     "defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE",
                     "weight":1,"base":0}]})")});
  // An empty body is an empty input (SDKs send "{}", some tools send nothing).
  cases.push_back(
      {"Json11EmptyBodyIsEmptyObject",
       "ecs",
       "CreateCluster",
       Protocol::kJson11,
       JsonPost(Protocol::kJson11, "AmazonEC2ContainerServiceV20141113.CreateCluster", ""),
       {},
       Json::object()});
  // JSON null members are absent members; 2.0 for an integer member is the integer 2.
  cases.push_back({"Json11NullDroppedAndWholeFloatIsInteger",
                   "ecs",
                   "CreateCluster",
                   Protocol::kJson11,
                   JsonPost(Protocol::kJson11, "AmazonEC2ContainerServiceV20141113.CreateCluster",
                            R"({"clusterName":null,"defaultCapacityProviderStrategy":)"
                            R"([{"capacityProvider":"FARGATE_SPOT","weight":2.0}]})"),
                   {},
                   Json::parse(R"({"defaultCapacityProviderStrategy":
                     [{"capacityProvider":"FARGATE_SPOT","weight":2}]})")});
  // logs: a map member (tags) and long epoch-millisecond timestamps stay numbers.
  cases.push_back(
      {"Json11LogsCreateLogGroupWithTagMap",
       "logs",
       "CreateLogGroup",
       Protocol::kJson11,
       JsonPost(Protocol::kJson11, "Logs_20140328.CreateLogGroup",
                R"({"logGroupName":"/ecs/web","tags":{"env":"prod","team":"pay"}})"),
       {},
       Json::parse(R"({"logGroupName":"/ecs/web","tags":{"env":"prod","team":"pay"}})")});
  cases.push_back({"Json11LogsPutLogEvents",
                   "logs",
                   "PutLogEvents",
                   Protocol::kJson11,
                   JsonPost(Protocol::kJson11, "Logs_20140328.PutLogEvents",
                            R"({"logGroupName":"/ecs/web","logStreamName":"web/app/1",)"
                            R"("logEvents":[{"timestamp":1795420800000,"message":"started"}]})"),
                   {},
                   Json::parse(R"({"logGroupName":"/ecs/web","logStreamName":"web/app/1",
                     "logEvents":[{"timestamp":1795420800000,"message":"started"}]})")});
  // A timestamp sent as ISO-8601 text becomes epoch seconds.
  cases.push_back({"Json11EventsIsoTimestampToEpoch",
                   "events",
                   "PutEvents",
                   Protocol::kJson11,
                   JsonPost(Protocol::kJson11, "AWSEvents.PutEvents",
                            R"({"Entries":[{"Source":"app","Time":"2026-11-23T08:00:00Z"},)"
                            R"({"Source":"app","Time":1795420800.25}]})"),
                   {},
                   Json{{"Entries",
                         {{{"Source", "app"}, {"Time", kInstant}},
                          {{"Source", "app"}, {"Time", kInstant + 0.25}}}}}});

  // --- awsJson1_0 (CloudWatch's JSON protocol) ---
  cases.push_back({"Json10CloudWatchListMetrics",
                   "cloudwatch",
                   "ListMetrics",
                   Protocol::kJson10,
                   JsonPost(Protocol::kJson10, "GraniteServiceVersion20100801.ListMetrics",
                            R"({"Namespace":"AWS/ECS","MetricName":"CPUUtilization",)"
                            R"("Dimensions":[{"Name":"ClusterName","Value":"web"}]})"),
                   {},
                   Json::parse(R"({"Namespace":"AWS/ECS","MetricName":"CPUUtilization",
                     "Dimensions":[{"Name":"ClusterName","Value":"web"}]})")});
  cases.push_back({"Json10CloudWatchPutMetricData",
                   "cloudwatch",
                   "PutMetricData",
                   Protocol::kJson10,
                   JsonPost(Protocol::kJson10, "GraniteServiceVersion20100801.PutMetricData",
                            R"({"Namespace":"App","MetricData":[{"MetricName":"Latency",)"
                            R"("Timestamp":1795420800,"Values":[1.5,2],"Unit":"Milliseconds"}]})"),
                   {},
                   Json{{"Namespace", "App"},
                        {"MetricData",
                         {{{"MetricName", "Latency"},
                           {"Timestamp", kInstant},
                           {"Values", {1.5, 2}},
                           {"Unit", "Milliseconds"}}}}}});

  // --- awsQuery ---
  cases.push_back(
      {"QueryElbv2CreateTargetGroup",
       "elbv2",
       "CreateTargetGroup",
       Protocol::kQuery,
       FormPost("Action=CreateTargetGroup&Version=2015-12-01&Name=web&Protocol=HTTP&Port=8080"
                "&VpcId=vpc-0a1b&TargetType=ip&HealthCheckEnabled=true&HealthCheckPath=%2Fhealth"
                "&HealthCheckIntervalSeconds=10&Matcher.HttpCode=200-299"
                "&Tags.member.1.Key=team&Tags.member.1.Value=payments"
                "&Tags.member.2.Key=env&Tags.member.2.Value=prod"),
       {},
       Json::parse(R"({"Name":"web","Protocol":"HTTP","Port":8080,"VpcId":"vpc-0a1b",
         "TargetType":"ip","HealthCheckEnabled":true,"HealthCheckPath":"/health",
         "HealthCheckIntervalSeconds":10,"Matcher":{"HttpCode":"200-299"},
         "Tags":[{"Key":"team","Value":"payments"},{"Key":"env","Value":"prod"}]})")});
  cases.push_back({"QueryElbv2RegisterTargets",
                   "elbv2",
                   "RegisterTargets",
                   Protocol::kQuery,
                   FormPost("Action=RegisterTargets&Version=2015-12-01"
                            "&TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A"
                            "000000000000%3Atargetgroup%2Fweb%2F0123"
                            "&Targets.member.1.Id=10.0.1.5&Targets.member.1.Port=8080"
                            "&Targets.member.2.Id=10.0.1.6"),
                   {},
                   Json::parse(R"({"TargetGroupArn":
                     "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123",
                     "Targets":[{"Id":"10.0.1.5","Port":8080},{"Id":"10.0.1.6"}]})")});
  // "Targets=" with no members is an explicitly empty list.
  cases.push_back({"QueryEmptyListParameter",
                   "elbv2",
                   "DescribeTargetHealth",
                   Protocol::kQuery,
                   FormPost("Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=tg"
                            "&Targets="),
                   {},
                   Json::parse(R"({"TargetGroupArn":"tg","Targets":[]})")});
  cases.push_back({"QuerySesSendEmail",
                   "ses",
                   "SendEmail",
                   Protocol::kQuery,
                   FormPost("Action=SendEmail&Version=2010-12-01&Source=sender%40example.com"
                            "&Destination.ToAddresses.member.1=a%40example.com"
                            "&Destination.ToAddresses.member.2=b%40example.com"
                            "&Message.Subject.Data=Hi&Message.Body.Text.Data=Hello+world"
                            "&Message.Body.Text.Charset=UTF-8"),
                   {},
                   Json::parse(R"({"Source":"sender@example.com",
                     "Destination":{"ToAddresses":["a@example.com","b@example.com"]},
                     "Message":{"Subject":{"Data":"Hi"},
                                "Body":{"Text":{"Data":"Hello world","Charset":"UTF-8"}}}})")});
  // A map travels as Name.entry.N.key / Name.entry.N.value.
  cases.push_back(
      {"QueryMapEntries",
       "elbv2",
       "CreateListener",
       Protocol::kQuery,
       FormPost("Action=CreateListener&Version=2015-12-01&LoadBalancerArn=lb&Port=443"
                "&DefaultActions.member.1.Type=authenticate-oidc"
                "&DefaultActions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams"
                ".entry.1.key=prompt"
                "&DefaultActions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams"
                ".entry.1.value=login"
                "&DefaultActions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams"
                ".entry.2.key=display"
                "&DefaultActions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams"
                ".entry.2.value=page"),
       {},
       Json::parse(R"({"LoadBalancerArn":"lb","Port":443,"DefaultActions":[{
         "Type":"authenticate-oidc","AuthenticateOidcConfig":{
         "AuthenticationRequestExtraParams":{"prompt":"login","display":"page"}}}]})")});
  // GET with the parameters in the query string works like a form POST.
  cases.push_back({"QueryParametersInQueryString",
                   "ses",
                   "VerifyEmailAddress",
                   Protocol::kQuery,
                   MakeRequest("GET",
                               "/?Action=VerifyEmailAddress&Version=2010-12-01"
                               "&EmailAddress=me%40example.com"),
                   {},
                   Json::parse(R"({"EmailAddress":"me@example.com"})")});
  // Query timestamps are ISO-8601 text; blobs are base64 text.
  cases.push_back({"QueryTimestampsAndLists",
                   "cloudwatch",
                   "GetMetricStatistics",
                   Protocol::kQuery,
                   FormPost("Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FECS"
                            "&MetricName=CPUUtilization&StartTime=2026-11-23T08%3A00%3A00Z"
                            "&EndTime=2026-11-23T09%3A00%3A00.500Z&Period=60"
                            "&Statistics.member.1=Average&Statistics.member.2=Maximum"),
                   {},
                   Json{{"Namespace", "AWS/ECS"},
                        {"MetricName", "CPUUtilization"},
                        {"StartTime", kInstant},
                        {"EndTime", kInstant + 3600.5},
                        {"Period", 60},
                        {"Statistics", {"Average", "Maximum"}}}});
  cases.push_back({"QueryBlobIsBase64",
                   "ses",
                   "SendRawEmail",
                   Protocol::kQuery,
                   FormPost("Action=SendRawEmail&Version=2010-12-01"
                            "&RawMessage.Data=U3ViamVjdDogaGkNCg0KYm9keQ%3D%3D"),
                   {},
                   Json{{"RawMessage", {{"Data", Binary("Subject: hi\r\n\r\nbody")}}}}});

  // --- EC2 query dialect: lists are Name.N, names capitalised from locationName ---
  cases.push_back({"Ec2DescribeVpcsWithFilters",
                   "ec2",
                   "DescribeVpcs",
                   Protocol::kEc2,
                   FormPost("Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2"
                            "&Filter.1.Name=cidr&Filter.1.Value.1=10.0.0.0%2F16"
                            "&Filter.1.Value.2=10.1.0.0%2F16&Filter.2.Name=is-default"
                            "&Filter.2.Value.1=true&DryRun=false&MaxResults=5"),
                   {},
                   Json::parse(R"({"VpcIds":["vpc-1","vpc-2"],"Filters":[
                     {"Name":"cidr","Values":["10.0.0.0/16","10.1.0.0/16"]},
                     {"Name":"is-default","Values":["true"]}],"DryRun":false,"MaxResults":5})")});
  cases.push_back(
      {"Ec2CreateVpcWithTagSpecifications",
       "ec2",
       "CreateVpc",
       Protocol::kEc2,
       FormPost("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"
                "&InstanceTenancy=default&TagSpecification.1.ResourceType=vpc"
                "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=main"),
       {},
       Json::parse(R"({"CidrBlock":"10.0.0.0/16","InstanceTenancy":"default",
                     "TagSpecifications":[{"ResourceType":"vpc",
                       "Tags":[{"Key":"Name","Value":"main"}]}]})")});

  // --- restJson1 ---
  cases.push_back({"RestJsonSesv2GetEmailIdentityPathLabel",
                   "sesv2",
                   "GetEmailIdentity",
                   Protocol::kRestJson,
                   RestCall("GET", "/v2/email/identities/sender%40example.com"),
                   {{"EmailIdentity", "sender@example.com"}},
                   Json::parse(R"({"EmailIdentity":"sender@example.com"})")});
  cases.push_back({"RestJsonSchedulerGetScheduleGroupNameQuery",
                   "scheduler",
                   "GetSchedule",
                   Protocol::kRestJson,
                   RestCall("GET", "/schedules/nightly?groupName=jobs"),
                   {{"Name", "nightly"}},
                   Json::parse(R"({"Name":"nightly","GroupName":"jobs"})")});
  cases.push_back({"RestJsonSchedulerListSchedulesQueryParams",
                   "scheduler",
                   "ListSchedules",
                   Protocol::kRestJson,
                   RestCall("GET",
                            "/schedules?ScheduleGroup=jobs&MaxResults=10&NamePrefix=night"
                            "&State=ENABLED&NextToken=abc%3D%3D"),
                   {},
                   Json::parse(R"({"GroupName":"jobs","MaxResults":10,"NamePrefix":"night",
                     "State":"ENABLED","NextToken":"abc=="})")});
  // The URI label wins over a same-named body member; body timestamps are epoch seconds.
  cases.push_back({"RestJsonSchedulerCreateScheduleBody",
                   "scheduler",
                   "CreateSchedule",
                   Protocol::kRestJson,
                   RestCall("POST", "/schedules/nightly",
                            R"j({"Name":"ignored","ScheduleExpression":"rate(5 minutes)",)j"
                            R"("FlexibleTimeWindow":{"Mode":"OFF"},"StartDate":1795420800,)"
                            R"("Target":{"Arn":"arn:aws:ecs:us-east-1:000000000000:cluster/web",)"
                            R"("RoleArn":"arn:aws:iam::000000000000:role/r","RetryPolicy":)"
                            R"({"MaximumRetryAttempts":3}}})"),
                   {{"Name", "nightly"}},
                   Json::parse(R"j({"Name":"nightly","ScheduleExpression":"rate(5 minutes)",
         "FlexibleTimeWindow":{"Mode":"OFF"},"StartDate":1795420800,
         "Target":{"Arn":"arn:aws:ecs:us-east-1:000000000000:cluster/web",
         "RoleArn":"arn:aws:iam::000000000000:role/r","RetryPolicy":{"MaximumRetryAttempts":3}}})j")});
  // A blob inside a restJson1 body is base64 text on the wire.
  cases.push_back(
      {"RestJsonSesv2SendRawEmailBlob",
       "sesv2",
       "SendEmail",
       Protocol::kRestJson,
       RestCall("POST", "/v2/email/outbound-emails", R"({"Content":{"Raw":{"Data":"aGVsbG8="}}})"),
       {},
       Json{{"Content", {{"Raw", {{"Data", Binary("hello")}}}}}}});

  // --- Smithy RPC v2 CBOR ---
  cases.push_back(
      {"CborCloudWatchListMetrics",
       "cloudwatch",
       "ListMetrics",
       Protocol::kRpcV2Cbor,
       CborPost("ListMetrics", Cbor(Json::parse(R"({"Namespace":"AWS/ECS","RecentlyActive":"PT3H",
                              "Dimensions":[{"Name":"ClusterName","Value":"web"}]})"))),
       {},
       Json::parse(R"({"Namespace":"AWS/ECS","RecentlyActive":"PT3H",
                     "Dimensions":[{"Name":"ClusterName","Value":"web"}]})")});
  // Tag-1 timestamps (what Smithy clients send) become epoch seconds.
  cases.push_back({"CborCloudWatchPutMetricDataTaggedTimestamp",
                   "cloudwatch",
                   "PutMetricData",
                   Protocol::kRpcV2Cbor,
                   CborPost("PutMetricData",
                            CborMap(2) + Cbor("Namespace") + Cbor("App") + Cbor("MetricData") +
                                CborArray(1) + CborMap(4) + Cbor("MetricName") + Cbor("Latency") +
                                Cbor("Timestamp") + CborEpoch(kInstant + 0.5) + Cbor("Unit") +
                                Cbor("Milliseconds") + Cbor("Value") + Cbor(Json(42.5))),
                   {},
                   Json{{"Namespace", "App"},
                        {"MetricData",
                         {{{"MetricName", "Latency"},
                           {"Timestamp", kInstant + 0.5},
                           {"Unit", "Milliseconds"},
                           {"Value", 42.5}}}}}});
  // Half (0xF9) and single (0xFA) precision floats, and chunked text, are read exactly.
  cases.push_back(
      {"CborHalfSingleFloatsAndChunkedText",
       "cloudwatch",
       "PutMetricData",
       Protocol::kRpcV2Cbor,
       CborPost("PutMetricData",
                CborMap(2) + Cbor("Namespace") + "\x7F\x62" + "Ap" + "\x61p\xFF" +
                    Cbor("MetricData") + CborArray(1) + CborMap(2) + Cbor("MetricName") +
                    Cbor("m") + Cbor("Values") + CborArray(3) + std::string("\xF9\x3E\x00", 3) +
                    std::string("\xF9\x84\x00", 3) + std::string("\xFA\x47\xC3\x50\x00", 5)),
       {},
       Json{{"Namespace", "App"},
            {"MetricData",
             {{{"MetricName", "m"}, {"Values", {1.5, -6.103515625e-05, 100000.0}}}}}}});
  // Indefinite-length maps (0xBF ... 0xFF) are accepted.
  cases.push_back({"CborIndefiniteLengthMap",
                   "cloudwatch",
                   "ListMetrics",
                   Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", "\xBF" + Cbor("Namespace") + Cbor("AWS/ECS") + "\xFF"),
                   {},
                   Json::parse(R"({"Namespace":"AWS/ECS"})")});
  cases.push_back({"CborEmptyBodyIsEmptyObject",
                   "cloudwatch",
                   "ListMetrics",
                   Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", ""),
                   {},
                   Json::object()});
  return cases;
}

class DecodeTest : public ::testing::TestWithParam<DecodeCase> {};

// Proves: each protocol's codec turns the SDK's wire request into the model's canonical JSON.
TEST_P(DecodeTest, DecodesToCanonicalInput) {
  const DecodeCase& c = GetParam();
  const ServiceModel& model = test::ModelOf(c.service);
  const Operation& op = test::OperationOf(c.service, c.operation);
  ApiResult result = CodecFor(c.protocol).DecodeInput(model, op, c.request, c.labels);
  ASSERT_TRUE(result.ok()) << result.error().code << ": " << result.error().message;
  EXPECT_EQ(result.output(), c.expected)
      << "got      " << result.output().dump() << "\nexpected " << c.expected.dump();
}

INSTANTIATE_TEST_SUITE_P(Wire, DecodeTest, ::testing::ValuesIn(DecodeCases()),
                         [](const ::testing::TestParamInfo<DecodeCase>& info) {
                           return info.param.name;
                         });

// Malformed or mistyped requests: the protocol's error code and the whole message.
struct DecodeErrorCase {
  std::string name;
  std::string service;
  std::string operation;
  Protocol protocol;
  HttpRequest request;
  std::string code;
  std::string message;
};

void PrintTo(const DecodeErrorCase& c, std::ostream* os) { *os << c.name; }

std::vector<DecodeErrorCase> DecodeErrorCases() {
  const std::string ecs = "AmazonEC2ContainerServiceV20141113.CreateCluster";
  std::vector<DecodeErrorCase> cases;
  cases.push_back({"JsonTruncatedBody", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, "{\"clusterName\":"), "SerializationException",
                   "the request body is not valid JSON: [json.exception.parse_error.101] parse "
                   "error at line 1, column 16: syntax error while parsing value - unexpected "
                   "end of input; expected '[', '{', or a literal"});
  // A number beyond double's range is a parse error, not an uncaught exception.
  cases.push_back({"JsonNumberOverflow", "logs", "PutLogEvents", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, "Logs_20140328.PutLogEvents",
                            R"({"logEvents":[{"timestamp":7181683E200000}]})"),
                   "SerializationException",
                   "the request body is not valid JSON: [json.exception.out_of_range.406] number "
                   "overflow parsing '7181683E200000'"});
  cases.push_back({"JsonArrayBody", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, "[1,2]"), "SerializationException",
                   "the request body must be a JSON object, found array"});
  cases.push_back({"JsonWrongMemberType", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, R"({"clusterName":5})"),
                   "SerializationException", "expected a string at 'clusterName', found number 5"});
  cases.push_back({"JsonWrongTypeInListElement", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, R"({"tags":[{"key":"a"},{"key":true}]})"),
                   "SerializationException",
                   "expected a string at 'tags.2.member.key', found boolean true"});
  cases.push_back({"JsonFractionForInteger", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs,
                            R"({"defaultCapacityProviderStrategy":[{"capacityProvider":"x",)"
                            R"("weight":1.5}]})"),
                   "SerializationException",
                   "expected an integer at 'defaultCapacityProviderStrategy.1.member.weight', "
                   "found number 1.5"});
  cases.push_back({"JsonNullListElement", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, R"({"capacityProviders":["a",null]})"),
                   "SerializationException",
                   "expected a value at 'capacityProviders.2.member', found null"});
  cases.push_back(
      {"JsonWrongContentType", "ecs", "CreateCluster", Protocol::kJson11,
       MakeRequest("POST", "/", {{"Content-Type", "text/plain"}, {"X-Amz-Target", ecs}}, "{}"),
       "SerializationException",
       "Content-Type 'text/plain' is not supported; expected "
       "application/x-amz-json-1.1"});
  cases.push_back({"Json10WrongContentTypeNamesJson10", "cloudwatch", "ListMetrics",
                   Protocol::kJson10,
                   MakeRequest("POST", "/", {{"Content-Type", "application/xml"}}, "{}"),
                   "SerializationException",
                   "Content-Type 'application/xml' is not supported; expected "
                   "application/x-amz-json-1.0"});
  cases.push_back({"JsonInvalidUtf8", "ecs", "CreateCluster", Protocol::kJson11,
                   JsonPost(Protocol::kJson11, ecs, "{\"clusterName\":\"\xC3\x28\"}"),
                   "SerializationException", "the request body is not valid UTF-8"});
  cases.push_back(
      {"JsonBadTimestampText", "events", "PutEvents", Protocol::kJson11,
       JsonPost(Protocol::kJson11, "AWSEvents.PutEvents", R"({"Entries":[{"Time":"yesterday"}]})"),
       "SerializationException",
       "expected a timestamp (ISO-8601 or epoch seconds) at 'Entries.1.member.Time', "
       "found 'yesterday'"});
  cases.push_back({"JsonBadBase64Blob", "sesv2", "SendEmail", Protocol::kRestJson,
                   RestCall("POST", "/v2/email/outbound-emails",
                            R"({"Content":{"Raw":{"Data":"not base64!"}}})"),
                   "SerializationException", "expected base64 data at 'Content.Raw.Data'"});
  cases.push_back({"QueryMalformedEscape", "elbv2", "CreateTargetGroup", Protocol::kQuery,
                   FormPost("Action=CreateTargetGroup&Name=web%zz"), "MalformedQueryString",
                   "the form body has a malformed percent-escape"});
  cases.push_back({"QueryInvalidUtf8Parameter", "elbv2", "CreateTargetGroup", Protocol::kQuery,
                   FormPost("Action=CreateTargetGroup&Na%FFme=web"), "MalformedQueryString",
                   "the parameter 'Na?me' is not valid UTF-8"});
  cases.push_back({"QueryNotAnInteger", "elbv2", "CreateTargetGroup", Protocol::kQuery,
                   FormPost("Action=CreateTargetGroup&Name=web&Port=80a"), "ValidationError",
                   "expected an integer at 'Port', found '80a'"});
  cases.push_back({"QueryIntegerOutOfRange", "elbv2", "CreateTargetGroup", Protocol::kQuery,
                   FormPost("Action=CreateTargetGroup&Name=web&Port=100000000000000000000"),
                   "ValidationError",
                   "expected an integer at 'Port', found '100000000000000000000'"});
  cases.push_back({"QueryNotABoolean", "elbv2", "CreateTargetGroup", Protocol::kQuery,
                   FormPost("Action=CreateTargetGroup&Name=web&HealthCheckEnabled=yes"),
                   "ValidationError",
                   "expected true or false at 'HealthCheckEnabled', found 'yes'"});
  cases.push_back({"QueryNestedBadInteger", "elbv2", "RegisterTargets", Protocol::kQuery,
                   FormPost("Action=RegisterTargets&TargetGroupArn=tg&Targets.member.1.Id=a"
                            "&Targets.member.1.Port=http"),
                   "ValidationError",
                   "expected an integer at 'Targets.member.1.Port', found 'http'"});
  cases.push_back(
      {"QueryTimestampOutOfRange", "cloudwatch", "GetMetricStatistics", Protocol::kQuery,
       FormPost("Action=GetMetricStatistics&StartTime=1e300&EndTime=0"), "ValidationError",
       "expected a timestamp between 0001-01-01 and 9999-12-31 at 'StartTime'"});
  cases.push_back({"Ec2NotAnInteger", "ec2", "DescribeVpcs", Protocol::kEc2,
                   FormPost("Action=DescribeVpcs&MaxResults=ten"), "InvalidParameterValue",
                   "expected an integer at 'MaxResults', found 'ten'"});
  cases.push_back({"RestJsonBadQueryInteger", "scheduler", "ListSchedules", Protocol::kRestJson,
                   RestCall("GET", "/schedules?MaxResults=ten"), "ValidationException",
                   "expected an integer at 'MaxResults', found 'ten'"});
  cases.push_back({"RestJsonWrongBodyContentType", "scheduler", "CreateSchedule",
                   Protocol::kRestJson,
                   MakeRequest("POST", "/schedules/x", {{"Content-Type", "text/xml"}}, "<a/>"),
                   "SerializationException",
                   "Content-Type 'text/xml' is not supported; expected application/json"});
  cases.push_back({"RestJsonBodyNotObject", "scheduler", "CreateSchedule", Protocol::kRestJson,
                   RestCall("POST", "/schedules/x", "\"text\""), "SerializationException",
                   "the request body must be a JSON object, found string"});
  cases.push_back({"CborNotAMap", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", Cbor(Json::array({1, 2}))), "SerializationException",
                   "the request body must be a CBOR map, found array"});
  cases.push_back({"CborTruncated", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", "\xA1\x69Namespa"), "SerializationException",
                   "the request body is not valid CBOR: unexpected end of input at byte 2"});
  cases.push_back(
      {"CborTrailingBytes", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
       CborPost("ListMetrics", Cbor(Json::object()) + std::string(1, '\0')),
       "SerializationException",
       "the request body is not valid CBOR: unexpected bytes after the CBOR value at byte 1"});
  cases.push_back(
      {"CborWrongContentType", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
       MakeRequest("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                   {{"Content-Type", "application/json"}}, "{}"),
       "SerializationException",
       "Content-Type 'application/json' is not supported; expected application/cbor"});
  cases.push_back(
      {"CborTimestampOutOfRange", "cloudwatch", "PutMetricData", Protocol::kRpcV2Cbor,
       CborPost("PutMetricData", CborMap(2) + Cbor("Namespace") + Cbor("App") + Cbor("MetricData") +
                                     CborArray(1) + CborMap(2) + Cbor("MetricName") + Cbor("m") +
                                     Cbor("Timestamp") + CborEpoch(-4e128)),
       "SerializationException",
       "expected a timestamp between 0001-01-01 and 9999-12-31 at "
       "'MetricData.1.member.Timestamp'"});
  cases.push_back({"CborNonUtf8Text", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", CborMap(1) + Cbor("Namespace") + "\x62\xC3\x28"),
                   "SerializationException",
                   "the request body is not valid CBOR: a CBOR text string is not valid UTF-8 at "
                   "byte 14"});
  cases.push_back({"CborNonTextMapKey", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", CborMap(1) + Cbor(1) + Cbor("x")),
                   "SerializationException",
                   "the request body is not valid CBOR: a CBOR map key is not a text string at "
                   "byte 1"});
  cases.push_back({"CborWrongMemberType", "cloudwatch", "ListMetrics", Protocol::kRpcV2Cbor,
                   CborPost("ListMetrics", Cbor(Json{{"Namespace", 7}})), "SerializationException",
                   "expected a string at 'Namespace', found number 7"});
  return cases;
}

class DecodeErrorTest : public ::testing::TestWithParam<DecodeErrorCase> {};

// Proves: a malformed request gets the protocol's error code and a precise message, never a crash.
TEST_P(DecodeErrorTest, RejectsWithProtocolError) {
  const DecodeErrorCase& c = GetParam();
  const ServiceModel& model = test::ModelOf(c.service);
  const Operation& op = test::OperationOf(c.service, c.operation);
  ApiResult result = CodecFor(c.protocol).DecodeInput(model, op, c.request, {});
  ASSERT_FALSE(result.ok()) << "decoded to " << result.output().dump();
  EXPECT_EQ(result.error().code, c.code);
  EXPECT_EQ(result.error().message, c.message);
  EXPECT_EQ(result.error().http_status, 400);
}

INSTANTIATE_TEST_SUITE_P(Wire, DecodeErrorTest, ::testing::ValuesIn(DecodeErrorCases()),
                         [](const ::testing::TestParamInfo<DecodeErrorCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace understudy::api
