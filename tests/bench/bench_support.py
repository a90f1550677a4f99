"""Pieces the benchmarks share: a free loopback port, and waiting for an HTTP server
to answer (a deadline-bounded poll: the peers here offer no readiness signal)."""
import socket
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, deadline=15.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.02)  # poll interval of a deadline-bounded wait
    raise RuntimeError(f"{url} did not answer")
