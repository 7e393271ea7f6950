"""Curvature (losswatch/_curvature.py) against torch's own Hessian: the sharpness is the top eigenvalue of
``torch.autograd.functional.hessian`` (of D·H·D with D from the optimizer's state, for Adam, AdamW, RMSprop and
Adagrad) within 1%; x² gives sharpness 2 and stability lr exactly. Needs torch: skipped without it."""

import math
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

try:
    import torch
    from torch.nn.utils import stateless
except ImportError:
    torch = None

import losswatch  # noqa: E402
from fakeguard import FakeGuard  # noqa: E402
from losswatch import _curvature  # noqa: E402


def net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()


def data(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 4, generator=g, dtype=torch.float64), torch.randint(0, 3, (32,), generator=g)


def hessian(model, x, y):
    """torch's Hessian of the loss over all parameters, flattened in parameter order."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(w):
        params = {n: c.view(s) for n, c, s in zip(names, torch.split(w, sizes), shapes)}
        return torch.nn.functional.cross_entropy(stateless.functional_call(model, params, (x,)), y)

    return torch.autograd.functional.hessian(f, flat)


def top(matrix):
    return float(torch.linalg.eigvalsh(matrix)[-1])


def train(model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


@unittest.skipIf(torch is None, "needs torch")
class SharpnessTest(unittest.TestCase):
    def test_x_squared_at_three_lrs(self):
        for lr in (0.1, 0.9, 1.1):
            with self.subTest(lr=lr):
                x = torch.nn.Parameter(torch.tensor([1.5], dtype=torch.float64))
                opt = torch.optim.SGD([x], lr=lr)
                m = _curvature.Curvature(lambda: (x ** 2).sum(), opt, every=1).measure()
                self.assertAlmostEqual(2.0, m.sharpness, delta=1e-6)
                self.assertAlmostEqual(lr, m.stability, delta=1e-6)
                self.assertEqual(2.0, m.threshold)
                self.assertFalse(m.preconditioned)

    def test_sgd_matches_torchs_hessian(self):
        model = net()
        x, y = data()
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        train(model, opt, x, y, 5)
        closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
        m = _curvature.Curvature(closure, opt, every=1).measure()
        expected = top(hessian(model, x, y))
        self.assertAlmostEqual(expected, m.sharpness, delta=0.01 * expected)
        self.assertAlmostEqual(3.8, m.threshold)   # heavy ball: 2(1 + 0.9)
        self.assertAlmostEqual(0.5 * m.sharpness / 3.8, m.stability)

    def test_preconditioned_matches_torchs_hessian_scaled_by_the_optimizers_denominator(self):
        cases = [
            ("adam", lambda p: torch.optim.Adam(p, lr=0.01), 38.0),
            ("adamw amsgrad", lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True,
                                                          weight_decay=0.1), (2 + 1.6) / 0.2),
            ("rmsprop centered momentum", lambda p: torch.optim.RMSprop(p, lr=0.001, centered=True, momentum=0.5),
             3.0),
            ("adagrad lr_decay", lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01), 2 * (1 + 6 * 0.01)),
        ]
        for name, make, threshold in cases:
            with self.subTest(name):
                model = net()
                x, y = data()
                opt = make(model.parameters())
                train(model, opt, x, y, 7)
                closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
                m = _curvature.Curvature(closure, opt, every=1).measure()
                d = torch.cat([self.denominator(opt, p).reshape(-1) for p in model.parameters()]).rsqrt()
                expected = top(d[:, None] * hessian(model, x, y) * d[None, :])
                self.assertTrue(m.preconditioned)
                self.assertAlmostEqual(expected, m.sharpness, delta=0.01 * abs(expected))
                self.assertAlmostEqual(threshold, m.threshold, places=9)
                self.assertAlmostEqual(opt.param_groups[0]["lr"] * m.sharpness / threshold, m.stability)

    @staticmethod
    def denominator(opt, p):
        """torch's denominator for p's next step, written out independently of the client's reading."""
        st, g = opt.state[p], opt.param_groups[0]
        if "exp_avg_sq" in st:
            v = st["max_exp_avg_sq"] if g["amsgrad"] else st["exp_avg_sq"]
            return v.sqrt() / math.sqrt(1 - g["betas"][1] ** st["step"].item()) + g["eps"]
        if "square_avg" in st:
            return (st["square_avg"] - st["grad_avg"] ** 2).sqrt() + g["eps"]
        return st["sum"].sqrt() + g["eps"]

    def test_frozen_and_unused_parameters(self):
        model = net()
        x, y = data()
        extra = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))   # never in the loss: no Adam state
        model[0].bias.requires_grad_(False)                                   # frozen
        opt = torch.optim.Adam(list(model.parameters()) + [extra], lr=0.01)
        train(model, opt, x, y, 4)
        m = _curvature.Curvature(lambda: torch.nn.functional.cross_entropy(model(x), y), opt, every=1).measure()
        free = [p for p in model.parameters() if p.requires_grad]
        full = hessian(model, x, y)
        keep = torch.cat([torch.full((p.numel(),), p.requires_grad, dtype=torch.bool) for p in model.parameters()])
        d = torch.cat([self.denominator(opt, p).reshape(-1) for p in free]).rsqrt()
        expected = top(d[:, None] * full[keep][:, keep] * d[None, :])
        self.assertEqual(3, len(free))   # the first layer's weight, the last layer's weight and bias
        self.assertAlmostEqual(expected, m.sharpness, delta=0.01 * expected)

    def test_nothing_the_run_depends_on_changes(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.3),
                                    torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
        x, y = data()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        train(model, opt, x, y, 3)
        grads = [p.grad.clone() for p in model.parameters()]
        buffers = [b.clone() for b in model.buffers()]
        rng = (torch.get_rng_state(), random.getstate())
        closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
        _curvature.Curvature(closure, opt, every=1, model=model).measure()
        for p, g in zip(model.parameters(), grads):
            self.assertTrue(torch.equal(p.grad, g))
        for b, saved in zip(model.buffers(), buffers):
            self.assertTrue(torch.equal(b, saved))
        self.assertTrue(torch.equal(rng[0], torch.get_rng_state()))
        self.assertEqual(rng[1], random.getstate())

    def test_warm_start_takes_fewer_products(self):
        model = net()
        x, y = data()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
        c = _curvature.Curvature(closure, opt, every=1)
        first = c.measure()
        second = c.measure()
        self.assertLess(second.products, first.products)
        self.assertAlmostEqual(first.sharpness, second.sharpness, delta=1e-3 * first.sharpness)

    def test_before_the_first_step_a_preconditioner_is_not_known(self):
        model = net()
        x, y = data()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        closure = lambda: torch.nn.functional.cross_entropy(model(x), y)  # noqa: E731
        self.assertIsNone(_curvature.Curvature(closure, opt, every=1).measure())

    def test_thresholds(self):
        p = [torch.nn.Parameter(torch.zeros(1))]
        self.assertEqual(2.0, _curvature.threshold(torch.optim.SGD(p, lr=1)))
        self.assertAlmostEqual(3.8 / 0.5, _curvature.threshold(torch.optim.SGD(p, lr=1, momentum=0.9, dampening=0.5)))
        self.assertAlmostEqual(3.8 / 2.8, _curvature.threshold(torch.optim.SGD(p, lr=1, momentum=0.9, nesterov=True)))
        self.assertAlmostEqual(38.0, _curvature.threshold(torch.optim.Adam(p)))
        self.assertEqual(2.0, _curvature.threshold(torch.optim.RMSprop(p)))
        self.assertEqual(2.0, _curvature.threshold(torch.optim.Adagrad(p)))
        self.assertIsNone(_curvature.threshold(torch.optim.LBFGS(p)))


