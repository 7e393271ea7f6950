#!/usr/bin/python3
"""Golden trajectories for GoldenTest, made by PyTorch itself.

Rerun by hand from the project root (needs PyTorch; written against torch 1.13, numpy 1.24):

    /usr/bin/python3 src/test/python/make_golden.py

It (re)writes src/test/resources/golden/<case>.csv and its cases' entries in src/test/resources/golden/cases.json
(entries another script made, marked with its "script", are kept: make_golden_lrfree.py's, from the authors' code).
The output is committed; CI does not run this script, it only runs
src/test/java/io/losswatch/core/GoldenTest.java against the committed files.

Every case is a RunSpec (the same JSON the Java core parses). For each one this script builds the
problem, the torch optimizer (foreach=False) and the torch lr scheduler, all in float64, and runs

    for t in 1..steps:
        opt.zero_grad(); loss = f(params); loss.backward()     # analytic gradient for the toy problems
        record (t, loss, param_groups[0]['lr'], ||grad||_2)   # the lr used for THIS step
        opt.step()
        sched.step()                                           # ReduceLROnPlateau: sched.step(loss)

A non-finite loss does not stop the loop. CSV columns are step,loss,lr,grad_norm, each number as
Python repr(float) (shortest round trip); non-finite values appear as 'nan', 'inf' and '-inf'.
grad_norm is torch.linalg.vector_norm of the gradient, which does not rescale: it overflows to inf
once the sum of squares does.
"""

import csv
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DATASETS = os.path.join(ROOT, "src", "main", "resources", "datasets")
OUT = os.path.join(ROOT, "src", "test", "resources", "golden")


# ---------------------------------------------------------------- problems

def load_csv(name):
    with open(os.path.join(DATASETS, name + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    data = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)
    return data[:, :-1], data[:, -1]


def standardize(a):
    # population std (ddof=0), as the Java Dataset does
    return (a - a.mean(axis=0)) / a.std(axis=0)


def analytic(x0, loss_and_grad):
    """A toy problem with a hand-written gradient: returns (x0, f) where f sets p.grad, returns the loss."""

    def f(p):
        # numpy float64 scalars: IEEE overflow to inf/nan (Python floats would raise on **)
        x = [np.float64(v) for v in p.detach().tolist()]
        with np.errstate(all="ignore"):
            loss, grad = loss_and_grad(x)
        p.grad = torch.tensor([float(g) for g in grad], dtype=torch.float64)
        return float(loss)

    return x0, f


def quadratic(x):
    s = np.float64(0.0)
    for v in x:
        s += v * v
    return s, [2 * v for v in x]


def ellipse(x):
    x1, x2 = x
    return 0.1 * x1 * x1 + 2 * x2 * x2, [0.2 * x1, 4 * x2]


def rosenbrock(x):
    x1, x2 = x
    loss = (1 - x1) ** 2 + 100 * (x2 - x1 * x1) ** 2
    g1 = -2 * (1 - x1) - 400 * x1 * (x2 - x1 * x1)
    g2 = 200 * (x2 - x1 * x1)
    return loss, [g1, g2]


def autograd(n, loss_fn):
    """A dataset problem: flat zero params of length n; f runs autograd and returns the loss as a float."""

    def f(p):
        loss = loss_fn(p)
        loss.backward()
        return loss.item()

    return [0.0] * n, f


def make_problem(spec):
    if isinstance(spec, str):
        spec = {"type": spec}
    kind = spec["type"]
    if kind == "quadratic":
        return analytic(list(spec.get("x0", [10.0])), quadratic)
    if kind == "ellipse":
        return analytic([-5.0, -2.0], ellipse)
    if kind == "rosenbrock":
        return analytic([-1.2, 1.0], rosenbrock)
    if kind == "linreg":
        X, y = load_csv("diabetes")
        X = torch.tensor(standardize(X))
        y = torch.tensor(standardize(y))
        d = X.shape[1]
        return autograd(d + 1, lambda p: torch.mean((X @ p[:d] + p[d] - y) ** 2))
    if kind == "logreg":
        X, y = load_csv("breast_cancer")
        X = torch.tensor(standardize(X))
        y = torch.tensor(y)
        d = X.shape[1]
        return autograd(d + 1, lambda p: F.binary_cross_entropy_with_logits(X @ p[:d] + p[d], y))
    if kind == "softmax":
        X, y = load_csv("iris")
        X = torch.tensor(standardize(X))
        y = torch.tensor(y).long()
        d, k = X.shape[1], 3
        return autograd(d * k + k, lambda p: F.cross_entropy(X @ p[:d * k].view(d, k) + p[d * k:], y))
    raise ValueError("unknown problem " + kind)


# ---------------------------------------------------------------- optimizers and schedules

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


def make_optimizer(p, spec):
    kw = {k: v for k, v in spec.items() if k != "type"}
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    return OPTIMIZERS[spec["type"]]([p], foreach=False, **kw)


def make_scheduler(opt, spec, steps):
    if spec is None or spec["type"] == "constant":
        return None
    kind = spec["type"]
    kw = {k: v for k, v in spec.items() if k != "type"}
    S = torch.optim.lr_scheduler
    if kind == "step":
        return S.StepLR(opt, **kw)
    if kind == "multistep":
        return S.MultiStepLR(opt, **kw)
    if kind == "exponential":
        return S.ExponentialLR(opt, **kw)
    if kind == "cosine":
        return S.CosineAnnealingLR(opt, **kw)
    if kind == "linear":
        return S.LinearLR(opt, **kw)
    if kind == "onecycle":
        kw.setdefault("total_steps", steps)
        return S.OneCycleLR(opt, **kw)
    if kind == "plateau":
        return S.ReduceLROnPlateau(opt, **kw)
    if kind == "warmup_cosine":
        W = kw["warmup_steps"]
        T = kw.get("total_steps", steps)

        def m(t):
            if t < W:
                return t / W
            return max(0.0, 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W))))

        return S.LambdaLR(opt, m)
    if kind == "lr_range":
        # the range test's ramp from the optimizer's lr: lr_i = start·(end/start)^(i/(n−1)), or linear
        start, end, n = opt.param_groups[0]["lr"], kw["end_lr"], kw["num_steps"]
        if kw.get("mode", "exp") == "exp":
            return S.LambdaLR(opt, lambda i: (end / start) ** (i / (n - 1)))
        return S.LambdaLR(opt, lambda i: 1 + (end / start - 1) * (i / (n - 1)))
    raise ValueError("unknown schedule " + kind)


