"""Snapshots (losswatch/_snapshots.py): a restored state trains on exactly as the original did, bit for bit; the
guard's ring keeps what it says. Needs torch (Debian's python3-torch): skipped without it."""

import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

try:
    import torch
except ImportError:
    torch = None

from losswatch import _snapshots  # noqa: E402


def setup(optimizer="adam"):
    """A small net with dropout (it draws from torch's RNG), an optimizer with state, a schedule."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.2), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    g = torch.Generator().manual_seed(5)
    data = [(torch.randn(16, 8, generator=g), torch.randint(0, 3, (16,), generator=g)) for _ in range(40)]
    return model, opt, sched, data


def train(model, opt, sched, batches):
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item() + random.random() * 0)   # touches Python's RNG too
    return losses


def params(model):
    return [p.detach().clone() for p in model.parameters()]


@unittest.skipIf(torch is None, "needs torch")
class CaptureRestoreTest(unittest.TestCase):
    def test_a_restored_state_trains_on_bit_for_bit(self):
        for kind in ("adam", "sgd"):
            with self.subTest(kind):
                model, opt, sched, data = setup(kind)
                train(model, opt, sched, data[:10])
                state = _snapshots.capture(10, model, opt, sched)
                first = train(model, opt, sched, data[10:30])
                end = params(model)
                lr = opt.param_groups[0]["lr"]
                _snapshots.restore(state, model, opt, sched)
                again = train(model, opt, sched, data[10:30])
                self.assertEqual(first, again)   # the same floats: dropout masks, schedule, moments all as before
                for a, b in zip(end, params(model)):
                    self.assertTrue(torch.equal(a, b))
                self.assertEqual(lr, opt.param_groups[0]["lr"])
                # the snapshot is not aliased by the run it was restored into: restoring again works the same
                _snapshots.restore(state, model, opt, sched)
                self.assertEqual(first, train(model, opt, sched, data[10:30]))

    def test_rng_states_come_back(self):
        model, opt, sched, _ = setup()
        state = _snapshots.capture(0, model, opt, sched)
        a = (torch.rand(3).tolist(), random.random())
        _snapshots.restore(state, model, opt, sched)
        self.assertEqual(a, (torch.rand(3).tolist(), random.random()))

    def test_gradients_and_modes_come_back_in_the_same_tensors(self):
        model, opt, sched, data = setup()
        x, y = data[0]
        torch.nn.functional.cross_entropy(model(x), y).backward()
        grads = [p.grad for p in model.parameters()]
        values = [g.clone() for g in grads]
        state = _snapshots.capture(1, model, opt, sched, grads=True)
        model.eval()
        train(model, opt, sched, data[1:4])
        _snapshots.restore(state, model, opt, sched)
        self.assertTrue(model.training)
        for p, g, v in zip(model.parameters(), grads, values):
            self.assertIs(p.grad, g)
            self.assertTrue(torch.equal(p.grad, v))

    def test_cleared_gradients_make_the_next_step_a_no_op(self):
        model, opt, sched, data = setup()
        train(model, opt, sched, data[:3])
        state = _snapshots.capture(3, model, opt, sched)
        x, y = data[3]
        torch.nn.functional.cross_entropy(model(x), y).backward()
        _snapshots.restore(state, model, opt, sched, clear_grads=True)
        before = params(model)
        opt.step()   # the loop's own step after a log() that rewound: nothing to apply
        for a, b in zip(before, params(model)):
            self.assertTrue(torch.equal(a, b))

    def test_bytes_are_counted(self):
        model, opt, sched, data = setup()
        train(model, opt, sched, data[:2])
        state = _snapshots.capture(2, model, opt, sched)
        n = sum(p.numel() for p in model.parameters())
        self.assertGreaterEqual(state.nbytes, 3 * 4 * n)   # parameters, exp_avg, exp_avg_sq as float32
        self.assertLess(state.nbytes, 3 * 4 * n + 20_000)  # and the RNG states, the steps


@unittest.skipIf(torch is None, "needs torch")
class RingTest(unittest.TestCase):
    def test_every_keep_and_the_anchor(self):
        model, opt, sched, data = setup()
        ring = _snapshots.Snapshots(model, opt, sched, every=5, keep=3)
        ring.take(0)
        for step in range(1, 41):
            if ring.due(step):
                ring.take(step)
        self.assertEqual([0, 30, 35, 40], ring.steps())
        self.assertEqual(30, ring.at_or_before(33).step)
        self.assertEqual(40, ring.at_or_before(40).step)
        self.assertEqual(0, ring.at_or_before(29).step)   # older than the ring: the anchor
        self.assertIsNone(_snapshots.Snapshots(model, opt, sched).at_or_before(5))

    def test_the_byte_bound_keeps_at_least_the_newest(self):
        model, opt, sched, data = setup()
        one = _snapshots.capture(0, model, opt, sched).nbytes
        ring = _snapshots.Snapshots(model, opt, sched, every=1, keep=10, max_bytes=int(3.5 * one))   # the anchor counts too
        for step in range(6):
            ring.take(step)
        self.assertEqual([0, 4, 5], ring.steps())
        tiny = _snapshots.Snapshots(model, opt, sched, every=1, keep=10, max_bytes=0)
        for step in range(4):
            tiny.take(step)
        self.assertEqual([0, 3], tiny.steps())

    def test_the_bounds_never_drop_the_one_a_rewind_needs(self):
        model, opt, sched, data = setup()
        one = _snapshots.capture(0, model, opt, sched).nbytes
        ring = _snapshots.Snapshots(model, opt, sched, every=1, keep=10, max_bytes=int(2.5 * one), back=5)
        for step in range(21):
            ring.take(step)
        # room for one besides the anchor: the oldest stays (it is the first a rewind of 5 needs), so a rewind from
        # 20 goes back to 1, further than asked, never less
        self.assertEqual([0, 1, 20], ring.steps())
        self.assertEqual(1, ring.at_or_before(20 - 5).step)
        roomy = _snapshots.Snapshots(model, opt, sched, every=1, keep=7, back=5)
        for step in range(21):
            roomy.take(step)
        self.assertEqual([0, 14, 15, 16, 17, 18, 19, 20], roomy.steps())   # enough: oldest dropped first
        counted = _snapshots.Snapshots(model, opt, sched, every=1, keep=3, back=5)
        for step in range(21):
            counted.take(step)
        self.assertEqual([0, 1, 19, 20], counted.steps())   # too few for 5 steps back: the oldest holds on

    def test_a_rewind_forgets_the_abandoned_snapshots(self):
        model, opt, sched, data = setup()
        ring = _snapshots.Snapshots(model, opt, sched, every=2, keep=10)
        ring.take(0)
        for step in range(1, 11):
            train(model, opt, sched, data[step - 1:step])
            if ring.due(step):
                ring.take(step)
        target = ring.at_or_before(5)
        self.assertEqual(4, target.step)
        ring.rewind(target)
        self.assertEqual([0, 2, 4], ring.steps())
        self.assertTrue(all(p.grad is None for p in model.parameters()))


if __name__ == "__main__":
    unittest.main()
