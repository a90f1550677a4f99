"""ECS services end to end: the real binary, boto3 and the AWS CLI, fixture apps as tasks.

A service of 2 awsvpc tasks behind an ALB reaches a steady state and shares traffic; a
rolling update under continuous traffic fails no request, drains the old tasks and tells
ECS's events in ECS's order; a revision whose app exits at start trips the circuit
breaker and rolls back; scaling and a task killed from outside are handled by the
scheduler; `aws ecs wait services-stable` returns (aws-semantics §2.6-§2.9). Timing is on
the virtual clock: grace periods, deregistration delays and probe intervals cost no wall
time, and every synchronisation is a POST /_understudy/wait.
"""
import json
import os
import signal
import threading
import unittest
import urllib.error
import urllib.request

from understudy_process import Understudy, binary_from_env, wait_until

BINARY = binary_from_env()
APP = os.environ.get("UNDERSTUDY_FIXTURE_APP", "")
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}


def listener_url(emulator, listener_arn):
    _, state = emulator.get("/_understudy/elb")
    for lb in state["loadBalancers"]:
        for listener in lb["listeners"]:
            if listener["arn"] == listener_arn:
                return listener["url"]
    raise AssertionError(f"{listener_arn} is not in /_understudy/elb: {state}")


def in_order(messages, expected):
    """True when each expected regex-free prefix matches a later message than the previous."""
    at = 0
    for want in expected:
        while at < len(messages) and not messages[at].startswith(want):
            at += 1
        if at == len(messages):
            return False
        at += 1
    return True


class ServicesBehindAlbTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual").start()
        self.addCleanup(self.emulator.stop)
        self.ecs = self.emulator.client("ecs")
        self.elb = self.emulator.client("elbv2")

    def register(self, name, command):
        return self.ecs.register_task_definition(
            family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[
                {"name": "api", "image": "local/fixture", "command": command,
                 "portMappings": [{"containerPort": 8080}]}])["taskDefinition"]["taskDefinitionArn"]

    def wait_steady(self, timeout="15m"):
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsService": {"cluster": "web", "service": "api", "steady": True}},
            "timeout": timeout})
        self.assertEqual(status, 200, answer)
        return self.ecs.describe_services(cluster="web", services=["api"])["services"][0]

    def events(self):
        service = self.ecs.describe_services(cluster="web", services=["api"])["services"][0]
        return [e["message"] for e in reversed(service["events"])]

    def test_rolling_update_and_rollback_behind_the_alb(self):
        self.ecs.create_cluster(clusterName="web")
        self.register("v1", [APP, "--port", "8080", "--name", "v1"])
        lb = self.elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = self.elb.create_target_group(
            Name="api", Protocol="HTTP", Port=8080, VpcId=lb["VpcId"], TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2)["TargetGroups"][0]
        tg_arn = tg["TargetGroupArn"]
        self.elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "20"}])
        listener = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
        url = listener_url(self.emulator, listener["ListenerArn"])

        with self.assertRaises(self.ecs.exceptions.InvalidParameterException) as error:
            self.ecs.create_service(
                cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                launchType="FARGATE", networkConfiguration=NETWORK,
                loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "api", "containerPort": 80}])
        self.assertEqual(error.exception.response["Error"]["Message"],
                         "The container api did not have a container port 80 defined.")

        created = self.ecs.create_service(
            cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
            launchType="FARGATE", networkConfiguration=NETWORK, healthCheckGracePeriodSeconds=30,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
            loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "api", "containerPort": 8080}])
        first = created["service"]["deployments"][0]["id"]
        service = self.wait_steady()
        self.assertEqual(service["runningCount"], 2)
        self.assertEqual([d["id"] for d in service["deployments"]], [first])
        health = self.elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        self.assertEqual(sorted(h["TargetHealth"]["State"] for h in health), ["healthy", "healthy"])
        pids = set()
        for _ in range(8):
            with urllib.request.urlopen(url + "/", timeout=10) as response:
                pids.add(json.loads(response.read())["pid"])
        self.assertEqual(len(pids), 2, pids)

        # A rolling update under continuous traffic: no request fails.
        results = {"ok": 0, "failed": [], "names": set()}
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(url + "/", timeout=10) as response:
                        results["names"].add(json.loads(response.read())["name"])
                        results["ok"] += 1
                except (urllib.error.URLError, OSError) as e:
                    results["failed"].append(str(e))
                # Load pacing, not synchronisation: requests in flight hold the virtual
                # clock, so back-to-back traffic would leave it no instant to move.
                stop.wait(0.02)

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            self.register("v2", [APP, "--port", "8080", "--name", "v2"])
            updated = self.ecs.update_service(cluster="web", service="api", taskDefinition="api:2")
            second = updated["service"]["deployments"][0]["id"]
            self.assertNotEqual(second, first)
            service = self.wait_steady()
        finally:
            stop.set()
            sender.join()
        self.assertEqual(results["failed"], [])
        self.assertGreater(results["ok"], 0)
        self.assertIn("v2", results["names"])
        self.assertEqual([d["id"] for d in service["deployments"]], [second])
        self.assertTrue(service["taskDefinition"].endswith("task-definition/api:2"))
        events = self.events()
        self.assertTrue(in_order(events, [
            "(service api) has started 2 tasks:", "(service api) registered 1 targets in",
            "(service api) has stopped ", "(service api) deregistered ",
            f"(service api, taskSet {first}) has begun draining connections on",
            f"(service api) (deployment {second}) deployment completed.",
            "(service api) has reached a steady state."]), events)
        old = self.ecs.list_tasks(cluster="web", desiredStatus="STOPPED")["taskArns"]
        stopped = self.ecs.describe_tasks(cluster="web", tasks=old)["tasks"]
        self.assertEqual({t["stopCode"] for t in stopped}, {"ServiceSchedulerInitiated"})
        self.assertEqual({t["stoppedReason"] for t in stopped},
                         {f"Scaling activity initiated by (deployment {first})"})

        # A revision whose app exits at start: the breaker trips and rolls back.
        self.register("bad", ["/bin/sh", "-c", "exit 3"])
        bad = self.ecs.update_service(cluster="web", service="api",
                                      taskDefinition="api:3")["service"]["deployments"][0]["id"]
        service = self.wait_steady()
        self.assertEqual([d["id"] for d in service["deployments"]], [second])
        self.assertEqual(service["deployments"][0]["rolloutState"], "COMPLETED")
        self.assertTrue(service["taskDefinition"].endswith("task-definition/api:2"))
        events = self.events()
        self.assertIn(f"(service api) (deployment {bad}) deployment failed: tasks failed to start.",
                      events)
        self.assertIn(f"(service api) rolling back to deployment {second}.", events)

        # A revision whose tasks start but fail the target group's health checks: after the
        # grace period each is replaced; the failures trip the breaker and it rolls back.
        self.register("sick", [APP, "--port", "8080", "--name", "sick", "--health-status", "503"])
        sick = self.ecs.update_service(cluster="web", service="api",
                                       taskDefinition="api:4")["service"]["deployments"][0]["id"]
        service = self.wait_steady()
        self.assertEqual([d["id"] for d in service["deployments"]], [second])
        self.assertTrue(service["taskDefinition"].endswith("task-definition/api:2"))
        events = self.events()
        self.assertTrue(any(e.startswith("(service api) (task ") and
                            f") (port 8080) is unhealthy in (target-group {tg_arn}) due to (reason "
                            "Health checks failed with these codes: [503])." in e for e in events),
                        events)
        self.assertIn(f"(service api) (deployment {sick}) deployment failed: tasks failed to start.",
                      events)
        sick_arns = [a for a in self.ecs.list_tasks(cluster="web", desiredStatus="STOPPED")["taskArns"]]
        sick_tasks = [t for t in self.ecs.describe_tasks(cluster="web", tasks=sick_arns)["tasks"]
                      if t["taskDefinitionArn"].endswith(":4")]
        self.assertGreaterEqual(len(sick_tasks), 3)
        self.assertEqual({t["stoppedReason"] for t in sick_tasks},
                         {f"Task failed ELB health checks in (target-group {tg_arn})"})

        rc, out, err = self.emulator.aws("ecs", "wait", "services-stable", "--cluster", "web",
                                         "--services", "api")
        self.assertEqual(rc, 0, err)


