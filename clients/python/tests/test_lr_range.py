"""Unit tests of the learning-rate range test: its arithmetic (``losswatch._lr_range``, which the server matches
through ``src/test/resources/lr_range/suggestions.json``) and ``losswatch.lr_find`` on a pure-Python model, on a
small torch model offline, and against a stand-in server that records what it is sent.
Run: ``cd clients/python && /usr/bin/python3 -m unittest discover -s tests``.
"""

import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import losswatch  # noqa: E402
from losswatch import _lr_range as R  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

try:
    import numpy
except ImportError:
    numpy = None

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
                       "src", "test", "resources", "lr_range", "suggestions.json")
SPOOL = tempfile.mkdtemp(prefix="losswatch-lr-unit-")


def tearDownModule():
    shutil.rmtree(SPOOL, ignore_errors=True)


def closed_url():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


OFFLINE = {"quiet": True, "spool_dir": SPOOL, "finish_timeout": 0.2}


class RampTest(unittest.TestCase):
    def test_exp_is_the_formula(self):
        lrs = R.ramp(1e-7, 10, 100, "exp")
        self.assertEqual(len(lrs), 100)
        for i, lr in enumerate(lrs):
            self.assertEqual(lr, 1e-7 * (10 / 1e-7) ** (i / 99))
        self.assertEqual(lrs[0], 1e-7)
        self.assertAlmostEqual(lrs[-1], 10, delta=1e-14)
        self.assertAlmostEqual(lrs[33], 1e-7 * 10 ** (8 * 33 / 99), delta=1e-15 * lrs[33])
        # evenly spaced in log lr
        for a, b, c in zip(lrs, lrs[1:], lrs[2:]):
            self.assertAlmostEqual(b / a, c / b, places=12)

    def test_linear_is_the_formula(self):
        self.assertEqual(R.ramp(0.0, 1.0, 5, "linear"), [0.0, 0.25, 0.5, 0.75, 1.0])
        lrs = R.ramp(1e-4, 1, 50, "linear")
        for i, lr in enumerate(lrs):
            self.assertEqual(lr, 1e-4 + (1 - 1e-4) * (i / 49))

    def test_one_step_and_bad_arguments(self):
        self.assertEqual(R.ramp(0.01, 1, 1, "exp"), [0.01])
        self.assertEqual(R.ramp(0.01, 1, 1, "linear"), [0.01])
        with self.assertRaises(ValueError):
            R.ramp(0, 1, 10, "exp")
        with self.assertRaises(ValueError):
            R.ramp(1e-3, 1, 10, "cosine")
        with self.assertRaises(ValueError):
            R.ramp(1e-3, 1, 0, "exp")
        with self.assertRaises(ValueError):
            R.ramp(1e-3, math.inf, 10, "linear")

    @unittest.skipIf(torch is None, "no torch")
    def test_exp_is_what_a_torch_lambda_schedule_gives(self):
        start, end, n = 1e-7, 10.0, 100
        w = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([w], lr=start)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: (end / start) ** (i / (n - 1)))
        seen = []
        for _ in range(n):
            seen.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        self.assertEqual(seen, R.ramp(start, end, n, "exp"))


class SmoothTest(unittest.TestCase):
    def test_by_hand(self):
        self.assertEqual(R.smooth([1.0, 2.0], 0.5), [0.5 / 0.5, 1.25 / 0.75])
        self.assertEqual(R.smooth([3.0, 1.0, 4.0], 0.0), [3.0, 1.0, 4.0])
        # the first smoothed value is the first loss (up to the last bit), and a constant stays constant
        for v in R.smooth([2.5] * 200, 0.98):
            self.assertAlmostEqual(v, 2.5, places=12)

    def test_the_power_is_a_running_product(self):
        losses = [random.Random(3).uniform(0, 5) for _ in range(50)]
        avg, power, want = 0.0, 1.0, []
        for x in losses:
            avg = 0.98 * avg + (1 - 0.98) * x
            power = power * 0.98
            want.append(avg / (1 - power))
        self.assertEqual(R.smooth(losses, 0.98), want)
        # and differs from fastai's and Lightning's beta ** (i + 1) by rounding only
        avg = 0.0
        for i, (x, s) in enumerate(zip(losses, want)):
            avg = 0.98 * avg + (1 - 0.98) * x
            self.assertAlmostEqual(s, avg / (1 - 0.98 ** (i + 1)), delta=1e-12 * abs(s))

    def test_a_non_finite_loss_stays(self):
        s = R.smooth([1.0, math.nan, 1.0], 0.98)
        self.assertTrue(math.isnan(s[1]) and math.isnan(s[2]))
        s = R.smooth([1.0, math.inf, 1.0], 0.98)
        self.assertEqual(s[1:], [math.inf, math.inf])

    def test_beta_out_of_range(self):
        with self.assertRaises(ValueError):
            R.smooth([1.0], 1.0)


