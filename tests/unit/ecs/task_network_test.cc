// An awsvpc task's subnets and security groups are checked through the EC2 lookups,
// and an id EC2 refuses is ECS's InvalidParameterException quoting EC2's error.
#include "ecs/task_network.h"

#include <gtest/gtest.h>

namespace understudy::ecs {
namespace {

const Scope kScope{"000000000000", "us-east-1"};

NetworkLookup Lookup() {
  NetworkLookup lookup;
  lookup.subnet_zone = [](const Scope&,
                          const std::string& id) -> std::variant<std::string, api::ApiError> {
    if (id == "subnet-b") return std::string("us-east-1b");
    return api::ApiError::Client("InvalidSubnetID.NotFound",
                                 "The subnet ID '" + id + "' does not exist");
  };
  lookup.security_group = [](const Scope&, const std::string& id) -> std::optional<api::ApiError> {
    if (id == "sg-web") return std::nullopt;
    return api::ApiError::Client("InvalidGroup.NotFound",
                                 "The security group '" + id + "' does not exist");
  };
  return lookup;
}

Json Config(const Json& subnets, const Json& groups = Json::array()) {
  return Json{{"awsvpcConfiguration", {{"subnets", subnets}, {"securityGroups", groups}}}};
}

// Known ids pass, and the task is placed in the first subnet's zone.
TEST(TaskNetworkTest, KnownIdsPass) {
  std::string zone;
  EXPECT_FALSE(CheckTaskNetwork(Lookup(), kScope, Config({"subnet-b"}, {"sg-web"}), &zone));
  EXPECT_EQ(zone, "us-east-1b");
}

// An unknown subnet or group is refused the way ECS words it.
TEST(TaskNetworkTest, UnknownIdsAreRefused) {
  std::string zone;
  auto error = CheckTaskNetwork(Lookup(), kScope, Config({"subnet-b", "subnet-x"}), &zone);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "InvalidParameterException");
  EXPECT_EQ(error->message,
            "Error retrieving subnet information for [subnet-x]: The subnet ID 'subnet-x' does "
            "not exist (ErrorCode: InvalidSubnetID.NotFound)");
  error = CheckTaskNetwork(Lookup(), kScope, Config({"subnet-b"}, {"sg-db"}), &zone);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message,
            "Error retrieving security group information for [sg-db]: The security group 'sg-db' "
            "does not exist (ErrorCode: InvalidGroup.NotFound)");
  error = CheckTaskNetwork(Lookup(), kScope, Config(Json::array()), &zone);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message, "subnets can not be empty.");
}

// Without lookups (unit tests, embedders) every id is accepted and the zone kept.
TEST(TaskNetworkTest, NoLookupAcceptsAll) {
  std::string zone = "us-east-1a";
  EXPECT_FALSE(CheckTaskNetwork(NetworkLookup{}, kScope, Config({"subnet-x"}, {"sg-x"}), &zone));
  EXPECT_EQ(zone, "us-east-1a");
}

}  // namespace
}  // namespace understudy::ecs
