// Target health: the state machine of aws-semantics §1.6 and the checker probing
// real targets over loopback on a virtual clock.
#include "elb/target_health.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "core/waits.h"

#include <filesystem>

#include "elb/data_plane.h"
#include "elb/http_test_util.h"
#include "elb/local_ca.h"

namespace understudy::elb {
namespace {

using testing::TestRequest;
using testing::TestResponse;
using testing::TestTarget;
namespace http = boost::beast::http;

ProbeResult Pass() { return {ProbeResult::Outcome::kPassed, 200}; }
ProbeResult Code(int status) { return {ProbeResult::Outcome::kCodeMismatch, status}; }

TEST(MatcherTest, SingleListAndRange) {
  EXPECT_TRUE(MatcherAccepts("200", 200));
  EXPECT_FALSE(MatcherAccepts("200", 204));
  EXPECT_TRUE(MatcherAccepts("200,202", 202));
  EXPECT_TRUE(MatcherAccepts("200-299", 250));
  EXPECT_FALSE(MatcherAccepts("200-299", 302));
}

TEST(NextHealthTest, NewTargetHealthyAfterOnePass) {
  HealthCheckSettings settings;  // healthy 5, unhealthy 2
  HealthCounters counters;
  TargetHealthReport initial{Target::Health::kInitial, "Elb.RegistrationInProgress", ""};
  EXPECT_EQ(NextHealth(initial, counters, Pass(), settings).state, Target::Health::kHealthy);
}

TEST(NextHealthTest, InitialFailuresThenUnhealthyWithReason) {
  HealthCheckSettings settings;
  HealthCounters counters;
  TargetHealthReport state{Target::Health::kInitial, "Elb.RegistrationInProgress", ""};
  state = NextHealth(state, counters, Code(404), settings);
  EXPECT_EQ(state.state, Target::Health::kInitial);
  EXPECT_EQ(state.reason, "Elb.InitialHealthChecking");
  state = NextHealth(state, counters, Code(404), settings);
  EXPECT_EQ(state.state, Target::Health::kUnhealthy);
  EXPECT_EQ(state.reason, "Target.ResponseCodeMismatch");
  EXPECT_EQ(state.description, "Health checks failed with these codes: [404]");
}

TEST(NextHealthTest, UnhealthyNeedsHealthyThresholdPasses) {
  HealthCheckSettings settings;
  settings.healthy_threshold = 3;
  HealthCounters counters;
  TargetHealthReport state{Target::Health::kUnhealthy, "Target.Timeout", "Request timed out"};
  state = NextHealth(state, counters, Pass(), settings);
  state = NextHealth(state, counters, Pass(), settings);
  EXPECT_EQ(state.state, Target::Health::kUnhealthy);
  state = NextHealth(state, counters, Pass(), settings);
  EXPECT_EQ(state.state, Target::Health::kHealthy);
  EXPECT_EQ(state.reason, "");
}

TEST(NextHealthTest, HealthyToleratesFewerFailuresThanThreshold) {
  HealthCheckSettings settings;
  settings.unhealthy_threshold = 3;
  HealthCounters counters;
  TargetHealthReport state{Target::Health::kHealthy, "", ""};
  state = NextHealth(state, counters, {ProbeResult::Outcome::kFailed, 0}, settings);
  state = NextHealth(state, counters, {ProbeResult::Outcome::kFailed, 0}, settings);
  EXPECT_EQ(state.state, Target::Health::kHealthy);
  state = NextHealth(state, counters, Pass(), settings);  // resets the count
  state = NextHealth(state, counters, {ProbeResult::Outcome::kFailed, 0}, settings);
  state = NextHealth(state, counters, {ProbeResult::Outcome::kFailed, 0}, settings);
  EXPECT_EQ(state.state, Target::Health::kHealthy);
  state = NextHealth(state, counters, {ProbeResult::Outcome::kFailed, 0}, settings);
  EXPECT_EQ(state.state, Target::Health::kUnhealthy);
  EXPECT_EQ(state.reason, "Target.FailedHealthChecks");
  EXPECT_EQ(state.description, "Health checks failed");
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = Clock::Create(loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}});
    checker_ = std::make_unique<HealthChecker>(loop_, *clock_);
    checker_->SetOnChange([this] { ++changes_; });
  }
  void TearDown() override { checker_.reset(); }

  // Runs the loop until `condition` holds (real I/O included) or 10 s pass.
  bool RunUntil(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      loop_.io().run_one_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  // Advances virtual time by `delta`, until the probes due by then have answered.
  void Advance(Duration delta) {
    bool done = false;
    ASSERT_TRUE(clock_->AdvanceTo(clock_->Now() + delta, [&] { done = true; }).ok());
    ASSERT_TRUE(RunUntil([&] { return done && clock_->active_holds() == 0; }));
  }
  CheckedTarget Checked(uint16_t port) {
    CheckedTarget target;
    target.key = {"arn:tg", "127.0.0.1", port};
    target.settings.path = "/health";
    return target;
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<HealthChecker> checker_;
  int changes_ = 0;
};

TEST_F(HealthCheckerTest, ProbesLikeAnAlbAndFollowsTheTarget) {
  TestTarget target("app");
  std::atomic<int> status{200};
  target.SetHandler([&](const TestRequest&) {
    return TestResponse{static_cast<http::status>(status.load()), 11};
  });
  CheckedTarget checked = Checked(target.port());
  checker_->SetTargets({checked});
  EXPECT_EQ(checker_->Health(checked.key).reason, "Elb.RegistrationInProgress");
  ASSERT_TRUE(
      RunUntil([&] { return checker_->Health(checked.key).state == Target::Health::kHealthy; }));
  TestRequest probe = target.requests().at(0);
  EXPECT_EQ(probe.target(), "/health");
  EXPECT_EQ(probe[http::field::user_agent], "ELB-HealthChecker/2.0");
  EXPECT_EQ(probe[http::field::host], "127.0.0.1:" + std::to_string(target.port()));

  status = 404;
  Advance(std::chrono::seconds(30));
  EXPECT_EQ(checker_->Health(checked.key).state, Target::Health::kHealthy);  // 1 of 2
  Advance(std::chrono::seconds(30));
  TargetHealthReport report = checker_->Health(checked.key);
  EXPECT_EQ(report.state, Target::Health::kUnhealthy);
  EXPECT_EQ(report.description, "Health checks failed with these codes: [404]");
  EXPECT_EQ(target.request_count(), 3u);  // one probe per 30 s interval, no more

  status = 200;
  Advance(std::chrono::seconds(120));  // 4 passes of the 5 needed
  EXPECT_EQ(target.request_count(), 7u);
  EXPECT_EQ(checker_->Health(checked.key).state, Target::Health::kUnhealthy);
  Advance(std::chrono::seconds(30));
  EXPECT_EQ(checker_->Health(checked.key).state, Target::Health::kHealthy);
  EXPECT_GE(changes_, 3);
}

TEST_F(HealthCheckerTest, RefusedConnectionsFailInitialChecks) {
  uint16_t port;
  {
    TestTarget gone("gone");
    port = gone.port();
  }
  CheckedTarget checked = Checked(port);
  checker_->SetTargets({checked});
  ASSERT_TRUE(RunUntil(
      [&] { return checker_->Health(checked.key).reason == "Elb.InitialHealthChecking"; }));
  EXPECT_EQ(checker_->Health(checked.key).state, Target::Health::kInitial);
  Advance(std::chrono::seconds(30));
  TargetHealthReport report = checker_->Health(checked.key);
  EXPECT_EQ(report.state, Target::Health::kUnhealthy);
  EXPECT_EQ(report.reason, "Target.FailedHealthChecks");
}

TEST_F(HealthCheckerTest, SlowAnswerPastTheTimeoutIsTargetTimeout) {
  testing::Gate answer;
  TestTarget target("slow");
  target.SetHandler([&](const TestRequest&) {
    answer.Wait();  // silent past the 2 s timeout, until the test has its answer
    return TestResponse{http::status::ok, 11};
  });
  CheckedTarget checked = Checked(target.port());
  checked.settings.timeout_seconds = 2;
  checked.settings.interval_seconds = 5;
  checker_->SetTargets({checked});
  ASSERT_TRUE(RunUntil(
      [&] { return checker_->Health(checked.key).reason == "Elb.InitialHealthChecking"; }));
  Advance(std::chrono::seconds(5));
  TargetHealthReport report = checker_->Health(checked.key);
  EXPECT_EQ(report.state, Target::Health::kUnhealthy);
  EXPECT_EQ(report.reason, "Target.Timeout");
  EXPECT_EQ(report.description, "Request timed out");
  answer.Open();
}

TEST_F(HealthCheckerTest, RemovedTargetsAreForgotten) {
  TestTarget target("app");
  CheckedTarget checked = Checked(target.port());
  checker_->SetTargets({checked});
  ASSERT_TRUE(
      RunUntil([&] { return checker_->Health(checked.key).state == Target::Health::kHealthy; }));
  checker_->SetTargets({});
  Advance(std::chrono::seconds(300));
  EXPECT_EQ(target.request_count(), 1u);
  EXPECT_EQ(checker_->Health(checked.key).reason, "Elb.RegistrationInProgress");
}

// A wait for a health change ends at the very check that made it: the clock does not
// step on to the next check (another target's included) before the wait has seen it.
TEST_F(HealthCheckerTest, WaitsSeeAChangeBeforeTheClockMovesOn) {
  Waits waits(loop_, *clock_);
  checker_->SetOnChange([&] {
    ++changes_;
    waits.NotifyChanged();  // as the journal's observer does
  });
  TestTarget failing("failing");
  failing.SetHandler([](const TestRequest&) {
    return TestResponse{http::status::service_unavailable, 11};
  });
  TestTarget passing("passing");
  CheckedTarget bad = Checked(failing.port());
  CheckedTarget good = Checked(passing.port());
  checker_->SetTargets({bad, good});
  ASSERT_TRUE(RunUntil([&] {
    return checker_->Health(bad.key).reason == "Elb.InitialHealthChecking" &&
           checker_->Health(good.key).state == Target::Health::kHealthy &&
           clock_->active_holds() == 0;
  }));
  TimePoint start = clock_->Now();
  std::optional<TimePoint> met_at;
  waits.WaitUntil(
      "unhealthy", [&] { return checker_->Health(bad.key).state == Target::Health::kUnhealthy; },
      std::chrono::minutes(10),
      [&](bool met) {
        if (met) met_at = clock_->Now();
      });
  ASSERT_TRUE(RunUntil([&] { return met_at.has_value(); }));
  EXPECT_EQ(*met_at - start, std::chrono::seconds(30));  // the second failing check
  EXPECT_EQ(failing.request_count(), 2u);
}

}  // namespace
}  // namespace understudy::elb

