"""Scenarios end to end: `understudy run` on real scenario files, each against its own
emulator, and the control endpoint POST /_understudy/call the scenarios speak through.

A passing scenario exits 0 with a report of every expectation; a failing expectation
exits 1 and names the step, line, expectation and what was found; an invalid file exits
2 with file:line and runs nothing; --junit writes the failure text and the seed; the same
scenario with the same seed reports the same outcome twice.
"""
import json
import os
import re
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "scenarios", "examples")
BAD = os.path.join(HERE, "scenarios")


def run(*args, timeout=280):
    proc = subprocess.run([BINARY, "run", *args], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def strip_comments(text):
    """JSON with // and /* */ comments -> JSON (strings are left alone)."""
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            i = text.find("\n", i) - 1 if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 1
        else:
            out.append(c)
        i += 1
    return "".join(out)


def outcome_lines(stdout):
    """The report without wall times: what must be identical between equal runs."""
    lines = []
    for line in stdout.splitlines():
        if line.startswith(("  PASS", "  FAIL", "Scenario ", "Journal: ")):
            lines.append(re.sub(r", \d+ ms wall$", "", line))
    return lines


class SchemaTest(unittest.TestCase):
    """docs/scenario.schema.json accepts the examples and refuses what the runner refuses."""

    def test_examples_against_the_schema(self):
        try:
            import jsonschema
        except ImportError:
            self.skipTest("jsonschema is not installed")
        with open(os.path.join(ROOT, "docs", "scenario.schema.json")) as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema)
        names = [os.path.join(EXAMPLES, n) for n in os.listdir(EXAMPLES) if n.endswith(".json")]
        names += [os.path.join(BAD, n) for n in ("failing-expectation.json", "never-met.json",
                                                 "missing-save.json", "traffic-failing.json")]
        for name in names:
            with open(name) as f:
                doc = json.loads(strip_comments(f.read()))
            errors = [e.message for e in validator.iter_errors(doc)]
            self.assertEqual(errors, [], name)
        with open(os.path.join(BAD, "invalid.json")) as f:
            self.assertFalse(validator.is_valid(json.loads(strip_comments(f.read()))))
        self.assertFalse(validator.is_valid({"steps": [{"sleep": 1}]}))
        self.assertFalse(validator.is_valid({"steps": [{"expect": {"call": {"service": "ecs", "operation": "X"}, "equal": 1}}]}))


