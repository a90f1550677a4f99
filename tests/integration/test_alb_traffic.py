"""ALB traffic end to end: real HTTP through understudy's listeners to real fixture apps.

The control plane is driven by the real AWS CLI and boto3; requests go over real
sockets to the listener's local port (from GET /_understudy/elb) and on to fixture-app
targets started here as subprocesses. AWS behaviour pinned here (aws-semantics §1):
health-check timing and states with their reason codes in virtual time, fail-open,
the ALB's own 502/503 pages, every rule condition, fixed responses, redirects,
weighted forwarding, rule priorities, stickiness, draining that cuts in-flight
requests, listener port mapping across restarts, the access log, and WebSocket.
"""
import base64
import calendar
import datetime
import email.utils
import hashlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import socketserver
import struct
import tempfile
import threading
import unittest

from test_fixture_app import FixtureApp
from understudy_process import Understudy, binary_from_env, wait_until

BINARY = binary_from_env()
START = "2026-11-23T08:00:00Z"
TRACE_ID = re.compile(r"^Root=1-([0-9a-f]{8})-[0-9a-f]{24}$")
ALB_503 = ("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
           "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n")
ALB_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
           "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def header(headers, name):
    """A request header the fixture app echoed, by case-insensitive name."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def app(self):
        return self.headers.get("X-App-Name")

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode()


def send(port, path="/", method="GET", headers=None, body=None, conn=None, timeout=10):
    """One request through a listener; `conn` reuses a keep-alive connection."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        if own:
            conn.close()


class AlbTrafficCase(unittest.TestCase):
    """One understudy on a virtual clock, reset before each test; apps stopped after it."""

    @classmethod
    def setUpClass(cls):
        cls.emulator = Understudy(BINARY, "--clock", "virtual", "--start", START).start()
        cls.elb = cls.emulator.client("elbv2")

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        self.assertEqual(self.emulator.post("/_understudy/reset")[0], 200)

    # --- apps -------------------------------------------------------------------------
    def app(self, name, *args, port="0"):
        app = FixtureApp("--name", name, *args, port=port).start()
        self.addCleanup(self.kill, app)
        return app

    def kill(self, app):
        """Ends an app at once (SIGKILL, by pid). A graceful stop would wait out the
        keep-alive connections the ALB holds to it, or a request still sleeping in it."""
        if app.proc.poll() is None:
            os.kill(app.proc.pid, signal.SIGKILL)
        app.stop()

    # --- control plane ----------------------------------------------------------------
    def stack(self, name="web", port=80, default_actions=None, **tg_args):
        """A load balancer, an ip target group and an HTTP listener forwarding to it."""
        lb = self.elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])[
            "LoadBalancers"][0]
        tg = self.target_group(name + "-tg", **tg_args)
        listener = self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
            DefaultActions=default_actions or [{"Type": "forward",
                                                "TargetGroupArn": tg["TargetGroupArn"]}],
        )["Listeners"][0]
        return lb, tg, listener

    def target_group(self, name, **args):
        settings = {"Protocol": "HTTP", "Port": 8080, "VpcId": "vpc-local", "TargetType": "ip",
                    "HealthCheckPath": "/health"}
        settings.update(args)
        return self.elb.create_target_group(Name=name, **settings)["TargetGroups"][0]

    def register(self, tg, *apps):
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                  Targets=[{"Id": "127.0.0.1", "Port": a.port} for a in apps])

    def health(self, tg, port=None):
        """TargetHealth of the target on `port`, or every (port, TargetHealth)."""
        found = self.elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
            "TargetHealthDescriptions"]
        if port is None:
            return [(d["Target"]["Port"], d["TargetHealth"]) for d in found]
        for d in found:
            if d["Target"]["Port"] == port:
                return d["TargetHealth"]
        return None

    def local_port(self, listener):
        _, state = self.emulator.get("/_understudy/elb")
        for lb in state["loadBalancers"]:
            for entry in lb["listeners"]:
                if entry["arn"] == listener["ListenerArn"]:
                    return entry["localPort"]
        self.fail(f"listener {listener['ListenerArn']} not in /_understudy/elb: {state}")

    # --- clock ------------------------------------------------------------------------
    def now(self):
        return parse_time(self.emulator.get("/_understudy/clock")[1]["now"])

    def advance(self, duration):
        status, answer = self.emulator.post("/_understudy/clock", {"advance": duration})
        self.assertEqual(status, 200, answer)

    def wait_state(self, tg, port, state, timeout="5m"):
        """Waits (moving virtual time) for the target's state; returns (status, answer)."""
        return self.emulator.post("/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg["TargetGroupArn"],
                                          "id": "127.0.0.1", "port": port, "state": state}},
            "timeout": timeout})

    def await_state(self, tg, port, state, timeout="5m"):
        status, answer = self.wait_state(tg, port, state, timeout)
        self.assertEqual(status, 200, answer)
        return answer

    def assert_elapsed(self, since, seconds):
        self.assertEqual(self.now() - since, datetime.timedelta(seconds=seconds))

    def probes_done(self):
        """True once no health check holds the clock (its result has been applied)."""
        holds = self.emulator.get("/_understudy/clock")[1]["holds"]
        return not any(h["what"].startswith("health check") and not h["expired"] for h in holds)


