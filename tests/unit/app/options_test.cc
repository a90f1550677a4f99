// Command-line parsing: defaults, every flag in both spellings, and exact usage errors.
#include "app/options.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace understudy::app {
namespace {

using ::understudy::testing::IsOk;

Result<Invocation> Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

std::string ErrorOf(std::vector<std::string> args) {
  auto result = Parse(std::move(args));
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : result.status().message();
}

// serve with no flags has the documented defaults.
TEST(OptionsTest, ServeDefaults) {
  auto invocation = Parse({"serve"});
  ASSERT_THAT(invocation, IsOk());
  EXPECT_EQ(invocation->command, Command::kServe);
  const ServeOptions& o = invocation->serve;
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 4566);
  EXPECT_EQ(o.state_dir, "");
  EXPECT_EQ(o.clock, ClockMode::kReal);
  EXPECT_FALSE(o.start.has_value());
  EXPECT_EQ(o.seed, 0u);
  EXPECT_EQ(o.account_id, "000000000000");
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.log_level, LogLevel::kInfo);
  EXPECT_EQ(o.hold_timeout, std::chrono::seconds(30));
  EXPECT_FALSE(o.strict_references);
}

// Every flag is read, as "--flag value" and as "--flag=value".
TEST(OptionsTest, ServeFlags) {
  auto invocation =
      Parse({"serve", "--host", "::1", "--port=0", "--state-dir", "/tmp/s", "--clock=virtual",
             "--start", "2026-11-23T08:00:00Z", "--seed", "42", "--account-id=123456789012",
             "--region", "eu-west-1", "--log-level", "debug", "--hold-timeout=2m"});
  ASSERT_THAT(invocation, IsOk());
  const ServeOptions& o = invocation->serve;
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 0);
  EXPECT_EQ(o.state_dir, "/tmp/s");
  EXPECT_EQ(o.clock, ClockMode::kVirtual);
  EXPECT_EQ(FormatIso8601(*o.start), "2026-11-23T08:00:00.000Z");
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.account_id, "123456789012");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_EQ(o.hold_timeout, std::chrono::minutes(2));
}

// --task-forward repeats, one host port each.
TEST(OptionsTest, TaskForward) {
  auto invocation = Parse({"serve", "--task-forward", "5432", "--task-forward=6379"});
  ASSERT_THAT(invocation, IsOk());
  EXPECT_EQ(invocation->serve.task_forwards, (std::vector<uint16_t>{5432, 6379}));
  EXPECT_EQ(ErrorOf({"serve", "--task-forward", "0"}),
            "--task-forward expects a port from 1 to 65535, got '0'");
  EXPECT_EQ(ErrorOf({"serve", "--task-forward", "db"}),
            "--task-forward expects a whole number from 0 to 65535, got 'db'");
}

// --strict-references is a switch: it takes no value.
TEST(OptionsTest, StrictReferences) {
  auto invocation = Parse({"serve", "--strict-references", "--port", "0"});
  ASSERT_THAT(invocation, IsOk());
  EXPECT_TRUE(invocation->serve.strict_references);
  EXPECT_EQ(invocation->serve.port, 0);
  EXPECT_EQ(ErrorOf({"serve", "--strict-references=yes"}),
            "--strict-references takes no value, got 'yes'");
  EXPECT_NE(UsageText().find("--strict-references"), std::string::npos);
}

// --help and --version win wherever they stand.
TEST(OptionsTest, HelpAndVersion) {
  EXPECT_EQ(Parse({"--help"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"serve", "--port", "1", "--help"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"--version"})->command, Command::kVersion);
  EXPECT_NE(UsageText().find("--hold-timeout"), std::string::npos);
}

