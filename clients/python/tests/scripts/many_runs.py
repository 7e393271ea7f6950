"""For PageIT: fifty runs of one's own, as a person comparing learning rates and schedules makes them. An MLP
64-32-10 on the digits losswatch ships, SGD with momentum at ten lrs under five schedules (constant, step, cosine,
exponential, onecycle), minibatches of 100, a validation pass every epoch logged as people log it (``val/acc``,
``val/loss``, the epoch), tags and notes on each run (the notes set again at the end, with the result). One
process, one run after another.

Prints JSON lines: "run" for each run as it ends (its id, lr, schedule and final validation accuracy), then "done".

    many_runs.py URL [--epochs N] [--lrs a,b,...]
"""

import argparse
import csv
import json
import os

import torch

import losswatch

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--epochs", type=int, default=4)
p.add_argument("--lrs", default="0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5,1.0")
p.add_argument("--schedules", default="constant,step,cosine,exponential,onecycle")
args = p.parse_args()

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "..", "src", "main", "resources", "datasets", "digits.csv")
with open(DATA, newline="") as f:
    rows = list(csv.reader(f))[1:]
x = torch.tensor([[float(v) for v in r[:-1]] for r in rows]) / 16.0
y = torch.tensor([int(float(r[-1])) for r in rows])
train_x, train_y, val_x, val_y = x[:1500], y[:1500], x[1500:], y[1500:]
torch.set_num_threads(1)
BATCH = 100
per_epoch = (len(train_x) + BATCH - 1) // BATCH


def scheduler_for(name, optimizer, total):
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, total // 3), gamma=0.3)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.97)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"], total_steps=total)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)


for schedule in args.schedules.split(","):
    for lr in [float(v) for v in args.lrs.split(",")]:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        total = args.epochs * per_epoch
        scheduler = scheduler_for(schedule, optimizer, total)
        config = {"lr": lr, "schedule": schedule, "batch_size": BATCH, "epochs": args.epochs, "momentum": 0.9,
                  "hidden": 32}
        run = losswatch.init(name="mlp %s lr=%g" % (schedule, lr), url=args.url, config=config, optimizer=optimizer,
                             tags=["digits", schedule], notes="SGD with momentum 0.9, %s schedule" % schedule)
        run.watch(optimizer, scheduler)
        g = torch.Generator().manual_seed(1)
        step, acc = 0, float("nan")
        for epoch in range(args.epochs):
            model.train()
            order = torch.randperm(len(train_x), generator=g)
            for i in range(0, len(train_x), BATCH):
                idx = order[i:i + BATCH]
                loss = torch.nn.functional.cross_entropy(model(train_x[idx]), train_y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                metrics = {"train/loss": loss.item(), "epoch": epoch + min(i + BATCH, len(train_x)) / len(train_x)}
                if i + BATCH >= len(train_x):   # the epoch's last step carries its validation, as people log it
                    model.eval()
                    with torch.no_grad():
                        out = model(val_x)
                        metrics["val/loss"] = torch.nn.functional.cross_entropy(out, val_y).item()
                        acc = (out.argmax(1) == val_y).float().mean().item()
                        metrics["val/acc"] = acc
                    model.train()
                run.log(step, loss=loss, metrics=metrics)
        run.notes = "SGD with momentum 0.9, %s schedule: val/acc %.4f" % (schedule, acc)   # a PATCH, as people note a result
        run.finish()
        print(json.dumps({"event": "run", "id": run.id, "lr": lr, "schedule": schedule, "val_acc": acc}), flush=True)
print(json.dumps({"event": "done"}), flush=True)
