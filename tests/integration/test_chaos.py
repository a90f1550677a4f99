"""Fault injection end to end (docs/chaos.md): the real binary, the AWS CLI's `aws fis`,
boto3, and fixture apps as ECS tasks.

Each action's observable consequence is asserted: a stopped task is replaced by the
service, a crashed task reports the chosen exit code, a killed process ends its task, a
hung task's processes are frozen for the duration and resumed after it, API fault rules
fail the calls they match and then recover, RunTask reports placement failures, and
two runs with the same seed pick the same targets and write the same chaos journal.
Timing is on the virtual clock; every synchronisation is a POST /_understudy/wait.
"""
import datetime
import json
import os
import unittest

from understudy_process import Understudy, binary_from_env, wait_until

BINARY = binary_from_env()
APP = os.environ.get("UNDERSTUDY_FIXTURE_APP", "")
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}
ROLE = "arn:aws:iam::000000000000:role/fis"


def process_state(pid):
    """The one-letter state of /proc/<pid>/stat (R, S, T...), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2]


def pids_named(name):
    """Pids of processes whose command line has `--name <name>`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == b"--name" and argv[i + 1] == name.encode():
                found.append(int(entry))
    return found


class ChaosTest(unittest.TestCase):
    SEED = "5"

    def start_emulator(self):
        emulator = Understudy(BINARY, "--clock", "virtual", "--seed", self.SEED,
                              "--start", "2026-11-23T08:00:00Z").start()
        self.addCleanup(emulator.stop)
        return emulator

    def setUp(self):
        self.emulator = self.start_emulator()
        self.ecs = self.emulator.client("ecs")
        self.fis = self.emulator.client("fis")

    def service(self, emulator, name, count, app_name=None):
        ecs = emulator.client("ecs")
        clusters = ecs.list_clusters()["clusterArns"]
        if not any(c.endswith("/web") for c in clusters):
            ecs.create_cluster(clusterName="web")
        ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[
                {"name": "app", "image": "local/fixture", "stopTimeout": 5,
                 "command": [APP, "--port", "8080", "--name", app_name or name],
                 "portMappings": [{"containerPort": 8080}]}])
        ecs.create_service(cluster="web", serviceName=name, taskDefinition=name,
                           desiredCount=count, launchType="FARGATE",
                           networkConfiguration=NETWORK)
        self.wait_steady(emulator, name)
        return sorted(ecs.list_tasks(cluster="web", serviceName=name)["taskArns"])

    def wait(self, until, emulator=None, timeout="15m"):
        status, answer = (emulator or self.emulator).post(
            "/_understudy/wait", {"until": until, "timeout": timeout})
        self.assertEqual(status, 200, answer)
        return answer

    def wait_steady(self, emulator, name):
        self.wait({"ecsService": {"cluster": "web", "service": name, "steady": True}}, emulator)

    def cli(self, *args, check=True):
        """The AWS CLI's parsed output."""
        return self.emulator.aws(*args, check=check)[1]

    def inline(self, body, emulator=None):
        status, answer = (emulator or self.emulator).post("/_understudy/chaos/experiments", body)
        self.assertEqual(status, 201, answer)
        return answer

    def test_stop_task_through_aws_fis_and_the_service_replaces_it(self):
        before = self.service(self.emulator, "api", 3)
        template = {
            "description": "stop one api task",
            "roleArn": ROLE,
            "stopConditions": [{"source": "none"}],
            "targets": {"api-tasks": {"resourceType": "aws:ecs:task", "selectionMode": "COUNT(1)",
                                      "parameters": {"cluster": "web", "service": "api"}}},
            "actions": {"stop": {"actionId": "aws:ecs:stop-task",
                                 "targets": {"Tasks": "api-tasks"}}},
        }
        created = self.cli("fis", "create-experiment-template", "--cli-input-json",
                                    json.dumps(template), check=True)
        template_id = created["experimentTemplate"]["id"]
        self.assertTrue(template_id.startswith("EXT"))
        listed = self.cli("fis", "list-experiment-templates", check=True)
        self.assertEqual([t["id"] for t in listed["experimentTemplates"]], [template_id])
        started = self.cli("fis", "start-experiment", "--experiment-template-id",
                                    template_id, check=True)["experiment"]
        experiment_id = started["id"]
        self.assertIn(started["state"]["status"], ("initiating", "running"))
        self.wait({"chaosExperiment": {"id": experiment_id, "status": "completed"}})
        got = self.cli("fis", "get-experiment", "--id", experiment_id,
                                check=True)["experiment"]
        self.assertEqual(got["state"]["status"], "completed")
        self.assertEqual(got["actions"]["stop"]["state"]["status"], "completed")
        resolved = self.fis.list_experiment_resolved_targets(experimentId=experiment_id)
        stopped = [t["targetInformation"]["arn"] for t in resolved["resolvedTargets"]]
        self.assertEqual(len(stopped), 1)
        self.assertIn(stopped[0], before)
        self.wait({"ecsTask": {"cluster": "web", "task": stopped[0], "lastStatus": "STOPPED"}})
        task = self.ecs.describe_tasks(cluster="web", tasks=stopped)["tasks"][0]
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertIn(experiment_id, task["stoppedReason"])
        # The service replaces it.
        self.wait_steady(self.emulator, "api")
        after = sorted(self.ecs.list_tasks(cluster="web", serviceName="api")["taskArns"])
        self.assertEqual(len(after), 3)
        self.assertNotIn(stopped[0], after)
        self.assertEqual(len(set(after) - set(before)), 1)
        listed = self.fis.list_experiments()["experiments"]
        self.assertEqual([e["id"] for e in listed], [experiment_id])

    def test_crash_reports_the_chosen_exit_code(self):
        [task_arn] = self.service(self.emulator, "crashy", 1)
        experiment = self.inline({"action": "understudy:ecs:crash-task",
                                  "targets": {"service": "web/crashy"},
                                  "parameters": {"exitCode": "42"}})
        self.assertEqual(experiment["resolvedTargets"]["targets"], [task_arn])
        self.wait({"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": "STOPPED"}})
        task = self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        self.assertEqual(task["containers"][0]["exitCode"], 42)

    def test_spot_interruption_warns_then_stops_and_the_service_replaces(self):
        [task_arn] = self.service(self.emulator, "spot", 1)
        _, before = self.emulator.get("/_understudy/bus")
        experiment = self.inline({"action": "understudy:ecs:spot-interruption",
                                  "targets": {"service": "spot"}})
        self.wait({"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": "STOPPED"}})
        task = self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]
        self.assertEqual(task["stopCode"], "SpotInterruption")
        self.assertEqual(task["stoppedReason"], "Your Spot Task was interrupted.")
        _, bus = self.emulator.get("/_understudy/bus")
        warnings = [e for e in bus["events"]
                    if e["detail-type"] == "ECS Task State Change"
                    and e["detail"].get("taskArn") == task_arn
                    and e["detail"].get("stopCode") == "SpotInterruption"
                    and e["detail"].get("lastStatus") != "STOPPED"]
        self.assertTrue(warnings, "no SpotInterruption warning before the task stopped")
        self.assertEqual(warnings[0]["detail"]["desiredStatus"], "STOPPED")
        self.wait_steady(self.emulator, "spot")
        after = self.ecs.list_tasks(cluster="web", serviceName="spot")["taskArns"]
        self.assertEqual(len(after), 1)
        self.assertNotEqual(after, [task_arn])
        self.assertEqual(experiment["resolvedTargets"]["targets"], [task_arn])

    def test_kill_process_by_name_ends_the_task(self):
        [task_arn] = self.service(self.emulator, "killme", 1)
        name = os.path.basename(APP)[:15]
        experiment = self.inline({"action": "aws:ecs:task-kill-process",
                                  "targets": {"service": "killme"},
                                  "parameters": {"processName": name, "signal": "SIGKILL"}})
        self.wait({"chaosExperiment": {"id": experiment["id"], "status": "completed"}})
        self.wait({"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": "STOPPED"}})
        task = self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]
        self.assertEqual(task["containers"][0]["exitCode"], 137)
        # A name no process has fails the experiment, saying why.
        [other] = sorted(set(self.ecs.list_tasks(cluster="web", serviceName="killme")["taskArns"])
                         - {task_arn}) or [None]
        self.wait_steady(self.emulator, "killme")
        failed = self.inline({"action": "aws:ecs:task-kill-process",
                              "targets": {"service": "killme"},
                              "parameters": {"processName": "no-such-process"}})
        self.assertEqual(failed["state"]["status"], "failed")
        self.assertIn("no process named no-such-process", failed["state"]["reason"])

    def cpu_utilization(self, service):
        """The service's CPUUtilization datapoints (minute, percent), oldest first."""
        cw = self.emulator.client("cloudwatch")
        status, clock = self.emulator.get("/_understudy/clock")
        now = datetime.datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
        points = cw.get_metric_statistics(
            Namespace="AWS/ECS", MetricName="CPUUtilization",
            Dimensions=[{"Name": "ClusterName", "Value": "web"},
                        {"Name": "ServiceName", "Value": service}],
            StartTime=now - datetime.timedelta(hours=2), EndTime=now, Period=60,
            Statistics=["Maximum"])["Datapoints"]
        return sorted((p["Timestamp"], p["Maximum"]) for p in points)

    def next_minute_cpu(self, service):
        """The CPUUtilization of the next minute published, measured over half a second of
        real time: a measurement window (CPU use is real CPU time over real time, read in
        clock ticks), not a wait for something to happen."""
        import time
        time.sleep(0.5)
        self.emulator.post("/_understudy/clock", {"advance": "1m"})
        points = self.cpu_utilization(service)
        return points[-1][1] if points else None

    # aws:ecs:task-cpu-stress: burners inside the task are counted in its CPU, so the
    # service's CPUUtilization (of 256 CPU units) climbs; it falls back when they stop.
    def test_cpu_stress_raises_the_services_cpu_utilization(self):
        self.service(self.emulator, "busy", 1)
        experiment = self.inline({"action": "aws:ecs:task-cpu-stress", "duration": "PT1H",
                                  "targets": {"service": "busy"},
                                  "parameters": {"percent": "100", "workers": "1"}})
        self.assertEqual(experiment["state"]["status"], "running", experiment)
        # One burner would fill a core; the task's CPU limit (256 units, a quarter of a
        # core, enforced where CPU cgroups are available) keeps it near 100 % of what it
        # reserves, as on Fargate. An idle fixture app is near 0 %.
        busy = wait_until(lambda: (v := self.next_minute_cpu("busy")) is not None and v >= 60
                          and v, timeout=30, what="CPUUtilization under stress")
        self.assertGreaterEqual(busy, 60)
        status, _ = self.emulator.post(f"/_understudy/chaos/experiments/{experiment['id']}/stop")
        self.assertEqual(status, 200)
        calm = wait_until(lambda: (v := self.next_minute_cpu("busy")) is not None and v < 20
                          and [v], timeout=30, what="CPUUtilization after the stress")
        self.assertLess(calm[0], 20)
        # Bad parameters are FIS validation errors and start nothing.
        status, answer = self.emulator.post("/_understudy/chaos/experiments", {
            "action": "aws:ecs:task-cpu-stress", "duration": "PT1M",
            "targets": {"service": "busy"}, "parameters": {"percent": "150"}})
        self.assertEqual(status, 400, answer)
        self.assertIn("parameter percent must be between 1 and 100", answer["message"])

    # understudy:ecs:task-memory-stress: memory grows inside the task to its limit (512 MiB
    # here); the container is OOM-killed as ECS reports it, and the service replaces it.
    def test_memory_stress_ends_in_an_oom_kill_and_a_replacement(self):
        [task_arn] = self.service(self.emulator, "hungry", 1)
        experiment = self.inline({"action": "understudy:ecs:task-memory-stress",
                                  "targets": {"service": "hungry"}})
        self.assertEqual(experiment["state"]["status"], "running", experiment)
        self.wait({"ecsTask": {"cluster": "web", "task": task_arn, "lastStatus": "STOPPED"}})
        task = self.ecs.describe_tasks(cluster="web", tasks=[task_arn])["tasks"][0]
        self.assertEqual(task["containers"][0]["exitCode"], 137)
        self.assertEqual(task["containers"][0]["reason"],
                         "OutOfMemoryError: Container killed due to memory usage")
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        self.wait_steady(self.emulator, "hungry")
        after = self.ecs.list_tasks(cluster="web", serviceName="hungry")["taskArns"]
        self.assertEqual(len(after), 1)
        self.assertNotEqual(after[0], task_arn)

    def test_hang_freezes_the_task_for_the_duration(self):
        self.service(self.emulator, "frozen", 1, app_name="frozen-app")
        [pid] = pids_named("frozen-app")
        self.assertIn(process_state(pid), ("S", "R"))
        experiment = self.inline({"action": "understudy:ecs:hang-task",
                                  "targets": {"service": "frozen"}, "duration": "PT10M"})
        self.assertEqual(experiment["state"]["status"], "running")
        wait_until(lambda: process_state(pid) == "T", what="the task's process to be stopped")
        status, _ = self.emulator.post("/_understudy/clock", {"advance": "9m"})
        self.assertEqual(status, 200)
        self.assertEqual(process_state(pid), "T")
        self.wait({"chaosExperiment": {"id": experiment["id"], "status": "completed"}})
        wait_until(lambda: process_state(pid) in ("S", "R"), what="the process to resume")
        status, got = self.emulator.get(f"/_understudy/chaos/experiments/{experiment['id']}")
        events = [e["event"] for e in got["timeline"]]
        self.assertEqual(events, ["created", "targetsResolved", "running", "actionStarted",
                                  "actionEnded", "completed"])
        start, end = got["actions"]["fault"]["startTime"], got["actions"]["fault"]["endTime"]
        self.assertEqual(int(end[14:16]) * 60 + int(end[17:19]) -
                         int(start[14:16]) * 60 - int(start[17:19]), 600, (start, end))

    def test_stop_experiment_resumes_a_hung_task(self):
        self.service(self.emulator, "paused", 1, app_name="paused-app")
        [pid] = pids_named("paused-app")
        experiment = self.inline({"action": "understudy:ecs:hang-task",
                                  "targets": {"service": "paused"}, "duration": "PT1H"})
        wait_until(lambda: process_state(pid) == "T", what="the task's process to be stopped")
        stopped = self.cli("fis", "stop-experiment", "--id", experiment["id"],
                                    check=True)["experiment"]
        self.assertEqual(stopped["state"]["status"], "stopped")
        self.assertEqual(stopped["actions"]["fault"]["state"]["status"], "stopped")
        wait_until(lambda: process_state(pid) in ("S", "R"), what="the process to resume")

    def test_api_faults_fail_the_first_calls_then_recover(self):
        experiment = self.inline({"action": "understudy:api:inject-error",
                                  "parameters": {"service": "ecs", "operation": "ListClusters",
                                                 "errorCode": "AccessDeniedException",
                                                 "httpStatus": "400",
                                                 "message": "injected", "failFirst": "2"}})
        for _ in range(2):
            with self.assertRaises(self.ecs.exceptions.ClientError) as error:
                self.ecs.list_clusters()
            self.assertEqual(error.exception.response["Error"]["Code"], "AccessDeniedException")
            self.assertEqual(error.exception.response["Error"]["Message"], "injected")
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [])
        # Other operations are untouched.
        self.ecs.create_cluster(clusterName="other")
        # The rule lasts until the experiment stops; then nothing is injected.
        status, got = self.emulator.post(f"/_understudy/chaos/experiments/{experiment['id']}/stop")
        self.assertEqual(status, 200, got)
        self.assertEqual(got["state"]["status"], "stopped")
        removed = [e for e in got["timeline"] if e["event"] == "faultRemoved"]
        self.assertEqual(removed[0]["faulted"], 2)
        self.assertEqual(removed[0]["calls"], 3)

    def test_run_task_placement_failure(self):
        self.ecs.create_cluster(clusterName="web")
        self.ecs.register_task_definition(
            family="batch", containerDefinitions=[
                {"name": "app", "image": "local/fixture", "memory": 64,
                 "command": [APP, "--exit-after", "0"]}])
        self.inline({"action": "understudy:ecs:placement-failure",
                     "parameters": {"cluster": "web", "failFirst": "1"}})
        failed = self.cli("ecs", "run-task", "--cluster", "web", "--task-definition",
                                   "batch", check=True)
        self.assertEqual(failed["tasks"], [])
        self.assertEqual(failed["failures"][0]["reason"], "RESOURCE:MEMORY")
        placed = self.ecs.run_task(cluster="web", taskDefinition="batch")
        self.assertEqual(len(placed["tasks"]), 1)
        self.assertEqual(placed["failures"], [])

    def test_event_target_failures_are_retried_then_dead_lettered(self):
        events = self.emulator.client("events")
        self.emulator.client("logs").create_log_group(logGroupName="/orders")
        events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
        events.put_targets(Rule="orders", Targets=[{
            "Id": "log", "Arn": "arn:aws:logs:us-east-1:000000000000:log-group:/orders",
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}}])
        # The first attempt fails, the retry gets through.
        first = self.inline({"action": "understudy:events:target-failure",
                             "parameters": {"source": "orders", "failFirst": "1"}})
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
        self.wait({"eventsDelivered": {"source": "orders", "outcome": "SUCCEEDED", "count": 1}})
        _, body = self.emulator.get("/_understudy/events/deliveries?source=orders")
        self.assertEqual(body["deliveries"][0]["attempts"], 2)
        self.emulator.post(f"/_understudy/chaos/experiments/{first['id']}/stop")
        # Every attempt fails: retries run out and the dead-letter queue is recorded.
        self.inline({"action": "understudy:events:target-failure",
                     "parameters": {"source": "orders", "errorCode": "ThrottlingException"}})
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
        self.wait({"eventsDelivered": {"source": "orders", "outcome": "FAILED", "count": 1}})
        _, body = self.emulator.get("/_understudy/events/deliveries?source=orders")
        failed = [d for d in body["deliveries"] if d["outcome"] == "FAILED"][0]
        self.assertEqual(failed["attempts"], 3)
        self.assertEqual(failed["exhaustedRetryCondition"], "MaximumRetryAttempts")
        self.assertEqual(failed["deadLetter"]["arn"], "arn:aws:sqs:us-east-1:000000000000:dlq")

    # understudy:events:delivery-delay: a matching delivery is made that much clock time
    # late, once, then succeeds; others are untouched.
    def test_event_deliveries_delayed_on_the_clock(self):
        events = self.emulator.client("events")
        logs = self.emulator.client("logs")
        logs.create_log_group(logGroupName="/orders")
        events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
        events.put_targets(Rule="orders", Targets=[{
            "Id": "log", "Arn": "arn:aws:logs:us-east-1:000000000000:log-group:/orders"}])
        self.inline({"action": "understudy:events:delivery-delay",
                     "parameters": {"source": "orders", "delay": "PT10M", "failFirst": "1"}})
        _, clock = self.emulator.get("/_understudy/clock")
        sent = datetime.datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
        answer = self.wait({"eventsDelivered": {"source": "orders", "outcome": "SUCCEEDED",
                                                "count": 1}})
        delivered = datetime.datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))
        self.assertEqual(delivered - sent, datetime.timedelta(minutes=10))
        _, body = self.emulator.get("/_understudy/events/deliveries?source=orders")
        self.assertEqual(body["deliveries"][0]["attempts"], 1)
        # Only the first was held back: the next is delivered at once.
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
        answer = self.wait({"eventsDelivered": {"source": "orders", "outcome": "SUCCEEDED",
                                                "count": 2}})
        again = datetime.datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))
        self.assertEqual(again, delivered)

    def test_smtp_replies_for_matching_recipients(self):
        import smtplib
        ses = self.emulator.client("sesv2")
        ses.create_email_identity(EmailIdentity="shop@example.com")
        self.emulator.post("/_understudy/ses/account", {"sandbox": False})
        self.inline({"action": "understudy:ses:smtp-reject",
                     "parameters": {"recipient": "*@bounce.example", "code": "550"}})
        self.inline({"action": "understudy:ses:smtp-reject",
                     "parameters": {"recipient": "later@example.com", "code": "451",
                                    "failFirst": "1"}})
        message = "Subject: hi\r\n\r\nhello\r\n"
        with smtplib.SMTP("127.0.0.1", self.emulator.smtp_port, timeout=10) as smtp:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as refused:
                smtp.sendmail("shop@example.com", ["Someone@Bounce.Example"], message)
            [(code, text)] = refused.exception.recipients.values()
            self.assertEqual(code, 550)
            self.assertIn(b"5.1.1", text)
            # A 4xx for the first try only: the retry is accepted.
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as refused:
                smtp.sendmail("shop@example.com", ["later@example.com"], message)
            self.assertEqual(list(refused.exception.recipients.values())[0][0], 451)
            self.assertEqual(smtp.sendmail("shop@example.com", ["later@example.com"], message), {})
            # Other recipients are untouched.
            self.assertEqual(smtp.sendmail("shop@example.com", ["ok@example.com"], message), {})

    def test_network_blackhole_port_in_the_task_namespace(self):
        import subprocess
        self.service(self.emulator, "netapp", 1, app_name="net-app")
        [pid] = pids_named("net-app")
        probe = ("import socket,sys\n"
                 "try:\n socket.create_connection(('127.0.0.1', 8080), timeout=1).close(); print('open')\n"
                 "except OSError: print('dropped')\n")

        def connect():
            return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "python3", "-c", probe],
                                  capture_output=True, text=True, timeout=20).stdout.strip()

        if os.path.realpath(f"/proc/{pid}/ns/net") == os.path.realpath("/proc/self/ns/net"):
            self.skipTest("tasks share the host's network namespace here")
        self.assertEqual(connect(), "open")
        experiment = self.inline({"action": "aws:ecs:task-network-blackhole-port",
                                  "targets": {"service": "netapp"},
                                  "parameters": {"port": "8080"}, "duration": "PT5M"})
        self.assertEqual(experiment["state"]["status"], "running", experiment["state"])
        self.assertEqual(connect(), "dropped")
        self.wait({"chaosExperiment": {"id": experiment["id"], "status": "completed"}})
        self.assertEqual(connect(), "open")
        loss = self.inline({"action": "aws:ecs:task-network-packet-loss",
                            "targets": {"service": "netapp"},
                            "parameters": {"lossPercent": "100"}, "duration": "PT1M"})
        self.assertEqual(connect(), "dropped")
        self.emulator.post(f"/_understudy/chaos/experiments/{loss['id']}/stop")
        self.assertEqual(connect(), "open")
        # Latency: every packet sent in the namespace waits 200 ms in a netfilter queue,
        # so a TCP connect there (SYN, then SYN-ACK) takes at least 400 ms.
        timed = ("import socket,time\n"
                 "t = time.monotonic(); socket.create_connection(('127.0.0.1', 8080), timeout=5).close()\n"
                 "print(time.monotonic() - t)\n")

        def connect_seconds():
            out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "python3", "-c", timed],
                                 capture_output=True, text=True, timeout=20)
            return float(out.stdout.strip())

        self.assertLess(connect_seconds(), 0.2)
        latency = self.inline({"action": "aws:ecs:task-network-latency",
                               "targets": {"service": "netapp"},
                               "parameters": {"delayMilliseconds": "200", "jitterMilliseconds": "20"},
                               "duration": "PT1M"})
        self.assertEqual(latency["state"]["status"], "running", latency["state"])
        self.assertGreaterEqual(connect_seconds(), 0.4)
        self.wait({"chaosExperiment": {"id": latency["id"], "status": "completed"}})
        self.assertLess(connect_seconds(), 0.2)
        # No loss, no delay: the queue lets everything through at once.
        nothing = self.inline({"action": "aws:ecs:task-network-packet-loss",
                               "targets": {"service": "netapp"},
                               "parameters": {"lossPercent": "0"}, "duration": "PT1M"})
        self.assertEqual(connect(), "open")
        self.assertLess(connect_seconds(), 0.2)
        self.emulator.post(f"/_understudy/chaos/experiments/{nothing['id']}/stop")

    # FIS resource filters narrow the candidates before selection: every filter must
    # match, one of its values at its path of the DescribeTasks shape (any case of path).
    def test_target_filters(self):
        tasks = self.service(self.emulator, "filtered", 2)

        def resolve(filters):
            template = {
                "description": "filters", "roleArn": ROLE, "stopConditions": [{"source": "none"}],
                "targets": {"t": {"resourceType": "aws:ecs:task", "selectionMode": "ALL",
                                  "parameters": {"cluster": "web"}, "filters": filters}},
                "actions": {"wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}},
                            "kill": {"actionId": "understudy:ecs:hang-task",
                                     "parameters": {"duration": "PT1S"},
                                     "targets": {"Tasks": "t"}, "startAfter": ["wait"]}}}
            tid = self.fis.create_experiment_template(clientToken="f", **template)[
                "experimentTemplate"]["id"]
            experiment = self.fis.start_experiment(clientToken="s", experimentTemplateId=tid)[
                "experiment"]
            if experiment["state"]["status"] == "failed":
                self.fis.delete_experiment_template(id=tid)
                return experiment["state"]["reason"]
            self.fis.stop_experiment(id=experiment["id"])
            found = self.fis.list_experiment_resolved_targets(experimentId=experiment["id"])
            self.fis.delete_experiment_template(id=tid)
            return sorted(t["targetInformation"]["arn"] for t in found["resolvedTargets"])

        self.assertEqual(resolve([{"path": "lastStatus", "values": ["RUNNING"]},
                                  {"path": "Containers.Name", "values": ["app", "other"]}]), tasks)
        self.assertEqual(resolve([{"path": "TaskArn", "values": [tasks[1]]}]), [tasks[1]])
        self.assertIn("empty set", resolve([{"path": "launchType", "values": ["EC2"]}]))
        with self.assertRaises(self.fis.exceptions.ValidationException) as error:
            self.fis.create_experiment_template(
                clientToken="x", description="bad", roleArn=ROLE,
                stopConditions=[{"source": "none"}],
                targets={"t": {"resourceType": "aws:ecs:task", "selectionMode": "ALL",
                               "filters": [{"path": "lastStatus", "values": []}]}},
                actions={"a": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "t"}}})
        self.assertIn("has an invalid filter", error.exception.response["Error"]["Message"])

    # UpdateExperimentTemplate replaces the members given, validated as on create; tags
    # on templates and experiments through TagResource, UntagResource, ListTagsForResource.
    def test_update_template_and_tags(self):
        template = {
            "description": "stop one api task", "roleArn": ROLE,
            "stopConditions": [{"source": "none"}],
            "targets": {"t": {"resourceType": "aws:ecs:task", "selectionMode": "COUNT(1)",
                              "parameters": {"cluster": "web", "service": "api"}}},
            "actions": {"stop": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "t"}}},
            "tags": {"team": "platform"}}
        created = self.fis.create_experiment_template(clientToken="a", **template)[
            "experimentTemplate"]
        tid, arn = created["id"], created["arn"]
        updated = self.cli("fis", "update-experiment-template", "--id", tid, "--description",
                           "stop half the api tasks", "--targets", json.dumps(
                               {"t": {"resourceType": "aws:ecs:task", "selectionMode": "PERCENT(50)",
                                      "parameters": {"cluster": "web", "service": "api"}}}))[
            "experimentTemplate"]
        self.assertEqual(updated["description"], "stop half the api tasks")
        self.assertEqual(updated["targets"]["t"]["selectionMode"], "PERCENT(50)")
        self.assertEqual(updated["actions"]["stop"]["actionId"], "aws:ecs:stop-task")
        self.assertEqual(updated["tags"], {"team": "platform"})
        # An invalid update is refused and changes nothing.
        with self.assertRaises(self.fis.exceptions.ValidationException) as error:
            self.fis.update_experiment_template(id=tid, actions={
                "stop": {"actionId": "aws:ecs:melt-task", "targets": {"Tasks": "t"}}})
        self.assertIn("aws:ecs:melt-task", error.exception.response["Error"]["Message"])
        got = self.fis.get_experiment_template(id=tid)["experimentTemplate"]
        self.assertEqual(got["actions"]["stop"]["actionId"], "aws:ecs:stop-task")
        with self.assertRaises(self.fis.exceptions.ResourceNotFoundException):
            self.fis.update_experiment_template(id="EXTnothere", description="x")
        # Tags.
        self.cli("fis", "tag-resource", "--resource-arn", arn, "--tags", "env=test,owner=ada")
        self.assertEqual(self.fis.list_tags_for_resource(resourceArn=arn)["tags"],
                         {"team": "platform", "env": "test", "owner": "ada"})
        self.fis.untag_resource(resourceArn=arn, tagKeys=["owner", "team"])
        self.assertEqual(self.cli("fis", "list-tags-for-resource", "--resource-arn", arn)["tags"],
                         {"env": "test"})
        experiment = self.fis.start_experiment(clientToken="b", experimentTemplateId=tid,
                                               tags={"run": "1"})["experiment"]
        self.fis.tag_resource(resourceArn=experiment["arn"], tags={"seen": "yes"})
        self.assertEqual(self.fis.get_experiment(id=experiment["id"])["experiment"]["tags"],
                         {"run": "1", "seen": "yes"})
        with self.assertRaises(self.fis.exceptions.ResourceNotFoundException):
            self.fis.list_tags_for_resource(resourceArn=arn.replace(tid, "EXTnothere"))

    # Templates are the user's input: kept in SQLite, they survive a restart with the
    # same --state-dir (updates and tags included); a deleted one stays deleted.
    def test_templates_survive_a_restart(self):
        import tempfile
        state = tempfile.mkdtemp(prefix="understudy-chaos-state-")
        self.addCleanup(lambda: __import__("shutil").rmtree(state, ignore_errors=True))
        first = Understudy(BINARY, "--clock", "virtual", "--state-dir", state).start()
        fis = first.client("fis")
        template = {
            "description": "kept", "roleArn": ROLE, "stopConditions": [{"source": "none"}],
            "targets": {"t": {"resourceType": "aws:ecs:task", "selectionMode": "ALL"}},
            "actions": {"stop": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "t"}}},
            "tags": {"team": "platform"}}
        kept = fis.create_experiment_template(clientToken="a", **template)["experimentTemplate"]
        gone = fis.create_experiment_template(clientToken="b", **template)["experimentTemplate"]
        fis.update_experiment_template(id=kept["id"], description="kept and updated")
        fis.tag_resource(resourceArn=kept["arn"], tags={"env": "test"})
        fis.delete_experiment_template(id=gone["id"])
        first.stop()
        second = Understudy(BINARY, "--clock", "virtual", "--state-dir", state).start()
        self.addCleanup(second.stop)
        fis = second.client("fis")
        got = fis.get_experiment_template(id=kept["id"])["experimentTemplate"]
        self.assertEqual(got["description"], "kept and updated")
        self.assertEqual(got["tags"], {"team": "platform", "env": "test"})
        self.assertEqual(got["actions"]["stop"]["actionId"], "aws:ecs:stop-task")
        self.assertEqual([t["id"] for t in fis.list_experiment_templates()["experimentTemplates"]],
                         [kept["id"]])
        with self.assertRaises(fis.exceptions.ResourceNotFoundException):
            fis.get_experiment_template(id=gone["id"])
        # The seed draws the same ids again after a restart: a new template never takes a
        # kept one's.
        fresh = fis.create_experiment_template(clientToken="c", **template)["experimentTemplate"]
        self.assertNotEqual(fresh["id"], kept["id"])
        self.assertEqual(fis.get_experiment_template(id=kept["id"])["experimentTemplate"]
                         ["description"], "kept and updated")

    def test_bad_input_gets_validation_errors(self):
        template = {
            "description": "bad", "roleArn": ROLE, "stopConditions": [{"source": "none"}],
            "targets": {"t": {"resourceType": "aws:ecs:task", "selectionMode": "SOME(1)"}},
            "actions": {"a": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "t"}}}}
        with self.assertRaises(self.fis.exceptions.ValidationException) as error:
            self.fis.create_experiment_template(clientToken="x", **template)
        self.assertIn("invalid selection mode 'SOME(1)'", error.exception.response["Error"]["Message"])
        template["targets"]["t"]["selectionMode"] = "ALL"
        template["actions"]["a"]["actionId"] = "aws:ecs:melt-task"
        with self.assertRaises(self.fis.exceptions.ValidationException) as error:
            self.fis.create_experiment_template(clientToken="x", **template)
        self.assertIn("aws:ecs:melt-task", error.exception.response["Error"]["Message"])
        with self.assertRaises(self.fis.exceptions.ResourceNotFoundException):
            self.fis.get_experiment(id="EXPnothere")
        status, answer = self.emulator.post("/_understudy/chaos/experiments",
                                            {"action": "aws:ecs:stop-task",
                                             "targets": {"service": "web/none"}})
        self.assertEqual(status, 201, answer)
        self.assertEqual(answer["state"]["status"], "failed")
        self.assertIn("empty set", answer["state"]["reason"])
        status, answer = self.emulator.post("/_understudy/chaos/experiments", {"nothing": 1})
        self.assertEqual(status, 400, answer)
        self.assertEqual(answer["error"], "ValidationException")
        actions = self.cli("fis", "list-actions", check=True)["actions"]
        self.assertIn("aws:ecs:stop-task", [a["id"] for a in actions])
        action = self.fis.get_action(id="understudy:ecs:hang-task")["action"]
        self.assertTrue(action["parameters"]["duration"]["required"])

    def test_same_seed_same_targets_and_journal(self):
        def run():
            emulator = self.start_emulator()
            self.service(emulator, "api", 4)
            experiment = self.inline({"action": "understudy:ecs:hang-task",
                                      "targets": {"service": "api", "selection": "COUNT(2)"},
                                      "duration": "PT1M"}, emulator)
            self.wait({"chaosExperiment": {"id": experiment["id"]}}, emulator)
            _, journal = emulator.get("/_understudy/journal?after=0&limit=100000")
            entries = [(e["time"], e["subject"], e["detail"]) for e in journal["entries"]
                       if e["subject"].startswith("chaos/")]
            emulator.stop()
            return experiment["resolvedTargets"]["targets"], entries

        first = run()
        second = run()
        self.assertEqual(len(first[0]), 2)
        self.assertEqual(first, second)