namespace understudy::elb {
namespace {

// Slow start: a target that becomes healthy beside one already serving ramps up over
// slow_start_seconds of clock time; the first to become healthy does not (§1.7).
TEST_F(HealthCheckerTest, SlowStartRampsOnTheClock) {
  TestTarget first("first"), second("second");
  CheckedTarget a = Checked(first.port());
  a.slow_start_seconds = 100;
  checker_->SetTargets({a});
  ASSERT_TRUE(RunUntil([&] { return checker_->Health(a.key).state == Target::Health::kHealthy; }));
  EXPECT_EQ(checker_->SlowStartFactor(a.key), 1.0);
  CheckedTarget b = Checked(second.port());
  b.slow_start_seconds = 100;
  checker_->SetTargets({a, b});
  ASSERT_TRUE(RunUntil([&] { return checker_->Health(b.key).state == Target::Health::kHealthy; }));
  EXPECT_DOUBLE_EQ(checker_->SlowStartFactor(b.key), 1.0 / 20);
  Advance(std::chrono::seconds(50));
  EXPECT_NEAR(checker_->SlowStartFactor(b.key), 0.5, 1e-9);
  Advance(std::chrono::seconds(50));
  EXPECT_EQ(checker_->SlowStartFactor(b.key), 1.0);
}

}  // namespace
}  // namespace understudy::elb

