"""Look-ahead probes (losswatch/_probe.py; issue 20.3, HELPERS.md protocol item 4): a run that was probed goes on
bit for bit as the same run unprobed; the ×1 branch is exactly what the run then does on the same batches; the
budget holds. The probe commands are handed to the client as the sender would (``_command_arrived``), so they land
at a known step; the acknowledgements go to a stand-in server (fakeguard.FakeGuard). Needs torch."""

import math
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

try:
    import torch
except ImportError:
    torch = None

import losswatch  # noqa: E402
from fakeguard import FakeGuard  # noqa: E402

PROBE = {"id": "p1", "op": "probe", "factors": [10, 1, 0.1, 0.01], "horizon": 20}


def wait_for(condition, seconds=30.0):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def data(n, seed):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(32, 8, generator=g), torch.randint(0, 3, (32,), generator=g)) for _ in range(n)]


class Loop:
    """A small net with dropout (torch's RNG), Adam with a schedule, and a step function for the probes."""

    def __init__(self):
        torch.manual_seed(7)
        self.model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Dropout(0.1), torch.nn.ReLU(),
                                         torch.nn.Linear(32, 3))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.01)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=5, gamma=0.9)

    def loss(self, batch):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.model(x), y)

    def step_fn(self, batch):
        self.optimizer.zero_grad()
        loss = self.loss(batch)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss


