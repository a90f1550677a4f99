"""understudy's command line and process behaviour: flags, ready line, signals, state dirs."""
import os
import signal
import socket
import subprocess
import tempfile
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)


class CommandLineTest(unittest.TestCase):
    # --version prints the version and exits 0.
    def test_version(self):
        proc = run("--version")
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stdout, "understudy 0.1.0\n")

    # --help lists every serve flag and exits 0.
    def test_help(self):
        proc = run("--help")
        self.assertEqual(proc.returncode, 0)
        for flag in ["--host", "--port", "--state-dir", "--clock", "--start", "--seed",
                     "--account-id", "--log-level", "--hold-timeout"]:
            self.assertIn(flag, proc.stdout)

    # Usage errors name the flag and what was expected, and exit 2.
    def test_usage_errors(self):
        cases = {
            ("serve", "--bogus"): "understudy: unknown flag '--bogus' for 'serve'\n",
            ("serve", "--port", "70000"):
                "understudy: --port expects a whole number from 0 to 65535, got '70000'\n",
            ("serve", "--port"): "understudy: --port needs a value\n",
            ("serve", "--clock", "slow"):
                "understudy: --clock: unknown clock mode 'slow'; expected real, virtual or fast\n",
            ("serve", "--account-id", "123"): "understudy: --account-id expects 12 digits, got '123'\n",
            ("serve", "--start", "tomorrow"):
                "understudy: --start: 'tomorrow' is not an ISO-8601 instant; expected e.g. "
                "2026-11-23T08:00:00Z\n",
            ("serve", "--log-level", "loud"):
                "understudy: --log-level: unknown log level 'loud'; expected error, warn, info or debug\n",
            ("frobnicate",): "understudy: unknown command 'frobnicate'\n",
            (): "understudy: no command given; try 'understudy serve'\n",
        }
        for args, message in cases.items():
            with self.subTest(args=args):
                proc = run(*args)
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stderr, message + "Run 'understudy --help' for usage.\n")
                self.assertEqual(proc.stdout, "")


class ServeTest(unittest.TestCase):
    # serve prints one ready line (then the SES SMTP line), answers health, and stops cleanly on SIGTERM and SIGINT.
    def test_ready_line_and_signals(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig):
                emulator = Understudy(BINARY).start()
                self.assertRegex(emulator.ready_line,
                                 r"^understudy 0\.1\.0 listening on http://127\.0\.0\.1:\d+$")
                status, health = emulator.get("/_understudy/health")
                self.assertEqual(status, 200)
                self.assertEqual(health["status"], "ok")
                self.assertEqual(health["version"], "0.1.0")
                self.assertEqual(health["endpoint"], emulator.endpoint)
                self.assertIn("ecs", health["services"])
                state_dir = health["stateDir"]
                self.assertTrue(health["stateDirTemporary"])
                self.assertTrue(os.path.isdir(state_dir))
                emulator.proc.send_signal(sig)
                self.assertEqual(emulator.proc.wait(10), 0)
                self.assertEqual(emulator.stop(), 0)
                # After the ready line, one line per SES SMTP listener, with its port.
                self.assertEqual(emulator.extra_stdout,
                                 f"understudy SES SMTP listening on 127.0.0.1:{health['ses']['smtp']['port']}\n")
                self.assertFalse(os.path.exists(state_dir), "temporary state dir removed at exit")

    # A port that is taken is reported with the address, and the exit status is 1.
    def test_port_in_use(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = run("serve", "--port", str(port))
            self.assertEqual(proc.returncode, 1)
            self.assertIn(f"understudy: cannot listen on 127.0.0.1:{port}: ", proc.stderr)

    # A named state dir persists across restarts and is locked while one server uses it.
    def test_state_dir_persists_and_is_locked(self):
        with tempfile.TemporaryDirectory() as state:
            with Understudy(BINARY, "--state-dir", state) as first:
                rc, out, err = first.aws("ecs", "create-cluster", "--cluster-name", "web",
                                         "--tags", "key=team,value=platform")
                self.assertEqual(rc, 0, err)
                rc, out, err = first.aws("ecs", "create-cluster", "--cluster-name", "old")
                rc, out, err = first.aws("ecs", "delete-cluster", "--cluster", "old")
                self.assertEqual(rc, 0, err)
                second = subprocess.run([BINARY, "serve", "--port", "0", "--state-dir", state],
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(second.returncode, 1)
                self.assertIn(f"understudy: --state-dir {os.path.abspath(state)} is in use by "
                              "another understudy; stop it or pick another dir", second.stderr)
            with Understudy(BINARY, "--state-dir", state) as again:
                rc, out, err = again.aws("ecs", "describe-clusters", "--clusters", "web", "old",
                                         "--include", "TAGS")
                self.assertEqual(rc, 0, err)
                by_name = {c["clusterName"]: c for c in out["clusters"]}
                self.assertEqual(by_name["web"]["status"], "ACTIVE")
                self.assertEqual(by_name["web"]["tags"], [{"key": "team", "value": "platform"}])
                self.assertEqual(by_name["old"]["status"], "INACTIVE")
                rc, out, err = again.aws("ecs", "list-clusters")
                self.assertEqual(out["clusterArns"],
                                 ["arn:aws:ecs:us-east-1:000000000000:cluster/web"])
            self.assertTrue(os.path.exists(os.path.join(state, "state.db")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
