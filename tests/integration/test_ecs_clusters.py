"""ECS cluster operations end to end through the real AWS CLI and boto3.

AWS behaviour pinned here (aws-semantics §2.1, §2.15): cluster ARNs
arn:aws:ecs:<region>:<account>:cluster/<name>, the default cluster name
"default", Describe* of unknown ids answered in failures[] with reason MISSING,
ClusterNotFoundException "Cluster not found.", idempotent CreateCluster, and
isolation per account and region.
"""
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
ARN = "arn:aws:ecs:us-east-1:000000000000:cluster/"


class ClustersCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY).start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.assertEqual(self.emulator.post("/_understudy/reset")[0], 200)

    def aws(self, *args):
        return self.emulator.aws(*args)

    # create-cluster returns AWS's cluster document; list and describe see it.
    def test_create_list_describe(self):
        rc, out, err = self.aws("ecs", "create-cluster", "--cluster-name", "web")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["cluster"], {
            "clusterArn": ARN + "web", "clusterName": "web", "status": "ACTIVE",
            "registeredContainerInstancesCount": 0, "runningTasksCount": 0,
            "pendingTasksCount": 0, "activeServicesCount": 0, "statistics": [], "tags": [],
            "settings": [{"name": "containerInsights", "value": "disabled"}],
            "capacityProviders": [], "defaultCapacityProviderStrategy": []})
        rc, out, err = self.aws("ecs", "list-clusters")
        self.assertEqual(out, {"clusterArns": [ARN + "web"]})
        rc, out, err = self.aws("ecs", "describe-clusters", "--clusters", "web", ARN + "web", "nope")
        self.assertEqual([c["clusterName"] for c in out["clusters"]], ["web", "web"])
        self.assertNotIn("settings", out["clusters"][0], "settings only with --include SETTINGS")
        self.assertEqual(out["failures"], [{"arn": ARN + "nope", "reason": "MISSING"}])

    # With no name, CreateCluster makes "default", and DescribeClusters with no names describes it.
    def test_default_cluster(self):
        rc, out, err = self.aws("ecs", "create-cluster")
        self.assertEqual(out["cluster"]["clusterArn"], ARN + "default")
        rc, out, err = self.aws("ecs", "describe-clusters")
        self.assertEqual([c["clusterName"] for c in out["clusters"]], ["default"])

    # CreateCluster of an existing ACTIVE cluster returns it unchanged.
    def test_create_is_idempotent(self):
        self.aws("ecs", "create-cluster", "--cluster-name", "web", "--tags", "key=a,value=1")
        rc, out, err = self.aws("ecs", "create-cluster", "--cluster-name", "web")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["cluster"]["tags"], [{"key": "a", "value": "1"}])

    # Deleting makes a cluster INACTIVE: still describable, gone from the list; a second delete fails.
    def test_delete(self):
        self.aws("ecs", "create-cluster", "--cluster-name", "web")
        rc, out, err = self.aws("ecs", "delete-cluster", "--cluster", "web")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["cluster"]["status"], "INACTIVE")
        rc, out, err = self.aws("ecs", "list-clusters")
        self.assertEqual(out["clusterArns"], [])
        rc, out, err = self.aws("ecs", "describe-clusters", "--clusters", "web")
        self.assertEqual(out["clusters"][0]["status"], "INACTIVE")
        rc, out, err = self.aws("ecs", "delete-cluster", "--cluster", "web")
        self.assertEqual(rc, 255)
        self.assertIn("An error occurred (ClusterNotFoundException) when calling the DeleteCluster "
                      "operation: Cluster not found.", err)

    # ListClusters pages through nextToken; the CLI follows the tokens with --page-size 2.
    def test_pagination(self):
        names = [f"c{i:02d}" for i in range(7)]
        for name in names:
            self.aws("ecs", "create-cluster", "--cluster-name", name)
        rc, out, err = self.aws("ecs", "list-clusters", "--page-size", "2")
        self.assertEqual(out["clusterArns"], [ARN + n for n in names])
        rc, out, err = self.aws("ecs", "list-clusters", "--max-items", "3")
        self.assertEqual(out["clusterArns"], [ARN + n for n in names[:3]])
        self.assertIn("NextToken", out)

    # update-cluster and update-cluster-settings merge settings by name; configuration is kept.
    def test_update(self):
        self.aws("ecs", "create-cluster", "--cluster-name", "web")
        rc, out, err = self.aws("ecs", "update-cluster-settings", "--cluster", "web", "--settings",
                                "name=containerInsights,value=enhanced")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["cluster"]["settings"], [{"name": "containerInsights", "value": "enhanced"}])
        rc, out, err = self.aws("ecs", "update-cluster", "--cluster", "web", "--configuration",
                                "executeCommandConfiguration={logging=DEFAULT}")
        self.assertEqual(out["cluster"]["configuration"],
                         {"executeCommandConfiguration": {"logging": "DEFAULT"}})
        rc, out, err = self.aws("ecs", "update-cluster", "--cluster", "nope", "--settings",
                                "name=containerInsights,value=enabled")
        self.assertEqual(rc, 255)
        self.assertIn("(ClusterNotFoundException)", err)

    # Capacity providers: FARGATE and FARGATE_SPOT only; one base > 0 at most.
    def test_capacity_providers(self):
        self.aws("ecs", "create-cluster", "--cluster-name", "web")
        rc, out, err = self.aws("ecs", "put-cluster-capacity-providers", "--cluster", "web",
                                "--capacity-providers", "FARGATE", "FARGATE_SPOT",
                                "--default-capacity-provider-strategy",
                                "capacityProvider=FARGATE,weight=1,base=1",
                                "capacityProvider=FARGATE_SPOT,weight=4")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["cluster"]["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        rc, out, err = self.aws("ecs", "put-cluster-capacity-providers", "--cluster", "web",
                                "--capacity-providers", "EC2_POOL",
                                "--default-capacity-provider-strategy", "capacityProvider=EC2_POOL")
        self.assertEqual(rc, 255)
        self.assertIn("(InvalidParameterException) when calling the PutClusterCapacityProviders "
                      "operation: The specified capacity provider 'EC2_POOL' does not exist. "
                      "Specify a valid capacity provider and try again.", err)

    # Tags: tag, list, untag; unknown clusters and bad ARNs get ECS's errors.
    def test_tags(self):
        self.aws("ecs", "create-cluster", "--cluster-name", "web")
        rc, out, err = self.aws("ecs", "tag-resource", "--resource-arn", ARN + "web", "--tags",
                                "key=team,value=web", "key=env,value=ci")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.aws("ecs", "list-tags-for-resource", "--resource-arn", ARN + "web")
        self.assertEqual(out["tags"], [{"key": "env", "value": "ci"}, {"key": "team", "value": "web"}])
        rc, out, err = self.aws("ecs", "untag-resource", "--resource-arn", ARN + "web",
                                "--tag-keys", "env")
        rc, out, err = self.aws("ecs", "list-tags-for-resource", "--resource-arn", ARN + "web")
        self.assertEqual(out["tags"], [{"key": "team", "value": "web"}])
        rc, out, err = self.aws("ecs", "list-tags-for-resource", "--resource-arn", ARN + "nope")
        self.assertIn("(ClusterNotFoundException)", err)
        rc, out, err = self.aws("ecs", "tag-resource", "--resource-arn", "not-an-arn", "--tags",
                                "key=a,value=b")
        self.assertIn("(InvalidParameterException) when calling the TagResource operation: The ARN "
                      "'not-an-arn' is not a valid Amazon ECS resource ARN.", err)
        rc, out, err = self.aws("ecs", "tag-resource", "--resource-arn", ARN + "web", "--tags",
                                "key=aws:owner,value=b")
        self.assertIn("Tag keys beginning with 'aws:' are reserved for use by AWS.", err)


