#!/usr/bin/env python3
"""Start-up and idle-memory benchmark for `understudy serve`.

Measures, over N runs, the wall time from spawning `understudy serve --port 0`
to the first successful GET /_understudy/health, and the idle resident memory
(VmRSS) one second after start with one ECS call served. Prints the figures
beside the peer's published ones (peers.md: the newest emulator peer reports
0.3-0.5 s to start and about 10 MiB idle; no peer binary is installable here).

    python3 tests/bench/bench_startup.py --binary build/understudy [--runs 20]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request

TARGET_READY_MS = 50.0
TARGET_RSS_MB = 8.0


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_run(binary):
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--log-level", "warn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    endpoint = line.strip().rsplit(" ", 1)[1]
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/_understudy/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
    ready_ms = (time.perf_counter() - start) * 1000
    body = b"{}"
    req = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
    urllib.request.urlopen(req, timeout=5).read()
    time.sleep(1.0)  # let it go idle; this is a measurement, not synchronisation
    rss_mb = rss_kb(proc.pid) / 1024
    proc.terminate()
    proc.wait(10)
    return ready_ms, rss_mb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/understudy")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"bench_startup: no binary at {args.binary}; build first")
    results = [one_run(args.binary) for _ in range(args.runs)]
    ready = sorted(r[0] for r in results)
    rss = sorted(r[1] for r in results)
    p90 = ready[max(0, int(len(ready) * 0.9) - 1)]
    print(f"runs: {args.runs}")
    print(f"{'':28}{'understudy':>14}{'peer (published)':>20}{'target':>10}")
    print(f"{'ready, median (ms)':28}{statistics.median(ready):>14.1f}{'300-500':>20}{'< 50':>10}")
    print(f"{'ready, p90 (ms)':28}{p90:>14.1f}{'':>20}{'':>10}")
    print(f"{'idle RSS, median (MiB)':28}{statistics.median(rss):>14.2f}{'~10':>20}{'<= 8':>10}")
    ok = statistics.median(ready) < TARGET_READY_MS and statistics.median(rss) <= TARGET_RSS_MB
    print("targets:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