namespace understudy::elb {
namespace {

// HTTPS checks speak TLS to the target (here the data plane's own HTTPS listener,
// answering /health with a fixed 200) and accept its certificate unverified.
TEST_F(HealthCheckerTest, HttpsChecksSpeakTls) {
  std::string ca_dir = ::testing::TempDir() + "/understudy-hc-ca-" + std::to_string(getpid());
  auto ca = LocalCa::LoadOrCreate(ca_dir);
  ASSERT_TRUE(ca.ok());
  auto issued = (*ca)->Issue({"target.test"});
  ASSERT_TRUE(issued.ok());
  DataPlaneOptions options;
  options.now = [] { return TimePoint{}; };
  auto plane = DataPlane::Start(options).value();
  auto port = plane->OpenListener("arn:listener", {});
  ASSERT_TRUE(port.ok());
  RoutingSnapshot snapshot;
  snapshot.version = 1;
  Listener listener;
  listener.arn = "arn:listener";
  listener.protocol = "HTTPS";
  listener.local_port = *port;
  listener.certificate_pem = issued->certificate_pem;
  listener.private_key_pem = issued->private_key_pem;
  listener.default_action.type = Action::Type::kFixedResponse;
  listener.default_action.fixed_status = 200;
  snapshot.listeners = {listener};
  plane->Publish(snapshot);

  CheckedTarget https = Checked(*port);
  https.settings.protocol = "HTTPS";
  CheckedTarget plain = Checked(*port);
  plain.key.target_group_arn = "arn:tg-plain";  // HTTP to the TLS port: the ALB's 400
  checker_->SetTargets({https, plain});
  ASSERT_TRUE(RunUntil([&] {
    return checker_->Health(https.key).state == Target::Health::kHealthy &&
           checker_->Health(plain.key).reason == "Elb.InitialHealthChecking";
  }));
  plane->Stop();
  std::filesystem::remove_all(ca_dir);
}

}  // namespace
}  // namespace understudy::elb
