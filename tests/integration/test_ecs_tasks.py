"""ECS tasks as real processes, through the real AWS CLI and boto3 (aws-semantics §2.2-§2.4):
the lifecycle, stop codes, exit codes, SIGTERM then SIGKILL after stopTimeout (in real and in
virtual time), the injected environment, and no process outliving the emulator."""
import json
import os
import signal
import time
import unittest

from understudy_process import Rendezvous, Understudy, binary_from_env, wait_process_gone, wait_until

BINARY = binary_from_env()


def proc_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def container_path(task, docker_id):
    return "/_understudy/task-metadata/v4/" + docker_id


def wait_gone(pid, deadline=10.0):
    return wait_process_gone(pid, deadline)


class TasksTest(unittest.TestCase):
    ARGS = ()

    def setUp(self):
        self.emulator = Understudy(BINARY, *self.ARGS).start()
        self.ecs = self.emulator.client("ecs", validate=False)
        self.ecs.create_cluster(clusterName="web")

    def tearDown(self):
        self.emulator.stop()

    def register(self, family, command, **container):
        definition = {"name": "main", "image": "local/app:1", "memory": 64, "command": command}
        definition.update(container)
        self.ecs.register_task_definition(family=family, containerDefinitions=[definition])

    def run_task(self, family, **kwargs):
        return self.ecs.run_task(cluster="web", taskDefinition=family, **kwargs)["tasks"][0]

    def wait_status(self, task_arn, status, timeout="30s"):
        code, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": status}},
            "timeout": timeout})
        self.assertEqual(code, 200, answer)
        return self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]


