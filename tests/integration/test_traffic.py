"""Traffic generators end to end: POST /_understudy/traffic sends real HTTP through a
real ALB listener to real fixture-app processes, timed by the virtual clock.

Pinned here: exact counts (rate × duration requests, each answered before virtual time
moves on), status counts when the targets answer 503, connection errors when the
target is down, stopping, one-off requests through POST /_understudy/http, the
trafficDone wait, the journal (start, totals; not single requests), and the control
API's errors. The ALB side is driven through boto3 like a team's code would.
"""
import os
import re
import subprocess
import tempfile
import unittest

from test_alb_traffic import AlbTrafficCase, free_port, refused
from understudy_process import binary_from_env

BINARY = binary_from_env()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class TrafficCase(AlbTrafficCase):
    def start_traffic(self, **spec):
        status, answer = self.emulator.post("/_understudy/traffic", spec)
        self.assertEqual(status, 200, answer)
        return answer

    def wait_done(self, name, timeout="1h"):
        status, answer = self.emulator.post(
            "/_understudy/wait", {"until": {"trafficDone": {"name": name}}, "timeout": timeout})
        self.assertEqual(status, 200, answer)
        return self.emulator.get("/_understudy/traffic/" + name)[1]

    def healthy_stack(self, *apps, name="web"):
        lb, tg, listener = self.stack(name, HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=2,
                                         HealthyThresholdCount=2)
        self.register(tg, *apps)
        for app in apps:
            self.await_state(tg, app.port, "healthy")
        return lb, tg, listener


class CountsTest(TrafficCase):
    def control_of(self, app):
        import http.client
        import json
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
        try:
            conn.request("GET", "/_control")
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def test_rate_times_duration_requests_all_answered(self):
        a, b = self.app("a"), self.app("b")
        self.healthy_stack(a, b)
        before = self.now()
        started = self.start_traffic(name="t1", loadBalancer="web", port=80, rate=20,
                                     duration="2m", paths=["/", "/echo/users"], concurrency=4)
        self.assertEqual(started["planned"], 2400)
        self.assertEqual(started["state"], "running")
        stats = self.wait_done("t1")
        # Exactly rate × duration, every one answered 200 by the apps.
        self.assertEqual(stats["state"], "done")
        self.assertEqual(stats["total"], 2400)
        self.assertEqual(stats["sent"], 2400)
        self.assertEqual(stats["responses"], 2400)
        self.assertEqual(stats["status"], {"200": 2400})
        self.assertEqual(stats["errors"], 0)
        self.assertIsNone(stats["firstError"])
        # The run ends when its duration is over, not before.
        self.assert_elapsed(before, 120)
        self.assertEqual(stats["finishedAt"], stats["endsAt"])
        # Per virtual second: 20 each.
        self.assertEqual(len(stats["perSecond"]), 120)
        self.assertTrue(all(s["total"] == 20 and s["errors"] == 0 for s in stats["perSecond"]))
        lat = stats["latency"]
        self.assertEqual(lat["count"], 2400)
        self.assertTrue(0 < lat["p50Ms"] <= lat["p90Ms"] <= lat["p99Ms"] <= lat["maxMs"], lat)
        # Both apps served (the ALB's round robin), health checks aside.
        for app in (a, b):
            status, control = self.control_of(app)
            self.assertEqual(status, 200)
            self.assertGreater(control["requests"], 1000)

    def test_targets_answering_503_are_counted_as_errors(self):
        app = self.app("sick")
        lb, tg, listener = self.healthy_stack(app)
        self.start_traffic(name="sick", loadBalancer="web", rate=10, duration="30s",
                           paths=["/status/503"])
        stats = self.wait_done("sick")
        self.assertEqual(stats["total"], 300)
        self.assertEqual(stats["status"], {"503": 300})
        self.assertEqual(stats["5xx"], 300)
        self.assertEqual(stats["errors"], 300)
        self.assertEqual(stats["firstError"]["kind"], "status")
        self.assertEqual(stats["firstError"]["status"], 503)
        self.assertEqual(stats["firstError"]["path"], "/status/503")
        self.assertEqual(stats["firstError"]["at"], stats["startedAt"])

    def test_weighted_paths_are_drawn_from_the_seed(self):
        app = self.app("w")
        self.healthy_stack(app)
        self.start_traffic(name="w", loadBalancer="web", rate=10, duration="20s",
                           paths=[{"path": "/status/200", "weight": 3},
                                  {"path": "/status/404", "weight": 1}])
        first = self.wait_done("w")["status"]
        self.assertEqual(sum(first.values()), 200)
        self.assertGreater(first["200"], first["404"])
        # The same name draws the same sequence again (the seed's "traffic" stream).
        self.start_traffic(name="w", loadBalancer="web", rate=10, duration="20s",
                           paths=[{"path": "/status/200", "weight": 3},
                                  {"path": "/status/404", "weight": 1}])
        self.assertEqual(self.wait_done("w")["status"], first)


