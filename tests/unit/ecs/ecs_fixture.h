// EcsFixture: ECS wired to a front door with an in-memory store, a virtual
// clock and a FakeTaskRuntime; Call() speaks awsJson1_1 to it.
#pragma once

#include <gtest/gtest.h>

#include "api/control_api.h"
#include "api/front_door.h"
#include "core/event_loop.h"
#include "core/waits.h"
#include "ecs/ecs.h"
#include "unit/ecs/fake_task_runtime.h"

namespace understudy::ecs {

inline const char* kTarget = "AmazonEC2ContainerServiceV20141113.";

class EcsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = Clock::Create(loop_, ClockOptions{ClockMode::kVirtual, TimePoint{}, hold_limit_});
    store_ = std::move(Store::Open(":memory:")).value();
    Open();
  }

  void Open() {
    control_.reset();
    front_door_.reset();
    ecs_.reset();
    journal_ = std::make_unique<Journal>(loop_, *clock_, *store_);
    ASSERT_TRUE(journal_->Open().ok());
    waits_ = std::make_unique<Waits>(loop_, *clock_);
    models_ = std::move(api::ModelRegistry::LoadEmbedded()).value();
    front_door_ = std::make_unique<api::FrontDoor>(*clock_, *journal_, Random(1), *models_,
                                                   api::FrontDoorOptions{});
    control_ = std::make_unique<api::ControlApi>(*front_door_, *clock_, *waits_, *journal_,
                                                 api::ControlInfo{}, "us-east-1");
    ecs_ = std::move(Ecs::Open(loop_, *store_, *journal_, *clock_, Random(7), runtime_, logs_, bus_,
                               options_))
               .value();
    ecs_->Install(*front_door_, *control_);
  }

  // Calls an ECS operation over awsJson1_1 and returns (status, body).
  std::pair<int, Json> Call(const std::string& op, const Json& input) {
    api::HttpRequest request;
    request.method = "POST";
    request.path = request.raw_path = request.target = "/";
    request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", std::string(kTarget) + op}};
    request.body = input.dump();
    api::HttpResponse response;
    front_door_->Handle(request, [&](api::HttpResponse r) { response = std::move(r); });
    return {response.status, Json::parse(response.body)};
  }

  Duration hold_limit_ = std::chrono::seconds(30);  // set before SetUp to change
  EcsOptions options_;                              // set before SetUp to change
  EventLoop loop_;
  FakeTaskRuntime runtime_;
  EventBus bus_;
  // Records what ECS sends to CloudWatch Logs.
  struct RecordingLogs : logs::LogSink {
    Status OpenStream(const Scope&, const std::string& group, const std::string& stream,
                      bool) override {
      if (group == "missing") return Status::NotFound("no group");
      streams.push_back(group + " " + stream);
      return Status::Ok();
    }
    void Append(const Scope&, const std::string& group, const std::string& stream,
                const std::string& message) override {
      lines.push_back(group + " " + stream + " " + message);
    }
    std::vector<std::string> streams, lines;
  } logs_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Waits> waits_;
  std::unique_ptr<api::ModelRegistry> models_;
  std::unique_ptr<api::FrontDoor> front_door_;
  std::unique_ptr<api::ControlApi> control_;
  std::unique_ptr<Ecs> ecs_;
};

}  // namespace understudy::ecs
