"""The /_understudy/ endpoints: health, clock, wait, reset, journal (brief §5)."""
import threading
import unittest

from understudy_process import Understudy, binary_from_env

BINARY = binary_from_env()
START = "2026-11-23T08:00:00.000Z"


class VirtualClockTest(unittest.TestCase):
    def setUp(self):
        self.emulator = Understudy(BINARY, "--clock", "virtual", "--start", START).start()

    def tearDown(self):
        self.emulator.stop()

    # A virtual clock stands still until moved, then moves exactly as asked.
    def test_clock_moves_only_when_asked(self):
        status, clock = self.emulator.get("/_understudy/clock")
        self.assertEqual(status, 200)
        self.assertEqual(clock["mode"], "virtual")
        self.assertEqual(clock["now"], START)
        self.assertEqual(clock["holds"], [])
        self.emulator.client("ecs").create_cluster(clusterName="web")
        self.assertEqual(self.emulator.get("/_understudy/clock")[1]["now"], START)
        status, clock = self.emulator.post("/_understudy/clock", {"advance": "90s"})
        self.assertEqual(status, 200)
        self.assertEqual(clock["now"], "2026-11-23T08:01:30.000Z")
        status, clock = self.emulator.post("/_understudy/clock", {"advance": "24h"})
        self.assertEqual(clock["now"], "2026-11-24T08:01:30.000Z")
        status, clock = self.emulator.post("/_understudy/clock", {"to": "2026-12-01T09:00:00Z"})
        self.assertEqual(clock["now"], "2026-12-01T09:00:00.000Z")
        status, health = self.emulator.get("/_understudy/health")
        self.assertEqual(health["clock"], {"mode": "virtual", "now": "2026-12-01T09:00:00.000Z"})

    # Bad clock requests get a precise error and leave the clock where it was.
    def test_clock_errors(self):
        cases = [
            ({"advance": "soon"}, 400, "'soon' is not a duration; expected a number and a unit "
                                       "(ms, s, m, h, d), e.g. 90s, 15m, 24h or 1h30m"),
            ({"to": "2020-01-01T00:00:00Z"}, 400,
             "cannot move the clock back from 2026-11-23T08:00:00.000Z to 2020-01-01T00:00:00.000Z"),
            ({"advance": "1m", "to": "2027-01-01T00:00:00Z"}, 400,
             "give exactly one of {\"advance\": \"90s\"} or {\"to\": \"<ISO-8601 instant>\"}"),
            ({"speed": 2}, 400, "unknown field 'speed'; expected \"advance\" or \"to\""),
            ({"advance": 90}, 400, "\"advance\" must be a string, found number"),
        ]
        for body, status, message in cases:
            with self.subTest(body=body):
                got, answer = self.emulator.post("/_understudy/clock", body)
                self.assertEqual(got, status)
                self.assertEqual(answer, {"error": "InvalidClockRequest", "message": message})
        self.assertEqual(self.emulator.get("/_understudy/clock")[1]["now"], START)

    # A wait that times out moves virtual time to its deadline and reports what it last saw.
    def test_wait_times_out_in_virtual_time(self):
        status, answer = self.emulator.post("/_understudy/wait", {
            "until": {"ecsCluster": {"cluster": "web"}}, "timeout": "15m"})
        self.assertEqual(status, 408)
        self.assertEqual(answer["error"], "WaitTimeout")
        self.assertFalse(answer["met"])
        self.assertEqual(answer["now"], "2026-11-23T08:15:00.000Z")
        self.assertEqual(answer["waited"], "15m")
        self.assertEqual(answer["observed"], {"cluster": "web", "status": "MISSING"})
        self.assertEqual(answer["message"],
                         "condition 'ecsCluster' did not hold within 15m; last observed: "
                         "{\"cluster\":\"web\",\"status\":\"MISSING\"}")

    # A wait returns as soon as its condition holds, without moving the clock further.
    def test_wait_met_by_a_later_request(self):
        result = {}

        def waiter():
            result["answer"] = self.emulator.post("/_understudy/wait", {
                "until": {"ecsCluster": {"cluster": "web", "status": "ACTIVE"}}, "timeout": "1h"})
        # The virtual clock would race to the deadline; hold it with real time by
        # waiting in real mode instead: here the condition is met before the wait starts.
        self.emulator.client("ecs").create_cluster(clusterName="web")
        thread = threading.Thread(target=waiter)
        thread.start()
        thread.join(30)
        status, answer = result["answer"]
        self.assertEqual(status, 200)
        self.assertTrue(answer["met"])
        self.assertEqual(answer["now"], START)
        self.assertEqual(answer["observed"], {"cluster": "web", "status": "ACTIVE"})

    # The emulator's own condition: idle holds when nothing is in flight.
    def test_wait_idle(self):
        status, answer = self.emulator.post("/_understudy/wait", {"until": {"idle": {}}, "timeout": "1m"})
        self.assertEqual(status, 200)
        self.assertTrue(answer["met"])

    # Bad wait requests name what is wrong.
    def test_wait_errors(self):
        cases = [
            ({}, "\"until\" must be an object with one condition, e.g. {\"until\": {\"idle\": {}}, "
                 "\"timeout\": \"15m\"}; conditions: chaosExperiment, cloudwatchAlarm, ecsCluster, ecsService, ecsTask, elbTargetHealth, eventsDelivered, idle, sesMessages, trafficDone"),
            ({"until": {"sunrise": {}}}, "unknown condition 'sunrise'; expected one of: chaosExperiment, cloudwatchAlarm, ecsCluster, ecsService, ecsTask, elbTargetHealth, eventsDelivered, idle, sesMessages, trafficDone"),
            ({"until": {"ecsCluster": {}}},
             "condition 'ecsCluster': expected {\"cluster\": \"<name or ARN>\", \"status\": "
             "\"ACTIVE\" | \"INACTIVE\"}"),
            # A misspelt parameter is refused, not ignored (it would wait on nothing).
            ({"until": {"ecsTask": {"task": "t1", "status": "RUNNING"}}},
             "condition 'ecsTask': unknown parameter \"status\" for ecsTask; expected "
             "\"task\", \"cluster\", \"lastStatus\", \"healthStatus\""),
            ({"until": {"sesMessages": {"recipient": "a@example.org"}}},
             "condition 'sesMessages': unknown parameter \"recipient\" for sesMessages; expected "
             "\"count\", \"to\", \"from\", \"subject\", \"via\", \"configurationSet\", "
             "\"tag\", \"text\", \"q\", \"mailbox\", \"id\", \"after\", \"before\""),
            ({"until": {"idle": {}}, "timeout": "forever"},
             "'forever' is not a duration; expected a number and a unit (ms, s, m, h, d), e.g. "
             "90s, 15m, 24h or 1h30m"),
        ]
        for body, message in cases:
            with self.subTest(body=body):
                status, answer = self.emulator.post("/_understudy/wait", body)
                self.assertEqual(status, 400)
                self.assertEqual(answer, {"error": "InvalidWaitRequest", "message": message})

    # The journal records inputs and transitions with their virtual times.
    def test_journal(self):
        self.emulator.client("ecs").create_cluster(clusterName="web")
        self.emulator.post("/_understudy/clock", {"advance": "1m"})
        self.emulator.client("ecs").delete_cluster(cluster="web")
        status, journal = self.emulator.get("/_understudy/journal")
        entries = [(e["kind"], e["subject"], e["time"]) for e in journal["entries"]]
        arn = "arn:aws:ecs:us-east-1:000000000000:cluster/web"
        self.assertEqual(entries, [
            ("input", "understudy.serve", START),
            ("input", "ecs.CreateCluster", START),
            ("transition", arn, START),
            ("input", "understudy.clock", "2026-11-23T08:01:00.000Z"),
            ("input", "ecs.DeleteCluster", "2026-11-23T08:01:00.000Z"),
            ("transition", arn, "2026-11-23T08:01:00.000Z"),
        ])
        self.assertEqual(journal["entries"][5]["detail"], {"status": "INACTIVE"})


