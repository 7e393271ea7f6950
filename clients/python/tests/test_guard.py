"""The guard for a script's run (issue 20.2; HELPERS.md protocol item 3): snapshots, the server's rewind, the
renumbered steps, the cycles. Against a stand-in server (fakeguard.FakeGuard, over HTTP) and offline, with the test
playing the server's guard, on issue 20's two dead-network cases: the digits MLP with Adam lr 1, and SGD lr 5 with
momentum 0.9, must end with val_acc >= 0.9. Needs torch: skipped without it.

The end-to-end test against the real server: src/test/java/io/losswatch/web/ScriptGuardIT.java.
"""

import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

try:
    import torch
except ImportError:
    torch = None
else:
    import digits

import losswatch  # noqa: E402
from fakeguard import FakeGuard, Triggers  # noqa: E402

GUARD = {"on": ["diverging", "non_finite", "spike", "dead"], "rewind": 50, "lr_factor": 0.1, "max_rewinds": 3}
SPOOL = tempfile.mkdtemp(prefix="losswatch-guard-")


def tearDownModule():
    shutil.rmtree(SPOOL, ignore_errors=True)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(condition, seconds=20.0):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s" % condition)
        time.sleep(0.01)


def make(kind, lr):
    model = digits.mlp(0)
    if kind == "adam":
        return model, torch.optim.Adam(model.parameters(), lr=lr)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def train(run, model, optimizer, steps, each=None):
    """The user's loop as issue 20 wrote it: auto-numbered log() after optimizer.step()."""
    stream = digits.batches(DATA[0], DATA[1])
    for _ in range(steps):
        x, y = next(stream)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        step = run.log(loss=loss.item())
        if each is not None:
            each(step, loss.item())
        if run.stopped:
            break


class OfflineGuard:
    """The server's guard played by the test, through the client's own command path: a trigger after step t is a
    rewind to 50 steps before its episode began, applied at the next log(), as a command arriving from the server
    would be."""

    def __init__(self, run, max_rewinds=3):
        self.run = run
        self.triggers = Triggers()
        self.pending = False
        self.max_rewinds = max_rewinds
        self.rewinds = []

    def __call__(self, step, loss):
        run = self.run
        if run.rewound:   # this log() went back: its loss was the abandoned step's
            run.rewound = False
            self.pending = False
            self.triggers.new_cycle()
            return
        if self.pending:
            return
        seen = self.triggers.see(step, loss)
        if seen is None:
            return
        self.pending = True
        n = len(self.rewinds) + 1
        if n > self.max_rewinds:
            run._command_arrived([{"id": "c%d" % n, "op": "stop", "reason": "diverged"}])
        else:
            why, since = seen
            self.rewinds.append((step, why))
            run._command_arrived([{"id": "c%d" % n, "op": "rewind", "to_step": max(0, since - 50),
                                   "lr_factor": 0.1}])


@unittest.skipIf(torch is None, "needs torch")
class DeadNetworkOfflineTest(unittest.TestCase):
    """The whole loop offline (no server): the guard's decisions from fakeguard.Triggers."""

    def setUp(self):
        torch.set_num_threads(1)

    def case(self, kind, lr, steps):
        run = losswatch.init(name="offline", url="http://127.0.0.1:%d" % closed_port(), guard=GUARD, quiet=True,
                             spool_dir=SPOOL)
        model, optimizer = make(kind, lr)
        run.watch(optimizer, model=model)
        guard = OfflineGuard(run)
        train(run, model, optimizer, steps, guard)
        run.finish(timeout=0)
        acc = digits.accuracy(model, DATA[2], DATA[3])
        return acc, guard.rewinds, optimizer.param_groups[0]["lr"]

    def test_adam_lr_1_ends_above_0_9(self):
        acc, rewinds, lr = self.case("adam", 1.0, 1000)
        self.assertGreaterEqual(acc, 0.9, (rewinds, lr))
        self.assertTrue(1 <= len(rewinds) <= 3, rewinds)
        self.assertEqual("diverging", rewinds[0][1])
        self.assertLessEqual(lr, 0.1 + 1e-12)   # never back to the lr that blew up

    def test_sgd_lr_5_momentum_ends_above_0_9(self):
        acc, rewinds, lr = self.case("sgd", 5.0, 600)
        self.assertGreaterEqual(acc, 0.9, (rewinds, lr))
        self.assertTrue(1 <= len(rewinds) <= 3, rewinds)
        self.assertLessEqual(lr, 0.5 + 1e-12)


