// AwsClient: AWS operations on a running emulator through `POST /_understudy/call` —
// any operation by service and name with its input in the model's JSON shape (the
// shape boto3 takes), plus conveniences for the ones tests script most. An AWS error
// comes back as an Error with AWS's code, message and HTTP status.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "understudy/emulator.h"
#include "understudy/result.h"

namespace understudy {

class AwsClient {
 public:
  // `region`/`account` empty: the emulator's defaults.
  explicit AwsClient(const Emulator& emulator, std::string region = "", std::string account = "");

  // Any operation: Call("ecs", "CreateCluster", {{"clusterName", "web"}}) gives the
  // operation's output, or AWS's error.
  Result<nlohmann::json> Call(const std::string& service, const std::string& operation,
                              const nlohmann::json& input = nlohmann::json::object()) const;

  // ECS. Each answers the object AWS returns (`cluster`, `taskDefinition`, `service`,
  // the `tasks` list); `extra` is merged into the request (JSON merge patch), so any
  // other member can be given.
  Result<nlohmann::json> CreateCluster(const std::string& name) const;
  Result<nlohmann::json> RegisterTaskDefinition(const nlohmann::json& task_definition) const;
  // A Fargate service in subnet-a unless `extra` says otherwise.
  Result<nlohmann::json> CreateService(const std::string& cluster, const std::string& service,
                                       const std::string& task_definition, int desired_count,
                                       const nlohmann::json& extra = nullptr) const;
  // `changes`: UpdateService's members, e.g. {{"desiredCount", 3}}.
  Result<nlohmann::json> UpdateService(const std::string& cluster, const std::string& service,
                                       const nlohmann::json& changes) const;
  // One service (`services[0]`); ServiceNotFoundException when DescribeServices lists it
  // as a failure.
  Result<nlohmann::json> DescribeService(const std::string& cluster,
                                         const std::string& service) const;
  Result<nlohmann::json> DescribeServices(const std::string& cluster,
                                          const std::vector<std::string>& services) const;
  Result<nlohmann::json> RunTask(const std::string& cluster, const std::string& task_definition,
                                 int count = 1, const nlohmann::json& extra = nullptr) const;

  // ELBv2. Each answers the created object (`LoadBalancers[0]`, ...).
  Result<nlohmann::json> CreateLoadBalancer(const std::string& name,
                                            const std::vector<std::string>& subnets = {"subnet-a",
                                                                                       "subnet-b"},
                                            const nlohmann::json& extra = nullptr) const;
  // HTTP, target type ip, health checks on /health unless `extra` says otherwise.
  Result<nlohmann::json> CreateTargetGroup(const std::string& name, int port,
                                           const std::string& vpc_id,
                                           const nlohmann::json& extra = nullptr) const;
  // An HTTP listener forwarding to `target_group_arn`.
  Result<nlohmann::json> CreateListener(const std::string& load_balancer_arn, int port,
                                        const std::string& target_group_arn,
                                        const nlohmann::json& extra = nullptr) const;
  // Where the listener is served on this machine: "http://127.0.0.1:41234".
  Result<std::string> ListenerUrl(const std::string& listener_arn) const;

  // SES v2 SendEmail of a simple text message; answers the MessageId. In the sandbox
  // (the default) the sender must be verified: VerifyEmailIdentity first.
  Result<std::string> SendEmail(const std::string& from, const std::vector<std::string>& to,
                                const std::string& subject, const std::string& text,
                                const nlohmann::json& extra = nullptr) const;
  Result<Done> VerifyEmailIdentity(const std::string& address) const;

 private:
  const Emulator& emulator_;
  std::string region_;
  std::string account_;
};

}  // namespace understudy