class RealClockTasksTest(TasksTest):
    # A task runs its command as a real process with ECS's and the emulator's environment.
    def test_run_describe_stop(self):
        self.register("sleeper", ["/bin/sh", "-c", "exec sleep 300"],
                      environment=[{"name": "GREETING", "value": "hello"}])
        rc, out, err = self.emulator.aws("ecs", "run-task", "--cluster", "web",
                                         "--task-definition", "sleeper")
        self.assertEqual(rc, 0, err)
        task = out["tasks"][0]
        self.assertEqual((task["lastStatus"], task["desiredStatus"]), ("PROVISIONING", "RUNNING"))
        running = self.wait_status(task["taskArn"], "RUNNING")
        pid = int(running["containers"][0]["runtimeId"])
        self.assertTrue(proc_alive(pid))
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        self.assertEqual(env[b"GREETING"], b"hello")
        self.assertEqual(env[b"AWS_ENDPOINT_URL"], self.emulator.endpoint.encode())
        self.assertEqual(env[b"AWS_REGION"], b"us-east-1")
        self.assertEqual(os.getpgid(pid), pid, "each container is its own process group")
        rc, out, err = self.emulator.aws("ecs", "stop-task", "--cluster", "web", "--task",
                                         task["taskArn"], "--reason", "rolling out")
        self.assertEqual(rc, 0, err)
        self.assertEqual((out["task"]["desiredStatus"], out["task"]["stopCode"], out["task"]["stoppedReason"]),
                         ("STOPPED", "UserInitiated", "rolling out"))
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["containers"][0]["exitCode"], 143)
        self.assertTrue(wait_gone(pid))
        for field in ["createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt",
                      "executionStoppedAt", "stoppedAt"]:
            self.assertIn(field, stopped)
        # Each status change was published as an "ECS Task State Change" event.
        status, bus = self.emulator.get("/_understudy/bus")
        changes = [e for e in bus["events"] if e["resources"] == [task["taskArn"]]]
        self.assertEqual([e["detail"]["lastStatus"] for e in changes],
                         ["PROVISIONING", "PENDING", "RUNNING", "DEACTIVATING", "STOPPING",
                          "DEPROVISIONING", "STOPPED"])
        self.assertEqual({e["detail-type"] for e in changes}, {"ECS Task State Change"})
        self.assertEqual(changes[-1]["detail"]["stopCode"], "UserInitiated")
        self.assertRegex(changes[-1]["detail"]["stoppedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    # The task metadata endpoint v4, read from inside the task with the injected URI.
    def test_metadata_endpoint(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp, Rendezvous(tmp) as fetched:
            script = ('curl -sf "$ECS_CONTAINER_METADATA_URI_V4" > container.json && '
                      'curl -sf "$ECS_CONTAINER_METADATA_URI_V4/task" > task.json && '
                      'curl -sf "$ECS_CONTAINER_METADATA_URI_V4/stats" > stats.json && '
                      f'echo fetched > {fetched.path} && exec sleep 300')
            self.register("meta", ["/bin/sh", "-c", script], workingDirectory=tmp,
                          logConfiguration={"logDriver": "awslogs", "options": {
                              "awslogs-group": "/ecs/meta", "awslogs-stream-prefix": "m",
                              "awslogs-create-group": "true"}})
            task = self.run_task("meta", tags=[{"key": "team", "value": "web"}])
            running = self.wait_status(task["taskArn"], "RUNNING")
            pid = int(running["containers"][0]["runtimeId"])
            self.assertEqual(fetched.wait(), "fetched")
            with open(os.path.join(tmp, "container.json")) as f:
                container = json.load(f)
            with open(os.path.join(tmp, "task.json")) as f:
                task_doc = json.load(f)
            task_id = task["taskArn"].rsplit("/", 1)[1]
            self.assertRegex(container["DockerId"], "^" + task_id + r"-\d{10}$")
            self.assertEqual(container["Name"], "main")
            self.assertEqual(container["Image"], "local/app:1")
            self.assertEqual(container["KnownStatus"], "RUNNING")
            self.assertEqual(container["Labels"]["com.amazonaws.ecs.task-arn"], task["taskArn"])
            self.assertEqual(container["LogOptions"]["awslogs-stream"], "m/main/" + task_id)
            self.assertEqual(container["Limits"], {"CPU": 0, "Memory": 64})
            self.assertEqual(task_doc["TaskARN"], task["taskArn"])
            self.assertEqual((task_doc["Family"], task_doc["Revision"]), ("meta", "1"))
            self.assertEqual(task_doc["Cluster"], "arn:aws:ecs:us-east-1:000000000000:cluster/web")
            self.assertEqual([c["Name"] for c in task_doc["Containers"]], ["main"])
            # Stats reflect the real process.
            status, _, raw = self.emulator.request(
                "GET", container_path(running, container["DockerId"]) + "/stats")
            stats = json.loads(raw)
            self.assertEqual(status, 200)
            self.assertGreater(stats["memory_stats"]["usage"], 0)
            self.assertEqual(stats["memory_stats"]["limit"], 64 * 1024 * 1024)
            self.assertGreaterEqual(stats["pids_stats"]["current"], 1)
            self.assertTrue(proc_alive(pid))
            status, _, raw = self.emulator.request("GET", "/_understudy/task-metadata/v4/nope")
            self.assertEqual(status, 404)

    # `user` and `ulimits` apply to the container's process; an unknown user cannot start.
    def test_user_and_ulimits(self):
        self.register("limited", ["/bin/sh", "-c", "exec sleep 300"], user="nobody",
                      ulimits=[{"name": "nofile", "softLimit": 256, "hardLimit": 512}])
        task = self.run_task("limited")
        running = self.wait_status(task["taskArn"], "RUNNING")
        pid = int(running["containers"][0]["runtimeId"])
        import pwd
        with open(f"/proc/{pid}/status") as f:
            uid_line = next(line for line in f if line.startswith("Uid:"))
        self.assertEqual(int(uid_line.split()[1]), pwd.getpwnam("nobody").pw_uid)
        with open(f"/proc/{pid}/limits") as f:
            nofile = next(line for line in f if line.startswith("Max open files"))
        self.assertEqual(nofile.split()[3:5], ["256", "512"])
        self.register("ghost-user", ["/bin/true"], user="no-such-user-here")
        task = self.run_task("ghost-user")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["stoppedReason"],
                         "CannotStartContainerError: unable to find user no-such-user-here: no "
                         "matching entries in passwd file")

    # An essential container that exits stops the task with its exit code.
    def test_essential_exit(self):
        self.register("job", ["/bin/sh", "-c", "exit 3"])
        task = self.run_task("job")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")
        self.assertEqual(stopped["stoppedReason"], "Essential container in task exited")
        self.assertEqual(stopped["containers"][0]["exitCode"], 3)

    # A command that does not exist fails the task with CannotStartContainerError.
    def test_missing_command(self):
        self.register("ghost", ["no-such-binary-here"])
        task = self.run_task("ghost")
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertEqual(stopped["stopCode"], "TaskFailedToStart")
        self.assertEqual(stopped["stoppedReason"],
                         'CannotStartContainerError: exec: "no-such-binary-here": executable file '
                         "not found in $PATH")

    # A container that ignores SIGTERM is killed after stopTimeout: exit code 137.
    def test_stop_timeout_real(self):
        self.register("stubborn", ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
                      stopTimeout=2)
        task = self.run_task("stubborn")
        self.wait_status(task["taskArn"], "RUNNING")
        started = time.monotonic()
        self.ecs.stop_task(cluster="web", task=task["taskArn"])
        stopped = self.wait_status(task["taskArn"], "STOPPED")
        self.assertGreaterEqual(time.monotonic() - started, 1.9)
        self.assertEqual(stopped["containers"][0]["exitCode"], 137)

    # No process outlives the emulator, even when the emulator is SIGKILLed.
    def test_no_process_outlives_the_emulator(self):
        self.register("sleeper", ["/bin/sh", "-c", "sleep 300 & exec sleep 300"])
        task = self.run_task("sleeper")
        running = self.wait_status(task["taskArn"], "RUNNING")
        pid = int(running["containers"][0]["runtimeId"])
        self.emulator.proc.send_signal(signal.SIGKILL)
        self.emulator.proc.wait(10)
        self.assertTrue(wait_gone(pid), "the container's main process died with the emulator")


class LeftoverSweepTest(unittest.TestCase):
    # A child that escaped the parent-death signal (a member of the container's process
    # group, not its main process) survives a SIGKILLed emulator; the next emulator on the
    # same state dir ends it, and marks the task STOPPED.
    def test_next_start_sweeps_leftover_process_groups(self):
        import tempfile
        with tempfile.TemporaryDirectory() as state, Rendezvous(state, "forked") as forked:
            first = Understudy(BINARY, "--state-dir", state).start()
            ecs = first.client("ecs")
            ecs.create_cluster(clusterName="web")
            ecs.register_task_definition(family="fork", containerDefinitions=[{
                "name": "main", "image": "local/fork", "memory": 64,
                "command": ["/bin/sh", "-c", f"sleep 300 & echo forked > {forked.path}; exec sleep 301"]}])
            arn = ecs.run_task(cluster="web", taskDefinition="fork")["tasks"][0]["taskArn"]
            code, answer = first.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": arn}}, "timeout": "30s"})
            self.assertEqual(code, 200, answer)
            leader = int(ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]["containers"][0]["runtimeId"])

            def members():
                found = []
                for entry in os.listdir("/proc"):
                    if not entry.isdigit():
                        continue
                    try:
                        with open(f"/proc/{entry}/stat") as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    if int(fields[2]) == leader and fields[0] != "Z":
                        found.append(int(entry))
                return found
            self.assertEqual(forked.wait(), "forked")
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
            first.stop()
            self.assertTrue(wait_gone(leader), "the main process died with the emulator")
            survivors = members()
            self.assertEqual(len(survivors), 1, "the background child outlived it")
            with Understudy(BINARY, "--state-dir", state) as second:
                self.assertTrue(wait_process_gone(survivors[0]))
                self.assertEqual(members(), [])
                task = second.client("ecs").describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                self.assertEqual(task["lastStatus"], "STOPPED")
                self.assertEqual(task["stopCode"], "TerminationNotice")


class VirtualClockTasksTest(TasksTest):
    ARGS = ("--clock", "virtual", "--start", "2026-11-23T08:00:00Z", "--hold-timeout", "300ms")

    # In virtual time, stopTimeout is clock time: a 30 s timeout costs no 30 real seconds.
    def test_stop_timeout_virtual(self):
        self.register("stubborn", ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
                      stopTimeout=30)
        task = self.run_task("stubborn")
        self.wait_status(task["taskArn"], "RUNNING", timeout="1m")
        self.ecs.stop_task(cluster="web", task=task["taskArn"])
        started = time.monotonic()
        stopped = self.wait_status(task["taskArn"], "STOPPED", timeout="5m")
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(stopped["containers"][0]["exitCode"], 137)
        status, clock = self.emulator.get("/_understudy/clock")
        self.assertEqual(clock["now"], "2026-11-23T08:00:30.000Z")


class FixtureAppTaskTest(TasksTest):
    # The fixture app as a bridge-mode task: it listens on the dynamic host port ECS gave
    # it (PORT), answers there, reports the emulator's endpoint, and passes its health check.
    def test_bridge_task_serves_on_its_host_port(self):
        app = os.environ["UNDERSTUDY_FIXTURE_APP"]
        self.ecs.register_task_definition(family="web", networkMode="bridge", containerDefinitions=[{
            "name": "web", "image": "local/fixture", "memory": 128, "command": [app, "--name", "web"],
            "portMappings": [{"containerPort": 8080}],
            "healthCheck": {"command": ["CMD-SHELL", "curl -sf http://127.0.0.1:$PORT/health"],
                            "interval": 5, "timeout": 2, "retries": 2}}])
        task = self.run_task("web")
        running = self.wait_status(task["taskArn"], "RUNNING")
        port = running["containers"][0]["networkBindings"][0]["hostPort"]
        self.assertEqual(running["containers"][0]["networkBindings"][0]["containerPort"], 8080)
        import http.client

        def fetch_root():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/")
                return json.loads(conn.getresponse().read())
            except OSError:
                return None  # not listening yet
        answer = wait_until(fetch_root, what=f"the app listening on its host port {port}")
        self.assertEqual(answer["name"], "web")
        self.assertEqual(answer["pid"], int(running["containers"][0]["runtimeId"]))
        self.assertEqual(answer["env"]["AWS_ENDPOINT_URL"], self.emulator.endpoint)
        code, result = self.emulator.post("/_understudy/wait", {
            "until": {"ecsTask": {"cluster": "web", "task": task["taskArn"], "healthStatus": "HEALTHY"}},
            "timeout": "30s"})
        self.assertEqual(code, 200, result)


def cgroup_memory_writable():
    if os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        return os.access("/sys/fs/cgroup/memory", os.W_OK)
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "memory" in f.read() and os.access("/sys/fs/cgroup", os.W_OK)
    except OSError:
        return False


class MemoryLimitTest(TasksTest):
    # A container that grows past its memory limit is killed like ECS does it:
    # exit code 137 and the reason OutOfMemoryError.
    def test_oom(self):
        if not cgroup_memory_writable():
            if os.environ.get("CI"):
                self.fail("CI must be able to write a cgroup memory controller")
            self.skipTest("LOUD SKIP: no writable cgroup memory controller on this machine")
        app = os.environ["UNDERSTUDY_FIXTURE_APP"]
        self.register("hungry", [app, "--port", "0", "--memory-grow", "100", "--memory-limit", "1000"],
                      memory=64)
        task = self.run_task("hungry")
        stopped = self.wait_status(task["taskArn"], "STOPPED", timeout="60s")
        container = stopped["containers"][0]
        self.assertEqual(container["exitCode"], 137)
        self.assertEqual(container["reason"], "OutOfMemoryError: Container killed due to memory usage")
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")


class AwsvpcNamespaceTest(TasksTest):
    # awsvpc: each task has its own network namespace, so two tasks both listen on 8080;
    # from inside, the app reaches the AWS endpoint at the same URL (a real boto3 call)
    # and the task metadata endpoint at 169.254.170.2, as on ECS.
    def test_two_tasks_on_one_port_and_endpoints_inside(self):
        import shutil
        import subprocess
        import sys
        import tempfile
        if shutil.which("nsenter") is None:
            self.fail("nsenter (util-linux) is needed to look inside the task's namespace")
        app = os.environ["UNDERSTUDY_FIXTURE_APP"]
        with tempfile.TemporaryDirectory() as tmp, Rendezvous(tmp) as probed:
            probe = ("import boto3, json, os, urllib.request\n"
                     "ecs = boto3.client('ecs', endpoint_url=os.environ['AWS_ENDPOINT_URL'])\n"
                     "clusters = ecs.list_clusters()['clusterArns']\n"
                     "task = json.load(urllib.request.urlopen(os.environ['ECS_CONTAINER_METADATA_URI_V4'] + '/task'))\n"
                     "json.dump({'clusters': clusters, 'task': task['TaskARN']}, open('probe.json', 'w'))\n"
                     f"open({probed.path!r}, 'w').write('probed\\n')\n")
            self.ecs.register_task_definition(
                family="vpc", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                memory="512", containerDefinitions=[
                    {"name": "web", "image": "local/fixture", "command": [app, "--port", "8080"],
                     "portMappings": [{"containerPort": 8080}]},
                    {"name": "probe", "image": "local/probe", "essential": False, "workingDirectory": tmp,
                     "command": [sys.executable, "-c", probe]}])
            network = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}
            tasks = [self.ecs.run_task(cluster="web", taskDefinition="vpc", launchType="FARGATE",
                                       networkConfiguration=network)["tasks"][0] for _ in range(2)]
            pids = []
            for task in tasks:
                running = self.wait_status(task["taskArn"], "RUNNING")
                pids.append(int(running["containers"][0]["runtimeId"]))
                self.assertEqual(running["attachments"][0]["status"], "ATTACHED")
            self.assertNotEqual(os.readlink(f"/proc/{pids[0]}/ns/net"), os.readlink(f"/proc/{pids[1]}/ns/net"))
            self.assertNotEqual(os.readlink(f"/proc/{pids[0]}/ns/net"), os.readlink("/proc/self/ns/net"))
            for pid in pids:
                def curl_inside():
                    out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "curl", "-sf",
                                          "http://127.0.0.1:8080/"], capture_output=True, text=True)
                    return out.stdout if out.returncode == 0 else None  # None: not listening yet
                out = wait_until(curl_inside, what=f"the app listening on 8080 in task {pid}'s namespace")
                self.assertEqual(json.loads(out)["pid"], pid)
            self.assertEqual(probed.wait(), "probed")
            with open(os.path.join(tmp, "probe.json")) as f:
                probe_result = json.load(f)
            self.assertEqual(probe_result["clusters"], ["arn:aws:ecs:us-east-1:000000000000:cluster/web"])
            self.assertIn(probe_result["task"], [t["taskArn"] for t in tasks])
            for task in tasks:
                self.ecs.stop_task(cluster="web", task=task["taskArn"])
                self.wait_status(task["taskArn"], "STOPPED")
            for pid in pids:
                self.assertTrue(wait_gone(pid))


