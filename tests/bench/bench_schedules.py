#!/usr/bin/env python3
"""A 30-day virtual run with 10 schedules: EventBridge rules and Scheduler schedules firing in
virtual time, each firing delivered to a CloudWatch Logs group (a real SQLite write, a
journal entry and a recorded delivery per firing).

Prints the wall time of one `POST /_understudy/clock {"advance": "720h"}` and the firings
delivered, for two mixes:
  - typical: 5 rules and 5 schedules from every 5 minutes to nightly (~25 000 firings);
  - busy: 10 rules at rate(1 minute) (432 000 firings).
Target (issue: EventBridge): 30 days with 10 schedules in under 5 s wall.

    python3 tests/bench/bench_schedules.py --binary build/understudy [--typical-only]
        [--state-dir-base /dev/shm]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

ACCOUNT = "000000000000"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/bench"
TYPICAL_RULES = ["rate(5 minutes)", "rate(15 minutes)", "rate(1 hour)", "cron(0 3 * * ? *)",
                 "cron(*/10 9-17 ? * MON-FRI *)"]
TYPICAL_SCHEDULES = ["rate(10 minutes)", "rate(2 hours)", "cron(30 2 * * ? *)",
                     "cron(0 8 ? * MON#1 *)", "cron(0/30 * * * ? *)"]


class Client:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def call(self, target, op, body):
        req = urllib.request.Request(self.endpoint + "/", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/x-amz-json-1.1",
                                              "X-Amz-Target": f"{target}.{op}",
                                              "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261123/"
                                                               f"us-east-1/{target_scope(target)}/aws4_request"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def rest(self, method, path, body):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261123/"
                                                               "us-east-1/scheduler/aws4_request"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}")

    def control(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def target_scope(target):
    return {"AWSEvents": "events", "Logs_20140328": "logs"}[target]


def run(binary, rules, schedules, state_dir=None):
    extra = ["--state-dir", state_dir] if state_dir else []
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--log-level", "warn", "--clock", "virtual",
                             "--start", "2026-11-01T00:00:00Z", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = proc.stdout.readline().split()[-1]
        client = Client(endpoint)
        client.call("Logs_20140328", "CreateLogGroup", {"logGroupName": "/bench"})
        for i, expression in enumerate(rules):
            client.call("AWSEvents", "PutRule", {"Name": f"rule-{i}", "ScheduleExpression": expression})
            client.call("AWSEvents", "PutTargets", {"Rule": f"rule-{i}", "Targets": [
                {"Id": "log", "Arn": LOG_GROUP}]})
        for i, expression in enumerate(schedules):
            client.rest("POST", f"/schedules/schedule-{i}", {
                "ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default",
                           "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x",
                           "EventBridgeParameters": {"DetailType": "Tick", "Source": "bench"}}})
        if schedules:
            # Schedule targets put an event on the default bus; one rule logs them.
            client.call("AWSEvents", "PutRule", {"Name": "ticks", "EventPattern": json.dumps({"source": ["bench"]})})
            client.call("AWSEvents", "PutTargets", {"Rule": "ticks", "Targets": [{"Id": "log", "Arn": LOG_GROUP}]})
        started, cpu_before = time.monotonic(), cpu_seconds(proc.pid)
        client.control("/_understudy/clock", {"advance": "720h"})
        wall, cpu = time.monotonic() - started, cpu_seconds(proc.pid) - cpu_before
        count = len(client.control("/_understudy/events/deliveries?limit=100000000")["deliveries"])
        return wall, cpu, count
    finally:
        proc.terminate()
        proc.wait(10)
        if state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--typical-only", action="store_true", help="skip the 432 000-firing mix")
    parser.add_argument("--state-dir-base", help="make each run's state dir under this directory "
                        "(e.g. /dev/shm, to take the disk out of the figure); default: a temporary dir")
    args = parser.parse_args()
    def state_dir(name):
        if not args.state_dir_base:
            return None
        path = os.path.join(args.state_dir_base, f"bench-schedules-{os.getpid()}-{name}")
        shutil.rmtree(path, ignore_errors=True)
        return path

    wall, cpu, count = run(args.binary, TYPICAL_RULES, TYPICAL_SCHEDULES, state_dir("typical"))
    print(f"typical: 5 rules + 5 schedules, 30 virtual days: {wall:.2f} s wall ({cpu:.2f} s CPU), "
          f"{count} deliveries ({count / wall:.0f}/s)  target < 5 s")
    if not args.typical_only:
        wall, cpu, count = run(args.binary, ["rate(1 minute)"] * 10, [], state_dir("busy"))
        print(f"busy: 10 rules at rate(1 minute), 30 virtual days: {wall:.2f} s wall ({cpu:.2f} s CPU), "
              f"{count} deliveries ({count / wall:.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