@unittest.skipIf(torch is None, "needs torch")
class ProbeTest(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.srv = FakeGuard(triggers=False)

    def tearDown(self):
        self.srv.close()

    def run_loop(self, probe_at=None, command=PROBE, lookahead=True, budget=1.0, log_before_step=True,
                 batches=None, steps=60, total_steps=1000):
        """Trains ``steps`` steps (logging between backward() and step() by default, the harder case: the
        gradients must survive the probe); returns the losses, the final parameters and the loop."""
        loop = Loop()
        run = losswatch.init(name="p", url=self.srv.url, lookahead={"horizon": 20, "budget": budget}, quiet=True,
                             flush_interval=0.01)
        la = losswatch.Lookahead(loop.step_fn, batches if batches is not None else data(25, 99), total_steps)
        run.watch(loop.optimizer, loop.scheduler, model=loop.model, lookahead=la if lookahead else None)
        losses = []
        for i, batch in enumerate(data(steps, 1)):
            if probe_at is not None and i + 1 == probe_at:
                run._command_arrived([dict(command)])
            if log_before_step:
                loop.optimizer.zero_grad()
                loss = loop.loss(batch)
                loss.backward()
                run.log(loss=loss.item())
                loop.optimizer.step()
                loop.scheduler.step()
            else:
                loss = loop.step_fn(batch)
                run.log(loss=loss.item())
            losses.append(loss.item())
        run.finish()
        return losses, [p.detach().clone() for p in loop.model.parameters()], loop

    def test_a_probed_run_goes_on_bit_for_bit_as_the_unprobed_one(self):
        for before in (True, False):
            with self.subTest(log_before_step=before):
                plain, plain_params, plain_loop = self.run_loop(log_before_step=before)
                probed, probed_params, probed_loop = self.run_loop(probe_at=30, log_before_step=before)
                wait_for(lambda: self.srv.acks)
                self.assertEqual(4, len(self.srv.acks[-1]["outcomes"]))   # it did probe
                self.assertEqual(plain, probed)
                for a, b in zip(plain_params, probed_params):
                    self.assertTrue(torch.equal(a, b))
                self.assertEqual(plain_loop.optimizer.param_groups[0]["lr"],
                                 probed_loop.optimizer.param_groups[0]["lr"])
                self.assertEqual(plain_loop.scheduler.state_dict(), probed_loop.scheduler.state_dict())
                self.assertEqual(plain_loop.optimizer.state_dict()["state"][0]["step"],
                                 probed_loop.optimizer.state_dict()["state"][0]["step"])

    def test_outcomes_and_the_x1_branch_is_what_the_run_then_does(self):
        ahead = data(60, 1)[30:50]   # the very batches the run trains on after step 30
        losses, _, _ = self.run_loop(probe_at=30, log_before_step=False, batches=ahead)
        wait_for(lambda: self.srv.acks)
        ack = self.srv.acks[0]
        self.assertEqual("p1", ack["id"])
        self.assertEqual(30, ack["step"])
        self.assertGreater(ack["seconds"], 0)
        self.assertEqual([10, 1, 0.1, 0.01], [o["factor"] for o in ack["outcomes"]])
        x1 = ack["outcomes"][1]
        self.assertTrue(x1["finite"])
        self.assertEqual(sum(losses[48:50]) / 2, x1["end_loss"])   # the mean of the last max(1, 20 // 10)
        self.assertEqual({"horizon": 20, "budget": 1.0}, self.srv.create["lookahead"])

    def test_a_branch_that_blows_up_is_not_finite(self):
        loop = Loop()
        seen = []

        def step_fn(batch):   # the loss overflows at a huge lr, as plain SGD's would
            seen.append(loop.optimizer.param_groups[0]["lr"])
            return math.inf if loop.optimizer.param_groups[0]["lr"] > 1 else loop.step_fn(batch)

        run = losswatch.init(name="p", url=self.srv.url, lookahead={"horizon": 10, "budget": 1.0}, quiet=True)
        run.watch(loop.optimizer, loop.scheduler, model=loop.model,
                  lookahead=losswatch.Lookahead(step_fn, data(10, 9), total_steps=100))
        run._command_arrived([dict(PROBE, factors=[1e9, 1], horizon=10)])
        run.log(loss=1.0)
        run.finish()
        wait_for(lambda: self.srv.acks)
        blown, kept = self.srv.acks[0]["outcomes"]
        self.assertEqual({"factor": 1e9, "end_loss": None, "finite": False}, blown)
        self.assertTrue(kept["finite"])
        self.assertEqual(1 + 10, len(seen))   # the blown branch stopped at its first non-finite loss
        self.assertEqual(0.01, loop.optimizer.param_groups[0]["lr"])

    def test_a_branch_whose_step_raises_is_not_finite_and_the_run_goes_on(self):
        loop_losses, params, _ = self.run_loop(steps=15)

        class Boom(Exception):
            pass

        calls = []

        def step_fn(batch):
            calls.append(1)
            if len(calls) == 3:
                raise Boom("the script's own check")
            return 1.0

        run = losswatch.init(name="p", url=self.srv.url, lookahead={"horizon": 5, "budget": 1.0}, quiet=True)
        loop = Loop()
        run.watch(loop.optimizer, loop.scheduler, model=loop.model, lookahead=losswatch.Lookahead(step_fn, data(5, 9), total_steps=100))
        run._command_arrived([dict(PROBE, id="p2", factors=[1, 2], horizon=5)])
        run.log(loss=1.0)
        run.finish()
        wait_for(lambda: any(a["id"] == "p2" for a in self.srv.acks))
        ack = next(a for a in self.srv.acks if a["id"] == "p2")
        self.assertFalse(ack["outcomes"][0]["finite"])
        self.assertIn("Boom", ack["outcomes"][0]["error"])
        self.assertTrue(ack["outcomes"][1]["finite"])

    def test_the_budget_refuses_a_probe_and_says_why(self):
        self.run_loop(probe_at=30, budget=0.1, steps=35, total_steps=None)   # 4 × 20 steps > 10% of 30
        wait_for(lambda: self.srv.acks)
        ack = self.srv.acks[0]
        self.assertEqual([], ack["outcomes"])
        self.assertIn("over budget", ack["refused"])

    def test_without_the_means_a_probe_is_refused(self):
        self.run_loop(probe_at=5, lookahead=False, steps=8)
        wait_for(lambda: self.srv.acks)
        self.assertIn("no lookahead", self.srv.acks[0]["refused"])

    def test_the_server_asks_for_a_probe_over_http(self):
        srv = FakeGuard(triggers=False, probe_at=20, horizon=10)
        try:
            loop = Loop()
            run = losswatch.init(name="p", url=srv.url, lookahead=True, quiet=True, flush_interval=0.01)
            run.watch(loop.optimizer, loop.scheduler, model=loop.model,
                      lookahead=losswatch.Lookahead(loop.step_fn, data(10, 5), total_steps=1000))
            for batch in data(400, 1):
                run.log(loss=loop.step_fn(batch).item())
                if srv.acks:
                    break
                time.sleep(0.002)
            run.finish()
            self.assertEqual({"horizon": 200, "budget": 0.1}, srv.create["lookahead"])
            ack = srv.acks[0]
            self.assertEqual("probe", ack["op"])
            self.assertEqual(4, len(ack["outcomes"]))
            self.assertTrue(all(math.isfinite(o["end_loss"]) for o in ack["outcomes"]))
            self.assertEqual([], srv.violations)
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
