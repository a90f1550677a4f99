#!/usr/bin/env python3
"""RunTask -> RUNNING with the Docker runtime, beside the engine's own `docker run`.

Prints, for a task whose container is the busybox fixture image running `sleep` (so the
app's boot is not counted), over N single-task runs:
  - understudy: RunTask -> RUNNING (from sending RunTask to the ecsTask wait answering
    RUNNING: create, start and inspect in the engine, two loopback round trips), for a
    `bridge` task and for an `awsvpc` task (a pause container first, then the app
    container in its network namespace);
  - the engine itself: `docker run -d <image> sleep 600` wall time (the CLI's own
    round trips included), the nearest peer figure.
Target (issue: Docker runtime): median < 500 ms for a local image.

    fixtures/images/build.sh build/understudy-fixture-app   # the images, once
    python3 tests/bench/bench_docker_runtask.py --binary build/understudy [--runs 20]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request

TARGET = "AmazonEC2ContainerServiceV20141113."
IMAGE = "understudy-fixture/busybox:latest"


class Client:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def ecs(self, op, body):
        req = urllib.request.Request(self.endpoint + "/", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/x-amz-json-1.1",
                                              "X-Amz-Target": TARGET + op})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def wait(self, task, status="RUNNING"):
        body = {"until": {"ecsTask": {"cluster": "bench", "task": task, "lastStatus": status}},
                "timeout": "60s"}
        req = urllib.request.Request(self.endpoint + "/_understudy/wait", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=90) as r:
            answer = json.loads(r.read())
        assert answer["met"], answer


def summary(values):
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.9) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    proc = subprocess.Popen([args.binary, "serve", "--port", "0", "--smtp-port", "off",
                             "--log-level", "warn", "--runtime", "docker"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    figures = {}
    try:
        line = proc.stdout.readline().strip()
        if not line:
            print("understudy did not start with --runtime docker (is an engine running?)")
            return 1
        client = Client(line.rsplit(" ", 1)[1])
        client.ecs("CreateCluster", {"clusterName": "bench"})
        container = {"name": "main", "image": IMAGE, "memory": 32, "stopTimeout": 2,
                     "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]}
        client.ecs("RegisterTaskDefinition", {"family": "bridge", "containerDefinitions": [container]})
        client.ecs("RegisterTaskDefinition", {
            "family": "awsvpc", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512", "containerDefinitions": [container]})
        for family, extra in [("bridge", {}), ("awsvpc", {
                "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}})]:
            latencies = []
            for _ in range(args.runs):
                start = time.perf_counter()
                arn = client.ecs("RunTask", {"cluster": "bench", "taskDefinition": family,
                                             **extra})["tasks"][0]["taskArn"]
                client.wait(arn)
                latencies.append((time.perf_counter() - start) * 1000)
                client.ecs("StopTask", {"cluster": "bench", "task": arn})
                client.wait(arn, "STOPPED")
            figures[family] = summary(latencies)
    finally:
        proc.terminate()
        proc.wait(30)
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(["docker", "run", "-d", "--label", "understudy.bench=1", IMAGE,
                              "sleep", "600"], capture_output=True, text=True, check=True)
        runs.append((time.perf_counter() - start) * 1000)
        subprocess.run(["docker", "rm", "-f", out.stdout.strip()], capture_output=True, check=True)
    figures["docker run"] = summary(runs)
    print(f"{'':46}{'median (ms)':>12}{'p90 (ms)':>10}{'target':>10}")
    print(f"{'understudy RunTask -> RUNNING, bridge':46}{figures['bridge'][0]:>12.1f}"
          f"{figures['bridge'][1]:>10.1f}{'< 500':>10}")
    print(f"{'understudy RunTask -> RUNNING, awsvpc':46}{figures['awsvpc'][0]:>12.1f}"
          f"{figures['awsvpc'][1]:>10.1f}{'< 500':>10}")
    print(f"{'engine: docker run -d (CLI)':46}{figures['docker run'][0]:>12.1f}"
          f"{figures['docker run'][1]:>10.1f}{'':>10}")
    ok = figures["bridge"][0] < 500 and figures["awsvpc"][0] < 500
    print("target:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
