"""Unit tests of the client's parts that need no server: the wire format, log()'s checks, commands applied to an
optimizer, the spool. Run: ``/usr/bin/python3 -m unittest discover -s clients/python/tests`` (PythonScriptsIT
runs them in ``mvn verify``). The client against the real server: src/test/java/io/losswatch/web/PythonScriptsIT.
"""

import json
import logging
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import losswatch  # noqa: E402
from losswatch import _wire  # noqa: E402
from losswatch._spool import Spool  # noqa: E402
from losswatch._watch import Watched  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def closed_port():
    """A local port nobody listens on: the run is created later, never here."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pending(run):
    """What the run has logged and acknowledged so far, in order: the sender (retrying creation on a closed port)
    moves the queue into its batches every 50 ms, so this waits for that and reads the batches."""
    end = time.monotonic() + 5
    while run._queue and time.monotonic() < end:
        time.sleep(0.01)
    out = []
    for records, acks in list(run._sender.mem):
        out.extend(records)
        out.extend(acks)
    return out


SPOOL = tempfile.mkdtemp(prefix="losswatch-unit-")


def tearDownModule():
    shutil.rmtree(SPOOL, ignore_errors=True)


def offline_run(**options):
    """A run whose server never answers: at finish its steps go to a spool file, here in a folder of the tests."""
    options.setdefault("spool_dir", SPOOL)
    return losswatch.init(name="unit", url="http://127.0.0.1:%d" % closed_port(), quiet=True, **options)


class DeviceScalar:
    """Duck-typed like a CUDA tensor: not on the CPU; reading it (float) is what would wait for the device."""

    is_cpu = False
    is_cuda = True

    def __init__(self, value):
        self.value = value
        self.reads = 0

    def detach(self):
        return self

    def __float__(self):
        self.reads += 1
        if isinstance(self.value, list):
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.value)


class FakeOptimizer:
    """Duck-typed like torch.optim: what watch() needs."""

    def __init__(self, *lrs):
        self.param_groups = [{"lr": lr, "params": []} for lr in lrs]


class FakeScheduler:
    def __init__(self, opt):
        self.optimizer = opt
        self.base_lrs = [g["lr"] for g in opt.param_groups]


class WireTest(unittest.TestCase):
    def test_non_finite_numbers_are_the_servers_strings(self):
        body = json.loads(_wire.append_body([(1, math.nan, math.inf, -math.inf, 1.5, None)], []))
        self.assertEqual(body["loss"], ["NaN"])
        self.assertEqual(body["lr"], ["Infinity"])
        self.assertEqual(body["grad_norm"], ["-Infinity"])
        self.assertEqual(body["t"], [1500])

    def test_columns_are_as_long_as_step_and_unknowns_are_null(self):
        records = [(1, 0.5, None, None, 0.0, None), (3, 0.25, 0.1, None, 0.0, {"acc": 0.9}),
                   (4, 0.125, None, 2.0, 0.0, {"f1": 0.5})]
        body = json.loads(_wire.append_body(records, [{"id": "c1", "step": 3}]))
        self.assertEqual(body["step"], [1, 3, 4])
        self.assertEqual(body["loss"], [0.5, 0.25, 0.125])
        self.assertEqual(body["lr"], [None, 0.1, None])
        self.assertEqual(body["grad_norm"], [None, None, 2.0])
        self.assertEqual(body["metrics"], {"acc": [None, 0.9, None], "f1": [None, None, 0.5]})
        self.assertEqual(body["acks"], [{"id": "c1", "step": 3}])

    def test_floats_round_trip_exactly(self):
        values = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 2.5e-7]
        body = json.loads(_wire.append_body([(i + 1, v, None, None, 0.0, None) for i, v in enumerate(values)], []))
        self.assertEqual(body["loss"], values)

    def test_an_empty_append_polls(self):
        self.assertEqual(json.loads(_wire.append_body([], [])), {"step": [], "loss": []})

    def test_create_body(self):
        body = json.loads(_wire.json_body(_wire.create_body(
            "mlp", {"batch": 64, "eps": math.inf, "dev": object.__new__(Watched)}, {"type": "sgd", "lr": 0.1}, True,
            tags=["a", "b"], notes="why")))
        self.assertEqual(body["source"], "external")
        self.assertEqual(body["config"]["batch"], 64)
        self.assertEqual(body["config"]["eps"], "Infinity")
        self.assertIsInstance(body["config"]["dev"], str)
        self.assertEqual(body["optimizer"], {"type": "sgd", "lr": 0.1})
        self.assertTrue(body["auto_lr"])
        self.assertEqual((body["tags"], body["notes"]), (["a", "b"], "why"))

    def test_tags_are_distinct_strings_the_group_last(self):
        self.assertEqual(_wire.tag_list(["a", " b", "a"], "g"), ["a", "b", "g"])
        self.assertEqual(_wire.tag_list(None), [])
        for bad in ("a", [1], [""], 5):
            with self.assertRaises(TypeError):
                _wire.tag_list(bad)

    def test_metric_names_as_people_write_them(self):
        for good in ("train/loss", "val.acc", "a-b", "_x", "m" * 64, "A1"):
            self.assertIsNone(_wire.metric_refusal(good, set()), good)
        for bad in ("9lives", "", "m" * 65, "a b", "/x", ".x", "-x", "ü", 5, None):
            self.assertIsNotNone(_wire.metric_refusal(bad, set()), bad)
        self.assertIn("at most 64", _wire.metric_refusal("m65", {"m%d" % i for i in range(64)}))

    def test_optimizer_spec_from_an_optimizer(self):
        self.assertEqual(_wire.optimizer_spec(FakeOptimizer(0.5)), {"type": "fakeoptimizer", "lr": 0.5})


class LogTest(unittest.TestCase):
    def setUp(self):
        self.run = offline_run(finish_timeout=0.2)

    def tearDown(self):
        self.run.finish()

    def test_steps_must_increase_gaps_are_fine(self):
        self.run.log(1, loss=1.0)
        self.run.log(5, loss=1.0)
        with self.assertRaises(ValueError):
            self.run.log(5, loss=1.0)
        with self.assertRaises(ValueError):
            self.run.log(4, loss=1.0)
        with self.assertRaises(TypeError):
            self.run.log(2.0, loss=1.0)
        with self.assertRaises(TypeError):
            self.run.log(6)

    def test_steps_start_at_one(self):
        with self.assertRaises(ValueError):
            self.run.log(0, loss=1.0)

    def test_a_metric_that_cannot_be_sent_is_left_out_said_once_and_log_never_raises(self):
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            self.run.log(1, loss=1.0, metrics={"9lives": 1.0, "train/loss": 2.0})
            self.run.log(2, loss=1.0, metrics={"9lives": 1.0}, **{"m%d" % i: float(i) for i in range(62)})
            self.run.log(3, loss=1.0, m62=1.0, m63=3.0, m0=0.5)
            self.run.log(4, loss=1.0, m63=3.0, m0="high")
        records = pending(self.run)
        self.assertEqual([r[0] for r in records], [1, 2, 3, 4], "every step is sent")
        self.assertEqual(records[0][5], {"train/loss": 2.0})
        self.assertEqual(len(records[1][5]), 62)
        self.assertEqual(records[2][5], {"m62": 1.0, "m0": 0.5}, "the 65th metric is left out")
        self.assertIsNone(records[3][5])
        said = [r.getMessage() for r in logs.records if "metric" in r.getMessage() or "m0" in r.getMessage()]
        self.assertEqual(len(said), 3, said)   # once each: 9lives, m63 past the limit, m0's value
        self.assertIn("'9lives'", said[0])
        self.assertIn("'m63'", said[1])
        self.assertIn("at most 64", said[1])
        self.assertIn("m0 must be a number", said[2])

    def test_a_step_left_out_is_the_next_one(self):
        self.run.log(loss=1.0)
        self.run.log(7, loss=1.0)
        self.run.log(loss=1.0)
        self.assertEqual([r[0] for r in pending(self.run)], [1, 7, 8])
        self.assertEqual(self.run.step, 8)

    def test_a_device_tensor_is_read_by_the_sender_not_in_log(self):
        t = DeviceScalar(0.25)
        self.run.log(1, loss=t, lr=DeviceScalar(0.1), grad_norm=DeviceScalar(2.0), acc=DeviceScalar(0.5))
        self.assertEqual(self.run._queue[0].__class__, list, "queued as it is: log() did not wait for the device")
        self.assertEqual(t.reads, 0)
        self.assertEqual(pending(self.run)[0][:4], (1, 0.25, 0.1, 2.0))
        self.assertEqual(pending(self.run)[0][5], {"acc": 0.5})
        self.assertEqual(t.reads, 1)

    def test_a_device_value_that_is_not_one_number_goes_as_nan_said_once(self):
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            self.run.log(1, loss=DeviceScalar([1.0, 2.0]))
            records = pending(self.run)
        self.assertTrue(math.isnan(records[0][1]))
        said = [r.getMessage() for r in logs.records if "not one number" in r.getMessage()]
        self.assertEqual(len(said), 1, said)
        self.assertIn("loss at step 1 is not one number", said[0])

    def test_numbers_are_taken_as_floats(self):
        self.run.log(1, loss=1, lr=1, grad_norm=2, acc=1)
        self.assertEqual(pending(self.run)[-1][:4], (1, 1.0, 1.0, 2.0))
        self.assertIs(pending(self.run)[-1][1].__class__, float)

    def test_log_after_finish_fails(self):
        self.run.finish()
        with self.assertRaises(RuntimeError):
            self.run.log(1, loss=1.0)

    def test_with_marks_an_exception_failed(self):
        with self.assertRaises(KeyError):
            with offline_run(finish_timeout=0.1) as run:
                raise KeyError("boom")
        self.assertEqual(run._sender.finish_request, ("failed", "KeyError('boom')"))


class CommandTest(unittest.TestCase):
    def setUp(self):
        self.run = offline_run(finish_timeout=0.2)
        self.opt = FakeOptimizer(0.1, 0.05)
        self.sched = FakeScheduler(self.opt)
        self.run.watch(self.opt, self.sched)

    def tearDown(self):
        self.run.finish()

    def acks(self):
        return [x for x in pending(self.run) if isinstance(x, dict)]

    def test_lr_scales_every_group_and_the_schedule(self):
        self.run.log(1, loss=1.0)
        self.run._command_arrived([{"id": "c1", "op": "lr", "lr": 0.01, "factor": 0.1}])
        self.run.log(2, loss=1.0)
        self.assertEqual(self.opt.param_groups[0]["lr"], 0.01)
        self.assertAlmostEqual(self.opt.param_groups[1]["lr"], 0.005, places=15)
        self.assertAlmostEqual(self.sched.base_lrs[0], 0.01, places=15)
        self.assertAlmostEqual(self.sched.base_lrs[1], 0.005, places=15)
        # the step it took effect at is recorded with the new lr, and acknowledged after it
        self.assertEqual(pending(self.run)[-2][:3], (2, 1.0, 0.01))
        self.assertEqual(pending(self.run)[-1], {"id": "c1", "step": 2})

    def test_lr_without_factor(self):
        self.run._command_arrived([{"id": "c1", "op": "lr", "lr": 0.2}])
        self.run.log(1, loss=1.0)
        self.assertEqual(self.opt.param_groups[0]["lr"], 0.2)
        self.assertAlmostEqual(self.opt.param_groups[1]["lr"], 0.1, places=15)

    def test_stop(self):
        self.run._command_arrived([{"id": "c9", "op": "stop"}])
        self.run.log(7, loss=1.0)
        self.assertTrue(self.run.stopped)
        self.assertEqual(self.acks(), [{"id": "c9", "step": 7}])

    def test_pause_blocks_until_resume(self):
        self.run._command_arrived([{"id": "c1", "op": "pause"}])
        threading.Timer(0.3, self.run._command_arrived, [[{"id": "c2", "op": "resume"}]]).start()
        start = time.monotonic()
        self.run.log(3, loss=1.0)
        self.assertGreaterEqual(time.monotonic() - start, 0.25)
        self.assertFalse(self.run.paused)
        self.assertEqual(self.acks(), [{"id": "c1", "step": 3}, {"id": "c2", "step": 3}])

    def test_stop_releases_a_pause(self):
        self.run._command_arrived([{"id": "c1", "op": "pause"}])
        threading.Timer(0.2, self.run._command_arrived, [[{"id": "c2", "op": "stop"}]]).start()
        self.run.log(3, loss=1.0)
        self.assertTrue(self.run.stopped)

    def test_a_command_seen_again_is_not_applied_twice(self):
        s = self.run._sender
        s._commands([{"id": "c1", "op": "lr", "lr": 0.01, "factor": 0.1}])
        self.run.log(1, loss=1.0)
        s._commands([{"id": "c1", "op": "lr", "lr": 0.01, "factor": 0.1}])   # repeated until the ack arrives
        self.run.log(2, loss=1.0)
        self.assertEqual(self.opt.param_groups[0]["lr"], 0.01)

    def test_a_command_withdrawn_before_it_was_applied_is_not_applied(self):
        s = self.run._sender
        s._commands([{"id": "c1", "op": "lr", "lr": 0.01, "factor": 0.1}])
        # a newer lr replaced c1 before the training loop got to it: only c2 counts
        s._commands([{"id": "c2", "op": "lr", "lr": 0.02, "factor": 0.2}])
        self.run.log(1, loss=1.0)
        self.assertAlmostEqual(self.opt.param_groups[0]["lr"], 0.02, places=15)
        self.assertEqual(self.acks(), [{"id": "c2", "step": 1}])

    def test_without_a_schedule_the_lr_asked_for_exactly(self):
        run = offline_run(finish_timeout=0.1)
        opt = FakeOptimizer(0.3, 0.03)
        run.watch(opt)
        # the server's factor is relative to the lr it last saw, not this one
        run._command_arrived([{"id": "c1", "op": "lr", "lr": 0.1, "factor": 0.5}])
        run.log(1, loss=1.0)
        self.assertEqual(opt.param_groups[0]["lr"], 0.1)
        self.assertAlmostEqual(opt.param_groups[1]["lr"], 0.01, places=15)
        run.finish()

    @unittest.skipIf(torch is None, "no torch")
    def test_torch_optimizer_and_lambda_schedule_keep_the_change(self):
        w = torch.nn.Parameter(torch.ones(3))
        b = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.05}], lr=0.1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
        run = offline_run(finish_timeout=0.1)
        run.watch(opt, sched)
        for step in range(1, 6):
            loss = (w * w).sum() + (b * b).sum()
            loss.backward()
            if step == 3:
                run._command_arrived([{"id": "c1", "op": "lr", "factor": 0.5}])
            run.log(step, loss=loss.item())
            opt.step()
            opt.zero_grad()
            sched.step()
        records = [r for r in pending(run) if isinstance(r, tuple)]
        lrs = [r[2] for r in records]
        expected = [0.1 / (1 + s) * (0.5 if s >= 2 else 1) for s in range(5)]
        for got, want in zip(lrs, expected):
            self.assertAlmostEqual(got, want, places=15)
        self.assertAlmostEqual(opt.param_groups[1]["lr"], 0.05 / 6 * 0.5, places=15)
        # grad_norm: of both parameters' gradients
        self.assertAlmostEqual(records[0][3], math.sqrt(4 * 3), places=6)
        run.finish()


class ResendTest(unittest.TestCase):
    """What the sender does when the server says it has fewer steps than it had accepted (it was killed)."""

    def test_the_steps_the_server_lost_go_first_again(self):
        run = offline_run(finish_timeout=0.1, batch_steps=3)
        s = run._sender
        s.sent.extend((k, 1.0, None, None, 0.0, None) for k in range(1, 9))
        s.confirmed = 8
        s._rewind(5)
        self.assertEqual([[r[0] for r in b[0]] for b in s.front], [[6, 7, 8]])
        self.assertEqual([r[0] for r in s.sent], [1, 2, 3, 4, 5])
        # lost again before they were all sent: what is in front and what was sent since, in order
        s.front.popleft()
        s.sent.extend((k, 1.0, None, None, 0.0, None) for k in (6, 7, 8, 9))
        s.front.append(([(10, 1.0, None, None, 0.0, None)], []))
        s._rewind(4)
        self.assertEqual([[r[0] for r in b[0]] for b in s.front], [[5, 6, 7], [8, 9, 10]])
        run.finish()


class SpoolTest(unittest.TestCase):
    def test_first_in_first_out_then_gone(self):
        with tempfile.TemporaryDirectory() as d:
            s = Spool(d, "r1")
            s.push([(1, 0.5, None, None, 0.0, None)], [])
            s.push([(2, math.nan, 0.1, 1.0, 0.0, {"a": 1.0})], [{"id": "c1", "step": 2}])
            self.assertEqual((s.batches, s.steps), (2, 2))
            self.assertEqual(s.pop()[0], [(1, 0.5, None, None, 0.0, None)])
            records, acks = s.pop()
            self.assertTrue(math.isnan(records[0][1]))
            self.assertEqual(acks, [{"id": "c1", "step": 2}])
            self.assertEqual(os.listdir(d), [])


class ImportTest(unittest.TestCase):
    def test_the_client_imports_nothing_outside_the_standard_library(self):
        code = ("import sys; sys.path.insert(0, %r); before = set(sys.modules); import losswatch; "
                "new = set(sys.modules) - before; print(sorted(m for m in new if m.split('.')[0] in "
                "('torch', 'numpy', 'requests', 'urllib3')))" % os.path.dirname(HERE))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        self.assertEqual(out.strip(), "[]")


if __name__ == "__main__":
    unittest.main()
