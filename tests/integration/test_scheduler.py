"""EventBridge Scheduler through the real AWS CLI and boto3 (aws-semantics §4.5, §7.5):
groups and schedules, at/rate/cron in time zones with DST, StartDate/EndDate, flexible
windows drawn from the seed, ActionAfterCompletion DELETE, ECS RunTask targets (templated and
universal), EventBridge targets, and bad input rejected with Scheduler's errors."""
import json
import unittest
from datetime import datetime, timezone

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
ACCOUNT = "000000000000"
CLUSTER_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/web"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
START = "2026-11-23T00:00:00Z"


def ecs_target(family="job", **params):
    return {"Arn": CLUSTER_ARN, "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": family, **params}}


class SchedulerTest(unittest.TestCase):
    ARGS = ("--clock", "virtual", "--start", START, "--hold-timeout", "5s")

    def setUp(self):
        self.emulator = Understudy(BINARY, *self.ARGS).start()
        self.scheduler = self.emulator.client("scheduler", validate=False)
        self.ecs = self.emulator.client("ecs", validate=False)

    def tearDown(self):
        self.emulator.stop()

    def error(self, call):
        with self.assertRaises(Exception) as caught:
            call()
        response = caught.exception.response
        return response["Error"]["Code"], response["Error"]["Message"], \
            response["ResponseMetadata"]["HTTPStatusCode"]

    def cluster_with_job(self):
        self.ecs.create_cluster(clusterName="web")
        self.ecs.register_task_definition(family="job", containerDefinitions=[
            {"name": "main", "image": "local/app:1", "memory": 64,
             "command": ["/bin/sh", "-c", "echo job ran"]}])

    def advance(self, duration):
        code, answer = self.emulator.post("/_understudy/clock", {"advance": duration})
        self.assertEqual(code, 200, answer)

    def wait_delivered(self, count, source="", outcome="", timeout="1m"):
        code, answer = self.emulator.post("/_understudy/wait", {
            "until": {"eventsDelivered": {"source": source, "outcome": outcome, "count": count}},
            "timeout": timeout})
        self.assertEqual(code, 200, answer)

    def deliveries(self, source):
        status, body = self.emulator.get("/_understudy/events/deliveries?source=" + source)
        return body["deliveries"]

    def schedule_state(self, name):
        status, body = self.emulator.get("/_understudy/events/schedule")
        return next(s for s in body["schedules"] if s["name"] == name)

    def tasks_started_by(self, started_by):
        # A task that stops between the two listings shows up in both: counted once.
        arns = {}
        for status in ("RUNNING", "STOPPED"):
            for arn in self.ecs.list_tasks(cluster="web", startedBy=started_by,
                                           desiredStatus=status)["taskArns"]:
                arns[arn] = None
        arns = list(arns)
        return self.ecs.describe_tasks(cluster="web", tasks=arns)["tasks"] if arns else []


