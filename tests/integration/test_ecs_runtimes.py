"""ECS tasks under both task runtimes, from the same test code (docs/docker.md).

UNDERSTUDY_TEST_RUNTIME picks the runtime (`process`, the default, or `docker`); ctest
registers this suite once for each. Task definitions name the fixture images
(fixtures/images/build.sh): under `docker` they run as real containers in the local
engine; under `process` the --images file maps the app image to the fixture app binary
and commands run on the host (busybox applets through `busybox`, as in the image).

Covered (aws-semantics §2.2-§2.4, §2.6, §1.6): the lifecycle and stop codes, exit codes,
SIGTERM then SIGKILL after stopTimeout, awslogs streams fed live, awsvpc containers of one
task sharing localhost, the task metadata endpoint v4 from inside, container health checks,
OOM kills, an ALB in front of a service through a rolling deployment; under docker also a
missing image (CannotPullContainerError) and no container outliving a SIGKILLed emulator.
With no engine, the docker suite skips loudly when run by hand and fails under CI=true.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

from understudy_process import Understudy, binary_from_env, wait_until

BINARY = binary_from_env()
APP = os.path.abspath(os.environ.get("UNDERSTUDY_FIXTURE_APP", ""))
RUNTIME = os.environ.get("UNDERSTUDY_TEST_RUNTIME", "process")
APP_IMAGE = "understudy-fixture/app:latest"
BOX_IMAGE = "understudy-fixture/busybox:latest"
HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_IMAGES = os.path.join(HERE, "..", "..", "fixtures", "images", "build.sh")
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}


def docker_socket():
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host[len("unix://"):] if host.startswith("unix://") else None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def engine(method, path):
    """One Engine API call (the test's own view of the engine); (status, parsed body)."""
    conn = _UnixConnection(docker_socket())
    try:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body) if body else None
        except ValueError:
            return response.status, body.decode(errors="replace")
    finally:
        conn.close()


def engine_answers():
    try:
        return docker_socket() is not None and engine("GET", "/_ping")[0] == 200
    except OSError:
        return False


def labelled(label):
    query = urllib.parse.quote(json.dumps({"label": [label]}))
    status, items = engine("GET", f"/containers/json?all=1&filters={query}")
    assert status == 200, items
    return items


def owned(task_arn, pid):
    """The containers of `task_arn` the emulator with process id `pid` started (task ids come
    from the seed, so other emulators' tasks may share the ARN)."""
    return [c for c in labelled(f"com.amazonaws.ecs.task-arn={task_arn}")
            if c["Labels"].get("understudy.owner", "").split(":")[0] == str(pid)]


def image_present(name):
    return engine("GET", f"/images/{urllib.parse.quote(name, safe='')}/json")[0] == 200


