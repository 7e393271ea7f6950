#!/usr/bin/python3
"""Golden sharpness values for CurvatureGoldenTest, made by PyTorch itself.

Rerun by hand from the project root (needs PyTorch; written against Debian's torch 1.13, numpy 1.24):

    /usr/bin/python3 src/test/python/make_curvature_golden.py

It (re)writes src/test/resources/curvature/<case>.csv and src/test/resources/curvature/cases.json. The output is
committed; CI does not run this script, only src/test/java/io/losswatch/core/curvature/CurvatureGoldenTest.java
against the committed files.

Every case is a RunSpec with a curvature_every k. This script replays its trajectory exactly as make_golden.py
does (float64, foreach=False, the same problems), and at every k-th step t records

    sharpness = the largest eigenvalue of H = torch.autograd.functional.hessian(loss, θ_t)

where θ_t is the point step t took its gradient at and the loss is over step t's sample (for a minibatch mlp, the
batch that step's gradient used). For Adam, AdamW, RMSprop and Adagrad it is the preconditioned sharpness, the
largest eigenvalue of P^(-1/2) H P^(-1/2) (the eigenvalues of P⁻¹H), P being the denominator step t divided by,
computed after opt.step() from the optimizer's own state as torch computes it:

    Adam/AdamW  sqrt(exp_avg_sq or max_exp_avg_sq) / sqrt(1 - beta2**step) + eps
    RMSprop     sqrt(square_avg) + eps, centered sqrt(square_avg - grad_avg**2) + eps
    Adagrad     sqrt(sum) + eps

Columns: step,loss,sharpness (Python repr). The loss checks the replay stays on the Java trajectory.

The mlp (64 -> hidden tanh -> 10 on digits / 16) is rebuilt here as the Java core builds it: java.util.SplittableRandom
(seed) draws the weights in layout order, uniform in ±1/sqrt(fan_in); a minibatch order is the Java core's SplitMix
Fisher-Yates shuffle with seed ^ 0x9E3779B97F4A7C15, epoch after epoch (see core/problem/Mlp.java).
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (the problems, optimizers and schedules of the golden trajectories)

torch.set_default_dtype(torch.float64)

OUT = os.path.join(mg.ROOT, "src", "test", "resources", "curvature")
MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


# ---------------------------------------------------------------- the Java core's generators

def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplittableRandom:
    """java.util.SplittableRandom(seed): nextDouble(origin, bound) as JDK 17 draws it."""

    def __init__(self, seed):
        self.seed = seed & MASK64

    def next_long(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & MASK64
        return mix64(self.seed)

    def next_double(self, origin, bound):
        r = (self.next_long() >> 11) * 2.0 ** -53
        r = r * (bound - origin) + origin
        return math.nextafter(bound, -math.inf) if r >= bound else r


def int32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class SplitMix:
    """core/problem/SplitMix.java: SplittableRandom's nextInt(bound), with its state open."""

    def __init__(self, seed):
        self.seed = seed & MASK64

    def next_int(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & MASK64
        z = self.seed
        z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & MASK64
        return int32((((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & MASK64) >> 32)

    def next_int_bounded(self, bound):
        r = self.next_int()
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = (r & 0xFFFFFFFF) >> 1
        while True:
            r = u % bound
            if int32(u + m - r) >= 0:
                return r
            u = (self.next_int() & 0xFFFFFFFF) >> 1


# ---------------------------------------------------------------- problems as torch losses

def mlp(spec):
    """(x0, loss(p) over the current sample, next_batch()) for core/problem/Mlp.java."""
    hidden, seed, batch = spec.get("hidden", 32), spec.get("seed", 0), spec.get("batch_size", 0)
    X, y = mg.load_csv("digits")
    X = torch.tensor(X / 16)
    y = torch.tensor(y).long()
    n = X.shape[0]
    rng = SplittableRandom(seed)
    w1 = [rng.next_double(-1 / math.sqrt(64), 1 / math.sqrt(64)) for _ in range(64 * hidden)]
    w2 = [rng.next_double(-1 / math.sqrt(hidden), 1 / math.sqrt(hidden)) for _ in range(hidden * 10)]
    x0 = w1 + [0.0] * hidden + w2 + [0.0] * 10
    b1, w2o, b2 = 64 * hidden, 65 * hidden, 75 * hidden
    state = {"rows": torch.arange(n)}
    if batch and batch < n:
        shuffler = SplitMix(seed ^ GOLDEN_GAMMA)
        order = list(range(n))

        def shuffle():
            order[:] = range(n)
            for i in range(n - 1, 0, -1):
                j = shuffler.next_int_bounded(i + 1)
                order[i], order[j] = order[j], order[i]

        shuffle()
        cut = {"start": 0, "end": batch, "started": False}

        def next_batch():
            if not cut["started"]:
                cut["started"] = True
            else:
                cut["start"] = cut["end"]
                if cut["start"] >= n:
                    shuffle()
                    cut["start"] = 0
                cut["end"] = min(cut["start"] + batch, n)
            state["rows"] = torch.tensor(order[cut["start"]:cut["end"]])
    else:
        def next_batch():
            pass

    def loss(p):
        rows = state["rows"]
        h = torch.tanh(X[rows] @ p[:b1].view(64, hidden) + p[b1:w2o])
        return F.cross_entropy(h @ p[w2o:b2].view(hidden, 10) + p[b2:], y[rows])

    return x0, loss, next_batch


def torch_loss(problem):
    """The loss of a make_golden problem as a function of a tensor, for autograd's Hessian."""
    spec = {"type": problem} if isinstance(problem, str) else problem
    kind = spec["type"]
    if kind == "quadratic":
        return lambda p: (p * p).sum()
    if kind == "ellipse":
        return lambda p: 0.1 * p[0] ** 2 + 2 * p[1] ** 2
    if kind == "rosenbrock":
        return lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    if kind == "linreg":
        X, y = mg.load_csv("diabetes")
        X, y = torch.tensor(mg.standardize(X)), torch.tensor(mg.standardize(y))
        d = X.shape[1]
        return lambda p: torch.mean((X @ p[:d] + p[d] - y) ** 2)
    if kind == "logreg":
        X, y = mg.load_csv("breast_cancer")
        X, y = torch.tensor(mg.standardize(X)), torch.tensor(y)
        d = X.shape[1]
        return lambda p: F.binary_cross_entropy_with_logits(X @ p[:d] + p[d], y)
    if kind == "softmax":
        X, y = mg.load_csv("iris")
        X, y = torch.tensor(mg.standardize(X)), torch.tensor(y).long()
        d, k = X.shape[1], 3
        return lambda p: F.cross_entropy(X @ p[:d * k].view(d, k) + p[d * k:], y)
    raise ValueError("unknown problem " + kind)


# ---------------------------------------------------------------- the preconditioner

def denominator(opt, p):
    """The denominator P the optimizer's last step divided by, from its state, as torch computes it; None for SGD."""
    group, state = opt.param_groups[0], opt.state[p]
    if isinstance(opt, (torch.optim.Adam, torch.optim.AdamW)):
        beta2, step = group["betas"][1], float(state["step"])
        second = state["max_exp_avg_sq"] if group["amsgrad"] else state["exp_avg_sq"]
        return second.sqrt() / math.sqrt(1 - beta2 ** step) + group["eps"]
    if isinstance(opt, torch.optim.RMSprop):
        sq = state["square_avg"]
        if group["centered"]:
            return sq.addcmul(state["grad_avg"], state["grad_avg"], value=-1).sqrt() + group["eps"]
        return sq.sqrt() + group["eps"]
    if isinstance(opt, torch.optim.Adagrad):
        return state["sum"].sqrt() + group["eps"]
    return None


def top_eigenvalue(h, denom):
    h = (h + h.T) / 2
    if denom is not None:
        d = denom.rsqrt()
        h = d[:, None] * h * d[None, :]
    return float(torch.linalg.eigvalsh(h)[-1])


# ---------------------------------------------------------------- running

def run(spec):
    every = spec["curvature_every"]
    problem = spec["problem"]
    kind = problem if isinstance(problem, str) else problem["type"]
    if kind == "mlp":
        x0, loss_fn, next_batch = mlp({} if isinstance(problem, str) else problem)

        def f(p):
            loss = loss_fn(p)
            loss.backward()
            return loss.item()
    else:
        x0, f = mg.make_problem(problem)
        loss_fn = torch_loss(problem)

        def next_batch():
            pass
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = mg.make_optimizer(p, spec["optimizer"])
    sched = mg.make_scheduler(opt, spec.get("schedule"), spec["steps"])
    rows = []
    for t in range(1, spec["steps"] + 1):
        next_batch()
        opt.zero_grad()
        loss = float(f(p))
        at = p.detach().clone()
        opt.step()
        if t % every == 0:
            h = torch.autograd.functional.hessian(loss_fn, at)
            rows.append((t, loss, top_eigenvalue(h, denominator(opt, p))))
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        elif sched is not None:
            sched.step()
    return rows


# ---------------------------------------------------------------- cases

CASES = []


def case(name, problem, optimizer, steps, every, schedule=None):
    spec = {"name": name, "problem": problem, "optimizer": optimizer}
    if schedule is not None:
        spec["schedule"] = schedule
    spec["steps"] = steps
    spec["curvature_every"] = every
    CASES.append((name, spec))


# plain sharpness
case("quadratic_sgd", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]}, {"type": "sgd", "lr": 0.9}, 20, 4)
case("ellipse_sgd", "ellipse", {"type": "sgd", "lr": 0.3}, 50, 5)
case("rosenbrock_sgd", "rosenbrock", {"type": "sgd", "lr": 1e-3}, 200, 10)
case("linreg_sgd", "linreg", {"type": "sgd", "lr": 0.1}, 60, 10)
case("logreg_sgd", "logreg", {"type": "sgd", "lr": 0.5}, 200, 10)
case("logreg_sgd_nesterov", "logreg", {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}, 150, 10)
case("softmax_sgd", "softmax", {"type": "sgd", "lr": 1.0}, 150, 10)
case("softmax_sgd_momentum_onecycle", "softmax", {"type": "sgd", "lr": 0.1, "momentum": 0.9}, 150, 10,
     {"type": "onecycle", "max_lr": 0.5})
case("mlp_h8_sgd", {"type": "mlp", "hidden": 8}, {"type": "sgd", "lr": 0.5}, 100, 10)
case("mlp_h8_b64_sgd_momentum", {"type": "mlp", "hidden": 8, "seed": 3, "batch_size": 64},
     {"type": "sgd", "lr": 0.1, "momentum": 0.9}, 60, 6)

# preconditioned sharpness: the adaptive optimizers on well-conditioned problems (see make_golden.py's note)
case("ellipse_adam", "ellipse", {"type": "adam", "lr": 0.1}, 100, 5)
case("rosenbrock_adam", "rosenbrock", {"type": "adam", "lr": 0.01}, 200, 10)
case("logreg_adam", "logreg", {"type": "adam"}, 150, 10)
case("logreg_adamw_amsgrad_wd", "logreg", {"type": "adamw", "lr": 0.05, "amsgrad": True, "weight_decay": 0.1}, 150, 10)
case("logreg_rmsprop_centered_momentum", "logreg",
     {"type": "rmsprop", "lr": 0.005, "centered": True, "momentum": 0.8, "eps": 1e-6}, 150, 10)
case("logreg_rmsprop", "logreg", {"type": "rmsprop", "lr": 0.01}, 150, 10)
case("logreg_adagrad", "logreg", {"type": "adagrad", "lr": 0.1}, 150, 10)
case("ellipse_adagrad_lr_decay", "ellipse", {"type": "adagrad", "lr": 0.5, "lr_decay": 0.01}, 100, 10)
case("mlp_h8_adam", {"type": "mlp", "hidden": 8}, {"type": "adam", "lr": 0.01}, 100, 10)
case("mlp_h8_b64_adam", {"type": "mlp", "hidden": 8, "seed": 3, "batch_size": 64}, {"type": "adam", "lr": 0.01}, 60, 6)


def main():
    os.makedirs(OUT, exist_ok=True)
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    manifest = []
    for name, spec in CASES:
        rows = run(spec)
        with open(os.path.join(OUT, name + ".csv"), "w") as f:
            f.write("step,loss,sharpness\n")
            for t, loss, s in rows:
                f.write("%d,%r,%r\n" % (t, loss, s))
        manifest.append({"name": name, "spec": spec})
        print("%-34s sharpness %-12.6g -> %-12.6g" % (name, rows[0][2], rows[-1][2]))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "numpy": np.__version__, "cases": manifest}, f, indent=1)
        f.write("\n")
    print("%d cases written to %s" % (len(manifest), OUT))


if __name__ == "__main__":
    main()
