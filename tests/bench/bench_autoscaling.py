#!/usr/bin/env python3
"""Auto scaling benchmark against the real binary.

Prints:
  - the wall time of a 2-hour virtual load profile: an ECS service of real tasks
    (`/bin/sleep`) with a target-tracking policy at 60 % CPU between 1 and 4 tasks, CPU
    overridden to 30 % for 10 minutes, 90 % for an hour, then 20 %; the whole profile is
    one POST /_understudy/clock {"advance": "2h"}, during which it scales out, holds and
    scales in (the activities are printed);
  - the emulator's CPU time per minute of clock time with 100 running service tasks
    (measured over 60 virtual minutes): an upper bound on what the metric collection
    costs each minute, as it includes the scheduler's ticks and alarm evaluation; divided
    by 60 s it is the share of a core collection takes on the real clock.
Targets (issue: service auto scaling): profile < 5 s wall; collection for 100 tasks < 1 %
of a core.

    python3 tests/bench/bench_autoscaling.py --binary build/understudy
"""
import argparse
import json
import os
import subprocess
import time
import urllib.request

import boto3
from botocore.config import Config

TARGET = {"ServiceNamespace": "ecs", "ResourceId": "service/bench/api",
          "ScalableDimension": "ecs:service:DesiredCount"}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Emulator:
    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", "0", "--clock", "virtual", "--start",
             "2026-11-23T08:00:00Z", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.endpoint = line.strip().rsplit(" ", 1)[1]

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1}))

    def post(self, path, body, timeout=600):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def service(self, count):
        ecs = self.client("ecs")
        ecs.create_cluster(clusterName="bench")
        ecs.register_task_definition(family="api", containerDefinitions=[
            {"name": "api", "image": "local/sleep", "memory": 16, "cpu": 64,
             "command": ["/bin/sleep", "100000"]}])
        ecs.create_service(cluster="bench", serviceName="api", taskDefinition="api",
                           desiredCount=count)
        answer = self.post("/_understudy/wait", {
            "until": {"ecsService": {"cluster": "bench", "service": "api"}}, "timeout": "30m"})
        assert answer["met"], answer
        return ecs

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def profile(binary):
    emulator = Emulator(binary)
    try:
        ecs = emulator.service(1)
        scaling = emulator.client("application-autoscaling")
        scaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=4)
        scaling.put_scaling_policy(
            PolicyName="cpu60", PolicyType="TargetTrackingScaling", **TARGET,
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        emulator.post("/_understudy/metrics", {
            "cluster": "bench", "service": "api", "metric": "CPUUtilization",
            "series": [{"after": "0s", "value": 30}, {"after": "10m", "value": 90},
                       {"after": "70m", "value": 20}]})
        started = time.monotonic()
        emulator.post("/_understudy/clock", {"advance": "2h"})
        wall = time.monotonic() - started
        activities = scaling.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
        final = ecs.describe_services(cluster="bench", services=["api"])["services"][0]
        print(f"2-hour virtual profile: {wall:.2f} s wall (target < 5 s); "
              f"{len(activities)} scaling activities, desiredCount now {final['desiredCount']}")
        for a in reversed(activities):
            print(f"  {a['StartTime']:%H:%M:%S}  {a['Description']}")
    finally:
        emulator.stop()


def collection(binary, tasks):
    emulator = Emulator(binary)
    try:
        emulator.service(tasks)
        before = cpu_seconds(emulator.proc.pid)
        started = time.monotonic()
        emulator.post("/_understudy/clock", {"advance": "60m"})
        wall = time.monotonic() - started
        spent = cpu_seconds(emulator.proc.pid) - before
        per_minute = spent / 60
        print(f"{tasks} running tasks, 60 virtual minutes: {spent:.2f} s CPU in {wall:.2f} s wall; "
              f"{per_minute * 1000:.1f} ms CPU per minute of clock time = "
              f"{per_minute / 60 * 100:.3f} % of a core on the real clock (upper bound; target < 1 %)")
    finally:
        emulator.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    profile(args.binary)
    collection(args.binary, args.tasks)


if __name__ == "__main__":
    main()