class TaskForwardTest(unittest.TestCase):
    # --task-forward: a service on the host's loopback (a database, here a small HTTP
    # server) is reachable from inside an awsvpc task at the same address.
    def test_host_service_reachable_inside_the_task(self):
        import http.server
        import tempfile
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"from the host"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        host_service = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        port = host_service.server_address[1]
        thread = threading.Thread(target=host_service.serve_forever, daemon=True)
        thread.start()
        try:
            with tempfile.TemporaryDirectory() as tmp, Rendezvous(tmp) as answered, \
                    Understudy(BINARY, "--task-forward", str(port)) as emulator:
                ecs = emulator.client("ecs")
                ecs.create_cluster(clusterName="web")
                ecs.register_task_definition(
                    family="client", networkMode="awsvpc", containerDefinitions=[{
                        "name": "main", "image": "local/client", "memory": 64, "workingDirectory": tmp,
                        "command": ["/bin/sh", "-c",
                                    f"curl -sf http://127.0.0.1:{port}/ > answer.txt; "
                                    f"echo answered > {answered.path}; exec sleep 300"]}])
                arn = ecs.run_task(cluster="web", taskDefinition="client", networkConfiguration={
                    "awsvpcConfiguration": {"subnets": ["subnet-a"]}})["tasks"][0]["taskArn"]
                code, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsTask": {"cluster": "web", "task": arn}}, "timeout": "30s"})
                self.assertEqual(code, 200, answer)
                self.assertEqual(answered.wait(), "answered")
                with open(os.path.join(tmp, "answer.txt")) as f:
                    self.assertEqual(f.read(), "from the host")
        finally:
            host_service.shutdown()


