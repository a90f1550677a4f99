// Elbv2Fixture: the ELBv2 control plane on an in-memory store, a virtual clock, a
// FakeDataPlane and scripted target health; Call() runs an operation with
// model-shaped JSON and returns its output or "<Code>: <message>".
#pragma once

#include <gtest/gtest.h>

#include "core/event_loop.h"
#include "core/journal.h"
#include "elb/elbv2_internal.h"
#include "unit/elb/fakes.h"

namespace understudy::elb {

class Elbv2Fixture : public ::testing::Test {
 protected:
  using Op = ApiResult (Service::*)(const Scope&, const Json&);

  void SetUp() override {
    clock_ = Clock::Create(loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}, {}});
    store_ = std::move(Store::Open(":memory:")).value();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_TRUE(journal_->Open().ok());
    Open();
  }

  // (Re)opens the service on the same store, as a restart would.
  void Open() {
    service_.reset();
    data_plane_.open.clear();
    data_plane_.taken.clear();
    service_ = std::make_unique<Service>(loop_, *store_, *journal_, *clock_, Random(3), data_plane_,
                                         health_, options_);
    Status opened = service_->Open();
    ASSERT_TRUE(opened.ok()) << opened.ToString();
  }

  // The output of `op`, or {"error": "<Code>: <message>"}.
  Json Call(Op op, const Json& input) {
    ApiResult result = ((*service_).*op)(scope_, input);
    if (result.ok()) return result.output();
    return Json{{"error", result.error().code + ": " + result.error().message}};
  }
  std::string Error(Op op, const Json& input) { return Call(op, input).value("error", ""); }

  // A load balancer, an HTTP target group on port 8080 and an HTTP listener on port 80
  // forwarding to it; returns {lb, tg, listener} ARNs.
  struct Basic {
    std::string lb, tg, listener;
  };
  Basic MakeBasic(const std::string& target_type = "ip") {
    Basic b;
    b.lb = Call(&Service::CreateLoadBalancer,
                {{"Name", "web"},
                 {"Subnets", {"subnet-a", "subnet-b"}}})["LoadBalancers"][0]["LoadBalancerArn"];
    b.tg = Call(&Service::CreateTargetGroup,
                {{"Name", "app"},
                 {"Protocol", "HTTP"},
                 {"Port", 8080},
                 {"VpcId", "vpc-local"},
                 {"TargetType", target_type}})["TargetGroups"][0]["TargetGroupArn"];
    b.listener =
        Call(&Service::CreateListener,
             {{"LoadBalancerArn", b.lb},
              {"Protocol", "HTTP"},
              {"Port", 80},
              {"DefaultActions",
               {{{"Type", "forward"}, {"TargetGroupArn", b.tg}}}}})["Listeners"][0]["ListenerArn"];
    return b;
  }

  EventLoop loop_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  FakeDataPlane data_plane_;
  FakeHealth health_;
  Elbv2Options options_;
  Scope scope_{"000000000000", "us-east-1"};
  std::unique_ptr<Service> service_;
};

}  // namespace understudy::elb
