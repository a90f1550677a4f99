"""Cloud Map (servicediscovery) through the real AWS CLI and boto3, and ECS services whose
tasks register in it and reach each other by name from inside their tasks
(aws-semantics §2.14, §2.2, §7.3; docs/service-discovery.md).

DiscoverInstances is sent to the `data-` host prefix by AWS clients; against a local
endpoint the prefix is turned off (AWS_DISABLE_HOST_PREFIX_INJECTION for the CLI,
inject_host_prefix=False for boto3), as docs/service-discovery.md tells users to.
Timing is on the virtual clock and every synchronisation is a POST /_understudy/wait.
"""
import json
import os
import unittest
import urllib.parse
import urllib.request

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
APP = os.environ.get("UNDERSTUDY_FIXTURE_APP", "")
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}


def sd_client(emulator):
    import boto3
    from botocore.config import Config
    return boto3.client("servicediscovery", endpoint_url=emulator.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))


class CloudMapApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, "--clock", "virtual", "--start", "2026-11-23T08:00:00Z").start()
        cls.sd = sd_client(cls.emulator)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.emulator.post("/_understudy/reset")

    def cli(self, *args):
        os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] = "true"
        try:
            return self.emulator.aws("servicediscovery", *args)
        finally:
            del os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"]

    def error(self, call):
        with self.assertRaises(Exception) as caught:
            call()
        return caught.exception.response["Error"]

    # Namespaces from the CLI: the operation reads SUCCESS at once, get/list show the
    # namespace, a duplicate and an unknown id get Cloud Map's errors, tags round-trip.
    def test_namespaces_with_the_cli(self):
        rc, out, err = self.cli("create-private-dns-namespace", "--name", "local", "--vpc", "vpc-1",
                                "--description", "internal names")
        self.assertEqual(rc, 0, err)
        rc, op, err = self.cli("get-operation", "--operation-id", out["OperationId"])
        self.assertEqual(rc, 0, err)
        self.assertEqual((op["Operation"]["Status"], op["Operation"]["Type"]), ("SUCCESS", "CREATE_NAMESPACE"))
        ns_id = op["Operation"]["Targets"]["NAMESPACE"]
        rc, got, err = self.cli("get-namespace", "--id", ns_id)
        self.assertEqual(rc, 0, err)
        self.assertEqual(got["Namespace"]["Name"], "local")
        self.assertEqual(got["Namespace"]["Type"], "DNS_PRIVATE")
        self.assertEqual(got["Namespace"]["Description"], "internal names")
        self.assertEqual(got["Namespace"]["Properties"]["HttpProperties"]["HttpName"], "local")
        rc, _, err = self.cli("create-private-dns-namespace", "--name", "local", "--vpc", "vpc-1")
        self.assertNotEqual(rc, 0)
        self.assertIn("An error occurred (NamespaceAlreadyExists) when calling the CreatePrivateDnsNamespace "
                      "operation: Namespace with name local already exists.", err)
        rc, _, err = self.cli("get-namespace", "--id", "ns-nope")
        self.assertIn("An error occurred (NamespaceNotFound) when calling the GetNamespace operation: "
                      "Namespace not found", err)
        self.cli("create-http-namespace", "--name", "apps")
        rc, listed, err = self.cli("list-namespaces", "--filters", "Name=TYPE,Values=HTTP,Condition=EQ")
        self.assertEqual([n["Name"] for n in listed["Namespaces"]], ["apps"])
        arn = got["Namespace"]["Arn"]
        self.sd.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "web"}])
        self.assertEqual(self.sd.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "team", "Value": "web"}])
        self.sd.untag_resource(ResourceARN=arn, TagKeys=["team"])
        self.assertEqual(self.sd.list_tags_for_resource(ResourceARN=arn)["Tags"], [])

    # Services and instances with boto3 and the CLI: register, discover (CLI and boto3),
    # custom health, deletion guarded by ResourceInUse, operations listed by type.
    def test_services_and_instances(self):
        op = self.sd.create_private_dns_namespace(Name="local", Vpc="vpc-1")["OperationId"]
        ns_id = self.sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        service = self.sd.create_service(
            Name="api", NamespaceId=ns_id, HealthCheckCustomConfig={"FailureThreshold": 1},
            DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]
        self.assertEqual(service["Type"], "DNS_HTTP")
        self.assertEqual(service["DnsConfig"]["RoutingPolicy"], "MULTIVALUE")
        rc, out, err = self.cli("register-instance", "--service-id", service["Id"], "--instance-id", "i-1",
                                "--attributes", "AWS_INSTANCE_IPV4=10.0.0.4,AWS_INSTANCE_PORT=8080")
        self.assertEqual(rc, 0, err)
        self.sd.register_instance(ServiceId=service["Id"], InstanceId="i-2",
                                  Attributes={"AWS_INSTANCE_IPV4": "10.0.0.5", "AWS_INSTANCE_PORT": "8080"})
        rc, found, err = self.cli("discover-instances", "--namespace-name", "local", "--service-name", "api")
        self.assertEqual(rc, 0, err)
        self.assertEqual([i["InstanceId"] for i in found["Instances"]], ["i-1", "i-2"])
        self.assertEqual(found["Instances"][0]["HealthStatus"], "HEALTHY")
        self.assertEqual(found["Instances"][0]["Attributes"]["AWS_INSTANCE_IPV4"], "10.0.0.4")
        revision = found["InstancesRevision"]
        self.sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="i-1", Status="UNHEALTHY")
        healthy = self.sd.discover_instances(NamespaceName="local", ServiceName="api")
        self.assertEqual([i["InstanceId"] for i in healthy["Instances"]], ["i-2"])
        self.assertGreater(healthy["InstancesRevision"], revision)
        everything = self.sd.discover_instances(NamespaceName="local", ServiceName="api", HealthStatus="ALL")
        self.assertEqual(len(everything["Instances"]), 2)
        self.assertEqual(self.sd.get_instances_health_status(ServiceId=service["Id"])["Status"],
                         {"i-1": "UNHEALTHY", "i-2": "HEALTHY"})
        self.assertEqual(self.error(lambda: self.sd.delete_service(Id=service["Id"])),
                         {"Code": "ResourceInUse", "Message": "Service contains registered instances; delete "
                          "the instances before deleting the service"})
        self.assertEqual(self.error(lambda: self.sd.discover_instances(NamespaceName="nope", ServiceName="api")),
                         {"Code": "NamespaceNotFound", "Message": "Namespace not found"})
        self.assertEqual(self.error(lambda: self.sd.get_instance(ServiceId=service["Id"], InstanceId="i-9"))["Code"],
                         "InstanceNotFound")
        for instance in ("i-1", "i-2"):
            self.sd.deregister_instance(ServiceId=service["Id"], InstanceId=instance)
        self.sd.delete_service(Id=service["Id"])
        ops = self.sd.list_operations(Filters=[{"Name": "TYPE", "Values": ["REGISTER_INSTANCE", "DEREGISTER_INSTANCE"],
                                                "Condition": "IN"}])["Operations"]
        self.assertEqual(len(ops), 4)
        self.assertTrue(all(o["Status"] == "SUCCESS" for o in ops))
        self.sd.delete_namespace(Id=ns_id)
        self.assertEqual(self.sd.list_namespaces()["Namespaces"], [])