class CallEndpointTest(unittest.TestCase):
    """POST /_understudy/call: any registered operation in its own request shape."""

    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual").start()
        self.addCleanup(self.emulator.stop)

    def call(self, body):
        return self.emulator.post("/_understudy/call", body)

    def test_json_and_query_services(self):
        status, answer = self.call({"service": "ecs", "operation": "CreateCluster",
                                    "input": {"clusterName": "web"}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["output"]["cluster"]["clusterName"], "web")
        # The call is the same operation the AWS API runs: boto3 sees the cluster.
        ecs = self.emulator.client("ecs")
        self.assertEqual([c["clusterName"] for c in ecs.describe_clusters(clusters=["web"])["clusters"]],
                         ["web"])
        # ELBv2 speaks the query protocol on the wire; here it takes and gives JSON.
        status, answer = self.call({"service": "elbv2", "operation": "CreateLoadBalancer",
                                    "input": {"Name": "web", "Subnets": ["subnet-a", "subnet-b"]}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["output"]["LoadBalancers"][0]["LoadBalancerName"], "web")
        # Writes are journaled like any API call.
        _, journal = self.emulator.get("/_understudy/journal")
        subjects = [e["subject"] for e in journal["entries"]]
        self.assertIn("ecs.CreateCluster", subjects)
        self.assertIn("elbv2.CreateLoadBalancer", subjects)

    def test_api_errors_in_the_answer(self):
        status, answer = self.call({"service": "ecs", "operation": "DeleteCluster",
                                    "input": {"cluster": "nope"}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["error"]["code"], "ClusterNotFoundException")
        self.assertEqual(answer["status"], 400)
        # Model validation, as on the wire.
        status, answer = self.call({"service": "ecs", "operation": "CreateService",
                                    "input": {"cluster": "web"}})
        self.assertEqual(answer["error"]["code"], "ValidationException", answer)
        self.assertIn("serviceName", answer["error"]["message"])
        status, answer = self.call({"service": "ecs", "operation": "NoSuchThing"})
        self.assertEqual(answer["error"]["code"], "UnknownOperationException")
        status, answer = self.call({"service": "nosuch", "operation": "X"})
        self.assertEqual(answer["error"]["code"], "UnknownOperationException")

    def test_malformed_requests(self):
        status, answer = self.call({"operation": "CreateCluster"})
        self.assertEqual(status, 400)
        self.assertEqual(answer["error"], "InvalidCallRequest")
        status, answer = self.call({"service": "ecs", "operation": "CreateCluster", "inptu": {}})
        self.assertEqual(status, 400)
        self.assertIn("unknown field 'inptu'", answer["message"])
        status, answer = self.call({"service": "ecs", "operation": "ListClusters", "account": "12"})
        self.assertEqual(status, 400)
        self.assertEqual(answer["message"], '"account" must be a 12-digit account id, got "12"')
        status, answer = self.call({"service": "ecs", "operation": "CreateCluster",
                                    "input": {"clusterName": "eu"}, "region": "eu-west-1",
                                    "account": "123456789012"})
        self.assertEqual(answer["output"]["cluster"]["clusterArn"],
                         "arn:aws:ecs:eu-west-1:123456789012:cluster/eu")


class RunTest(unittest.TestCase):
    def test_examples_pass_and_report_every_expectation(self):
        code, out, err = run(os.path.join(EXAMPLES, "api-errors.json"))
        self.assertEqual(code, 0, out + err)
        self.assertIn("Scenario api-errors: PASSED", out)
        self.assertRegex(out, r"PASS  steps\[2\] \(line \d+\) ecs.DeleteCluster fails with "
                              r"ClusterNotFoundException -- got ClusterNotFoundException")
        self.assertNotIn("FAIL ", out)

    def test_saved_values_feed_later_calls(self):
        code, out, err = run(os.path.join(EXAMPLES, "alb-listener.json"))
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out, r'PASS  steps\[1\] \(line 21\) elbv2.DescribeListeners: '
                              r'Listeners\[0\].DefaultActions\[0\].TargetGroupArn equals '
                              r'"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/api/[0-9a-f]+"')
        code, out, err = run(os.path.join(BAD, "missing-save.json"))
        self.assertEqual(code, 1, out + err)
        self.assertIn("FAIL  steps[0] (line 5) ecs.ListClusters: save clusterArn from clusterArns[0] "
                      "-- clusterArns[0] is missing (clusterArns has 0 elements)", out)
        self.assertNotIn("steps[1] call", out)

    def test_service_reaches_steady_state(self):
        code, out, err = run(os.path.join(EXAMPLES, "ecs-service-steady.json"))
        self.assertEqual(code, 0, out + err)
        self.assertIn("PASS  steps[2] (line", out)
        self.assertIn("services[0].runningCount equals 2 -- got 2", out)
        # Scaling out to 3 is retried on the virtual clock until it holds.
        self.assertRegex(out, r"PASS  steps\[8\] \(line \d+\) ecs.DescribeServices: services\[0\]"
                              r".runningCount equals 3 within 5m -- got 3 after \d+s")
        self.assertRegex(out, r"steps\[9\] advanceTo \+2h +@2026-11-23T10:00:00.000Z +\d+ ms +ok")
        self.assertIn("Scenario ecs-service-steady: PASSED (10 of 10 expectations held), seed 7, "
                      "virtual time 2026-11-23T08:00:00.000Z .. 2026-11-23T10:00:00.000Z", out)
        # Progress per step: index, kind, virtual time, wall time.
        self.assertRegex(out, r"steps\[4\] advance 1h +@2026-11-23T\d\d:\d\d:\d\d(\.\d+)?Z +\d+ ms +ok")

    def test_failing_expectation_exits_1_with_evidence(self):
        code, out, err = run(os.path.join(BAD, "failing-expectation.json"))
        self.assertEqual(code, 1, out + err)
        self.assertIn('FAIL  steps[2] (line 7) ecs.DescribeClusters: clusters[0].status equals '
                      '"INACTIVE" -- got "ACTIVE"', out)
        # The failure does not hide the expectations after it.
        self.assertIn('PASS  steps[3] (line 10) ecs.DescribeClusters: clusters[0].clusterName '
                      'equals "web"', out)
        self.assertIn("Scenario failing-expectation: FAILED (1 of 2 expectations held)", out)

    def test_never_met_reports_the_last_state(self):
        code, out, err = run(os.path.join(BAD, "never-met.json"))
        self.assertEqual(code, 1, out + err)
        # Retried on the virtual clock: 08:00:00, :10, :20, :30.
        self.assertIn('FAIL  steps[1] (line 9) ecs.DescribeClusters: clusters[0].status equals '
                      '"INACTIVE" within 30s -- did not hold within 30s; last: got "ACTIVE"', out)
        self.assertRegex(out, r"steps\[1\] expect ecs.DescribeClusters +@2026-11-23T08:00:30")
        self.assertRegex(out, r'FAIL  steps\[2\] \(line 13\) waitFor \{"ecsCluster":.*\} within 10m '
                              r'-- not met; last observed: \{.*ACTIVE')
        self.assertIn("stopping: the steps after steps[2] depend on it", out)
        self.assertNotIn("steps[3] advance", out)

    def test_timeout_in_real_time(self):
        code, out, err = run(os.path.join(EXAMPLES, "api-errors.json"), "--timeout", "1ms")
        self.assertEqual(code, 1, out + err)
        self.assertIn("the scenario ran out of its --timeout (real time) before this step", out)

    def test_invalid_file_exits_2_and_runs_nothing(self):
        code, out, err = run(os.path.join(BAD, "invalid.json"), os.path.join(EXAMPLES, "api-errors.json"))
        self.assertEqual(code, 2, out + err)
        self.assertIn(os.path.join(BAD, "invalid.json") + ":7:17: steps[1].advance: found \"soon\"; "
                      "expected a duration string", err)
        self.assertEqual(out, "")  # nothing ran, not even the valid file

    def test_junit_and_seed(self):
        with tempfile.TemporaryDirectory() as tmp:
            junit = os.path.join(tmp, "report.xml")
            code, out, err = run(os.path.join(BAD, "failing-expectation.json"),
                                 os.path.join(EXAMPLES, "api-errors.json"),
                                 "--junit", junit, "--seed", "1234")
            self.assertEqual(code, 1, out + err)
            self.assertIn("seed 1234", out)
            root = ET.parse(junit).getroot()
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(root.get("tests"), "2")
        self.assertEqual(root.get("failures"), "1")
        suites = {s.get("name"): s for s in root.findall("testsuite")}
        self.assertEqual(set(suites), {"failing-expectation", "api-errors"})
        for suite in suites.values():
            seeds = [p.get("value") for p in suite.iter("property") if p.get("name") == "seed"]
            self.assertEqual(seeds, ["1234"])
            prints = [p.get("value") for p in suite.iter("property")
                      if p.get("name") == "journalFingerprint"]
            self.assertRegex(prints[0], r"^[0-9a-f]{16}$")
        failure = suites["failing-expectation"].find("testcase/failure")
        self.assertIsNotNone(failure)
        self.assertIn('clusters[0].status equals "INACTIVE": got "ACTIVE"', failure.get("message"))
        self.assertIn('clusters[0].status equals "INACTIVE": got "ACTIVE"', failure.text)
        self.assertIsNone(suites["api-errors"].find("testcase/failure"))

    def test_filter(self):
        code, out, err = run(EXAMPLES, "--filter", "api-err")
        self.assertEqual(code, 0, out + err)
        self.assertIn("== api-errors", out)
        self.assertNotIn("== ecs-service-steady", out)
        code, out, err = run(EXAMPLES, "--filter", "no-such-scenario")
        self.assertEqual(code, 2)
        self.assertIn("no scenario matches --filter", err)

    def test_same_seed_same_outcome(self):
        path = os.path.join(EXAMPLES, "ecs-service-steady.json")
        first = run(path, "--seed", "99")
        second = run(path, "--seed", "99")
        self.assertEqual(first[0], 0, first[1] + first[2])
        self.assertEqual(second[0], 0, second[1] + second[2])
        self.assertTrue(outcome_lines(first[1]))
        # The journals (inputs, transitions, virtual times) are the same, not just the report.
        self.assertRegex(first[1], r"Journal: [1-9]\d* entries, fingerprint [0-9a-f]{16}")
        self.assertEqual(outcome_lines(first[1]), outcome_lines(second[1]))
        # The seed is used: another one draws other task ids.
        other = run(path, "--seed", "100")
        self.assertEqual(other[0], 0, other[1] + other[2])
        self.assertNotEqual(outcome_lines(first[1]), outcome_lines(other[1]))


if __name__ == "__main__":
    unittest.main()
