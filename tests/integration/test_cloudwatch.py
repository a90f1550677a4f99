"""CloudWatch end to end: metrics and alarms with boto3 and the AWS CLI (Smithy RPC v2 CBOR,
as botocore 1.43 speaks it), raw JSON 1.0 and query requests, metric overrides, the
alarm state change on the event bus, and ALB metrics from real traffic through a listener
to a fixture app (aws-semantics §3, §7.1). Time is virtual: alarms are evaluated at each
whole minute of the clock.
"""
import datetime
import http.client
import json
import os
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from test_fixture_app import FixtureApp
from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
START = "2026-11-23T08:00:00Z"
T0 = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.timezone.utc)
NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"


def minute(n):
    return T0 + datetime.timedelta(minutes=n)


class CloudWatchTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual", "--start", START).start()
        self.addCleanup(self.emulator.stop)
        self.cw = self.emulator.client("cloudwatch")

    def to(self, t):
        status, answer = self.emulator.post(
            "/_understudy/clock", {"to": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
        self.assertEqual(status, 200, answer)

    def json10(self, op, body):
        status, _, raw = self.emulator.request(
            "POST", "/", json.dumps(body),
            {"Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": "GraniteServiceVersion20100801." + op})
        return status, json.loads(raw)

    def query(self, params):
        status, _, raw = self.emulator.request(
            "POST", "/", urllib.parse.urlencode({"Version": "2010-08-01", **params}),
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        return status, ET.fromstring(raw)

    def test_metrics_in_every_protocol(self):
        # CBOR (boto3), the CLI, JSON 1.0 and query each put one datapoint in minute 1.
        self.cw.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}],
             "Timestamp": minute(1), "Value": 10, "Unit": "Milliseconds"}])
        rc, _, err = self.emulator.aws(
            "cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name", "Latency",
            "--dimensions", "Service=api", "--timestamp", "2026-11-23T08:01:10Z", "--value", "20",
            "--unit", "Milliseconds")
        self.assertEqual(rc, 0, err)
        status, answer = self.json10("PutMetricData", {"Namespace": "App", "MetricData": [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}],
             "Timestamp": minute(1).timestamp() + 20, "Value": 30, "Unit": "Milliseconds"}]})
        self.assertEqual(status, 200, answer)
        status, _ = self.query({
            "Action": "PutMetricData", "Namespace": "App",
            "MetricData.member.1.MetricName": "Latency",
            "MetricData.member.1.Dimensions.member.1.Name": "Service",
            "MetricData.member.1.Dimensions.member.1.Value": "api",
            "MetricData.member.1.Timestamp": "2026-11-23T08:01:30Z",
            "MetricData.member.1.StatisticValues.SampleCount": "2",
            "MetricData.member.1.StatisticValues.Sum": "80",
            "MetricData.member.1.StatisticValues.Minimum": "35",
            "MetricData.member.1.StatisticValues.Maximum": "45",
            "MetricData.member.1.Unit": "Milliseconds"})
        self.assertEqual(status, 200)

        dims = [{"Name": "Service", "Value": "api"}]
        points = self.cw.get_metric_statistics(
            Namespace="App", MetricName="Latency", Dimensions=dims, StartTime=minute(0),
            EndTime=minute(5), Period=60,
            Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])["Datapoints"]
        self.assertEqual(len(points), 1)
        p = points[0]
        self.assertEqual(p["Timestamp"], minute(1))
        self.assertEqual((p["SampleCount"], p["Average"], p["Sum"], p["Minimum"], p["Maximum"]),
                         (5.0, 28.0, 140.0, 10.0, 45.0))
        status, answer = self.json10("GetMetricStatistics", {
            "Namespace": "App", "MetricName": "Latency", "Dimensions": dims,
            "StartTime": minute(0).timestamp(), "EndTime": minute(5).timestamp(), "Period": 300,
            "Statistics": ["Maximum"]})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["Datapoints"][0]["Maximum"], 45.0)
        status, root = self.query({
            "Action": "GetMetricStatistics", "Namespace": "App", "MetricName": "Latency",
            "Dimensions.member.1.Name": "Service", "Dimensions.member.1.Value": "api",
            "StartTime": "2026-11-23T08:00:00Z", "EndTime": "2026-11-23T08:05:00Z",
            "Period": "60", "Statistics.member.1": "Sum"})
        self.assertEqual(status, 200)
        self.assertEqual(root.find(f".//{NS}Datapoints/{NS}member/{NS}Sum").text, "140.0")

        data = self.cw.get_metric_data(StartTime=minute(0), EndTime=minute(5), MetricDataQueries=[
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency",
                                                   "Dimensions": dims},
                                        "Period": 60, "Stat": "Average"}}])["MetricDataResults"]
        self.assertEqual(data[0]["Id"], "m1")
        self.assertEqual(data[0]["Values"], [28.0])
        self.assertEqual(data[0]["Timestamps"], [minute(1)])
        self.assertEqual(data[0]["StatusCode"], "Complete")

        metrics = self.cw.list_metrics(Namespace="App")["Metrics"]
        self.assertEqual(metrics, [{"Namespace": "App", "MetricName": "Latency", "Dimensions": dims}])
        self.assertEqual(self.cw.list_metrics(Dimensions=[{"Name": "Service", "Value": "web"}])["Metrics"], [])

        # Bad input: AWS/ namespaces are AWS's own.
        with self.assertRaises(self.cw.exceptions.ClientError) as caught:
            self.cw.put_metric_data(Namespace="AWS/ECS", MetricData=[{"MetricName": "X", "Value": 1}])
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameterValue")
        self.assertEqual(caught.exception.response["Error"]["Message"],
                         "The value AWS/ECS for parameter Namespace is invalid.")

    def test_alarm_evaluation_history_and_bus_event(self):
        self.cw.put_metric_alarm(
            AlarmName="errors", Namespace="App", MetricName="Errors", Statistic="Sum", Period=60,
            EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
        alarm = self.cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "INSUFFICIENT_DATA")
        self.assertEqual(alarm["StateReason"], "Unchecked: Initial alarm creation")
        self.assertEqual(alarm["AlarmArn"], "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors")
        # Minute 1: missing data is not breaching: OK.
        self.to(minute(1))
        self.assertEqual(self.cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]["StateValue"], "OK")
        for m, value in ((1, 9), (2, 7)):
            self.cw.put_metric_data(Namespace="App", MetricData=[
                {"MetricName": "Errors", "Timestamp": minute(m) + datetime.timedelta(seconds=5),
                 "Value": value}])
        self.to(minute(3) - datetime.timedelta(seconds=1))
        self.assertEqual(self.cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]["StateValue"], "OK")
        self.to(minute(3))
        alarm = self.cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "ALARM")
        self.assertEqual(alarm["StateReason"],
                         "Threshold Crossed: 2 out of the last 3 datapoints [7.0 (23/11/26 08:02:00), "
                         "9.0 (23/11/26 08:01:00)] were greater than the threshold (5.0) (minimum 2 "
                         "datapoints for OK -> ALARM transition).")
        reason_data = json.loads(alarm["StateReasonData"])
        self.assertEqual(reason_data["recentDatapoints"], [9.0, 7.0])
        history = self.cw.describe_alarm_history(AlarmName="errors")["AlarmHistoryItems"]
        self.assertEqual([h["HistorySummary"] for h in history],
                         ["Alarm updated from OK to ALARM", "Alarm updated from INSUFFICIENT_DATA to OK",
                          'Alarm "errors" created'])
        _, bus = self.emulator.get("/_understudy/bus?after=0")
        changes = [e for e in bus["events"] if e["detail-type"] == "CloudWatch Alarm State Change"]
        self.assertEqual(changes[-1]["source"], "aws.cloudwatch")
        self.assertEqual(changes[-1]["resources"], [alarm["AlarmArn"]])
        self.assertEqual(changes[-1]["detail"]["state"]["value"], "ALARM")
        self.assertEqual(changes[-1]["detail"]["previousState"]["value"], "OK")
        self.assertEqual(changes[-1]["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"],
                         {"namespace": "App", "name": "Errors", "dimensions": {}})

        # SetAlarmState from the CLI; the next evaluation decides again.
        rc, _, err = self.emulator.aws("cloudwatch", "set-alarm-state", "--alarm-name", "errors",
                                       "--state-value", "OK", "--state-reason", "testing")
        self.assertEqual(rc, 0, err)
        alarm = self.cw.describe_alarms(StateValue="OK")["MetricAlarms"][0]
        self.assertEqual(alarm["StateReason"], "testing")
        self.to(minute(4))
        self.assertEqual(self.cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]["StateValue"], "ALARM")
        # JSON 1.0 and query see the same alarm.
        status, answer = self.json10("DescribeAlarms", {"AlarmNames": ["errors"]})
        self.assertEqual(answer["MetricAlarms"][0]["StateValue"], "ALARM")
        status, root = self.query({"Action": "DescribeAlarms", "AlarmNames.member.1": "errors"})
        self.assertEqual(root.find(f".//{NS}MetricAlarms/{NS}member/{NS}StateValue").text, "ALARM")

        with self.assertRaises(self.cw.exceptions.ClientError) as caught:
            self.cw.delete_alarms(AlarmNames=["nope"])
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFound")
        with self.assertRaises(self.cw.exceptions.ClientError) as caught:
            self.cw.put_metric_alarm(
                AlarmName="bad", Namespace="App", MetricName="Errors", Statistic="Sum", Period=60,
                EvaluationPeriods=1, DatapointsToAlarm=2, Threshold=5,
                ComparisonOperator="GreaterThanThreshold")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationError")
        # Tags (as Terraform reads them after creating an alarm).
        arn = alarm["AlarmArn"]
        self.cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "web"},
                                                    {"Key": "env", "Value": "ci"}])
        self.cw.untag_resource(ResourceARN=arn, TagKeys=["env"])
        self.assertEqual(self.cw.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "team", "Value": "web"}])
        self.cw.delete_alarms(AlarmNames=["errors"])
        self.assertEqual(self.cw.describe_alarms()["MetricAlarms"], [])
        with self.assertRaises(self.cw.exceptions.ClientError) as caught:
            self.cw.list_tags_for_resource(ResourceARN=arn)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_metric_override(self):
        status, answer = self.emulator.post("/_understudy/metrics", {
            "cluster": "web", "service": "api", "metric": "CPUUtilization", "value": 85,
            "from": "2m", "until": "4m"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["override"]["series"][0]["from"], "2026-11-23T08:02:00.000Z")
        self.to(minute(6))
        points = self.cw.get_metric_statistics(
            Namespace="AWS/ECS", MetricName="CPUUtilization",
            Dimensions=[{"Name": "ClusterName", "Value": "web"}, {"Name": "ServiceName", "Value": "api"}],
            StartTime=minute(0), EndTime=minute(10), Period=60, Statistics=["Average"])["Datapoints"]
        self.assertEqual(sorted((p["Timestamp"], p["Average"], p["Unit"]) for p in points),
                         [(minute(2), 85.0, "Percent"), (minute(3), 85.0, "Percent")])
        status, answer = self.emulator.post("/_understudy/metrics", {"service": "x", "metric": "Disk"})
        self.assertEqual(status, 400)
        self.assertEqual(answer["error"], "InvalidMetricOverride")
        status, answer = self.emulator.post("/_understudy/metrics", {"service": 5, "value": 1})
        self.assertEqual((status, answer["message"]), (400, '"service" must be a string'))
        with self.assertRaises(self.cw.exceptions.ClientError) as caught:
            self.cw.put_metric_alarm(AlarmName="x", Namespace="App", MetricName="M", Period=60,
                                     Statistic="Sum", Threshold=1,
                                     ComparisonOperator="GreaterThanThreshold")
        self.assertEqual(caught.exception.response["Error"]["Message"],
                         "EvaluationPeriods must not be null.")
        status, _, raw = self.emulator.request("DELETE", "/_understudy/metrics")
        self.assertEqual((status, json.loads(raw)), (200, {"cleared": 1}))

    def test_alb_metrics_from_real_traffic(self):
        app = FixtureApp("--name", "web").start()
        self.addCleanup(app.stop)
        elb = self.emulator.client("elbv2")
        lb = elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=8080, VpcId="vpc-local",
                                     TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
        listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                       DefaultActions=[{"Type": "forward",
                                                        "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": "127.0.0.1", "Port": app.port}])
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg["TargetGroupArn"], "id": "127.0.0.1",
                                          "port": app.port, "state": "healthy"}}, "timeout": "5m"})
        self.assertEqual(status, 200, answer)
        _, state = self.emulator.get("/_understudy/elb")
        port = [e["localPort"] for l in state["loadBalancers"] for e in l["listeners"]
                if e["arn"] == listener["ListenerArn"]][0]
        now = datetime.datetime.fromisoformat(self.emulator.get("/_understudy/clock")[1]["now"].replace("Z", "+00:00"))
        start = now.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        self.to(start)
        for _ in range(6):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
        self.to(start + datetime.timedelta(minutes=1))
        tg_dim = tg["TargetGroupArn"].split(":")[-1]
        lb_dim = lb["LoadBalancerArn"].split("loadbalancer/")[1]

        def value(metric, dims, stat="Sum"):
            points = self.cw.get_metric_statistics(
                Namespace="AWS/ApplicationELB", MetricName=metric,
                Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
                StartTime=start, EndTime=start + datetime.timedelta(minutes=1), Period=60,
                Statistics=[stat])["Datapoints"]
            return points[0][stat] if points else None

        both = {"TargetGroup": tg_dim, "LoadBalancer": lb_dim}
        self.assertEqual(value("RequestCount", both), 6.0)
        self.assertEqual(value("RequestCount", {"LoadBalancer": lb_dim}), 6.0)
        self.assertEqual(value("RequestCountPerTarget", {"TargetGroup": tg_dim}), 6.0)
        self.assertEqual(value("HealthyHostCount", both, "Maximum"), 1.0)
        self.assertIsNone(value("HTTPCode_Target_5XX_Count", both))
        self.assertGreater(value("TargetResponseTime", both, "Average"), 0)


