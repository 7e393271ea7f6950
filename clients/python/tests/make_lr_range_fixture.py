"""Writes src/test/resources/lr_range/suggestions.json: the cases the server's lr range suggestions (Java) are
held to, computed by the Python client's ``losswatch._lr_range``. Run from anywhere:

    /usr/bin/python3 clients/python/tests/make_lr_range_fixture.py

Each case: ``name``, ``num_steps`` (as asked: fastai's slice depends on it), ``lrs`` and ``smoothed`` (what the
test recorded, possibly fewer than num_steps), ``expected`` ({"steepest", "valley", "minimum/10"}: a number or
null). Cases simulated the way ``lr_find`` runs also carry ``losses``, ``beta``, ``start_lr``, ``end_lr``,
``mode`` and ``stop_factor``: ``smoothed`` is ``smooth(losses, beta)``, bit for bit, and ``lrs`` the ramp's first
values. Non-finite numbers are the strings "NaN", "Infinity", "-Infinity", as everywhere in losswatch; every other
number is a double written by Python's repr (shortest round-trip), so Double.parseDouble gives the same bits.
"""

import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from losswatch import _lr_range as R  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
                   "src", "test", "resources", "lr_range", "suggestions.json")


def simulate(name, loss_at, start_lr=1e-7, end_lr=10.0, num_steps=100, mode="exp", beta=0.98, stop_factor=4.0):
    """A range test as lr_find runs it, the loss of step i at lr being ``loss_at(i, lr)``."""
    smoother = R.Smoother(beta)
    lrs, losses, smoothed = [], [], []
    best = math.inf
    for i, lr in enumerate(R.ramp(start_lr, end_lr, num_steps, mode)):
        loss = float(loss_at(i, lr))
        s = smoother.add(loss)
        lrs.append(lr)
        losses.append(loss)
        smoothed.append(s)
        if not (math.isfinite(loss) and math.isfinite(s)):
            break
        best = min(best, s)
        if stop_factor is not None and s > stop_factor * best:
            break
    return {"name": name, "num_steps": num_steps, "lrs": lrs, "smoothed": smoothed, "losses": losses, "beta": beta,
            "start_lr": start_lr, "end_lr": end_lr, "mode": mode, "stop_factor": stop_factor}


def given(name, num_steps, lrs, smoothed):
    """A case from recorded values as they are (not necessarily what lr_find could record)."""
    return {"name": name, "num_steps": num_steps, "lrs": [float(x) for x in lrs],
            "smoothed": [float(x) for x in smoothed]}


def u_shape(seed, noise, blow_up=2.0, floor=0.3):
    """A loss that falls from about 2.3 around lr 1e-4 .. 1e-2, is lowest near 3e-2 and then climbs, steeply
    above lr 1, with Gaussian noise from a fixed seed."""
    rnd = random.Random(seed)

    def loss(i, lr):
        x = math.log10(lr)
        fall = 2.0 / (1.0 + math.exp(-2.2 * (x + 3.0)))
        climb = math.exp(blow_up * (x + 1.0))
        return max(1e-3, 2.3 - fall + floor * climb + noise * rnd.gauss(0.0, 1.0))

    return loss


def cases():
    out = []
    out.append(simulate("u_shape_noisy_exp_100_stops_early", u_shape(1, 0.05, blow_up=3.0)))
    out.append(simulate("u_shape_full_100_no_early_stop", u_shape(2, 0.02, blow_up=0.5, floor=0.05)))
    rnd = random.Random(3)
    out.append(simulate("monotone_decreasing", lambda i, lr: 3.0 * math.exp(-i / 30.0) + 0.01 * rnd.random(),
                        start_lr=1e-5, end_lr=1e-1))
    out.append(simulate("stops_early_13_points", lambda i, lr: 1.0 if i < 12 else 1000.0, beta=0.6))
    out.append(simulate("stops_early_11_points", lambda i, lr: 1.0 if i < 10 else 1000.0, beta=0.6))
    rnd4 = random.Random(4)
    out.append(simulate("nan_loss_at_step_71", lambda i, lr: math.nan if i == 70
                        else 2.0 - 0.015 * i + 0.03 * rnd4.random(), stop_factor=None))
    rnd5 = random.Random(5)
    out.append(simulate("nan_block_from_step_81_of_100",
                        lambda i, lr: math.nan if i >= 80 else 2.0 - 0.02 * i + 0.05 * rnd5.random(),
                        stop_factor=None))
    # the same curve going on past the NaN with its smoothed values NaN: what the server may store for a run
    # that went on after a NaN (lr_find stops at the first one), so fastai's NaN cut happens inside the slice
    nan_block = out[-1]
    nan_block["lrs"] = R.ramp(1e-7, 10.0, 100, "exp")
    nan_block["losses"] = nan_block["losses"] + [math.nan] * (100 - len(nan_block["losses"]))
    nan_block["smoothed"] = R.smooth(nan_block["losses"], nan_block["beta"])
    out.append(simulate("linear_mode_60", u_shape(6, 0.03), start_lr=1e-4, end_lr=3.0, num_steps=60,
                        mode="linear", beta=0.9))
    out.append(simulate("long_300_exp", u_shape(7, 0.08), start_lr=1e-6, end_lr=30.0, num_steps=300))
    out.append(given("flat_ties_everywhere", 40, R.ramp(1e-5, 1.0, 40, "exp"), [1.5] * 40))
    # fastai's slice (num_steps 11: [1:-5]) is [5, 4, 6, 7, 8]: the valley's index is -1, the last lr of the slice
    out.append(given("valley_index_minus_one_is_the_last", 11, [0.001 * (k + 1) for k in range(11)],
                     [9.0, 5.0, 4.0, 6.0, 7.0, 8.0, 1.0, 1.0, 1.0, 1.0, 1.0]))
    # an infinity inside: dropped by steepest without mapping its index back (Lightning's), kept by valley and
    # minimum (fastai cuts at NaN only)
    rnd8 = random.Random(8)
    smoothed = [2.0 - 0.04 * k + 0.02 * rnd8.random() for k in range(40)]
    smoothed[14] = math.inf
    smoothed[20] = math.inf
    out.append(given("infinity_inside", 40, R.ramp(1e-6, 1.0, 40, "exp"), smoothed))
    out.append(given("two_points", 2, [1e-3, 1e-2], [1.0, 0.5]))
    for case in out:
        case["expected"] = R.suggestions(case["lrs"], case["smoothed"], case["num_steps"])
    return out


def plain(x):
    """Non-finite floats as losswatch's strings; the rest as it is."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    return x


def main():
    all_cases = cases()
    doc = {
        "about": "lr range test suggestions, written by clients/python/tests/make_lr_range_fixture.py from "
                 "clients/python/losswatch/_lr_range.py; do not edit by hand",
        "cases": plain(all_cases),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    for c in all_cases:
        print("%-36s %3d of %3d  %s" % (c["name"], len(c["lrs"]), c["num_steps"], c["expected"]))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
