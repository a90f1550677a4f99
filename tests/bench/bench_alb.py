#!/usr/bin/env python3
"""ALB data plane: understudy's load balancer beside nginx and HAProxy as reverse proxies.

One backend for all three — nginx (Debian's nginx-light) answering a small static body
on a free loopback port — and three proxies in front of it, each on its own free port:

  - nginx as a reverse proxy: `worker_processes auto`, an upstream with `keepalive`,
    `proxy_http_version 1.1` and `proxy_set_header Connection ""`;
  - HAProxy (Debian's haproxy) in http mode, `nbthread 2`, `http-reuse always`,
    keep-alive both ways, in the foreground (`-db`) with a generated config;
  - understudy: a load balancer, an `ip` target group with the backend registered as
    127.0.0.1:<port>, and an HTTP listener forwarding to it, made through the ELBv2
    API (awsQuery over plain HTTP); the listener's local port comes from
    GET /_understudy/elb, and the run starts once POST /_understudy/wait says the
    target is healthy. The data plane runs 2 threads, as nginx's `auto` and HAProxy's
    `nbthread 2` do on 2 cores.

Then wrk with keep-alive against each proxy in turn (and the backend alone, for
reference): `-t2 -c64 --latency` in interleaved rounds (medians reported), then
`-t2 -c2000` once, reporting requests/s, p50, p99, errors (wrk's socket errors plus
non-2xx/3xx answers), CPU per request (user + system time of the proxy's processes
over the run, divided by the requests answered: the figure least moved by other load
on the machine) and memory (VmRSS and Pss from /proc, master and workers summed; the
peaks sampled during the run).
Targets (issue: ALB data plane): understudy >= 90 % of nginx's requests/s and
p99 <= nginx's p99 + 0.5 ms at 64 connections; at 2 000 connections no errors and
bounded memory. Exits 0 whatever the figures; non-zero only when something could
not run.

    python3 tests/bench/bench_alb.py --binary build/understudy [--duration 10] [--rounds 3]
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from bench_support import free_port, wait_http
import xml.etree.ElementTree as ET

TARGET_THROUGHPUT = 0.90  # of nginx's requests/s
TARGET_P99_SLACK_MS = 0.5  # over nginx's p99
BODY = "understudy bench: a small static body\n"
NOFILE = 65536  # wanted; the hard limit may be lower


def raise_nofile():
    """Lets this process and its children hold 2 000 connections and their upstreams;
    returns the descriptor limit they get."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def spawn(cmd, **kwargs):
    return subprocess.Popen(cmd, preexec_fn=raise_nofile, **kwargs)


