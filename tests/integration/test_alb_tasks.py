"""The ALB in front of real ECS tasks and over HTTPS, through the real AWS CLI and boto3.

awsvpc tasks each have a network namespace and an address of their own (10.0.x.y):
two tasks both listen on 8080, are registered as `ip` targets by their private
addresses, pass the ALB's real health checks and share its traffic — the ALB opens its
upstream sockets inside each task's namespace (aws-semantics §1.6–§1.7, brief §6–§7).
HTTPS listeners present a certificate from the emulator's local CA, which curl
verifies with the exported PEM.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from understudy_process import Understudy, binary_from_env, wait_until

BINARY = binary_from_env()
APP = os.environ.get("UNDERSTUDY_FIXTURE_APP", "")


def listener_url(emulator, listener_arn):
    _, state = emulator.get("/_understudy/elb")
    for lb in state["loadBalancers"]:
        for listener in lb["listeners"]:
            if listener["arn"] == listener_arn:
                return listener["url"]
    raise AssertionError(f"{listener_arn} is not in /_understudy/elb: {state}")


class AlbTaskTargetsTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Understudy(BINARY).start()
        self.addCleanup(self.emulator.stop)
        self.ecs = self.emulator.client("ecs")
        self.elb = self.emulator.client("elbv2")

    def test_awsvpc_tasks_behind_the_alb(self):
        self.ecs.create_cluster(clusterName="web")
        self.ecs.register_task_definition(
            family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[
                {"name": "api", "image": "local/fixture", "command": [APP, "--port", "8080"],
                 "portMappings": [{"containerPort": 8080}]}])
        network = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}
        arns = [self.ecs.run_task(cluster="web", taskDefinition="api", launchType="FARGATE",
                                  networkConfiguration=network)["tasks"][0]["taskArn"]
                for _ in range(2)]
        addresses, pids = [], []
        for arn in arns:
            def running():
                task = self.ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                return task if task["lastStatus"] == "RUNNING" else None
            task = wait_until(running, what=f"{arn} RUNNING")
            details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
            addresses.append(details["privateIPv4Address"])
            pids.append(int(task["containers"][0]["runtimeId"]))
            self.assertEqual(task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"],
                             details["privateIPv4Address"])
            self.assertEqual(details["privateDnsName"],
                             "ip-" + details["privateIPv4Address"].replace(".", "-") + ".ec2.internal")
        self.assertEqual(len(set(addresses)), 2, addresses)
        for address in addresses:
            self.assertTrue(address.startswith("10.0."), address)

        lb = self.elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = self.elb.create_target_group(Name="api", Protocol="HTTP", Port=8080, VpcId=lb["VpcId"],
                                          TargetType="ip", HealthCheckPath="/health",
                                          HealthCheckIntervalSeconds=5,
                                          HealthCheckTimeoutSeconds=2)["TargetGroups"][0]
        listener = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                  Targets=[{"Id": a, "Port": 8080} for a in addresses])
        for address in addresses:
            status, answer = self.emulator.post("/_understudy/wait", {
                "until": {"elbTargetHealth": {"targetGroupArn": tg["TargetGroupArn"], "id": address,
                                              "port": 8080, "state": "healthy"}},
                "timeout": "20s"})
            self.assertEqual(status, 200, answer)

        url = listener_url(self.emulator, listener["ListenerArn"])
        seen = {}
        for _ in range(10):
            with urllib.request.urlopen(url + "/", timeout=10) as response:
                pid = json.loads(response.read())["pid"]
                seen[pid] = seen.get(pid, 0) + 1
        # Round robin over the two tasks, each reached inside its own namespace.
        self.assertEqual(seen, {pids[0]: 5, pids[1]: 5})


class HostNetworkNamesTest(unittest.TestCase):
    """A task on the host network (bridge) resolves a load balancer's DNS name through the
    emulator's hosts file, bound over /etc/hosts in the container's own mount namespace,
    and reaches the listener by it; the host's /etc/hosts is untouched."""

    def test_bridge_task_reaches_the_alb_by_name(self):
        if os.geteuid() != 0:
            self.skipTest("LOUD SKIP: private mount namespaces need root")
        with Understudy(BINARY) as emulator:
            ecs, elb = emulator.client("ecs"), emulator.client("elbv2")
            with socket.socket() as probe:  # a port the listener can bind as itself
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            lb = elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
            listener = elb.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                    "StatusCode": "200", "ContentType": "text/plain",
                    "MessageBody": "hello from the alb"}}])["Listeners"][0]
            self.assertTrue(listener_url(emulator, listener["ListenerArn"]).endswith(f":{port}"))
            script = (
                "import socket, sys, urllib.request\n"
                f"name = {lb['DNSName']!r}\n"
                "assert socket.gethostbyname(name) == '127.0.0.1'\n"
                f"body = urllib.request.urlopen(f'http://{{name}}:{port}/', timeout=10).read()\n"
                "sys.exit(0 if body == b'hello from the alb' else 3)\n")
            ecs.create_cluster(clusterName="web")
            ecs.register_task_definition(family="caller", networkMode="bridge", containerDefinitions=[
                {"name": "caller", "image": "local/python", "memory": 64,
                 "command": [sys.executable, "-c", script]}])
            arn = ecs.run_task(cluster="web", taskDefinition="caller")["tasks"][0]["taskArn"]
            status, answer = emulator.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": arn, "lastStatus": "STOPPED"}},
                "timeout": "60s"})
            self.assertEqual(status, 200, answer)
            task = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
            self.assertEqual(task["containers"][0].get("exitCode"), 0, task)
            with open("/etc/hosts") as hosts:
                self.assertNotIn(lb["DNSName"], hosts.read())


