"""For a test against the server: issue 20's dead-network cases with the guard on. The MLP 64-128-64-10 on the
digits losswatch ships, minibatches of 64, a loop as a user writes it (auto-numbered log() after
optimizer.step()), ``init(guard=...)`` and ``watch(optimizer, model=model)``; optionally a look-ahead and the
curvature. Prints JSON lines: "created" (the run's id), "rewound" (at, to, lr) for each rewind, and "done"
(val_acc, the rewinds, the last lr, the run's step, whether the server stopped it and why).

    guard.py URL [--optimizer adam|sgd] [--lr 1.0] [--steps 2000] [--lookahead] [--curvature-every N] [--no-classes]
"""

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/: digits.py

import digits  # noqa: E402
import losswatch  # noqa: E402

GUARD = {"on": ["diverging", "non_finite", "spike", "dead"], "rewind": 50, "lr_factor": 0.1, "max_rewinds": 3}

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
p.add_argument("--lr", type=float, default=1.0)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--lookahead", action="store_true")
p.add_argument("--curvature-every", type=int, default=0)
p.add_argument("--no-classes", action="store_true", help="a config that does not name num_classes (as the README's)")
args = p.parse_args()


def say(event, **facts):
    print(json.dumps(dict(event=event, **facts)), flush=True)


torch.set_num_threads(1)
xt, yt, xv, yv = digits.load()
model = digits.mlp(0)
if args.optimizer == "adam":
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()


def step_fn(batch):
    x, y = batch
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


config = {"model": "mlp 64-128-64-10 relu", "data": "digits", "batch": 64}
if not args.no_classes:
    config["num_classes"] = 10
run = losswatch.init(name="guard %s lr %g" % (args.optimizer, args.lr), url=args.url, config=config,
                     optimizer=optimizer, guard=GUARD, lookahead={"horizon": 50, "budget": 0.1} if args.lookahead else None)
say("created", id=run.id)
probe_x, probe_y = next(digits.batches(xt, yt, seed=3))
run.watch(optimizer, model=model,
          lookahead=losswatch.Lookahead(step_fn, digits.batches(xt, yt, seed=2), total_steps=args.steps)
          if args.lookahead else None,
          curvature=(lambda: loss_fn(model(probe_x), probe_y)) if args.curvature_every else None,
          curvature_every=args.curvature_every or 200)
rewinds = []
for x, y in digits.batches(xt, yt):
    if run.step >= args.steps:
        break
    before = run.step
    loss = step_fn((x, y))
    step = run.log(loss=loss.item())
    if run.rewound:
        run.rewound = False
        rewinds.append({"at": before + 1, "to": step, "lr": optimizer.param_groups[0]["lr"]})
        say("rewound", **rewinds[-1])
    if run.stopped:
        break
val_acc = digits.accuracy(model, xv, yv)
run.finish()
say("done", id=run.id, val_acc=val_acc, rewinds=rewinds, lr=optimizer.param_groups[0]["lr"], step=run.step,
    stopped=run.stopped, stop_reason=getattr(run, "stop_reason", None))
