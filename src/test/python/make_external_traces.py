#!/usr/bin/python3
"""Real minibatch training traces, recorded as a script streaming to losswatch would send them.

Rerun by hand from the project root (torch 1.13 and numpy from Debian; about a minute on one core):

    /usr/bin/python3 src/test/python/make_external_traces.py [case ...]   # all cases, or only those named

It (re)writes src/test/resources/external/<case>.csv.gz and src/test/resources/external/cases.json. The output is
committed; tests read it (io.losswatch.core.diagnosis.ExternalTraces) and never run this script.

The network is issue 20's: an MLP 64-128-64-10 (ReLU) on the digits (src/main/resources/datasets/digits.csv, the
8x8 pixels /16), float32 (torch's default), cross-entropy, minibatch 64 drawn by a seeded generator, 1437 steps'
worth of training rows and 360 held out. Each step records, as the Python client's log() sends them:

    step      1, 2, ...
    loss      the raw minibatch loss of that step, before its update
    lr        param_groups[0]['lr'] used by that step's update
    grad_norm the total 2-norm of all parameters' gradients (float32: inf once the sum of squares overflows)
    val_loss, val_acc   on the held-out rows, every 50 steps (and at the last step); empty elsewhere

CSV (gzip): numbers with 6 significant digits (loss) and 5 (grad_norm), enough for any rule on a minibatch loss
whose step-to-step noise is a few percent; 'nan', 'inf' as Python writes them. cases.json lists each case's spec,
its final val_acc, and the steps at which a scripted lr change (the issue's "÷10 applied at step 23") took effect.
"""

import csv
import gzip
import io
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DATASETS = os.path.join(ROOT, "src", "main", "resources", "datasets")
OUT = os.path.join(ROOT, "src", "test", "resources", "external")
BATCH = 64
VAL_EVERY = 50


