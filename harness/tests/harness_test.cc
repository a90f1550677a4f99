// The harness against real emulator processes: start/stop without leaks (also when
// the test process dies), AWS calls and their errors, the clock, waits and their
// failure texts, emails, traffic through a listener, and the GoogleTest fixture.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "understudy/harness.h"

namespace understudy {
namespace {

using nlohmann::json;

std::string FixtureApp() {
  const char* env = std::getenv("UNDERSTUDY_FIXTURE_APP");
  return env != nullptr && *env != '\0' ? env : UNDERSTUDY_FIXTURE_APP_PATH;
}

json FixtureTaskDefinition(const std::string& family) {
  return {{"family", family},
          {"networkMode", "awsvpc"},
          {"requiresCompatibilities", {"FARGATE"}},
          {"cpu", "256"},
          {"memory", "512"},
          {"containerDefinitions",
           {{{"name", "web"},
             {"image", "local/fixture"},
             {"essential", true},
             {"command", {FixtureApp(), "--port", "8080", "--name", family}},
             {"portMappings", {{{"containerPort", 8080}}}}}}}};
}

// True when `pid` is gone within `ms` (it is not our child: poll its pidfd).
bool GoneWithin(pid_t pid, int ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, ms);
  ::close(fd);
  return ready == 1;
}

EmulatorOptions At(const std::string& start, uint64_t seed = 1) {
  EmulatorOptions options;
  options.start = start;
  options.seed = seed;
  return options;
}

TEST(EmulatorTest, StartsOnAFreePortAndStopsWithoutLeaks) {
  Emulator emulator(At("2026-11-23T08:00:00Z"));
  ASSERT_TRUE(emulator.Start().ok()) << emulator.StderrTail();
  EXPECT_GT(emulator.port(), 0);
  EXPECT_EQ(emulator.endpoint().rfind("http://", 0), 0u) << emulator.endpoint();
  auto health = emulator.Control("GET", "/_understudy/health");
  ASSERT_TRUE(health.ok()) << health.error();
  EXPECT_EQ((*health)["clock"]["mode"], "virtual");
  EXPECT_EQ((*health)["seed"], 1);
  EXPECT_EQ((*health)["stateDir"], emulator.state_dir());
  std::string dir = std::filesystem::path(emulator.state_dir()).parent_path().string();
  ASSERT_TRUE(std::filesystem::exists(dir));
  pid_t pid = emulator.pid();

  EXPECT_EQ(emulator.Stop(), 0);
  EXPECT_FALSE(emulator.running());
  EXPECT_EQ(::kill(pid, 0), -1) << "the emulator was not reaped";
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " was left behind";
  EXPECT_FALSE(emulator.Now().ok());
}

TEST(EmulatorTest, TwoEmulatorsRunSideBySide) {
  Emulator a(EmulatorOptions{}), b(EmulatorOptions{});
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.state_dir(), b.state_dir());
}

TEST(EmulatorTest, ABadBinaryIsAnErrorThatSaysWhy) {
  EmulatorOptions options;
  options.binary = "/nonexistent/understudy";
  Emulator emulator(options);
  ::unsetenv("UNDERSTUDY_BINARY");
  auto started = emulator.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, "StartFailed");
  EXPECT_NE(started.error().message.find("/nonexistent/understudy"), std::string::npos)
      << started.error();
  EXPECT_FALSE(emulator.running());
}

TEST(EmulatorTest, BadServeFlagsReportTheEmulatorsStderr) {
  EmulatorOptions options;
  options.extra_args = {"--no-such-flag"};
  Emulator emulator(options);
  auto started = emulator.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("no-such-flag"), std::string::npos) << started.error();
}

// A test process that dies (SIGKILL: no destructors) takes its emulator with it, and
// the next harness start removes the directory it left.
TEST(EmulatorTest, ACrashedTestLeavesNoEmulatorAndItsDirectoryIsSwept) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    Emulator emulator(EmulatorOptions{});
    if (!emulator.Start().ok()) ::_exit(3);
    std::string line = std::to_string(emulator.pid()) + " " + emulator.state_dir() + "\n";
    if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(4);
    ::pause();  // killed here
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  ASSERT_FALSE(line.empty()) << "the child could not start an emulator";
  pid_t emulator_pid = std::stoi(line.substr(0, line.find(' ')));
  std::string dir = std::filesystem::path(line.substr(line.find(' ') + 1)).parent_path();
  ASSERT_TRUE(std::filesystem::exists(dir));

  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(GoneWithin(emulator_pid, 20000))
      << "emulator " << emulator_pid << " outlived its test";
  EXPECT_TRUE(std::filesystem::exists(dir)) << "nothing could remove it yet";

  Emulator next(EmulatorOptions{});
  ASSERT_TRUE(next.Start().ok());
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " was not swept";
}