if __name__ == "__main__":
    unittest.main()


class ChaosAlbTest(unittest.TestCase):
    """Traffic faults and forced health-check failures at the ALB, with fixture apps as
    ip targets on 127.0.0.1 (aws-semantics §1 for what the ALB answers itself)."""

    def setUp(self):
        from test_fixture_app import FixtureApp
        self.emulator = Understudy(BINARY, "--clock", "virtual",
                                   "--start", "2026-11-23T08:00:00Z").start()
        self.addCleanup(self.emulator.stop)
        self.elb = self.emulator.client("elbv2")
        self.apps = []
        for name in ("a", "b"):
            app = FixtureApp("--name", name).start()
            self.addCleanup(self.kill, app)
            self.apps.append(app)
        lb = self.elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])[
            "LoadBalancers"][0]
        self.tg = self.elb.create_target_group(
            Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-local", TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]
        self.listener = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg["TargetGroupArn"]}],
        )["Listeners"][0]
        self.elb.register_targets(TargetGroupArn=self.tg["TargetGroupArn"],
                                  Targets=[{"Id": "127.0.0.1", "Port": a.port} for a in self.apps])
        for app in self.apps:
            self.wait_state(app.port, "healthy")
        _, state = self.emulator.get("/_understudy/elb")
        self.url = None
        for entry in state["loadBalancers"][0]["listeners"]:
            if entry["arn"] == self.listener["ListenerArn"]:
                self.url = f"http://127.0.0.1:{entry['localPort']}"

    def kill(self, app):
        if app.proc.poll() is None:
            os.kill(app.proc.pid, 9)
        app.stop()

    def wait_state(self, port, state, timeout="5m"):
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": self.tg["TargetGroupArn"],
                                          "id": "127.0.0.1", "port": port, "state": state}},
            "timeout": timeout})
        self.assertEqual(status, 200, answer)

    def fault(self, action, **parameters):
        status, answer = self.emulator.post("/_understudy/chaos/experiments", {
            "action": action, "parameters": {k: str(v) for k, v in parameters.items()}})
        self.assertEqual(status, 201, answer)
        self.assertEqual(answer["state"]["status"], "running", answer)
        return answer["id"]

    def stop(self, experiment_id):
        status, answer = self.emulator.post(f"/_understudy/chaos/experiments/{experiment_id}/stop")
        self.assertEqual(status, 200, answer)

    def get(self, timeout=10):
        """(status, body name or None) of one GET through the listener."""
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(self.url + "/", timeout=timeout) as response:
                return response.status, json.loads(response.read())["name"]
        except urllib.error.HTTPError as e:
            return e.code, None

    def test_error_status_per_target_then_recovery(self):
        # Only target b answers 503 from the ALB: round robin makes it every other request.
        experiment = self.fault("understudy:elb:error-status", status=503,
                                targetGroupArn=self.tg["TargetGroupArn"],
                                targetId="127.0.0.1", port=self.apps[1].port)
        results = [self.get() for _ in range(10)]
        self.assertEqual(sorted(set(results)), [(200, "a"), (503, None)])
        self.assertEqual(results.count((503, None)), 5)
        self.stop(experiment)
        results = [self.get() for _ in range(4)]
        self.assertEqual(sorted(set(results)), [(200, "a"), (200, "b")])

    def test_reset_and_latency(self):
        import http.client
        import time
        experiment = self.fault("understudy:elb:reset-connection",
                                listenerArn=self.listener["ListenerArn"])
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            self.get()
        self.stop(experiment)
        self.assertEqual(self.get()[0], 200)
        experiment = self.fault("understudy:elb:latency", latency="400ms")
        started = time.monotonic()
        self.assertEqual(self.get()[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        self.stop(experiment)

    def raw_exchange(self, request):
        """(seconds to the answer's first byte, seconds to the ALB's close, bytes) of one
        request sent on a fresh connection that the client leaves open."""
        import socket
        import time
        port = int(self.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(request)
            data, first = b"", None
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                if first is None:
                    first = time.monotonic() - started
                data += chunk
            return first, time.monotonic() - started, data

    def test_bandwidth_limits_how_fast_answers_arrive(self):
        request = b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"
        _, unlimited, plain = self.raw_exchange(request)
        self.assertIn(b"200 OK", plain.split(b"\r\n", 1)[0])
        # 1 KiB/s: the answer (a few hundred bytes) arrives in slices of a twentieth of a
        # second's worth, so it takes about size/1024 seconds.
        experiment = self.fault("understudy:elb:bandwidth", rate=1,
                                listenerArn=self.listener["ListenerArn"])
        _, limited, data = self.raw_exchange(request)
        self.assertIn(b"200 OK", data.split(b"\r\n", 1)[0])
        expected = len(data) / 1024
        self.assertGreaterEqual(limited, expected * 0.9, (len(data), limited))
        self.assertLess(unlimited, expected / 2, (len(data), unlimited))
        self.stop(experiment)
        _, after, _ = self.raw_exchange(request)
        self.assertLess(after, expected / 2)

    def test_slow_close_delays_the_close_not_the_answer(self):
        request = b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"
        experiment = self.fault("understudy:elb:slow-close", delay="PT0.8S",
                                targetGroupArn=self.tg["TargetGroupArn"])
        first, closed, data = self.raw_exchange(request)
        self.assertIn(b"200 OK", data.split(b"\r\n", 1)[0])
        self.assertLess(first, 0.5)
        self.assertGreaterEqual(closed, 0.8)
        self.stop(experiment)
        first, closed, _ = self.raw_exchange(request)
        self.assertLess(closed, 0.5)

    def test_bandwidth_and_slow_close_parameters_are_validated(self):
        for parameters, message in (({"rate": "0"}, "parameter rate must be at least 1"),
                                    ({"rate": "fast"}, "parameter rate must be a number"),
                                    ({}, "rate")):
            status, answer = self.emulator.post("/_understudy/chaos/experiments", {
                "action": "understudy:elb:bandwidth", "parameters": parameters})
            self.assertEqual(status, 400, answer)
            self.assertIn(message, answer["message"])
        status, answer = self.emulator.post("/_understudy/chaos/experiments", {
            "action": "understudy:elb:slow-close", "parameters": {"delay": "soon"}})
        self.assertEqual(status, 400, answer)
        self.assertIn("parameter delay must be a duration", answer["message"])
        # Nothing was injected: answers arrive at full speed.
        self.assertEqual(self.get()[0], 200)

    def test_timeout_answers_nothing(self):
        import socket
        experiment = self.fault("understudy:elb:timeout", timeout="PT1S")
        with self.assertRaises((ConnectionError, OSError)):
            self.get(timeout=5)
        self.stop(experiment)
        self.assertEqual(self.get()[0], 200)

    def test_forced_health_check_failure_for_a_period(self):
        status, answer = self.emulator.post("/_understudy/chaos/experiments", {
            "action": "understudy:elb:health-check-failure", "duration": "PT2M",
            "parameters": {"targetGroupArn": self.tg["TargetGroupArn"], "targetId": "127.0.0.1",
                           "port": str(self.apps[0].port)}})
        self.assertEqual(status, 201, answer)
        self.wait_state(self.apps[0].port, "unhealthy")
        health = self.elb.describe_target_health(TargetGroupArn=self.tg["TargetGroupArn"])
        states = {d["Target"]["Port"]: d["TargetHealth"] for d in health["TargetHealthDescriptions"]}
        self.assertEqual(states[self.apps[0].port]["Reason"], "Target.FailedHealthChecks")
        self.assertEqual(states[self.apps[1].port]["State"], "healthy")
        # Only b takes traffic while a is unhealthy.
        self.assertEqual({self.get() for _ in range(4)}, {(200, "b")})
        # After the period the checks pass again.
        status, _ = self.emulator.post("/_understudy/wait", {
            "until": {"chaosExperiment": {"id": answer["id"], "status": "completed"}},
            "timeout": "10m"})
        self.assertEqual(status, 200)
        self.wait_state(self.apps[0].port, "healthy")
