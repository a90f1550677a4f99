#include "events/events_service.h"

#include "events/delivery.h"
#include "events/event_bridge.h"
#include "events/scheduler.h"

namespace understudy::events {
namespace {

class EventsServiceImpl final : public EventsService {
 public:
  EventsServiceImpl(EventLoop& loop, Store& store, Journal& journal, Clock& clock, Random random)
      : delivery_(loop, store, journal, clock, random.Fork("delivery"), {}) {}

  void SetDeliveryFault(DeliveryFault fault) override { delivery_.set_fault(std::move(fault)); }

  Status Open(Store& store, Journal& journal, Clock& clock, Random random, EventBus& bus,
              logs::LogSink& logs, EventsOptions options) {
    US_RETURN_IF_ERROR(delivery_.Migrate());
    US_ASSIGN_OR_RETURN(
        event_bridge_,
        EventBridge::Open(store, journal, clock, random.Fork("eventbridge"), bus, delivery_));
    US_ASSIGN_OR_RETURN(
        scheduler_, Scheduler::Open(store, journal, clock, random.Fork("scheduler"), delivery_));
    DeliveryHooks hooks;
    hooks.run_task = std::move(options.run_task);
    hooks.logs = &logs;
    EventBridge* bridge = event_bridge_.get();
    hooks.put_event = [bridge](const std::string& bus_arn, const Json& event) {
      return bridge->PutEventOnBus(bus_arn, event);
    };
    hooks.api_destination = [bridge](const Scope& scope, const std::string& arn,
                                     const std::string& body) {
      return bridge->ApiDestinationCall(scope, arn, body);
    };
    delivery_.set_hooks(std::move(hooks));
    return Status::Ok();
  }

  void Install(api::FrontDoor& front_door, api::ControlApi& control) override {
    event_bridge_->Install(front_door);
    scheduler_->Install(front_door);
    control.AddResetHook([this] { return Reset(); });
    front_door.RegisterInternal("GET", "/_understudy/events/schedule",
                                [this](const api::HttpRequest&, api::HttpReply reply) {
                                  Json all = event_bridge_->ScheduleState();
                                  for (auto& entry : scheduler_->ScheduleState())
                                    all.push_back(entry);
                                  reply(api::JsonResponse(200, Json{{"schedules", all}}));
                                });
    front_door.RegisterInternalPrefix(
        "POST", "/_understudy/events/fire/",
        [this](const api::HttpRequest& request, api::HttpReply reply) {
          std::string name = request.path.substr(std::string("/_understudy/events/fire/").size());
          Status fired = event_bridge_->FireNow(name);
          if (fired.code() == StatusCode::kNotFound) fired = scheduler_->FireNow(name);
          if (!fired.ok()) {
            reply(api::ControlError(404, "NotFound", "no rule or schedule named " + name));
            return;
          }
          reply(api::JsonResponse(200, Json{{"fired", name}}));
        });
    front_door.RegisterInternal(
        "GET", "/_understudy/events/deliveries",
        [this](const api::HttpRequest& request, api::HttpReply reply) {
          int64_t after = 0;
          size_t limit = 1000;
          std::string source;
          try {
            if (auto* a = request.QueryParam("after")) after = std::stoll(*a);
            if (auto* l = request.QueryParam("limit")) limit = std::stoul(*l);
          } catch (const std::exception&) {
            reply(api::ControlError(400, "InvalidArgument", "after and limit are numbers"));
            return;
          }
          if (auto* s = request.QueryParam("source")) source = *s;
          reply(api::JsonResponse(200, Json{{"deliveries", delivery_.List(after, limit, source)},
                                            {"inFlight", delivery_.in_flight()}}));
        });
    control.AddCondition(
        "eventsDelivered", [this](const Scope&, const Json& params) -> Result<api::WaitCondition> {
          if (!params.is_object() || (params.contains("source") && !params["source"].is_string()) ||
              (params.contains("outcome") && !params["outcome"].is_string()) ||
              (params.contains("count") && !params["count"].is_number_integer())) {
            return Status::InvalidArgument(
                "expected {\"source\": \"<rule or schedule name or ARN>\", \"outcome\": "
                "\"SUCCEEDED\" | \"FAILED\", \"count\": <deliveries, default 1>}");
          }
          std::string source = params.value("source", "");
          std::string outcome = params.value("outcome", "");
          int64_t count = params.value("count", int64_t{1});
          auto observe = [this, source, outcome]() {
            return Json{{"source", source},
                        {"outcome", outcome},
                        {"count", delivery_.Count(source, outcome)}};
          };
          return api::WaitCondition{
              [this, source, outcome, count] { return delivery_.Count(source, outcome) >= count; },
              observe};
        });
  }

  Status Reset() override {
    US_RETURN_IF_ERROR(event_bridge_->Reset());
    US_RETURN_IF_ERROR(scheduler_->Reset());
    return delivery_.Reset();
  }

 private:
  Delivery delivery_;
  std::unique_ptr<EventBridge> event_bridge_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace

Result<std::unique_ptr<EventsService>> EventsService::Open(EventLoop& loop, Store& store,
                                                           Journal& journal, Clock& clock,
                                                           Random random, EventBus& bus,
                                                           logs::LogSink& logs,
                                                           EventsOptions options) {
  auto service = std::make_unique<EventsServiceImpl>(loop, store, journal, clock, random);
  US_RETURN_IF_ERROR(service->Open(store, journal, clock, random, bus, logs, std::move(options)));
  return std::unique_ptr<EventsService>(std::move(service));
}

}  // namespace understudy::events