TEST(ClockTest, NowAdvanceAndAdvanceTo) {
  Emulator emulator(At("2026-11-23T08:00:00Z"));
  ASSERT_TRUE(emulator.Start().ok());
  auto now = emulator.Now();
  ASSERT_TRUE(now.ok()) << now.error();
  EXPECT_EQ(now->substr(0, 19), "2026-11-23T08:00:00");
  auto later = emulator.Advance("90s");
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_EQ(later->substr(0, 19), "2026-11-23T08:01:30");
  later = emulator.Advance(std::chrono::minutes(30));
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_EQ(later->substr(0, 19), "2026-11-23T08:31:30");
  later = emulator.AdvanceTo("2026-11-24T00:00:00Z");
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_EQ(later->substr(0, 19), "2026-11-24T00:00:00");

  auto back = emulator.AdvanceTo("2026-11-23T00:00:00Z");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, "InvalidClockRequest");
  EXPECT_EQ(back.error().status, 400);
  EXPECT_NE(back.error().message.find("cannot move the clock back"), std::string::npos)
      << back.error();
  auto bad = emulator.Advance("soon");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidClockRequest");

  // Each move is an input in the journal, with its virtual time.
  auto journal = emulator.Journal();
  ASSERT_TRUE(journal.ok()) << journal.error();
  int moves = 0;
  for (const auto& entry : *journal) {
    if (entry["subject"] == "understudy.clock") ++moves;
  }
  EXPECT_EQ(moves, 3) << journal->dump();
  EXPECT_EQ((*journal)[0]["subject"], "understudy.serve");
}