LRS16 = [float(k) for k in range(16)]


class SteepestTest(unittest.TestCase):
    def test_by_hand(self):
        # smoothed[10:-1] = [5, 4, 1, 0.5]: gradient [-1, -2, -1.75, -0.5], steepest at 1, so lrs[11]
        smoothed = [9.0] * 10 + [5.0, 4.0, 1.0, 0.5, 7.0]
        self.assertEqual(R.gradient([5.0, 4.0, 1.0, 0.5]), [-1.0, -2.0, -1.75, -0.5])
        self.assertEqual(R.steepest(LRS16[:15], smoothed), 11.0)

    def test_first_on_ties_and_the_last_value_skipped(self):
        self.assertEqual(R.steepest(LRS16, [1.0] * 16), 10.0)
        # the fall into the last value does not count (skip_end=1)
        self.assertEqual(R.steepest(LRS16[:14], [5.0] * 13 + [-100.0]), 10.0)

    def test_too_few_points(self):
        self.assertIsNone(R.steepest(LRS16[:12], [1.0] * 12))     # smoothed[10:-1] has 1 value
        self.assertEqual(R.steepest(LRS16[:13], [1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 2, 0]), 10.0)
        self.assertIsNone(R.steepest(LRS16[:13], [1.0] * 11 + [math.nan, math.nan]))

    def test_non_finite_values_are_dropped_the_index_is_not_mapped_back(self):
        # as Lightning: [5, inf, 4, 1, 0.5] -> [5, 4, 1, 0.5], steepest at 1, answered as lrs[10 + 1]
        smoothed = [9.0] * 10 + [5.0, math.inf, 4.0, 1.0, 0.5, 0.0]
        self.assertEqual(R.steepest(LRS16, smoothed), 11.0)

    @unittest.skipIf(torch is None and numpy is None, "neither torch nor numpy")
    def test_gradient_and_argmin_as_torch_and_numpy(self):
        rnd = random.Random(11)
        for n in (2, 3, 4, 17, 100):
            values = [rnd.uniform(-3, 3) for _ in range(n)]
            g = R.gradient(values)
            if torch is not None:
                t = torch.gradient(torch.tensor(values, dtype=torch.float64))[0].tolist()
                self.assertEqual(g, t)
                self.assertEqual(g.index(min(g)), int(torch.argmin(torch.tensor(g, dtype=torch.float64))))
            if numpy is not None:
                self.assertEqual(g, numpy.gradient(numpy.array(values, dtype=numpy.float64)).tolist())
            lrs = [rnd.uniform(0, 1) for _ in range(n + 11)]
            smoothed = [rnd.uniform(0, 1) for _ in range(10)] + values + [rnd.uniform(0, 1)]
            if torch is not None:
                losses = torch.tensor(smoothed[10:-1], dtype=torch.float64)
                idx = torch.argmin(torch.gradient(losses[torch.isfinite(losses)])[0]).item()
                self.assertEqual(R.steepest(lrs, smoothed), lrs[idx + 10])


class ValleyTest(unittest.TestCase):
    def test_a_straight_fall(self):
        # lds = 1..7, max_end 6, max_start -1, L 7: -1 + int(7/3) + int(7/3/2) = 2
        self.assertEqual(R.valley([10.0, 20, 30, 40, 50, 60, 70], [10.0, 9, 8, 7, 6, 5, 4]), 30.0)

    def test_by_hand(self):
        # lds = [1, 2, 2, 3, 1, 2, 3, 4, 5, 6]: max_end 9, max_start 3, L 6: 3 + 2 + 1 = 6
        losses = [3.0, 1, 2, 0.5, 5, 4, 3, 2, 1, 0]
        self.assertEqual(R.valley([float(k) for k in range(10)], losses), 6.0)

    def test_an_index_of_minus_one_is_the_last_lr(self):
        # lds = [1, 2, 1, 1, 1]: max_end 1, max_start -1, L 2: idx -1, which fastai reads as the last
        self.assertEqual(R.valley([1.0, 2, 3, 4, 5], [5.0, 4, 6, 7, 8]), 5.0)

    def test_flat_and_too_short(self):
        self.assertEqual(R.valley([1.0, 2, 3], [2.0, 2, 2]), 1.0)
        self.assertIsNone(R.valley([1.0], [2.0]))
        self.assertIsNone(R.valley([], []))