class RuntimeTest(unittest.TestCase):
    """Starts understudy with the runtime under test; the docker one needs an engine."""

    CLOCK = "real"

    @classmethod
    def setUpClass(cls):
        if RUNTIME != "docker":
            return
        if not engine_answers():
            why = (f"no Docker engine answers on {docker_socket()} "
                   "(start one with scripts/start-dockerd.sh)")
            if os.environ.get("CI") == "true":
                raise AssertionError("CI runs the docker runtime suite for real: " + why)
            raise unittest.SkipTest("LOUD SKIP: " + why)
        if not (image_present(APP_IMAGE) and image_present(BOX_IMAGE)):
            subprocess.run([BUILD_IMAGES, APP], check=True, capture_output=True, timeout=300)

    def start(self, *args, state_dir=None):
        extra = ["--runtime", RUNTIME, "--clock", self.CLOCK]
        if RUNTIME == "process":
            images = os.path.join(self.tmp, "images.json")
            with open(images, "w") as f:
                json.dump({"images": {"understudy-fixture/app:*": {"entryPoint": [APP]}}}, f)
            extra += ["--images", images]
        if state_dir:
            extra += ["--state-dir", state_dir]
        return Understudy(BINARY, *extra, *args).start()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="understudy-runtime-test-")
        self.emulator = self.start()
        self.addCleanup(lambda: self.emulator.stop())
        self.ecs = self.emulator.client("ecs", validate=False)
        self.logs = self.emulator.client("logs")
        self.ecs.create_cluster(clusterName="web")

    def register(self, family, containers, **task):
        for c in containers:
            c.setdefault("logConfiguration", {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/" + family, "awslogs-stream-prefix": "t",
                "awslogs-create-group": "true"}})
        return self.ecs.register_task_definition(family=family, containerDefinitions=containers,
                                                 **task)["taskDefinition"]

    def run_task(self, family, **kwargs):
        return self.ecs.run_task(cluster="web", taskDefinition=family, **kwargs)["tasks"][0]

    def wait_for(self, until, seconds):
        """POST /_understudy/wait with an HTTP timeout longer than the wait's own."""
        code, _, body = self.emulator.request(
            "POST", "/_understudy/wait", {"until": until, "timeout": f"{seconds}s"},
            {"Content-Type": "application/json"}, timeout=seconds + 30)
        self.assertEqual(code, 200, body)

    def wait_status(self, task_arn, status, seconds=90):
        self.wait_for({"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": status}},
                      seconds)
        return self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]

    def log_lines(self, family, container, task_arn):
        stream = f"t/{container}/{task_arn.rsplit('/', 1)[1]}"
        try:
            events = self.logs.get_log_events(logGroupName="/ecs/" + family,
                                              logStreamName=stream)["events"]
        except self.logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events]

    def wait_log(self, family, container, task_arn, predicate, timeout=30.0):
        return wait_until(
            lambda: [line for line in self.log_lines(family, container, task_arn) if predicate(line)],
            timeout=timeout, what=f"a log line of {container}")


