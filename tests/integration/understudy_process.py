"""Starts the real understudy binary for a test and stops it afterwards.

    with Understudy(binary, "--clock", "virtual") as emulator:
        emulator.endpoint        # "http://127.0.0.1:<port>"
        emulator.get("/_understudy/health")

The server listens on port 0 and reports its port in the ready line; a
temporary state dir is used unless the test passes --state-dir. Teardown sends
SIGTERM to the process this object started (by pid) and waits for it.
"""
import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.error
import urllib.request

READY = re.compile(r"^understudy (\S+) listening on (http://\S+)$")


class Understudy:
    def __init__(self, binary, *args, env=None):
        self.binary = binary
        self.args = list(args)
        self.env = env
        self.proc = None
        self.endpoint = None
        self.ready_line = None

    def start(self):
        args = [self.binary, "serve", "--port", "0", *self.args]
        if "--smtp-port" not in self.args:
            args += ["--smtp-port", "0"]  # never contend for SES's default 2587
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=self.env)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"understudy exited before its ready line: {err}")
        self.ready_line = line.rstrip("\n")
        match = READY.match(self.ready_line)
        if not match:
            raise RuntimeError(f"unexpected ready line: {self.ready_line!r}")
        self.endpoint = match.group(2)
        # The ready line is printed once the endpoint listens: it must answer at once.
        status, health = self.get("/_understudy/health")
        if status != 200 or health.get("status") != "ok":
            raise RuntimeError(f"understudy's health after its ready line: {status} {health}")
        return self

    def stop(self, timeout=10.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        rest_out = self.proc.stdout.read()
        self.stderr = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        code = self.proc.returncode
        self.proc = None
        self.extra_stdout = rest_out
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def smtp_port(self):
        status, health = self.get("/_understudy/health")
        return health["ses"]["smtp"]["port"]

    @property
    def port(self):
        return int(self.endpoint.rsplit(":", 1)[1])

    def request(self, method, path, body=None, headers=None, timeout=30):
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path):
        status, _, body = self.request("GET", path)
        return status, json.loads(body)

    def post(self, path, body=None):
        status, _, raw = self.request("POST", path, body if body is not None else {},
                                      {"Content-Type": "application/json"})
        return status, json.loads(raw)

    def aws_env(self):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        env.pop("AWS_PROFILE", None)
        return env

    def aws(self, *args, check=False):
        """Runs the real AWS CLI against this endpoint; returns (rc, parsed-or-raw stdout, stderr)."""
        cmd = ["aws", "--endpoint-url", self.endpoint, "--output", "json", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.aws_env(), timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        out = proc.stdout
        try:
            out = json.loads(out) if out.strip() else None
        except ValueError:
            pass
        return proc.returncode, out, proc.stderr

    def client(self, service, region="us-east-1", access_key="test", validate=True):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=access_key, aws_secret_access_key="test",
                            config=Config(parameter_validation=validate,
                                          retries={"max_attempts": 1}))


def wait_until(condition, timeout=10.0, what="condition", interval=0.02):
    """Waits for condition() to return something truthy and returns it; fails at the deadline.

    For states no event announces (a port that starts to listen, a process table
    entry); the short pause between checks is this wait's poll interval, bounded by
    the deadline. Prefer an event where there is one: wait_process_gone, Rendezvous,
    or the emulator's own POST /_understudy/wait.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)  # poll interval of a deadline-bounded wait


def wait_process_gone(pid, timeout=10.0):
    """Waits for process `pid` to terminate (zombies count as gone), through a pidfd."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)


class Rendezvous:
    """A named pipe a process under test writes a line to when it reaches a point.

        with Rendezvous(tmp) as point:
            ... command: ["/bin/sh", "-c", f"do-work; echo done > {point.path}; exec sleep 300"]
            point.wait()          # returns "done", or fails at the deadline
    """

    def __init__(self, directory, name="rendezvous"):
        self.path = os.path.join(directory, name)
        os.mkfifo(self.path)
        # Open before the writer: its open then succeeds at once, and poll wakes on data.
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)

    def wait(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                raise AssertionError(f"timed out after {timeout}s waiting for {self.path}")
            chunk = os.read(self.fd, 4096)
            data += chunk
        return data.decode().strip()

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def binary_from_env():
    path = os.environ.get("UNDERSTUDY_BINARY")
    if not path:
        raise RuntimeError("UNDERSTUDY_BINARY is not set (ctest sets it)")
    return path