class ClustersBoto3Test(unittest.TestCase):
    # Resources are isolated per account (12-digit access key) and per region (credential scope).
    def test_isolation_by_account_and_region(self):
        with Understudy(BINARY) as emulator:
            a = emulator.client("ecs", region="us-east-1", access_key="111111111111")
            b = emulator.client("ecs", region="us-east-1", access_key="222222222222")
            west = emulator.client("ecs", region="eu-west-1", access_key="111111111111")
            other = emulator.client("ecs", region="us-east-1", access_key="test")
            a.create_cluster(clusterName="web")
            self.assertEqual(a.list_clusters()["clusterArns"],
                             ["arn:aws:ecs:us-east-1:111111111111:cluster/web"])
            self.assertEqual(b.list_clusters()["clusterArns"], [])
            self.assertEqual(west.list_clusters()["clusterArns"], [])
            self.assertEqual(other.list_clusters()["clusterArns"], [])
            created = west.create_cluster(clusterName="web")["cluster"]
            self.assertEqual(created["clusterArn"], "arn:aws:ecs:eu-west-1:111111111111:cluster/web")

    # --account-id sets the account for access keys that are not 12 digits.
    def test_account_id_flag(self):
        with Understudy(BINARY, "--account-id", "999999999999") as emulator:
            ecs = emulator.client("ecs")
            arn = ecs.create_cluster(clusterName="web")["cluster"]["clusterArn"]
            self.assertEqual(arn, "arn:aws:ecs:us-east-1:999999999999:cluster/web")

    # Bad input changes nothing: a rejected create leaves no cluster behind.
    def test_rejected_create_leaves_nothing(self):
        with Understudy(BINARY) as emulator:
            ecs = emulator.client("ecs", validate=False)
            with self.assertRaises(ecs.exceptions.InvalidParameterException) as caught:
                ecs.create_cluster(clusterName="bad name!")
            self.assertEqual(caught.exception.response["Error"]["Message"],
                             "Cluster name can only contain up to 255 letters (uppercase and "
                             "lowercase), numbers, underscores, and hyphens.")
            with self.assertRaises(ecs.exceptions.InvalidParameterException):
                ecs.create_cluster(clusterName="web", tags=[{"key": "aws:x", "value": "y"}])
            self.assertEqual(ecs.list_clusters()["clusterArns"], [])
            status, journal = emulator.get("/_understudy/journal")
            transitions = [e for e in journal["entries"] if e["kind"] == "transition"]
            self.assertEqual(transitions, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