class MinimumTest(unittest.TestCase):
    def test_by_hand(self):
        self.assertEqual(R.minimum_div10([10.0, 20, 30, 40], [3.0, 1, 2, 1]), 2.0)
        self.assertIsNone(R.minimum_div10([], []))
        self.assertEqual(R.minimum_div10([10.0, 20.0], [math.inf, math.inf]), 1.0)


class SuggestionsTest(unittest.TestCase):
    def test_the_fastai_slice(self):
        lrs = [float(k) for k in range(100)]
        self.assertEqual(R.fastai_slice(lrs, lrs, 100), (lrs[10:95], lrs[10:95]))
        smoothed = list(lrs)
        smoothed[50] = math.nan
        self.assertEqual(R.fastai_slice(lrs, smoothed, 100), (lrs[10:50], lrs[10:50]))
        smoothed[50] = math.inf   # infinities stay
        self.assertEqual(R.fastai_slice(lrs, smoothed, 100)[0], lrs[10:95])
        # num_steps as asked, not as recorded
        self.assertEqual(R.fastai_slice(lrs[:30], lrs[:30], 100), (lrs[10:25], lrs[10:25]))
        self.assertEqual(R.fastai_slice(lrs[:15], lrs[:15], 100), ([], []))

    def test_a_short_test_has_no_suggestions(self):
        self.assertEqual(R.suggestions(LRS16[:12], [1.0] * 12, 100),
                         {"steepest": None, "valley": None, "minimum/10": None})

    def test_a_curve(self):
        lrs = R.ramp(1e-6, 1, 60, "exp")
        losses = [2 - math.tanh(3 * (i - 25) / 20) + (0.01 * (i - 40) ** 2 if i > 40 else 0) for i in range(60)]
        smoothed = R.smooth(losses, 0.9)
        s = R.suggestions(lrs, smoothed, 60)
        self.assertEqual(set(s), {"steepest", "valley", "minimum/10"})
        for v in s.values():
            self.assertIsNotNone(v)
            self.assertTrue(1e-6 <= v <= 1)
        k = smoothed.index(min(smoothed[6:55]))
        self.assertEqual(s["minimum/10"], lrs[k] / 10)

    def test_the_fixture_is_what_this_computes(self):
        cases = load_fixture(self)
        self.assertGreaterEqual(len(cases), 8)

        def num(x):
            return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(x, x)

        for case in cases:
            with self.subTest(case["name"]):
                smoothed = case["smoothed"]
                self.assertEqual(R.suggestions(case["lrs"], smoothed, case["num_steps"]), case["expected"])
                if "losses" in case:
                    got = R.smooth([num(x) for x in case["losses"]], case["beta"])
                    self.assertEqual([repr(x) for x in got], [repr(x) for x in smoothed])
                if "start_lr" in case:
                    planned = R.ramp(case["start_lr"], case["end_lr"], case["num_steps"], case["mode"])
                    self.assertEqual(case["lrs"], planned[:len(case["lrs"])])


def load_fixture(test):
    if not os.path.exists(FIXTURE):
        test.skipTest("no fixture at " + FIXTURE)
    with open(FIXTURE) as f:
        cases = json.load(f)["cases"]
    names = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    for c in cases:
        c["smoothed"] = [names.get(x, x) for x in c["smoothed"]]
    return cases


