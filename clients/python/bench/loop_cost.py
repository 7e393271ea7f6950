"""What the guard, the look-ahead probes and the curvature cost a training loop, on issue 20's subject: the MLP
64-128-64-10 on the digits (minibatch 64, CPU, one thread), with SGD (momentum 0.9) and with Adam.

- a training step (zero_grad, forward, backward, optimizer.step): the unit everything is compared with;
- a snapshot (model, optimizer state, RNGs, copied), and what a guarded run's ``log()`` costs more per step than a
  watched run's without a guard (its snapshot every 10 steps amortized);
- a rewind (restoring a snapshot);
- a probe of 4 factors × H steps (H = 50), counted per probe step beside a training step;
- one curvature measurement (Lanczos on double-backward Hessian-vector products), with how many products it took,
  cold (from a random vector) and warm (from the last one, 100 steps later).

Times are CPU seconds of this process (``process_time``), the median of ``--rounds`` rounds, so a busy machine
slows them less than wall time would; ``log()`` is timed call by call (``perf_counter_ns``). No server is needed (the run's server is a closed port).

    /usr/bin/python3 clients/python/bench/loop_cost.py [--rounds 5]
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import torch  # noqa: E402

import digits  # noqa: E402
import losswatch  # noqa: E402
from losswatch import _curvature, _snapshots  # noqa: E402

cpu = time.process_time


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def per_call(f, n):
    t0 = cpu()
    for _ in range(n):
        f()
    return (cpu() - t0) / n


def one_round(kind, spool):
    xt, yt, xv, yv = digits.load()
    model = digits.mlp(0)
    opt = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if kind == "sgd"
           else torch.optim.Adam(model.parameters(), lr=0.01))
    stream = digits.batches(xt, yt)

    def train_step(batch=None):
        x, y = batch if batch is not None else next(stream)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(50):
        train_step()
    out = {"step": per_call(train_step, 200)}

    state = _snapshots.capture(0, model, opt, None, device="cpu")
    out["snapshot"] = per_call(lambda: _snapshots.capture(0, model, opt, None, device="cpu"), 200)
    out["snapshot_bytes"] = state.nbytes
    out["rewind"] = per_call(lambda: _snapshots.restore(state, model, opt, None, clear_grads=True), 100)

    run = losswatch.init(name="bench", url="http://127.0.0.1:%d" % closed_port(), guard=True, quiet=True,
                         spool_dir=spool, lookahead={"horizon": 50, "budget": 1.0})
    la = losswatch.Lookahead(train_step, list(digits.batches(xt, yt, seed=5).__next__() for _ in range(50)),
                             total_steps=10 ** 6)
    xb, yb = next(digits.batches(xt, yt, seed=9))
    run.watch(opt, model=model, lookahead=la, curvature=lambda: torch.nn.functional.cross_entropy(model(xb), yb),
              curvature_every=10 ** 9)
    control = run._control
    plain = losswatch.init(name="bench", url="http://127.0.0.1:%d" % closed_port(), quiet=True, spool_dir=spool)
    plain.watch(opt)
    calls = {plain: [], run: [], "snapshot": []}
    for r in (plain, run, plain, run):   # interleaved, so the machine's load falls on both alike
        for i in range(500):
            train_step()
            due = r is run and control.snapshots.due(r.step + 1)
            t0 = time.perf_counter_ns()
            r.log(loss=0.5)
            calls["snapshot" if due else r].append(time.perf_counter_ns() - t0)
    # log() of a watched run, and what the guard adds to it: its checks at every step, and a snapshot every 10
    # steps, amortized (medians: a busy machine's preemptions fall on single calls)
    plain_log = statistics.median(calls[plain])
    out["log_watched"] = plain_log / 1e9
    out["log_guarded_median"] = statistics.median(calls[run]) / 1e9
    out["log_guarded"] = (statistics.median(calls[run]) - plain_log
                          + (statistics.median(calls["snapshot"]) - plain_log) / 10) / 1e9
    plain.finish(timeout=0)
    t0 = cpu()
    ack = control.prober.probe({"id": "b", "op": "probe", "factors": [10, 1, 0.1, 0.01], "horizon": 50}, run.step)
    probe = cpu() - t0
    out["probe"] = probe
    out["probe_per_step"] = probe / (4 * 50)
    assert len(ack["outcomes"]) == 4, ack
    c = _curvature.Curvature(control.curvature.closure, opt, 1, model)
    t0 = cpu()
    m = c.measure()
    out["curvature_cold"] = cpu() - t0
    out["products_cold"] = m.products
    for _ in range(100):
        train_step()
    t0 = cpu()
    m = c.measure()
    out["curvature_warm"] = cpu() - t0
    out["products_warm"] = m.products
    out["sharpness"] = m.sharpness
    out["stability"] = m.stability
    out["val_acc"] = digits.accuracy(model, xv, yv)
    run.finish(timeout=0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    spool = tempfile.mkdtemp(prefix="losswatch-bench-")
    print("torch %s, %d rounds, CPU seconds of this process (median); load average %s"
          % (torch.__version__, args.rounds, os.getloadavg()[0]))
    for kind in ("sgd", "adam"):
        rounds = [one_round(kind, spool) for _ in range(args.rounds)]
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        step = med["step"]
        print("\n%s: training step %.0f µs" % (kind, step * 1e6))
        print("  snapshot             %7.0f µs  (%.2f steps; %d KB)" % (med["snapshot"] * 1e6, med["snapshot"] / step,
                                                                      med["snapshot_bytes"] / 1024))
        print("  log() watched        %7.1f µs (median); guarded %.1f µs (median, no snapshot due)"
              % (med["log_watched"] * 1e6, med["log_guarded_median"] * 1e6))
        print("  guard in log()       %7.1f µs per step, snapshots every 10 steps included (%.1f%% of a "
              "step)" % (med["log_guarded"] * 1e6, 100 * med["log_guarded"] / step))
        print("  rewind               %7.0f µs" % (med["rewind"] * 1e6))
        print("  probe 4 × 50 steps   %7.3f s   (%.2f training steps per probe step)"
              % (med["probe"], med["probe_per_step"] / step))
        print("  curvature, cold      %7.1f ms  (%d Hessian-vector products, %.1f steps)"
              % (med["curvature_cold"] * 1e3, med["products_cold"], med["curvature_cold"] / step))
        print("  curvature, warm      %7.1f ms  (%d products, %.1f steps; sharpness %.4g, stability %.3g)"
              % (med["curvature_warm"] * 1e3, med["products_warm"], med["curvature_warm"] / step, med["sharpness"],
                 med["stability"]))


if __name__ == "__main__":
    main()