class AlbHttpsTest(unittest.TestCase):
    def test_https_listener_with_the_local_ca(self):
        with Understudy(BINARY) as emulator:
            elb = emulator.client("elbv2")
            app = subprocess.Popen([APP, "--port", "0", "--name", "secure"], stdout=subprocess.PIPE,
                                   text=True)
            self.addCleanup(app.wait)
            self.addCleanup(app.kill)
            ready = app.stdout.readline()  # "fixture-app listening on 127.0.0.1:<port>"
            self.assertIn("listening on", ready)
            port = int(ready.split()[-1].rsplit(":", 1)[-1])
            lb = elb.create_load_balancer(Name="secure", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
            tg = elb.create_target_group(Name="app", Protocol="HTTP", Port=port, VpcId=lb["VpcId"],
                                         TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
            listener = elb.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                Certificates=[{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/x"}],
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
            elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1"}])
            status, answer = emulator.post("/_understudy/wait", {
                "until": {"elbTargetHealth": {"targetGroupArn": tg["TargetGroupArn"], "id": "127.0.0.1",
                                              "state": "healthy"}}, "timeout": "20s"})
            self.assertEqual(status, 200, answer)
            url = listener_url(emulator, listener["ListenerArn"])
            self.assertTrue(url.startswith("https://127.0.0.1:"), url)
            status, _, ca_pem = emulator.request("GET", "/_understudy/elb/ca.pem")
            self.assertEqual(status, 200)
            with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca:
                ca.write(ca_pem if isinstance(ca_pem, str) else ca_pem.decode())
                ca.flush()
                local_port = url.rsplit(":", 1)[1]
                # The certificate names the load balancer's DNS name and localhost.
                for host in (lb["DNSName"], "localhost"):
                    out = subprocess.run(
                        ["curl", "-sS", "--cacert", ca.name, "--resolve", f"{host}:{local_port}:127.0.0.1",
                         f"https://{host}:{local_port}/echo"], capture_output=True, text=True)
                    self.assertEqual(out.returncode, 0, out.stderr)
                # Without the CA, curl refuses the certificate.
                out = subprocess.run(["curl", "-sS", f"https://localhost:{local_port}/"],
                                     capture_output=True, text=True)
                self.assertEqual(out.returncode, 60, out.stderr)


if __name__ == "__main__":
    unittest.main()
