"""CloudWatch Logs through the real AWS CLI and boto3 (aws-semantics §6), and container
output arriving in the awslogs streams of real ECS tasks."""
import json
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
NOW_MS = 1795420800000  # 2026-11-23T08:00:00Z, the virtual clock's start


class LogsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, "--clock", "virtual", "--start", "2026-11-23T08:00:00Z").start()
        cls.logs = cls.emulator.client("logs", validate=False)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.emulator.post("/_understudy/reset")

    def error(self, call):
        with self.assertRaises(Exception) as caught:
            call()
        return caught.exception.response["Error"]

    # Groups and streams: create, describe, duplicates and missing ones get CloudWatch's errors.
    def test_groups_and_streams(self):
        rc, out, err = self.emulator.aws("logs", "create-log-group", "--log-group-name", "/ecs/web")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.emulator.aws("logs", "create-log-group", "--log-group-name", "/ecs/web")
        self.assertIn("An error occurred (ResourceAlreadyExistsException) when calling the CreateLogGroup "
                      "operation: The specified log group already exists", err)
        groups = self.logs.describe_log_groups()["logGroups"]
        self.assertEqual(groups, [{"logGroupName": "/ecs/web", "creationTime": NOW_MS, "metricFilterCount": 0,
                                   "arn": "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web:*",
                                   "logGroupArn": "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web",
                                   "storedBytes": 0, "logGroupClass": "STANDARD"}])
        self.logs.create_log_stream(logGroupName="/ecs/web", logStreamName="a")
        self.assertEqual(self.error(lambda: self.logs.create_log_stream(logGroupName="/nope", logStreamName="a")),
                         {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."})
        self.assertEqual(self.error(lambda: self.logs.get_log_events(logGroupName="/ecs/web", logStreamName="b")),
                         {"Code": "ResourceNotFoundException", "Message": "The specified log stream does not exist."})
        self.logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=7)
        self.assertEqual(self.logs.describe_log_groups(logGroupNamePrefix="/ecs")["logGroups"][0]["retentionInDays"], 7)
        self.assertEqual(self.error(lambda: self.logs.put_retention_policy(logGroupName="/ecs/web", retentionInDays=2))["Code"],
                         "InvalidParameterException")
        self.logs.delete_log_group(logGroupName="/ecs/web")
        self.assertEqual(self.logs.describe_log_groups()["logGroups"], [])

    # PutLogEvents then GetLogEvents both ways, with tokens that repeat at the end.
    def test_put_and_get(self):
        self.logs.create_log_group(logGroupName="g")
        self.logs.create_log_stream(logGroupName="g", logStreamName="s")
        events = [{"timestamp": NOW_MS - 1000 + i, "message": f"line {i}"} for i in range(5)]
        self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=events)
        newest = self.logs.get_log_events(logGroupName="g", logStreamName="s", limit=2)
        self.assertEqual([e["message"] for e in newest["events"]], ["line 3", "line 4"])
        older = self.logs.get_log_events(logGroupName="g", logStreamName="s", limit=2,
                                         nextToken=newest["nextBackwardToken"])
        self.assertEqual([e["message"] for e in older["events"]], ["line 1", "line 2"])
        head = self.logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True, limit=3)
        self.assertEqual([e["message"] for e in head["events"]], ["line 0", "line 1", "line 2"])
        rest = self.logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                                        nextToken=head["nextForwardToken"])
        self.assertEqual([e["message"] for e in rest["events"]], ["line 3", "line 4"])
        end = self.logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True,
                                       nextToken=rest["nextForwardToken"])
        self.assertEqual(end["events"], [])
        self.assertEqual(end["nextForwardToken"], rest["nextForwardToken"])
        self.assertEqual(head["events"][0]["ingestionTime"], NOW_MS)
        streams = self.logs.describe_log_streams(logGroupName="g")["logStreams"]
        self.assertEqual((streams[0]["firstEventTimestamp"], streams[0]["lastEventTimestamp"]),
                         (NOW_MS - 1000, NOW_MS - 996))
        self.assertEqual(self.error(lambda: self.logs.put_log_events(
            logGroupName="g", logStreamName="s",
            logEvents=[{"timestamp": NOW_MS, "message": "b"}, {"timestamp": NOW_MS - 5, "message": "a"}])),
            {"Code": "InvalidParameterException",
             "Message": "Log events in a single PutLogEvents request must be in chronological order."})
        old = self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": NOW_MS - 15 * 86400000, "message": "ancient"},
            {"timestamp": NOW_MS - 15 * 86400000 + 1, "message": "ancient too"}])
        self.assertEqual(old["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 1})
        new = self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": NOW_MS, "message": "now"},
            {"timestamp": NOW_MS + 3 * 3600000, "message": "future"}])
        self.assertEqual(new["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 1})
        self.assertEqual(self.error(lambda: self.logs.put_log_events(
            logGroupName="g", logStreamName="s", logEvents=[
                {"timestamp": NOW_MS - 2 * 86400000, "message": "a"}, {"timestamp": NOW_MS, "message": "b"}])),
            {"Code": "InvalidParameterException",
             "Message": "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."})

    # FilterLogEvents: terms, phrases, ?OR, -exclusion, JSON patterns; interleaved by time.
    def test_filter(self):
        self.logs.create_log_group(logGroupName="g")
        for stream in ["a", "b"]:
            self.logs.create_log_stream(logGroupName="g", logStreamName=stream)
        lines = {"a": ['ERROR disk full', 'INFO started', '{"level": "error", "latency": 250, "user": "ada"}'],
                 "b": ['WARN slow request', 'ERROR "quoted thing" here', '{"level": "info", "latency": 20}']}
        for offset, stream in enumerate(["a", "b"]):
            self.logs.put_log_events(logGroupName="g", logStreamName=stream, logEvents=[
                {"timestamp": NOW_MS - 100 + 2 * i + offset, "message": m} for i, m in enumerate(lines[stream])])

        def messages(pattern, **kwargs):
            out = self.logs.filter_log_events(logGroupName="g", filterPattern=pattern, **kwargs)
            return [e["message"] for e in out["events"]]
        self.assertEqual(messages("ERROR"), ["ERROR disk full", 'ERROR "quoted thing" here'])
        self.assertEqual(messages('"disk full"'), ["ERROR disk full"])
        self.assertEqual(messages("?WARN ?INFO"), ["WARN slow request", "INFO started"])
        self.assertEqual(messages("ERROR -disk"), ['ERROR "quoted thing" here'])
        self.assertEqual(messages('{ $.latency > 100 }'), [lines["a"][2]])
        self.assertEqual(messages('{ $.level = "err*" && $.user = ada }'), [lines["a"][2]])
        self.assertEqual(messages('{ $.level = info || $.latency >= 250 }'), [lines["a"][2], lines["b"][2]])
        self.assertEqual(messages("", logStreamNames=["b"]), lines["b"])
        page = self.logs.filter_log_events(logGroupName="g", limit=4)
        self.assertEqual(len(page["events"]), 4)
        rest = self.logs.filter_log_events(logGroupName="g", nextToken=page["nextToken"])
        self.assertEqual(len(rest["events"]), 2)
        self.assertNotIn("nextToken", rest)
        self.assertEqual(self.error(lambda: messages("{ $.latency > }"))["Code"], "InvalidParameterException")


class ContainerLogsTest(unittest.TestCase):
    # A real task's stdout and stderr arrive line by line in <prefix>/<container>/<task id>.
    def test_task_output_in_awslogs_stream(self):
        with Understudy(BINARY) as emulator:
            ecs = emulator.client("ecs")
            logs = emulator.client("logs")
            ecs.create_cluster(clusterName="web")
            logs.create_log_group(logGroupName="/ecs/job")
            ecs.register_task_definition(family="job", containerDefinitions=[{
                "name": "main", "image": "local/job:1", "memory": 64,
                "command": ["/bin/sh", "-c", "echo first; echo second >&2; printf 'no newline'"],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/ecs/job", "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "job"}}}])
            arn = ecs.run_task(cluster="web", taskDefinition="job")["tasks"][0]["taskArn"]
            status, answer = emulator.post("/_understudy/wait", {
                "until": {"ecsTask": {"cluster": "web", "task": arn, "lastStatus": "STOPPED"}},
                "timeout": "30s"})
            self.assertEqual(status, 200, answer)
            stream = "job/main/" + arn.rsplit("/", 1)[1]
            rc, out, err = emulator.aws("logs", "get-log-events", "--log-group-name", "/ecs/job",
                                        "--log-stream-name", stream, "--start-from-head")
            self.assertEqual(rc, 0, err)
            self.assertEqual(sorted(e["message"] for e in out["events"]), ["first", "no newline", "second"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
