// The ALB data plane over real loopback sockets: listeners, rules, target choice,
// the ALB's own responses and headers (aws-semantics §1.2–§1.9).
#include "elb/data_plane.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cmath>
#include <filesystem>
#include <regex>

#include "elb/http_test_util.h"
#include "elb/local_ca.h"
#include "elb/rule_match.h"

namespace understudy::elb {
namespace {

using testing::TestClient;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestTarget;
namespace http = boost::beast::http;

const std::string kLb =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef";
const std::string kListener =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/0123456789abcdef/"
    "1111111111111111";
const std::string kGroupA =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/a/aaaaaaaaaaaaaaaa";
const std::string kGroupB =
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/b/bbbbbbbbbbbbbbbb";

Action Forward(const std::string& group) {
  Action action;
  action.type = Action::Type::kForward;
  action.groups = {{group, 1}};
  return action;
}

Condition Path(const std::string& pattern) {
  Condition condition;
  condition.field = Condition::Field::kPathPattern;
  condition.values = {pattern};
  return condition;
}

Target HealthyTarget(uint16_t port, Target::Health health = Target::Health::kHealthy) {
  Target target;
  target.id = "127.0.0.1";
  target.port = port;
  target.health = health;
  return target;
}

std::string Header(const TestResponse& response, http::field field) {
  auto it = response.find(field);
  return it == response.end() ? "" : std::string(it->value());
}
std::string Header(const TestRequest& request, const std::string& name) {
  auto it = request.find(name);
  return it == request.end() ? "" : std::string(it->value());
}

class DataPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DataPlaneOptions options;
    options.threads = 2;
    options.seed = 7;
    options.now = [] { return TimePoint(std::chrono::seconds(1795000000)); };
    plane_ = DataPlane::Start(options).value();
    auto port = plane_->OpenListener(kListener, {});
    ASSERT_TRUE(port.ok());
    port_ = *port;
    LoadBalancerSettings lb;
    lb.arn = kLb;
    lb.name = "web";
    lb.id = "0123456789abcdef";
    snapshot_.load_balancers[kLb] = lb;
    Listener listener;
    listener.arn = kListener;
    listener.load_balancer_arn = kLb;
    listener.port = 80;
    listener.local_port = port_;
    listener.default_action = Forward(kGroupA);
    snapshot_.listeners = {listener};
    snapshot_.target_groups[kGroupA].arn = kGroupA;
    snapshot_.target_groups[kGroupB].arn = kGroupB;
  }
  void TearDown() override { plane_->Stop(); }

  void Publish() {
    snapshot_.version++;
    plane_->Publish(snapshot_);
  }
  Listener& listener() { return snapshot_.listeners[0]; }
  TargetGroup& group(const std::string& arn) { return snapshot_.target_groups[arn]; }

  std::unique_ptr<DataPlane> plane_;
  uint16_t port_ = 0;
  RoutingSnapshot snapshot_;
};

