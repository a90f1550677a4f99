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

    def start(self, timeout=10.0):
        args = [self.binary, "serve", "--port", "0", *self.args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=self.env)
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"understudy exited before its ready line: {err}")
        self.ready_line = line.rstrip("\n")
        match = READY.match(self.ready_line)
        if not match:
            raise RuntimeError(f"unexpected ready line: {self.ready_line!r}")
        self.endpoint = match.group(2)
        while time.monotonic() < deadline:
            try:
                self.get("/_understudy/health")
                return self
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("understudy did not answer /_understudy/health in time")

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


def binary_from_env():
    path = os.environ.get("UNDERSTUDY_BINARY")
    if not path:
        raise RuntimeError("UNDERSTUDY_BINARY is not set (ctest sets it)")
    return path