# ---------------------------------------------------------------- running

def run(spec):
    x0, f = make_problem(spec["problem"])
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(p, spec["optimizer"])
    sched = make_scheduler(opt, spec.get("schedule"), spec["steps"])
    rows = []
    for t in range(1, spec["steps"] + 1):
        opt.zero_grad()
        loss = float(f(p))
        gn = float(torch.linalg.vector_norm(p.grad))
        rows.append((t, loss, float(opt.param_groups[0]["lr"]), gn))
        opt.step()
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        elif sched is not None:
            sched.step()
    return rows


# ---------------------------------------------------------------- cases
#
# Every case must be well conditioned: a 1-ulp difference in a gradient (the Java core sums in another
# order than torch's autograd) must stay far below the 1e-9 relative tolerance for the whole run.
# Hence the adaptive optimizers (adam, adamw, rmsprop, adagrad) run on logreg, never on linreg or softmax:
# there the bias gradient is exactly zero at the start in exact arithmetic (standardized target, balanced
# classes), so in floating point it is pure rounding noise, which g / (sqrt(v) + eps) blows up to an
# lr-sized step in a direction set by the noise. SGD is linear in the gradient and does not care.
# Before adding a case, perturb every gradient by ~1e-15 of its norm and check the trajectory moves by
# well under 1e-11 relative.

CASES = []


def case(name, problem, optimizer, steps, schedule=None):
    spec = {"name": name, "problem": problem, "optimizer": optimizer}
    if schedule is not None:
        spec["schedule"] = schedule
    spec["steps"] = steps
    CASES.append((name, spec))


# SGD
case("sgd_plain", "rosenbrock", {"type": "sgd", "lr": 1e-3}, 200)
case("sgd_momentum", "rosenbrock", {"type": "sgd", "lr": 1e-3, "momentum": 0.9}, 200)
case("sgd_momentum_dampening", "ellipse", {"type": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.5}, 150)
case("sgd_momentum_nesterov", "rosenbrock", {"type": "sgd", "lr": 5e-4, "momentum": 0.9, "nesterov": True}, 200)
case("sgd_weight_decay", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]},
     {"type": "sgd", "lr": 0.05, "weight_decay": 0.1}, 100)