class TaskLifecycleTest(RuntimeTest):
    # RunTask runs the container; its output reaches CloudWatch Logs while it runs;
    # StopTask sends SIGTERM (the trap exits 143) and nothing of it is left.
    def test_run_logs_stop(self):
        self.register("hello", [{
            "name": "main", "image": BOX_IMAGE, "memory": 64,
            "environment": [{"name": "GREETING", "value": "world"}],
            "command": ["sh", "-c", 'echo "hello $GREETING"; trap "echo bye; exit 143" TERM; '
                                    "sleep 300 & wait"]}])
        task = self.run_task("hello")
        running = self.wait_status(task["taskArn"], "RUNNING")
        self.wait_log("hello", "main", task["taskArn"], lambda line: line == "hello world")
        runtime_id = running["containers"][0]["runtimeId"]
        if RUNTIME == "docker":
            self.assertRegex(runtime_id, r"^[0-9a-f]{64}$")
            status, doc = engine("GET", f"/containers/{runtime_id}/json")
            self.assertEqual(status, 200, doc)
            labels = doc["Config"]["Labels"]
            self.assertEqual(labels["com.amazonaws.ecs.task-arn"], task["taskArn"])
            self.assertEqual(labels["com.amazonaws.ecs.cluster"], running["clusterArn"])
            self.assertEqual(labels["understudy.managed"], "true")
            self.assertEqual(doc["Config"]["Image"], BOX_IMAGE)
            self.assertEqual(doc["HostConfig"]["Memory"], 64 << 20)
        rc, out, err = self.emulator.aws("ecs", "stop-task", "--cluster", "web", "--task",
                                         task["taskArn"], "--reason", "done here")
        self.assertEqual(rc, 0, err)
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual((stopped["stopCode"], stopped["stoppedReason"]), ("UserInitiated", "done here"))
        self.assertEqual(stopped["containers"][0]["exitCode"], 143)
        self.wait_log("hello", "main", task["taskArn"], lambda line: line == "bye")
        if RUNTIME == "docker":
            self.assertEqual(owned(task["taskArn"], self.emulator.proc.pid), [])

    # An essential container's exit stops the task with its exit code.
    def test_essential_exit(self):
        self.register("quits", [{"name": "main", "image": BOX_IMAGE, "memory": 64,
                                 "command": ["sh", "-c", "echo leaving; exit 3"]}])
        task = self.run_task("quits")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["containers"][0]["exitCode"], 3)
        self.assertEqual((stopped["stopCode"], stopped["stoppedReason"]),
                         ("EssentialContainerExited", "Essential container in task exited"))
        self.assertEqual(self.log_lines("quits", "main", task["taskArn"]), ["leaving"])

    # user, workingDirectory and ulimits apply to the container's process.
    def test_user_working_directory_ulimits(self):
        self.register("who", [{
            "name": "main", "image": BOX_IMAGE, "memory": 64, "user": "1000:1000",
            "workingDirectory": "/tmp", "cpu": 256,
            "ulimits": [{"name": "nofile", "softLimit": 512, "hardLimit": 1024}],
            "command": ["sh", "-c", "id -u; id -g; pwd; ulimit -n; ulimit -Hn"]}])
        task = self.run_task("who")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["containers"][0]["exitCode"], 0)
        self.assertEqual(self.log_lines("who", "main", task["taskArn"]),
                         ["1000", "1000", "/tmp", "512", "1024"])

    # dependsOn: a container starts once its dependency has exited successfully.
    def test_depends_on_success(self):
        self.register("ordered", [
            {"name": "init", "image": BOX_IMAGE, "memory": 32, "essential": False,
             "command": ["sh", "-c", "echo init done"]},
            {"name": "main", "image": BOX_IMAGE, "memory": 32,
             "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}],
             "command": ["sh", "-c", "echo main ran"]}])
        task = self.run_task("ordered")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual({c["name"]: c["exitCode"] for c in stopped["containers"]},
                         {"init": 0, "main": 0})
        self.assertEqual(self.log_lines("ordered", "init", task["taskArn"]), ["init done"])
        self.assertEqual(self.log_lines("ordered", "main", task["taskArn"]), ["main ran"])

    # A container that ignores SIGTERM is killed after its stopTimeout: exit 137.
    def test_stop_timeout(self):
        self.register("stubborn", [{
            "name": "main", "image": BOX_IMAGE, "memory": 64, "stopTimeout": 2,
            "command": ["sh", "-c", 'trap "echo ignored" TERM; echo ready; '
                                    "while true; do sleep 1; done"]}])
        task = self.run_task("stubborn")
        self.wait_status(task["taskArn"], "RUNNING")
        self.wait_log("stubborn", "main", task["taskArn"], lambda line: line == "ready")
        self.ecs.stop_task(cluster="web", task=task["taskArn"])
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["containers"][0]["exitCode"], 137)

    # Going over the memory limit: the kernel's OOM kill, as ECS reports it.
    def test_oom(self):
        if RUNTIME == "process" and not os.access("/sys/fs/cgroup", os.W_OK):
            self.skipTest("LOUD SKIP: the process runtime's OOM test is in test_ecs_tasks")
        self.register("hungry", [{"name": "main", "image": APP_IMAGE, "memory": 32,
                                  "command": ["--port", "0", "--memory-grow", "100",
                                              "--memory-limit", "1000"]}])
        task = self.run_task("hungry")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        container = stopped["containers"][0]
        self.assertEqual(container["exitCode"], 137)
        self.assertEqual(container["reason"], "OutOfMemoryError: Container killed due to memory usage")