def cgroup_cpu_writable():
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):
        return os.access("/sys/fs/cgroup/cpu", os.W_OK)
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "cpu" in f.read() and os.access("/sys/fs/cgroup", os.W_OK)
    except OSError:
        return False


class CpuLimitTest(TasksTest):
    # The task's cpu caps its containers: a busy loop in a 256-unit (0.25 vCPU) task
    # gets about a quarter of a core.
    def test_cpu_cap(self):
        if not cgroup_cpu_writable():
            if os.environ.get("CI"):
                self.fail("CI must be able to write a cgroup cpu controller")
            self.skipTest("LOUD SKIP: no writable cgroup cpu controller on this machine")
        app = os.environ["UNDERSTUDY_FIXTURE_APP"]
        self.ecs.register_task_definition(family="busy", cpu="256", memory="512", containerDefinitions=[{
            "name": "main", "image": "local/busy", "command": [app, "--port", "0", "--cpu-burn", "100"]}])
        task = self.run_task("busy")
        running = self.wait_status(task["taskArn"], "RUNNING")
        pid = int(running["containers"][0]["runtimeId"])

        def cpu_seconds():
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        # Wait until the capped process has used 0.5 s of CPU, then read the share of a
        # core it used over the wall time that took (capped at 0.25: about 2 s).
        start_cpu, start = cpu_seconds(), time.monotonic()
        wait_until(lambda: cpu_seconds() - start_cpu >= 0.5, timeout=20, what="0.5 s of CPU used")
        share = (cpu_seconds() - start_cpu) / (time.monotonic() - start)
        self.assertLess(share, 0.4, f"used {share:.2f} of a core; the cap is 0.25")
        self.assertGreater(share, 0.1, f"used {share:.2f} of a core; the burn should reach the cap")


    # A container's cpu units are its share (ECS passes them to Docker as cpu shares):
    # cpu.shares on cgroup v1, the matching cpu.weight on v2.
    def test_container_cpu_shares(self):
        if not cgroup_cpu_writable():
            if os.environ.get("CI"):
                self.fail("CI must be able to write a cgroup cpu controller")
            self.skipTest("LOUD SKIP: no writable cgroup cpu controller on this machine")
        self.register("weighted", ["/bin/sh", "-c", "exec sleep 300"], cpu=512)
        task = self.run_task("weighted")
        running = self.wait_status(task["taskArn"], "RUNNING")
        pid = int(running["containers"][0]["runtimeId"])
        with open(f"/proc/{pid}/cgroup") as f:
            lines = [line.strip().split(":", 2) for line in f]
        v1 = [path for _, controllers, path in lines if "cpu" in controllers.split(",")]
        if v1:
            with open(f"/sys/fs/cgroup/cpu{v1[0]}/cpu.shares") as f:
                self.assertEqual(f.read().strip(), "512")
        else:
            path = [path for hierarchy, _, path in lines if hierarchy == "0"][0]
            with open(f"/sys/fs/cgroup{path}/cpu.weight") as f:
                self.assertEqual(f.read().strip(), str(1 + (512 - 2) * 9999 // 262142))


class HealthCheckVirtualTest(TasksTest):
    ARGS = ("--clock", "virtual", "--start", "2026-11-23T08:00:00Z", "--hold-timeout", "300ms")

    # Container health checks run the real command every interval of virtual time:
    # UNHEALTHY after `retries` failures, HEALTHY again once the check passes.
    def test_health_check(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            marker = os.path.join(tmp, "ready")
            self.register("checked", ["/bin/sh", "-c", "exec sleep 300"], healthCheck={
                "command": ["CMD-SHELL", f"test -f {marker}"], "interval": 5, "timeout": 2,
                "retries": 2})
            task = self.run_task("checked")
            code, answer = self.emulator.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": task["taskArn"],
                                      "healthStatus": "UNHEALTHY"}}, "timeout": "5m"})
            self.assertEqual(code, 200, answer)
            self.assertEqual(answer["now"], "2026-11-23T08:00:10.000Z")  # probes at 5 s and 10 s
            with open(marker, "w"):
                pass
            code, answer = self.emulator.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": task["taskArn"],
                                      "healthStatus": "HEALTHY"}}, "timeout": "5m"})
            self.assertEqual(code, 200, answer)
            self.assertEqual(answer["now"], "2026-11-23T08:00:15.000Z")
            described = self.ecs.describe_tasks(cluster="web", tasks=[task["taskArn"]])["tasks"][0]
            self.assertEqual(described["containers"][0]["healthStatus"], "HEALTHY")
            self.assertEqual(described["lastStatus"], "RUNNING")


