"""Record and replay: `understudy run FILE --record R` writes a self-contained record;
`understudy replay R` runs it again and compares journals entry by entry — identical
runs exit 0, and a changed seed or a changed step is reported as the first divergence
with both sides (exit 1). A record does not need the scenario's files any more.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from understudy_process import binary_from_env

BINARY = binary_from_env()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "scenarios", "examples")


def understudy(*args, timeout=280):
    proc = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


class ReplayTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="understudy-replay-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def record(self, scenario, *extra):
        path = os.path.join(self.dir, "run.journal")
        code, out, err = understudy("run", scenario, "--record", path, *extra)
        self.assertEqual(code, 0, out + err)
        self.assertIn("Recorded ", out)
        with open(path) as f:
            return path, json.load(f)

    def rewrite(self, path, doc):
        with open(path, "w") as f:
            json.dump(doc, f)

    def test_a_record_is_self_contained_and_replays_identically(self):
        # The scenario and its task definition are copied away, recorded, then deleted.
        copy = os.path.join(self.dir, "scenario")
        shutil.copytree(EXAMPLES, copy)
        path, doc = self.record(os.path.join(copy, "ecs-service-steady.json"))
        self.assertEqual(doc["format"], "understudy-record")
        self.assertEqual(doc["seed"], 7)
        self.assertTrue(doc["start"].startswith("2026-11-23T08:00:00"), doc["start"])
        self.assertIn("taskdefs/fixture-web.json", doc["scenario"]["files"])
        self.assertIn("UNDERSTUDY_FIXTURE_APP", doc["scenario"]["env"])
        self.assertIn("ecs-service-steady", doc["scenario"]["text"])
        subjects = [e["subject"] for e in doc["journal"]]
        self.assertEqual(subjects[0], "understudy.serve")
        self.assertIn("ecs.CreateService", subjects)
        self.assertIn("understudy.clock", subjects)
        self.assertGreater(sum(doc["random"].values()), 0, doc["random"])
        shutil.rmtree(copy)

        code, out, err = understudy("replay", path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("replayed %d entries, identical" % len(doc["journal"]), out)

    def test_a_different_seed_diverges(self):
        path, doc = self.record(os.path.join(EXAMPLES, "ecs-service-steady.json"))
        doc["seed"] = 8
        self.rewrite(path, doc)
        code, out, err = understudy("replay", path)
        self.assertEqual(code, 1, out + err)
        self.assertIn("first divergence at journal index 0", out)
        self.assertIn('"seed":7', out)   # the recorded side
        self.assertIn('"seed":8', out)   # the replayed side
        self.assertIn("recorded: seq 1, virtual 2026-11-23T08:00:00", out)

    def test_a_changed_step_diverges_where_it_acts(self):
        path, doc = self.record(os.path.join(EXAMPLES, "ecs-service-steady.json"))
        doc["scenario"]["text"] = doc["scenario"]["text"].replace(
            '"desiredCount": 2', '"desiredCount": 1', 1)
        self.rewrite(path, doc)
        code, out, err = understudy("replay", path)
        self.assertEqual(code, 1, out + err)
        index = next(i for i, e in enumerate(doc["journal"]) if e["subject"] == "ecs.CreateService")
        self.assertIn("first divergence at journal index %d" % index, out)
        self.assertIn('"desiredCount":2', out.split("replayed:")[0])
        self.assertIn('"desiredCount":1', out.split("replayed:")[1])

    def test_a_changed_journal_entry_is_found(self):
        path, doc = self.record(os.path.join(EXAMPLES, "alb-listener.json"))
        doc["journal"][-1]["time"] = "2030-01-01T00:00:00.000Z"
        self.rewrite(path, doc)
        code, out, _ = understudy("replay", path)
        self.assertEqual(code, 1, out)
        self.assertIn("first divergence at journal index %d" % (len(doc["journal"]) - 1), out)
        self.assertIn("virtual 2030-01-01T00:00:00.000Z", out)

    def test_bad_records_and_usage(self):
        code, _, err = understudy("replay", os.path.join(self.dir, "none.journal"))
        self.assertEqual(code, 2)
        self.assertIn("cannot read", err)
        bogus = os.path.join(self.dir, "bogus.journal")
        with open(bogus, "w") as f:
            f.write('{"format": "other"}')
        code, _, err = understudy("replay", bogus)
        self.assertEqual(code, 2)
        self.assertIn("not a record", err)
        code, _, err = understudy("replay")
        self.assertEqual(code, 2)
        self.assertIn("needs a record file", err)
        # --record takes one scenario.
        code, _, err = understudy("run", EXAMPLES, "--record", os.path.join(self.dir, "x"))
        self.assertEqual(code, 2)
        self.assertIn("--record records one scenario", err)


if __name__ == "__main__":
    unittest.main()