def load_csv(name):
    with open(os.path.join(DATASETS, name + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    data = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=np.float64)
    return data[:, :-1], data[:, -1]


def split(X, y, seed=0, held=0.2):
    order = np.random.RandomState(seed).permutation(len(y))
    n_val = int(round(held * len(y)))
    return X[order[n_val:]], y[order[n_val:]], X[order[:n_val]], y[order[:n_val]]


def digits():
    X, y = load_csv("digits")
    xt, yt, xv, yv = split(X / 16.0, y)
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    return f(xt), torch.tensor(yt, dtype=torch.long), f(xv), torch.tensor(yv, dtype=torch.long)


def regression():
    """The diabetes data standardized, its features scaled ×0.535: SGD at lr 0.9 overshoots the sharpest direction a
    little (lr × sharpness ≈ 2.07 > 2), so the loss grows steadily until float32 overflows a few hundred steps in."""
    X, y = load_csv("diabetes")
    X = (X - X.mean(0)) / X.std(0) * 0.535
    y = (y - y.mean()) / y.std()
    xt, yt, xv, yv = split(X, y)
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    return f(xt), f(yt), f(xv), f(yv)


def mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def batches(n, seed):
    """Minibatch indices, epoch after epoch, each epoch a fresh permutation from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - BATCH + 1, BATCH):
            yield perm[i:i + BATCH]


def warmup_cosine(opt, warmup, total):
    def f(k):
        if k < warmup:
            return (k + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (k - warmup) / max(1, total - warmup)))
    return torch.optim.lr_scheduler.LambdaLR(opt, f)


def warmup_constant(opt, warmup):
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / warmup))


CASES = [
    # the failures
    dict(name="sgd_lr5_momentum", optimizer="sgd", lr=5.0, momentum=0.9, steps=2000),
    dict(name="sgd_lr0.5_momentum", optimizer="sgd", lr=0.5, momentum=0.9, steps=1500),
    dict(name="sgd_lr0.05_momentum", optimizer="sgd", lr=0.05, momentum=0.9, steps=1500),
    dict(name="adam_lr1", optimizer="adam", lr=1.0, steps=1500),
    dict(name="adam_lr1_cut_at_23", optimizer="adam", lr=1.0, steps=1500, cuts={23: 0.1}),
    # where a guard's rewind from SGD lr 5 to its start lands when it comes 60 batches late: lr 0.5 learns a little
    # and loses most of it slowly
    dict(name="sgd_lr0.5_momentum_skip60", optimizer="sgd", lr=0.5, momentum=0.9, steps=2500, skip=60),
    # the ladder: plain SGD from creeping to healthy, and past it
    dict(name="sgd_lr1e-5", optimizer="sgd", lr=1e-5, steps=3000),
    dict(name="sgd_lr1e-4", optimizer="sgd", lr=1e-4, steps=3000),
    dict(name="sgd_lr1e-3", optimizer="sgd", lr=1e-3, steps=3000),
    dict(name="sgd_lr1e-2", optimizer="sgd", lr=1e-2, steps=3000),
    dict(name="sgd_lr1e-1", optimizer="sgd", lr=1e-1, steps=3000),
    dict(name="sgd_lr1", optimizer="sgd", lr=1.0, steps=1500),
    dict(name="sgd_lr10", optimizer="sgd", lr=10.0, steps=1000),
    # Adam below the lr that kills it (where a guard's rewinds ÷10 land)
    dict(name="adam_lr0.1", optimizer="adam", lr=0.1, steps=1500),
    dict(name="adam_lr0.01", optimizer="adam", lr=0.01, steps=1500),
    # … and where one lands when Adam lr 1's rewind comes 40 batches late: it overfits to 0.001 and leaps ×10 on bad batches
    dict(name="adam_lr0.01_skip40", optimizer="adam", lr=0.01, steps=2000, skip=40),
    dict(name="adam_lr1e-3", optimizer="adam", lr=1e-3, steps=2000),
    # healthy runs with schedules: no false alarms
    dict(name="sgd_momentum_cosine", optimizer="sgd", lr=0.05, momentum=0.9, steps=2500, schedule="cosine"),
    dict(name="adam_step_decay", optimizer="adam", lr=3e-3, steps=2500, schedule="step", step_size=800, gamma=0.1),
    dict(name="sgd_warmup_cosine", optimizer="sgd", lr=0.5, steps=2500, schedule="warmup_cosine", warmup=200),
    dict(name="adam_warmup", optimizer="adam", lr=3e-3, steps=2000, schedule="warmup", warmup=300),
    # a linear regression whose float32 loss overflows
    dict(name="linreg_lr0.9_float32", problem="linreg", optimizer="sgd", lr=0.9, steps=1000, stop_after_non_finite=True),
]


def run(case):
    torch.manual_seed(0)
    linreg = case.get("problem") == "linreg"
    xt, yt, xv, yv = regression() if linreg else digits()
    model = nn.Linear(xt.shape[1], 1) if linreg else mlp()
    if case["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=case["lr"], momentum=case.get("momentum", 0.0))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=case["lr"])
    steps = case["steps"]
    kind = case.get("schedule")
    sched = None
    if kind == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    elif kind == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=case["step_size"], gamma=case["gamma"])
    elif kind == "warmup_cosine":
        sched = warmup_cosine(opt, case["warmup"], steps)
    elif kind == "warmup":
        sched = warmup_constant(opt, case["warmup"])

    def loss_of(x, y):
        out = model(x)
        return F.mse_loss(out.squeeze(1), y) if linreg else F.cross_entropy(out, y)

    rows = []
    acc = float("nan")
    draw = batches(len(yt), seed=1)
    for _ in range(case.get("skip", 0)):   # a guard's rewind to the start: the data stream moved on meanwhile
        next(draw)
    for step in range(1, steps + 1):
        for at, factor in case.get("cuts", {}).items():
            if step == at:   # the user applied the advice: this step is the first at the new lr
                for g in opt.param_groups:
                    g["lr"] *= factor
        idx = next(draw)
        opt.zero_grad()
        loss = loss_of(xt[idx], yt[idx])
        loss.backward()
        norms = [p.grad.detach().norm() for p in model.parameters() if p.grad is not None]
        grad_norm = float(torch.norm(torch.stack(norms)))
        lr = opt.param_groups[0]["lr"]
        opt.step()
        if sched is not None:
            sched.step()
        val = ("", "")
        if step % VAL_EVERY == 0 or step == steps:
            with torch.no_grad():
                out = model(xv)
                vl = float(F.mse_loss(out.squeeze(1), yv)) if linreg else float(F.cross_entropy(out, yv))
                acc = float("nan") if linreg else float((out.argmax(1) == yv).float().mean())
            val = (num(vl, 6), "" if linreg else num(acc, 4))
        rows.append((step, num(float(loss), 6), num(lr, 6), num(grad_norm, 5)) + val)
        if not math.isfinite(float(loss)) and case.get("stop_after_non_finite"):
            break   # what follows is NaN to the end
    return rows, acc


def num(v, digits):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float("%.*g" % (digits, v)))


def main(only=None):
    os.makedirs(OUT, exist_ok=True)
    index = []
    old = {}
    if only:   # rerun some cases, keep the others' files and entries
        with open(os.path.join(OUT, "cases.json")) as f:
            old = {c["name"]: c for c in json.load(f)["cases"]}
    for case in CASES:
        if only and case["name"] not in only:
            index.append(old[case["name"]])
            continue
        rows, acc = run(case)
        text = io.StringIO()
        w = csv.writer(text, lineterminator="\n")
        w.writerow(("step", "loss", "lr", "grad_norm", "val_loss", "val_acc"))
        w.writerows(rows)
        with gzip.GzipFile(os.path.join(OUT, case["name"] + ".csv.gz"), "wb", mtime=0) as f:
            f.write(text.getvalue().encode())
        entry = dict(case)
        entry["cuts"] = {str(k): v for k, v in case.get("cuts", {}).items()}
        entry["problem"] = case.get("problem", "digits_mlp")
        entry["num_classes"] = None if case.get("problem") == "linreg" else 10
        entry["final_val_acc"] = None if math.isnan(acc) else round(acc, 4)
        losses = [float(r[1]) for r in rows]
        entry["first_non_finite_step"] = next((i + 1 for i, l in enumerate(losses) if not math.isfinite(l)), None)
        index.append(entry)
        print("%-24s val_acc %-7s loss %s → %s (max %s)%s" % (case["name"], entry["final_val_acc"], rows[0][1], rows[-1][1],
              max((l for l in losses if math.isfinite(l)), default=float("nan")),
              "" if entry["first_non_finite_step"] is None else " non-finite at step %d" % entry["first_non_finite_step"]))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(dict(torch=torch.__version__, numpy=np.__version__, cases=index), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    import sys
    main(set(sys.argv[1:]) or None)