class FailuresTest(TrafficCase):
    def test_target_down_gives_connection_errors(self):
        port = free_port()
        self.assertTrue(refused(port))
        self.start_traffic(name="down", url=f"http://127.0.0.1:{port}", rate=5, duration="10s")
        stats = self.wait_done("down")
        self.assertEqual(stats["total"], 50)
        self.assertEqual(stats["connectionErrors"], 50)
        self.assertEqual(stats["errors"], 50)
        self.assertEqual(stats["responses"], 0)
        self.assertEqual(stats["firstError"]["kind"], "connectionError")
        self.assertIn("refused", stats["firstError"]["message"])

    def test_alb_without_healthy_targets_answers_503_or_502(self):
        # The only target is killed: the ALB answers with its own error page.
        app = self.app("gone")
        self.healthy_stack(app)
        self.kill(app)
        self.start_traffic(name="gone", loadBalancer="web", rate=2, duration="10s")
        stats = self.wait_done("gone")
        self.assertEqual(stats["total"], 20)
        self.assertEqual(stats["errors"], 20)
        self.assertEqual(stats["connectionErrors"], 0)
        self.assertEqual(stats["5xx"], 20, stats["status"])

    def test_request_timeout_in_real_time(self):
        app = self.app("slow")
        self.healthy_stack(app)
        self.start_traffic(name="slow", loadBalancer="web", rate=1, duration="2s",
                           paths=["/delay/3000"], timeout="300ms")
        stats = self.wait_done("slow")
        self.assertEqual(stats["timeouts"], 2)
        self.assertEqual(stats["errors"], 2)
        self.assertEqual(stats["firstError"]["kind"], "timeout")