@unittest.skipIf(torch is None, "needs torch")
class GuardProtocolTest(unittest.TestCase):
    """The client's side of the protocol, over HTTP, against fakeguard.FakeGuard."""

    def setUp(self):
        torch.set_num_threads(1)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()

    def server(self, **kw):
        s = FakeGuard(**kw)
        self.servers.append(s)
        return s

    def test_a_rewind_goes_back_exactly_and_numbers_on_from_there(self):
        srv = self.server(triggers=False, rewind_at=60, rewind=25)
        run = losswatch.init(name="g", url=srv.url, guard=GUARD, quiet=True, flush_interval=0.01)
        self.assertEqual(GUARD, srv.create["guard"])
        model, optimizer = make("adam", 0.001)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1000, gamma=0.5)
        run.watch(optimizer, scheduler, model=model, snapshot_every=10)
        kept = {}   # the state at every tenth step, as the test saw it

        def each(step, loss):
            if run.rewound:
                return
            if step % 10 == 0:
                kept[step] = ([p.detach().clone() for p in model.parameters()],
                              [optimizer.state[p]["exp_avg_sq"].clone() for p in model.parameters()])

        stream = digits.batches(DATA[0], DATA[1])
        back = None
        steps = 0
        while back is None and steps < 100_000:
            x, y = next(stream)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            before = run.step
            step = run.log(loss=loss.item())
            steps += 1
            if run.rewound:
                back = (before + 1, step)
            else:
                each(step, loss.item())
            if not run.rewound and step > 60:
                time.sleep(0.001)   # a loop slow enough for the command to come while it runs
        at, s = back
        self.assertLessEqual(s, 60 - 25)
        self.assertEqual(s, run.step)
        self.assertEqual(0, s % 10)
        params, moments = kept[s]
        for p, saved in zip(model.parameters(), params):
            self.assertTrue(torch.equal(p, saved))   # bit for bit the state step s ended in
        for p, saved in zip(model.parameters(), moments):
            self.assertTrue(torch.equal(optimizer.state[p]["exp_avg_sq"], saved))
        self.assertAlmostEqual(0.0001, optimizer.param_groups[0]["lr"], delta=1e-12)
        self.assertEqual([0.0001], scheduler.base_lrs)   # the schedule keeps the cut
        self.assertTrue(all(p.grad is None for p in model.parameters()))   # the loop's next step() is a no-op
        train(run, model, optimizer, 20)
        run.finish()
        self.assertEqual([], srv.violations)
        self.assertEqual(1, srv.cycle)
        cycled = [a for a in srv.appends if a.get("cycle") == 1]
        self.assertEqual({"id": "c1", "step": s}, cycled[0]["acks"][0])
        self.assertEqual(s + 1, cycled[0]["step"][0] if cycled[0]["step"] else cycled[1]["step"][0])
        self.assertTrue(all(a.get("cycle") == 0 for a in srv.appends[:srv.appends.index(cycled[0])]))
        self.assertEqual([x["step"] for x in srv.steps], list(range(1, s + 21)))   # s, then 20 more
        self.assertEqual([x["step"] for x in srv.abandoned], list(range(s + 1, at + 1)))

    def test_after_max_rewinds_the_server_stops_the_run_diverged(self):
        srv = self.server(max_rewinds=0)
        run = losswatch.init(name="g", url=srv.url, guard=GUARD, quiet=True, flush_interval=0.01)
        model, optimizer = make("adam", 1.0)
        run.watch(optimizer, model=model)
        stream = digits.batches(DATA[0], DATA[1])
        deadline = time.monotonic() + 60
        while not run.stopped and time.monotonic() < deadline:
            x, y = next(stream)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            run.log(loss=loss.item())
            time.sleep(0.001)
        self.assertTrue(run.stopped)
        self.assertEqual("diverged", getattr(run, "stop_reason", "diverged"))
        run.finish()
        self.assertEqual([], srv.violations)

    def test_without_a_model_a_rewind_is_refused_and_said(self):
        srv = self.server(triggers=False, rewind_at=3)
        run = losswatch.init(name="g", url=srv.url, guard=GUARD, quiet=True, flush_interval=0.01)
        model, optimizer = make("adam", 0.001)
        run.watch(optimizer)
        stream = digits.batches(DATA[0], DATA[1])
        step = 0
        while not srv.acks:
            x, y = next(stream)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            step = run.log(loss=loss.item())
            time.sleep(0.002)
            self.assertLess(step, 20_000)
        self.assertIn("error", srv.acks[0])
        self.assertFalse(run.rewound)
        run.finish()
        self.assertEqual(0, srv.cycle)

    def test_sgd_lr_5_through_the_server(self):
        # The server's commands land when they land, so the trajectory (and the val_acc it ends at) varies from run
        # to run; what holds every time is the client's side: every rewind executed as the protocol says, the lr
        # never back up. val_acc >= 0.9 is held offline above, where the rewinds land at known steps.
        srv = self.server()
        run = losswatch.init(name="g", url=srv.url, guard=GUARD, quiet=True, flush_interval=0.01)
        model, optimizer = make("sgd", 5.0)
        run.watch(optimizer, model=model)
        lrs = []
        train(run, model, optimizer, 600, lambda step, loss: lrs.append(optimizer.param_groups[0]["lr"]))
        run.finish()
        self.assertTrue(1 <= srv.rewinds <= 3, srv.acks)
        self.assertEqual([], srv.violations)
        self.assertEqual(srv.rewinds, run._cycle)
        self.assertEqual(sorted(lrs, reverse=True), lrs)   # only ever cut
        self.assertAlmostEqual(5.0 * 0.1 ** srv.rewinds, optimizer.param_groups[0]["lr"])
        kept = [x["step"] for x in srv.steps]
        self.assertEqual(list(range(1, len(kept) + 1)), kept)   # one step per number, each once, in its cycle


    def test_a_resumed_guarded_run_goes_on_in_the_servers_cycle(self):
        srv = self.server(triggers=False)
        srv.create = {"source": "external", "guard": {}}
        srv.cycle, srv.last_step = 2, 40   # rewound twice before the script was restarted
        run = losswatch.init(url=srv.url, resume="r1", guard=True, quiet=True, flush_interval=0.01)
        self.assertEqual(40, run.step)
        model, optimizer = make("adam", 0.001)
        run.watch(optimizer, model=model)
        train(run, model, optimizer, 5)
        run.finish()
        self.assertEqual([41, 42, 43, 44, 45], [x["step"] for x in srv.steps])
        self.assertEqual(0, srv.stale)
        self.assertTrue(all(a.get("cycle") == 2 for a in srv.appends))


