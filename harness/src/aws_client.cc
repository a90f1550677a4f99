#include "understudy/aws_client.h"

namespace understudy {
namespace {

using nlohmann::json;

json Merge(json base, const json& extra) {
  if (extra.is_object()) base.merge_patch(extra);
  return base;
}

// The first element of output[member], or an error naming what was missing.
Result<json> First(const Result<json>& output, const std::string& member) {
  if (!output.ok()) return output.error();
  auto it = output->find(member);
  if (it == output->end() || !it->is_array() || it->empty()) {
    return Error{"UnexpectedOutput", "no " + member + " in " + output->dump(), 0};
  }
  return (*it)[0];
}

Result<json> Member(const Result<json>& output, const std::string& member) {
  if (!output.ok()) return output.error();
  auto it = output->find(member);
  if (it == output->end()) {
    return Error{"UnexpectedOutput", "no " + member + " in " + output->dump(), 0};
  }
  return *it;
}

}  // namespace

AwsClient::AwsClient(const Emulator& emulator, std::string region, std::string account)
    : emulator_(emulator), region_(std::move(region)), account_(std::move(account)) {}

Result<json> AwsClient::Call(const std::string& service, const std::string& operation,
                             const json& input) const {
  json request{{"service", service},
               {"operation", operation},
               {"input", input.is_null() ? json::object() : input}};
  if (!region_.empty()) request["region"] = region_;
  if (!account_.empty()) request["account"] = account_;
  auto answer = emulator_.Control("POST", "/_understudy/call", request);
  if (!answer.ok()) return answer.error();
  if (answer->contains("error")) {
    const json& e = (*answer)["error"];
    return Error{e.value("code", "UnknownError"), e.value("message", ""),
                 answer->value("status", 400)};
  }
  return answer->value("output", json::object());
}

Result<json> AwsClient::CreateCluster(const std::string& name) const {
  return Member(Call("ecs", "CreateCluster", {{"clusterName", name}}), "cluster");
}

Result<json> AwsClient::RegisterTaskDefinition(const json& task_definition) const {
  return Member(Call("ecs", "RegisterTaskDefinition", task_definition), "taskDefinition");
}

Result<json> AwsClient::CreateService(const std::string& cluster, const std::string& service,
                                      const std::string& task_definition, int desired_count,
                                      const json& extra) const {
  json input{{"cluster", cluster},
             {"serviceName", service},
             {"taskDefinition", task_definition},
             {"desiredCount", desired_count},
             {"launchType", "FARGATE"},
             {"networkConfiguration", {{"awsvpcConfiguration", {{"subnets", {"subnet-a"}}}}}}};
  return Member(Call("ecs", "CreateService", Merge(input, extra)), "service");
}

Result<json> AwsClient::UpdateService(const std::string& cluster, const std::string& service,
                                      const json& changes) const {
  json input{{"cluster", cluster}, {"service", service}};
  return Member(Call("ecs", "UpdateService", Merge(input, changes)), "service");
}

Result<json> AwsClient::DescribeServices(const std::string& cluster,
                                         const std::vector<std::string>& services) const {
  return Member(Call("ecs", "DescribeServices", {{"cluster", cluster}, {"services", services}}),
                "services");
}

Result<json> AwsClient::DescribeService(const std::string& cluster,
                                        const std::string& service) const {
  auto output = Call("ecs", "DescribeServices", {{"cluster", cluster}, {"services", {service}}});
  if (!output.ok()) return output.error();
  auto services = output->value("services", json::array());
  if (services.empty()) {
    return Error{"ServiceNotFoundException",
                 "service " + service + " not found in cluster " + cluster + ": " +
                     output->value("failures", json::array()).dump(),
                 400};
  }
  return services[0];
}

Result<json> AwsClient::RunTask(const std::string& cluster, const std::string& task_definition,
                                int count, const json& extra) const {
  json input{{"cluster", cluster},
             {"taskDefinition", task_definition},
             {"count", count},
             {"launchType", "FARGATE"},
             {"networkConfiguration", {{"awsvpcConfiguration", {{"subnets", {"subnet-a"}}}}}}};
  return Member(Call("ecs", "RunTask", Merge(input, extra)), "tasks");
}

Result<json> AwsClient::CreateLoadBalancer(const std::string& name,
                                           const std::vector<std::string>& subnets,
                                           const json& extra) const {
  json input{{"Name", name}, {"Subnets", subnets}};
  return First(Call("elbv2", "CreateLoadBalancer", Merge(input, extra)), "LoadBalancers");
}

Result<json> AwsClient::CreateTargetGroup(const std::string& name, int port,
                                          const std::string& vpc_id, const json& extra) const {
  json input{{"Name", name},    {"Protocol", "HTTP"}, {"Port", port},
             {"VpcId", vpc_id}, {"TargetType", "ip"}, {"HealthCheckPath", "/health"}};
  return First(Call("elbv2", "CreateTargetGroup", Merge(input, extra)), "TargetGroups");
}

Result<json> AwsClient::CreateListener(const std::string& load_balancer_arn, int port,
                                       const std::string& target_group_arn,
                                       const json& extra) const {
  json input{{"LoadBalancerArn", load_balancer_arn},
             {"Protocol", "HTTP"},
             {"Port", port},
             {"DefaultActions", {{{"Type", "forward"}, {"TargetGroupArn", target_group_arn}}}}};
  return First(Call("elbv2", "CreateListener", Merge(input, extra)), "Listeners");
}

Result<std::string> AwsClient::ListenerUrl(const std::string& listener_arn) const {
  auto elb = emulator_.Control("GET", "/_understudy/elb");
  if (!elb.ok()) return elb.error();
  for (const auto& lb : elb->value("loadBalancers", json::array())) {
    for (const auto& listener : lb.value("listeners", json::array())) {
      if (listener.value("arn", "") == listener_arn) return listener.value("url", "");
    }
  }
  return Error{"ListenerNotFound", "no listener " + listener_arn + " in /_understudy/elb", 0};
}

Result<std::string> AwsClient::SendEmail(const std::string& from,
                                         const std::vector<std::string>& to,
                                         const std::string& subject, const std::string& text,
                                         const json& extra) const {
  json input{
      {"FromEmailAddress", from},
      {"Destination", {{"ToAddresses", to}}},
      {"Content",
       {{"Simple", {{"Subject", {{"Data", subject}}}, {"Body", {{"Text", {{"Data", text}}}}}}}}}};
  auto output = Call("sesv2", "SendEmail", Merge(input, extra));
  if (!output.ok()) return output.error();
  return output->value("MessageId", "");
}

Result<Done> AwsClient::VerifyEmailIdentity(const std::string& address) const {
  auto output = Call("ses", "VerifyEmailIdentity", {{"EmailAddress", address}});
  if (!output.ok()) return output.error();
  return Done{};
}

}  // namespace understudy