TEST_F(DataPlaneTest, ForwardsToAHealthyTargetWithTheAlbHeaders) {
  TestTarget target("t1");
  group(kGroupA).targets = {HealthyTarget(target.port())};
  Publish();
  TestClient client(port_);
  TestResponse response = client.Get(
      "/api/users?x=1",
      {{"Host", "web.test:" + std::to_string(port_)}, {"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "ok from t1");
  ASSERT_EQ(target.request_count(), 1u);
  TestRequest seen = target.requests()[0];
  EXPECT_EQ(seen.target(), "/api/users?x=1");
  // Listener port 80: the port in Host is stripped (§1.9).
  EXPECT_EQ(Header(seen, "Host"), "web.test");
  EXPECT_EQ(Header(seen, "X-Forwarded-For"), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(Header(seen, "X-Forwarded-Proto"), "http");
  EXPECT_EQ(Header(seen, "X-Forwarded-Port"), "80");
  EXPECT_TRUE(std::regex_match(Header(seen, "X-Amzn-Trace-Id"),
                               std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24}")))
      << Header(seen, "X-Amzn-Trace-Id");
  // The epoch in the trace id comes from the emulator's clock.
  EXPECT_EQ(Header(seen, "X-Amzn-Trace-Id").substr(7, 8), "6afd86c0");
}

TEST_F(DataPlaneTest, KeepsClientAndTargetConnectionsAlive) {
  TestTarget target("t1");
  group(kGroupA).targets = {HealthyTarget(target.port())};
  Publish();
  TestClient client(port_);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Get("/").result_int(), 200u);
  EXPECT_EQ(target.request_count(), 20u);
  EXPECT_LE(target.connection_count(), 2u);  // one per data-plane thread at most
}

TEST_F(DataPlaneTest, NoRegisteredTargetsIs503FromTheAlb) {
  Publish();
  TestClient client(port_);
  TestResponse response = client.Get("/");
  EXPECT_EQ(response.result_int(), 503u);
  EXPECT_EQ(Header(response, http::field::server), "awselb/2.0");
  EXPECT_NE(response.body().find("<title>503 Service Temporarily Unavailable</title>"),
            std::string::npos);
}

TEST_F(DataPlaneTest, RefusedConnectionIs502) {
  uint16_t closed_port;
  {
    TestTarget gone("gone");
    closed_port = gone.port();
  }
  group(kGroupA).targets = {HealthyTarget(closed_port)};
  Publish();
  TestClient client(port_);
  TestResponse response = client.Get("/");
  EXPECT_EQ(response.result_int(), 502u);
  EXPECT_NE(response.body().find("502 Bad Gateway"), std::string::npos);
}

TEST_F(DataPlaneTest, TargetSilentPastIdleTimeoutIs504) {
  testing::Gate answer;
  TestTarget target("slow");
  target.SetHandler([&](const TestRequest&) {
    answer.Wait();  // silent until the ALB has given up
    return TestResponse{http::status::ok, 11};
  });
  snapshot_.load_balancers[kLb].idle_timeout_seconds = 1;
  group(kGroupA).targets = {HealthyTarget(target.port())};
  Publish();
  TestClient client(port_);
  TestResponse response = client.Get("/");
  answer.Open();
  EXPECT_EQ(response.result_int(), 504u);
  EXPECT_NE(response.body().find("504 Gateway Time-out"), std::string::npos);
}

// A request whose head never ends is answered 408 once the idle timeout passes, and
// a keep-alive connection left idle past it is closed without an answer (§1.9).
TEST_F(DataPlaneTest, PartialRequestPastIdleTimeoutIs408AndIdleConnectionCloses) {
  TestTarget target("a");
  snapshot_.load_balancers[kLb].idle_timeout_seconds = 1;
  group(kGroupA).targets = {HealthyTarget(target.port())};
  Publish();
  TestClient partial(port_);
  TestResponse response = partial.Raw("GET / HTTP/1.1\r\nHost: web.test\r\n");
  EXPECT_EQ(response.result_int(), 408u);

  TestClient idle(port_);
  EXPECT_EQ(idle.Get("/").result_int(), 200u);
  boost::beast::flat_buffer buffer;
  TestResponse nothing;
  boost::system::error_code ec;
  http::read(idle.socket(), buffer, nothing, ec);  // returns when the ALB closes
  EXPECT_EQ(ec, http::error::end_of_stream);
}

TEST_F(DataPlaneTest, RulesInPriorityOrderThenDefault) {
  Rule api;
  api.priority = 10;
  api.conditions = {Path("/api/*")};
  api.action = Forward(kGroupB);
  Rule maintenance;
  maintenance.priority = 5;
  maintenance.conditions = {Path("/api/admin*")};
  maintenance.action.type = Action::Type::kFixedResponse;
  maintenance.action.fixed_status = 503;
  maintenance.action.fixed_content_type = "text/plain";
  maintenance.action.fixed_body = "down for maintenance";
  listener().rules = {maintenance, api};
  TestTarget a("a"), b("b");
  group(kGroupA).targets = {HealthyTarget(a.port())};
  group(kGroupB).targets = {HealthyTarget(b.port())};
  Publish();
  TestClient client(port_);
  EXPECT_EQ(client.Get("/api/users").body(), "ok from b");
  EXPECT_EQ(client.Get("/other").body(), "ok from a");
  TestResponse fixed = client.Get("/api/admin/x");
  EXPECT_EQ(fixed.result_int(), 503u);
  EXPECT_EQ(fixed.body(), "down for maintenance");
  EXPECT_EQ(Header(fixed, http::field::content_type), "text/plain; charset=utf-8");
  // Case-sensitive path: /API/users is not /api/*.
  EXPECT_EQ(client.Get("/API/users").body(), "ok from a");
}

TEST_F(DataPlaneTest, RedirectSubstitutesKeywords) {
  listener().default_action.type = Action::Type::kRedirect;
  listener().default_action.redirect_protocol = "HTTPS";
  listener().default_action.redirect_port = "443";
  listener().default_action.redirect_status = 301;
  Publish();
  TestClient client(port_);
  TestResponse response = client.Get("/a/b?q=1", {{"Host", "shop.example.com"}});
  EXPECT_EQ(response.result_int(), 301u);
  EXPECT_EQ(Header(response, http::field::location), "https://shop.example.com/a/b?q=1");
}

TEST_F(DataPlaneTest, WeightedTargetGroupsSplitWithinThreePercent) {
  TestTarget a("a"), b("b");
  group(kGroupA).targets = {HealthyTarget(a.port())};
  group(kGroupB).targets = {HealthyTarget(b.port())};
  listener().default_action.groups = {{kGroupA, 80}, {kGroupB, 20}};
  Publish();
  TestClient client(port_);
  int to_a = 0;
  const int kRequests = 10000;
  for (int i = 0; i < kRequests; ++i) to_a += client.Get("/").body() == "ok from a";
  EXPECT_NEAR(to_a / double(kRequests), 0.80, 0.03);
}

TEST_F(DataPlaneTest, RoundRobinAcrossHealthyTargetsOnly) {
  TestTarget a("a"), b("b"), c("c");
  group(kGroupA).targets = {HealthyTarget(a.port()), HealthyTarget(b.port()),
                            HealthyTarget(c.port(), Target::Health::kInitial)};
  Publish();
  TestClient client(port_);
  for (int i = 0; i < 10; ++i) client.Get("/");
  EXPECT_EQ(a.request_count(), 5u);
  EXPECT_EQ(b.request_count(), 5u);
  EXPECT_EQ(c.request_count(), 0u);
}

TEST_F(DataPlaneTest, FailsOpenWhenEveryTargetIsUnhealthy) {
  TestTarget a("a");
  group(kGroupA).targets = {HealthyTarget(a.port(), Target::Health::kUnhealthy)};
  Publish();
  TestClient client(port_);
  EXPECT_EQ(client.Get("/").body(), "ok from a");
}

TEST_F(DataPlaneTest, LbCookieStickinessKeepsATarget) {
  TestTarget a("a"), b("b");
  group(kGroupA).targets = {HealthyTarget(a.port()), HealthyTarget(b.port())};
  group(kGroupA).stickiness = true;
  Publish();
  TestClient client(port_);
  TestResponse first = client.Get("/");
  std::string cookie;
  for (const auto& field : first) {
    if (field.name() == http::field::set_cookie && field.value().starts_with("AWSALB=")) {
      cookie = std::string(field.value().substr(0, field.value().find(';')));
      EXPECT_NE(field.value().find("Expires="), boost::beast::string_view::npos);
    }
  }
  ASSERT_FALSE(cookie.empty());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client.Get("/", {{"Cookie", cookie}}).body(), first.body());
  }
  // An unknown cookie is replaced by a fresh choice.
  EXPECT_EQ(client.Get("/", {{"Cookie", "AWSALB=bogus"}}).result_int(), 200u);
}

TEST_F(DataPlaneTest, DrainingTargetFinishesNothingNewAndIsCutWith502) {
  testing::Gate release;
  TestTarget slow("slow");
  slow.SetHandler([&](const TestRequest&) {
    release.Wait();
    return TestResponse{http::status::ok, 11};
  });
  group(kGroupA).targets = {HealthyTarget(slow.port())};
  Publish();
  std::thread client_thread;
  TestResponse cut_response;
  client_thread = std::thread([&] {
    TestClient client(port_);
    cut_response = client.Get("/slow");
  });
  ASSERT_TRUE(slow.WaitForRequests(1));
  EXPECT_EQ(plane_->Counters(kGroupA, "127.0.0.1", slow.port()).in_flight, 1u);
  // Deregistered: draining gets no new request...
  group(kGroupA).targets[0].health = Target::Health::kDraining;
  Publish();
  TestClient other(port_);
  EXPECT_EQ(other.Get("/new").result_int(), 503u);
  // ...and the delay ending cuts the one in flight.
  plane_->CutTarget(kGroupA, "127.0.0.1", slow.port());
  client_thread.join();
  release.Open();
  EXPECT_EQ(cut_response.result_int(), 502u);
}

TEST_F(DataPlaneTest, MalformedRequestsAreAnsweredByTheAlb) {
  TestTarget a("a");
  group(kGroupA).targets = {HealthyTarget(a.port())};
  Publish();
  EXPECT_EQ(TestClient(port_).Raw("GARBAGE\r\n\r\n").result_int(), 400u);
  EXPECT_EQ(TestClient(port_).Raw("TRACE / HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 405u);
  EXPECT_EQ(TestClient(port_)
                .Raw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .result_int(),
            400u);
  std::string xff = "1.1.1.1";
  for (int i = 0; i < 30; ++i) xff += ", 1.1.1.1";
  EXPECT_EQ(TestClient(port_).Get("/", {{"X-Forwarded-For", xff}}).result_int(), 463u);
  std::string huge(70 * 1024, 'a');
  EXPECT_EQ(TestClient(port_)
                .Raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n")
                .result_int(),
            400u);
  EXPECT_EQ(a.request_count(), 0u);  // none of it reached the target
}

TEST_F(DataPlaneTest, WebSocketUpgradeEchoes) {
  TestTarget a("a");
  group(kGroupA).targets = {HealthyTarget(a.port())};
  Publish();
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws(io);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  ws.handshake("web.test", "/chat");
  ws.write(boost::asio::buffer(std::string("hello")));
  boost::beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), "hello");
  ws.close(boost::beast::websocket::close_code::normal);
}

TEST_F(DataPlaneTest, ClosingAListenerStopsIt) {
  Publish();
  plane_->CloseListener(kListener);  // closed when it returns
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
  EXPECT_EQ(ec, boost::asio::error::connection_refused);
}

}  // namespace
}  // namespace understudy::elb