class BasicFlowTest(AlbTrafficCase):
    # The CLI creates the stack; a healthy target gets a GET with the ALB's headers added.
    def test_cli_flow_reaches_the_app(self):
        app = self.app("web")

        def aws(*args):
            rc, out, err = self.emulator.aws("elbv2", *args)
            self.assertEqual(rc, 0, err)
            return out

        lb = aws("create-load-balancer", "--name", "web", "--subnets", "subnet-1",
                 "subnet-2")["LoadBalancers"][0]
        tg = aws("create-target-group", "--name", "app", "--protocol", "HTTP", "--port", "8080",
                 "--vpc-id", lb["VpcId"], "--target-type", "ip", "--health-check-path",
                 "/health")["TargetGroups"][0]
        listener = aws("create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                       "--protocol", "HTTP", "--port", "80", "--default-actions",
                       f"Type=forward,TargetGroupArn={tg['TargetGroupArn']}")["Listeners"][0]
        aws("register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
            f"Id=127.0.0.1,Port={app.port}")
        self.await_state(tg, app.port, "healthy")
        app.wait_for_line("GET /health 200")

        port = self.local_port(listener)
        epoch = calendar.timegm(self.now().timetuple())
        resp = send(port, "/echo/hello?x=1", headers={"User-Agent": "alb-test"})
        self.assertEqual((resp.status, resp.app), (200, "web"))
        self.assertNotEqual(resp.headers.get("Server"), "awselb/2.0")
        echo = resp.json()
        self.assertEqual((echo["method"], echo["path"], echo["query_string"]),
                         ("GET", "/echo/hello", "x=1"))
        seen = echo["headers"]
        self.assertEqual(header(seen, "X-Forwarded-For"), "127.0.0.1")
        self.assertEqual(header(seen, "X-Forwarded-Proto"), "http")
        self.assertEqual(header(seen, "X-Forwarded-Port"), "80")
        # Listener port 80: the port the client put in Host is dropped.
        self.assertEqual(header(seen, "Host"), "127.0.0.1")
        self.assertEqual(header(seen, "User-Agent"), "alb-test")
        trace = TRACE_ID.match(header(seen, "X-Amzn-Trace-Id"))
        self.assertIsNotNone(trace, seen)
        self.assertEqual(int(trace.group(1), 16), epoch)  # the emulator's (virtual) time
        # A trace id the client sent keeps its Root and gets a Self.
        resp = send(port, "/echo", headers={"X-Amzn-Trace-Id": "Root=1-5f84c7a9-0123456789abcdef01234567;CalledFrom=app"})
        self.assertRegex(header(resp.json()["headers"], "X-Amzn-Trace-Id"),
                         r"^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-5f84c7a9-0123456789abcdef01234567;"
                         r"CalledFrom=app$")

        out = aws("describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
        self.assertEqual(out["TargetHealthDescriptions"], [
            {"Target": {"Id": "127.0.0.1", "Port": app.port}, "HealthCheckPort": str(app.port),
             "TargetHealth": {"State": "healthy"}}])


class HealthTransitionTest(AlbTrafficCase):
    # initial -> healthy after one pass; unhealthy after UnhealthyThreshold failing checks with
    # the codes seen; healthy again after HealthyThreshold passes; a stopped app fails its
    # checks. Every step happens at an exact virtual time: checks run every interval.
    def test_states_in_virtual_time(self):
        lb, tg, listener = self.stack(HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5,
                                      HealthyThresholdCount=3, UnhealthyThresholdCount=2)
        port = free_port()
        t0 = self.now()
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                  Targets=[{"Id": "127.0.0.1", "Port": port}])
        # The first check runs at once; nothing listens yet, so the target stays initial.
        wait_until(lambda: self.health(tg, port).get("Reason") == "Elb.InitialHealthChecking",
                   what="the first health check to fail")
        self.assertEqual(self.health(tg, port), {
            "State": "initial", "Reason": "Elb.InitialHealthChecking",
            "Description": "Initial health checks in progress"})
        self.assertEqual(self.now(), t0)

        app = self.app("web", port=port)
        self.await_state(tg, port, "healthy")  # one passing check is enough
        self.assert_elapsed(t0, 10)
        self.assertEqual(self.health(tg, port), {"State": "healthy"})
        self.assertEqual(send(self.local_port(listener), "/").status, 200)

        app.control({"health_status": 500})
        status, answer = self.wait_state(tg, port, "unhealthy", timeout="10s")
        self.assertEqual((status, answer["error"]), (408, "WaitTimeout"), answer)
        self.assert_elapsed(t0, 20)  # one failure: still healthy
        self.await_state(tg, port, "unhealthy")
        self.assert_elapsed(t0, 30)  # the second failing check
        self.assertEqual(self.health(tg, port), {
            "State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
            "Description": "Health checks failed with these codes: [500]"})

        # The description follows the latest code.
        app.control({"health_status": 404})
        self.advance("10s")
        wait_until(self.probes_done, what="the check at +40s to finish")
        self.assertEqual(self.health(tg, port)["Description"],
                         "Health checks failed with these codes: [404]")

        app.control({"health_status": 200})
        status, answer = self.wait_state(tg, port, "healthy", timeout="20s")
        self.assertEqual(status, 408, answer)  # two passes of three
        self.assertEqual(answer["observed"]["state"], "unhealthy")
        self.await_state(tg, port, "healthy")
        self.assert_elapsed(t0, 70)
        self.assertEqual(self.health(tg, port), {"State": "healthy"})

        self.kill(app)
        self.await_state(tg, port, "unhealthy")
        self.assert_elapsed(t0, 90)
        self.assertEqual(self.health(tg, port), {
            "State": "unhealthy", "Reason": "Target.FailedHealthChecks",
            "Description": "Health checks failed"})