def serving(proc, url):
    """proc once url answers; stopped, and the error raised, if it does not."""
    try:
        wait_http(url)
    except RuntimeError:
        stop(proc)
        raise
    return proc


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def nginx_conf(workdir, name, body):
    """An nginx config under workdir/name with the given http-block body."""
    root = os.path.join(workdir, name)
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes auto;
worker_rlimit_nofile {raise_nofile()};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
{body}
}}
""")
    return conf, root


def start_nginx(conf, root, port):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = spawn([nginx, "-c", conf, "-p", root], stderr=subprocess.DEVNULL)
    return serving(proc, f"http://127.0.0.1:{port}/")


def start_backend(workdir, port):
    conf, root = nginx_conf(workdir, "backend", f"""
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ default_type text/plain; return 200 '{BODY.rstrip()}\\n'; }}
  }}""")
    return start_nginx(conf, root, port)


def start_nginx_proxy(workdir, port, backend_port):
    conf, root = nginx_conf(workdir, "proxy", f"""
  upstream backend {{
    server 127.0.0.1:{backend_port};
    keepalive 1024;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}""")
    return start_nginx(conf, root, port)


def start_haproxy(workdir, port, backend_port):
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    conf = os.path.join(workdir, "haproxy.cfg")
    maxconn = min(20000, (raise_nofile() - 100) // 2)  # haproxy needs two descriptors a connection
    with open(conf, "w") as f:
        f.write(f"""
global
  nbthread 2
  maxconn {maxconn}

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  maxconn {maxconn}

frontend bench
  bind 127.0.0.1:{port}
  default_backend backend

backend backend
  server backend 127.0.0.1:{backend_port}
""")
    proc = spawn([haproxy, "-db", "-f", conf], stdout=subprocess.DEVNULL,
                 stderr=open(os.path.join(workdir, "haproxy.log"), "w"))
    return serving(proc, f"http://127.0.0.1:{port}/")


class Understudy:
    """understudy serve, and the few ELBv2 calls that put a load balancer in front of the backend."""

    def __init__(self, binary):
        self.proc = spawn([binary, "serve", "--port", "0", "--log-level", "warn"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.endpoint = self.proc.stdout.readline().strip().rsplit(" ", 1)[1]
        wait_http(self.endpoint + "/_understudy/health")

    def elbv2(self, action, **params):
        form = {"Action": action, "Version": "2015-12-01", **params}
        req = urllib.request.Request(self.endpoint + "/", data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return ET.fromstring(r.read())

    def json(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())

    def load_balancer(self, listener_port, backend_port):
        """Creates the load balancer; returns the listener's local port once the target is healthy."""
        def text(root, name):
            return next(e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == name)

        lb = self.elbv2("CreateLoadBalancer", Name="bench", **{"Subnets.member.1": "subnet-a",
                                                               "Subnets.member.2": "subnet-b"})
        tg = self.elbv2("CreateTargetGroup", Name="backend", Protocol="HTTP", Port=str(backend_port),
                        VpcId=text(lb, "VpcId"), TargetType="ip", HealthCheckPath="/",
                        HealthCheckIntervalSeconds="5", HealthCheckTimeoutSeconds="2",
                        HealthyThresholdCount="2")
        tg_arn = text(tg, "TargetGroupArn")
        self.elbv2("CreateListener", LoadBalancerArn=text(lb, "LoadBalancerArn"), Protocol="HTTP",
                   Port=str(listener_port), **{"DefaultActions.member.1.Type": "forward",
                                               "DefaultActions.member.1.TargetGroupArn": tg_arn})
        self.elbv2("RegisterTargets", TargetGroupArn=tg_arn,
                   **{"Targets.member.1.Id": "127.0.0.1", "Targets.member.1.Port": str(backend_port)})
        answer = self.json("POST", "/_understudy/wait", {
            "until": {"elbTargetHealth": {"targetGroupArn": tg_arn, "id": "127.0.0.1",
                                          "port": backend_port, "state": "healthy"}},
            "timeout": "60s"})
        if not answer.get("met"):
            raise RuntimeError(f"the target did not become healthy: {answer}")
        listeners = self.json("GET", "/_understudy/elb")["loadBalancers"][0]["listeners"]
        return listeners[0]["localPort"]


def tree(pid):
    """pid and its children (nginx's workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def memory_kib(pid):
    """(VmRSS, Pss) of pid and its children (nginx's workers) summed, in KiB. Summed RSS
    counts pages the processes share once per process; Pss divides them among them."""
    rss = pss = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                rss += int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
            with open(f"/proc/{p}/smaps_rollup") as f:
                pss += int(re.search(r"Pss:\s+(\d+) kB", f.read()).group(1))
        except (OSError, AttributeError):
            continue
    return rss, pss


class PeakMemory:
    """Samples a process tree's memory every 100 ms while a run lasts; keeps the peaks."""

    def __init__(self, pid):
        self.pid, self.rss, self.pss, self._done = pid, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _take(self):
        rss, pss = memory_kib(self.pid)
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _sample(self):
        while not self._done.is_set():
            self._take()
            self._done.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self._take()


def millis(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(port, duration, threads, connections):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
           "--timeout", "10s", f"http://127.0.0.1:{port}/"]
    run = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=raise_nofile)
    out = run.stdout
    if run.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {run.stderr or out}")
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
               "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        figures[f"p{pct}"] = millis(*m.groups()) if m else float("nan")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    figures["socket_errors"] = sum(map(int, socket_errors.groups())) if socket_errors else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    figures["errors"] = figures["socket_errors"] + figures["non_2xx"]
    figures["detail"] = socket_errors.group(0) if socket_errors else ""
    return figures


def cpu_ticks(pid):
    """User + system CPU of pid and its children (nginx's workers), in clock ticks."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(pid, port, duration, connections, threads):
    wrk(port, min(2, duration), threads, connections)  # warm up: connections, pools, caches
    before = cpu_ticks(pid)
    with PeakMemory(pid) as memory:
        figures = wrk(port, duration, threads, connections)
    spent = (cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK")
    figures["cpu_us"] = spent * 1e6 / max(1, figures["requests"])
    figures["rss"], figures["pss"] = memory.rss, memory.pss
    return figures


def median_of(runs):
    """Per figure, the median over rounds; errors summed; memory the highest."""
    out = {}
    for key in ("rps", "p50", "p99", "cpu_us"):
        out[key] = statistics.median(r[key] for r in runs)
    for key in ("errors", "non_2xx", "socket_errors"):
        out[key] = sum(r[key] for r in runs)
    out["rss"], out["pss"] = max(r["rss"] for r in runs), max(r["pss"] for r in runs)
    out["detail"] = "; ".join(r["detail"] for r in runs if r["errors"])
    out["rounds"] = runs
    return out


def print_table(title, rows):
    print(title)
    print(f"  {'':24}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>9}{'CPU us/req':>12}"
          f"{'RSS MiB':>10}{'PSS MiB':>10}")
    for name, f in rows:
        print(f"  {name:24}{f['rps']:>10.0f}{f['p50']:>9.2f}{f['p99']:>9.2f}{f['errors']:>9}"
              f"{f['cpu_us']:>12.1f}{f['rss'] / 1024:>10.1f}{f['pss'] / 1024:>10.1f}")
        if f["errors"]:
            print(f"  {'':24}{f['detail']}, non-2xx/3xx {f['non_2xx']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--many", type=int, default=2000, help="connections for the second run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds of the first run; medians are reported")
    args = parser.parse_args()
    for tool in ("wrk", "nginx", "haproxy"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            sys.exit(f"bench_alb: {tool} is not installed (apt-get install wrk nginx-light haproxy)")
    raise_nofile()
    procs = []
    with tempfile.TemporaryDirectory() as workdir:
        try:
            backend_port = free_port()
            procs.append(start_backend(workdir, backend_port))
            backend = ("backend alone (nginx)", procs[-1].pid, backend_port)
            nginx_port = free_port()
            procs.append(start_nginx_proxy(workdir, nginx_port, backend_port))
            nginx = ("nginx proxy", procs[-1].pid, nginx_port)
            haproxy_port = free_port()
            procs.append(start_haproxy(workdir, haproxy_port, backend_port))
            haproxy = ("haproxy", procs[-1].pid, haproxy_port)
            emulator = Understudy(args.binary)
            procs.append(emulator.proc)
            alb_port = emulator.load_balancer(free_port(), backend_port)
            understudy = ("understudy ALB", emulator.proc.pid, alb_port)
            proxies = (nginx, haproxy, understudy)

            # Rounds interleave the servers, so a burst of other load on the machine
            # falls on all of them rather than on one.
            rounds = {name: [] for name, _, _ in (backend,) + proxies}
            for _ in range(args.rounds):
                for name, pid, port in (backend,) + proxies:
                    rounds[name].append(measure(pid, port, args.duration, args.connections,
                                                args.threads))
            few = [(name, median_of(runs)) for name, runs in rounds.items()]
            many = [(name, measure(pid, port, args.duration, args.many, args.threads))
                    for name, pid, port in proxies]
        finally:
            for proc in reversed(procs):
                stop(proc)

    print(f"wrk -t{args.threads} -d{args.duration}s --latency, keep-alive; backend: nginx "
          f"returning a {len(BODY)}-byte body; RSS/PSS: peaks during the run, "
          "master and workers summed")
    print_table(f"{args.connections} connections, median of {args.rounds} interleaved rounds:", few)
    print_table(f"{args.many} connections, one round:", many)
    n = dict(few)["nginx proxy"]
    u = dict(few)["understudy ALB"]
    u_many = dict(many)["understudy ALB"]
    ratio = u["rps"] / n["rps"]
    p99_limit = n["p99"] + TARGET_P99_SLACK_MS
    checks = [
        (f"throughput vs nginx ({args.connections} conns)",
         f"{ratio:.2f} (target >= {TARGET_THROUGHPUT:.2f})", ratio >= TARGET_THROUGHPUT),
        (f"p99 vs nginx ({args.connections} conns)",
         f"{u['p99']:.2f} ms (target <= {n['p99']:.2f} + {TARGET_P99_SLACK_MS} = {p99_limit:.2f} ms)",
         u["p99"] <= p99_limit),
        (f"errors ({args.many} conns)", f"{u_many['errors']} (target 0)", u_many["errors"] == 0),
    ]
    print(f"understudy ALB CPU per request: {u['cpu_us'] / n['cpu_us']:.2f}x nginx's, "
          f"{u['cpu_us'] / dict(few)['haproxy']['cpu_us']:.2f}x haproxy's ({args.connections} conns)")
    print("understudy ALB against the targets:")
    for name, figure, ok in checks:
        print(f"  {name:32}{figure:52}{'PASS' if ok else 'FAIL'}")
    print(f"  {'peak RSS (' + str(args.many) + ' conns)':32}{u_many['rss'] / 1024:.1f} MiB "
          f"(nginx {dict(many)['nginx proxy']['rss'] / 1024:.1f}, "
          f"haproxy {dict(many)['haproxy']['rss'] / 1024:.1f}); reported, no fixed target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