case("sgd_nesterov_weight_decay_linreg", "linreg",
     {"type": "sgd", "lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}, 150,
     {"type": "constant"})

# Adam
case("adam_defaults_logreg", "logreg", {"type": "adam"}, 150)
case("adam_rosenbrock", "rosenbrock", {"type": "adam", "lr": 0.01}, 200)
case("adam_betas_eps", "ellipse", {"type": "adam", "lr": 0.1, "betas": [0.8, 0.95], "eps": 1e-6}, 150)
case("adam_amsgrad", "rosenbrock", {"type": "adam", "lr": 0.02, "amsgrad": True}, 200)
case("adam_weight_decay_logreg", "logreg", {"type": "adam", "lr": 0.01, "weight_decay": 0.01}, 150)

# AdamW
case("adamw_defaults_logreg", "logreg", {"type": "adamw"}, 150)
case("adamw_rosenbrock", "rosenbrock", {"type": "adamw", "lr": 0.01}, 200)
case("adamw_amsgrad_wd", "logreg", {"type": "adamw", "lr": 0.05, "amsgrad": True, "weight_decay": 0.1}, 150)

# RMSprop
case("rmsprop_defaults", "ellipse", {"type": "rmsprop"}, 150)
# 120 steps: from about step 125 on, RMSprop bounces across the valley and amplifies 1-ulp differences
case("rmsprop_alpha", "rosenbrock", {"type": "rmsprop", "lr": 0.005, "alpha": 0.9}, 120)
case("rmsprop_momentum", {"type": "quadratic", "x0": [4.0, -3.0]}, {"type": "rmsprop", "lr": 0.01, "momentum": 0.9},
     150)
case("rmsprop_centered", "ellipse", {"type": "rmsprop", "lr": 0.01, "centered": True}, 150)
case("rmsprop_centered_momentum_wd", "logreg",
     {"type": "rmsprop", "lr": 0.005, "centered": True, "momentum": 0.8, "weight_decay": 0.01, "eps": 1e-6}, 150)

# Adagrad
case("adagrad_defaults_logreg", "logreg", {"type": "adagrad"}, 150)
case("adagrad_ellipse", "ellipse", {"type": "adagrad", "lr": 0.5}, 150)
case("adagrad_lr_decay", "rosenbrock", {"type": "adagrad", "lr": 0.3, "lr_decay": 0.01}, 200)
case("adagrad_initial_accumulator", "quadratic", {"type": "adagrad", "lr": 0.5, "initial_accumulator_value": 0.5},
     100)
case("adagrad_weight_decay", "logreg", {"type": "adagrad", "lr": 0.1, "weight_decay": 0.01}, 150)
case("adagrad_eps", "ellipse", {"type": "adagrad", "lr": 0.5, "eps": 0.1}, 150)

# step-style schedules
case("sched_step", "ellipse", {"type": "sgd", "lr": 0.05, "momentum": 0.9}, 150,
     {"type": "step", "step_size": 25, "gamma": 0.5})
case("sched_step_default_gamma", "linreg", {"type": "sgd", "lr": 0.1}, 100, {"type": "step", "step_size": 40})
case("sched_multistep_repeated", "rosenbrock", {"type": "adam", "lr": 0.05}, 150,
     {"type": "multistep", "milestones": [30, 60, 60, 100], "gamma": 0.5})
case("sched_exponential", "linreg", {"type": "sgd", "lr": 0.1}, 150, {"type": "exponential", "gamma": 0.98})

# cosine
case("sched_cosine", "logreg", {"type": "adam", "lr": 0.05}, 150, {"type": "cosine", "T_max": 150})
case("sched_cosine_restart_eta_min", "rosenbrock", {"type": "sgd", "lr": 1e-3, "momentum": 0.9}, 120,
     {"type": "cosine", "T_max": 30, "eta_min": 1e-4})

# linear
case("sched_linear_defaults", "quadratic", {"type": "sgd", "lr": 0.1}, 60, {"type": "linear"})
case("sched_linear_custom", "ellipse", {"type": "adam", "lr": 0.1}, 120,
     {"type": "linear", "start_factor": 1.0, "end_factor": 0.1, "total_iters": 80})
case("sched_linear_rampup_softmax", "softmax", {"type": "sgd", "lr": 0.5, "momentum": 0.5}, 100,
     {"type": "linear", "start_factor": 0.25, "end_factor": 0.75, "total_iters": 40})

# one-cycle
case("onecycle_cos_sgd_momentum", "softmax", {"type": "sgd", "lr": 0.1, "momentum": 0.9}, 150,
     {"type": "onecycle", "max_lr": 0.5})
case("onecycle_cos_sgd_nesterov", "ellipse", {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}, 120,
     {"type": "onecycle", "max_lr": 0.1, "base_momentum": 0.8, "max_momentum": 0.9, "pct_start": 0.4})
case("onecycle_sgd_no_momentum", "quadratic", {"type": "sgd", "lr": 0.1}, 100,
     {"type": "onecycle", "max_lr": 0.1})
case("onecycle_linear_adam", "rosenbrock", {"type": "adam", "lr": 0.01}, 200,
     {"type": "onecycle", "max_lr": 0.05, "anneal_strategy": "linear"})
case("onecycle_three_phase_rmsprop", "ellipse", {"type": "rmsprop", "lr": 0.01, "momentum": 0.9}, 150,
     {"type": "onecycle", "max_lr": 0.01, "three_phase": True})
case("onecycle_no_cycle_adagrad", "logreg", {"type": "adagrad", "lr": 0.1}, 150,
     {"type": "onecycle", "max_lr": 0.5, "cycle_momentum": False, "div_factor": 10.0, "final_div_factor": 100.0,
      "pct_start": 0.25})
case("onecycle_total_steps_larger", "logreg", {"type": "adamw", "lr": 0.01}, 150,
     {"type": "onecycle", "max_lr": 0.05, "total_steps": 300, "anneal_strategy": "linear",
      "base_momentum": 0.8, "max_momentum": 0.9})

# reduce on plateau
case("plateau_patience", "quadratic", {"type": "adam", "lr": 0.5}, 150,
     {"type": "plateau", "patience": 3, "factor": 0.5})
case("plateau_abs_cooldown_min_lr", "ellipse", {"type": "sgd", "lr": 0.2, "momentum": 0.9}, 200,
     {"type": "plateau", "patience": 2, "factor": 0.5, "threshold": 1e-3, "threshold_mode": "abs",
      "cooldown": 5, "min_lr": 0.02})
case("plateau_max_eps", "linreg", {"type": "sgd", "lr": 0.05}, 150,
     {"type": "plateau", "mode": "max", "patience": 5, "factor": 0.7, "eps": 1e-4})
case("plateau_rel_max_threshold", "logreg", {"type": "rmsprop", "lr": 0.02}, 150,
     {"type": "plateau", "mode": "max", "patience": 4, "factor": 0.5, "threshold": 0.01, "cooldown": 3,
      "min_lr": 1e-3})

# warmup + cosine
case("warmup_cosine_default_total", "softmax", {"type": "sgd", "lr": 0.5, "momentum": 0.9, "nesterov": True}, 150,
     {"type": "warmup_cosine", "warmup_steps": 20})
case("warmup_cosine_explicit_total", "ellipse", {"type": "sgd", "lr": 0.05, "momentum": 0.9}, 120,
     {"type": "warmup_cosine", "warmup_steps": 10, "total_steps": 200})

# the learning-rate range test's ramp (without its stop, which is the server's and trace's)
case("lr_range_exp_logreg", "logreg", {"type": "sgd", "lr": 1e-5, "momentum": 0.9}, 100,
     {"type": "lr_range", "end_lr": 10, "num_steps": 100})
case("lr_range_linear_softmax", "softmax", {"type": "sgd", "lr": 0.01, "momentum": 0.9}, 80,
     {"type": "lr_range", "end_lr": 0.5, "num_steps": 80, "mode": "linear"})

# divergence: values overflow to inf, then nan
case("diverge_sgd_quadratic", "quadratic", {"type": "sgd", "lr": 1.1}, 200)
case("diverge_sgd_ellipse_inf", "ellipse", {"type": "sgd", "lr": 2.0}, 200)
case("diverge_sgd_rosenbrock_nan", "rosenbrock", {"type": "sgd", "lr": 0.01}, 30)


def main():
    os.makedirs(OUT, exist_ok=True)
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    manifest = []
    for name, spec in CASES:
        rows = run(spec)
        with open(os.path.join(OUT, name + ".csv"), "w") as f:
            f.write("step,loss,lr,grad_norm\n")
            for t, loss, lr, gn in rows:
                f.write("%d,%r,%r,%r\n" % (t, loss, lr, gn))
        manifest.append({"name": name, "spec": spec})
        first, last = rows[0], rows[-1]
        print("%-36s loss %-12.5g -> %-12.5g lr %-10.4g -> %-10.4g" % (name, first[1], last[1], first[2], last[2]))
    path = os.path.join(OUT, "cases.json")
    others = []
    if os.path.exists(path):
        with open(path) as f:
            others = [e for e in json.load(f) if e.get("script", "make_golden.py") != "make_golden.py"]
    with open(path, "w") as f:
        json.dump(manifest + others, f, indent=1)
        f.write("\n")
    print("%d cases written to %s" % (len(manifest), OUT))


if __name__ == "__main__":
    main()
