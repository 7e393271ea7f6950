#!/usr/bin/python3
"""Golden trajectories for the learning-rate-free optimizers, made by their authors' own code.

The authors' code is not part of this repository: check out the three repositories at the commits below, then
run from the project root (needs PyTorch; written against Debian's torch 1.13, numpy 1.24):

    git clone https://github.com/konstmish/prodigy && git -C prodigy checkout 3efb213ee8af5a6bf76f28726398433a847b38e9
    git clone https://github.com/facebookresearch/dadaptation && git -C dadaptation checkout c984980213a989ff7cac1e3d68c19a2257bcd571
    git clone https://github.com/facebookresearch/schedule_free && git -C schedule_free checkout 70785b53e778d0e872c0bbb75ff4ee54ee10c291
    /usr/bin/python3 src/test/python/make_golden_lrfree.py --prodigy prodigy --dadaptation dadaptation \\
        --schedule-free schedule_free

Each optimizer's file is loaded from the checkout by path (importlib), and checked against the git blob hash of
the file at that commit, so a golden file always says which code made it (--any-version skips the check).

It (re)writes src/test/resources/golden/<case>.csv for the cases below and their entries in cases.json (marked
"script": "make_golden_lrfree.py"; the other entries are left as they are). src/test/java/.../GoldenTest.java
replays them through the Java core, to 1e-9 relative.

The loop is make_golden.py's, in float64, on one flat parameter tensor:

    for t in 1..steps:
        opt.zero_grad(); loss = f(params); loss.backward()
        record (t, loss, ||grad||_2)                 # before the step: coupled weight decay changes grad in place
        opt.step(); sched.step()
        record the step's lr: d*lr for Prodigy and D-Adapt Adam (the d this step's dlr used), dlr = d*lr/||g0||
        for D-Adapt SGD, the warmed-up group['scheduled_lr'] for Schedule-Free (trained in train mode: the
        parameters, and so the loss and gradient, are at y)

Every case is checked for chaos before it is written: the same run with every nonzero gradient entry moved by
about 1e-15 of the gradient's norm (the rounding a different summation order makes) must stay within 1e-11
relative on every recorded value, or the script fails naming the case.
"""

