"""``losswatch.follow``: the binary stream decoded as docs/websocket.md lays it out (no server), and against the real
server when ``LOSSWATCH_TEST_URL`` names one (FollowIT starts it and runs this file; without it those tests skip).

    LOSSWATCH_TEST_URL=http://127.0.0.1:8080 /usr/bin/python3 -m unittest -v clients/python/tests/test_follow.py
"""

import json
import math
import os
import struct
import sys
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import losswatch  # noqa: E402
from losswatch import _follow  # noqa: E402

URL = os.environ.get("LOSSWATCH_TEST_URL")


def names(*ns):
    raw = b"".join(struct.pack("<H", len(n.encode())) + n.encode() for n in ns)
    return raw + b"\0" * (-len(raw) % 8)


def block(run, cycle, first, n, columns, cols, metrics=(), curvature=()):
    """A run block as the docs lay it out, written here independently of the client's reader."""
    body = names(run, *[m for m, _ in metrics]) + b"".join(struct.pack("<%d%s" % (n, code), *v) for code, v in cols)
    body += b"".join(struct.pack("<%dd" % n, *v) for _, v in metrics)
    body += b"".join(struct.pack("<%dd" % n, *v) for v in curvature)   # sharpness, stability: after the metrics
    return struct.pack("<IIqiHH", 24 + len(body), n, first, cycle, columns, len(metrics)) + body


class DecodeTest(unittest.TestCase):
    def test_consecutive_steps_need_no_step_column(self):
        loss, lr, g, t = [1.0, 0.5, math.inf], [0.1] * 3, [2.0, math.nan, -math.inf], [10, 11, 12]
        msg = struct.pack("<BBHIq", 1, 1, 0, 1, 0) + block("r1", 2, 7, 3, 2 | 4 | 8 | 16,
                                                             [("d", loss), ("d", lr), ("d", g), ("q", t)])
        kind, flags, sent, (s,) = _follow.decode(msg)
        self.assertEqual((kind, flags), (1, 0))
        self.assertEqual((s.run, s.cycle, list(s.step), list(s.t)), ("r1", 2, [7, 8, 9], t))
        self.assertEqual(s.loss[:2].tolist(), [1.0, 0.5])
        self.assertEqual(s.loss[2], math.inf)
        self.assertTrue(math.isnan(s.grad_norm[1]))
        self.assertEqual(s.grad_norm[2], -math.inf)
        self.assertEqual(s.metrics, {})
        self.assertFalse(s.overview)
        self.assertIsNone(s.sent)

    def test_a_frame_of_two_runs_with_gaps_metrics_and_a_long_name(self):
        a = block("a", 0, 1, 2, 1 | 2 | 4 | 8 | 16, [("q", [1, 5]), ("d", [1, 2]), ("d", [3, 4]), ("d", [5, 6]),
                                                     ("q", [100, 101])], [("val/acc", [0.5, math.nan])])
        b = block("run-é" * 5, 1, 3, 1, 2 | 4 | 8 | 16, [("d", [9]), ("d", [8]), ("d", [7]), ("q", [102])])
        msg = struct.pack("<BBHIq", 1, 2, 0, 2, 1234567) + a + b
        kind, _, sent, (x, y) = _follow.decode(msg)
        self.assertEqual((kind, sent), (2, 1234567))
        self.assertEqual(list(x.step), [1, 5])
        self.assertEqual(list(x.metrics), ["val/acc"])
        self.assertEqual(x.metrics["val/acc"][0], 0.5)
        self.assertEqual((y.run, y.cycle, list(y.step), y.loss[0], y.sent), ("run-é" * 5, 1, [3], 9.0, 1234567))

    def test_sharpness_and_stability_come_after_the_metrics_where_measured(self):
        nan = math.nan
        msg = struct.pack("<BBHIq", 1, 1, 0, 1, 0) + block(
            "r", 0, 1, 2, 2 | 4 | 8 | 16 | 32 | 64, [("d", [1, 2]), ("d", [0.1, 0.1]), ("d", [3, 4]), ("q", [5, 6])],
            [("val_loss", [nan, 0.7])], [[nan, 40.0], [nan, 2.0]])
        _, _, _, (s,) = _follow.decode(msg)
        self.assertEqual(s.metrics["val_loss"][1], 0.7)
        self.assertTrue(math.isnan(s.sharpness[0]) and math.isnan(s.stability[0]))
        self.assertEqual((s.sharpness[1], s.stability[1]), (40.0, 2.0))
        _, _, _, (plain,) = _follow.decode(struct.pack("<BBHIq", 1, 1, 0, 1, 0) + block(
            "r", 0, 1, 1, 2 | 4 | 8 | 16, [("d", [1]), ("d", [0.1]), ("d", [3]), ("q", [5])]))
        self.assertIsNone(plain.sharpness, "none until the run measured its curvature")

    def test_another_version_is_refused_plainly(self):
        with self.assertRaisesRegex(ValueError, "version 2"):
            _follow.decode(struct.pack("<BBHIq", 2, 1, 0, 0, 0))

    def test_bad_arguments_are_named(self):
        with self.assertRaisesRegex(ValueError, "mode"):
            losswatch.follow("r1", mode="some")
        with self.assertRaisesRegex(ValueError, "from_step"):
            losswatch.follow("r1", from_step=0)
        with self.assertRaisesRegex(TypeError, "run"):
            losswatch.follow(None)


