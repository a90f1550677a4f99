// Verification, the sandbox, the mailbox simulator and quotas (aws-semantics §5.2, §5.4).
#include "ses/sending_rules.h"

#include <set>

#include <gtest/gtest.h>

namespace understudy::ses {
namespace {

// Address identities are exact (case-sensitive); domains cover subdomains.
TEST(SendingRulesTest, Verification) {
  std::set<std::string> verified = {"noreply@example.org", "corp.com"};
  auto v = [&](const std::string& id) { return verified.count(id) > 0; };
  EXPECT_TRUE(IsVerifiedAddress("noreply@example.org", v));
  EXPECT_FALSE(IsVerifiedAddress("NoReply@example.org", v));
  EXPECT_TRUE(IsVerifiedAddress("Team <anyone@mail.eu.corp.com>", v));
  EXPECT_TRUE(IsVerifiedAddress("x@CORP.com", v));
  EXPECT_FALSE(IsVerifiedAddress("x@com", v));
}

// The sandbox checks every recipient except the simulator; the message lists failures once.
TEST(SendingRulesTest, SandboxFailuresAndMessage) {
  auto v = [](const std::string& id) { return id == "example.org"; };
  auto failed = FailedIdentities(
      {"a@x.com"}, {"b@y.com", "success@simulator.amazonses.com", "ok@example.org", "b@y.com"},
      true, v);
  EXPECT_EQ(failed, (std::vector<std::string>{"a@x.com", "b@y.com"}));
  EXPECT_EQ(NotVerifiedMessage(failed, "eu-west-1"),
            "Email address is not verified. The following identities failed the check in region "
            "EU-WEST-1: a@x.com, b@y.com");
  EXPECT_TRUE(FailedIdentities({"s@example.org"}, {"b@y.com"}, false, v).empty());
}

// Simulator mailboxes with +labels.
TEST(SendingRulesTest, Simulator) {
  EXPECT_EQ(SimulatorMailbox("bounce+test1@simulator.amazonses.com"), "bounce");
  EXPECT_EQ(SimulatorMailbox("Success@Simulator.AmazonSES.com"), "success");
  EXPECT_EQ(SimulatorMailbox("other@simulator.amazonses.com"), "");
  EXPECT_EQ(SimulatorMailbox("success@example.org"), std::nullopt);
}

// 1 message/s and 200 recipients/24h on the clock's milliseconds.
TEST(SendingRulesTest, Quotas) {
  SendQuota q;
  q.Configure(3, 1);
  EXPECT_EQ(q.Check(1000, 2, 2), SendQuota::Verdict::kOk);  // alone in its second
  q.Record(1000, 2, 2);
  EXPECT_EQ(q.Check(1999, 1, 1), SendQuota::Verdict::kRateExceeded);
  EXPECT_EQ(q.Check(2000, 1, 1), SendQuota::Verdict::kOk);
  q.Record(2000, 1, 1);
  EXPECT_EQ(q.Check(3000, 1, 1), SendQuota::Verdict::kDailyExceeded);
  EXPECT_EQ(q.Check(3000, 0, 1), SendQuota::Verdict::kOk);  // simulator only
  EXPECT_EQ(q.SentLast24Hours(3000), 3);
  EXPECT_EQ(q.SentLast24Hours(1000 + 24 * 3600 * 1000), 1);
  q.Configure(-1, 0);
  EXPECT_EQ(q.Check(3000, 100, 100), SendQuota::Verdict::kOk);
}

}  // namespace
}  // namespace understudy::ses