TEST(AwsClientTest, OperationsAndAwsErrors) {
  Emulator emulator(EmulatorOptions{});
  ASSERT_TRUE(emulator.Start().ok());
  AwsClient aws(emulator);
  auto cluster = aws.CreateCluster("web");
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  EXPECT_EQ((*cluster)["clusterName"], "web");
  EXPECT_EQ((*cluster)["status"], "ACTIVE");

  auto missing = aws.Call("ecs", "DeleteCluster", {{"cluster", "nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "ClusterNotFoundException");
  EXPECT_EQ(missing.error().message, "Cluster not found.");
  EXPECT_EQ(missing.error().status, 400);

  auto invalid = aws.Call("ecs", "CreateService", {{"cluster", "web"}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().code, "");

  auto unknown = aws.Call("ecs", "FlyToTheMoon", json::object());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "UnknownOperationException");

  auto no_service = aws.DescribeService("web", "ghost");
  ASSERT_FALSE(no_service.ok());
  EXPECT_EQ(no_service.error().code, "ServiceNotFoundException");
}

// A wait that cannot hold fails with what it waited for and the last observed state.
TEST(WaitsTest, AFailedWaitExplainsItself) {
  Emulator emulator(At("2026-11-23T08:00:00Z"));
  ASSERT_TRUE(emulator.Start().ok());
  AwsClient aws(emulator);
  ASSERT_TRUE(aws.CreateCluster("web").ok());
  auto result = WaitFor(emulator, until::ServiceSteady("web", "ghost"), "2m");
  ASSERT_FALSE(result);
  std::string text = result.message();
  EXPECT_NE(text.find("ecsService"), std::string::npos) << text;
  EXPECT_NE(text.find("ghost"), std::string::npos) << text;
  EXPECT_NE(text.find("did not hold within 2m"), std::string::npos) << text;
  EXPECT_NE(text.find("last observed"), std::string::npos) << text;
  // The virtual clock moved to the wait's deadline.
  EXPECT_EQ(emulator.Now()->substr(0, 19), "2026-11-23T08:02:00");

  EXPECT_TRUE(WaitFor(emulator, until::ClusterActive("web"), "1m"));
  auto bad = WaitFor(emulator, Condition{"noSuchCondition", json::object()});
  ASSERT_FALSE(bad);
  EXPECT_NE(std::string(bad.message()).find("InvalidWaitRequest"), std::string::npos)
      << bad.message();
}

TEST(EmailsTest, SendFindReadAndWait) {
  Emulator emulator(At("2026-11-23T08:00:00Z"));
  ASSERT_TRUE(emulator.Start().ok());
  AwsClient aws(emulator);
  ASSERT_TRUE(aws.VerifyEmailIdentity("shop@example.org").ok());
  ASSERT_TRUE(aws.VerifyEmailIdentity("ada@example.org").ok());
  auto id = aws.SendEmail("shop@example.org", {"ada@example.org"}, "Your order",
                          "Thanks! Track it at https://shop.example.org/orders/42");
  ASSERT_TRUE(id.ok()) << id.error();
  EXPECT_FALSE(id->empty());

  EXPECT_TRUE(WaitForEmails(emulator, {{"to", "ada@example.org"}}, 1, "1m"));
  auto count = CountEmails(emulator, {{"to", "ada@example.org"}});
  ASSERT_TRUE(count.ok()) << count.error();
  EXPECT_EQ(*count, 1);
  auto latest = LatestEmail(emulator, {{"to", "ada@example.org"}});
  ASSERT_TRUE(latest.ok()) << latest.error();
  EXPECT_EQ((*latest)["subject"], "Your order");
  EXPECT_NE((*latest)["links"].dump().find("https://shop.example.org/orders/42"), std::string::npos)
      << latest->dump();
  auto list = ListEmails(emulator, {{"subject", "order"}});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(*CountEmails(emulator, {{"to", "bob@example.org"}}), 0);

  auto none = WaitForEmails(emulator, {{"to", "bob@example.org"}}, 1, "30s");
  ASSERT_FALSE(none);
  std::string text = none.message();
  EXPECT_NE(text.find("bob@example.org"), std::string::npos) << text;
  EXPECT_NE(text.find("most recent messages"), std::string::npos) << text;

  auto unverified = aws.SendEmail("eve@example.org", {"ada@example.org"}, "x", "y");
  ASSERT_FALSE(unverified.ok());
  EXPECT_EQ(unverified.error().code, "MessageRejected") << unverified.error();
}

TEST(TrafficTest, ClosedPortCountsErrors) {
  TrafficOptions options;
  options.base_url = "http://127.0.0.1:1";
  options.requests = 5;
  options.concurrency = 2;
  auto report = SendTraffic(options);
  EXPECT_EQ(report.total, 5);
  EXPECT_EQ(report.errors, 5);
  EXPECT_EQ(report.Failed(), 5);
  EXPECT_NE(report.Summary().find("5 errors"), std::string::npos) << report.Summary();
}

// The fixture: a Fargate service of the fixture app behind an ALB, steady, with every
// request answered, an hour later still steady.
class ServiceBehindAlbTest : public testing::EmulatorTest {
 protected:
  EmulatorOptions Options() const override { return At("2026-11-23T08:00:00Z", 42); }
};

TEST_F(ServiceBehindAlbTest, SteadyAndServing) {
  ASSERT_TRUE(aws().CreateCluster("web").ok());
  ASSERT_TRUE(aws().RegisterTaskDefinition(FixtureTaskDefinition("shop")).ok());
  auto lb = aws().CreateLoadBalancer("web");
  ASSERT_TRUE(lb.ok()) << lb.error();
  auto tg = aws().CreateTargetGroup(
      "shop", 8080, (*lb)["VpcId"],
      {{"HealthCheckIntervalSeconds", 5}, {"HealthCheckTimeoutSeconds", 2}});
  ASSERT_TRUE(tg.ok()) << tg.error();
  std::string tg_arn = (*tg)["TargetGroupArn"];
  auto listener = aws().CreateListener((*lb)["LoadBalancerArn"], 80, tg_arn);
  ASSERT_TRUE(listener.ok()) << listener.error();
  auto service = aws().CreateService(
      "web", "shop", "shop", 2,
      {{"loadBalancers",
        {{{"targetGroupArn", tg_arn}, {"containerName", "web"}, {"containerPort", 8080}}}}});
  ASSERT_TRUE(service.ok()) << service.error();

  ASSERT_TRUE(WaitFor(until::ServiceSteady("web", "shop"), "10m"));
  auto health = aws().Call("elbv2", "DescribeTargetHealth", {{"TargetGroupArn", tg_arn}});
  ASSERT_TRUE(health.ok()) << health.error();
  ASSERT_EQ((*health)["TargetHealthDescriptions"].size(), 2u) << health->dump();
  for (const auto& target : (*health)["TargetHealthDescriptions"]) {
    ASSERT_TRUE(WaitFor(until::TargetHealth(tg_arn, target["Target"]["Id"], 8080), "5m"));
  }

  auto url = aws().ListenerUrl((*listener)["ListenerArn"]);
  ASSERT_TRUE(url.ok()) << url.error();
  TrafficOptions traffic;
  traffic.base_url = *url;
  traffic.paths = {"/", "/health"};
  traffic.requests = 40;
  traffic.concurrency = 4;
  auto report = SendTraffic(traffic);
  EXPECT_EQ(report.total, 40);
  EXPECT_EQ(report.Count(200), 40) << report.Summary();
  EXPECT_EQ(report.Failed(), 0) << report.Summary();
  EXPECT_GT(report.max_ms, 0);

  ASSERT_TRUE(emulator().Advance("1h").ok());
  auto described = aws().DescribeService("web", "shop");
  ASSERT_TRUE(described.ok()) << described.error();
  EXPECT_EQ((*described)["runningCount"], 2);
  auto updated = aws().UpdateService("web", "shop", {{"desiredCount", 3}});
  ASSERT_TRUE(updated.ok()) << updated.error();
  EXPECT_EQ((*updated)["desiredCount"], 3);
  EXPECT_TRUE(WaitFor(until::ServiceSteady("web", "shop"), "10m"));
  EXPECT_EQ((*aws().DescribeService("web", "shop"))["runningCount"], 3);

  auto tasks = aws().RunTask("web", "shop");
  ASSERT_TRUE(tasks.ok()) << tasks.error();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_TRUE(WaitFor(until::TaskStatus("web", (*tasks)[0]["taskArn"]), "5m"));
}

}  // namespace
}  // namespace understudy
