"""ECS task definitions through the real AWS CLI and boto3 (aws-semantics §2.1, §2.4):
revisions per family, ECS's defaults, Fargate's cpu/memory table, ECS's error texts."""
import os
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "taskdefs")
ARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/"


class TaskDefinitionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, "--clock", "virtual", "--start", "2026-11-23T08:00:00Z").start()
        cls.ecs = cls.emulator.client("ecs", validate=False)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.emulator.post("/_understudy/reset")

    def register_web(self):
        rc, out, err = self.emulator.aws("ecs", "register-task-definition", "--cli-input-json",
                                         "file://" + os.path.join(FIXTURES, "web.json"))
        self.assertEqual(rc, 0, err)
        return out["taskDefinition"]

    def error(self, call):
        with self.assertRaises(Exception) as caught:
            call()
        return caught.exception.response["Error"]

    # The team's own task definition JSON registers as revision 1 with ECS's defaults filled in.
    def test_register_fixture(self):
        td = self.register_web()
        self.assertEqual(td["taskDefinitionArn"], ARN + "web:1")
        self.assertEqual((td["family"], td["revision"], td["status"]), ("web", 1, "ACTIVE"))
        self.assertEqual(td["compatibilities"], ["EC2", "FARGATE"])
        self.assertEqual((td["cpu"], td["memory"], td["networkMode"]), ("1024", "2048", "awsvpc"))
        self.assertEqual(td["registeredAt"], 1795420800.0)  # 2026-11-23T08:00:00Z, the virtual clock
        web, migrate = td["containerDefinitions"]
        self.assertEqual(web["portMappings"], [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}])
        self.assertEqual((web["cpu"], web["mountPoints"], web["volumesFrom"]), (0, [], []))
        self.assertFalse(migrate["essential"])
        self.assertEqual(self.register_web()["revision"], 2)

    # Describe by family (latest ACTIVE), family:revision and ARN; tags only with include TAGS.
    def test_describe(self):
        self.ecs.register_task_definition(family="api", containerDefinitions=[
            {"name": "api", "image": "api:1", "memory": 256}], tags=[{"key": "team", "value": "a"}])
        self.ecs.register_task_definition(family="api", containerDefinitions=[
            {"name": "api", "image": "api:2", "memory": 256}])
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="api")["taskDefinition"]["revision"], 2)
        one = self.ecs.describe_task_definition(taskDefinition="api:1", include=["TAGS"])
        self.assertEqual(one["taskDefinition"]["containerDefinitions"][0]["image"], "api:1")
        self.assertEqual(one["tags"], [{"key": "team", "value": "a"}])
        self.assertNotIn("tags", self.ecs.describe_task_definition(taskDefinition=ARN + "api:1"))
        self.ecs.deregister_task_definition(taskDefinition="api:2")
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="api")["taskDefinition"]["revision"], 1)
        self.assertEqual(self.error(lambda: self.ecs.describe_task_definition(taskDefinition="api:9")),
                         {"Code": "ClientException", "Message": "Unable to describe task definition."})

    # List filters by family and status, sorts both ways and pages; families list too.
    def test_list(self):
        for family in ["b", "a", "a", "a"]:
            self.ecs.register_task_definition(family=family, containerDefinitions=[
                {"name": "c", "image": "i", "memory": 128}])
        self.ecs.deregister_task_definition(taskDefinition="a:2")
        rc, out, err = self.emulator.aws("ecs", "list-task-definitions", "--page-size", "1")
        self.assertEqual(out["taskDefinitionArns"], [ARN + "a:1", ARN + "a:3", ARN + "b:1"])
        out = self.ecs.list_task_definitions(familyPrefix="a", sort="DESC")
        self.assertEqual(out["taskDefinitionArns"], [ARN + "a:3", ARN + "a:1"])
        out = self.ecs.list_task_definitions(status="INACTIVE")
        self.assertEqual(out["taskDefinitionArns"], [ARN + "a:2"])
        self.ecs.deregister_task_definition(taskDefinition="b:1")
        self.assertEqual(self.ecs.list_task_definition_families()["families"], ["a"])
        self.assertEqual(self.ecs.list_task_definition_families(status="INACTIVE")["families"], ["b"])
        self.assertEqual(self.ecs.list_task_definition_families(status="ALL")["families"], ["a", "b"])

    # Deregister then delete: INACTIVE, then DELETE_IN_PROGRESS; ACTIVE revisions refuse deletion.
    def test_deregister_and_delete(self):
        self.ecs.register_task_definition(family="job", containerDefinitions=[
            {"name": "c", "image": "i", "memory": 128}])
        out = self.ecs.delete_task_definitions(taskDefinitions=["job:1", "job:7"])
        self.assertEqual(out["taskDefinitions"], [])
        self.assertEqual(out["failures"], [
            {"arn": ARN + "job:1", "reason": "The specified task definition is still in ACTIVE "
                                            "status. Please deregister the target and try again."},
            {"arn": ARN + "job:7", "reason": "The specified task definition does not exist."}])
        td = self.ecs.deregister_task_definition(taskDefinition="job:1")["taskDefinition"]
        self.assertEqual(td["status"], "INACTIVE")
        self.assertIn("deregisteredAt", td)
        out = self.ecs.delete_task_definitions(taskDefinitions=["job:1"])
        self.assertEqual(out["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS")
        self.assertEqual(self.error(lambda: self.ecs.describe_task_definition(taskDefinition="job:1"))["Code"],
                         "ClientException")
        self.assertEqual(self.ecs.register_task_definition(family="job", containerDefinitions=[
            {"name": "c", "image": "i", "memory": 128}])["taskDefinition"]["revision"], 2)

    # Misuse gets ECS's error texts and registers nothing.
    def test_errors(self):
        c = {"name": "c", "image": "i", "memory": 128}
        cases = [
            (dict(family="web", containerDefinitions=[dict(c)], requiresCompatibilities=["FARGATE"],
                  networkMode="awsvpc", cpu="512", memory="8192"),
             "No Fargate configuration exists for given values: 512 CPU, 8192 memory. See the "
             "Amazon ECS documentation for the valid values."),
            (dict(family="web", containerDefinitions=[dict(c)], requiresCompatibilities=["FARGATE"],
                  cpu="256", memory="512"),
             "Fargate only supports network mode 'awsvpc'."),
            (dict(family="web", containerDefinitions=[{"name": "c", "image": "i"}]),
             "Invalid setting for container 'c'. At least one of 'memory' or 'memoryReservation' "
             "must be specified."),
            (dict(family="web", containerDefinitions=[{"name": "c", "memory": 1}]),
             "Container.image should not be null or empty."),
            (dict(family="web", containerDefinitions=[dict(c, essential=False)]),
             "A task definition must have at least one essential container."),
            (dict(family="web", containerDefinitions=[dict(c), dict(c, name="d", dependsOn=[
                {"containerName": "c", "condition": "SUCCESS"}])]),
             "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"),
            (dict(family="web", containerDefinitions=[dict(c), dict(c)]),
             "Container names must be unique within a task definition: 'c' appears more than once."),
            (dict(family="bad family", containerDefinitions=[dict(c)]),
             "Family contains invalid characters or is too long. Up to 255 letters (uppercase and "
             "lowercase), numbers, hyphens, and underscores are allowed."),
            (dict(family="web", containerDefinitions=[]), "Container list cannot be empty."),
        ]
        for request, message in cases:
            with self.subTest(message=message):
                self.assertEqual(self.error(lambda: self.ecs.register_task_definition(**request)),
                                 {"Code": "ClientException", "Message": message})
        self.assertEqual(self.ecs.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(self.error(lambda: self.ecs.deregister_task_definition(taskDefinition="web")),
                         {"Code": "ClientException", "Message": "Invalid revision number. Number: web"})

    # Task definitions survive a restart with the same state dir.
    def test_persist(self):
        import tempfile
        with tempfile.TemporaryDirectory() as state:
            with Understudy(BINARY, "--state-dir", state) as first:
                first.client("ecs").register_task_definition(family="web", containerDefinitions=[
                    {"name": "c", "image": "i", "memory": 128}])
            with Understudy(BINARY, "--state-dir", state) as second:
                ecs = second.client("ecs")
                self.assertEqual(ecs.list_task_definitions()["taskDefinitionArns"], [ARN + "web:1"])
                td = ecs.register_task_definition(family="web", containerDefinitions=[
                    {"name": "c", "image": "i", "memory": 128}])["taskDefinition"]
                self.assertEqual(td["revision"], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