@unittest.skipIf(torch is None, "no torch")
class AsLightningAndFastaiTest(unittest.TestCase):
    """The fixture's suggestions are what Lightning's and fastai's own code gives, re-typed here with torch as
    they write it, but in float64 (they make float32 tensors of the recorded values; losswatch keeps doubles)."""

    @staticmethod
    def lightning(lrs, smoothed):
        losses = torch.tensor(smoothed[10:-1], dtype=torch.float64)
        losses = losses[torch.isfinite(losses)]
        if len(losses) < 2:
            return None
        min_grad = torch.argmin(torch.gradient(losses)[0]).item()
        return lrs[min_grad + 10]

    @staticmethod
    def fastai(lrs, smoothed, num_it):
        lrs = torch.tensor(lrs[num_it // 10:-5], dtype=torch.float64)
        losses = torch.tensor(smoothed[num_it // 10:-5], dtype=torch.float64)
        nan_idxs = torch.nonzero(torch.isnan(losses.view(-1)))
        if len(nan_idxs) > 0:
            drop_idx = min(nan_idxs)
            lrs, losses = lrs[:drop_idx], losses[:drop_idx]
        if len(losses) < 2:
            valley = None
        else:
            n = len(losses)
            max_start, max_end = 0, 0
            lds = [1] * n
            for i in range(1, n):
                for j in range(0, i):
                    if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                        lds[i] = lds[j] + 1
                    if lds[max_end] < lds[i]:
                        max_end = i
                        max_start = max_end - lds[max_end]
            sections = (max_end - max_start) / 3
            idx = max_start + int(sections) + int(sections / 2)
            valley = float(lrs[idx])
        minimum = None if len(losses) == 0 else lrs[losses.argmin()].item() / 10
        return valley, minimum

    def test_the_fixture(self):
        for case in load_fixture(self):
            with self.subTest(case["name"]):
                want = case["expected"]
                self.assertEqual(self.lightning(case["lrs"], case["smoothed"]), want["steepest"])
                valley, minimum = self.fastai(case["lrs"], case["smoothed"], case["num_steps"])
                self.assertEqual(valley, want["valley"])
                self.assertEqual(minimum, want["minimum/10"])


# ---- lr_find


class Scalar:
    """A parameter without torch: a value and its gradient."""

    def __init__(self, value):
        self.value = value
        self.grad = None


class Bowl:
    """A model without torch: loss (w - 3)^2, whose plain gradient descent diverges above lr 1."""

    def __init__(self, w=0.0):
        self.w = Scalar(w)

    def parameters(self):
        return [self.w]

    def state_dict(self):
        return {"w": self.w.value}

    def load_state_dict(self, d):
        self.w.value = d["w"]

    def step_fn(self):
        loss = (self.w.value - 3.0) ** 2
        self.w.grad = Grad(2 * (self.w.value - 3.0))
        return loss


class Grad(float):
    def norm(self):
        return abs(self)

    def detach(self):
        return self

    def clone(self):
        return Grad(self)


class PlainSGD:
    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.steps = 0

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        self.steps += 1
        g = self.param_groups[0]
        for p in g["params"]:
            if p.grad is not None:
                p.value -= g["lr"] * p.grad

    def state_dict(self):
        return {"steps": self.steps, "param_groups": [{"lr": g["lr"]} for g in self.param_groups]}

    def load_state_dict(self, d):
        self.steps = d["steps"]
        for g, s in zip(self.param_groups, d["param_groups"]):
            g["lr"] = s["lr"]


class LrFindTest(unittest.TestCase):
    def test_offline_it_records_the_ramp_stops_when_the_loss_runs_away_and_puts_things_back(self):
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        seen = []

        def step():
            seen.append(opt.param_groups[0]["lr"])
            return model.step_fn()

        r = losswatch.lr_find(model, opt, step, start_lr=1e-4, end_lr=10, num_steps=100, url=closed_url(),
                              **OFFLINE)
        self.assertIsNone(r["run"])
        n = len(r["lr"])
        self.assertLess(n, 100)   # diverges above lr 1
        self.assertGreater(n, 60)
        self.assertEqual(r["lr"], R.ramp(1e-4, 10, 100, "exp")[:n])
        self.assertEqual(seen, r["lr"])
        self.assertEqual(r["smoothed"], R.smooth(r["loss"], 0.98))
        best = min(r["smoothed"])
        self.assertGreater(r["smoothed"][-1], 4 * best)
        self.assertTrue(all(s <= 4 * min(r["smoothed"][:k + 1]) for k, s in enumerate(r["smoothed"][:-1])))
        self.assertEqual(r["suggestions"], R.suggestions(r["lr"], r["smoothed"], 100))
        for v in r["suggestions"].values():
            self.assertIsNotNone(v)
            self.assertLess(v, 1.0)
        # put back: the weight, the optimizer's state and lr, the gradient
        self.assertEqual(model.w.value, 0.0)
        self.assertEqual(opt.steps, 0)
        self.assertEqual(opt.param_groups[0]["lr"], 0.05)
        self.assertIsNone(model.w.grad)

    def test_a_nan_loss_is_recorded_and_ends_the_test(self):
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        losses = iter([1.0, 0.9, math.nan, 0.5])
        r = losswatch.lr_find(model, opt, lambda: next(losses), num_steps=10, url=closed_url(), **OFFLINE)
        self.assertEqual(len(r["loss"]), 3)
        self.assertTrue(math.isnan(r["loss"][2]) and math.isnan(r["smoothed"][2]))
        self.assertEqual(opt.steps, 0)

    def test_without_a_stop_factor_it_runs_every_step(self):
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        r = losswatch.lr_find(model, opt, model.step_fn, start_lr=1e-3, end_lr=3, num_steps=40, mode="linear",
                              stop_factor=None, url=closed_url(), **OFFLINE)
        self.assertEqual(r["lr"], R.ramp(1e-3, 3, 40, "linear"))

    def test_an_exception_is_raised_after_putting_things_back(self):
        model = Bowl(1.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        calls = []

        def step():
            calls.append(1)
            if len(calls) == 5:
                raise KeyError("boom")
            return model.step_fn()

        with self.assertRaises(KeyError):
            losswatch.lr_find(model, opt, step, url=closed_url(), **OFFLINE)
        self.assertEqual((model.w.value, opt.steps, opt.param_groups[0]["lr"]), (1.0, 0, 0.05))

    def test_step_fn_must_return_the_loss(self):
        model = Bowl(1.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        with self.assertRaises(TypeError):
            losswatch.lr_find(model, opt, lambda: None, url=closed_url(), **OFFLINE)
        self.assertEqual(model.w.value, 1.0)

    @unittest.skipIf(torch is None, "no torch")
    def test_a_torch_regression_offline(self):
        torch.manual_seed(0)
        x = torch.randn(256, 4)
        y = x @ torch.tensor([[1.5], [-2.0], [0.5], [3.0]]) + 0.7 + 0.1 * torch.randn(256, 1)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        # some training first, so the optimizer has momentum buffers and the parameters gradients
        for _ in range(3):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        before_model = {k: v.clone() for k, v in model.state_dict().items()}
        before_opt = opt.state_dict()
        before_state = {k: {n: t.clone() for n, t in s.items()} for k, s in before_opt["state"].items()}
        before_groups = json.dumps(before_opt["param_groups"])
        before_grads = [p.grad.clone() for p in model.parameters()]
        batches = torch.randperm(256)

        def step():
            idx = batches[torch.randint(0, 256, (32,))]
            loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
            loss.backward()
            return loss

        r = losswatch.lr_find(model, opt, step, start_lr=1e-6, end_lr=10, num_steps=100, url=closed_url(),
                              **OFFLINE)
        n = len(r["lr"])
        self.assertLess(n, 100, r["loss"])   # lr 10 is far too high for this
        self.assertTrue(r["loss"][-1] > 4 * min(r["smoothed"]) or not math.isfinite(r["loss"][-1]))
        for k, v in r["suggestions"].items():
            self.assertIsNotNone(v, k)
            self.assertTrue(1e-6 <= v <= 10, (k, v))
        # everything put back exactly
        after = model.state_dict()
        self.assertEqual(set(after), set(before_model))
        for k, v in before_model.items():
            self.assertTrue(torch.equal(after[k], v), k)
        after_opt = opt.state_dict()
        self.assertEqual(json.dumps(after_opt["param_groups"]), before_groups)
        self.assertEqual(set(after_opt["state"]), set(before_state))
        for k, s in before_state.items():
            for name, t in s.items():
                self.assertTrue(torch.equal(after_opt["state"][k][name], t), (k, name))
        for p, g in zip(model.parameters(), before_grads):
            self.assertTrue(torch.equal(p.grad, g))
        self.assertEqual(opt.param_groups[0]["lr"], 0.01)


class Recorder(BaseHTTPRequestHandler):
    """A stand-in server: creates run r1, takes appends (stopping the run after ``stop_after`` steps, if set),
    records every body."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        srv.bodies.append((self.path, body))
        if self.path == "/api/runs":
            if srv.refuse_lr_range and "lr_range" in body:   # a server from before the range-test field
                self._answer(400, {"error": "lr_range: unknown key for an external run spec", "field": "lr_range"})
            else:
                self._answer(201, {"id": "r1", "state": "running"})
        elif self.path.endswith("/steps"):
            steps = body.get("step", [])
            if steps:
                srv.last = steps[-1]
            commands = []
            if srv.stop_after is not None and srv.last >= srv.stop_after:
                acked = any(a["id"] == "c1" for a in body.get("acks", ()))
                srv.stop_acked = srv.stop_acked or acked
                if not srv.stop_acked:
                    commands = [{"id": "c1", "op": "stop"}]
            self._answer(200, {"accepted": len(steps), "duplicates": 0, "last_step": srv.last,
                               "commands": commands})
        elif self.path.endswith("/finish"):
            self._answer(200, {"id": "r1", "state": body.get("state")})
        else:
            self._answer(404, {"error": "no"})

    def _answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LrFindServerTest(unittest.TestCase):
    def setUp(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.server.bodies = []
        self.server.last = 0
        self.server.stop_after = None
        self.server.stop_acked = False
        self.server.refuse_lr_range = False
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def steps(self):
        cols = {"step": [], "loss": [], "lr": [], "grad_norm": [], "smoothed": []}
        for path, body in self.server.bodies:
            if path.endswith("/steps") and body.get("step"):
                cols["step"] += body["step"]
                cols["loss"] += body["loss"]
                cols["lr"] += body["lr"]
                cols["grad_norm"] += body["grad_norm"]
                cols["smoothed"] += body["metrics"]["smoothed"]
        return cols

    def test_every_step_is_logged_with_lr_grad_norm_and_smoothed_and_the_run_finished(self):
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        r = losswatch.lr_find(model, opt, model.step_fn, start_lr=1e-4, end_lr=10, num_steps=100, url=self.url,
                              name="bowl", quiet=True)
        self.assertEqual(r["run"], "r1")
        path, create = self.server.bodies[0]
        self.assertEqual(path, "/api/runs")
        self.assertEqual(create["name"], "bowl")
        self.assertEqual(create["source"], "external")
        # a range test to the server (protocol item 6), labelled with the optimizer's type
        self.assertEqual(create["lr_range"], {"start_lr": 1e-4, "end_lr": 10.0, "num_steps": 100, "mode": "exp",
                                              "smooth": 0.98, "stop_factor": 4.0})
        self.assertEqual(create["optimizer"]["type"], "plainsgd")
        self.assertNotIn("config", create)
        cols = self.steps()
        n = len(r["lr"])
        self.assertEqual(cols["step"], list(range(1, n + 1)))
        self.assertEqual(cols["loss"], r["loss"])
        self.assertEqual(cols["lr"], r["lr"])
        self.assertEqual(cols["smoothed"], r["smoothed"])
        # the gradient of (w - 3)^2 at the w the step saw, so |grad| = 2 sqrt(loss)
        for g, loss in zip(cols["grad_norm"], r["loss"]):
            self.assertAlmostEqual(g, 2 * math.sqrt(loss), delta=1e-9 * g)
        self.assertEqual(self.server.bodies[-1], ("/api/runs/r1/finish", {"state": "finished"}))

    def test_a_server_before_the_range_test_field_knows_it_by_its_config(self):
        self.server.refuse_lr_range = True
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)
        r = losswatch.lr_find(model, opt, model.step_fn, num_steps=20, url=self.url, quiet=True)
        self.assertEqual(r["run"], "r1")
        creates = [b for p, b in self.server.bodies if p == "/api/runs"]
        self.assertEqual(2, len(creates))
        self.assertEqual(creates[1]["config"]["lr_range"], creates[0]["lr_range"])
        self.assertNotIn("lr_range", creates[1])

    def test_the_default_name_and_a_failure(self):
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)

        def step():
            raise ValueError("bad batch")

        with self.assertRaises(ValueError):
            losswatch.lr_find(model, opt, step, url=self.url, quiet=True)
        self.assertEqual(self.server.bodies[0][1]["name"], "lr range test")
        path, body = self.server.bodies[-1]
        self.assertEqual(path, "/api/runs/r1/finish")
        self.assertEqual(body["state"], "failed")
        self.assertIn("bad batch", body["message"])

    def test_the_server_can_stop_it(self):
        self.server.stop_after = 5
        model = Bowl(0.0)
        opt = PlainSGD(model.parameters(), lr=0.05)

        def step():
            threading.Event().wait(0.01)   # slow enough for the command to come back
            return model.step_fn()

        r = losswatch.lr_find(model, opt, step, start_lr=1e-4, end_lr=1e-3, num_steps=1000, url=self.url,
                              quiet=True)
        self.assertLess(len(r["lr"]), 1000)
        self.assertGreaterEqual(len(r["lr"]), 5)


if __name__ == "__main__":
    unittest.main()