class AwsvpcTaskTest(RuntimeTest):
    # awsvpc: the task's containers share one network namespace (localhost), as on
    # Fargate; the metadata endpoint v4 answers inside; the app's health check passes.
    def test_shared_localhost_metadata_and_health(self):
        self.register("pair", [
            {"name": "web", "image": APP_IMAGE, "essential": True,
             "portMappings": [{"containerPort": 8080}],
             "command": ["--port", "8080", "--name", "web"],
             "healthCheck": {"command": ["CMD-SHELL",
                                         "busybox wget -q -O- http://127.0.0.1:8080/health"],
                             "interval": 5, "timeout": 3, "retries": 3}},
            {"name": "side", "image": BOX_IMAGE, "essential": False,
             "command": ["sh", "-c",
                         "until busybox wget -q -O- http://127.0.0.1:8080/health; do "
                         "sleep 0.1; done; echo; busybox wget -q -O- http://127.0.0.1:8080/from-side; "
                         'busybox wget -q -O- "$ECS_CONTAINER_METADATA_URI_V4/task"; echo; '
                         'trap "exit 0" TERM; sleep 300 & wait']}],
            networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        task = self.run_task("pair", launchType="FARGATE", networkConfiguration=NETWORK)
        self.wait_status(task["taskArn"], "RUNNING")
        self.wait_log("pair", "web", task["taskArn"], lambda line: line == "GET /from-side 404")
        metadata = self.wait_log("pair", "side", task["taskArn"],
                                 lambda line: line.startswith("{") and "TaskARN" in line)
        doc = json.loads(metadata[0])
        self.assertEqual(doc["TaskARN"], task["taskArn"])
        self.assertEqual(sorted(c["Name"] for c in doc["Containers"]), ["side", "web"])

        def healthy():
            t = self.ecs.describe_tasks(cluster="web", tasks=[task["taskArn"]])["tasks"][0]
            return t if t["healthStatus"] == "HEALTHY" else None
        described = wait_until(healthy, timeout=40, what="the task HEALTHY")
        web = [c for c in described["containers"] if c["name"] == "web"][0]
        self.assertEqual(web["healthStatus"], "HEALTHY")
        self.ecs.stop_task(cluster="web", task=task["taskArn"])
        self.wait_status(task["taskArn"], "STOPPED")


    # The task's own hosts file: a load balancer's DNS name resolves inside the task and
    # reaches its listener (docs/service-discovery.md), under both runtimes.
    def test_load_balancer_name_resolves_inside_the_task(self):
        elb = self.emulator.client("elbv2")
        lb = elb.create_load_balancer(Name="names", Subnets=["subnet-a", "subnet-b"])[
            "LoadBalancers"][0]
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "from-the-alb"}}])
        fetch = f"http://127.0.0.1:8080/fetch?url=http://{lb['DNSName']}/"
        self.register("names", [
            {"name": "web", "image": APP_IMAGE, "essential": True,
             "portMappings": [{"containerPort": 8080}],
             "command": ["--port", "8080", "--name", "web"]},
            {"name": "side", "image": BOX_IMAGE, "essential": False,
             "command": ["sh", "-c",
                         f"until busybox wget -q -O- '{fetch}'; do sleep 0.2; done; echo; "
                         'trap "exit 0" TERM; sleep 300 & wait']}],
            networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
        task = self.run_task("names", launchType="FARGATE", networkConfiguration=NETWORK)
        self.wait_status(task["taskArn"], "RUNNING")
        lines = self.wait_log("names", "side", task["taskArn"],
                              lambda line: line.startswith("{") and "from-the-alb" in line)
        fetched = json.loads(lines[0])
        self.assertEqual(fetched["status"], 200, fetched)
        self.assertEqual(fetched["body"], "from-the-alb")
        self.assertEqual(len(fetched["addresses"]), 1, fetched)
        self.ecs.stop_task(cluster="web", task=task["taskArn"])
        self.wait_status(task["taskArn"], "STOPPED")


def listener_url(emulator, listener_arn):
    _, state = emulator.get("/_understudy/elb")
    for lb in state["loadBalancers"]:
        for listener in lb["listeners"]:
            if listener["arn"] == listener_arn:
                return listener["url"]
    raise AssertionError(f"{listener_arn} is not in /_understudy/elb: {state}")


class ServiceBehindAlbTest(RuntimeTest):
    # A service of awsvpc tasks behind the ALB: targets pass real health checks, and a
    # rolling deployment replaces v1 by v2 while traffic flows, with no failed request.
    def test_rolling_deployment_behind_the_alb(self):
        elb = self.emulator.client("elbv2")

        def register(name):
            self.register("api", [{"name": "api", "image": APP_IMAGE,
                                   "command": ["--port", "8080", "--name", name],
                                   "portMappings": [{"containerPort": 8080}]}],
                          networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                          memory="512")
        register("v1")
        lb = elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg_arn = elb.create_target_group(
            Name="api", Protocol="HTTP", Port=8080, VpcId=lb["VpcId"], TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
        url = listener_url(self.emulator, listener["ListenerArn"])

        def wait_steady():
            self.wait_for({"ecsService": {"cluster": "web", "service": "api", "steady": True}}, 240)
            return self.ecs.describe_services(cluster="web", services=["api"])["services"][0]

        self.ecs.create_service(
            cluster="web", serviceName="api", taskDefinition="api", desiredCount=2,
            launchType="FARGATE", networkConfiguration=NETWORK, healthCheckGracePeriodSeconds=30,
            loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "api", "containerPort": 8080}])
        service = wait_steady()
        self.assertEqual(service["runningCount"], 2)
        health = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        self.assertEqual(sorted(h["TargetHealth"]["State"] for h in health), ["healthy", "healthy"])
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            self.assertEqual(json.loads(response.read())["name"], "v1")

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
                stop.wait(0.05)  # load pacing, not synchronisation

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            register("v2")
            self.ecs.update_service(cluster="web", service="api", taskDefinition="api:2")
            service = wait_steady()
        finally:
            stop.set()
            sender.join()
        self.assertEqual(results["failed"], [])
        self.assertIn("v2", results["names"])
        self.assertTrue(service["taskDefinition"].endswith("task-definition/api:2"))
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            self.assertEqual(json.loads(response.read())["name"], "v2")
        self.ecs.update_service(cluster="web", service="api", desiredCount=0)
        wait_steady()