class AlbErrorsTest(AlbTrafficCase):
    # No registered target: the ALB answers 503 itself.
    def test_503_without_targets(self):
        lb, tg, listener = self.stack()
        resp = send(self.local_port(listener), "/anything")
        self.assertEqual(resp.status, 503)
        self.assertEqual(resp.headers["Server"], "awselb/2.0")
        self.assertEqual(resp.headers["Content-Type"], "text/html")
        self.assertEqual(resp.text(), ALB_503)

    # A target that refuses connections: 502 from the ALB.
    def test_502_when_the_target_refuses(self):
        lb, tg, listener = self.stack()
        app = self.app("web")
        self.register(tg, app)
        self.await_state(tg, app.port, "healthy")
        port = self.local_port(listener)
        self.assertEqual(send(port, "/").status, 200)
        self.kill(app)  # the clock stands still: no check notices before the request
        resp = send(port, "/")
        self.assertEqual((resp.status, resp.headers["Server"], resp.text()),
                         (502, "awselb/2.0", ALB_502))

    # Unhealthy targets get nothing while one is healthy, and everything when none is.
    def test_fail_open(self):
        lb, tg, listener = self.stack(HealthCheckIntervalSeconds=10)
        a = self.app("a")
        b = self.app("b", "--health-status", "500")
        self.register(tg, a, b)
        self.await_state(tg, a.port, "healthy")
        self.await_state(tg, b.port, "unhealthy")
        port = self.local_port(listener)
        self.assertEqual([send(port, "/").app for _ in range(4)], ["a"] * 4)
        a.control({"health_status": 503})
        self.await_state(tg, a.port, "unhealthy")
        self.assertEqual(self.health(tg), [
            (a.port, {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                      "Description": "Health checks failed with these codes: [503]"}),
            (b.port, {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                      "Description": "Health checks failed with these codes: [500]"})])
        answers = [send(port, "/") for _ in range(4)]
        self.assertEqual([r.status for r in answers], [200] * 4)
        self.assertEqual(sorted(r.app for r in answers), ["a", "a", "b", "b"])