@unittest.skipIf(torch is None, "needs torch")
class GuardSpecTest(unittest.TestCase):
    def test_checked_before_anything_is_sent(self):
        for bad in ({"on": ["exploding"]}, {"rewind": 0}, {"lr_factor": 1.5}, {"max": 3}, "yes"):
            with self.subTest(bad):
                with self.assertRaises((TypeError, ValueError)):
                    losswatch.init(url="http://127.0.0.1:%d" % closed_port(), guard=bad, quiet=True)

    def test_the_create_body_carries_the_guard_and_appends_their_cycle(self):
        srv = FakeGuard(triggers=False)
        try:
            run = losswatch.init(name="g", url=srv.url, guard=True, quiet=True)
            run.log(loss=1.0)
            run.finish()
            self.assertEqual({}, srv.create["guard"])
            self.assertTrue(all(a.get("cycle") == 0 for a in srv.appends))
            plain = FakeGuard(triggers=False)
            try:
                run = losswatch.init(name="p", url=plain.url, quiet=True)
                run.log(loss=1.0)
                run.finish()
                self.assertNotIn("guard", plain.create)
                self.assertTrue(all("cycle" not in a for a in plain.appends))
            finally:
                plain.close()
        finally:
            srv.close()


DATA = digits.load() if torch is not None else None

if __name__ == "__main__":
    unittest.main()
