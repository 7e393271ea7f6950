"""For PythonScriptsIT: logs steps with gaps, extra scalars, NaN and infinities, then a 4,096-step burst, finishes,
and prints what it logged as one JSON line (non-finite numbers as the server's strings) for the test to compare
with the server's history.

    exact.py URL
"""

import json
import math
import sys

import losswatch

url = sys.argv[1]
run = losswatch.init(name="exact", url=url, config={"test": "exact"})
print(json.dumps({"event": "created", "id": run.id}), flush=True)

logged = {"step": [], "loss": [], "lr": [], "grad_norm": [], "metrics": {"val_acc": [], "tokens": []}}


def log(step, loss, lr=None, grad_norm=None, **metrics):
    run.log(step, loss=loss, lr=lr, grad_norm=grad_norm, **metrics)
    logged["step"].append(step)
    logged["loss"].append(loss)
    logged["lr"].append(lr)
    logged["grad_norm"].append(grad_norm)
    for k in logged["metrics"]:
        logged["metrics"][k].append(metrics.get(k))


# gaps, every column given, extra scalars on some steps only
for i, step in enumerate([1, 2, 3, 5, 8, 13, 21, 34, 55, 89]):
    log(step, loss=1.0 / step, lr=0.1 / (i + 1), grad_norm=float(step) ** 0.5, val_acc=0.1 * (i % 10),
        **({"tokens": float(step * 512)} if step % 2 else {}))
# non-finite values in every column
log(90, loss=math.nan, lr=0.01, grad_norm=math.inf, val_acc=math.nan)
log(91, loss=math.inf, lr=math.inf, grad_norm=math.nan, tokens=-math.inf)
log(92, loss=-math.inf, lr=0.01, grad_norm=-math.inf)
log(100, loss=5e-324, lr=1.7976931348623157e308, grad_norm=0.0)
# a burst of 4,096 steps logged back to back, faster than one batch interval
for step in range(101, 101 + 4096):
    log(step, loss=1.0 / step + (step % 7) * 1e-3, lr=1e-3, grad_norm=1.0 + step * 1e-6, val_acc=(step % 100) / 100.0)
run.finish()


def wire(values):
    return [v if v is None or math.isfinite(v) else {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(v)]
            for v in values]


out = {"event": "done", "id": run.id, "step": logged["step"], "loss": wire(logged["loss"]), "lr": wire(logged["lr"]),
       "grad_norm": wire(logged["grad_norm"]), "metrics": {k: wire(v) for k, v in logged["metrics"].items()},
       "dropped": run.dropped_steps}
print(json.dumps(out), flush=True)