@unittest.skipUnless(RUNTIME == "docker", "the engine's own failure modes")
class DockerOnlyTest(RuntimeTest):
    # An image the engine does not have is not pulled: ECS's pull failure.
    def test_missing_image(self):
        self.register("ghost", [{"name": "main", "image": "understudy-fixture/no-such-image:1",
                                 "memory": 64}])
        task = self.run_task("ghost")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "TaskFailedToStart")
        self.assertTrue(stopped["stoppedReason"].startswith(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
            "resolve ref understudy-fixture/no-such-image:1"), stopped["stoppedReason"])
        self.assertEqual(owned(task["taskArn"], self.emulator.proc.pid), [])

    # A container name taken by a container understudy did not start: the task fails to
    # start with a clear reason, the stranger is left alone, nothing of ours is leaked.
    def test_name_clash_with_a_stranger(self):
        # Task ids come from the seed: a fresh emulator's first task has this one's id.
        self.register("clash", [{"name": "main", "image": "understudy-fixture/no-such-image:1",
                                 "memory": 64}])
        first_id = self.run_task("clash")["taskArn"].rsplit("/", 1)[1]
        self.emulator.stop()
        self.emulator = self.start()
        self.ecs = self.emulator.client("ecs", validate=False)
        self.ecs.create_cluster(clusterName="web")
        self.register("clash", [{"name": "main", "image": BOX_IMAGE, "memory": 64,
                                 "command": ["sleep", "300"]}])
        name = f"understudy-main-{first_id}-{self.emulator.proc.pid}"
        subprocess.run(["docker", "create", "--name", name, BOX_IMAGE, "sleep", "1"], check=True,
                       capture_output=True, timeout=60)
        self.addCleanup(lambda: engine("DELETE", f"/containers/{name}?force=1"))
        task = self.run_task("clash")
        self.assertEqual(task["taskArn"].rsplit("/", 1)[1], first_id)
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "TaskFailedToStart")
        self.assertEqual(stopped["stoppedReason"],
                         f'CannotStartContainerError: the container name "{name}" is already in use '
                         "by a container understudy did not start; remove or rename that container")
        status, doc = engine("GET", f"/containers/{name}/json")
        self.assertEqual(status, 200, "the stranger's container is left alone")
        self.assertNotIn("understudy.managed", doc["Config"]["Labels"] or {})
        self.assertEqual(owned(task["taskArn"], self.emulator.proc.pid), [])

    # SIGKILL the emulator: its containers outlive it in the engine until the next start
    # with the same state directory sweeps them; nothing labelled survives that.
    def test_no_container_survives_a_sigkilled_emulator(self):
        state = os.path.join(self.tmp, "state")
        self.emulator.stop()
        self.emulator = self.start(state_dir=state)
        ecs = self.emulator.client("ecs", validate=False)
        ecs.create_cluster(clusterName="web")
        ecs.register_task_definition(family="long", containerDefinitions=[
            {"name": "main", "image": BOX_IMAGE, "memory": 64, "command": ["sleep", "300"]}])
        arn = ecs.run_task(cluster="web", taskDefinition="long")["tasks"][0]["taskArn"]
        self.ecs = ecs
        self.wait_status(arn, "RUNNING")
        killed = self.emulator.proc.pid
        self.assertEqual(len(owned(arn, killed)), 1)
        self.emulator.proc.send_signal(signal.SIGKILL)
        self.emulator.proc.wait(30)
        self.emulator.proc.stdout.close()
        self.emulator.proc.stderr.close()
        self.assertEqual(len(owned(arn, killed)), 1, "a SIGKILLed emulator cannot remove its containers")
        self.emulator = self.start(state_dir=state)
        # The sweep runs before the new emulator's ready line.
        self.assertEqual(owned(arn, killed), [])
        ecs = self.emulator.client("ecs", validate=False)
        stopped = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
        self.assertEqual(stopped["lastStatus"], "STOPPED")