namespace understudy::elb {
namespace {

// HTTPS listeners: certificates from the local CA, verified by a client trusting it.
TEST_F(DataPlaneTest, HttpsListenerTerminatesTlsWithTheLocalCa) {
  std::string ca_dir = ::testing::TempDir() + "/understudy-ca-" + std::to_string(getpid());
  auto ca = LocalCa::LoadOrCreate(ca_dir);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  auto issued = (*ca)->Issue({"web-123.us-east-1.elb.amazonaws.com"});
  ASSERT_TRUE(issued.ok());
  TestTarget target("secure");
  group(kGroupA).targets = {HealthyTarget(target.port())};
  listener().protocol = "HTTPS";
  listener().port = 443;
  listener().certificate_pem = issued->certificate_pem;
  listener().private_key_pem = issued->private_key_pem;
  Publish();

  boost::asio::io_context io;
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  context.add_certificate_authority(boost::asio::buffer((*ca)->ca_pem()));
  context.set_verify_mode(boost::asio::ssl::verify_peer);
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream(io, context);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.set_verify_callback(boost::asio::ssl::host_name_verification("localhost"));
  boost::beast::get_lowest_layer(stream).connect(
      {boost::asio::ip::make_address("127.0.0.1"), port_});
  stream.handshake(boost::asio::ssl::stream_base::client);
  TestRequest request{http::verb::get, "/secure", 11};
  request.set(http::field::host, "localhost");
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  TestResponse response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "ok from secure");
  EXPECT_EQ(Header(target.requests().at(0), "X-Forwarded-Proto"), "https");
  EXPECT_EQ(Header(target.requests().at(0), "X-Forwarded-Port"), "443");

