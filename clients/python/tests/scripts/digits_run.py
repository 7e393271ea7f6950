"""For a test against the server: issue 20's user script. The MLP 64-128-64-10 on the digits losswatch ships,
minibatches of 64, SGD (momentum 0.9) or Adam at a fixed lr, the loop as the README writes it (``watch()`` after
``init``, ``log(loss=...)`` after ``optimizer.step()``), optionally with ``auto_lr``. Every ``--look-every`` steps
it reads the run as a person watching the page would (``GET /api/runs/{id}``) and prints what the server said.

Prints JSON lines: "created" (the run's id); "seen" (step, the lr the optimizer uses, and the server's diagnosis:
verdict, advice, suggested_lr, retry_lr, evidence); "progress" (step) every 100 steps; "done" (val_acc, the last lr,
every lr the optimizer ran with in order, the server's summary after finish(), and with --losses every step's loss
as logged).

With --checkpoint PATH it saves the model and the optimizer there every 100 steps, as a script does; with --resume ID
it loads that checkpoint and continues run ID from the step after it (``init(resume=ID)``): the steps the run already
has are skipped by the client.

    digits_run.py URL [--optimizer sgd|adam] [--lr 5] [--steps 1500] [--auto-lr] [--look-every 25] [--pace N]
                      [--losses] [--checkpoint PATH] [--resume ID] [--lookahead HORIZON]
"""

import argparse
import json
import os
import sys
import time
import urllib.request

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/: digits.py

import digits  # noqa: E402
import losswatch  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--optimizer", choices=["adam", "sgd"], default="sgd")
p.add_argument("--lr", type=float, default=5.0)
p.add_argument("--steps", type=int, default=1500)
p.add_argument("--auto-lr", action="store_true")
p.add_argument("--look-every", type=int, default=25)
p.add_argument("--pace", type=float, default=0.0)
p.add_argument("--losses", action="store_true")
p.add_argument("--checkpoint")
p.add_argument("--resume")
p.add_argument("--lookahead", type=int, default=0, help="probe horizon (0: no look-ahead)")
args = p.parse_args()


def say(event, **facts):
    print(json.dumps(dict(event=event, **facts)), flush=True)


def server_run(run_id):
    try:
        with urllib.request.urlopen("%s/api/runs/%s" % (args.url, run_id), timeout=30) as r:
            return json.load(r)
    except OSError as e:   # a server being restarted: the loop goes on
        return {"unreachable": str(e)}


torch.set_num_threads(1)
xt, yt, xv, yv = digits.load()
model = digits.mlp(0)
if args.optimizer == "adam":
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()

first = 1
if args.resume:
    saved = torch.load(args.checkpoint)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    first = saved["step"] + 1
    run = losswatch.init(url=args.url, resume=args.resume)
else:
    run = losswatch.init(name="digits %s lr %g%s" % (args.optimizer, args.lr, " auto_lr" if args.auto_lr else ""),
                         url=args.url, optimizer=optimizer, auto_lr=args.auto_lr,
                         config={"model": "mlp 64-128-64-10 relu", "data": "digits", "batch": 64, "num_classes": 10,
                                 "steps": args.steps},
                         lookahead={"horizon": args.lookahead, "budget": 0.1} if args.lookahead else None)


def train_step(batch):
    x, y = batch
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


run.watch(optimizer, model=model, lookahead=losswatch.Lookahead(train_step, digits.batches(xt, yt, seed=2),
                                                                total_steps=args.steps) if args.lookahead else None)
say("created", id=run.id, step=run.step)
lrs = [optimizer.param_groups[0]["lr"]]
losses = []
step = first - 1
started = time.monotonic()
for x, y in digits.batches(xt, yt, seed=first):
    if step >= args.steps:
        break
    if args.pace:
        time.sleep(max(0.0, started + (step - first + 1) / args.pace - time.monotonic()))
    loss = train_step((x, y))
    step = run.log(step + 1, loss=loss.item())
    losses.append(loss.item())
    if step % 100 == 0:
        say("progress", step=step)
        if args.checkpoint:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step},
                       args.checkpoint + ".new")
            os.replace(args.checkpoint + ".new", args.checkpoint)
    lr = optimizer.param_groups[0]["lr"]
    if lr != lrs[-1]:
        lrs.append(lr)
    if args.look_every and step % args.look_every == 0:
        d = server_run(run.id).get("diagnosis") or {}
        say("seen", step=step, lr=lr, loss=loss.item(), **{k: d.get(k) for k in
            ("verdict", "advice", "suggested_lr", "retry_lr", "evidence", "since_step")})
val_acc = digits.accuracy(model, xv, yv)
run.finish()
say("done", id=run.id, val_acc=val_acc, lr=optimizer.param_groups[0]["lr"], lrs=lrs, step=run.step,
    first=first, losses=losses if args.losses else None, summary=server_run(run.id))
