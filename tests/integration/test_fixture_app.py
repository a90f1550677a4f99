"""The fixture app every later test runs as a team's real app: its flags and endpoints.

    with FixtureApp("--health-status", "503") as app:
        app.get_json("/health")        # (503, {...})
        app.wait_for_line("GET /health 503")

FixtureApp starts the real binary (UNDERSTUDY_FIXTURE_APP) on port 0, reads the port
from its ready line, and collects stdout and stderr lines on threads so a test can
wait for them with a deadline. Teardown signals only the process it started, by pid.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from understudy_process import wait_until

READY = re.compile(r"^fixture-app listening on (\S+):(\d+)$")

# Variables the app reads; scrubbed from the inherited environment so that only what a
# test sets reaches the app.
APP_VARIABLES = ["PORT", "HOST", "APP_NAME", "HEALTH_PATH", "HEALTH_STATUS", "STARTUP_DELAY",
                 "RESPONSE_DELAY", "CRASH_AFTER", "EXIT_AFTER", "EXIT_CODE", "CPU_BURN",
                 "MEMORY_GROW", "MEMORY_LIMIT", "LOG_EVERY", "LOG_MESSAGE", "IGNORE_SIGTERM",
                 "THREADS", "AWS_ENDPOINT_URL", "AWS_REGION", "ECS_CONTAINER_METADATA_URI_V4"]


def fixture_binary():
    path = os.environ.get("UNDERSTUDY_FIXTURE_APP")
    if not path:
        raise RuntimeError("UNDERSTUDY_FIXTURE_APP is not set (ctest sets it)")
    return path


def app_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.update(extra or {})
    return env


def poll(predicate, timeout=10.0, interval=0.01, what="condition"):
    """Calls predicate until it returns something truthy; fails after the deadline."""
    return wait_until(predicate, timeout=timeout, what=what, interval=interval)


class FixtureApp:
    def __init__(self, *args, env=None, port="0", host="127.0.0.1"):
        self.args = list(args)
        if port is not None:
            self.args = ["--port", str(port), *self.args]
        if host is not None:
            self.args = ["--host", host, *self.args]
        self.env = app_env(env)
        self.proc = None
        self.port = None
        self.started_at = None
        self.ready_at = None
        self._lines = {"stdout": [], "stderr": []}  # (monotonic time, line)
        self._changed = threading.Condition()
        self._readers = []

    def spawn(self):
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([fixture_binary(), *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env)
        for name in ("stdout", "stderr"):
            reader = threading.Thread(target=self._read, args=(name,), daemon=True)
            reader.start()
            self._readers.append(reader)
        return self

    def start(self, timeout=10.0):
        self.spawn()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        at, line = self.wait_for_line(READY, timeout)
        self.ready_at = at
        self.port = int(READY.match(line).group(2))
        return line

    def _read(self, name):
        for line in getattr(self.proc, name):
            with self._changed:
                self._lines[name].append((time.monotonic(), line.rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def lines(self, stream="stdout"):
        with self._changed:
            return [line for _, line in self._lines[stream]]

    def wait_for_line(self, pattern, timeout=10.0, stream="stdout", count=1):
        """Waits for the count-th line matching pattern (a regex or an exact string)."""
        if isinstance(pattern, str):
            pattern = re.compile("^" + re.escape(pattern) + "$")
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                hits = [(at, line) for at, line in self._lines[stream] if pattern.match(line)]
                if len(hits) >= count:
                    return hits[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no line {count} matching {pattern.pattern!r} on {stream} within "
                        f"{timeout}s; stdout={self._lines['stdout']!r} "
                        f"stderr={self._lines['stderr']!r} exit={self.proc.poll()}")
                self._changed.wait(min(left, 0.1))

    def wait_exit(self, timeout=10.0):
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self, timeout=10.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def get_json(self, path):
        status, _, body = self.request("GET", path)
        return status, json.loads(body) if body else None

    def control(self, settings):
        status, _, body = self.request("POST", "/_control", json.dumps(settings),
                                       {"Content-Type": "application/json"})
        return status, json.loads(body)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_app(*args, env=None):
    return subprocess.run([fixture_binary(), *args], capture_output=True, text=True,
                          env=app_env(env), timeout=30)


class StartupTest(unittest.TestCase):
    # The ready line names the host and the free port picked for --port 0, and it answers.
    def test_ready_line_with_port_zero(self):
        with FixtureApp() as app:
            self.assertEqual(app.lines()[0], f"fixture-app listening on 127.0.0.1:{app.port}")
            self.assertNotEqual(app.port, 0)
            self.assertEqual(app.get_json("/health")[0], 200)

    # --port N listens on exactly that port.
    def test_fixed_port(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with FixtureApp(port=port) as app:
            self.assertEqual(app.port, port)

    # PORT and HOST come from the environment when no flag is given.
    def test_port_and_host_from_environment(self):
        with FixtureApp(port=None, host=None, env={"PORT": "0", "HOST": "127.0.0.1"}) as app:
            self.assertRegex(app.lines()[0], r"^fixture-app listening on 127\.0\.0\.1:\d+$")
            self.assertEqual(app.get_json("/health")[0], 200)

    # A port already in use is an error (exit 1), not a silently shared SO_REUSEPORT socket.
    def test_port_in_use(self):
        with FixtureApp() as first:
            second = FixtureApp(port=first.port).spawn()
            try:
                self.assertEqual(second.wait_exit(), 1)
                self.assertEqual(second.lines("stderr"),
                                 [f"fixture-app: cannot listen on 127.0.0.1:{first.port}: "
                                  "Address already in use"])
                self.assertEqual(second.lines(), [])
            finally:
                second.stop()

    # --startup-delay holds the ready line (and the port) back for about that long.
    def test_startup_delay(self):
        with FixtureApp("--startup-delay", "800ms") as app:
            waited = app.ready_at - app.started_at
            self.assertGreaterEqual(waited, 0.7)
            self.assertLess(waited, 8.0)
            self.assertEqual(app.get_json("/health")[0], 200)

    # --help prints the flags and their variables and exits 0.
    def test_help(self):
        proc = run_app("--help")
        self.assertEqual(proc.returncode, 0)
        for text in ["--port N", "[PORT]", "--crash-after", "--log-every D MESSAGE",
                     "--ignore-sigterm", "[APP_NAME]"]:
            self.assertIn(text, proc.stdout)


class BadFlagsTest(unittest.TestCase):
    # Each bad flag or variable exits 2 with one line naming it and the expected form.
    def test_bad_flags(self):
        cases = [
            (["--port", "abc"], {},
             "--port expects a port number from 0 to 65535, got 'abc'"),
            (["--port", "70000"], {},
             "--port expects a port number from 0 to 65535, got '70000'"),
            (["--port"], {}, "--port needs a value: a port number from 0 to 65535"),
            (["--startup-delay", "2x"], {},
             "--startup-delay expects a duration like 250ms, 2s or 1m, got '2x'"),
            (["--response-delay=fast"], {},
             "--response-delay expects a duration like 250ms, 2s or 1m, got 'fast'"),
            (["--cpu-burn=101"], {},
             "--cpu-burn expects a percentage of one core from 0 to 100, got '101'"),
            (["--health-status", "99"], {},
             "--health-status expects an HTTP status from 200 to 599, got '99'"),
            (["--health-path", "health"], {},
             "--health-path expects a path starting with /, got 'health'"),
            (["--exit-code", "256"], {}, "--exit-code expects an exit code from 0 to 255, got '256'"),
            (["--crash-after", "0"], {},
             "--crash-after expects a number of requests, 1 or more, got '0'"),
            (["--log-every", "1s"], {},
             "--log-every needs two values: a duration like 250ms, 2s or 1m, then the message"),
            (["--ignore-sigterm=yes"], {}, "--ignore-sigterm takes no value"),
            (["--frobnicate"], {}, "unknown flag '--frobnicate'; see --help"),
            (["serve"], {}, "unexpected argument 'serve'; every setting is a --flag"),
            ([], {"PORT": "abc"}, "PORT expects a port number from 0 to 65535, got 'abc'"),
            ([], {"EXIT_AFTER": "5"}, "EXIT_AFTER expects a duration like 250ms, 2s or 1m, got '5'"),
            ([], {"IGNORE_SIGTERM": "maybe"},
             "IGNORE_SIGTERM expects 1, true, yes, on, 0, false, no or off, got 'maybe'"),
        ]
        for args, env, message in cases:
            with self.subTest(args=args, env=env):
                proc = run_app(*args, env=env)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stderr, f"fixture-app: {message}\n")
                self.assertEqual(proc.stdout, "")


class EndpointsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = FixtureApp("--name", "web").start()

    @classmethod
    def tearDownClass(cls):
        cls.app.stop()

    # GET / reports the name, the pid, the hostname and a growing request count.
    def test_root(self):
        status, first = self.app.get_json("/")
        self.assertEqual(status, 200)
        self.assertEqual(first["name"], "web")
        self.assertEqual(first["pid"], self.app.proc.pid)
        self.assertEqual(first["hostname"], socket.gethostname())
        self.assertEqual(first["env"], {})
        self.assertGreater(self.app.get_json("/")[1]["requests"], first["requests"])

    # /echo returns the method, path, query, headers and body it received, on any subpath.
    def test_echo(self):
        status, headers, body = self.app.request(
            "POST", "/echo/a/b?x=1&y=two&x=3", body="hello",
            headers={"X-Test": "yes", "Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-App-Name"], "web")
        echo = json.loads(body)
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["path"], "/echo/a/b")
        self.assertEqual(echo["query"], {"x": "1", "y": "two"})
        self.assertEqual(echo["query_string"], "x=1&y=two&x=3")
        self.assertEqual(echo["headers"]["X-Test"], "yes")
        self.assertEqual(echo["headers"]["Host"], f"127.0.0.1:{self.app.port}")
        self.assertEqual(echo["body"], "hello")
        self.assertEqual(echo["remote_addr"], "127.0.0.1")
        self.assertNotIn("REMOTE_ADDR", echo["headers"])

    # /status/<code> answers with that status; codes outside 200-599 are a 400.
    def test_status(self):
        for code in [200, 201, 302, 404, 418, 500, 503]:
            with self.subTest(code=code):
                status, body = self.app.get_json(f"/status/{code}")
                self.assertEqual(status, code)
                self.assertEqual(body, {"name": "web", "status": code})
        self.assertEqual(self.app.request("GET", "/status/204")[0], 204)
        self.assertEqual(self.app.get_json("/status/99")[0], 400)
        self.assertEqual(self.app.get_json("/status/1000")[0], 400)
        self.assertEqual(self.app.request("GET", "/status/abc")[0], 404)

    # /delay/<ms> answers after at least that long.
    def test_delay(self):
        began = time.monotonic()
        status, body = self.app.get_json("/delay/300")
        self.assertGreaterEqual(time.monotonic() - began, 0.29)
        self.assertEqual((status, body["delayed_ms"]), (200, 300))
        self.assertEqual(self.app.get_json("/delay/600001")[0], 400)

    # /fetch calls a URL from inside the app and reports status, body and resolved addresses;
    # /resolve resolves a name; an unreachable URL is a 502 and a non-http URL a 400.
    def test_fetch_and_resolve(self):
        status, body = self.app.get_json(f"/fetch?url=http://localhost:{self.app.port}/status/418")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], 418)
        self.assertEqual(json.loads(body["body"]), {"name": "web", "status": 418})
        self.assertIn("127.0.0.1", body["addresses"])
        status, body = self.app.get_json("/resolve?name=localhost")
        self.assertEqual((status, body["host"]), (200, "localhost"))
        self.assertIn("127.0.0.1", body["addresses"])
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            free = closed.getsockname()[1]
        status, body = self.app.get_json(f"/fetch?url=http://127.0.0.1:{free}/")
        self.assertEqual(status, 502)
        self.assertIn("error", body)
        target = urllib.parse.quote(f"http://127.0.0.1:{self.app.port}/echo/posted")
        status, body = self.app.get_json(f"/fetch?url={target}&method=POST&body=%7B%7D")
        self.assertEqual((status, body["status"]), (200, 200))
        self.assertEqual((json.loads(body["body"])["method"], json.loads(body["body"])["body"]), ("POST", "{}"))
        self.assertEqual(self.app.get_json(f"/fetch?url={target}&method=PUT")[0], 400)
        self.assertEqual(self.app.get_json("/fetch?url=ftp://x/")[0], 400)
        self.assertEqual(self.app.get_json("/resolve")[0], 400)

    # Every request is one stdout line "METHOD /path STATUS"; bad /_control bodies go to stderr.
    def test_request_log(self):
        self.app.request("GET", "/status/503?quiet=1")
        self.app.request("DELETE", "/echo/logged")
        self.app.wait_for_line("GET /status/503 503")
        self.app.wait_for_line("DELETE /echo/logged 200")
        status, body = self.app.control({"health_status": "sick"})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"],
                         'health_status expects an HTTP status from 200 to 599, got "sick"')
        self.app.wait_for_line('fixture-app: bad POST /_control: health_status expects an HTTP '
                               'status from 200 to 599, got "sick"', stream="stderr")
        self.app.wait_for_line("POST /_control 400")

    # A bad /_control body changes nothing, even its valid fields.
    def test_control_rejects_whole_body(self):
        for settings, error in [
                ({"cpu_burn": 5, "bogus": 1},
                 "unknown setting 'bogus'; known: health_status, response_delay, cpu_burn, "
                 "exit_code, crash"),
                ({"cpu_burn": 5, "response_delay": 50},
                 "response_delay expects a duration like 250ms, 2s or 1m as a string, got 50"),
                ({"cpu_burn": 5, "exit_code": 300},
                 "exit_code expects an exit code from 0 to 255, got 300"),
                ({"cpu_burn": 5, "crash": "yes"}, 'crash expects true or false, got "yes"')]:
            with self.subTest(settings=settings):
                status, body = self.app.control(settings)
                self.assertEqual((status, body["error"]), (400, error))
                self.assertEqual(self.app.get_json("/_control")[1]["cpu_burn"], 0)
        status, _, body = self.app.request("POST", "/_control", "[1]")
        self.assertEqual(status, 400)
        self.assertIn("must be a JSON object", json.loads(body)["error"])

    # 100 keep-alive connections stay open at once and each is served again (a worker each).
    def test_hundred_keep_alive_connections(self):
        conns = []
        try:
            for _ in range(100):
                conn = http.client.HTTPConnection("127.0.0.1", self.app.port, timeout=4)
                conn.request("GET", "/health")
                resp = conn.getresponse()
                resp.read()
                self.assertEqual(resp.status, 200)
                conns.append(conn)
            for round_ in range(6):  # past httplib's default of 5 requests per connection
                for conn in conns:
                    conn.request("GET", f"/echo?round={round_}")
                    resp = conn.getresponse()
                    resp.read()
                    self.assertEqual(resp.status, 200)
                    self.assertNotEqual(resp.getheader("Connection"), "close")
        finally:
            for conn in conns:
                conn.close()

    # TCP_NODELAY: back-to-back requests on one connection take no Nagle delay (~40 ms each).
    def test_keep_alive_requests_are_not_delayed(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.app.port, timeout=5)
        try:
            began = time.monotonic()
            for _ in range(30):
                conn.request("GET", "/echo")
                resp = conn.getresponse()
                resp.read()
            self.assertLess(time.monotonic() - began, 0.6)
        finally:
            conn.close()


class HealthTest(unittest.TestCase):
    # The health path answers 200 until /_control sets another status, readable back.
    def test_health_changes_at_runtime(self):
        with FixtureApp() as app:
            self.assertEqual(app.get_json("/health"),
                             (200, {"name": "app", "status": "healthy", "health_status": 200}))
            status, settings = app.control({"health_status": 503})
            self.assertEqual((status, settings["health_status"]), (200, 503))
            self.assertEqual(app.get_json("/health")[0], 503)
            self.assertEqual(app.get_json("/_control")[1]["health_status"], 503)
            app.control({"health_status": 200})
            self.assertEqual(app.get_json("/health")[0], 200)

    # --health-path and --health-status set the check; the flag wins over the variable.
    def test_health_flags_and_environment(self):
        with FixtureApp("--health-status", "502",
                        env={"HEALTH_PATH": "/ready", "HEALTH_STATUS": "503"}) as app:
            self.assertEqual(app.get_json("/ready")[0], 502)
            self.assertEqual(app.request("GET", "/health")[0], 404)


class EnvironmentTest(unittest.TestCase):
    # GET / reports the AWS and ECS variables that are set, and no others; APP_NAME names it.
    def test_env_reporting(self):
        env = {"APP_NAME": "worker", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
               "AWS_REGION": "eu-west-1", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/x",
               "SECRET_TOKEN": "not-reported"}
        with FixtureApp(env=env) as app:
            status, body = app.get_json("/")
            self.assertEqual(status, 200)
            self.assertEqual(body["name"], "worker")
            self.assertEqual(body["env"], {k: v for k, v in env.items() if k != "SECRET_TOKEN"})

    # --name wins over APP_NAME, in bodies and in the X-App-Name header.
    def test_name_flag_wins(self):
        with FixtureApp("--name", "api", env={"APP_NAME": "worker"}) as app:
            status, headers, body = app.request("GET", "/")
            self.assertEqual(json.loads(body)["name"], "api")
            self.assertEqual(json.loads(body)["env"], {"APP_NAME": "worker"})
            self.assertEqual(headers["X-App-Name"], "api")


class DelayTest(unittest.TestCase):
    # --response-delay slows every response except /_control; /_control changes it.
    def test_response_delay(self):
        with FixtureApp("--response-delay", "500ms") as app:
            began = time.monotonic()
            self.assertEqual(app.get_json("/health")[0], 200)
            self.assertGreaterEqual(time.monotonic() - began, 0.49)
            began = time.monotonic()
            status, settings = app.control({"response_delay": "0"})
            self.assertLess(time.monotonic() - began, 0.45)
            self.assertEqual(settings["response_delay"], "0s")
            began = time.monotonic()
            app.get_json("/health")
            self.assertLess(time.monotonic() - began, 0.45)
            app.control({"response_delay": "1.5s"})
            self.assertEqual(app.get_json("/_control")[1]["response_delay_ms"], 1500)


class ExitTest(unittest.TestCase):
    # --crash-after 3 answers the third request, then exits with --exit-code.
    def test_crash_after(self):
        app = FixtureApp("--crash-after", "3", "--exit-code", "7").start()
        try:
            self.assertEqual(app.get_json("/")[0], 200)
            self.assertEqual(app.get_json("/health")[0], 200)
            status, body = app.get_json("/")
            self.assertEqual((status, body["requests"]), (200, 3))
            self.assertEqual(app.wait_exit(), 7)
            self.assertEqual(app.lines()[1:], ["GET / 200", "GET /health 200", "GET / 200"])
            self.assertEqual(app.lines("stderr"), [
                "fixture-app crashing with exit code 7: answered request 3 (--crash-after 3)"])
        finally:
            app.stop()

    # POST /_control {"crash": true, "exit_code": 3} answers, then exits 3.
    def test_crash_through_control(self):
        app = FixtureApp().start()
        try:
            status, settings = app.control({"crash": True, "exit_code": 3})
            self.assertEqual((status, settings["exit_code"]), (200, 3))
            self.assertEqual(app.wait_exit(), 3)
        finally:
            app.stop()

    # --exit-after ends the process on its own with --exit-code, not before its time.
    def test_exit_after(self):
        app = FixtureApp("--exit-after", "600ms", "--exit-code", "4").start()
        try:
            self.assertEqual(app.wait_exit(), 4)
            self.assertGreaterEqual(time.monotonic() - app.started_at, 0.55)
            self.assertIn("fixture-app exiting after 600ms with code 4", app.lines())
        finally:
            app.stop()

    # EXIT_AFTER and EXIT_CODE work from the environment, also during a startup delay.
    def test_exit_after_during_startup_delay(self):
        app = FixtureApp("--startup-delay", "1m", env={"EXIT_AFTER": "300ms", "EXIT_CODE": "0"})
        app.spawn()
        try:
            self.assertEqual(app.wait_exit(), 0)
            self.assertEqual(app.lines(), ["fixture-app exiting after 300ms with code 0"])
        finally:
            app.stop()


class SignalTest(unittest.TestCase):
    # SIGTERM prints "fixture-app stopping", finishes the in-flight request, and exits 0.
    def test_sigterm_is_graceful(self):
        app = FixtureApp().start()
        try:
            result = {}

            def slow_request():
                result["answer"] = app.get_json("/delay/1000")

            client = threading.Thread(target=slow_request)
            client.start()
            # /_control counts itself, so 2 means the delayed request is being handled.
            poll(lambda: app.get_json("/_control")[1]["in_flight"] >= 2,
                 what="the delayed request to be in flight")
            os.kill(app.proc.pid, signal.SIGTERM)
            app.wait_for_line("fixture-app stopping")
            client.join(10)
            self.assertEqual(result["answer"], (200, {"name": "app", "delayed_ms": 1000}))
            self.assertEqual(app.wait_exit(), 0)
            self.assertEqual(app.lines()[-2:], ["fixture-app stopping", "GET /delay/1000 200"])
        finally:
            app.stop()

    # SIGTERM during --startup-delay still stops cleanly with exit 0.
    def test_sigterm_during_startup_delay(self):
        app = FixtureApp("--startup-delay", "1m").spawn()
        try:
            poll(lambda: signal_mask(app.proc.pid, "SigBlk") & (1 << (signal.SIGTERM - 1)),
                 what="SIGTERM to be blocked for the signal thread")
            os.kill(app.proc.pid, signal.SIGTERM)
            self.assertEqual(app.wait_exit(), 0)
            self.assertEqual(app.lines(), ["fixture-app stopping"])
        finally:
            app.stop()

    # --ignore-sigterm survives SIGTERM and keeps answering; SIGKILL by pid ends it.
    def test_ignore_sigterm(self):
        app = FixtureApp("--ignore-sigterm").start()
        try:
            self.assertTrue(signal_mask(app.proc.pid, "SigIgn") & (1 << (signal.SIGTERM - 1)))
            os.kill(app.proc.pid, signal.SIGTERM)
            self.assertEqual(app.get_json("/health")[0], 200)
            self.assertIsNone(app.proc.poll())
            self.assertNotIn("fixture-app stopping", app.lines())
            os.kill(app.proc.pid, signal.SIGKILL)
            self.assertEqual(app.wait_exit(), -signal.SIGKILL)
        finally:
            app.stop()


def signal_mask(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return 0


class LoadTest(unittest.TestCase):
    # --cpu-burn 60 shows as roughly that share of a core in /proc/<pid>/stat; 0 stops it.
    def test_cpu_burn(self):
        with FixtureApp("--cpu-burn", "60") as app:
            # The burn: wait until the process has used 0.6 s of CPU, then read the share
            # of a core it used over the wall time that took.
            before, start = cpu_seconds(app.proc.pid), time.monotonic()
            poll(lambda: cpu_seconds(app.proc.pid) - before >= 0.6, timeout=10,
                 what="0.6 s of CPU burned")
            share = (cpu_seconds(app.proc.pid) - before) / (time.monotonic() - start)
            self.assertGreater(share, 0.2)
            self.assertLess(share, 1.0)
            app.control({"cpu_burn": 0})
            # Stopped: an absence over a span of wall time is what is asserted, so the span
            # is a plain one-second window.
            before = cpu_seconds(app.proc.pid)
            time.sleep(1.0)  # the window in which no CPU may be burned (behaviour under test)
            self.assertLess(cpu_seconds(app.proc.pid) - before, 0.15)

    # --memory-grow makes the process resident set grow to --memory-limit and no further.
    def test_memory_grow(self):
        with FixtureApp("--memory-grow", "200", "--memory-limit", "48") as app:
            baseline = resident_mb(app.proc.pid)
            poll(lambda: app.get_json("/_control")[1]["memory_allocated_mb"] == 48,
                 what="48 MB to be allocated")
            rss = resident_mb(app.proc.pid)
            self.assertGreaterEqual(rss, 48)
            self.assertLess(rss, baseline + 48 + 32)

    # --log-every prints its message periodically on stdout.
    def test_log_every(self):
        with FixtureApp("--log-every", "100ms", "heartbeat from the fixture") as app:
            first, _ = app.wait_for_line("heartbeat from the fixture")
            third, _ = app.wait_for_line("heartbeat from the fixture", count=3)
            self.assertGreaterEqual(third - first, 0.15)


if __name__ == "__main__":
    unittest.main()