  // Plain HTTP to the HTTPS port: 400 from the ALB, nothing forwarded.
  TestResponse plain = TestClient(port_).Raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.result_int(), 400u);
  EXPECT_NE(plain.body().find("The plain HTTP request was sent to HTTPS port"), std::string::npos);
  EXPECT_EQ(target.request_count(), 1u);

  // The CA is kept: loading the directory again gives the same CA certificate.
  auto again = LocalCa::LoadOrCreate(ca_dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->ca_pem(), (*ca)->ca_pem());
  std::filesystem::remove_all(ca_dir);
}

}  // namespace
}  // namespace understudy::elb

namespace understudy::elb {
namespace {

// An HTTPS target group: the ALB speaks TLS to its targets (here the plane's own
// HTTPS listener answering with a fixed response) without verifying them.
TEST_F(DataPlaneTest, HttpsTargetGroupsGetTls) {
  std::string ca_dir = ::testing::TempDir() + "/understudy-tg-ca-" + std::to_string(getpid());
  auto ca = LocalCa::LoadOrCreate(ca_dir);
  ASSERT_TRUE(ca.ok());
  auto issued = (*ca)->Issue({"target.test"});
  ASSERT_TRUE(issued.ok());
  const std::string kSecure = kListener + "-secure";
  auto secure_port = plane_->OpenListener(kSecure, {});
  ASSERT_TRUE(secure_port.ok());
  Listener secure;
  secure.arn = kSecure;
  secure.load_balancer_arn = kLb;
  secure.protocol = "HTTPS";
  secure.port = 443;
  secure.local_port = *secure_port;
  secure.certificate_pem = issued->certificate_pem;
  secure.private_key_pem = issued->private_key_pem;
  secure.default_action.type = Action::Type::kFixedResponse;
  secure.default_action.fixed_status = 200;
  secure.default_action.fixed_body = "over tls";
  snapshot_.listeners.push_back(secure);
  group(kGroupA).protocol = "HTTPS";
  group(kGroupA).targets = {HealthyTarget(*secure_port)};
  Publish();
  TestClient client(port_);
  for (int i = 0; i < 3; ++i) {  // the second and third reuse the TLS connection
    TestResponse response = client.Get("/");
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), "over tls");
  }
  group(kGroupA).protocol = "HTTP";  // plain HTTP to the TLS port: its 400 comes back
  Publish();
  EXPECT_EQ(TestClient(port_).Get("/").result_int(), 400u);
  std::filesystem::remove_all(ca_dir);
}

}  // namespace
}  // namespace understudy::elb
