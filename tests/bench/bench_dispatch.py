#!/usr/bin/env python3
"""API dispatch throughput: understudy's front door beside nginx, in one run.

Starts nginx (Debian's nginx-light) serving a static 200 on a free loopback
port, and understudy on another; runs wrk with keep-alive against each — a
static GET for nginx, an ECS ListClusters (awsJson1_1, routed, decoded,
validated, journaled, encoded) for understudy — and prints both figures and
the ratio. Target: understudy >= 40 % of nginx's requests per second.

    python3 tests/bench/bench_dispatch.py --binary build/understudy [--duration 10]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_support import free_port, wait_http

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_RATIO = 0.40


def start_nginx(workdir, port):
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes auto;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{{"clusterArns":[]}}'; }}
  }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", conf, "-p", workdir], stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc


def wrk(url, duration, threads, connections, script=None):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, (p99.group(1) + p99.group(2)) if p99 else "?", int(errors.group(1)) if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"bench_dispatch: {tool} is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as workdir:
        nginx_port = free_port()
        nginx = start_nginx(workdir, nginx_port)
        emulator = subprocess.Popen([args.binary, "serve", "--port", "0", "--log-level", "warn"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        endpoint = emulator.stdout.readline().strip().rsplit(" ", 1)[1]
        wait_http(endpoint + "/_understudy/health")
        try:
            # Warm both up, then measure.
            wrk(f"http://127.0.0.1:{nginx_port}/", 1, args.threads, args.connections)
            wrk(endpoint + "/", 1, args.threads, args.connections, os.path.join(HERE, "list_clusters.lua"))
            n_rps, n_p99, n_err = wrk(f"http://127.0.0.1:{nginx_port}/", args.duration,
                                      args.threads, args.connections)
            u_rps, u_p99, u_err = wrk(endpoint + "/", args.duration, args.threads, args.connections,
                                      os.path.join(HERE, "list_clusters.lua"))
        finally:
            emulator.terminate()
            emulator.wait(10)
            nginx.terminate()
            nginx.wait(10)
    ratio = u_rps / n_rps
    print(f"wrk: {args.threads} thread(s), {args.connections} keep-alive connections, {args.duration}s each")
    print(f"{'':34}{'req/s':>12}{'p99':>10}{'non-2xx':>10}")
    print(f"{'nginx static 200':34}{n_rps:>12.0f}{n_p99:>10}{n_err:>10}")
    print(f"{'understudy ecs ListClusters':34}{u_rps:>12.0f}{u_p99:>10}{u_err:>10}")
    print(f"ratio understudy/nginx: {ratio:.2f} (target >= {TARGET_RATIO:.2f}): "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