class ServiceSchedulerTest(unittest.TestCase):
    def test_scaling_and_replacement(self):
        with Understudy(BINARY, "--clock", "virtual") as emulator:
            ecs = emulator.client("ecs")
            ecs.create_cluster(clusterName="web")
            ecs.register_task_definition(family="worker", containerDefinitions=[
                {"name": "worker", "image": "local/fixture", "memory": 64,
                 "command": [APP, "--port", "0", "--name", "worker"]}])
            ecs.create_service(cluster="web", serviceName="worker", taskDefinition="worker",
                               desiredCount=1)

            def steady():
                status, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsService": {"cluster": "web", "service": "worker"}},
                    "timeout": "10m"})
                self.assertEqual(status, 200, answer)
                return ecs.describe_services(cluster="web", services=["worker"])["services"][0]

            steady()
            ecs.update_service(cluster="web", service="worker", desiredCount=3)
            self.assertEqual(steady()["runningCount"], 3)
            ecs.update_service(cluster="web", service="worker", desiredCount=1)
            self.assertEqual(steady()["runningCount"], 1)

            # A task killed from outside is replaced.
            arn = ecs.list_tasks(cluster="web", serviceName="worker")["taskArns"][0]
            task = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
            os.kill(int(task["containers"][0]["runtimeId"]), signal.SIGKILL)
            # The exit is real-world news: wait for it in real time, not on the clock.
            wait_until(lambda: ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                       ["lastStatus"] == "STOPPED", timeout=20, what=f"{arn} STOPPED")
            service = steady()
            self.assertEqual(service["runningCount"], 1)
            arns = ecs.list_tasks(cluster="web", serviceName="worker")["taskArns"]
            self.assertEqual(len(arns), 1)
            self.assertNotEqual(arns[0], arn)
            self.assertRegex(service["events"][0]["message"], r"^\(service worker\) has reached a steady state\.$")

            # Delete with force: DRAINING, then INACTIVE once its tasks are gone.
            deleted = ecs.delete_service(cluster="web", service="worker", force=True)["service"]
            self.assertEqual(deleted["status"], "DRAINING")
            status, answer = emulator.post("/_understudy/wait", {
                "until": {"ecsService": {"cluster": "web", "service": "worker", "status": "INACTIVE"}},
                "timeout": "10m"})
            self.assertEqual(status, 200, answer)
            self.assertEqual(ecs.list_services(cluster="web")["serviceArns"], [])


