"""EventBridge through the real AWS CLI and boto3 (aws-semantics §4.1-§4.4, §2.12): buses,
rules and targets; scheduled rules firing in virtual time as real ECS tasks, exactly once even
across restarts; pattern rules on ECS task state changes; PutEvents; input transformers; API
destinations calling a local HTTP server; and bad input rejected with AWS's errors, storing
nothing."""
import http.server
import json
import os
import tempfile
import threading
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
ACCOUNT = "000000000000"
CLUSTER_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/web"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"
START = "2026-11-23T00:00:00Z"


def ecs_target(target_id, family, **params):
    return {"Id": target_id, "Arn": CLUSTER_ARN, "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": family, **params}}


class EventsTest(unittest.TestCase):
    ARGS = ("--clock", "virtual", "--start", START, "--hold-timeout", "5s")

    def setUp(self):
        self.emulator = Understudy(BINARY, *self.ARGS).start()
        self.events = self.emulator.client("events", validate=False)
        self.ecs = self.emulator.client("ecs", validate=False)

    def tearDown(self):
        self.emulator.stop()

    def error(self, call):
        with self.assertRaises(Exception) as caught:
            call()
        return caught.exception.response["Error"]

    def cluster_with_job(self, family="job", command=("/bin/sh", "-c", "echo job ran")):
        self.ecs.create_cluster(clusterName="web")
        self.ecs.register_task_definition(family=family, containerDefinitions=[
            {"name": "main", "image": "local/app:1", "memory": 64, "command": list(command)}])

    def advance(self, duration):
        code, answer = self.emulator.post("/_understudy/clock", {"advance": duration})
        self.assertEqual(code, 200, answer)
        return answer

    def wait_delivered(self, count, source="", outcome="", timeout="1m"):
        code, answer = self.emulator.post("/_understudy/wait", {
            "until": {"eventsDelivered": {"source": source, "outcome": outcome, "count": count}},
            "timeout": timeout})
        self.assertEqual(code, 200, answer)

    def deliveries(self, source=""):
        status, body = self.emulator.get("/_understudy/events/deliveries?source=" + source)
        self.assertEqual(status, 200)
        return body["deliveries"]

    def tasks_started_by(self, started_by):
        # A task that stops between the two listings shows up in both: counted once.
        arns = {}
        for status in ("RUNNING", "STOPPED"):
            for arn in self.ecs.list_tasks(cluster="web", startedBy=started_by,
                                           desiredStatus=status)["taskArns"]:
                arns[arn] = None
        arns = list(arns)
        if not arns:
            return []
        return self.ecs.describe_tasks(cluster="web", tasks=arns)["tasks"]