import argparse
import hashlib
import importlib.util
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402  (the problems, schedulers and paths are the torch goldens')

torch.set_default_dtype(torch.float64)
SCRIPT = os.path.basename(__file__)
OUT = make_golden.OUT

# (repository, commit, file, git blob hash of the file at that commit, class)
REFERENCES = {
    "prodigy": ("konstmish/prodigy", "3efb213ee8af5a6bf76f28726398433a847b38e9", "prodigyopt/prodigy.py",
                "ff67f48ed5bf0e268de281e5df2cd39c2fa07b1b", "Prodigy"),
    "dadapt_adam": ("facebookresearch/dadaptation", "c984980213a989ff7cac1e3d68c19a2257bcd571",
                    "dadaptation/dadapt_adam.py", "443ad34efcbaae647d2a3e1ef64067ed275871cd", "DAdaptAdam"),
    "dadapt_sgd": ("facebookresearch/dadaptation", "c984980213a989ff7cac1e3d68c19a2257bcd571",
                   "dadaptation/dadapt_sgd.py", "c29aa267abedf7214f81445304b230c9b37143da", "DAdaptSGD"),
    "schedulefree_adamw": ("facebookresearch/schedule_free", "70785b53e778d0e872c0bbb75ff4ee54ee10c291",
                           "schedulefree/adamw_schedulefree_reference.py", "b133c3fa1158cde356baa58b45660cc983109923",
                           "AdamWScheduleFreeReference"),
    "schedulefree_sgd": ("facebookresearch/schedule_free", "70785b53e778d0e872c0bbb75ff4ee54ee10c291",
                         "schedulefree/sgd_schedulefree_reference.py", "d58ce7f15bedf110959ce494b20bbbab88752c2c",
                         "SGDScheduleFreeReference"),
}
CHECKOUT = {"prodigy": "prodigy", "dadapt_adam": "dadaptation", "dadapt_sgd": "dadaptation",
            "schedulefree_adamw": "schedule_free", "schedulefree_sgd": "schedule_free"}


def blob_hash(path):
    data = open(path, "rb").read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def load_classes(roots, any_version):
    classes = {}
    for kind, (repo, commit, rel, blob, cls) in REFERENCES.items():
        path = os.path.join(roots[CHECKOUT[kind]], rel)
        if not any_version and blob_hash(path) != blob:
            sys.exit("%s is not %s at %s (git blob %s, expected %s); check out that commit or pass --any-version"
                     % (path, rel, commit[:7], blob_hash(path), blob))
        spec = importlib.util.spec_from_file_location("reference_" + kind, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        classes[kind] = getattr(module, cls)
    return classes


# ---------------------------------------------------------------- the mlp problem (make_golden.py has the others)

MASK = (1 << 64) - 1


class SplittableRandom:
    """java.util.SplittableRandom (JDK 17), enough for Mlp's starting weights: nextDouble(origin, bound)."""

    def __init__(self, seed):
        self.seed = seed & MASK

    def next_long(self):
        self.seed = (self.seed + 0x9E3779B97F4A7C15) & MASK
        z = self.seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_double(self, origin, bound):
        r = (self.next_long() >> 11) * 2.0 ** -53
        r = r * (bound - origin) + origin
        return math.nextafter(bound, origin) if r >= bound else r


def mlp(spec):
    """Mlp.java, full batch: 64 -> hidden (tanh) -> 10 on the digits / 16, W1 (64 x hidden), b1, W2 (hidden x 10), b2."""
    hidden, seed = spec.get("hidden", 32), spec.get("seed", 0)
    assert spec.get("batch_size", 0) == 0, "full batch only"
    X, y = make_golden.load_csv("digits")
    X = torch.tensor(X / 16)
    y = torch.tensor(y).long()
    n_in, n_out = 64, 10
    rng = SplittableRandom(seed)
    x0 = [0.0] * ((n_in + 1 + n_out) * hidden + n_out)
    b1, w2, b2 = n_in * hidden, n_in * hidden + hidden, n_in * hidden + hidden + hidden * n_out
    bound1, bound2 = 1 / math.sqrt(n_in), 1 / math.sqrt(hidden)
    for k in range(b1):
        x0[k] = rng.next_double(-bound1, bound1)
    for k in range(w2, b2):
        x0[k] = rng.next_double(-bound2, bound2)

    def loss(p):
        h = torch.tanh(X @ p[:b1].view(n_in, hidden) + p[b1:w2])
        return F.cross_entropy(h @ p[w2:b2].view(hidden, n_out) + p[b2:], y)

    _, f = make_golden.autograd(len(x0), loss)
    return x0, f


def make_problem(spec):
    if isinstance(spec, dict) and spec["type"] == "mlp" or spec == "mlp":
        return mlp(spec if isinstance(spec, dict) else {"type": "mlp"})
    return make_golden.make_problem(spec)


# ---------------------------------------------------------------- running

def run(spec, classes, noise=None):
    x0, f = make_problem(spec["problem"])
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    kind = spec["optimizer"]["type"]
    kw = {k: (tuple(v) if k == "betas" else v) for k, v in spec["optimizer"].items() if k != "type"}
    opt = classes[kind]([p], **kw)
    if kind.startswith("schedulefree"):
        opt.train()
    sched = make_golden.make_scheduler(opt, spec.get("schedule"), spec["steps"])
    group = opt.param_groups[0]
    rows = []
    for t in range(1, spec["steps"] + 1):
        opt.zero_grad()
        loss = float(f(p))
        if noise is not None:
            g = p.grad
            g.add_(torch.where(g != 0, torch.tensor(noise.uniform(-1, 1, g.shape)), torch.zeros_like(g)),
                   alpha=1e-15 * float(torch.linalg.vector_norm(g)))
        gn = float(torch.linalg.vector_norm(p.grad))
        d = group.get("d")
        opt.step()
        if kind in ("prodigy", "dadapt_adam"):
            lr = d * group["lr"]
        elif kind == "dadapt_sgd":
            lr = d * group["lr"] / group["g0_norm"]
        else:
            lr = group["scheduled_lr"]
        rows.append((t, loss, float(lr), gn))
        if sched is not None:
            sched.step()
    return rows


def rel(a, b):
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


# ---------------------------------------------------------------- cases
#
# Every optimizer on each of the 7 built-in problems, and its options spread over them. Steps and settings are
# chosen so each run stays non-chaotic (the check in main() holds every case to that). Hence the Adam-like ones run
# on linreg and softmax with a large eps: there the loss is flat along some directions (the bias of standardized
# least squares; adding a constant to every class's logit), so those gradient entries are pure rounding noise, and
# an update g / (sqrt(v) + eps) with a small eps multiplies it by about lr/eps every step. D-Adapt Adam at its
# defaults, for one, turns a 1e-15 difference there into a 1e-3 difference of the loss within 40 steps, whoever
# computes it. The same for a d that grows until the run blows up (D-Adapt SGD on the mlp after 35 steps).

CASES = []


def case(name, problem, optimizer, steps, schedule=None):
    spec = {"name": name, "problem": problem, "optimizer": optimizer}
    if schedule is not None:
        spec["schedule"] = schedule
    spec["steps"] = steps
    CASES.append((name, spec))


MLP = {"type": "mlp", "hidden": 16}

# Prodigy
case("prodigy_quadratic", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]}, {"type": "prodigy"}, 150)
case("prodigy_ellipse_decoupled_wd", "ellipse", {"type": "prodigy", "weight_decay": 0.01}, 150)
case("prodigy_rosenbrock_growth_rate", "rosenbrock", {"type": "prodigy", "growth_rate": 1.05}, 200)
case("prodigy_linreg_bias_correction", "linreg", {"type": "prodigy", "eps": 1.0, "use_bias_correction": True}, 150)
case("prodigy_logreg_safeguard_coupled_wd", "logreg",
     {"type": "prodigy", "safeguard_warmup": True, "weight_decay": 0.01, "decouple": False}, 150)
