// EmulatorTest: a GoogleTest fixture with a running emulator per test — started in
// SetUp (the test fails with the emulator's stderr if it cannot start), stopped in
// TearDown. Override Options() to change the seed, start instant or serve flags.
//
//   class CheckoutTest : public understudy::testing::EmulatorTest {};
//   TEST_F(CheckoutTest, Steady) {
//     ASSERT_TRUE(aws().CreateCluster("web").ok());
//     ...
//     EXPECT_TRUE(WaitFor(until::ServiceSteady("web", "web"), "10m"));
//   }
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "understudy/aws_client.h"
#include "understudy/emails.h"
#include "understudy/emulator.h"
#include "understudy/traffic.h"
#include "understudy/waits.h"

namespace understudy::testing {

class EmulatorTest : public ::testing::Test {
 protected:
  // The emulator's options; the default is a virtual clock and the emulator's defaults.
  virtual EmulatorOptions Options() const { return EmulatorOptions{}; }

  void SetUp() override {
    emulator_ = std::make_unique<Emulator>(Options());
    auto started = emulator_->Start();
    ASSERT_TRUE(started.ok()) << "the emulator did not start: " << started.error();
    aws_ = std::make_unique<AwsClient>(*emulator_);
  }
  void TearDown() override {
    aws_.reset();
    emulator_.reset();
  }

  Emulator& emulator() { return *emulator_; }
  AwsClient& aws() { return *aws_; }

  ::testing::AssertionResult WaitFor(const Condition& condition,
                                     const std::string& timeout = "15m") {
    return ::understudy::WaitFor(*emulator_, condition, timeout);
  }
  ::testing::AssertionResult WaitForEmails(const EmailFilter& filter, int count = 1,
                                           const std::string& timeout = "5m") {
    return ::understudy::WaitForEmails(*emulator_, filter, count, timeout);
  }

 private:
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<AwsClient> aws_;
};

}  // namespace understudy::testing