class EcsServiceDiscoveryTest(unittest.TestCase):
    """Two ECS services registered in Cloud Map: a task of `app` calls `api.local` from inside."""

    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual").start()
        self.addCleanup(self.emulator.stop)
        self.ecs = self.emulator.client("ecs")
        self.elb = self.emulator.client("elbv2")
        self.sd = sd_client(self.emulator)

    def register(self, family, port):
        return self.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[
                {"name": family, "image": "local/fixture", "command": [APP, "--port", str(port), "--name", family],
                 "portMappings": [{"containerPort": port}]}])["taskDefinition"]["taskDefinitionArn"]

    def wait_steady(self, service):
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsService": {"cluster": "web", "service": service, "steady": True}}, "timeout": "15m"})
        self.assertEqual(status, 200, answer)

    def discovered(self, service):
        found = self.sd.discover_instances(NamespaceName="local", ServiceName=service)["Instances"]
        return sorted(found, key=lambda i: i["InstanceId"])

    def running_tasks(self, service):
        arns = self.ecs.list_tasks(cluster="web", serviceName=service)["taskArns"]
        return self.ecs.describe_tasks(cluster="web", tasks=arns)["tasks"] if arns else []

    def fetch(self, url, target):
        query = urllib.parse.urlencode({"url": target})
        try:
            with urllib.request.urlopen(f"{url}/fetch?{query}", timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_tasks_reach_each_other_by_name(self):
        self.ecs.create_cluster(clusterName="web")
        op = self.sd.create_private_dns_namespace(Name="local", Vpc="vpc-1")["OperationId"]
        ns_id = self.sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        ns_arn = self.sd.get_namespace(Id=ns_id)["Namespace"]["Arn"]
        api_registry = self.sd.create_service(
            Name="api", NamespaceId=ns_id, DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
            HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]
        self.register("api", 8080)
        self.register("app", 3000)

        # An unknown registry and a malformed ARN are refused; nothing is created.
        unknown = api_registry["Arn"].replace(api_registry["Id"], "srv-0000000000000000")
        with self.assertRaises(self.ecs.exceptions.InvalidParameterException) as error:
            self.ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                                    launchType="FARGATE", networkConfiguration=NETWORK,
                                    serviceRegistries=[{"registryArn": unknown}])
        self.assertEqual(error.exception.response["Error"]["Message"],
                         f"The service registry {unknown} does not exist. Create it in AWS Cloud Map and retry.")
        with self.assertRaises(self.ecs.exceptions.InvalidParameterException) as error:
            self.ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                                    launchType="FARGATE", networkConfiguration=NETWORK,
                                    serviceRegistries=[{"registryArn": ns_arn}])
        self.assertEqual(error.exception.response["Error"]["Message"],
                         f"The format of the supplied service registry ARN is invalid: {ns_arn}.")
        self.assertEqual(self.ecs.list_services(cluster="web")["serviceArns"], [])

        # api: two tasks registered in Cloud Map. app: one task behind an ALB, so the test
        # can ask it to call api.local from inside its own namespaces.
        self.ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                                launchType="FARGATE", networkConfiguration=NETWORK,
                                serviceRegistries=[{"registryArn": api_registry["Arn"]}])
        lb = self.elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = self.elb.create_target_group(
            Name="app", Protocol="HTTP", Port=3000, VpcId=lb["VpcId"], TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2)["TargetGroups"][0]
        listener = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
        self.ecs.create_service(cluster="web", serviceName="app", taskDefinition="app", desiredCount=1,
                                launchType="FARGATE", networkConfiguration=NETWORK,
                                loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "app",
                                                "containerPort": 3000}])
        self.wait_steady("api")
        self.wait_steady("app")

        # ListServicesByNamespace by name and by ARN; an unknown namespace is refused.
        api_arn = self.ecs.describe_services(cluster="web", services=["api"])["services"][0]["serviceArn"]
        self.assertEqual(self.ecs.list_services_by_namespace(namespace="local")["serviceArns"], [api_arn])
        self.assertEqual(self.ecs.list_services_by_namespace(namespace=ns_arn)["serviceArns"], [api_arn])
        with self.assertRaises(self.ecs.exceptions.NamespaceNotFoundException):
            self.ecs.list_services_by_namespace(namespace="nope")

        # Each api task is an instance: id = task id, its private address and ECS's attributes.
        tasks = {t["taskArn"].rsplit("/", 1)[1]: t for t in self.running_tasks("api")}
        instances = self.discovered("api")
        self.assertEqual([i["InstanceId"] for i in instances], sorted(tasks))
        for instance in instances:
            task = tasks[instance["InstanceId"]]
            address = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
            self.assertEqual(instance["Attributes"]["AWS_INSTANCE_IPV4"], address)
            self.assertEqual(instance["Attributes"]["AWS_INSTANCE_PORT"], "8080")
            self.assertEqual(instance["Attributes"]["ECS_SERVICE_NAME"], "api")
            self.assertEqual(instance["Attributes"]["ECS_CLUSTER_NAME"], "web")
            self.assertEqual(instance["Attributes"]["ECS_TASK_DEFINITION_FAMILY"], "api")
            self.assertEqual(instance["Attributes"]["AVAILABILITY_ZONE"], task["availabilityZone"])
            self.assertEqual(instance["HealthStatus"], "HEALTHY")

        # From inside the app task, api.local resolves to both api tasks and answers.
        _, described = self.emulator.get("/_understudy/elb")
        url = described["loadBalancers"][0]["listeners"][0]["url"]
        addresses = sorted(i["Attributes"]["AWS_INSTANCE_IPV4"] for i in instances)
        status, fetched = self.fetch(url, "http://api.local:8080/")
        self.assertEqual(status, 200, fetched)
        self.assertEqual(sorted(fetched["addresses"]), addresses)
        self.assertEqual(fetched["status"], 200)
        self.assertEqual(json.loads(fetched["body"])["name"], "api")
        # Each address answers, each with one of the two api tasks.
        pids = set()
        for address in addresses:
            status, fetched = self.fetch(url, f"http://{address}:8080/")
            self.assertEqual((status, fetched.get("status")), (200, 200), fetched)
            pids.add(json.loads(fetched["body"])["pid"])
        self.assertEqual(len(pids), 2)
        # The load balancer's DNS name resolves inside the task too (back to app itself).
        status, fetched = self.fetch(url, f"http://{lb['DNSName']}/echo/through-alb")
        self.assertEqual((status, fetched.get("status")), (200, 200), fetched)
        self.assertEqual(json.loads(fetched["body"])["path"], "/echo/through-alb")

        # A task stopped from outside is replaced: its instance goes, the new task's comes,
        # and the name follows.
        stopped = sorted(tasks)[0]
        self.ecs.stop_task(cluster="web", task=stopped, reason="chaos")
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsTask": {"cluster": "web", "task": stopped, "lastStatus": "STOPPED"}}, "timeout": "15m"})
        self.assertEqual(status, 200, answer)
        self.wait_steady("api")
        replaced = {t["taskArn"].rsplit("/", 1)[1]: t for t in self.running_tasks("api")}
        self.assertNotIn(stopped, replaced)
        instances = self.discovered("api")
        self.assertEqual([i["InstanceId"] for i in instances], sorted(replaced))
        addresses = sorted(i["Attributes"]["AWS_INSTANCE_IPV4"] for i in instances)
        status, fetched = self.fetch(url, "http://api.local:8080/health")
        self.assertEqual((status, fetched.get("status")), (200, 200), fetched)
        self.assertEqual(sorted(fetched["addresses"]), addresses)

        # Scaled to zero, the name resolves to nothing and the registry empties.
        self.ecs.update_service(cluster="web", service="api", desiredCount=0)
        self.wait_steady("api")
        self.assertEqual(self.discovered("api"), [])
        status, fetched = self.fetch(url, "http://api.local:8080/")
        self.assertEqual(status, 502, fetched)
        self.assertEqual(fetched["addresses"], [])

    # Container health goes to the registry's custom health (HealthCheckCustomConfig): an
    # unhealthy task leaves DiscoverInstances' answer and the name inside other tasks, and
    # comes back once healthy. The grace period keeps the scheduler from replacing it.
    def test_unhealthy_tasks_leave_the_name(self):
        self.ecs.create_cluster(clusterName="web")
        op = self.sd.create_private_dns_namespace(Name="local", Vpc="vpc-1")["OperationId"]
        ns_id = self.sd.get_operation(OperationId=op)["Operation"]["Targets"]["NAMESPACE"]
        registry = self.sd.create_service(
            Name="api", NamespaceId=ns_id, DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
            HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]
        probe = ("import sys, urllib.request\n"
                 "try:\n    urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)\n"
                 "except Exception:\n    sys.exit(1)\n")
        self.ecs.register_task_definition(
            family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{
                "name": "api", "image": "local/fixture", "command": [APP, "--port", "8080", "--name", "api"],
                "portMappings": [{"containerPort": 8080}],
                "healthCheck": {"command": ["CMD", "python3", "-c", probe], "interval": 5, "timeout": 2,
                                "retries": 1}}])
        self.register("app", 3000)
        self.ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                                launchType="FARGATE", networkConfiguration=NETWORK,
                                healthCheckGracePeriodSeconds=3600,
                                serviceRegistries=[{"registryArn": registry["Arn"]}])
        lb = self.elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = self.elb.create_target_group(
            Name="app", Protocol="HTTP", Port=3000, VpcId=lb["VpcId"], TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2)["TargetGroups"][0]
        self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        self.ecs.create_service(cluster="web", serviceName="app", taskDefinition="app", desiredCount=1,
                                launchType="FARGATE", networkConfiguration=NETWORK,
                                loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "app",
                                                "containerPort": 3000}])
        self.wait_steady("api")
        self.wait_steady("app")
        _, described = self.emulator.get("/_understudy/elb")
        url = described["loadBalancers"][0]["listeners"][0]["url"]
        tasks = self.running_tasks("api")
        self.assertTrue(all(t["healthStatus"] == "HEALTHY" for t in tasks))
        sick, well = sorted(tasks, key=lambda t: t["taskArn"])
        sick_id = sick["taskArn"].rsplit("/", 1)[1]
        sick_ip = sick["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        well_ip = well["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        self.assertEqual(sorted(self.fetch(url, "http://api.local:8080/health")[1]["addresses"]),
                         sorted([sick_ip, well_ip]))

        def set_health(code):
            query = urllib.parse.urlencode({"url": f"http://{sick_ip}:8080/_control", "method": "POST",
                                            "body": json.dumps({"health_status": code})})
            with urllib.request.urlopen(f"{url}/fetch?{query}", timeout=30) as response:
                self.assertEqual(json.loads(response.read())["status"], 200)

        def wait_health(want):
            status, answer = self.emulator.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": sick_id, "healthStatus": want}},
                "timeout": "5m"})
            self.assertEqual(status, 200, answer)

        set_health(503)
        wait_health("UNHEALTHY")
        self.assertEqual(self.sd.get_instances_health_status(ServiceId=registry["Id"])["Status"][sick_id],
                         "UNHEALTHY")
        self.assertEqual([i["Attributes"]["AWS_INSTANCE_IPV4"] for i in self.discovered("api")], [well_ip])
        self.assertEqual(self.fetch(url, "http://api.local:8080/health")[1]["addresses"], [well_ip])
        self.assertEqual(len(self.running_tasks("api")), 2)  # not replaced within the grace period

        set_health(200)
        wait_health("HEALTHY")
        self.assertEqual(sorted(self.fetch(url, "http://api.local:8080/health")[1]["addresses"]),
                         sorted([sick_ip, well_ip]))


if __name__ == "__main__":
    unittest.main()