def call(method, path, body=None):
    req = urllib.request.Request(URL + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


@unittest.skipUnless(URL, "LOSSWATCH_TEST_URL names no server (FollowIT runs these against the real one)")
class RealServerTest(unittest.TestCase):
    def test_every_step_of_a_built_in_run_once_in_order_then_the_end(self):
        run = call("POST", "/api/runs", {"problem": "quadratic", "optimizer": {"type": "sgd", "lr": 0.001},
                                         "steps": 300000})["id"]
        f = losswatch.follow(run, url=URL)
        nxt, batches = 1, 0
        for s in f:
            self.assertEqual(s.step[0], nxt, "every step once, in order")
            self.assertEqual(list(s.step), list(range(nxt, nxt + len(s))))
            self.assertTrue(all(math.isfinite(v) for v in s.loss[:10]))
            nxt += len(s)
            batches += 1
        self.assertEqual(nxt - 1, 300000)
        self.assertEqual(f.summary["state"], "finished")
        self.assertEqual(f.summary["step"], 300000)
        # the values are the history's, to the bit
        h = call("GET", "/api/runs/%s/steps?from=299001&to=300000" % run)
        tail = [s for s in losswatch.follow(run, url=URL, from_step=299001)]
        self.assertEqual([v for s in tail for v in s.loss], h["loss"])
        self.assertEqual([v for s in tail for v in s.t], h["t"])

    def test_a_scripts_gaps_non_finite_values_and_metrics_and_a_dropped_connection(self):
        run = call("POST", "/api/runs", {"source": "external", "name": "follow"})["id"]
        call("POST", "/api/runs/%s/steps" % run, {"step": [1, 2, 5], "loss": [2.5, None, "Infinity"],
                                                   "lr": [0.1, 0.1, 0.1], "grad_norm": [1, "NaN", "-Infinity"],
                                                   "metrics": {"val/acc": [0.1, "NaN", 0.3]}})
        f = losswatch.follow(run, url=URL)
        first = next(f)
        self.assertEqual(list(first.step), [1, 2, 5])
        self.assertEqual(first.loss[0], 2.5)
        self.assertTrue(math.isnan(first.loss[1]))
        self.assertEqual(first.loss[2], math.inf)
        self.assertEqual(first.grad_norm[2], -math.inf)
        self.assertEqual(list(first.metrics), ["val/acc"])
        self.assertEqual(first.metrics["val/acc"][2], 0.3)
        f._ws.sock.shutdown(2)   # the connection drops: follow connects again and resumes after step 5
        for k in range(6, 10):
            call("POST", "/api/runs/%s/steps" % run, {"step": [k], "loss": [1.0 / k]})
        got = []
        done = threading.Event()

        def finish_when_read():
            done.wait(30)
            call("POST", "/api/runs/%s/finish" % run, {"state": "finished"})

        threading.Thread(target=finish_when_read, daemon=True).start()
        for s in f:
            got.extend(s.step)
            if got[-1] == 9:
                done.set()
        self.assertEqual(got, [6, 7, 8, 9], "resumed after the last step read: none lost, none twice")
        self.assertEqual(f.summary["state"], "finished")

    def test_live_mode_gives_the_overview_then_fresh_buckets(self):
        run = call("POST", "/api/runs", {"problem": "quadratic", "optimizer": {"type": "sgd", "lr": 0.001},
                                         "steps": 10000000, "steps_per_second": 2000})["id"]
        deadline = time.monotonic() + 60
        while call("GET", "/api/runs/" + run)["step"] < 100:   # a history to overview
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        try:
            with losswatch.follow(run, mode="live", url=URL, max_hz=20) as f:
                first = next(f)
                self.assertTrue(first.overview)
                self.assertEqual(first.step[0], 1)
                for _ in range(5):
                    s = next(f)
                    self.assertFalse(s.overview)
                    self.assertTrue(1 <= len(s) <= 3 and s.sent >= s.t[-1], (len(s), s.sent, list(s.t)))
        finally:
            call("POST", "/api/runs/%s/stop" % run, {})

    def test_an_unknown_run_says_so(self):
        with self.assertRaisesRegex(ValueError, "no run with id"):
            next(losswatch.follow("nosuchrun", url=URL))


if __name__ == "__main__":
    unittest.main()
