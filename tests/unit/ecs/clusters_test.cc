// ECS clusters through the front door with an in-memory store: AWS's documents,
// errors and persistence across a reopened service.
#include <gtest/gtest.h>

#include "support/status_matchers.h"
#include "unit/ecs/ecs_fixture.h"

namespace understudy::ecs {
namespace {

using ClustersTest = EcsFixture;

// Clusters survive a reopen of the service on the same store, including INACTIVE ones.
TEST_F(ClustersTest, PersistAcrossReopen) {
  EXPECT_EQ(Call("CreateCluster", {{"clusterName", "web"}}).first, 200);
  EXPECT_EQ(Call("CreateCluster", {{"clusterName", "old"}}).first, 200);
  EXPECT_EQ(Call("DeleteCluster", {{"cluster", "old"}}).first, 200);
  Open();
  auto [status, body] = Call("DescribeClusters", {{"clusters", {"web", "old"}}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["clusters"][0]["status"], "ACTIVE");
  EXPECT_EQ(body["clusters"][1]["status"], "INACTIVE");
  EXPECT_EQ(Call("ListClusters", Json::object()).second,
            Json({{"clusterArns", {"arn:aws:ecs:us-east-1:000000000000:cluster/web"}}}));
}

// A deleted cluster is not found for delete, update and tagging.
TEST_F(ClustersTest, DeletedClusterIsNotFound) {
  Call("CreateCluster", {{"clusterName", "web"}});
  Call("DeleteCluster", {{"cluster", "web"}});
  Json not_found{{"__type", "ClusterNotFoundException"}, {"message", "Cluster not found."}};
  EXPECT_EQ(Call("DeleteCluster", {{"cluster", "web"}}), std::make_pair(400, not_found));
  EXPECT_EQ(Call("UpdateCluster", {{"cluster", "web"}}), std::make_pair(400, not_found));
  EXPECT_EQ(Call("TagResource", {{"resourceArn", "arn:aws:ecs:us-east-1:000000000000:cluster/web"},
                                 {"tags", Json::array()}}),
            std::make_pair(400, not_found));
}

// An ARN from another region or account does not name a cluster of this scope.
TEST_F(ClustersTest, ForeignArnIsMissing) {
  Call("CreateCluster", {{"clusterName", "web"}});
  auto [status, body] =
      Call("DescribeClusters", {{"clusters", {"arn:aws:ecs:eu-west-1:000000000000:cluster/web"}}});
  EXPECT_EQ(body["clusters"], Json::array());
  EXPECT_EQ(body["failures"][0]["reason"], "MISSING");
}

// Paging: maxResults bounds, tokens that resume, and a forged token refused.
TEST_F(ClustersTest, Paging) {
  for (const char* name : {"a", "b", "c"}) Call("CreateCluster", {{"clusterName", name}});
  auto [s1, page1] = Call("ListClusters", {{"maxResults", 2}});
  ASSERT_EQ(page1["clusterArns"].size(), 2u);
  auto [s2, page2] = Call("ListClusters", {{"maxResults", 2}, {"nextToken", page1["nextToken"]}});
  EXPECT_EQ(page2, Json({{"clusterArns", {"arn:aws:ecs:us-east-1:000000000000:cluster/c"}}}));
  EXPECT_EQ(Call("ListClusters", {{"maxResults", 101}}),
            std::make_pair(400, Json{{"__type", "InvalidParameterException"},
                                     {"message", "maxResults must be between 1 and 100."}}));
  EXPECT_EQ(Call("ListClusters", {{"nextToken", "garbage"}}),
            std::make_pair(400, Json{{"__type", "InvalidParameterException"},
                                     {"message", "Invalid nextToken."}}));
}

// A capacity provider strategy may give a base to one provider only.
TEST_F(ClustersTest, StrategyWithTwoBasesIsRefused) {
  auto [status, body] =
      Call("CreateCluster", {{"clusterName", "web"},
                             {"capacityProviders", {"FARGATE", "FARGATE_SPOT"}},
                             {"defaultCapacityProviderStrategy",
                              {{{"capacityProvider", "FARGATE"}, {"base", 1}},
                               {{"capacityProvider", "FARGATE_SPOT"}, {"base", 2}}}}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["message"],
            "The specified capacity provider strategy cannot contain more than one capacity "
            "provider with a base value greater than zero.");
  EXPECT_EQ(Call("ListClusters", Json::object()).second["clusterArns"], Json::array());
}

// State changes are journaled as transitions with the cluster ARN as subject.
TEST_F(ClustersTest, TransitionsAreJournaled) {
  Call("CreateCluster", {{"clusterName", "web"}});
  Call("DeleteCluster", {{"cluster", "web"}});
  auto entries = journal_->Read(0, 100);
  ASSERT_TRUE(entries.ok());
  std::vector<std::pair<std::string, Json>> transitions;
  for (const auto& e : *entries) {
    if (e.kind == JournalKind::kTransition) transitions.emplace_back(e.subject, e.detail);
  }
  std::string arn = "arn:aws:ecs:us-east-1:000000000000:cluster/web";
  EXPECT_EQ(transitions, (std::vector<std::pair<std::string, Json>>{
                             {arn, {{"status", "ACTIVE"}}}, {arn, {{"status", "INACTIVE"}}}}));
}

}  // namespace
}  // namespace understudy::ecs