@unittest.skipIf(torch is None, "needs torch")
class CurvatureColumnsTest(unittest.TestCase):
    """watch(curvature=...) sends sharpness and stability with the steps (protocol item 5)."""

    def loop(self, srv, steps=25):
        model = net()
        x, y = data()
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        run = losswatch.init(name="c", url=srv.url, quiet=True, flush_interval=0.01)
        run.watch(opt, model=model, curvature=lambda: torch.nn.functional.cross_entropy(model(x), y),
                  curvature_every=10)
        for _ in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            run.log(loss=loss.item())
        run.finish()
        return model, x, y

    def test_every_nth_step_carries_them(self):
        srv = FakeGuard(triggers=False)
        try:
            model, x, y = self.loop(srv)
            rows = {r["step"]: r for r in srv.steps}
            self.assertEqual([10, 20], [s for s, r in sorted(rows.items()) if r.get("sharpness") is not None])
            self.assertIsNone(rows[11].get("sharpness"))
            self.assertAlmostEqual(0.5 * rows[20]["sharpness"] / 2, rows[20]["stability"])
            facts = [a["curvature"] for a in srv.appends if "curvature" in a]
            self.assertEqual([{"preconditioned": False, "threshold": 2.0}], facts)   # once
            self.assertTrue(all("sharpness" not in a or len(a["sharpness"]) == len(a["step"]) for a in srv.appends))
        finally:
            srv.close()

    def test_a_server_without_the_columns_gets_the_steps_without_them(self):
        srv = FakeGuard(triggers=False, refuse=("sharpness",))
        try:
            self.loop(srv)
            self.assertEqual(list(range(1, 26)), [r["step"] for r in srv.steps])
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
