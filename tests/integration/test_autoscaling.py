"""Application Auto Scaling end to end: the real binary, boto3 and the AWS CLI.

The reference policies of aws-semantics §3 on a real ECS service of fixture apps: step
scaling at CPU >= 60 % for 3 one-minute datapoints between 1 and 2 tasks, and target
tracking at 80 % CPU with the alarms AWS creates (3 of 3 above the target, 15 of 15 below
90 % of it). CPU comes from a metric override (a time series on the virtual clock), so the
minute desiredCount changes is asserted exactly; one test drives a scale-out from the CPU
the fixture app really burns, on the real clock.
"""
import datetime
import os
import re
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
APP = os.environ.get("UNDERSTUDY_FIXTURE_APP", "")
START = "2026-11-23T08:00:00Z"
RESOURCE = "service/web/api"
TARGET = {"ServiceNamespace": "ecs", "ResourceId": RESOURCE,
          "ScalableDimension": "ecs:service:DesiredCount"}


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")


class ScalingTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual", "--start", START).start()
        self.addCleanup(self.emulator.stop)
        self.ecs = self.emulator.client("ecs")
        self.scaling = self.emulator.client("application-autoscaling")
        self.cloudwatch = self.emulator.client("cloudwatch")

    def start_service(self):
        self.ecs.create_cluster(clusterName="web")
        self.ecs.register_task_definition(family="api", containerDefinitions=[
            {"name": "api", "image": "local/fixture", "memory": 64, "cpu": 256,
             "command": [APP, "--port", "0", "--name", "api"]}])
        self.ecs.create_service(cluster="web", serviceName="api", taskDefinition="api",
                                desiredCount=1)
        self.wait_steady()

    def wait_steady(self):
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsService": {"cluster": "web", "service": "api"}}, "timeout": "10m"})
        self.assertEqual(status, 200, answer)
        return self.ecs.describe_services(cluster="web", services=["api"])["services"][0]

    def now(self):
        return parse(self.emulator.get("/_understudy/clock")[1]["now"])

    def to(self, t):
        status, answer = self.emulator.post("/_understudy/clock", {"to": iso(t)})
        self.assertEqual(status, 200, answer)

    def next_minute(self):
        """Moves the clock to the next whole minute (past its minute timers) and returns it."""
        now = self.now()
        t = now.replace(second=0) + datetime.timedelta(minutes=1)
        self.to(t)
        return t

    def desired(self):
        return self.ecs.describe_services(cluster="web", services=["api"])["services"][0]["desiredCount"]

    def override(self, series):
        status, answer = self.emulator.post("/_understudy/metrics", {
            "cluster": "web", "service": "api", "metric": "CPUUtilization",
            "series": [{"after": after, "value": value} for after, value in series]})
        self.assertEqual(status, 200, answer)

    def assert_desired_changes_at(self, t0, minute, before, after):
        """desiredCount is `before` one minute ahead of t0 + minute and `after` at it."""
        self.to(t0 + datetime.timedelta(minutes=minute - 1))
        self.assertEqual(self.desired(), before, f"at minute {minute - 1}")
        self.to(t0 + datetime.timedelta(minutes=minute))
        self.assertEqual(self.desired(), after, f"at minute {minute}")

    # aws-semantics §3.3: step scaling, alarms pointed at the policies by the user.
    def test_step_scaling_reference_policy(self):
        self.start_service()
        rc, out, err = self.emulator.aws(
            "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
            "--resource-id", RESOURCE, "--scalable-dimension", "ecs:service:DesiredCount",
            "--min-capacity", "1", "--max-capacity", "2")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out["ScalableTargetARN"],
                         r"^arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/")
        out_arn = self.scaling.put_scaling_policy(
            PolicyName="scale-out", PolicyType="StepScaling", **TARGET,
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity", "Cooldown": 60,
                "MetricAggregationType": "Average",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]})["PolicyARN"]
        self.assertRegex(out_arn, r"^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:"
                                  r"[0-9a-f-]{36}:resource/ecs/service/web/api:policyName/scale-out$")
        in_arn = self.scaling.put_scaling_policy(
            PolicyName="scale-in", PolicyType="StepScaling", **TARGET,
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity", "Cooldown": 60,
                "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": -1}]})["PolicyARN"]
        dims = [{"Name": "ClusterName", "Value": "web"}, {"Name": "ServiceName", "Value": "api"}]
        for name, op, arn in (("cpu-high", "GreaterThanOrEqualToThreshold", out_arn),
                              ("cpu-low", "LessThanThreshold", in_arn)):
            self.cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/ECS", MetricName="CPUUtilization", Dimensions=dims,
                Statistic="Average", Period=60, EvaluationPeriods=3, DatapointsToAlarm=3,
                Threshold=60, ComparisonOperator=op, AlarmActions=[arn])
        policies = self.scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        self.assertEqual({p["PolicyName"]: [a["AlarmName"] for a in p["Alarms"]] for p in policies},
                         {"scale-out": ["cpu-high"], "scale-in": ["cpu-low"]})
        t0 = self.next_minute()
        # CPU 10 % for 2 minutes, 85 % from minute 2 to minute 8, then 20 %.
        self.override([("0s", 10), ("2m", 85), ("8m", 20)])
        # The datapoints of minutes 2, 3 and 4 are in at minute 5: 3 of 3 >= 60 %.
        self.assert_desired_changes_at(t0, 5, 1, 2)
        alarm = self.cloudwatch.describe_alarms(AlarmNames=["cpu-high"])["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "ALARM")
        self.assertRegex(alarm["StateReason"],
                         r"^Threshold Crossed: 3 out of the last 3 datapoints \[85\.0 \(23/11/26 "
                         r"\d\d:\d\d:00\), 85\.0 \(.*\), 85\.0 \(.*\)\] were greater than or equal "
                         r"to the threshold \(60\.0\) \(minimum 3 datapoints for OK -> ALARM "
                         r"transition\)\.$")
        service = self.wait_steady()  # the scheduler starts the second task for real
        self.assertEqual(service["runningCount"], 2)
        # Minutes 8, 9 and 10 are below 60 %: in at minute 11.
        self.assert_desired_changes_at(t0, 11, 2, 1)
        self.assertEqual(self.wait_steady()["runningCount"], 1)

        activities = self.scaling.describe_scaling_activities(
            ServiceNamespace="ecs", ResourceId=RESOURCE)["ScalingActivities"]
        self.assertEqual([(a["Description"], a["Cause"], a["StatusCode"], a["StatusMessage"])
                          for a in activities], [
            ("Setting desired count to 1.",
             "monitor alarm cpu-low in state ALARM triggered policy scale-in", "Successful",
             "Successfully set desired count to 1. Change successfully fulfilled by ecs."),
            ("Setting desired count to 2.",
             "monitor alarm cpu-high in state ALARM triggered policy scale-out", "Successful",
             "Successfully set desired count to 2. Change successfully fulfilled by ecs."),
        ])
        # At max capacity the alarm, still in ALARM, did not scale: a not scaled activity.
        not_scaled = self.scaling.describe_scaling_activities(
            ServiceNamespace="ecs", IncludeNotScaledActivities=True)["ScalingActivities"]
        reasons = [(a["Description"], a["StatusCode"], a["NotScaledReasons"]) for a in not_scaled
                   if "NotScaledReasons" in a]
        self.assertIn(("Attempting to scale due to alarm triggered", "Failed",
                       [{"Code": "AlreadyAtMaxCapacity", "MaxCapacity": 2}]), reasons)
        rc, out, err = self.emulator.aws("application-autoscaling", "describe-scaling-activities",
                                         "--service-namespace", "ecs")
        self.assertEqual(rc, 0, err)
        self.assertEqual([a["Description"] for a in out["ScalingActivities"]],
                         ["Setting desired count to 1.", "Setting desired count to 2."])
        # The decisions are in the journal.
        _, journal = self.emulator.get("/_understudy/journal?after=0&limit=100000")
        texts = [str(e["detail"]) for e in journal["entries"]]
        self.assertTrue(any("Setting desired count to 2." in t for t in texts))

    # aws-semantics §3.2: target tracking at 80 %, its managed alarms, proportional scaling.
    def test_target_tracking_reference_policy(self):
        self.start_service()
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
        rc, out, err = self.emulator.aws(
            "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
            "--resource-id", RESOURCE, "--scalable-dimension", "ecs:service:DesiredCount",
            "--policy-name", "cpu80", "--policy-type", "TargetTrackingScaling",
            "--target-tracking-scaling-policy-configuration",
            "TargetValue=80,PredefinedMetricSpecification={PredefinedMetricType=ECSServiceAverageCPUUtilization}")
        self.assertEqual(rc, 0, err)
        names = [a["AlarmName"] for a in out["Alarms"]]
        self.assertEqual(len(names), 2)
        self.assertRegex(names[0], r"^TargetTracking-service/web/api-AlarmHigh-[0-9a-f-]{36}$")
        self.assertRegex(names[1], r"^TargetTracking-service/web/api-AlarmLow-[0-9a-f-]{36}$")
        alarms = {a["AlarmName"]: a for a in
                  self.cloudwatch.describe_alarms(AlarmNamePrefix="TargetTracking-")["MetricAlarms"]}
        high, low = alarms[names[0]], alarms[names[1]]
        self.assertEqual((high["Threshold"], high["ComparisonOperator"], high["EvaluationPeriods"],
                          high["DatapointsToAlarm"], high["Period"], high["Statistic"]),
                         (80.0, "GreaterThanThreshold", 3, 3, 60, "Average"))
        self.assertEqual((low["Threshold"], low["ComparisonOperator"], low["EvaluationPeriods"],
                          low["DatapointsToAlarm"]), (72.0, "LessThanThreshold", 15, 15))
        self.assertEqual(high["AlarmActions"], [out["PolicyARN"]])
        self.assertEqual(high["AlarmDescription"],
                         f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {out['PolicyARN']}.")
        self.assertEqual(sorted(d["Name"] for d in high["Dimensions"]), ["ClusterName", "ServiceName"])

        t0 = self.next_minute()
        self.override([("0s", 50), ("2m", 85), ("8m", 20)])
        # 3 of 3 above 80 % at minute 5: ceil(1 x 85 / 80) = 2.
        self.assert_desired_changes_at(t0, 5, 1, 2)
        self.assertEqual(self.wait_steady()["runningCount"], 2)
        # 15 of 15 below 72 % (minutes 8..22) at minute 23: ceil(2 x 20 / 80) = 1.
        self.assert_desired_changes_at(t0, 23, 2, 1)
        activities = self.scaling.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
        self.assertEqual(len(activities), 2)
        self.assertEqual(activities[0]["Description"], "Setting desired count to 1.")
        self.assertEqual(activities[0]["Cause"],
                         f"monitor alarm {names[1]} in state ALARM triggered policy cpu80")
        self.assertEqual(activities[1]["Cause"],
                         f"monitor alarm {names[0]} in state ALARM triggered policy cpu80")
        self.assertEqual(activities[1]["StatusMessage"],
                         "Successfully set desired count to 2. Change successfully fulfilled by ecs.")

        # Deleting the policy deletes its alarms.
        self.scaling.delete_scaling_policy(PolicyName="cpu80", **TARGET)
        self.assertEqual(self.cloudwatch.describe_alarms(AlarmNamePrefix="TargetTracking-")["MetricAlarms"], [])

    # ALBRequestCountPerTarget: the target group's requests per healthy target.
    def test_request_count_per_target(self):
        self.start_service()
        elb = self.emulator.client("elbv2")
        lb = elb.create_load_balancer(Name="web", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=8080, VpcId="vpc-local",
                                     TargetType="ip")["TargetGroups"][0]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        label = (lb["LoadBalancerArn"].split("loadbalancer/")[1] + "/" +
                 tg["TargetGroupArn"].split(":")[-1])
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=5)

        def policy(resource_label):
            return self.scaling.put_scaling_policy(
                PolicyName="requests", PolicyType="TargetTrackingScaling", **TARGET,
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": 100, "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ALBRequestCountPerTarget",
                        "ResourceLabel": resource_label}})

        with self.assertRaises(self.scaling.exceptions.ValidationException):
            policy("app/web/0000000000000000/targetgroup/nope/0000000000000000")
        alarms = policy(label)["Alarms"]
        high = self.cloudwatch.describe_alarms(AlarmNames=[alarms[0]["AlarmName"]])["MetricAlarms"][0]
        self.assertEqual((high["Namespace"], high["MetricName"], high["Statistic"], high["Dimensions"]),
                         ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum",
                          [{"Name": "TargetGroup", "Value": tg["TargetGroupArn"].split(":")[-1]}]))
        t0 = self.next_minute()
        status, answer = self.emulator.post("/_understudy/metrics", {
            "targetGroup": tg["TargetGroupArn"], "value": 250})
        self.assertEqual(status, 200, answer)
        # 3 of 3 above 100 at minute 3: ceil(1 x 250 / 100) = 3.
        self.assert_desired_changes_at(t0, 3, 1, 3)

    # aws-semantics §2.6: scale-in is suspended while a deployment is in progress.
    def test_scale_in_waits_for_deployments(self):
        self.start_service()
        self.ecs.update_service(cluster="web", service="api", desiredCount=2)
        self.wait_steady()
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
        self.scaling.put_scaling_policy(
            PolicyName="cpu80", PolicyType="TargetTrackingScaling", **TARGET,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 80, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        # A revision whose health check keeps failing (10 times 5 minutes before the task
        # counts as unhealthy) keeps its deployment in progress.
        self.ecs.register_task_definition(family="api", containerDefinitions=[
            {"name": "api", "image": "local/fixture", "memory": 64, "cpu": 256,
             "command": [APP, "--port", "0", "--name", "v2"],
             "healthCheck": {"command": ["CMD", "/bin/false"], "interval": 300, "retries": 10,
                             "startPeriod": 300, "timeout": 5}}])
        self.ecs.update_service(cluster="web", service="api", taskDefinition="api")
        t0 = self.next_minute()
        self.override([("0s", 20)])
        self.to(t0 + datetime.timedelta(minutes=20))  # AlarmLow is in ALARM from minute 15
        self.assertEqual(self.desired(), 2)
        _, journal = self.emulator.get("/_understudy/journal?after=0&limit=100000")
        self.assertTrue(any(e["detail"].get("notScaled") ==
                            "scale-in is paused while a deployment is in progress"
                            for e in journal["entries"] if isinstance(e["detail"], dict)))

    def test_disable_scale_in_and_suspended_state(self):
        self.start_service()
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=3,
                                              SuspendedState={"DynamicScalingOutSuspended": True})
        target = self.scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
        self.assertEqual(target["SuspendedState"], {"DynamicScalingInSuspended": False,
                                                    "DynamicScalingOutSuspended": True,
                                                    "ScheduledScalingSuspended": False})
        alarms = self.scaling.put_scaling_policy(
            PolicyName="cpu80", PolicyType="TargetTrackingScaling", **TARGET,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 80, "DisableScaleIn": True,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})["Alarms"]
        self.assertEqual(len(alarms), 1)  # no AlarmLow when scale-in is disabled
        t0 = self.next_minute()
        self.override([("0s", 95)])
        self.to(t0 + datetime.timedelta(minutes=6))
        self.assertEqual(self.desired(), 1)  # scale-out suspended
        self.scaling.register_scalable_target(**TARGET, SuspendedState={"DynamicScalingOutSuspended": False})
        self.to(t0 + datetime.timedelta(minutes=7))
        self.assertEqual(self.desired(), 2)  # the alarm, still in ALARM, invokes the policy again

    def test_scheduled_action(self):
        self.start_service()
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
        self.scaling.put_scheduled_action(
            ScheduledActionName="morning", **TARGET, Schedule="cron(30 8 * * ? *)",
            ScalableTargetAction={"MinCapacity": 2, "MaxCapacity": 3})
        action = self.scaling.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"][0]
        self.assertEqual(action["Schedule"], "cron(30 8 * * ? *)")
        self.to(datetime.datetime(2026, 11, 23, 8, 29))
        self.assertEqual(self.desired(), 1)
        self.to(datetime.datetime(2026, 11, 23, 8, 30))
        self.assertEqual(self.desired(), 2)
        target = self.scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
        self.assertEqual((target["MinCapacity"], target["MaxCapacity"]), (2, 3))
        activities = self.scaling.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
        self.assertEqual([(a["Description"], a["Cause"]) for a in activities], [
            ("Setting desired count to 2.", "scheduled action name morning was triggered"),
            ("Setting min capacity to 2 and max capacity to 3",
             "scheduled action name morning was triggered")])

    def test_bad_input(self):
        self.start_service()

        def error(call):
            with self.assertRaises(self.scaling.exceptions.ClientError) as caught:
                call()
            return caught.exception.response["Error"]["Code"], caught.exception.response["Error"]["Message"]

        self.assertEqual(error(lambda: self.scaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/web/nope",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2)),
            ("ValidationException", "ECS service doesn't exist: service/web/nope"))
        self.assertEqual(error(lambda: self.scaling.register_scalable_target(
            **TARGET, MinCapacity=3, MaxCapacity=2)),
            ("ValidationException", "Minimum capacity cannot be greater than maximum capacity"))
        self.assertEqual(error(lambda: self.scaling.put_scaling_policy(
            PolicyName="p", PolicyType="StepScaling", **TARGET,
            StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
                                            "StepAdjustments": [{"ScalingAdjustment": 1}]})),
            ("ObjectNotFoundException",
             "No scalable target registered for service namespace: ecs, resource ID: "
             "service/web/api, scalable dimension: ecs:service:DesiredCount"))
        self.scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
        self.assertEqual(error(lambda: self.scaling.put_scaling_policy(
            PolicyName="p", PolicyType="TargetTrackingScaling", **TARGET,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 50,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}})),
            ("ValidationException",
             "Unsupported metric type DynamoDBReadCapacityUtilization for service namespace ecs"))
        self.assertEqual(error(lambda: self.scaling.put_scaling_policy(
            PolicyName="p", PolicyType="TargetTrackingScaling", **TARGET,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 50,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget"}})),
            ("ValidationException",
             "ResourceLabel must be specified for predefined metric type ALBRequestCountPerTarget"))
        self.assertEqual(error(lambda: self.scaling.delete_scaling_policy(PolicyName="p", **TARGET)),
                         ("ObjectNotFoundException",
                          "No scaling policy found for service namespace: ecs, resource ID: "
                          "service/web/api, scalable dimension: ecs:service:DesiredCount, policy "
                          "name: p"))
        arn = self.scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]["ScalableTargetARN"]
        self.scaling.tag_resource(ResourceARN=arn, Tags={"team": "web", "env": "ci"})
        self.scaling.untag_resource(ResourceARN=arn, TagKeys=["env"])
        self.assertEqual(self.scaling.list_tags_for_resource(ResourceARN=arn)["Tags"], {"team": "web"})
        self.scaling.deregister_scalable_target(**TARGET)
        self.assertEqual(error(lambda: self.scaling.list_tags_for_resource(ResourceARN=arn))[0],
                         "ResourceNotFoundException")
        self.assertEqual(error(lambda: self.scaling.deregister_scalable_target(**TARGET)),
                         ("ObjectNotFoundException",
                          "No scalable target found for service namespace: ecs, resource ID: "
                          "service/web/api, scalable dimension: ecs:service:DesiredCount"))
        self.assertEqual(self.scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"], [])


@unittest.skipUnless(APP, "needs the fixture app")
class RealLoadTest(unittest.TestCase):
    """Measured CPU, no override: the fixture app burns CPU and the service scales out."""

    def test_real_cpu_burn_scales_out(self):
        with Understudy(BINARY, "--clock", "real") as emulator:
            ecs = emulator.client("ecs")
            scaling = emulator.client("application-autoscaling")
            cloudwatch = emulator.client("cloudwatch")
            ecs.create_cluster(clusterName="web")
            # 0.25 vCPU reserved; the app burns half a CPU from the start: about 200 %.
            ecs.register_task_definition(family="api", containerDefinitions=[
                {"name": "api", "image": "local/fixture", "memory": 64, "cpu": 256,
                 "command": [APP, "--port", "0", "--name", "api", "--cpu-burn", "50"]}])
            ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=1)
            scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
            arn = scaling.put_scaling_policy(
                PolicyName="burn", PolicyType="StepScaling", **TARGET,
                StepScalingPolicyConfiguration={
                    "AdjustmentType": "ChangeInCapacity",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]})["PolicyARN"]
            cloudwatch.put_metric_alarm(
                AlarmName="burn", Namespace="AWS/ECS", MetricName="CPUUtilization",
                Dimensions=[{"Name": "ClusterName", "Value": "web"}, {"Name": "ServiceName", "Value": "api"}],
                Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=50,
                ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])
            # Up to two whole minutes of real time: the first reading only starts the count.
            status, _, raw = emulator.request(
                "POST", "/_understudy/wait",
                {"until": {"cloudwatchAlarm": {"alarm": "burn", "state": "ALARM"}}, "timeout": "190s"},
                {"Content-Type": "application/json"}, timeout=200)
            self.assertEqual(status, 200, raw)
            now = datetime.datetime.now(datetime.timezone.utc)  # the real clock
            stats = cloudwatch.get_metric_statistics(
                Namespace="AWS/ECS", MetricName="CPUUtilization",
                Dimensions=[{"Name": "ClusterName", "Value": "web"}, {"Name": "ServiceName", "Value": "api"}],
                StartTime=now - datetime.timedelta(minutes=10),
                EndTime=now + datetime.timedelta(minutes=1),
                Period=60, Statistics=["Maximum"])["Datapoints"]
            self.assertTrue(any(p["Maximum"] > 50 for p in stats), stats)
            service = ecs.describe_services(cluster="web", services=["api"])["services"][0]
            self.assertEqual(service["desiredCount"], 2)
            activity = scaling.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"][0]
            self.assertEqual(activity["Cause"], "monitor alarm burn in state ALARM triggered policy burn")


if __name__ == "__main__":
    unittest.main()