class RulesTest(AlbTrafficCase):
    def aws(self, *args):
        rc, out, err = self.emulator.aws("elbv2", *args)
        self.assertEqual(rc, 0, err)
        return out

    def rule(self, listener, priority, conditions, actions):
        return self.aws("create-rule", "--listener-arn", listener["ListenerArn"], "--priority",
                        str(priority), "--conditions", json.dumps(conditions), "--actions",
                        json.dumps(actions))["Rules"][0]

    @staticmethod
    def fixed(status, body, content_type="text/plain"):
        return [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": str(status), "ContentType": content_type, "MessageBody": body}}]

    # Each condition type picks its rule; the lowest priority wins; the default rule is last.
    def test_conditions_actions_and_priorities(self):
        lb, web_tg, listener = self.stack(default_actions=self.fixed(404, "no rule"))
        api_tg = self.target_group("api")
        api, web = self.app("api"), self.app("web")
        self.register(api_tg, api)
        self.register(web_tg, web)
        forward = lambda tg: [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
        maintenance = self.rule(listener, 1, [
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Maintenance",
                                                          "Values": ["on", "yes"]}}],
            self.fixed(503, "<h1>Down for maintenance</h1>", "text/html"))
        api_rule = self.rule(listener, 10, [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/echo/api/*"]}}], forward(api_tg))
        host_rule = self.rule(listener, 20, [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}}],
            forward(web_tg))
        self.rule(listener, 30, [
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["DELETE"]}}],
            self.fixed(405, "no deleting"))
        self.rule(listener, 40, [
            {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v*", "Value": "2"}]}}],
            self.fixed(200, "version two"))
        self.rule(listener, 50, [
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/who"]}}],
            self.fixed(200, "private network"))
        self.rule(listener, 60, [
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.1/32", "::1/128"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/who"]}}],
            self.fixed(200, "loopback"))
        self.rule(listener, 70, [
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}],
            [{"Type": "redirect", "RedirectConfig": {
                "Protocol": "HTTPS", "Port": "443", "Host": "new.#{host}",
                "Path": "/new/#{path}", "Query": "#{query}&from=#{port}",
                "StatusCode": "HTTP_301"}}])
        self.await_state(api_tg, api.port, "healthy")
        self.await_state(web_tg, web.port, "healthy")
        port = self.local_port(listener)

        def outcome(path="/", method="GET", headers=None):
            resp = send(port, path, method=method, headers=headers)
            return resp.status, resp.app or resp.text()

        self.assertEqual(outcome("/echo/api/users"), (200, "api"))
        self.assertEqual(outcome("/echo/API/users"), (404, "no rule"))  # paths are case sensitive
        self.assertEqual(outcome("/echo/api"), (404, "no rule"))  # /echo/api/* needs the slash
        self.assertEqual(outcome("/", headers={"Host": "shop.EXAMPLE.com:8080"}), (200, "web"))
        self.assertEqual(outcome("/", headers={"Host": "example.com"}), (404, "no rule"))
        self.assertEqual(outcome("/x", method="DELETE"), (405, "no deleting"))
        self.assertEqual(outcome("/x", method="delete"), (404, "no rule"))  # methods: exact case
        self.assertEqual(outcome("/x?a=1&Version=2"), (200, "version two"))
        self.assertEqual(outcome("/x?version=3"), (404, "no rule"))
        self.assertEqual(outcome("/who"), (200, "loopback"))
        # Several conditions all have to match, values within one are OR'ed.
        for value in ("on", "YES"):
            resp = send(port, "/echo/api/users", headers={"X-Maintenance": value})
            self.assertEqual((resp.status, resp.text()), (503, "<h1>Down for maintenance</h1>"))
            self.assertEqual(resp.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertEqual(resp.headers["Server"], "awselb/2.0")
        self.assertEqual(outcome("/echo/api/users", headers={"X-Maintenance": "off"}), (200, "api"))

        resp = send(port, "/old/a/b?x=1", headers={"Host": "site.test:8000"})
        self.assertEqual(resp.status, 301)
        self.assertEqual(resp.headers["Location"], "https://new.site.test/new/old/a/b?x=1&from=80")

        # Host and path both match: the lower priority decides; set-rule-priorities swaps them.
        both = {"Host": "api.example.com"}
        self.assertEqual(outcome("/echo/api/users", headers=both), (200, "api"))
        self.aws("set-rule-priorities", "--rule-priorities",
                 f"RuleArn={api_rule['RuleArn']},Priority=20",
                 f"RuleArn={host_rule['RuleArn']},Priority=10")
        self.assertEqual(outcome("/echo/api/users", headers=both), (200, "web"))
        self.assertEqual(outcome("/echo/api/users"), (200, "api"))
        self.aws("delete-rule", "--rule-arn", maintenance["RuleArn"])
        self.assertEqual(outcome("/echo/api/users", headers={"X-Maintenance": "on"}), (200, "api"))

    # A weighted forward splits traffic by weight (1:3) within 3 % over 10 000 requests.
    def test_weighted_forward(self):
        lb, blue_tg, listener = self.stack(default_actions=self.fixed(404, "no rule"))
        green_tg = self.target_group("green")
        blue, green = self.app("blue"), self.app("green")
        self.register(blue_tg, blue)
        self.register(green_tg, green)
        self.rule(listener, 5, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
                  [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                      {"TargetGroupArn": blue_tg["TargetGroupArn"], "Weight": 1},
                      {"TargetGroupArn": green_tg["TargetGroupArn"], "Weight": 3}]}}])
        self.await_state(blue_tg, blue.port, "healthy")
        self.await_state(green_tg, green.port, "healthy")
        port = self.local_port(listener)
        total, counts, statuses = 10_000, {}, {}
        lock = threading.Lock()

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine, codes = {}, {}
            try:
                for _ in range(n):
                    conn.request("GET", "/status/204")
                    resp = conn.getresponse()
                    resp.read()
                    name = resp.getheader("X-App-Name")
                    mine[name] = mine.get(name, 0) + 1
                    codes[resp.status] = codes.get(resp.status, 0) + 1
            finally:
                conn.close()
            with lock:
                for k, v in mine.items():
                    counts[k] = counts.get(k, 0) + v
                for k, v in codes.items():
                    statuses[k] = statuses.get(k, 0) + v

        threads = [threading.Thread(target=client, args=(total // 4,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(statuses, {204: total})
        self.assertEqual(sum(counts.values()), total)
        self.assertLessEqual(abs(counts.get("blue", 0) - total / 4), 0.03 * total, counts)
        self.assertLessEqual(abs(counts.get("green", 0) - total * 3 / 4), 0.03 * total, counts)


class StickinessAndDrainingTest(AlbTrafficCase):
    # stickiness.enabled: the AWSALB cookie keeps a client on its target; an unknown one is replaced.
    def test_sticky_sessions(self):
        lb, tg, listener = self.stack()
        a, b = self.app("a"), self.app("b")
        self.register(tg, a, b)
        self.await_state(tg, a.port, "healthy")
        self.await_state(tg, b.port, "healthy")
        port = self.local_port(listener)
        self.assertEqual(sorted(send(port, "/").app for _ in range(4)), ["a", "a", "b", "b"])
        self.assertIsNone(send(port, "/").headers.get("Set-Cookie"))

        self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "stickiness.enabled", "Value": "true"},
            {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "3600"}])
        first = send(port, "/")
        expires = email.utils.formatdate(calendar.timegm(self.now().timetuple()) + 3600,
                                         usegmt=True)
        cookies = first.headers.get_all("Set-Cookie")
        self.assertEqual(len(cookies), 2, cookies)
        token = re.match(r"^AWSALB=([^;]+); ", cookies[0]).group(1)
        self.assertEqual(cookies, [
            f"AWSALB={token}; Expires={expires}; Path=/",
            f"AWSALBCORS={token}; Expires={expires}; Path=/; SameSite=None; Secure"])
        for _ in range(6):
            resp = send(port, "/", headers={"Cookie": f"theme=dark; AWSALB={token}"})
            self.assertEqual(resp.app, first.app)
            self.assertIn(f"AWSALB={token}; ", resp.headers["Set-Cookie"])
        # A cookie naming no target: a target is chosen and the cookie replaced.
        resp = send(port, "/", headers={"Cookie": "AWSALB=bogus"})
        self.assertIn(resp.app, ("a", "b"))
        self.assertRegex(resp.headers["Set-Cookie"], r"^AWSALB=[0-9a-f]{32}; ")

    # Deregistering drains: no new requests; at the end of the delay the in-flight one is cut.
    def test_draining_cuts_in_flight_requests(self):
        lb, tg, listener = self.stack()
        self.elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "60"},
            {"Key": "stickiness.enabled", "Value": "true"}])
        slow, steady = self.app("slow"), self.app("steady")
        self.register(tg, slow, steady)
        self.await_state(tg, slow.port, "healthy")
        self.await_state(tg, steady.port, "healthy")
        port = self.local_port(listener)
        cookie = None
        for _ in range(4):
            resp = send(port, "/")
            if resp.app == "slow":
                cookie = resp.headers["Set-Cookie"].split(";")[0]
        self.assertIsNotNone(cookie)

        result = {}

        def slow_request():
            result["response"] = send(port, "/delay/20000", headers={"Cookie": cookie}, timeout=30)

        client = threading.Thread(target=slow_request)
        client.start()
        wait_until(lambda: slow.get_json("/_control")[1]["in_flight"] >= 2,
                   what="the slow request to reach the app")
        t0 = self.now()
        self.elb.deregister_targets(TargetGroupArn=tg["TargetGroupArn"],
                                    Targets=[{"Id": "127.0.0.1", "Port": slow.port}])
        self.assertEqual(self.health(tg), [
            (slow.port, {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                         "Description": "Target deregistration is in progress"}),
            (steady.port, {"State": "healthy"})])
        before = slow.get_json("/_control")[1]["requests"]
        # Even with its sticky cookie, nothing new goes to the draining target.
        self.assertEqual({send(port, "/", headers={"Cookie": cookie}).app for _ in range(6)},
                         {"steady"})
        self.assertEqual(slow.get_json("/_control")[1]["requests"], before + 1)  # that /_control
        self.assertTrue(client.is_alive())

        self.await_state(tg, slow.port, "unused")
        self.assert_elapsed(t0, 60)
        client.join(10)
        self.assertFalse(client.is_alive())
        resp = result["response"]
        self.assertEqual((resp.status, resp.headers["Server"], resp.text()),
                         (502, "awselb/2.0", ALB_502))
        self.assertEqual(self.health(tg), [(steady.port, {"State": "healthy"})])


class ListenerPortTest(unittest.TestCase):
    # A listener binds its own port when free, another when not; a restart keeps them; deleting
    # a listener closes its port.
    def test_port_mapping_and_restart(self):
        state_dir = tempfile.mkdtemp(prefix="understudy-alb-ports-")
        self.addCleanup(shutil.rmtree, state_dir, True)
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        free = free_port()
        hello = [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "hello"}}]

        def ports(emulator):
            _, state = emulator.get("/_understudy/elb")
            return {entry["port"]: entry["localPort"]
                    for lb in state["loadBalancers"] for entry in lb["listeners"]}

        try:
            with Understudy(BINARY, "--state-dir", state_dir) as first:
                elb = first.client("elbv2")
                lb = elb.create_load_balancer(Name="ports", Subnets=["subnet-a", "subnet-b"])[
                    "LoadBalancers"][0]
                listeners = {}
                for port in (free, busy):
                    listeners[port] = elb.create_listener(
                        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                        DefaultActions=hello)["Listeners"][0]
                mapped = ports(first)
                self.assertEqual(mapped[free], free)
                self.assertNotIn(mapped[busy], (0, busy, free))
                for local in mapped.values():
                    self.assertEqual(send(local, "/").text(), "hello")
        finally:
            blocker.close()
        self.assertTrue(refused(free))
        # The stored ports come first, even though the busy one is free now.
        with Understudy(BINARY, "--state-dir", state_dir) as second:
            self.assertEqual(ports(second), mapped)
            for local in mapped.values():
                self.assertEqual(send(local, "/").text(), "hello")
            second.client("elbv2").delete_listener(ListenerArn=listeners[free]["ListenerArn"])
            wait_until(lambda: refused(free), what="the deleted listener's port to close")
            self.assertEqual(ports(second), {busy: mapped[busy]})
            self.assertEqual(send(mapped[busy], "/").text(), "hello")


class AccessLogTest(AlbTrafficCase):
    # access_logs.s3.enabled writes AWS's access-log lines under <state-dir>/alb-access-logs.
    def test_access_log_lines(self):
        lb, tg, listener = self.stack()
        app = self.app("web")
        self.register(tg, app)
        self.elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=7,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/fixed"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "teapot"}}])
        self.await_state(tg, app.port, "healthy")
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "logs"},
            {"Key": "access_logs.s3.prefix", "Value": "web"}])
        port = self.local_port(listener)
        now = self.now()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(conn.close)
        forwarded = send(port, "/echo/x?y=1", headers={"User-Agent": "curl/8.5"}, conn=conn)
        client_port = conn.sock.getsockname()[1]
        fixed = send(port, "/fixed", conn=conn)
        self.assertEqual((forwarded.status, fixed.status), (200, 418))
        trace = header(forwarded.json()["headers"], "X-Amzn-Trace-Id")

        _, health = self.emulator.get("/_understudy/health")
        lb_id = lb["LoadBalancerArn"].rsplit("/", 1)[1]
        path = os.path.join(health["stateDir"], "alb-access-logs", "logs", "web",
                            f"app.web.{lb_id}_{now.strftime('%Y%m%d')}.log")

        def lines():
            if not os.path.exists(path):
                return None
            with open(path) as f:
                found = f.read().splitlines()
            return found if len(found) >= 2 else None

        first, second = [shlex.split(line) for line in wait_until(lines, what=f"2 lines in {path}")]
        stamp = r"^2026-11-23T\d\d:\d\d:\d\d\.\d{6}Z$"
        self.assertEqual(len(first), 30, first)
        self.assertEqual(first[0], "http")
        self.assertRegex(first[1], stamp)
        self.assertEqual(first[2], f"app/web/{lb_id}")
        self.assertEqual(first[3], f"127.0.0.1:{client_port}")
        self.assertEqual(first[4], f"127.0.0.1:{app.port}")
        for value in first[5:8]:
            self.assertRegex(value, r"^\d+\.\d{3}$")
        self.assertEqual(first[8:10], ["200", "200"])
        self.assertEqual(first[12], "GET http://127.0.0.1:80/echo/x?y=1 HTTP/1.1")
        self.assertEqual(first[13], "curl/8.5")
        self.assertEqual(first[14:16], ["-", "-"])
        self.assertEqual(first[16], tg["TargetGroupArn"])
        self.assertEqual(first[17], trace)
        self.assertEqual(first[18:21], ["-", "-", "0"])
        self.assertRegex(first[21], stamp)
        self.assertEqual(first[22:27], ["forward", "-", "-", f"127.0.0.1:{app.port}", "200"])
        self.assertEqual(first[27:], ["-", "-", "-"])

        self.assertEqual(second[0], "http")
        self.assertEqual(second[4], "-")
        self.assertEqual(second[5:10], ["0.000", "-1", "-1", "418", "-"])
        self.assertEqual(second[12], "GET http://127.0.0.1:80/fixed HTTP/1.1")
        self.assertEqual(second[16], "-")
        self.assertEqual(second[20], "7")
        self.assertEqual(second[22:27], ["fixed-response", "-", "-", "-", "-"])


class EchoWebSocketTarget:
    """A small WebSocket target on 127.0.0.1: 200 on /health, and on an upgrade it answers
    101 and sends each text frame back prefixed with "echo: ". Records upgrade headers."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self):
        target = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.request.settimeout(10)
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line in (b"\r\n", b"\n"):
                        break
                    lines.append(line.decode().rstrip("\r\n"))
                if not lines:
                    return
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("upgrade", "").lower() != "websocket":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                     b"Connection: close\r\n\r\nok")
                    return
                target.upgrades.append((lines[0], headers))
                accept = base64.b64encode(hashlib.sha1(
                    (headers["sec-websocket-key"] + target.GUID).encode()).digest()).decode()
                self.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                                  "\r\n\r\n").encode())
                self.wfile.flush()
                while True:
                    frame = read_frame(self.rfile)
                    if frame is None:
                        return
                    opcode, payload = frame
                    if opcode == 8:
                        self.wfile.write(bytes([0x88, 0]))
                        return
                    self.wfile.write(encode_frame(b"echo: " + payload, mask=False))
                    self.wfile.flush()

        self.upgrades = []
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def encode_frame(payload, mask=True, opcode=1):
    head = bytes([0x80 | opcode])
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    else:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(stream):
    start = stream.read(2)
    if len(start) < 2:
        return None
    opcode, length, masked = start[0] & 0x0F, start[1] & 0x7F, start[1] & 0x80
    if length == 126:
        length = struct.unpack("!H", stream.read(2))[0]
    key = stream.read(4) if masked else None
    payload = stream.read(length)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return opcode, payload


class WebSocketTest(AlbTrafficCase):
    # An Upgrade: websocket request is relayed; the 101 comes back and frames flow both ways.
    def test_websocket_through_the_listener(self):
        lb, tg, listener = self.stack()
        target = EchoWebSocketTarget()
        self.addCleanup(target.stop)
        self.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                  Targets=[{"Id": "127.0.0.1", "Port": target.port}])
        self.await_state(tg, target.port, "healthy")
        port = self.local_port(listener)
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall((f"GET /chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            stream = sock.makefile("rb")
            status = stream.readline().decode().rstrip("\r\n")
            headers = {}
            while True:
                line = stream.readline().decode().rstrip("\r\n")
                if not line:
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.assertEqual(status, "HTTP/1.1 101 Switching Protocols")
            self.assertEqual(headers["upgrade"], "websocket")
            self.assertEqual(headers["connection"].lower(), "upgrade")
            expected = base64.b64encode(hashlib.sha1(
                (key + EchoWebSocketTarget.GUID).encode()).digest()).decode()
            self.assertEqual(headers["sec-websocket-accept"], expected)
            for text in (b"hello", b"x" * 300):
                sock.sendall(encode_frame(text))
                self.assertEqual(read_frame(stream), (1, b"echo: " + text))
            sock.sendall(encode_frame(b"", opcode=8))
            self.assertEqual(read_frame(stream), (8, b""))
        request_line, seen = target.upgrades[0]
        self.assertEqual(request_line, "GET /chat?room=1 HTTP/1.1")
        self.assertEqual(seen["upgrade"], "websocket")
        self.assertEqual(seen["connection"], "Upgrade")
        self.assertEqual(seen["sec-websocket-key"], key)
        self.assertEqual(seen["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(seen["x-forwarded-port"], "80")
        self.assertRegex(seen["x-amzn-trace-id"], TRACE_ID)


if __name__ == "__main__":
    unittest.main()