class ControlTest(TrafficCase):
    def test_stop_ends_the_run_early(self):
        app = self.app("s")
        self.healthy_stack(app)
        self.start_traffic(name="s", loadBalancer="web", rate=10, duration="1h")
        self.advance("10s")
        status, stopped = self.emulator.post("/_understudy/traffic/s/stop")
        self.assertEqual(status, 200, stopped)
        # "stopping" while the request sent at 10s is still in flight, then "stopped".
        self.assertIn(stopped["state"], ("stopping", "stopped"), stopped)
        # Requests due at 0s, 0.1s, ... 10s have gone out; the rest never will.
        self.assertEqual(stopped["total"], 101)
        self.assertEqual(stopped["notSent"], 36000 - 101)
        stats = self.wait_done("s", timeout="1s")
        self.assertEqual(stats["state"], "stopped")
        _, listed = self.emulator.get("/_understudy/traffic")
        self.assertEqual([g["name"] for g in listed["generators"]], ["s"])
        self.assertNotIn("perSecond", listed["generators"][0])

    def test_one_request_through_the_listener(self):
        app = self.app("one")
        self.healthy_stack(app)
        status, answer = self.emulator.post("/_understudy/http", {
            "loadBalancer": "web", "port": 80, "path": "/echo/x?y=1", "method": "POST",
            "headers": {"X-Test": "1"}, "body": {"a": 1}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["status"], 200)
        self.assertEqual(answer["headers"]["x-app-name"], "one")
        self.assertEqual(answer["json"]["method"], "POST")
        self.assertEqual(answer["json"]["path"], "/echo/x")
        self.assertEqual(answer["json"]["body"], '{"a":1}')
        self.assertEqual(answer["json"]["headers"]["X-Test"], "1")
        self.assertEqual(answer["json"]["headers"]["Content-Type"], "application/json")
        # The Host is the load balancer's DNS name, as a client of the real ALB sends it.
        self.assertRegex(answer["json"]["headers"]["Host"], r"^web-\d+\.us-east-1\.elb\.amazonaws\.com$")
        # No hold is left behind.
        self.assertEqual(self.emulator.get("/_understudy/clock")[1]["holds"], [])

    def test_journal_has_start_and_totals_only(self):
        app = self.app("j")
        self.healthy_stack(app)
        _, before = self.emulator.get("/_understudy/journal?after=0&limit=5000")
        self.start_traffic(name="j", loadBalancer="web", rate=10, duration="5s")
        self.wait_done("j")
        _, after = self.emulator.get(f"/_understudy/journal?after={before['last']}&limit=5000")
        traffic = [e for e in after["entries"] if "traffic" in e["subject"]]
        self.assertEqual([e["subject"] for e in traffic], ["understudy.traffic", "traffic"])
        self.assertEqual(traffic[1]["detail"]["total"], 50)
        self.assertEqual(traffic[1]["detail"]["status"], {"200": 50})
        self.assertEqual(traffic[1]["detail"]["state"], "done")

    def test_errors(self):
        cases = [
            ({"name": "x", "loadBalancer": "web", "rate": 0, "duration": "1m"}, 400,
             "InvalidTrafficRequest",
             "rate: found 0 (number); expected a number of requests per second above 0 and at most 10000"),
            ({"name": "x", "loadBalancer": "web", "rate": 1, "duration": "soon"}, 400,
             "InvalidTrafficRequest",
             'duration: found "soon"; expected a duration longer than 0s such as "90s", "10m" or "1h"'),
            ({"name": "x", "rate": 1, "duration": "1m"}, 400, "InvalidTrafficRequest",
             "the request: found neither loadBalancer nor url; expected a target"),
            ({"name": "x", "loadBalancer": "nope", "rate": 1, "duration": "1m"}, 404,
             "LoadBalancerNotFound", "no load balancer is named nope in account 000000000000, "
             "region us-east-1 (load balancers: none)"),
            ({"name": "x", "loadBalancer": "web", "rate": 1, "duration": "1m", "speed": 2}, 400,
             "InvalidTrafficRequest", 'speed: found an unknown member "speed"; expected only name'),
        ]
        for body, code, error, message in cases:
            status, answer = self.emulator.post("/_understudy/traffic", body)
            self.assertEqual((status, answer["error"]), (code, error), answer)
            self.assertTrue(answer["message"].startswith(message), answer["message"])
        self.stack("web")
        status, answer = self.emulator.post(
            "/_understudy/traffic", {"name": "x", "loadBalancer": "web", "port": 81, "rate": 1,
                                     "duration": "1m"})
        self.assertEqual((status, answer["error"]), (404, "ListenerNotFound"))
        self.assertEqual(answer["message"],
                         "load balancer web has no listener on port 81 (its listeners: 80)")
        status, answer = self.emulator.get("/_understudy/traffic/nope")
        self.assertEqual((status, answer["error"]), (404, "TrafficNotFound"))
        status, answer = self.emulator.post(
            "/_understudy/wait", {"until": {"trafficDone": {"name": "nope"}}, "timeout": "1s"})
        self.assertEqual(status, 400, answer)
        # A running generator's name cannot be reused.
        self.start_traffic(name="r", url=f"http://127.0.0.1:{free_port()}", rate=1, duration="1h")
        status, answer = self.emulator.post(
            "/_understudy/traffic", {"name": "r", "url": "http://127.0.0.1:9", "rate": 1,
                                     "duration": "1m"})
        self.assertEqual((status, answer["error"]), (409, "TrafficAlreadyRunning"))


class ScenarioRunTest(unittest.TestCase):
    """`understudy run` with traffic steps: the example passes, a wrong expectation fails
    with the evidence and exit code 1."""

    def run_scenario(self, path):
        proc = subprocess.run([BINARY, "run", path], capture_output=True, text=True, timeout=280)
        return proc.returncode, proc.stdout, proc.stderr

    def test_example_through_the_alb_passes(self):
        code, out, err = self.run_scenario(os.path.join(ROOT, "scenarios", "examples",
                                                        "traffic-through-alb.json"))
        self.assertEqual(code, 0, out + err)
        self.assertIn("PASS  steps[7] (line 54) traffic steady: total equals 12000 -- got 12000",
                      out)
        self.assertIn("PASS  steps[15] (line 70) traffic maintenance: status[\"503\"] equals 300 "
                      "-- got 300", out)
        self.assertRegex(out, r"PASS  steps\[5\] \(line 49\) ecs.DescribeServices: "
                              r"services\[0\].runningCount equals 2 throughout 5m -- held at every "
                              r"check \(every 1m\) for 5m")

    def test_same_seed_same_journal(self):
        # Counts, statuses and virtual times of every request do not depend on the machine:
        # two runs journal the same (targets are registered once their port accepts, so the
        # ALB's first probe never races an app's start).
        path = os.path.join(ROOT, "scenarios", "examples", "traffic-through-alb.json")
        prints = []
        for _ in range(2):
            code, out, err = self.run_scenario(path)
            self.assertEqual(code, 0, out + err)
            prints.append(re.search(r"Journal: \d+ entries, fingerprint [0-9a-f]{16}", out).group(0))
        self.assertEqual(prints[0], prints[1])

    def test_emails_logs_and_deliveries(self):
        path = os.path.join(ROOT, "scenarios", "examples", "emails-and-logs.json")
        code, out, err = self.run_scenario(path)
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out, r"PASS  steps\[0\] \(line \d+\) emails: count equals 0 throughout "
                              r"1m -- held at every check \(every 15s\) for 1m")
        self.assertRegex(out, r"PASS  steps\[5\] \(line \d+\) emails: count equals 1 at "
                              r"2026-11-23T08:20:00.000Z -- got 1")
        self.assertRegex(out, r"PASS  steps\[\d+\] \(line \d+\) event deliveries: count equals 1 "
                              r"within 1m")
        self.assertNotIn("FAIL ", out)
        # The same file with a body the email does not have fails, showing what is stored.
        with open(path) as f:
            text = f.read().replace('"bodyContains": "Hello Ada"', '"bodyContains": "Hello Bob"')
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=os.path.dirname(path),
                                         prefix="_tmp-") as bad:
            bad.write(text)
            bad.flush()
            code, out, err = self.run_scenario(bad.name)
        self.assertEqual(code, 1, out + err)
        self.assertRegex(out, r'FAIL  steps\[2\] \(line \d+\) emails: count equals 1 -- got 0 '
                              r'\(the store holds 1 messages; newest: \[\{"from":\[\{"address":'
                              r'"noreply@example.org".*"subject":"Reset your password"')

    def test_missing_log_line_shows_the_lines_read(self):
        path = os.path.join(ROOT, "scenarios", "examples", "emails-and-logs.json")
        with open(path) as f:
            text = f.read().replace('"contains": "worker started"}, "count": 1',
                                    '"contains": "worker stopped"}, "count": 1')
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=os.path.dirname(path),
                                         prefix="_tmp-") as bad:
            bad.write(text)
            bad.flush()
            code, out, err = self.run_scenario(bad.name)
        self.assertEqual(code, 1, out + err)
        self.assertRegex(out, r'FAIL  steps\[\d+\] \(line \d+\) logs /app/web: count equals 1 -- '
                              r'got 0 \(2 events read; the last: \["GET /health 200","worker '
                              r'started: 4 processes"\]\)')

    def test_wrong_expectations_fail_with_evidence(self):
        code, out, err = self.run_scenario(os.path.join(HERE, "scenarios", "traffic-failing.json"))
        self.assertEqual(code, 1, out + err)
        self.assertIn('FAIL  steps[2] (line 11) traffic down: errors equals 0 -- got 20 (total 20, '
                      'status {}, errors 20, first error {"at":"2026-11-23T08:00:00.000Z",'
                      '"kind":"connectionError","message":"connection failed: Connection refused",'
                      '"path":"/"})', out)
        self.assertIn("PASS  steps[3] (line 12) traffic down: connectionErrors equals 20", out)
        # Throughout a window: fails at the first check that does not hold, with its instant.
        self.assertIn("FAIL  steps[5] (line 14) traffic slow: total lte 10 throughout 1m -- did "
                      "not hold at 2026-11-23T08:00:20.000Z (10s into the 1m window): got 11", out)
        self.assertIn("FAIL  steps[6] (line 16) http GET http://127.0.0.1:1/: status equals 200 "
                      "-- got 0 (no answer: connectionError: connection failed: Connection "
                      "refused)", out)
        self.assertIn("Scenario traffic-failing: FAILED (2 of 5 expectations held)", out)


if __name__ == "__main__":
    unittest.main()