class ServiceDeploymentsTest(unittest.TestCase):
    """ListServiceDeployments & co. beside deployments[] (aws-semantics §2.7, §2.8)."""

    def test_history_rollback_and_stop(self):
        with Understudy(BINARY, "--clock", "virtual") as emulator:
            ecs = emulator.client("ecs")
            ecs.create_cluster(clusterName="web")

            def register(command):
                return ecs.register_task_definition(family="worker", containerDefinitions=[
                    {"name": "worker", "image": "local/fixture", "memory": 64,
                     "command": command}])["taskDefinition"]["taskDefinitionArn"]

            def steady():
                status, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsService": {"cluster": "web", "service": "worker", "steady": True}},
                    "timeout": "30m"})
                self.assertEqual(status, 200, answer)
                return ecs.describe_services(cluster="web", services=["worker"])["services"][0]

            def history():
                briefs = ecs.list_service_deployments(cluster="web", service="worker")
                return briefs["serviceDeployments"]

            good = register([APP, "--port", "0", "--name", "v1"])
            ecs.create_service(
                cluster="web", serviceName="worker", taskDefinition="worker", desiredCount=1,
                deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
            service = steady()
            [first] = history()
            self.assertEqual(first["status"], "SUCCESSFUL")
            self.assertRegex(first["serviceDeploymentArn"],
                             r"^arn:aws:ecs:us-east-1:000000000000:service-deployment/web/worker/[A-Za-z0-9_-]{22}$")
            self.assertRegex(first["targetServiceRevisionArn"],
                             r"^arn:aws:ecs:us-east-1:000000000000:service-revision/web/worker/\d{19}$")
            self.assertEqual(service["currentServiceDeployment"], first["serviceDeploymentArn"])
            [revision] = ecs.describe_service_revisions(
                serviceRevisionArns=[first["targetServiceRevisionArn"]])["serviceRevisions"]
            self.assertEqual(revision["taskDefinition"], good)
            self.assertEqual(revision["containerImages"],
                             [{"containerName": "worker", "image": "local/fixture"}])
            [detail] = ecs.describe_service_deployments(
                serviceDeploymentArns=[first["serviceDeploymentArn"]])["serviceDeployments"]
            self.assertEqual(detail["targetServiceRevision"]["runningTaskCount"], 1)
            self.assertEqual(detail["deploymentCircuitBreaker"],
                             {"status": "MONITORING_COMPLETE", "failureCount": 0, "threshold": 3})

            # A revision that exits at start: the breaker trips after 3 failed tasks and the
            # service deployment records the rollback to the first revision.
            register(["/bin/sh", "-c", "exit 3"])
            ecs.update_service(cluster="web", service="worker", taskDefinition="worker:2")
            steady()
            bad = history()[0]
            self.assertEqual(bad["status"], "ROLLBACK_SUCCESSFUL")
            [detail] = ecs.describe_service_deployments(
                serviceDeploymentArns=[bad["serviceDeploymentArn"]])["serviceDeployments"]
            self.assertEqual(detail["rollback"]["serviceRevisionArn"], first["targetServiceRevisionArn"])
            self.assertEqual(detail["rollback"]["reason"],
                             "ECS deployment circuit breaker: task failed to start.")
            self.assertEqual(detail["deploymentCircuitBreaker"],
                             {"status": "TRIGGERED", "failureCount": 3, "threshold": 3})
            self.assertEqual([s["arn"] for s in detail["sourceServiceRevisions"]],
                             [first["targetServiceRevisionArn"]])

            # A new deployment supersedes an unfinished one; StopServiceDeployment rolls the
            # newest back (the clock stands still in between, so neither can finish first).
            register([APP, "--port", "0", "--name", "v3"])
            ecs.update_service(cluster="web", service="worker", taskDefinition="worker:3")
            ecs.update_service(cluster="web", service="worker", forceNewDeployment=True)
            newest, superseded = history()[:2]
            self.assertEqual(superseded["status"], "STOPPED")
            self.assertEqual(newest["status"], "IN_PROGRESS")
            rc, out, err = emulator.aws("ecs", "stop-service-deployment", "--service-deployment-arn",
                                        newest["serviceDeploymentArn"], "--stop-type", "ROLLBACK")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out["serviceDeploymentArn"], newest["serviceDeploymentArn"])
            service = steady()
            self.assertEqual(service["taskDefinition"], good)
            self.assertEqual(history()[0]["status"], "ROLLBACK_SUCCESSFUL")
            stopped = ecs.list_service_deployments(cluster="web", service="worker",
                                                   status=["STOPPED"])["serviceDeployments"]
            self.assertEqual([d["serviceDeploymentArn"] for d in stopped],
                             [superseded["serviceDeploymentArn"]])

            # Bad input changes nothing.
            with self.assertRaises(ecs.exceptions.ConflictException):
                ecs.stop_service_deployment(serviceDeploymentArn=first["serviceDeploymentArn"])
            with self.assertRaises(ecs.exceptions.ServiceDeploymentNotFoundException):
                ecs.stop_service_deployment(
                    serviceDeploymentArn=first["serviceDeploymentArn"][:-4] + "zzzz")
            missing = ecs.describe_service_deployments(serviceDeploymentArns=["arn:aws:ecs:us-east-1:000000000000:service-deployment/web/worker/nope"])
            self.assertEqual(missing["failures"][0]["reason"], "MISSING")
            with self.assertRaises(ecs.exceptions.ServiceNotFoundException):
                ecs.list_service_deployments(cluster="web", service="nope")
            self.assertEqual(len(history()), 4)


