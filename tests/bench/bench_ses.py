#!/usr/bin/env python3
"""SES intake throughput: SES v2 SendEmail API calls/s and SMTP messages/s.

Starts understudy out of the sandbox with unlimited quotas, then
  1. runs wrk (keep-alive, 10 connections) POSTing SES v2 SendEmail (restJson1: routed,
     decoded, validated, MIME built, parsed, stored in SQLite, events recorded);
  2. opens 10 SMTP connections and sends messages over each with PIPELINING (MAIL, RCPT,
     DATA and the body in one write, then the four replies), like a busy relay.
After each phase it checks that every accepted message is stored and searchable
(GET /_understudy/ses/messages?to=...). Targets (issue 7): 5 000 API calls/s and
2 000 SMTP messages/s.

    python3 tests/bench/bench_ses.py --binary build/understudy [--duration 10] [--smtp-messages 20000]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from bench_support import free_port, wait_http

API_TARGET = 5000
SMTP_TARGET = 2000

LUA = r"""
wrk.method = "POST"
wrk.path = "/v2/email/outbound-emails"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0"
wrk.body = '{"FromEmailAddress":"noreply@example.org","Destination":{"ToAddresses":["api@bench.example.org"]},"Content":{"Simple":{"Subject":{"Data":"Your code"},"Body":{"Text":{"Data":"Your code is 123456. https://example.org/verify?t=abc"},"Html":{"Data":"<p>Your code is <b>123456</b></p>"}}}}}'
"""


def cpu_seconds(pid):
    """User + system CPU time the process has used (load-independent cost)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get_json(endpoint, path):
    with urllib.request.urlopen(endpoint + path, timeout=60) as r:
        return json.loads(r.read())


def count(endpoint, to):
    return get_json(endpoint, f"/_understudy/ses/messages?to={to}&limit=1")["total"]


def bench_api(endpoint, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s",
                              "-s", script, endpoint], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, requests, int(non2xx.group(1)) if non2xx else 0


def smtp_worker(port, messages, index, results):
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return line

    reply()
    sock.sendall(b"EHLO bench\r\n")
    reply()
    body = (f"From: noreply@example.org\r\nTo: smtp@bench.example.org\r\nSubject: bench {index}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Your code is 123456.\r\n").encode()
    batch = (b"MAIL FROM:<noreply@example.org>\r\nRCPT TO:<smtp@bench.example.org>\r\nDATA\r\n" +
             body + b".\r\n")
    ok = 0
    for _ in range(messages):
        sock.sendall(batch)
        codes = [reply()[:3] for _ in range(4)]
        if codes == [b"250", b"250", b"354", b"250"]:
            ok += 1
    sock.sendall(b"QUIT\r\n")
    reply()
    sock.close()
    results[index] = ok


def bench_smtp(port, total, connections):
    per = total // connections
    results = [0] * connections
    threads = [threading.Thread(target=smtp_worker, args=(port, per, i, results)) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return sum(results) / elapsed, sum(results), per * connections


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--smtp-messages", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    port, smtp_port = free_port(), free_port()
    state = tempfile.mkdtemp()
    proc = subprocess.Popen([args.binary, "serve", "--port", str(port), "--smtp-port", str(smtp_port),
                             "--state-dir", state, "--ses-production", "--ses-max-send-rate", "0",
                             "--ses-max-24h-send", "-1", "--log-level", "warn"],
                            stdout=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(endpoint + "/_understudy/health")
        req = urllib.request.Request(endpoint + "/", method="POST",
                                     data=b"Action=VerifyDomainIdentity&Version=2010-12-01&Domain=example.org",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0"})
        urllib.request.urlopen(req).read()
        cpu0 = cpu_seconds(proc.pid)
        rps, requests, failed = bench_api(endpoint, args.duration, args.connections)
        api_cpu = (cpu_seconds(proc.pid) - cpu0) / max(requests, 1) * 1e6
        stored = count(endpoint, "api@bench.example.org")
        print(f"SES v2 SendEmail API: {rps:,.0f} calls/s over {args.duration}s, {args.connections} "
              f"connections ({requests} calls, {failed} non-2xx; {stored} stored and searchable; "
              f"{api_cpu:.0f} us of emulator CPU per call) "
              f"target {API_TARGET:,}/s -> {'met' if rps >= API_TARGET else 'NOT met'}")
        cpu0 = cpu_seconds(proc.pid)
        mps, ok, sent = bench_smtp(smtp_port, args.smtp_messages, args.connections)
        smtp_cpu = (cpu_seconds(proc.pid) - cpu0) / max(ok, 1) * 1e6
        stored = count(endpoint, "smtp@bench.example.org")
        print(f"SMTP intake: {mps:,.0f} messages/s with {args.connections} connections "
              f"({ok}/{sent} accepted; {stored} stored and searchable; "
              f"{smtp_cpu:.0f} us of emulator CPU per message) "
              f"target {SMTP_TARGET:,}/s -> {'met' if mps >= SMTP_TARGET else 'NOT met'}")
        search_start = time.monotonic()
        hits = get_json(endpoint, "/_understudy/ses/messages?q=bench%209&limit=5")["total"]
        print(f"free-text search over {stored + requests} messages: {hits} hit(s) in "
              f"{(time.monotonic() - search_start) * 1000:.0f} ms")
    finally:
        proc.terminate()
        proc.wait(30)
        subprocess.run(["rm", "-rf", state])
    return 0


if __name__ == "__main__":
    sys.exit(main())