// Usage errors name the flag and what was expected, word for word.
TEST(OptionsTest, Errors) {
  EXPECT_EQ(ErrorOf({}), "no command given; try 'understudy serve'");
  EXPECT_EQ(ErrorOf({"launch"}), "unknown command 'launch'");
  EXPECT_EQ(ErrorOf({"--verbose"}), "unknown flag '--verbose'");
  EXPECT_EQ(ErrorOf({"serve", "--verbose"}), "unknown flag '--verbose' for 'serve'");
  EXPECT_EQ(ErrorOf({"serve", "extra"}), "unexpected argument 'extra' for 'serve'");
  EXPECT_EQ(ErrorOf({"serve", "--port"}), "--port needs a value");
  EXPECT_EQ(ErrorOf({"serve", "--port", "-1"}),
            "--port expects a whole number from 0 to 65535, got '-1'");
  EXPECT_EQ(ErrorOf({"serve", "--port", "65536"}),
            "--port expects a whole number from 0 to 65535, got '65536'");
  EXPECT_EQ(ErrorOf({"serve", "--seed", "x"}),
            "--seed expects a whole number from 0 to 18446744073709551615, got 'x'");
  EXPECT_EQ(ErrorOf({"serve", "--clock", "slow"}),
            "--clock: unknown clock mode 'slow'; expected real, virtual or fast");
  EXPECT_EQ(ErrorOf({"serve", "--account-id", "12345678901a"}),
            "--account-id expects 12 digits, got '12345678901a'");
  EXPECT_EQ(ErrorOf({"serve", "--region", "mars"}),
            "--region expects a region name such as us-east-1, got 'mars'");
  EXPECT_EQ(ErrorOf({"serve", "--hold-timeout", "0s"}), "--hold-timeout must be longer than 0s");
  EXPECT_EQ(ErrorOf({"serve", "--host="}), "--host expects an IP address, got ''");
  EXPECT_EQ(ErrorOf({"serve", "--state-dir="}), "--state-dir expects a directory path, got ''");
}

// run takes files and directories and its own flags.
TEST(OptionsTest, RunFlags) {
  auto invocation = Parse({"run", "scenarios/", "a.json", "--junit", "out.xml", "--seed=7",
                           "--filter", "steady", "--timeout", "90s"});
  ASSERT_TRUE(invocation.ok()) << invocation.status().message();
  EXPECT_EQ(invocation->command, Command::kRun);
  const RunOptions& o = invocation->run;
  EXPECT_EQ(o.paths, (std::vector<std::string>{"scenarios/", "a.json"}));
  EXPECT_EQ(o.junit_file, "out.xml");
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.filter, "steady");
  EXPECT_EQ(o.timeout, std::chrono::seconds(90));
}

TEST(OptionsTest, RunErrors) {
  EXPECT_EQ(Parse({"run"}).status().message(),
            "'run' needs at least one scenario file or directory, e.g. understudy run scenarios/");
  EXPECT_EQ(Parse({"run", "a.json", "--seed", "x"}).status().message(),
            "--seed expects a whole number from 0 to 18446744073709551615, got 'x'");
  EXPECT_EQ(Parse({"run", "a.json", "--bogus"}).status().message(),
            "unknown flag '--bogus' for 'run'");
  EXPECT_EQ(Parse({"run", "a.json", "--timeout"}).status().message(), "--timeout needs a value");
}

// run --record FILE, and replay RECORD [--timeout D].
TEST(OptionsTest, RecordAndReplay) {
  auto run = Parse({"run", "a.json", "--record", "run.journal"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->run.record_file, "run.journal");
  EXPECT_EQ(Parse({"run", "a.json", "--record="}).status().message(),
            "--record expects a file path, got ''");

  auto replay = Parse({"replay", "run.journal", "--timeout", "2m"});
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_EQ(replay->command, Command::kReplay);
  EXPECT_EQ(replay->replay.record_file, "run.journal");
  EXPECT_EQ(replay->replay.timeout, std::chrono::minutes(2));
  EXPECT_FALSE(Parse({"replay", "r"})->replay.timeout.has_value());
  EXPECT_EQ(Parse({"replay"}).status().message(),
            "'replay' needs a record file, e.g. understudy replay run.journal");
  EXPECT_EQ(Parse({"replay", "a", "b"}).status().message(),
            "'replay' takes one record file; got 'a' and 'b'");
  EXPECT_EQ(Parse({"replay", "a", "--seed", "3"}).status().message(),
            "unknown flag '--seed' for 'replay'");
  EXPECT_EQ(Parse({"replay", "a", "--timeout", "0s"}).status().message(),
            "--timeout must be longer than 0s");
}

}  // namespace
}  // namespace understudy::app