class BlueGreenTest(unittest.TestCase):
    """The native BLUE_GREEN strategy behind a real ALB (aws-semantics §2.10)."""

    def test_switch_bake_rollback_and_switch_again(self):
        with Understudy(BINARY, "--clock", "virtual") as emulator:
            ecs = emulator.client("ecs")
            elb = emulator.client("elbv2")
            ecs.create_cluster(clusterName="web")

            def register(name):
                ecs.register_task_definition(
                    family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                    cpu="256", memory="512", containerDefinitions=[
                        {"name": "api", "image": "local/fixture",
                         "command": [APP, "--port", "8080", "--name", name],
                         "portMappings": [{"containerPort": 8080}]}])

            lb = elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
            groups = []
            for name in ("blue", "green"):
                tg = elb.create_target_group(
                    Name=name, Protocol="HTTP", Port=8080, VpcId=lb["VpcId"], TargetType="ip",
                    HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                    HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
                elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "10"}])
                groups.append(tg)
            blue, green = groups
            both = {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 100},
                                     {"TargetGroupArn": green, "Weight": 0}]}
            rules, urls = {}, {}
            for name, port in (("production", 80), ("test", 81)):
                listener = elb.create_listener(
                    LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                    DefaultActions=[{"Type": "fixed-response",
                                     "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]
                rules[name] = elb.create_rule(
                    ListenerArn=listener["ListenerArn"], Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                    Actions=[{"Type": "forward", "ForwardConfig": both}])["Rules"][0]["RuleArn"]
                urls[name] = listener_url(emulator, listener["ListenerArn"])

            def names(url, n=12):
                seen = []
                for _ in range(n):
                    with urllib.request.urlopen(url + "/", timeout=10) as response:
                        seen.append(json.loads(response.read())["name"])
                return set(seen)

            def weights(rule):
                [found] = elb.describe_rules(RuleArns=[rule])["Rules"]
                forward = found["Actions"][0]["ForwardConfig"]["TargetGroups"]
                return {g["TargetGroupArn"]: g["Weight"] for g in forward}

            def wait(**until):
                status, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsService": {"cluster": "web", "service": "api", **until}},
                    "timeout": "2h"})
                self.assertEqual(status, 200, answer)

            advanced = {"alternateTargetGroupArn": green, "productionListenerRule": rules["production"],
                        "testListenerRule": rules["test"],
                        "roleArn": "arn:aws:iam::000000000000:role/ecs-infrastructure"}
            lbs = [{"targetGroupArn": blue, "containerName": "api", "containerPort": 8080,
                    "advancedConfiguration": advanced}]
            register("v1")
            # Bad input changes nothing: no advancedConfiguration for a BLUE_GREEN service.
            with self.assertRaises(ecs.exceptions.InvalidParameterException):
                ecs.create_service(
                    cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                    launchType="FARGATE", networkConfiguration=NETWORK,
                    deploymentConfiguration={"strategy": "BLUE_GREEN"},
                    loadBalancers=[{"targetGroupArn": blue, "containerName": "api",
                                    "containerPort": 8080}])
            self.assertEqual(ecs.list_services(cluster="web")["serviceArns"], [])
            ecs.create_service(
                cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
                launchType="FARGATE", networkConfiguration=NETWORK,
                deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
                loadBalancers=lbs)
            wait(steady=True)
            self.assertEqual(names(urls["production"]), {"v1"})
            self.assertEqual(weights(rules["production"]), {blue: 100, green: 0})

            # v2 goes to the green group; in BAKE_TIME production and test traffic reach
            # it while the blue tasks still run.
            register("v2")
            ecs.update_service(cluster="web", service="api", taskDefinition="api:2")
            wait(lifecycleStage="BAKE_TIME")
            self.assertEqual(weights(rules["production"]), {blue: 0, green: 100})
            self.assertEqual(weights(rules["test"]), {blue: 0, green: 100})
            self.assertEqual(names(urls["production"]), {"v2"})
            self.assertEqual(len(ecs.list_tasks(cluster="web", serviceName="api")["taskArns"]), 4)
            current = ecs.describe_services(cluster="web", services=["api"])["services"][0]
            [deployment] = ecs.describe_service_deployments(
                serviceDeploymentArns=[current["currentServiceDeployment"]])["serviceDeployments"]
            self.assertEqual((deployment["status"], deployment["lifecycleStage"]),
                             ("IN_PROGRESS", "BAKE_TIME"))

            # A rollback during the bake moves production back to blue at once.
            ecs.stop_service_deployment(serviceDeploymentArn=deployment["serviceDeploymentArn"],
                                        stopType="ROLLBACK")
            wait(steady=True)
            self.assertEqual(weights(rules["production"]), {blue: 100, green: 0})
            self.assertEqual(names(urls["production"]), {"v1"})
            [deployment] = ecs.describe_service_deployments(
                serviceDeploymentArns=[deployment["serviceDeploymentArn"]])["serviceDeployments"]
            self.assertEqual(deployment["status"], "ROLLBACK_SUCCESSFUL")
            self.assertEqual(len(ecs.list_tasks(cluster="web", serviceName="api")["taskArns"]), 2)

            # v3 switches under continuous traffic and completes after the bake: no
            # request fails, and the old tasks are gone.
            results = {"ok": 0, "failed": [], "names": set()}
            stop = threading.Event()

            def traffic():
                while not stop.is_set():
                    try:
                        with urllib.request.urlopen(urls["production"] + "/", timeout=10) as response:
                            results["names"].add(json.loads(response.read())["name"])
                            results["ok"] += 1
                    except (urllib.error.URLError, OSError) as e:
                        results["failed"].append(str(e))
                    stop.wait(0.02)  # load pacing, not synchronisation

            sender = threading.Thread(target=traffic)
            sender.start()
            try:
                register("v3")
                ecs.update_service(cluster="web", service="api", taskDefinition="api:3")
                wait(steady=True)
            finally:
                stop.set()
                sender.join()
            self.assertEqual(results["failed"], [])
            self.assertIn("v3", results["names"])
            self.assertEqual(weights(rules["production"]), {blue: 0, green: 100})
            self.assertEqual(names(urls["production"]), {"v3"})
            service = ecs.describe_services(cluster="web", services=["api"])["services"][0]
            self.assertEqual(len(service["deployments"]), 1)
            self.assertTrue(service["taskDefinition"].endswith(":3"))
            self.assertEqual(len(ecs.list_tasks(cluster="web", serviceName="api")["taskArns"]), 2)
            [deployment] = ecs.describe_service_deployments(
                serviceDeploymentArns=[service["currentServiceDeployment"]])["serviceDeployments"]
            self.assertEqual((deployment["status"], deployment["lifecycleStage"]),
                             ("SUCCESSFUL", "CLEAN_UP"))


if __name__ == "__main__":
    unittest.main()