case("prodigy_softmax_growth_d_coef", "softmax", {"type": "prodigy", "eps": 0.1, "growth_rate": 1.1, "d_coef": 2.0},
     150)
case("prodigy_mlp", MLP, {"type": "prodigy"}, 60)
case("prodigy_logreg_beta3_slice", "logreg", {"type": "prodigy", "betas": [0.8, 0.99], "beta3": 0.95, "slice_p": 3},
     100)
case("prodigy_ellipse_beta1_zero_d0", "ellipse", {"type": "prodigy", "betas": [0.0, 0.999], "lr": 0.5, "d0": 1e-4},
     150)
case("prodigy_logreg_cosine", "logreg", {"type": "prodigy"}, 150, {"type": "cosine", "T_max": 150})

# D-Adapt Adam
case("dadapt_adam_quadratic_growth_rate", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]},
     {"type": "dadapt_adam", "growth_rate": 1.1}, 150)
case("dadapt_adam_ellipse_decoupled_wd", "ellipse",
     {"type": "dadapt_adam", "lr": 0.5, "weight_decay": 0.01, "decouple": True}, 150)
case("dadapt_adam_rosenbrock", "rosenbrock", {"type": "dadapt_adam"}, 200)
case("dadapt_adam_linreg_bias_correction", "linreg",
     {"type": "dadapt_adam", "eps": 0.1, "use_bias_correction": True}, 150)
case("dadapt_adam_logreg_coupled_wd", "logreg", {"type": "dadapt_adam", "weight_decay": 0.01}, 150)
case("dadapt_adam_softmax", "softmax", {"type": "dadapt_adam", "eps": 0.1}, 150)
case("dadapt_adam_mlp", MLP, {"type": "dadapt_adam", "lr": 0.1}, 60)
case("dadapt_adam_logreg_betas_eps_lr_d0", "logreg",
     {"type": "dadapt_adam", "betas": [0.8, 0.99], "eps": 1e-6, "lr": 0.5, "d0": 1e-4}, 150)

# D-Adapt SGD
case("dadapt_sgd_quadratic", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]}, {"type": "dadapt_sgd"}, 150)
case("dadapt_sgd_ellipse_momentum", "ellipse", {"type": "dadapt_sgd", "momentum": 0.9}, 150)
case("dadapt_sgd_rosenbrock", "rosenbrock", {"type": "dadapt_sgd", "lr": 0.1}, 200)
case("dadapt_sgd_linreg_wd", "linreg", {"type": "dadapt_sgd", "weight_decay": 0.01}, 150)
case("dadapt_sgd_logreg_momentum_growth", "logreg",
     {"type": "dadapt_sgd", "momentum": 0.5, "growth_rate": 1.05, "d0": 1e-3}, 150)
case("dadapt_sgd_softmax", "softmax", {"type": "dadapt_sgd"}, 150)
case("dadapt_sgd_mlp", MLP, {"type": "dadapt_sgd"}, 30)
case("dadapt_sgd_mlp_momentum_growth", MLP, {"type": "dadapt_sgd", "momentum": 0.9, "d0": 1e-3, "growth_rate": 1.1},
     60)

# Schedule-Free AdamW
case("schedulefree_adamw_quadratic", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]},
     {"type": "schedulefree_adamw", "lr": 0.1}, 150)
case("schedulefree_adamw_ellipse_warmup_wd", "ellipse",
     {"type": "schedulefree_adamw", "lr": 0.1, "warmup_steps": 20, "weight_decay": 0.01}, 150)