class ScheduledRulesTest(EventsTest):
    # §4.1: a virtual day with an hourly rate rule, a 03:00 cron rule and (in
    # test_scheduler.py) a one-time schedule: each firing at its minute, once, as a real task.
    def test_virtual_day_runs_exactly_the_expected_tasks(self):
        self.cluster_with_job()
        rc, out, err = self.emulator.aws("events", "put-rule", "--name", "hourly",
                                         "--schedule-expression", "rate(1 hour)")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["RuleArn"], f"arn:aws:events:us-east-1:{ACCOUNT}:rule/hourly")
        rc, out, err = self.emulator.aws("events", "put-rule", "--name", "nightly",
                                         "--schedule-expression", "cron(0 3 * * ? *)")
        self.assertEqual(rc, 0, err)
        for rule in ("hourly", "nightly"):
            rc, out, err = self.emulator.aws(
                "events", "put-targets", "--rule", rule, "--targets",
                f"Id=1,Arn={CLUSTER_ARN},RoleArn={ROLE},EcsParameters={{TaskDefinitionArn=job,LaunchType=EC2}}")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, {"FailedEntryCount": 0, "FailedEntries": []})
        status, schedule = self.emulator.get("/_understudy/events/schedule")
        by_name = {s["name"]: s for s in schedule["schedules"]}
        self.assertEqual(by_name["nightly"]["nextFireTimes"][:2],
                         ["2026-11-23T03:00:00.000Z", "2026-11-24T03:00:00.000Z"])
        self.assertEqual(by_name["hourly"]["nextFireTimes"][0], "2026-11-23T01:00:00.000Z")

        self.advance("24h")
        self.wait_delivered(25)
        hourly = self.deliveries("hourly")
        nightly = self.deliveries("nightly")
        self.assertEqual(len(hourly), 24)
        self.assertEqual(len(nightly), 1)
        # Each firing is a Scheduled Event envelope at the exact minute.
        times = [json.loads(d["input"])["time"] for d in hourly]
        self.assertEqual(times, [f"2026-11-{23 + (h // 24)}T{h % 24:02d}:00:00Z" for h in range(1, 25)])
        event = json.loads(nightly[0]["input"])
        self.assertEqual({k: v for k, v in event.items() if k != "id"}, {
            "version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": "2026-11-23T03:00:00Z", "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nightly"], "detail": {}})
        self.assertTrue(all(d["outcome"] == "SUCCEEDED" for d in hourly + nightly))
        # Real ECS tasks, started by the rules.
        hourly_tasks = self.tasks_started_by("events-rule/hourly")
        nightly_tasks = self.tasks_started_by("events-rule/nightly")
        self.assertEqual(len(hourly_tasks), 24)
        self.assertEqual(len(nightly_tasks), 1)
        self.assertEqual(nightly_tasks[0]["createdAt"].isoformat(), "2026-11-23T03:00:00+00:00")
        self.assertEqual(nightly_tasks[0]["taskDefinitionArn"],
                         f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/job:1")
        # A further day: one more nightly run, not two.
        self.advance("24h")
        self.wait_delivered(2, source="nightly")
        self.assertEqual(len(self.deliveries("nightly")), 2)

    # Disabled rules do not fire; enabling picks the schedule up again.
    def test_disable_and_enable(self):
        self.cluster_with_job()
        self.events.put_rule(Name="every5", ScheduleExpression="rate(5 minutes)", State="DISABLED")
        self.events.put_targets(Rule="every5", Targets=[ecs_target("1", "job")])
        self.advance("1h")
        self.assertEqual(self.deliveries("every5"), [])
        self.events.enable_rule(Name="every5")
        self.assertEqual(self.events.describe_rule(Name="every5")["State"], "ENABLED")
        self.advance("10m")
        self.wait_delivered(2, source="every5")
        self.events.disable_rule(Name="every5")
        self.advance("1h")
        self.assertEqual(len(self.deliveries("every5")), 2)

    # Overrides come from the target input; count and startedBy from EcsParameters.
    def test_ecs_target_overrides_and_count(self):
        self.cluster_with_job()
        self.events.put_rule(Name="report", ScheduleExpression="cron(30 6 * * ? *)")
        self.events.put_targets(Rule="report", Targets=[{
            **ecs_target("1", "job", TaskCount=2),
            "Input": json.dumps({"containerOverrides": [{
                "name": "main", "environment": [{"name": "MODE", "value": "report"}]}]})}])
        self.advance("7h")
        self.wait_delivered(1, source="report")
        tasks = self.tasks_started_by("events-rule/report")
        self.assertEqual(len(tasks), 2)
        for task in tasks:
            self.assertEqual(task["overrides"]["containerOverrides"][0]["environment"],
                             [{"name": "MODE", "value": "report"}])
            self.assertEqual(task["startedBy"], "events-rule/report")

    # POST /_understudy/events/fire/<rule> fires a rule now without moving its schedule.
    def test_fire_now(self):
        self.cluster_with_job()
        self.events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)")
        self.events.put_targets(Rule="nightly", Targets=[ecs_target("1", "job")])
        code, answer = self.emulator.post("/_understudy/events/fire/nightly")
        self.assertEqual(code, 200, answer)
        self.wait_delivered(1, source="nightly")
        self.assertEqual(len(self.tasks_started_by("events-rule/nightly")), 1)
        code, answer = self.emulator.post("/_understudy/events/fire/nope")
        self.assertEqual(code, 404)
        status, schedule = self.emulator.get("/_understudy/events/schedule")
        self.assertEqual(schedule["schedules"][0]["nextFireTimes"][0], "2026-11-23T03:00:00.000Z")


