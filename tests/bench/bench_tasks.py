#!/usr/bin/env python3
"""ECS task start-up and idle-cost benchmark against the real binary.

Prints, for tasks whose container is `/bin/sleep` (so the app's own boot is not counted):
  - RunTask -> RUNNING latency over N single-task runs (median and p90), measured from
    sending RunTask to the ecsTask wait answering RUNNING (two loopback round trips
    included);
  - the wall time for 100 tasks (10 RunTask calls of count=10) to all be RUNNING;
  - the emulator's own CPU use while 50 tasks idle, over a 10 s window.
Targets (issue: ECS tasks): median < 10 ms, 100 tasks < 2 s, idle < 2 % of one core.
No peer runs real processes for ECS, so the figures stand beside the targets.

    python3 tests/bench/bench_tasks.py --binary build/understudy [--runs 50]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

TARGET = "AmazonEC2ContainerServiceV20141113."


class Client:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def ecs(self, op, body):
        req = urllib.request.Request(self.endpoint + "/", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/x-amz-json-1.1",
                                              "X-Amz-Target": TARGET + op})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def wait(self, task, status="RUNNING"):
        body = {"until": {"ecsTask": {"cluster": "bench", "task": task, "lastStatus": status}}, "timeout": "60s"}
        req = urllib.request.Request(self.endpoint + "/_understudy/wait", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=90) as r:
            answer = json.loads(r.read())
        assert answer["met"], answer


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    proc = subprocess.Popen([args.binary, "serve", "--port", "0", "--log-level", "warn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        client = Client(proc.stdout.readline().strip().rsplit(" ", 1)[1])
        client.ecs("CreateCluster", {"clusterName": "bench"})
        client.ecs("RegisterTaskDefinition", {"family": "sleep", "containerDefinitions": [
            {"name": "main", "image": "local/sleep", "memory": 16, "command": ["/bin/sleep", "600"],
             "stopTimeout": 2}]})
        latencies = []
        for _ in range(args.runs):
            start = time.perf_counter()
            arn = client.ecs("RunTask", {"cluster": "bench", "taskDefinition": "sleep"})["tasks"][0]["taskArn"]
            client.wait(arn)
            latencies.append((time.perf_counter() - start) * 1000)
            client.ecs("StopTask", {"cluster": "bench", "task": arn})
            client.wait(arn, "STOPPED")
        latencies.sort()
        start = time.perf_counter()
        arns = []
        for _ in range(10):
            arns += [t["taskArn"] for t in client.ecs("RunTask", {"cluster": "bench", "taskDefinition": "sleep",
                                                                  "count": 10})["tasks"]]
        for arn in arns:
            client.wait(arn)
        hundred_s = time.perf_counter() - start
        for arn in arns[50:]:
            client.ecs("StopTask", {"cluster": "bench", "task": arn})
        for arn in arns[50:]:
            client.wait(arn, "STOPPED")
        before = cpu_seconds(proc.pid)
        time.sleep(10)  # the measurement window
        idle_pct = (cpu_seconds(proc.pid) - before) / 10 * 100
        for arn in arns[:50]:
            client.ecs("StopTask", {"cluster": "bench", "task": arn})
    finally:
        proc.terminate()
        proc.wait(30)
    median = statistics.median(latencies)
    p90 = latencies[max(0, int(len(latencies) * 0.9) - 1)]
    print(f"{'':40}{'understudy':>12}{'target':>10}")
    print(f"{'RunTask -> RUNNING, median (ms)':40}{median:>12.2f}{'< 10':>10}")
    print(f"{'RunTask -> RUNNING, p90 (ms)':40}{p90:>12.2f}{'':>10}")
    print(f"{'100 tasks RUNNING (s)':40}{hundred_s:>12.2f}{'< 2':>10}")
    print(f"{'idle CPU with 50 tasks (% of a core)':40}{idle_pct:>12.2f}{'< 2':>10}")
    ok = median < 10 and hundred_s < 2 and idle_pct < 2
    print("targets:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