case("schedulefree_adamw_rosenbrock", "rosenbrock", {"type": "schedulefree_adamw", "lr": 0.01}, 200)
case("schedulefree_adamw_linreg", "linreg", {"type": "schedulefree_adamw", "eps": 0.01}, 150)
case("schedulefree_adamw_logreg_decay_at_z", "logreg",
     {"type": "schedulefree_adamw", "lr": 0.05, "weight_decay": 0.05, "decay_at_z": True}, 150)
case("schedulefree_adamw_softmax_r_power", "softmax",
     {"type": "schedulefree_adamw", "lr": 0.05, "eps": 0.1, "r": 1.0, "weight_lr_power": 0.0, "warmup_steps": 10},
     150)
case("schedulefree_adamw_mlp", MLP, {"type": "schedulefree_adamw", "lr": 0.01}, 60)
case("schedulefree_adamw_logreg_inner_momentum_betas", "logreg",
     {"type": "schedulefree_adamw", "lr": 0.05, "inner_momentum": 0.9, "betas": [0.95, 0.99], "eps": 1e-6}, 150)
case("schedulefree_adamw_logreg_defaults", "logreg", {"type": "schedulefree_adamw"}, 150)

# Schedule-Free SGD
case("schedulefree_sgd_quadratic", {"type": "quadratic", "x0": [3.0, -2.0, 0.5]},
     {"type": "schedulefree_sgd", "lr": 0.1}, 150)
case("schedulefree_sgd_ellipse_warmup", "ellipse", {"type": "schedulefree_sgd", "lr": 0.2, "warmup_steps": 25}, 150)
case("schedulefree_sgd_rosenbrock", "rosenbrock", {"type": "schedulefree_sgd", "lr": 1e-3}, 200)
case("schedulefree_sgd_linreg_wd", "linreg", {"type": "schedulefree_sgd", "lr": 0.1, "weight_decay": 0.01}, 150)
case("schedulefree_sgd_logreg_momentum_r", "logreg",
     {"type": "schedulefree_sgd", "lr": 0.5, "momentum": 0.5, "r": 0.5, "weight_lr_power": 1.0}, 150)
case("schedulefree_sgd_softmax", "softmax", {"type": "schedulefree_sgd"}, 150)
case("schedulefree_sgd_mlp", MLP, {"type": "schedulefree_sgd", "lr": 0.5, "warmup_steps": 10}, 60)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prodigy", required=True, help="a checkout of konstmish/prodigy")
    ap.add_argument("--dadaptation", required=True, help="a checkout of facebookresearch/dadaptation")
    ap.add_argument("--schedule-free", required=True, help="a checkout of facebookresearch/schedule_free")
    ap.add_argument("--any-version", action="store_true", help="skip the check of the files against the commits")
    ap.add_argument("--only", help="only run the cases whose name starts with this, and write nothing")
    a = ap.parse_args()
    classes = load_classes({"prodigy": a.prodigy, "dadaptation": a.dadaptation, "schedule_free": a.schedule_free},
                           a.any_version)
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    results = []
    chaotic = []
    for name, spec in CASES:
        if a.only and not name.startswith(a.only):
            continue
        rows = run(spec, classes)
        shaken = run(spec, classes, np.random.default_rng(1))
        drift = max(rel(x, y) for r, s in zip(rows, shaken) for x, y in zip(r[1:], s[1:]))
        if drift > 1e-11:
            chaotic.append("%s (%.2g)" % (name, drift))
        first, last = rows[0], rows[-1]
        print("%-48s loss %-11.4g -> %-11.4g lr %-10.4g -> %-10.4g drift %.1g"
              % (name, first[1], last[1], first[2], last[2], drift))
        results.append((name, spec, rows))
    if chaotic:
        sys.exit("chaotic under a 1e-15 nudge of the gradient (nothing written): " + ", ".join(chaotic))
    if a.only:
        return
    entries = []
    for name, spec, rows in results:
        with open(os.path.join(OUT, name + ".csv"), "w") as f:
            f.write("step,loss,lr,grad_norm\n")
            for t, loss, lr, gn in rows:
                f.write("%d,%r,%r,%r\n" % (t, loss, lr, gn))
        repo, commit, rel_path, _, _ = REFERENCES[spec["optimizer"]["type"]]
        entries.append({"name": name, "script": SCRIPT, "reference": "%s@%s:%s" % (repo, commit, rel_path),
                        "spec": spec})
    manifest_path = os.path.join(OUT, "cases.json")
    with open(manifest_path) as f:
        kept = [e for e in json.load(f) if e.get("script") != SCRIPT]
    with open(manifest_path, "w") as f:
        json.dump(kept + entries, f, indent=1)
        f.write("\n")
    print("%d cases written to %s" % (len(entries), OUT))


if __name__ == "__main__":
    main()