class RealClockTest(unittest.TestCase):
    # In real mode the clock cannot be moved, with a clear error.
    def test_real_clock_refuses_to_move(self):
        with Understudy(BINARY) as emulator:
            status, answer = emulator.post("/_understudy/clock", {"advance": "1m"})
            self.assertEqual(status, 409)
            self.assertEqual(answer, {
                "error": "ClockNotVirtual",
                "message": "the clock is real and follows the wall clock; start understudy with "
                           "--clock virtual or --clock fast to move it"})
            self.assertEqual(emulator.get("/_understudy/clock")[1]["mode"], "real")

    # reset and /moto-api/reset drop all state.
    def test_reset(self):
        with Understudy(BINARY) as emulator:
            ecs = emulator.client("ecs")
            for path in ["/_understudy/reset", "/moto-api/reset"]:
                with self.subTest(path=path):
                    ecs.create_cluster(clusterName="web")
                    self.assertEqual(len(ecs.list_clusters()["clusterArns"]), 1)
                    status, answer = emulator.post(path)
                    self.assertEqual((status, answer), (200, {"reset": True}))
                    self.assertEqual(ecs.list_clusters()["clusterArns"], [])
                    self.assertEqual(ecs.describe_clusters(clusters=["web"])["failures"][0]["reason"],
                                     "MISSING")


if __name__ == "__main__":
    unittest.main(verbosity=2)