class RuntimeOptionTest(unittest.TestCase):
    """--runtime without an engine: docker refuses to start, auto falls back to processes.
    Needs no engine (DOCKER_HOST points at a socket nobody serves), so it runs in both
    registrations."""

    def env(self, tmp):
        env = dict(os.environ)
        env["DOCKER_HOST"] = "unix://" + os.path.join(tmp, "no-engine.sock")
        return env

    def test_docker_without_an_engine_fails_clearly(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run([BINARY, "serve", "--port", "0", "--smtp-port", "off",
                                   "--runtime", "docker"], env=self.env(tmp), capture_output=True,
                                  text=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--runtime docker: no container engine answers on " + tmp +
                      "/no-engine.sock", proc.stderr)

    def test_auto_without_an_engine_runs_processes(self):
        with tempfile.TemporaryDirectory() as tmp:
            emulator = Understudy(BINARY, "--runtime", "auto", env=self.env(tmp)).start()
            try:
                ecs = emulator.client("ecs")
                ecs.create_cluster(clusterName="web")
                ecs.register_task_definition(family="p", containerDefinitions=[
                    {"name": "main", "image": BOX_IMAGE, "memory": 32,
                     "command": ["/bin/sh", "-c", "exec sleep 300"]}])
                arn = ecs.run_task(cluster="web", taskDefinition="p")["tasks"][0]["taskArn"]
                code, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsTask": {"cluster": "web", "task": arn, "lastStatus": "RUNNING"}},
                    "timeout": "20s"})
                self.assertEqual(code, 200, answer)
                task = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                pid = int(task["containers"][0]["runtimeId"])  # a host process id
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    self.assertEqual(f.read().split(b"\0")[:2], [b"sleep", b"300"])
            finally:
                emulator.stop()

    def test_bad_runtime_value(self):
        proc = subprocess.run([BINARY, "serve", "--runtime", "kubernetes"], capture_output=True,
                              text=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--runtime expects process, docker or auto, got 'kubernetes'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