class RestartTest(unittest.TestCase):
    # §4.1 with a state dir: the last firing is stored, so a restart neither repeats a firing
    # nor skips one that fell due while the emulator was down.
    def test_no_double_no_skip_across_restarts(self):
        with tempfile.TemporaryDirectory() as state:
            def serve(start):
                return Understudy(BINARY, "--state-dir", state, "--clock", "virtual", "--start", start)

            def envelope_times(emulator):
                status, body = emulator.get("/_understudy/events/deliveries?source=hourly")
                return [json.loads(d["input"])["time"][11:16] for d in body["deliveries"]]

            with serve("2026-11-23T00:00:00Z") as first:
                events = first.client("events")
                events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
                events.put_targets(Rule="hourly", Targets=[{
                    "Id": "log", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/events/hourly"}])
                first.client("logs").create_log_group(logGroupName="/events/hourly")
                first.post("/_understudy/clock", {"advance": "2h"})
                self.assertEqual(envelope_times(first), ["01:00", "02:00"])
            # Same instant again: 02:00 is not fired a second time.
            with serve("2026-11-23T02:00:00Z") as second:
                second.post("/_understudy/clock", {"advance": "1h"})
                self.assertEqual(envelope_times(second), ["01:00", "02:00", "03:00"])
            # Down from 03:00 to 05:30: 04:00 and 05:00 still run, once each.
            with serve("2026-11-23T05:30:00Z") as third:
                third.post("/_understudy/wait", {"until": {"eventsDelivered": {
                    "source": "hourly", "count": 5}}, "timeout": "1s"})
                self.assertEqual(envelope_times(third), ["01:00", "02:00", "03:00", "04:00", "05:00"])
                streams = third.client("logs").describe_log_streams(logGroupName="/events/hourly")
                self.assertEqual(len(streams["logStreams"]), 5)


class PatternRulesTest(EventsTest):
    ARGS = ("--clock", "virtual", "--start", START, "--hold-timeout", "5s")

    # §2.12 + §4.3: ECS task state changes land on the default bus; a pattern rule on
    # lastStatus STOPPED sends a transformed message to a log group.
    def test_ecs_task_state_change_matches_pattern(self):
        self.cluster_with_job(command=("/bin/sh", "-c", "exit 3"))
        logs = self.emulator.client("logs")
        logs.create_log_group(logGroupName="/events/stopped")
        pattern = {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                   "detail": {"lastStatus": ["STOPPED"], "clusterArn": [CLUSTER_ARN],
                              "containers": {"exitCode": [{"anything-but": 0}]}}}
        rc, out, err = self.emulator.aws("events", "put-rule", "--name", "task-failed",
                                         "--event-pattern", json.dumps(pattern))
        self.assertEqual(rc, 0, err)
        self.events.put_targets(Rule="task-failed", Targets=[{
            "Id": "log", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/events/stopped",
            "InputTransformer": {
                "InputPathsMap": {"task": "$.detail.taskArn", "code": "$.detail.containers[0].exitCode"},
                "InputTemplate": '{"task": <task>, "exitCode": <code>, "rule": "<aws.events.rule-name>"}'}}])
        task = self.ecs.run_task(cluster="web", taskDefinition="job")["tasks"][0]
        code, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsTask": {"cluster": "web", "task": task["taskArn"], "lastStatus": "STOPPED"}},
            "timeout": "1m"})
        self.assertEqual(code, 200, answer)
        self.wait_delivered(1, source="task-failed")
        deliveries = self.deliveries("task-failed")
        self.assertEqual(len(deliveries), 1, "only the STOPPED change matches")
        self.assertEqual(json.loads(deliveries[0]["input"]),
                         {"task": task["taskArn"], "exitCode": 3, "rule": "task-failed"})
        stream = deliveries[0]["result"]["logStream"]
        got = logs.get_log_events(logGroupName="/events/stopped", logStreamName=stream)["events"]
        self.assertEqual([json.loads(e["message"])["exitCode"] for e in got], [3])

    # PutEvents on a custom bus; a rule forwards to another bus whose rule logs the detail.
    def test_put_events_custom_bus_and_bus_target(self):
        bus_arn = self.events.create_event_bus(Name="orders")["EventBusArn"]
        self.assertEqual(bus_arn, f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders")
        self.events.create_event_bus(Name="audit")
        self.emulator.client("logs").create_log_group(logGroupName="/audit")
        self.events.put_rule(Name="big", EventBusName="orders",
                             EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}))
        self.events.put_targets(Rule="big", EventBusName="orders", Targets=[{
            "Id": "fwd", "Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/audit", "RoleArn": ROLE}])
        self.events.put_rule(Name="all", EventBusName="audit", EventPattern=json.dumps({"source": ["shop"]}))
        self.events.put_targets(Rule="all", EventBusName="audit", Targets=[{
            "Id": "log", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/audit", "InputPath": "$.detail"}])
        out = self.events.put_events(Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 250}), "EventBusName": "orders"},
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 5}), "EventBusName": "orders"},
            {"Source": "shop", "DetailType": "Order", "Detail": "{not json", "EventBusName": "orders"},
            {"Source": "aws.ecs", "DetailType": "x", "Detail": "{}"},
            {"Source": "shop", "Detail": "{}"},
            {"Source": "shop", "DetailType": "Order", "Detail": "{}", "EventBusName": "missing"}])
        self.assertEqual(out["FailedEntryCount"], 4)
        entries = out["Entries"]
        self.assertRegex(entries[0]["EventId"], r"^[0-9a-f-]{36}$")
        self.assertIn("EventId", entries[1])
        self.assertEqual(entries[2], {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
        self.assertEqual(entries[3], {"ErrorCode": "NotAuthorizedForSourceException",
                                      "ErrorMessage": "Not authorized for the source."})
        self.assertEqual(entries[4]["ErrorCode"], "InvalidArgument")
        self.assertEqual(entries[5]["ErrorCode"], "ResourceNotFoundException")
        self.wait_delivered(1, source="all")
        self.assertEqual([d["input"] for d in self.deliveries("all")], ['{"total":250}'])
        self.assertEqual(len(self.deliveries("big")), 1)

    # TestEventPattern answers with the engine's result.
    def test_test_event_pattern(self):
        event = {"id": "1", "account": ACCOUNT, "source": "shop", "time": "2026-11-23T00:00:00Z",
                 "region": "us-east-1", "detail-type": "Order", "resources": [],
                 "detail": {"city": "Berlin"}}
        pattern = {"detail": {"city": [{"prefix": "Ber"}]}}
        rc, out, err = self.emulator.aws("events", "test-event-pattern", "--event-pattern",
                                         json.dumps(pattern), "--event", json.dumps(event))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, {"Result": True})
        out = self.events.test_event_pattern(EventPattern=json.dumps({"source": ["other"]}),
                                             Event=json.dumps(event))
        self.assertEqual(out["Result"], False)
        err = self.error(lambda: self.events.test_event_pattern(EventPattern=json.dumps(pattern),
                                                                Event="{}"))
        self.assertEqual(err, {"Code": "ValidationException", "Message": "Parameter Event is not valid."})


class RecordingServer:
    """A loopback HTTP server that records each request (method, path, headers, body)."""

    def __init__(self, status=200):
        self.requests = []
        self.status = status
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append((self.command, self.path, dict(self.headers), body.decode()))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"


class ApiDestinationTest(EventsTest):
    # Connections + API destinations call a local URL with the connection's auth header;
    # the call holds the virtual clock while it is in flight.
    def test_api_destination_receives_transformed_event(self):
        with RecordingServer() as server:
            connection = self.events.create_connection(
                Name="hooks", AuthorizationType="API_KEY",
                AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}})
            self.assertEqual(connection["ConnectionState"], "AUTHORIZED")
            described = self.events.describe_connection(Name="hooks")
            self.assertNotIn("ApiKeyValue", described["AuthParameters"]["ApiKeyAuthParameters"])
            destination = self.events.create_api_destination(
                Name="hook", ConnectionArn=connection["ConnectionArn"],
                InvocationEndpoint=server.url + "/orders/*/events", HttpMethod="POST")
            self.events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
            self.events.put_targets(Rule="orders", Targets=[{
                "Id": "hook", "Arn": destination["ApiDestinationArn"], "RoleArn": ROLE,
                "HttpParameters": {"PathParameterValues": ["eu"], "QueryStringParameters": {"v": "2 x"},
                                   "HeaderParameters": {"x-shop": "main"}},
                "InputTransformer": {"InputPathsMap": {"id": "$.detail.id"},
                                     "InputTemplate": '{"order": <id>, "note": "order <id> placed"}'}}])
            self.events.put_events(Entries=[{"Source": "shop", "DetailType": "Order",
                                             "Detail": json.dumps({"id": "o-1"})}])
            self.wait_delivered(1, source="orders")
            [delivery] = self.deliveries("orders")
            self.assertEqual(delivery["outcome"], "SUCCEEDED", delivery)
            self.assertEqual(delivery["result"]["httpStatus"], 200)
            [(method, path, headers, body)] = server.requests
            self.assertEqual((method, path), ("POST", "/orders/eu/events?v=2%20x"))
            self.assertEqual(headers["x-api-key"], "s3cret")
            self.assertEqual(headers["x-shop"], "main")
            self.assertEqual(json.loads(body), {"order": "o-1", "note": "order o-1 placed"})

    # A failing endpoint is retried in clock time until RetryPolicy gives up, then recorded
    # with the dead-letter queue it would go to.
    def test_api_destination_failure_retries_then_dead_letter(self):
        with RecordingServer(status=503) as server:
            connection = self.events.create_connection(
                Name="hooks", AuthorizationType="BASIC",
                AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})
            destination = self.events.create_api_destination(
                Name="hook", ConnectionArn=connection["ConnectionArn"],
                InvocationEndpoint=server.url + "/hook", HttpMethod="POST")
            self.events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
            self.events.put_targets(Rule="orders", Targets=[{
                "Id": "hook", "Arn": destination["ApiDestinationArn"], "RoleArn": ROLE,
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}}])
            self.events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
            self.wait_delivered(1, source="orders", outcome="FAILED", timeout="10m")
            [delivery] = self.deliveries("orders")
            self.assertEqual(delivery["attempts"], 3)
            self.assertEqual(delivery["exhaustedRetryCondition"], "MaximumRetryAttempts")
            self.assertEqual(delivery["deadLetter"]["messageAttributes"]["ERROR_CODE"], "503")
            self.assertEqual(len(server.requests), 3)
            self.assertTrue(server.requests[0][2]["Authorization"].startswith("Basic "))