class ImagesAndSecretsTest(unittest.TestCase):
    # --images supplies what an image would (entry point, command, working dir,
    # environment); environment files and --secrets fill the environment, with ECS's precedence.
    def test_image_mapping_env_files_and_secrets(self):
        import json
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            images = os.path.join(tmp, "images.json")
            with open(images, "w") as f:
                json.dump({"images": {"local/app:*": {
                    "entryPoint": ["/bin/sh", "-c"], "command": ["exec sleep 300"],
                    "workingDirectory": tmp, "environment": {"MODE": "image", "IMAGE_ONLY": "yes"}}}}, f)
            secrets = os.path.join(tmp, "secrets.json")
            with open(secrets, "w") as f:
                json.dump({"arn:aws:secretsmanager:us-east-1:000000000000:secret:db": "hunter2"}, f)
            env_file = os.path.join(tmp, "app.env")
            with open(env_file, "w") as f:
                f.write("# from a file\nFROM_FILE=1\nMODE=file\n")
            with Understudy(BINARY, "--images", images, "--secrets", secrets) as emulator:
                ecs = emulator.client("ecs")
                ecs.create_cluster(clusterName="web")
                ecs.register_task_definition(family="app", containerDefinitions=[{
                    "name": "main", "image": "local/app:1.0", "memory": 64,
                    "environmentFiles": [{"value": env_file, "type": "s3"}],
                    "environment": [{"name": "MODE", "value": "container"}],
                    "secrets": [{"name": "DB_PASSWORD",
                                 "valueFrom": "arn:aws:secretsmanager:us-east-1:000000000000:secret:db"}]}])
                arn = ecs.run_task(cluster="web", taskDefinition="app")["tasks"][0]["taskArn"]
                code, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsTask": {"cluster": "web", "task": arn}}, "timeout": "30s"})
                self.assertEqual(code, 200, answer)
                task = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                pid = int(task["containers"][0]["runtimeId"])
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = dict(i.split(b"=", 1) for i in f.read().split(b"\0") if b"=" in i)
                self.assertEqual(env[b"MODE"], b"container")
                self.assertEqual(env[b"FROM_FILE"], b"1")
                self.assertEqual(env[b"IMAGE_ONLY"], b"yes")
                self.assertEqual(env[b"DB_PASSWORD"], b"hunter2")
                self.assertEqual(os.readlink(f"/proc/{pid}/cwd"), tmp)
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    self.assertEqual(f.read().split(b"\0")[:2], [b"sleep", b"300"])
                # A secret that is not in the file fails the task with ECS's error class.
                ecs.register_task_definition(family="nosecret", containerDefinitions=[{
                    "name": "main", "image": "local/app:1.0", "memory": 64,
                    "secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:us-east-1:000000000000:parameter/x"}]}])
                arn = ecs.run_task(cluster="web", taskDefinition="nosecret")["tasks"][0]["taskArn"]
                code, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsTask": {"cluster": "web", "task": arn, "lastStatus": "STOPPED"}},
                    "timeout": "30s"})
                task = ecs.describe_tasks(cluster="web", tasks=[arn])["tasks"][0]
                self.assertEqual(task["stoppedReason"],
                                 "ResourceInitializationError: unable to pull secrets or registry auth: "
                                 "secret arn:aws:ssm:us-east-1:000000000000:parameter/x is not in the "
                                 "--secrets file")
            # A malformed --images file stops serve with the path of the problem.
            with open(images, "w") as f:
                f.write('{"images": {"a": {"command": "run"}}}')
            proc = subprocess.run([BINARY, "serve", "--port", "0", "--images", images],
                                  capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(proc.stderr, f"understudy: {images}: $.images[\"a\"].command: expected a "
                                          "list of strings, found string\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