class RestartTest(unittest.TestCase):
    """Alarms, datapoints, scalable targets and policies survive a restart on a state dir."""

    def test_state_survives_a_restart(self):
        import tempfile
        with tempfile.TemporaryDirectory() as state:
            args = ("--clock", "virtual", "--start", START, "--state-dir", state)
            with Understudy(BINARY, *args) as emulator:
                cw = emulator.client("cloudwatch")
                cw.put_metric_data(Namespace="App", MetricData=[
                    {"MetricName": "Jobs", "Timestamp": minute(0), "Value": 3}])
                cw.put_metric_alarm(AlarmName="jobs", Namespace="App", MetricName="Jobs",
                                    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanThreshold")
                status, _ = emulator.post("/_understudy/clock", {"to": "2026-11-23T08:01:00Z"})
                self.assertEqual(status, 200)
                self.assertEqual(cw.describe_alarms()["MetricAlarms"][0]["StateValue"], "ALARM")
            with Understudy(BINARY, *args) as emulator:
                cw = emulator.client("cloudwatch")
                alarm = cw.describe_alarms()["MetricAlarms"][0]
                self.assertEqual((alarm["AlarmName"], alarm["StateValue"]), ("jobs", "ALARM"))
                points = cw.get_metric_statistics(
                    Namespace="App", MetricName="Jobs", StartTime=minute(0), EndTime=minute(1),
                    Period=60, Statistics=["Sum"])["Datapoints"]
                self.assertEqual([p["Sum"] for p in points], [3.0])
                history = cw.describe_alarm_history(AlarmName="jobs")["AlarmHistoryItems"]
                self.assertEqual(history[0]["HistorySummary"], "Alarm updated from INSUFFICIENT_DATA to ALARM")


@unittest.skipUnless(os.environ.get("UNDERSTUDY_FIXTURE_APP"), "needs the fixture app")
class DeploymentAlarmTest(unittest.TestCase):
    """deploymentConfiguration.alarms: an alarm going to ALARM fails the deployment in
    progress and rolls it back (aws-semantics §2.7)."""

    def test_alarm_rolls_back_a_deployment(self):
        app = os.environ["UNDERSTUDY_FIXTURE_APP"]
        with Understudy(BINARY, "--clock", "virtual", "--start", START) as emulator:
            ecs = emulator.client("ecs")
            cw = emulator.client("cloudwatch")
            cw.put_metric_alarm(AlarmName="api-5xx", Namespace="App", MetricName="Errors",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
            ecs.create_cluster(clusterName="web")
            ecs.register_task_definition(family="api", containerDefinitions=[
                {"name": "api", "image": "local/fixture", "memory": 64,
                 "command": [app, "--port", "0", "--name", "v1"]}])
            ecs.create_service(
                cluster="web", serviceName="api", taskDefinition="api", desiredCount=1,
                deploymentConfiguration={"alarms": {"alarmNames": ["api-5xx"], "enable": True,
                                                    "rollback": True}})

            def steady():
                status, answer = emulator.post("/_understudy/wait", {
                    "until": {"ecsService": {"cluster": "web", "service": "api"}}, "timeout": "10m"})
                self.assertEqual(status, 200, answer)
                return ecs.describe_services(cluster="web", services=["api"])["services"][0]

            first = steady()["deployments"][0]["id"]
            failed = ecs.update_service(cluster="web", service="api",
                                        forceNewDeployment=True)["service"]["deployments"][0]["id"]
            self.assertNotEqual(failed, first)
            # The alarm goes off while the new deployment is in progress.
            cw.set_alarm_state(AlarmName="api-5xx", StateValue="ALARM", StateReason="errors")
            service = steady()
            self.assertEqual(service["deployments"][0]["id"], first)
            messages = [e["message"] for e in service["events"]]
            self.assertIn(f"(service api) (deployment {failed}) deployment failed: alarm detected.",
                          messages)
            self.assertIn(f"(service api) rolling back to deployment {first}.", messages)
            _, bus = emulator.get("/_understudy/bus?after=0")
            failures = [e["detail"] for e in bus["events"]
                        if e["detail-type"] == "ECS Deployment State Change"
                        and e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED"]
            self.assertEqual(failures[0]["deploymentId"], failed)
            self.assertEqual(failures[0]["reason"],
                             "ECS deployment failed: alarm api-5xx is in ALARM state.")


if __name__ == "__main__":
    unittest.main()