class BadInputTest(EventsTest):
    # §4.1: every invalid schedule expression gets AWS's one message, and nothing is stored.
    def test_invalid_schedule_expressions(self):
        for expression in ["rate(1 hours)", "rate(5 hour)", "rate(0 minutes)", "cron(0 3 * * * *)",
                           "cron(0 3 * *)", "cron(0 3 ? * ? *)", "every day", "cron(61 3 * * ? *)"]:
            err = self.error(lambda: self.events.put_rule(Name="r", ScheduleExpression=expression))
            self.assertEqual(err, {"Code": "ValidationException",
                                   "Message": "Parameter ScheduleExpression is not valid."}, expression)
        self.assertEqual(self.events.list_rules()["Rules"], [])

    def test_rule_errors(self):
        err = self.error(lambda: self.events.put_rule(Name="r", EventPattern='{"source": "x"}'))
        self.assertEqual(err["Code"], "InvalidEventPatternException")
        self.assertTrue(err["Message"].startswith("Event pattern is not valid. Reason: "), err)
        err = self.error(lambda: self.events.put_rule(Name="r"))
        self.assertEqual(err["Code"], "ValidationException")
        err = self.error(lambda: self.events.put_rule(Name="bad name!", EventPattern='{"source": ["x"]}'))
        self.assertEqual(err["Code"], "ValidationException")
        self.assertIn("Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", err["Message"])
        err = self.error(lambda: self.events.describe_rule(Name="nope"))
        self.assertEqual(err, {"Code": "ResourceNotFoundException",
                               "Message": "Rule nope does not exist on EventBus default."})
        err = self.error(lambda: self.events.put_rule(Name="r", EventBusName="nobus",
                                                      EventPattern='{"source": ["x"]}'))
        self.assertEqual(err, {"Code": "ResourceNotFoundException",
                               "Message": "Event bus nobus does not exist."})
        self.events.create_event_bus(Name="custom")
        err = self.error(lambda: self.events.put_rule(Name="r", EventBusName="custom",
                                                      ScheduleExpression="rate(1 hour)"))
        self.assertEqual(err["Code"], "ValidationException")
        self.assertEqual(self.events.list_rules(EventBusName="custom")["Rules"], [])
        err = self.error(lambda: self.events.create_event_bus(Name="custom"))
        self.assertEqual(err, {"Code": "ResourceAlreadyExistsException",
                               "Message": "Event bus custom already exists."})

    # PutRule replaces the whole rule: omitted fields are gone, targets stay.
    def test_put_rule_replaces(self):
        self.events.put_rule(Name="r", EventPattern='{"source": ["x"]}', Description="first")
        self.events.put_targets(Rule="r", Targets=[{"Id": "1", "Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"}])
        self.events.put_rule(Name="r", ScheduleExpression="rate(5 minutes)")
        rule = self.events.describe_rule(Name="r")
        self.assertNotIn("Description", rule)
        self.assertNotIn("EventPattern", rule)
        self.assertEqual(rule["ScheduleExpression"], "rate(5 minutes)")
        self.assertEqual(len(self.events.list_targets_by_rule(Rule="r")["Targets"]), 1)
        err = self.error(lambda: self.events.delete_rule(Name="r"))
        self.assertEqual(err, {"Code": "ValidationException",
                               "Message": "Rule can't be deleted since it has targets."})
        self.events.remove_targets(Rule="r", Ids=["1"])
        self.events.delete_rule(Name="r")
        self.assertEqual(self.events.list_rules()["Rules"], [])

    def test_target_errors(self):
        self.events.put_rule(Name="r", EventPattern='{"source": ["x"]}')
        bad_transformer = {"Id": "t", "Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default",
                           "InputTransformer": {"InputTemplate": '{"a": <nope>}'}}
        err = self.error(lambda: self.events.put_targets(Rule="r", Targets=[bad_transformer]))
        self.assertEqual(err, {"Code": "ValidationException",
                               "Message": "InputTemplate for target t contains invalid placeholder nope."})
        err = self.error(lambda: self.events.put_targets(Rule="r", Targets=[
            {"Id": "t", "Arn": CLUSTER_ARN, "Input": "{oops"}]))
        self.assertEqual(err["Message"], "Input for target t is not a valid JSON text.")
        self.assertEqual(self.events.list_targets_by_rule(Rule="r")["Targets"], [])
        # Entry-level failures: the ECS target without RoleArn fails, the other is stored.
        out = self.events.put_targets(Rule="r", Targets=[
            {"Id": "ecs", "Arn": CLUSTER_ARN, "EcsParameters": {"TaskDefinitionArn": "job"}},
            {"Id": "bus", "Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"}])
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["FailedEntries"][0]["TargetId"], "ecs")
        self.assertEqual(out["FailedEntries"][0]["ErrorCode"], "ValidationException")
        self.assertEqual([t["Id"] for t in self.events.list_targets_by_rule(Rule="r")["Targets"]], ["bus"])
        self.assertEqual(self.events.list_rule_names_by_target(
            TargetArn=f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default")["RuleNames"], ["r"])
        # At most five targets per rule.
        many = [{"Id": str(i), "Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"} for i in range(5)]
        err = self.error(lambda: self.events.put_targets(Rule="r", Targets=many))
        self.assertEqual(err["Code"], "LimitExceededException")
        err = self.error(lambda: self.events.put_targets(Rule="missing", Targets=many[:1]))
        self.assertEqual(err["Code"], "ResourceNotFoundException")

    def test_put_events_size_limit(self):
        detail = json.dumps({"blob": "x" * (130 * 1024)})
        err = self.error(lambda: self.events.put_events(Entries=[
            {"Source": "s", "DetailType": "d", "Detail": detail}] * 2))
        self.assertEqual(err, {"Code": "ValidationException",
                               "Message": "Total size of the entries in the request is over the limit."})

    def test_tags(self):
        arn = self.events.put_rule(Name="r", EventPattern='{"source": ["x"]}',
                                   Tags=[{"Key": "team", "Value": "web"}])["RuleArn"]
        self.events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "test"}])
        tags = self.events.list_tags_for_resource(ResourceARN=arn)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("env", "test"), ("team", "web")])
        self.events.untag_resource(ResourceARN=arn, TagKeys=["team"])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "env", "Value": "test"}])
        err = self.error(lambda: self.events.list_tags_for_resource(
            ResourceARN=f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nope"))
        self.assertEqual(err["Code"], "ResourceNotFoundException")


if __name__ == "__main__":
    unittest.main()
