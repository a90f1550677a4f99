#!/usr/bin/env python3
"""Rolling deployment benchmark: 10 tasks behind an ALB on the virtual clock.

A service of 10 awsvpc fixture-app tasks behind an ALB target group with the defaults
that make a real deployment slow (300 s deregistration delay, health checks every 30 s,
a 300 s health check grace period) is created, reaches a steady state, and is then updated to a new revision (100 % / 200 %). Prints, for the creation
and the rolling update, the virtual time the clock crossed and the wall time it took.
Target (issue: ECS services): the rolling update of 10 tasks in under 10 s of wall time
with `--clock virtual`. On AWS the same deployment takes at least the 300 s drain plus
the health checks; no peer emulator runs the deployment at all.

    python3 tests/bench/bench_deploy.py --binary build/understudy \\
        --app build/fixtures/app/understudy-fixture-app
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.config import Config


def post(endpoint, path, body):
    req = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def clock_now(endpoint):
    with urllib.request.urlopen(endpoint + "/_understudy/clock", timeout=30) as r:
        now = json.loads(r.read())["now"]
    return datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--app", default="build/fixtures/app/understudy-fixture-app")
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    proc = subprocess.Popen([args.binary, "serve", "--port", "0", "--clock", "virtual",
                             "--log-level", "warn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name="us-east-1")
        config = Config(retries={"max_attempts": 1}, read_timeout=600)
        ecs = session.client("ecs", endpoint_url=endpoint, config=config)
        elb = session.client("elbv2", endpoint_url=endpoint, config=config)
        app = os.path.abspath(args.app)

        def register(name):
            ecs.register_task_definition(
                family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                cpu="256", memory="512", containerDefinitions=[
                    {"name": "api", "image": "local/fixture",
                     "command": [app, "--port", "8080", "--name", name],
                     "portMappings": [{"containerPort": 8080}]}])

        def steady():
            answer = post(endpoint, "/_understudy/wait", {
                "until": {"ecsService": {"cluster": "bench", "service": "api", "steady": True}},
                "timeout": "3h"})
            assert answer["met"], answer

        ecs.create_cluster(clusterName="bench")
        register("v1")
        lb = elb.create_load_balancer(Name="bench", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
        tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=8080, VpcId=lb["VpcId"],
                                     TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        figures = []
        for phase in ("create", "rolling update"):
            virtual_start = clock_now(endpoint)
            wall_start = time.perf_counter()
            if phase == "create":
                ecs.create_service(
                    cluster="bench", serviceName="api", taskDefinition="api", desiredCount=args.tasks,
                    launchType="FARGATE", healthCheckGracePeriodSeconds=300,
                    networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-a"]}},
                    loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "api",
                                    "containerPort": 8080}])
            else:
                register("v2")
                ecs.update_service(cluster="bench", service="api", taskDefinition="api:2")
            steady()
            wall = time.perf_counter() - wall_start
            virtual = (clock_now(endpoint) - virtual_start).total_seconds()
            figures.append((phase, virtual, wall))
        service = ecs.describe_services(cluster="bench", services=["api"])["services"][0]
        assert service["runningCount"] == args.tasks, service
        assert service["taskDefinition"].endswith(":2"), service["taskDefinition"]
    finally:
        proc.terminate()
        proc.wait(60)
    print(f"{args.tasks} tasks, deregistration delay 300 s, grace period 300 s, "
          "health checks every 30 s")
    print(f"{'':28}{'virtual (s)':>14}{'wall (s)':>10}{'target':>10}")
    for phase, virtual, wall in figures:
        target = "< 10" if phase == "rolling update" else ""
        print(f"{phase:28}{virtual:>14.0f}{wall:>10.2f}{target:>10}")
    ok = figures[-1][2] < 10
    print("target:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