class SchedulesTest(SchedulerTest):
    # The CLI example of the issue: a one-time schedule in Europe/Berlin runs one real task.
    def test_one_time_schedule_runs_a_task_in_its_time_zone(self):
        self.cluster_with_job()
        rc, out, err = self.emulator.aws(
            "scheduler", "create-schedule", "--name", "reminder",
            "--schedule-expression", "at(2026-11-23T09:00:00)",
            "--schedule-expression-timezone", "Europe/Berlin", "--flexible-time-window", "Mode=OFF",
            "--target", json.dumps(ecs_target()))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["ScheduleArn"], f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/reminder")
        self.assertEqual(self.schedule_state("reminder")["nextFireTimes"], ["2026-11-23T08:00:00.000Z"])
        self.advance("24h")
        self.wait_delivered(1, source="reminder")
        [task] = self.tasks_started_by("chronos-schedule/reminder")
        self.assertEqual(task["createdAt"].astimezone(timezone.utc).isoformat(), "2026-11-23T08:00:00+00:00")
        self.assertEqual(len(self.deliveries("reminder")), 1)
        # The schedule stays (ActionAfterCompletion NONE) with nothing left to run.
        schedule = self.scheduler.get_schedule(Name="reminder")
        self.assertEqual(schedule["State"], "ENABLED")
        self.assertNotIn("nextFireTimes", self.schedule_state("reminder"))

    # A rate schedule without StartDate starts invoking at once; EndDate stops it.
    def test_rate_with_start_and_end(self):
        self.cluster_with_job()
        self.scheduler.create_schedule(
            Name="every-6h", ScheduleExpression="rate(6 hours)", FlexibleTimeWindow={"Mode": "OFF"},
            Target=ecs_target(), EndDate=datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc))
        self.scheduler.create_schedule(
            Name="later", ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "OFF"},
            Target=ecs_target(), StartDate=datetime(2026, 11, 24, 5, 0, tzinfo=timezone.utc))
        self.assertEqual(self.schedule_state("later")["nextFireTimes"][:2],
                         ["2026-11-24T05:00:00.000Z", "2026-11-25T05:00:00.000Z"])
        self.advance("48h")
        self.wait_delivered(3, source="every-6h")
        every = self.tasks_started_by("chronos-schedule/every-6h")
        self.assertEqual(sorted(t["createdAt"].astimezone(timezone.utc).strftime("%H:%M") for t in every),
                         ["00:00", "06:00", "12:00"])
        self.assertEqual(len(self.tasks_started_by("chronos-schedule/later")), 1)

    # DST (Europe/Berlin, 2027-03-28 02:00 -> 03:00): the skipped 02:30 does not run.
    def test_cron_in_a_dst_zone(self):
        self.scheduler.create_schedule(
            Name="nightly", ScheduleExpression="cron(30 2 * * ? *)",
            ScheduleExpressionTimezone="Europe/Berlin", FlexibleTimeWindow={"Mode": "OFF"},
            Target=ecs_target(), StartDate=datetime(2027, 3, 26, tzinfo=timezone.utc))
        self.assertEqual(self.schedule_state("nightly")["nextFireTimes"][:3],
                         ["2027-03-26T01:30:00.000Z", "2027-03-27T01:30:00.000Z",
                          "2027-03-29T00:30:00.000Z"])

    # FLEXIBLE windows: the offset comes from the seed, so the same seed gives the same time.
    def test_flexible_window_is_reproducible(self):
        def invocation(seed):
            with Understudy(BINARY, "--clock", "virtual", "--start", START, "--seed", str(seed)) as emulator:
                emulator.client("scheduler").create_schedule(
                    Name="flex", ScheduleExpression="cron(0 12 * * ? *)",
                    FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 60},
                    Target=ecs_target())
                status, body = emulator.get("/_understudy/events/schedule")
                return body["schedules"][0]["nextInvocation"]
        first, again = invocation(7), invocation(7)
        self.assertEqual(first, again)
        self.assertTrue("2026-11-23T12:00:00.000Z" <= first < "2026-11-23T13:00:00.000Z", first)
        others = {invocation(seed) for seed in (1, 2, 3)}
        self.assertGreater(len(others | {first}), 1, "different seeds draw different offsets")

    # ActionAfterCompletion DELETE removes the schedule after its last invocation.
    def test_delete_after_completion(self):
        self.cluster_with_job()
        self.scheduler.create_schedule(
            Name="once", ScheduleExpression="at(2026-11-23T10:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
            Target=ecs_target(), ActionAfterCompletion="DELETE")
        self.advance("12h")
        self.wait_delivered(1, source="once")
        code, message, status = self.error(lambda: self.scheduler.get_schedule(Name="once"))
        self.assertEqual((code, message, status), ("ResourceNotFoundException", "Schedule once does not exist.", 404))

    # The universal target aws-sdk:ecs:runTask takes the RunTask request as Input.
    def test_universal_run_task_target(self):
        self.cluster_with_job()
        request = {"Cluster": "web", "TaskDefinition": "job", "Count": 1,
                   "Overrides": {"ContainerOverrides": [{"Name": "main", "Command": ["/bin/true"]}]}}
        self.scheduler.create_schedule(
            Name="sdk", ScheduleExpression="cron(0 1 * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask", "RoleArn": ROLE,
                    "Input": json.dumps(request)})
        self.advance("2h")
        self.wait_delivered(1, source="sdk")
        [task] = self.tasks_started_by("chronos-schedule/sdk")
        self.assertEqual(task["overrides"]["containerOverrides"][0]["command"], ["/bin/true"])

    # An EventBridge target puts an event on the bus, where rules match it; the Input's
    # context placeholders are filled.
    def test_eventbridge_target(self):
        events = self.emulator.client("events")
        logs = self.emulator.client("logs")
        logs.create_log_group(logGroupName="/reminders")
        events.put_rule(Name="reminders", EventPattern=json.dumps({"source": ["app.reminders"]}))
        events.put_targets(Rule="reminders", Targets=[{
            "Id": "log", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/reminders"}])
        self.scheduler.create_schedule(
            Name="ping", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default", "RoleArn": ROLE,
                    "EventBridgeParameters": {"DetailType": "Reminder", "Source": "app.reminders"},
                    "Input": json.dumps({"at": "<aws.scheduler.scheduled-time>",
                                         "schedule": "<aws.scheduler.schedule-arn>"})})
        self.advance("1h")
        self.wait_delivered(2, source="reminders")
        [first, second] = self.deliveries("reminders")
        event = json.loads(first["input"])
        self.assertEqual((event["source"], event["detail-type"]), ("app.reminders", "Reminder"))
        self.assertEqual(event["detail"], {"at": "2026-11-23T00:00:00Z",
                                           "schedule": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/ping"})
        self.assertEqual(json.loads(second["input"])["detail"]["at"], "2026-11-23T01:00:00Z")


class RestartTest(unittest.TestCase):
    # §4.5 with a state dir: the last scheduled time is stored, so a restart neither repeats
    # an invocation nor skips one that fell due while the emulator was down.
    def test_no_double_no_skip_across_restarts(self):
        import tempfile
        with tempfile.TemporaryDirectory() as state:
            def serve(start):
                return Understudy(BINARY, "--state-dir", state, "--clock", "virtual", "--start", start)

            def times(emulator):
                status, body = emulator.get("/_understudy/events/deliveries?source=hourly")
                return [json.loads(d["input"])["at"][11:16] for d in body["deliveries"]]

            with serve("2026-11-23T00:30:00Z") as first:
                first.client("events").create_event_bus(Name="ticks")
                first.client("scheduler").create_schedule(
                    Name="hourly", ScheduleExpression="cron(0 * * * ? *)", FlexibleTimeWindow={"Mode": "OFF"},
                    Target={"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/ticks", "RoleArn": ROLE,
                            "EventBridgeParameters": {"DetailType": "Tick", "Source": "app"},
                            "Input": json.dumps({"at": "<aws.scheduler.scheduled-time>"})})
                first.post("/_understudy/clock", {"advance": "2h"})
                self.assertEqual(times(first), ["01:00", "02:00"])
            with serve("2026-11-23T02:30:00Z") as second:
                second.post("/_understudy/clock", {"advance": "1h"})
                self.assertEqual(times(second), ["01:00", "02:00", "03:00"])
            with serve("2026-11-23T05:30:00Z") as third:
                code, answer = third.post("/_understudy/wait", {"until": {"eventsDelivered": {
                    "source": "hourly", "count": 5}}, "timeout": "1s"})
                self.assertEqual(code, 200, answer)
                self.assertEqual(times(third), ["01:00", "02:00", "03:00", "04:00", "05:00"])


class ApiTest(SchedulerTest):
    def test_crud_and_groups(self):
        self.assertEqual([g["Name"] for g in self.scheduler.list_schedule_groups()["ScheduleGroups"]],
                         ["default"])
        arn = self.scheduler.create_schedule_group(Name="jobs", Tags=[{"Key": "team", "Value": "web"}])["ScheduleGroupArn"]
        self.assertEqual(arn, f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/jobs")
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "team", "Value": "web"}])
        self.scheduler.create_schedule(Name="a", GroupName="jobs", ScheduleExpression="rate(5 minutes)",
                                       FlexibleTimeWindow={"Mode": "OFF"}, Target=ecs_target(),
                                       Description="first")
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="a", GroupName="jobs", ScheduleExpression="rate(5 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"}, Target=ecs_target()))
        self.assertEqual((code, status), ("ConflictException", 409))
        schedule = self.scheduler.get_schedule(Name="a", GroupName="jobs")
        self.assertEqual((schedule["Description"], schedule["State"], schedule["GroupName"]),
                         ("first", "ENABLED", "jobs"))
        # UpdateSchedule replaces: the omitted Description is gone.
        self.scheduler.update_schedule(Name="a", GroupName="jobs", ScheduleExpression="rate(10 minutes)",
                                       FlexibleTimeWindow={"Mode": "OFF"}, Target=ecs_target(),
                                       State="DISABLED")
        schedule = self.scheduler.get_schedule(Name="a", GroupName="jobs")
        self.assertNotIn("Description", schedule)
        self.assertEqual((schedule["ScheduleExpression"], schedule["State"]), ("rate(10 minutes)", "DISABLED"))
        listed = self.scheduler.list_schedules(GroupName="jobs")["Schedules"]
        self.assertEqual([(s["Name"], s["State"], s["Target"]["Arn"]) for s in listed],
                         [("a", "DISABLED", CLUSTER_ARN)])
        self.assertEqual(self.scheduler.list_schedules(State="ENABLED")["Schedules"], [])
        rc, out, err = self.emulator.aws("scheduler", "list-schedules", "--group-name", "jobs")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out["Schedules"]), 1)
        self.scheduler.delete_schedule(Name="a", GroupName="jobs")
        code, message, status = self.error(lambda: self.scheduler.delete_schedule(Name="a", GroupName="jobs"))
        self.assertEqual((code, message, status), ("ResourceNotFoundException", "Schedule a does not exist.", 404))
        self.scheduler.delete_schedule_group(Name="jobs")
        code, message, status = self.error(lambda: self.scheduler.get_schedule_group(Name="jobs"))
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))

    def test_bad_input_stores_nothing(self):
        base = {"FlexibleTimeWindow": {"Mode": "OFF"}, "Target": ecs_target()}
        for expression in ["rate(1 hours)", "cron(0 3 * * * *)", "at(2026-13-01T00:00:00)", "sometimes"]:
            code, message, status = self.error(lambda: self.scheduler.create_schedule(
                Name="x", ScheduleExpression=expression, **base))
            self.assertEqual((code, message, status),
                             ("ValidationException", f"Invalid Schedule Expression {expression}.", 400))
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="x", ScheduleExpression="rate(1 hour)", ScheduleExpressionTimezone="Mars/Olympus", **base))
        self.assertEqual((code, message), ("ValidationException", "Invalid ScheduleExpressionTimezone Mars/Olympus."))
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="x", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "FLEXIBLE"},
            Target=ecs_target()))
        self.assertEqual(code, "ValidationException")
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="x", GroupName="nope", ScheduleExpression="rate(1 hour)", **base))
        self.assertEqual((code, message, status),
                         ("ResourceNotFoundException", "Schedule group nope does not exist.", 404))
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="x", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": CLUSTER_ARN, "RoleArn": ROLE}))
        self.assertEqual(code, "ValidationException")
        code, message, status = self.error(lambda: self.scheduler.create_schedule(
            Name="x", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target=ecs_target(), StartDate=datetime(2026, 12, 2, tzinfo=timezone.utc),
            EndDate=datetime(2026, 12, 1, tzinfo=timezone.utc)))
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.scheduler.list_schedules()["Schedules"], [])
        rc, out, err = self.emulator.aws("scheduler", "get-schedule", "--name", "missing")
        self.assertNotEqual(rc, 0)
        self.assertIn("An error occurred (ResourceNotFoundException) when calling the GetSchedule "
                      "operation: Schedule missing does not exist.", err)


if __name__ == "__main__":
    unittest.main()
